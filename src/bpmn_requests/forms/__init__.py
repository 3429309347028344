"""Camunda Forms: parse and check form definitions, validate submissions on the server, and evaluate
the FEEL subset the forms use (pure Python: no web framework, database or engine)."""

from .catalog import FormCatalog, FormNotFound
from .components import Component, FormDefinition, FormError, FormProblem, Option, ValidationRules
from .definition import parse_form
from .feel import FeelError, FeelExpression, FeelTemplate, compile_feel, compile_template, display
from .submission import nest_fields, validate_submission

__all__ = [
    "Component",
    "FeelError",
    "FeelExpression",
    "FeelTemplate",
    "FormCatalog",
    "FormDefinition",
    "FormError",
    "FormNotFound",
    "FormProblem",
    "Option",
    "ValidationRules",
    "compile_feel",
    "compile_template",
    "display",
    "nest_fields",
    "parse_form",
    "validate_submission",
]
