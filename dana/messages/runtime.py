"""Texts of run-time errors that have no static twin (E05xx, docs/errors.md): each code is
that of the error's Dana type (`dana.surface.vocab`: E0501 ValueError, E0502 TypeError,
...), so `dana.errors.runtime_error(msg, span, **fields)` raises the right type. A mistake
the checker also finds is raised with the checker's constant instead
(`dana.errors.rule_error`, `dana.messages.checks`).

Consumes: `Msg`. Produces: `Msg` constants, grouped by error type.
"""

from __future__ import annotations

from dana.messages import Msg

# ------------------------------------------------------------------ E0501 ValueError
BAD_FORMAT_SPEC = Msg("E0501", "invalid format spec {spec!r} for {type}: {reason}")
CHANGED_WHILE_ITERATED = Msg("E0501", "cannot change a {type} while a `for` loop iterates over "
                                      "it (copy it first, e.g. `for x in list(xs):`)")

# ------------------------------------------------------------------ E0502 TypeError
EARLIER_ARGUMENT = Msg("E0502", "{callee} needs argument `{name}` when a later one is given")
STAR_STAR_NOT_DICT = Msg("E0502", "argument after ** must be a dict, not `{type}`")
BAD_INDEX_TYPE = Msg("E0502", "{type} indices must not be {index}")

# ------------------------------------------------------------------ E0503 KeyError, E0504 IndexError
KEY_NOT_FOUND = Msg("E0503", "key {key!r} not found")
DICT_NO_KEY = Msg("E0503", "dict has no key {key!r}")
INDEX_OUT_OF_RANGE = Msg("E0504", "{type} index {index!r} out of range")
ASSIGN_INDEX_OUT_OF_RANGE = Msg("E0504", "list assignment index {index!r} out of range")

# ------------------------------------------------------------------ E0505 AttributeError
PRIVATE_ATTRIBUTE = Msg("E0505", "attribute `{name}` is not accessible: names starting with "
                                 "'_' are private to the host")
CANNOT_SET_ATTRIBUTE = Msg("E0505", "cannot set attribute `{name}` on `{type}`")

# ------------------------------------------------------------------ E0507 ZeroDivisionError
DIVISION_BY_ZERO = Msg("E0507", "division by zero")

# ------------------------------------------------------------------ E0513 LimitError
TOO_LONG_TEXT = Msg("E0513", "string of {size} characters exceeds the limit of {limit}")
TOO_BIG_RESULT = Msg("E0513", "creating a {type} of {size} {units} exceeds the limit of {limit}")
TOO_BIG_INT = Msg("E0513", "the result of {shown} would have about {bits} bits, over the limit "
                           "of {limit} bits")
TOO_BIG_COMPREHENSION = Msg("E0513", "a comprehension over {size} items exceeds the limit of "
                                     "{limit} items")
TOO_BIG_BY_METHOD = Msg("E0513", "{type}.{name}() would create a {type} of {size} {units}, over "
                                 "the limit of {limit}")
