"""The standard library (stdlib/*.dana): every module parses, type-checks, imports and runs.

Behaviour of each function is covered by the golden cases in tests/golden/stdlib/; this file
checks the library as a whole: syntax, types (when the checker is installed, with the host
functions of `dana.runtime.hostlib` declared), documented and annotated public functions,
both import forms, and that the `_host_*` functions reach stdlib modules only.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest

from dana.errors import DanaError, DanaRuntimeError
from dana.resources import stdlib_dir
from dana.runtime.hostlib import host_globals, host_types
from dana.runtime.interpreter import Runtime, run_module
from dana.source import SourceFile
from dana.syntax import ast as A
from dana.syntax.builder import parse

STDLIB = stdlib_dir()
MODULES = sorted(p.stem for p in STDLIB.glob("*.dana"))
EXPECTED = {"text", "collections", "math", "time", "json", "csv", "workflow"}
HAS_CHECKER = importlib.util.find_spec("dana.types.checker") is not None


def parsed(name: str) -> A.Module:
    path = STDLIB / f"{name}.dana"
    return parse(SourceFile(str(path), path.read_text(encoding="utf-8"), path))


def run_source(text: str, folder: Path) -> str:
    """Run `text` as a script saved in `folder` (reads allowed there); its stdout."""
    path = folder / "main.dana"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    rt = Runtime(allow_read=(folder,), stdout=out, stderr=io.StringIO())
    run_module(rt, parse(SourceFile(str(path), text, path)))
    return out.getvalue()


def public_functions(module: A.Module) -> list[A.FuncDecl]:
    return [s for s in module.body if isinstance(s, A.FuncDecl) and not s.name.startswith("_")]


def test_every_module_is_present() -> None:
    assert EXPECTED <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_parses_and_is_documented(name: str) -> None:
    module = parsed(name)
    assert module.docstring, f"stdlib/{name}.dana has no module docstring"
    functions = public_functions(module)
    assert functions, f"stdlib/{name}.dana defines no public function"
    for fn in functions:
        assert fn.docstring, f"{name}.{fn.name} has no docstring"
        assert fn.returns is not None, f"{name}.{fn.name} has no return annotation"
        for p in fn.params:
            assert p.annotation is not None, f"{name}.{fn.name}: parameter {p.name} untyped"


@pytest.mark.skipif(not HAS_CHECKER, reason="the type checker is not installed")
@pytest.mark.parametrize("name", MODULES)
def test_module_type_checks(name: str) -> None:
    from dana.types.checker import check_module
    result = check_module(parsed(name), host_functions=host_types())
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert not errors, "\n".join(f"{d.span.start if d.span else '?'}: {d.message}"
                                 for d in errors)


def test_host_types_match_host_functions() -> None:
    assert set(host_types()) == set(host_globals())
    assert all(name.startswith("_host_") for name in host_globals())


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_and_runs(name: str, tmp_path: Path) -> None:
    module = parsed(name)
    names = [fn.name for fn in public_functions(module)]
    lines = [f"import {name} as m"] + [f"print(type(m.{n}))" for n in names]
    out = run_source("\n".join(lines) + "\n", tmp_path)
    assert out.split() == ["function"] * len(names)


def test_from_import_form(tmp_path: Path) -> None:
    out = run_source("from collections import chunk, unique\n"
                     "from math import mean as average\n"
                     "print(chunk(unique([1, 1, 2, 3]), 2), average([1, 2]))\n", tmp_path)
    assert out == "[[1, 2], [3]] 1.5\n"


def test_modules_are_loaded_once(tmp_path: Path) -> None:
    out = run_source("import math\nimport math as m2\nfrom math import pi\n"
                     "print(math is m2, pi == m2.pi)\n", tmp_path)
    assert out == "True True\n"


@pytest.mark.parametrize("source, kind", [
    ("print(_host_sqrt(4.0))\n", "NameError"),
    ("import math\nprint(math._host_sqrt(4.0))\n", "AttributeError"),
    ("from math import _host_sqrt\n", "ImportError"),
])
def test_host_functions_stay_inside_the_stdlib(source: str, kind: str, tmp_path: Path) -> None:
    with pytest.raises(DanaRuntimeError) as info:
        run_source(source, tmp_path)
    assert info.value.dana_type == kind


def test_a_user_module_does_not_get_host_functions(tmp_path: Path) -> None:
    (tmp_path / "mine.dana").write_text("def root(x: float) -> float:\n"
                                        "    return _host_sqrt(x)\n", encoding="utf-8")
    with pytest.raises(DanaRuntimeError) as info:
        run_source("import mine\nprint(mine.root(4.0))\n", tmp_path)
    assert info.value.dana_type == "NameError"


def test_host_errors_are_dana_errors(tmp_path: Path) -> None:
    out = run_source("import math\nimport time\n"
                     "for f in [lambda :: math.sqrt(-1), lambda :: math.log(-2),\n"
                     "          lambda :: math.exp(1000), lambda :: time.parse_iso('x'),\n"
                     "          lambda :: time.iso_format(1e20)]:\n"
                     "    try:\n"
                     "        f()\n"
                     "    handle ValueError as e:\n"
                     "        print('ValueError')\n", tmp_path)
    assert out == "ValueError\n" * 5


def test_csv_reads_relative_to_the_script_not_the_module(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("a,b\n1,x\n", encoding="utf-8")
    out = run_source("import csv\nprint(csv.read_numeric('d.csv'))\n", tmp_path)
    assert out == "[{'a': 1, 'b': 'x'}]\n"
    with pytest.raises(DanaError) as info:
        run_source(f"import csv\ncsv.read_rows({str(STDLIB / 'csv.dana')!r})\n", tmp_path)
    assert getattr(info.value, "dana_type", None) == "PermissionError"


def test_time_now_is_the_clock(tmp_path: Path) -> None:
    out = run_source("import time\nt = time.now()\nprint(abs(t - now()) < 5, type(t))\n",
                     tmp_path)
    assert out == "True float\n"
