"""Coverage-guided fuzzing of Dana's parser, checker and interpreter with atheris
(libFuzzer for Python). See fuzz/README.md for how to run it.

Each input is a Dana source file as bytes; `trial` (fuzz/trial.py) parses, checks and
runs it under tight limits. Anything that escapes as a non-DanaError exception is a
crash: libFuzzer writes the input to `crash-<hash>` and stops.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports(include=["dana"]):
    import trial


def main() -> None:
    sys.setrecursionlimit(20_000)
    atheris.Setup(sys.argv, trial.trial)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
