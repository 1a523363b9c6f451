"""Kill the crash-test workflow with SIGKILL at seeded random moments and resume it until
it finishes; check that it ends as an uninterrupted run does (docs/store.md "Resume").

    python tests/crash/harness.py --kills 200 [--seed N]     # the long version, by hand

`crash_until_done` is what tests/test_crash.py runs with 20 kills. A kill lands while the
run makes progress: after the process wrote one more effect, plus a random delay.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DRIVER = HERE / "driver.py"


@dataclass
class Outcome:
    """What a crash-and-resume campaign produced."""

    result: dict
    effects: list[str]
    killed_in: list[str] = field(default_factory=list)   # the last effect before each kill
    statuses: list[str] = field(default_factory=list)     # the run's status after each kill
    integrity: str = ""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def uninterrupted(folder: Path) -> Outcome:
    folder.mkdir(parents=True, exist_ok=True)
    effects = folder / "effects.txt"
    done = subprocess.run([sys.executable, str(DRIVER), str(folder / "dana.db"), str(effects)],
                          capture_output=True, text=True, env=_env(), check=True)
    return Outcome(json.loads(done.stdout), _lines(effects))


def crash_until_done(folder: Path, kills: int, seed: int, max_delay: float = 0.02) -> Outcome:
    """Start the run, kill it `kills` times (each time after it wrote an effect, plus up
    to `max_delay` seconds), then resume it to the end. Fewer kills when the run ends
    first. Raises AssertionError if a resumed process fails."""
    from dana.store.runs import RunStore
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    store, effects = folder / "dana.db", folder / "effects.txt"
    run_id: str | None = None
    outcome = Outcome({}, [])
    while len(outcome.killed_in) < kills:
        proc = _start(store, effects, run_id)
        if not _progress(proc, effects, len(_lines(effects))):
            outcome.result = _finish(proc)  # it ended before a kill could land
            break
        time.sleep(rng.uniform(0, max_delay))
        if proc.poll() is not None:
            outcome.result = _finish(proc)
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        outcome.killed_in.append(_lines(effects)[-1])
        runs = RunStore(store)
        run_id = run_id or runs.runs()[0].id
        outcome.statuses.append(runs.status_of(runs.get(run_id)).value)
        runs.close()
        if outcome.statuses[-1] == "succeeded":  # the kill came as the process ended
            break
    if not outcome.result:
        outcome.result = _finish(_start(store, effects, run_id))
    outcome.effects = _lines(effects)
    check = RunStore(store)
    outcome.integrity = check.integrity()
    check.close()
    return outcome


def _start(store: Path, effects: Path, run_id: str | None) -> subprocess.Popen:
    args = [sys.executable, str(DRIVER), str(store), str(effects), *([run_id] if run_id else [])]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())


def _progress(proc: subprocess.Popen, effects: Path, before: int) -> bool:
    """Wait until the process wrote one more effect (True) or ended (False)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(_lines(effects)) > before:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    raise AssertionError("the run made no progress for 60 s")


def _finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out)


def problems(clean: Outcome, crashed: Outcome) -> list[str]:
    """What differs from the uninterrupted run, beyond what the contract allows: each
    committed step's effect exactly once; a step running at a kill may repeat (once per
    kill that hit it)."""
    found = []
    for part in ("status", "output", "state", "history"):
        if clean.result[part] != crashed.result[part]:
            found.append(f"{part} differs")
    strip = lambda key: key.split(":", 1)[1]  # noqa: E731  (run ids differ)
    expected = Counter(map(strip, clean.effects))
    extra = Counter(map(strip, crashed.effects)) - expected
    missing = expected - Counter(map(strip, crashed.effects))
    allowed = Counter(map(strip, crashed.killed_in))
    if missing:
        found.append(f"effects missing: {sorted(missing)[:5]}")
    if extra - allowed:
        found.append(f"effects repeated by steps not running at a kill: "
                     f"{sorted(extra - allowed)[:5]}")
    if any(s != "crashed" for s in crashed.statuses[:-1]) or \
            crashed.statuses[-1:] not in (["crashed"], ["succeeded"]):
        found.append(f"statuses after kills: {sorted(set(crashed.statuses))}")
    if crashed.integrity != "ok":
        found.append(f"integrity_check: {crashed.integrity}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--max-delay", type=float, default=0.003,
                        help="seconds after an effect within which a kill lands")
    parser.add_argument("--folder", default=None, help="work folder (default: a temp one)")
    args = parser.parse_args()
    import tempfile
    folder = Path(args.folder or tempfile.mkdtemp(prefix="dana-crash-"))
    started = time.monotonic()
    clean = uninterrupted(folder / "clean")
    crashed = crash_until_done(folder / "crashed", args.kills, args.seed, args.max_delay)
    found = problems(clean, crashed)
    print(f"{len(crashed.killed_in)} kills (seed {args.seed}) in {time.monotonic() - started:.1f} s;"
          f" {len(crashed.effects)} effects for {len(clean.effects)} steps "
          f"({len(crashed.effects) - len(clean.effects)} re-run after a kill); statuses "
          f"after kills: {dict(Counter(crashed.statuses))}; integrity {crashed.integrity}; "
          + ("OK: same output, state and history" if not found else "PROBLEMS: " + "; ".join(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
