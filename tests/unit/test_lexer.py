"""Tests for ``dana.cli.lexer`` (the pygments lexer for Dana).

Consumes Dana source snippets; checks the ``(token type, text)`` stream the lexer produces,
the exported ``KEYWORDS`` tuple, and (only when the package is installed with its
``pygments.lexers`` entry point) lookup through pygments' registry.
"""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pygments
import pytest
from pygments.formatters import HtmlFormatter
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

from dana.cli import lexer as lexer_module
from dana.cli.lexer import (
    BUILTINS,
    CONSTANTS,
    ERROR_TYPES,
    KEYWORDS,
    SCOPE_PREFIXES,
    DanaLexer,
)

DQ3 = '"' * 3
SQ3 = "'" * 3

# A program exercising every construct the lexer knows about.
SAMPLE = (
    r"""<DQ3>Module docstring for a sample Dana program.<DQ3>
# A comment
import stdlib.math as m
from stdlib.text import upper, lower

struct Point:
    x: float = 0.0
    y: float = 0.0

interface Shape:
    def area() -> float

def (p: Point) norm() -> float:
    <DQ3>Length of the vector.<DQ3>
    return (p.x ** 2 + p.y ** 2) ** 0.5

def (s: Circle | Square) area() -> float:
    pass

sync def add(a: int, b: int = 1) -> int:
    def bump():
        nonlocal a
        a += 1
    return a + b

def h(x) = double | inc | clamp($$, 0, 10)

@step(retry=3, backoff=2.0, timeout=30.0, cache=True, on_error="halt")
def check_equipment(params: ProcessParams, state: WorkflowState) -> ProcessParams:
    if state.equipment_status != "ready":
        raise StepError("equipment not ready")
    elif state.steps >= 10 and not state.done or state.x is not None:
        assert params.ok, "params must be ok"
    else:
        state.checked_at = now()
    return params

workflow process_control(setpoint_c: float = 70.0) -> ProcessReport:
    <DQ3>Hold one piece of equipment at a setpoint.<DQ3>
    version = "1.0"
    requires:
        equipment_id: str
        readings: list[Reading]
    steps:
        validate_inputs
        for r in state.readings:
            check_equipment_status
        parallel(max_concurrency=4):
            branch_a
            branch_b
        try:
            execute_process | validate_outputs as checked
        handle StepError as e:
            update_records
        finally:
            cleanup

workflow rlhf = sft | reward_model | rl

private:counter = 0
public:total += 1
local:tmp -= 2
system:flag = TRUE
x: int = 1_000 + 0xFF - 3.14 * 1e-3 / 2.5E+10 // 7 % 3
x *= 2
x /= 4
ok = x <= 3 and x >= 1 or x == 2 or x < 0 or x > 9 or x != 5
flags = [True, true, False, false, FALSE, None, none, NONE, null, NULL]
s1 = 'single \'quoted\' \n'
s2 = "double \"quoted\" \t\u00e9"
s3 = <DQ3>triple
double<DQ3>
s4 = <SQ3>triple
single<SQ3>
s5 = r"raw \d+ string"
s6 = f"value {x:.2f} and {private:counter} and {len(flags)!r} {{literal}}"
s7 = f'{ {"a": 1}["a"] } {x:>{width}} {lambda y :: y + 1}'
s8 = rf"raw {x} \d"
inc = lambda x :: x + 1
typed = lambda x: int, y: int = 0 :: x + y
const = lambda :: 5
squares = [i * i for i in range(10) if i % 2 == 0]
pairs = {(k: v) for k, v in items}
uniq = {a for a in xs}
t = (1, 2)
y = x if ok else -x
while x > 0:
    x -= 1
    if x == 3:
        continue
    break
try:
    raise "text"
except ValueError as e:
    log(f"failed: {e}", level="info")
except:
    pass
log_level("info")
print(len("abc"), range(3), str(1), int("2"), float("3"), bool(0), list(), dict(), set(), tuple())
print(sum(xs), min(xs), max(xs), abs(-1), round(2.5), sorted(xs), reversed(xs), enumerate(xs))
print(zip(xs, ys), any(xs), all(xs), map(f, xs), filter(f, xs), type(5) == "int", isinstance(x, int))
print(json_dumps(d), json_loads("{}"), now(), run(process_control, equipment_id="E-101"))
print(compose(a, b), case((is_big, shrink), identity), read_text("f"), read_lines("f"), read_csv("f"))
errors = [Error, ValueError, TypeError, KeyError, IndexError, AttributeError, NameError]
errors2 = [ZeroDivisionError, AssertionError, StepError, TimeoutError, StateError]
errors3 = [PermissionError, LimitError, RuntimeError]
v: any = x | [f, g] | h as named
"""
).replace("<DQ3>", DQ3).replace("<SQ3>", SQ3)

# The words the brief for the lexer lists as reserved (constants included).
EXPECTED_KEYWORDS = {
    "def", "sync", "struct", "interface", "workflow", "requires", "steps", "if", "elif",
    "else", "for", "in", "while", "break", "continue", "pass", "return", "assert", "raise",
    "import", "from", "as", "try", "handle", "except", "finally", "lambda", "and", "or",
    "not", "is", "parallel", "nonlocal",
    "True", "true", "TRUE", "False", "false", "FALSE",
    "None", "none", "NONE", "null", "NULL",
}


def lex(code: str) -> list[tuple[object, str]]:
    """All ``(token type, text)`` pairs of ``code``, without pure whitespace tokens."""
    return [
        (ttype, value)
        for ttype, value in DanaLexer().get_tokens(code)
        if ttype not in Whitespace and value.strip()
    ]


def types_of(code: str, text: str) -> list[object]:
    """The token types of every token of ``code`` whose text is exactly ``text``."""
    found = [ttype for ttype, value in lex(code) if value == text]
    assert found, f"no token {text!r} in {lex(code)!r}"
    return found


def type_of(code: str, text: str) -> object:
    """The token type of the first token of ``code`` whose text is ``text``."""
    return types_of(code, text)[0]


# ---- the lexer as a whole ------------------------------------------------------------


def test_lexer_metadata():
    assert DanaLexer.name == "Dana"
    assert DanaLexer.aliases == ["dana", "na"]
    assert DanaLexer.filenames == ["*.dana", "*.na"]
    assert DanaLexer.mimetypes == ["text/x-dana"]


def test_module_imports_only_pygments_re_and_the_surface_declaration():
    tree = ast.parse(Path(lexer_module.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports (they would reach other dana modules)"
            root = node.module.split(".")[0]
            roots.add(node.module if root == "dana" else root)
            roots.update(f"dana.{a.name}" for a in node.names if node.module == "dana")
    assert roots <= {"pygments", "re", "__future__", "dana", "dana.surface"}, roots


def test_importing_the_lexer_loads_no_parser_nor_interpreter():
    probe = ("import sys, dana.cli.lexer; print(sorted(m for m in sys.modules if m == 'lark' "
             "or m.startswith(('dana.runtime', 'dana.syntax', 'dana.types'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], check=True)
    assert done.stdout.strip() == "[]"


def test_sample_has_no_error_tokens():
    errors = [(t, v) for t, v in DanaLexer().get_tokens(SAMPLE) if t in Error]
    assert errors == []


def test_sample_round_trips():
    assert "".join(v for _, v in DanaLexer().get_tokens(SAMPLE)) == SAMPLE


def test_sample_renders_to_html():
    html = pygments.highlight(SAMPLE, DanaLexer(), HtmlFormatter())
    assert "process_control" in html and 'class="k"' in html


def test_unknown_characters_are_error_tokens():
    assert type_of("x = a ? b\n", "?") in Error


def test_unterminated_string_does_not_swallow_following_lines():
    code = 'x = "unterminated\ny = f"{oops\nz = 1\n'
    assert type_of(code, "z") is Name
    assert type_of(code, "1") is Number.Integer


# ---- keywords ------------------------------------------------------------------------


def test_keywords_tuple_lists_every_reserved_word():
    assert isinstance(KEYWORDS, tuple)
    assert all(isinstance(k, str) for k in KEYWORDS)
    assert len(set(KEYWORDS)) == len(KEYWORDS), "duplicates in KEYWORDS"
    assert set(KEYWORDS) == EXPECTED_KEYWORDS
    assert set(CONSTANTS) <= set(KEYWORDS)
    assert "version" not in KEYWORDS  # an ordinary name, highlighted as a builtin


def test_every_keyword_is_highlighted_somewhere_in_the_sample():
    tokens = lex(SAMPLE)
    for word in KEYWORDS:
        kinds = {t for t, v in tokens if v == word}
        assert any(k in Keyword or k in Operator.Word for k in kinds), (word, kinds)


@pytest.mark.parametrize(
    "word",
    ["if", "elif", "else", "for", "while", "break", "continue", "pass", "return",
     "assert", "raise", "try", "handle", "except", "finally", "lambda", "as", "def",
     "struct", "interface", "workflow"],
)
def test_statement_keywords_are_keyword(word):
    assert Keyword in {t for t, v in lex(SAMPLE) if v == word}


def test_handle_except_finally():
    code = "try:\n    f()\nhandle StepError as e:\n    pass\nexcept:\n    pass\nfinally:\n    g()\n"
    assert type_of(code, "handle") is Keyword
    assert type_of(code, "except") is Keyword
    assert type_of(code, "finally") is Keyword
    assert type_of(code, "as") is Keyword
    assert type_of(code, "StepError") is Name.Exception


@pytest.mark.parametrize("word", ["and", "or", "not", "in", "is"])
def test_operator_words(word):
    code = "ok = a and not b or c in xs or d is not None\n"
    assert type_of(code, word) is Operator.Word


@pytest.mark.parametrize("word", CONSTANTS)
def test_constants(word):
    assert type_of(f"x = {word}\n", word) is Keyword.Constant


def test_import_and_from_import():
    code = "import stdlib.math as m\nfrom stdlib.text import upper\n"
    toks = lex(code)
    assert (Keyword.Namespace, "import") in toks
    assert (Keyword.Namespace, "from") in toks
    assert (Name.Namespace, "stdlib") in toks
    assert (Name.Namespace, "math") in toks
    assert (Keyword, "as") in toks
    assert type_of(code, "upper") is Name


def test_workflow_block_headers_are_keywords():
    code = (
        "workflow wf() -> Out:\n"
        "    requires:\n"
        "        a: int\n"
        "    steps:  # the steps\n"
        "        parallel(max_concurrency=4):\n"
        "            s1\n"
        "        parallel:\n"
        "            s2\n"
    )
    assert type_of(code, "requires") is Keyword
    assert type_of(code, "steps") is Keyword
    assert types_of(code, "parallel") == [Keyword, Keyword]


def test_contextual_words_stay_names_elsewhere():
    code = "steps = 3\nfor s in steps:\n    n = state.steps + state.requires\nsync = parallel\n"
    assert set(types_of(code, "steps")) == {Name}
    assert type_of(code, "requires") is Name
    assert type_of(code, "sync") is Name
    assert type_of(code, "parallel") is Name


def test_keyword_after_dot_is_an_attribute_name():
    assert type_of("x = state.version\n", "version") is Name
    assert type_of("x = obj.print\n", "print") is Name
    assert type_of("x = cfg.none\n", "none") is Name


def test_sync_def():
    code = "sync def add(a: int) -> int:\n    return a\n"
    assert type_of(code, "sync") is Keyword
    assert type_of(code, "def") is Keyword
    assert type_of(code, "add") is Name.Function


def test_version_is_builtin_name():
    assert type_of('    version = "1.0"\n', "version") is Name.Builtin


# ---- declarations --------------------------------------------------------------------


def test_def_name_is_function():
    code = "def f(a: int, b: str = \"x\") -> bool:\n    return True\n"
    assert type_of(code, "f") is Name.Function


def test_composed_def():
    code = "def h(x) = f | g | k\n"
    assert type_of(code, "h") is Name.Function
    assert types_of(code, "|") == [Operator, Operator]


def test_receiver_method_name_is_function():
    code = "def (p: Point) norm() -> float:\n    return p.x\n"
    assert type_of(code, "norm") is Name.Function
    assert type_of(code, "p") is Name
    assert type_of(code, "Point") is Name


def test_union_receiver_method_name_is_function():
    code = "def (s: Circle | Square) area() -> float:\n    pass\n"
    assert type_of(code, "area") is Name.Function
    assert type_of(code, "|") is Operator


@pytest.mark.parametrize("kw,name", [("struct", "Point"), ("interface", "Shape")])
def test_struct_and_interface_names_are_classes(kw, name):
    code = f"{kw} {name}:\n    x: float = 0.0\n"
    assert type_of(code, kw) is Keyword
    assert type_of(code, name) is Name.Class


def test_workflow_names():
    assert type_of("workflow process_control(sp: float = 70.0) -> R:\n", "process_control") \
        is Name.Function
    assert type_of("workflow rlhf = sft | reward_model | rl\n", "rlhf") is Name.Function


def test_decorator():
    code = "@step(retry=3, backoff=2.0, cache=True)\ndef s(x: int) -> int:\n    return x\n"
    assert type_of(code, "@step") is Name.Decorator
    assert type_of(code, "retry") is Name


# ---- names ---------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", SCOPE_PREFIXES)
def test_scoped_variable_prefix(prefix):
    toks = lex(f"{prefix}:x = 1\n")
    assert toks[0] == (Keyword.Namespace, f"{prefix}:")
    assert toks[1] == (Name.Variable, "x")


def test_scope_word_followed_by_space_or_digit_is_not_a_prefix():
    assert type_of("d = {local: 1}\n", "local") is Name
    assert type_of("y = xs[system:3]\n", "system") is Name


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_functions(name):
    assert type_of(f"y = {name}(x)\n", name) is Name.Builtin


@pytest.mark.parametrize("name", ["WorkflowState", "any"])
def test_builtin_types(name):
    assert type_of(f"def s(state: {name}) -> int:\n", name) is Name.Builtin


@pytest.mark.parametrize("name", ERROR_TYPES)
def test_error_types(name):
    assert type_of(f'raise {name}("boom")\n', name) is Name.Exception


def test_plain_names_are_names():
    assert type_of("my_var2 = other\n", "my_var2") is Name
    assert type_of("résumé = 1\n", "résumé") is Name


# ---- operators -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "op",
    ["$$", "|", "::", "->", "**", "//", "+=", "-=", "*=", "/=", "==", "!=", "<=", ">=",
     "<", ">", "+", "-", "*", "/", "%", "="],
)
def test_operators(op):
    code = f"a {op} b\n"
    assert type_of(code, op) is Operator


def test_pipe_placeholder():
    code = "y = x | clamp($$, 0, 10) | [f, g] | h as named\n"
    assert type_of(code, "$$") is Operator
    assert types_of(code, "|") == [Operator] * 3
    assert type_of(code, "as") is Keyword


def test_lambda():
    toks = lex("inc = lambda x :: x + 1\n")
    assert toks == [
        (Name, "inc"), (Operator, "="), (Keyword, "lambda"), (Name, "x"),
        (Operator, "::"), (Name, "x"), (Operator, "+"), (Number.Integer, "1"),
    ]


def test_typed_lambda_and_empty_lambda():
    code = "add = lambda x: int, y: int = 0 :: x + y\nc = lambda :: 5\n"
    assert types_of(code, "::") == [Operator, Operator]
    assert types_of(code, ":") == [Punctuation, Punctuation]
    assert set(types_of(code, "int")) == {Name.Builtin}


def test_punctuation():
    code = "d = {(k: v) for k, v in pairs}; xs = [1, 2]\n"
    for p in "{}()[]:,;":
        assert Punctuation in types_of(code, p), p


# ---- literals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,ttype",
    [
        ("42", Number.Integer),
        ("1_000_000", Number.Integer),
        ("3.14", Number.Float),
        (".5", Number.Float),
        ("1e-3", Number.Float),
        ("2.5E+10", Number.Float),
        ("1_0.0_1", Number.Float),
        ("0xFF", Number.Hex),
        ("0x_dead_beef", Number.Hex),
    ],
)
def test_numbers(text, ttype):
    assert type_of(f"x = {text}\n", text) is ttype


def test_comments():
    code = "x = 1  # trailing comment\n# full line\n"
    assert type_of(code, "# trailing comment") is Comment.Single
    assert type_of(code, "# full line") is Comment.Single


@pytest.mark.parametrize(
    "code,ttype",
    [("'abc'", String.Single), ('"abc"', String.Double)],
)
def test_simple_strings(code, ttype):
    toks = lex(f"s = {code}\n")
    assert toks[2:] == [(ttype, code[0]), (ttype, "abc"), (ttype, code[0])]


def test_string_escapes():
    code = r's = "a\n\t\"q\" \u00e9 \\ end"' + "\n"
    escapes = [v for t, v in lex(code) if t is String.Escape]
    assert escapes == [r"\n", r"\t", r"\"", r"\"", r"\u00e9", r"\\"]


def test_raw_string_has_no_escapes():
    code = r's = r"raw \d+ \n"' + "\n"
    toks = lex(code)
    assert (String.Affix, "r") in toks
    assert not [v for t, v in toks if t is String.Escape]
    assert all(t in String for t, v in toks[2:])


@pytest.mark.parametrize("quote,ttype", [(DQ3, String.Double), (SQ3, String.Single)])
def test_triple_quoted_strings(quote, ttype):
    code = f"s = {quote}line one\nline 'two' \"x\"\n{quote}\nn = 1\n"
    toks = lex(code)
    assert toks[2] == (ttype, quote)
    string_part = toks[2:toks.index((Name, "n"))]
    assert all(t in String for t, _ in string_part)
    assert string_part[-1] == (ttype, quote)


def test_docstrings():
    code = f"def f():\n    {DQ3}Do a thing.\n    More.{DQ3}\n    return 1\n"
    assert type_of(code, f"{DQ3}Do a thing.\n    More.{DQ3}") is String.Doc


def test_fstring_interpolation_is_code():
    toks = lex('s = f"sum {a + b} ok"\n')
    assert toks == [
        (Name, "s"), (Operator, "="),
        (String.Affix, "f"), (String.Double, '"'), (String.Double, "sum "),
        (String.Interpol, "{"), (Name, "a"), (Operator, "+"), (Name, "b"),
        (String.Interpol, "}"),
        (String.Double, " ok"), (String.Double, '"'),
    ]


def test_fstring_format_spec():
    toks = lex('s = f"{x:.2f}"\n')
    assert toks[4:] == [
        (String.Interpol, "{"), (Name, "x"), (String.Interpol, ":"),
        (String.Interpol, ".2f"), (String.Interpol, "}"), (String.Double, '"'),
    ]


def test_fstring_nested_spec_conversion_and_calls():
    code = "s = f'{x:>{width}} {len(xs)!r} {d[\"k\"]} {private:n}'\n"
    toks = lex(code)
    assert (Name, "width") in toks
    assert (String.Interpol, "!r}") in toks
    assert (Name.Builtin, "len") in toks
    assert (String.Double, "k") in toks
    assert (Keyword.Namespace, "private:") in toks
    assert not [t for t, _ in toks if t in Error]
    assert toks[-1] == (String.Single, "'")


def test_fstring_lambda_is_not_a_format_spec():
    toks = lex('s = f"{(lambda y :: y + 1)(2)}"\n')
    assert (Operator, "::") in toks
    assert (Keyword, "lambda") in toks


def test_fstring_escaped_braces():
    toks = lex('s = f"{{literal}}"\n')
    assert (String.Escape, "{{") in toks and (String.Escape, "}}") in toks
    assert String.Interpol not in {t for t, _ in toks}


@pytest.mark.parametrize("prefix", ["f", "F", "rf", "fr", "Rf", "fR"])
def test_fstring_prefixes(prefix):
    toks = lex(f'x = {prefix}"v={{x}}"\n')
    assert toks[2] == (String.Affix, prefix)
    assert (String.Interpol, "{") in toks or (String.Escape, "{{") in toks


def test_triple_quoted_fstring():
    code = f"s = f{DQ3}a {{x}}\nb {{y:.1f}}\n{DQ3}\n"
    toks = lex(code)
    assert (Name, "x") in toks and (Name, "y") in toks
    assert (String.Interpol, ".1f") in toks
    assert toks[-1] == (String.Double, DQ3)


# ---- guessing and registry lookup ----------------------------------------------------


def test_analyse_text_recognises_dana():
    assert DanaLexer.analyse_text(SAMPLE) > 0.5
    assert DanaLexer.analyse_text("import os\n\ndef f(x):\n    return x\n") == 0.0


def _entry_point_registered() -> bool:
    """Whether the installed distribution registers the ``dana`` pygments lexer."""
    return any(ep.name == "dana" for ep in importlib.metadata.entry_points(group="pygments.lexers"))


@pytest.mark.skipif(not _entry_point_registered(),
                    reason="package not installed: no 'dana' pygments.lexers entry point")
def test_pygments_finds_lexer_through_entry_point():
    from pygments.lexers import get_lexer_by_name, get_lexer_for_filename

    for lexer in (get_lexer_by_name("dana"), get_lexer_by_name("na"),
                  get_lexer_for_filename("x.na"), get_lexer_for_filename("flow.dana")):
        assert type(lexer).__name__ == "DanaLexer"
        assert type(lexer).__module__ == "dana.cli.lexer"
