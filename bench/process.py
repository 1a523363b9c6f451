"""Whole-process figures: start-up of `dana run` against `python3 -c pass`, peak memory,
`dana check` of the largest example, and the cost of one in-memory workflow step.

Consumes: the repository tree this file sits in (put first on PYTHONPATH of the children,
so the tree being measured is the one that runs).

The children run as an installed package does: with compiled bytecode. Each `startup()`
call gives them a fresh bytecode cache (PYTHONPYCACHEPREFIX, a temporary folder; nothing is
written into the tree) that the warm-up round fills, even where the environment says
PYTHONDONTWRITEBYTECODE; otherwise every run would compile Dana's modules from source,
which `pip install` does once.
Produces: `startup(runs) -> Startup` (median CPU and wall seconds of each command, run
alternately; peak RSS in MB from the OS's accounting of each child) and `step_overhead()
-> float` (microseconds per step of a 20,000-step loop, in this process).
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dana import pipeline
from dana.runtime.interpreter import Runtime, run_module

ROOT = Path(__file__).resolve().parents[1]
HELLO = ROOT / "bench" / "programs" / "hello.dana"
STEPS = ROOT / "bench" / "programs" / "steps.dana"
STEP_COUNT = 20_000


@dataclass
class Figure:
    """Median CPU seconds (user + system: what the command costs, whatever else runs on
    the machine), median wall seconds and largest peak RSS (MB) of one command."""

    command: str
    seconds: float
    wall_s: float
    rss_mb: float


@dataclass
class Startup:
    python: Figure
    hello: Figure
    check: Figure


def _largest_example() -> Path:
    return max((ROOT / "examples").glob("*.dana"), key=lambda p: len(p.read_text()))


# Runs argv[1:] and prints its wall seconds, CPU seconds and peak RSS (KiB). Linux counts the memory of
# the process a command was forked from in the command's peak, so the command is started
# from this small helper rather than from the (large) benchmark process.
_TIMER = """
import os, sys, time
null = os.open(os.devnull, os.O_WRONLY)
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
      os.waitstatus_to_exitcode(status))
"""


def _measure(argv: list[str], bytecode: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one run of `argv`
    (output discarded), its bytecode cached under the folder `bytecode`. Raises
    RuntimeError when it fails."""
    env = dict(os.environ, PYTHONPYCACHEPREFIX=bytecode, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run([sys.executable, "-S", "-c", _TIMER, *argv], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    wall, cpu, rss_kib, code = float(out[0]), float(out[1]), int(out[2]), int(out[3])
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {code}")
    return wall, cpu, rss_kib / 1024


def _label(argv: list[str]) -> str:
    text = " ".join(argv[1:]).replace(str(ROOT) + os.sep, "")
    return "python3 " + text if argv[1] == "-c" else text.replace("-m dana.cli.main", "dana")


def startup(runs: int) -> Startup:
    """Run `python -c pass`, `dana run hello.dana` and `dana check LARGEST` in turn,
    `runs` times each (after one warm-up round, which compiles the bytecode); medians of
    the times."""
    dana = [sys.executable, "-m", "dana.cli.main"]
    largest = _largest_example()
    commands = {"python": [sys.executable, "-c", "pass"],
                "hello": dana + ["run", str(HELLO)],
                "check": dana + ["check", str(largest)]}
    samples: dict[str, list[tuple[float, float, float]]] = {k: [] for k in commands}
    with tempfile.TemporaryDirectory(prefix="dana-bench-bytecode-") as bytecode:
        for argv in commands.values():
            _measure(argv, bytecode)
        for _ in range(runs):
            for key, argv in commands.items():
                samples[key].append(_measure(argv, bytecode))
    figures = {key: Figure(_label(commands[key]), statistics.median(c for _, c, _ in values),
                           statistics.median(w for w, _, _ in values),
                           max(r for _, _, r in values))
               for key, values in samples.items()}
    return Startup(**figures)


def step_overhead(rounds: int = 3) -> float:
    """Best microseconds (CPU) per step of bench/programs/steps.dana (one trivial step per item
    of a 20,000-item loop, in memory, no listeners)."""
    source = pipeline.read_source(STEPS)
    module = pipeline.parse_source(source)
    pipeline.raise_on_errors(pipeline.check_module(module))
    best = float("inf")
    for _ in range(rounds):
        rt = Runtime(stdout=io.StringIO(), stderr=io.StringIO())
        start = time.process_time()
        result = run_module(rt, module).namespace["result"]
        best = min(best, time.process_time() - start)
        assert result.status == "succeeded", result.status
    return best / STEP_COUNT * 1e6
