"""Static types of Dana values and the relations between them.

Consumes: nothing but `dana.errors` (the error hierarchy).
Produces: the `Type` classes (`ANY`, `INT`, `ListT`, `UnionT`, `StructT`, `FunctionT`, ...),
`assignable(src, dst)` (may a value of `src` be stored where `dst` is expected: int widens to
float, `any` is compatible both ways), `overlaps` (the permissive test the checker reports
with: some member of a union fits), `join` (the type of "either value") and `str(t)` in Dana
spelling: `list[int]`, `int | None`, `Point`, `(int, str) -> bool`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from dana.errors import ERROR_PARENTS, is_subtype


class Type:
    """Base of every static type. Subclasses are immutable values, except that struct,
    interface and workflow types are nominal: equal by name, filled in after creation."""


@dataclass(frozen=True)
class AnyT(Type):
    """`any`: not known statically; checked at run time."""

    def __str__(self) -> str:
        return "any"


@dataclass(frozen=True)
class NeverT(AnyT):
    """The type of a value that cannot exist (a variable narrowed to nothing, in code
    that cannot run): accepted everywhere like `any`, and dropped by `join`/`union`."""

    def __str__(self) -> str:
        return "never"


@dataclass(frozen=True)
class Prim(Type):
    """A primitive: int, float, str, bool, bytes, None, or `type` (what `type(x)` returns)."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class ListT(Type):
    elem: Type

    def __str__(self) -> str:
        return f"list[{self.elem}]"


@dataclass(frozen=True)
class SetT(Type):
    elem: Type

    def __str__(self) -> str:
        return f"set[{self.elem}]"


@dataclass(frozen=True)
class DictT(Type):
    key: Type
    value: Type

    def __str__(self) -> str:
        return f"dict[{self.key}, {self.value}]"


@dataclass(frozen=True)
class TupleT(Type):
    """`tuple[int, str]`; with `variadic` the single item repeats: `tuple[int, ...]`."""

    items: tuple[Type, ...]
    variadic: bool = False

    def __str__(self) -> str:
        if self.variadic:
            return f"tuple[{self.items[0]}, ...]"
        if not self.items:
            return "tuple[()]"
        return f"tuple[{', '.join(str(i) for i in self.items)}]"

    def item_join(self) -> Type:
        """The type of any one item."""
        return join_all(self.items) if self.items else ANY


@dataclass(frozen=True)
class UnionT(Type):
    """`A | B`: built only through `union()`, so options are flat, distinct and >= 2."""

    options: tuple[Type, ...]

    def __str__(self) -> str:
        return " | ".join(f"({o})" if isinstance(o, FunctionT) else str(o)
                          for o in self.options)


@dataclass(frozen=True)
class ParamT:
    """One parameter of a function type; a `keyword_only` one is never bound by position."""

    name: str
    type: Type
    has_default: bool = False
    keyword_only: bool = False


@dataclass(frozen=True)
class FunctionT(Type):
    """A callable. `star`/`kwstar` accept extra positional / keyword arguments (with
    `star`, the listed `params` after the first `positional` are keyword-only, like
    `print(*args, sep=...)` or `def f(a, *rest, key=1)`), each of the type of
    `star_param` / `kwstar_param` (`*args: T`, `**kwargs: T`) when those are set; `infer`
    (builtins only) computes the result from the argument types."""

    params: tuple[ParamT, ...]
    returns: Type
    star: bool = False
    kwstar: bool = False
    name: str | None = field(default=None, compare=False)
    infer: Callable[[list[Type], dict[str, Type]], Type] | None = field(default=None,
                                                                        compare=False)
    positional: int = 0
    star_param: "ParamT | None" = field(default=None, compare=False)
    kwstar_param: "ParamT | None" = field(default=None, compare=False)

    def __str__(self) -> str:
        parts = [str(p.type) for p in self.params]
        if self.star:
            parts.append("*any")
        if self.kwstar:
            parts.append("**any")
        return f"({', '.join(parts)}) -> {self.returns}"

    def required(self) -> list[ParamT]:
        return [p for p in self.params if not p.has_default]

    def drop_first(self) -> "FunctionT":
        """The same function with its first parameter bound (a method on a receiver)."""
        return FunctionT(self.params[1:], self.returns, self.star, self.kwstar, self.name,
                         self.infer, max(self.positional - 1, 0), self.star_param,
                         self.kwstar_param)

    def positional_params(self) -> list[ParamT]:
        """The parameters a positional argument may fill, in order."""
        params = self.params[:self.positional] if self.star else self.params
        return [p for p in params if not p.keyword_only]


@dataclass(frozen=True)
class FieldT:
    name: str
    type: Type
    has_default: bool


class StructT(Type):
    """A user struct (nominal). `fields` and `methods` are filled by the checker; methods
    hold the full function type, receiver first."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: dict[str, FieldT] = {}
        self.methods: dict[str, FunctionT] = {}
        self.loose_methods: dict[str, FunctionT] = {}

    def method(self, name: str) -> FunctionT | None:
        """A receiver method, else a function whose first parameter has this struct type."""
        return self.methods.get(name) or self.loose_methods.get(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StructT) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("struct", self.name))

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


class InterfaceT(Type):
    """`interface Shape:` — method signatures (receiver not included), satisfied structurally."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.methods: dict[str, FunctionT] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InterfaceT) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("interface", self.name))

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


@dataclass(frozen=True)
class ErrorT(Type):
    """An error value (`ValueError("m")`, the `e` of `handle ValueError as e`)."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class ClassT(Type):
    """A struct or error type used as a value: calling it constructs one."""

    of: Type

    def __str__(self) -> str:
        return f"type[{self.of}]"


@dataclass(frozen=True)
class StateT(Type):
    """`WorkflowState`."""

    def __str__(self) -> str:
        return "WorkflowState"


class WorkflowT(Type):
    """A workflow template. `name` None is the annotation `workflow` (any workflow).
    `params` are its config; `requires` maps state keys to types; `node` is its definition.
    The checker fills in `input` (what its first step takes from the previous step when it
    runs as a sub-workflow or a composed part; None: it takes nothing), `input_step` (that
    step's name) and `final` (state keys it certainly writes, with their types)."""

    def __init__(self, name: str | None, params: tuple[ParamT, ...] = (),
                 returns: Type | None = None, requires: dict[str, Type] | None = None,
                 node: Any = None) -> None:
        self.name = name
        self.params = params
        self.returns = returns if returns is not None else ANY
        self.requires: dict[str, Type] = dict(requires or {})
        self.node = node
        self.input: Type | None = None
        self.input_step = ""
        self.final: dict[str, Type] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkflowT) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("workflow", self.name))

    def __str__(self) -> str:
        return "workflow"

    __repr__ = __str__


@dataclass(frozen=True)
class ModuleT(Type):
    """An imported module; `names` maps its top-level names to their types."""

    name: str
    names: tuple[tuple[str, Type], ...] = field(compare=False)

    def __str__(self) -> str:
        return f"module {self.name}"


ANY = AnyT()
NEVER = NeverT()
INT, FLOAT, STR, BOOL = Prim("int"), Prim("float"), Prim("str"), Prim("bool")
NONE, TYPE, BYTES = Prim("None"), Prim("type"), Prim("bytes")
STATE = StateT()
ANY_FUNCTION = FunctionT((), ANY, star=True, kwstar=True)
ANY_WORKFLOW = WorkflowT(None)
NUMERIC = (INT, FLOAT, BOOL)
ERROR_NAMES = tuple(ERROR_PARENTS)


# ------------------------------------------------------------------ relations
def assignable(src: Type, dst: Type) -> bool:
    """Strict compatibility: every value of `src` is acceptable where `dst` is expected."""
    if isinstance(src, AnyT) or isinstance(dst, AnyT):
        return True
    if isinstance(src, UnionT):
        return all(assignable(o, dst) for o in src.options)
    if isinstance(dst, UnionT):
        return any(assignable(src, o) for o in dst.options)
    rule = _RULES.get(type(dst))
    return rule(src, dst) if rule else src == dst


def overlaps(src: Type, dst: Type) -> bool:
    """Compatibility as the checker reports it: for a union `src` it is enough that one
    member fits, except that `None` must fit too (an `int | None` is not an `int` until
    narrowed by `if x is not None:` and the like)."""
    if isinstance(src, UnionT):
        if NONE in src.options and not assignable(NONE, dst):
            return False
        return any(assignable(o, dst) for o in src.options)
    return assignable(src, dst)


def _prim(src: Type, dst: Prim) -> bool:
    return src == dst or (dst == FLOAT and src == INT)


def _elems(src: Type, dst: Any) -> bool:
    return type(src) is type(dst) and assignable(src.elem, dst.elem)


def _dict(src: Type, dst: DictT) -> bool:
    return isinstance(src, DictT) and assignable(src.key, dst.key) \
        and assignable(src.value, dst.value)


def _tuple(src: Type, dst: TupleT) -> bool:
    if not isinstance(src, TupleT):
        return False
    if dst.variadic:
        return all(assignable(i, dst.items[0]) for i in src.items)
    if src.variadic:
        return False
    return len(src.items) == len(dst.items) and all(
        assignable(s, d) for s, d in zip(src.items, dst.items))


def _function(src: Type, dst: FunctionT) -> bool:
    return isinstance(src, (FunctionT, ClassT, WorkflowT))


def _interface(src: Type, dst: InterfaceT) -> bool:
    if isinstance(src, InterfaceT):
        return src == dst or all(m in src.methods for m in dst.methods)
    return isinstance(src, StructT) and not missing_methods(src, dst)


def _error(src: Type, dst: ErrorT) -> bool:
    return isinstance(src, ErrorT) and is_subtype(src.name, dst.name)


def _workflow(src: Type, dst: WorkflowT) -> bool:
    return isinstance(src, WorkflowT) and (dst.name is None or src.name == dst.name)


_RULES: dict[type, Callable[[Any, Any], bool]] = {
    Prim: _prim, ListT: _elems, SetT: _elems, DictT: _dict, TupleT: _tuple,
    FunctionT: _function, InterfaceT: _interface, ErrorT: _error, WorkflowT: _workflow,
}


def missing_methods(struct: StructT, iface: InterfaceT) -> list[str]:
    """Names of `iface` methods that `struct` lacks or has with another parameter count."""
    out = []
    for name, sig in iface.methods.items():
        have = struct.method(name)
        if have is None or len(have.params) - 1 != len(sig.params):
            out.append(name)
    return out


# ------------------------------------------------------------------ building types
def union(*types: Type) -> Type:
    """The union of `types`, flattened and deduplicated; `any` absorbs everything and
    `int` is dropped beside `float` (it widens)."""
    flat: list[Type] = []
    for t in types:
        for o in (t.options if isinstance(t, UnionT) else (t,)):
            if isinstance(o, NeverT):
                continue
            if isinstance(o, AnyT):
                return ANY
            if o not in flat:
                flat.append(o)
    if FLOAT in flat and INT in flat:
        flat.remove(INT)
    if NONE in flat:
        flat.append(flat.pop(flat.index(NONE)))
    if not flat:
        return NEVER if types and all(isinstance(t, NeverT) for t in types) else ANY
    return flat[0] if len(flat) == 1 else UnionT(tuple(flat))


MAX_LOOP_DEPTH = 6
"""Levels of collections a type a loop infers for a variable may nest (see `widened`)."""


def widened(t: Type, depth: int = MAX_LOOP_DEPTH) -> Type:
    """`t` with each collection nested more than `depth` levels deep made `any`: the
    type of a variable a loop carries, which may grow at each pass (`x = [x, "a"]`
    nested in three loops would nest dozens of levels, and comparing such unions takes
    time exponential in their depth)."""
    if isinstance(t, UnionT):
        return union(*(widened(o, depth) for o in t.options))
    if isinstance(t, (ListT, SetT, DictT, TupleT)) and depth == 0:
        return ANY
    if isinstance(t, (ListT, SetT)):
        return type(t)(widened(t.elem, depth - 1))
    if isinstance(t, DictT):
        return DictT(widened(t.key, depth - 1), widened(t.value, depth - 1))
    if isinstance(t, TupleT):
        return TupleT(tuple(widened(i, depth - 1) for i in t.items), t.variadic)
    return t


def join(a: Type, b: Type) -> Type:
    """The type of a value that is either an `a` or a `b`."""
    if isinstance(a, NeverT):
        return b
    if isinstance(b, NeverT):
        return a
    if assignable(a, b) and not isinstance(a, AnyT):
        return b if not isinstance(b, AnyT) else ANY
    if assignable(b, a) and not isinstance(b, AnyT):
        return a
    return union(a, b)


def join_all(types: list[Type] | tuple[Type, ...]) -> Type:
    """`join` over a sequence (`any` for an empty one)."""
    if not types:
        return ANY
    out = types[0]
    for t in types[1:]:
        out = join(out, t)
    return out


def without_none(t: Type) -> Type:
    """`T | None` -> `T` (used after `x or default` style narrowing)."""
    if isinstance(t, UnionT):
        rest = [o for o in t.options if o != NONE]
        return union(*rest) if rest else t
    return t


def is_numeric(t: Type) -> bool:
    return t in (INT, FLOAT, BOOL)


def element_type(t: Type) -> Type | None:
    """What iterating over a `t` yields; None when `t` is not iterable."""
    if isinstance(t, (ListT, SetT)):
        return t.elem
    if isinstance(t, DictT):
        return t.key
    if isinstance(t, TupleT):
        return t.item_join()
    if t == STR:
        return STR
    if isinstance(t, UnionT):
        elems = [element_type(o) for o in t.options]
        known = [e for e in elems if e is not None]
        return join_all(known) if known else None
    if isinstance(t, (AnyT, StateT, InterfaceT)):
        return ANY
    return None
