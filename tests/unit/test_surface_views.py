"""Every view of the language surface reads the one declaration in dana/surface: the grammar
spells its keywords and scope prefixes, and the pygments lexer, the REPL's completion, the
language server's completion and `Interpreter.register_step` pick up every declared
builtin, method, type name, error type, keyword and step option (a new declaration needs no
second list; docs/architecture.md "Adding a builtin function")."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pygments.token import Keyword, Name, Operator

from dana import Interpreter, surface
from dana.cli.lexer import DanaLexer
from dana.cli.repl import ReplSession
from dana.errors import DanaRuntimeError
from dana.syntax.grammar import keywords
from dana.workflow.template import StepPolicy

ROOT = Path(__file__).resolve().parents[2]
GRAMMAR = (ROOT / "grammar" / "dana.lark").read_text(encoding="utf-8")
ERROR_NAMES = [e.name for e in surface.ERROR_TYPES] + list(surface.ERROR_SYNONYMS)


def token_of(code: str, word: str) -> object:
    """The token type the lexer gives the first token spelled `word` in `code`."""
    return next(t for t, v in DanaLexer().get_tokens(code) if v == word)


# ------------------------------------------------------------------ the grammar
def test_the_grammar_spells_exactly_the_declared_keywords() -> None:
    assert set(re.findall(r'"([A-Za-z_]+)"', GRAMMAR)) == {k.word for k in surface.KEYWORDS}
    assert keywords() == {k.word for k in surface.KEYWORDS}


def test_the_grammar_spells_exactly_the_declared_scope_prefixes() -> None:
    prefixes = re.search(r"SCOPED_NAME[.\d]*: /\(([\w|]+)\):", GRAMMAR).group(1)
    assert set(prefixes.split("|")) == set(surface.SCOPE_NAMES)


# ------------------------------------------------------------------ the pygments lexer
@pytest.mark.parametrize("name", list(surface.FUNCTIONS))
def test_the_lexer_highlights_every_declared_builtin(name: str) -> None:
    assert token_of(f"x = {name}(1)\n", name) is Name.Builtin


@pytest.mark.parametrize("name", [t for t in surface.TYPE_NAMES if t not in surface.CONSTANTS])
def test_the_lexer_highlights_every_declared_type_name(name: str) -> None:
    assert token_of(f"def f(x: {name}):\n    pass\n", name) is Name.Builtin


@pytest.mark.parametrize("name", ERROR_NAMES)
def test_the_lexer_highlights_every_declared_error_type(name: str) -> None:
    assert token_of(f"raise {name}('no')\n", name) is Name.Exception


@pytest.mark.parametrize("word", list(surface.CONSTANTS))
def test_the_lexer_highlights_every_declared_constant(word: str) -> None:
    assert token_of(f"x = {word}\n", word) is Keyword.Constant


@pytest.mark.parametrize("prefix", surface.SCOPE_NAMES)
def test_the_lexer_highlights_every_declared_scope_prefix(prefix: str) -> None:
    assert token_of(f"{prefix}:x = 1\n", f"{prefix}:") is Keyword.Namespace


@pytest.mark.parametrize("keyword", surface.KEYWORDS, ids=lambda k: k.word)
def test_the_lexer_highlights_every_declared_keyword_in_its_place(keyword) -> None:
    places = {"sync": "sync def f():\n", "requires": "    requires:\n",
              "steps": "    steps:\n", "parallel": "        parallel:\n",
              "handle": "handle ValueError as e:\n", "workflow": "workflow w():\n"}
    code = places.get(keyword.word, f"x = a {keyword.word} b\n")
    expected = Operator.Word if keyword.kind == "operator" else Keyword
    assert token_of(code, keyword.word) in expected


@pytest.mark.parametrize("setting", [o.name for o in surface.WORKFLOW_SETTINGS])
def test_the_lexer_highlights_every_workflow_setting(setting: str) -> None:
    assert token_of(f"    {setting} = '1'\n", setting) is Name.Builtin


# ------------------------------------------------------------------ REPL completion
def test_the_repl_completes_every_declared_name_and_keyword() -> None:
    names = set(ReplSession(io.StringIO(), io.StringIO()).names())
    declared = (set(surface.FUNCTIONS) | set(surface.TYPE_NAMES) | set(ERROR_NAMES)
                | {k.word for k in surface.KEYWORDS} | set(surface.CONSTANTS))
    assert declared - names == set()


@pytest.mark.parametrize("receiver,literal", [("str", '"abc"'), ("list", "[1]"),
                                              ("dict", "{}")])
def test_the_repl_completes_every_declared_method_of_a_literal(receiver: str,
                                                                literal: str) -> None:
    from prompt_toolkit.document import Document
    from dana.cli.repl import make_completer
    completer = make_completer(ReplSession(io.StringIO(), io.StringIO()))
    text = f"{literal}."
    found = {c.text for c in completer.get_completions(Document(text, len(text)), None)}
    assert found == set(surface.METHODS[receiver])


# ------------------------------------------------------------------ register_step
def test_register_step_takes_exactly_the_declared_step_options() -> None:
    assert {o.name for o in surface.STEP_OPTIONS} == set(StepPolicy.__dataclass_fields__)
    interp = Interpreter()
    given = {"retry": 2, "backoff": 0.5, "max_delay": 2, "timeout": 3, "cache": True,
             "cache_ttl": 60, "cache_key": lambda state, value: "k", "on_error": "skip",
             "validate": lambda state: True,
             "rollback": lambda state, error: None, "retry_on": ["TimeoutError"],
             "no_retry_on": ["Exception"]}
    assert set(given) == {o.name for o in surface.STEP_OPTIONS}
    interp.register_step(lambda x: x, name="all_options", **given)
    policy = interp.runtime.builtins["all_options"].step_options
    assert (policy.retry, policy.max_delay, policy.on_error, policy.no_retry_on) \
        == (2, 2.0, "skip", ("Error",))


@pytest.mark.parametrize("options,message", [
    ({"retries": 2}, "`@step` has no option `retries`"),
    ({"retry": "2"}, "`@step` option `retry` expects `int`, got `str`"),
    ({"on_error": "ignore"}, '`on_error` expects one of "halt", "skip" or "retry"'),
    ({"timeout": -1}, "`timeout` expects `float | None` >= 0, got `-1`"),
    ({"retry_on": ["Nope"]}, "`retry_on` expects names of Dana error types, got `Nope`"),
    ({"validate": 3}, "`validate` expects a function"),
])
def test_register_step_rejects_what_step_rejects(options: dict, message: str) -> None:
    with pytest.raises(DanaRuntimeError, match=re.escape(message)):
        Interpreter().register_step(lambda x: x, name="bad", **options)


# ------------------------------------------------------------------ closed vocabularies
def test_the_closed_vocabularies_list_exactly_their_literal_types() -> None:
    from typing import get_args
    from dana.store.settings import RunStatus
    from dana.workflow.template import RunOutcome
    assert set(get_args(surface.OnError)) == set(surface.ON_ERROR_VALUES)
    assert set(get_args(surface.LogLevel)) == set(surface.LOG_LEVELS)
    assert set(get_args(surface.ScopeName)) == set(surface.SCOPE_NAMES)
    assert set(get_args(RunOutcome)) <= {s.value for s in RunStatus}


def test_an_unknown_log_level_names_the_declared_ones() -> None:
    out, err = io.StringIO(), io.StringIO()
    session = ReplSession(out, err)
    session.execute('log_level("loud")')
    assert ", ".join(surface.LOG_LEVELS) in err.getvalue()
