"""Expression typing: literals, names, operators, collections, comprehensions, lambdas.

Consumes: expression nodes and a scope (through the `Checker` this mixes into).
Produces: each expression's `Type`, recorded in the checker's side table by node
identity; diagnostics for undefined or unbound names (E0201, E0208), bad operands
(E0310), bad indexing (E0312). Calls, attributes and pipelines live in `dana.types.calls`.
"""

from __future__ import annotations

from typing import Any, Callable

from dana.surface import SCOPE_NAMES, SHARED_SCOPES
from dana.syntax import ast as A
from dana.messages import checks as M
from dana.types.scope import SymbolTable, Symbol
from dana.types.demands import ITERABLE, operand_demand
from dana.types.narrowing import is_optional, not_none
from dana.types.types import (ANY, BOOL, FLOAT, INT, NEVER, NONE, STR, AnyT, ClassT, DictT,
                              FunctionT, ListT, NeverT, ParamT, SetT, StateT, TupleT, Type,
                              UnionT, element_type, is_numeric, join, join_all, overlaps, union)

COMPARISONS = ("<", ">", "<=", ">=")


class ExprMixin:
    """Expression handlers of the `Checker`."""

    def record(self, node: Any, t: Type) -> Type:
        """Enter `node: t` in the side table (the node is kept alive so ids stay unique)."""
        self.types[id(node)] = t
        self.nodes[id(node)] = node
        return t

    def resolved(self, node: A.NameExpr | A.Param, sym: Symbol) -> Symbol:
        """Enter `node -> sym` in the side table of resolved names."""
        self.symbols[id(node)] = sym
        self.nodes[id(node)] = node
        return sym

    # -------------------------------------------------------------- atoms
    def literal(self, node: A.LiteralExpr, scope: SymbolTable) -> Type:
        v = node.value
        if v is None:
            return NONE
        if isinstance(v, bool):
            return BOOL
        return {int: INT, float: FLOAT, str: STR}.get(type(v), ANY)

    def fstring(self, node: A.FStringExpr, scope: SymbolTable) -> Type:
        for part in node.parts:
            if isinstance(part, A.FormattedValue):
                self.formatted_value(part, scope)
        return STR

    def formatted_value(self, node: A.FormattedValue, scope: SymbolTable) -> Type:
        self.expr(node.expr, scope)
        for part in node.spec or ():
            if isinstance(part, A.FormattedValue):
                self.formatted_value(part, scope)
        return STR

    def name_read(self, node: A.NameExpr, scope: SymbolTable) -> Type:
        if node.scope in SHARED_SCOPES:
            return self.scoped.get((node.scope, node.name), ANY)
        sym = scope.lookup(node.name)
        if sym is not None:
            self.resolved(node, sym)
            self.check_bound(node)
            return self.function_type(sym) if sym.info is not None else self.facts.current_type(sym)
        if node.name in SCOPE_NAMES:
            return ANY  # `f"{private:x}"`: the f-string split a scoped name at its colon
        if scope.assigned_later(node.name):
            self.check_bound(node)
        else:
            self.report(M.UNDEFINED_NAME, node.span, name=node.name,
                        _suggest=(node.name, scope.visible_names()))
        return ANY

    def check_bound(self, node: A.NameExpr) -> None:
        """E0201 when this read finds its name unbound on every path, E0208 (a warning)
        when on some (`dana.types.definite`). Not in a stage of a pipeline that may build
        a function: its stages run when that function is called."""
        miss = self.unbound.get(id(node))
        if miss is None or self.body.deferred:
            return
        notes: tuple[str, ...] = ()
        if miss.lines:
            *rest, last = [str(n) for n in miss.lines]
            shown = f"{', '.join(rest)} and {last}" if rest else last
            notes = (M.NOTE_BOUND_AT.format(name=miss.name, how=miss.how, lines=shown,
                                            s="s" if rest else ""),)
        self.report(M.UNBOUND_NAME if miss.definite else M.MAYBE_UNBOUND, node.span,
                    name=miss.name, how=miss.how, _notes=notes)

    def placeholder(self, node: A.PlaceholderExpr, scope: SymbolTable) -> Type:
        if not self.body.piped:
            self.report(M.PLACEHOLDER_OUTSIDE, node.span)
            return ANY
        return self.body.piped[-1]

    # -------------------------------------------------------------- collections
    def list_display(self, node: A.ListExpr, scope: SymbolTable) -> Type:
        return ListT(self._items(node.items, scope))

    def set_display(self, node: A.SetExpr, scope: SymbolTable) -> Type:
        return SetT(self._items(node.items, scope))

    def tuple_display(self, node: A.TupleExpr, scope: SymbolTable) -> Type:
        return TupleT(tuple(self.expr(i, scope) for i in node.items))

    def dict_display(self, node: A.DictExpr, scope: SymbolTable) -> Type:
        keys = [self.expr(k, scope) for k in node.keys]
        values = [self.expr(v, scope) for v in node.values]
        return DictT(join_all(keys), join_all(values))

    def _items(self, items: tuple, scope: SymbolTable) -> Type:
        return join_all([self.expr(i, scope) for i in items])

    def comprehension(self, node: A.ComprehensionExpr, scope: SymbolTable) -> Type:
        inner = SymbolTable(scope, "comprehension")
        self.facts.push()
        try:
            for clause in node.clauses:
                if isinstance(clause, A.CompFor):
                    it = self.maybe_none(clause.iter, self.expr(clause.iter, inner),
                                         "`None` is not iterable")
                    self.demands.note(clause.iter, ITERABLE)
                    elem = element_type(it)
                    if elem is None:
                        self.report(M.NOT_ITERABLE, clause.iter.span, type=it)
                    self.bind_target(clause.target, elem or ANY, inner)
                else:
                    self.expr(clause.cond, inner)
                    self.facts.add(self.facts.condition_facts(clause.cond, inner)[0])
            elem = self.expr(node.element, inner)
            if node.kind == "dict":
                return DictT(elem, self.expr(node.value, inner))
            return SetT(elem) if node.kind == "set" else ListT(elem)
        finally:
            self.facts.pop()

    def bind_target(self, target: Any, t: Type, scope: SymbolTable) -> None:
        """Bind a loop/comprehension target (names and nested tuples) in `scope`."""
        if isinstance(target, A.NameExpr):
            self.resolved(target, scope.define(Symbol(target.name, t, "var", target.span)))
            self.record(target, t)
        elif isinstance(target, (A.TupleExpr, A.ListExpr)):
            items = t.items if isinstance(t, TupleT) and not t.variadic and \
                len(t.items) == len(target.items) else [element_type(t) or ANY] * len(
                    target.items)
            for item, part in zip(target.items, items):
                self.bind_target(item, part, scope)
            self.record(target, t)
        else:
            self.expr(target, scope)

    # -------------------------------------------------------------- operators
    def binop(self, node: A.BinOpExpr, scope: SymbolTable) -> Type:
        problem = f"operator `{node.op}` is not defined for `None`"
        left = self.maybe_none(node.left, self.expr(node.left, scope), problem)
        right = self.maybe_none(node.right, self.expr(node.right, scope), problem)
        op = node.op
        self.demands.note(node.left, operand_demand(
            op, right, lambda o, c: _binop_simple(o, c, right) is not None))
        self.demands.note(node.right, operand_demand(
            op, left, lambda o, c: _binop_simple(o, left, c) is not None))
        return self.binop_type(op, left, right, node.span)

    def maybe_none(self, node: Any, t: Type, problem: str) -> Type:
        """`t` without None; reports E0321 when `t` is `T | None` (use before narrowing)."""
        if not is_optional(t):
            return t
        text = quoted(node)
        self.report(M.POSSIBLY_NONE, node.span, text=text, type=t, problem=problem,
                    _notes=(M.NOTE_NARROW.format(text=text),))
        return not_none(t)

    def binop_type(self, op: str, left: Type, right: Type, span: Any,
                   label: str | None = None) -> Type:
        """The type of `left op right` (E0310 when undefined, naming `label`, default `op`:
        `+=` for an augmented assignment, as at run time)."""
        result = _binop(op, left, right)
        if result is None:
            self.report(M.BAD_OPERANDS, span, op=label or op, left=left, right=right)
            return ANY
        return result

    def unaryop(self, node: A.UnaryOpExpr, scope: SymbolTable) -> Type:
        t = self.expr(node.operand, scope)
        if node.op == "not":
            return BOOL
        t = self.maybe_none(node.operand, t, f"operator `{node.op}` is not defined for `None`")
        ok = [o for o in _options(t) if isinstance(o, AnyT) or is_numeric(o)
              and (node.op != "~" or o != FLOAT)]
        if not ok:
            self.report(M.BAD_OPERAND, node.span, op=node.op, type=t)
            return ANY
        return INT if t == BOOL else t

    def boolop(self, node: A.BoolOpExpr, scope: SymbolTable) -> Type:
        """Each operand is typed where the ones before it let evaluation reach it (`x is
        not None and x.k`); the value of `a or b` is a truthy `a` or `b`."""
        types: list[Type] = []
        self.facts.push()
        try:
            for i, value in enumerate(node.values):
                t = self.expr(value, scope)
                if i == len(node.values) - 1:
                    types.append(t)
                    break
                pos, neg = self.facts.condition_facts(value, scope)
                self.facts.add(pos if node.op == "and" else neg)
                if node.op == "and":
                    types.append(t)
                elif t != NONE:
                    types.append(not_none(t) if is_optional(t) else t)
        finally:
            self.facts.pop()
        return join_all(types)

    def compare(self, node: A.CompareExpr, scope: SymbolTable) -> Type:
        left = self.expr(node.left, scope)
        left_node = node.left
        for op, comp in zip(node.ops, node.comparators):
            right = self.expr(comp, scope)
            if op in COMPARISONS:
                problem = f"operator `{op}` is not defined for `None`"
                left = self.maybe_none(left_node, left, problem)
                right = self.maybe_none(comp, right, problem)
                self.demands.note(left_node, operand_demand(
                    op, right, lambda o, c, r=right: _ordered(c, r)))
                self.demands.note(comp, operand_demand(
                    op, left, lambda o, c, l=left: _ordered(l, c)))
            elif op in ("in", "not in"):
                right = self.maybe_none(comp, right, f"`{op}` needs a container, not `None`")
            left_node = comp
            if not _comparable(op, left, right):
                self.report(M.BAD_OPERANDS, node.span, op=op, left=left, right=right)
            left = right
        return BOOL

    def conditional(self, node: A.IfExpr, scope: SymbolTable) -> Type:
        self.expr(node.cond, scope)
        pos, neg = self.facts.condition_facts(node.cond, scope)
        out = []
        for facts, branch in ((pos, node.then), (neg, node.orelse)):
            self.facts.push(facts)
            try:
                out.append(self.expr(branch, scope))
            finally:
                self.facts.pop()
        return join(out[0], out[1])

    def lambda_expr(self, node: A.LambdaExpr, scope: SymbolTable) -> Type:
        inner = SymbolTable(scope, "lambda")
        types = {}
        for p in node.params:
            t = types[p.name] = self.annotation(p.annotation, scope)
            if p.default is not None:
                self.expect(self.expr(p.default, scope), t, p.default.span,
                            target=f"parameter `{p.name}`")
            t = star_param_type(p, t) if p.star else t
            self.resolved(p, inner.define(Symbol(p.name, t, "param", p.span, declared=t)))
        saved = self.body.piped
        self.body.piped = []
        body = self.expr(node.body, inner)
        self.body.piped = saved
        return def_type(node.params, types, body, "lambda")

    # -------------------------------------------------------------- indexing
    def indexing(self, node: A.IndexExpr, scope: SymbolTable) -> Type:
        obj = self.maybe_none(node.obj, self.expr(node.obj, scope), "`None` cannot be indexed")
        if isinstance(node.index, A.SliceExpr):
            self.expr(node.index, scope)
            return self._slice_of(obj, node)
        key = self.expr(node.index, scope)
        return self.index_type(obj, key, node)

    def index_type(self, obj: Type, key: Type, node: A.IndexExpr) -> Type:
        """The type of `obj[key]`. A union is indexable when some member allows the key
        (as operators and methods on it are); otherwise the first indexable member, or
        the whole union, is reported."""
        if isinstance(obj, UnionT):
            options = [o for o in obj.options if o != NONE]
            found = [t for t in (_item_type(o, key, node) for o in options) if t is not None]
            if found:
                return join_all(found)
            indexable = [o for o in options if _item_type(o, ANY, node) is not None]
            if not indexable:
                self.report(M.NOT_INDEXABLE, node.obj.span, type=obj)
                return ANY
            obj = indexable[0]
        item = _item_type(obj, key, node)
        if item is not None:
            return item
        if _item_type(obj, ANY, node) is None:
            self.report(M.NOT_INDEXABLE, node.obj.span, type=obj)
            return ANY
        self.check_key(_key_type(obj), key, node.index.span, node.obj)
        return _item_type(obj, ANY, node) or ANY

    def check_key(self, expected: Type, got: Type, span: Any, obj: Any) -> None:
        """Report a key of type `got` where `obj` (an expression) takes `expected`."""
        if not _key_fits(expected, got):
            self.report(M.BAD_INDEX, span, what=quoted(obj), expected=expected, got=got)

    def _slice_of(self, obj: Type, node: A.IndexExpr) -> Type:
        if isinstance(obj, ListT) or obj == STR or isinstance(obj, AnyT):
            return obj
        if isinstance(obj, TupleT):
            return TupleT((obj.item_join(),), True)
        if isinstance(obj, UnionT):
            return obj
        self.report(M.NOT_INDEXABLE, node.obj.span, type=obj)
        return ANY

    def slice_bounds(self, node: A.SliceExpr, scope: SymbolTable) -> Type:
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                got = self.expr(part, scope)
                if not _key_fits(union(INT, NONE), got):
                    self.report(M.BAD_SLICE, part.span, got=got)
        return ANY


EXPRESSIONS: dict[type, Callable[[Any, Any, SymbolTable], Type]] = {
    A.LiteralExpr: ExprMixin.literal,
    A.FStringExpr: ExprMixin.fstring,
    A.NameExpr: ExprMixin.name_read,
    A.PlaceholderExpr: ExprMixin.placeholder,
    A.ListExpr: ExprMixin.list_display,
    A.SetExpr: ExprMixin.set_display,
    A.TupleExpr: ExprMixin.tuple_display,
    A.DictExpr: ExprMixin.dict_display,
    A.ComprehensionExpr: ExprMixin.comprehension,
    A.BinOpExpr: ExprMixin.binop,
    A.UnaryOpExpr: ExprMixin.unaryop,
    A.BoolOpExpr: ExprMixin.boolop,
    A.CompareExpr: ExprMixin.compare,
    A.IfExpr: ExprMixin.conditional,
    A.LambdaExpr: ExprMixin.lambda_expr,
    A.IndexExpr: ExprMixin.indexing,
    A.SliceExpr: ExprMixin.slice_bounds,
}
"""The typing rule of each expression class defined here (calls, attributes and
pipelines: `dana.types.calls.EXPRESSIONS`)."""


def quoted(node: Any) -> str:
    """An expression's source text in backticks for a message (long text cut short)."""
    text = " ".join(node.span.text.split())
    return f"`{text if len(text) <= 40 else text[:37] + '...'}`"


def _key_fits(expected: Type, got: Type) -> bool:
    return overlaps(got, expected) or (expected == INT and got == BOOL)


def _key_type(obj: Type) -> Type:
    return obj.key if isinstance(obj, DictT) else INT


def _item_type(obj: Type, key: Type, node: A.IndexExpr) -> Type | None:
    """The type of `obj[key]` for one (non-union) type, or None when it does not allow it."""
    if isinstance(obj, (AnyT, StateT, FunctionT, ClassT)):
        return ANY
    if not isinstance(obj, (DictT, ListT, TupleT)) and obj != STR:
        return None
    if not _key_fits(_key_type(obj), key):
        return None
    if isinstance(obj, DictT):
        return obj.value
    if isinstance(obj, TupleT):
        return _tuple_item(obj, node.index)
    return obj.elem if isinstance(obj, ListT) else STR


def _tuple_item(t: TupleT, index: Any) -> Type:
    if t.variadic:
        return t.items[0]
    if isinstance(index, A.LiteralExpr) and isinstance(index.value, int) \
            and -len(t.items) <= index.value < len(t.items):
        return t.items[index.value]
    return t.item_join()


def _options(t: Type) -> tuple[Type, ...]:
    return t.options if isinstance(t, UnionT) else (t,)


def def_type(params: tuple[A.Param, ...], types: dict[str, Type], returns: Type,
             name: str | None) -> FunctionT:
    """The type of a def or lambda with these parameters (`types`: each annotation):
    `*args` and `**kwargs` accept extra arguments of their annotation's type."""
    plain = tuple(ParamT(p.name, types[p.name], p.default is not None)
                  for p in params if not p.star)
    star = next((i for i, p in enumerate(params) if p.star == 1), None)
    rest = {p.star: ParamT(p.name, types[p.name], True) for p in params if p.star}
    return FunctionT(plain, returns, 1 in rest, 2 in rest, name=name, positional=star or 0,
                     star_param=rest.get(1), kwstar_param=rest.get(2))


def star_param_type(param: A.Param, annotation: Type) -> Type:
    """The type of `args` in the body of `def f(*args: T)` (a tuple of T) and of
    `kwargs` for `**kwargs: T` (a dict from str to T)."""
    return TupleT((annotation,), True) if param.star == 1 else DictT(STR, annotation)


def _binop(op: str, left: Type, right: Type) -> Type | None:
    """The result of `left op right`, or None when no combination of members works."""
    results = []
    for lt in _options(left):
        for rt in _options(right):
            r = _binop_simple(op, lt, rt)
            if r is not None:
                results.append(r)
    return union(*results) if results else None


def _binop_simple(op: str, lt: Type, rt: Type) -> Type | None:
    if isinstance(lt, NeverT) or isinstance(rt, NeverT):
        return NEVER
    if isinstance(lt, AnyT) or isinstance(rt, AnyT):
        return ANY
    if op in BITWISE:
        return _bitwise(op, lt, rt)
    if is_numeric(lt) and is_numeric(rt):
        if op == "/":
            return FLOAT
        return FLOAT if FLOAT in (lt, rt) else INT
    if op == "+":
        return _concat(lt, rt)
    if op == "*":
        return _repeat(lt, rt) or _repeat(rt, lt)
    if op == "%" and lt == STR:
        return STR
    return None


BITWISE = ("&", "^", "<<", ">>")


def _bitwise(op: str, lt: Type, rt: Type) -> Type | None:
    """`&` `^` `<<` `>>` as in Python: on ints and bools (bool with bool stays bool for
    `&` and `^`), and `&` (intersection) `^` (symmetric difference) on sets."""
    if lt in (INT, BOOL) and rt in (INT, BOOL):
        return BOOL if lt == rt == BOOL and op in ("&", "^") else INT
    if op in ("&", "^") and isinstance(lt, SetT) and isinstance(rt, SetT):
        return SetT(join(lt.elem, rt.elem))
    return None


def _concat(lt: Type, rt: Type) -> Type | None:
    if lt == STR and rt == STR:
        return STR
    if isinstance(lt, ListT) and isinstance(rt, ListT):
        return ListT(join(lt.elem, rt.elem))
    if isinstance(lt, TupleT) and isinstance(rt, TupleT):
        if lt.variadic or rt.variadic:
            return TupleT((join(lt.item_join(), rt.item_join()),), True)
        return TupleT(lt.items + rt.items)
    return None


def _repeat(seq: Type, count: Type) -> Type | None:
    if count not in (INT, BOOL):
        return None
    if seq == STR or isinstance(seq, ListT):
        return seq
    if isinstance(seq, TupleT):
        return TupleT((seq.item_join(),), True)
    return None


def _comparable(op: str, left: Type, right: Type) -> bool:
    if op in ("in", "not in"):
        return any(isinstance(o, (AnyT, DictT, StateT)) or element_type(o) is not None
                   for o in _options(right))
    if op not in COMPARISONS:
        return True
    return any(_ordered(lt, rt) for lt in _options(left) for rt in _options(right))


def _ordered(lt: Type, rt: Type) -> bool:
    if isinstance(lt, AnyT) or isinstance(rt, AnyT):
        return True
    if is_numeric(lt) and is_numeric(rt):
        return True
    return (lt == STR and rt == STR) or (
        type(lt) is type(rt) and isinstance(lt, (ListT, TupleT, SetT)))
