"""Costs of durable runs (docs/store.md), measured in one run and printed as
ratios; nothing here is a test.

    python -m bench.store [--steps N] [--repeat R]

1. A raw SQLite commit of a small row (WAL, synchronous NORMAL and FULL): the floor.
2. A durable step (a trivial step changing one key, in a `while` loop so each pass is one
   version) against the same run in memory: the extra per step, as a multiple of the raw
   commit at the same durability (target: <= 2).
3. The store size after a 10,000-step run whose 10,000-key state changes one key per step
   (target: < 20 MB).
4. `dana runs` over a store of 10,000 runs (target: < 0.5 s).
"""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import dana
from dana.store.codec import encode
from dana.store.runs import RunStart, RunStatus, RunStore

BUMP = """
def bump(state: WorkflowState) -> int:
    state.n = state.n + 1
    return state.n

workflow loop(steps: int = 1000) -> int:
    requires:
        n: int
    steps:
        while state.n < state.config["steps"]:
            bump
        bump
"""


def raw_commit_us(folder: Path, synchronous: str, count: int = 2000) -> float:
    """µs per one-row INSERT in its own transaction (WAL, the given synchronous)."""
    db = sqlite3.connect(folder / f"raw-{synchronous}.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    db.execute("CREATE TABLE IF NOT EXISTS t (run TEXT, version INTEGER, key TEXT, value BLOB)")
    payload = encode(12345)
    started = time.perf_counter()
    for i in range(count):
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (?, ?, ?, ?)", ("r", i, "n", payload))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed / count * 1e6


def step_us(folder: Path, steps: int, durability: str | None) -> float:
    """µs per step of the bump loop, in memory (durability None) or durable."""
    source = folder / "bump.dana"
    source.write_text(BUMP)
    store = folder / f"steps-{durability}.db" if durability else None
    interp = dana.Interpreter(store=store, durability=durability or "normal")
    module = interp.load(source)
    started = time.perf_counter()
    result = module.run("loop", config={"steps": steps}, n=0)
    elapsed = time.perf_counter() - started
    assert result.status == "succeeded", result.error
    return elapsed / (steps + 1) * 1e6


def big_state_mb(folder: Path, steps: int = 10_000, keys: int = 10_000) -> float:
    """MB of the store after a `steps`-step run over a `keys`-key state."""
    source = folder / "big.dana"
    source.write_text(BUMP)
    path = folder / "big.db"
    interp = dana.Interpreter(store=path)
    module = interp.load(source)
    state = {f"k{i}": i for i in range(keys)}
    result = module.run("loop", config={"steps": steps}, n=0, **state)
    assert result.status == "succeeded", result.error
    interp.store.close()
    return sum(p.stat().st_size for p in folder.glob("big.db*") if p.is_file()) / 1e6


def runs_listing_s(folder: Path, count: int = 10_000) -> float:
    """Seconds for `dana runs --limit 0` (all runs) over a store of `count` runs."""
    path = folder / "many.db"
    store = RunStore(path)
    empty = encode({})
    for i in range(count):
        run_id = f"{i:012x}"
        store.begin_run(RunStart(run_id, "w", "1.0", "w.dana", "workflow", "h", empty, empty,
                                 empty, {"config": empty}))
        store.finish(run_id, RunStatus.SUCCEEDED, None)
    store.close()
    from dana.cli.runs import cmd_runs
    args = SimpleNamespace(store=str(path), workflow=None, status=None, limit=0,
                           format="text")
    started = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        cmd_runs(args)
    return time.perf_counter() - started


def best_of(repeat: int, measure: Callable[..., float], *args: Any) -> float:
    """The least of `repeat` measurements (the least disturbed by the machine's load)."""
    return min(measure(*args) for _ in range(repeat))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="take the best of this many measurements (the machine is shared)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dana-bench-store-"))
    repeat = {"normal": args.repeat, "full": 1}  # at full the disk sync dominates: once
    raw = {level: best_of(repeat[level], raw_commit_us, folder, level.upper())
           for level in repeat}
    memory = best_of(args.repeat, step_us, folder, args.steps, None)
    print(f"raw SQLite commit of a small row: {raw['normal']:.0f} µs (WAL+NORMAL), "
          f"{raw['full']:.0f} µs (WAL+FULL)")
    print(f"in-memory step: {memory:.0f} µs")
    for level in ("normal", "full"):
        durable = best_of(repeat[level], step_us, folder, args.steps, level)
        extra = durable - memory
        print(f"durable step ({level}): {durable:.0f} µs = in-memory + {extra:.0f} µs = "
              f"{extra / raw[level]:.2f} x the raw commit (target <= 2)")
    print(f"store after a 10,000-step run over a 10,000-key state: "
          f"{big_state_mb(folder):.1f} MB (target < 20)")
    print(f"dana runs over 10,000 runs: {runs_listing_s(folder):.2f} s (target < 0.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
