"""The size and depth of a full walk over a value, measured without doing the walk.

Consumes: a value; `parts(value)`, which gives the parts of a container (a sized
iterable) or None for a leaf; the set of types that are always leaves (the fast path).
Produces: `walk_problem(value, parts, leaves, budget, max_depth, cycles_ok)`, the
`Problem` that would make a walk unbounded (kind "size", "depth" or "cycle", and the
words "has more than N parts ...", "is nested more than N levels deep", "contains
itself"), or None; `walk_cost(...)`, the parts such a walk visits (at most budget + 1);
`leaf_cost(value)`, the parts one leaf counts.

Printing, comparing, hashing and encoding visit every part of a value, and visit a shared
part each time it is reached: `x = [x, x]` done 64 times is 65 lists in memory but a walk
of 2^64 leaves. This measure visits each distinct part once (a memo keyed by identity, so
O(distinct parts)) and counts what the real walk would visit. Containers whose parts are
all leaves are measured at C speed. The runtime (`dana.runtime.shapes`) and the store's
codec (`dana.store.codec`) both measure with it before walking (docs/language.md, "Safety
and limits").

A leaf is one part, except a long one: a text (str or bytes) of n characters counts
1 + n // 4 parts, and an int of more than 64 bits 1 + bits // 12 (about a quarter of its
digits), since printing, comparing or encoding it costs that much each time it is
reached: a million references to one text of a million characters is 10^12 characters
to print.
"""

from __future__ import annotations

from itertools import chain
from typing import Any, Callable, Collection, Iterable, Literal, NamedTuple

Parts = Callable[[Any], "Collection[Any] | None"]

_SMALL_INT = 2 ** 64


def _text_width(texts: Iterable[Any]) -> int:
    return sum(map(len, texts)) // 4  # within 1 part per text of the exact sum


def _int_width(ints: Collection[int]) -> int:
    if -_SMALL_INT < min(ints) and max(ints) < _SMALL_INT:  # C speed for the usual case
        return 0
    return sum(n.bit_length() // 12 for n in ints if not -_SMALL_INT < n < _SMALL_INT)


WIDTHS: dict[type, Callable[[Any], int]] = {str: _text_width, bytes: _text_width,
                                           int: _int_width}
"""The parts a collection of leaves of one type counts beyond one per leaf."""


class Problem(NamedTuple):
    """Why a walk is unbounded: `kind` and `text` (to follow "a value that ...")."""

    kind: Literal["size", "depth", "cycle"]
    text: str


def walk_problem(value: Any, parts: Parts, leaves: frozenset[type], budget: int,
                 max_depth: int, cycles_ok: bool) -> Problem | None:
    """Why walking `value` would visit more than `budget` parts (a shared part counted
    each time it is reached), go deeper than `max_depth` levels, or, unless `cycles_ok`,
    never end; None when it would not. A part that contains itself counts one part when
    `cycles_ok` (printing shows it as `[...]`)."""
    bounds = _two_levels(value, parts, leaves, budget)
    if bounds is not None:
        if bounds[1] <= budget:
            return None
        if bounds[0] > budget:
            return _too_many(budget)
    found = _measure(value, parts, leaves, budget, max_depth, cycles_ok)
    return found if found.__class__ is Problem else None


def walk_cost(value: Any, parts: Parts, leaves: frozenset[type], budget: int,
              max_depth: int) -> int:
    """The parts a full walk over `value` visits, as `walk_problem` counts them; past
    `budget`, too deep or cyclic: budget + 1."""
    bounds = _two_levels(value, parts, leaves, budget)
    if bounds is not None and bounds[0] == bounds[1]:
        return min(bounds[0], budget + 1)
    found = _measure(value, parts, leaves, budget, max_depth, False)
    return budget + 1 if found.__class__ is Problem else found


_BULK = 1 << 20
"""The most parts `_two_levels` gathers into one list (8 MiB of references)."""


def _two_levels(value: Any, parts: Parts, leaves: frozenset[type],
                budget: int) -> tuple[int, int] | None:
    """Bounds (low, high) of the cost `_measure` finds for `value` when every part of it
    is a container whose parts are all leaves (a list of tuples of str and int, of
    structs of scalars), found at C speed; None when `value` is not such a value or is
    too big to gather (at most `_BULK` parts, 16 per part of `value` on average: no
    more work than `_measure`'s within a constant). A text's width is floored per
    container (`_open`), so the two bounds differ by up to one part per container and
    kind of text; no cycle or depth problem can be met in two levels of leaves."""
    inner = parts(value)
    if inner is None or len(inner) > min(budget, _BULK) or not leaves.isdisjoint(
            map(type, inner)):
        return None
    try:
        groups = list(map(parts, inner))
        size = sum(map(len, groups))
    except TypeError:  # a part that is neither a leaf nor a container: parts() is None
        return None
    if size > min(16 * len(inner), _BULK):
        return None
    flat = list(chain.from_iterable(groups))
    kinds = set(map(type, flat))
    if not kinds <= leaves:
        return None
    high = 1 + len(inner) + size + _widths(flat, kinds)
    floored = sum(1 for kind in kinds if WIDTHS.get(kind) is _text_width)
    return high - floored * len(inner), high


def _measure(value: Any, parts: Parts, leaves: frozenset[type], budget: int,
             max_depth: int, cycles_ok: bool) -> Problem | int:
    """`walk_problem`'s Problem, or the cost of the walk when there is none."""
    first = _open(value, parts, leaves)
    if first.__class__ is int:
        return _too_many(budget) if first > budget else first
    memo: dict[int, int] = {}
    stack, path = [first], {first[0]}
    while stack:
        top = stack[-1]
        for part in top[1]:
            if part.__class__ in leaves:
                top[2] += leaf_cost(part)
                continue
            key = id(part)
            cost = memo.get(key)
            if cost is None:
                if key in path:
                    if not cycles_ok:
                        return Problem("cycle", "contains itself")
                    cost = 1
                else:
                    opened = _open(part, parts, leaves)
                    if opened.__class__ is not int:
                        if len(stack) >= max_depth:
                            return Problem("depth", f"is nested more than {max_depth} "
                                                    "levels deep")
                        stack.append(opened)
                        path.add(key)
                        break
                    memo[key] = cost = opened
            top[2] += cost
            if top[2] > budget:
                return _too_many(budget)
        else:
            stack.pop()
            path.discard(top[0])
            memo[top[0]] = top[2]
            if stack:
                stack[-1][2] += top[2]
                if stack[-1][2] > budget:
                    return _too_many(budget)
    return top[2]


def _open(value: Any, parts: Parts, leaves: frozenset[type]) -> int | list:
    """The walk cost of a leaf or of a container of leaves (an int), or a stack entry
    [id, iterator over the parts, cost so far] for a container holding containers."""
    inner = parts(value)
    if inner is None:
        return leaf_cost(value)
    kinds = set(map(type, inner))
    if kinds <= leaves:
        return 1 + len(inner) + _widths(inner, kinds)
    return [id(value), iter(inner), 1]


def leaf_cost(value: Any) -> int:
    """The parts a leaf counts: 1, or more for a long text or int (see module docstring)."""
    width = WIDTHS.get(value.__class__)
    return 1 if width is None else 1 + width((value,))


def _widths(inner: Collection[Any], kinds: set[type]) -> int:
    """The parts the long leaves of `inner` (all of them leaves) count beyond one each."""
    if len(kinds) == 1:
        width = WIDTHS.get(next(iter(kinds)))
        return 0 if width is None else width(inner)
    return sum(WIDTHS[kind]([p for p in inner if p.__class__ is kind])
               for kind in kinds if kind in WIDTHS)


COUNTING = "a shared part counts each time it appears, a long text one part per 4 characters"
"""How the parts of a size Problem are counted, in words (shown in its text)."""


def _too_many(budget: int) -> Problem:
    return Problem("size", f"has more than {budget} parts ({COUNTING})")
