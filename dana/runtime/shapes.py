"""Bounding Python's own walks over a whole value: text, comparison and hashing
(docs/language.md, "Safety and limits").

Consumes: a Dana value and the runtime's size budget (`Limits.max_size`).
Produces: `checked_text(value, budget, span) -> str` (what `print`, `str()`, `log` and
f-strings show), `check_compare(a, b, budget, span)` (before `==`, `<`, `in`, `sort`...),
`check_contains(item, items, budget, span)` (before `in` compares `item` with each of a
list's or tuple's items), `check_keys(keys, budget, span)` (before tuples become set
items or dict keys) and `walk_problem(value, budget, cycles_ok)`, which they share
(`dana.shape` for Dana's values); each raises `LimitError`. `length(value)` is a sized
value's number of items, also for a range too long for Python's `len()`.

Python prints, compares and hashes a list, tuple, dict, set or struct by walking every part,
recursively, in C. Two values break that walk: one built of shared references, where
`x = [x, x]` done 64 times is 65 small lists in memory but 2^64 leaves to walk (a hang), and
one nested 100,000 levels deep, which exhausts the C stack (a crash). Before such a walk this
module measures the value first (`dana.shape`, O(distinct parts)). Over `budget` parts or
MAX_VALUE_DEPTH levels is a LimitError at the line that asked for the walk.
"""

from __future__ import annotations

from typing import Any, Iterable

from dana import shape
from dana.errors import runtime_error
from dana.messages import runtime as R
from dana.runtime.values import StructInstance

def length(value: Any) -> int:
    """`len(value)` (an int >= 0), also for a range longer than Python's `len()` takes
    (2 ** 63 items and more), which the size checks compare with `Limits.max_size`."""
    try:
        return len(value)
    except OverflowError:
        return max(0, -((value.start - value.stop) // value.step))


MAX_VALUE_DEPTH = 1000
"""Levels of nesting a printed, compared or hashed value may have (Python's default
recursion limit: deeper walks would exhaust the C stack)."""

CONTAINERS = frozenset({list, tuple, dict, set, frozenset, StructInstance})
"""The classes of values whose parts Python walks (every other value is one part)."""
_LEAVES = frozenset({int, float, str, bool, type(None), bytes})


def _parts(value: Any) -> Any:
    cls = value.__class__
    if cls is dict:
        return [*value, *value.values()]
    if cls is StructInstance:
        return value.fields.values()
    return value if cls in CONTAINERS else None


def walk_problem(value: Any, budget: int, cycles_ok: bool) -> str | None:
    """What stops a full walk of `value` (None: nothing), in words (`dana.shape`)."""
    if value.__class__ not in CONTAINERS:
        return None
    problem = shape.walk_problem(value, _parts, _LEAVES, budget, MAX_VALUE_DEPTH, cycles_ok)
    return None if problem is None else problem.text


def checked_text(value: Any, budget: int, span: Any = None) -> str:
    """`str(value)`, after `check_text`."""
    if value.__class__ is str:
        return value
    check_text(value, budget, span)
    return str(value)


def check_text(value: Any, budget: int, span: Any = None) -> None:
    """Raise LimitError unless converting `value` to text (str, repr) is bounded."""
    problem = walk_problem(value, budget, True)
    if problem is not None:
        raise runtime_error(R.TOO_BIG_TO_WALK, span, doing="convert to text", problem=problem)


def check_walk(value: Any, budget: int, span: Any, doing: str) -> None:
    """Raise LimitError unless a walk comparing or copying all of `value` is bounded;
    `doing` names it (`sort`, `convert to JSON`)."""
    problem = walk_problem(value, budget, False)
    if problem is not None:
        raise runtime_error(R.TOO_BIG_TO_WALK, span, doing=doing, problem=problem)


def check_compare(a: Any, b: Any, budget: int, span: Any) -> None:
    """Raise LimitError unless comparing `a` with `b` (or with each item of `b`, for `in`)
    is bounded: the walk stops at the smaller of the two, so one bounded side is enough."""
    if a is b:
        return
    problem = walk_problem(a, budget, False)
    if problem is not None and walk_problem(b, budget, False) is not None:
        raise runtime_error(R.TOO_BIG_TO_WALK, span, doing="compare", problem=problem)


def check_contains(item: Any, items: Any, budget: int, span: Any) -> None:
    """Raise LimitError unless `item in items` (`items` a list or tuple; also `index`,
    `count`, `remove`) is bounded: it compares `item` with each item, and each comparison
    stops at the smaller value, so either len(items) walks of `item` or one walk of all
    of `items` bounds it."""
    if items.__class__ is not list and items.__class__ is not tuple:
        return check_compare(item, items, budget, span)
    if item.__class__ in CONTAINERS:
        per_item = shape.walk_cost(item, _parts, _LEAVES, budget, MAX_VALUE_DEPTH)
    else:
        per_item = shape.leaf_cost(item)
    if per_item * len(items) > budget:
        problem = walk_problem(items, budget, False)
        if problem is not None:
            raise runtime_error(R.TOO_BIG_TO_SEARCH, span, type=type(items).__name__,
                                problem=problem)


def check_keys(keys: Iterable[Any], budget: int, span: Any) -> None:
    """Raise LimitError when hashing one of `keys` (a set item or dict key) is unbounded:
    a tuple is hashed by walking all its parts."""
    for key in keys:
        if key.__class__ is tuple:
            problem = walk_problem(key, budget, False)
            if problem is not None:
                raise runtime_error(R.TOO_BIG_TO_HASH, span, problem=problem)
