"""Draw a workflow as a diagram: Mermaid `flowchart TD` or Graphviz DOT (docs/workflows.md, docs/cli.md "dana graph").

Consumes: a parsed module (`dana.syntax.ast`; nothing is run or type-checked) and the name
of one of its `workflow` declarations.
Produces: a `Graph` (nodes, clusters and edges), and its text in either format.

How the `steps:` sub-language is drawn:
* a step (a name, a call or one stage of a pipeline `a | b`) is a box labelled with its
  source text; consecutive steps are joined by edges;
* `for x in xs:` / `while cond:` is a cluster labelled with its header holding the body,
  with a dashed back edge (`next x` / `repeat`) from the body's end to its start;
* `if`/`elif`/`else` is a decision node per condition with `yes`/`no` edges that rejoin
  at a small merge node;
* `parallel(...)` is a fork node labelled with its arguments (e.g. `max_concurrency=2`),
  one lane (cluster `branch i`) per line of its body, and a join node;
* `parallel for x in xs (...)` is a fork node labelled with its header, one lane (cluster
  `each x`) holding the body that runs once per item, and a join node;
* `try:` is a cluster; each `handle T` has an edge labelled `T` ("any error" for a bare
  handler) leaving the cluster; normal and handled paths meet at `finally` (a cluster)
  or at a merge node;
* a step that names another workflow of the same module is a cluster `workflow NAME`
  holding that workflow's steps; a composition `workflow c = a | b` (or
  `compose(a, b)`) is a chain of such clusters.
Node and cluster ids are generated (`n1`, `c2`, ...), so they are safe in both formats;
labels are escaped for each format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from dana.errors import UsageError
from dana.messages import usage as U
from dana.pipeline import parse_source, read_source
from dana.syntax import ast as A

FORMATS = ("mermaid", "dot")


@dataclass(frozen=True)
class Node:
    """kind: "start", "end", "step", "decision", "merge", "fork" or "join"."""
    id: str
    label: str
    kind: str


@dataclass
class Cluster:
    """kind: "loop", "workflow", "try", "finally" or "branch"."""
    id: str
    label: str
    kind: str
    members: list[Union[Node, "Cluster"]] = field(default_factory=list)


@dataclass(frozen=True)
class Edge:
    """kind: "flow", "back" (a loop's next iteration) or "error" (to a handler). An edge
    leaving a cluster has the cluster's id as `source` and a node inside it as `anchor`."""
    source: str
    target: str
    label: str = ""
    kind: str = "flow"
    anchor: str | None = None


@dataclass
class Graph:
    name: str
    members: list[Node | Cluster]
    edges: list[Edge]


Fragment = tuple[str, str]  # (entry node id, exit node id) of a drawn piece


def graph_file(path: str | Path, workflow: str | None, fmt: str = "mermaid") -> str:
    """The diagram of `workflow` in the file at `path`, as `fmt` text ("mermaid" or "dot").
    `workflow` may be None when the file declares exactly one. Raises DanaSyntaxError, and
    UsageError (E0601 unreadable file, E0602 unknown workflow)."""
    module = parse_source(read_source(path))
    graph = build(module, workflow)
    return to_dot(graph) if fmt == "dot" else to_mermaid(graph)


def build(module: A.Module, workflow: str | None) -> Graph:
    """The graph of workflow `workflow` of `module` (see the module docstring)."""
    kinds = (A.WorkflowDecl, A.WorkflowComposeDecl)
    defs = {s.name: s for s in module.body if isinstance(s, kinds)}
    if workflow not in defs:
        if workflow is None and len(defs) == 1:
            workflow = next(iter(defs))
        else:
            raise _unknown(module, workflow, sorted(defs))
    builder = _Builder(defs)
    members: list[Node | Cluster] = []
    start = builder.node(members, f"workflow {workflow}", "start")
    builder.active.append(workflow)
    entry, exit_ = builder.workflow_body(defs[workflow], members)
    end = builder.node(members, "end", "end")
    builder.edge(start, entry)
    builder.edge(exit_, end)
    edges = sorted(builder.edges, key=lambda e: int(e.source[1:]))  # reading order
    return Graph(workflow, members, edges)


def _unknown(module: A.Module, workflow: str | None, known: list[str]) -> UsageError:
    name, names = module.span.source.name, ", ".join(known)
    if workflow is None:
        return UsageError.of(U.SEVERAL_WORKFLOWS, name=name, count=len(known), names=names)
    return UsageError.of(U.NO_SUCH_WORKFLOW if known else U.NO_WORKFLOW_AT_ALL, name=name,
                         workflow=workflow, names=names)


class _Builder:
    """Walks `steps:` statements, appending nodes to a member list and edges to `edges`."""

    def __init__(self, defs: dict[str, A.WorkflowDecl | A.WorkflowComposeDecl]) -> None:
        self.defs = defs
        self.edges: list[Edge] = []
        self.active: list[str] = []  # workflows being expanded (no infinite recursion)
        self.count = 0

    def _id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def node(self, into: list, label: str, kind: str) -> str:
        node = Node(self._id("n"), label, kind)
        into.append(node)
        return node.id

    def cluster(self, into: list, label: str, kind: str) -> Cluster:
        cluster = Cluster(self._id("c"), label, kind)
        into.append(cluster)
        return cluster

    def edge(self, source: str, target: str, label: str = "", kind: str = "flow",
             anchor: str | None = None) -> None:
        self.edges.append(Edge(source, target, label, kind, anchor))

    # ------------------------------------------------------------ statements
    def sequence(self, stmts: tuple, into: list) -> Fragment | None:
        first = last = None
        for stmt in stmts:
            piece = self.statement(stmt, into)
            if piece is None:
                continue
            if last is None:
                first = piece[0]
            else:
                self.edge(last, piece[0])
            last = piece[1]
        return (first, last) if first is not None else None

    def body(self, stmts: tuple, into: list) -> Fragment:
        """Like `sequence`, but an empty body is drawn as a `pass` box."""
        piece = self.sequence(stmts, into)
        if piece is None:
            only = self.node(into, "pass", "step")
            piece = (only, only)
        return piece

    def statement(self, stmt: A.Stmt, into: list) -> Fragment | None:
        if isinstance(stmt, A.ExprStmt):
            return self.chain(_stages(stmt.expr), into)
        if isinstance(stmt, A.ForStmt):
            target = _text(stmt.target)
            return self.loop(stmt.body, f"for {target} in {_text(stmt.iter)}",
                             f"next {target}", into)
        if isinstance(stmt, A.WhileStmt):
            return self.loop(stmt.body, f"while {_text(stmt.cond)}", "repeat", into)
        if isinstance(stmt, A.IfStmt):
            return self.branch(stmt, into)
        if isinstance(stmt, A.TryStmt):
            return self.attempt(stmt, into)
        if isinstance(stmt, A.ParallelStmt):
            return self.fork(stmt, into)
        if isinstance(stmt, A.ParallelForStmt):
            return self.fan_out(stmt, into)
        if isinstance(stmt, A.PassStmt):
            return None
        raise TypeError(f"graph: a `steps:` block cannot hold {type(stmt).__name__}")

    def chain(self, stages: list[tuple[A.Expr, str]], into: list) -> Fragment:
        """Steps (or sub-workflows) one after the other: a pipeline or a composition."""
        pieces = [self.stage(expr, label, into) for expr, label in stages]
        for (_, exit_), (entry, _) in zip(pieces, pieces[1:]):
            self.edge(exit_, entry)
        return pieces[0][0], pieces[-1][1]

    def stage(self, expr: A.Expr, label: str, into: list) -> Fragment:
        name = _called_name(expr)
        if name in self.defs and name not in self.active:
            cluster = self.cluster(into, f"workflow {label}", "workflow")
            self.active.append(name)
            piece = self.workflow_body(self.defs[name], cluster.members)
            self.active.pop()
            return piece
        only = self.node(into, label, "step")
        return only, only

    def workflow_body(self, wf: A.WorkflowDecl | A.WorkflowComposeDecl, into: list) -> Fragment:
        if isinstance(wf, A.WorkflowDecl):
            return self.body(wf.steps, into)
        return self.chain(_parts(wf.expr), into)

    def loop(self, stmts: tuple, header: str, again: str, into: list) -> Fragment:
        cluster = self.cluster(into, header, "loop")
        entry, exit_ = self.body(stmts, cluster.members)
        self.edge(exit_, entry, again, "back")
        return entry, exit_

    def branch(self, stmt: A.IfStmt, into: list) -> Fragment:
        """if/elif/else: decisions chained by `no` edges, every path meeting at a merge."""
        first = decision = self.node(into, _text(stmt.cond), "decision")
        ends: list[tuple[str, str]] = []
        while True:
            ends.append(self._arm(decision, "yes", stmt.body, into))
            rest = stmt.orelse
            if len(rest) == 1 and isinstance(rest[0], A.IfStmt):
                stmt = rest[0]
                following = self.node(into, _text(stmt.cond), "decision")
                self.edge(decision, following, "no")
                decision = following
                continue
            ends.append(self._arm(decision, "no", rest, into))
            break
        merge = self.node(into, "", "merge")
        for source, label in ends:
            self.edge(source, merge, label)
        return first, merge

    def _arm(self, decision: str, label: str, stmts: tuple, into: list) -> tuple[str, str]:
        """Draw one branch; returns the pending edge (source, label) to the merge node."""
        piece = self.sequence(stmts, into)
        if piece is None:
            return decision, label
        self.edge(decision, piece[0], label)
        return piece[1], ""

    def attempt(self, stmt: A.TryStmt, into: list) -> Fragment:
        guarded = self.cluster(into, "try", "try")
        entry, body_exit = self.body(stmt.body, guarded.members)
        normal = self.sequence(stmt.orelse, into)
        if normal is not None:
            self.edge(body_exit, normal[0])
        # edges into the finally block (or merge), drawn once it exists: (source, label,
        # kind, anchor)
        pending = [(normal[1] if normal else body_exit, "", "flow", None)]
        for handler in stmt.handlers:
            caught = _text(handler.type) if handler.type is not None else "any error"
            piece = self.sequence(handler.body, into)
            if piece is None:
                pending.append((guarded.id, caught, "error", body_exit))
                continue
            self.edge(guarded.id, piece[0], caught, "error", body_exit)
            pending.append((piece[1], "", "flow", None))
        if stmt.finalbody:
            final = self.cluster(into, "finally", "finally")
            target, exit_ = self.body(stmt.finalbody, final.members)
        else:
            target = exit_ = self.node(into, "", "merge")
        for source, label, kind, anchor in pending:
            self.edge(source, target, label, kind, anchor)
        return entry, exit_

    def fork(self, stmt: A.ParallelStmt, into: list) -> Fragment:
        args = ", ".join(_text(a) for a in stmt.args)
        fork = self.node(into, f"parallel({args})" if args else "parallel", "fork")
        ends = []
        for number, branch in enumerate(stmt.body, 1):
            lane = self.cluster(into, f"branch {number}", "branch")
            piece = self.statement(branch, lane.members)
            if piece is None:
                into.remove(lane)
                ends.append(fork)
                continue
            self.edge(fork, piece[0])
            ends.append(piece[1])
        join = self.node(into, "join", "join")
        for end in ends:
            self.edge(end, join)
        return fork, join


    def fan_out(self, stmt: A.ParallelForStmt, into: list) -> Fragment:
        """`parallel for x in xs:` — a fork node with its header, one lane `each x` holding
        the body (run once per item), and a join node."""
        args = ", ".join(_text(a) for a in stmt.args)
        header = f"parallel for {_text(stmt.target)} in {_text(stmt.iter)}"
        fork = self.node(into, f"{header} ({args})" if args else header, "fork")
        lane = self.cluster(into, f"each {_text(stmt.target)}", "branch")
        entry, exit_ = self.body(stmt.body, lane.members)
        join = self.node(into, "join", "join")
        self.edge(fork, entry)
        self.edge(exit_, join)
        return fork, join


def _text(node: object) -> str:
    """A node's source text on one line (runs of whitespace become one space)."""
    span = node.span  # type: ignore[attr-defined]
    return " ".join(span.text.split())


def _stages(expr: A.Expr) -> list[tuple[A.Expr, str]]:
    """A steps line as (expression, label) pairs: one per pipeline stage."""
    return [(s.expr, _text(s.expr) + (f" as {s.name}" if s.name else ""))
            for s in A.stages_of(expr)]


def _parts(expr: A.Expr) -> list[tuple[A.Expr, str]]:
    """The parts of a composition: `a | b | c` or `compose(a, b, c)`."""
    if (isinstance(expr, A.CallExpr) and isinstance(expr.func, A.NameExpr)
            and expr.func.name == "compose" and expr.args):
        return [(a.value, _text(a.value)) for a in expr.args]
    return _stages(expr)


def _called_name(expr: A.Expr) -> str | None:
    """`name` for a step written `name` or `name(...)`."""
    if isinstance(expr, A.CallExpr):
        expr = expr.func
    return expr.name if isinstance(expr, A.NameExpr) else None


# ------------------------------------------------------------------ Mermaid
_MERMAID_SHAPES = {"start": ("([", "])"), "end": ("([", "])"), "step": ("[", "]"),
                   "decision": ("{", "}"), "merge": ("((", "))"), "fork": ("{{", "}}"),
                   "join": ("{{", "}}")}
_MERMAID_ARROWS = {"flow": "-->", "back": "-.->", "error": "==>"}


def to_mermaid(graph: Graph) -> str:
    """Mermaid `flowchart TD` text; error edges are drawn thick and red (`linkStyle`)."""
    lines = ["flowchart TD"]
    _mermaid_members(graph.members, lines, 1)
    for e in graph.edges:
        label = f'|"{_mermaid_escape(e.label)}"|' if e.label else ""
        lines.append(f"    {e.source} {_MERMAID_ARROWS[e.kind]}{label} {e.target}")
    errors = [str(i) for i, e in enumerate(graph.edges) if e.kind == "error"]
    if errors:
        lines.append(f"    linkStyle {','.join(errors)} stroke:#c62828,color:#c62828")
    return "\n".join(lines) + "\n"


def _mermaid_members(members: list, lines: list[str], depth: int) -> None:
    pad = "    " * depth
    for m in members:
        if isinstance(m, Cluster):
            lines.append(f'{pad}subgraph {m.id} ["{_mermaid_escape(m.label)}"]')
            _mermaid_members(m.members, lines, depth + 1)
            lines.append(f"{pad}end")
        else:
            left, right = _MERMAID_SHAPES[m.kind]
            lines.append(f'{pad}{m.id}{left}"{_mermaid_escape(m.label) or " "}"{right}')


def _mermaid_escape(text: str) -> str:
    """Mermaid entity codes for characters that end or confuse a quoted label."""
    out = text.replace("#", "#35;")
    for char, code in (('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;")):
        out = out.replace(char, code)
    return out


# ------------------------------------------------------------------ DOT
_DOT_NODES = {"start": 'shape=oval', "end": 'shape=oval', "step": "",
              "decision": "shape=diamond, style=\"\"", "merge": "shape=point, width=0.12",
              "fork": "shape=hexagon, style=\"\"", "join": "shape=hexagon, style=\"\""}
_DOT_CLUSTERS = {"loop": "rounded", "workflow": "rounded,bold", "try": "dashed",
                 "finally": "dashed", "branch": "dotted"}
_DOT_EDGES = {"flow": "", "back": "style=dashed, constraint=false",
              "error": "color=\"#c62828\", fontcolor=\"#c62828\""}


def to_dot(graph: Graph) -> str:
    """Graphviz DOT text (`dot -Tsvg`); `compound=true` lets handler edges leave a cluster."""
    lines = [f"digraph {_dot_quote(graph.name)} {{", "    compound=true;",
             '    graph [fontname="Helvetica"];',
             '    node [shape=box, style=rounded, fontname="Helvetica"];',
             '    edge [fontname="Helvetica"];']
    _dot_members(graph.members, lines, 1)
    for e in graph.edges:
        attrs = [f"label={_dot_quote(e.label)}"] if e.label else []
        attrs += [a for a in (_DOT_EDGES[e.kind],) if a]
        source = e.source
        if e.anchor is not None:
            attrs.append(f"ltail=cluster_{e.source}")
            source = e.anchor
        tail = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"    {source} -> {e.target}{tail};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_members(members: list, lines: list[str], depth: int) -> None:
    pad = "    " * depth
    for m in members:
        if isinstance(m, Cluster):
            lines.append(f"{pad}subgraph cluster_{m.id} {{")
            lines.append(f"{pad}    label={_dot_quote(m.label)};")
            lines.append(f'{pad}    style="{_DOT_CLUSTERS[m.kind]}";')
            _dot_members(m.members, lines, depth + 1)
            lines.append(f"{pad}}}")
        else:
            attrs = ", ".join(a for a in (f"label={_dot_quote(m.label)}", _DOT_NODES[m.kind]) if a)
            lines.append(f"{pad}{m.id} [{attrs}];")


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
