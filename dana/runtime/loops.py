"""Loops compiled to one Python function: a `for` or `while` with its body written inline.

Consumes: a loop statement and the `StatementCompiler` compiling it: `inline(expr)` (an
expression's fused text, `dana.runtime.fused`, and its closure), `stmt(node)` (the closure
of any statement), the frame slots of local targets, `iterate` and the runtime.
Produces: `loop(compiler, node) -> fn(frame) -> signal` (docs/language.md "Statements"):
the Python source of the whole loop, compiled once. Inside it, assignments and augmented
assignments to local variables, `if`, nested loops, `break`, `continue`, `pass` and
`return` are Python statements over the frame list, and a pure expression is evaluated in
the loop's own Python frame under `try`; when its text raises, or when an expression is
not pure, its closure runs (and raises the exact Dana error at its span). Any other
statement runs through its closure, and the signal it returns is obeyed.

Each pass of each loop counts one operation and calls `Runtime.checkpoint` when the
counter passes `next_check`, like the closure loops did (docs/language.md "Safety and
limits"); a `for` loop holds its container (`protocol.hold`) so the body cannot change it.
Python caps statically nested blocks at 20: statements nested deeper than `MAX_BLOCKS`,
and those past `MAX_LINES` lines of generated code, run through their closures.
"""

from __future__ import annotations

from typing import Any, Callable

from dana.errors import runtime_error
from dana.messages import runtime as R
from dana.syntax import ast as A
from dana.runtime import protocol as P
from dana.runtime.functions import BREAK, CONTINUE, RETURN
from dana.runtime.shapes import check_keys, length
from dana.runtime.fused import Fuser, closure
from dana.runtime.operators import Operand
from dana.runtime.rtypes import unchecked_test
from dana.runtime.values import UNSET
from dana.types.types import DictT, ListT

Closure = Callable[[list], Any]

MAX_BLOCKS = 14
"""Python blocks (loops, `try`, `if`) the generated code nests at most; deeper statements
are called as closures."""
MAX_LINES = 400
"""Lines of one generated function past which further statements are called as closures:
CPython's compile time grows faster than the size of a function, so a long loop body is
compiled in parts."""

# statements whose closures never return a control signal
_NO_SIGNAL = (A.ExprStmt, A.AssignStmt, A.AnnAssignStmt, A.AugAssignStmt, A.PassStmt,
              A.FuncDecl, A.StructDecl, A.InterfaceDecl, A.ImportStmt, A.FromImportStmt,
              A.NonlocalStmt, A.AssertStmt, A.RaiseStmt)


def loop(compiler: Any, node: A.ForStmt | A.WhileStmt) -> Closure:
    """The closure running loop `node` (compiled by `compiler`, a StatementCompiler)."""
    writer = _Writer(compiler)
    writer.statement(node, 3)
    source = ("def make({args}):\n    def loop(f):\n{counting}\n{body}\n"
              "        finally:\n            rt.operations += done\n        return None\n"
              "    return loop\n")
    text = source.format(args=", ".join(writer.args), counting=_COUNTING,
                         body="\n".join(writer.lines))
    return closure(text, "loop", **writer.args)


# Operations are counted in the generated function's locals: `done` passes not yet added
# to `Runtime.operations`, `room` how many more it may count before the next checkpoint.
# They are added before each call that may count operations itself (a Dana call, a
# loop in a closure), when a checkpoint is due, and when the function ends, so the
# counter and its checks are exact (docs/language.md "Safety and limits").
_COUNTING = ("        done = 0\n        room = rt.next_check - rt.operations\n        try:")


class _Writer:
    """Writes the lines of one loop function; `args` are the values its code names."""

    def __init__(self, compiler: Any) -> None:
        self.c = compiler
        self.lines: list[str] = []
        self.args: dict[str, Any] = {"rt": compiler.rt, "hold": P.hold, "release": P.release,
                                     "iterate": compiler.iterate, "set_item": P.set_item,
                                     "ITERATED": P.ITERATED}
        self.loops = 0  # Python loops open around the line being written
        self.blocks = 1  # Python blocks open around the line being written (the `try`)
        self.names = 0

    def ref(self, value: Any, prefix: str) -> str:
        """The name under which the generated code reads `value`."""
        self.names += 1
        name = f"{prefix}{self.names}"
        self.args[name] = value
        return name

    def put(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    # ------------------------------------------------------------ statements
    def body(self, stmts: tuple, indent: int, binds: frozenset[int] = frozenset()) -> None:
        """`stmts` at `indent`; each knows the locals assigned before it (`binds`: by the
        loop's target), as `StatementCompiler.statements` does."""
        if not stmts:
            self.put(indent, "pass")
        scope = self.c.scope
        known = scope.assigned
        scope.assigned |= binds
        try:
            for s in stmts:
                self.statement(s, indent)
                scope.assigned |= self.c.assigns(s)
        finally:
            scope.assigned = known

    def statement(self, node: A.Stmt, indent: int) -> None:
        kind = node.__class__
        write = _WRITERS.get(kind)
        if write is None or (kind in _COMPOUND and self.blocks + 3 > MAX_BLOCKS) \
                or len(self.lines) > MAX_LINES or not write(self, node, indent):
            self.through_closure(node, indent)

    def through_closure(self, node: A.Stmt, indent: int) -> None:
        """Run the statement's closure and obey the signal it returns."""
        name = self.ref(self.c.stmt(node), "s")
        if isinstance(node, _NO_SIGNAL):
            self.call(f"{name}(f)", indent)
            return
        self.call(f"sig = {name}(f)", indent)
        self.put(indent, "if sig is not None:")
        if self.loops:
            self.put(indent + 1, f"if sig == {BREAK}:")
            self.put(indent + 2, "break")
            self.put(indent + 1, f"if sig == {CONTINUE}:")
            self.put(indent + 2, "continue")
        self.put(indent + 1, "return sig")

    def value(self, var: str, node: A.Expr, indent: int) -> None:
        """Lines setting `var` to the value of expression `node`."""
        code, fn = self.c.inline(node)
        if code is None:
            self.emitted(var, node, indent)
            return
        name = self.ref(fn, "e")
        if node.__class__ is A.LiteralExpr or code[:2] == "f[" and code[2:-1].isdigit():
            self.put(indent, f"{var} = {code}")  # a literal, a slot that is assigned
            return
        self.put(indent, "try:")
        self.put(indent + 1, f"{var} = {code}")
        self.put(indent, "except Exception:")
        self.put(indent + 1, f"{var} = {name}(f)")

    def emitted(self, var: str, node: A.Expr, indent: int) -> None:
        """Lines setting `var` to the value of `node`, which is not pure, written inline
        (`ExpressionCompiler.emitted`: calls enter Dana functions from this frame); the
        passes counted so far are added first, as before any call."""
        emitted = self.c.emitted(node)
        self.names += 1
        prefix, temp = f"x{self.names}_", f"x{self.names}"
        self.args.update(emitted.names(prefix))
        self.put(indent, "rt.operations += done")
        self.put(indent, "done = 0")
        for line in emitted.lines(temp, prefix).splitlines():
            self.put(indent, line)
        self.put(indent, f"{var} = {temp}")
        self.put(indent, "room = rt.next_check - rt.operations")

    def assign(self, node: A.AssignStmt, indent: int) -> bool:
        if len(node.targets) != 1:
            return False
        target, value = node.targets[0], node.value
        if isinstance(target, A.TupleExpr) and isinstance(value, A.TupleExpr) \
                and len(target.items) == len(value.items):
            slots = [self.c.local_slot(t) for t in target.items]
            if None in slots:
                return False
            for i, item in enumerate(value.items):
                self.value(f"v{i}", item, indent)
            for i, slot in enumerate(slots):
                self.put(indent, f"f[{slot}] = v{i}")
            return True
        if target.__class__ is A.IndexExpr:
            self.value("v", value, indent)
            self.store_item(target, indent)
            return True
        slot = self.c.local_slot(target)
        if slot is None:
            return False
        self.value(f"f[{slot}]", value, indent)
        return True

    def store_item(self, target: A.IndexExpr, indent: int) -> None:
        """`obj[key] = v` (v computed): a list item or a dict key (of a scalar) stored in
        place, unless a loop iterates over the container; else `protocol.set_item`,
        which raises the Dana error."""
        slots = [self.c.operand(n).slot_text if n.__class__ is A.NameExpr else None
                 for n in (target.obj, target.index)]
        bare = None not in slots
        if bare:  # read as they are: an unassigned local (UNSET) fails the test below
            self.put(indent, f"o = {slots[0]}")
            self.put(indent, f"k = {slots[1]}")
        else:
            self.value("o", target.obj, indent)
            self.value("k", target.index, indent)
        span = self.ref(target.span, "span")
        self.put(indent, f"if {_store_test(self.c.type_of, target.obj)} "
                         "and id(o) not in ITERATED:")
        self.put(indent + 1, "try:")
        self.put(indent + 2, "o[k] = v")
        self.put(indent + 1, "except Exception:")
        self.put(indent + 2, f"set_item(o, k, v, {span})")
        self.put(indent, "else:")
        if bare:  # their closures raise an unassigned local's error
            self.value("o", target.obj, indent + 1)
            self.value("k", target.index, indent + 1)
        self.put(indent + 1, f"set_item(o, k, v, {span})")

    def augassign(self, node: A.AugAssignStmt, indent: int) -> bool:
        binop = A.BinOpExpr(node.span, node.op, node.target, node.value)
        code = Fuser(self.c.operand, self.c.type_of).code(binop)
        if node.target.__class__ is A.IndexExpr:  # evaluated twice, as the closure does
            compute = self.ref(self.c.aug_value(node), "e")
            if code is None:
                self.call(f"v = {compute}(f)", indent)
            else:  # pure: its closure calls no function either
                self.put(indent, "try:")
                self.put(indent + 1, f"v = {code}")
                self.put(indent, "except Exception:")
                self.put(indent + 1, f"v = {compute}(f)")
            self.store_item(node.target, indent)
            return True
        slot = self.c.local_slot(node.target)
        if slot is None:
            return False
        name = self.ref(self.c.stmt(node), "s")
        if code is None:
            self.call(f"{name}(f)", indent)
            return True
        self.put(indent, "try:")
        self.put(indent + 1, f"f[{slot}] = {code}")
        self.put(indent, "except Exception:")
        self.put(indent + 1, f"{name}(f)")
        return True

    def if_(self, node: A.IfStmt, indent: int) -> bool:
        self.value("c", node.cond, indent)
        self.blocks += 1
        self.put(indent, "if c:")
        self.body(node.body, indent + 1)
        if node.orelse:
            self.put(indent, "else:")
            self.body(node.orelse, indent + 1)
        self.blocks -= 1
        return True

    def while_(self, node: A.WhileStmt, indent: int) -> bool:
        self.blocks += 1
        self.put(indent, "while True:")
        self.value("c", node.cond, indent + 1)
        self.put(indent + 1, "if not c:")
        self.put(indent + 2, "break")
        self.count(node.cond.span, indent + 1)
        self.loop_body(node.body, indent + 1)
        self.blocks -= 1
        return True

    def for_(self, node: A.ForStmt, indent: int) -> bool:
        n, span = self.names, self.ref(node.iter.span, "span")
        self.value(f"seq{n}", node.iter, indent)
        self.put(indent, f"held{n} = hold(seq{n})")
        self.blocks += 2
        self.put(indent, "try:")
        self.put(indent + 1, f"for item{n} in iterate(seq{n}, {span}):")
        self.count(node.iter.span, indent + 2, span)
        self.bind(node.target, f"item{n}", indent + 2)
        self.loop_body(node.body, indent + 2,
                       self.c.assigns(A.AssignStmt(node.span, (node.target,), node.target)))
        self.put(indent, "finally:")
        self.put(indent + 1, f"release(held{n})")
        self.blocks -= 2
        return True

    def count(self, span: Any, indent: int, name: str | None = None) -> None:
        """One operation per pass; the slow path `checkpoint` reports at `span`."""
        name = name or self.ref(span, "span")
        self.put(indent, "done += 1")
        self.put(indent, "if done > room:")
        self.put(indent + 1, "rt.operations += done")
        self.put(indent + 1, "done = 0")
        self.put(indent + 1, f"rt.checkpoint({name})")
        self.put(indent + 1, "room = rt.next_check - rt.operations")

    def call(self, line: str, indent: int) -> None:
        """`line`, a call of a closure that may count operations, with the passes counted
        so far added first and the room left read again after."""
        self.put(indent, "rt.operations += done")
        self.put(indent, "done = 0")
        self.put(indent, line)
        self.put(indent, "room = rt.next_check - rt.operations")

    def bind(self, target: A.Expr, item: str, indent: int) -> None:
        """Store a `for` loop's item in its target."""
        slot = self.c.local_slot(target)
        if slot is not None:
            self.put(indent, f"f[{slot}] = {item}")
            return
        store = self.ref(self.c.target(target), "store")
        slots = [self.c.local_slot(t) for t in target.items] \
            if isinstance(target, (A.TupleExpr, A.ListExpr)) else [None]
        if None in slots:
            self.call(f"{store}(f, {item})", indent)
            return
        # a pair (or any tuple of the right length) unpacks without a call
        stores = ", ".join(f"f[{s}]" for s in slots)
        self.put(indent, f"if {item}.__class__ is tuple and len({item}) == {len(slots)}:")
        self.put(indent + 1, f"{stores}{',' if len(slots) == 1 else ''} = {item}")
        self.put(indent, "else:")
        self.call(f"{store}(f, {item})", indent + 1)

    def loop_body(self, stmts: tuple, indent: int, binds: frozenset[int] = frozenset()) -> None:
        self.loops += 1
        self.c.loops += 1  # `break` in a statement run through its closure is allowed
        try:
            self.body(stmts, indent, binds)
        finally:
            self.loops -= 1
            self.c.loops -= 1

    def jump(self, node: A.BreakStmt | A.ContinueStmt, indent: int) -> bool:
        if not self.loops:
            return False
        self.put(indent, "break" if node.__class__ is A.BreakStmt else "continue")
        return True

    def pass_(self, node: A.PassStmt, indent: int) -> bool:
        return True

    def return_(self, node: A.ReturnStmt, indent: int) -> bool:
        if self.c.scope.kind == "module":
            return False
        if node.value is None:
            self.put(indent, "f[1] = None")
        else:
            self.value("v", node.value, indent)
            returns, check = self.c.return_check(node.span)
            if check is not None:
                self.names += 1
                prefix = f"r{self.names}_"
                test, values = unchecked_test(returns, "v", prefix)
                self.args.update((prefix + name, value) for name, value in values.items())
                self.put(indent, f"if {test}:")
                self.put(indent + 1, f"v = {self.ref(check, 'check')}(v)")
            self.put(indent, "f[1] = v")
        self.put(indent, f"return {RETURN}")
        return True


def _store_test(type_of: Callable[[A.Expr], Any] | None, obj: A.Expr) -> str:
    """The test that `o[k] = v` stores in place: `o` a dict and `k` a scalar key, or `o`
    a list and `k` an int; only the one the checker proved `obj` to be (either, unchecked).
    Any other value takes `protocol.set_item`."""
    t = type_of(obj) if type_of is not None else None
    tests = {"dict": "o.__class__ is dict and k.__class__ in KEYS",
             "list": "o.__class__ is list and k.__class__ is int"}
    if isinstance(t, (ListT, DictT)):
        return tests["list" if isinstance(t, ListT) else "dict"]
    return f"({tests['dict']} or {tests['list']})"


_WRITERS: dict[type, Callable[[_Writer, Any, int], bool]] = {
    A.AssignStmt: _Writer.assign, A.AugAssignStmt: _Writer.augassign, A.IfStmt: _Writer.if_,
    A.WhileStmt: _Writer.while_, A.ForStmt: _Writer.for_, A.BreakStmt: _Writer.jump,
    A.ContinueStmt: _Writer.jump, A.PassStmt: _Writer.pass_, A.ReturnStmt: _Writer.return_,
}
_COMPOUND = (A.IfStmt, A.WhileStmt, A.ForStmt)


def comprehension(compiler: Any, node: A.ComprehensionExpr, first: Closure,
                  inner: Any) -> Closure:
    """The closure of comprehension `node` whose scope `inner` (a FrameLayout) `compiler`
    is compiling (its frame: `[outer frame, None, locals...]`): one Python loop per `for`
    clause, each `if` clause a `continue`, the element appended to the result list, or
    added to the set, or stored with its value in the dict (a key whose hash may walk
    or fail through `store_key`). `first` evaluates the first iterable in the outer
    frame; each pass counts one operation, and the checks of an operation also keep the
    result within `Limits.max_size` (`within`)."""
    writer = _Writer(compiler)
    writer.args.update(first=first, within=within_budget, store_key=store_key,
                       FLAT_KEYS=FLAT_KEYS)
    name = writer.ref(node.span, "span")
    items: dict[int, Operand] = {}
    saved, compiler.items = compiler.items, (inner, items)
    try:
        indent = _clauses(writer, node, inner, items, name)
        writer.value("v", node.element, indent)
        if node.value is not None:
            writer.value("w", node.value, indent)
    finally:
        compiler.items = saved
    if node.kind in ("set", "dict"):
        stored = "add(v)" if node.kind == "set" else "out[v] = w"
        writer.put(indent, "if v.__class__ in FLAT_KEYS:")
        writer.put(indent + 1, stored)
        writer.put(indent, "else:")
        writer.put(indent + 1, f"store_key(out, v, {'None' if node.kind == 'set' else 'w'}, "
                               f"rt, {name})")
    else:
        writer.put(indent, "append(v)")
    writer.args["padding"] = (UNSET,) * (inner.size - 2)  # once every slot is allocated
    made = {"set": "out = set()\n        add = out.add", "dict": "out = {{}}"}.get(
        node.kind, "out = []\n        append = out.append")
    source = ("def make({args}):\n    def comprehension(outer):\n        seq0 = first(outer)\n"
              "        within(seq0, rt, {span})\n        f = [outer, None, *padding]\n"
              f"        {made}\n{{counting}}\n{{body}}\n"
              "        finally:\n            rt.operations += done\n"
              "        return out\n    return comprehension\n")
    text = source.format(args=", ".join(writer.args), span=name, counting=_COUNTING,
                         body="\n".join(writer.lines))
    return closure(text, "comprehension", **writer.args)


def _clauses(writer: _Writer, node: A.ComprehensionExpr, inner: Any,
             items: dict[int, Operand], span: str) -> int:
    """Write the loops and tests of a comprehension's clauses; the indent of the element.
    A name bound by a `for` clause is read from its loop item (`items`), which is an int
    within `UNCHECKED_FACTOR` while the clause's flag holds: its iterable is a `range`
    between such bounds (nothing else assigns a comprehension's names). `span` names the
    comprehension's span in the generated code."""
    indent = 3
    for i, clause in enumerate(node.clauses):
        if isinstance(clause, A.CompIf):
            writer.value("c", clause.cond, indent)
            writer.put(indent, "if not c:")
            writer.put(indent + 1, "continue")
            continue
        item, seq = f"item{i}", f"seq{i}"
        if i:
            writer.value(seq, clause.iter, indent)
        slot = writer.c.local_slot(clause.target)
        if slot is not None:
            writer.put(indent, f"small{i} = {seq}.__class__ is range and NEG_BIG < {seq}.start "
                               f"< BIG and NEG_BIG < {seq}.stop < BIG")
        writer.put(indent, f"for {item} in iterate({seq}, None):")
        indent += 1
        writer.count(node.span, indent, span)
        writer.put(indent + 1, f"within(out, rt, {span})")
        writer.bind(clause.target, item, indent)
        for bound in _slots(clause.target, inner):
            items.pop(bound, None)
        if slot is not None:
            items[slot] = Operand("item", slot, (item, f"small{i}"))
        # what this clause binds is set from here on: read without the unassigned test
        inner.bound = max(inner.bound, 1 + max(_slots(clause.target, inner)))
    return indent


def _slots(target: A.Expr, scope: Any) -> list[int]:
    """The frame slots of the names a comprehension's `for` target binds."""
    if isinstance(target, (A.TupleExpr, A.ListExpr)):
        return [slot for item in target.items for slot in _slots(item, scope)]
    if isinstance(target, A.NameExpr) and target.name in scope.slots:
        return [scope.slots[target.name]]
    return [0]


FLAT_KEYS = frozenset({int, float, str, bool, type(None)})
"""Classes of keys hashed without a walk and without failing: a comprehension stores
them in its set or dict directly."""


def store_key(out: dict | set, key: Any, value: Any, rt: Any, span: Any) -> None:
    """`out[key] = value` (`out.add(key)` for a set) for a key of any class: a tuple whose
    hash would walk more than `Limits.max_size` parts is a LimitError, an unhashable key a
    TypeError, both at `span` (docs/language.md "Safety and limits")."""
    check_keys((key,), rt.limits.max_size, span)
    try:
        if out.__class__ is set:
            out.add(key)
        else:
            out[key] = value
    except TypeError as exc:
        raise P.error("TypeError", str(exc), span) from None


def within_budget(items: Any, rt: Any, span: Any) -> None:
    """LimitError when a comprehension's source (a `range`, a list) or its result so far
    has more items than `Limits.max_size`: checked before the items are built."""
    size = length(items) if hasattr(items, "__len__") else 0
    if size > rt.limits.max_size:
        raise runtime_error(R.TOO_BIG_COMPREHENSION, span, size=size, limit=rt.limits.max_size)
