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
