"""The `dana` command: run, check, repl, version (DESIGN §5).

Consumes: command-line arguments.
Produces: program output on stdout, diagnostics and progress on stderr, and exit codes:
0 ok, 1 runtime error (or a failed run), 2 usage, syntax, type or input-state error.
This is the only module that prints diagnostics or exits; a Python traceback is shown
only with `--debug` (or for an internal error, which is a bug in Dana).
"""

from __future__ import annotations

import argparse
import sys
import threading
import traceback
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable

from dana.diagnostics import render_error, to_json
from dana.errors import DanaError, DanaRuntimeError
from dana import pipeline
from dana.runtime.interpreter import INTERRUPT

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE = 0, 1, 2
STACK_BYTES = 512 * 1024 * 1024
RECURSION_LIMIT = 200_000


def _version() -> str:
    try:
        return version("dana-lang")
    except PackageNotFoundError:
        return "0+unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dana", description="Dana: a small typed language for durable workflows.",
        epilog="Run `dana COMMAND --help` for the options of a command.")
    parser.add_argument("--version", action="version", version=f"dana {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a .dana file (or one workflow in it)",
                         description="Run a Dana file's top-level code, or one workflow of it "
                                     "with --workflow. Program output goes to stdout; "
                                     "diagnostics and progress go to stderr.")
    run.add_argument("file", help="the .dana or .na file")
    run.add_argument("--workflow", metavar="NAME",
                     help="run workflow NAME (only declarations and assignments at top "
                          "level are executed first)")
    run.add_argument("--state", metavar="JSON_FILE",
                     help="initial workflow state: a JSON object of state keys")
    run.add_argument("--config", metavar="JSON_FILE",
                     help="workflow parameters: a JSON object")
    run.add_argument("--no-check", action="store_true", help="skip the static type checker")
    run.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    run.add_argument("--debug", action="store_true", help="show Python tracebacks")

    check = sub.add_parser("check", help="check files without running them",
                           description="Parse and type-check Dana files; exit 2 if any "
                                       "error is found.")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--debug", action="store_true", help="show Python tracebacks")

    repl = sub.add_parser("repl", help="start the interactive REPL",
                          description="An interactive Dana session.")
    repl.add_argument("--debug", action="store_true", help="show Python tracebacks")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `dana` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command is None:
        args.command, args.debug = "repl", False
    handler = {"run": cmd_run, "check": cmd_check, "repl": cmd_repl}[args.command]
    code = _in_big_stack(lambda: _guarded(handler, args))
    sys.stdout.flush()
    return code


def _in_big_stack(fn: Callable[[], int]) -> int:
    """Run `fn` on a thread with a large stack so deep Dana recursion hits Dana's own
    depth limit (a LimitError), not the C stack."""
    result: list[int] = [EXIT_RUNTIME]
    threading.stack_size(STACK_BYTES)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    worker = threading.Thread(target=lambda: result.__setitem__(0, fn()), name="dana-main")
    worker.start()
    while worker.is_alive():
        try:
            worker.join(0.2)
        except KeyboardInterrupt:
            INTERRUPT.set()
    return result[0]


def _guarded(handler: Callable[[Any], int], args: Any) -> int:
    try:
        return handler(args)
    except DanaError as exc:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(render_error(exc), file=sys.stderr)
        return EXIT_RUNTIME if isinstance(exc, DanaRuntimeError) else EXIT_USAGE
    except KeyboardInterrupt:
        print("dana: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug in Dana itself, not in the user's program
        traceback.print_exc()
        print("dana: internal error (this is a bug in Dana; please report it with the "
              "traceback above)", file=sys.stderr)
        return 3


def cmd_run(args: Any) -> int:
    session = pipeline.Session(check=not args.no_check,
                               on_event=None if args.quiet else _progress)
    if args.workflow is None:
        if args.state or args.config:
            raise_usage("--state and --config need --workflow NAME")
        pipeline.run_file(args.file, session)
        return EXIT_OK
    state = pipeline.load_json_file(args.state, "--state") if args.state else {}
    config = pipeline.load_json_file(args.config, "--config") if args.config else {}
    result = pipeline.run_workflow_file(args.file, args.workflow, session, state, config)
    if result.status != "succeeded":
        print(render_error(result.exception), file=sys.stderr)
        print(f"run {result.run_id} failed in step `{result.error['step']}`", file=sys.stderr)
        return EXIT_RUNTIME
    if result.output is not None:
        print(result.output)
    return EXIT_OK


def raise_usage(message: str) -> None:
    from dana.errors import UsageError
    raise UsageError(message, code="E0600")


def _progress(event: dict) -> None:
    kind = event["event"]
    if kind == "step_succeeded":
        print(f"  ✓ {event['path']} ({event['duration']:.3f} s, state v{event['version']})",
              file=sys.stderr)
    elif kind == "step_retried":
        print(f"  ↻ {event['path']} attempt {event['attempt']} failed: {event['error']}: "
              f"{event['message']}; retrying", file=sys.stderr)
    elif kind == "step_skipped":
        print(f"  ↷ {event['path']} skipped after {event['error']}", file=sys.stderr)
    elif kind == "workflow_started":
        print(f"▶ workflow {event['workflow']} (run {event['run_id']})", file=sys.stderr)
    elif kind in ("workflow_completed", "workflow_failed"):
        word = "completed" if kind == "workflow_completed" else "FAILED"
        print(f"■ workflow {event['workflow']} {word} in {event['duration']:.3f} s",
              file=sys.stderr)


def cmd_check(args: Any) -> int:
    diagnostics = []
    failed = False
    for path in args.files:
        try:
            source = pipeline.read_source(path)
            diagnostics.extend(pipeline.check_module(pipeline.parse_source(source)))
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
        print(f"{len(args.files)} file(s) checked: {count} error(s)", file=sys.stderr)
    return EXIT_USAGE if failed else EXIT_OK


def cmd_repl(args: Any) -> int:
    from dana.cli.repl import run_repl
    return run_repl()


if __name__ == "__main__":
    sys.exit(main())
