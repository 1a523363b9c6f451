"""One fuzz trial: Dana source (bytes or text) through read -> parse -> check -> run under
tight limits, where every outcome must be a result or a `DanaError` (docs/language.md
"Safety and limits"). Shared by the suite's property tests (tests/test_fuzz.py) and the
long-running fuzzers in this folder.

`trial(data, folder)` returns None or raises what escaped: anything that is not a
DanaError is a bug in Dana (a crash the fuzzers minimise into golden tests).
"""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path

from dana import pipeline
from dana.errors import DanaError
from dana.runtime.interpreter import Limits, Runtime, run_module
from dana.runtime.permissions import Permissions
from dana.source import SourceFile

LIMITS = Limits(max_operations=5_000, timeout_s=2.0, max_depth=60, max_size=100_000,
                max_memory_mb=4096)
ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"


def trial(data: bytes, folder: Path = GOLDEN) -> None:
    """Parse, check and run `data` as a file in `folder` (reading allowed there, writing
    nowhere). Raises only what is not a DanaError."""
    source = SourceFile.from_bytes(str(folder / "fuzzed.dana"), data, folder / "fuzzed.dana")
    limit = sys.getrecursionlimit()  # run_module raises it for deep Dana code: put it back
    try:
        module = pipeline.parse_source(source)
        pipeline.check_module(module)
        runtime = Runtime(LIMITS, permissions=Permissions(read=[folder], base=folder),
                          stdout=io.StringIO(), stderr=io.StringIO(), sleep=lambda s: None)
        run_module(runtime, module)
    except DanaError:
        pass
    finally:
        sys.setrecursionlimit(limit)


def corpus() -> list[Path]:
    """The golden programs: the seeds that mutations start from."""
    return sorted(p for p in GOLDEN.rglob("*.dana") if p.is_file())


def mutate(data: bytes, rng: random.Random, rounds: int = 3) -> bytes:
    """`data` with a few byte-level mutations: a byte flipped, a range deleted or
    duplicated, random bytes or a Dana fragment inserted, two lines swapped."""
    out = bytearray(data)
    for _ in range(rng.randint(1, rounds)):
        kind = rng.randrange(6)
        at = rng.randrange(len(out) + 1)
        if kind == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del out[at:at + rng.randint(1, 16)]
        elif kind == 2:
            piece = out[at:at + rng.randint(1, 64)]
            out[at:at] = piece * rng.randint(1, 4)
        elif kind == 3:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == 4:
            out[at:at] = rng.choice(FRAGMENTS)
        else:
            lines = bytes(out).split(b"\n")
            if len(lines) > 2:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                out = bytearray(b"\n".join(lines))
    return bytes(out)


FRAGMENTS = [b"(", b")", b"[", b"]", b"{", b"}", b":", b"\n", b"\n    ", b"\t", b"\\",
             b"'", b'"', b'"""', b"f'{", b"}'", b"**", b"<<", b" * 10 ** 9", b"lambda x :: ",
             b"for x in xs:\n", b"while True:\n", b"try:\n", b"except:\n", b"def f():\n",
             b"return ", b"raise ", b"import ", b"$$", b" | ", b"._x", b"\x00", b"\xff",
             b"state.", b"workflow w:\n", b"steps:\n", b"parallel:\n", b"@step(retry=3)\n"]
