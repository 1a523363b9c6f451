"""Which state keys code can reach (dana.types.state_keys), and so which keys travel to a
worker with a parallel branch (docs/distributed.md "What travels")."""

from __future__ import annotations

import pytest

import dana
from dana.distributed.wire import branch_keys
from dana.source import SourceFile
from dana.syntax.builder import parse
from dana.types.state_keys import literal_keys


def keys_of(body: str):
    func = parse(SourceFile("t.dana", "def f(state: WorkflowState):\n" + "".join(
        f"    {line}\n" for line in body.splitlines()))).body[0]
    return literal_keys(func.body, {"state"})


@pytest.mark.parametrize("body, expected", [
    ('x = state.a + state["b"] + state.get("c", 0)\nstate.e = "d" in state', {"a", "b", "c", "d", "e"}),
    ("v = state.version\nw = state.config.limit", {"config"}),
    ("g = lambda :: state.z\nreturn g()", {"z"}),
    ("return 1", set()),
])
def test_literal_accesses_name_their_keys(body, expected):
    assert keys_of(body) == expected


@pytest.mark.parametrize("body", [
    "helper(state)", "k = 'a'\nx = state[k]", "x = state.keys()", "x = state.history()",
    "s = state", "x = state.get(name)", "x = state.at(1)",
])
def test_any_other_use_of_the_state_reaches_every_key(body):
    assert keys_of(body) is None


PROGRAM = """
def load(state: WorkflowState):
    state.shards = [1, 2]

def square(state: WorkflowState) -> int:
    if state.get("bias", 0) > 0:
        return state.shard * state.shard + state.bias
    return state.shard * state.shard

def describe(state: WorkflowState) -> str:
    return str(state)

workflow narrow() -> list[int]:
    steps:
        load
        parallel for shard in state.shards:
            if state.mode == "fast":
                square
            else:
                square

workflow wide() -> list[str]:
    steps:
        load
        parallel for shard in state.shards:
            describe
"""


def test_a_branch_ships_only_the_keys_its_steps_and_conditions_name():
    interp = dana.Interpreter(check=False)
    interp.exec(PROGRAM)
    narrow = interp.globals["narrow"].plan[1]
    assert branch_keys(narrow.body) == {"config", "shard", "bias", "mode"}
    assert branch_keys(interp.globals["wide"].plan[1].body) is None
