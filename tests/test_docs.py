"""Every code block of the user documentation runs (docs/architecture.md "Tests").

The pages are README.md and docs/*.md. What each fenced block means:

    ```dana        a program, saved as `example.dana` in a fresh temporary folder (the
                   working directory) and run in-process the way `dana run` runs it, through
                   `dana.pipeline`; it must pass the checker with no diagnostic at all.
    Output:        a ```text block right after a ```dana block (an `Output:` line between
    ```text        them is optional) is what the terminal shows: stdout and stderr (`log`
                   lines) together, exactly. A ```dana block without one prints nothing.
                   When the text holds diagnostic headers (`example.dana:2:7: error[E0201]:`)
                   the block is a mistake on purpose: the text is the checker's rendered
                   diagnostics, or, when the checker finds nothing, the program's output
                   followed by the run-time error that stopped it.
    ```console     commands: each `$ dana ...` line (optionally after `NAME=value`
                   environment settings) is run with the page's files and the repository's
                   `examples/` folder at hand; the lines after it (up to the next `$`) are
                   its stdout followed by its stderr, exactly.
    ```python      run by tests/test_embedding.py (docs/embedding.md only, see below).

Markers, an HTML comment on the line before a block:

    <!-- expect-error: E0xxx -->   the block must fail with that code (checker or run)
    <!-- no-run -->                a fragment or a block whose output varies: not run (the
                                   page says why next to it)
    <!-- file: NAME -->            not run alone: saved as NAME beside every block of the
                                   page (a module to import, a config file, a data file)

Programs never sleep for real here: the runtime's `sleep` (retry backoff) returns at once.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dana import pipeline
from dana.diagnostics import render, render_error
from dana.errors import DanaError
from dana.runtime.interpreter import run_module

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*(expect-error|no-run|file)\s*:?\s*(.*?)\s*-->\s*$")
HEADER = re.compile(r"^\S+:\d+:\d+: (error|warning)\[(E\d{4})\]: ", re.MULTILINE)
EXAMPLE = "example.dana"


@dataclass
class Block:
    """One fenced code block of a page, with its marker and expected output."""

    page: Path
    line: int                       # 1-based line of the opening fence
    lang: str
    text: str
    marker: tuple[str, str] | None = None
    expected: str | None = None     # the ```text block right after it, if any
    files: dict[str, str] = field(default_factory=dict)   # the page's `file:` blocks

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:{self.line}"

    @property
    def expected_codes(self) -> list[str]:
        if self.marker and self.marker[0] == "expect-error":
            return [self.marker[1]]
        return [code for _, code in HEADER.findall(self.expected or "")]


def parse_page(page: Path) -> list[Block]:
    """The fenced blocks of `page`; a ```text block right after a ```dana block becomes
    that block's `expected` instead of a block of its own."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i, marker, last_end = 0, None, -10
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            found = MARKER.match(lines[i])
            if found:
                marker = (found.group(1), found.group(2))
            elif lines[i].strip() and lines[i].strip() != "Output:":
                marker = None
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        body = "\n".join(lines[i + 1:end]) + "\n"
        gap = [ln.strip() for ln in lines[last_end + 1:i]]
        follows = blocks and blocks[-1].lang == "dana" and blocks[-1].expected is None \
            and all(g in ("", "Output:") for g in gap)
        if opening.group(1) == "text" and follows:
            blocks[-1].expected = body
        else:
            blocks.append(Block(page, i + 1, opening.group(1), body, marker))
        marker, last_end, i = None, end, end + 1
    files = {b.marker[1]: b.text for b in blocks if b.marker and b.marker[0] == "file"}
    for b in blocks:
        b.files = files
    return blocks


ALL = [b for page in PAGES for b in parse_page(page)]


def runnable(lang: str) -> list[Block]:
    """The blocks of `lang` that run: unmarked ones and those expecting an error."""
    return [b for b in ALL if b.lang == lang and (b.marker is None or
                                                   b.marker[0] == "expect-error")]


# ------------------------------------------------------------------ ```dana blocks
@dataclass
class Result:
    output: str                          # stdout and stderr together
    error: DanaError | None = None       # the run-time error that stopped the program


def check(path: str) -> list:
    try:
        module = pipeline.parse_source(pipeline.read_source(path))
    except DanaError as err:
        return list(err.diagnostics)
    return sorted(pipeline.check_module(module),
                  key=lambda d: (d.span.start if d.span else 0))


def run(path: str) -> Result:
    """Run the file as `dana run --no-check` does (the checker ran separately), with a
    `sleep` that returns at once (retry backoff)."""
    out = io.StringIO()
    session = pipeline.Session(stdout=out, stderr=out, check=False)
    try:
        source, module = pipeline.load(path, session)
        rt = session.runtime(source)
        rt.sleep = lambda seconds: None
        run_module(rt, module)
    except DanaError as err:
        return Result(out.getvalue(), err)
    return Result(out.getvalue())


def write_files(block: Block, folder: Path) -> None:
    for name, text in block.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


DANA = runnable("dana")


@pytest.mark.parametrize("block", DANA, ids=[b.id for b in DANA])
def test_dana_block(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(block, tmp_path)
    (tmp_path / EXAMPLE).write_text(block.text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    diagnostics = check(EXAMPLE)
    codes = block.expected_codes
    if codes and diagnostics:
        shown = "\n\n".join(render(d) for d in diagnostics)
        assert set(codes) <= {d.code for d in diagnostics}, shown
        if block.expected is not None:
            assert shown + "\n" == block.expected
        return
    assert not diagnostics, "\n\n".join(render(d) for d in diagnostics)
    result = run(EXAMPLE)
    if codes:
        assert result.error is not None, f"expected {codes}, the program ran:\n{result.output}"
        assert result.error.code in codes, render_error(result.error)
        shown = result.output + render_error(result.error) + "\n"
        if block.expected is not None:
            assert shown == block.expected
        return
    assert result.error is None, result.output + render_error(result.error)
    assert result.output == (block.expected or "")


# ------------------------------------------------------------------ ```console blocks
def commands(block: Block) -> list[tuple[str, str]]:
    """(command line, expected output) pairs of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        elif pairs:
            pairs[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"{block.id}: output before any `$ command`")
    return [(cmd, "".join(ln + "\n" for ln in out)) for cmd, out in pairs]


CONSOLE = runnable("console")


@pytest.mark.parametrize("block", CONSOLE, ids=[b.id for b in CONSOLE])
def test_console_block(block: Block, tmp_path: Path) -> None:
    write_files(block, tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = dict(os.environ, DANA_HISTORY=str(tmp_path / "history"), NO_COLOR="1",
               COLUMNS="100")
    for command, expected in commands(block):
        argv = shlex.split(command)
        while argv and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", argv[0]):
            name, _, value = argv.pop(0).partition("=")
            env[name] = value
        assert argv[:1] == ["dana"], f"{block.id}: only `dana` commands run here: {command}"
        proc = subprocess.run([sys.executable, "-m", "dana.cli.main", *argv[1:]], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.stdout + proc.stderr == expected, f"$ {command}"


# ------------------------------------------------------------------ the pages as a whole
def test_python_blocks_only_where_test_embedding_runs_them() -> None:
    """tests/test_embedding.py runs docs/embedding.md's python blocks; a python block on
    any other page would go untested."""
    pages = {b.page.name for b in ALL if b.lang == "python"}
    assert pages <= {"embedding.md"}


def test_markers_are_known_and_attached() -> None:
    """Every marker is one of the three and sits right above a block (a misspelt or
    misplaced marker would silently change what runs)."""
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            if not line.startswith("<!--"):
                continue
            assert MARKER.match(line), f"{page.name}:{n + 1}: unknown marker {line}"
            following = next((ln for ln in lines[n + 1:] if ln.strip()), "")
            assert FENCE.match(following), f"{page.name}:{n + 1}: no block after {line}"
    for b in ALL:
        if b.marker and b.marker[0] == "expect-error":
            assert re.fullmatch(r"E\d{4}", b.marker[1]), f"{b.id}: bad code {b.marker[1]}"


def test_reference_pages_have_their_examples() -> None:
    """Guards against a parsing rule that silently finds nothing."""
    per_page = {p.name: [b for b in DANA if b.page == p] for p in PAGES}
    assert len(per_page["language.md"]) >= 40
    assert len(per_page["workflows.md"]) >= 10
    assert len(per_page["README.md"]) >= 1
    assert sum(1 for b in DANA if b.expected) >= 50


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.MULTILINE)}


def test_links_between_pages_resolve() -> None:
    for page in PAGES:
        text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"\w+://", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            assert linked.exists(), f"{page.name}: broken link {target}"
            if anchor:
                assert anchor in anchors(linked), f"{page.name}: no heading for {target}"
