"""Shared pytest configuration.

`--update-goldens` makes tests/test_goldens.py rewrite each case's expected `.out`/`.err`
files from the actual run instead of comparing against them. Read every regenerated file
(`git diff tests/golden`) before accepting it.
"""

from __future__ import annotations

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
