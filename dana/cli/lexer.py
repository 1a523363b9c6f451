"""Pygments lexer for the Dana workflow language.

Consumes: Dana source text (``.dana`` / ``.na`` files, REPL input), as a ``str``.
Produces: a stream of pygments ``(token_type, text)`` pairs through the standard
``pygments.lexer.RegexLexer`` API (``get_tokens``, ``get_tokens_unprocessed``), so any
pygments formatter -- and prompt-toolkit's ``PygmentsLexer`` in the REPL -- can render it.

The lexer is purely lexical: besides pygments it imports only ``dana.surface`` (the one
declaration of keywords, constants, builtins, type names, error types and settings: plain
data), so ``pygmentize -l dana file.dana`` works without loading the interpreter, and every
word list below is derived from that declaration. It is registered through the
``pygments.lexers`` entry point named ``dana``.

Highlighting choices, modelled on pygments' ``PythonLexer``:

* reserved words -> ``Keyword``; ``and/or/not/in/is`` -> ``Operator.Word`` (as in Python);
  ``True/true/TRUE``, ``False/...``, ``None/none/NONE/null/NULL`` -> ``Keyword.Constant``;
* the soft keywords are keywords only where they open their construct: ``requires:`` /
  ``steps:`` headers, ``parallel(...):`` / ``parallel:`` blocks and ``handle`` at the start
  of a line, ``sync`` only before ``def``, ``workflow`` before a name, so variables named
  ``steps`` or ``sync`` stay plain names; a workflow setting (``version = "2"``) at the
  start of a line -> ``Name.Builtin``;
* ``private:x``, ``public:x``, ``local:x``, ``system:x`` -> ``Keyword.Namespace`` for the
  scope prefix (colon included) and ``Name.Variable`` for the name;
* the name after ``def`` (also after a receiver ``def (p: Point) norm()``) and after
  ``workflow`` -> ``Name.Function``; after ``struct`` / ``interface`` -> ``Name.Class``;
* ``@step`` -> ``Name.Decorator``; builtin functions and types -> ``Name.Builtin``;
  error types -> ``Name.Exception``;
* f-strings: braces, conversion, ``:`` and the format spec -> ``String.Interpol``, the
  expression inside the braces is lexed as ordinary code;
* ``::`` (lambda), ``|`` (pipeline), ``$$`` (pipe placeholder), ``->`` and all arithmetic,
  comparison and augmented-assignment operators -> ``Operator``.
"""

from __future__ import annotations

import re

from pygments import unistring as uni
from pygments.lexer import RegexLexer, bygroups, combined, default, include, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

from dana import surface

__all__ = [
    "DanaLexer",
    "KEYWORDS",
    "STATEMENT_KEYWORDS",
    "OPERATOR_WORDS",
    "CONSTANTS",
    "BUILTINS",
    "BUILTIN_TYPES",
    "ERROR_TYPES",
    "SCOPE_PREFIXES",
    "SETTINGS",
]

#: Reserved words that start or structure statements and declarations (``Keyword``).
STATEMENT_KEYWORDS: tuple[str, ...] = tuple(k.word for k in surface.KEYWORDS
                                            if k.kind != "operator")

#: Reserved words used as operators (``Operator.Word``, as in pygments' PythonLexer).
OPERATOR_WORDS: tuple[str, ...] = tuple(k.word for k in surface.KEYWORDS
                                        if k.kind == "operator")

#: Every accepted spelling of the literal constants (``Keyword.Constant``).
CONSTANTS: tuple[str, ...] = tuple(surface.CONSTANTS)

#: All reserved words the lexer knows: statement keywords, operator words and constants.
KEYWORDS: tuple[str, ...] = STATEMENT_KEYWORDS + OPERATOR_WORDS + CONSTANTS

#: Scope prefixes of scoped variables (``private:x``).
SCOPE_PREFIXES: tuple[str, ...] = surface.SCOPE_NAMES

#: Builtin functions (``Name.Builtin``).
BUILTINS: tuple[str, ...] = tuple(surface.FUNCTIONS)

#: Builtin type names that are not also functions nor constants (``Name.Builtin``).
BUILTIN_TYPES: tuple[str, ...] = tuple(t for t in surface.TYPE_NAMES
                                       if t not in surface.FUNCTIONS
                                       and t not in surface.CONSTANTS)

#: The builtin error hierarchy and its synonyms (``Name.Exception``).
ERROR_TYPES: tuple[str, ...] = (tuple(e.name for e in surface.ERROR_TYPES)
                                + tuple(surface.ERROR_SYNONYMS))

#: Workflow settings (``version = "2"`` at the start of a line: ``Name.Builtin``).
SETTINGS: tuple[str, ...] = tuple(o.name for o in surface.WORKFLOW_SETTINGS)

#: Keywords only where they open a block/declaration; elsewhere they are plain names.
_CONTEXTUAL = surface.SOFT_KEYWORDS

_IDENT = f"[{uni.xid_start}][{uni.xid_continue}]*"
_NOT_ATTR = r"(?<![.\w])"  # not an attribute (``state.steps``) nor part of a longer name


def _string_body(ttype):
    """Rules for the plain characters of a (non-f) string of token type ``ttype``."""
    return [
        (r'[^\\\'"\n]+', ttype),
        (r'[\'"\\]', ttype),  # backslashes and the other quote, one at a time
    ]


def _fstring_body(ttype):
    """Rules for the characters of an f-string, with ``{...}`` interpolations."""
    return [
        (r"\{", String.Interpol, "fstring-expr"),
        (r"\}", String.Interpol),  # stray closing brace: keep going, don't error
        (r'[^\\\'"{}\n]+', ttype),
        (r'[\'"\\]', ttype),
    ]


class DanaLexer(RegexLexer):
    """Pygments lexer for Dana source (``.dana`` and ``.na`` files).

    Usable directly (``pygments.highlight(code, DanaLexer(), formatter)``), through the
    ``dana`` / ``na`` aliases once the package is installed (entry point
    ``pygments.lexers: dana``), and by the REPL via prompt-toolkit's ``PygmentsLexer``.
    """

    name = "Dana"
    aliases = ["dana", "na"]
    filenames = ["*.dana", "*.na"]
    mimetypes = ["text/x-dana"]

    flags = re.MULTILINE | re.UNICODE

    tokens = {
        "root": [
            (r"\n", Whitespace),
            # docstrings: a triple-quoted string opening a line
            (r'^([^\S\n]*)([rR]?)("""(?:.|\n)*?""")',
             bygroups(Whitespace, String.Affix, String.Doc)),
            (r"^([^\S\n]*)([rR]?)('''(?:.|\n)*?''')",
             bygroups(Whitespace, String.Affix, String.Doc)),
            (r"\A#!.+$", Comment.Hashbang),
            (r"#.*$", Comment.Single),
            (r"\\\n", Text),  # explicit line continuation
            include("declarations"),
            include("block-headers"),
            (_NOT_ATTR + r"(from)\b", Keyword.Namespace, "fromimport"),
            (_NOT_ATTR + r"(import)\b", Keyword.Namespace, "import"),
            include("keywords"),
            include("expr"),
        ],
        "declarations": [
            # `sync def` is accepted and means `def`
            (r"(sync)([^\S\n]+)(?=def\b)", bygroups(Keyword, Whitespace)),
            (_NOT_ATTR + r"(def)\b", Keyword, "funcname"),
            (_NOT_ATTR + r"(struct|interface)\b", Keyword, "classname"),
            # `workflow name`: a declaration; `x: workflow` is the type
            (_NOT_ATTR + r"(workflow)\b(?=[^\S\n]+[^\W\d])", Keyword, "workflowname"),
        ],
        "block-headers": [
            # `requires:` and `steps:` open blocks inside a workflow
            (r"^([^\S\n]*)(requires|steps)([^\S\n]*)(:)(?=[^\S\n]*(?:#.*)?$)",
             bygroups(Whitespace, Keyword, Whitespace, Punctuation)),
            # `parallel:` / `parallel(max_concurrency=4):` / `parallel for x in xs:`
            (r"^([^\S\n]*)(parallel)(?=[^\S\n]*([(:]|for\b))", bygroups(Whitespace, Keyword)),
            # `handle:` / `handle StepError as e:` closing a `try`
            (r"^([^\S\n]*)(handle)(?=[^\S\n]*([\w(]|:))", bygroups(Whitespace, Keyword)),
            # a workflow setting: `version = "2"`
            (r"^([^\S\n]*)(%s)(?=[^\S\n]*=[^=])" % "|".join(SETTINGS),
             bygroups(Whitespace, Name.Builtin)),
        ],
        "keywords": [
            # soft keywords (sync, requires, steps, parallel, handle, workflow): above
            (words(tuple(k for k in STATEMENT_KEYWORDS if k not in _CONTEXTUAL),
                   prefix=_NOT_ATTR, suffix=r"\b"),
             Keyword),
        ],
        "expr": [
            include("strings"),
            (r"[^\S\n]+", Whitespace),
            include("numbers"),
            include("scoped-names"),
            (r"\$\$", Operator),  # pipe placeholder
            (r"::", Operator),  # lambda separator
            (r"->|\*\*=?|//=?|<<=?|>>=?|[-+*/%&|^]=|[=!<>]=|[-+*/%&|^~<>=.]", Operator),
            (r"[]{}:(),;[]", Punctuation),
            include("expr-keywords"),
            include("builtins"),
            include("name"),
        ],
        "expr-keywords": [
            (words(OPERATOR_WORDS, prefix=_NOT_ATTR, suffix=r"\b"), Operator.Word),
            (words(("if", "else", "for", "lambda"), prefix=_NOT_ATTR, suffix=r"\b"),
             Keyword),
            (words(CONSTANTS, prefix=_NOT_ATTR, suffix=r"\b"), Keyword.Constant),
        ],
        "scoped-names": [
            (_NOT_ATTR + r"((?:%s):)(%s)" % ("|".join(SCOPE_PREFIXES), _IDENT),
             bygroups(Keyword.Namespace, Name.Variable)),
        ],
        "builtins": [
            (words(BUILTINS + BUILTIN_TYPES, prefix=_NOT_ATTR, suffix=r"\b"),
             Name.Builtin),
            (words(ERROR_TYPES, prefix=_NOT_ATTR, suffix=r"\b"), Name.Exception),
        ],
        "numbers": [
            (r"(\d(?:_?\d)*\.(?:\d(?:_?\d)*)?|(?:\d(?:_?\d)*)?\.\d(?:_?\d)*)"
             r"([eE][+-]?\d(?:_?\d)*)?", Number.Float),
            (r"\d(?:_?\d)*[eE][+-]?\d(?:_?\d)*", Number.Float),
            (r"0[xX](?:_?[a-fA-F0-9])+", Number.Hex),
            (r"0[oO](?:_?[0-7])+", Number.Oct),
            (r"0[bB](?:_?[01])+", Number.Bin),
            (r"\d(?:_?\d)*", Number.Integer),
        ],
        "name": [
            (r"@%s(?:\.%s)*" % (_IDENT, _IDENT), Name.Decorator),
            (_IDENT, Name),
        ],
        "funcname": [
            (r"[^\S\n]+", Whitespace),
            # receiver method: def (p: Point) norm() -> float:
            (r"\(", Punctuation, "receiver"),
            (_IDENT, Name.Function, "#pop"),
            default("#pop"),
        ],
        "receiver": [
            (r"\)", Punctuation, "#pop"),
            (r"[^\S\n]+", Whitespace),
            include("expr"),
        ],
        "classname": [
            (r"[^\S\n]+", Whitespace),
            (_IDENT, Name.Class, "#pop"),
            default("#pop"),
        ],
        "workflowname": [
            (r"[^\S\n]+", Whitespace),
            (_IDENT, Name.Function, "#pop"),
            default("#pop"),
        ],
        "import": [
            (r"([^\S\n]+)(as)([^\S\n]+)", bygroups(Whitespace, Keyword, Whitespace)),
            (r"[^\S\n]+", Whitespace),
            (r"\.", Name.Namespace),
            (_IDENT, Name.Namespace),
            (r"([^\S\n]*)(,)([^\S\n]*)", bygroups(Whitespace, Punctuation, Whitespace)),
            default("#pop"),
        ],
        "fromimport": [
            (r"([^\S\n]+)(import)\b", bygroups(Whitespace, Keyword.Namespace), "#pop"),
            (r"[^\S\n]+", Whitespace),
            (r"\.", Name.Namespace),
            (_IDENT, Name.Namespace),
            default("#pop"),
        ],
        # ---- strings -------------------------------------------------------------
        "strings": [
            # raw f-strings
            (r'(?i)(rf|fr)(""")', bygroups(String.Affix, String.Double),
             combined("rfstringescape", "tdqf")),
            (r"(?i)(rf|fr)(''')", bygroups(String.Affix, String.Single),
             combined("rfstringescape", "tsqf")),
            (r'(?i)(rf|fr)(")', bygroups(String.Affix, String.Double),
             combined("rfstringescape", "dqf")),
            (r"(?i)(rf|fr)(')", bygroups(String.Affix, String.Single),
             combined("rfstringescape", "sqf")),
            # f-strings
            (r'([fF])(""")', bygroups(String.Affix, String.Double),
             combined("fstringescape", "tdqf")),
            (r"([fF])(''')", bygroups(String.Affix, String.Single),
             combined("fstringescape", "tsqf")),
            (r'([fF])(")', bygroups(String.Affix, String.Double),
             combined("fstringescape", "dqf")),
            (r"([fF])(')", bygroups(String.Affix, String.Single),
             combined("fstringescape", "sqf")),
            # raw strings: backslashes are literal
            (r'([rR])(""")', bygroups(String.Affix, String.Double), "tdqs"),
            (r"([rR])(''')", bygroups(String.Affix, String.Single), "tsqs"),
            (r'([rR])(")', bygroups(String.Affix, String.Double), "dqs"),
            (r"([rR])(')", bygroups(String.Affix, String.Single), "sqs"),
            # plain strings
            (r'"""', String.Double, combined("stringescape", "tdqs")),
            (r"'''", String.Single, combined("stringescape", "tsqs")),
            (r'"', String.Double, combined("stringescape", "dqs")),
            (r"'", String.Single, combined("stringescape", "sqs")),
        ],
        "stringescape": [
            (r"\\(N\{.*?\}|u[a-fA-F0-9]{4}|U[a-fA-F0-9]{8}|x[a-fA-F0-9]{2}|[0-7]{1,3}"
             r"|[\\abfnrtv\"']|\n)", String.Escape),
        ],
        "rfstringescape": [
            (r"\{\{", String.Escape),
            (r"\}\}", String.Escape),
        ],
        "fstringescape": [
            include("rfstringescape"),
            include("stringescape"),
        ],
        "strings-single": _string_body(String.Single),
        "strings-double": _string_body(String.Double),
        "fstrings-single": _fstring_body(String.Single),
        "fstrings-double": _fstring_body(String.Double),
        # an escaped quote or backslash does not end a raw string either
        "dqs": [
            (r'"', String.Double, "#pop"),
            (r'\\\\|\\"|\\\n', String.Double),
            include("strings-double"),
        ],
        "sqs": [
            (r"'", String.Single, "#pop"),
            (r"\\\\|\\'|\\\n", String.Single),
            include("strings-single"),
        ],
        "tdqs": [
            (r'"""', String.Double, "#pop"),
            include("strings-double"),
            (r"\n", String.Double),
        ],
        "tsqs": [
            (r"'''", String.Single, "#pop"),
            include("strings-single"),
            (r"\n", String.Single),
        ],
        "dqf": [
            (r'"', String.Double, "#pop"),
            (r'\\\\|\\"|\\\n', String.Double),
            include("fstrings-double"),
        ],
        "sqf": [
            (r"'", String.Single, "#pop"),
            (r"\\\\|\\'|\\\n", String.Single),
            include("fstrings-single"),
        ],
        "tdqf": [
            (r'"""', String.Double, "#pop"),
            include("fstrings-double"),
            (r"\n", String.Double),
        ],
        "tsqf": [
            (r"'''", String.Single, "#pop"),
            include("fstrings-single"),
            (r"\n", String.Single),
        ],
        # ---- f-string interpolations -----------------------------------------------
        "fstring-expr": [
            (r"[{(\[]", Punctuation, "fstring-expr-inner"),
            # end of the interpolation, optionally with `=` (debug) and `!r` conversion
            (r"(=[^\S\n]*)?(![rsa])?\}", String.Interpol, "#pop"),
            (r"::", Operator),  # a lambda inside the braces, not a format spec
            # start of the format spec: `{x:.2f}`
            (r"(=[^\S\n]*)?(![rsa])?:", String.Interpol, ("#pop", "fstring-spec")),
            # no newline rule: an unclosed `{` at end of line resets to root, which
            # keeps REPL highlighting of half-typed lines from swallowing what follows
            (r"[^\S\n]+", Whitespace),
            include("expr"),
        ],
        "fstring-expr-inner": [
            (r"[{(\[]", Punctuation, "fstring-expr-inner"),
            (r"[\])}]", Punctuation, "#pop"),
            (r"[^\S\n]+", Whitespace),
            include("expr"),
        ],
        "fstring-spec": [
            (r"\{", String.Interpol, "fstring-expr"),  # nested: {x:{width}.2f}
            (r"\}", String.Interpol, "#pop"),
            (r"[^{}'\"\\\n]+", String.Interpol),
            default("#pop"),  # malformed spec: let the string state recover
        ],
    }

    def analyse_text(text):
        """Guess whether ``text`` is Dana: workflow blocks, scoped names, `::` lambdas."""
        score = 0.0
        if re.search(r"^[^\S\n]*workflow[^\S\n]+\w+", text, re.MULTILINE):
            score += 0.4
        if re.search(r"^[^\S\n]*(?:requires|steps)[^\S\n]*:[^\S\n]*$", text, re.MULTILINE):
            score += 0.3
        if re.search(r"\b(?:private|public|local|system):[^\W\d]", text):
            score += 0.2
        if re.search(r"\blambda\b[^\n]*::", text):
            score += 0.2
        if re.search(r"^[^\S\n]*handle\b[^\n]*:[^\S\n]*$", text, re.MULTILINE):
            score += 0.2
        return min(score, 1.0)
