"""The syntax phase: source text -> lark parse tree -> the typed AST (docs/architecture.md).
This package is the only user of lark.

Importing it loads lark without the third-party `regex` module: lark imports `regex`
whenever it is installed (some other tool may have installed it), although only
`Lark(regex=True)` uses it and Dana never asks for that, and that import alone costs more
than the rest of lark (README "Performance"). `regex` is kept out only while lark loads; a
program that imports it later, or already has, gets it as usual.
"""

import importlib
import sys


def _load_lark() -> None:
    if "lark" in sys.modules or "regex" in sys.modules:
        return
    sys.modules["regex"] = None  # type: ignore[assignment]  # `import regex` -> ImportError
    try:
        importlib.import_module("lark")  # its __init__ loads lark.utils and lark.lark, which try it
    finally:
        if sys.modules.get("regex", 0) is None:
            del sys.modules["regex"]


_load_lark()
