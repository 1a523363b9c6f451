"""Flow-sensitive narrowing: what a condition, an assignment or an early exit proves about
a variable's type for the code it guards (docs/workflows.md "What the type checker proves").

Consumes: conditions (`x is None`, `x is not None`, `x`, `not x`, `isinstance(x, T)`,
`and`/`or` of those) over names and attribute paths (`rep.longest`), assignments, and the
shape of blocks (which ones fall through). Produces: `Narrowing`, the stack of fact sets
the `Checker` keeps for each body and consults when it types a name or attribute: the
first fact set (innermost) that holds a reference's key gives its type. Blocks push a fact
set; at the end of an `if`, the fact sets of the branches that fall through are joined into
the enclosing fact set; loops are re-checked until the types carried around them stop
widening (at most `MAX_PASSES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dana.syntax import ast as A
from dana.types.scope import PARAM, VAR, SymbolTable, Symbol
from dana.types.types import (ANY, BOOL, FLOAT, INT, NEVER, NONE, STR, AnyT, ClassT, DictT,
                              FunctionT, ListT, SetT, TupleT, Type, UnionT, join_all, union)
from dana.types.walk import assigned_names, walk

MAX_PASSES = 3
Key = tuple  # (id(symbol),) for a name, (id(symbol), "attr", ...) for an attribute path
CLASS_NAMES: dict[str, Type] = {
    "int": INT, "float": FLOAT, "str": STR, "bool": BOOL, "list": ListT(ANY),
    "dict": DictT(ANY, ANY), "set": SetT(ANY), "tuple": TupleT((ANY,), True),
}


@dataclass
class Entry:
    """What a fact set knows of one reference: its root symbol, its narrowed type, and (for
    an attribute path) the type it has without narrowing."""

    sym: Symbol
    type: Type
    base: Type | None = None


Facts = dict  # Key -> Entry


@dataclass
class LoopRecord:
    """The references a loop body reassigns, and their types at each `break`/`continue`."""

    carried: dict[Key, Entry]
    breaks: list[Facts] = field(default_factory=list)
    continues: list[Facts] = field(default_factory=list)


# ------------------------------------------------------------------ type operations
def options(t: Type) -> tuple[Type, ...]:
    return t.options if isinstance(t, UnionT) else (t,)


def is_optional(t: Type) -> bool:
    """`T | None` with some `T`: a value that may be None but need not be."""
    return isinstance(t, UnionT) and NONE in t.options


def not_none(t: Type) -> Type:
    """`t` where the value is known not to be None (`never` when nothing else is left)."""
    rest = [o for o in options(t) if o != NONE]
    return union(*rest) if rest else NEVER


def only_none(t: Type) -> Type:
    """`t` where the value is known to be None."""
    return NONE if is_optional(t) else t


def instance_of(t: Type, target: Type) -> Type:
    """`t` where `isinstance(value, target)` holds."""
    if isinstance(t, AnyT):
        return target
    kept = [o for o in options(t) if _matches(o, target)]
    return union(*kept) if kept else target


def not_instance_of(t: Type, target: Type) -> Type:
    """`t` where `isinstance(value, target)` is false."""
    kept = [o for o in options(t) if not _matches(o, target)]
    return union(*kept) if kept and len(kept) < len(options(t)) else t


def _matches(o: Type, target: Type) -> bool:
    if isinstance(o, AnyT):
        return False
    if type(o) is type(target) and isinstance(o, (ListT, SetT, DictT, TupleT)):
        return True
    return o == target


# ------------------------------------------------------------------ blocks
def falls_through(stmts: tuple) -> bool:
    """False when every path through `stmts` leaves by `return`, `raise`, `break` or
    `continue` (the code after them is not reached from here). True when unsure."""
    return all(_falls(s) for s in stmts)


def _falls(s: Any) -> bool:
    if isinstance(s, (A.ReturnStmt, A.RaiseStmt, A.BreakStmt, A.ContinueStmt)):
        return False
    if isinstance(s, A.IfStmt):
        return falls_through(s.body) or falls_through(s.orelse)
    if isinstance(s, A.WhileStmt):
        infinite = isinstance(s.cond, A.LiteralExpr) and s.cond.value is True
        return not infinite or _breaks(s.body)
    if isinstance(s, A.TryStmt):
        if s.finalbody and not falls_through(s.finalbody):
            return False
        return falls_through(s.body + s.orelse) or any(falls_through(h.body)
                                                        for h in s.handlers)
    if isinstance(s, A.AssertStmt) and isinstance(s.cond, A.LiteralExpr) and s.cond.value is False:
        return False
    return True


def _breaks(stmts: tuple) -> bool:
    """Whether a `break` in `stmts` leaves the loop they are the body of."""
    for s in stmts:
        if isinstance(s, A.BreakStmt):
            return True
        if isinstance(s, A.IfStmt) and (_breaks(s.body) or _breaks(s.orelse)):
            return True
        if isinstance(s, A.TryStmt) and (_breaks(s.body) or _breaks(s.orelse) or _breaks(
                s.finalbody) or any(_breaks(h.body) for h in s.handlers)):
            return True
    return False


def attribute_targets(stmts: tuple) -> set[tuple[str, ...]]:
    """Attribute paths assigned in `stmts` (`a.b.c = v` gives ("a", "b", "c"))."""
    out: set[tuple[str, ...]] = set()
    for stmt in stmts:
        for node in walk(stmt):
            targets: tuple = ()
            if isinstance(node, A.AssignStmt):
                targets = node.targets
            elif isinstance(node, (A.AugAssignStmt, A.AnnAssignStmt)):
                targets = (node.target,)
            for t in targets:
                path = _path_names(t)
                if path is not None and len(path) > 1:
                    out.add(path)
    return out


def _path_names(node: Any) -> tuple[str, ...] | None:
    if isinstance(node, A.NameExpr) and node.scope in (None, "local"):
        return (node.name,)
    if isinstance(node, A.AttributeExpr):
        inner = _path_names(node.obj)
        return inner + (node.name,) if inner is not None else None
    return None


class Narrowing:
    """The narrowing facts of one body being checked (a module's top level, a function,
    a workflow): a stack of fact sets (`stack`, innermost last) and the loops being
    checked (`loops`). Reads the checker's side table of expression types (`types`) and
    records in `bases` the unnarrowed type of each attribute path it has seen."""

    def __init__(self, types: dict[int, Type], bases: dict[Key, Type]) -> None:
        self.types = types
        self.bases = bases
        self.stack: list[Facts] = [{}]
        self.loops: list[LoopRecord] = []

    # -------------------------------------------------------------- lookups
    def ref_key(self, node: Any, scope: SymbolTable) -> tuple[Key, Symbol] | None:
        """The key of a narrowable reference: a plain variable or an attribute path."""
        if isinstance(node, A.NameExpr):
            if node.scope not in (None, "local"):
                return None
            sym = scope.lookup(node.name)
            if sym is None or sym.info is not None or sym.kind not in (VAR, PARAM):
                return None
            return (id(sym),), sym
        if isinstance(node, A.AttributeExpr):
            inner = self.ref_key(node.obj, scope)
            if inner is not None:
                return inner[0] + (node.name,), inner[1]
        return None

    def lookup_key(self, key: Key) -> Entry | None:
        for level in reversed(self.stack):
            entry = level.get(key)
            if entry is not None:
                return entry
        return None

    def current_type(self, sym: Symbol) -> Type:
        """A variable's type here: narrowed by the innermost fact set that knows it."""
        entry = self.lookup_key((id(sym),))
        return entry.type if entry is not None else sym.type

    def narrowed(self, node: Any, scope: SymbolTable, t: Type) -> Type:
        """The type of attribute `node` (of type `t` unnarrowed) at this point."""
        ref = self.ref_key(node, scope)
        if ref is None:
            return t
        entry = self.lookup_key(ref[0])
        return entry.type if entry is not None else t

    def _type_of_key(self, key: Key, fallback: Entry) -> Type:
        entry = self.lookup_key(key)
        if entry is not None:
            return entry.type
        if len(key) == 1:
            return fallback.sym.type
        return fallback.base if fallback.base is not None else ANY

    # -------------------------------------------------------------- fact sets
    def push(self, facts: Facts | None = None) -> None:
        self.stack.append(dict(facts or {}))

    def pop(self) -> Facts:
        return self.stack.pop()

    def add(self, facts: Facts) -> None:
        """`facts` hold from here on in the current fact set."""
        self.stack[-1].update(facts)

    def merge(self, ends: list[Facts | None]) -> None:
        """Join the end fact sets of alternative branches (None: does not fall through)
        into the current fact set."""
        live = [e for e in ends if e is not None]
        if live:
            self.stack[-1].update(self.alternatives(live))

    def alternatives(self, alts: list[Facts]) -> Facts:
        """What holds when one of `alts` holds: per key, the join of its types."""
        out: Facts = {}
        for alt in alts:
            for key, entry in alt.items():
                if key in out:
                    continue
                types = [a[key].type if key in a else self._type_of_key(key, entry)
                         for a in alts]
                out[key] = Entry(entry.sym, join_all(types), entry.base)
        return out

    # -------------------------------------------------------------- assignments
    def assigned(self, sym: Symbol, t: Type) -> None:
        """Variable `sym` was assigned a value of type `t` here."""
        declared = sym.declared
        if declared is None:
            narrowed = t
        elif isinstance(declared, AnyT) or not is_optional(declared):
            narrowed = declared
        elif isinstance(t, AnyT):
            narrowed = ANY  # not known statically: checked at run time, like any `any`
        elif t == NONE:
            narrowed = NONE
        elif NONE in options(t):
            narrowed = declared
        else:
            narrowed = not_none(declared)
        self.forget_paths((id(sym),))
        self.stack[-1][(id(sym),)] = Entry(sym, narrowed)

    def assigned_path(self, node: A.AttributeExpr, scope: SymbolTable, field: Type,
                      t: Type) -> None:
        """Attribute path `node` (a field of type `field`) was assigned a `t`."""
        ref = self.ref_key(node, scope)
        if ref is None:
            return
        key, sym = ref
        self.forget_paths(key)
        if is_optional(field) and t != NONE and NONE not in options(t) \
                and not isinstance(t, AnyT):
            self.stack[-1][key] = Entry(sym, not_none(field), field)
        else:
            self.stack[-1][key] = Entry(sym, field, field)

    def forget_paths(self, prefix: Key, strict: bool = True) -> None:
        """Undo narrowings of attribute paths under `prefix` (an assignment changed them)."""
        for level in list(self.stack):
            for key, entry in list(level.items()):
                if len(key) > len(prefix) and key[:len(prefix)] == prefix \
                        and entry.base is not None:
                    self.stack[-1][key] = Entry(entry.sym, entry.base, entry.base)
                elif not strict and key == prefix and entry.base is not None:
                    self.stack[-1][key] = Entry(entry.sym, entry.base, entry.base)

    # -------------------------------------------------------------- conditions
    def condition_facts(self, cond: Any, scope: SymbolTable) -> tuple[Facts, Facts]:
        """(what holds when `cond` is true, what holds when it is false)."""
        if isinstance(cond, A.UnaryOpExpr) and cond.op == "not":
            pos, neg = self.condition_facts(cond.operand, scope)
            return neg, pos
        if isinstance(cond, A.BoolOpExpr):
            return self._boolop_facts(cond, scope)
        if isinstance(cond, A.CompareExpr) and len(cond.ops) == 1:
            return self._compare_facts(cond, scope)
        if isinstance(cond, A.CallExpr) and isinstance(cond.func, A.NameExpr) \
                and cond.func.name == "isinstance" and len(cond.args) == 2:
            return self._isinstance_facts(cond, scope)
        ref = self._fact_ref(cond, scope)
        if ref is None:
            return {}, {}
        key, sym, t, base = ref
        return {key: Entry(sym, not_none(t) if NONE in options(t) else t, base)}, {}

    def _fact_ref(self, node: Any, scope: SymbolTable) -> tuple | None:
        ref = self.ref_key(node, scope)
        if ref is None:
            return None
        key, sym = ref
        entry = self.lookup_key(key)
        t = entry.type if entry is not None else self.types.get(id(node), ANY)
        if len(key) == 1:
            return key, sym, t, None
        return key, sym, t, self.bases.get(key, t)

    def _compare_facts(self, cond: A.CompareExpr, scope: SymbolTable) -> tuple[Facts, Facts]:
        op, left, right = cond.ops[0], cond.left, cond.comparators[0]
        if op not in ("is", "is not", "==", "!="):
            return {}, {}
        subject = left if _is_none(right) else right if _is_none(left) else None
        ref = self._fact_ref(subject, scope) if subject is not None else None
        if ref is None:
            return {}, {}
        key, sym, t, base = ref
        when_none = {key: Entry(sym, only_none(t), base)}
        when_not = {key: Entry(sym, not_none(t), base)}
        return (when_none, when_not) if op in ("is", "==") else (when_not, when_none)

    def _isinstance_facts(self, cond: A.CallExpr, scope: SymbolTable) -> tuple[Facts, Facts]:
        subject, kinds = cond.args[0].value, cond.args[1].value
        ref = self._fact_ref(subject, scope)
        target = self._class_types(kinds)
        if ref is None or target is None or cond.args[0].name or cond.args[1].name:
            return {}, {}
        key, sym, t, base = ref
        return ({key: Entry(sym, instance_of(t, target), base)},
                {key: Entry(sym, not_instance_of(t, target), base)})

    def _class_types(self, node: Any) -> Type | None:
        """The type an `isinstance` class argument names (a tuple: their union)."""
        if isinstance(node, A.TupleExpr):
            parts = [self._class_types(i) for i in node.items]
            return None if any(p is None for p in parts) else union(*parts)
        t = self.types.get(id(node))
        if isinstance(t, ClassT):
            return t.of
        if isinstance(t, FunctionT) and isinstance(node, A.NameExpr) and t.name in CLASS_NAMES \
                and t.name == node.name:
            return CLASS_NAMES[t.name]
        return None

    def _boolop_facts(self, cond: A.BoolOpExpr, scope: SymbolTable) -> tuple[Facts, Facts]:
        """`a and b`: true when both are; false when `a` is, or `a` is true and `b` false
        (`or` is the mirror image)."""
        conj = cond.op == "and"
        sure: Facts = {}
        alts: list[Facts] = []
        self.push()
        try:
            for value in cond.values:
                pos, neg = self.condition_facts(value, scope)
                both, other = (pos, neg) if conj else (neg, pos)
                alts.append({**sure, **other})
                sure.update(both)
                self.stack[-1].update(both)
        finally:
            self.pop()
        either = self.alternatives(alts)
        return (sure, either) if conj else (either, sure)

    # -------------------------------------------------------------- loops
    def loop_carried(self, body: tuple, scope: SymbolTable,
                     targets: tuple = ()) -> dict[Key, Entry]:
        """The references a loop reassigns, with their types on entry."""
        carried: dict[Key, Entry] = {}
        for name in sorted(assigned_names(body) | set(targets)):
            sym = scope.lookup_local(name)
            if sym is not None and sym.kind in (VAR, PARAM) and sym.info is None:
                carried[(id(sym),)] = Entry(sym, self.current_type(sym))
        return carried

    def forget_assigned_paths(self, body: tuple, scope: SymbolTable,
                              carried: dict[Key, Entry]) -> None:
        """Undo narrowings of attribute paths a loop or `try` body may reassign."""
        for key in carried:
            self.forget_paths(key)
        for path in attribute_targets(body):
            sym = scope.lookup(path[0])
            if sym is not None:
                self.forget_paths((id(sym),) + path[1:], strict=False)

    def snapshot(self) -> Facts | None:
        """The carried references of the innermost loop, as they are here."""
        if not self.loops:
            return None
        record = self.loops[-1]
        return {k: Entry(e.sym, self._type_of_key(k, e), e.base)
                for k, e in record.carried.items()}


def _is_none(node: Any) -> bool:
    return isinstance(node, A.LiteralExpr) and node.value is None


def head_changed(old: dict[Key, Entry], new: dict[Key, Entry]) -> bool:
    return any(new[k].type != old[k].type for k in old)


__all__ = ["Narrowing", "Entry", "LoopRecord", "falls_through", "is_optional",
           "not_none", "options", "MAX_PASSES", "head_changed"]
