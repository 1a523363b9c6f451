"""Compile statements and definitions to closures `fn(frame) -> signal`.

Consumes: AST statements (and the expression compiler it extends).
Produces: closures returning None (fall through) or a control signal (BREAK, CONTINUE,
RETURN with the value in frame[1]); `compile_module` for a whole module. Definitions
(`def`, `struct`, `interface`, `workflow`, `import`) bind values when executed, like Python.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterator

from dana.errors import DanaRuntimeError, DanaSyntaxError, rule_error
from dana.messages import syntax as S
from dana.syntax import ast as A
from dana.messages import checks as M
from dana.runtime import protocol as P
from dana.runtime import operators as O
from dana.runtime.expressions import Closure, ExpressionCompiler
from dana.runtime.functions import BREAK, CONTINUE
from dana.runtime import inline as I
from dana.runtime import loops
from dana.types.duplicates import duplicate_definitions, duplicate_message
from dana.types.state_keys import literal_keys
from dana.workflow.template import Hook, StepPolicy
from dana.runtime.rtypes import RuntimeType, compile_type, is_own_struct
from dana.runtime.scopes import FrameLayout, resolve
from dana.runtime.stack import with_room
from dana.runtime.step_options import ERROR_LISTS, HOOKS, OPTION_NAMES, plain_value
from dana.runtime.values import (UNSET, describe_type, ErrorType, ErrorValue, FieldSpec, InterfaceValue,
                                 StructType, error_matches, type_name)



class StatementCompiler(ExpressionCompiler):
    """Compiles statements; `block` turns a statement tuple into one closure."""

    def __init__(self, runtime: Any, globals_: dict[str, Any], scope: FrameLayout,
                 checked: Any = None) -> None:
        super().__init__(runtime, globals_, scope, checked)
        self.handler_slots: list[int] = []
        self.loops = 0  # loops enclosing the statement being compiled, in this function
        self._stmts: dict[type, Callable[[Any], Closure]] = {
            A.ExprStmt: self.s_expr, A.AssignStmt: self.s_assign, A.AnnAssignStmt: self.s_annassign,
            A.AugAssignStmt: self.s_augassign, A.IfStmt: self.s_if, A.WhileStmt: self.s_while,
            A.ForStmt: self.s_for, A.BreakStmt: self.s_loop_jump,
            A.ContinueStmt: self.s_loop_jump, A.PassStmt: lambda n: lambda f: None,
            A.NonlocalStmt: self.s_nonlocal,
            A.ReturnStmt: self.s_return, A.RaiseStmt: self.s_raise, A.AssertStmt: self.s_assert,
            A.ImportStmt: self.s_import, A.FromImportStmt: self.s_from_import,
            A.TryStmt: self.s_try,
            A.FuncDecl: self.s_funcdef, A.StructDecl: self.s_struct,
            A.InterfaceDecl: self.s_interface, A.WorkflowDecl: self.s_workflow,
            A.WorkflowComposeDecl: self.s_workflow_compose, A.ParallelStmt: self.s_parallel,
            A.ParallelForStmt: self.s_parallel,
        }

    def stmt(self, node: A.Stmt) -> Closure:
        try:
            method = self._stmts[type(node)]
        except KeyError:
            raise AssertionError(f"internal error: no compiler for {type(node).__name__}")
        return method(node)

    def statements(self, body: tuple) -> tuple[Closure, ...]:
        """Each statement of `body` compiled, in order; each knowing the locals the
        ones before it assign (`FrameLayout.assigned`), which a nested block's do not
        outlive."""
        known = self.scope.assigned
        try:
            out = []
            for s in body:
                out.append(self.stmt(s))
                self.scope.assigned |= self.assigns(s)
            return tuple(out)
        finally:
            self.scope.assigned = known

    def assigns(self, node: A.Stmt) -> frozenset[int]:
        """The local slots statement `node` has assigned when it completes (those of
        names assigned to; not a block's, which may not run)."""
        kind = node.__class__
        if kind is A.AssignStmt:
            targets = node.targets
        elif kind is A.AugAssignStmt or (kind is A.AnnAssignStmt and node.value is not None):
            targets = (node.target,)
        else:
            return frozenset()
        return frozenset(self._target_slots(targets))

    def _target_slots(self, targets: tuple) -> Iterator[int]:
        for target in targets:
            if target.__class__ in (A.TupleExpr, A.ListExpr):
                yield from self._target_slots(target.items)
            elif target.__class__ is A.NameExpr:
                slot = self.local_slot(target)
                if slot is not None:
                    yield slot

    def block(self, body: tuple) -> Closure:
        """One closure running `body` in order; stops at the first control signal.
        Statements are not counted: loops count their iterations and functions their
        calls (`Runtime.checkpoint`)."""
        stmts = self.statements(body)
        if len(stmts) == 1:
            return stmts[0]
        if len(stmts) == 2:
            first, second = stmts

            def pair(f: list) -> Any:
                signal = first(f)
                if signal is not None:
                    return signal
                return second(f)
            return pair

        def run(f: list) -> Any:
            for s in stmts:
                signal = s(f)
                if signal is not None:
                    return signal
            return None
        return run

    # ------------------------------------------------------------ assignment
    def target(self, node: A.Expr) -> Callable[[list, Any], None]:
        """A closure `store(frame, value)` for an assignment target."""
        if isinstance(node, A.NameExpr):
            return self._name_target(node)
        if isinstance(node, A.AttributeExpr):
            obj, name, span = self.expr(node.obj), node.name, node.span
            return lambda f, v: P.set_attr(obj(f), name, v, span)
        if isinstance(node, A.IndexExpr):
            obj, index, span = self.expr(node.obj), self.expr(node.index), node.span
            return lambda f, v: P.set_item(obj(f), index(f), v, span)
        if isinstance(node, (A.TupleExpr, A.ListExpr)):
            return self._unpack_target(node)
        raise DanaSyntaxError.of(S.BAD_TARGET, node.span, what="this expression")

    def _name_target(self, node: A.NameExpr) -> Callable[[list, Any], None]:
        name = node.name
        if node.scope not in (None, "local"):
            table = self.rt.scoped[node.scope]

            def store_scoped(f: list, v: Any) -> None:
                table[name] = v
            return store_scoped
        if self.scope.kind == "module":
            g = self.globals

            def store_global(f: list, v: Any) -> None:
                g[name] = v
            return store_global
        if name in self.scope.nonlocals:
            return self._outer_target(name, node.span)
        slot = self.scope.add(name)

        def store_local(f: list, v: Any) -> None:
            f[slot] = v
        return store_local

    def _parallel_assign(self, targets: tuple, values: tuple) -> Closure:
        """`a, b = x, y`: every value first, then each store; no tuple is built."""
        computed = [self.expr(v) for v in values]
        stores = [self.target(t) for t in targets]
        slots = [self.local_slot(t) for t in targets]
        if len(slots) == 2 and None not in slots:  # `x, y = y, x + y` on locals
            (first, second), (one, two) = computed, slots

            def assign_two(f: list) -> None:
                a, b = first(f), second(f)
                f[one] = a
                f[two] = b
            return assign_two
        pairs = list(zip(stores, range(len(stores))))

        def assign(f: list) -> None:
            results = [c(f) for c in computed]
            for store, i in pairs:
                store(f, results[i])
        return assign

    def local_slot(self, node: A.Expr) -> int | None:
        """The frame slot of a plain local-variable target, else None."""
        if isinstance(node, A.NameExpr) and node.scope in (None, "local") and \
                self.scope.kind != "module" and node.name not in self.scope.nonlocals:
            return self.scope.add(node.name)
        return None

    def _outer_target(self, name: str, span: Any) -> Callable[[list, Any], None]:
        """A store into the enclosing function's variable `name` (declared `nonlocal`)."""
        where = resolve(self.scope.parent, name) if self.scope.parent else None
        if where is None:
            raise DanaSyntaxError.of(M.NONLOCAL_UNBOUND, span, name=name)
        depth, slot = where[0] + 1, where[1]

        def store_outer(f: list, v: Any) -> None:
            for _ in range(depth):
                f = f[0]
            f[slot] = v
        return store_outer

    def s_nonlocal(self, node: A.NonlocalStmt) -> Closure:
        """Python's checks, when the function is compiled; the statement itself does
        nothing at run time."""
        if self.scope.kind != "function":
            raise DanaSyntaxError.of(M.NONLOCAL_AT_MODULE, node.span)
        for name in node.names:
            if name in self.scope.slots:
                raise DanaSyntaxError.of(M.NONLOCAL_PARAM, node.span, name=name)
            self._outer_target(name, node.span)
        return lambda f: None

    def _unpack_target(self, node: A.TupleExpr | A.ListExpr) -> Callable[[list, Any], None]:
        stores = [self.target(t) for t in node.items]
        count, span = len(stores), node.span

        def unpack(f: list, value: Any) -> None:
            items = list(self.iterate(value, span))
            if len(items) != count:
                raise rule_error("ValueError", M.UNPACK_MISMATCH, span, given=len(items),
                                 s="s" * (len(items) != 1), wanted=count, t="s" * (count != 1))
            for store, item in zip(stores, items):
                store(f, item)
        return unpack

    def s_expr(self, node: A.ExprStmt) -> Closure:
        return I.evaluate(self.emitted(node.expr))

    def s_assign(self, node: A.AssignStmt) -> Closure:
        if len(node.targets) == 1 and _parallel(node.targets[0], node.value):
            return self._parallel_assign(node.targets[0].items, node.value.items)
        stores = [self.target(t) for t in node.targets]
        slot = self.local_slot(node.targets[0]) if len(stores) == 1 else None
        if slot is not None:
            return I.assign_local(slot, self.emitted(node.value))
        value = self.expr(node.value)
        if len(stores) == 1:
            store = stores[0]

            def assign_one(f: list) -> None:
                store(f, value(f))
            return assign_one

        def assign(f: list) -> None:
            v = value(f)
            for s in stores:
                s(f, v)
        return assign

    def s_annassign(self, node: A.AnnAssignStmt) -> Closure:
        rtype = compile_type(node.annotation, self.lookup_type)
        store = self.target(node.target)
        if node.value is None:
            return lambda f: None
        value, span, name = self.expr(node.value), node.span, node.target.name

        def assign(f: list) -> None:
            v = rtype.coerce(value(f))
            if not rtype.check(v):
                raise rule_error("TypeError", M.ASSIGN_MISMATCH, span, src=describe_type(v),
                                 target=f"`{name}`", dst=rtype.name)
            store(f, v)
        return assign

    def aug_value(self, node: A.AugAssignStmt) -> Closure:
        """The closure computing the new value of `target op= value`."""
        return O.binary(node.op, self.operand(node.target), self.operand(node.value),
                        node.span, self.rt.limits, node.op + "=")

    def s_augassign(self, node: A.AugAssignStmt) -> Closure:
        compute = self.aug_value(node)
        slot = self.local_slot(node.target)
        if slot is not None:
            def aug_local(f: list) -> None:
                f[slot] = compute(f)
            return aug_local
        store = self.target(node.target)
        return lambda f: store(f, compute(f))

    # ------------------------------------------------------------ control flow
    def s_if(self, node: A.IfStmt) -> Closure:
        if not node.orelse and _returns_value(node.body) and self.scope.kind != "module":
            return I.if_return(self.emitted(node.cond), self.emitted(node.body[0].value),
                               *self.return_check(node.body[0].span))
        cond, body = self.inline(node.cond), self.block(node.body)
        return I.if_(cond, body, self.block(node.orelse) if node.orelse else None)

    def s_loop_jump(self, node: A.BreakStmt | A.ContinueStmt) -> Closure:
        word, signal = ("break", BREAK) if isinstance(node, A.BreakStmt) else ("continue", CONTINUE)
        if not self.loops:
            raise DanaSyntaxError.of(M.LOOP_CONTROL_OUTSIDE, node.span, what=word)
        return lambda f: signal

    def s_while(self, node: A.WhileStmt) -> Closure:
        return loops.loop(self, node)

    def s_for(self, node: A.ForStmt) -> Closure:
        return loops.loop(self, node)

    def s_return(self, node: A.ReturnStmt) -> Closure:
        if self.scope.kind == "module":
            raise DanaSyntaxError.of(M.RETURN_OUTSIDE, node.span)
        value = self.emitted(node.value if node.value is not None else A.LiteralExpr(node.span, None))
        # under `-> T` the value is checked (int widened to float) here, so a wrong value
        # is reported at this `return` (docs/language.md "Functions"); the call adds the
        # "in f" traceback note
        return I.return_(value, *self.return_check(node.span))

    def tail(self, node: A.ReturnStmt) -> I.Snippet:
        """A function body's closing `return value` as the snippet its entry embeds
        (`dana.runtime.entries`)."""
        return I.returning(self.emitted(node.value), *self.return_check(node.span))

    def return_check(self, span: Any) -> tuple[RuntimeType | None, Callable[[Any], Any] | None]:
        """For a `return` at `span`: the declared return type (its values that need no
        check: `rtypes.unchecked_test`), and `check(v)` (v widened, or TypeError at
        `span`); (None, None) when the function declares no return type."""
        if self.scope.returns is None:
            return None, None
        label, rtype = self.scope.returns

        def check(v: Any) -> Any:
            if is_own_struct(rtype, v):
                return v
            v = rtype.coerce(v)
            if not rtype.check(v):
                raise rule_error("TypeError", M.RETURN_MISMATCH, span, func=label,
                                 dst=rtype.name, src=describe_type(v, rtype.name))
            return v
        return rtype, check

    def s_raise(self, node: A.RaiseStmt) -> Closure:
        span = node.span
        if node.exc is None:
            if not self.handler_slots:
                raise DanaSyntaxError.of(S.BARE_RAISE_OUTSIDE, span)
            slot = self.handler_slots[-1]

            def reraise(f: list) -> None:
                raise f[slot]
            return reraise
        exc = self.expr(node.exc)
        cause = self.expr(node.cause) if node.cause is not None else None

        def raise_(f: list) -> None:
            ev = P.make_error_value(exc(f), span)
            notes: tuple[str, ...] = ()
            if cause is not None:
                # `raise E from C` (Python's explicit chaining): C is shown with the error;
                # `from None` shows nothing.
                value = cause(f)
                if value is not None:
                    caused = P.make_error_value(value, node.cause.span)
                    notes = (f"caused by {caused.type}: {caused.message}",)
            raise DanaRuntimeError(ev.type, ev.message, span, value=ev, notes=notes)
        return raise_

    def s_assert(self, node: A.AssertStmt) -> Closure:
        cond, span = self.expr(node.cond), node.span
        message = self.expr(node.message) if node.message is not None else None

        def assert_(f: list) -> None:
            if not cond(f):
                text = str(message(f)) if message is not None else "assertion failed"
                raise P.error("AssertionError", text, span)
        return assert_

    def s_try(self, node: A.TryStmt) -> Closure:
        body = self.block(node.body)
        handlers = [self._handler(h) for h in node.handlers]
        orelse = self.block(node.orelse) if node.orelse else None
        final = self.block(node.finalbody) if node.finalbody else None

        def try_(f: list) -> Any:
            try:
                signal = body(f)
            except DanaRuntimeError as exc:
                if not exc.catchable:
                    raise
                for matches, run in handlers:
                    if matches(f, exc):
                        return run(f, exc)
                raise
            else:
                if orelse is not None:
                    signal = orelse(f)
            finally:
                if final is not None:
                    final_signal = final(f)
                    if final_signal is not None:
                        return final_signal  # noqa: B012 - Python semantics of finally
            return signal
        return try_

    def _handler(self, h: A.Handler) -> tuple[Callable, Callable]:
        slot = self.scope.temp()
        kind = self.expr(h.type) if h.type is not None else None
        bind = self.target(A.NameExpr(h.span, h.name)) if h.name else None
        self.handler_slots.append(slot)
        try:
            body = self.block(h.body)
        finally:
            self.handler_slots.pop()

        def matches(f: list, exc: DanaRuntimeError) -> bool:
            return kind is None or error_matches(exc.dana_type, kind(f))

        def run(f: list, exc: DanaRuntimeError) -> Any:
            f[slot] = exc
            if bind is not None:
                bind(f, _caught(exc))
            return body(f)
        return matches, run

    def s_parallel(self, node: A.ParallelStmt | A.ParallelForStmt) -> Closure:
        raise DanaSyntaxError.of(S.PARALLEL_OUTSIDE_STEPS, node.span)

    # ------------------------------------------------------------ imports
    def s_import(self, node: A.ImportStmt) -> Closure:
        store = self.target(A.NameExpr(node.span, node.alias or node.module.split(".")[-1]))
        load, name, span = self.rt.load_module, node.module, node.span
        source = span.source
        return lambda f: store(f, load(name, source, span))

    def s_from_import(self, node: A.FromImportStmt) -> Closure:
        names = [n for n, _ in node.names]
        stores = [self.target(A.NameExpr(node.span, a or n)) for n, a in node.names]
        load, module, span = self.rt.import_names, node.module, node.span

        def from_import(f: list) -> None:
            for store, value in zip(stores, load(module, names, span)):
                store(f, value)
        return from_import

    # ------------------------------------------------------------ definitions
    def s_funcdef(self, node: A.FuncDecl) -> Closure:
        params = ((node.receiver,) if node.receiver else ()) + node.params
        make = self.function_factory(node.name, params, node.returns, node.body, node.span,
                                     node.docstring, A.callable_label(node))
        options = self._step_options(node.decorators)
        store = None if node.receiver else self.target(A.NameExpr(node.span, node.name))
        owners = _type_names(params[0].annotation) if params and params[0].annotation else []
        local_owners = [(o, self._local_value(o)) for o in owners]
        register, name = self.rt.register_method, node.name
        explicit = node.receiver is not None
        keys = _state_keys(node.body, frozenset({"state"} | {p.name for p in params
                                                             if _is_state(p)}))

        def define(f: list) -> None:
            fn = make(f)
            fn.state_keys = keys
            if options is not None:
                fn.step_options = options(f)
            for owner, local in local_owners:
                register(self.globals, owner, name, fn, explicit,
                         local(f) if local is not None else None)
            if store is not None:
                store(f, fn)
        return define

    def _local_value(self, name: str) -> Callable[[list], Any] | None:
        """A reader of local variable `name` of the function being compiled (None while
        it is unassigned), or None when `name` is not local: a struct declared in a
        function body owns the receiver methods declared beside it."""
        where = resolve(self.scope, name)
        if where is None:
            return None
        depth, slot = where

        def read(f: list) -> Any:
            for _ in range(depth):
                f = f[0]
            value = f[slot]
            return None if value is UNSET else value
        return read

    def _step_options(self, decorators: tuple) -> Callable[[list], StepPolicy] | None:
        if not decorators:
            return None
        for d in decorators:
            if d.name != "step":
                raise DanaSyntaxError.of(M.UNKNOWN_DECORATOR, d.span, name=d.name)
        args = decorators[-1].args or ()
        for a in args:
            if a.name not in OPTION_NAMES:
                raise DanaSyntaxError.of(M.UNKNOWN_STEP_OPTION, a.span, name=a.name or "?")
        values = [(a.name, self.expr(a.value), a.span) for a in args]

        keyed = any(a.name == "cache_key" for a in args) and all(a.name != "cache" for a in args)

        def build(f: list) -> StepPolicy:
            opts = StepPolicy(cache=keyed)  # `cache_key=fn` implies `cache=True`
            for key, fn, span in values:
                setattr(opts, key, _option_value(key, fn(f), span))
            return opts
        return build

    def s_struct(self, node: A.StructDecl) -> Closure:
        compiled = []
        for fd in node.fields:
            rtype = compile_type(fd.annotation, self.lookup_type)
            default = self.expr(fd.default) if fd.default is not None else None
            compiled.append((fd.name, rtype, default))
        store, name, doc = self.target(A.NameExpr(node.span, node.name)), node.name, node.docstring
        adopt, known = self.rt.adopt_methods, self.rt.struct_types
        origin = node.span.source.name

        def define(f: list) -> None:
            fields = {n: FieldSpec(n, t.name, t.check, t.coerce,
                                   (lambda d=d: d(f)) if d is not None else None, t.from_json,
                                   t.exact)
                      for n, t, d in compiled}
            struct = StructType(name, fields, doc, origin=origin)
            adopt(struct)
            known[name] = struct
            store(f, struct)
        return define

    def s_interface(self, node: A.InterfaceDecl) -> Closure:
        store = self.target(A.NameExpr(node.span, node.name))
        methods = tuple(m.name for m in node.methods)
        value = InterfaceValue(node.name, methods, node.embeds, self.globals)
        return lambda f: store(f, value)

    def s_workflow(self, node: A.WorkflowDecl) -> Closure:
        store = self.target(A.NameExpr(node.span, node.name))
        make = self.rt.workflow_compiler(self, node)
        return lambda f: store(f, make(f))

    def s_workflow_compose(self, node: A.WorkflowComposeDecl) -> Closure:
        store = self.target(A.NameExpr(node.span, node.name))
        make = self.rt.workflow_composer(self, node)
        return lambda f: store(f, make(f))


def _returns_value(body: tuple) -> bool:
    return len(body) == 1 and isinstance(body[0], A.ReturnStmt) and body[0].value is not None


def _parallel(target: A.Expr, value: A.Expr) -> bool:
    """True for `a, b = x, y`: a tuple of as many plain names as the tuple of values."""
    return (isinstance(target, A.TupleExpr) and isinstance(value, A.TupleExpr)
            and len(target.items) == len(value.items)
            and all(isinstance(t, A.NameExpr) for t in target.items))


@functools.lru_cache(maxsize=1024)  # the AST is immutable: once per body (scopes.py)
def _state_keys(body: tuple, names: frozenset[str]) -> frozenset[str] | None:
    """`state_keys.literal_keys` of a function body whose state is `names`."""
    return literal_keys(body, names)


def _is_state(param: A.Param) -> bool:
    """A parameter typed `WorkflowState` (it receives the state when a step runs)."""
    return "WorkflowState" in _type_names(param.annotation) if param.annotation else False


def _type_names(texpr: Any) -> list[str]:
    if isinstance(texpr, A.UnionType):
        return [n for o in texpr.options for n in _type_names(o)]
    return [texpr.name] if isinstance(texpr, A.TypeName) and not texpr.args else []


def _option_value(key: str, value: Any, span: Any) -> Any:
    """A checked `@step(key=value)` option as the `StepPolicy` field (docs/workflows.md "Steps")."""
    if key in HOOKS:
        return _hook(key, value, span)
    if key in ERROR_LISTS and value is not None:
        return _error_type_names(key, value, span)
    return plain_value(key, value, span)


def _error_type_names(key: str, value: Any, span: Any) -> tuple[str, ...]:
    """`retry_on=[TimeoutError, StepError]` as the names of the error types."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(t, ErrorType) for t in value):
        raise rule_error("TypeError", M.BAD_STEP_OPTION, span, name=key,
                         expected="a list of error types", src=describe_type(value))
    return tuple(t.name for t in value)


def _hook(key: str, fn: Any, span: Any) -> Hook | None:
    """`validate=check` is called as check(state) -> bool; `rollback=undo` as
    undo(state, error) with the {type, message, step} record a steps-block `handle E as e`
    binds; `cache_key=key` as key(state, input) -> the value a cache entry is keyed on."""
    if fn is None:
        return None
    if getattr(fn, "invoke", None) is None and not callable(fn):
        raise rule_error("TypeError", M.BAD_STEP_OPTION, span, name=key, expected="a function",
                         src=type_name(fn))
    name = getattr(fn, "name", None) or type_name(fn)
    return Hook(name, lambda *args: P.call(fn, list(args), {}, span))


def compile_module(runtime: Any, module: A.Module, globals_: dict[str, Any],
                   checked: Any = None) -> Callable[[], None]:
    """Compile a module; the result runs its top-level code in `globals_`. `checked`: the
    checker's `CheckResult` for `module` (None: unchecked), whose types specialise the
    closures (`dana.runtime.numeric`)."""
    for dup in duplicate_definitions(module.body):
        msg, fields = duplicate_message(dup)
        raise DanaSyntaxError.of(msg, dup.span, **fields)
    scope = FrameLayout("module", None)
    compiler = StatementCompiler(runtime, globals_, scope, checked)
    body = compiler.block(module.body) if module.body else (lambda f: None)

    def run() -> None:
        frame = [None, None] + [None] * (scope.size - 2)
        with_room(body, frame)
    return run


def _caught(exc: DanaRuntimeError) -> ErrorValue:
    """The Dana value a handler binds for `exc`: the raised error value itself, or a new
    one; its `line` is where the error was raised."""
    line = exc.span.line if exc.span is not None else 0
    if isinstance(exc.value, ErrorValue):
        if not exc.value.line:
            exc.value.line = line
        return exc.value
    return ErrorValue(exc.dana_type, exc.message, line)
