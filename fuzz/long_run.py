"""A long, uninstrumented fuzzing run without atheris: mutations of the golden programs
(fuzz/trial.py) for a number of seconds, saving every input that escapes as a
non-DanaError to `crashes/` with its traceback. Usage:

    python fuzz/long_run.py SECONDS [SEED]
"""

from __future__ import annotations

import hashlib
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trial  # noqa: E402

CRASHES = Path(__file__).resolve().parent / "crashes"


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    sys.setrecursionlimit(20_000)
    seeds = [(p, p.read_bytes()) for p in trial.corpus()]
    tried, crashes, end = 0, 0, time.monotonic() + seconds
    while time.monotonic() < end:
        path, data = rng.choice(seeds)
        mutated = trial.mutate(data, rng, rounds=rng.choice((1, 3, 8)))
        tried += 1
        try:
            trial.trial(mutated, path.parent)
        except BaseException as exc:  # noqa: BLE001 - every escape is a finding
            if isinstance(exc, KeyboardInterrupt):
                break
            crashes += 1
            CRASHES.mkdir(exist_ok=True)
            name = hashlib.sha1(mutated).hexdigest()[:12]
            (CRASHES / f"{name}.dana").write_bytes(mutated)
            (CRASHES / f"{name}.txt").write_text(f"seed: {path}\n" + traceback.format_exc())
    print(f"{tried} programs tried, {crashes} crashes saved under {CRASHES}")


if __name__ == "__main__":
    main()
