"""The script engine: conditions, scripts and DMN cells run under RestrictedPython, never full Python.

Compiled code is cached by source text, because the same few conditions run for every instance.
"""

from __future__ import annotations

import ast
import datetime as _dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from ..domain.errors import ProcessError
from .expressions import ExpressionRefused, is_camunda_expression
from .expressions import evaluate as evaluate_camunda


class ScriptRefused(ProcessError):
    """A condition or script is not allowed in the sandbox (imports, dunder access, syntax)."""


# What a diagram's Python may call. Everything else (open, import, getattr on dunders, ...) is refused.
HELPERS: dict[str, Any] = {
    "Decimal": Decimal, "abs": abs, "min": min, "max": max, "round": round, "len": len, "sum": sum,
    "int": int, "str": str, "bool": bool, "float": float, "sorted": sorted, "any": any, "all": all,
    "list": list, "dict": dict, "tuple": tuple, "set": set, "enumerate": enumerate, "zip": zip,
    "range": range, "date": _dt.date, "timedelta": _dt.timedelta, "isinstance": isinstance,
}


def _inplace(op: str, x: Any, y: Any) -> Any:
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "+=": lambda a, b: a + b, "-=": lambda a, b: a - b, "*=": lambda a, b: a * b,
        "/=": lambda a, b: a / b, "//=": lambda a, b: a // b, "%=": lambda a, b: a % b,
    }
    if op not in ops:
        raise ScriptRefused(f"operator {op} is not allowed in scripts")
    return ops[op](x, y)


def _base_globals() -> dict[str, Any]:
    builtins = dict(safe_builtins)
    builtins.update(limited_builtins)
    builtins.update(HELPERS)
    return {
        "__builtins__": builtins, "_getattr_": safer_getattr, "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter, "_write_": full_write_guard,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
        "_inplacevar_": _inplace, "True": True, "False": False, "None": None,
    }


BASE_GLOBALS = _base_globals()


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> CodeType:
    """Compile a condition or expression under the sandbox, or refuse with the reason."""
    result = compile_restricted_eval(source.strip(), "<expression>")
    if result.errors or result.code is None:
        raise ScriptRefused(f"expression {source.strip()!r} is not allowed: {'; '.join(result.errors)}")
    return result.code


@lru_cache(maxsize=1024)
def compile_script(source: str) -> CodeType:
    result = compile_restricted_exec(source, "<script>")
    if result.errors or result.code is None:
        raise ScriptRefused(f"script is not allowed: {'; '.join(result.errors)}")
    return result.code


def _is_data(key: str, value: Any) -> bool:
    return not key.startswith("_") and not callable(value) and not isinstance(value, ModuleType)


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        env = dict(BASE_GLOBALS)
        env.update(external_context or {})
        env.update(context)
        return eval(compile_expression(expression), env)  # noqa: S307 - sandboxed code object

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        external = dict(external_context or {})
        env = dict(BASE_GLOBALS)
        env.update(external)
        env.update(context)
        exec(compile_script(script), env)  # noqa: S102 - sandboxed code object
        for key in [k for k in context if k not in env]:
            del context[key]
        for key, value in env.items():
            if key in BASE_GLOBALS or key in external or not _is_data(key, value):
                continue
            context[key] = value
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ProcessError("service calls go through the script engine's service runner")


ServiceRunner = Callable[[Any, str], dict[str, Any]]


class SandboxedScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """PythonScriptEngine with the sandbox and a service bridge.

    SpiffWorkflow 3.2.0's `call_service` error path refers to an undefined `script` and raises
    NameError, losing the real error; ours lets the service's own error through untouched.
    """

    def __init__(self) -> None:
        super().__init__(environment=SandboxEnvironment())
        self.service_runner: ServiceRunner | None = None
        # Bound by the engine for one run: the time timers compare with, and read-only system values
        # (the request's SLA times) that expressions may use but never store.
        self.clock: Callable[[], _dt.datetime] | None = None
        self.values: Mapping[str, Any] = {}

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """JUEL (`${...}`) and FEEL (`=...`) with Camunda's meaning, by our own evaluator; the rest as Python."""
        context = {**self.values, **(external_context or {})}
        if not is_camunda_expression(expression):
            return super().evaluate(task, expression, context)
        try:
            return evaluate_camunda(expression, {**context, **task.data})
        except ExpressionRefused as exc:
            element = task.task_spec.bpmn_id
            raise ProcessError(f"element {element}: {exc.message}", details={"element_id": element}) from None

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> Any:
        return super().execute(task, script, {**self.values, **(external_context or {})})

    def validate(self, expression: str) -> None:
        # DMN cells rely on SyntaxError to tell "<= 250" (a comparison to complete) from "250".
        ast.parse(expression.strip(), mode="eval")
        compile_expression(expression)

    def call_service(self, task: Any, **kwargs: Any) -> dict[str, Any]:
        if self.service_runner is None:
            raise ProcessError("no service runner is bound: service tasks run only inside a use case")
        return self.service_runner(task, kwargs["topic"])
