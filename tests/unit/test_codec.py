"""The value codec (docs/store.md "Values"): every storable value round-trips exactly,
with the same types; unstorable values fail with their place named; the content hash is
stable across processes."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from dataclasses import dataclass, field

import pytest
from hypothesis import example, given, settings, strategies as st

from dana.store.codec import StoredStruct, UnstorableValue, content_hash, decode, encode


@dataclass(eq=False)
class _Type:
    name: str


@dataclass(eq=False)
class _Struct:
    """Shaped like a runtime struct instance: `.struct.name` and a `.fields` dict."""

    struct: _Type
    fields: dict = field(default_factory=dict)


_TYPES = {name: _Type(name) for name in ("Point", "Reading")}


def _rebuild(name: str, fields: dict) -> _Struct:
    return _Struct(_TYPES[name], fields)


def _same(a: object, b: object) -> bool:
    """Equal with the same types all the way down; nan equals nan, -0.0 differs from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) ==
                                                     math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a.items(), b.items()))
    if isinstance(a, (set, frozenset)):
        return len(a) == len(b) and all(any(_same(x, y) for y in b) for x in a)
    if isinstance(a, _Struct):
        return a.struct is b.struct and _same(a.fields, b.fields)
    return a == b


_hashable = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5)
    | st.floats(allow_nan=False),
    lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3), max_leaves=6)

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (st.lists(inner, max_size=4)
                   | st.lists(inner, max_size=4).map(tuple)
                   | st.dictionaries(_hashable, inner, max_size=4)
                   | st.dictionaries(st.text(max_size=4), inner, max_size=4)
                   | st.sets(_hashable, max_size=4)
                   | st.builds(_Struct, st.sampled_from(list(_TYPES.values())),
                               st.dictionaries(st.text(min_size=1, max_size=4), inner,
                                               max_size=3))),
    max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(_values)
@example({-(2 ** 63) - 1: None})
def test_decode_of_encode_is_the_same_value_with_the_same_types(value: object) -> None:
    assert _same(decode(encode(value), _rebuild), value)


@settings(max_examples=100, deadline=None)
@given(_values)
def test_encoding_is_deterministic(value: object) -> None:
    assert encode(value) == encode(decode(encode(value), _rebuild))


@pytest.mark.parametrize("value", [2 ** 64, -(2 ** 63) - 1, 10 ** 100, float("nan"),
                                   float("inf"), float("-inf"), -0.0, {"\0t": 1},
                                   {1: "a", 1.5: "b", None: "c", (1, 2): "d"}])
def test_edge_values_round_trip(value: object) -> None:
    assert _same(decode(encode(value)), value)


def test_structs_come_back_as_records_without_a_resolver() -> None:
    value = _Struct(_TYPES["Point"], {"x": 1, "y": (2.0, 3)})
    assert decode(encode([value])) == [StoredStruct("Point", {"x": 1, "y": (2.0, 3)})]


def test_unstorable_values_name_what_and_where() -> None:
    cyclic: list = [1]
    cyclic.append(cyclic)
    cases = [(cyclic, "cycle", "[1]"), ({"k": [1, print]}, "type", "['k'][1]"),
             (_Struct(_TYPES["Point"], {"f": object()}), "type", ".f")]
    for value, reason, where in cases:
        with pytest.raises(UnstorableValue) as caught:
            encode(value)
        assert (caught.value.reason, caught.value.where) == (reason, where)
    with pytest.raises(UnstorableValue, match="of type builtin_function_or_method"):
        encode({"k": print})


def test_deep_nesting_is_unstorable_not_a_crash() -> None:
    deep: list = []
    for _ in range(1000):
        deep = [deep]
    with pytest.raises(UnstorableValue, match="nested deeper"):
        encode(deep)


def test_shared_references_are_unstorable_past_the_budget_not_a_hang() -> None:
    shared: list = [1]
    for _ in range(64):  # 65 lists in memory, 2^64 leaves once written out
        shared = [shared, shared]
    for store in (encode, content_hash):
        with pytest.raises(UnstorableValue, match="more than 50000000 parts") as caught:
            store({"k": shared})
        assert caught.value.reason == "size"
    deep: list = [1]
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(UnstorableValue, match="nested deeper"):
        encode(deep)


def test_many_references_to_a_long_text_are_unstorable_not_a_hang() -> None:
    text = "a" * 1_000_000  # a million references: 10^12 characters once written out
    for store in (encode, content_hash):
        with pytest.raises(UnstorableValue, match="one part per 4 characters") as caught:
            store({"k": [text] * 1_000_000})
        assert caught.value.reason == "size"


def test_a_little_sharing_is_stored_in_full() -> None:
    row = {"a": 1, "b": [2, 3]}
    assert decode(encode([row] * 1000)) == [row] * 1000


def test_content_hash_is_stable_across_processes() -> None:
    value = {"s": {"a", "b", "c", "d"}, "f": frozenset({("x", 1), ("y", 2)}), "n": 2 ** 80}
    script = ("from dana.store.codec import content_hash; "
              "print(content_hash({'s': {'a', 'b', 'c', 'd'}, "
              "'f': frozenset({('x', 1), ('y', 2)}), 'n': 2 ** 80}))")
    digests = {content_hash(value)}
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.getcwd()}
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env=env, check=True)
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_content_hash_tells_types_and_order_apart() -> None:
    assert content_hash(1) != content_hash(1.0) != content_hash(True)
    assert content_hash((1, 2)) != content_hash([1, 2])
    assert content_hash({"a": 1, "b": 2}) != content_hash({"b": 2, "a": 1})
