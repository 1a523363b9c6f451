"""`dana lineage`, `dana cache` and `dana run --explain`: where a stored value came from,
the step cache, and what a run's cached steps will do (docs/cli.md "Lineage and the step
cache").

Consumes: parsed arguments; the run store; a run's cache forecast. Produces: the lineage
graph of a value as text, JSON, Mermaid or DOT on stdout; the cache's entries as a table
or JSON; the forecast as text on stderr; exit codes.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from dana.cli import runs
from dana.errors import UsageError
from dana.messages import usage as U

FORMATS = ("text", "json", "mermaid", "dot")


def add_commands(sub: Any) -> dict[str, Callable[[Any], int]]:
    """Add `lineage` and `cache` to the `dana` parser; return name -> handler."""
    lineage = sub.add_parser(
        "lineage", help="where a state value came from (or what was derived from it)",
        description="Print the lineage of a state key of a recorded run: the steps that "
                    "made it and the values they read, back to the initial state and "
                    "config (or, with --downstream, what was derived from it).")
    lineage.add_argument("run_id", metavar="RUN_ID", help="the run's id (a unique prefix will do)")
    lineage.add_argument("key", metavar="KEY", help="the state key")
    lineage.add_argument("--version", metavar="V", type=int,
                         help="the key as it was at version V (default: the run's last)")
    lineage.add_argument("--depth", metavar="N", type=int,
                         help="at most N steps away (default: all the way)")
    lineage.add_argument("--collapse", action="store_true",
                         help="merge a loop's iterations: one node per step path (loop "
                              "indices as [*]) and one per state key")
    lineage.add_argument("--downstream", action="store_true",
                         help="what was derived from the value, instead of where it came from")
    lineage.add_argument("--format", choices=FORMATS, default="text",
                         help="text (default), json, mermaid (a flowchart) or dot (Graphviz)")
    lineage.add_argument("--debug", action="store_true", help="show Python tracebacks")
    runs.add_store_options(lineage, run=None)
    cache = sub.add_parser("cache", help="list or clear the step cache",
                           description="The entries of cache=True steps in the run store, "
                                       "shared by every run using it.")
    actions = cache.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("ls", help="list cache entries, newest first")
    listing.add_argument("--step", metavar="S", help="only entries of step S")
    listing.add_argument("--format", choices=("text", "json"), default="text",
                         help="text: a table (default); json: a list of entries")
    clear = actions.add_parser("clear", help="delete cache entries")
    clear.add_argument("--step", metavar="S", help="only entries of step S")
    clear.add_argument("--older-than", metavar="AGE",
                       help="only entries made longer ago than AGE (30d, 12h, 90m, ...)")
    for parser in (listing, clear):
        parser.add_argument("--debug", action="store_true", help="show Python tracebacks")
        runs.add_store_options(parser, run=None)
    return {"lineage": cmd_lineage, "cache": cmd_cache}


def cmd_lineage(args: Any) -> int:
    from dana.store.lineage import collapsed, trace
    from dana.store.runs import StoreError
    store = runs.open_store(args, create=False)
    run_id = runs.find_run(store, args.run_id)
    try:
        graph = trace(store, run_id, args.key, args.version, args.depth, args.downstream)
    except StoreError as exc:
        raise UsageError.of(U.STORE_PROBLEM, problem=exc) from None
    data = (collapsed(graph) if args.collapse else graph).as_dict()
    if args.format == "json":
        return runs.print_json(data)
    print({"text": _text, "mermaid": _mermaid, "dot": _dot}[args.format](data), end="")
    return 0


def cmd_cache(args: Any) -> int:
    from dana.store.cache import CacheTable
    table = CacheTable(runs.open_store(args, create=False))
    if args.action == "clear":
        age = runs.parse_age(args.older_than) if args.older_than else None
        count = table.clear(args.step, age)
        print(f"deleted {count} cache entr{'y' if count == 1 else 'ies'}")
        return 0
    records = [{"step": e.step, "workflow": e.workflow, "run_id": e.run_id,
                "version": e.version, "created_at": e.created_at, "expires_at": e.expires_at,
                "reads": sorted(e.reads), "code": sorted(n.strip("<>") for n in e.code)}
               for e in table.entries(args.step)]
    if args.format == "json":
        return runs.print_json(records)
    runs.print_table(["STEP", "WORKFLOW", "MADE BY", "CREATED", "EXPIRES", "READS"],
                     [[r["step"], r["workflow"], f"{r['run_id']} v{r['version']}",
                       runs.when(r["created_at"]),
                       runs.when(r["expires_at"]) if r["expires_at"] else "never",
                       ", ".join(r["reads"]) or "-"] for r in records])
    return 0


# ------------------------------------------------------------------ rendering
def _label(commit: dict[str, Any]) -> str:
    if commit["origin"] == "initial":
        return "initial state and config"
    where = commit["path"] or commit["step"]
    if commit.get("branch"):
        where = f"{where}: {commit['step']}"  # a branch's share of a parallel merge
    if commit.get("count", 1) > 1:
        where = f"{where} ×{commit['count']}"  # a collapsed loop's iterations
    if commit["origin"] == "cache":
        version = f" v{commit['from_version']}" if commit["from_version"] is not None else ""
        return f"{where} (cached from {commit['from_run']}{version})"
    return where


def _text(data: dict[str, Any]) -> str:
    """An indented tree from the root value: each value under the commit that made it
    (upstream) or each commit under the value it read (downstream); a node already
    expanded is shown again as "(as above)"."""
    commits = {c["id"]: c for c in data["commits"]}
    children: dict[str, list[str]] = {}
    upstream = not any(a == data["root"] for a, _ in data["edges"])
    for a, b in data["edges"]:
        parent, child = (b, a) if upstream else (a, b)
        children.setdefault(parent, []).append(child)
    lines: list[str] = []
    shown: set[str] = set()

    def walk(node: str, depth: int) -> None:
        text = _label(commits[node]) + (f" [v{commits[node]['version']}]"
                                         if commits[node].get("count", 1) == 1 else "") \
            if node in commits else node
        arrow = ("<- " if upstream else "-> ") if depth else ""
        again = node in shown and node in children
        lines.append("  " * depth + arrow + text + (" (as above)" if again else ""))
        if again:
            return
        shown.add(node)
        for child in children.get(node, []):
            walk(child, depth + 1)
    walk(data["root"], 0)
    return "\n".join(lines) + "\n"


def _mermaid(data: dict[str, Any]) -> str:
    ids = _ids(data)
    lines = ["flowchart LR"]
    for value in data["values"]:
        lines.append(f'    {ids[value]}(["{_mermaid_text(value)}"])')
    for commit in data["commits"]:
        lines.append(f'    {ids[commit["id"]]}["{_mermaid_text(_label(commit))}"]')
    lines += [f"    {ids[a]} --> {ids[b]}" for a, b in data["edges"]]
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    """A label Mermaid shows as written (`<output>` would be read as an HTML tag)."""
    return text.replace("<", "#lt;").replace(">", "#gt;").replace('"', "#quot;")


def _dot(data: dict[str, Any]) -> str:
    ids = _ids(data)
    lines = ["digraph lineage {", "    rankdir=LR;"]
    for value in data["values"]:
        lines.append(f'    {ids[value]} [shape=ellipse, label="{value}"];')
    for commit in data["commits"]:
        lines.append(f'    {ids[commit["id"]]} [shape=box, label="{_label(commit)}"];')
    lines += [f"    {ids[a]} -> {ids[b]};" for a, b in data["edges"]]
    return "\n".join(lines + ["}"]) + "\n"


def _ids(data: dict[str, Any]) -> dict[str, str]:
    """Node name -> an identifier Mermaid and DOT accept."""
    names = [*data["values"], *(c["id"] for c in data["commits"])]
    return {name: f"n{i}" for i, name in enumerate(names)}


def print_forecast(forecasts: list[Any]) -> None:
    """`dana run --explain`: one line per cached step the run will reach, on stderr —
    `hit` (the run and version whose entry is restored), `run` (why) or `unknown` (what
    only the run can tell) — after a count of each."""
    counts = {v: sum(f.verdict == v for f in forecasts) for v in ("hit", "run", "unknown")}
    print(f"explain: {len(forecasts)} cached step(s): {counts['hit']} restored from the "
          f"cache, {counts['run']} will run, {counts['unknown']} known only once the run "
          "gets there", file=sys.stderr)
    width = max((len(f.path) for f in forecasts), default=0)
    for f in forecasts:
        why = f"from run {f.from_run} v{f.from_version}" if f.verdict == "hit" else f.reason
        print(f"  {f.verdict:<8} {f.path:<{width}}  {why}", file=sys.stderr)
