"""`python -m bench` (or `python bench/run.py`): Dana's speed as ratios to CPython.

Consumes: command-line options (`--rounds`, `--runs`, `--only NAME`, `--json PATH`,
`--skip-startup`).
Produces: on stdout a table (benchmark, Dana seconds, Python seconds, ratio; their median),
then start-up (`dana run hello.dana` against `python3 -c pass`, peak RSS, `dana check` of
the largest example) and microseconds per in-memory workflow step; the same figures as
JSON in `--json PATH` (default bench/results.json), with the commit they measure.
Nothing here asserts: targets are in the Performance section of the README.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.compute import PAIRS, Row, time_pairs  # noqa: E402
from bench.process import ROOT, Startup, startup, step_overhead  # noqa: E402


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each compute "
                        "benchmark (best is kept; default 5)")
    parser.add_argument("--runs", type=int, default=10, help="runs of each start-up command "
                        "(median is kept; default 10)")
    parser.add_argument("--only", action="append", choices=PAIRS, default=[],
                        help="run only this compute benchmark (repeatable)")
    parser.add_argument("--skip-startup", action="store_true",
                        help="skip the whole-process start-up figures")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json",
                        help="where to write the JSON figures (default bench/results.json)")
    return parser.parse_args(argv)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _print_compute(rows: list[Row]) -> float:
    print(f"{'benchmark':<16}{'dana s':>10}{'python s':>10}{'ratio':>9}")
    for row in rows:
        print(f"{row.name:<16}{row.dana_s:>10.4f}{row.python_s:>10.4f}{row.ratio:>8.1f}x")
    median = statistics.median(r.ratio for r in rows)
    print(f"{'median':<36}{median:>8.1f}x   (worst {max(r.ratio for r in rows):.1f}x)")
    return median


def _print_startup(s: Startup) -> None:
    print()
    print(f"{'command (medians)':<48}{'cpu':>8}   {'wall':>8}   {'peak RSS':>9}")
    for fig in (s.python, s.hello, s.check):
        print(f"{fig.command:<48}{fig.seconds * 1000:>6.0f} ms {fig.wall_s * 1000:>6.0f} ms "
              f"{fig.rss_mb:>7.1f} MB")
    print(f"start-up ratio, CPU (dana run hello / python3 -c pass): "
          f"{s.hello.seconds / s.python.seconds:.1f}x")
    print(f"dana check of the largest example, CPU / dana run hello: "
          f"{s.check.seconds / s.hello.seconds:.1f}x; / python3 -c pass: "
          f"{s.check.seconds / s.python.seconds:.1f}x")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    rows = time_pairs(args.rounds, tuple(args.only))
    report: dict = {"commit": _commit(), "python": sys.version.split()[0],
                    "compute": [dict(asdict(r), ratio=r.ratio) for r in rows],
                    "median_ratio": _print_compute(rows)}
    if not args.skip_startup:
        s = startup(args.runs)
        _print_startup(s)
        report["startup"] = asdict(s)
        report["startup_ratio"] = s.hello.seconds / s.python.seconds
    report["step_us"] = step_overhead()
    print(f"\nin-memory workflow step: {report['step_us']:.1f} µs")
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
