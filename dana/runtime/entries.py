"""The Python functions that run a Dana function: one Python frame per Dana call.

Consumes: the shape of a Dana function (its parameters, frame size and return type) and
its compiled body: statement closures (those carrying a `snippet`, see
`dana.runtime.inline`, are embedded as source text) and the closing `return value` as a
snippet.
Produces: `EntryPlan(...)`, made once per `def` or `lambda` when it is compiled, and
`plan.entry(kind, fn)` for each `Function` value: Python functions, generated from the
plan's source text on first use, that each bind the arguments into a new frame, count the
call as an operation (`Runtime.checkpoint`), track the call depth, run the body and return
its value, in one Python frame:

- `call(args: tuple, span, kwargs=None)`: any call (keywords, defaults, `*args` through
  `Function.bind`);
- `enter(span, *args, depth=None)`: exactly `arity` positional arguments, for call sites
  that pass as many (`dana.runtime.callsites`, `dana.runtime.emit`); an entry entering
  another from its body passes the callee's call depth (None: read from the thread);
- `call_method` / `enter_method`: the same for a receiver method found on its struct,
  whose receiver needs no type check;
- `host(*args, **kwargs)`: a call from host code, with no call site span;
- `each(*args)`: exactly `arity` positional arguments, with no call site span, from a
  builtin that calls the function once per item (`map`, `filter`, a `sorted` key) after
  reading this thread's state (`PerThread.state`), which it then reads with one C call.

A `return` deep in the body leaves the value in frame[1] and signals RETURN; a `return`
embedded in the entry returns directly. Errors passing through a call from Dana code
gain a traceback entry naming the function (docs/language.md "Functions"); a call past
`Limits.max_depth` raises LimitError at the call, before the body runs. The depth is
exact on every path: a call without a `depth` argument reads the calling thread's
`ThreadState.depth`, which every entry keeps current while it runs, except a quiet one
(`EntryPlan.quiet`: a body of emitted statements whose only ways into Dana code pass the
depth on, or publish it around a call that cannot, `callsites.call_value`).
"""

from __future__ import annotations

import functools
import textwrap
from types import CodeType
from typing import Any, Callable

from dana.errors import DanaRuntimeError, TraceEntry, runtime_error
from dana.messages import runtime as R
from dana.runtime.rtypes import ANY
from dana.runtime.scopes import FIRST_SLOT
from dana.runtime.values import StructInstance

NONE_TYPE = type(None)


ENTRIES = ("call", "enter", "call_method", "enter_method", "host", "each")
"""The entry functions of a `Function`, made on first use (see the module doc)."""


# Every entry counts the call as one operation, finds its Dana call depth (`enter` is
# given it by an entry that enters it from its body; any other call reads the calling
# thread's `ThreadState.depth`), raises LimitError past `Limits.max_depth`, and gives an
# error passing through a traceback entry. An entry whose body may run Dana code through
# a path that cannot pass the depth (a closure, a builtin taking a function) publishes
# its depth in `ThreadState.depth` while it runs; a quiet one (`EntryPlan.quiet`) does not.
_PROLOGUE = """\
rt.operations += 1
if rt.operations > rt.next_check:
    rt.checkpoint(span)
{depth}
if depth > max_depth:
    raise runtime_error(TOO_DEEP_CALLS, span, depth=max_depth)
{publish}try:
{body}
except DanaRuntimeError as exc:
    if span is not None:
        exc.trace.append(TraceEntry(span, name))
    raise
except RecursionError:  # safety net: the host's stack ran out before max_depth
    raise runtime_error(TOO_DEEP_RECURSION, span) from None
{restore}{fell_off}
"""
_PUBLISH = "thread.depth = depth\n"
_RESTORE = "finally:\n    thread.depth = saved\n"
# How the calling thread's state is found: from Dana code, one C call (the state a run
# or a host call validated); from host code, validated (`PerThread.state`).
_FROM_DANA = ("thread = current(None)\nif thread is None or span is None:\n"
              "    thread = per_thread.state")
_FROM_HOST = "thread = per_thread.state"
_FROM_BUILTIN = "thread = current(None)\nif thread is None:\n    thread = per_thread.state"


class EntryPlan:
    """How the functions made by one `def` or `lambda` run (see the module doc): `name`,
    `params` (their annotations; defaults do not matter here), the `runtime`, the body's
    `statements` (closures) before `tail` (the closing `return value` snippet, or None),
    the frame size and the declared return type (None: none)."""

    def __init__(self, name: str, params: list, runtime: Any, statements: tuple, tail: Any,
                 frame_size: int, returns: Any) -> None:
        self.statements = statements
        self.tail = tail
        self.quiet = all(getattr(s, "snippet", None) is not None and s.snippet.quiet
                         for s in statements) and (tail is None or tail.quiet)
        self.arity = -1 if any(p.star for p in params) else len(params)  # -1: `bind`
        self.frame_size = frame_size
        self.checks_return = returns is not None and returns.exact is not NONE_TYPE
        self.checked = tuple(i for i, p in enumerate(params)
                             if p.annotated and p.type is not ANY)
        self.receiver = bool(self.checked) and self.checked[0] == 0
        self.namespace = self._namespace(name, params, runtime)
        self._makers: dict[tuple, Callable[[list, Any], Any]] = {}

    def entry(self, kind: str, fn: Any) -> Callable[..., Any] | None:
        """The entry function `kind` (one of ENTRIES) of `fn`, a `Function` made from
        this plan."""
        if kind in ("call_method", "enter_method") and not self.receiver:
            return fn.entry_of(kind.replace("_method", ""))
        if kind in ("enter", "enter_method", "each") and self.arity < 0:
            return None
        trusted = (0,) if kind.endswith("_method") else ()
        return self._maker(kind.replace("_method", ""), trusted)(fn.def_frame, fn)

    def variant(self, fn: Any, trusted: tuple[int, ...]) -> Callable[..., Any]:
        """`call(args, span, kwargs=None)` of `fn` that leaves the positional arguments at
        the indexes in `trusted` unchecked (their caller knows their type)."""
        return self._maker("call", trusted)(fn.def_frame, fn)

    @staticmethod
    def _namespace(name: str, params: list, runtime: Any) -> dict[str, Any]:
        """The values the generated text reads as globals."""
        from dana.runtime.fused import NAMES  # fused reaches functions through protocol
        values = {**NAMES, "rt": runtime, "name": name,
                  "current": runtime.per_thread.current, "per_thread": runtime.per_thread,
                  "max_depth": runtime.limits.max_depth, "runtime_error": runtime_error,
                  "TOO_DEEP_CALLS": R.TOO_DEEP_CALLS, "TOO_DEEP_RECURSION": R.TOO_DEEP_RECURSION,
                  "DanaRuntimeError": DanaRuntimeError, "TraceEntry": TraceEntry,
                  "StructInstance": StructInstance}
        for i, p in enumerate(params):
            values[f"E{i}"] = p.type.exact
            if p.type.exact is None and p.type.struct is not None:
                values[f"L{i}"], values[f"N{i}"] = p.type.struct
        return values

    def _maker(self, kind: str, trusted: tuple[int, ...]) -> Callable[[list, Any], Any]:
        """`make(def_frame, fn)` of the entry `kind` ("call", "enter" or "host"),
        compiled on first use."""
        key = (kind, trusted)
        make = self._makers.get(key)
        if make is None:
            make = self._makers[key] = self._compile(kind, trusted)
        return make

    def _compile(self, kind: str, trusted: tuple[int, ...]) -> Callable[[list, Any], Any]:
        checked = tuple(i for i in self.checked if i not in trusted)
        namespace = self.namespace
        body = self._body(namespace)
        params = [f"a{i}" for i in range(max(self.arity, 0))]
        padding = ["UNSET"] * (self.frame_size - FIRST_SLOT - len(params))
        frame = ", ".join(["def_frame", "None", *params, *padding])
        if kind == "enter":
            code = self._positional(f"enter(span, {''.join(p + ', ' for p in params)}depth=None)",
                                    frame, checked, body, _FROM_DANA, given=True)
        elif kind == "each":
            code = self._positional(f"each({', '.join(params)})", frame, checked, body,
                                    _FROM_BUILTIN, "span = None")
        elif kind == "call":
            code = self._def("call(args, span, kwargs=None)", "kwargs is None", frame,
                             checked, body, _FROM_DANA)
        else:
            code = self._def("host(*args, **kwargs)", "not kwargs", frame, checked, body,
                             _FROM_HOST, "span = None")
        source = f"def make(def_frame, fn):\n{textwrap.indent(code, '    ')}" \
                 f"    return {kind}\n"
        local: dict[str, Any] = {}
        exec(_code(source, kind), namespace, local)
        return local["make"]

    def _def(self, signature: str, no_keywords: str, frame: str, checked: tuple[int, ...],
             body: str, thread: str, first: str = "") -> str:
        """A general entry: positional arguments of the right number bound inline, any
        other call through `Function.bind`."""
        lines = [f"def {signature}:"]
        if first:
            lines.append(f"    {first}")
        if self.arity < 0:
            lines.append("    f = fn.bind(args, kwargs or {}, span)")
        else:
            lines.append(f"    if {no_keywords} and len(args) == {self.arity}:")
            if self.arity:
                lines.append(f"        {''.join(f'a{i}, ' for i in range(self.arity))}= args")
            lines.append(textwrap.indent(_checks(checked, self.namespace), "        "))
            lines.append(f"        f = [{frame}]")
            lines.append("    else:")
            lines.append("        f = fn.bind(args, kwargs or {}, span)")
        lines.append(textwrap.indent(self._run(body, thread), "    "))
        return "\n".join(line for line in lines if line.strip()) + "\n"

    def _positional(self, signature: str, frame: str, checked: tuple[int, ...], body: str,
                    thread: str, first: str = "", given: bool = False) -> str:
        """An entry taking exactly `arity` positional arguments (and a `depth` argument
        when `given`)."""
        lines = [f"def {signature}:", f"    {first}",
                 textwrap.indent(_checks(checked, self.namespace), "    "),
                 f"    f = [{frame}]", textwrap.indent(self._run(body, thread, given), "    ")]
        return "\n".join(line for line in lines if line.strip()) + "\n"

    def _run(self, body: str, thread: str, given: bool = False) -> str:
        """The prologue around `body`, finding the calling thread's state by `thread`;
        `given`: the entry has a `depth` argument (None when its caller did not pass it)."""
        fell_off = "return fn.returned(None, span)" if self.checks_return else "return None"
        if self.quiet:
            depth = f"{thread}\ndepth = thread.depth + 1"
            if given:
                depth = "if depth is None:\n" + textwrap.indent(depth, "    ")
            publish = restore = ""
        else:
            depth = f"{thread}\nsaved = thread.depth\n" + \
                ("if depth is None:\n    depth = saved + 1" if given else "depth = saved + 1")
            publish, restore = _PUBLISH, _RESTORE
        return _PROLOGUE.format(depth=depth, publish=publish, body=textwrap.indent(body, "    "),
                                restore=restore, fell_off=fell_off)

    def _body(self, namespace: dict[str, Any]) -> str:
        """The body's statements, then the closing `return value` (or `pass`); the
        values they name go into `namespace`."""
        parts = []
        for i, statement in enumerate(self.statements):
            snippet = getattr(statement, "snippet", None)
            if snippet is None:
                namespace[f"s{i}"] = statement
                parts.append(f"if s{i}(f) is not None:\n    return f[1]")
            else:
                namespace.update(snippet.names(f"s{i}_"))
                parts.append(snippet.render(f"s{i}_", _return, 0, True, self.quiet))
        if self.tail is not None:
            namespace.update(self.tail.names("t_"))
            parts.append(self.tail.render("t_", _return, 0, True, self.quiet))
        return "\n".join(parts) or "pass"


@functools.lru_cache(maxsize=1024)  # bounded: each definition's text is its own
def _code(source: str, kind: str) -> CodeType:
    """The code of an entry's text, compiled once per distinct text: the same `def` made
    again (by a program run again in this process, or a nested `def` run again) reuses it;
    the values its names read come with each plan's namespace."""
    from dana.runtime.fused import compile_quietly  # fused reaches entries (see _namespace)
    return compile_quietly(source, f"<dana function entry {kind}>")


def _return(value: str) -> str:
    return f"return {value}"


def _checks(checked: tuple[int, ...], namespace: dict[str, Any]) -> str:
    """The type check of each argument `a{i}` that is not of the exact class (or the
    struct, `rtypes.RuntimeType.struct`) of its parameter's type."""
    out = []
    for i in checked:
        if f"L{i}" in namespace:
            test = (f"a{i}.__class__ is not StructInstance or a{i}.struct is not L{i}(N{i}) "
                    f"or a{i}.struct.from_host")
        else:
            test = f"a{i}.__class__ is not E{i}"
        out.append(f"if {test}:\n    a{i} = fn.checked(fn.params[{i}], a{i}, span)\n")
    return "".join(out)
