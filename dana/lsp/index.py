"""Where each name of one Dana file is defined and used: the language server's symbol index.

Consumes: a parsed `Module` and the checker's `CheckResult` (expression types, to tell
which struct a `p.x` field access reads).
Produces: `Index(module, result)` with `defs` (every definition: functions, structs,
interfaces, workflows, fields, requirements, parameters, variables, imported names, each
with the span of its name) and `refs` (every use of a name, the definition included,
pointing at its `Def`). Names resolve lexically as the checker resolves them
(docs/language.md "Scopes"): a function's parameters and assigned names, then the
module's, else a builtin (no `Def`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from dana.source import Span
from dana.syntax import ast as A
from dana.types.types import StructT
from dana.types.walk import assigned_names, children

DECLARATION_KINDS = {A.FuncDecl: "function", A.StructDecl: "struct",
                     A.InterfaceDecl: "interface", A.WorkflowDecl: "workflow",
                     A.WorkflowComposeDecl: "workflow"}


@dataclass(eq=False)
class Def:
    """One definition. `node` is its AST node (None for an imported name); `members` are
    a struct's fields, an interface's methods or a workflow's requirements; `imported`
    is (module, name) for `from module import name`."""

    name: str
    kind: str
    span: Span
    node: Any = None
    members: dict[str, "Def"] = field(default_factory=dict)
    imported: tuple[str, str] | None = None
    container: "Def | None" = None


@dataclass(frozen=True)
class Ref:
    """One occurrence of a name at `span` (its definition's own name included)."""

    span: Span
    target: Def


class Index:
    """The definitions and references of one module."""

    def __init__(self, module: A.Module, types: dict[int, Any]) -> None:
        self.module = module
        self.types = types
        self.defs: list[Def] = []
        self.refs: list[Ref] = []
        self.top: dict[str, Def] = {}
        self.scopes: list[tuple[Span, dict[str, Def]]] = []  # function bodies, innermost last
        self.foreign: dict[tuple[str, str], Def] = {}  # members of imported structs
        for stmt in module.body:
            self._declare_top(stmt)
        for stmt in module.body:
            self._visit(stmt, [self.top])

    # ---------------------------------------------------------------- queries
    def ref_at(self, offset: int) -> Ref | None:
        """The reference whose span holds `offset` (the innermost), if any."""
        found = [r for r in self.refs if r.span.start <= offset <= r.span.end]
        return min(found, key=lambda r: r.span.end - r.span.start) if found else None

    def refs_to(self, target: Def) -> list[Ref]:
        return [r for r in self.refs if r.target is target]

    def scope_at(self, offset: int) -> dict[str, Def]:
        """Names visible at `offset`: the enclosing functions' locals over the module's."""
        names = dict(self.top)
        for span, scope in sorted(self.scopes, key=lambda s: s[0].start):
            if span.start <= offset <= span.end:
                names.update(scope)
        return names

    # ---------------------------------------------------------------- declarations
    def _define(self, name: str, kind: str, span: Span, node: Any = None, **extra: Any) -> Def:
        d = Def(name, kind, span, node, **extra)
        self.defs.append(d)
        self.refs.append(Ref(span, d))
        return d

    def _declare_top(self, stmt: A.Stmt) -> None:
        kind = DECLARATION_KINDS.get(type(stmt))
        if kind is not None and not getattr(stmt, "receiver", None):
            d = self._define(stmt.name, kind, name_span(stmt), stmt)
            self.top.setdefault(stmt.name, d)
            self._declare_members(d, stmt)
        elif isinstance(stmt, A.FuncDecl):
            self._define(stmt.name, "method", name_span(stmt), stmt)
        elif isinstance(stmt, (A.ImportStmt, A.FromImportStmt)):
            for name, d in self._imports(stmt):
                self.top.setdefault(name, d)
        elif isinstance(stmt, (A.AssignStmt, A.AnnAssignStmt, A.ForStmt)):
            targets = stmt.targets if isinstance(stmt, A.AssignStmt) else (stmt.target,)
            for target in targets:
                for node in _names_in(target):
                    if node.name not in self.top:
                        self.top[node.name] = self._define(node.name, "variable", node.span, node)

    def _declare_members(self, d: Def, stmt: Any) -> None:
        if isinstance(stmt, A.StructDecl):
            for f in stmt.fields:
                d.members[f.name] = self._member_def(f.name, "field", f.span, f, d)
        elif isinstance(stmt, A.InterfaceDecl):
            for m in stmt.methods:
                d.members[m.name] = self._member_def(m.name, "method", m.span, m, d)
        elif isinstance(stmt, A.WorkflowDecl):
            for r in stmt.requires:
                d.members[r.name] = self._member_def(r.name, "state key", r.span, r, d)

    def _member_def(self, name: str, kind: str, span: Span, node: Any, container: Def) -> Def:
        return self._define(name, kind, Span(span.source, span.start, span.start + len(name)),
                            node, container=container)

    def _imports(self, stmt: A.ImportStmt | A.FromImportStmt) -> Iterator[tuple[str, Def]]:
        text = stmt.span.text
        if isinstance(stmt, A.ImportStmt):
            bound = stmt.alias or stmt.module.split(".")[-1]
            yield bound, self._define(bound, "module", _word_span(stmt.span, text, bound, True),
                                      stmt, imported=(stmt.module, ""))
            return
        for name, alias in stmt.names:
            span = _word_span(stmt.span, text, alias or name, alias is not None)
            yield alias or name, self._define(alias or name, "import", span, stmt,
                                              imported=(stmt.module, name))

    # ---------------------------------------------------------------- uses
    def _visit(self, node: Any, scopes: list[dict[str, Def]]) -> None:
        if isinstance(node, A.FuncDecl):
            scopes = self._function_scope(node, scopes)
        elif isinstance(node, A.LambdaExpr):
            local = {p.name: self._define(p.name, "parameter", _param_span(p), p)
                     for p in node.params}
            self.scopes.append((node.span, local))
            scopes = scopes + [local]
        if isinstance(node, A.NameExpr):
            self._use(node.name, node.span, scopes)
        elif isinstance(node, A.TypeName):
            self._use(node.name, Span(node.span.source, node.span.start,
                                      node.span.start + len(node.name)), scopes)
        elif isinstance(node, A.AttributeExpr):
            self._attribute(node)
        elif isinstance(node, A.CallExpr):
            self._keywords(node, scopes)
        for child in children(node):
            self._visit(child, scopes)

    def _function_scope(self, node: A.FuncDecl, scopes: list[dict[str, Def]]) -> list:
        local: dict[str, Def] = {}
        params = node.params + ((node.receiver,) if node.receiver else ())
        for p in params:
            local[p.name] = self._define(p.name, "parameter", _param_span(p), p)
        for stmt_node in _walk_body(node.body):
            for name_node in _binding_names(stmt_node):
                if name_node.name not in local and name_node.name in assigned_names(node.body):
                    local[name_node.name] = self._define(name_node.name, "variable",
                                                         name_node.span, name_node)
        self.scopes.append((node.span, local))
        return scopes + [local]

    def _use(self, name: str, span: Span, scopes: list[dict[str, Def]]) -> None:
        for scope in reversed(scopes):
            d = scope.get(name)
            if d is not None:
                if d.span is not span:
                    self.refs.append(Ref(span, d))
                return

    def member(self, struct: str, member: str) -> Def | None:
        """The definition of field or receiver method `member` of struct `struct`; for a
        struct imported from another module, a stand-in naming it there."""
        d = self.top.get(struct)
        if d is None:
            return None
        if d.kind == "struct":
            if member in d.members:
                return d.members[member]
            return next((m for m in self.defs if m.kind == "method" and m.name == member
                         and _receiver_type(m.node) == struct), None)
        if d.kind == "import" and d.imported is not None:
            key = (d.imported[0], f"{d.imported[1]}.{member}")
            if key not in self.foreign:
                self.foreign[key] = Def(member, "field", d.span, imported=key)
            return self.foreign[key]
        return None

    def _attribute(self, node: A.AttributeExpr) -> None:
        t = self.types.get(id(node.obj))
        target = self.member(t.name, node.name) if isinstance(t, StructT) else None
        if target is not None:
            span = Span(node.span.source, node.span.end - len(node.name), node.span.end)
            self.refs.append(Ref(span, target))

    def _keywords(self, node: A.CallExpr, scopes: list[dict[str, Def]]) -> None:
        """`Point(x=1)`: each keyword names a field of the struct."""
        if not isinstance(node.func, A.NameExpr) or node.func.name not in self.top:
            return
        if self.top[node.func.name].kind not in ("struct", "import"):
            return
        for arg in node.args:
            target = self.member(node.func.name, arg.name) if arg.name else None
            if target is not None:
                span = Span(arg.span.source, arg.span.start, arg.span.start + len(arg.name))
                self.refs.append(Ref(span, target))


# ---------------------------------------------------------------- helpers
def name_span(stmt: Any) -> Span:
    """The span of a declaration's name (`def f`, `struct P`, `workflow w`)."""
    if getattr(stmt, "name_span", None) is not None:
        return stmt.name_span
    m = re.search(rf"\b{re.escape(stmt.name)}\b", stmt.span.text)
    start = stmt.span.start + (m.start() if m else 0)
    return Span(stmt.span.source, start, start + len(stmt.name))


def _param_span(p: A.Param) -> Span:
    m = re.search(rf"\b{re.escape(p.name)}\b", p.span.text)
    start = p.span.start + (m.start() if m else 0)
    return Span(p.span.source, start, start + len(p.name))


def _word_span(span: Span, text: str, word: str, last: bool) -> Span:
    matches = list(re.finditer(rf"\b{re.escape(word)}\b", text))
    m = matches[-1] if last and matches else (matches[0] if matches else None)
    start = span.start + (m.start() if m else 0)
    return Span(span.source, start, start + len(word))


def _names_in(target: Any) -> list[A.NameExpr]:
    if isinstance(target, A.NameExpr):
        return [target] if target.scope in (None, "local") else []
    if isinstance(target, (A.TupleExpr, A.ListExpr)):
        return [n for item in target.items for n in _names_in(item)]
    return []


def _walk_body(body: tuple) -> Iterator[Any]:
    """Nodes of a function body, not entering nested functions."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (A.FuncDecl, A.LambdaExpr)):
            stack.extend(reversed(list(children(node))))


def _binding_names(node: Any) -> list[A.NameExpr]:
    if isinstance(node, A.AssignStmt):
        return [n for t in node.targets for n in _names_in(t)]
    if isinstance(node, (A.AnnAssignStmt, A.ForStmt, A.AugAssignStmt)):
        return _names_in(node.target)
    if isinstance(node, A.CompFor):
        return _names_in(node.target)
    return []


def _receiver_type(node: A.FuncDecl) -> str | None:
    if node.receiver is not None and isinstance(node.receiver.annotation, A.TypeName):
        return node.receiver.annotation.name
    return None

