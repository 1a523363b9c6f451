"""Shared pytest configuration.

`--update-goldens` makes tests/test_goldens.py rewrite each case's expected `.out`/`.err`
files from the actual run instead of comparing against them. Read every regenerated file
(`git diff tests/golden`) before accepting it. The `run_limited` fixture runs a source
text under `Limits(max_size=10**7)` and gives what a user sees.
"""

from __future__ import annotations

from typing import Callable

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite tests/golden expected files from the actual output")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """True when the run was started with --update-goldens."""
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(autouse=True, scope="session")
def _run_store_outside_the_repo(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`dana run` records runs in `.dana/dana.db` under the current folder by default;
    the suite's runs go to a temporary store instead, so no test leaves one in the repo."""
    import os
    os.environ.setdefault("DANA_STORE", str(tmp_path_factory.mktemp("store") / "dana.db"))


@pytest.fixture
def run_limited() -> Callable[[str, bool], str]:
    """`run(text, check) -> shown`: the printed output of Dana source `text` (a file
    `t.dana`) run with `max_size=10**7`, checked first when `check`, followed by the
    rendered error if it fails."""
    import io

    from dana import pipeline
    from dana.diagnostics import render_error
    from dana.errors import DanaError
    from dana.runtime.interpreter import Limits, Runtime, run_module
    from dana.source import SourceFile

    def run(text: str, check: bool) -> str:
        out = io.StringIO()
        rt = Runtime(stdout=out, limits=Limits(max_size=10 ** 7))
        source = SourceFile("t.dana", text)
        try:
            if check:
                prepared = pipeline.prepare(source)
                run_module(rt, prepared.module, checked=prepared.result)
            else:
                run_module(rt, pipeline.parse_source(source))
        except DanaError as err:
            return out.getvalue() + render_error(err)
        return out.getvalue()
    return run
