"""Compose the phases — read, parse, check, run — for the CLI, the REPL, tests and embedders.

Consumes: file paths or source text, host settings.
Produces: `read_source`, `parse_source`, `check_module` (the type checker's diagnostics,
when the checker is installed), `run_file` and `run_workflow_file`; every failure a user
can cause is raised as a `DanaError` (never printed or exited here: only the CLI does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TextIO

from dana.errors import ERROR, DanaCheckError, DanaError, Diagnostic, UsageError
from dana.source import SourceFile
from dana.syntax import ast as A
from dana.syntax.builder import parse
from dana.resources import find_module, module_source, stdlib_dir
from dana.runtime import hostlib
from dana.runtime.interpreter import Limits, Runtime, run_module
from dana.workflow.template import RunResult, WorkflowTemplate

DECLARATIONS = (A.FuncDef, A.StructDef, A.InterfaceDef, A.WorkflowDef, A.WorkflowCompose,
                A.Import, A.FromImport, A.Assign, A.AnnAssign)


def read_source(path: str | Path) -> SourceFile:
    """Read a `.dana`/`.na` file. Raises UsageError (E0601) when it cannot be read."""
    p = Path(path)
    try:
        return SourceFile(str(path), p.read_text(encoding="utf-8"), p.resolve())
    except FileNotFoundError:
        raise UsageError(f"file not found: {path}", code="E0601") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a Dana file", code="E0601") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", code="E0601") from None


def parse_source(source: SourceFile) -> A.Module:
    """Parse; raises DanaSyntaxError."""
    return parse(source)


def check_module(module: A.Module) -> list[Diagnostic]:
    """The static checker's diagnostics for `module`. Standard-library modules also see
    their host functions (`dana.runtime.hostlib`)."""
    from dana.types.checker import check_module as checker
    path = module.span.source.path
    host = hostlib.host_types() if path is not None and path.is_relative_to(stdlib_dir()) else None
    return list(checker(module, host_functions=host, resolve_import=_parse_import).diagnostics)


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
    """What a run needs from its host: output streams, limits, event listeners, where the
    checker's warnings go (`on_warning`; None: dropped), and optionally the monotonic
    `clock` (seconds) and `sleep` of the runtime (tests inject a virtual clock so retries'
    backoff never sleeps for real)."""

    stdout: TextIO | None = None
    stderr: TextIO | None = None
    limits: Limits | None = None
    on_event: Callable[[dict], None] | None = None
    check: bool = True
    clock: Callable[[], float] | None = None
    sleep: Callable[[float], None] | None = None
    on_warning: Callable[[Diagnostic], None] | None = None

    def runtime(self, source: SourceFile) -> Runtime:
        folder = source.path.parent if source.path else Path.cwd()
        timing = {k: v for k, v in (("clock", self.clock), ("sleep", self.sleep)) if v}
        rt = Runtime(self.limits, allow_read=(folder,), stdout=self.stdout, stderr=self.stderr,
                     **timing)
        if self.on_event is not None:
            rt.listeners.append(self.on_event)
        return rt


def load(path: str | Path, session: Session) -> tuple[SourceFile, A.Module]:
    """Read, parse and (unless `session.check` is false) check one file."""
    source = read_source(path)
    module = parse_source(source)
    if session.check:
        diagnostics = check_module(module)
        raise_on_errors(diagnostics)
        if session.on_warning is not None:
            for warning in sorted(diagnostics, key=_position):
                session.on_warning(warning)
    return source, module


def run_file(path: str | Path, session: Session) -> None:
    """`dana run FILE`: run the top-level code. Raises the DanaError that stopped it."""
    source, module = load(path, session)
    run_module(session.runtime(source), module)


def run_workflow_file(path: str | Path, workflow: str, session: Session,
                      state: dict[str, Any] | None = None,
                      config: dict[str, Any] | None = None) -> RunResult:
    """`dana run FILE --workflow NAME`: execute the file's declarations and assignments
    (other top-level statements are skipped), then run workflow NAME with `state` (JSON
    values, converted to the declared struct types) and `config`."""
    source, module = load(path, session)
    declarations = tuple(s for s in module.body if isinstance(s, DECLARATIONS))
    rt = session.runtime(source)
    namespace = run_module(rt, A.Module(module.span, declarations)).namespace
    template = namespace.get(workflow)
    if not isinstance(template, WorkflowTemplate):
        known = sorted(k for k, v in namespace.items() if isinstance(v, WorkflowTemplate))
        raise UsageError(f"{path} has no workflow `{workflow}`"
                         + (f"; it defines: {', '.join(known)}" if known else ""), code="E0602")
    converted = dict(state or {})
    for req in template.requires:
        if req.key in converted:
            try:
                converted[req.key] = req.from_json(converted[req.key])
            except DanaError:
                pass
    return rt.run_workflow(template, config or {}, **converted)

