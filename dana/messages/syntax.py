"""Codes and texts of the syntax errors (E01xx, docs/errors.md): text that does not parse,
or parses but is not valid Dana. Parsing stops at the first one.

Consumes: `Msg`. Produces: `Msg` constants and the note templates of syntax errors.
"""

from __future__ import annotations

from dana.messages import Msg

# ------------------------------------------------------------------ tokens and layout
UNEXPECTED_TOKEN = Msg("E0100", "unexpected {what}")
UNEXPECTED_EXPECTING = Msg("E0100", "unexpected {what}; expected {expected}")
UNEXPECTED_END = Msg("E0101", "unexpected end of input")
UNEXPECTED_END_EXPECTING = Msg("E0101", "unexpected end of input; expected {expected}")
NEVER_CLOSED = Msg("E0102", "'{bracket}' was never closed")
UNTERMINATED_STRING = Msg("E0103", "unterminated string literal")
UNEXPECTED_CHARACTER = Msg("E0104", "unexpected character {char!r}")
UNEXPECTED_INDENT = Msg("E0105", "unexpected indent")
EXPECTED_BLOCK = Msg("E0106", "expected an indented block")
BAD_DEDENT = Msg("E0107", "unindent does not match any outer indentation level")
MIXED_INDENT = Msg("E0108", "inconsistent use of tabs and spaces in indentation")
NESTED_TOO_DEEPLY = Msg("E0109", "nested too deeply (max {most})")
TOO_MANY_INDENTS = Msg("E0109", "too many indentation levels (max {most})")
EXPRESSION_TOO_DEEP = Msg("E0109", "expression nested too deeply (max {most} levels; each "
                                   "operator of a chain is one level)")
INT_TOO_LONG = Msg("E0110", "integer literal too long ({digits} digits; max {most})")
INVALID_UTF8 = Msg("E0111", "invalid UTF-8: byte 0x{value:02x} at byte offset {byte} cannot "
                            "be decoded (Dana source is UTF-8)")
NUL_BYTE = Msg("E0112", "source contains a NUL byte")

# ------------------------------------------------------------------ Python habits
NO_CLASSES = Msg("E0113", "Dana has no classes")
NO_WITH = Msg("E0113", "Dana has no `with` statement")
LAMBDA_COLON = Msg("E0113", "Dana lambdas use `::` between the parameters and the body")

# ------------------------------------------------------------------ valid parse, invalid Dana
BAD_TARGET = Msg("E0114", "cannot assign to {what}")
ANNOTATED_TARGET = Msg("E0114", "only a plain name can have a type annotation")
AUGMENTED_TUPLE = Msg("E0114", "a tuple cannot be the target of an augmented assignment")
TRY_WITHOUT_HANDLER = Msg("E0115", "`try` needs at least one `handle` or a `finally` block")
PARALLEL_FOR_TARGET = Msg("E0116", "`parallel for` binds one name")
STEPS_FOR_TARGET = Msg("E0116", "a `for` loop in `steps:` binds one name")
COMPOSED_PARAMS = Msg("E0117", "a composed function `def h(x) = f | g` takes exactly one "
                               "parameter")
DUPLICATE_PARAM = Msg("E0118", "duplicate parameter `{name}`")
PARAM_AFTER_KWARGS = Msg("E0118", "arguments cannot follow var-keyword argument")
TWO_STAR_PARAMS = Msg("E0118", "* argument may appear only once")
TWO_STEPS_BLOCKS = Msg("E0119", "workflow `{name}` has two `steps:` blocks")
NO_STEPS_BLOCK = Msg("E0119", "workflow `{name}` has no `steps:` block")
POSITIONAL_AFTER_KEYWORD = Msg("E0120", "positional argument follows keyword argument")
BAD_ESCAPE = Msg("E0121", "invalid escape sequence: {problem}")
BAD_FSTRING = Msg("E0122", "{problem}")
FSTRING_EMPTY = Msg("E0122", "f-string: empty expression not allowed")
FSTRING_HASH = Msg("E0122", "f-string expression part cannot include '#'")
NOT_A_STEP_STATEMENT = Msg("E0123", "a `steps:` block holds step invocations and control flow "
                                    "(for, while, if, try, parallel, parallel for), not this "
                                    "statement")
PARALLEL_OUTSIDE_STEPS = Msg("E0124", "`parallel:` is only allowed inside a workflow's `steps:` "
                                      "block")
BARE_RAISE_OUTSIDE = Msg("E0125", "bare `raise` is only allowed inside a `handle` block")

# ------------------------------------------------------------------ notes
NOTE_FORGOT_COMMA = "perhaps you forgot a comma before it?"
NOTE_LIST_STEPS = ("list the steps in an indented `steps:` block, one per line or piped: "
                   "`steps:` then `load | clean`")
NOTE_NO_CLASSES = ("declare a `struct` for the data and receiver methods "
                   "(`def (p: Point) area() -> float:`) for the behaviour")
NOTE_NO_WITH = ("read a file with `read_text(path)` or `read_lines(path)`: there is nothing to "
                "open or close")
NOTE_LAMBDA_COLON = ("write `lambda x :: x * 2` (a single `:` gives a parameter its type: "
                     "`lambda x: int :: x * 2`)")
