"""Golden tests: small Dana programs beside their expected output (docs/architecture.md "Tests").

Layout, under tests/golden/<feature>/:

    <case>.dana (or <case>.na)   the program; one behaviour per file
    <case>.out                   expected stdout (absent: stdout must be empty)
    <case>.err                   expected stderr: `log` lines and, when the run fails,
                                 the rendered diagnostics (absent: stderr must be empty)

A case is expected to FAIL (nonzero exit) exactly when its `.err` holds a rendered
diagnostic header (`file:line:col: error[Ennnn]: ...`); otherwise it must exit 0.

Helper modules that cases import are not cases: a file whose stem ends in `_lib`
(`shapes_lib.dana`, `legacy_lib.na`) or any file under a `lib/` folder or a folder whose
name ends in `_lib` (a package, `pkg_lib/__init__.na`).

Each case runs in-process the way `dana run --no-check --quiet FILE` runs it, through the
same `dana.pipeline` functions, on a `VirtualClock` (no case sleeps for real: retry
backoff advances the clock; a busy step reaches its timeout after a fixed number of
clock readings), from the repository root with the file named by its
relative path (`tests/golden/errors/x.dana`) so diagnostics are stable; file reading is
allowed only under the case's own folder. The absolute path of the repository (which
appears in permission errors naming that folder) is written `<repo>`. A case may ask for limits in a `# limits: NAME=VALUE ...` line
(fields of `dana.Limits`). The static checker is left out on purpose:
these goldens pin down run-time behaviour and run-time diagnostics (the checker has its
own goldens in tests/check/).

Programs that run successfully must also pass the static checker (`dana check`), so a
valid program never gets a false error; a case that deliberately shows the run-time side
of a mistake the checker catches says so with a `# dana check: rejects` comment.

`pytest tests/test_goldens.py --update-goldens` rewrites the expected files from the
actual run; read every diff before accepting it.
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from dana import pipeline
from dana.diagnostics import render, render_error
from dana.errors import ERROR, DanaError, DanaRuntimeError
from dana.runtime.interpreter import Limits

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SUFFIXES = (".dana", ".na")
DIAGNOSTIC = re.compile(r"^(\S+:\d+:\d+: )?error(\[E\d{4}\])?: ", re.MULTILINE)
CHECKER_REJECTS = "# dana check: rejects"


@dataclass(frozen=True)
class Outcome:
    """What one run printed and how it ended (exit codes as `dana run` uses them)."""

    stdout: str
    stderr: str
    exit_code: int


class VirtualClock:
    """The runtime's monotonic clock in golden runs (seconds): `sleep(s)` advances it by `s`
    at once, and every reading advances it by `TICK`, so time passes only as the program
    runs — deterministically, whatever the machine's speed. Thread-safe (parallel steps)."""

    TICK = 0.001

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            self.now += self.TICK
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def is_helper(path: Path) -> bool:
    """Imported helper modules are not cases (see the module docstring)."""
    folders = path.relative_to(GOLDEN).parts[:-1]
    return path.stem.endswith("_lib") or any(f == "lib" or f.endswith("_lib") for f in folders)


def discover() -> list[Path]:
    """Every case file under tests/golden, sorted for a stable test order."""
    files = (p for p in GOLDEN.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    return sorted(p for p in files if not is_helper(p))


def run_case(path: Path, check: bool = False) -> Outcome:
    """Run one file as `dana run` would: exit 0 ok, 1 runtime error, 2 syntax/usage error.
    The caller has made the repository root the working directory. `check`: checked
    first, so the run is compiled with the checker's types."""
    stdout, stderr = io.StringIO(), io.StringIO()
    time = VirtualClock()
    session = pipeline.Session(stdout=stdout, stderr=stderr, check=check, clock=time.clock,
                               sleep=time.sleep, limits=case_limits(path))
    try:
        pipeline.run_file(path.relative_to(ROOT).as_posix(), session)
    except DanaError as err:
        stderr.write(render_error(err) + "\n")
        code = 1 if isinstance(err, DanaRuntimeError) else 2
        return Outcome(_portable(stdout.getvalue()), _portable(stderr.getvalue()), code)
    return Outcome(_portable(stdout.getvalue()), _portable(stderr.getvalue()), 0)


LIMITS_LINE = re.compile(rb"^# limits: (.*)$", re.MULTILINE)


def case_limits(path: Path) -> Limits | None:
    """The limits a case asks for in a `# limits: max_operations=1000 timeout_s=2.5`
    line (small ones, so a runaway program stops at once); None: the defaults."""
    found = LIMITS_LINE.search(path.read_bytes())
    if found is None:
        return None
    pairs = (item.split("=") for item in found.group(1).decode().split())
    return Limits(**{key: float(value) if "." in value else int(value) for key, value in pairs})


def _portable(text: str) -> str:
    """Output that does not depend on where the repository is checked out."""
    return text.replace(str(ROOT), "<repo>")


def _expected(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _write(path: Path, text: str) -> None:
    if text:
        path.write_text(text, encoding="utf-8")
    elif path.exists():
        path.unlink()


CASES = discover()


@pytest.mark.parametrize("case", CASES, ids=[p.relative_to(GOLDEN).as_posix() for p in CASES])
def test_golden(case: Path, update_goldens: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    outcome = run_case(case)
    out_file, err_file = case.with_suffix(".out"), case.with_suffix(".err")
    if update_goldens:
        _write(out_file, outcome.stdout)
        _write(err_file, outcome.stderr)
        if not outcome.stdout and not outcome.stderr:
            out_file.write_text("", encoding="utf-8")
        return
    assert out_file.exists() or err_file.exists(), \
        f"no expected output for {case.name}; run pytest with --update-goldens and review it"
    assert outcome.stdout == _expected(out_file)
    assert outcome.stderr == _expected(err_file)
    expect_failure = bool(DIAGNOSTIC.search(_expected(err_file)))
    assert (outcome.exit_code != 0) == expect_failure, \
        f"exit code {outcome.exit_code}, expected {'nonzero' if expect_failure else 0}"


def _succeeds(case: Path) -> bool:
    return not DIAGNOSTIC.search(_expected(case.with_suffix(".err")))


VALID = [p for p in CASES if _succeeds(p)
         and CHECKER_REJECTS.encode() not in p.read_bytes()]


@pytest.mark.parametrize("case", VALID, ids=[p.relative_to(GOLDEN).as_posix() for p in VALID])
def test_valid_program_passes_checker(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    source = pipeline.read_source(case.relative_to(ROOT).as_posix())
    errors = [render(d) for d in pipeline.check_module(pipeline.parse_source(source))
              if d.severity == ERROR]
    assert not errors, "\n\n".join(errors)


@pytest.mark.parametrize("case", VALID, ids=[p.relative_to(GOLDEN).as_posix() for p in VALID])
def test_typed_run_matches_untyped_run(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Code compiled with the checker's types (specialised closures) prints and fails
    exactly as the same code compiled without them (docs/architecture.md "Runtime")."""
    monkeypatch.chdir(ROOT)
    outcome = run_case(case, check=True)
    assert outcome.stdout == _expected(case.with_suffix(".out"))
    assert outcome.stderr == _expected(case.with_suffix(".err"))


def test_cases_exist() -> None:
    """The suite covers the language: guard against a discovery rule that finds nothing."""
    assert len(CASES) >= 80
    assert len([p for p in CASES if not _succeeds(p)]) >= 25
