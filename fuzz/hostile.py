"""Run every hostile program the way an untrusted file is run, and check how each stops.

    python fuzz/hostile.py [FILE_OR_FOLDER ...]     (default: tests/golden/hostile and
                                                     tests/golden/safety)

Each program runs as `dana run --sandbox --timeout 4 FILE`, from the repository root, in
its own process. A program passes when it stops in under 5 s, at a peak memory under
512 MiB (the child's own `ru_maxrss`, from `os.wait4`), with no Python traceback, and,
when its golden `.err` expects a diagnostic, with a Dana diagnostic at the same line;
a program whose golden expects success must exit 0. A table goes to stdout, one row per
program; the exit status is 1 when any program failed (docs/language.md "Safety and
limits"). tests/test_hostile.py runs `run_one` on a few programs, without timing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = (ROOT / "tests" / "golden" / "hostile", ROOT / "tests" / "golden" / "safety")
COMMAND = ("run", "--sandbox", "--timeout", "4")
MAX_SECONDS = 5.0
MAX_MIB = 512
_DIAGNOSTIC = re.compile(r"^(\S+):(\d+):\d+: error\[E\d{4}\]", re.MULTILINE)


@dataclass(frozen=True)
class Outcome:
    """How one program stopped: exit code, wall and CPU seconds, peak resident MiB, the
    line of its first diagnostic (None: none) and the line its golden expects (None:
    success)."""

    path: Path
    exit_code: int
    seconds: float
    cpu_seconds: float
    peak_mib: float
    line: int | None
    expected: int | None
    traceback: bool

    @property
    def problems(self) -> list[str]:
        """What is wrong with this outcome ([] when it passes)."""
        found = []
        if self.seconds >= MAX_SECONDS:
            found.append(f"took {self.seconds:.1f} s")
        if self.peak_mib >= MAX_MIB:
            found.append(f"peak {self.peak_mib:.0f} MiB")
        if self.traceback:
            found.append("Python traceback")
        if self.expected is None and self.exit_code != 0:
            found.append(f"exit {self.exit_code}, expected success")
        if self.expected is not None and self.line != self.expected:
            found.append(f"diagnostic at line {self.line}, expected {self.expected}")
        return found


def expected_line(path: Path) -> int | None:
    """The line of the first diagnostic the golden `.err` beside `path` expects."""
    err = path.with_suffix(".err")
    found = _DIAGNOSTIC.search(err.read_text(encoding="utf-8")) if err.exists() else None
    return int(found.group(2)) if found else None


def run_one(path: Path) -> Outcome:
    """Run `path` under `dana run --sandbox --timeout 4` and measure it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "dana.cli.main", *COMMAND,
                              str(path.relative_to(ROOT))], cwd=ROOT, env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    stderr = child.stderr.read().decode("utf-8", "replace")  # type: ignore[union-attr]
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    found = _DIAGNOSTIC.search(stderr)
    return Outcome(path, child.returncode, seconds, usage.ru_utime + usage.ru_stime,
                   usage.ru_maxrss / 1024,
                   int(found.group(2)) if found else None, expected_line(path),
                   "Traceback (most recent call last)" in stderr)


def programs(targets: list[Path]) -> list[Path]:
    """Every .dana file named or under the named folders, sorted."""
    found: list[Path] = []
    for target in targets:
        found += sorted(target.rglob("*.dana")) if target.is_dir() else [target]
    return found


def main(argv: list[str]) -> int:
    targets = [Path(a).resolve() for a in argv] or list(DEFAULT)
    failed = 0
    print("| program | exit | seconds | CPU s | peak MiB | line (expected) | verdict |")
    print("|---|---|---|---|---|---|---|")
    for path in programs(targets):
        outcome = run_one(path)
        verdict = "; ".join(outcome.problems) or "ok"
        failed += verdict != "ok"
        print(f"| {path.relative_to(ROOT / 'tests' / 'golden')} | {outcome.exit_code} | "
              f"{outcome.seconds:.2f} | {outcome.cpu_seconds:.2f} | {outcome.peak_mib:.0f} | "
              f"{outcome.line} "
              f"({outcome.expected}) | {verdict} |", flush=True)
    print(f"\n{failed} of {len(programs(targets))} programs failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
