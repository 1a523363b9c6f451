"""Specialised closures for call sites with positional arguments only.

Consumes: the closures of the callee (or receiver) and of each argument, from the
expression compiler.
Produces: `positional_call(func, args, span)` for `f(a, b)` and `method_call(obj, name,
args, span, attr_span)` for `obj.name(a, b)`: closures `fn(frame) -> value` that evaluate
the callee, then the arguments (Python's order), and enter a Dana function directly: with
as many parameters as arguments through `Function.enter` (a struct's receiver method
through `Function.enter_method`, without a bound-method object), else through
`Function.call`; a builtin or struct type through `protocol.host_call` (a builtin with
one argument through its direct function when it has one for the argument's class,
`Builtin.direct`), anything else
through `protocol.call` (docs/language.md "Functions").

The closures come from one source template per kind of call site, compiled on first use
for each number of arguments: the arguments are evaluated into local variables, with no
list, dict or comprehension frame.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from dana.runtime import fused as F
from dana.runtime import protocol as P
from dana.runtime.functions import Function
from dana.runtime.values import Builtin, StructInstance, StructType

Closure = Callable[[list], Any]
NO_KEYWORDS: dict[str, Any] = {}  # shared by every positional call; never written

_CALL = """
def make(func, args, span, callee_name, globals_get, builtins_get):
    {unpack}
    def call_site(f):
        {callee}
        {values}
        kind = fn.__class__
        if kind is Function:
            if fn.arity == {arity}:
                return fn.enter(span, {names})
            return fn.call(({names}), span)
        {direct}if kind is StructType or kind is Builtin:
            return host_call(fn, ({names}), NO_KEYWORDS, span)
        return call(fn, ({names}), NO_KEYWORDS, span)
    return call_site
"""

# One argument: a builtin's direct function for its class (`Builtin.direct`).
_DIRECT = """if kind is Builtin and (direct := fn.direct.get(a0.__class__)) is not None:
            try:
                return direct(a0)
            except Exception as exc:
                raise host_failure(exc, span) from None
        """

# How the callee is found: its closure, or (a module global's name) the globals dict
# first, then the builtins, the closure (NameError) only when the name is in neither.
_CALLEE = {
    "closure": "fn = func(f)",
    "global": "fn = globals_get(callee_name, UNSET)\n        if fn is UNSET:\n"
              "            fn = builtins_get(callee_name, UNSET)\n"
              "            if fn is UNSET:\n                fn = func(f)",
}
# How the arguments are evaluated into a0, a1, ...: each closure, or the fused text of
# pure arguments (dana.runtime.fused) with the closures as the path that raises the
# exact error.
_VALUES = {
    "closures": "{names}= {reads}",
    "fused": "try:\n            {names}= {fused}\n        except Exception:\n"
             "            {names}= {reads}",
}

_METHOD = """
def make(obj, name, args, span, attr_span):
    {unpack}
    direct = types_with_method(name)
    def method_call(f):
        receiver = obj(f)
        kind = receiver.__class__
        if kind is StructInstance:
            if name not in receiver.fields:
                method = receiver.struct.methods.get(name)
                if method.__class__ is Function:
                    {values}
                    if method.arity == {arity_method}:
                        return method.enter_method(span, receiver, {names})
                    return method.call_method((receiver, {names}), span)
        elif kind in direct:
            return call_method(receiver, name, ({reads}), span)
        fn = get_attr(receiver, name, attr_span)
        return call(fn, ({reads}), NO_KEYWORDS, span)
    return method_call
"""

_NAMES = {**F.NAMES, "Function": Function, "StructType": StructType, "Builtin": Builtin,
          "StructInstance": StructInstance, "NO_KEYWORDS": NO_KEYWORDS, "call": P.call,
          "host_call": P.host_call, "host_failure": P.host_failure, "get_attr": P.get_attr, "call_method": P.call_method,
          "types_with_method": P.types_with_method}


@functools.cache
def _maker(template: str, arity: int, callee: str = "closure",
           fused: tuple[str, ...] | None = None) -> Callable:
    args = [f"A{i}" for i in range(arity)]
    names = "".join(f"a{i}, " for i in range(arity))
    reads = "".join(f"{n}(f), " for n in args)
    if not arity:
        values = "pass"
    else:
        values = _VALUES["closures" if fused is None else "fused"].format(
            names=names, reads=reads, fused="".join(f"{code}, " for code in fused or ()))
        if template is _METHOD:  # one level deeper in the template
            values = values.replace("\n        ", "\n                    ")
    code = template.format(unpack=f"{', '.join(args)}, = args" if args else "pass",
                           reads=reads, callee=_CALLEE[callee], values=values, names=names,
                           arity=arity, arity_method=arity + 1,
                           direct=_DIRECT if arity == 1 else "")
    namespace = dict(_NAMES)
    exec(compile(code, f"<dana call site of {arity} arguments>", "exec"), namespace)
    return namespace["make"]


def positional_call(func: Closure, args: list[Closure], span: Any,
                    global_name: tuple[str, dict, dict] | None = None,
                    fused: tuple[str, ...] | None = None) -> Closure:
    """`func(a, b, ...)`: positional arguments only. `global_name` (name, globals dict,
    builtins dict): the callee is that module global or builtin, looked up inline;
    `fused`: the text of each argument when all are pure (`dana.runtime.fused`)."""
    make = _maker(_CALL, len(args), "closure" if global_name is None else "global", fused)
    name, globals_, builtins = global_name or (None, {}, {})
    return make(func, args, span, name, globals_.get, builtins.get)


def method_call(obj: Closure, name: str, args: list[Closure], span: Any,
                attr_span: Any) -> Closure:
    """`obj.name(a, b, ...)`: positional arguments only, `name` not private. As in
    Python, the method is looked up before the arguments are evaluated."""
    return _maker(_METHOD, len(args))(obj, name, args, span, attr_span)


def call_value(fn: Any, values: tuple, span: Any, rt: Any = None, depth: int = 0) -> Any:
    """`fn(*values)` from Dana code, for a callee that is not a Dana function taking
    `len(values)` arguments (`dana.runtime.emit`). `rt` given: the caller runs at Dana
    call `depth` without keeping the calling thread's depth current (a quiet entry,
    `dana.runtime.entries`), so the depth is set for the call's duration: a function
    that `fn` calls back (a `map` of a Dana function) counts from it."""
    if rt is not None:
        thread = rt.per_thread.state
        saved, thread.depth = thread.depth, depth
        try:
            return call_value(fn, values, span)
        finally:
            thread.depth = saved
    kind = fn.__class__
    if kind is Function:
        return fn.call(values, span)
    if kind is StructType or kind is Builtin:
        return P.host_call(fn, values, NO_KEYWORDS, span)
    return P.call(fn, values, NO_KEYWORDS, span)

