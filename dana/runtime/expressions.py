"""Compile expressions to Python closures `fn(frame) -> value` (docs/architecture.md "Runtime").

Consumes: AST expressions and the compile-time `FrameLayout`.
Produces: closures. Each node is dispatched once, at compile time; evaluating a closure
does no lookup by node kind and no lookup of local names by string.
Operators follow Python's semantics; Python errors become Dana errors at the node's span.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

from dana.errors import DanaRuntimeError, DanaSyntaxError, LimitError, rule_error, runtime_error
from dana.messages import checks as M
from dana.messages import runtime as R
from dana.syntax import ast as A
from dana.runtime import callsites as C
from dana.runtime import emit as E
from dana.runtime import fused as F
from dana.runtime import loops as L
from dana.runtime import operators as O
from dana.runtime import protocol as P
from dana.runtime.formatting import format_value
from dana.runtime.entries import EntryPlan
from dana.runtime.functions import NO_DEFAULT, Function, ParamSpec
from dana.runtime.rtypes import compile_type
from dana.runtime.shapes import CONTAINERS, check_keys, check_text
from dana.runtime.scopes import FrameLayout, assigned_names, nonlocal_names, resolve
from dana.runtime.values import (UNSET, BoundMethod, Builtin, Composed, StructInstance,
                                 StructType, type_name)

Closure = Callable[[list], Any]

UNARY = {"-": operator.neg, "+": operator.pos, "~": operator.invert}
COMPARE = {"<": operator.lt, ">": operator.gt, "==": operator.eq, ">=": operator.ge,
           "<=": operator.le, "!=": operator.ne, "is": operator.is_, "is not": operator.is_not,
           "in": lambda a, b: a in b, "not in": lambda a, b: a not in b}
_FUNCTION_VALUES = (Function, Builtin, BoundMethod, Composed)


class ExpressionCompiler:
    """Expression half of the compiler; `StatementCompiler` extends it."""

    def __init__(self, runtime: Any, globals_: dict[str, Any], scope: FrameLayout,
                 checked: Any = None) -> None:
        self.rt = runtime
        self.globals = globals_
        self.scope = scope
        # the checker's types (a CheckResult, kept alive: its types are keyed by node id);
        # None: unchecked code, compiled without specialisation
        self.checked = checked
        self.type_of: Callable[[A.Expr], Any] | None = \
            None if checked is None else checked.type_of
        self.lookup_type: Callable[[str], Any] = globals_.get  # user types, by name
        self.placeholders: list[int] = []
        self.fusing = True  # off while compiling the slow path of a fused subtree
        # (scope, {slot: Operand of kind "item"}): the loop items a generated loop's text
        # reads from Python locals (`inline`); only for that scope
        self.items: tuple[FrameLayout | None, dict[int, O.Operand]] = (None, {})
        self._dispatch: dict[type, Callable[[Any], Closure]] = {
            A.NameExpr: self.c_name, A.LiteralExpr: self.c_literal, A.FStringExpr: self.c_fstring,
            A.ListExpr: self.c_list, A.TupleExpr: self.c_tuple, A.SetExpr: self.c_set,
            A.DictExpr: self.c_dict, A.ComprehensionExpr: self.c_comprehension,
            A.BinOpExpr: self.c_binop, A.UnaryOpExpr: self.c_unary, A.BoolOpExpr: self.c_boolop,
            A.CompareExpr: self.c_compare, A.IfExpr: self.c_ifexpr, A.LambdaExpr: self.c_lambda,
            A.CallExpr: self.c_call, A.AttributeExpr: self.c_attribute, A.IndexExpr: self.c_index,
            A.SliceExpr: self.c_slice, A.PlaceholderExpr: self.c_placeholder,
            A.PipelineExpr: self.c_pipeline,
        }

    def expr(self, node: A.Expr) -> Closure:
        """Compile one expression. An unknown node kind is an internal error."""
        try:
            method = self._dispatch[type(node)]
        except KeyError:
            raise AssertionError(f"internal error: no compiler for {type(node).__name__}")
        return method(node)


    # ------------------------------------------------------------ names
    def c_name(self, node: A.NameExpr) -> Closure:
        if node.scope not in (None, "local"):
            table, name, span = self.rt.scoped[node.scope], node.name, node.span

            def scoped(f: list) -> Any:
                try:
                    return table[name]
                except KeyError:
                    raise rule_error("NameError", M.UNDEFINED_NAME, span,
                                     name=f"{node.scope}:{name}") from None
            return scoped
        return self.read_name(node.name, node.span)

    def read_name(self, name: str, span: Any) -> Closure:
        where = resolve(self.scope, name)
        if where is None:
            return self._global(name, span)
        depth, slot = where

        def unbound() -> DanaRuntimeError:
            return rule_error("NameError", M.UNBOUND_NAME, span, name=name, how="assigned")
        if depth == 0 and (slot < self.scope.bound or slot in self.scope.assigned):
            return lambda f: f[slot]
        if depth == 0:
            def local(f: list) -> Any:
                value = f[slot]
                if value is UNSET:
                    raise unbound()
                return value
            return local

        def outer(f: list) -> Any:
            for _ in range(depth):
                f = f[0]
            value = f[slot]
            if value is UNSET:
                raise unbound()
            return value
        return outer

    def _global(self, name: str, span: Any) -> Closure:
        g, builtins = self.globals, self.rt.builtins

        def read(f: list) -> Any:
            value = g.get(name, UNSET)
            if value is UNSET:
                value = builtins.get(name, UNSET)
                if value is UNSET:
                    raise rule_error("NameError", M.UNDEFINED_NAME, span, name=name)
            return value
        return read

    def operand(self, node: A.Expr) -> O.Operand:
        """How an operator reads `node`: a literal's value, a frame slot of this function
        (a parameter, or a local checked for assignment) or of an enclosing one, or else
        the compiled closure."""
        if isinstance(node, A.LiteralExpr):
            return O.Operand("const", node.value)
        if isinstance(node, A.NameExpr) and node.scope in (None, "local"):
            where = resolve(self.scope, node.name)
            if where is not None and where[0] == 0:
                slot = where[1]
                if slot < self.scope.bound or slot in self.scope.assigned:
                    return O.Operand("param", slot)
                return O.Operand("local", slot, (node.name, node.span))
            if where is not None:
                return O.Operand("outer", self.expr(node), where)
        return O.Operand("closure", self.expr(node))

    def c_literal(self, node: A.LiteralExpr) -> Closure:
        value = node.value
        return lambda f: value

    def c_placeholder(self, node: A.PlaceholderExpr) -> Closure:
        if not self.placeholders:
            raise DanaSyntaxError.of(M.PLACEHOLDER_OUTSIDE, node.span)
        slot = self.placeholders[-1]
        return lambda f: f[slot]

    # ------------------------------------------------------------ literals
    def c_fstring(self, node: A.FStringExpr) -> Closure:
        parts = [self._fpart(p) for p in node.parts]
        limit = self.rt.limits.max_size

        def fstring(f: list) -> str:
            text = "".join(p(f) for p in parts)
            if len(text) > limit:
                raise runtime_error(R.TOO_LONG_TEXT, size=len(text), limit=limit)
            return text
        return fstring

    def _fpart(self, part: Any) -> Closure:
        if isinstance(part, str):
            return lambda f: part
        value = self.expr(part.expr)
        spec = ([self._fpart(p) for p in part.spec] if part.spec is not None else None)
        conv = {"r": repr, "a": ascii, "s": str, None: None}[part.conversion]
        span = part.span
        limit = self.rt.limits.max_size

        def field(f: list) -> str:
            v = value(f)
            if conv is not None:
                check_text(v, limit, span)
                v = conv(v)
            fmt = "".join(p(f) for p in spec) if spec is not None else ""
            try:
                return format_value(v, fmt, limit)
            except LimitError as exc:
                exc.span = span
                raise
            except (ValueError, TypeError) as exc:
                raise runtime_error(R.BAD_FORMAT_SPEC, span, spec=fmt, type=type_name(v),
                                    reason=exc) from None
        return field

    def c_list(self, node: A.ListExpr) -> Closure:
        items = [self.expr(i) for i in node.items]
        return lambda f: [i(f) for i in items]

    def c_tuple(self, node: A.TupleExpr) -> Closure:
        items = [self.expr(i) for i in node.items]
        if len(items) == 2:
            first, second = items
            return lambda f: (first(f), second(f))
        return lambda f: tuple([i(f) for i in items])

    def c_set(self, node: A.SetExpr) -> Closure:
        items = [self.expr(i) for i in node.items]
        span, limits = node.span, self.rt.limits

        def set_(f: list) -> set:
            values = [i(f) for i in items]
            check_keys(values, limits.max_size, span)
            return self._hashable(lambda: set(values), span)
        return set_

    def c_dict(self, node: A.DictExpr) -> Closure:
        pairs = [(self.expr(k), self.expr(v)) for k, v in zip(node.keys, node.values)]
        span, limits = node.span, self.rt.limits

        def dict_(f: list) -> dict:
            items = [(k(f), v(f)) for k, v in pairs]
            check_keys([k for k, _ in items], limits.max_size, span)
            return self._hashable(lambda: dict(items), span)
        return dict_

    @staticmethod
    def _hashable(build: Callable[[], Any], span: Any) -> Any:
        try:
            return build()
        except TypeError as exc:
            raise P.error("TypeError", str(exc).replace("unhashable type", "unhashable type"),
                          span) from None

    def c_comprehension(self, node: A.ComprehensionExpr) -> Closure:
        outer_first = self.expr(node.clauses[0].iter)
        inner = FrameLayout("comp", self.scope)
        for clause in node.clauses:
            if isinstance(clause, A.CompFor):
                binder = A.AssignStmt(clause.span, (clause.target,), clause.target)
                for name in assigned_names((binder,)):
                    inner.add(name)
        saved, self.scope = self.scope, inner
        try:
            if sum(isinstance(c, A.CompFor) for c in node.clauses) <= L.MAX_BLOCKS - 2:
                return L.comprehension(self, node, outer_first, inner)
            clauses = self._comp_clauses(node.clauses, outer_first)
            element = self.expr(node.element)
            value = self.expr(node.value) if node.value is not None else None
        finally:
            self.scope = saved
        return self._comp_runner(clauses, self._comp_put(node.kind, element, value, node.span),
                                 inner, node.span)

    def _comp_clauses(self, clauses: tuple, first_iter: Closure) -> list:
        out: list[tuple[str, Any, Any]] = []
        for i, clause in enumerate(clauses):
            if isinstance(clause, A.CompFor):
                iterable = first_iter if i == 0 else self.expr(clause.iter)
                out.append(("for", self.target(clause.target), iterable))
            else:
                out.append(("if", self.expr(clause.cond), None))
        return out

    def _comp_put(self, kind: str, element: Closure, value: Closure | None,
                  span: Any) -> tuple[type, Callable[[Any, list], None]]:
        """`(container, put)`: the class of a comprehension's result and `put(out, frame)`,
        which adds the element made in `frame` to `out` at once (Python's order: a set's or
        dict's key is stored, by `loops.store_key`, before the next element is made)."""
        if kind == "list" or kind == "gen":
            return list, lambda out, frame: out.append(element(frame))
        rt, store = self.rt, L.store_key
        if value is None:
            return set, lambda out, frame: store(out, element(frame), None, rt, span)

        def put_item(out: dict, frame: list) -> None:
            key = element(frame)
            store(out, key, value(frame), rt, span)
        return dict, put_item

    def _comp_runner(self, loops: list, result: tuple[type, Callable[[Any, list], None]],
                     inner: FrameLayout, span: Any) -> Closure:
        """A comprehension too deeply nested for `loops.comprehension`, as closures;
        `result` is `_comp_put`'s."""
        rt, padding = self.rt, (UNSET,) * (inner.size - 2)
        container, put = result
        fill = self._comp_fill(loops, put, span)

        def run(f: list) -> Any:
            frame = [f, None, *padding]
            out = container()
            first = loops[0][2](f)
            L.within_budget(first, rt, span)
            fill(frame, first, out)
            return out
        return run

    def _comp_fill(self, loops: list, put: Callable[[Any, list], None],
                   span: Any) -> Callable[[list, Any, Any], None]:
        """`fill(frame, first_iterable, out)`: run the clauses, adding each element to
        `out` by `put(out, frame)`. Each `for` clause with the `if`s after it is one Python
        loop; each iteration counts one operation, and the checks of an operation also keep
        `out` within `Limits.max_size`."""
        groups: list[tuple[Any, Any, list]] = []
        for kind, a, b in loops:
            if kind == "for":
                groups.append((a, b, []))
            else:
                groups[-1][2].append(a)
        return self._comp_level(groups, 0, put, span)

    def _comp_level(self, groups: list, level: int, put: Callable[[Any, list], None],
                    span: Any) -> Callable[[list, Any, Any], None]:
        rt, iterate = self.rt, self.iterate
        store, conds = groups[level][0], groups[level][2]
        last = level + 1 == len(groups)
        deeper = None if last else self._comp_level(groups, level + 1, put, span)
        inner_items = None if last else groups[level + 1][1]

        def loop(frame: list, items: Any, out: Any) -> None:
            for item in iterate(items, None):
                rt.operations += 1
                if rt.operations > rt.next_check:
                    rt.checkpoint(span)
                    L.within_budget(out, rt, span)
                store(frame, item)
                for cond in conds:
                    if not cond(frame):
                        break
                else:
                    if deeper is None:
                        put(out, frame)
                    else:
                        deeper(frame, inner_items(frame), out)
        return loop

    @staticmethod
    def iterate(value: Any, span: Any) -> Any:
        if isinstance(value, dict):
            return list(value)
        if isinstance(value, (list, tuple, str, set, frozenset, range)):
            return value
        raise rule_error("TypeError", M.NOT_ITERABLE, span, type=type_name(value))

    # ------------------------------------------------------------ operators
    def fuse(self, node: A.Expr) -> Closure | None:
        """One closure for a pure subtree of two or more operators (dana.runtime.fused),
        or None. Its slow path is the ordinary compiled subtree."""
        if not self.fusing:
            return None
        fuser = F.Fuser(self.operand, self.type_of)
        code = fuser.code(node)
        if code is None or fuser.operators < 2:
            return None
        self.fusing = False
        try:
            slow = self.expr(node)
        finally:
            self.fusing = True
        return F.fused(code, slow)

    def inline(self, node: A.Expr) -> tuple[str | None, Closure]:
        """How a statement evaluates `node` itself (dana.runtime.inline): its fused text
        (None when not pure) and its closure. The text reads a name of `items` (slot ->
        operand of kind "item", set by a generated loop for its own scope) from the loop's
        Python local."""
        return F.Fuser(self._inline_operand, self.type_of).code(node), self.expr(node)

    def _inline_operand(self, node: A.Expr) -> O.Operand:
        found = self.operand(node)
        if self.items[0] is self.scope and found.kind in ("param", "local"):
            return self.items[1].get(found.value, found)
        return found

    def emitted(self, node: A.Expr) -> E.Emitted:
        """How a statement evaluates `node` in its own frame, calls included
        (dana.runtime.emit)."""
        return E.Emitter(self).emit(node)

    def c_binop(self, node: A.BinOpExpr) -> Closure:
        fused = self.fuse(node)
        if fused is not None:
            return fused
        return O.binary(node.op, self.operand(node.left), self.operand(node.right), node.span,
                        self.rt.limits)

    def c_unary(self, node: A.UnaryOpExpr) -> Closure:
        fused = self.fuse(node)
        if fused is not None:
            return fused
        operand, span = self.expr(node.operand), node.span
        if node.op == "not":
            return lambda f: not operand(f)
        op = UNARY[node.op]

        def unary(f: list) -> Any:
            v = operand(f)
            try:
                return op(v)
            except TypeError:
                raise rule_error("TypeError", M.BAD_OPERAND, span, op=node.op,
                                 type=type_name(v)) from None
        return unary

    def c_boolop(self, node: A.BoolOpExpr) -> Closure:
        fused = self.fuse(node)
        if fused is not None:
            return fused
        values = [self.expr(v) for v in node.values]
        if len(values) == 2:  # Python's own `and`/`or`: same values, same short-circuit
            first, second = values
            if node.op == "and":
                return lambda f: first(f) and second(f)
            return lambda f: first(f) or second(f)
        if node.op == "and":
            def and_(f: list) -> Any:
                v = None
                for fn in values:
                    v = fn(f)
                    if not v:
                        return v
                return v
            return and_

        def or_(f: list) -> Any:
            v = None
            for fn in values:
                v = fn(f)
                if v:
                    return v
            return v
        return or_

    def c_compare(self, node: A.CompareExpr) -> Closure:
        fused = self.fuse(node)
        if fused is not None:
            return fused
        span = node.span
        if len(node.ops) == 1:
            return O.compare(node.ops[0], self.operand(node.left),
                             self.operand(node.comparators[0]), span, self.rt.limits)
        left = self.expr(node.left)
        rest = [(COMPARE[op], op, op in O.WALKING, self.expr(c))
                for op, c in zip(node.ops, node.comparators)]
        limits = self.rt.limits

        def compare(f: list) -> bool:
            a = left(f)
            for op, sym, walks, right in rest:
                b = right(f)
                if walks and (a.__class__ in CONTAINERS or b.__class__ in O.SCANNED):
                    O.walk_guard(sym, a, b, limits, span)
                try:
                    ok = op(a, b)
                except Exception as exc:
                    raise O.compare_error(exc, sym, a, b, span) from None
                if not ok:
                    return False
                a = b
            return True
        return compare

    def c_ifexpr(self, node: A.IfExpr) -> Closure:
        fused = self.fuse(node)
        if fused is not None:
            return fused
        cond, then, orelse = self.expr(node.cond), self.expr(node.then), self.expr(node.orelse)
        return lambda f: then(f) if cond(f) else orelse(f)

    # ------------------------------------------------------------ functions
    def c_lambda(self, node: A.LambdaExpr) -> Closure:
        body = (A.ReturnStmt(node.body.span, node.body),)
        return self.function_factory("<lambda>", node.params, None, body, node.span, None)

    def function_factory(self, name: str, params: tuple, returns: Any, body: tuple,
                         span: Any, docstring: str | None, label: str | None = None) -> Closure:
        """A closure that creates the Function (evaluating defaults) in the defining frame;
        `label` names it in messages (default "function `name`")."""
        label = label or f"function `{name}`"
        inner = FrameLayout("function", self.scope, [p.name for p in params])
        inner.nonlocals = nonlocal_names(body)
        for local in assigned_names(body):
            if local not in inner.nonlocals:
                inner.add(local)
        defaults = [self.expr(p.default) if p.default is not None else None for p in params]
        specs = [ParamSpec(p.name, compile_type(p.annotation, self.lookup_type),
                           p.annotation is not None, star=p.star) for p in params]
        ret = compile_type(returns, self.lookup_type) if returns is not None else None
        inner.returns = (label, ret) if ret is not None else None
        nested = self.nested(inner)
        last = body[-1] if body else None
        if isinstance(last, A.ReturnStmt) and last.value is not None:
            compiled, tail = nested.statements(body[:-1]), nested.tail(last)
        else:
            compiled, tail = nested.statements(body), None
        rt = self.rt
        plan = EntryPlan(name, specs, rt, compiled, tail, inner.size, ret)

        def make(f: list) -> Function:
            bound = [ParamSpec(s.name, s.type, s.annotated,
                               d(f) if d is not None else NO_DEFAULT, s.star)
                     for s, d in zip(specs, defaults)]
            return Function(name, bound, ret, compiled, inner.size, f, rt, span, docstring,
                            tail, label, plan)
        return make

    def nested(self, scope: FrameLayout) -> Any:
        """A compiler of the same kind for a nested scope."""
        return type(self)(self.rt, self.globals, scope, self.checked)

    def c_call(self, node: A.CallExpr) -> Closure:
        func_node, span = node.func, node.span
        positional = all(a.name is None and a.star == 0 for a in node.args)
        if isinstance(func_node, A.AttributeExpr):
            obj, name = self.expr(func_node.obj), func_node.name
            if positional and not name.startswith("_"):
                general = C.method_call(obj, name, [self.expr(a.value) for a in node.args],
                                        span, func_node.span)
                code = F.Fuser(self.operand, self.type_of).code(node)
                return general if code is None else F.fused(code, general)
            spread = self._arguments(node.args)[2]

            def method_call(f: list) -> Any:
                fn = P.get_attr(obj(f), name, func_node.span)
                return P.call(fn, *spread(f), span)
            return method_call
        func = self.expr(func_node)
        if positional:
            args = [self.expr(a.value) for a in node.args]
            fuser = F.Fuser(self.operand, self.type_of)
            codes = tuple(fuser.code(a.value) for a in node.args)
            return C.positional_call(func, args, span, self.global_name(func_node),
                                     codes if codes and None not in codes else None)
        spread = self._arguments(node.args)[2]

        def call(f: list) -> Any:
            return P.call(func(f), *spread(f), span)
        return call

    def global_name(self, node: A.Expr) -> tuple[str, dict, dict] | None:
        """(name, globals dict, builtins dict) when `node` names a module global (or a
        builtin): its value is the global's, else the builtin's (as `_global` reads it)."""
        if isinstance(node, A.NameExpr) and node.scope in (None, "local") \
                and resolve(self.scope, node.name) is None:
            return node.name, self.globals, self.rt.builtins
        return None

    def _arguments(self, args: tuple) -> tuple:
        positional = [(a.star, self.expr(a.value), a.span) for a in args if a.name is None]
        keywords = [(a.name, self.expr(a.value)) for a in args if a.name is not None]

        def spread(f: list) -> tuple[list, dict]:
            values: list[Any] = []
            named: dict[str, Any] = {}
            for star, fn, span in positional:
                v = fn(f)
                if star == 0:
                    values.append(v)
                elif star == 1:
                    values.extend(self.iterate(v, span))
                elif isinstance(v, dict):
                    named.update(v)
                else:
                    raise runtime_error(R.STAR_STAR_NOT_DICT, span, type=type_name(v))
            for key, fn in keywords:
                named[key] = fn(f)
            return values, named
        return positional, keywords, spread

    def c_attribute(self, node: A.AttributeExpr) -> Closure:
        obj, name, span = self.expr(node.obj), node.name, node.span
        if name.startswith("_"):
            return lambda f: P.get_attr(obj(f), name, span)

        def attribute(f: list) -> Any:
            value = obj(f)
            if value.__class__ is StructInstance:
                fields = value.fields
                if name in fields:
                    return fields[name]
            return P.get_attr(value, name, span)
        return attribute

    def c_index(self, node: A.IndexExpr) -> Closure:
        obj, index, span, item_error = (self.expr(node.obj), self.expr(node.index), node.span,
                                        P.item_error)
        limits = self.rt.limits

        def item(f: list) -> Any:
            value, key = obj(f), index(f)
            if key.__class__ is tuple:
                check_keys((key,), limits.max_size, span)
            try:
                return value[key]
            except Exception as exc:
                raise item_error(exc, value, key, span) from None
        return item

    def c_slice(self, node: A.SliceExpr) -> Closure:
        lower, upper, step = (self.expr(p) if p is not None else _none
                              for p in (node.lower, node.upper, node.step))
        if node.step is None:
            return lambda f: slice(lower(f), upper(f))
        return lambda f: slice(lower(f), upper(f), step(f))

    # ------------------------------------------------------------ pipelines
    def c_pipeline(self, node: A.PipelineExpr) -> Closure:
        head = self.expr(node.stages[0].expr)
        stages = [self._stage(s) for s in node.stages[1:]]
        span, name = node.span, node.stages[0].name
        bind = self.target(A.NameExpr(span, name)) if name else lambda f, v: None

        def first_stage(f: list, fn: Any) -> Callable[[Any], Any]:
            def run(v: Any) -> Any:
                result = apply_stage(fn, v, span)
                bind(f, result)
                return result
            return run

        def pipeline(f: list) -> Any:
            value = head(f)
            if isinstance(value, _FUNCTION_VALUES) or _is_function_list(value):
                return Composed((first_stage(f, value),
                                 *[(lambda v, st=st: st(f, v)) for st in stages]), span)
            bind(f, value)
            for stage in stages:
                value = stage(f, value)
            return value
        return pipeline

    def _stage(self, stage: A.PipeStage) -> Callable[[list, Any], Any]:
        run = self._stage_body(stage.expr)
        if stage.name is None:
            return run
        bind = self.target(A.NameExpr(stage.span, stage.name))

        def named(f: list, value: Any) -> Any:
            result = run(f, value)
            bind(f, result)
            return result
        return named

    def _stage_body(self, expr: A.Expr) -> Callable[[list, Any], Any]:
        span = expr.span
        if isinstance(expr, A.CallExpr) \
                and any(isinstance(a.value, A.PlaceholderExpr) for a in expr.args):
            slot = self.scope.temp()
            self.placeholders.append(slot)
            try:
                call = self.expr(expr)
            finally:
                self.placeholders.pop()

            def with_placeholder(f: list, value: Any) -> Any:
                f[slot] = value
                return call(f)
            return with_placeholder
        if isinstance(expr, A.CallExpr):
            func = self.expr(expr.func)
            _, _, spread = self._arguments(expr.args)

            def first_arg(f: list, value: Any) -> Any:
                fn = func(f)
                args, kwargs = spread(f)
                if getattr(fn, "makes_stage", False):
                    return apply_stage(P.call(fn, args, kwargs, span), value, span)
                return P.call(fn, [value, *args], kwargs, span)
            return first_arg
        fn = self.expr(expr)
        return lambda f, value: apply_stage(fn(f), value, span)


def _none(f: list) -> None:
    """The closure of a slice bound left out."""
    return None


def _is_function_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, _FUNCTION_VALUES) for v in value)


def apply_stage(stage: Any, value: Any, span: Any) -> Any:
    """Apply one evaluated pipeline stage to `value` (docs/language.md pipelines): a list of
    functions yields the list of their results; sets and dicts merge like Python's `|`."""
    if isinstance(stage, list):
        return [P.call(fn, [value], {}, span) for fn in stage]
    if isinstance(stage, (set, frozenset, dict)) and isinstance(value, (set, frozenset, dict)):
        try:
            return value | stage
        except TypeError:
            raise O.operand_error("|", value, stage, span) from None
    if isinstance(stage, StructType) or callable(stage) or hasattr(stage, "invoke"):
        return P.call(stage, [value], {}, span)
    raise rule_error("TypeError", M.BAD_STAGE, span, type=type_name(stage))
