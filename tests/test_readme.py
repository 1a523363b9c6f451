"""The README's first commands: exactly two set-up commands (install and run the main
example; run the tests), and the example's run ends on a success a reader can trust."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def first_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_two_set_up_commands():
    commands = first_commands()
    assert len(commands) == 2
    assert "pip install" in commands[0] and "dana run examples/" in commands[0]
    assert commands[1] == "python -m pytest"


def test_the_first_command_ends_on_a_successful_run():
    example = re.search(r"dana run (examples/\S+)", first_commands()[0]).group(1)
    proc = subprocess.run([sys.executable, "-m", "dana.cli.main", "run", example],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    progress = [line for line in proc.stderr.splitlines() if line.startswith("■ workflow")]
    assert progress and " completed in " in progress[-1]
    assert proc.stdout.rstrip().splitlines()[-1].strip().startswith("v5 update_records")
    explained = README.split("## A taste")[0]
    assert "rejected" in explained and "exit" in explained
