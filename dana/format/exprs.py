"""Expressions and type annotations as pretty-printer documents, in Dana's canonical
style (docs/tools.md, "dana fmt").

Consumes: AST expressions (`dana.syntax.ast`) and the source's string lexemes (string
literals are printed from their tokens, so raw strings, escapes and triple quotes are
kept; single quotes become double quotes where no `"` is inside).
Produces: `Printer.expr(node, level) -> Doc`, parenthesised where `level` requires it;
brackets (calls, collections, comprehensions, parameter lists) break one item per line,
with a trailing comma, when they do not fit, or when the source put a trailing comma
after the last item (so an exploded literal stays exploded).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from dana.format.doc import LINE, SOFT, Doc, IfBreak, group, join, nest
from dana.source import SourceFile
from dana.syntax import ast as A
from dana.syntax.lexemes import Lexeme

# Binding levels, loosest first: what each grammar rule accepts as an operand.
PIPE, TEST, OR, AND, NOT, CMP, BXOR, BAND, SHIFT, SUM, TERM, FACTOR, POWER, PRIMARY = range(14)
_BINOP_LEVEL = {"^": BXOR, "&": BAND, "<<": SHIFT, ">>": SHIFT, "+": SUM, "-": SUM,
                "*": TERM, "/": TERM, "//": TERM, "%": TERM, "**": POWER}


def normalize_string(token: str) -> str:
    """A string token with `'`/`'''` quotes turned into `"`/`\"\"\"` when its body holds
    no `"` and no escaped `\\'` (the value is unchanged); other tokens as they are."""
    prefix = len(token) - len(token.lstrip("rRfFbBuU"))
    head, rest = token[:prefix], token[prefix:]
    for quote, double in (("'''", '"""'), ("'", '"')):
        if rest.startswith(quote) and len(rest) >= 2 * len(quote):
            body = rest[len(quote):-len(quote)]
            if '"' in body or "\\'" in body:
                return token
            return head + double + body + double
    return token


class Printer:
    """Builds documents for the expressions of one source file."""

    def __init__(self, source: SourceFile, strings: list[Lexeme]) -> None:
        self.source = source
        self.strings = strings
        self.depth = 0  # brackets around the expression being built (line breaks allowed)
        self._dispatch: dict[type, Callable[[A.Expr], tuple[int, Doc]]] = {
            A.NameExpr: self._name, A.LiteralExpr: self._literal, A.FStringExpr: self._strings,
            A.ListExpr: self._list, A.TupleExpr: self._tuple, A.SetExpr: self._set,
            A.DictExpr: self._dict, A.ComprehensionExpr: self._comprehension,
            A.BinOpExpr: self._binop, A.UnaryOpExpr: self._unary, A.BoolOpExpr: self._boolop,
            A.CompareExpr: self._compare, A.IfExpr: self._ifexpr, A.LambdaExpr: self._lambda,
            A.CallExpr: self._call, A.AttributeExpr: self._attribute, A.IndexExpr: self._index,
            A.SliceExpr: self._slice, A.PlaceholderExpr: self._placeholder,
            A.PipelineExpr: self._pipeline,
        }

    # ---------------------------------------------------------------- entry points
    def expr(self, node: A.Expr, level: int = PIPE) -> Doc:
        """`node` as a document, in parentheses when it binds looser than `level`."""
        try:
            printer = self._dispatch[type(node)]
        except KeyError:
            raise TypeError(f"the formatter has no rule for {type(node).__name__}") from None
        if _level(node) >= level:
            return printer(node)[1]
        with self.brackets():
            return group("(", nest(SOFT, printer(node)[1]), SOFT, ")")

    @contextmanager
    def brackets(self) -> Iterator[None]:
        """Build what is inside a bracket pair: operator chains may break there."""
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def chain(self, parts: list[Doc], ops: list[str]) -> Doc:
        """`a op b op c`; inside brackets it breaks before each operator if too long."""
        if self.depth == 0:
            return [parts[0]] + [[f" {op} ", part] for op, part in zip(ops, parts[1:])]
        return group(parts[0], [[LINE, f"{op} ", part] for op, part in zip(ops, parts[1:])])

    def wrapped(self, node: A.Expr, level: int = PIPE) -> Doc:
        """A statement's expression (a `testlist` position when `level` is PIPE); an
        operator chain too long for its line is put in parentheses and broken before its
        operators."""
        if self.depth or not isinstance(node, (A.BinOpExpr, A.BoolOpExpr, A.CompareExpr, A.PipelineExpr,
                                               A.IfExpr)):
            return self.top(node) if level == PIPE else self.expr(node, level)
        with self.brackets():
            inner = self.expr(node, level)
        return group(IfBreak("("), nest(SOFT, inner), SOFT, IfBreak(")"))

    def top(self, node: A.Expr) -> Doc:
        """An expression where the grammar takes a `testlist` (statement, assignment,
        `return`, `for`): a tuple written without parentheses stays so."""
        if isinstance(node, A.TupleExpr) and node.items and not node.span.text.startswith("("):
            items = [self.expr(i) for i in node.items]
            return join(", ", items) + ([","] if len(items) == 1 else [])
        return self.expr(node)

    def type(self, node: A.TypeExpr) -> Doc:
        """A type annotation: `int`, `list[Reading]`, `A | None`."""
        if isinstance(node, A.UnionType):
            return join(" | ", [self.type(o) for o in node.options])
        if not node.args:
            return node.name
        return [node.name, "[", join(", ", [self.type(a) for a in node.args]), "]"]

    def params(self, params: tuple[A.Param, ...], trailing: bool = False) -> Doc:
        """`(a: int, b=2)` breaking one parameter per line when too long."""
        with self.brackets():
            items = [self.param(p) for p in params]
        return self.bracket("(", items, ")", trailing)

    def param(self, p: A.Param) -> Doc:
        doc: list = ["*" * p.star, p.name]
        if p.annotation is not None:
            doc += [": ", self.type(p.annotation)]
        if p.default is not None:
            doc += [" = " if p.annotation is not None else "=", self.expr(p.default, TEST)]
        return doc

    def args(self, args: tuple[A.Arg, ...], trailing: bool = False) -> Doc:
        """Call arguments in parentheses; a lone generator argument keeps no parentheses
        of its own (`sum(x for x in xs)`)."""
        if len(args) == 1 and args[0].name is None and not args[0].star \
                and isinstance(args[0].value, A.ComprehensionExpr) and args[0].value.kind == "gen":
            with self.brackets():
                return ["(", self._comp_body(args[0].value), ")"]
        with self.brackets():
            items = [self.arg(a) for a in args]
        return self.bracket("(", items, ")", trailing)

    def arg(self, a: A.Arg) -> Doc:
        if a.name is not None:
            return [a.name, "=", self.expr(a.value)]
        if a.star:
            return ["*" * a.star, self.expr(a.value, TEST)]
        return self.expr(a.value)

    def bracket(self, open_: str, items: list[Doc], close: str, force: bool = False,
                trailing_comma: bool = True) -> Doc:
        """`open item, item close`; when that does not fit, the items on one line of their
        own, and when that does not fit either (or `force`), one item per line with a
        trailing comma."""
        if not items:
            return open_ + close
        comma = "," if trailing_comma and (len(items) > 1 or force) else ""
        body = group(join([",", LINE], items), IfBreak(comma), force=force)
        return group(open_, nest(SOFT, body), SOFT, close, force=force)

    def had_trailing_comma(self, node: A.Expr) -> bool:
        """Whether the source closes `node`'s brackets right after a comma."""
        text = node.span.text
        return len(text) > 1 and text[:-1].rstrip().endswith(",")

    # ---------------------------------------------------------------- atoms
    def _name(self, node: A.NameExpr) -> tuple[int, Doc]:
        return PRIMARY, f"{node.scope}:{node.name}" if node.scope else node.name

    def _literal(self, node: A.LiteralExpr) -> tuple[int, Doc]:
        if isinstance(node.value, str):
            return self._strings(node)
        text = node.span.text
        return PRIMARY, text if text else repr(node.value)

    def _strings(self, node: A.LiteralExpr | A.FStringExpr) -> tuple[int, Doc]:
        tokens = [normalize_string(s.text) for s in self.strings
                  if node.span.start <= s.start < node.span.end]
        if not tokens:
            return PRIMARY, repr(node.value)
        if len(tokens) == 1:
            return PRIMARY, tokens[0]
        if self.depth:
            return PRIMARY, group(join(LINE, tokens))
        return PRIMARY, group(IfBreak("("), nest(SOFT, join(LINE, tokens)), SOFT, IfBreak(")"))

    def _placeholder(self, node: A.PlaceholderExpr) -> tuple[int, Doc]:
        return PRIMARY, "$$"

    # ---------------------------------------------------------------- collections
    def _items(self, node: A.Expr, items: tuple[A.Expr, ...], open_: str, close: str) -> Doc:
        with self.brackets():
            docs = [self.expr(i) for i in items]
        return self.bracket(open_, docs, close, self.had_trailing_comma(node))

    def _list(self, node: A.ListExpr) -> tuple[int, Doc]:
        return PRIMARY, self._items(node, node.items, "[", "]")

    def _set(self, node: A.SetExpr) -> tuple[int, Doc]:
        return PRIMARY, self._items(node, node.items, "{", "}")

    def _tuple(self, node: A.TupleExpr) -> tuple[int, Doc]:
        if len(node.items) == 1:
            with self.brackets():
                return PRIMARY, ["(", self.expr(node.items[0]), ",)"]
        return PRIMARY, self._items(node, node.items, "(", ")")

    def _dict(self, node: A.DictExpr) -> tuple[int, Doc]:
        with self.brackets():
            items = [[self.expr(k, TEST), ": ", self.expr(v, TEST)]
                     for k, v in zip(node.keys, node.values)]
        return PRIMARY, self.bracket("{", items, "}", self.had_trailing_comma(node))

    def _comprehension(self, node: A.ComprehensionExpr) -> tuple[int, Doc]:
        brackets = {"list": ("[", "]"), "set": ("{", "}"), "dict": ("{", "}"),
                    "gen": ("(", ")")}[node.kind]
        with self.brackets():
            return PRIMARY, [brackets[0], self._comp_body(node), brackets[1]]

    def _comp_body(self, node: A.ComprehensionExpr) -> Doc:
        if node.kind == "dict":
            pair = [self.expr(node.element, TEST), ": ", self.expr(node.value, TEST)]
            element: Doc = ["(", pair, ")"] if self._paired_dict_form(node) else pair
        else:
            element = self.expr(node.element, TEST)
        clauses: list[Doc] = []
        for clause in node.clauses:
            if isinstance(clause, A.CompFor):
                clauses += [LINE, "for ", self._target(clause.target), " in ",
                            self.expr(clause.iter, OR)]
            else:
                clauses += [LINE, "if ", self.expr(clause.cond, OR)]
        return group(nest(SOFT, element, clauses), SOFT)

    def _paired_dict_form(self, node: A.ComprehensionExpr) -> bool:
        """`{(k: v) for ...}` (the reference Dana's spelling) rather than `{k: v for ...}`."""
        text = self.source.text
        before = text[node.span.start + 1:node.element.span.start].strip()
        after = text[node.element.span.end:node.value.span.start].strip()
        return before == "(" and after == ":"

    def _target(self, node: A.Expr) -> Doc:
        """A `for` target: a tuple written without parentheses stays so."""
        return self.top(node)

    # ---------------------------------------------------------------- operators
    def _binop(self, node: A.BinOpExpr) -> tuple[int, Doc]:
        level = _BINOP_LEVEL[node.op]
        if node.op == "**":
            return level, [self.expr(node.left, PRIMARY), " ** ", self.expr(node.right, FACTOR)]
        parts, ops = [self.expr(node.right, level + 1)], [node.op]
        left = node.left
        while isinstance(left, A.BinOpExpr) and _BINOP_LEVEL[left.op] == level and level != POWER:
            parts.append(self.expr(left.right, level + 1))
            ops.append(left.op)
            left = left.left
        parts.append(self.expr(left, level))
        return level, self.chain(parts[::-1], ops[::-1])

    def _unary(self, node: A.UnaryOpExpr) -> tuple[int, Doc]:
        if node.op == "not":
            return NOT, ["not ", self.expr(node.operand, NOT)]
        return FACTOR, [node.op, self.expr(node.operand, FACTOR)]

    def _boolop(self, node: A.BoolOpExpr) -> tuple[int, Doc]:
        level = OR if node.op == "or" else AND
        return level, self.chain([self.expr(v, level + 1) for v in node.values],
                                 [node.op] * (len(node.values) - 1))

    def _compare(self, node: A.CompareExpr) -> tuple[int, Doc]:
        parts = [self.expr(e, BXOR) for e in (node.left, *node.comparators)]
        return CMP, self.chain(parts, list(node.ops))

    def _ifexpr(self, node: A.IfExpr) -> tuple[int, Doc]:
        parts = [self.expr(node.then, OR), self.expr(node.cond, OR), self.expr(node.orelse, TEST)]
        return TEST, self.chain(parts, ["if", "else"])

    def _lambda(self, node: A.LambdaExpr) -> tuple[int, Doc]:
        params = join(", ", [self.param(p) for p in node.params])
        head = ["lambda ", params, " :: "] if node.params else ["lambda :: "]
        return TEST, [head, self.expr(node.body, TEST)]

    def _pipeline(self, node: A.PipelineExpr) -> tuple[int, Doc]:
        stages = []
        for stage in node.stages:
            doc = self.expr(stage.expr, TEST)
            stages.append([doc, " as ", stage.name] if stage.name else doc)
        return PIPE, self.chain(stages, ["|"] * (len(stages) - 1))

    # ---------------------------------------------------------------- postfix
    def _call(self, node: A.CallExpr) -> tuple[int, Doc]:
        return PRIMARY, [self.expr(node.func, PRIMARY),
                         self.args(node.args, self.had_trailing_comma(node))]

    def _attribute(self, node: A.AttributeExpr) -> tuple[int, Doc]:
        obj = self.expr(node.obj, PRIMARY)
        if isinstance(node.obj, A.LiteralExpr) and isinstance(node.obj.value, int):
            obj = ["(", obj, ")"]  # `1.real` would lex as a float
        return PRIMARY, [obj, ".", node.name]

    def _index(self, node: A.IndexExpr) -> tuple[int, Doc]:
        obj = self.expr(node.obj, PRIMARY)
        with self.brackets():
            return PRIMARY, [obj, "[", self.expr(node.index), "]"]

    def _slice(self, node: A.SliceExpr) -> tuple[int, Doc]:
        part = lambda e: "" if e is None else self.expr(e, TEST)  # noqa: E731
        if node.step is None:
            return PRIMARY, [part(node.lower), ":", part(node.upper)]
        return PRIMARY, [part(node.lower), ":", part(node.upper), ":", part(node.step)]


_LEVEL = {A.PipelineExpr: PIPE, A.LambdaExpr: TEST, A.IfExpr: TEST, A.CompareExpr: CMP}


def _level(node: A.Expr) -> int:
    """How loosely `node` binds (the grammar rule that produces it)."""
    if isinstance(node, A.BinOpExpr):
        return _BINOP_LEVEL[node.op]
    if isinstance(node, A.BoolOpExpr):
        return OR if node.op == "or" else AND
    if isinstance(node, A.UnaryOpExpr):
        return NOT if node.op == "not" else FACTOR
    return _LEVEL.get(type(node), PRIMARY)
