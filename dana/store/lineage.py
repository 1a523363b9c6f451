"""The lineage graph of a stored value (docs/store.md "Lineage").

Consumes: a `RunStore` holding a run's versions: which keys each changed, and its
provenance (what the commit read, its code, its origin).
Produces: `trace(store, run_id, key, version=None, depth=None, downstream=False)` ->
`LineageGraph`: value nodes (`key@version`: the value key held from that commit on;
`config.<name>@0` for a config parameter; `<output>@V` for the output of version V's
step that the next step took as its input) and commit nodes (the step that made a
version: name, path, origin "step" | "cache" | "control" | "initial", code hash, and for
a cache hit the run and version that produced the entry; a parallel block's merge is one
node per branch, with that branch's reads), with edges value -> commit (read) and
commit -> value (wrote). Upstream goes back to the initial state and config; downstream
follows what was derived from the value. `graph.as_dict()` is the documented JSON shape;
`collapsed(graph)` merges a loop's iterations into one node per step path and key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from dana.store.runs import OUTPUT, Provenance, RunStore, StoreError

CONFIG_PREFIX = "config."


@dataclass(frozen=True)
class Commit:
    """One committed version as a lineage node."""

    version: int
    step: str
    path: str
    origin: str
    code: str = ""
    from_run: str | None = None
    from_version: int | None = None
    reason: str = ""
    branch: str = ""  # one branch's share of a parallel block's merge
    count: int = 1    # the commits a collapsed node stands for

    @property
    def id(self) -> str:
        return f"v{self.version}" + (f":{self.branch}" if self.branch else "")


@dataclass
class LineageGraph:
    """Values (`key@version`), commits (by version) and edges (from, to), in the order
    they were found from the `root` value."""

    run_id: str
    root: str
    values: list[str] = field(default_factory=list)
    commits: dict[str, Commit] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """{"run_id", "root", "values": [...], "commits": [{"id", "version", "step",
        "path", "origin", "code", "from_run", "from_version", "reason"}], "edges":
        [[from, to], ...]} (a commit's id is "v<version>")."""
        return {"run_id": self.run_id, "root": self.root, "values": list(self.values),
                "commits": [{"id": c.id, **c.__dict__} for c in self.commits.values()],
                "edges": [list(e) for e in self.edges]}


class _Run:
    """A run's versions and lineage rows, loaded once for a trace."""

    def __init__(self, store: RunStore, run_id: str) -> None:
        self.versions = {v.version: v for v in store.versions(run_id)}
        self.lineage: dict[int, Provenance] = store.provenance(run_id)
        self.read_by: dict[str, list[Commit]] = {}  # value -> the commits that read it
        for version in sorted(self.lineage):
            for part in self.parts(version):
                for value in self.reads(part):
                    self.read_by.setdefault(value, []).append(part)

    def writer(self, key: str, at: int) -> int | None:
        """The version that last wrote `key` at or before version `at` (`<output>`: the
        version `at` itself, when its step returned something)."""
        if key.startswith(CONFIG_PREFIX):
            return 0
        if key == OUTPUT:
            return at if at in self.versions and self.versions[at].output is not None else None
        found = [v for v, row in self.versions.items() if v <= at and key in row.keys]
        return max(found) if found else None

    def writers(self, version: int, key: str) -> list[Commit]:
        """The commits that made `key` at `version`: for a parallel block's merge, the
        share of the branch that wrote it (every branch's, for its output)."""
        parts = self.parts(version)
        return [p for p in parts if key in self.keys(p)] or parts

    def parts(self, version: int) -> list[Commit]:
        """The version as commit nodes: one, or one per branch of a parallel merge."""
        row, line = self.versions[version], self.lineage[version]
        if version == 0:
            return [Commit(0, "<initial>", "", "initial")]
        whole = Commit(version, row.step, row.path, line.origin or "unknown", line.code,
                       line.from_run, line.from_version, line.reason)
        return [replace(whole, step=", ".join(b.steps), path=b.branch, branch=b.branch)
                for b in line.branches] or [whole]

    def reads(self, commit: Commit) -> list[str]:
        line = self.lineage[commit.version]
        if commit.branch:
            return list(next(b.reads for b in line.branches if b.branch == commit.branch))
        return list(line.reads)

    def keys(self, commit: Commit) -> tuple[str, ...]:
        line = self.lineage[commit.version]
        if commit.branch:
            return next(b.keys for b in line.branches if b.branch == commit.branch)
        return self.versions[commit.version].keys

    def wrote(self, commit: Commit) -> list[str]:
        """The values `commit` wrote, its output included when a later step took it."""
        out = [f"{k}@{commit.version}" for k in self.keys(commit)]
        output = f"{OUTPUT}@{commit.version}"
        return out + [output] if output in self.read_by and not commit.branch else out

    def readers(self, value: str) -> list[Commit]:
        return self.read_by.get(value, [])


def collapsed(graph: LineageGraph) -> LineageGraph:
    """`graph` with a loop's iterations merged (`dana lineage --collapse`): one commit
    node per step path, loop indices written `[*]` (`count` says how many it stands for;
    a merged cache hit names its producing run only), and one value node per key
    (`weights`, not `weights@7`; a step's output is `<output> of PATH`)."""
    names: dict[str, str] = {}
    out = LineageGraph(graph.run_id, "")
    for commit in graph.commits.values():
        path = _LOOP_INDEX.sub("[*]", commit.path)
        group = next((c for c in out.commits.values() if c.path == path and
                      (c.step, c.origin) == (commit.step, commit.origin)), None)
        if group is None:
            out.commits[commit.id] = replace(commit, path=path)
            names[commit.id] = commit.id
        else:
            out.commits[group.id] = replace(group, count=group.count + 1, from_version=None)
            names[commit.id] = group.id
    writer = {b: names[a] for a, b in graph.edges if a in graph.commits}
    for value in graph.values:
        key = _key(value)
        if key == OUTPUT and value in writer:
            made = out.commits[writer[value]]
            key = f"{OUTPUT} of {made.path or made.step}"
        names[value] = key
        if key not in out.values:
            out.values.append(key)
    out.root = names[graph.root]
    for a, b in graph.edges:
        _edge(out, names[a], names[b])
    return out


_LOOP_INDEX = re.compile(r"(?<!parallel)\[\d+\]")  # not a `parallel:` branch


def _key(value: str) -> str:
    return value.rsplit("@", 1)[0]


def trace(store: RunStore, run_id: str, key: str, version: int | None = None,
          depth: int | None = None, downstream: bool = False) -> LineageGraph:
    """The lineage graph of `key` as it was at `version` (default: the run's last), at
    most `depth` commits away (None: all the way). Raises StoreError for an unknown run,
    or a key the run never held at that version."""
    run = _Run(store, run_id)
    last = max(run.versions) if run.versions else 0
    at = last if version is None else version
    written = run.writer(key, at)
    if written is None:
        raise StoreError(f"the run has no state key `{key}` at version {at}")
    root = f"{key}@{written}"
    graph = LineageGraph(run_id, root, [root])
    frontier, level = [root], 0
    while frontier and (depth is None or level < depth):
        frontier = [v for value in frontier for v in
                    (_down(run, graph, value) if downstream else _up(run, graph, value))]
        level += 1
    return graph


def _up(run: _Run, graph: LineageGraph, value: str) -> list[str]:
    """Add the commits that wrote `value` and the values they read; return the new values."""
    key, version = value.rsplit("@", 1)
    commits = run.writers(int(version), key) if not key.startswith(CONFIG_PREFIX) else \
        [Commit(0, "<initial>", "", "initial")]
    found = []
    for commit in commits:
        _edge(graph, commit.id, value)
        if commit.id in graph.commits:
            continue
        graph.commits[commit.id] = commit
        for read in run.reads(commit):
            _edge(graph, read, commit.id)
            if read not in graph.values:
                graph.values.append(read)
                found.append(read)
    return found


def _down(run: _Run, graph: LineageGraph, value: str) -> list[str]:
    """Add the commits that read `value` and the values they wrote; return the new values."""
    found = []
    for commit in run.readers(value):
        _edge(graph, value, commit.id)
        if commit.id in graph.commits:
            continue
        graph.commits[commit.id] = commit
        for out in run.wrote(commit):
            _edge(graph, commit.id, out)
            if out not in graph.values:
                graph.values.append(out)
                found.append(out)
    return found


def _edge(graph: LineageGraph, a: str, b: str) -> None:
    if (a, b) not in graph.edges:
        graph.edges.append((a, b))
