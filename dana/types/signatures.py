"""Static signatures of Dana's builtins, builtin-type methods and host-facing objects.

Consumes: the type classes of `dana.types.types`.
Produces: `BUILTINS` (name -> type of every builtin function and error type, the exact set
the runtime implements), `method_type(receiver, name)` for methods of str/list/dict/set/
tuple/int/float and WorkflowState, `RUN_RESULT` (what `run(...)` returns), and
`STEP_OPTIONS` (the options of `@step`).
"""

from __future__ import annotations

from typing import Callable

from dana.errors import ERROR_SYNONYMS

from dana.types.types import (ANY, ANY_FUNCTION, ANY_WORKFLOW, BOOL, FLOAT, INT, NONE, STATE,
                              STR, TYPE, AnyT, ClassT, DictT, ErrorT, ERROR_NAMES, FieldT,
                              FunctionT, ListT, ParamT, SetT, StructT, TupleT, Type,
                              element_type, join_all, union)

Infer = Callable[[list[Type], dict[str, Type]], Type]


def P(name: str, type_: Type = ANY, default: bool = False) -> ParamT:
    """Shorthand for a parameter."""
    return ParamT(name, type_, default)


def fn(name: str, params: tuple[ParamT, ...], returns: Type = ANY, *, star: bool = False,
       kwstar: bool = False, infer: Infer | None = None) -> FunctionT:
    """A builtin function type."""
    return FunctionT(params, returns, star, kwstar, name, infer)


# ------------------------------------------------------------------ result inference
def _first(args: list[Type]) -> Type:
    return args[0] if args else ANY


def _elem_of_first(args: list[Type], kw: dict[str, Type]) -> Type:
    return element_type(_first(args)) or ANY


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


def _same_as_first(args: list[Type], kw: dict[str, Type]) -> Type:
    return _first(args)


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
ITERABLE = ANY
_x = P("x", ANY, True)

BUILTINS: dict[str, Type] = {
    "print": fn("print", (P("sep", STR, True), P("end", STR, True)), NONE, star=True),
    "log": fn("log", (P("message"), P("level", STR, True)), NONE),
    "log_level": fn("log_level", (P("level", STR), P("namespace", STR, True)), NONE),
    "len": fn("len", (P("x"),), INT),
    "range": fn("range", (P("start", INT), P("stop", INT, True), P("step", INT, True)),
                ListT(INT)),
    "str": fn("str", (_x,), STR),
    "int": fn("int", (_x, P("base", INT, True)), INT),
    "float": fn("float", (_x,), FLOAT),
    "bool": fn("bool", (_x,), BOOL),
    "list": fn("list", (P("items", ITERABLE, True),), infer=_list_of_first),
    "dict": fn("dict", (P("items", ANY, True),), kwstar=True, infer=_dict_of),
    "set": fn("set", (P("items", ITERABLE, True),), infer=_set_of_first),
    "tuple": fn("tuple", (P("items", ITERABLE, True),), infer=_tuple_of_first),
    "sum": fn("sum", (P("items"), P("start", ANY, True)), infer=_sum),
    "min": fn("min", (P("key", ANY, True), P("default", ANY, True)), star=True, infer=_min_max),
    "max": fn("max", (P("key", ANY, True), P("default", ANY, True)), star=True, infer=_min_max),
    "abs": fn("abs", (P("x"),), infer=_abs),
    "round": fn("round", (P("x"), P("ndigits", INT, True)), infer=_round),
    "sorted": fn("sorted", (P("items"), P("key", ANY, True), P("reverse", BOOL, True)),
                 infer=_list_of_first),
    "reversed": fn("reversed", (P("items"),), infer=_list_of_first),
    "enumerate": fn("enumerate", (P("items"), P("start", INT, True)), infer=_enumerate),
    "zip": fn("zip", (), star=True, infer=_zip),
    "any": fn("any", (P("items"),), BOOL),
    "all": fn("all", (P("items"),), BOOL),
    "map": fn("map", (P("function"), P("items")), infer=_map),
    "filter": fn("filter", (P("function"), P("items")), infer=_filter),
    "type": fn("type", (P("x"),), TYPE),
    "isinstance": fn("isinstance", (P("x"), P("types")), BOOL),
    "json_dumps": fn("json_dumps", (P("x"), P("indent", ANY, True), P("sort_keys", BOOL, True)),
                     STR),
    "json_loads": fn("json_loads", (P("text", STR),), ANY),
    "now": fn("now", (), FLOAT),
    "idempotency_key": fn("idempotency_key", (), STR),
    "run": fn("run", (P("workflow", ANY_WORKFLOW), P("config", DictT(ANY, ANY), True)),
              RUN_RESULT, kwstar=True),
    "compose": fn("compose", (), ANY_WORKFLOW, star=True),
    "case": fn("case", (), ANY, star=True),
    "read_text": fn("read_text", (P("path", STR),), STR),
    "read_lines": fn("read_lines", (P("path", STR),), ListT(STR)),
    "read_csv": fn("read_csv", (P("path", STR),), ListT(DictT(STR, STR))),
    "write_text": fn("write_text", (P("path", STR), P("text", STR)), NONE),
    "append_text": fn("append_text", (P("path", STR), P("text", STR)), NONE),
    "getenv": fn("getenv", (P("name", STR), P("default", union(STR, NONE), True)),
                 union(STR, NONE)),
}
BUILTINS.update({name: ClassT(ErrorT(name)) for name in ERROR_NAMES})
NONDETERMINISTIC = frozenset({"now"})
"""Builtins whose answer changes from call to call: a `steps:` condition calling one may
take another path when a resumed run replays it (docs/store.md "Resume")."""
BUILTINS.update({alias: BUILTINS[name] for alias, name in ERROR_SYNONYMS.items()})

ERROR_ATTRIBUTES: dict[str, Type] = {"message": STR, "type": STR, "line": INT}
STEP_OPTIONS: dict[str, tuple[Type, str]] = {
    "retry": (INT, "an `int`"), "backoff": (FLOAT, "a `float` (seconds)"),
    "max_delay": (FLOAT, "a `float` (seconds)"),
    "timeout": (union(FLOAT, NONE), "a `float` (seconds) or `None`"),
    "cache": (BOOL, "a `bool`"),
    "cache_ttl": (union(FLOAT, NONE), "a `float` (seconds) or `None`"),
    "on_error": (union(STR, NONE), 'one of "halt", "skip", "retry"'),
    "validate": (union(ANY_FUNCTION, NONE), "a function `(WorkflowState) -> bool`"),
    "rollback": (union(ANY_FUNCTION, NONE),
                 "a function `(WorkflowState, dict[str, str])` (the state, the error record)"),
    "retry_on": (union(ListT(ANY), NONE), "a list of error types, or `None` (the default)"),
    "no_retry_on": (ListT(ANY), "a list of error types"),
}
# How the runner calls each hook: the types of its positional arguments. A rollback's
# error is the record a `handle E as e` in `steps:` binds: {"type", "message", "step"}.
HOOK_ARGS: dict[str, tuple[Type, ...]] = {
    "validate": (STATE,), "rollback": (STATE, DictT(STR, STR)),
}
ON_ERROR_VALUES = ("halt", "skip", "retry")


# ------------------------------------------------------------------ methods
def _m(params: tuple[ParamT, ...], returns: Type = ANY, star: bool = False) -> FunctionT:
    return FunctionT(params, returns, star)


def _opt(*names: str) -> tuple[ParamT, ...]:
    return tuple(P(n, ANY, True) for n in names)


def _req(*names: str) -> tuple[ParamT, ...]:
    return tuple(P(n) for n in names)


def _str_methods() -> dict[str, FunctionT]:
    out: dict[str, FunctionT] = {}
    for name in ("upper", "lower", "title", "capitalize", "casefold", "swapcase"):
        out[name] = _m((), STR)
    for name in ("strip", "lstrip", "rstrip"):
        out[name] = _m(_opt("chars"), STR)
    for name in ("isdigit", "isalpha", "isalnum", "isascii", "isspace", "isupper", "islower",
                 "isnumeric", "isdecimal", "istitle", "isidentifier"):
        out[name] = _m((), BOOL)
    for name in ("startswith", "endswith"):
        out[name] = _m(_req("prefix") + _opt("start", "end"), BOOL)
    for name in ("find", "rfind", "index", "rindex", "count"):
        out[name] = _m(_req("sub") + _opt("start", "end"), INT)
    for name in ("center", "ljust", "rjust"):
        out[name] = _m(_req("width") + _opt("fillchar"), STR)
    for name in ("split", "rsplit"):
        out[name] = _m(_opt("sep", "maxsplit"), ListT(STR))
    for name in ("partition", "rpartition"):
        out[name] = _m(_req("sep"), TupleT((STR, STR, STR)))
    for name in ("removeprefix", "removesuffix"):
        out[name] = _m(_req("affix"), STR)
    out.update(splitlines=_m(_opt("keepends"), ListT(STR)), join=_m(_req("items"), STR),
               replace=_m(_req("old", "new") + _opt("count"), STR),
               format=FunctionT((), STR, True, True), zfill=_m(_req("width"), STR),
               expandtabs=_m(_opt("tabsize"), STR))
    return out


STR_METHODS = _str_methods()


def _list_methods(elem: Type) -> dict[str, FunctionT]:
    return {"append": _m(_req("item"), NONE), "extend": _m(_req("items"), NONE),
            "insert": _m(_req("index", "item"), NONE), "remove": _m(_req("item"), NONE),
            "pop": _m(_opt("index"), elem), "clear": _m((), NONE),
            "index": _m(_req("item") + _opt("start", "end"), INT),
            "count": _m(_req("item"), INT), "sort": _m(_opt("key", "reverse"), NONE),
            "reverse": _m((), NONE), "copy": _m((), ListT(elem))}


def _dict_methods(t: DictT) -> dict[str, FunctionT]:
    k, v = t.key, t.value
    return {"keys": _m((), ListT(k)), "values": _m((), ListT(v)),
            "items": _m((), ListT(TupleT((k, v)))),
            "get": FunctionT(_req("key") + _opt("default"), v, name="get",
                             infer=lambda a, kw: v if len(a) > 1 else union(v, NONE)),
            "pop": _m(_req("key") + _opt("default"), v), "popitem": _m((), TupleT((k, v))),
            "setdefault": _m(_req("key") + _opt("default"), v),
            "update": FunctionT(_opt("other"), NONE, kwstar=True), "clear": _m((), NONE),
            "copy": _m((), t)}


def _set_methods(t: SetT) -> dict[str, FunctionT]:
    out = {"add": _m(_req("item"), NONE), "remove": _m(_req("item"), NONE),
           "discard": _m(_req("item"), NONE), "pop": _m((), t.elem), "clear": _m((), NONE),
           "copy": _m((), t)}
    for name in ("union", "intersection", "difference", "symmetric_difference"):
        out[name] = _m((), t, star=True)
    for name in ("update", "intersection_update", "difference_update",
                 "symmetric_difference_update"):
        out[name] = _m((), NONE, star=True)
    for name in ("issubset", "issuperset", "isdisjoint"):
        out[name] = _m(_req("other"), BOOL)
    return out


STATE_MEMBERS: dict[str, Type] = {
    "version": INT, "created_at": FLOAT, "updated_at": FLOAT,
    "history": _m((), ListT(ANY)), "at": _m(_req("version"), STATE),
    "diff": _m(_req("v1", "v2"), DictT(STR, ANY)), "get": _m(_req("key") + _opt("default")),
    "keys": _m((), ListT(STR)), "to_dict": _m((), DictT(STR, ANY)),
}


def methods_of(t: Type) -> dict[str, Type] | None:
    """The methods (and, for WorkflowState, attributes) of a builtin type; None when `t`
    is not a builtin type with a fixed member set."""
    if t == STR:
        return dict(STR_METHODS)
    if isinstance(t, ListT):
        return dict(_list_methods(t.elem))
    if isinstance(t, DictT):
        return dict(_dict_methods(t))
    if isinstance(t, SetT):
        return dict(_set_methods(t))
    if isinstance(t, TupleT):
        return {"count": _m(_req("item"), INT), "index": _m(_req("item"), INT)}
    if t == INT:
        return {"bit_length": _m((), INT)}
    if t == FLOAT:
        return {"is_integer": _m((), BOOL)}
    if t in (BOOL, NONE, TYPE):
        return {}
    return None


def is_any(t: Type) -> bool:
    return isinstance(t, AnyT)
