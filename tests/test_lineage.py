"""Lineage of stored values (docs/store.md "Lineage"), `dana lineage`, `dana history`'s
cache column and `dana cache ls/clear`: a value traced back through a loop, a parallel
block, a sub-workflow and a cache hit to the initial state and config."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = """
def load(state: WorkflowState) -> int:
    state.rows = [1, 2, 3]
    return 3

@step(cache=True)
def features(state: WorkflowState) -> int:
    state.feats = [r * state.config.scale for r in state.rows]
    return len(state.feats)

def accumulate(state: WorkflowState) -> int:
    state.total = state.total + state.row
    return state.total

def left(state: WorkflowState) -> int:
    state.l = state.total + 1
    return 1

def right(state: WorkflowState) -> int:
    state.r = sum(state.feats)
    return 2

def polish(state: WorkflowState) -> int:
    state.model = state.l + state.r
    return state.model

workflow finishing:
    requires:
        l: int
        r: int
    steps:
        polish

workflow train(scale: int = 2, label: str = "x"):
    requires:
        total: int
    steps:
        load
        features
        for row in state.rows:
            accumulate
        parallel:
            left
            right
        finishing
"""


def dana(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "dana.cli.main", *args, "--store", "s.db"],
                          cwd=tmp, capture_output=True, text=True)
    return proc


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, str, str]:
    """A store holding two runs of `train`: the second restores `features` from the cache."""
    tmp = tmp_path_factory.mktemp("lineage")
    (tmp / "t.dana").write_text(PROGRAM)
    (tmp / "s.json").write_text('{"total": 0}')
    ids = []
    for _ in range(2):
        proc = dana(tmp, "run", "t.dana", "--workflow", "train", "--state", "s.json", "--quiet")
        assert proc.returncode == 0, proc.stderr
        listing = json.loads(dana(tmp, "runs", "--format", "json").stdout)
        ids.append(listing[0]["id"])
    return tmp, ids[0], ids[1]


def lineage(tmp: Path, run: str, key: str, *args: str) -> dict:
    proc = dana(tmp, "lineage", run, key, "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_value_traces_back_to_initial_state_and_the_config_it_read(runs):
    tmp, first, second = runs
    graph = lineage(tmp, second, "model")
    steps = {c["step"] for c in graph["commits"]}
    assert {"polish", "left", "right", "features", "accumulate", "for row", "load",
            "<initial>"} <= steps
    assert "config.scale@0" in graph["values"]             # the config the step read ...
    assert not any(v.startswith("config.label") for v in graph["values"])  # ... only that
    assert graph["root"].startswith("model@")
    paths = {c["path"] for c in graph["commits"]}
    assert {"finishing/polish", "rows[0]/accumulate", "rows[2]"} <= paths


def test_each_branch_of_a_parallel_block_has_its_own_reads(runs):
    tmp, first, second = runs
    left = lineage(tmp, second, "l", "--depth", "1")
    assert [(c["id"], c["step"], c["path"]) for c in left["commits"]] == [
        ("v10:parallel[0]", "left", "parallel[0]")]
    assert left["values"] == ["l@10", "total@8"]           # not what `right` read
    right = lineage(tmp, second, "r", "--depth", "1")
    assert right["values"] == ["r@10", "feats@2"]


def test_a_step_input_is_the_output_of_the_step_before(tmp_path):
    (tmp_path / "p.dana").write_text('''
def load(state: WorkflowState) -> list[int]:
    state.n = 3
    return [1, 2, 3]

def double(rows: list[int]) -> list[int]:
    return [r * 2 for r in rows]

def total(rows: list[int], state: WorkflowState) -> int:
    state.sum = sum(rows)
    return state.sum

workflow w:
    steps:
        load
        double
        total
''')
    proc = dana(tmp_path, "run", "p.dana", "--workflow", "w", "--quiet")
    assert proc.stdout == "12\n", proc.stderr
    run = json.loads(dana(tmp_path, "runs", "--format", "json").stdout)[0]["id"]
    graph = lineage(tmp_path, run, "sum")
    assert graph["values"] == ["sum@3", "<output>@2", "<output>@1"]
    assert ["<output>@1", "v2"] in graph["edges"] and ["v1", "<output>@1"] in graph["edges"]
    down = lineage(tmp_path, run, "n", "--downstream")
    assert down["values"] == ["n@1"]                       # `double` took load's output,
    down = lineage(tmp_path, run, "<output>", "--version", "1", "--downstream")
    assert down["values"][-1] == "sum@3"                   # not its state


def test_a_cache_hit_names_the_run_that_produced_the_value(runs):
    tmp, first, second = runs
    graph = lineage(tmp, second, "feats")
    hit = next(c for c in graph["commits"] if c["step"] == "features")
    assert (hit["origin"], hit["from_run"], hit["from_version"]) == ("cache", first, 2)
    ran = next(c for c in lineage(tmp, first, "feats")["commits"] if c["step"] == "features")
    assert (ran["origin"], ran["reason"]) == ("step", "first run")


def test_collapse_merges_a_loops_iterations(runs):
    tmp, first, second = runs
    graph = lineage(tmp, second, "model", "--collapse")
    loop = next(c for c in graph["commits"] if c["path"] == "rows[*]/accumulate")
    assert loop["count"] == 3 and "total" in graph["values"]
    assert ["total", loop["id"]] in graph["edges"] and [loop["id"], "total"] in graph["edges"]
    assert not any("@" in v for v in graph["values"])


def test_downstream_follows_what_was_derived(runs):
    tmp, first, second = runs
    graph = lineage(tmp, first, "rows", "--downstream")
    assert {"feats@2", "row@3", "total@4"} <= set(graph["values"])
    assert any(v.startswith("model@") for v in graph["values"])
    shallow = lineage(tmp, first, "rows", "--downstream", "--depth", "1")
    assert not any(v.startswith("model@") for v in shallow["values"])


def test_text_mermaid_and_dot_render_the_same_graph(runs):
    tmp, first, second = runs
    text = dana(tmp, "lineage", second, "model").stdout
    assert text.splitlines()[0].startswith("model@") and "<- finishing/polish" in text
    assert "cached from " + first in text
    mermaid = dana(tmp, "lineage", second, "model", "--format", "mermaid").stdout
    assert mermaid.startswith("flowchart LR") and '(["config.scale@0"])' in mermaid
    dot = dana(tmp, "lineage", second, "model", "--format", "dot").stdout
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")


def test_an_unknown_key_is_a_usage_error(runs):
    tmp, first, second = runs
    proc = dana(tmp, "lineage", first, "nope")
    assert proc.returncode == 2 and "no state key `nope`" in proc.stderr


def test_history_shows_the_cache_hit_and_the_reason_a_cached_step_ran(runs):
    tmp, first, second = runs
    records = json.loads(dana(tmp, "history", first, "--format", "json").stdout)
    assert next(r for r in records if r["step"] == "features")["cache"] == {
        "hit": False, "reason": "first run"}
    records = json.loads(dana(tmp, "history", second, "--format", "json").stdout)
    assert next(r for r in records if r["step"] == "features")["cache"] == {
        "hit": True, "from_run": first, "from_version": 2}
    assert next(r for r in records if r["step"] == "load")["cache"] is None
    assert f"hit ({first} v2)" in dana(tmp, "history", second).stdout


def test_cache_ls_and_clear(runs, tmp_path):
    tmp, first, second = runs
    entries = json.loads(dana(tmp, "cache", "ls", "--format", "json").stdout)
    assert [(e["step"], e["run_id"], e["reads"]) for e in entries] == [
        ("features", first, ["config.scale", "rows"])]
    assert dana(tmp, "cache", "clear", "--step", "other").stdout == "deleted 0 cache entries\n"
    assert dana(tmp, "cache", "clear", "--older-than", "1d").stdout.startswith("deleted 0")
    assert dana(tmp, "cache", "clear").stdout == "deleted 1 cache entry\n"
    assert json.loads(dana(tmp, "cache", "ls", "--format", "json").stdout) == []


def test_a_run_result_gives_its_lineage_in_dana(tmp_path):
    (tmp_path / "shop.dana").write_text('''
def load(state: WorkflowState) -> int:
    state.prices = [3, 4]
    return 2

def total(state: WorkflowState) -> int:
    state.sum = sum(state.prices) * state.config.qty
    return state.sum

workflow shop(qty: int = 2, currency: str = "EUR"):
    steps:
        load
        total

r = run(shop)
graph = r.lineage("sum")
print(graph["root"], sorted(graph["values"]))
print(sorted((c["step"], c["origin"]) for c in graph["commits"]))
print(r.lineage("prices", downstream=True)["values"])
try:
    r.lineage("nope")
except StateError as e:
    print(e.message)
''')
    proc = dana(tmp_path, "run", "shop.dana", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "sum@2 ['config.qty@0', 'prices@1', 'sum@2']",
        "[('<initial>', 'initial'), ('load', 'step'), ('total', 'step')]",
        "['prices@1', 'sum@2']",
        "the run has no state key `nope` at version 2"]
