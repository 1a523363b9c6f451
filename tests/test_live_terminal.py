"""`dana run` on a real terminal: a pseudo-terminal holds both stdout and stderr, as in an
interactive shell, and pyte (a VT100 emulator) renders what the user would see. Program
output printed by steps must stand on lines of its own above the live progress bars, and
no stale bar may stay behind (docs/cli.md "Progress")."""

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pyte

COLUMNS, ROWS = 100, 60

PRINTING = '''
def work(state: WorkflowState) -> int:
    total = 0
    for i in range(20000):
        total += i % 7
    print(f"day {state.day}: total {total}")
    return total

workflow daily():
    steps:
        for day in range(1, 7):
            work
'''


def on_terminal(args: list[str], cwd: Path) -> tuple[int, list[str]]:
    """Run `dana ARGS` with stdout and stderr on one pseudo-terminal; (exit code, the
    terminal's lines as rendered, trailing blanks stripped)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS))
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "dana.cli.main", *args], cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process ended
            break
        if not data:
            break
        chunks.append(data)
    code = proc.wait(timeout=60)
    os.close(leader)
    screen = pyte.Screen(COLUMNS, ROWS)
    pyte.ByteStream(screen).feed(b"".join(chunks))
    return code, [line.rstrip() for line in screen.display if line.strip()]


def test_step_output_prints_above_the_live_bars(tmp_path: Path):
    (tmp_path / "daily.dana").write_text(PRINTING)
    code, lines = on_terminal(["run", "daily.dana", "--workflow", "daily"], tmp_path)
    assert code == 0
    printed = [line for line in lines if "total" in line and "day" in line]
    assert printed == [f"day {d}: total 59997" for d in range(1, 7)]
    assert not any("━" in line for line in lines), "a stale progress bar stayed on screen"
    assert lines[-2:] == ["■ workflow daily completed" + lines[-2].split("completed")[1],
                          "59997"]
