"""Dana functions and lambdas at run time: argument binding, type checks, tracebacks.

Consumes: a compiled body (a closure over frames, see `dana.runtime.scopes`), parameter
specs and the `Runtime` (for limits).
Produces: `Function` (callable from Dana through `invoke`, and from host code as a plain
Python callable, e.g. as a `sorted` key); `@step(...)` options are a `StepPolicy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from dana.errors import DanaRuntimeError, TraceEntry, rule_error, runtime_error
from dana.messages import runtime as R
from dana.messages import Msg
from dana.messages import checks as M
from dana.source import Span
from dana.runtime.rtypes import ANY, RuntimeType
from dana.runtime.scopes import FIRST_SLOT
from dana.runtime.values import UNSET, describe_type
from dana.workflow.template import StepPolicy

BREAK, CONTINUE, RETURN = 1, 2, 3  # the control signals statement closures return
NO_DEFAULT: Any = object()
NONE_TYPE = type(None)


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

    `call(args, span)` is the one entry point (one Python frame per Dana call): it binds
    the arguments straight into a new frame (type-checking annotated parameters, with a
    one-comparison test for `int`, `float`, `str`, `bool`), counts the call as an
    operation, tracks the call depth, runs the body (a tuple of statement closures, or
    one closure) and then its `tail` (the closing `return value`, evaluated by the call
    itself), and checks the result (a `return` before the end leaves it in frame[1]). `invoke`
    (keywords) and `__call__` (host code, e.g. a `sorted` key) go through it."""

    dana_type_name = "function"

    def __init__(self, name: str, params: list[ParamSpec], returns: RuntimeType | None,
                 body: Callable[[list], Any] | tuple, frame_size: int, def_frame: list,
                 runtime: Any, span: Span, docstring: str | None = None,
                 tail: tuple | None = None, label: str | None = None) -> None:
        # tail: (closure -> value, class needing no check, check(value) or None)
        self.name = name
        self.label = label or f"function `{name}`"  # how messages name it
        self.params = params
        self.returns = returns
        self.body = body
        self.tail = tail
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
        self.call = self.entry(())
        # for a receiver found among its struct's methods: the receiver needs no check
        receiver = bool(params) and params[0].annotated and params[0].type is not ANY
        self.call_method = self.entry((0,)) if receiver else self.call

    def __repr__(self) -> str:
        return f"<function {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.call(args, None, kwargs or None)

    def invoke(self, args: list[Any], kwargs: dict[str, Any], span: Span | None) -> Any:
        """Call with Dana semantics. Raises DanaRuntimeError (TypeError for bad arguments);
        errors passing through get a traceback frame naming this function."""
        return self.call(tuple(args), span, kwargs or None)

    def entry(self, trusted: tuple[int, ...]) -> Callable[..., Any]:
        """The closure `call(args: tuple, span, kwargs=None) -> result` of this function;
        the positional arguments at the indexes in `trusted` are not type-checked (the
        caller knows their type: a receiver, the workflow state)."""
        rt, name, bind = self.runtime, self.name, self.bind
        statements = self.body if isinstance(self.body, tuple) else (self.body,)
        def_frame, arity = self.def_frame, len(self.params)
        padding = (UNSET,) * (self.frame_size - FIRST_SLOT - arity)
        if any(p.star for p in self.params):
            arity = -1  # *args or **kwargs: every call goes through `bind`
        checks, checked = self._argument_checks(trusted), self._checked
        returns = self._returned if self.returns is not None else None
        exact_return = self.returns.exact if self.returns is not None else None
        tail, tail_exact, tail_check = self.tail or (None, None, None)
        per_thread, max_depth = rt.per_thread, rt.limits.max_depth
        current = per_thread.current

        def call(args: tuple, span: Span | None, kwargs: dict | None = None) -> Any:
            if kwargs is None and len(args) == arity:
                frame = [def_frame, None, *args, *padding]
                if checks:
                    for slot, exact, p in checks:
                        if frame[slot].__class__ is not exact:
                            frame[slot] = checked(p, frame[slot], span)
            else:
                frame = bind(args, kwargs or {}, span)
            rt.operations += 1
            if rt.operations > rt.next_check:
                rt.checkpoint(span)
            thread = current(None)
            if thread is None or span is None:  # a first or host call: validated
                thread = per_thread.state
            depth = thread.depth + 1
            if depth > max_depth:
                raise runtime_error(R.TOO_DEEP_CALLS, span, depth=max_depth)
            thread.depth = depth
            fell_off = False
            try:
                for statement in statements:  # a signal here can only be RETURN
                    if statement(frame) is not None:
                        result = frame[1]
                        break
                else:
                    if tail is None:  # fell off the end: None, checked below
                        result = None
                        if returns is not None and exact_return is not NONE_TYPE:
                            fell_off = True
                    else:  # the closing `return value`
                        result = tail(frame)
                        if tail_check is not None and result.__class__ is not tail_exact:
                            result = tail_check(result)
            except DanaRuntimeError as exc:
                if span is not None:
                    exc.trace.append(TraceEntry(span, name))
                raise
            except RecursionError:  # safety net: the host's stack ran out before max_depth
                raise runtime_error(R.TOO_DEEP_RECURSION, span) from None
            finally:
                thread.depth = depth - 1
            if fell_off:  # a `return` checked its value where it returned
                return returns(result, span)
            return result
        return call

    def _argument_checks(self, trusted: tuple[int, ...]) -> tuple:
        """(frame slot, class that needs no check, ParamSpec) of each annotated parameter
        whose argument a call checks (and widens): all but those at the `trusted` indexes."""
        return tuple((FIRST_SLOT + i, p.type.exact, p) for i, p in enumerate(self.params)
                     if p.annotated and p.type is not ANY and i not in trusted)

    def _returned(self, result: Any, span: Span | None) -> Any:
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
                frame[slot] = self._checked(p, frame[slot], span)
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
            return {k: self._checked(p, v, span) for k, v in values.items()}
        return tuple(self._checked(p, v, span) for v in values)

    def _checked(self, p: ParamSpec, value: Any, span: Span | None) -> Any:
        value = p.type.coerce(value)
        if not p.type.check(value):
            raise self._arg_error(M.ARG_MISMATCH, span, what="argument", param=p.name,
                                  dst=p.type.name, src=describe_type(value, p.type.name))
        return value

    def _arg_error(self, msg: Msg, span: Span | None, **fields: object) -> DanaRuntimeError:
        """The checker's message `msg` for a call of this function (docs/errors.md)."""
        return rule_error("TypeError", msg, span, callee=f"`{self.name}`", **fields)


def unannotated(name: str, default: Any = NO_DEFAULT) -> ParamSpec:
    """A parameter without a type annotation."""
    return ParamSpec(name, ANY, False, default)
