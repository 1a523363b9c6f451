"""Executors benchmark (docs/distributed.md): `python -m bench.distributed [--workers 2]`.

Two measurements, each a ratio against a baseline measured in the same run:

1. CPU-bound fan-out: a `parallel for` over 8 items, each branch pure Dana computation
   calibrated to take >= 0.5 s alone, on `threads`, `processes` and `dask` (a LocalCluster
   of `--workers` single-threaded processes). Pools and clusters are started and warmed
   (the module loaded on every worker) before the timed runs; the best of `--repeat` runs
   counts. Printed: seconds per executor and speed-up over threads, and the threads time
   in branch-times (about `--branches`: one core, the GIL).
2. Per-branch overhead of `dask`: a `parallel for` over `--tiny` items whose branch only
   returns its item, against `client.map` of the equivalent Python function over as many
   items on the same cluster. Printed: microseconds per branch each way and their ratio.

Each figure is printed beside its target (docs/distributed.md
"Measuring the speed-up"), with the load average at the start
and the end: the machine's other processes take cores, so on a loaded machine the
speed-ups are lower bounds. Nothing is asserted; the figures go in the
change's notes.
"""

from __future__ import annotations

import argparse
import os
import time

import dana

BURN = """
def burn(state: WorkflowState) -> int:
    total = 0
    for i in range(state.config.n):
        total = (total + i * i) % 1000003
    return total + state.item

workflow fan(n: int = 1000) -> list[int]:
    steps:
        parallel for item in state.items:
            burn

def tiny(state: WorkflowState) -> int:
    return state.item

workflow many() -> list[int]:
    steps:
        parallel for item in state.items:
            tiny
"""


def echo(item: int) -> int:
    """The Python twin of the `tiny` branch."""
    return item


def timed(interp: dana.Interpreter, workflow: str, repeat: int, **inputs) -> float:
    """Best wall time of `repeat` runs (seconds), after one warm-up run."""
    best = float("inf")
    for attempt in range(repeat + 1):
        started = time.perf_counter()
        result = interp.run(interp.globals[workflow], **inputs)
        took = time.perf_counter() - started
        assert result.status == "succeeded", result.error
        if attempt:
            best = min(best, took)
    return best


def interpreter(executor: str, workers: int) -> dana.Interpreter:
    interp = dana.Interpreter(dana.Limits(max_operations=10 ** 12), check=False,
                              executor=executor, workers=workers)
    interp.exec(BURN)
    return interp


def calibrate(target: float) -> int:
    """The loop count `n` for which one `burn` branch takes about `target` seconds alone."""
    n = 20_000
    with interpreter("threads", 1) as interp:
        while True:
            took = timed(interp, "fan", 1, items=[0], config={"n": n})
            if took >= target:
                return n
            n = int(n * max(1.2, 1.1 * target / max(took, 1e-3)))


SPEED_UP_TARGET = 1.7     # processes and dask vs threads, CPU-bound fan-out
OVERHEAD_TARGET = 2.0     # dask per-branch time vs a raw client.map, at most


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def fan_out(workers: int, repeat: int, branches: int, target: float) -> list[bool]:
    n = calibrate(target)
    items = list(range(branches))
    alone = None
    rows = []
    for executor in ("threads", "processes", "dask"):
        with interpreter(executor, workers) as interp:
            if alone is None:
                alone = timed(interp, "fan", repeat, items=[0], config={"n": n})
            rows.append((executor, timed(interp, "fan", repeat, items=items,
                                         config={"n": n})))
    base = rows[0][1]
    print(f"\n1. CPU-bound fan-out: a `parallel for` of {branches} branches of pure Dana, "
          f"each {alone:.2f} s alone (n={n});")
    print(f"   {workers} worker processes; best of {repeat} runs after a warm-up run that "
          "starts the pool or cluster and loads the module on its workers.")
    print(f"   {'executor':<10} {'seconds':>8} {'vs threads':>11}  target")
    print(f"   {'threads':<10} {base:8.2f} {1:10.2f}x  baseline: "
          f"{base / alone:.1f} branch-times for {branches} branches (1 core: the GIL)")
    results = []
    for executor, took in rows[1:]:
        ok = base / took >= SPEED_UP_TARGET
        results.append(ok)
        print(f"   {executor:<10} {took:8.2f} {base / took:10.2f}x  "
              f">= {SPEED_UP_TARGET}x {verdict(ok)}")
    return results


def overhead(workers: int, repeat: int, count: int) -> bool:
    items = list(range(count))
    with interpreter("dask", workers) as interp:
        dana_s = timed(interp, "many", repeat, items=items)
        client = interp.runtime.executor.backend.connect()
        best = float("inf")
        for attempt in range(repeat + 1):
            started = time.perf_counter()
            assert client.gather(client.map(echo, items, pure=False)) == items
            took = time.perf_counter() - started
            if attempt:
                best = min(best, took)
    per_dana, per_raw = 1e6 * dana_s / count, 1e6 * best / count
    ok = per_dana / per_raw <= OVERHEAD_TARGET
    print(f"\n2. Per-branch overhead of dask: a `parallel for` of {count} branches that "
          "only return their item,")
    print(f"   against client.map of the same Python function over {count} items on the "
          f"same cluster ({workers} workers); best of {repeat} after a warm-up.")
    print(f"   dana parallel for  {per_dana:8.0f} µs/branch (the whole workflow run)")
    print(f"   raw client.map     {per_raw:8.0f} µs/item")
    print(f"   ratio              {per_dana / per_raw:8.2f}x  <= {OVERHEAD_TARGET}x "
          f"{verdict(ok)}")
    return ok


def load() -> str:
    """The load averages (1, 5, 15 minutes), as `uptime` shows them: on a shared machine
    other processes take cores, and every figure here is then a lower bound."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--branches", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=0.5,
                        help="time one branch takes alone (default 0.5)")
    parser.add_argument("--tiny", type=int, default=200,
                        help="branches of the overhead measurement (default 200)")
    args = parser.parse_args()
    print(f"python -m bench.distributed: {os.cpu_count()} cores; load average "
          f"{load()} (1, 5, 15 min) at the start")
    results = fan_out(args.workers, args.repeat, args.branches, args.seconds)
    results.append(overhead(args.workers, args.repeat, args.tiny))
    print(f"\nload average {load()} at the end; {sum(results)} of {len(results)} targets met"
          + ("" if all(results) else " (on a loaded machine, re-run it idle)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
