"""Build the typed AST from lark's parse tree.

Consumes: a `SourceFile` (parsed here through `dana.syntax.grammar`).
Produces: `dana.syntax.ast.Module` (or one expression for `parse_expr`); raises
`DanaSyntaxError` for text that parses but is not valid Dana (assigning to a literal,
an assignment inside `steps:`, `parallel:` outside one, a bad f-string).
No lark object escapes this module (docs/architecture.md "Source and syntax").
"""

from __future__ import annotations

from typing import Any

from lark import Token, Transformer, v_args
from lark.exceptions import VisitError

from dana.errors import DanaSyntaxError
from dana.messages import syntax as S
from dana.source import SourceFile, Span
from dana.syntax import ast as A
from dana.syntax import escapes, fstring
from dana.syntax.grammar import parse_tree
from dana.syntax.layout import MAX_INT_DIGITS
from dana.surface import CONSTANTS

STEP_STATEMENTS = (A.ExprStmt, A.ForStmt, A.WhileStmt, A.IfStmt, A.TryStmt, A.ParallelStmt,
                   A.ParallelForStmt, A.PassStmt)
PARALLEL_BLOCKS = (A.ParallelStmt, A.ParallelForStmt)


def parse(source: SourceFile) -> A.Module:
    """Parse a whole source file into a Module. Raises DanaSyntaxError (first error only)."""
    tree = parse_tree(source, "module")
    module = _build(_Builder(source, 0), tree)
    _check_statements(module.body, in_steps=False)
    return module


def parse_expr(source: SourceFile, text: str | None = None, offset: int = 0) -> A.Expr:
    """Parse one expression (`text` at `offset` in `source`, default the whole text); a
    bare `a, b` is a tuple, as in Python."""
    try:
        tree = parse_tree(source, "expr_input", text)
    except DanaSyntaxError as exc:
        if text is None or exc.span is None:
            raise
        raise _shifted(exc, offset, len(text)) from None
    return _build(_Builder(source, offset), tree)


def _build(builder: "_Builder", tree: Any) -> Any:
    """Run the builder; a DanaSyntaxError raised inside a rule escapes unwrapped
    (lark wraps exceptions from Transformer methods in VisitError)."""
    try:
        return builder.transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, DanaSyntaxError):
            raise exc.orig_exc from None
        raise


def _shifted(exc: DanaSyntaxError, offset: int, length: int) -> DanaSyntaxError:
    """A fragment's syntax error (positions relative to the fragment) moved to its place
    in the whole source; a position past the fragment's end is clamped to that end. The
    fragment is complete, so running out of it is a plain syntax error."""
    span = exc.span
    assert span is not None
    start = offset + min(span.start, length)
    end = max(start + 1, offset + min(span.end, length))
    return DanaSyntaxError(exc.message, Span(span.source, start, end), code=exc.code,
                           notes=exc.notes)  # never incomplete


def _tuple(items: Any) -> tuple:
    return tuple(i for i in items if i is not None)


@v_args(meta=True)
class _Builder(Transformer):
    """lark Transformer: one method per grammar rule, bottom-up."""

    def __init__(self, source: SourceFile, offset: int) -> None:
        super().__init__()
        self.source = source
        self.offset = offset

    # -------------------------------------------------------------- spans
    def span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.source, self.offset, self.offset)
        return Span(self.source, self.offset + meta.start_pos, self.offset + meta.end_pos)

    def tspan(self, tok: Token) -> Span:
        return Span(self.source, self.offset + tok.start_pos, self.offset + tok.end_pos)

    def _trailing_comma(self, meta: Any) -> bool:
        return self.source.text[:self.offset + meta.end_pos].rstrip().endswith(",")

    # -------------------------------------------------------------- module
    def module(self, meta, children):
        body = _flatten(children)
        return A.Module(self.span(meta) if body else Span(self.source, 0, 0), body,
                        _docstring(body))

    def expr_input(self, meta, children):
        return children[0]

    def simple_stmt(self, meta, children):
        return _tuple(children)

    def suite(self, meta, children):
        return _flatten(children)

    # -------------------------------------------------------------- simple statements
    def expr_stmt(self, meta, children):
        return A.ExprStmt(self.span(meta), children[0])

    def assign(self, meta, children):
        for target in children[:-1]:
            self._check_target(target)
        return A.AssignStmt(self.span(meta), tuple(children[:-1]), children[-1])

    def annassign(self, meta, children):
        target, annotation, value = children
        if not isinstance(target, A.NameExpr):
            raise DanaSyntaxError.of(S.ANNOTATED_TARGET, target.span)
        self._check_target(target)
        return A.AnnAssignStmt(self.span(meta), target, annotation, value)

    def augassign(self, meta, children):
        target, op, value = children
        if isinstance(target, A.TupleExpr):
            raise DanaSyntaxError.of(S.AUGMENTED_TUPLE, target.span)
        self._check_target(target)
        return A.AugAssignStmt(self.span(meta), target, str(op)[:-1], value)

    def _check_target(self, target: A.Expr) -> None:
        if isinstance(target, (A.TupleExpr, A.ListExpr)):
            for item in target.items:
                self._check_target(item)
        elif isinstance(target, A.NameExpr):
            return
        elif not isinstance(target, (A.AttributeExpr, A.IndexExpr)):
            raise DanaSyntaxError.of(S.BAD_TARGET, target.span, what=_describe(target))

    def pass_stmt(self, meta, children):
        return A.PassStmt(self.span(meta))

    def nonlocal_stmt(self, meta, children):
        return A.NonlocalStmt(self.span(meta), tuple(str(c) for c in children))

    def break_stmt(self, meta, children):
        return A.BreakStmt(self.span(meta))

    def continue_stmt(self, meta, children):
        return A.ContinueStmt(self.span(meta))

    def return_stmt(self, meta, children):
        return A.ReturnStmt(self.span(meta), children[0])

    def raise_stmt(self, meta, children):
        exc, cause = (children + [None, None])[:2]
        return A.RaiseStmt(self.span(meta), exc, cause)

    def assert_stmt(self, meta, children):
        return A.AssertStmt(self.span(meta), children[0], children[1])

    def import_stmt(self, meta, children):
        module, alias = children
        return A.ImportStmt(self.span(meta), module, str(alias) if alias else None)

    def from_import(self, meta, children):
        return A.FromImportStmt(self.span(meta), children[0], _tuple(children[1:]))

    def import_name(self, meta, children):
        name, alias = children
        return (str(name), str(alias) if alias else None)

    def relative_name(self, meta, children):
        return "".join(str(c) for c in children if c is not None)

    def dotted_name(self, meta, children):
        return ".".join(str(c) for c in children)

    # -------------------------------------------------------------- compound statements
    def if_stmt(self, meta, children):
        cond, body, *elifs, orelse = children
        tail = orelse or ()
        for elif_span, elif_cond, elif_body in reversed(elifs):
            tail = (A.IfStmt(elif_span, elif_cond, elif_body, tail),)
        return A.IfStmt(self.span(meta), cond, body, tail)

    def elif_clause(self, meta, children):
        return (self.span(meta), children[0], children[1])

    def while_stmt(self, meta, children):
        return A.WhileStmt(self.span(meta), children[0], children[1])

    def for_stmt(self, meta, children):
        target, iterable, body = children
        self._check_target(target)
        return A.ForStmt(self.span(meta), target, iterable, body)

    def try_stmt(self, meta, children):
        body, *handlers, orelse, finalbody = children
        if not handlers and finalbody is None:
            raise DanaSyntaxError.of(S.TRY_WITHOUT_HANDLER, self.span(meta))
        return A.TryStmt(self.span(meta), body, tuple(handlers), orelse or (), finalbody or ())

    def handler(self, meta, children):
        exc_type, name, body = children
        return A.Handler(self.span(meta), exc_type, str(name) if name else None, body)

    def parallel_stmt(self, meta, children):
        args, body = children
        return A.ParallelStmt(self.span(meta), args or (), body)

    def parallel_for(self, meta, children):
        """`parallel for x in xs (max_concurrency=N):` — a trailing call whose arguments are
        all keywords is the block's options, not a call of the iterable."""
        target, iterable, body = children
        if not isinstance(target, A.NameExpr):
            raise DanaSyntaxError.of(S.PARALLEL_FOR_TARGET, target.span)
        args: tuple = ()
        if (isinstance(iterable, A.CallExpr) and iterable.args
                and all(a.name is not None and not a.star for a in iterable.args)):
            iterable, args = iterable.func, iterable.args
        return A.ParallelForStmt(self.span(meta), target, iterable, args, body)

    def decorated(self, meta, children):
        *decorators, func = children
        return _replace(func, span=self.span(meta), decorators=tuple(decorators))

    def decorator(self, meta, children):
        name, args = children
        return A.Decorator(self.span(meta), name, args)

    def funcdef(self, meta, children):
        receiver, name, params, returns, body = children
        return A.FuncDecl(self.span(meta), str(name), params or (), returns, body,
                         receiver, (), _docstring(body), self.tspan(name))

    def composed_def(self, meta, children):
        name, params, returns, expr = children
        params = params or (A.Param(expr.span, "value", None, None),)
        if len(params) != 1:
            raise DanaSyntaxError.of(S.COMPOSED_PARAMS, self.tspan(name))
        body = (A.ReturnStmt(expr.span, _composed_body(expr, params[0])),)
        return A.FuncDecl(self.span(meta), str(name), params, returns, body, None, (), None,
                         self.tspan(name))

    def receiver(self, meta, children):
        return A.Param(self.span(meta), str(children[0]), children[1], None)

    def parameters(self, meta, children):
        params = _tuple(children)
        seen: set[str] = set()
        for i, p in enumerate(params):
            if p.name in seen:
                raise DanaSyntaxError.of(S.DUPLICATE_PARAM, p.span, name=p.name)
            seen.add(p.name)
            _check_param_order(p, params[:i])
        return params

    def param(self, meta, children):
        name, annotation, default = children
        return A.Param(self.span(meta), str(name), annotation, default)

    def star_param(self, meta, children):
        return A.Param(self.span(meta), str(children[0]), children[1], None, 1)

    def dstar_param(self, meta, children):
        return A.Param(self.span(meta), str(children[1]), children[2], None, 2)

    def struct_def(self, meta, children):
        name, *members = children
        fields = tuple(m for m in members if isinstance(m, A.FieldDecl))
        docs = [m[1] for m in members if isinstance(m, tuple) and m[0] == "doc"]
        return A.StructDecl(self.span(meta), str(name), fields, docs[0] if docs else None)

    def field_decl(self, meta, children):
        name, annotation, default = children
        return A.FieldDecl(self.span(meta), str(name), annotation, default)

    def doc_line(self, meta, children):
        return ("doc", self._string_value(children[0]))

    def pass_line(self, meta, children):
        return ("pass",)

    def interface_def(self, meta, children):
        name, *members = children
        methods = tuple(m for m in members if isinstance(m, A.MethodSig))
        embeds = tuple(m[1] for m in members if isinstance(m, tuple) and m[0] == "embed")
        docs = [m[1] for m in members if isinstance(m, tuple) and m[0] == "doc"]
        return A.InterfaceDecl(self.span(meta), str(name), methods, embeds,
                              docs[0] if docs else None)

    def method_sig(self, meta, children):
        name, params, returns = children
        return A.MethodSig(self.span(meta), str(name), params or (), returns)

    def embed_line(self, meta, children):
        return ("embed", str(children[0]))

    def workflow_def(self, meta, children):
        name, params, returns, *items = children
        settings, requires, steps, docs = [], [], None, []
        for item in items:
            kind = item[0]
            if kind == "setting":
                settings.append(item[1:])
            elif kind == "requires":
                requires.extend(item[1])
            elif kind == "steps":
                if steps is not None:
                    raise DanaSyntaxError.of(S.TWO_STEPS_BLOCKS, item[2], name=name)
                steps = item[1]
            elif kind == "doc":
                docs.append(item[1])
        if steps is None:
            raise DanaSyntaxError.of(S.NO_STEPS_BLOCK, self.tspan(name), name=name,
                                     notes=(S.NOTE_LIST_STEPS,))
        _check_statements(steps, in_steps=True)
        return A.WorkflowDecl(self.span(meta), str(name), params or (), returns, tuple(settings),
                             tuple(requires), steps, docs[0] if docs else None)

    def workflow_compose(self, meta, children):
        return A.WorkflowComposeDecl(self.span(meta), str(children[0]), children[1])

    def requires_block(self, meta, children):
        return ("requires", tuple(children))

    def requirement(self, meta, children):
        return A.Requirement(self.span(meta), str(children[0]), children[1])

    def steps_block(self, meta, children):
        return ("steps", children[0], self.span(meta))

    def wf_setting(self, meta, children):
        return ("setting", str(children[0]), children[1])

    # -------------------------------------------------------------- types
    def type(self, meta, children):
        if len(children) == 1:
            return children[0]
        return A.UnionType(self.span(meta), tuple(children))

    def type_atom(self, meta, children):
        name, *args = children
        args = [A.TypeName(self.tspan(a), "...") if isinstance(a, Token) else a
                for a in args if a is not None]
        return A.TypeName(self.span(meta), str(name), tuple(args))

    # -------------------------------------------------------------- expressions
    def testlist(self, meta, children):
        items = _tuple(children)
        if len(items) == 1 and not self._trailing_comma(meta):
            return items[0]
        return A.TupleExpr(self.span(meta), items)

    target_list = testlist

    def pipeline(self, meta, children):
        out = []
        for stage in children:
            out.append(stage if isinstance(stage, A.PipeStage)
                       else A.PipeStage(stage.span, stage, None))
        return A.PipelineExpr(self.span(meta), tuple(out))

    def named_stage(self, meta, children):
        return A.PipeStage(self.span(meta), children[0], str(children[1]))

    def ternary(self, meta, children):
        then, cond, orelse = children
        return A.IfExpr(self.span(meta), cond, then, orelse)

    def lambdef(self, meta, children):
        return A.LambdaExpr(self.span(meta), children[0] or (), children[1])

    def or_expr(self, meta, children):
        return A.BoolOpExpr(self.span(meta), "or", tuple(children))

    def and_expr(self, meta, children):
        return A.BoolOpExpr(self.span(meta), "and", tuple(children))

    def not_expr(self, meta, children):
        return A.UnaryOpExpr(self.span(meta), "not", children[0])

    def compare(self, meta, children):
        return A.CompareExpr(self.span(meta), children[0], tuple(children[1::2]),
                         tuple(children[2::2]))

    def comp_op(self, meta, children):
        return " ".join(str(c) for c in children)

    def binop(self, meta, children):
        left, op, right = children
        return A.BinOpExpr(self.span(meta), str(op), left, right)

    def unary(self, meta, children):
        op, operand = children
        return A.UnaryOpExpr(self.span(meta), str(op), operand)

    def getattr(self, meta, children):
        obj, name = children
        return A.AttributeExpr(self.span(meta), obj, str(name))

    def call(self, meta, children):
        func, args = children
        return A.CallExpr(self.span(meta), func, args or ())

    def getitem(self, meta, children):
        return A.IndexExpr(self.span(meta), children[0], children[1])

    def arguments(self, meta, children):
        args = tuple(c if isinstance(c, A.Arg) else A.Arg(c.span, c)
                     for c in children if c is not None)
        seen_keyword = False
        for arg in args:
            if arg.name is not None or arg.star == 2:
                seen_keyword = True
            elif seen_keyword and arg.star == 0:
                raise DanaSyntaxError.of(S.POSITIONAL_AFTER_KEYWORD, arg.span)
        return args

    def kwarg(self, meta, children):
        return A.Arg(self.span(meta), children[1], str(children[0]))

    def star_arg(self, meta, children):
        return A.Arg(self.span(meta), children[0], None, 1)

    def dstar_arg(self, meta, children):
        return A.Arg(self.span(meta), children[1], None, 2)

    def slice(self, meta, children):
        lower, upper, step = children
        return A.SliceExpr(self.span(meta), lower, upper, step)

    def step_slice(self, meta, children):
        return A.SliceExpr(self.span(meta), children[0], None, children[1])

    # -------------------------------------------------------------- atoms
    def name(self, meta, children):
        text = str(children[0])
        if text in CONSTANTS:
            return A.LiteralExpr(self.span(meta), CONSTANTS[text])
        return A.NameExpr(self.span(meta), text)

    def scoped_name(self, meta, children):
        scope, _, name = str(children[0]).partition(":")
        return A.NameExpr(self.span(meta), name, scope)

    def number(self, meta, children):
        text = str(children[0]).replace("_", "")
        if len(text) > MAX_INT_DIGITS and children[0].type != "FLOAT_NUMBER":
            raise DanaSyntaxError.of(S.INT_TOO_LONG, self.span(meta), digits=len(text),
                                     most=MAX_INT_DIGITS)
        if children[0].type in ("HEX_NUMBER", "BIN_NUMBER", "OCT_NUMBER"):
            return A.LiteralExpr(self.span(meta), int(text, 0))
        if children[0].type == "FLOAT_NUMBER":
            return A.LiteralExpr(self.span(meta), float(text))
        return A.LiteralExpr(self.span(meta), int(text))

    def strings(self, meta, children):
        parts: list[Any] = []
        for tok in children:
            if tok.type in ("FSTRING", "LONG_FSTRING"):
                parts.extend(self._fstring_parts(tok))
            else:
                parts.append(self._string_value(tok))
        if all(isinstance(p, str) for p in parts):
            return A.LiteralExpr(self.span(meta), "".join(parts))
        return A.FStringExpr(self.span(meta), _merge_text(parts))

    def _string_value(self, tok: Token) -> str:
        """A plain (or raw) string literal's value; an invalid escape is a syntax error
        at its backslash, as in Python."""
        text = str(tok)
        prefix = len(text) - len(text.lstrip("rR"))
        quote = 3 if text[prefix:prefix + 3] in ('"""', "'''") else 1
        body = text[prefix + quote:len(text) - quote]
        if prefix:
            return body
        try:
            return escapes.decode(body, self.offset + tok.start_pos + quote)
        except escapes.EscapeError as exc:
            raise self._escape_error(exc) from None

    def _escape_error(self, exc: escapes.EscapeError) -> DanaSyntaxError:
        return DanaSyntaxError.of(S.BAD_ESCAPE, Span(self.source, exc.offset, exc.offset + 2),
                                  notes=(escapes.HINT,), problem=exc)

    def _fstring_parts(self, tok: Token) -> list[Any]:
        try:
            pieces = fstring.split(str(tok), self.offset + tok.start_pos)
        except fstring.FStringError as exc:
            raise DanaSyntaxError.of(S.BAD_FSTRING, Span(self.source, exc.offset, exc.offset + 1),
                                     problem=exc) from None
        except escapes.EscapeError as exc:
            raise self._escape_error(exc) from None
        return [self._fpiece(p) for p in pieces]

    def _fpiece(self, piece: fstring.FPiece) -> Any:
        if isinstance(piece, str):
            return piece
        if not piece.expr_text.strip():
            raise DanaSyntaxError.of(S.FSTRING_EMPTY, Span(self.source, piece.start, piece.end))
        if "#" in piece.expr_text:
            raise DanaSyntaxError.of(S.FSTRING_HASH, Span(self.source, piece.start, piece.end))
        expr = parse_expr(self.source, piece.expr_text, piece.expr_offset)
        spec = tuple(self._fpiece(p) for p in piece.spec) if piece.spec is not None else None
        return A.FormattedValue(Span(self.source, piece.start, piece.end), expr,
                                piece.conversion, spec)

    def placeholder(self, meta, children):
        return A.PlaceholderExpr(self.span(meta))

    def empty_tuple(self, meta, children):
        return A.TupleExpr(self.span(meta), ())

    def tuple(self, meta, children):
        return A.TupleExpr(self.span(meta), _tuple(children))

    def list(self, meta, children):
        return A.ListExpr(self.span(meta), _tuple(children))

    def empty_dict(self, meta, children):
        return A.DictExpr(self.span(meta), (), ())

    def dict(self, meta, children):
        items = _tuple(children)
        return A.DictExpr(self.span(meta), tuple(k for k, _ in items), tuple(v for _, v in items))

    def dict_item(self, meta, children):
        return (children[0], children[1])

    def set(self, meta, children):
        return A.SetExpr(self.span(meta), _tuple(children))

    def listcomp(self, meta, children):
        return A.ComprehensionExpr(self.span(meta), "list", children[0], None, children[1])

    def setcomp(self, meta, children):
        return A.ComprehensionExpr(self.span(meta), "set", children[0], None, children[1])

    def genexp(self, meta, children):
        return A.ComprehensionExpr(self.span(meta), "gen", children[0], None, children[1])

    def dictcomp(self, meta, children):
        return A.ComprehensionExpr(self.span(meta), "dict", children[0], children[1], children[2])

    def comp_for(self, meta, children):
        target, iterable, *rest = children
        self._check_target(target)
        clauses: list[Any] = [A.CompFor(self.span(meta), target, iterable)]
        for item in rest:
            clauses.extend(item if isinstance(item, tuple) else (item,))
        return tuple(clauses)

    def comp_if(self, meta, children):
        return A.CompIf(self.span(meta), children[0])


# ------------------------------------------------------------------ helpers
def _flatten(children: Any) -> tuple:
    out: list[Any] = []
    for child in children:
        if child is None:
            continue
        if isinstance(child, tuple):
            out.extend(child)
        else:
            out.append(child)
    return tuple(out)


def _docstring(body: tuple) -> str | None:
    if body and isinstance(body[0], A.ExprStmt) and isinstance(body[0].expr, A.LiteralExpr) \
            and isinstance(body[0].expr.value, str):
        return body[0].expr.value
    return None


def _merge_text(parts: list[Any]) -> tuple:
    out: list[Any] = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        elif part != "":
            out.append(part)
    return tuple(out)


def _composed_body(expr: A.Expr, param: A.Param) -> A.Expr:
    """`def h(x) = f as y | g` pipes x through f and g; `def h(x) = f` is `f(x)` and
    `def h(x) = f(1, $$)` is `f(1, x)`; a pipeline that starts with the parameter
    (`def h(x) = x | f`) and any other expression (`def double(x) = x * 2`) is the
    function's result as written."""
    if isinstance(expr, A.PipelineExpr):
        first = expr.stages[0].expr
        if isinstance(first, A.NameExpr) and first.name == param.name:
            return expr
        stages = expr.stages
    elif (isinstance(expr, A.NameExpr) and expr.name != param.name) or _has_placeholder(expr):
        stages = (A.PipeStage(expr.span, expr, None),)
    else:
        return expr
    head = A.PipeStage(param.span, A.NameExpr(param.span, param.name), None)
    return A.PipelineExpr(expr.span, (head,) + stages)


def _check_param_order(param: A.Param, before: tuple) -> None:
    """Python's order: plain parameters (those after `*args` are keyword-only), one
    `*args`, then one `**kwargs`, last."""
    if any(p.star == 2 for p in before):
        raise DanaSyntaxError.of(S.PARAM_AFTER_KWARGS, param.span)
    if param.star == 1 and any(p.star == 1 for p in before):
        raise DanaSyntaxError.of(S.TWO_STAR_PARAMS, param.span)


def _has_placeholder(expr: A.Expr) -> bool:
    return isinstance(expr, A.CallExpr) and any(isinstance(a.value, A.PlaceholderExpr)
                                            for a in expr.args)


def _replace(node: Any, **changes: Any) -> Any:
    import dataclasses
    return dataclasses.replace(node, **changes)


def _describe(expr: A.Expr) -> str:
    if isinstance(expr, A.LiteralExpr):
        return "a literal"
    if isinstance(expr, A.CallExpr):
        return "a function call"
    if isinstance(expr, A.PipelineExpr):
        return "a pipeline"
    return "this expression"


def _check_statements(body: tuple, in_steps: bool) -> None:
    """`parallel:` only inside `steps:`; a `steps:` block holds only step statements."""
    for stmt in body:
        if in_steps and not isinstance(stmt, STEP_STATEMENTS):
            raise DanaSyntaxError.of(S.NOT_A_STEP_STATEMENT, stmt.span)
        if not in_steps and isinstance(stmt, PARALLEL_BLOCKS):
            raise DanaSyntaxError.of(S.PARALLEL_OUTSIDE_STEPS, stmt.span)
        for child in _child_blocks(stmt):
            _check_statements(child, in_steps)


def _child_blocks(stmt: Any) -> list[tuple]:
    if isinstance(stmt, A.IfStmt):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, (A.WhileStmt, A.ForStmt, *PARALLEL_BLOCKS)):
        return [stmt.body]
    if isinstance(stmt, A.TryStmt):
        return [stmt.body, stmt.orelse, stmt.finalbody, *[h.body for h in stmt.handlers]]
    if isinstance(stmt, A.FuncDecl):
        return [stmt.body]
    return []
