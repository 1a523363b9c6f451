"""The lineage graph of a stored value (docs/store.md "Lineage").

Consumes: a `RunStore` holding a run's versions: which keys each changed, and its
provenance (what the commit read, its code, its origin).
Produces: `trace(store, run_id, key, version=None, depth=None, downstream=False)` ->
`LineageGraph`: value nodes (`key@version`: the value key held from that commit on;
`config.<name>@0` for a config parameter) and commit nodes (the step that made a version:
name, path, origin "step" | "cache" | "control" | "initial", code hash, and for a cache
hit the run and version that produced the entry), with edges value -> commit (read) and
commit -> value (wrote). Upstream goes back to the initial state and config; downstream
follows what was derived from the value. `graph.as_dict()` is the documented JSON shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dana.store.runs import Provenance, RunStore, StoreError

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

    @property
    def id(self) -> str:
        return f"v{self.version}"


@dataclass
class LineageGraph:
    """Values (`key@version`), commits (by version) and edges (from, to), in the order
    they were found from the `root` value."""

    run_id: str
    root: str
    values: list[str] = field(default_factory=list)
    commits: dict[int, Commit] = field(default_factory=dict)
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

    def writer(self, key: str, at: int) -> int | None:
        """The version that last wrote `key` at or before version `at`."""
        if key.startswith(CONFIG_PREFIX):
            return 0
        found = [v for v, row in self.versions.items() if v <= at and key in row.keys]
        return max(found) if found else None

    def commit(self, version: int) -> Commit:
        row, line = self.versions[version], self.lineage[version]
        if version == 0:
            return Commit(0, "<initial>", "", "initial")
        return Commit(version, row.step, row.path, line.origin or "unknown", line.code,
                      line.from_run, line.from_version, line.reason)

    def reads(self, version: int) -> list[str]:
        return list(self.lineage[version].reads)

    def wrote(self, version: int) -> list[str]:
        return [f"{k}@{version}" for k in self.versions[version].keys]

    def readers(self, value: str) -> list[int]:
        return sorted(v for v, line in self.lineage.items() if value in line.reads)


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
    """Add the commit that wrote `value` and the values it read; return the new values."""
    key, version = value.rsplit("@", 1)
    commit = run.commit(int(version)) if not key.startswith(CONFIG_PREFIX) else \
        Commit(0, "<initial>", "", "initial")
    _edge(graph, commit.id, value)
    if commit.version in graph.commits:
        return []
    graph.commits[commit.version] = commit
    found = []
    for read in run.reads(commit.version):
        _edge(graph, read, commit.id)
        if read not in graph.values:
            graph.values.append(read)
            found.append(read)
    return found


def _down(run: _Run, graph: LineageGraph, value: str) -> list[str]:
    """Add the commits that read `value` and the values they wrote; return the new values."""
    found = []
    for version in run.readers(value):
        commit = run.commit(version)
        _edge(graph, value, commit.id)
        if version in graph.commits:
            continue
        graph.commits[version] = commit
        for out in run.wrote(version):
            _edge(graph, commit.id, out)
            if out not in graph.values:
                graph.values.append(out)
                found.append(out)
    return found


def _edge(graph: LineageGraph, a: str, b: str) -> None:
    if (a, b) not in graph.edges:
        graph.edges.append((a, b))
