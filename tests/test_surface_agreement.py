"""The checker and the runtime agree on every declared builtin and method (issue: "one
language surface"). For each declaration in `dana.surface`, calls are generated (all
positional, all by keyword, one required argument left out, one positional argument too
many, an unknown keyword, and each parameter given each value of a pool of differently
typed values, None among them); each call is checked and run. Whenever the checker
accepts a call, the run must not fail with a TypeError or AttributeError (arity, names,
types); equivalently, whatever the runtime rejects for those reasons the checker reports.
"""

from __future__ import annotations

import io

import pytest

import dana
from dana.errors import DanaRuntimeError
from dana.source import SourceFile
from dana.surface import FUNCTIONS, METHODS, REQUIRED, Function, TypeRef, expand
from dana.syntax.builder import parse
from dana.types.checker import check_module

# Values of different types, as Dana source: every parameter is tried with each.
POOL = ("3", "2.5", '"a"', "true", "None", "[1, 2]", '{"a": 1}', "(1, 2)", "{1, 2}", "str")
RECEIVERS = {"str": '"abc"', "list": "[1, 2, 3]", "dict": '{"a": 1}', "set": "{1, 2}",
             "tuple": "(1, 2)", "int": "(5)", "float": "(2.5)"}
TYPE_VARS = {"list": {"T": "1"}, "set": {"T": "1"}, "tuple": {"T": "1"},
             "dict": {"K": '"a"', "V": "1"}}
# Builtins whose work touches the world beyond the program (files, workflows, the
# environment): only their arity and keyword calls are generated, never a full one.
EFFECTS = {"write_text", "append_text", "read_text", "read_lines", "read_csv", "run",
           "compose", "getenv", "idempotency_key"}
# Parameters whose acceptable values depend on the value, not its type, and which the
# checker therefore leaves to run time (their run-time error names the rule).
VALUE_CHECKED = {("isinstance", "types"): "a type or a tuple of types",
                 ("case", "branches"): "(predicate, function) pairs, then a fallback",
                 ("min", "items"): "one iterable, or several values",
                 ("max", "items"): "one iterable, or several values",
                 ("json_dumps", "x"): "data JSON can write (no functions)"}
_SAMPLES = {"int": "3", "float": "2.5", "str": '"a"', "bool": "true", "None": "None",
            "any": "3", "function": "str", "list": "[1, 2]", "dict": '{"a": 1}',
            "set": "{1, 2}", "tuple": "(1, 2)"}


def sample(ref: TypeRef, tvars: dict[str, str]) -> str | None:
    """A Dana literal of declared type `ref`, or None when there is none to write."""
    if ref.name == "|":
        found = [sample(o, tvars) for o in ref.args if o.name != "None"]
        return next((s for s in found if s is not None), None)
    if ref.name in tvars:
        return tvars[ref.name]
    items = [sample(a, tvars) for a in ref.args if a.name != "..."]
    if None in items:
        return None
    if ref.name == "list" and items:
        return f"[{items[0]}]"
    if ref.name == "set" and items:
        return f"{{{items[0]}}}"
    if ref.name == "dict" and items:
        return f"{{{items[0]}: {items[1]}}}"
    if ref.name == "tuple" and items:
        return f"({', '.join(items)},)"
    return _SAMPLES.get(ref.name)


def calls(decl: Function) -> list[str]:
    """Generated call texts (see the module docstring) for one declaration."""
    head = f"{RECEIVERS[decl.receiver]}.{decl.name}" if decl.receiver else decl.name
    tvars = TYPE_VARS.get(decl.receiver, {})
    plain = [p for p in decl.params if p.kind == "plain"]
    named = [p for p in decl.params if p.kind in ("plain", "keyword")]
    star = next((p for p in decl.params if p.kind == "star"), None)
    values = {p.name: sample(expand(p.type), tvars) for p in decl.params}
    required = [p for p in named if p.default is REQUIRED]
    out = [f"{head}(unknown_keyword=1)"]
    if star is None:
        out.append(f"{head}({', '.join(['3'] * (len(plain) + 1))})")
    for left_out in required:
        given = [f"{p.name}={values[p.name]}" for p in required
                 if p is not left_out and values[p.name]]
        out.append(f"{head}({', '.join(given)})")
    if decl.name in EFFECTS or any(values[p.name] is None for p in required) \
            or any((decl.name, p.name) in VALUE_CHECKED for p in decl.params):
        return out
    base = {p.name: values[p.name] for p in required}
    stars = [values[star.name]] if star is not None and values[star.name] else []
    positional = [base[p.name] for p in plain if p.name in base] + stars
    keywords = [f"{k}={v}" for k, v in base.items() if k not in {p.name for p in plain}]
    out.append(f"{head}({', '.join(positional + keywords)})")
    out.append(f"{head}({', '.join(stars + [f'{k}={v}' for k, v in base.items()])})")
    for param in named:
        if (decl.name, param.name) in VALUE_CHECKED:
            continue
        for value in POOL:
            args = {**base, param.name: value}
            out.append(f"{head}({', '.join(stars + [f'{k}={v}' for k, v in args.items()])})")
    return out


DECLS = list(FUNCTIONS.values()) + [m for ms in METHODS.values() for m in ms.values()]
CASES = [(decl, text) for decl in DECLS for text in calls(decl)]


def checker_accepts(text: str) -> bool:
    result = check_module(parse(SourceFile("call.dana", f"x = {text}\n")))
    return not any(d.severity == "error" for d in result.diagnostics)


def runtime_type_error(text: str) -> str | None:
    interp = dana.Interpreter(check=False, stdout=io.StringIO(), stderr=io.StringIO())
    try:
        interp.exec(f"x = {text}\n")
    except DanaRuntimeError as exc:
        if exc.dana_type in ("TypeError", "AttributeError"):
            return exc.message
    except dana.DanaError:
        pass
    return None


def test_every_declaration_gets_generated_calls() -> None:
    assert len(DECLS) > 100 and len(CASES) > 1500
    assert {d.name for d, _ in CASES} >= set(FUNCTIONS)


@pytest.mark.parametrize("decl", DECLS,
                         ids=[f"{d.receiver}.{d.name}".lstrip(".") for d in DECLS])
def test_checker_accepts_only_what_the_runtime_accepts(decl: Function) -> None:
    disagreements = []
    for text in calls(decl):
        error = runtime_type_error(text)
        if error is not None and checker_accepts(text):
            disagreements.append(f"{text}: checked clean, but at run time: {error}")
    assert disagreements == []


def test_builtins_reference_page_is_generated_from_the_declarations() -> None:
    from pathlib import Path

    from dana.surface.reference import render
    page = Path(__file__).resolve().parents[1] / "docs" / "builtins.md"
    assert page.read_text(encoding="utf-8") == render(), \
        "docs/builtins.md is stale: python -m dana.surface.reference > docs/builtins.md"


def test_python_dash_m_dana_is_the_dana_command() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "dana", "check", "--help"], cwd=root,
                          capture_output=True, text=True, env={"PYTHONPATH": str(root)})
    assert done.returncode == 0 and "check" in done.stdout
