"""The crash test (docs/store.md "Resume"): the ~200-step workflow of tests/crash/crash.dana (loops, an
`if`, a parallel block, a sub-workflow, a retried step, a handled failure), killed with
SIGKILL at 20 seeded random moments and resumed each time until it finishes, ends with
the output, state and history of an uninterrupted run; every committed step's effect
appears once, only a step running at a kill repeats; each killed run reads `crashed`;
`PRAGMA integrity_check` is ok. The 200-kill version: python tests/crash/harness.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HARNESS = Path(__file__).resolve().parent / "crash" / "harness.py"


def _harness():
    spec = importlib.util.spec_from_file_location("crash_harness", HARNESS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_twenty_kills_and_resumes_end_as_an_uninterrupted_run(tmp_path: Path) -> None:
    harness = _harness()
    clean = harness.uninterrupted(tmp_path / "clean")
    crashed = harness.crash_until_done(tmp_path / "crashed", kills=20, seed=20)
    assert len(crashed.killed_in) == 20
    assert harness.problems(clean, crashed) == []
