"""Runtime values that are not plain Python data.

Consumes: nothing from the rest of the runtime (leaf module).
Produces: the value classes the interpreter creates — struct types and instances,
functions, error types and error values, type values, modules, bound methods,
composed functions and `case` routers — plus `type_name(value)`, the Dana spelling of a
value's type used in every runtime message.

Dana's own data (int, float, str, bool, None, list, dict, set, tuple) are plain Python
objects. Host objects may expose attributes to Dana only by listing them in a class
attribute `dana_attrs` (docs/language.md: nothing else of the host is reachable).
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from typing import Any, Callable

from dana.errors import ERROR_PARENTS, ERROR_SYNONYMS, DanaRuntimeError, is_subtype, rule_error, runtime_error
from dana.messages import runtime as R
from dana.messages import Msg
from dana.messages import checks as M
from dana.source import Span
from dana.surface.vocab import ERROR_ATTRIBUTES


class UnsetType:
    """The value of a local variable read before it is assigned."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = UnsetType()


_DESCRIBED_ITEMS = 100
_DESCRIBED_PARTS = 1000  # a shared or deep value is described down to this many parts
_DESCRIBED_DEPTH = 6  # ... and this many levels


def describe_type(value: Any, expected: str | None = None) -> str:
    """`type_name`, with the item types of a container spelled out from (up to 100 of)
    its items, for messages about a declared type: `list[int | str]`, `dict[str, float]`,
    `tuple[int, str]`; an empty container is just `list`, `dict`, ... When that reads
    exactly like the `expected` type name (another struct type of the same name), struct
    names say where they were declared: `list[Quote (other.dana)]`. At most 1000 parts
    are looked at, 6 levels deep: beyond, a container is just its type name (`list`)."""
    described = _described(value, False, [_DESCRIBED_PARTS, _DESCRIBED_DEPTH])
    if described == expected:
        return _described(value, True, [_DESCRIBED_PARTS, _DESCRIBED_DEPTH])
    return described


def _described(value: Any, qualified: bool, budget: list[int]) -> str:
    budget[0] -= 1
    if budget[0] <= 0 or budget[1] <= 0:
        return type_name(value)
    budget[1] -= 1
    try:
        return _described_parts(value, qualified, budget)
    finally:
        budget[1] += 1


def _described_parts(value: Any, qualified: bool, budget: list[int]) -> str:
    if isinstance(value, tuple) and 0 < len(value) <= 8:
        return f"tuple[{', '.join(_described(v, qualified, budget) for v in value)}]"
    if isinstance(value, dict) and value:
        items = list(value.items())[:_DESCRIBED_ITEMS]
        return (f"dict[{_union_of((k for k, _ in items), qualified, budget)}, "
                f"{_union_of((v for _, v in items), qualified, budget)}]")
    if isinstance(value, (list, set, frozenset, tuple)) and value:
        items = list(value)[:_DESCRIBED_ITEMS] if not isinstance(value, list) \
            else value[:_DESCRIBED_ITEMS]
        return f"{type_name(value)}[{_union_of(items, qualified, budget)}]"
    if qualified and isinstance(value, StructInstance) and value.struct.origin:
        return f"{value.struct.name} ({value.struct.origin})"
    return type_name(value)


def _union_of(values: Any, qualified: bool, budget: list[int]) -> str:
    names = dict.fromkeys(_described(v, qualified, budget) for v in values)
    return " | ".join(names)


@dataclass(eq=False)
class FieldSpec:
    """One struct field: name, type (`check` accepts a value; `type_name` spells it) and
    an optional default (a zero-argument factory, so mutable defaults are not shared)."""

    name: str
    type_name: str
    check: Callable[[Any], bool]
    coerce: Callable[[Any], Any]
    default: Callable[[], Any] | None
    from_json: Callable[[Any], Any] = lambda v: v
    exact: type | None = None  # values of this class need neither coerce nor check


_LAYOUTS: dict[tuple, tuple] = {}


def layout(names: tuple[str, ...], exacts: tuple[type | None, ...]) -> tuple:
    """The one `(names, exacts)` object of a struct's field names and their exact classes
    (`StructType.layout`): two struct types with the same fields share it, so compiled
    code tests a struct type's fields by identity (`dana.runtime.emit`)."""
    key = (names, exacts)
    return _LAYOUTS.setdefault(key, key)


@dataclass(eq=False)
class StructType:
    """A `struct` declaration; calling it constructs an instance (see interpreter)."""

    name: str
    fields: dict[str, FieldSpec]
    docstring: str | None = None
    methods: dict[str, Any] = field(default_factory=dict)
    origin: str | None = None   # where it was declared ("quotes.dana", "Python class m.Q")
    from_host: bool = False     # made for a Python class by the embedding API

    def __post_init__(self) -> None:
        # every field given in order, each of its field's exact class: no check to make
        self._names = tuple(self.fields)
        self._exacts = tuple(spec.exact for spec in self.fields.values())
        self.layout = layout(self._names, self._exacts)

    def __repr__(self) -> str:
        return f"<struct {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> "StructInstance":
        """Construct an instance: positional args fill fields in order, keywords by name;
        every field without a default must be given; values are type-checked (int widens
        to float). Raises DanaRuntimeError("TypeError") otherwise."""
        if not kwargs and tuple(map(type, args)) == self._exacts:
            return StructInstance(self, dict(zip(self._names, args)))
        specs = self.fields.values()
        if not kwargs and len(args) == len(specs):  # every field given, in order
            values = {}
            for spec, value in zip(specs, args):
                values[spec.name] = value if value.__class__ is spec.exact else \
                    self._field_value(spec, {spec.name: value})
            return StructInstance(self, values)
        names = list(self.fields)
        if len(args) > len(names):
            raise self._error(M.TOO_MANY_ARGS, most=len(names), s="s" * (len(names) != 1),
                              given=len(args), were="was" if len(args) == 1 else "were")
        given = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in self.fields:
                raise self._error(M.UNKNOWN_FIELD_KEYWORD, struct=self.name, name=key)
            if key in given:
                raise self._error(M.MULTIPLE_VALUES, name=key)
            given[key] = value
        return StructInstance(self, {n: self._field_value(spec, given) for n, spec in
                                     self.fields.items()})

    def _error(self, msg: Msg, **fields: object) -> DanaRuntimeError:
        """The checker's message `msg` for a construction of this struct (a TypeError)."""
        return rule_error("TypeError", msg, None, callee=f"`{self.name}`", **fields)

    def _field_value(self, spec: FieldSpec, given: dict[str, Any]) -> Any:
        if spec.name in given:
            value = spec.coerce(given[spec.name])
        elif spec.default is not None:
            value = spec.default()
        else:
            raise self._error(M.MISSING_ARG, what="field", name=spec.name)
        if not spec.check(value):
            actual = describe_type(value, spec.type_name)
            error = self._error(M.ARG_MISMATCH, what="field", param=spec.name,
                                dst=spec.type_name, src=actual)
            error.value = {"field": spec.name, "expected": spec.type_name, "actual": actual}
            raise error
        return value


class StructInstance:
    """A struct value: its type and a dict of field values (mutable, like Python objects)."""

    __slots__ = ("struct", "fields")

    def __init__(self, struct: StructType, fields: dict[str, Any]) -> None:
        self.struct = struct
        self.fields = fields

    @reprlib.recursive_repr("...")
    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        return f"{self.struct.name}({inner})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, StructInstance) and other.struct is self.struct
                and other.fields == self.fields)

    def __hash__(self) -> int:
        return id(self)


@dataclass(eq=False)
class ErrorType:
    """A Dana error type (`ValueError`); calling it makes an ErrorValue."""

    name: str

    def __repr__(self) -> str:
        return self.name

    def __call__(self, message: Any = "") -> "ErrorValue":
        from dana.runtime.formatting import SIZE_BUDGET, checked_text  # they import this
        return ErrorValue(self.name, checked_text(message, SIZE_BUDGET.get()))


class ErrorValue:
    """An error as a Dana value: what `handle E as e` binds and `raise` throws. Dana code
    sees its `type` (name), `message` and `line` (where it was raised; 0 before it is)
    and nothing else: no traceback, frame or host object (docs/language.md)."""

    dana_attrs = frozenset(ERROR_ATTRIBUTES)
    __slots__ = ("type", "message", "line")

    def __init__(self, type_: str, message: str, line: int = 0) -> None:
        self.type = type_
        self.message = message
        self.line = line

    def __repr__(self) -> str:
        return f"{self.type}({self.message!r})"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class TypeValue:
    """What `type(x)` returns: prints as the type name and equals that name as a string
    (docs/language.md compatibility: `type(5) == "int"`)."""

    name: str

    def __repr__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TypeValue):
            return other.name == self.name
        return isinstance(other, str) and other == self.name

    def __hash__(self) -> int:
        return hash(self.name)


@dataclass(eq=False)
class ModuleValue:
    """An imported Dana module: its name and its top-level namespace."""

    name: str
    namespace: dict[str, Any]
    path: str | None = None

    def __repr__(self) -> str:
        return f"<module {self.name}>"


@dataclass(eq=False)
class BoundMethod:
    """A receiver method or struct-first-parameter function bound to its receiver."""

    receiver: Any
    function: Any

    def invoke(self, args: list[Any], kwargs: dict[str, Any], span: Span | None) -> Any:
        return self.function.invoke([self.receiver, *args], kwargs, span)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.invoke(list(args), kwargs, None)

    def __repr__(self) -> str:
        return f"<method {getattr(self.function, 'name', '?')} of {type_name(self.receiver)}>"


@dataclass(eq=False)
class Builtin:
    """A host function exposed to Dana under `name`; `fn` takes Python args directly, after
    `bind` (a declared builtin's `dana.runtime.binding` binder) has checked them.
    `direct`: argument class -> a Python function that a call with one positional
    argument of that class may make instead (the same value; on a Python exception,
    the same Dana error once `protocol.host_failure` turns it into one); compiled call
    sites use it (`dana.runtime.callsites`, `dana.runtime.emit`)."""

    name: str
    fn: Callable[..., Any]
    bind: Callable[[tuple, dict], tuple[tuple, dict]] | None = None
    direct: dict[type, Callable[[Any], Any]] = field(default_factory=dict)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.bind is not None:
            args, kwargs = self.bind(args, kwargs)
        try:
            return self.fn(*args, **kwargs)
        except TypeError as exc:
            raise self._renamed(exc) from None

    def _renamed(self, exc: TypeError) -> TypeError:
        """A bad-arguments TypeError names the host function (`make_builtins.<locals>.
        <lambda>() missing ...`); say `print() missing ...` instead."""
        text = str(exc)
        for host in (getattr(self.fn, "__qualname__", ""), getattr(self.fn, "__name__", "")):
            if host and text.startswith(host + "()"):
                return TypeError(self.name + text[len(host):])
        return exc

    def __repr__(self) -> str:
        return f"<builtin {self.name}>"


@dataclass(eq=False)
class Composed:
    """A pipeline whose head is a function: calling it pipes the argument through
    `stages` (callables) left to right."""

    stages: tuple[Any, ...]
    span: Span | None = None

    def __call__(self, value: Any) -> Any:
        for stage in self.stages:
            value = stage(value)
        return value

    def __repr__(self) -> str:
        return "<composed function>"


@dataclass(eq=False)
class CaseRouter:
    """`case((pred, fn), ..., fallback)`: routes a value to the first fn whose pred holds."""

    branches: tuple[tuple[Any, Any], ...]
    fallback: Any

    def __call__(self, value: Any) -> Any:
        for predicate, fn in self.branches:
            if predicate(value):
                return fn(value)
        if self.fallback is None:
            raise runtime_error(R.NO_CASE_MATCHES, subject=value)
        return self.fallback(value) if callable(self.fallback) else self.fallback

    def __repr__(self) -> str:
        return "<case>"


def error_types() -> dict[str, ErrorType]:
    """A fresh ErrorType for each name of the Dana error hierarchy and each synonym."""
    types = {name: ErrorType(name) for name in ERROR_PARENTS}
    types.update({alias: types[name] for alias, name in ERROR_SYNONYMS.items()})
    return types


def error_matches(error_type: str, handler_type: Any) -> bool:
    """True when an error of `error_type` is caught by a handler for `handler_type`
    (an ErrorType, or a tuple of them)."""
    if isinstance(handler_type, tuple):
        return any(error_matches(error_type, h) for h in handler_type)
    return isinstance(handler_type, ErrorType) and is_subtype(error_type, handler_type.name)


_PY_NAMES = {bool: "bool", int: "int", float: "float", str: "str", list: "list",
             dict: "dict", set: "set", tuple: "tuple", type(None): "None",
             frozenset: "set"}


def type_name(value: Any) -> str:
    """The Dana name of a value's type: `int`, `list`, `Point`, `function`, ..."""
    name = _PY_NAMES.get(type(value))
    if name is not None:
        return name
    if isinstance(value, StructInstance):
        return value.struct.name
    if isinstance(value, ErrorValue):
        return value.type
    if isinstance(value, (StructType, ErrorType)):
        return "type"
    if isinstance(value, TypeValue):
        return "type"
    if isinstance(value, ModuleValue):
        return "module"
    return getattr(value, "dana_type_name", "function" if callable(value) or
                   isinstance(value, (Builtin, BoundMethod, Composed, CaseRouter)) else
                   type(value).__name__)


@dataclass(eq=False)
class InterfaceValue:
    """An `interface` declaration: method names (plus embedded interfaces by name).
    A struct satisfies it structurally, through its methods (docs/language.md)."""

    name: str
    methods: tuple[str, ...]
    embeds: tuple[str, ...]
    namespace: dict[str, Any] = field(repr=False, default_factory=dict)
    dana_type_name = "interface"

    def all_methods(self) -> set[str]:
        names = set(self.methods)
        for embed in self.embeds:
            inner = self.namespace.get(embed)
            if isinstance(inner, InterfaceValue):
                names |= inner.all_methods()
        return names

    def satisfied_by(self, value: Any) -> bool:
        return isinstance(value, StructInstance) and self.all_methods() <= set(value.struct.methods)

    def __repr__(self) -> str:
        return f"<interface {self.name}>"
