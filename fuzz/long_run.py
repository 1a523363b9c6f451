"""A long, uninstrumented fuzzing run without atheris: mutations of the golden programs
(fuzz/trial.py) for a number of seconds, saving every input that escapes as a
non-DanaError to `crashes/` with its traceback. A trial still running after HANG_SECONDS
is stopped and saved the same way (a `Hang`, with where it was): the run's time is
checked only between trials, so one endless trial would otherwise keep the run from
ending. Usage:

    python fuzz/long_run.py SECONDS [SEED]
"""

from __future__ import annotations

import hashlib
import random
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trial  # noqa: E402

CRASHES = Path(__file__).resolve().parent / "crashes"
HANG_SECONDS = 30.0
"""A trial is a hang past this (its own limits stop a program within seconds)."""


class Hang(BaseException):
    """Raised in a trial that ran past HANG_SECONDS (a BaseException, which Dana code and
    the runtime's mapping of host errors leave alone)."""


def _hang(signum: int, frame: object) -> None:
    raise Hang(f"the trial ran longer than {HANG_SECONDS} s")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    sys.setrecursionlimit(20_000)
    seeds = [(p, p.read_bytes()) for p in trial.corpus()]
    tried, crashes, end = 0, 0, time.monotonic() + seconds
    signal.signal(signal.SIGALRM, _hang)
    while time.monotonic() < end:
        path, data = rng.choice(seeds)
        mutated = trial.mutate(data, rng, rounds=rng.choice((1, 3, 8)))
        tried += 1
        try:
            signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
            try:
                trial.trial(mutated, path.parent)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
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
