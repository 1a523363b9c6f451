"""Soft keywords (`steps`, `requires`, `parallel`, `handle`, `sync`, `workflow`) are decided
by their context in the one parse of a file (docs/language.md "Keywords")."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from dana.errors import DanaSyntaxError
from dana.source import SourceFile
from dana.syntax import ast as A
from dana.syntax.builder import parse

NAMES = "".join(f"parallel = {i}\nworkflow.x = {i}\nsync = {i}\nparallel({i})\n"
                for i in range(40))


def test_any_number_of_soft_keywords_used_as_names() -> None:
    """160 statements that start with a soft keyword used as a name (the former re-parsing
    gave up after 64 of them and rejected a valid file)."""
    module = parse(SourceFile("names.dana", NAMES))
    assert len(module.body) == 160
    assert all(isinstance(s, (A.AssignStmt, A.ExprStmt)) for s in module.body)


def test_the_error_after_them_is_the_first_one_in_the_text() -> None:
    with pytest.raises(DanaSyntaxError) as info:
        parse(SourceFile("bad.dana", NAMES + "x = = 1\n"))
    assert (info.value.span.line, info.value.message) == (161, "unexpected '='")


@pytest.mark.parametrize("text, kind", [
    ("parallel(3)\n", A.ExprStmt),
    ("parallel(a)(b)\n", A.ExprStmt),
    ("parallel += 1\n", A.AugAssignStmt),
    ("sync def f():\n    pass\n", A.FuncDecl),
    ("sync(1)\n", A.ExprStmt),
    ("workflow w = a | b\n", A.WorkflowComposeDecl),
    ("workflow[0] = 1\n", A.AssignStmt),
    ("steps: list[str] = []\n", A.AnnAssignStmt),
    ("requires: int = 1\n", A.AnnAssignStmt),
    ("handle: int = 1\n", A.AnnAssignStmt),
])
def test_first_in_a_statement(text: str, kind: type) -> None:
    assert isinstance(parse(SourceFile("t.dana", text)).body[0], kind)


@pytest.mark.parametrize("text, kind", [
    ("parallel:\n    a\n", A.ParallelStmt),
    ("parallel(max_concurrency=2):\n    a\n", A.ParallelStmt),
    ("parallel for x in xs:\n    a\n", A.ParallelForStmt),
])
def test_first_in_a_step_statement(text: str, kind: type) -> None:
    steps = "".join(f"        {line}\n" for line in text.splitlines())
    workflow = parse(SourceFile("w.dana", f"workflow w():\n    steps:\n{steps}")).body[0]
    assert f"{kind.__name__}(" in repr(workflow)


def test_parsing_in_many_threads_at_once_gives_the_same_trees() -> None:
    texts = [NAMES, "try:\n    pass\nhandle E:\n    pass\nhandle(1)\n"] * 8
    with ThreadPoolExecutor(8) as pool:
        trees = list(pool.map(lambda t: repr(parse(SourceFile("t.dana", t))), texts))
    assert trees == [repr(parse(SourceFile("t.dana", t))) for t in texts]
