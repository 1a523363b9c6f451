"""Unit tests for dana.workflow.state: transactions, versions, snapshots, diff, parallel
merges, typed keys, structural sharing and error recording."""

from __future__ import annotations

import copy
import itertools
import pickle
from collections.abc import Mapping

import pytest

from dana.errors import DanaRuntimeError
from dana.workflow.state import (
    MISSING,
    BranchState,
    HistoryEntry,
    ReplicaState,
    StateSnapshot,
    WorkflowState,
)


def make_state(initial=None):
    """A state whose clock ticks 1.0 second per reading, starting at 1000.0."""
    ticks = itertools.count(1000.0, 1.0)
    return WorkflowState(initial, clock=lambda: next(ticks))


def commit(state, step, **writes):
    tx = state.begin(step)
    for key, value in writes.items():
        tx[key] = value
    return state.commit(tx)


def state_error(match):
    return pytest.raises(DanaRuntimeError, match=match)


# -- version 0 and reading ------------------------------------------------------------------

def test_initial_state_is_version_zero():
    state = make_state({"b": 2, "a": 1})
    assert state.version == 0
    assert state.created_at == state.updated_at == 1000.0
    assert state.history() == [HistoryEntry(0, "<initial>", ("a", "b"), 1000.0)]


def test_empty_state():
    state = WorkflowState()
    assert state.version == 0 and len(state) == 0 and state.as_dict() == {}


def test_reading_the_current_values():
    state = make_state({"a": 1, "b": None})
    assert state["a"] == 1
    assert state.get("b", "default") is None
    assert state.get("zzz") is None and state.get("zzz", 5) == 5
    assert "a" in state and "zzz" not in state
    assert sorted(state.keys()) == ["a", "b"]
    assert sorted(state.items()) == [("a", 1), ("b", None)]
    assert len(state) == 2
    assert isinstance(state, Mapping)


def test_missing_key_is_a_dana_key_error():
    state = make_state({"a": 1})
    with pytest.raises(DanaRuntimeError) as info:
        state["nope"]
    assert info.value.dana_type == "KeyError"
    assert info.value.message == "state has no key `nope`"


def test_as_dict_is_a_copy():
    state = make_state({"a": 1})
    copied = state.as_dict()
    copied["a"] = 99
    copied["new"] = 1
    assert state.as_dict() == {"a": 1}


def test_keys_must_be_strings():
    with state_error("state keys must be strings, got int"):
        WorkflowState({1: "x"})
    tx = make_state().begin("s")
    with state_error("state keys must be strings"):
        tx[3] = "x"


def test_state_equality_is_identity():
    a, b = make_state({"x": 1}), make_state({"x": 1})
    assert a != b and a == a
    assert len({a, b}) == 2


# -- transactions ---------------------------------------------------------------------------

def test_commit_makes_exactly_one_version():
    state = make_state({"a": 1})
    tx = state.begin("load")
    tx["a"] = 2
    tx["b"] = 3
    tx["a"] = 4  # written twice: still one version
    assert state.commit(tx) == 1
    assert state.version == 1
    assert state.as_dict() == {"a": 4, "b": 3}
    assert state.history()[-1] == HistoryEntry(1, "load", ("a", "b"), 1001.0)
    assert state.updated_at == 1001.0 and state.created_at == 1000.0
    assert tx.status == "committed"


def test_writes_are_invisible_until_commit():
    state = make_state({"a": 1})
    tx = state.begin("s")
    tx["a"] = 2
    tx["c"] = 3
    assert state["a"] == 1 and "c" not in state
    assert tx["a"] == 2 and tx.get("c") == 3 and "c" in tx
    assert tx.writes == {"a": 2, "c": 3}


def test_transaction_reads_through_and_records_reads():
    state = make_state({"a": 1, "b": 2})
    tx = state.begin("s")
    tx["w"] = 0
    assert tx["a"] == 1
    assert tx.get("missing", "d") == "d"
    assert "b" in tx
    assert tx["w"] == 0  # reading its own write is not a read of the state
    assert tx.reads == {"a", "missing", "b"}
    with state_error("state has no key `gone`"):
        tx["gone"]


def test_transaction_without_writes_is_still_a_version():
    """docs/workflows.md "The WorkflowState": `state.version` is +1 per committed step, writes or not."""
    state = make_state({"a": 1})
    commit(state, "first", a=2)
    tx = state.begin("reader")
    assert tx["a"] == 2
    assert state.commit(tx) == 2
    entry = state.history()[-1]
    assert (entry.version, entry.step, entry.keys_changed) == (2, "reader", ())
    assert state.diff(1, 2) == {} and dict(state.at(1)) == dict(state.at(2))


def test_discarded_transaction_leaves_state_unchanged():
    state = make_state({"a": 1})
    tx = state.begin("s")
    tx["a"] = 2
    tx.discard()
    assert tx.status == "discarded" and tx.writes == {}
    assert state.version == 0 and state.as_dict() == {"a": 1}
    with state_error("already discarded"):
        tx["a"] = 3
    with state_error("transaction of step `s` is already discarded"):
        state.commit(tx)
    assert state.version == 0


def test_uncommitted_transaction_leaves_state_unchanged():
    state = make_state({"a": 1})
    tx = state.begin("crashed")
    tx["a"] = 2
    del tx
    assert state.version == 0 and state["a"] == 1


def test_transaction_cannot_commit_twice():
    state = make_state()
    tx = state.begin("s")
    tx["a"] = 1
    state.commit(tx)
    with state_error("already committed"):
        state.commit(tx)
    assert state.version == 1


def test_stale_transaction_is_rejected():
    state = make_state({"a": 1})
    late = state.begin("late")
    late["b"] = 1
    commit(state, "early", a=2)
    with state_error(r"step `late` began at version 0 but the state is now at version 1.*commit_many"):
        state.commit(late)
    assert state.version == 1 and "b" not in state
    assert late.status == "discarded"


def test_transaction_of_another_state_is_rejected():
    tx = make_state().begin("s")
    tx["a"] = 1
    other = make_state()
    with state_error("belongs to another state"):
        other.commit(tx)
    assert other.version == 0 and tx.status == "open"


def test_retry_starts_from_clean_state():
    state = make_state({"count": 0})
    failed = state.begin("step")
    failed["count"] = 1
    failed.discard()
    retry = state.begin("step")
    assert retry["count"] == 0 and retry.writes == {}


# -- history, snapshots, diff ---------------------------------------------------------------

def three_versions():
    state = make_state({"a": 1, "b": "x"})
    commit(state, "one", a=2)             # v1: overwrite
    commit(state, "two", c=[1, 2], b="y")  # v2: new key + overwrite
    commit(state, "three", a=3, c=[3])    # v3
    return state


def test_history_lists_every_version():
    state = three_versions()
    assert [(h.version, h.step, h.keys_changed) for h in state.history()] == [
        (0, "<initial>", ("a", "b")),
        (1, "one", ("a",)),
        (2, "two", ("b", "c")),
        (3, "three", ("a", "c")),
    ]
    assert [h.time for h in state.history()] == [1000.0, 1001.0, 1002.0, 1003.0]
    with pytest.raises(AttributeError):
        state.history()[0].step = "changed"  # frozen


def test_at_rebuilds_each_version():
    state = three_versions()
    assert dict(state.at(0)) == {"a": 1, "b": "x"}
    assert dict(state.at(1)) == {"a": 2, "b": "x"}
    assert dict(state.at(2)) == {"a": 2, "b": "y", "c": [1, 2]}
    assert dict(state.at(3)) == state.as_dict() == {"a": 3, "b": "y", "c": [3]}


def test_snapshot_is_read_only_and_survives_later_commits():
    state = three_versions()
    snap = state.at(1)
    assert isinstance(snap, StateSnapshot) and isinstance(snap, Mapping)
    assert snap.version == 1
    commit(state, "later", a=100, z=1)
    assert dict(snap) == {"a": 2, "b": "x"}
    assert snap.get("c", "absent") == "absent" and "c" not in snap
    with pytest.raises(DanaRuntimeError, match="state has no key `c`"):
        snap["c"]
    with pytest.raises(TypeError):
        snap["a"] = 5  # type: ignore[index]


def test_at_unknown_version_is_a_state_error():
    state = three_versions()
    for bad in (-1, 4, True, "1"):
        with pytest.raises(DanaRuntimeError, match="state has no version") as info:
            state.at(bad)
        assert info.value.dana_type == "StateError"


def test_diff_between_versions():
    state = three_versions()
    assert state.diff(0, 3) == {"a": (1, 3), "b": ("x", "y"), "c": (MISSING, [3])}
    assert state.diff(3, 0) == {"a": (3, 1), "b": ("y", "x"), "c": ([3], MISSING)}
    assert state.diff(1, 2) == {"b": ("x", "y"), "c": (MISSING, [1, 2])}
    assert state.diff(2, 2) == {}
    assert list(state.diff(0, 3)) == ["a", "b", "c"]


def test_diff_omits_keys_written_back_to_their_old_value():
    state = make_state({"a": 1, "f": 1})
    commit(state, "up", a=2)
    commit(state, "down", a=1)
    commit(state, "same", f=1)
    assert state.version == 3
    assert state.diff(0, 3) == {}
    assert state.diff(1, 2) == {"a": (2, 1)}


def test_diff_treats_different_types_as_changed():
    state = make_state({"n": 1})
    commit(state, "s", n=1.0)
    assert state.diff(0, 1) == {"n": (1, 1.0)}


def test_missing_sentinel_survives_copy_and_pickle():
    assert repr(MISSING) == "MISSING"
    assert copy.deepcopy(MISSING) is MISSING
    assert pickle.loads(pickle.dumps(MISSING)) is MISSING


# -- parallel branches ----------------------------------------------------------------------

def test_commit_many_merges_branches_into_one_version():
    state = make_state({"x": 1})
    left, right = state.begin("left"), state.begin("right")
    left["l"] = left["x"] + 1
    right["r"] = right["x"] + 2
    assert state.commit_many([left, right], "parallel") == 1
    assert state.as_dict() == {"x": 1, "l": 2, "r": 3}
    assert state.history()[-1].step == "parallel"
    assert state.history()[-1].keys_changed == ("l", "r")
    assert left.status == right.status == "committed"


def test_commit_many_conflict_names_both_steps_and_the_key():
    state = make_state({"x": 1})
    a, b, c = state.begin("fetch_a"), state.begin("fetch_b"), state.begin("fetch_c")
    a["result"] = 1
    b["other"] = 2
    c["result"] = 3
    with pytest.raises(DanaRuntimeError) as info:
        state.commit_many([a, b, c], "parallel")
    assert info.value.dana_type == "StateError"
    assert info.value.message == (
        "parallel branches `fetch_a` and `fetch_c` both write state key `result`")
    assert state.version == 0 and state.as_dict() == {"x": 1}
    assert {a.status, b.status, c.status} == {"discarded"}


def test_commit_many_with_no_writes_is_one_version():
    state = make_state({"x": 1})
    assert state.commit_many([state.begin("a"), state.begin("b")], "parallel") == 1
    assert state.commit_many([], "parallel") == 2
    assert [h.keys_changed for h in state.history()[1:]] == [(), ()]
    assert state.as_dict() == {"x": 1}


def test_delete_removes_a_key_as_one_version_and_at_restores_it():
    state = make_state({"x": 1, "y": 2})
    tx = state.begin("drop")
    tx.delete("x")
    assert "x" not in tx and tx.get("x", "gone") == "gone" and sorted(tx.keys()) == ["y"]
    assert state.commit(tx) == 1
    assert state.as_dict() == {"y": 2} and state.history()[-1].keys_changed == ("x",)
    assert dict(state.at(0)) == {"x": 1, "y": 2}
    assert state.diff(0, 1) == {"x": (1, MISSING)}


def test_deleting_an_absent_key_changes_no_key():
    state = make_state({"y": 2})
    tx = state.begin("drop")
    tx.delete("x")
    assert state.commit(tx) == 1
    assert state.history()[-1].keys_changed == () and state.as_dict() == {"y": 2}


def test_branch_sees_its_own_commits_but_adds_no_versions():
    state = make_state({"x": 1})
    branch = BranchState(state, "left")
    commit(branch, "a", y=2)
    commit(branch, "b", z=branch["y"] + 1)
    assert branch.version == 0 and state.version == 0 and "y" not in state
    assert branch.as_dict() == {"x": 1, "y": 2, "z": 3}
    assert branch.transaction().writes == {"y": 2, "z": 3}


def test_branches_begun_on_one_version_merge_into_one():
    state = make_state({"x": 1})
    left, right = BranchState(state, "left"), BranchState(state, "right")
    commit(left, "a", l=1)
    commit(right, "b", r=2)
    assert "l" not in right
    assert state.commit_many([left.transaction(), right.transaction()], "parallel") == 1
    assert state.as_dict() == {"x": 1, "l": 1, "r": 2}


def test_branch_net_writes_leave_out_keys_restored_to_their_base_value():
    state = make_state({"x": 1})
    branch = BranchState(state, "loop")
    commit(branch, "for i", i=0)
    tx = branch.begin("end for i")
    tx.delete("i")
    branch.commit(tx)
    commit(branch, "set x", x=5)
    commit(branch, "reset x", x=1)
    assert branch.transaction().writes == {}


def test_branch_conflict_names_both_branches():
    state = make_state()
    left, right = BranchState(state, "parallel[0]/a"), BranchState(state, "parallel[1]/b")
    commit(left, "a", k=1)
    commit(right, "b", k=2)
    with state_error(r"parallel branches `parallel\[0\]/a` and `parallel\[1\]/b` both "
                     r"write state key `k`"):
        state.commit_many([left.transaction(), right.transaction()], "parallel")
    assert state.version == 0


def test_branch_checks_the_parents_declared_types():
    state = make_state({"n": 1})
    state.declare("n", is_int, "int")
    with state_error(r"state key `n` expects int, got str"):
        commit(BranchState(state, "b"), "bad", n="one")


# -- typed keys -----------------------------------------------------------------------------

def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def test_declared_key_rejects_wrong_type_and_keeps_state():
    state = make_state({"count": 0})
    state.declare("count", is_int, "int")
    tx = state.begin("bump")
    tx["count"] = "three"
    tx["other"] = 1
    with pytest.raises(DanaRuntimeError) as info:
        state.commit(tx)
    assert info.value.dana_type == "StateError"
    assert info.value.message == "state key `count` expects int, got str"
    assert state.version == 0 and state.as_dict() == {"count": 0}
    assert tx.status == "discarded"
    assert commit(state, "bump", count=3) == 1


def test_declare_checks_the_current_value():
    state = make_state({"count": "zero"})
    with state_error("state key `count` expects int, got str"):
        state.declare("count", is_int, "int")


def test_declared_type_applies_to_parallel_merge():
    state = make_state()
    state.declare("n", is_int, "int")
    a, b = state.begin("a"), state.begin("b")
    a["ok"] = 1
    b["n"] = None
    with state_error("state key `n` expects int, got None"):
        state.commit_many([a, b], "parallel")
    assert state.version == 0 and "ok" not in state


def test_type_name_of_names_values_in_messages():
    state = WorkflowState(type_name_of=lambda v: "dana_" + type(v).__name__)
    state.declare("n", is_int, "int")
    tx = state.begin("s")
    tx["n"] = 1.5
    with state_error("state key `n` expects int, got dana_float"):
        state.commit(tx)


# -- structural sharing ---------------------------------------------------------------------

def test_memory_grows_with_changes_not_versions_times_size():
    size, commits = 10_000, 1_000
    state = make_state({f"k{i}": i for i in range(size)})
    assert state.change_count() == 0
    for n in range(commits):
        commit(state, f"step{n}", **{f"k{n % 10}": -n})
    assert state.version == commits
    assert state.change_count() == commits  # one undo entry per change, no copies
    assert len(state.history()) == commits + 1
    # old versions are still exact
    assert state.at(0) == {f"k{i}": i for i in range(size)}
    at_500 = state.at(500)  # after commits n = 0..499
    assert at_500["k0"] == -490 and at_500["k9"] == -499 and at_500["k10"] == 10
    assert state.diff(999, 1000) == {"k9": (-989, -999)}


def test_change_count_counts_keys_written_per_commit():
    state = make_state()
    commit(state, "a", x=1, y=2, z=3)
    commit(state, "b", x=4)
    state.begin("nothing")  # never committed
    assert state.change_count() == 4


# -- errors ---------------------------------------------------------------------------------

def test_record_error_is_its_own_version():
    state = make_state({"a": 1})
    commit(state, "load", a=2)
    version = state.record_error("StepError", "equipment not ready", "check", 1234.5)
    assert version == 2 == state.version
    assert state["error"] == {"type": "StepError", "message": "equipment not ready",
                              "step": "check", "time": 1234.5}
    assert state.history()[-1].step == "<error>"
    assert state.history()[-1].keys_changed == ("error",)
    assert "error" not in state.at(1)


def test_record_error_defaults_time_to_the_clock_and_ignores_declared_types():
    state = make_state()
    state.declare("error", lambda v: False, "ErrorRecord")
    state.record_error("ValueError", "bad", "parse")
    assert state["error"]["time"] == 1001.0
    assert state.version == 1


def test_a_replica_has_the_values_version_and_history_of_its_original():
    """A worker's copy of a state (docs/distributed.md): same values, version and history;
    earlier versions stay with the original; a branch over it works as over the original."""
    original = make_state({"a": 1})
    commit(original, "s1", b=2)
    commit(original, "s2", a=3)
    replica = ReplicaState(original.as_dict(), original.history())
    assert dict(replica) == {"a": 3, "b": 2}
    assert replica.version == 2 and replica.history() == original.history()
    assert replica.created_at == original.created_at
    assert replica.at(2)["a"] == 3
    with pytest.raises(DanaRuntimeError, match="not available in a parallel branch"):
        replica.at(1)
    with pytest.raises(DanaRuntimeError):
        replica.diff(1, 2)
    branch = BranchState(replica, "p[0]", {"item": 5})
    assert branch.version == 2 and branch["item"] == 5
    tx = branch.begin("step")
    tx["c"] = branch["item"] * 2
    branch.commit(tx)
    assert branch.transaction().writes == {"c": 10}  # the item itself is never a write
