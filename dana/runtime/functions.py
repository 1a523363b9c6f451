"""Dana functions and lambdas at run time: argument binding, type checks, tracebacks.

Consumes: a compiled body (a closure over frames, see `dana.runtime.scopes`), parameter
specs and the `Runtime` (for limits).
Produces: `Function` (callable from Dana through `invoke`, and from host code as a plain
Python callable, e.g. as a `sorted` key); `@step(...)` options are a `StepPolicy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from dana.errors import DanaRuntimeError, rule_error
from dana.messages import Msg
from dana.messages import checks as M
from dana.source import Span
from dana.runtime.entries import ENTRIES, EntryPlan
from dana.runtime.rtypes import ANY, RuntimeType
from dana.runtime.scopes import FIRST_SLOT
from dana.runtime.values import UNSET, describe_type
from dana.workflow.template import StepPolicy

BREAK, CONTINUE, RETURN = 1, 2, 3  # the control signals statement closures return
NO_DEFAULT: Any = object()


@dataclass(eq=False)
class ParamSpec:
    """One parameter: name, compiled annotation (ANY when unannotated), default value;
    `star` 1 for `*args` (the annotation types each extra positional argument), 2 for
    `**kwargs` (each extra keyword argument)."""

    name: str
    type: RuntimeType
    annotated: bool
    default: Any = NO_DEFAULT
    star: int = 0


class Function:
    """A Dana `def` or `lambda` closed over the frame it was defined in.

    Its entry functions (`dana.runtime.entries`, one Python frame per Dana call) bind the
    arguments straight into a new frame (type-checking annotated parameters, with a
    one-comparison test for `int`, `float`, `str`, `bool`), count the call as an
    operation, track the call depth and run the body: `call(args, span, kwargs=None)` is
    the general one (`invoke` goes through it); `enter(span, *args)` takes exactly
    `arity` positional arguments (-1 when the function has `*args` or `**kwargs`: `enter`
    is None); `call_method`/`enter_method` leave a receiver unchecked; `host(*args,
    **kwargs)` serves host code (`__call__`, a `sorted` key).

    `body` is the statement closures (or one closure) before `tail`, the snippet of
    the closing `return value` (`dana.runtime.inline.returning`); `plan` the
    `EntryPlan` shared by the functions one definition makes (made here when None)."""

    dana_type_name = "function"

    def __init__(self, name: str, params: list[ParamSpec], returns: RuntimeType | None,
                 body: Callable[[list], Any] | tuple, frame_size: int, def_frame: list,
                 runtime: Any, span: Span, docstring: str | None = None,
                 tail: Any = None, label: str | None = None,
                 plan: EntryPlan | None = None) -> None:
        self.name = name
        self.label = label or f"function `{name}`"  # how messages name it
        self.params = params
        self.returns = returns
        self.frame_size = frame_size
        self.def_frame = def_frame
        self.runtime = runtime
        self.span = span
        self.docstring = docstring
        self.step_options: StepPolicy | None = None
        self.steps_made: dict[int, tuple] = {}  # id(span) -> (span, options, Step): workflows.py
        self.state_keys: frozenset[str] | None = None  # see dana.types.state_keys
        self._star = next((i for i, p in enumerate(params) if p.star == 1), None)
        self._dstar = next((i for i, p in enumerate(params) if p.star == 2), None)
        self.arity = -1 if any(p.star for p in params) else len(params)
        self.plan = plan or EntryPlan(name, params, runtime,
                                      body if isinstance(body, tuple) else (body,), tail,
                                      frame_size, returns)
        # the entries are stubs until their first use (a class without __getattr__ keeps
        # CPython's attribute reads of `fn.enter` and `fn.arity` specialised)
        for kind in ENTRIES:
            setattr(self, kind, FirstUse(self, kind))
        if self.arity < 0:
            self.enter = None

    def entry_of(self, kind: str) -> Callable[..., Any]:
        """The entry function `kind` (one of ENTRIES), made now if it was not."""
        entry = getattr(self, kind)
        if entry.__class__ is FirstUse:
            entry = self.plan.entry(kind, self)
            setattr(self, kind, entry)
        return entry

    def __repr__(self) -> str:
        return f"<function {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.host(*args, **kwargs)

    def invoke(self, args: list[Any], kwargs: dict[str, Any], span: Span | None) -> Any:
        """Call with Dana semantics. Raises DanaRuntimeError (TypeError for bad arguments);
        errors passing through get a traceback frame naming this function."""
        return self.call(tuple(args), span, kwargs or None)

    def entry(self, trusted: tuple[int, ...]) -> Callable[..., Any]:
        """`call(args: tuple, span, kwargs=None) -> result` of this function that does not
        type-check the positional arguments at the indexes in `trusted` (the caller knows
        their type: the workflow state)."""
        return self.plan.variant(self, trusted)

    def returned(self, result: Any, span: Span | None) -> Any:
        """The checked (and int-to-float widened) result. Raises TypeError."""
        result = self.returns.coerce(result)
        if not self.returns.check(result):
            raise rule_error("TypeError", M.RETURN_MISMATCH, span, func=self.label,
                             dst=self.returns.name, src=describe_type(result, self.returns.name))
        return result

    def bind(self, args: tuple, kwargs: dict[str, Any], span: Span | None) -> list:
        """A new frame with parameters bound (positional, `*args`, keyword, `**kwargs`,
        default), type-checked, following Python's rules."""
        params = self.params
        frame = [self.def_frame, None] + [UNSET] * (self.frame_size - FIRST_SLOT)
        fits = self._star if self._star is not None else \
            len(params) - (self._dstar is not None)
        if len(args) > fits and self._star is None:
            raise self._arg_error(M.TOO_MANY_ARGS, span, most=fits, s="s" * (fits != 1),
                                  given=len(args), were="was" if len(args) == 1 else "were")
        for i, value in enumerate(args[:fits]):
            frame[FIRST_SLOT + i] = value
        if self._star is not None:
            frame[FIRST_SLOT + self._star] = tuple(args[fits:])
        extra: dict[str, Any] = {}
        for key, value in kwargs.items():
            index = self._param_index(key, span)
            if index is None:
                extra[key] = value
            elif frame[FIRST_SLOT + index] is not UNSET:
                raise self._arg_error(M.MULTIPLE_VALUES, span, name=key)
            else:
                frame[FIRST_SLOT + index] = value
        if self._dstar is not None:
            frame[FIRST_SLOT + self._dstar] = extra
        for i, p in enumerate(params):
            slot = FIRST_SLOT + i
            if frame[slot] is UNSET:
                if p.default is NO_DEFAULT:
                    raise self._arg_error(M.MISSING_ARG, span, what="argument", name=p.name)
                frame[slot] = p.default
            elif p.star and p.annotated:
                frame[slot] = self._checked_each(p, frame[slot], span)
            elif p.annotated:
                frame[slot] = self.checked(p, frame[slot], span)
        return frame

    def _param_index(self, key: str, span: Span | None) -> int | None:
        """The index of the parameter named `key`; None when `**kwargs` takes it."""
        for i, p in enumerate(self.params):
            if p.name == key and not p.star:
                return i
        if self._dstar is not None:
            return None
        raise self._arg_error(M.UNKNOWN_KEYWORD, span, name=key)

    def _checked_each(self, p: ParamSpec, values: Any, span: Span | None) -> Any:
        if isinstance(values, dict):
            return {k: self.checked(p, v, span) for k, v in values.items()}
        return tuple(self.checked(p, v, span) for v in values)

    def checked(self, p: ParamSpec, value: Any, span: Span | None) -> Any:
        """`value` for parameter `p`, widened (int to float). Raises TypeError."""
        if p.type.check(value):  # then coerce(value) is value (`RuntimeType`)
            return value
        value = p.type.coerce(value)
        if not p.type.check(value):
            raise self._arg_error(M.ARG_MISMATCH, span, what="argument", param=p.name,
                                  dst=p.type.name, src=describe_type(value, p.type.name))
        return value

    def _arg_error(self, msg: Msg, span: Span | None, **fields: object) -> DanaRuntimeError:
        """The checker's message `msg` for a call of this function (docs/errors.md)."""
        return rule_error("TypeError", msg, span, callee=f"`{self.name}`", **fields)


class FirstUse:
    """An entry of `fn` not made yet: the first call makes it (`Function.entry_of`),
    installs it on `fn` and passes the call on."""

    __slots__ = ("fn", "kind")

    def __init__(self, fn: Function, kind: str) -> None:
        self.fn, self.kind = fn, kind

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn.entry_of(self.kind)(*args, **kwargs)


def unannotated(name: str, default: Any = NO_DEFAULT) -> ParamSpec:
    """A parameter without a type annotation."""
    return ParamSpec(name, ANY, False, default)
