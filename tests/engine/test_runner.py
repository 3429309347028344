"""The engine wrapper: runs, statuses, stateless serialization, the sandbox and the engine traps."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bpmn_requests.domain.errors import Conflict, NotFound, ProcessError, ServiceTaskError, ValidationFailed
from bpmn_requests.engine.runner import Engine, ServiceCall

HERE = Path(__file__).parent


def files(*names: str) -> dict[str, bytes]:
    return {name: (HERE / name).read_bytes() for name in names}


class Bridge:
    def __init__(self, fail: Exception | None = None):
        self.calls: list[ServiceCall] = []
        self.fail = fail

    def __call__(self, call: ServiceCall) -> dict[str, Any]:
        self.calls.append(call)
        if self.fail:
            raise self.fail
        return {"found": call.inputs["double"] + Decimal("1")}


@pytest.fixture
def engine() -> Engine:
    return Engine()


def start_minimal(engine: Engine, amount: str = "60.00", bridge: Bridge | None = None) -> Any:
    bundle = engine.bundle(files("minimal.bpmn"))
    return bundle, engine.start(bundle, "minimal", {"amount": Decimal(amount)}, bridge or Bridge(), "i1")


def test_service_task_gets_literal_and_expression_inputs_and_its_outputs_become_variables(engine: Engine) -> None:
    bridge = Bridge()
    _, snap = start_minimal(engine, bridge=bridge)
    assert bridge.calls[0].topic == "test/lookup"
    assert bridge.calls[0].inputs == {"mode": "fast", "double": Decimal("120.00")}
    assert snap.waiting[0].data["found"] == Decimal("121.00")


def test_run_stops_at_user_task_with_its_form_groups_and_statuses(engine: Engine) -> None:
    _, snap = start_minimal(engine)
    assert not snap.completed
    [task] = snap.waiting
    assert (task.element_id, task.form_id, task.candidate_groups) == ("Review", "review", ("billing", "ar_supervisors"))
    assert snap.statuses == ["looked_up", "in_review"]


def test_completing_the_task_runs_the_script_to_the_end_event(engine: Engine) -> None:
    bundle, snap = start_minimal(engine)
    done = engine.complete(bundle, "minimal", snap.state, snap.waiting[0].id, lambda data: {"ok": True},
                           Bridge(), "i1")
    assert done.completed and done.end_event == "Event_End"
    assert done.data["total"] == Decimal("181.00") and done.data["label"] == "big"
    assert [s.element_id for s in done.trail] == ["Review", "Calc", "Event_End"]


def test_state_is_stored_without_the_spec_and_keeps_decimals(engine: Engine) -> None:
    bundle, snap = start_minimal(engine)
    state = json.loads(snap.state)
    assert "spec" not in state and "subprocess_specs" not in state
    again = engine.waiting(bundle, "minimal", snap.state)
    assert again[0].data["amount"] == Decimal("60.00")


def test_small_amount_takes_the_default_flow(engine: Engine) -> None:
    _, snap = start_minimal(engine, amount="10.00")
    assert snap.completed and snap.waiting == []


def test_completing_an_unknown_or_finished_task_is_refused(engine: Engine) -> None:
    bundle, snap = start_minimal(engine)
    with pytest.raises(NotFound):
        engine.complete(bundle, "minimal", snap.state, "00000000-0000-0000-0000-000000000000",
                        lambda d: {}, Bridge(), "i1")
    done = engine.complete(bundle, "minimal", snap.state, snap.waiting[0].id, lambda d: {}, Bridge(), "i1")
    with pytest.raises((Conflict, NotFound)):
        engine.complete(bundle, "minimal", done.state, snap.waiting[0].id, lambda d: {}, Bridge(), "i1")


def test_reserved_typename_key_in_user_data_is_refused(engine: Engine) -> None:
    bundle, snap = start_minimal(engine)
    with pytest.raises(ValidationFailed, match="typename"):
        engine.complete(bundle, "minimal", snap.state, snap.waiting[0].id, lambda d: {"typename": "x"},
                        Bridge(), "i1")


def test_service_error_reaches_the_caller_unchanged(engine: Engine) -> None:
    error = ServiceTaskError("invoice_numbers: no invoice INV-9", error_code="invoice_not_found")
    with pytest.raises(ServiceTaskError) as caught:
        start_minimal(engine, bridge=Bridge(fail=error))
    assert caught.value is error


@pytest.mark.parametrize("script", ["import os", "__import__('os')", "open('/etc/passwd')",
                                    "().__class__.__bases__"])
def test_sandbox_refuses_unsafe_scripts(script: str) -> None:
    from bpmn_requests.engine.scripting import SandboxEnvironment
    env = SandboxEnvironment()
    with pytest.raises(Exception) as caught:
        env.execute(script, {})
    assert not isinstance(caught.value, AssertionError)


def test_a_short_gateway_loop_runs_to_the_end(engine: Engine) -> None:
    bundle = engine.bundle(files("loop.bpmn"))
    snap = engine.start(bundle, "loop", {"count": 0, "limit": 100}, Bridge(), "i1")
    assert snap.completed and snap.data["count"] == 100


def test_a_gateway_loop_past_the_engine_depth_fails_loudly(engine: Engine) -> None:
    bundle = engine.bundle(files("loop.bpmn"))
    with pytest.raises(ProcessError, match="loop"):
        engine.start(bundle, "loop", {"count": 0, "limit": 5000}, Bridge(), "i1")


def test_a_user_task_inside_an_embedded_subprocess_keeps_its_form_and_groups(engine: Engine) -> None:
    bundle = engine.bundle(files("embedded.bpmn"))
    snap = engine.start(bundle, "embedded", {}, Bridge(), "i1")
    [task] = snap.waiting
    assert (task.element_id, task.form_id, task.candidate_groups) == ("Task_InnerReview", "review", ("billing",))
