"""The size and depth of a full walk over a value, measured without doing the walk.

Consumes: a value; `parts(value)`, which gives the parts of a container (a sized
iterable) or None for a leaf; the set of types that are always leaves (the fast path).
Produces: `walk_problem(value, parts, leaves, budget, max_depth, cycles_ok)`, the
`Problem` that would make a walk unbounded (kind "size", "depth" or "cycle", and the
words "has more than N parts ...", "is nested more than N levels deep", "contains
itself"), or None.

Printing, comparing, hashing and encoding visit every part of a value, and visit a shared
part each time it is reached: `x = [x, x]` done 64 times is 65 lists in memory but a walk
of 2^64 leaves. This measure visits each distinct part once (a memo keyed by identity, so
O(distinct parts)) and counts what the real walk would visit. Containers whose parts are
all leaves are measured at C speed. The runtime (`dana.runtime.shapes`) and the store's
codec (`dana.store.codec`) both measure with it before walking (docs/language.md, "Safety
and limits").
"""

from __future__ import annotations

from typing import Any, Callable, Collection, Literal, NamedTuple

Parts = Callable[[Any], "Collection[Any] | None"]


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
    first = _open(value, parts, leaves)
    if first.__class__ is int:
        return _too_many(budget) if first > budget else None
    memo: dict[int, int] = {}
    stack, path = [first], {first[0]}
    while stack:
        top = stack[-1]
        for part in top[1]:
            if part.__class__ in leaves:
                top[2] += 1
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
    return None


def _open(value: Any, parts: Parts, leaves: frozenset[type]) -> int | list:
    """The walk cost of a leaf or of a container of leaves (an int), or a stack entry
    [id, iterator over the parts, cost so far] for a container holding containers."""
    inner = parts(value)
    if inner is None:
        return 1
    if leaves.issuperset(map(type, inner)):
        return 1 + len(inner)
    return [id(value), iter(inner), 1]


def _too_many(budget: int) -> Problem:
    return Problem("size", f"has more than {budget} parts (a shared part counts each time "
                           "it appears)")
