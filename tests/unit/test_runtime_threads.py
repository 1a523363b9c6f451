"""The runtime under parallel branches: stacks, imports and interrupts (docs/workflows.md
"Parallel branches")."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dana.runtime.interpreter import INTERRUPT, sleep_unless_interrupted

NEST = """
def nest(n: int) -> list[any]:
    x: list[any] = []
    for i in range(n):
        x = [x]
    return x

def deep(state: WorkflowState) -> int:
    return len(str(nest(999)))

def shallow(state: WorkflowState) -> int:
    return 1

workflow w():
    steps:
        parallel:
            deep
            shallow

print(run(w).output)
"""


def test_a_branch_gets_a_stack_as_big_as_the_main_program(tmp_path: Path) -> None:
    """Deeply nested values in a branch print as at top level: as deep as a walk over a
    value may go (`dana.runtime.shapes.MAX_VALUE_DEPTH`), on the branch thread's stack."""
    src = tmp_path / "nest.dana"
    src.write_text(NEST)
    out = subprocess.run([sys.executable, "-m", "dana.cli.main", "run", "--quiet", str(src)],
                         capture_output=True, text=True, timeout=120)
    assert (out.returncode, out.stdout, out.stderr) == (0, "[2000, 1]\n", "")


def test_branches_importing_one_module_at_once_all_get_it(tmp_path: Path) -> None:
    (tmp_path / "slowmod.dana").write_text(
        "def build() -> int:\n    total = 0\n    for i in range(20000):\n"
        "        total += 1\n    return total\n\nvalue = build()\n")
    (tmp_path / "main.dana").write_text(
        "def use(state: WorkflowState) -> int:\n    import slowmod\n    return slowmod.value\n\n"
        "workflow w():\n    steps:\n        parallel:\n" + "            use\n" * 4 +
        "\nr = run(w)\nprint(r.status, r.output)\n")
    out = subprocess.run([sys.executable, "-m", "dana.cli.main", "run", "--quiet", "main.dana"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.stdout == "succeeded [20000, 20000, 20000, 20000]\n", out.stderr


def test_ctrl_c_ends_a_backoff_sleep() -> None:
    timer = threading.Timer(0.05, INTERRUPT.set)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sleep_unless_interrupted(60.0)
    finally:
        timer.cancel()
        INTERRUPT.clear()
    assert not INTERRUPT.is_set()
