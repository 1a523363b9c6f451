"""The answers of the language server, computed from analysed documents.

Consumes: `Analysis` objects (dana.lsp.document) of the document asked about and of the
workspace's other files, and 0-based offsets.
Produces: lsprotocol values for hover, completion, signature help, document symbols,
definitions and references (see dana/lsp/server.py for the wiring, docs/tools.md for
what each feature offers).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Protocol

from lsprotocol import types as L

from dana.lsp.document import Analysis
from dana.source import Span
from dana.surface import CONSTANTS, KEYWORDS, STEP_OPTIONS
from dana.syntax import ast as A
from dana.types.resolve import Binding, Ref
from dana.types.scope import (FIELD, FUNC, IMPORTED, INTERFACE, METHOD, MODULE, PARAM,
                              STATE_KEY, STRUCT, VAR, WORKFLOW, builtin_scope)
from dana.types.signatures import STATE_MEMBERS, methods_of
from dana.types.state_analysis import collect_effects
from dana.types.types import FunctionT, StateT, StructT, Type

SYMBOL_KINDS = {FUNC: L.SymbolKind.Function, METHOD: L.SymbolKind.Method,
                STRUCT: L.SymbolKind.Struct, INTERFACE: L.SymbolKind.Interface,
                WORKFLOW: L.SymbolKind.Class, FIELD: L.SymbolKind.Field,
                STATE_KEY: L.SymbolKind.Key, VAR: L.SymbolKind.Variable,
                PARAM: L.SymbolKind.Variable, IMPORTED: L.SymbolKind.Module,
                MODULE: L.SymbolKind.Module}
COMPLETION_KINDS = {FUNC: L.CompletionItemKind.Function,
                    METHOD: L.CompletionItemKind.Method,
                    STRUCT: L.CompletionItemKind.Struct,
                    INTERFACE: L.CompletionItemKind.Interface,
                    WORKFLOW: L.CompletionItemKind.Class,
                    FIELD: L.CompletionItemKind.Field,
                    STATE_KEY: L.CompletionItemKind.Property,
                    VAR: L.CompletionItemKind.Variable,
                    PARAM: L.CompletionItemKind.Variable,
                    IMPORTED: L.CompletionItemKind.Module,
                    MODULE: L.CompletionItemKind.Module}
LABELS = {VAR: "variable", PARAM: "parameter"}
"""How hover names a binding's kind, where it differs from the kind."""


Units = Callable[[str], int]
"""How many code units of the negotiated position encoding a text takes (UTF-16 unless
the client asked for another: pygls's `PositionCodec.client_num_units`)."""


def lsp_range(span: Span, units: Units) -> L.Range:
    """`span` as an LSP range: 0-based lines, characters counted in `units`."""
    return L.Range(_position(span.source, span.start, units),
                   _position(span.source, span.end, units))


def _position(source: Any, offset: int, units: Units) -> L.Position:
    line, col = source.line_col(offset)
    return L.Position(line - 1, units(source.line_text(line)[:col - 1]))


# ---------------------------------------------------------------- hover
def hover(doc: Analysis, offset: int, modules: "ModuleSource",
          units: Units) -> L.Hover | None:
    """The type of the name or expression at `offset`; a function's signature and
    docstring (and, for a step, the state keys it reads and writes); a struct's fields; a
    workflow's parameters and required state. An imported name is described where it is
    defined."""
    if doc.names is None:
        return None
    ref = doc.names.ref_at(offset)
    if ref is not None:
        home, target = doc, ref.binding
        if target.imported is not None:
            home, target = modules.origin(doc, target) or (doc, target)
        text = describe(home, target, _type_at(doc, ref))
        return L.Hover(L.MarkupContent(L.MarkupKind.Markdown, text), lsp_range(ref.span, units))
    node = _innermost_expr(doc, offset)
    if node is None or doc.result is None:
        return None
    t = doc.result.type_of(node)
    if t is None:
        return None
    return L.Hover(L.MarkupContent(L.MarkupKind.Markdown, f"```dana\n{t}\n```"),
                   lsp_range(node.span, units))


def describe(doc: Analysis, d: Binding, used_as: Type | None = None) -> str:
    """Markdown for a definition; `used_as` is the checker's type of the name where it is
    hovered (else its annotation is shown)."""
    node = d.node
    if d.kind in (FUNC, METHOD) and isinstance(node, A.FuncDecl):
        text = f"```dana\n{signature_text(node)}\n```"
        if node.docstring:
            text += "\n\n" + node.docstring.strip()
        return text + _state_effects(doc, node)
    if d.kind == STRUCT:
        fields = "\n".join(f"    {f.name}: {f.annotation.span.text}" for f in node.fields)
        return f"```dana\nstruct {d.name}:\n{fields}\n```" + _doc(node)
    if d.kind == WORKFLOW and isinstance(node, A.WorkflowDecl):
        params = ", ".join(p.span.text for p in node.params)
        reqs = "\n".join(f"- `{r.name}: {r.annotation.span.text}`" for r in node.requires)
        return (f"```dana\nworkflow {d.name}({params})\n```" + _doc(node)
                + ("\n\nRequired state:\n" + reqs if reqs else ""))
    if d.kind == INTERFACE:
        return f"```dana\ninterface {d.name}\n```" + _doc(node)
    shown = used_as if used_as is not None else _declared(node)
    kind = LABELS.get(d.kind, d.kind)
    return f"```dana\n{d.name}: {shown}\n```\n\n({kind})" if shown else f"({kind}) `{d.name}`"


def signature_text(node: A.FuncDecl) -> str:
    receiver = f"({node.receiver.span.text[1:-1]}) " if node.receiver else ""
    params = ", ".join(p.span.text for p in node.params)
    returns = f" -> {node.returns.span.text}" if node.returns else ""
    return f"def {receiver}{node.name}({params}){returns}"


def _doc(node: Any) -> str:
    text = getattr(node, "docstring", None)
    return "\n\n" + text.strip() if text else ""


def _declared(node: Any) -> str | None:
    annotation = getattr(node, "annotation", None)
    return annotation.span.text if annotation is not None else None


def _state_effects(doc: Analysis, node: A.FuncDecl) -> str:
    names = {p.name for p in node.params
             if isinstance(p.annotation, A.TypeName) and p.annotation.name == "WorkflowState"}
    if not names or doc.result is None:
        return ""
    fx = collect_effects(node.body, names, doc.result.types, lambda call, where: None)
    lines = []
    if fx.reads:
        lines.append("Reads state: " + ", ".join(f"`{k}`" for k in sorted(fx.reads)))
    if fx.writes:
        lines.append("Writes state: " + ", ".join(f"`{k}`" for k in sorted(fx.writes)))
    return "\n\n" + "\n\n".join(lines) if lines else ""


def _type_at(doc: Analysis, ref: Ref) -> Type | None:
    """The checker's type of the name at `ref`: the type of the expression there (the
    narrowed one at a read, the assigned one at a target), or a parameter's symbol's."""
    if doc.result is None or ref.node is None:
        return None
    found = doc.result.type_of(ref.node)
    if found is None and isinstance(ref.node, A.Param):
        symbol = doc.result.symbol_of(ref.node)
        found = symbol.type if symbol is not None else None
    return found


def _innermost_expr(doc: Analysis, offset: int) -> Any:
    """The smallest expression node whose span holds `offset` and that the checker typed."""
    best = None
    for node in _all_nodes(doc.module):
        if node.span.start <= offset <= node.span.end and doc.result is not None \
                and doc.result.type_of(node) is not None:
            if best is None or node.span.end - node.span.start < best.span.end - best.span.start:
                best = node
    return best


def _all_nodes(module: Any) -> list[Any]:
    from dana.types.walk import children
    out, stack = [], [module]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(children(node))
    return out


# ---------------------------------------------------------------- completion
_MEMBER = re.compile(r"([A-Za-z_][\w.]*)\.(\w*)$")
_IMPORT_FROM = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+(\(?[\w\s,]*)$")
_IMPORT = re.compile(r"^\s*(import|from)\s+([\w.]*)$")
_STEP_OPTIONS = re.compile(r"@step\(([^)]*)$")


def completion(doc: Analysis, offset: int, modules: "ModuleSource") -> list[L.CompletionItem]:
    """What may be typed at `offset`, from the text of its line before it."""
    text = doc.source.text
    line = text[text.rfind("\n", 0, offset) + 1:offset]
    if (m := _STEP_OPTIONS.search(line)) is not None:
        return [L.CompletionItem(f"{o.name}=", kind=L.CompletionItemKind.Property,
                                 detail=o.type, documentation=o.doc) for o in STEP_OPTIONS]
    if (m := _IMPORT_FROM.match(line)) is not None:
        return [_item(d) for d in modules.members(m.group(1), doc)]
    if (m := _IMPORT.match(line)) is not None:
        return [L.CompletionItem(name, kind=L.CompletionItemKind.Module)
                for name in modules.names(doc)]
    if (m := _MEMBER.search(line)) is not None:
        return members(doc, m.group(1), offset, modules)
    return names_in_scope(doc, offset)


def names_in_scope(doc: Analysis, offset: int) -> list[L.CompletionItem]:
    items = {}
    for name, sym in builtin_scope().symbols.items():
        items[name] = L.CompletionItem(name, kind=L.CompletionItemKind.Function,
                                       detail=str(sym.type))
    for k in KEYWORDS:
        items.setdefault(k.word, L.CompletionItem(k.word, kind=L.CompletionItemKind.Keyword,
                                                  documentation=k.doc))
    for word in CONSTANTS:
        items.setdefault(word, L.CompletionItem(word, kind=L.CompletionItemKind.Constant))
    if doc.names is not None:
        for name, d in doc.names.visible_at(offset).items():
            items[name] = _item(d)
    return list(items.values())


def members(doc: Analysis, receiver: str, offset: int,
            modules: "ModuleSource") -> list[L.CompletionItem]:
    """Members after `receiver.`: state keys of `state`, a module's names, a struct's
    fields and methods, a builtin type's methods."""
    scope = doc.names.visible_at(offset) if doc.names else {}
    target = scope.get(receiver)
    if target is not None and target.kind == MODULE and target.imported:
        return [_item(d) for d in modules.members(target.imported[0], doc)]
    t = _receiver_type(doc, receiver, offset)
    if receiver == "state" or (t is not None and str(t) == "WorkflowState"):
        return state_keys(doc)
    if isinstance(t, StructT):
        items = [L.CompletionItem(n, kind=L.CompletionItemKind.Field, detail=str(f.type))
                 for n, f in t.fields.items()]
        methods = {**t.loose_methods, **t.methods}
        return items + [L.CompletionItem(n, kind=L.CompletionItemKind.Method, detail=str(m))
                        for n, m in methods.items()]
    found = methods_of(t) if t is not None else None
    return [L.CompletionItem(n, kind=L.CompletionItemKind.Method, detail=str(m))
            for n, m in (found or {}).items()]


def _receiver_type(doc: Analysis, receiver: str, offset: int) -> Type | None:
    """The checker's type of the expression spelled `receiver` nearest before `offset`."""
    if doc.result is None or doc.module is None:
        return None
    best = None
    for node in _all_nodes(doc.module):
        if isinstance(node, (A.NameExpr, A.AttributeExpr)) and node.span.text == receiver \
                and node.span.start < offset and doc.result.type_of(node) is not None:
            if best is None or node.span.start > best.span.start:
                best = node
    return doc.result.type_of(best) if best is not None else None


def state_keys(doc: Analysis) -> list[L.CompletionItem]:
    """`state.` completions: keys some workflow requires, keys some step writes (through
    any value the checker typed `WorkflowState`), and the state's own members (version,
    history(), ...)."""
    keys: dict[str, str] = {}
    for b in doc.names.definitions() if doc.names else []:
        if b.kind == STATE_KEY:
            keys[b.name] = b.node.annotation.span.text
    for node in _all_nodes(doc.module) if doc.module and doc.result else []:
        if isinstance(node, (A.AssignStmt, A.AugAssignStmt, A.AnnAssignStmt)):
            targets = node.targets if isinstance(node, A.AssignStmt) else (node.target,)
            for t in targets:
                if isinstance(t, A.AttributeExpr) \
                        and isinstance(doc.result.type_of(t.obj), StateT):
                    keys.setdefault(t.name, "written by a step")
    items = [L.CompletionItem(k, kind=L.CompletionItemKind.Property, detail=v)
             for k, v in keys.items()]
    return items + [L.CompletionItem(k, kind=L.CompletionItemKind.Method, detail=str(t))
                    for k, t in STATE_MEMBERS.items()]


def _item(d: Binding) -> L.CompletionItem:
    detail = signature_text(d.node) if isinstance(d.node, A.FuncDecl) else d.kind
    return L.CompletionItem(d.name, kind=COMPLETION_KINDS.get(d.kind), detail=detail)


class ModuleSource(Protocol):
    """What completion and signature help ask about other modules (the workspace)."""

    def names(self, doc: Analysis) -> list[str]:
        """Module names `import` can load from `doc`."""

    def members(self, module: str, doc: Analysis) -> list[Binding]:
        """The top-level definitions of `module` as imported from `doc`."""

    def origin(self, doc: Analysis, d: Binding) -> tuple[Analysis, Binding] | None:
        """An imported name followed to its definition."""


# ---------------------------------------------------------------- signature help
def signature_help(doc: Analysis, offset: int,
                   modules: "ModuleSource") -> L.SignatureHelp | None:
    """The signature of the call whose parentheses hold `offset`, the parameter being
    typed marked active."""
    found = _open_call(doc.source.text, offset)
    if found is None:
        return None
    callee, active = found
    label, params, documentation = _callable(doc, callee, offset, modules)
    if label is None:
        return None
    info = L.SignatureInformation(label, documentation=documentation,
                                  parameters=[L.ParameterInformation(p) for p in params])
    return L.SignatureHelp([info], active_signature=0,
                           active_parameter=min(active, max(len(params) - 1, 0)))


def _open_call(text: str, offset: int) -> tuple[str, int] | None:
    """(callee text, index of the argument at `offset`) of the innermost open call."""
    depth, commas, i = 0, 0, offset - 1
    while i >= 0:
        ch = text[i]
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth == 0:
                if ch != "(":
                    return None
                m = re.search(r"([A-Za-z_][\w.]*)\s*$", text[:i])
                return (m.group(1), commas) if m else None
            depth -= 1
        elif ch == "," and depth == 0:
            commas += 1
        elif ch == "\n" and text[i + 1:offset].strip() == "" and depth == 0 and commas == 0:
            pass
        i -= 1
    return None


def _callable(doc: Analysis, callee: str, offset: int,
              modules: "ModuleSource") -> tuple[str | None, list[str], str | None]:
    name = callee.split(".")[-1]
    scope = doc.names.visible_at(offset) if doc.names else {}
    d = scope.get(callee)
    if d is not None and d.imported is not None:
        found = modules.origin(doc, d)
        d = found[1] if found is not None else None
    if d is None and "." in callee and doc.names is not None:
        d = next((x for x in doc.names.definitions() if x.kind == METHOD and x.name == name),
                 None)
    if d is not None and isinstance(d.node, A.FuncDecl):
        return signature_text(d.node), [p.span.text for p in d.node.params], d.node.docstring
    if d is not None and d.kind == STRUCT:
        fields = [f.span.text.strip() for f in d.node.fields]
        return f"{d.name}({', '.join(fields)})", fields, None
    t = builtin_scope().symbols.get(callee)
    if t is not None and isinstance(t.type, FunctionT):
        params = [f"{p.name}: {p.type}" for p in t.type.params]
        return f"{callee}({', '.join(params)}) -> {t.type.returns}", params, None
    return None, [], None


# ---------------------------------------------------------------- symbols
def document_symbols(doc: Analysis, units: Units) -> list[L.DocumentSymbol]:
    """The outline: top-level definitions with their fields, methods and requirements."""
    if doc.names is None:
        return []
    out = []
    for d in doc.names.definitions():
        if d.owner is not doc.module or d.imported or d.kind == PARAM \
                or d.container is not None and not isinstance(d.node, A.FuncDecl):
            continue
        full = lsp_range(d.node.span, units) \
            if d.node is not None and hasattr(d.node, "span") else lsp_range(d.span, units)
        children = [L.DocumentSymbol(m.name, SYMBOL_KINDS[m.kind], lsp_range(m.span, units),
                                     lsp_range(m.span, units)) for m in d.members.values()
                    if not isinstance(m.node, A.FuncDecl)]
        name = lsp_range(d.span, units)
        out.append(L.DocumentSymbol(d.name, SYMBOL_KINDS.get(d.kind, L.SymbolKind.Variable),
                                    _cover(full, name), name,
                                    children=children))
    return out


def _cover(outer: L.Range, inner: L.Range) -> L.Range:
    """`outer` widened to hold `inner` (LSP requires selectionRange inside range)."""
    start = min(outer.start, inner.start, key=lambda p: (p.line, p.character))
    end = max(outer.end, inner.end, key=lambda p: (p.line, p.character))
    return L.Range(start, end)
