"""The durable-run commands: `dana resume`, `runs`, `status`, `history`, `show`, `diff`,
`gc`, and the store options of `dana run` (docs/cli.md "Runs", docs/store.md).

Consumes: parsed command-line arguments, the environment (`DANA_STORE`) and the run store.
Produces: tables or JSON (`--format json`, shapes documented in docs/cli.md) on stdout;
diagnostics, the run id and the `dana resume` hint on stderr; exit codes as `dana run`.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from dana import pipeline
from dana.diagnostics import render_error
from dana.errors import LimitError, UsageError
from dana.messages import usage as U
from dana.store.settings import DEFAULT_PATH, DURABILITY, ENV_VAR, RunStatus

if TYPE_CHECKING:
    from dana.store.runs import RunStore

# dana.store.codec (msgspec) is imported by the commands that read stored values: `dana
# run` of a plain script registers these commands but loads no codec (tests/test_startup.py).

_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# ------------------------------------------------------------------ options
def add_store_options(parser: Any, *, run: bool) -> None:
    """`--store` (every command); `--durability` and, for `dana run`, `--ephemeral`."""
    parser.add_argument("--store", metavar="PATH",
                        help=f"the run store (default: ${ENV_VAR}, else {DEFAULT_PATH} under "
                             "the current folder)")
    if run:
        parser.add_argument("--ephemeral", action="store_true",
                            help="keep the run in memory only: nothing recorded, no resume")
    if run is not None:
        parser.add_argument("--durability", choices=tuple(DURABILITY), default="normal",
                            help="normal: survives a killed process (default); full: also "
                                 "survives a power loss, slower (docs/store.md)")


def store_path(args: Any) -> Path:
    return Path(args.store or os.environ.get(ENV_VAR) or DEFAULT_PATH)


def open_store(args: Any, *, create: bool) -> RunStore:
    """The store the arguments name. Reading commands never create one (UsageError)."""
    from dana.store.runs import RunStore, StoreError
    path = store_path(args)
    if not create and not path.exists():
        raise UsageError.of(U.NO_STORE, path=path)
    try:
        return RunStore(path, getattr(args, "durability", "normal"))
    except StoreError as exc:
        raise UsageError.of(U.STORE_PROBLEM, problem=exc) from None


class Recorder:
    """What `dana run` and `dana resume` say about durability on stderr: the run id at
    the start, the `dana resume` command when a run fails or is interrupted."""

    def __init__(self, args: Any) -> None:
        self.args = args
        self.run_ids: list[str] = []
        self._store: RunStore | None = None
        self.durable = not getattr(args, "ephemeral", False)

    @property
    def store(self) -> RunStore | None:
        """The store (opened at first use: a script that runs no workflow never opens
        it); None with --ephemeral."""
        if self.durable and self._store is None:
            self._store = open_store(self.args, create=True)
        return self._store

    def opener(self) -> Callable[[], RunStore] | None:
        return (lambda: self.store) if self.durable else None

    def started(self, run_id: str) -> None:
        """Note a new run (the progress display shows its id as it starts)."""
        self.run_ids.append(run_id)

    def abandon(self, error: LimitError) -> None:
        """The watchdog ends the process (dana/cli/watchdog.py): record the runs in
        progress as failed with `error` (a resume continues from their last commit), and
        say how to continue."""
        if self._store is None:
            return
        from dana.store.codec import encode
        record = {"type": error.dana_type, "message": error.message, "step": "",
                  "time": time.time(), "diagnostic": render_error(error)}
        if self._store.abandon(encode(record)):
            self.hint()

    def hint(self) -> None:
        """Print how to continue the last run, if it is recorded."""
        if not self.durable or not self.run_ids:
            return
        store = "" if not self.args.store else f" --store {self.args.store}"
        print(f"dana: continue it with: dana resume {self.run_ids[-1]}{store}", file=sys.stderr)


# ------------------------------------------------------------------ commands
def add_commands(sub: Any, execution_options: Callable[[Any], None]
                 ) -> dict[str, Callable[[Any], int]]:
    """Add the commands to the `dana` parser (`execution_options` adds those `dana resume`
    shares with `dana run`); return name -> handler."""
    resume = sub.add_parser("resume", help="continue a crashed, failed or interrupted run",
                            description="Continue a recorded run from its last committed "
                                        "step: committed steps are not run again, the step "
                                        "that was running runs again (docs/store.md).")
    resume.add_argument("run_id", metavar="RUN_ID", help="the run's id (a unique prefix will do)")
    resume.add_argument("--allow-changed", action="store_true",
                        help="resume even though the workflow's code changed (recorded)")
    execution_options(resume)
    add_store_options(resume, run=False)
    _reader(sub, "runs", "list recorded runs, newest first", _add_runs_args)
    _reader(sub, "status", "one run's summary and error", _add_run_id)
    _reader(sub, "history", "one run's versions: step path, keys changed, duration",
            _add_run_id)
    _reader(sub, "show", "a run's state, or one key, at a version", _add_show_args)
    _reader(sub, "diff", "the keys that differ between two versions of a run", _add_diff_args)
    gc = sub.add_parser("gc", help="delete old finished runs",
                        description="Delete runs that ended (succeeded, failed or interrupted) "
                                    "longer ago than --older-than; running and crashed runs stay.")
    gc.add_argument("--older-than", metavar="AGE", required=True,
                    help="an age like 30d, 12h, 90m, 2w or 45s")
    gc.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    _format_option(gc)
    add_store_options(gc, run=None)
    return {"resume": cmd_resume, "runs": cmd_runs, "status": cmd_status,
            "history": cmd_history, "show": cmd_show, "diff": cmd_diff, "gc": cmd_gc}


def _reader(sub: Any, name: str, text: str, add: Callable[[Any], None]) -> None:
    parser = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
    add(parser)
    _format_option(parser)
    add_store_options(parser, run=None)


def _format_option(parser: Any) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text: a table (default); json: the shape docs/cli.md gives")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks")


def _add_run_id(parser: Any) -> None:
    parser.add_argument("run_id", metavar="RUN_ID", help="the run's id (a unique prefix will do)")


def _add_runs_args(parser: Any) -> None:
    parser.add_argument("--workflow", metavar="NAME", help="only runs of this workflow")
    parser.add_argument("--status", choices=[s.value for s in RunStatus],
                        help="only runs with this status")
    parser.add_argument("--limit", metavar="N", type=int, default=20,
                        help="at most N runs (default 20; 0: all)")


def _add_show_args(parser: Any) -> None:
    _add_run_id(parser)
    parser.add_argument("key", metavar="KEY", nargs="?", help="one state key")
    parser.add_argument("--version", metavar="V", type=int,
                        help="the version to show (default: the last)")


def _add_diff_args(parser: Any) -> None:
    _add_run_id(parser)
    parser.add_argument("v1", metavar="V1", type=int, help="the earlier version")
    parser.add_argument("v2", metavar="V2", type=int, help="the later version")


def cmd_resume(args: Any) -> int:
    from dana.cli.main import execute_run
    recorder = Recorder(args)
    run_id = find_run(recorder.store, args.run_id)
    recorder.run_ids.append(run_id)
    print(f"dana: resuming run {run_id}", file=sys.stderr)
    return execute_run(args, recorder, lambda session: pipeline.resume_run(
        run_id, session, args.allow_changed))


def cmd_runs(args: Any) -> int:
    store = open_store(args, create=False)
    records = [store.summary(r) for r in store.runs(args.workflow, args.status,
                                                    args.limit or None)]
    if args.format == "json":
        return print_json(records)
    print_table(["ID", "WORKFLOW", "STATUS", "STARTED", "DURATION", "VERSIONS", "AT"],
           [[r["id"], f"{r['workflow']}@{r['version']}", r["status"], when(r["started_at"]),
             _duration(r["duration"]), str(r["versions"]), r["last_path"] or "-"]
            for r in records])
    return 0


def cmd_status(args: Any) -> int:
    from dana.store.codec import decode
    store = open_store(args, create=False)
    row = store.get(find_run(store, args.run_id))
    status = store.status_of(row)
    error = decode(row.error) if row.error else None
    record = {**store.summary(row), "source": row.source, "entry": row.entry,
              "output": plain(decode(row.output)) if row.output else None,
              "error": plain(error), "resumes": plain(decode(row.resumes) if row.resumes else [])}
    if args.format == "json":
        return print_json(record)
    print(f"run {row.id}: {row.workflow}@{row.version} {status.value}")
    print(f"  source   {row.source}")
    print(f"  started  {when(row.started_at)}  ({_duration(record['duration'])})")
    print(f"  version  {row.last_version}" + (f" at {row.last_path}" if row.last_path else ""))
    if record["resumes"]:
        print(f"  resumed  {len(record['resumes'])} time(s)")
    if status in (RunStatus.CRASHED, RunStatus.FAILED, RunStatus.INTERRUPTED):
        print(f"  continue with: dana resume {row.id}")
    if error:
        print(error.get("diagnostic") or f"{error['type']}: {error['message']}", file=sys.stderr)
    return 0


def cmd_history(args: Any) -> int:
    store = open_store(args, create=False)
    run_id = find_run(store, args.run_id)
    lineage = store.provenance(run_id)
    records = [{"version": v.version, "step": v.step, "path": v.path, "keys": list(v.keys),
                "attempt": v.attempt, "time": v.time, "duration": v.duration,
                "cache": _cache_note(lineage[v.version])}
               for v in store.versions(run_id)]
    if args.format == "json":
        return print_json(records)
    print_table(["VERSION", "STEP", "PATH", "KEYS CHANGED", "DURATION", "ATTEMPT", "CACHE"],
                [[str(r["version"]), r["step"], r["path"] or "-", ", ".join(r["keys"]) or "-",
                  _duration(r["duration"]), str(r["attempt"] or "-"), _cache_text(r["cache"])]
                 for r in records])
    return 0


def _cache_note(row: Any) -> dict[str, Any] | None:
    """A version's cache record for `dana history`: a hit (the run and version that made
    the entry) or the reason a cached step ran; None for a step that is not cached."""
    if row.origin != "cache" and not row.reason:
        return None
    if row.origin == "cache":
        return {"hit": True, "from_run": row.from_run, "from_version": row.from_version}
    return {"hit": False, "reason": row.reason}


def _cache_text(note: dict[str, Any] | None) -> str:
    if note is None:
        return "-"
    if note["hit"]:
        return f"hit ({note['from_run']} v{note['from_version']})"
    return f"ran: {note['reason']}"


def cmd_show(args: Any) -> int:
    from dana.store.codec import decode
    store = open_store(args, create=False)
    row = store.get(find_run(store, args.run_id))
    version = row.last_version if args.version is None else args.version
    _check_version(version, row.last_version)
    state = {k: decode(v) for k, v in store.state_at(row.id, version).items()}
    if args.key is not None:
        if args.key not in state:
            raise UsageError.of(U.NO_STATE_KEY, run=row.id, key=args.key, version=version)
        if args.format == "json":
            return print_json({"run": row.id, "version": version, "key": args.key,
                          "value": plain(state[args.key])})
        print(show(state[args.key]))
        return 0
    if args.format == "json":
        return print_json({"run": row.id, "version": version, "state": plain(state)})
    for key, value in state.items():
        print(f"{key} = {show(value)}")
    return 0


def cmd_diff(args: Any) -> int:
    from dana.store.codec import decode
    store = open_store(args, create=False)
    row = store.get(find_run(store, args.run_id))
    for v in (args.v1, args.v2):
        _check_version(v, row.last_version)
    old = {k: decode(v) for k, v in store.state_at(row.id, args.v1).items()}
    new = {k: decode(v) for k, v in store.state_at(row.id, args.v2).items()}
    keys = [k for k in dict.fromkeys([*old, *new])
            if k not in old or k not in new or not _same(old[k], new[k])]
    if args.format == "json":
        return print_json({"run": row.id, "from": args.v1, "to": args.v2, "changes": {
            k: {side: plain(values[k]) for side, values in (("before", old), ("after", new))
                if k in values} for k in keys}})
    for key in keys:
        print(f"{key}: {show(old[key]) if key in old else '(absent)'} -> "
              f"{show(new[key]) if key in new else '(absent)'}")
    return 0


def parse_age(text: str) -> float:
    """`--older-than AGE` in seconds: 30d, 12h, 90m, 2w, 45s. UsageError (E0600) else."""
    match = _AGE.match(text)
    if match is None:
        raise UsageError.of(U.BAD_AGE, text=text)
    return float(match[1]) * _SECONDS[match[2]]


def cmd_gc(args: Any) -> int:
    age = parse_age(args.older_than)
    store = open_store(args, create=False)
    ids = store.gc(age, dry_run=args.dry_run)
    if args.format == "json":
        return print_json({"deleted": ids, "dry_run": args.dry_run})
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {len(ids)} run(s)" + (": " + ", ".join(ids) if ids else ""))
    return 0


# ------------------------------------------------------------------ helpers
def find_run(store: RunStore | None, prefix: str) -> str:
    from dana.store.runs import StoreError
    if store is None:
        raise UsageError.of(U.RESUME_EPHEMERAL)
    try:
        return store.find(prefix)
    except StoreError as exc:
        raise UsageError.of(U.STORE_PROBLEM, problem=exc) from None


def _check_version(version: int, last: int) -> None:
    if not 0 <= version <= last:
        raise UsageError.of(U.NO_SUCH_VERSION, version=version, last=last)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and repr(a) == repr(b)


def plain(value: Any) -> Any:
    """A stored value as JSON data: tuples and sets as lists, non-finite floats as the
    strings "nan", "inf", "-inf", a dict with non-str keys as [key, value] pairs, a struct
    as {"struct": name, "fields": {...}}."""
    from dana.store.codec import StoredStruct
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: plain(v) for k, v in value.items()}
        return [[plain(k), plain(v)] for k, v in value.items()]
    if isinstance(value, StoredStruct):
        return {"struct": value.name, "fields": plain(value.fields)}
    return value


def show(value: Any) -> str:
    """A stored value as Dana would print it (structs as `Name(field=value, ...)`)."""
    from dana.store.codec import StoredStruct
    if isinstance(value, StoredStruct):
        inner = ", ".join(f"{k}={show(v)}" for k, v in value.fields.items())
        return f"{value.name}({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(map(show, value)) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(map(show, value)) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in value.items()) + "}"
    return repr(value)


def print_json(data: Any) -> int:
    print(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(x) for x in column) for column in zip(header, *rows)]
    for line in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())


def when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds >= 0.1 else f"{seconds * 1000:.0f}ms"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"
