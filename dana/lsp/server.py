"""`dana lsp`: the Dana language server, over stdio (pygls).

Consumes: LSP requests and notifications from an editor.
Produces: diagnostics (parser and checker, published after `DEBOUNCE_S` of quiet on
change, at once on open and save), hover, completion, signature help, definition,
references, rename, document and workspace symbols, and formatting through `dana fmt`
(docs/tools.md "dana lsp"). Positions, both ways, are counted in the code units of the
encoding negotiated at initialisation (pygls's position codec: UTF-16 unless the client
asks for another, as LSP requires); spans are character offsets.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from lsprotocol import types as L
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from dana.errors import DanaSyntaxError, Diagnostic
from dana.format import format_source
from dana.lsp import features as F
from dana.lsp.document import Analysis
from dana.lsp.workspace import Workspace
from dana.source import SourceFile, Span
from dana.syntax.grammar import keywords

DEBOUNCE_S = 0.3
_IDENTIFIER = re.compile(r"[^\W\d]\w*$")


class DanaServer(LanguageServer):
    """The pygls server with the Dana workspace attached."""

    def __init__(self, version: str) -> None:
        super().__init__("dana", version)
        self.files = Workspace()
        self.pending: dict[str, asyncio.Task] = {}

    def doc(self, uri: str) -> Analysis | None:
        """The analysis of the document at `uri` (its current text when open)."""
        path = _path(uri)
        if path is None:
            return None
        opened = self.workspace.text_documents.get(uri)
        if opened is not None:
            self.files.set_text(path, opened.source)
        return self.files.analysis(path)

    def offset(self, uri: str, doc: Analysis, position: L.Position) -> int:
        """The character offset in `doc` of a client's `position` (in its code units)."""
        lines = doc.source.text.split("\n")
        position = self.workspace.position_codec.position_from_client_units(lines, position)
        return doc.source.offset(position.line + 1, position.character + 1)

    def units(self, text: str) -> int:
        """How many code units of the negotiated position encoding `text` takes."""
        return self.workspace.position_codec.client_num_units(text)

    def range(self, span: Span) -> L.Range:
        return F.lsp_range(span, self.units)

    def location(self, doc: Analysis, span: Span) -> L.Location:
        return L.Location(_uri(doc), self.range(span))

    def publish(self, uri: str) -> None:
        doc = self.doc(uri)
        if doc is not None:
            self.text_document_publish_diagnostics(L.PublishDiagnosticsParams(
                uri=uri, diagnostics=[self.diagnostic(uri, d) for d in doc.diagnostics]))

    def diagnostic(self, uri: str, d: Diagnostic) -> L.Diagnostic:
        rng = self.range(d.span) if d.span is not None else \
            L.Range(L.Position(0, 0), L.Position(0, 0))
        related = [L.DiagnosticRelatedInformation(L.Location(uri, rng), note)
                   for note in d.notes]
        severity = L.DiagnosticSeverity.Error if d.severity == "error" else \
            L.DiagnosticSeverity.Warning
        return L.Diagnostic(rng, d.message, severity=severity, code=d.code or None,
                            source="dana", related_information=related or None)


def _path(uri: str) -> Path | None:
    fs = to_fs_path(uri)
    return Path(fs).resolve() if fs else None


def _uri(doc: Analysis) -> str:
    return from_fs_path(str(doc.source.path)) if doc.source.path else doc.source.name


def build(version: str) -> DanaServer:
    """The server with every feature registered."""
    server = DanaServer(version)

    @server.feature(L.INITIALIZED)
    def initialized(ls: DanaServer, params: L.InitializedParams) -> None:
        for folder in ls.workspace.folders.values():
            path = _path(folder.uri)
            if path is not None:
                ls.files.roots.append(path)
        if not ls.files.roots and ls.workspace.root_path:
            ls.files.roots.append(Path(ls.workspace.root_path).resolve())

    @server.feature(L.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DanaServer, params: L.DidOpenTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(L.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DanaServer, params: L.DidSaveTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(L.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: DanaServer, params: L.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        previous = ls.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()

        async def later() -> None:
            await asyncio.sleep(DEBOUNCE_S)
            ls.pending.pop(uri, None)
            ls.publish(uri)

        ls.pending[uri] = asyncio.ensure_future(later())

    @server.feature(L.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DanaServer, params: L.DidCloseTextDocumentParams) -> None:
        path = _path(params.text_document.uri)
        if path is not None:
            ls.files.close(path)

    @server.feature(L.TEXT_DOCUMENT_HOVER)
    def hover(ls: DanaServer, params: L.HoverParams) -> L.Hover | None:
        doc = ls.doc(params.text_document.uri)
        offset = ls.offset(params.text_document.uri, doc, params.position) if doc else 0
        return F.hover(doc, offset, ls.files, ls.units) if doc else None

    @server.feature(L.TEXT_DOCUMENT_COMPLETION,
                    L.CompletionOptions(trigger_characters=[".", "(", " "]))
    def completion(ls: DanaServer, params: L.CompletionParams) -> L.CompletionList:
        doc = ls.doc(params.text_document.uri)
        if doc is None:
            return L.CompletionList(False, [])
        offset = ls.offset(params.text_document.uri, doc, params.position)
        return L.CompletionList(False, F.completion(doc, offset, ls.files))

    @server.feature(L.TEXT_DOCUMENT_SIGNATURE_HELP,
                    L.SignatureHelpOptions(trigger_characters=["(", ","]))
    def signature_help(ls: DanaServer, params: L.SignatureHelpParams) -> L.SignatureHelp | None:
        doc = ls.doc(params.text_document.uri)
        offset = ls.offset(params.text_document.uri, doc, params.position) if doc else 0
        return F.signature_help(doc, offset, ls.files) if doc else None

    @server.feature(L.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: DanaServer, params: L.DefinitionParams) -> list[L.Location]:
        found = _target(ls, params.text_document.uri, params.position)
        if found is None:
            return []
        origin = ls.files.origin(*found)
        return [ls.location(origin[0], origin[1].span)] if origin is not None else []

    @server.feature(L.TEXT_DOCUMENT_REFERENCES)
    def references(ls: DanaServer, params: L.ReferenceParams) -> list[L.Location]:
        found = _target(ls, params.text_document.uri, params.position)
        if found is None:
            return []
        refs = ls.files.references_to(*found)
        origin = ls.files.origin(*found)
        declaration = origin[1].span if origin else None
        return [ls.location(doc, r.span) for doc, r in refs
                if params.context.include_declaration or r.span != declaration]

    @server.feature(L.TEXT_DOCUMENT_RENAME)
    def rename(ls: DanaServer, params: L.RenameParams) -> L.WorkspaceEdit | None:
        if not _IDENTIFIER.match(params.new_name) or params.new_name in keywords():
            raise ValueError(f"`{params.new_name}` is not a name")
        found = _target(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        changes: dict[str, list[L.TextEdit]] = {}
        for doc, ref in ls.files.references_to(*found):
            edit = L.TextEdit(ls.range(ref.span), params.new_name)
            changes.setdefault(_uri(doc), []).append(edit)
        return L.WorkspaceEdit(changes=changes)

    @server.feature(L.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(ls: DanaServer, params: L.DocumentSymbolParams) -> list:
        doc = ls.doc(params.text_document.uri)
        return F.document_symbols(doc, ls.units) if doc else []

    @server.feature(L.WORKSPACE_SYMBOL)
    def workspace_symbol(ls: DanaServer, params: L.WorkspaceSymbolParams) -> list:
        out = []
        for path in ls.files.files():
            doc = ls.files.analysis(path)
            if doc is None or doc.names is None:
                continue
            for name, d in doc.names.top.items():
                if params.query.lower() in name.lower() and d.imported is None \
                        and d.span is not None:
                    out.append(L.WorkspaceSymbol(
                        location=ls.location(doc, d.span), name=name,
                        kind=F.SYMBOL_KINDS.get(d.kind, L.SymbolKind.Variable)))
        return out

    @server.feature(L.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: DanaServer, params: L.DocumentFormattingParams) -> list[L.TextEdit]:
        doc = ls.doc(params.text_document.uri)
        if doc is None:
            return []
        try:
            text = format_source(SourceFile(doc.source.name, doc.source.text, doc.source.path))
        except DanaSyntaxError:
            return []
        if text == doc.source.text:
            return []
        end = Span(doc.source, len(doc.source.text), len(doc.source.text))
        whole = L.Range(L.Position(0, 0), ls.range(end).end)
        return [L.TextEdit(whole, text)]

    return server


def _target(ls: DanaServer, uri: str, position: L.Position):
    doc = ls.doc(uri)
    if doc is None or doc.names is None:
        return None
    ref = doc.names.ref_at(ls.offset(uri, doc, position))
    if ref is None or ref.binding.span is None:  # a builtin
        return None
    return doc, ref.binding


def serve(version: str) -> None:
    """Run the server on stdin/stdout until the client says exit."""
    build(version).start_io()
