"""REPL conveniences a Python user expects: `_`, completion after a literal, signatures
and docstrings, and suggestions from history."""

import io

from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.document import Document

from dana.cli.repl import ReplSession, dispatch, make_completer, make_prompt


def session() -> tuple[ReplSession, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return ReplSession(out, err), out, err


def test_underscore_holds_the_last_result():
    s, out, err = session()
    assert s.execute("20 + 1")
    assert s.execute("_ * 2")
    assert out.getvalue() == "21\n42\n", err.getvalue()


def test_completion_after_a_string_literal_offers_str_methods():
    s, _, _ = session()
    completer = make_completer(s)
    text = '"abc".up'
    found = [c.text for c in completer.get_completions(Document(text, len(text)), None)]
    assert found == ["upper"]
    text = "[1, 2].app"
    assert [c.text for c in completer.get_completions(Document(text, len(text)), None)] == \
        ["append"]


def test_type_of_a_module_function_shows_its_signature():
    s, out, err = session()
    assert s.execute("import math\n")
    assert dispatch(s, ":type math.mean")
    assert out.getvalue() == "mean(values: list) -> float\n", err.getvalue()


def test_doc_shows_a_docstring():
    s, out, _ = session()
    assert s.execute('import math\ndef f(x: int) -> int:\n    """Twice x."""\n    return 2 * x\n')
    assert dispatch(s, ":doc math.mean")
    assert dispatch(s, ":doc f")
    assert out.getvalue() == "mean(values: list) -> float\n    The arithmetic mean.\n" \
                             "f(x: int) -> int\n    Twice x.\n"


def test_the_prompt_suggests_from_history():
    s, _, _ = session()
    assert isinstance(make_prompt(s).auto_suggest, AutoSuggestFromHistory)
