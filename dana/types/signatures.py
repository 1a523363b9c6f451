"""Static types of Dana's builtins, builtin-type methods and host-facing objects.

Consumes: the language surface (`dana.surface`: every builtin, method, type name, step
option and workflow setting, declared once) and the type classes of `dana.types.types`.
Produces: `BUILTINS` (name -> type of every builtin function and error type), `SIMPLE`
(type spelling -> type), `methods_of(t)` for the methods of str/list/dict/set/tuple/int/
float, `type_of_ref(ref)`, `RUN_RESULT` (what `run(...)` returns), `STEP_OPTIONS` and
`SETTINGS` (type and description of each `@step` option and workflow setting). The result
rules (`_INFER`) refine a declared return type from the argument types: they are typing
rules, so they live here.
"""

from __future__ import annotations

from typing import Callable

from dana.surface import (ERROR_ATTRIBUTES as ERROR_ATTRIBUTE_DECLS, ERROR_SYNONYMS, FUNCTIONS, METHODS, ON_ERROR_TEXT, REQUIRED,
                          STEP_OPTIONS as STEP_OPTION_DECLS, TYPE_NAMES, WORKFLOW_SETTINGS,
                          Function, Param, TypeRef, expand)
from dana.types.types import (ANY, ANY_FUNCTION, ANY_WORKFLOW, BOOL, BYTES, FLOAT, INT, NONE,
                              STATE, STR, TYPE, ClassT, DictT, ErrorT, ERROR_NAMES,
                              FieldT, FunctionT, ListT, ParamT, SetT, StructT, TupleT, Type,
                              element_type, join_all, union)

Infer = Callable[[list[Type], dict[str, Type]], Type]


# ------------------------------------------------------------------ result inference
def _first(args: list[Type]) -> Type:
    return args[0] if args else ANY


def _list_of_first(args: list[Type], kw: dict[str, Type]) -> Type:
    return ListT(element_type(_first(args)) or ANY) if args else ListT(ANY)


def _set_of_first(args: list[Type], kw: dict[str, Type]) -> Type:
    return SetT(element_type(_first(args)) or ANY) if args else SetT(ANY)


def _tuple_of_first(args: list[Type], kw: dict[str, Type]) -> Type:
    if args and isinstance(args[0], TupleT):
        return args[0]
    return TupleT((element_type(_first(args)) or ANY,), True)


def _dict_of(args: list[Type], kw: dict[str, Type]) -> Type:
    if args and isinstance(args[0], DictT):
        return args[0]
    return DictT(ANY, ANY) if args or not kw else DictT(STR, join_all(list(kw.values())))


def _min_max(args: list[Type], kw: dict[str, Type]) -> Type:
    if len(args) == 1:
        return element_type(args[0]) or ANY
    return join_all(args) if args else ANY


def _sum(args: list[Type], kw: dict[str, Type]) -> Type:
    elem = element_type(_first(args)) or ANY
    return elem if elem in (INT, FLOAT) else ANY


def _abs(args: list[Type], kw: dict[str, Type]) -> Type:
    return _first(args) if _first(args) in (INT, FLOAT) else ANY


def _round(args: list[Type], kw: dict[str, Type]) -> Type:
    if len(args) > 1 or "ndigits" in kw:
        return _first(args) if _first(args) in (INT, FLOAT) else ANY
    return INT


def _enumerate(args: list[Type], kw: dict[str, Type]) -> Type:
    return ListT(TupleT((INT, element_type(_first(args)) or ANY)))


def _zip(args: list[Type], kw: dict[str, Type]) -> Type:
    return ListT(TupleT(tuple(element_type(a) or ANY for a in args)))


def _map(args: list[Type], kw: dict[str, Type]) -> Type:
    f = _first(args)
    return ListT(f.returns if isinstance(f, FunctionT) else ANY)


def _filter(args: list[Type], kw: dict[str, Type]) -> Type:
    return ListT(element_type(args[1]) or ANY) if len(args) > 1 else ListT(ANY)


# ------------------------------------------------------------------ builtin objects
def _run_result() -> StructT:
    rr = StructT("RunResult")
    for name, t in (("run_id", STR), ("workflow", STR), ("version", STR), ("status", STR),
                    ("output", ANY), ("state", STATE), ("error", ANY), ("duration", FLOAT),
                    ("events", ListT(ANY))):
        rr.fields[name] = FieldT(name, t, False)
    rr.methods["history"] = FunctionT((ParamT("self", rr),), ListT(ANY))
    rr.methods["lineage"] = FunctionT(
        (ParamT("self", rr), ParamT("key", STR), ParamT("version", union(INT, NONE), True),
         ParamT("depth", union(INT, NONE), True), ParamT("downstream", BOOL, True)),
        DictT(STR, ANY))
    return rr


RUN_RESULT = _run_result()
_CANONICAL: dict[str, Type] = {
    "int": INT, "float": FLOAT, "str": STR, "bool": BOOL, "bytes": BYTES, "None": NONE,
    "any": ANY, "type": TYPE, "function": ANY_FUNCTION, "workflow": ANY_WORKFLOW,
    "WorkflowState": STATE, "list": ListT(ANY), "set": SetT(ANY), "dict": DictT(ANY, ANY),
    "tuple": TupleT((ANY,), True),
}
#: Every type spelling that takes no type arguments -> its type (`Any`, `object` are `any`).
SIMPLE: dict[str, Type] = {spelling: _CANONICAL[canon] for spelling, (canon, _) in TYPE_NAMES.items()
                           if canon not in ("list", "set", "dict", "tuple")}


def type_of_ref(ref: TypeRef, tvars: dict[str, Type] | None = None) -> Type:
    """The static type of declared type text (`dana.surface.expand`); `tvars` binds the
    receiver's `T`, `K`, `V`."""
    tvars = tvars or {}
    if ref.name == "|":
        return union(*(type_of_ref(a, tvars) for a in ref.args))
    if ref.name in tvars:
        return tvars[ref.name]
    if ref.name == "RunResult":
        return RUN_RESULT
    args = [type_of_ref(a, tvars) for a in ref.args if a.name != "..."]
    if not args:
        return _CANONICAL[TYPE_NAMES[ref.name][0]]
    if ref.name == "list":
        return ListT(args[0])
    if ref.name == "set":
        return SetT(args[0])
    if ref.name == "dict":
        return DictT(args[0], args[1])
    return TupleT(tuple(args), len(args) < len(ref.args))


def function_type(decl: Function, tvars: dict[str, Type] | None = None,
                  infer: Infer | None = None) -> FunctionT:
    """The static type of a declared builtin function or method."""
    def param(p: Param) -> ParamT:
        return ParamT(p.name, type_of_ref(expand(p.type), tvars), p.default is not REQUIRED,
                      p.kind == "keyword")
    plain = [param(p) for p in decl.params if p.kind == "plain"]
    keyword = [param(p) for p in decl.params if p.kind == "keyword"]
    star = next((param(p) for p in decl.params if p.kind == "star"), None)
    kwstar = next((param(p) for p in decl.params if p.kind == "kwstar"), None)
    return FunctionT(tuple(plain + keyword), type_of_ref(expand(decl.returns), tvars),
                     star is not None, kwstar is not None, decl.name, infer, len(plain), star,
                     kwstar)


_INFER: dict[str, Infer] = {
    "list": _list_of_first, "dict": _dict_of, "set": _set_of_first, "tuple": _tuple_of_first,
    "sum": _sum, "min": _min_max, "max": _min_max, "abs": _abs, "round": _round,
    "sorted": _list_of_first, "reversed": _list_of_first, "enumerate": _enumerate,
    "zip": _zip, "map": _map, "filter": _filter,
}

BUILTINS: dict[str, Type] = {name: function_type(decl, infer=_INFER.get(name))
                             for name, decl in FUNCTIONS.items()}
BUILTINS.update({name: ClassT(ErrorT(name)) for name in ERROR_NAMES})
BUILTINS.update({alias: BUILTINS[name] for alias, name in ERROR_SYNONYMS.items()})
NONDETERMINISTIC = frozenset(name for name, decl in FUNCTIONS.items() if decl.nondeterministic)
"""Builtins whose answer changes from call to call: a `steps:` condition calling one may
take another path when a resumed run replays it (docs/store.md "Resume")."""

ERROR_ATTRIBUTES: dict[str, Type] = {name: type_of_ref(expand(text))
                                     for name, (text, _) in ERROR_ATTRIBUTE_DECLS.items()}


def _described(type_text: str) -> tuple[Type, str]:
    return type_of_ref(expand(type_text)), f"`{type_text}`"


STEP_OPTIONS: dict[str, tuple[Type, str]] = {o.name: _described(o.type)
                                             for o in STEP_OPTION_DECLS}
_ONE_OF = f"one of {ON_ERROR_TEXT}"
STEP_OPTIONS["on_error"] = (union(STR, NONE), _ONE_OF)
STEP_OPTIONS["validate"] = (union(ANY_FUNCTION, NONE), "a function `(WorkflowState) -> bool`")
STEP_OPTIONS["rollback"] = (union(ANY_FUNCTION, NONE), "a function `(WorkflowState, "
                            "dict[str, str])` (the state, the error record)")
STEP_OPTIONS["cache_key"] = (union(ANY_FUNCTION, NONE), "a function `(WorkflowState, input)` "
                             "(the state, the step's input)")
STEP_OPTIONS["retry_on"] = (union(ListT(ANY), NONE), "a list of error types, or `None` "
                            "(the default)")
STEP_OPTIONS["no_retry_on"] = (ListT(ANY), "a list of error types")
#: Workflow settings -> (type, description).
SETTINGS: dict[str, tuple[Type, str]] = {o.name: _described(o.type) for o in WORKFLOW_SETTINGS}
SETTINGS["on_error"] = (STR, _ONE_OF)
# How the runner calls each hook: the types of its positional arguments. A rollback's
# error is the record a `handle E as e` in `steps:` binds: {"type", "message", "step"}.
HOOK_ARGS: dict[str, tuple[Type, ...]] = {
    "validate": (STATE,), "rollback": (STATE, DictT(STR, STR)), "cache_key": (STATE, ANY),
}


# ------------------------------------------------------------------ methods
def _m(params: tuple[ParamT, ...], returns: Type = ANY) -> FunctionT:
    return FunctionT(params, returns)


def _req(*names: str) -> tuple[ParamT, ...]:
    return tuple(ParamT(n, ANY) for n in names)


def _opt(*names: str) -> tuple[ParamT, ...]:
    return tuple(ParamT(n, ANY, True) for n in names)


STATE_MEMBERS: dict[str, Type] = {
    "version": INT, "created_at": FLOAT, "updated_at": FLOAT,
    "history": _m((), ListT(ANY)), "at": _m(_req("version"), STATE),
    "diff": _m(_req("v1", "v2"), DictT(STR, ANY)), "get": _m(_req("key") + _opt("default")),
    "keys": _m((), ListT(STR)), "to_dict": _m((), DictT(STR, ANY)),
}


def _dict_get(value: Type) -> Infer:
    return lambda args, kw: value if len(args) > 1 or "default" in kw else union(value, NONE)


def _receiver(t: Type) -> tuple[str, dict[str, Type]] | None:
    """The surface name of a builtin receiver type and its type variables."""
    if t == STR:
        return "str", {}
    if isinstance(t, (ListT, SetT)):
        return ("list" if isinstance(t, ListT) else "set"), {"T": t.elem}
    if isinstance(t, DictT):
        return "dict", {"K": t.key, "V": t.value}
    if isinstance(t, TupleT):
        return "tuple", {"T": t.item_join()}
    if t in (INT, FLOAT):
        return str(t), {}
    return None


def methods_of(t: Type) -> dict[str, Type] | None:
    """The methods of a builtin type (from `dana.surface.METHODS`); None when `t` is not a
    builtin type with a fixed member set."""
    found = _receiver(t)
    if found is None:
        return {} if t in (BOOL, NONE, TYPE) else None
    receiver, tvars = found
    out: dict[str, Type] = {}
    for name, decl in METHODS.get(receiver, {}).items():
        infer = _dict_get(tvars["V"]) if (receiver, name) == ("dict", "get") else None
        out[name] = function_type(decl, tvars, infer)
    return out

