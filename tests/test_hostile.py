"""A bounded sample of fuzz/hostile.py in the suite: hostile programs run as untrusted files
(`dana run --sandbox --timeout 4`) stop with a Dana diagnostic at the line their golden
expects, and no Python traceback. The timing and memory bounds are checked by running the
script by hand (fuzz/README.md); the suite asserts no wall-clock times."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fuzz"))

from hostile import ROOT, run_one  # noqa: E402

SAMPLE = ["shapes/print_shared.dana", "shapes/hash_deep_tuple.dana", "limits/power_huge.dana",
          "escapes/type_three_args.dana", "parser/nested_parentheses.dana",
          "workflows/duplicate_step.dana"]


@pytest.mark.parametrize("name", SAMPLE)
def test_a_hostile_program_stops_with_a_diagnostic_at_its_line(name: str) -> None:
    outcome = run_one(ROOT / "tests" / "golden" / "hostile" / name)
    assert not outcome.traceback
    assert outcome.expected is not None and outcome.line == outcome.expected
    assert outcome.exit_code in (1, 2)
