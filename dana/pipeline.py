"""Compose the phases — read, parse, check, run — for the CLI, the REPL, tests and embedders.

Consumes: file paths or source text, host settings.
Produces: `read_source`, `parse_source`, `analyze_module` / `check_module` (the type
checker with imports resolved), `prepare` (parse + check: the one front half that `dana
run`, the REPL and the embedding API all go through), `run_file` and `run_workflow_file`;
every failure a user can cause is raised as a `DanaError`, and a crash of the checker as
`InternalError` (never printed or exited here: only the CLI does).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, TextIO

from dana.errors import (ERROR, DanaCheckError, DanaError, DanaRuntimeError, Diagnostic,
                         InternalError, UsageError)
from dana.messages import checks as M
from dana.messages import internal as I
from dana.messages import usage as U
from dana.source import SourceFile
from dana.syntax import ast as A
from dana.syntax.builder import parse
from dana.resources import find_module, module_source, stdlib_dir
from dana.runtime import hostlib
from dana.runtime.interpreter import Limits, Runtime, run_module
from dana.runtime.permissions import Permissions
from dana.runtime.values import Builtin
from dana.workflow.template import RunResult, WorkflowTemplate

if TYPE_CHECKING:  # for annotations only: each of these loads when first used
    from dana.workflow.events import Listener, RunEvent
    from dana.types.checker import CheckResult
    from dana.store.runs import RunStore
    from dana.workflow.parallel import BranchExecutor

DECLARATIONS = (A.FuncDecl, A.StructDecl, A.InterfaceDecl, A.WorkflowDecl, A.WorkflowComposeDecl,
                A.ImportStmt, A.FromImportStmt, A.AssignStmt, A.AnnAssignStmt)


def read_source(path: str | Path) -> SourceFile:
    """Read a `.dana`/`.na` file. Raises UsageError (E0601) when it cannot be read."""
    p = Path(path)
    try:
        return SourceFile.from_bytes(str(path), p.read_bytes(), p.resolve())
    except FileNotFoundError:
        raise UsageError.of(U.FILE_NOT_FOUND, path=path) from None
    except IsADirectoryError:
        raise UsageError.of(U.IS_A_DIRECTORY, path=path) from None
    except OSError as exc:
        raise UsageError.of(U.CANNOT_READ, path=path, reason=exc) from None


def parse_source(source: SourceFile) -> A.Module:
    """Parse; raises DanaSyntaxError."""
    return parse(source)


def check_module(module: A.Module) -> list[Diagnostic]:
    """The static checker's diagnostics for `module` (`analyze_module`)."""
    return list(analyze_module(module).diagnostics)


def analyze_module(module: A.Module, scope: Any = None,
                   host: Mapping[str, Any] | None = None) -> "CheckResult":
    """Everything the checker found for `module`: diagnostics, the module's scope and each
    expression's type (what the language server shows). Imports resolve as they will at
    run time (`dana.resources.find_module`); `scope` continues an earlier chunk's scope
    (REPL, `Interpreter.exec`); `host` adds the signatures of host functions
    (standard-library modules always see theirs, `dana.runtime.hostlib`). Raises
    InternalError when the checker itself crashes (a bug in Dana, never "run unchecked")."""
    from dana.types.checker import check_module as checker
    path = module.span.source.path
    if path is not None and path.is_relative_to(stdlib_dir()):
        host = {**hostlib.host_types(), **(host or {})}
    try:
        return checker(module, scope=scope, host_functions=host, resolve_import=_parse_import)
    except DanaError:  # a broken imported module: its own syntax error
        raise
    except Exception as exc:
        raise InternalError.of(I.CHECKER_CRASHED, module.span,
                               error=f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class Prepared:
    """A parsed `module` that passed the checker (unless checking was off), with the
    checker's `scope` after it and its whole `result` (the side tables of types and
    symbols, docs/architecture.md "What checking produces"; both None unchecked): what the
    run phase consumes."""

    module: A.Module
    scope: Any = None
    result: "CheckResult | None" = None


def prepare(source: SourceFile, *, check: bool = True, scope: Any = None,
            host: Mapping[str, Any] | None = None,
            on_warning: Callable[[Diagnostic], None] | None = None,
            parser: Callable[[SourceFile], A.Module] = parse) -> Prepared:
    """THE front half of every door (`dana run`, `dana check`'s rules, the REPL, the
    embedding API): parse `source` (with `parser`: `parse`, or an expression's parser),
    check it with imports resolved (`analyze_module`; skipped when `check` is false),
    raise DanaCheckError when the checker reports an error, and pass its warnings, in
    source order, to `on_warning`. Raises DanaSyntaxError, DanaCheckError, InternalError."""
    module = parser(source)
    if not check:
        return Prepared(module, scope)
    result = analyze_module(module, scope, host)
    raise_on_errors(result.diagnostics)
    if on_warning is not None:
        for warning in sorted(result.diagnostics, key=_position):
            on_warning(warning)
    return Prepared(module, result.scope, result)


def _parse_import(name: str, importer: SourceFile) -> A.Module | None:
    """The parsed module `import name` would load (None when there is none), so the
    checker sees imported names and types. Raises DanaSyntaxError for a broken import."""
    path = find_module(name, importer)
    return None if path is None else parse(module_source(path, importer))


def raise_on_errors(diagnostics: list[Diagnostic]) -> None:
    """Raise DanaCheckError when any diagnostic is an error."""
    if any(d.severity == ERROR for d in diagnostics):
        raise DanaCheckError(sorted(diagnostics, key=_position))


def _position(d: Diagnostic) -> tuple:
    return (d.span.source.name, d.span.start) if d.span else ("", 0)


@dataclass
class Session:
    """What a run needs from its host: output streams, limits, what the program may touch
    (`permissions`, or `grants` relative to the script's folder; neither: read and write
    under that folder), event listeners, where the checker's warnings go
    (`on_warning`; None: dropped), and optionally the monotonic
    `clock` (seconds) and `sleep` of the runtime (tests inject a virtual clock so retries'
    backoff never sleeps for real), the `executor` of parallel branches (None:
    threads; see dana.distributed), the run `store` and what its step cache does
    (`cache_mode`: "use", "refresh" or "off"; dana.workflow.store_cache); `on_explain` is
    given each durable run's cache forecast before its first step (a list of
    dana.workflow.explain.Forecast; `dana run --explain`). `started` is the time (the
    runtime's clock, seconds) from which `limits.timeout_s` counts: `dana run` gives the
    command's start, so reading, parsing and checking count; None: each top-level run's
    start."""

    stdout: TextIO | None = None
    stderr: TextIO | None = None
    limits: Limits | None = None
    on_event: Listener | None = None
    check: bool = True
    clock: Callable[[], float] | None = None
    sleep: Callable[[float], None] | None = None
    on_warning: Callable[[Diagnostic], None] | None = None
    executor: BranchExecutor | None = None
    store: "RunStore | Callable[[], RunStore] | None" = None
    on_run_start: Callable[[str], None] | None = None
    permissions: Permissions | None = None
    grants: "Grants | None" = None
    cache_mode: str = "use"
    on_explain: Callable[[list], None] | None = None
    started: float | None = None

    def runtime(self, source: SourceFile) -> Runtime:
        timing = {k: v for k, v in (("clock", self.clock), ("sleep", self.sleep)) if v}
        rt = Runtime(self.limits, permissions=self.permissions_for(source),
                     stdout=self.stdout, stderr=self.stderr, **timing)
        if self.on_event is not None:
            rt.listeners.append(self.on_event)
        rt.executor = self.executor
        rt.started = self.started
        return rt

    def durable(self, rt: Runtime, module: A.Module, entry: str,
                namespace: dict[str, Any] | None = None) -> None:
        """Record `rt`'s workflow runs in the session's store (nothing without one; a
        store given as a function is opened by the first run)."""
        if self.store is None:
            return
        from dana.runtime.durable import Durable  # the store loads with the first run
        if rt.durable is None:
            rt.durable = Durable(self.store, entry=entry, on_start=self.on_run_start,
                                 cache_mode=self.cache_mode, on_explain=self.on_explain)
        rt.durable.entry = entry
        rt.durable.add_module(module, namespace)


    def permissions_for(self, source: SourceFile) -> Permissions:
        """`permissions` if given, else `grants` (default: none) applied to the script's
        folder; relative paths start at that folder."""
        folder = source.path.parent if source.path else Path.cwd()
        if self.permissions is None:
            return (self.grants or Grants()).permissions(folder)
        return dataclasses.replace(self.permissions, base=folder)


@dataclass(frozen=True)
class Grants:
    """What `dana run` was told to allow (docs/cli.md "Permissions"): by default
    reading and writing under the script's folder; `sandbox` takes writing away;
    `read`, `write` (paths) and `env` (variable names) add to either."""

    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    sandbox: bool = False

    def permissions(self, folder: Path) -> Permissions:
        """The permissions of a script in `folder`."""
        own_writes = () if self.sandbox else (folder,)
        return Permissions(read=(folder, *self.read), write=(*own_writes, *self.write),
                           env=self.env, base=folder)


def load(path: str | Path, session: Session) -> tuple[SourceFile, A.Module]:
    """Read one file and `prepare` it as `session` says (checked unless `session.check`
    is false)."""
    source, prepared = load_prepared(path, session)
    return source, prepared.module


def load_prepared(path: str | Path, session: Session) -> tuple[SourceFile, Prepared]:
    """`load`, keeping the checker's result (`Prepared.result`) for the compiler."""
    source = read_source(path)
    return source, prepare(source, check=session.check, on_warning=session.on_warning)


def run_file(path: str | Path, session: Session) -> RunResult | None:
    """`dana run FILE`: run the top-level code. A file of definitions only (every top-level
    statement a declaration, and none of them started a workflow run) then runs its only
    workflow and returns that run's result; otherwise returns None. Raises the DanaError
    that stopped the code, or UsageError (E0602) when such a file defines several
    workflows (docs/cli.md "dana run")."""
    source, prepared = load_prepared(path, session)
    module = prepared.module
    rt = session.runtime(source)
    namespace: dict[str, Any] = {}  # the store rebuilds cached structs from its types
    session.durable(rt, module, "toplevel", namespace)
    started: list[RunEvent] = []

    def first_event(event: RunEvent) -> None:  # a run started: that is all it needs to know
        started.append(event)
        _stop_listening(rt, first_event)  # events cost more while someone listens
    rt.listeners.append(first_event)
    try:
        run_module(rt, module, globals_=namespace, checked=prepared.result)
    finally:
        _stop_listening(rt, first_event)
    if started or not all(isinstance(s, DECLARATIONS) for s in module.body):
        return None
    kinds = (A.WorkflowDecl, A.WorkflowComposeDecl)
    declared = [s.name for s in module.body if isinstance(s, kinds)]
    if len(declared) > 1:
        raise UsageError.of(U.SEVERAL_WORKFLOWS, name=source.name, count=len(declared),
                            names=", ".join(declared))
    return rt.run_workflow(namespace[declared[0]]) if declared else None


def _stop_listening(rt: Runtime, listener: Listener) -> None:
    """Take `listener` off `rt`'s listeners if it is still there."""
    with contextlib.suppress(ValueError):
        rt.listeners.remove(listener)


class _RunRefused(Exception):
    """Top-level code tried to start a workflow run while only definitions load."""


def load_definitions(rt: Runtime, module: A.Module, checked: Any = None) -> dict[str, Any]:
    """The namespace of `module`'s declarations and assignments, run one statement at a
    time with their output muted; other top-level statements are skipped. An assignment
    that would start a workflow run (`r = run(etl)`) is skipped, and so is one that then
    fails on a name such an assignment left unbound (docs/cli.md "dana run"). Raises the
    DanaError of any other failing statement."""
    namespace: dict[str, Any] = {}
    unbound: set[str] = set()
    run, stdout = rt.builtins["run"], rt.stdout
    rt.builtins["run"], rt.stdout = Builtin("run", _refuse_run), io.StringIO()
    try:
        for stmt in module.body:
            if isinstance(stmt, DECLARATIONS):
                try:
                    run_module(rt, A.Module(module.span, (stmt,)), globals_=namespace,
                               checked=checked)
                except (_RunRefused, DanaRuntimeError) as exc:
                    if not _skippable(exc, unbound):
                        raise
                    unbound.update(_targets(stmt))
    finally:
        rt.builtins["run"], rt.stdout = run, stdout
    return namespace


def _refuse_run(*args: Any, **kwargs: Any) -> None:
    raise _RunRefused


def _skippable(exc: Exception, unbound: set[str]) -> bool:
    if isinstance(exc, _RunRefused):
        return True
    return isinstance(exc, DanaRuntimeError) and exc.dana_type == "NameError" and any(
        f"`{name}`" in exc.message for name in unbound)


def _targets(stmt: Any) -> set[str]:
    """The names an assignment binds (none for other declarations)."""
    targets = stmt.targets if isinstance(stmt, A.AssignStmt) else \
        (stmt.target,) if isinstance(stmt, A.AnnAssignStmt) else ()
    return set().union(*map(_names, targets))


def _names(target: A.Expr) -> set[str]:
    if isinstance(target, A.NameExpr):
        return {target.name}
    if isinstance(target, A.TupleExpr):
        return set().union(*map(_names, target.items))
    return set()


def run_workflow_file(path: str | Path, workflow: str, session: Session,
                      state: dict[str, Any] | None = None,
                      config: dict[str, Any] | None = None) -> RunResult:
    """`dana run FILE --workflow NAME`: load the file's definitions (`load_definitions`),
    then run workflow NAME with `state` (JSON values, converted to the declared struct
    types; `dana.workflow.inputs`) and `config`. Raises StateValidationError naming a bad
    struct field; a given key that nearly names a required one is warned about (E0417)."""
    source, prepared = load_prepared(path, session)
    module = prepared.module
    rt = session.runtime(source)
    namespace = load_definitions(rt, module, prepared.result)
    session.durable(rt, module, "workflow", namespace)
    template = namespace.get(workflow)
    if not isinstance(template, WorkflowTemplate):
        known = sorted(k for k, v in namespace.items() if isinstance(v, WorkflowTemplate))
        raise UsageError.of(U.NO_SUCH_WORKFLOW if known else U.NO_WORKFLOW_AT_ALL, name=path,
                            workflow=workflow, names=", ".join(known))
    from dana.workflow import inputs  # the workflow engine loads only when a workflow runs
    from dana.workflow.runner import StateValidationError
    converted, failures = inputs.convert_state(template, state or {})
    if session.on_warning is not None:
        for warning in inputs.unknown_keys(template, converted):
            session.on_warning(warning)
    try:
        return rt.run_workflow(template, config or {}, **converted)
    except StateValidationError as exc:
        raise inputs.with_fields(exc, template, failures) from None





class ChangedCode(DanaError):
    """`dana resume` of a run whose workflow code changed (docs/store.md "Changed code")."""

    code = M.CODE_CHANGED.code


def resume_run(run_id: str, session: Session, allow_changed: bool = False,
               runtime: Runtime | None = None) -> RunResult:
    """`dana resume RUN_ID`: load the run's file definitions (as `--workflow` does, in
    `runtime` if given: an embedding interpreter with its host functions), check that the
    code the workflow reaches is unchanged (ChangedCode naming what changed, unless
    `allow_changed`), then continue the run from its stored state and position with its
    stored initial state and config. Raises UsageError for a run that is not resumable,
    StoreError for a run live in another process."""
    from dana.runtime import workflows
    from dana.runtime.values import describe_type
    from dana.store.codec import decode
    from dana.store.settings import RESUMABLE
    from dana.workflow.journal import Journal
    store = session.store() if callable(session.store) else session.store
    assert store is not None, "resume_run needs a session with a store"
    row = store.get(run_id)
    status = store.status_of(row)
    if status not in RESUMABLE:
        raise UsageError.of(U.NOT_RESUMABLE, run=run_id, status=status.value)
    source, prepared = load_prepared(row.source or "", session)
    module = prepared.module
    rt = runtime or session.runtime(source)
    namespace = load_definitions(rt, module, prepared.result)
    template = _stored_template(namespace, row.workflow, row.source)
    what = _changed_code(row, module, template)
    if what and not allow_changed:
        raise ChangedCode.of(M.CODE_CHANGED, run=run_id, names=", ".join(what),
                             notes=(M.NOTE_ALLOW_CHANGED,))
    session.durable(rt, module, row.entry, namespace)
    struct = rt.durable.struct_builder()
    note = {"time": time.time(), "from_status": status.value, "changed": what}
    rt.durable.pending = Journal.resume(store, run_id, type_name_of=describe_type,
                                        struct=struct, note=note)
    return workflows.run(rt, template, decode(row.initial, struct), decode(row.config, struct))


def _stored_template(namespace: dict[str, Any], name: str, source: str | None) -> Any:
    for value in namespace.values():
        if isinstance(value, WorkflowTemplate) and value.name == name:
            return value
    raise UsageError.of(U.WORKFLOW_GONE, source=source, name=name)


def _changed_code(row: Any, module: A.Module, template: WorkflowTemplate) -> list[str]:
    """The definitions whose code differs from when the run started (the workflow's own
    name first when its text changed)."""
    from dana.store.codec import decode
    from dana.workflow.codehash import changed, code_hashes
    fallback = template.span.text if template.span else template.name
    template_hash, code = code_hashes(module, template.name, fallback)
    names = changed(decode(row.code), code)
    if template_hash != row.template_hash and template.name not in names:
        names.insert(0, template.name)
    return names
