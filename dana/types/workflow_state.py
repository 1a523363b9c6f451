"""Required state through a `steps:` block: which keys hold what, and who provides them.

Consumes: each step's state signature (`state_analysis.Effects`) and the demands its
reads make (`demands`), in the order the steps run. Produces: diagnostics E0401-E0403 and
E0408 — a read no earlier step provides on every path, a write whose type disagrees with
`requires:` or an earlier write, a read used as a type the key does not hold here, a write
to a read-only key — each with a note saying where the key's type or provider comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from dana.syntax import ast as A
from dana.messages import checks as M
from dana.types.demands import Demands
from dana.types.scope import SymbolTable
from dana.types.state_analysis import Effects, Read, collect_effects
from dana.types.types import ANY, AnyT, FunctionT, StateT, Type, WorkflowT, join, overlaps
from dana.types.walk import walk

ALWAYS_KEYS = frozenset({"error", "config"})


@dataclass(frozen=True)
class KeyType:
    """The type a state key holds at one point of a `steps:` block, and its origin:
    `how` is "required", "written by step `x`", "the loop variable", ...; `line` is where
    (the `requires:` entry, the write)."""

    type: Type
    how: str
    line: int | None = None

    def note(self, key: str) -> tuple[str, ...]:
        if self.line is None:
            return ()
        if self.how == "required":
            return (M.NOTE_KEY_DECLARED.format(key=key, type=self.type, line=self.line),)
        return (M.NOTE_KEY_SOURCE.format(key=key, how=self.how, type=self.type,
                                         line=self.line),)


@dataclass
class Flow:
    """What the state holds at one point of a `steps:` block: keys written on every path
    (with their provider), keys written on some path, and the type each key holds."""

    definite: dict[str, tuple[str, int]] = field(default_factory=dict)
    possible: dict[str, tuple[str, int]] = field(default_factory=dict)
    types: dict[str, KeyType] = field(default_factory=dict)
    first: bool = True
    assumed: set[str] = field(default_factory=set)

    def copy(self) -> "Flow":
        return Flow(dict(self.definite), dict(self.possible), dict(self.types), self.first,
                    set(self.assumed))

    def merge(self, others: list["Flow"]) -> None:
        """Become the point where the paths `others` meet: keys every one of them wrote
        are definite, a key's type is the join of what each path left in it."""
        self.definite = {k: v for k, v in others[0].definite.items()
                         if all(k in o.definite for o in others[1:])}
        for o in others:
            for k, v in o.possible.items():
                self.possible.setdefault(k, v)
            self.first = self.first and o.first
            self.assumed |= o.assumed
        self.types = merge_types(others)


def merge_types(flows: list[Flow]) -> dict[str, KeyType]:
    out: dict[str, KeyType] = {}
    for flow in flows:
        for key, kt in flow.types.items():
            have = out.get(key)
            if have is None:
                out[key] = kt
            elif have.type != kt.type:
                out[key] = KeyType(join(have.type, kt.type), have.how, have.line)
    return out


@dataclass
class WorkflowCtx:
    """One workflow being analysed; `collect` gathers missing keys instead of reporting
    them (a composed workflow's requirements)."""

    wf: WorkflowT
    scope: SymbolTable
    writers: dict[str, tuple[str, int]]
    collect: dict[str, Type] | None = None


class StateChecks:
    """The checks of state reads and writes in `steps:`: reports through `report`, the
    demands the typer noted on state reads (`demands`), `member(t, name)` for attribute
    demands, and the module's functions (`functions`, for the note on a function that
    writes `state.k` without a WorkflowState annotation)."""

    def __init__(self, report: Callable[..., None], demands: Demands,
                 member: Callable[[Type, str], Type | None], functions: list) -> None:
        self.report = report
        self.demands = demands
        self.member = member
        self.functions = functions

    # -------------------------------------------------------------- reads
    def check_read(self, label: str, key: str, read: Read | None, span: Any, flow: Flow,
                   ctx: WorkflowCtx, want: Type | None = None) -> None:
        """A step (or condition, or sub-workflow) `label` reads `key` here: it must be
        provided on every path before, and hold a type the reader can use."""
        self.check_present(label, key, read, span, flow, ctx, want)
        known = flow.types.get(key)
        if known is None or isinstance(known.type, AnyT):
            return
        if want is not None and not overlaps(known.type, want):
            self.report(M.STATE_READ_CONFLICT, span, step=label, verb="requires", key=key,
                        want=f"`{want}`", have=known.type, _notes=known.note(key))
            return
        for node in read.nodes if read is not None else ():
            for need in self.demands.of(node):
                if not need.accepts(known.type, self.member):
                    notes = known.note(key) + _runs_at(ctx, node.span, span.line)
                    self.report(M.STATE_READ_CONFLICT, node.span, step=label, verb="uses",
                                key=key, want=need.text, have=known.type, _notes=notes)
                    return

    def check_present(self, label: str, key: str, read: Read | None, span: Any, flow: Flow,
                      ctx: WorkflowCtx, want: Type | None) -> None:
        if key in flow.definite or key in ALWAYS_KEYS or key in ctx.wf.requires \
                or key in flow.assumed:
            return
        flow.assumed.add(key)
        if ctx.collect is not None:
            ctx.collect.setdefault(key, want if want is not None else ANY)
            if want is not None:
                flow.types.setdefault(key, KeyType(want, f"required by {label}",
                                                   span.line))
            return
        notes = []
        if read is not None and read.span.source is span.source and read.span != span:
            note = M.NOTE_READ_VIA if read.via else M.NOTE_READ_AT
            notes.append(note.format(helper=read.via, line=read.span.line))
        if key in flow.possible:
            step, line = flow.possible[key]
            notes.append(M.NOTE_PROVIDED_SOMETIMES.format(key=key, step=step, line=line))
            self.report(M.STATE_KEY_LATE, span, step=label, key=key, _notes=tuple(notes))
            return
        if key in ctx.writers:
            step, line = ctx.writers[key]
            notes.append(M.NOTE_PROVIDED_LATER.format(key=key, step=step, line=line))
        else:
            notes.append(M.NOTE_NO_PROVIDER.format(key=key))
            notes.extend(M.NOTE_UNTYPED_STATE.format(fn=info.node.name)
                         for info in self.functions if _writes_untyped_state(info.node, key))
        self.report(M.STATE_KEY_MISSING, span, step=label, key=key, _notes=tuple(notes))

    # -------------------------------------------------------------- writes
    def record_write(self, key: str, t: Type, span: Any, label: str, flow: Flow,
                     ctx: WorkflowCtx, definite: bool, line: int | None = None) -> None:
        """`label` writes a `t` to `key` at `span` (the step runs at `line`). A key
        declared in `requires:` keeps its declared type, and writes must fit it; other
        keys hold what was written last (or either value after a conditional write)."""
        if key in ("config", "version"):
            self.report(M.READONLY_STATE_KEY, span, key=key)
            return
        known = flow.types.get(key)
        source = KeyType(t, f"written by {label}", span.line)
        notes = known.note(key) + _runs_at(ctx, span, line) if known is not None else ()
        if known is not None and known.how == "required":
            if not overlaps(t, known.type):
                self.report(M.STATE_TYPE_CONFLICT, span, key=key, first="required",
                            dst=known.type, second=f"written by {label}", src=t,
                            _notes=notes)
        elif known is not None and not overlaps(t, known.type) \
                and not overlaps(known.type, t):
            self.report(M.STATE_TYPE_CONFLICT, span, key=key, first=known.how,
                        dst=known.type, second=f"written by {label}", src=t, _notes=notes)
        elif known is None or definite:
            flow.types[key] = source
        else:
            flow.types[key] = KeyType(join(known.type, t), known.how, known.line)
        where = (label.split("`")[1] if "`" in label else label, line or span.line)
        if definite:
            flow.definite.setdefault(key, where)
        flow.possible.setdefault(key, where)

class StepEffects:
    """The state signature of each function (`state_analysis.Effects`), computed once per
    function and set of state parameters. Consumes the typer's expression types
    (`types`), the module scope (to find the helpers a step calls) and
    `ensure_checked(info)`, which types a function's body before its effects are read."""

    def __init__(self, types: dict[int, Type], scope: SymbolTable,
                 ensure_checked: Callable[[Any], None]) -> None:
        self.types = types
        self.scope = scope
        self.ensure_checked = ensure_checked
        self.cache: dict[tuple[int, frozenset[int]], Effects | None] = {}

    def function_effects(self, info: Any, state: set[int]) -> Effects:
        """The (cached) state signature of a function whose state params are `state`."""
        key = (id(info), frozenset(state))
        cache = self.cache
        if key in cache:
            return cache[key] or Effects()
        cache[key] = None
        self.ensure_checked(info)
        names = {p.name for i, p in enumerate(info.type.params) if i in state}
        fx = collect_effects(info.node.body, names, self.types, self.helper_lookup)
        cache[key] = fx
        return fx

    def helper_lookup(self, call: A.CallExpr, where: int | str) -> Effects | None:
        """Effects of the function `call` invokes, the state passed at `where`."""
        if not isinstance(call.func, A.NameExpr):
            return None
        sym = self.scope.lookup(call.func.name)
        info = sym.info if sym is not None else None
        if info is None or not hasattr(info, "node") or not isinstance(info.node, A.FuncDecl):
            return None
        params = info.type.params
        index = where if isinstance(where, int) else next(
            (i for i, p in enumerate(params) if p.name == where), None)
        if index is None or index >= len(params):
            return None
        return self.function_effects(info, {index})

    def effects_of_ref(self, node: Any, scope: SymbolTable) -> Effects | None:
        sym = scope.lookup(node.name) if isinstance(node, A.NameExpr) else None
        info = sym.info if sym is not None else None
        if isinstance(getattr(info, "node", None), A.FuncDecl):
            return self.function_effects(info, state_positions(info.type))
        return None


def _runs_at(ctx: WorkflowCtx, span: Any, line: int | None) -> tuple[str, ...]:
    """A note placing a diagnostic inside a step's body at the step's line in `steps:`."""
    if line is None or line == span.line:
        return ()
    return (M.NOTE_STEP_AT.format(wf=ctx.wf.name, line=line),)


def state_positions(ft: FunctionT) -> set[int]:
    return {i for i, p in enumerate(ft.params) if isinstance(p.type, StateT)}

__all__ = ["Flow", "KeyType", "WorkflowCtx", "StateChecks", "StepEffects", "state_positions",
           "ALWAYS_KEYS"]


def _writes_untyped_state(node: A.FuncDecl, key: str) -> bool:
    """True when `node` has a parameter named `state` without an annotation and assigns
    `state.<key>` (the writer a user meant, which is not a state write)."""
    if not any(p.name == "state" and p.annotation is None for p in node.params):
        return False
    return any(isinstance(t, A.AttributeExpr) and t.name == key
               and isinstance(t.obj, A.NameExpr) and t.obj.name == "state"
               for stmt in node.body for n in walk(stmt) if isinstance(n, A.AssignStmt)
               for t in n.targets)
