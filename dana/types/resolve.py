"""Name resolution: which definition each name of a module refers to, by Python's lexical
rules (docs/language.md "Scopes"; docs/architecture.md "The checker").

Consumes: a parsed `Module` and the `SymbolTable` it starts from (builtins, host
functions, an earlier REPL chunk's names).
Produces: `Resolution` — every name occurrence (a read, an assignment target, a
parameter, the name of a `def`, `struct`, `interface` or `workflow`, an imported name, a
type in an annotation) mapped to its `Binding`, with the span of the name; the bindings
of each scope (for completion); and the E0209 diagnostics of `nonlocal` statements.
A name bound anywhere in a function body (assigned, a loop or `except` target, an import,
a nested `def`, `f as name`) is local to that function, unless declared `nonlocal`;
otherwise it is an enclosing function's, the module's or a builtin. Members (struct
fields, receiver methods, interface methods, required state keys) are bindings too;
`resolve_members` resolves their uses after typing, from the types of the objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from dana.errors import Diagnostic
from dana.messages import checks as M
from dana.source import Span
from dana.surface import SHARED_SCOPES
from dana.syntax import ast as A
from dana.types.scope import (BUILTIN, FIELD, FUNC, IMPORTED, INTERFACE, METHOD, MODULE,
                              PARAM, STATE_KEY, STRUCT, VAR, WORKFLOW, SymbolTable)
from dana.types.types import ClassT, StructT, Type
from dana.types.walk import assigned_names, children, nonlocal_names, walk

DECLARATIONS = {A.FuncDecl: FUNC, A.StructDecl: STRUCT, A.InterfaceDecl: INTERFACE,
                A.WorkflowDecl: WORKFLOW, A.WorkflowComposeDecl: WORKFLOW}


@dataclass(eq=False)
class Binding:
    """One definition names can refer to. `kind` is a `dana.types.scope` kind (`var`,
    `param`, `function`, `struct`, ..., `builtin`; `import` for `from m import n`; `field`,
    `method`, `state key` for members); `span` is its name where it is first defined (None
    for a builtin or a name bound before the module); `node` its declaration (a
    `FuncDecl`, `StructDecl`, `Param`, `FieldDecl`, ...; for a variable the first target);
    `owner` the node whose scope holds it (the `Module`, a `FuncDecl`, `LambdaExpr`,
    `ComprehensionExpr` or `WorkflowDecl`; None for builtins); `members` a struct's fields
    and receiver methods, an interface's methods, a workflow's required state keys, each
    with `container` set; `imported` is (module, name) for `from module import name`,
    (module, "") for `import module`."""

    name: str
    kind: str
    span: Span | None = None
    node: Any = None
    owner: Any = None
    members: dict[str, "Binding"] = field(default_factory=dict)
    container: "Binding | None" = None
    imported: tuple[str, str] | None = None


@dataclass(frozen=True)
class Ref:
    """One occurrence of a binding's name at `span` (its definitions included); `node` is
    the node naming it there (a `NameExpr`, `Param`, declaration, ...)."""

    span: Span
    binding: Binding
    node: Any = None


@dataclass
class Resolution:
    """The output of resolution (see the module docstring). `bindings` is keyed by
    `id(node)` of each name node (`NameExpr`, `Param`, a declaration, `TypeName`); `nodes`
    keeps those nodes alive. `top` holds the module's own names, `scopes` the names of
    each function, lambda, comprehension and workflow with the span of its node."""

    bindings: dict[int, Binding] = field(default_factory=dict)
    nodes: dict[int, Any] = field(default_factory=dict, repr=False)
    refs: list[Ref] = field(default_factory=list)
    top: dict[str, Binding] = field(default_factory=dict)
    scopes: list[tuple[Span, dict[str, Binding]]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    closure: set[int] = field(default_factory=set)

    def binding_of(self, node: Any) -> Binding | None:
        """The binding name node `node` refers to (None: undefined, scoped, or unseen)."""
        return self.bindings.get(id(node))

    def assigns_enclosing(self, node: A.NameExpr) -> bool:
        """Whether assignment target `node` assigns an enclosing function's variable
        (its function declared it `nonlocal`)."""
        return id(node) in self.closure

    def ref_at(self, offset: int) -> Ref | None:
        """The occurrence whose span holds `offset` (the innermost), if any."""
        found = [r for r in self.refs if r.span.start <= offset <= r.span.end]
        return min(found, key=lambda r: r.span.end - r.span.start) if found else None

    def references(self, binding: Binding) -> list[Ref]:
        """Every occurrence of `binding`, its definitions included, in source order."""
        return sorted((r for r in self.refs if r.binding is binding),
                      key=lambda r: r.span.start)

    def visible_at(self, offset: int) -> dict[str, Binding]:
        """The names visible at `offset`: the module's, under the enclosing scopes'."""
        names = dict(self.top)
        for span, scope in sorted(self.scopes, key=lambda s: s[0].start):
            if span.start <= offset <= span.end:
                names.update(scope)
        return names

    def member(self, struct: str, name: str) -> Binding | None:
        """Field or receiver method `name` of the module's struct `struct`."""
        container = self.top.get(struct)
        return container.members.get(name) if container is not None else None

    def definitions(self) -> list[Binding]:
        """Every binding defined in the module, in the order of its first definition."""
        seen = {id(r.binding): r.binding for r in sorted(self.refs, key=lambda r: r.span.start)
                if r.span == r.binding.span}
        return list(seen.values())

    def imported(self) -> list[Binding]:
        """The bindings that stand for another module's names (`from m import n`, `import
        m`, and the members of an imported struct that this module uses)."""
        seen = {id(r.binding): r.binding for r in self.refs if r.binding.imported}
        return list(seen.values())


def resolve_names(module: A.Module, start: SymbolTable) -> Resolution:
    """Resolve every name of `module` (never raises for a mistake in the program: a
    misplaced `nonlocal` is a diagnostic, an undefined name is left to the typing pass,
    which reports it where the read is checked)."""
    out = Resolution()
    walker = _Walk(out)
    scope = walker.scope(module, module.body, _outer(start), set(), "module")
    out.top = scope.names
    walker.body(module.body, scope)
    walker.attach_methods()
    return out


def resolve_members(module: A.Module, out: Resolution, types: dict[int, Type]) -> None:
    """Resolve `p.x` (a field or method of the struct `p` has, by the checker's `types`)
    and `Point(x=1)` (a keyword naming a field) to the members they use."""
    for node in _all(module):
        if isinstance(node, A.AttributeExpr):
            t = types.get(id(node.obj))
            target = _member(out, t.name, node.name) if isinstance(t, StructT) else None
            if target is not None:
                span = Span(node.span.source, node.span.end - len(node.name), node.span.end)
                out.refs.append(Ref(span, target, node))
        elif isinstance(node, A.CallExpr) and _constructs(node, types):
            struct = out.binding_of(node.func)
            for arg in node.args if struct is not None else ():
                target = _member(out, struct.name, arg.name, struct) if arg.name else None
                if target is not None:
                    span = Span(arg.span.source, arg.span.start, arg.span.start + len(arg.name))
                    out.refs.append(Ref(span, target, arg))


def _constructs(call: A.CallExpr, types: dict[int, Type]) -> bool:
    """Whether `call` builds a struct by its name (`Point(x=1)`)."""
    t = types.get(id(call.func))
    return isinstance(call.func, A.NameExpr) and isinstance(t, ClassT) \
        and isinstance(t.of, StructT)


def _member(out: Resolution, struct: str, name: str,
            container: Binding | None = None) -> Binding | None:
    """A member of struct `struct` of this module, or of one it imports (a stand-in
    binding whose `imported` names it there: (module, "Struct.member"))."""
    container = container or out.top.get(struct)
    if container is None:
        return None
    if container.kind == STRUCT:
        return container.members.get(name)
    if container.kind == IMPORTED and container.imported is not None:
        found = container.members.get(name)
        if found is None:
            module, imported = container.imported
            found = container.members[name] = Binding(
                name, FIELD, container.span, container=container,
                imported=(module, f"{imported}.{name}"))
        return found
    return None


@dataclass
class _Scope:
    """One lexical scope while resolving: its `owner` node, its names (created for every
    name bound in it before its body is walked), and the names it declares `nonlocal`."""

    owner: Any
    kind: str
    names: dict[str, Binding]
    parent: "_Scope | None"
    nonlocals: set[str] = field(default_factory=set)

    def lookup(self, name: str) -> Binding | None:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.names and name not in scope.nonlocals:
                return scope.names[name]
            scope = scope.parent
        return None

    def enclosing(self, name: str) -> Binding | None:
        """The binding `nonlocal name` refers to: an enclosing function's variable."""
        scope = self.parent
        while scope is not None and scope.kind == "function":
            if name in scope.names and name not in scope.nonlocals:
                return scope.names[name]
            scope = scope.parent
        return None


class _Walk:
    """The walk of `resolve_names` (see the module docstring)."""

    def __init__(self, out: Resolution) -> None:
        self.out = out
        self.methods: list[tuple[str, Binding]] = []  # (receiver type name, method)
        self.targets: set[int] = set()  # names an assignment or loop binds

    # ---------------------------------------------------------------- scopes
    def scope(self, owner: Any, body: tuple, parent: _Scope, params: set[str],
              kind: str = "function") -> _Scope:
        """The scope of `owner`: its `params`, and every name its `body` binds (but
        those it declares `nonlocal`), each a binding not yet defined."""
        nonlocal_ = nonlocal_names(body)
        bound = assigned_names(body) | {n.name for stmt in body for node in walk(stmt)
                                        if isinstance(node, A.ParallelForStmt)
                                        for n in _names_in(node.target)}
        names = {n: Binding(n, VAR, owner=owner) for n in sorted(bound - nonlocal_ - params)}
        names.update({n: Binding(n, PARAM, owner=owner) for n in sorted(params)})
        if kind != "module":
            self.out.scopes.append((owner.span, names))
        return _Scope(owner, kind, names, parent, nonlocal_)

    def body(self, stmts: tuple, scope: _Scope) -> None:
        for stmt in stmts:
            self.visit(stmt, scope)

    def define(self, scope: _Scope, name: str, kind: str, span: Span, node: Any,
               recorded: bool = True, **extra: Any) -> Binding:
        """The binding of `name` in `scope`, given its kind, span and node where first
        defined; the occurrence is recorded (and `node -> binding` unless not
        `recorded`: a statement that binds several names)."""
        b = scope.lookup(name) if name in scope.nonlocals else scope.names.get(name)
        if b is None:
            b = scope.names[name] = Binding(name, kind, owner=scope.owner)
        if b.span is None and b.kind != BUILTIN:
            b.kind, b.span, b.node = kind, span, node
            for key, value in extra.items():
                setattr(b, key, value)
        self.use(node if recorded else None, span, b)
        return b

    def use(self, node: Any, span: Span, b: Binding) -> None:
        if node is not None:
            self.out.bindings[id(node)] = b
            self.out.nodes[id(node)] = node
        self.out.refs.append(Ref(span, b, node))

    # ---------------------------------------------------------------- nodes
    def visit(self, node: Any, scope: _Scope) -> None:
        rule = _RULES.get(type(node))
        if rule is not None:
            rule(self, node, scope)
            return
        for target in _targets(node):
            self.targets.update(id(n) for n in _names_in(target))
        for child in children(node):
            self.visit(child, scope)

    def name(self, node: A.NameExpr, scope: _Scope) -> None:
        if node.scope in SHARED_SCOPES:
            return
        b = scope.lookup(node.name)
        if b is None:
            return
        if b.span is None and b.kind == VAR and id(node) in self.targets:
            b.span, b.node = node.span, node
        if node.name in scope.nonlocals:
            self.out.closure.add(id(node))
        self.use(node, node.span, b)

    def type_name(self, node: A.TypeName, scope: _Scope) -> None:
        b = scope.lookup(node.name)
        if b is not None and b.kind in (STRUCT, INTERFACE, IMPORTED):
            self.use(node, Span(node.span.source, node.span.start,
                                node.span.start + len(node.name)), b)
        for arg in node.args:
            self.visit(arg, scope)

    def params(self, params: tuple, scope: _Scope, inner: _Scope) -> None:
        """Defaults and annotations in the enclosing `scope`; names bound in `inner`."""
        for p in params:
            self.parts(scope, p.annotation, p.default)
            self.define(inner, p.name, PARAM, word_span(p.span, p.name), p)

    def func(self, node: A.FuncDecl, scope: _Scope) -> None:
        self.parts(scope, *node.decorators, node.returns)
        params = ((node.receiver,) if node.receiver else ()) + node.params
        if node.receiver is None:
            self.define(scope, node.name, FUNC, name_span(node), node)
        else:
            method = Binding(node.name, METHOD, name_span(node), node, scope.owner)
            self.use(node, method.span, method)
            receiver = node.receiver.annotation
            if isinstance(receiver, A.TypeName):
                self.methods.append((receiver.name, method))
        inner = self.scope(node, node.body, scope, {p.name for p in params})
        self.params(params, scope, inner)
        self.body(node.body, inner)

    def lambda_expr(self, node: A.LambdaExpr, scope: _Scope) -> None:
        inner = self.scope(node, (), scope, {p.name for p in node.params}, "lambda")
        self.params(node.params, scope, inner)
        self.visit(node.body, inner)

    def comprehension(self, node: A.ComprehensionExpr, scope: _Scope) -> None:
        targets = [n for c in node.clauses if isinstance(c, A.CompFor)
                   for n in _names_in(c.target)]
        self.targets.update(id(n) for n in targets)
        inner = _Scope(node, "comprehension",
                       {n.name: Binding(n.name, VAR, owner=node) for n in targets}, scope)
        self.out.scopes.append((node.span, inner.names))
        for i, clause in enumerate(node.clauses):
            if isinstance(clause, A.CompFor):
                self.visit(clause.iter, scope if i == 0 else inner)
                self.visit(clause.target, inner)
            else:
                self.visit(clause.cond, inner)
        self.parts(inner, node.element, node.value)

    def nonlocal_stmt(self, node: A.NonlocalStmt, scope: _Scope) -> None:
        """Python's rules (E0209): inside a function, naming a variable of an enclosing
        function that is not one of this function's parameters."""
        if scope.kind == "module":
            self.report(M.NONLOCAL_AT_MODULE, node.span)
            return
        for name in node.names:
            own = scope.names.get(name)
            found = scope.enclosing(name)
            if own is not None and own.kind == PARAM:
                self.report(M.NONLOCAL_PARAM, node.span, name=name)
            elif found is None:
                self.report(M.NONLOCAL_UNBOUND, node.span, name=name)
            else:
                self.use(None, word_span(node.span, name), found)

    def report(self, msg: M.Msg, span: Span, **fields: object) -> None:
        self.out.diagnostics.append(Diagnostic(msg.format(**fields), span, msg.code,
                                               msg.severity))

    def parts(self, scope: _Scope, *nodes: Any) -> None:
        """Visit each of `nodes` that is there (optional parts: None when absent)."""
        for node in nodes:
            if node is not None:
                self.visit(node, scope)

    def struct(self, node: A.StructDecl, scope: _Scope) -> None:
        b = self.define(scope, node.name, STRUCT, name_span(node), node)
        for f in node.fields:
            self.member(b, f.name, FIELD, f)
            self.parts(scope, f.annotation, f.default)

    def interface(self, node: A.InterfaceDecl, scope: _Scope) -> None:
        b = self.define(scope, node.name, INTERFACE, name_span(node), node)
        for m in node.methods:
            self.member(b, m.name, METHOD, m)
            self.parts(scope, *[p.annotation for p in m.params], m.returns)

    def member(self, container: Binding, name: str, kind: str, node: Any) -> None:
        span = Span(node.span.source, node.span.start, node.span.start + len(name))
        m = container.members[name] = Binding(name, kind, span, node, container.owner,
                                              container=container)
        self.use(node, span, m)

    def workflow(self, node: A.WorkflowDecl, scope: _Scope) -> None:
        b = self.define(scope, node.name, WORKFLOW, name_span(node), node)
        for r in node.requires:
            self.member(b, r.name, STATE_KEY, r)
        self.parts(scope, *[r.annotation for r in node.requires], node.returns)
        inner = self.scope(node, node.steps, scope, {"state"} | {p.name for p in node.params})
        self.params(node.params, scope, inner)
        for _, value in node.settings:
            self.visit(value, inner)
        self.body(node.steps, inner)

    def compose(self, node: A.WorkflowComposeDecl, scope: _Scope) -> None:
        self.define(scope, node.name, WORKFLOW, name_span(node), node)
        self.visit(node.expr, self.scope(node, (), scope, {"state"}))

    def handler(self, node: A.Handler, scope: _Scope) -> None:
        self.parts(scope, node.type)
        if node.name:
            self.define(scope, node.name, VAR, _after_as(node.span, node.name), node)
        self.body(node.body, scope)

    def stage(self, node: A.PipeStage, scope: _Scope) -> None:
        self.visit(node.expr, scope)
        if node.name:
            self.define(scope, node.name, VAR, _after_as(node.span, node.name), node)

    def import_stmt(self, node: A.ImportStmt, scope: _Scope) -> None:
        bound = node.alias or node.module.split(".")[-1]
        self.define(scope, bound, MODULE, word_span(node.span, bound, True), node,
                    imported=(node.module, ""))

    def from_import(self, node: A.FromImportStmt, scope: _Scope) -> None:
        for name, alias in node.names:
            bound = alias or name
            self.define(scope, bound, IMPORTED, word_span(node.span, bound, alias is not None),
                        node, recorded=False, imported=(node.module, name))

    def attach_methods(self) -> None:
        """Receiver methods become members of the module's struct they are defined on."""
        for struct, method in self.methods:
            container = self.out.top.get(struct)
            if container is not None and container.kind == STRUCT:
                container.members.setdefault(method.name, method)
                method.container = container


_RULES = {
    A.NameExpr: _Walk.name, A.TypeName: _Walk.type_name,
    A.FuncDecl: _Walk.func, A.LambdaExpr: _Walk.lambda_expr,
    A.ComprehensionExpr: _Walk.comprehension, A.NonlocalStmt: _Walk.nonlocal_stmt,
    A.StructDecl: _Walk.struct, A.InterfaceDecl: _Walk.interface,
    A.WorkflowDecl: _Walk.workflow, A.WorkflowComposeDecl: _Walk.compose,
    A.Handler: _Walk.handler, A.PipeStage: _Walk.stage,
    A.ImportStmt: _Walk.import_stmt, A.FromImportStmt: _Walk.from_import,
}
"""The node classes resolution treats specially; any other node's children are visited
in the same scope."""


def _outer(start: SymbolTable) -> _Scope:
    """The names bound before the module (builtins, host functions, an earlier chunk's),
    as the outermost scopes."""
    scope: _Scope | None = None
    for table in reversed(list(start.chain())):
        names = {n: Binding(n, BUILTIN if s.kind == BUILTIN else s.kind, s.span)
                 for n, s in table.symbols.items()}
        scope = _Scope(None, "builtins", names, scope)
    return scope if scope is not None else _Scope(None, "builtins", {}, None)


# ---------------------------------------------------------------- spans of names
def name_span(node: Any) -> Span:
    """The span of a declaration's name (`def f`, `struct P`, `workflow w`)."""
    if getattr(node, "name_span", None) is not None:
        return node.name_span
    return word_span(node.span, node.name)


def word_span(span: Span, word: str, last: bool = False) -> Span:
    """The span of the first (or `last`) whole word `word` inside `span` (its start when
    there is none)."""
    matches = list(re.finditer(rf"\b{re.escape(word)}\b", span.text))
    m = (matches[-1] if last else matches[0]) if matches else None
    start = span.start + (m.start() if m else 0)
    return Span(span.source, start, start + len(word))


def _after_as(span: Span, name: str) -> Span:
    """The span of `name` in `... as name` (an `except` handler, a pipeline stage)."""
    m = re.search(rf"\bas\s+({re.escape(name)})\b", span.text)
    start = span.start + (m.start(1) if m else 0)
    return Span(span.source, start, start + len(name))


def _targets(node: Any) -> tuple:
    """The assignment or loop targets of statement `node`."""
    if isinstance(node, A.AssignStmt):
        return node.targets
    if isinstance(node, (A.AnnAssignStmt, A.ForStmt, A.ParallelForStmt)):
        return (node.target,)
    return ()


def _names_in(target: Any) -> list[A.NameExpr]:
    """The plain names an assignment target binds."""
    if isinstance(target, A.NameExpr):
        return [target] if target.scope in (None, "local") else []
    if isinstance(target, (A.TupleExpr, A.ListExpr)):
        return [n for item in target.items for n in _names_in(item)]
    return []


def _all(node: Any) -> Iterator[Any]:
    yield node
    for child in children(node):
        yield from _all(child)
