"""The embedding API behind `import dana`: run Dana from Python (docs/embedding.md).

Consumes: source text or `.dana` files, Python callables and values from the host.
Produces: `Interpreter` (one isolated Runtime: `eval`, `exec`, `load`, `register`,
`function`, `register_step`, `on_event`), `Module` (a loaded file whose functions, structs
and workflows are callable from Python, plus `run(workflow, **state)`), `render(err)`, and
the value conversion at the boundary:

* into Dana: dataclass instances and pydantic models become struct values — of the Dana
  struct with the same name when the code being called declares one (its field types are
  checked), otherwise of an ad-hoc struct type named after the class; lists, tuples, sets
  and dicts are converted element by element; everything else passes unchanged.
* out of Dana: a struct value becomes an instance of the Python class it came from (or of
  a class of that name seen going in, when the field names match); otherwise an instance
  of a dataclass generated per struct type (same name, same fields). Containers are
  converted element by element; functions, workflows and struct types become Python
  callables.

Every failure is a `DanaError` subclass; nothing here prints.
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from dana.diagnostics import render_error
from dana.errors import (ERROR_PARENTS, DanaError, Diagnostic, UsageError,
                         rule_error, runtime_error)
from dana.messages import checks as M, runtime as R, usage as U
from dana.source import SourceFile, Span
from dana.syntax import ast as A
from dana.syntax.builder import parse, parse_expr
from dana.pipeline import Session, prepare, read_source, resume_run
from dana.runtime.durable import Durable
from dana.store.runs import RunStore
from dana.store.schema import StoreError
from dana.runtime.functions import NO_DEFAULT, RETURN, Function, ParamSpec
from dana.workflow.template import Hook, StepPolicy
from dana.runtime.scopes import FIRST_SLOT
from dana.runtime.interpreter import Limits, Runtime, run_module
from dana.runtime.boundary import contained
from dana.runtime.step_options import (ERROR_LISTS, HOOKS, OPTION_NAMES, plain_value,
                                       unknown_option)
from dana.surface import ERROR_SYNONYMS
from dana.runtime.permissions import Permissions
from dana.runtime.protocol import host_error
from dana.runtime.rtypes import ANY, RuntimeType
from dana.runtime.values import (Builtin, FieldSpec, ModuleValue, StructInstance, StructType)
from dana.workflow.parallel import HostFunction
from dana.workflow.template import RunResult, WorkflowTemplate
from dana.distributed.executors import make_executor, parse_executor

if TYPE_CHECKING:  # annotations only: the event records load with the runner
    from dana.workflow.events import Listener

RESULT_NAME = "__dana_result__"
_STATE_TYPE = RuntimeType("WorkflowState", lambda v: True)


def render(err: DanaError) -> str:
    """The error's diagnostics in the house text format (file:line:col, caret, notes)."""
    return render_error(err)


# ------------------------------------------------------------------ chunks of source
def exec_chunk(rt: Runtime, globals_: dict[str, Any], module: A.Module,
               checked: Any = None) -> Any:
    """Run `module` in `globals_`; if its last statement is an expression statement, return
    that expression's value (None otherwise). Used by `exec`/`eval` and the REPL.
    `checked`: the checker's result for `module` (`run_module`)."""
    body = module.body
    last = body[-1] if body else None
    if isinstance(last, A.ExprStmt):
        target = A.NameExpr(last.span, RESULT_NAME)
        body = body[:-1] + (A.AssignStmt(last.span, (target,), last.expr),)
    run_module(rt, A.Module(module.span, body), "__main__", globals_, checked)
    return globals_.pop(RESULT_NAME, None)


def expression_module(expr: A.Expr) -> A.Module:
    """A one-statement module evaluating `expr` (for `exec_chunk`)."""
    return A.Module(expr.span, (A.ExprStmt(expr.span, expr),))


def _parse_expression(source: SourceFile) -> A.Module:
    return expression_module(parse_expr(source))


def _error_names(key: str, names: Any) -> tuple[str, ...]:
    """`retry_on=["TimeoutError"]`: names of Dana error types (builtin ones, or a
    synonym such as "Exception"). Raises DanaRuntimeError TypeError."""
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise rule_error("TypeError", M.BAD_STEP_OPTION, name=key,
                         expected="a list of error type names", src=repr(names))
    unknown = [n for n in names if n not in ERROR_PARENTS and n not in ERROR_SYNONYMS]
    if unknown:
        raise rule_error("TypeError", M.BAD_STEP_OPTION, name=key,
                         expected="names of Dana error types", src=unknown[0])
    return tuple(ERROR_SYNONYMS.get(n, n) for n in names)


def host_types(host: dict[str, Callable]) -> dict[str, Any]:
    """Checker signatures of registered Python functions, from their annotations."""
    from dana.types import types as T
    simple = {int: T.INT, float: T.FLOAT, str: T.STR, bool: T.BOOL, type(None): T.NONE,
              "int": T.INT, "float": T.FLOAT, "str": T.STR, "bool": T.BOOL}
    out = {}
    for name, fn in host.items():
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            continue
        params, star, kwstar = [], False, False
        for p in sig.parameters.values():
            if p.kind is p.VAR_POSITIONAL:
                star = True
            elif p.kind is p.VAR_KEYWORD:
                kwstar = True
            else:
                kind = T.STATE if p.name == "state" else simple.get(p.annotation, T.ANY)
                params.append(T.ParamT(p.name, kind, p.default is not p.empty))
        returns = simple.get(sig.return_annotation, T.ANY)
        out[name] = T.FunctionT(tuple(params), returns, star, kwstar, name, None)
    return out


# ------------------------------------------------------------------ conversion
class Converter:
    """Value conversion at the Python/Dana boundary, with per-interpreter caches.

    Not pydantic's `TypeAdapter`: it converts between a Python class and plain data, so a
    nested dataclass would reach Dana as a dict instead of a struct value, it cannot build
    the dataclasses generated for Dana structs (fields without annotations), and its lax
    coercion (`"1.5"` for a float) would let through values a Dana struct field rejects."""

    def __init__(self) -> None:
        self.adhoc: dict[type, StructType] = {}
        self.origin: dict[int, type] = {}          # id(StructType) -> Python class
        self.by_name: dict[str, type] = {}         # Python classes seen going in
        self.generated: dict[int, type] = {}       # id(StructType) -> generated dataclass
        self.keep: list[Any] = []                  # keeps ids above valid

    def to_dana(self, value: Any, namespace: dict[str, Any] | None = None) -> Any:
        fields = _record_fields(value)
        if fields is not None:
            cls = type(value)
            self.by_name.setdefault(cls.__name__, cls)
            converted = {k: self.to_dana(v, namespace) for k, v in fields.items()}
            declared = (namespace or {}).get(cls.__name__)
            if isinstance(declared, StructType):
                return declared(**converted)
            return StructInstance(self._adhoc(cls, list(converted)), converted)
        if isinstance(value, list):
            return [self.to_dana(v, namespace) for v in value]
        if isinstance(value, tuple):
            return tuple(self.to_dana(v, namespace) for v in value)
        if isinstance(value, (set, frozenset)):
            return {self.to_dana(v, namespace) for v in value}
        if isinstance(value, dict):
            return {k: self.to_dana(v, namespace) for k, v in value.items()}
        return value

    def _adhoc(self, cls: type, names: list[str]) -> StructType:
        struct = self.adhoc.get(cls)
        if struct is None:
            specs = {n: FieldSpec(n, "any", lambda v: True, lambda v: v, None) for n in names}
            struct = StructType(cls.__name__, specs, inspect.getdoc(cls),
                                origin=f"Python class {cls.__module__}.{cls.__qualname__}",
                                from_host=True)
            self.adhoc[cls] = struct
            self.origin[id(struct)] = cls
            self.keep.append(struct)
        return struct

    def to_python(self, value: Any) -> Any:
        if isinstance(value, StructInstance):
            fields = {k: self.to_python(v) for k, v in value.fields.items()}
            return self._python_class(value.struct)(**fields)
        if isinstance(value, list):
            return [self.to_python(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.to_python(v) for v in value)
        if isinstance(value, (set, frozenset)):
            return {self.to_python(v) for v in value}
        if isinstance(value, dict):
            return {k: self.to_python(v) for k, v in value.items()}
        return value

    def _python_class(self, struct: StructType) -> type:
        cls = self.origin.get(id(struct))
        if cls is not None:
            return cls
        seen = self.by_name.get(struct.name)
        if seen is not None and set(_class_field_names(seen)) == set(struct.fields):
            return seen
        cls = self.generated.get(id(struct))
        if cls is None:
            cls = dataclasses.make_dataclass(struct.name, list(struct.fields))
            cls.__doc__ = struct.docstring or f"Dana struct {struct.name}."
            self.generated[id(struct)] = cls
            self.keep.append(struct)
        return cls


def _record_fields(value: Any) -> dict[str, Any] | None:
    """Field name -> value of a dataclass instance or pydantic model, else None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    model_fields = getattr(type(value), "model_fields", None)
    if isinstance(model_fields, dict) and hasattr(value, "model_dump"):
        return {name: getattr(value, name) for name in model_fields}
    return None


def _class_field_names(cls: type) -> list[str]:
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls)]
    return list(getattr(cls, "model_fields", {}))


# ------------------------------------------------------------------ the interpreter
class Interpreter:
    """One isolated Dana interpreter: its own runtime, builtins, globals and caches.

    `limits` bounds steps, wall time, depth and sizes (`dana.Limits`); `permissions`
    (`dana.Permissions(read=[...], write=[...], env=[...])`) says which folders Dana code
    may read files under and write files under, and which environment variables it may
    read (none by default); `allow_read` is the short form of `Permissions(read=...)`;
    `stdout`/`stderr`
    receive `print` and `log` output (default: the process streams); `check=False` skips
    the static checker (run-time type checks still apply). `executor` and `workers` choose
    where parallel branches run, as `dana run --executor/--workers` do ("threads",
    "processes[:N]", "dask", "dask://HOST:PORT"; docs/distributed.md); an interpreter
    that started worker processes stops them on `close()` (or leaving a `with` block).
    `store` (a path) makes workflow runs durable, recorded in that run store with
    `durability` "normal" or "full" (docs/store.md); `runs()` lists them and
    `resume(run_id)` continues one. The checker's warnings go to `on_warning(diagnostic)`
    (None: dropped); its errors raise DanaCheckError, as `dana run` reports them.
    """

    def __init__(self, limits: Limits | None = None, allow_read: Iterable[str | Path] = (),
                 *, permissions: Permissions | None = None, stdout: Any = None,
                 stderr: Any = None, check: bool = True, executor: str = "threads",
                 workers: int | None = None, store: str | Path | None = None,
                 durability: str = "normal",
                 on_warning: Callable[[Diagnostic], None] | None = None) -> None:
        self.runtime = Runtime(limits, permissions=permissions or Permissions(read=allow_read),
                               stdout=stdout, stderr=stderr)
        self.runtime.executor = make_executor(parse_executor(executor, workers))
        self.store = RunStore(store, durability) if store is not None else None
        if self.store is not None:
            self.runtime.durable = Durable(self.store)
        self.globals: dict[str, Any] = {}
        self.check = check
        self.on_warning = on_warning
        self.converter = Converter()
        self.host: dict[str, Callable] = {}
        self.scope: Any = None  # the checker's scope after the chunks run so far
        self._chunks = 0

    def __repr__(self) -> str:
        return f"<dana.Interpreter with {len(self.globals)} globals>"

    def __enter__(self) -> "Interpreter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker processes or Dask cluster this interpreter started (if any)."""
        if self.runtime.executor is not None:
            self.runtime.executor.close()

    # -------------------------------------------------------------- source text
    @contained
    def eval(self, src: str) -> Any:
        """The value of one Dana expression, converted to Python. Raises DanaError."""
        source = self._source(src, "<eval>")
        return self.converter.to_python(self.run_source(source, expression=True))

    @contained
    def exec(self, src: str) -> None:
        """Run Dana statements; their definitions stay in this interpreter's globals for
        later `eval`/`exec` calls. Raises DanaError."""
        self.run_source(self._source(src, "<exec>"))

    @contained
    def run_source(self, source: SourceFile, expression: bool = False) -> Any:
        """Parse `source` (one expression when `expression`), check it continuing this
        interpreter's earlier chunks (`pipeline.prepare`: imports resolved beside the
        source, or in the current folder for text without a path), and run it in this
        interpreter's globals. Returns the Dana value of a final expression statement
        (None otherwise): how `exec`, `eval` and the REPL run a chunk. Raises DanaError."""
        parser = _parse_expression if expression else parse
        prepared = prepare(source, check=self.check, scope=self.scope,
                           host=host_types(self.host), on_warning=self.on_warning,
                           parser=parser)
        self.scope = prepared.scope
        return exec_chunk(self.runtime, self.globals, prepared.module, prepared.result)

    def _source(self, src: str, name: str) -> SourceFile:
        if not isinstance(src, str):
            raise UsageError.of(U.SOURCE_NOT_STR, type=type(src).__name__)
        self._chunks += 1
        return SourceFile(name, src)

    @contained
    def load(self, path: str | Path) -> "Module":
        """Read, check and run a `.dana` file in a fresh namespace, as `dana run` would
        (`pipeline.prepare`); its imports resolve beside it, then in the standard library.
        Raises DanaError (UsageError when the file cannot be read)."""
        prepared = prepare(read_source(path), check=self.check, host=host_types(self.host),
                           on_warning=self.on_warning)
        namespace: dict[str, Any] = {}
        if self.runtime.durable is not None:
            self.runtime.durable.add_module(prepared.module, namespace)
        value = run_module(self.runtime, prepared.module, Path(path).stem, namespace,
                           prepared.result)
        return Module(self, value)

    # -------------------------------------------------------------- host functions
    def register(self, fn: Callable | None = None, *, name: str | None = None) -> Any:
        """Expose a Python function to Dana as a builtin named `name` (default
        `fn.__name__`). Arguments arrive as Python values (structs as objects), the result
        goes back converted. Returns `fn`, so it works as a decorator."""
        if fn is None:
            return lambda f: self.register(f, name=name)
        label = name or fn.__name__
        conv = self.converter

        def call(*args: Any, **kwargs: Any) -> Any:
            result = _host_call(fn, [conv.to_python(a) for a in args],
                                {k: conv.to_python(v) for k, v in kwargs.items()})
            return conv.to_dana(result, self.globals)
        self.runtime.builtins[label] = Builtin(label, call)
        self.host[label] = fn
        self.runtime.host_functions[label] = HostFunction(fn)
        return fn

    def function(self, fn: Callable) -> Callable:
        """Decorator form of `register`: `@interp.function`."""
        return self.register(fn)

    def register_step(self, fn: Callable | None = None, *, name: str | None = None,
                      **options: Any) -> Any:
        """Expose a Python function as a workflow step (and a callable builtin). Its first
        parameter receives the previous step's result; a parameter named `state` receives
        the step's state transaction (`state["key"]`, `state["key"] = value`). The options
        are those of `@step` (declared in dana.surface.STEP_OPTIONS, docs/workflows.md
        "Steps": retry, backoff, timeout, cache, on_error, ...), checked as `@step` checks
        them; `validate(state) -> bool` and `rollback(state, error)` (error: a dict
        {"type", "message", "step"}) get the state like a step; `retry_on` and
        `no_retry_on` name Dana error types ("TimeoutError"). Returns `fn` (usable as a
        decorator). Raises DanaRuntimeError: TypeError for an unknown option or a value of
        the wrong type, ValueError for a bad value."""
        if fn is None:
            return lambda f: self.register_step(f, name=name, **options)
        policy = self._step_policy(options)
        label = name or fn.__name__
        step = _host_step(self, fn, label)
        step.step_options = policy
        self.runtime.builtins[label] = step
        self.host[label] = fn
        self.runtime.host_functions[label] = HostFunction(fn, "step", dict(options))
        return fn

    def _step_policy(self, options: dict[str, Any]) -> StepPolicy:
        """The StepPolicy of `register_step`'s options, checked against their declaration
        (`cache_key` implies `cache=True`)."""
        policy = StepPolicy(cache="cache_key" in options and "cache" not in options)
        for key, value in options.items():
            if key not in OPTION_NAMES:
                raise unknown_option(key)
            if key in HOOKS:
                value = self._checked_hook(key, value)
            elif key in ERROR_LISTS and value is not None:
                value = _error_names(key, value)
            else:
                value = plain_value(key, value)
            setattr(policy, key, value)
        return policy

    def _checked_hook(self, key: str, hook: Any) -> Hook | None:
        if hook is None:
            return None
        if not callable(hook):
            raise rule_error("TypeError", M.BAD_STEP_OPTION, name=key, expected="a function",
                             src=type(hook).__name__)
        return Hook(getattr(hook, "__name__", key), self._host_hook(hook))

    def _host_hook(self, hook: Callable) -> Callable[..., Any]:
        def call(view: Any, *error: Any) -> Any:
            state = HostState(view, self.converter, self.globals)
            return _host_call(hook, [state, *map(self.converter.to_python, error)], {})
        return call

    def on_event(self, callback: Listener) -> Listener:
        """Call `callback(event)` for every workflow event: a typed record per kind
        (dana.workflow.events: `StepSucceeded`, `LoopIteration`, ...) that also reads like
        its JSON dict (`event["event"]`, `event.get("step")`, `dict(event)`).
        Returns `callback` (decorator-friendly)."""
        self.runtime.listeners.append(callback)
        return callback

    # -------------------------------------------------------------- running workflows
    @contained
    def run(self, workflow: Any, namespace: dict[str, Any] | None = None,
            config: dict[str, Any] | None = None, **state: Any) -> RunResult:
        """Run a WorkflowTemplate with Python `state` values; the result's `output` is
        converted to Python. Struct-typed keys also accept dicts of fields."""
        if not isinstance(workflow, WorkflowTemplate):
            raise UsageError.of(U.NOT_A_WORKFLOW, value=repr(workflow))
        ns = self.globals if namespace is None else namespace
        values = {k: self.converter.to_dana(v, ns) for k, v in state.items()}
        for req in workflow.requires:
            if isinstance(values.get(req.key), dict):
                try:
                    values[req.key] = req.from_json(values[req.key])
                except DanaError:
                    pass
        result = self.runtime.run_workflow(workflow, self.converter.to_dana(config or {}, ns),
                                           **values)
        return dataclasses.replace(result, output=self.converter.to_python(result.output),
                                   state=FinalState(result.state, self.converter))

    @contained
    def runs(self, workflow: str | None = None, status: str | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
        """The runs in this interpreter's store, newest first, as `dana runs --format
        json` gives them. Raises UsageError without a store."""
        store = self._store()
        return [store.summary(row) for row in store.runs(workflow, status, limit)]

    @contained
    def resume(self, run_id: str, allow_changed: bool = False) -> RunResult:
        """Continue a crashed, failed or interrupted run of this interpreter's store (a
        unique id prefix will do), with this interpreter's host functions; as `dana
        resume` (docs/store.md "Resume"). Raises DanaError as `load` and `run` do."""
        store = self._store()
        try:
            run_id = store.find(run_id)
        except StoreError as exc:
            raise UsageError.of(U.STORE_PROBLEM, problem=exc) from None
        session = Session(check=False, store=store)
        result = resume_run(run_id, session, allow_changed, runtime=self.runtime)
        return dataclasses.replace(result, output=self.converter.to_python(result.output))

    def _store(self) -> RunStore:
        if self.store is None:
            raise UsageError.of(U.NO_INTERPRETER_STORE)
        return self.store


def _host_step(interp: Interpreter, fn: Callable, label: str) -> Function:
    """A Dana `Function` wrapping `fn`, so the workflow runner treats it like a `def` step
    (input in the first parameter, the state in `state`, retry/timeout options)."""
    sig = inspect.signature(fn)
    params = [ParamSpec(p.name, _STATE_TYPE if p.name == "state" else ANY, False,
                        NO_DEFAULT if p.default is p.empty else p.default)
              for p in sig.parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    names = [p.name for p in params]
    conv = interp.converter

    def body(frame: list) -> int:
        args = {n: frame[FIRST_SLOT + i] for i, n in enumerate(names)}
        py_args = {n: (HostState(v, conv, interp.globals) if n == "state" else
                       conv.to_python(v)) for n, v in args.items()}
        frame[1] = conv.to_dana(_host_call(fn, [], py_args), interp.globals)
        return RETURN
    span = Span(SourceFile(f"<python {label}>", ""), 0, 0)
    return Function(label, params, None, body, FIRST_SLOT + len(params), [], interp.runtime, span,
                    inspect.getdoc(fn))


def _host_call(fn: Callable, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Call host code; a Python exception becomes the matching Dana error (ValueError,
    KeyError, ...; `Error` for any other exception type)."""
    try:
        return fn(*args, **kwargs)
    except DanaError:
        raise
    except Exception as exc:
        try:
            mapped = host_error(exc, None)
        except Exception:
            mapped = runtime_error(R.HOST_FAILED, type=type(exc).__name__, reason=exc)
        raise mapped from exc


class HostState:
    """The workflow state as a Python step sees it: `state["key"]` reads (as Python
    values), `state["key"] = value` writes into the step's transaction, `"key" in state`,
    `state.get(key, default)`, `state.version`."""

    def __init__(self, view: Any, conv: Converter, namespace: dict[str, Any]) -> None:
        self._view, self._conv, self._ns = view, conv, namespace

    def __getitem__(self, key: str) -> Any:
        return self._conv.to_python(self._view.dana_getattr(key))

    def __setitem__(self, key: str, value: Any) -> None:
        self._view.dana_setattr(key, self._conv.to_dana(value, self._ns))

    def __contains__(self, key: str) -> bool:
        return key in self._view

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    @property
    def version(self) -> int:
        return self._view.dana_getattr("version")

    def __repr__(self) -> str:
        return repr(self._view)


class FinalState:
    """A finished run's state as Python sees it (`RunResult.state` from the embedding
    API): `state["key"]`, `state.get(key, default)`, `"key" in state`, `state.keys()` and
    `state.as_dict()` give plain Python values (structs as dataclasses, as
    `RunResult.output`); `state.version` and `state.history()` as in Dana. Read-only."""

    def __init__(self, view: Any, conv: Converter) -> None:
        self._view, self._conv = view, conv

    def __getitem__(self, key: str) -> Any:
        return self._conv.to_python(self._view[key])

    def __contains__(self, key: str) -> bool:
        return key in self._view

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def keys(self) -> list[str]:
        return list(self._view.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {k: self._conv.to_python(v) for k, v in self._view.as_dict().items()}

    @property
    def version(self) -> int:
        return self._view.version

    def history(self) -> list[dict[str, Any]]:
        return self._view.history()

    def __repr__(self) -> str:
        return repr(self._view)


class Module:
    """A loaded Dana file. Attributes are its top-level names: functions and struct types
    are callable from Python (arguments and results converted), workflows run when called
    with state keywords; other values come back converted."""

    def __init__(self, interp: Interpreter, value: ModuleValue) -> None:
        self._interp = interp
        self._value = value

    @property
    def name(self) -> str:
        return self._value.name

    @property
    def namespace(self) -> dict[str, Any]:
        """The module's raw Dana namespace (Dana values, not converted)."""
        return self._value.namespace

    def __repr__(self) -> str:
        return f"<dana module {self.name}>"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.namespace))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            value = self.namespace[name]
        except KeyError:
            raise AttributeError(f"Dana module {self.name!r} has no name {name!r}") from None
        return self._wrap(name, value)

    def _wrap(self, name: str, value: Any) -> Any:
        interp, ns = self._interp, self.namespace
        if isinstance(value, WorkflowTemplate):
            @contained
            def run_workflow(config: dict[str, Any] | None = None, **state: Any) -> RunResult:
                return interp.run(value, ns, config, **state)
            run_workflow.__name__ = name
            run_workflow.__doc__ = value.docstring
            return run_workflow
        if isinstance(value, (Function, StructType)):
            conv = interp.converter

            @contained
            def call(*args: Any, **kwargs: Any) -> Any:
                result = value(*[conv.to_dana(a, ns) for a in args],
                               **{k: conv.to_dana(v, ns) for k, v in kwargs.items()})
                return conv.to_python(result)
            call.__name__ = name
            call.__doc__ = getattr(value, "docstring", None)
            return call
        return interp.converter.to_python(value)

    def run(self, workflow: str, config: dict[str, Any] | None = None,
            **state: Any) -> RunResult:
        """Run workflow `workflow` of this module with the given state keys; returns the
        RunResult (`status`, `output` as Python, `state`, `error`, `run_id`, `history()`).
        A failed step does not raise: check `result.status`; `result.exception` holds
        the DanaError. Invalid inputs raise DanaError."""
        template = self.namespace.get(workflow)
        if not isinstance(template, WorkflowTemplate):
            known = sorted(k for k, v in self.namespace.items()
                           if isinstance(v, WorkflowTemplate))
            raise UsageError.of(U.NO_SUCH_WORKFLOW if known else U.NO_WORKFLOW_AT_ALL,
                                name=f"module {self.name}", workflow=workflow,
                                names=", ".join(known))
        return self._interp.run(template, self.namespace, config, **state)


__all__ = ["Interpreter", "Module", "Limits", "render", "exec_chunk", "expression_module",
           "Converter", "RESULT_NAME"]
