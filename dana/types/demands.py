"""What code asks of a state key it reads, for checking reads against the key's type.

Inside a step, `state.k` has type `any`: one function may serve workflows that give `k`
different types. So while checking a function, the checker records what each use of a
state read needs — a type (an argument, an annotated assignment, a return), an operand of
an operator, an attribute, iteration — and the workflow analysis later checks those needs
against the type the key holds where the step runs (E0403).

Consumes: expression nodes and the types the checker gave them. Produces: `Demand`s in a
side table keyed by the read node's identity (`Demands`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from dana.syntax import ast as A
from dana.types.signatures import STATE_MEMBERS
from dana.types.types import (ANY, BOOL, FLOAT, INT, STR, AnyT, ListT, StateT, TupleT, Type,
                              UnionT, element_type, overlaps, union)

OPERANDS = (INT, FLOAT, BOOL, STR, ListT(ANY), TupleT((ANY,), True))


@dataclass(frozen=True)
class Demand:
    """One need of a state read: `kind` is "type" (fit `type`), "attribute" (have member
    `name`) or "iterable"; `text` says it in a message ("`int`", "an operand of `+`")."""

    kind: str
    text: str
    type: Type = ANY
    name: str = ""

    def accepts(self, t: Type, member: Any) -> bool:
        """Whether a value of type `t` meets this need (`member(t, name)` finds members)."""
        if isinstance(t, AnyT):
            return True
        if self.kind == "type":
            return overlaps(t, self.type)
        if self.kind == "iterable":
            return element_type(t) is not None
        options = t.options if isinstance(t, UnionT) else (t,)
        return any(member(o, self.name) is not None for o in options)


def operand_demand(op: str, other: Type, works: Any) -> Demand | None:
    """The need on one operand of `op` whose other operand has type `other`: the operand
    types for which `works(op, candidate)` holds. None when nothing can be said."""
    if isinstance(other, (AnyT, UnionT)):
        return None
    fits = [c for c in OPERANDS if works(op, c)]
    if not fits:
        return None
    return Demand("type", f"an operand of `{op}` with `{other}`", union(*fits))


ITERABLE = Demand("iterable", "an iterable")


class Demands:
    """The demands on state reads found so far: `table` maps a read node's identity to
    its `Demand`s (an output of checking, read by the workflow analysis). `log` lists the
    reads in the order their demands were noted, so a loop body checked again can take
    back what its previous pass noted (`mark`, `forget`)."""

    def __init__(self, types: dict[int, Type]) -> None:
        self.types = types
        self.table: dict[int, list[Demand]] = {}
        self.log: list[int] = []

    def of(self, node: Any) -> list[Demand]:
        """The demands noted on read `node`."""
        return self.table.get(id(node), [])

    def is_state_read(self, node: Any) -> bool:
        """`state.k` or `state["k"]` for a WorkflowState `state` (not a state member)."""
        if isinstance(node, A.AttributeExpr):
            return isinstance(self.types.get(id(node.obj)), StateT) \
                and node.name not in STATE_MEMBERS and node.name != "config"
        if isinstance(node, A.IndexExpr):
            return isinstance(self.types.get(id(node.obj)), StateT) \
                and isinstance(node.index, A.LiteralExpr) and isinstance(node.index.value, str)
        return False

    def note(self, node: Any, need: Demand | None) -> None:
        """Note that `node`'s value must meet `need`, if `node` is a state read."""
        if need is not None and node is not None and self.is_state_read(node):
            self.table.setdefault(id(node), []).append(need)
            self.log.append(id(node))

    def note_type(self, node: Any, t: Type) -> None:
        """Note that `node`'s value must fit type `t` (if it is a state read)."""
        if not isinstance(t, AnyT):
            self.note(node, Demand("type", f"`{t}`", t))

    def mark(self) -> int:
        return len(self.log)

    def forget(self, mark: int) -> None:
        """Drop the demands noted since `mark()` returned `mark` (a loop body is being
        checked again, with wider types)."""
        for key in reversed(self.log[mark:]):
            self.table[key].pop()
        del self.log[mark:]

    @contextmanager
    def isolated(self) -> Iterator[None]:
        """Note the demands of another body (a function checked on demand) apart, so a
        loop around the point that asked for it never takes them back."""
        saved, self.log = self.log, []
        try:
            yield
        finally:
            self.log = saved
