"""`dana graph`: Mermaid and DOT diagrams of workflows (docs/cli.md "dana graph").

Snapshot cases live in tests/graph/: NAME.dana declares a workflow NAME; NAME.mmd and
NAME.dot are its expected diagrams, compared exactly. `pytest tests/test_graph.py
--update-goldens` rewrites them from the actual output; read every diff (and render a
changed one) before accepting it. Every diagram, of the cases and of every example's
workflows, is also checked structurally; the DOT text is parsed by Graphviz when `dot` is
installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dana.cli.main import main
from dana.graph import build, graph_file, to_dot, to_mermaid
from dana.pipeline import parse_source
from dana.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "graph").glob("*.dana"))
SUFFIX = {"mermaid": ".mmd", "dot": ".dot"}


def example_workflows() -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / "examples").glob("*.dana")):
        found += [(path, name) for name in
                  re.findall(r"^workflow (\w+)", path.read_text(encoding="utf-8"), re.M)]
    return found


def every_diagram() -> list[tuple[Path, str]]:
    return [(case, case.stem) for case in CASES] + example_workflows()


def graph_of(text: str, workflow: str | None, fmt: str = "mermaid") -> str:
    graph = build(parse_source(SourceFile("t.dana", text)), workflow)
    return to_dot(graph) if fmt == "dot" else to_mermaid(graph)


# ------------------------------------------------------------------ structure checks
MERMAID_NODE = re.compile(r'^(n\d+)(\(\[|\[|\{\{|\{|\(\()"([^"]*)"(\]\)|\]|\}\}|\}|\)\))$')
MERMAID_EDGE = re.compile(r'^([nc]\d+) (-->|-\.->|==>)(\|"[^"]*"\|)? ([nc]\d+)$')
MERMAID_SUBGRAPH = re.compile(r'^subgraph (c\d+) \["[^"]*"\]$')


def check_mermaid(text: str) -> None:
    """Every line is a node, a subgraph opening/`end`, an edge or a linkStyle; every edge
    joins declared ids; subgraphs balance; shapes close as they open."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    declared, edges, depth, links = set(), [], 0, 0
    closing = {"([": "])", "[": "]", "{{": "}}", "{": "}", "((": "))"}
    for raw in lines[1:]:
        line = raw.strip()
        if m := MERMAID_SUBGRAPH.match(line):
            depth += 1
            declared.add(m[1])
        elif line == "end":
            depth -= 1
            assert depth >= 0, raw
        elif m := MERMAID_NODE.match(line):
            assert closing[m[2]] == m[4], raw
            declared.add(m[1])
        elif m := MERMAID_EDGE.match(line):
            edges.append((m[1], m[4]))
            links += 1
        else:
            assert re.fullmatch(r"linkStyle \d+(,\d+)* stroke:\S+", line), raw
            assert all(int(i) < links for i in line.split()[1].split(",")), raw
    assert depth == 0
    assert edges and all(a in declared and b in declared for a, b in edges)


def check_dot(text: str) -> None:
    """Quoted strings close, braces balance, every edge joins declared nodes and every
    `ltail` names a declared cluster."""
    assert text.startswith('digraph "') and text.rstrip().endswith("}")
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assert '"' not in bare.replace('""', "")
    assert bare.count("{") == bare.count("}")
    nodes = set(re.findall(r"^\s*(n\d+) \[", text, re.M))
    clusters = set(re.findall(r"subgraph (cluster_c\d+) \{", text))
    for a, b in re.findall(r"^\s*(\w+) -> (\w+)", text, re.M):
        assert a in nodes and b in nodes, (a, b)
    assert set(re.findall(r"ltail=(\w+)", text)) <= clusters


# ------------------------------------------------------------------ snapshots
@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_snapshot(case: Path, fmt: str, update_goldens: bool) -> None:
    actual = graph_file(case, case.stem, fmt)
    expected = case.with_suffix(SUFFIX[fmt])
    if update_goldens:
        expected.write_text(actual, encoding="utf-8")
        return
    assert actual == expected.read_text(encoding="utf-8")


def test_the_snapshot_cases_cover_every_construct() -> None:
    assert {c.stem for c in CASES} >= {"sequence", "nested_loops", "parallel", "try_handle",
                                       "sub_workflow", "composition", "escaping"}


@pytest.mark.parametrize("path, workflow", every_diagram(),
                         ids=lambda x: x.stem if isinstance(x, Path) else x)
def test_every_diagram_is_well_formed(path: Path, workflow: str) -> None:
    check_mermaid(graph_file(path, workflow, "mermaid"))
    check_dot(graph_file(path, workflow, "dot"))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed (README.md: "
                    "apt-get install graphviz to run this test)")
def test_graphviz_parses_every_dot_diagram(tmp_path: Path) -> None:
    files = []
    for i, (path, workflow) in enumerate(every_diagram()):
        files.append(tmp_path / f"{i}.dot")
        files[-1].write_text(graph_file(path, workflow, "dot"), encoding="utf-8")
    proc = subprocess.run(["dot", "-Tsvg", "-O", *map(str, files)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


# ------------------------------------------------------------------ details
def test_labels_cannot_break_out_of_their_quotes() -> None:
    text = graph_of('workflow w():\n    steps:\n        f(x="a\\"]) --> b{c} <i> #1")\n', "w")
    check_mermaid(text)
    assert '#quot;a\\#quot;]) --#gt; b{c} #lt;i#gt; #35;1#quot;' in text
    dot = graph_of('workflow w():\n    steps:\n        f(x="a\\"]")\n', "w", "dot")
    assert r'label="f(x=\"a\\\"]\")"' in dot


def test_compose_call_and_recursive_reference() -> None:
    text = graph_of("workflow a():\n    steps:\n        s1\n"
                    "workflow b():\n    steps:\n        b\n        a\n"
                    "workflow c = compose(a, b)\n", "c")
    assert 'subgraph c2 ["workflow a"]' in text and 'subgraph c4 ["workflow b"]' in text
    assert 'n5["b"]' in text  # b inside b is a plain step, not an endless expansion


def test_single_workflow_is_the_default() -> None:
    text = graph_of("workflow only():\n    steps:\n        s\n", None)
    assert 'n1(["workflow only"])' in text


# ------------------------------------------------------------------ the command
def test_graph_command_prints_mermaid_by_default(capsys) -> None:
    code = main(["graph", str(ROOT / "tests/graph/sequence.dana"), "--workflow", "sequence"])
    out = capsys.readouterr()
    assert code == 0 and out.err == ""
    assert out.out == (ROOT / "tests/graph/sequence.mmd").read_text(encoding="utf-8")


def test_graph_command_writes_dot_to_a_file(tmp_path: Path, capsys) -> None:
    target = tmp_path / "g.dot"
    code = main(["graph", str(ROOT / "tests/graph/parallel.dana"), "--workflow", "parallel",
                 "--format", "dot", "--output", str(target)])
    assert code == 0 and capsys.readouterr().out == ""
    assert target.read_text(encoding="utf-8") == \
        (ROOT / "tests/graph/parallel.dot").read_text(encoding="utf-8")


def test_unknown_workflow_lists_the_workflows_and_exits_2(capsys) -> None:
    path = ROOT / "tests/graph/composition.dana"
    assert main(["graph", str(path), "--workflow", "nope"]) == 2
    err = capsys.readouterr().err
    assert f"error[E0602]: {path} has no workflow `nope`; it defines: composition, " \
           "reward_model, rl, sft" in err
    assert main(["graph", str(path)]) == 2
    assert "defines 4 workflows; choose one with --workflow NAME" in capsys.readouterr().err


def test_syntax_error_exits_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.dana"
    bad.write_text("workflow w(:\n")
    assert main(["graph", str(bad)]) == 2
    assert f"{bad}:1:" in capsys.readouterr().err


def test_graph_help_describes_every_option(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["graph", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and out.startswith("usage: dana graph")
    for option in ("--workflow NAME", "--format {mermaid,dot}", "--output FILE", "--debug"):
        assert option in out
    assert "Graphviz" in out and "nothing runs" in out.lower()
