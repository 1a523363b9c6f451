"""`dana lsp` end to end (docs/tools.md "dana lsp"): a real LSP client (pytest-lsp) starts
the server over stdio on a small workspace — a library module, a program importing it, a
workflow, and a file with a syntax error — and asks for each feature."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as L
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SHAPES = '''struct Point:
    """A point in the plane."""
    x: int
    y: int = 0


def (p: Point) norm() -> int:
    """Manhattan length."""
    return abs(p.x) + abs(p.y)


def scale(p: Point, k: int) -> Point:
    return Point(x=p.x * k, y=p.y * k)
'''

MAIN = '''from shapes import Point, scale

origin = Point(x=1, y=2)
far = scale(origin, 10)
print(far.norm(), far.x)
total = len([1, 2])
'''

FLOW = '''def load(state: WorkflowState) -> int:
    """Count the readings."""
    state.count = len(state.readings)
    return state.count


def report(n: int, state: WorkflowState) -> str:
    return f"{n} of {state.count}"


workflow daily(limit: int = 3) -> str:
    """One day's readings."""
    requires:
        readings: list[int]
    steps:
        load | report
'''

BROKEN = '''def twice(n: int) -> int:
    return n * 2

x = twice(1 +)
y: str = twice(4)
'''

WIDE = '''def wave(n: int) -> str:
    return "hi" * n


x = "👋" + wave(1)
bad: int = "👋" + wave(2)
'''

LOCALS = '''def counter(start: int):
    count = start

    def bump(by) -> int:
        nonlocal count
        count = count + by
        return count

    return bump


squares = [n * n for n in range(3)]
label = "a"
label = len(label)
'''

WORKSPACE = Path(tempfile.mkdtemp(prefix="dana-lsp-"))
FILES = {"shapes.dana": SHAPES, "main.dana": MAIN, "flow.dana": FLOW, "broken.dana": BROKEN,
         "wide.dana": WIDE, "locals.dana": LOCALS}
for _name, _text in FILES.items():
    (WORKSPACE / _name).write_text(_text, encoding="utf-8")


def uri(name: str) -> str:
    return from_fs_path(str(WORKSPACE / name))


def at(name: str, needle: str, nth: int = 0, delta: int = 0) -> L.Position:
    """The position of the `nth` occurrence of `needle` in file `name` (plus `delta`), its
    character counted in UTF-16 code units as LSP's default position encoding asks."""
    text = FILES[name]
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    offset += delta
    line = text.count("\n", 0, offset)
    before = text[text.rfind("\n", 0, offset) + 1:offset]
    return L.Position(line, len(before.encode("utf-16-le")) // 2)


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(
    server_command=[sys.executable, "-m", "dana.cli.main", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(L.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=uri(""),
        workspace_folders=[L.WorkspaceFolder(uri(""), "ws")]))
    for name, text in FILES.items():
        lsp_client.text_document_did_open(L.DidOpenTextDocumentParams(
            L.TextDocumentItem(uri(name), "dana", 1, text)))
    yield
    await lsp_client.shutdown_session()


async def diagnostics_of(client: LanguageClient, name: str) -> list[L.Diagnostic]:
    for _ in range(100):
        if uri(name) in client.diagnostics:
            return list(client.diagnostics[uri(name)])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no diagnostics published for {name}")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_syntax_error_is_published_with_its_code(client: LanguageClient) -> None:
    found = await diagnostics_of(client, "broken.dana")
    assert [(d.code, d.range.start.line, d.message) for d in found] == \
        [("E0100", 3, "unexpected ')'")]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_clean_file_has_no_diagnostics(client: LanguageClient) -> None:
    assert await diagnostics_of(client, "main.dana") == []


@pytest.mark.asyncio(loop_scope="module")
async def test_checker_errors_are_published_after_a_change(client: LanguageClient) -> None:
    text = MAIN + 'bad: int = "no"\n'
    client.text_document_did_change(L.DidChangeTextDocumentParams(
        L.VersionedTextDocumentIdentifier(version=2, uri=uri("main.dana")),
        [L.TextDocumentContentChangeWholeDocument(text)]))
    for _ in range(100):
        found = client.diagnostics.get(uri("main.dana"), [])
        if found:
            break
        await asyncio.sleep(0.05)
    assert [(d.severity, d.range.start.line) for d in found] == [(L.DiagnosticSeverity.Error, 6)]
    assert found[0].code and found[0].source == "dana"
    client.text_document_did_change(L.DidChangeTextDocumentParams(
        L.VersionedTextDocumentIdentifier(version=3, uri=uri("main.dana")),
        [L.TextDocumentContentChangeWholeDocument(MAIN)]))


@pytest.mark.asyncio(loop_scope="module")
async def test_hover_shows_types_signatures_and_docstrings(client: LanguageClient) -> None:
    async def hover(name: str, needle: str, nth: int = 0) -> str:
        result = await client.text_document_hover_async(L.HoverParams(
            L.TextDocumentIdentifier(uri(name)), at(name, needle, nth)))
        return result.contents.value if result else ""

    assert "far: Point" in await hover("main.dana", "far", 1)
    norm = await hover("shapes.dana", "norm")
    assert "def (p: Point) norm() -> int" in norm and "Manhattan length." in norm
    load = await hover("flow.dana", "load", 1)
    assert "Reads state: `readings`" in load and "Writes state: `count`" in load
    daily = await hover("flow.dana", "daily")
    assert "Required state:" in daily and "`readings: list[int]`" in daily
    assert "int" in await hover("main.dana", "total")
    imported = await hover("main.dana", "scale", 1)
    assert "def scale(p: Point, k: int) -> Point" in imported


@pytest.mark.asyncio(loop_scope="module")
async def test_hover_works_in_a_file_with_a_syntax_error(client: LanguageClient) -> None:
    result = await client.text_document_hover_async(L.HoverParams(
        L.TextDocumentIdentifier(uri("broken.dana")), at("broken.dana", "twice", 2)))
    assert result is not None and "def twice(n: int) -> int" in result.contents.value


async def complete(client: LanguageClient, name: str, text: str, position: L.Position,
                   version: int) -> list[str]:
    client.text_document_did_change(L.DidChangeTextDocumentParams(
        L.VersionedTextDocumentIdentifier(version=version, uri=uri(name)),
        [L.TextDocumentContentChangeWholeDocument(text)]))
    result = await client.text_document_completion_async(L.CompletionParams(
        L.TextDocumentIdentifier(uri(name)), position))
    items = result.items if isinstance(result, L.CompletionList) else result
    return [i.label for i in items]


@pytest.mark.asyncio(loop_scope="module")
async def test_completion(client: LanguageClient) -> None:
    lines = MAIN.count("\n")
    members = await complete(client, "main.dana", MAIN + "far.\n", L.Position(lines, 4), 10)
    assert {"x", "y", "norm"} <= set(members)
    names = await complete(client, "main.dana", MAIN + "sc\n", L.Position(lines, 2), 11)
    assert {"scale", "origin", "print", "while", "workflow"} <= set(names)
    text_methods = await complete(client, "main.dana", MAIN + 's = "a"\ns.\n',
                                  L.Position(lines + 1, 2), 12)
    assert {"upper", "split"} <= set(text_methods)
    imported = await complete(client, "main.dana", "from shapes import \n" + MAIN,
                              L.Position(0, 19), 13)
    assert {"Point", "scale"} <= set(imported)
    modules = await complete(client, "main.dana", "import \n" + MAIN, L.Position(0, 7), 18)
    assert {"shapes", "flow", "math", "text"} <= set(modules)
    options = await complete(client, "main.dana", "@step(\n" + MAIN, L.Position(0, 6), 14)
    assert {"retry=", "timeout=", "cache="} <= set(options)
    state_text = FLOW.replace("    return state.count", "    state.\n    return state.count")
    keys = await complete(client, "flow.dana", state_text, L.Position(3, len("    state.")), 15)
    assert {"readings", "count", "version"} <= set(keys)
    other_name = state_text + "\n\ndef tally(s: WorkflowState) -> None:\n    s.total = 1\n"
    keys = await complete(client, "flow.dana", other_name, L.Position(3, len("    state.")), 19)
    assert "total" in keys  # written through a parameter the checker types WorkflowState
    await complete(client, "main.dana", MAIN, L.Position(0, 0), 16)
    await complete(client, "flow.dana", FLOW, L.Position(0, 0), 17)


@pytest.mark.asyncio(loop_scope="module")
async def test_definition_across_files(client: LanguageClient) -> None:
    found = await client.text_document_definition_async(L.DefinitionParams(
        L.TextDocumentIdentifier(uri("main.dana")), at("main.dana", "scale", 1)))
    assert [(f.uri, f.range.start.line, f.range.start.character) for f in found] == \
        [(uri("shapes.dana"), 11, 4)]
    field = await client.text_document_definition_async(L.DefinitionParams(
        L.TextDocumentIdentifier(uri("main.dana")), at("main.dana", "x", 1)))
    assert [(f.uri, f.range.start.line) for f in field] == [(uri("shapes.dana"), 2)]


@pytest.mark.asyncio(loop_scope="module")
async def test_definition_of_a_step_in_a_workflow(client: LanguageClient) -> None:
    found = await client.text_document_definition_async(L.DefinitionParams(
        L.TextDocumentIdentifier(uri("flow.dana")), at("flow.dana", "report", 1)))
    assert [(f.range.start.line, f.range.start.character) for f in found] == [(6, 4)]


@pytest.mark.asyncio(loop_scope="module")
async def test_references_across_files(client: LanguageClient) -> None:
    found = await client.text_document_references_async(L.ReferenceParams(
        text_document=L.TextDocumentIdentifier(uri("shapes.dana")),
        position=at("shapes.dana", "Point"),
        context=L.ReferenceContext(include_declaration=True)))
    places = sorted((Path(f.uri).name, f.range.start.line) for f in found)
    assert ("shapes.dana", 0) in places and ("main.dana", 0) in places \
        and ("main.dana", 2) in places and ("shapes.dana", 11) in places


@pytest.mark.asyncio(loop_scope="module")
async def test_document_and_workspace_symbols(client: LanguageClient) -> None:
    outline = await client.text_document_document_symbol_async(L.DocumentSymbolParams(
        L.TextDocumentIdentifier(uri("shapes.dana"))))
    assert [(s.name, s.kind) for s in outline] == [
        ("Point", L.SymbolKind.Struct), ("norm", L.SymbolKind.Method),
        ("scale", L.SymbolKind.Function)]
    assert [c.name for c in outline[0].children] == ["x", "y"]
    found = await client.workspace_symbol_async(L.WorkspaceSymbolParams("dai"))
    assert [(s.name, Path(s.location.uri).name) for s in found] == [("daily", "flow.dana")]


@pytest.mark.asyncio(loop_scope="module")
async def test_rename_a_top_level_name_across_files(client: LanguageClient) -> None:
    edit = await client.text_document_rename_async(L.RenameParams(
        L.TextDocumentIdentifier(uri("shapes.dana")), at("shapes.dana", "scale"), "resize"))
    lines = {Path(u).name: sorted(e.range.start.line for e in edits)
             for u, edits in edit.changes.items()}
    assert lines == {"shapes.dana": [11], "main.dana": [0, 3]}


@pytest.mark.asyncio(loop_scope="module")
async def test_rename_a_local(client: LanguageClient) -> None:
    edit = await client.text_document_rename_async(L.RenameParams(
        L.TextDocumentIdentifier(uri("shapes.dana")), at("shapes.dana", "k"), "factor"))
    assert sorted((e.range.start.line, e.range.start.character)
                  for e in edit.changes[uri("shapes.dana")]) == [(11, 20), (12, 25), (12, 36)]


@pytest.mark.asyncio(loop_scope="module")
async def test_formatting_goes_through_dana_fmt(client: LanguageClient) -> None:
    messy = "x=1\nif x :\n  print( x )\n"
    client.text_document_did_open(L.DidOpenTextDocumentParams(
        L.TextDocumentItem(uri("messy.dana"), "dana", 1, messy)))
    edits = await client.text_document_formatting_async(L.DocumentFormattingParams(
        L.TextDocumentIdentifier(uri("messy.dana")), L.FormattingOptions(4, True)))
    assert [e.new_text for e in edits] == ["x = 1\nif x:\n    print(x)\n"]


@pytest.mark.asyncio(loop_scope="module")
async def test_signature_help_inside_a_call(client: LanguageClient) -> None:
    text = MAIN + "scale(origin, \n"
    line = MAIN.count("\n")
    client.text_document_did_change(L.DidChangeTextDocumentParams(
        L.VersionedTextDocumentIdentifier(version=30, uri=uri("main.dana")),
        [L.TextDocumentContentChangeWholeDocument(text)]))
    help_ = await client.text_document_signature_help_async(L.SignatureHelpParams(
        L.TextDocumentIdentifier(uri("main.dana")), L.Position(line, 14)))
    assert help_.signatures[0].label == "def scale(p: Point, k: int) -> Point"
    assert help_.active_parameter == 1
    client.text_document_did_change(L.DidChangeTextDocumentParams(
        L.VersionedTextDocumentIdentifier(version=31, uri=uri("main.dana")),
        [L.TextDocumentContentChangeWholeDocument(MAIN)]))


@pytest.mark.asyncio(loop_scope="module")
async def test_positions_count_utf16_code_units_after_an_emoji(client: LanguageClient) -> None:
    """An emoji is two UTF-16 code units: every range after one on its line is counted
    so (LSP's default position encoding), and so are the positions the client sends."""
    wave = at("wide.dana", "wave", 1)
    assert wave.character == 11  # `x = "` 5, the emoji 2, `" + ` 4
    found = await client.text_document_references_async(L.ReferenceParams(
        text_document=L.TextDocumentIdentifier(uri("wide.dana")), position=wave,
        context=L.ReferenceContext(include_declaration=True)))
    assert sorted((f.range.start.line, f.range.start.character, f.range.end.character)
                  for f in found) == [(0, 4, 8), (4, 11, 15), (5, 18, 22)]
    result = await client.text_document_hover_async(L.HoverParams(
        L.TextDocumentIdentifier(uri("wide.dana")), at("wide.dana", "x")))
    assert result.range.start.character == 0 and "x: str" in result.contents.value
    bad = await diagnostics_of(client, "wide.dana")
    assert [(d.range.start.line, d.range.start.character, d.range.end.character)
            for d in bad] == [(5, 11, 25)]


async def hover_text(client: LanguageClient, name: str, needle: str, nth: int = 0) -> str:
    result = await client.text_document_hover_async(L.HoverParams(
        L.TextDocumentIdentifier(uri(name)), at(name, needle, nth)))
    return result.contents.value if result else ""


@pytest.mark.asyncio(loop_scope="module")
async def test_hover_shows_the_checkers_type_of_each_binding(client: LanguageClient) -> None:
    """The type the checker gave the name where it is: a comprehension variable, a
    parameter without annotation, a name rebound with another type."""
    assert "n: int" in await hover_text(client, "locals.dana", "n for")
    assert "by: any" in await hover_text(client, "locals.dana", "by")
    assert "label: str" in await hover_text(client, "locals.dana", "label", 2)
    assert "label: int" in await hover_text(client, "locals.dana", "label", 1)


@pytest.mark.asyncio(loop_scope="module")
async def test_references_follow_the_checkers_scopes(client: LanguageClient) -> None:
    """A comprehension's variable, and a `nonlocal` variable shared by two functions."""
    async def refs(needle: str, nth: int = 0) -> list[tuple[int, int]]:
        found = await client.text_document_references_async(L.ReferenceParams(
            text_document=L.TextDocumentIdentifier(uri("locals.dana")),
            position=at("locals.dana", needle, nth),
            context=L.ReferenceContext(include_declaration=True)))
        return sorted((f.range.start.line, f.range.start.character) for f in found)

    assert await refs("n for") == [(11, 11), (11, 15), (11, 21)]
    assert await refs("count", 3) == [(1, 4), (4, 17), (5, 8), (5, 16), (6, 15)]
