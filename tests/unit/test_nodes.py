"""AST node classes (dana/syntax/nodes.py) behave as `dataclass(frozen=True, slots=True,
eq=False)` classes would, which the checker, runtime, formatter and code hashes rely on."""

import copy
import dataclasses
import pickle

import pytest

from dana.syntax import ast as A
from dana.syntax.nodes import node


@node
class Pair:
    """Two fields, one with a default."""
    left: int
    right: str = "r"


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class DataPair:
    left: int
    right: str = "r"


def test_a_node_class_looks_like_the_frozen_slotted_dataclass() -> None:
    mine, theirs = Pair(1), DataPair(1)
    assert repr(mine) == repr(theirs).replace("DataPair", "Pair")
    assert [(f.name, f.type, f.default) for f in dataclasses.fields(mine)] == \
        [(f.name, f.type, f.default) for f in dataclasses.fields(theirs)]
    assert Pair.__match_args__ == DataPair.__match_args__ == ("left", "right")
    assert Pair.__slots__ == ("left", "right") and not hasattr(mine, "__dict__")
    assert dataclasses.is_dataclass(mine) and Pair.__doc__ == "Two fields, one with a default."
    assert Pair(1, right="x").right == "x" and Pair(left=2).left == 2
    with pytest.raises(TypeError):
        Pair()


def test_nodes_are_frozen_and_compared_by_identity() -> None:
    mine = Pair(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mine.left = 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        del mine.left
    assert mine != Pair(1) and mine == mine and hash(mine) == object.__hash__(mine)
    assert len({mine, Pair(1)}) == 2


def test_replace_copy_and_pickle_keep_the_fields() -> None:
    name = A.NameExpr(None, "x", "private")
    changed = dataclasses.replace(name, name="y")
    assert (changed.name, changed.scope, type(changed)) == ("y", "private", A.NameExpr)
    for clone in (copy.copy(name), copy.deepcopy(name), pickle.loads(pickle.dumps(name))):
        assert (type(clone), clone.span, clone.name, clone.scope) == \
            (A.NameExpr, None, "x", "private")


def test_a_field_without_a_default_after_one_with_a_default_is_refused() -> None:
    with pytest.raises(TypeError):
        @node
        class Bad:
            a: int = 1
            b: int
