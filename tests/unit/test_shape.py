"""dana/shape.py measures a walk without doing it; its C-speed path for two levels of
leaves (a list of tuples, of structs of scalars) must give exactly what the part-by-part
measure gives, at every budget around the cost (docs/language.md "Safety and limits")."""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from dana import shape
from dana.runtime import shapes
from dana.runtime.values import StructInstance

LEAVES = shapes._LEAVES
scalars = st.one_of(st.integers(min_value=-2 ** 80, max_value=2 ** 80), st.floats(),
                    st.text(max_size=12), st.binary(max_size=9), st.booleans(), st.none())
rows = st.one_of(st.tuples(scalars, scalars), st.lists(scalars, max_size=5),
                 st.dictionaries(st.text(max_size=3), scalars, max_size=3))
values = st.one_of(st.lists(rows, max_size=12), st.tuples(rows, rows),
                   st.lists(st.lists(rows, max_size=3), max_size=4))


def _exact(value: object, budget: int) -> object:
    """What the part-by-part measure finds (the reference)."""
    found = shape._measure(value, shapes._parts, LEAVES, budget, 1000, False)
    return found if found.__class__ is shape.Problem else min(found, budget + 1)


@settings(max_examples=300, deadline=None)
@given(values)
def test_bounds_agree_with_the_walk_at_every_budget(value: list) -> None:
    cost = shape._measure(value, shapes._parts, LEAVES, 10 ** 9, 1000, False)
    for budget in range(max(0, cost - 12), cost + 3):
        exact = _exact(value, budget)
        problem = shape.walk_problem(value, shapes._parts, LEAVES, budget, 1000, False)
        assert problem == (exact if exact.__class__ is shape.Problem else None), budget
        assert shape.walk_cost(value, shapes._parts, LEAVES, budget, 1000) == (
            budget + 1 if exact.__class__ is shape.Problem else exact)


def test_shared_rows_count_each_time_they_appear() -> None:
    row = ("x" * 40, 7)
    value = [row] * 100
    assert shape.walk_cost(value, shapes._parts, LEAVES, 10 ** 6, 1000) == 1 + 100 * 13  # a tuple: itself, 2 items, 40 characters / 4
    assert shape.walk_problem(value, shapes._parts, LEAVES, 1300, 1000, False) is not None


def test_structs_of_scalars() -> None:
    rows = [StructInstance(None, {"x": i, "name": "abcd" * i}) for i in range(50)]
    cost = shape._measure(rows, shapes._parts, LEAVES, 10 ** 9, 1000, False)
    assert shape.walk_cost(rows, shapes._parts, LEAVES, 10 ** 9, 1000) == cost



@settings(max_examples=300, deadline=None)
@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-7, 7).filter(bool),
       st.sampled_from([0, 2 ** 70]))
def test_length_of_a_range_longer_than_len_takes(start, stop, step, k):
    """shapes.length counts a range's items like len(), also past what len() takes: the
    range widened by k steps at each end has 2k more items than the small one."""
    small = range(start, stop, step)
    widened = range(start - k * step, stop + k * step, step)
    assert shapes.length(widened) == math.ceil(Fraction(stop - start, step)) + 2 * k if k \
        else shapes.length(small) == len(small)
