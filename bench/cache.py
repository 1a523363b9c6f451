"""Costs of the step cache (docs/store.md "Step cache"), measured in one run and printed as
ratios; nothing here is a test.

    python -m bench.cache [--steps N] [--repeat R]

1. A cache hit against a durable step: a `while` loop of `bump` (a trivial durable step),
   then the same loop with a `cache=True` step that hits on every pass; the hit's cost is
   the difference per pass, as a multiple of the durable step (target: <= 2).
2. A hit of a step that reads a 10 MB state value, against the hit of one that reads a
   small value: a value is hashed once, when it is committed, so the key of a step that
   reads it costs the same whatever its size (target: about 1).
Each figure is the best of `--repeat` runs (the machine is shared; the best is the least
disturbed).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import dana
from bench.store import best_of

STEPS = """
def bump(state: WorkflowState) -> int:
    state.n = state.n + 1
    return state.n

@step(cache=True)
def small(state: WorkflowState) -> int:
    state.m = len(state.little)
    return state.m

@step(cache=True)
def large(state: WorkflowState) -> int:
    state.m = len(state.big)
    return state.m
"""

LOOP = """
workflow {name}(steps: int = 1000):
    requires:
        n: int
        little: str
        big: str
    steps:
        while state.n < state.config["steps"]:
            bump
            {cached}
"""

PROGRAM = STEPS + "".join(LOOP.format(name=name, cached=cached) for name, cached in (
    ("plain", ""), ("hits_small", "small"), ("hits_large", "large")))

BIG = "x" * (10 * 1024 * 1024)


def loop_s(folder: Path, workflow: str, steps: int, big: str) -> float:
    """Seconds for one durable run of `workflow` whose state holds `big` (a fresh store:
    the first pass of a cached step misses, the others hit)."""
    source = folder / "cache.dana"
    source.write_text(PROGRAM)
    interp = dana.Interpreter(store=Path(tempfile.mkdtemp(dir=folder)) / "store.db")
    module = interp.load(source)
    started = time.perf_counter()
    result = module.run(workflow, config={"steps": steps}, n=0, little="abc", big=big)
    elapsed = time.perf_counter() - started
    assert result.status == "succeeded", result.error
    interp.store.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dana-bench-cache-"))
    n, r = args.steps, args.repeat
    plain = best_of(r, loop_s, folder, "plain", n, "") / n * 1e6
    small = best_of(r, loop_s, folder, "hits_small", n, "") / n * 1e6 - plain
    large = (best_of(r, loop_s, folder, "hits_large", n, BIG)
             - best_of(r, loop_s, folder, "plain", n, BIG)) / n * 1e6
    print(f"durable step: {plain:.0f} µs")
    print(f"cache hit: {small:.0f} µs = {small / plain:.2f} x the durable step (target <= 2)")
    print(f"cache hit of a step reading a 10 MB value: {large:.0f} µs = "
          f"{large / small:.2f} x the hit reading a small one (target: about 1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
