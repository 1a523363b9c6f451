"""Fuzzing in the suite (bounded to a few seconds): programs generated from the grammar
itself and byte-level mutations of the golden programs, each through parse -> check ->
run under tight limits; every outcome is a result or a DanaError, never a host
exception, a hang or a crash (docs/language.md "Safety and limits"). The long-running,
coverage-guided fuzzer is fuzz/atheris_target.py (fuzz/README.md)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark

from dana.resources import grammar_path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))
import trial as fuzz  # noqa: E402  (fuzz/trial.py, shared with the long fuzzers)

LAYOUT = {"_INDENT": st.just("    "), "_DEDENT": st.just(""), "_NEWLINE": st.just("\n")}
QUICK = settings(max_examples=30, deadline=None, derandomize=True,
                 suppress_health_check=list(HealthCheck))


def _grammar(start: str) -> st.SearchStrategy[str]:
    lark = Lark.open(str(grammar_path()), parser="lalr", start=start)
    return from_lark(lark, start=start, explicit=LAYOUT)


@QUICK
@given(_grammar("module"))
def test_programs_from_the_grammar(text: str) -> None:
    fuzz.trial(text.encode("utf-8", "surrogatepass"))


@QUICK
@given(_grammar("expr_input"))
def test_expressions_from_the_grammar(text: str) -> None:
    fuzz.trial(("x = " + text.strip() + "\nprint(x)\n").encode("utf-8", "surrogatepass"))


SEEDS = fuzz.corpus()


@QUICK
@given(st.sampled_from(SEEDS), st.integers(0, 2**32 - 1))
def test_mutated_golden_programs(seed: Path, salt: int) -> None:
    data = fuzz.mutate(seed.read_bytes(), random.Random(salt))
    fuzz.trial(data, seed.parent)


def test_there_are_seeds() -> None:
    assert len(SEEDS) > 300
