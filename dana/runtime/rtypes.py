"""Run-time type tests for annotations: struct fields, typed parameters, returns, state.

Consumes: a `TypeExpr` from the AST and a `lookup(name)` for user-defined type names.
Produces: `RuntimeType` — `check(value) -> bool`, `coerce(value)` (int -> float widening,
docs/language.md), and `name` (the Dana spelling used in messages). Static checking is the
checker's job; these tests guard `any` values and runs with `--no-check` (docs/workflows.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from dana.syntax import ast as A
from dana.errors import DanaRuntimeError, is_subtype
from dana.surface import TYPE_NAMES, TypeRef
from dana.runtime.values import (Builtin, BoundMethod, CaseRouter, Composed, ErrorValue,
                                 StructInstance, StructType)


@dataclass(frozen=True)
class RuntimeType:
    """A compiled annotation. `check` accepts values of the type (after `coerce`; a value
    `check` accepts is one `coerce` gives back as it is, so a caller may check first).
    `exact` is the one Python class whose values need neither check nor coercion (int for
    `int`, ...), or None: compiled code tests `value.__class__ is exact` before `check`.
    `exacts`: every such class (those of a union's options too). `struct` is (lookup,
    name) for a user type name: an instance of the Dana struct `lookup(name)` needs
    neither (`is_own_struct`)."""

    name: str
    check: Callable[[Any], bool]
    coerce: Callable[[Any], Any] = lambda v: v
    from_json: Callable[[Any], Any] = lambda v: v
    exact: type | None = None
    exacts: frozenset = frozenset()
    struct: tuple[Callable[[str], Any], str] | None = None

    def __post_init__(self) -> None:
        if self.exact is not None and not self.exacts:
            object.__setattr__(self, "exacts", frozenset({self.exact}))


def is_own_struct(t: RuntimeType, v: Any) -> bool:
    """Whether `v` is an instance of the struct declared in Dana that `t` names, which
    passes `t` unchanged (the test compiled code writes inline, see `struct`)."""
    return t.struct is not None and v.__class__ is StructInstance \
        and v.struct is t.struct[0](t.struct[1]) and not v.struct.from_host


def unchecked_test(t: RuntimeType, var: str, p: str) -> tuple[str, dict[str, Any]]:
    """Python text, true when the value in `var` must go through `t`'s coerce and check:
    it is not of `t.exact`, nor (`t.struct`) an instance of the Dana struct `t` names
    (`is_own_struct`); and the values the text names, each under `p + name`."""
    if t.struct is not None:
        return (f"{var}.__class__ is not {p}STRUCT or {var}.struct is not {p}lookup({p}name)"
                f" or {var}.struct.from_host",
                {"STRUCT": StructInstance, "lookup": t.struct[0], "name": t.struct[1]})
    return f"{var}.__class__ is not {p}exact", {"exact": t.exact}


ANY = RuntimeType("any", lambda v: True)


def _is_int(v: Any) -> bool:
    return type(v) is int


def _to_float(v: Any) -> Any:
    return float(v) if type(v) is int else v


_CANONICAL: dict[str, RuntimeType] = {
    "any": ANY,
    "int": RuntimeType("int", _is_int, exact=int),
    "float": RuntimeType("float", lambda v: type(v) is float, _to_float, exact=float),
    "str": RuntimeType("str", lambda v: type(v) is str, exact=str),
    "bool": RuntimeType("bool", lambda v: type(v) is bool, exact=bool),
    "None": RuntimeType("None", lambda v: v is None, exact=type(None)),
    "bytes": RuntimeType("bytes", lambda v: type(v) is bytes, exact=bytes),
}
#: Every spelling of a simple type (`dana.surface.TYPE_NAMES`: `Any` and `object` are `any`).
_SIMPLE: dict[str, RuntimeType] = {spelling: _CANONICAL[canon]
                                   for spelling, (canon, _) in TYPE_NAMES.items()
                                   if canon in _CANONICAL}


def compile_type(texpr: A.TypeExpr | None, lookup: Callable[[str], Any]) -> RuntimeType:
    """Compile an annotation (None means `any`). Unknown names compile to a test that
    looks the name up when first used, so types may be declared after their use."""
    if texpr is None:
        return ANY
    if isinstance(texpr, A.UnionType):
        return _union([compile_type(o, lookup) for o in texpr.options])
    return _named(texpr, lookup)


def compile_ref(ref: TypeRef) -> RuntimeType:
    """Compile declared type text (`dana.surface.expand`) of a builtin's parameter."""
    if ref.name == "|":
        return _union([compile_ref(o) for o in ref.args])
    args = [compile_ref(a) for a in ref.args if a.name != "..."]
    if ref.name in _SIMPLE and not args:
        return _SIMPLE[ref.name]
    if ref.name == "list":  # a builtin's list parameter also takes a (lazy) range
        return _container("list", (list, range), args)
    if ref.name == "set":
        return _container("set", (set, frozenset), args)
    if ref.name == "dict":
        return _dict(args)
    if ref.name == "tuple":
        return _tuple_of(args, len(args) < len(ref.args))
    if TYPE_NAMES.get(ref.name, ("",))[0] == "function":
        return RuntimeType(ref.name, _is_callable)
    return _user_type(ref.name, lambda name: None)


def _union(options: list[RuntimeType]) -> RuntimeType:
    name = " | ".join(o.name for o in options)

    def check(v: Any) -> bool:
        return any(o.check(v) for o in options)

    def coerce(v: Any) -> Any:
        for o in options:
            if o.check(v):
                return v
        for o in options:
            c = o.coerce(v)
            if o.check(c):
                return c
        return v

    def from_json(v: Any) -> Any:
        for o in options:
            c = o.coerce(o.from_json(v))
            if o.check(c):
                return c
        return v
    # a value of an option's exact class is that option's, as it is (`coerce` above)
    exacts = frozenset().union(*(o.exacts for o in options))
    return RuntimeType(name, check, coerce, from_json, exacts=exacts)


def _named(texpr: A.TypeName, lookup: Callable[[str], Any]) -> RuntimeType:
    name = texpr.name
    args = [compile_type(a, lookup) for a in texpr.args
            if not (isinstance(a, A.TypeName) and a.name == "...")]
    if name in _SIMPLE and not args:
        return _SIMPLE[name]
    if name == "list":
        return _container("list", list, args)
    if name == "set":
        return _container("set", (set, frozenset), args)
    if name == "dict":
        return _dict(args)
    if name == "tuple":
        return _tuple(texpr, args)
    if name in ("function", "callable", "Callable"):
        return RuntimeType(name, _is_callable)
    return _user_type(name, lookup)


def _container(name: str, py: Any, args: list[RuntimeType]) -> RuntimeType:
    if not args or args[0] is ANY:
        return RuntimeType(f"{name}[{args[0].name}]" if args else name, lambda v: isinstance(v, py))
    item = args[0]
    exact = item.exact

    def check(v: Any) -> bool:
        if not isinstance(v, py):
            return False
        if v.__class__ is range:  # its items are ints: test one, never walk it
            return item.check(0)
        if exact is not None:  # items of a simple type: one class comparison each
            for x in v:
                if x.__class__ is not exact:
                    return False
            return True
        if item.struct is not None:  # instances of the struct named: one identity test
            target = item.struct[0](item.struct[1])
            if isinstance(target, StructType) and all(
                    x.__class__ is StructInstance and x.struct is target for x in v):
                return True
        return all(item.check(x) for x in v)

    def coerce(v: Any) -> Any:
        if isinstance(v, list) and not check(v):
            return [item.coerce(x) for x in v]
        return v

    def from_json(v: Any) -> Any:
        if isinstance(v, list):
            items = [item.from_json(x) for x in v]
            return items if name == "list" else set(items)
        return v
    return RuntimeType(f"{name}[{item.name}]", check, coerce, from_json)


def _dict(args: list[RuntimeType]) -> RuntimeType:
    if len(args) != 2 or (args[0] is ANY and args[1] is ANY):
        return RuntimeType("dict" if not args else f"dict[{', '.join(a.name for a in args)}]",
                           lambda v: isinstance(v, dict))
    key, val = args

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return False
        if key.exact is not None and val.exact is not None:  # one comparison per key, value
            for k, x in v.items():
                if k.__class__ is not key.exact or x.__class__ is not val.exact:
                    return False
            return True
        return all(key.check(k) and val.check(x) for k, x in v.items())

    def coerce(v: Any) -> Any:
        if isinstance(v, dict) and not check(v):
            return {key.coerce(k): val.coerce(x) for k, x in v.items()}
        return v

    def from_json(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: val.from_json(x) for k, x in v.items()}
        return v
    return RuntimeType(f"dict[{key.name}, {val.name}]", check, coerce, from_json)


def _tuple(texpr: A.TypeName, args: list[RuntimeType]) -> RuntimeType:
    return _tuple_of(args, any(a.name == "..." for a in texpr.args))


def _tuple_of(args: list[RuntimeType], variadic: bool) -> RuntimeType:
    if not args:
        return RuntimeType("tuple", lambda v: isinstance(v, tuple))
    if variadic:
        item = args[0]
        return RuntimeType(f"tuple[{item.name}, ...]",
                           lambda v: isinstance(v, tuple) and all(item.check(x) for x in v))
    label = f"tuple[{', '.join(a.name for a in args)}]"
    return RuntimeType(label, lambda v: isinstance(v, tuple) and len(v) == len(args)
                       and all(a.check(x) for a, x in zip(args, v)))


def _is_callable(v: Any) -> bool:
    return callable(v) or isinstance(v, (Builtin, BoundMethod, Composed, CaseRouter, StructType))


def _user_type(name: str, lookup: Callable[[str], Any]) -> RuntimeType:
    def check(v: Any) -> bool:
        target = lookup(name)
        if isinstance(target, StructType):
            return isinstance(v, StructInstance) and v.struct is target
        if target is None and isinstance(v, StructInstance):  # a struct local to a function
            return v.struct.name == name
        kind = getattr(target, "dana_type_name", None)
        if kind == "interface":
            return target.satisfied_by(v)
        if isinstance(v, ErrorValue):
            return is_subtype(v.type, name)
        if name == "WorkflowState":
            return getattr(v, "dana_type_name", None) == "WorkflowState"
        if name in ("workflow", "Workflow"):
            return getattr(v, "dana_type_name", None) == "workflow"
        return getattr(v, "dana_type_name", None) == name

    def from_json(v: Any) -> Any:
        target = lookup(name)
        if isinstance(target, StructType) and isinstance(v, dict):
            fields = {k: target.fields[k].from_json(x) if k in target.fields else x
                      for k, x in v.items()}
            return target(**fields)
        return v

    def coerce(v: Any) -> Any:
        if v.__class__ is StructInstance and not v.struct.from_host:
            return v  # a Dana struct value is never converted
        target = lookup(name)
        if not isinstance(target, StructType):
            return v
        if isinstance(v, StructInstance) and v.struct.from_host and v.struct.name == name \
                and v.struct is not target:
            return _as_struct(target, v.fields, v)
        if isinstance(v, dict) and v and set(v) <= set(target.fields):
            return _as_struct(target, v, v)
        return v
    return RuntimeType(name, check, coerce, from_json, struct=(lookup, name))


def _as_struct(target: StructType, fields: dict[str, Any], original: Any) -> Any:
    """A value where struct `target` is declared, as an instance of it: a struct made
    for a Python class of that name (a dataclass or pydantic model from the host), or a
    dict of its fields (as pydantic validates a dict into a model; the checker rejects a
    dict there in Dana code, so this serves values from Python and `any`). `original`
    when the fields do not fit: the type check then reports it."""
    try:
        return target(**{k: target.fields[k].from_json(x) if k in target.fields else x
                         for k, x in fields.items()})
    except DanaRuntimeError:
        return original
