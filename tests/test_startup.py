"""`dana run` of a plain script imports only what it uses: the workflow engine, config
files, progress bars, package metadata and the run store's value codec are loaded by the
programs, options and commands that need them (README "Performance"). Checked through
`sys.modules` in a fresh interpreter, never by timing."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_NEEDED = ("pydantic", "pydantic_core", "rich", "yaml", "ruamel", "tomllib",
              "importlib.metadata", "concurrent.futures", "sqlite3", "dana.config",
              "dana.cli.progress", "dana.workflow.runner", "dana.workflow.events",
              "dana.runtime.workflows", "dana.store.codec", "msgspec", "dana.store.runs",
              "regex")

_PROBE = """
import json, sys
from dana.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules_after(*argv: str) -> tuple[str, set[str]]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *argv], cwd=ROOT, text=True,
                          capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    *output, last = done.stdout.splitlines()
    report = json.loads(last)
    assert report["code"] == 0, done.stderr
    return "\n".join(output), set(report["modules"])


def _loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


def test_plain_script_loads_no_workflow_engine_config_or_progress(tmp_path: Path) -> None:
    script = tmp_path / "hello.dana"
    script.write_text('def greet(name: str) -> str:\n    return f"hello {name}"\n\n'
                      'print(greet("world"))\n')
    output, modules = _modules_after("run", str(script))
    assert output == "hello world"
    assert [name for name in NOT_NEEDED if _loaded(modules, name)] == []


def test_an_unchecked_run_loads_no_checker(tmp_path: Path) -> None:
    script = tmp_path / "hello.dana"
    script.write_text('print("hello")\n')
    output, modules = _modules_after("run", "--no-check", str(script))
    assert output == "hello"
    assert not _loaded(modules, "dana.types.checker")


def test_a_workflow_without_parameters_loads_the_engine_not_pydantic(tmp_path: Path) -> None:
    script = tmp_path / "flow.dana"
    script.write_text("def one(state: WorkflowState):\n    state.n = 1\n\n"
                      "workflow w():\n    steps:\n        one\n\n"
                      "print(run(w).state.n)\n")
    output, modules = _modules_after("run", "--quiet", str(script))
    assert output == "1"
    assert _loaded(modules, "dana.workflow.runner")
    assert [n for n in ("dana.config", "rich", "pydantic") if _loaded(modules, n)] == []


def test_lark_loads_without_regex_but_a_host_can_still_import_it() -> None:
    """lark imports the third-party `regex` whenever it is installed; Dana keeps it out
    while lark loads (it never uses it), and only then."""
    pytest.importorskip("regex")
    probe = ("import sys, dana.syntax.builder\n"
             "assert 'regex' not in sys.modules and 'lark' in sys.modules\n"
             "import regex\n"
             "print(regex.match('a+', 'aa').group())")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, text=True,
                          capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert (done.returncode, done.stdout) == (0, "aa\n"), done.stderr
