"""Run (or resume) tests/crash/crash.dana in a durable store, for the crash test.

    python driver.py STORE EFFECTS [RUN_ID]

`effect(key)` appends the running step's idempotency key to EFFECTS (one O_APPEND write
per line, so a SIGKILL never tears a line) and sleeps 2 ms so that kills land inside
steps; `first_attempt(n)` is True once per n, across processes (a transient failure the
retry absorbs).
On success prints one JSON line: output, final state, history (step, keys)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import dana

HERE = Path(__file__).resolve().parent


def main(store: str, effects: str, run_id: str | None = None) -> int:
    interp = dana.Interpreter(store=store)
    fd = os.open(effects, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    failed = Path(effects + ".failed")  # what failed once, across the killed processes

    @interp.register
    def effect(key: str) -> None:
        os.write(fd, (key + "\n").encode())
        time.sleep(0.002)

    @interp.register
    def first_attempt(n: int) -> bool:
        if failed.exists() and str(n) in failed.read_text().split():
            return False
        with open(failed, "a") as seen:
            seen.write(f"{n}\n")
        return True

    module = interp.load(HERE / "crash.dana")
    if run_id and interp.runs(status="succeeded") and \
            interp.runs(status="succeeded")[0]["id"] == run_id:
        report = _stored(interp.store, run_id)  # killed as it ended: read what it stored
    else:
        result = interp.resume(run_id) if run_id else module.run("crash")
        report = {"run_id": result.run_id, "status": result.status, "output": result.output,
                  "state": result.state.as_dict(),
                  "history": [[h["step"], h["keys_changed"]] for h in result.history()]}
    print(json.dumps(report))
    return 0 if report["status"] == "succeeded" else 1


def _stored(store, run_id: str) -> dict:
    """The report of a finished run, from the store."""
    from dana.store.codec import decode
    row = store.get(run_id)
    state = {k: decode(v) for k, v in store.state_at(run_id, row.last_version).items()}
    return {"run_id": run_id, "status": row.status, "output": decode(row.output),
            "state": state,
            "history": [[v.step, list(v.keys)] for v in store.versions(run_id)]}


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
