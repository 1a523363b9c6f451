"""The `dana` command: run, check, graph, fmt, lsp, repl, version (docs/cli.md).

Consumes: command-line arguments and the environment (for `${VAR}` in `--config` files).
Produces: program output (or a diagram) on stdout; diagnostics and progress on stderr; an
optional JSON-lines event log; exit codes 0 ok, 1 runtime error (or a failed run), 2 usage,
syntax, type or input error, 3 internal error.
This is the only module that prints diagnostics or exits; a Python traceback is shown
only with `--debug` (or for an internal error, which is a bug in Dana).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import os
import re
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from dana import pipeline
from dana.cli import fmt, lsp, provenance, runs
from dana.cli.watchdog import Watchdog
from dana.diagnostics import render_error, to_json
from dana.errors import DanaError, DanaRuntimeError, InternalError, UsageError
from dana.messages import usage as U
from dana.graph import FORMATS, graph_file
from dana.runtime.interpreter import INTERRUPT, SANDBOX_LIMITS, Limits

if TYPE_CHECKING:  # annotations only: the event records load with the runner
    from dana.workflow.events import Listener, RunEvent
    from dana.workflow.runner import StateValidationError

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by it
STACK_BYTES = 512 * 1024 * 1024
HANDLERS: dict[str, Callable[[Any], int]] = {}  # the durable-run commands (dana.cli.runs)
RECURSION_LIMIT = 200_000


class _VersionAction(argparse.Action):
    """`--version`: the installed package's version, read only when asked for
    (importlib.metadata costs start-up every other command would pay)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"dana {_version()}")
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("dana-lang")
    except PackageNotFoundError:
        return "0+unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dana", description="Dana: a small typed language for durable workflows.",
        epilog="Run `dana COMMAND --help` for the options of a command. Exit codes: 0 ok, "
               "1 runtime error or failed run, 2 usage, syntax, type or input error, "
               "3 internal error.")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(sub)
    _add_check(sub)
    _add_graph(sub)
    fmt.add_parser(sub)
    HANDLERS.update(runs.add_commands(sub, add_execution_options))
    HANDLERS.update(provenance.add_commands(sub))
    lsp.add_parser(sub)
    repl = sub.add_parser("repl", help="start the interactive REPL",
                          description="An interactive Dana session.")
    repl.add_argument("--debug", action="store_true", help="show Python tracebacks")
    for command in sub.choices.values():  # so a mistake is reported with its own usage
        command.set_defaults(command_parser=command)
    return parser


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The parsed command line. An argument the command does not know is reported with the
    command's usage (`dana run: ... did you mean --workflow?`), exit 2."""
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:
        command = getattr(args, "command_parser", None) or build_parser()
        known = re.findall(r"--[\w-]+", command.format_help())
        hint = difflib.get_close_matches(unknown[0].split("=")[0], known, n=1)
        command.error(f"unrecognized arguments: {' '.join(unknown)}"
                      + (f" (did you mean {hint[0]}?)" if hint else ""))
    return args


def _add_run(sub: Any) -> None:
    run = sub.add_parser("run", help="run a .dana file (or one workflow in it)",
                         description="Run a Dana file's top-level code, or one workflow of it "
                                     "with --workflow. Program output goes to stdout; "
                                     "diagnostics and progress go to stderr.")
    run.add_argument("file", help="the .dana or .na file")
    run.add_argument("--workflow", metavar="NAME",
                     help="run workflow NAME (the file's definitions and constants load "
                          "first; no other top-level code runs)")
    run.add_argument("--state", metavar="FILE",
                     help="initial workflow state: a mapping of state keys in a .yaml, "
                          ".yml, .toml or .json file")
    run.add_argument("--config", metavar="FILE",
                     help="workflow parameters: a mapping of parameter names in a .yaml, "
                          ".yml, .toml or .json file; ${VAR} and ${VAR:-default} in its "
                          "strings are replaced from the environment ($${ is a literal ${)")
    run.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                     help="override one parameter (repeatable; wins over --config). VALUE "
                          "is read as YAML: --set lr=0.1 --set name=x --set tags=[a,b]; a "
                          "dotted KEY (opt.lr=0.1) sets a key inside a mapping")
    run.add_argument("--explain", action="store_true",
                     help="before the run, print on stderr which cache=True steps will be "
                          "restored from the store and why the others will run (then run "
                          "as usual)")
    add_execution_options(run)
    runs.add_store_options(run, run=True)


def add_execution_options(run: Any) -> None:
    """The options of how a run executes, shared by `dana run` and `dana resume`."""
    run.add_argument("--events", metavar="FILE",
                     help="append every run event to FILE as one JSON object per line "
                          "(works with --quiet)")
    run.add_argument("--executor", metavar="KIND", default="threads",
                     help="where parallel branches run: threads (default), processes[:N] "
                          "(a local process pool, for CPU-bound Dana code), dask (a local "
                          "Dask cluster started for the run) or dask://HOST:PORT (an "
                          "existing Dask scheduler); see docs/distributed.md")
    run.add_argument("--workers", metavar="N", type=int,
                     help="worker processes of --executor processes or dask (default: one "
                          "per core)")
    run.add_argument("--otel", action="store_true",
                     help="send an OpenTelemetry span per run and per step over OTLP/HTTP "
                          "(endpoint from OTEL_EXPORTER_OTLP_ENDPOINT, which also turns "
                          "tracing on; needs pip install 'dana-lang[otel]')")
    cache = run.add_mutually_exclusive_group()
    cache.add_argument("--no-cache", action="store_true",
                       help="run every cache=True step and store no cache entry")
    cache.add_argument("--refresh-cache", action="store_true",
                       help="run every cache=True step and replace its cache entry")
    _add_permissions(run)
    _add_limits(run)
    run.add_argument("--no-check", action="store_true", help="skip the static type checker")
    run.add_argument("--quiet", action="store_true",
                     help="no progress on stderr (diagnostics are still shown)")
    run.add_argument("--debug", action="store_true", help="show Python tracebacks")


def _add_permissions(run: Any) -> None:
    group = run.add_argument_group(
        "permissions", "By default a program may read and write files under its own folder "
        "(the script's directory tree) and nowhere else, and may not read the environment.")
    group.add_argument("--allow-read", metavar="PATH", action="append", default=[],
                       help="also allow reading files under PATH (repeatable)")
    group.add_argument("--allow-write", metavar="PATH", action="append", default=[],
                       help="also allow writing files under PATH (repeatable)")
    group.add_argument("--allow-env", metavar="NAME", action="append", default=[],
                       help="allow reading environment variable NAME with getenv() "
                            "(repeatable)")
    group.add_argument("--sandbox", action="store_true",
                       help="for a file you did not write: reading only under its folder, "
                            "no writing, no environment (the --allow-* flags still add), "
                            "and resource limits on")


def _explainer(args: Any) -> Callable[[list], None] | None:
    """`dana run --explain`: the printer of each run's cache forecast (None without it)."""
    if not getattr(args, "explain", False):
        return None
    if args.ephemeral:
        print("explain: an --ephemeral run has no store cache to forecast", file=sys.stderr)
    return provenance.print_forecast


def _cache_mode(args: Any) -> str:
    """"off", "refresh" or "use" (dana.workflow.store_cache.CacheMode)."""
    return "off" if args.no_cache else "refresh" if args.refresh_cache else "use"


def _add_limits(run: Any) -> None:
    group = run.add_argument_group(
        "limits", "A program over a limit stops with a LimitError that Dana code cannot "
        "catch. Without these flags only the default operation budget applies; with "
        "--sandbox the defaults are 10 s, 10^8 operations and 512 MiB.")
    group.add_argument("--timeout", metavar="SECONDS", type=float,
                       help="stop the whole run after SECONDS of wall time")
    group.add_argument("--max-operations", metavar="N", type=int,
                       help="stop after N operations (loop iterations and calls)")
    group.add_argument("--max-memory", metavar="MIB", type=int,
                       help="stop when the process holds more than MIB mebibytes")


def _limits(args: Any) -> Limits | None:
    """The limits the flags ask for (None: the runtime's defaults)."""
    given = {name: value for name, value in (("timeout_s", args.timeout),
                                              ("max_operations", args.max_operations),
                                              ("max_memory_mb", args.max_memory))
             if value is not None}
    if not given and not args.sandbox:
        return None
    for name, value in given.items():
        if value <= 0:
            flag = {"timeout_s": "--timeout", "max_operations": "--max-operations",
                    "max_memory_mb": "--max-memory"}[name]
            raise UsageError.of(U.NOT_POSITIVE, flag=flag, value=value)
    return dataclasses.replace(SANDBOX_LIMITS if args.sandbox else Limits(), **given)


def _grants(args: Any) -> pipeline.Grants:
    return pipeline.Grants(read=tuple(args.allow_read), write=tuple(args.allow_write),
                           env=tuple(args.allow_env), sandbox=args.sandbox)


def _add_check(sub: Any) -> None:
    check = sub.add_parser("check", help="check files without running them",
                           description="Parse and type-check Dana files; exit 2 if any "
                                       "error is found.")
    check.add_argument("files", nargs="+", metavar="FILE",
                       help="the .dana or .na files; a directory means every such file under it")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text: diagnostics on stderr (default); json: a JSON array of "
                            "diagnostics on stdout")
    check.add_argument("--debug", action="store_true", help="show Python tracebacks")


def _add_graph(sub: Any) -> None:
    graph = sub.add_parser(
        "graph", help="draw a workflow as a Mermaid or Graphviz DOT diagram",
        description="Print a diagram of one workflow of a Dana file: its steps, loops, "
                    "branches, parallel blocks, handlers and sub-workflows. Nothing runs.")
    graph.add_argument("file", help="the .dana or .na file")
    graph.add_argument("--workflow", metavar="NAME",
                       help="the workflow to draw (may be left out when the file declares "
                            "only one)")
    graph.add_argument("--format", choices=FORMATS, default="mermaid",
                       help="mermaid: a Mermaid `flowchart TD` (default); dot: Graphviz "
                            "input (render with `dot -Tsvg`)")
    graph.add_argument("--output", "-o", metavar="FILE",
                       help="write the diagram to FILE instead of stdout")
    graph.add_argument("--debug", action="store_true", help="show Python tracebacks")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `dana` console script; returns the exit code."""
    args = parse_arguments(argv)
    if args.command is None:
        args.command, args.debug = "repl", False
    handler = {"run": cmd_run, "check": cmd_check, "graph": cmd_graph,
               "repl": cmd_repl, "fmt": fmt.cmd_fmt, "lsp": lsp.cmd_lsp,
               **HANDLERS}[args.command]
    args.started = _process_start()  # `dana run --timeout` counts from here
    args.watchdog = _watchdog(args)
    code = _in_big_stack(lambda: _guarded(handler, args), args.watchdog)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _stdout_closed()
    return code


def _stdout_closed() -> int:
    """The reader of stdout went away (`dana run x.dana | head`): stop quietly, like a
    process killed by SIGPIPE (exit 141), without a second error when Python flushes."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def _process_start() -> float:
    """When this process started, on the monotonic clock (Linux: from /proc/self/stat, so
    Python's own start-up counts; elsewhere: now)."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            ticks = int(stat.read().rsplit(b")", 1)[1].split()[19])  # field 22, starttime
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
        return time.monotonic() - min(max(age, 0.0), 60.0)
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic()


def _watchdog(args: Any) -> Watchdog | None:
    """The watchdog of a `dana run` with a timeout (--timeout, or --sandbox's default)."""
    if args.command != "run":
        return None
    seconds = args.timeout or (SANDBOX_LIMITS.timeout_s if args.sandbox else None)
    return Watchdog(args.started, seconds) if seconds and seconds > 0 else None


def _in_big_stack(fn: Callable[[], int], watchdog: Watchdog | None = None) -> int:
    """Run `fn` on a thread with a large stack so deep Dana recursion hits Dana's own
    depth limit (a LimitError), not the C stack. Ctrl-C in the main thread sets
    INTERRUPT, which the running program checks every few loop iterations and calls.
    A `watchdog` past its deadline ends the process (dana/cli/watchdog.py)."""
    result: list[int] = [EXIT_RUNTIME]
    done = threading.Event()

    def target() -> None:
        try:
            result[0] = fn()
        finally:
            done.set()

    threading.stack_size(STACK_BYTES)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    thread = threading.Thread(target=target, name="dana-main", daemon=True)
    thread.start()
    # Wait on an Event, not Thread.join: on Python 3.11 a join interrupted by Ctrl-C
    # leaves the thread reported as finished while it still runs.
    while not done.is_set():
        try:
            done.wait(0.1)
        except KeyboardInterrupt:
            INTERRUPT.set()
        if watchdog is not None and not done.is_set() and watchdog.overdue():
            watchdog.stop(thread, EXIT_RUNTIME)
    return result[0]


def _guarded(handler: Callable[[Any], int], args: Any) -> int:
    try:
        return handler(args)
    except InternalError as exc:  # a bug in Dana met while handling the program
        _internal(exc)
        return EXIT_INTERNAL
    except DanaError as exc:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(render_error(exc), file=sys.stderr)
        return EXIT_RUNTIME if isinstance(exc, DanaRuntimeError) else EXIT_USAGE
    except KeyboardInterrupt:
        print("dana: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _stdout_closed()
    except Exception:  # a bug in Dana itself, not in the user's program
        traceback.print_exc()
        print("dana: internal error (this is a bug in Dana; please report it with the "
              "traceback above)", file=sys.stderr)
        return EXIT_INTERNAL


def _internal(exc: InternalError) -> None:
    """The traceback of the crash behind `exc` (for the bug report), then `exc` itself."""
    traceback.print_exception(exc.__cause__ or exc, file=sys.stderr)
    print(render_error(exc), file=sys.stderr)


def cmd_run(args: Any) -> int:
    if args.workflow is None and (args.state or args.config or args.set):
        raise UsageError.of(U.NEEDS_WORKFLOW)
    config = state = {}
    if args.workflow:  # config files need pydantic, yaml and tomllib: a plain script does not
        from dana.config import load_config, load_data_file
        config = load_config(args.config, args.set, os.environ)
        state = load_data_file(args.state, "--state") if args.state else {}

    def start(session: pipeline.Session) -> Any:
        if args.workflow is None:
            return pipeline.run_file(args.file, session)
        return _run_workflow(args, session, state, config)
    return execute_run(args, runs.Recorder(args), start)


def execute_run(args: Any, recorder: runs.Recorder,
                start: Callable[[pipeline.Session], Any]) -> int:
    """Run what `start(session)` runs with the executor and the listeners the options
    ask for, recording it in `recorder`'s store; print the output, or the failure and
    how to resume it (`dana run`, `dana resume`)."""
    executor = None  # parallel branches on threads, unless another executor is asked for
    if args.executor != "threads" or args.workers is not None:
        from dana.distributed import make_executor, parse_executor
        executor = make_executor(parse_executor(args.executor, args.workers))
    listeners: list[Any] = []
    if getattr(args, "watchdog", None) is not None:
        args.watchdog.on_stop(recorder.abandon)
    try:
        if args.events:
            listeners.append(EventLog(args.events))
        if not args.quiet:
            listeners.append(_LazyProgress())
        from dana.workflow.tracing import tracing_requested  # a small module, no SDK
        if tracing_requested(args.otel):
            listeners.append(_span_listener())
        session = pipeline.Session(check=not args.no_check, grants=_grants(args),
                                   limits=_limits(args),
                                   on_event=_fan_out(listeners) if listeners else None,
                                   on_warning=_print_warning, executor=executor,
                                   store=recorder.opener(), on_run_start=recorder.started,
                                   cache_mode=_cache_mode(args),
                                   on_explain=_explainer(args),
                                   started=getattr(args, "started", None))
        try:
            result = start(session)
        except (KeyboardInterrupt, DanaRuntimeError):
            recorder.hint()
            raise
        if result is None:
            return EXIT_OK
    finally:
        for listener in listeners:
            listener.close()
        if executor is not None:
            executor.close()
    if result.status != "succeeded":
        print(render_error(result.exception), file=sys.stderr)
        print(f"run {result.run_id} failed in step `{result.error['step']}`", file=sys.stderr)
        recorder.hint()
        return EXIT_RUNTIME
    if result.output is not None:
        print(result.output)
    return EXIT_OK


def _run_workflow(args: Any, session: pipeline.Session, state: dict[str, Any],
                  config: dict[str, Any]) -> Any:
    """`dana run FILE --workflow NAME`; bad input state or config notes where it was given."""
    from dana.workflow.runner import StateValidationError
    try:
        return pipeline.run_workflow_file(args.file, args.workflow, session, state, config)
    except StateValidationError as exc:
        raise _with_origins(exc, args) from None


class _LazyProgress:
    """The progress listener, made (importing rich) at the first event: a script that runs
    no workflow never loads rich."""

    def __init__(self) -> None:
        self._listener: Any = None

    def __call__(self, event: RunEvent) -> None:
        if self._listener is None:
            from dana.cli.progress import progress_listener
            self._listener = progress_listener()
        self._listener(event)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()


def _span_listener() -> Any:
    """The `--otel` listener: spans through an OTLP exporter, flushed when it closes."""
    from dana.workflow.tracing import SpanRecorder, TracingUnavailable, otlp_provider
    try:
        return SpanRecorder(otlp_provider(), owns_provider=True)
    except TracingUnavailable:
        raise UsageError.of(U.NO_OTEL) from None


def _fan_out(listeners: list[Listener]) -> Listener:
    def emit(event: dict) -> None:
        for listener in listeners:
            listener(event)
    return emit


class EventLog:
    """`--events FILE`: each event appended as one JSON line and flushed at once, so a
    concurrent reader (`tail -f`) sees whole lines. Thread-safe. Raises UsageError (E0601)
    when FILE cannot be opened."""

    def __init__(self, path: str) -> None:
        try:
            self._file = open(path, "a", encoding="utf-8")
        except OSError as exc:
            raise UsageError.of(U.CANNOT_OPEN_EVENTS, path=path, reason=exc.strerror) from None
        self._lock = threading.Lock()

    def __call__(self, event: RunEvent) -> None:
        line = json.dumps(dict(event), default=str, ensure_ascii=False) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def _print_warning(diagnostic: Any) -> None:
    """A checker warning (the program still runs): rendered on stderr like an error."""
    from dana.diagnostics import render
    print(render(diagnostic) + "\n", file=sys.stderr)


def _with_origins(exc: StateValidationError, args: Any) -> StateValidationError:
    """The same problems, each noting where its config value or state key was given."""
    from dana.config import origin
    from dana.workflow.runner import StateValidationError
    notes = []
    for diagnostic, (kind, key) in zip(exc.diagnostics, exc.inputs):
        given = origin(key, args.config, args.set) if kind == "config" else \
            origin(key, args.state)
        extra = (f"`{key}` was given {given}",) if given else ()
        notes.append(dataclasses.replace(diagnostic, notes=diagnostic.notes + extra))
    return StateValidationError(notes, exc.inputs)


def _dana_files(paths: list[str]) -> list[str]:
    """The files to check: each FILE as given, each directory as every `.dana`/`.na` file
    under it (recursively, sorted)."""
    out: list[str] = []
    for path in paths:
        if Path(path).is_dir():
            out.extend(sorted(str(p) for p in Path(path).rglob("*")
                              if p.suffix in (".dana", ".na") and p.is_file()))
        else:
            out.append(path)
    return out


def cmd_check(args: Any) -> int:
    diagnostics = []
    failed = internal = False
    files = _dana_files(args.files)
    for path in files:
        try:
            pipeline.prepare(pipeline.read_source(path), on_warning=diagnostics.append)
        except InternalError as exc:  # the other files are still checked
            _internal(exc)
            internal = True
        except DanaError as exc:
            diagnostics.extend(exc.diagnostics)
            failed = True
    failed = failed or any(d.severity == "error" for d in diagnostics)
    if args.format == "json":
        print(to_json(diagnostics))
    else:
        from dana.diagnostics import render
        for d in diagnostics:
            print(render(d) + "\n", file=sys.stderr)
        count = sum(d.severity == "error" for d in diagnostics)
        print(f"{len(files)} file(s) checked: {count} error(s)", file=sys.stderr)
    return EXIT_INTERNAL if internal else EXIT_USAGE if failed else EXIT_OK


def cmd_graph(args: Any) -> int:
    text = graph_file(args.file, args.workflow, args.format)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError.of(U.CANNOT_WRITE, path=args.output, reason=exc.strerror) from None
    return EXIT_OK


def cmd_repl(args: Any) -> int:
    from dana.cli.repl import run_repl
    return run_repl()


if __name__ == "__main__":
    sys.exit(main())
