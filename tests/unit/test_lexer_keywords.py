"""Every keyword of the grammar is highlighted by the pygments lexer (docs/architecture.md "Adding a syntax form")."""

import re
from pathlib import Path

from dana.cli.lexer import KEYWORDS

GRAMMAR = Path(__file__).resolve().parents[2] / "grammar" / "dana.lark"


def test_every_grammar_keyword_is_a_lexer_keyword():
    quoted = set(re.findall(r'"([A-Za-z_]+)"', GRAMMAR.read_text()))
    assert quoted and quoted - set(KEYWORDS) == set()
