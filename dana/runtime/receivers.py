"""Method calls on a receiver the checker proved a `str`, `list` or `dict`.

Consumes: a call `x.name(a, b)` with positional arguments whose receiver `x` is a local
variable or parameter, the checker's type of `x` (`CheckResult.types`), the argument
nodes with their fused text and closures, and the general closure of the call site.
Produces: `method_call(compiler, node, general) -> closure | None`: for a method of the
declaration (`dana.surface.methods`) that neither changes its receiver nor needs a size
or walk guard for arguments of the expected classes, a closure that calls the Python
method directly (`str.strip(x, a)`), skipping the binding of arguments through the
declaration (`dana.runtime.binding`): the arguments' classes are tested instead, each
against the classes its parameter accepts without a check (a dict or set method's key
must be a scalar, which hashes without a walk). When the receiver is not of the proved
class, the general closure runs (reading a local twice changes nothing); when an argument
is of another class, or the method raises, `protocol.call_method` runs with the values
already computed, which is what the general call site does for a builtin receiver, so
the result or Dana error is the same (docs/builtins.md).
"""

from __future__ import annotations

from typing import Any, Callable

from dana.surface import METHODS as DECLARED, REQUIRED, expand
from dana.syntax import ast as A
from dana.runtime import protocol as P
from dana.runtime.fused import Fuser, closure, evaluation
from dana.types.types import STR, DictT, ListT, Type

Closure = Callable[[list], Any]

_CLASSES = {"int": int, "float": float, "str": str, "bool": bool, "None": type(None)}
_ANY = ("T", "K", "V", "any")
_KEYS = frozenset({int, float, str, bool, type(None)})
_TEMPLATE = """
def make(general, method, call_method, name, span, {names}):
    def method_call(f):
        r = f[{slot}]
        if r.__class__ is not receiver_class:
            return general(f)
{values}
        if {guards}:
            try:
                return method(r, {args})
            except Exception:
                pass
        return call_method(r, name, ({args}), span)
    return method_call
"""


def method_call(compiler: Any, node: A.CallExpr, general: Closure) -> Closure | None:
    """The specialised closure of call `node` (see the module doc), or None."""
    attr = node.func
    cls = _receiver_class(compiler.type_of(attr.obj) if compiler.type_of else None)
    if cls is None or attr.obj.__class__ is not A.NameExpr:
        return None
    receiver = compiler.operand(attr.obj)
    accepted = _accepted(cls, attr.name, len(node.args))
    if receiver.kind not in ("param", "local") or accepted is None:
        return None
    fuser = Fuser(compiler.operand, compiler.type_of)
    names: dict[str, Any] = {"receiver_class": cls}
    values, guards = [], []
    for i, arg in enumerate(node.args):
        names[f"A{i}"] = compiler.expr(arg.value)
        values.append(evaluation(f"a{i}", fuser.code(arg.value), f"A{i}", 8))
        if accepted[i] is not None:
            names[f"OK{i}"] = accepted[i]
            guards.append(f"a{i}.__class__ in OK{i}")
    args = "".join(f"a{i}, " for i in range(len(node.args)))
    source = _TEMPLATE.format(names=", ".join(names), slot=receiver.value,
                              values="\n".join("        " + v for v in values) or "        pass",
                              guards=" and ".join(guards) or "True", args=args)
    return closure(source, f"{cls.__name__} method call", general=general,
                   method=getattr(cls, attr.name), call_method=P.call_method, name=attr.name,
                   span=node.span, **names)


def _receiver_class(t: Type | None) -> type | None:
    if t == STR:
        return str
    if isinstance(t, ListT):
        return list
    if isinstance(t, DictT):
        return dict
    return None


def _accepted(cls: type, name: str, count: int) -> list[frozenset | None] | None:
    """Per argument, the classes its parameter takes without a check (None: any value),
    for a method called directly with `count` positional arguments; None when the method
    is not one to call directly."""
    decl = DECLARED[cls.__name__].get(name)
    if decl is None or not P.direct_method(cls, name):
        return None
    plain = decl.params
    if any(p.kind != "plain" for p in plain) or count > len(plain) \
            or count < sum(1 for p in plain if p.default is REQUIRED):
        return None
    out: list[frozenset | None] = []
    for i, param in enumerate(plain[:count]):
        classes = _classes(expand(param.type))
        if classes is False:
            return None
        if cls is dict and i == 0:
            classes = _KEYS  # a key that hashes without a walk (`protocol._walk_guard`)
        out.append(classes)
    return out


def _classes(ref: Any) -> frozenset | None | bool:
    """The classes a parameter of type `ref` takes without a check: None for any value,
    False when that is not a few classes."""
    if ref.name in _ANY:
        return None
    if ref.name == "|":
        parts = [_classes(a) for a in ref.args]
        if False in parts:
            return False
        return None if None in parts else frozenset().union(*parts)
    found = _CLASSES.get(ref.name)
    return frozenset({found}) if found is not None and not ref.args else False
