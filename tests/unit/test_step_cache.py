"""The step cache: what makes an entry match (docs/workflows.md "Cached steps")."""

from dana.workflow.cache import MAX_ENTRIES, CacheEntry, StepCache
from dana.workflow.state import MISSING


def entry(identity=("f",), value=1, reads=None, output="out", writes=None) -> CacheEntry:
    return CacheEntry(identity, value, reads or {}, output, writes or {})


def test_a_hit_needs_equal_identity_input_and_reads():
    cache = StepCache()
    cache.store("f", entry(reads={"x": [1, 2]}))
    assert cache.lookup("f", ("f",), 1, {"x": [1, 2]}).output == "out"
    assert cache.lookup("f", ("f",), 1, {"x": [1, 3]}) is None      # a read key changed
    assert cache.lookup("f", ("f",), 2, {"x": [1, 2]}) is None      # another input
    assert cache.lookup("f", ("g",), 1, {"x": [1, 2]}) is None      # other code
    assert cache.lookup("g", ("f",), 1, {"x": [1, 2]}) is None      # another step name


def test_a_key_read_while_absent_must_still_be_absent():
    cache = StepCache()
    cache.store("f", entry(reads={"late": MISSING}))
    assert cache.lookup("f", ("f",), 1, {}) is not None
    assert cache.lookup("f", ("f",), 1, {"late": 0}) is None


def test_newest_entry_wins_and_old_ones_are_dropped():
    cache = StepCache()
    for i in range(MAX_ENTRIES + 5):
        cache.store("f", entry(value=i, output=i))
    assert len(cache) == MAX_ENTRIES
    assert cache.lookup("f", ("f",), 0, {}) is None                 # evicted
    assert cache.lookup("f", ("f",), MAX_ENTRIES + 4, {}).output == MAX_ENTRIES + 4


def test_values_that_cannot_be_compared_never_match():
    class Odd:
        def __eq__(self, other):
            raise RuntimeError("no")

    cache = StepCache()
    cache.store("f", entry(value=Odd()))
    assert cache.lookup("f", ("f",), Odd(), {}) is None
