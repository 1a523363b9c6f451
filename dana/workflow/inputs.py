"""A run's initial state as given from outside (`dana run --state FILE`, JSON-like values):
converted to the declared struct types, with problems a user can act on.

Consumes: a `WorkflowTemplate` and a mapping of state keys to JSON/YAML values.
Produces: `convert_state(template, state) -> (converted, failures)`, `unknown_keys(...)`
(E0417 warnings: a given key no `requires:` entry names, with the closest one), and
`with_fields(error, failures)`: the run's StateValidationError with a struct field's own
problem (`target.image` expects str, got int) in place of "got dict[...]" (docs/cli.md
"dana run").
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from dana.errors import DanaError, Diagnostic
from dana.messages import checks as M
from dana.workflow.runner import StateValidationError
from dana.workflow.template import WorkflowTemplate



def convert_state(template: WorkflowTemplate,
                  state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, DanaError]]:
    """`state` with each required key's value converted to its declared type (a mapping
    becomes a struct), and the conversion error of each key that could not be."""
    converted, failures = dict(state), {}
    for req in template.requires:
        if req.key in converted:
            try:
                converted[req.key] = req.from_json(converted[req.key])
            except DanaError as exc:
                failures[req.key] = exc
    return converted, failures


def unknown_keys(template: WorkflowTemplate, state: dict[str, Any]) -> list[Diagnostic]:
    """E0417 warnings for given keys that no `requires:` entry names but one nearly does
    (`host` for `hosts`): a typo would otherwise go unnoticed until a step reads it."""
    required = [r.key for r in template.requires]
    out = []
    for key in state:
        close = difflib.get_close_matches(key, required, n=1) if key not in required else []
        if close:
            out.append(Diagnostic.of(M.STATE_KEY_NOT_REQUIRED, 
                None, (M.NOTE_DID_YOU_MEAN.format(name=close[0]),), key=key, wf=template.name))
    return out


def with_fields(error: StateValidationError, template: WorkflowTemplate,
                failures: dict[str, DanaError]) -> StateValidationError:
    """`error` with each ill-typed struct key's diagnostic naming the bad field; its input
    becomes ("state", "key.field") so the caller can say where that field was given."""
    types = {r.key: r.type_name for r in template.requires}
    diagnostics, inputs = [], []
    for diagnostic, (kind, key) in zip(error.diagnostics, error.inputs):
        detail = getattr(failures.get(key) if kind == "state" else None, "value", None)
        if isinstance(detail, dict) and "field" in detail:
            text = M.RUN_STATE_FIELD_MISMATCH.format(wf=template.name, key=key, type=types.get(key, "?"),
                                    **detail)
            diagnostic = dataclasses.replace(diagnostic, message=text)
            key = f"{key}.{detail['field']}"
        diagnostics.append(diagnostic)
        inputs.append((kind, key))
    return StateValidationError(diagnostics, inputs)
