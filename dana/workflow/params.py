"""Validate a run's config against its workflow's parameters with a pydantic model.

Consumes: a `WorkflowTemplate` (its `params`: Dana type name, test, default, converter)
and the config given for a run (name -> value, e.g. from YAML/TOML/JSON or `run(...)`).
Produces: `validate_config(template, config, type_name_of) -> (full config, problems)`
(each problem a (Diagnostic, parameter name) pair):
the config with defaults filled in, and one `Diagnostic` per problem, ALL of them —
E0412 unknown parameter, E0413 wrong type, E0414 missing (docs/workflows.md "Parameters are typed
configuration, validated before anything runs (pydantic model built from the signature)").

The model (built once per template, `pydantic.create_model`) has one field per parameter,
aliased to the parameter's name (so names such as `json` or `model_x` are safe), extra
fields forbidden. Each field's validator converts the value with the Dana type's
`convert` (struct dicts -> structs, int -> float widening) and then applies its `check`;
defaults are used as given.
"""

from __future__ import annotations

import difflib
import weakref
from typing import TYPE_CHECKING, Annotated, Any, Callable

from dana.errors import DanaError, Diagnostic
from dana.messages import checks as M
from dana.workflow.template import Param, WorkflowTemplate

if TYPE_CHECKING:  # pydantic is imported on first use: a run without parameters never needs it
    import pydantic


_WRONG_TYPE = "dana_wrong_type"
_MODELS: "weakref.WeakKeyDictionary[WorkflowTemplate, type[pydantic.BaseModel]]" = \
    weakref.WeakKeyDictionary()


def validate_config(template: WorkflowTemplate, config: dict[str, Any], no_default: Any,
                    type_name_of: Callable[[Any], str]
                    ) -> tuple[dict[str, Any], list[tuple[Diagnostic, str]]]:
    """The full config (defaults filled in) and the problems found with the parameter
    each is about, in this order: unknown parameters (as given), then missing or
    ill-typed ones (as declared).
    `no_default` marks a parameter without a default."""
    if not template.params and not config:
        return {}, []
    import pydantic
    model = _model(template, no_default, type_name_of)
    try:
        instance = model.model_validate(config)
    except pydantic.ValidationError as exc:
        return {}, _problems(template, exc)
    return {key: getattr(instance, _field(i)) for i, key in enumerate(template.params)}, []


def _field(index: int) -> str:
    return f"p{index}"


def _model(template: WorkflowTemplate, no_default: Any,
           type_name_of: Callable[[Any], str]) -> type[pydantic.BaseModel]:
    import pydantic
    model = _MODELS.get(template)
    if model is None:
        fields: dict[str, Any] = {}
        for i, (key, param) in enumerate(template.params.items()):
            check = pydantic.BeforeValidator(_validator(param, type_name_of))
            default = ... if param.default is no_default else param.default
            fields[_field(i)] = (Annotated[Any, check], pydantic.Field(default, alias=key))
        model = pydantic.create_model(
            f"{template.name}_config",
            __config__=pydantic.ConfigDict(extra="forbid", arbitrary_types_allowed=True),
            **fields)
        _MODELS[template] = model
    return model


def _validator(param: Param, type_name_of: Callable[[Any], str]) -> Callable[[Any], Any]:
    from pydantic_core import PydanticCustomError

    def validate(value: Any) -> Any:
        try:
            value = param.convert(value)
        except DanaError:
            pass
        if not param.check(value):
            raise PydanticCustomError(_WRONG_TYPE, "expects {expected}, got {actual}",
                                      {"expected": param.type_name,
                                       "actual": type_name_of(value)})
        return value
    return validate


def _problems(template: WorkflowTemplate,
              exc: pydantic.ValidationError) -> list[tuple[Diagnostic, str]]:
    unknown: list[tuple[Diagnostic, str]] = []
    declared: dict[str, Diagnostic] = {}
    wf, span = template.name, template.span
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "extra_forbidden":
            close = difflib.get_close_matches(key, list(template.params), n=1)
            at = template.params[close[0]].span or span if close else span
            notes = (f"did you mean `{close[0]}`?",) if close else ()
            unknown.append((Diagnostic.of(M.UNKNOWN_CONFIG, at, notes, wf=wf, key=key), key))
        elif error["type"] == "missing":
            declared[key] = Diagnostic.of(M.MISSING_CONFIG, span, wf=wf, key=key)
        else:
            ctx = error.get("ctx") or {}
            declared[key] = Diagnostic.of(M.CONFIG_MISMATCH, span, wf=wf, key=key,
                                                         type=ctx.get("expected", "?"),
                                                         actual=ctx.get("actual", "?"))
    return unknown + [(declared[key], key) for key in template.params if key in declared]
