"""Statements and declarations in Dana's canonical layout (docs/tools.md, "dana fmt").

Consumes: a parsed `Module`, its source and the source's comments and strings.
Produces: `Formatter(source, module).text()`: 4-space blocks, one statement per line,
headers `if c:` / `def f(...) -> T:` / `workflow w(...):`, lines of at most `WIDTH`
columns where brackets allow a break, and every comment kept beside the statement it
was written with. Spellings the AST does not record (`elif`, `except`/`handle`,
`sync def`, `def h(x) = f | g`, `true`) are read back from the source and kept. A
statement with a comment inside its brackets is kept as written (re-indented only).
"""

from __future__ import annotations

import re
from typing import Callable

from dana.format.doc import LINE, SOFT, Doc, IfBreak, group, join, nest, render
from dana.format.exprs import PRIMARY, TEST, Printer, normalize_string
from dana.format.layout import Layout
from dana.source import SourceFile
from dana.syntax import ast as A
from dana.syntax.lexemes import lexemes

WIDTH = 88
DEFINITIONS = (A.FuncDecl, A.StructDecl, A.InterfaceDecl, A.WorkflowDecl)
_KEYWORD_STATEMENTS = {A.BreakStmt: "break", A.ContinueStmt: "continue", A.PassStmt: "pass"}
_EMBED = re.compile(r"[ \t]*([^\W\d]\w*)[ \t]*(#[^\n]*)?$")


class Formatter:
    """Formats one module; `text()` is the result."""

    def __init__(self, source: SourceFile, module: A.Module) -> None:
        found = lexemes(source)
        self.source = source
        self.module = module
        self.strings = [x for x in found if x.kind == "string"]
        self._string_end = {s.start: s.end for s in self.strings}
        self.out = Layout(source, [x for x in found if x.kind == "comment"])
        self.p = Printer(source, self.strings)
        self._dispatch: dict[type, Callable[..., None]] = {
            A.IfStmt: self._if, A.WhileStmt: self._while, A.ForStmt: self._for, A.TryStmt: self._try,
            A.ParallelStmt: self._parallel, A.ParallelForStmt: self._parallel_for, A.FuncDecl: self._funcdef, A.StructDecl: self._struct,
            A.InterfaceDecl: self._interface, A.WorkflowDecl: self._workflow,
        }

    def text(self) -> str:
        body = self.module.body
        for i, stmt in enumerate(body):
            nxt = body[i + 1].span.start if i + 1 < len(body) else len(self.source.text)
            self.statement(stmt, 0, nxt)
        self.out.comments_before(len(self.source.text) + 1, 0)
        return self.out.text()

    # ---------------------------------------------------------------- blocks
    def block(self, stmts: tuple, indent: int, limit: int, outer_col: int) -> None:
        """A block's statements at `indent`; then the comments before `limit` indented
        deeper than the block's header (at `outer_col`) in the source."""
        self.out.no_blank = True
        for i, stmt in enumerate(stmts):
            nxt = stmts[i + 1].span.start if i + 1 < len(stmts) else limit
            self.statement(stmt, indent, nxt)
        self.out.comments_before(limit, indent, outer_col + 1)

    def statement(self, stmt: A.Stmt, indent: int, limit: int) -> None:
        """One statement (and the comments before it); `limit` is where the next one
        starts in the source."""
        top_def = indent == 0 and isinstance(stmt, DEFINITIONS)
        if top_def:
            self.out.want_blank = True
        self.out.comments_before(stmt.span.start, indent)
        compound = self._dispatch.get(type(stmt))
        if compound is not None:
            compound(stmt, indent, limit)
        else:
            self.simple(self.simple_doc(stmt), indent, stmt.span.start, stmt.span.end)
        if top_def:
            self.out.want_blank = True

    def simple(self, doc: Doc, indent: int, start: int, end: int) -> None:
        """One line (or bracket-broken lines) for the source range [start, end); kept as
        written when a comment sits inside it."""
        end = self.code_end(start, end)
        if self.out.inside(start, end):
            text = self._verbatim(start, end, indent)
            for i in self.out.inside(start, end):
                self.out.used[i] = True
        else:
            text = render(doc, WIDTH, indent)
        self.out.write(text, indent, start, end)
        self.out.trailing(end)

    def header(self, doc: Doc, indent: int, start: int, colon: int) -> None:
        """A block header ending with `:` at source offset `colon`."""
        self.out.write(render([doc, ":"], WIDTH, indent), indent, start, colon + 1)
        self.out.trailing(colon + 1)

    def _verbatim(self, start: int, end: int, indent: int) -> str:
        """The source of [start, end), its later lines shifted as much as its first
        (lines inside a multi-line string are left alone)."""
        shift = indent - self.out.col(start)
        lines = self.source.text[start:end].split("\n")
        out = [lines[0].rstrip()]
        offset = start + len(lines[0]) + 1
        for line in lines[1:]:
            if self._in_string(offset):
                out.append(line)
            elif shift >= 0:
                out.append(" " * shift + line.rstrip() if line.strip() else "")
            else:
                cut = min(-shift, len(line) - len(line.lstrip(" ")))
                out.append(line[cut:].rstrip())
            offset += len(line) + 1
        return "\n".join(out)

    def code_end(self, start: int, end: int) -> int:
        """`end` moved back over trailing blanks and comments (rules that end with a
        newline token cover the comment after them)."""
        while True:
            stripped = start + len(self.source.text[start:end].rstrip())
            comment = next((c for c in self.out.comments if c.end == stripped
                            and start <= c.start), None)
            if comment is None:
                return stripped
            end = comment.start

    def _in_string(self, offset: int) -> bool:
        return any(s.start < offset < s.end for s in self.strings)

    # ---------------------------------------------------------------- source lookups
    def colon_after(self, offset: int) -> int:
        """Offset of the first `:` at bracket depth 0 from `offset` (strings, comments
        and `::` skipped): the end of a block header."""
        text, depth, i = self.source.text, 0, offset
        while i < len(text):
            ch = text[i]
            if i in self._string_end:
                i = self._string_end[i]
                continue
            if ch == "#":
                i = text.find("\n", i) if "\n" in text[i:] else len(text)
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            elif ch == ":" and depth <= 0:
                if text.startswith("::", i):
                    i += 2
                    continue
                return i
            i += 1
        return len(text) - 1

    def keyword_before(self, word: str, lo: int, hi: int) -> int:
        """Offset of the last `word` in [lo, hi) outside comments (a clause keyword such
        as `else` between two blocks); `hi` when there is none."""
        found = hi
        for m in re.finditer(rf"\b{word}\b", self.source.text[lo:hi]):
            at = lo + m.start()
            if not any(c.start <= at < c.end for c in self.out.comments):
                found = at
        return found

    def starts_with(self, offset: int, word: str) -> bool:
        return re.match(rf"{word}\b", self.source.text[offset:offset + len(word) + 1]) is not None

    # ---------------------------------------------------------------- simple statements
    def simple_doc(self, s: A.Stmt) -> Doc:
        p = self.p
        if isinstance(s, A.ExprStmt):
            return p.wrapped(s.expr)
        if isinstance(s, A.AssignStmt):
            return [[p.top(t), " = "] for t in s.targets] + [p.wrapped(s.value)]
        if isinstance(s, A.AnnAssignStmt):
            value = [" = ", p.wrapped(s.value)] if s.value is not None else []
            return [p.expr(s.target, TEST), ": ", p.type(s.annotation), value]
        if isinstance(s, A.AugAssignStmt):
            return [p.top(s.target), f" {s.op}= ", p.wrapped(s.value)]
        if isinstance(s, (A.BreakStmt, A.ContinueStmt, A.PassStmt)):
            return _KEYWORD_STATEMENTS[type(s)]
        if isinstance(s, A.ReturnStmt):
            return "return" if s.value is None else ["return ", p.wrapped(s.value)]
        if isinstance(s, A.RaiseStmt):
            return self._raise(s)
        if isinstance(s, A.AssertStmt):
            message = [", ", p.expr(s.message, TEST)] if s.message is not None else []
            return ["assert ", p.expr(s.cond, TEST), message]
        if isinstance(s, A.NonlocalStmt):
            return "nonlocal " + ", ".join(s.names)
        if isinstance(s, A.ImportStmt):
            return ["import ", s.module, f" as {s.alias}" if s.alias else ""]
        if isinstance(s, A.FromImportStmt):
            names = [n if a is None else f"{n} as {a}" for n, a in s.names]
            return ["from ", s.module, " import ", group(
                IfBreak("("), nest(SOFT, join([",", LINE], names), IfBreak(",")), SOFT,
                IfBreak(")"))]
        if isinstance(s, A.WorkflowComposeDecl):
            return ["workflow ", s.name, " = ", p.expr(s.expr)]
        raise TypeError(f"the formatter has no rule for {type(s).__name__}")

    def _raise(self, s: A.RaiseStmt) -> Doc:
        if s.exc is None:
            return "raise"
        cause = [" from ", self.p.expr(s.cause, TEST)] if s.cause is not None else []
        return ["raise ", self.p.expr(s.exc, TEST), cause]

    # ---------------------------------------------------------------- control flow
    def _if(self, s: A.IfStmt, indent: int, limit: int, keyword: str = "if") -> None:
        colon = self.colon_after(s.cond.span.end)
        self.header([keyword, " ", self.p.wrapped(s.cond, TEST)], indent, s.span.start, colon)
        col = self.out.col(s.span.start)
        if not s.orelse:
            self.block(s.body, indent + 4, limit, col)
            return
        first = s.orelse[0]
        if isinstance(first, A.IfStmt) and len(s.orelse) == 1 and self.starts_with(first.span.start,
                                                                             "elif"):
            self.block(s.body, indent + 4, first.span.start, col)
            self.out.comments_before(first.span.start, indent)
            self._if(first, indent, limit, "elif")
            return
        at = self.keyword_before("else", s.body[-1].span.end, first.span.start)
        self.block(s.body, indent + 4, at, col)
        self.clause("else", at, s.orelse, indent, limit)

    def clause(self, word: str, at: int, body: tuple, indent: int, limit: int) -> None:
        """`else:` / `finally:` at source offset `at`, and its block."""
        self.out.comments_before(at, indent)
        self.header(word, indent, at, self.colon_after(at + len(word)))
        self.block(body, indent + 4, limit, self.out.col(at))

    def _while(self, s: A.WhileStmt, indent: int, limit: int) -> None:
        colon = self.colon_after(s.cond.span.end)
        self.header(["while ", self.p.wrapped(s.cond, TEST)], indent, s.span.start, colon)
        self.block(s.body, indent + 4, limit, self.out.col(s.span.start))

    def _for(self, s: A.ForStmt, indent: int, limit: int) -> None:
        colon = self.colon_after(s.iter.span.end)
        doc = ["for ", self.p.top(s.target), " in ", self.p.top(s.iter)]
        self.header(doc, indent, s.span.start, colon)
        self.block(s.body, indent + 4, limit, self.out.col(s.span.start))

    def _try(self, s: A.TryStmt, indent: int, limit: int) -> None:
        self.header("try", indent, s.span.start, self.colon_after(s.span.start + 3))
        col = self.out.col(s.span.start)
        clauses: list[tuple[int, Callable[[int], None]]] = []
        for h in s.handlers:
            clauses.append((h.span.start, lambda nxt, h=h: self._handler(h, indent, nxt)))
        end = (s.handlers[-1].body if s.handlers else s.body)[-1].span.end
        for word, body in (("else", s.orelse), ("finally", s.finalbody)):
            if body:
                at = self.keyword_before(word, end, body[0].span.start)
                clauses.append((at, lambda nxt, w=word, a=at, b=body:
                                self.clause(w, a, b, indent, nxt)))
                end = body[-1].span.end
        self.block(s.body, indent + 4, clauses[0][0] if clauses else limit, col)
        for i, (at, emit) in enumerate(clauses):
            emit(clauses[i + 1][0] if i + 1 < len(clauses) else limit)

    def _handler(self, h: A.Handler, indent: int, limit: int) -> None:
        self.out.comments_before(h.span.start, indent)
        word = "except" if self.starts_with(h.span.start, "except") else "handle"
        doc: list = [word]
        if h.type is not None:
            doc += [" ", self.p.expr(h.type, TEST)]
        if h.name is not None:
            doc += [" as ", h.name]
        colon = self.colon_after(h.type.span.end if h.type is not None
                                 else h.span.start + len(word))
        self.header(doc, indent, h.span.start, colon)
        self.block(h.body, indent + 4, limit, self.out.col(h.span.start))

    def _parallel(self, s: A.ParallelStmt, indent: int, limit: int) -> None:
        doc = ["parallel", self.p.args(s.args) if s.args else ""]
        colon = self.colon_after(s.args[-1].span.end if s.args else s.span.start + 8)
        if s.args:
            colon = self.colon_after(self._close_paren(s.args[-1].span.end))
        self.header(doc, indent, s.span.start, colon)
        self.block(s.body, indent + 4, limit, self.out.col(s.span.start))

    def _parallel_for(self, s: A.ParallelForStmt, indent: int, limit: int) -> None:
        doc = ["parallel for ", self.p.top(s.target), " in "]
        if s.args:
            doc += [self.p.expr(s.iter, PRIMARY), " ", self.p.args(s.args)]
            colon = self.colon_after(self._close_paren(s.args[-1].span.end))
        else:
            doc.append(self.p.top(s.iter))
            colon = self.colon_after(s.iter.span.end)
        self.header(doc, indent, s.span.start, colon)
        self.block(s.body, indent + 4, limit, self.out.col(s.span.start))

    def _close_paren(self, offset: int) -> int:
        return self.source.text.index(")", offset) + 1

    # ---------------------------------------------------------------- declarations
    def _funcdef(self, s: A.FuncDecl, indent: int, limit: int) -> None:
        for d in s.decorators:
            args = self.p.args(d.args) if d.args is not None else ""
            self.simple(["@", d.name, args], indent, d.span.start, d.span.end)
            self.out.no_blank = True
        start = s.decorators[-1].span.end if s.decorators else s.span.start
        start = start + len(self.source.text[start:]) - len(self.source.text[start:].lstrip())
        sync = "sync " if self.starts_with(start, "sync") else ""
        assert s.name_span is not None
        if self._composed(s):
            self._composed_def(s, sync, indent, start)
            return
        receiver = ["(", self.p.param(s.receiver), ") "] if s.receiver else ""
        returns = [" -> ", self.p.type(s.returns)] if s.returns is not None else ""
        colon = self.colon_after(s.name_span.end)
        self.header([sync, "def ", receiver, s.name, self.p.params(s.params), returns], indent,
                    start, colon)
        self.block(s.body, indent + 4, limit, self.out.col(start))

    def _composed(self, s: A.FuncDecl) -> bool:
        """`def h(x) = f | g` (built with one `return` the source never wrote)."""
        return len(s.body) == 1 and isinstance(s.body[0], A.ReturnStmt) \
            and not self.starts_with(s.body[0].span.start, "return")

    def _composed_def(self, s: A.FuncDecl, sync: str, indent: int, start: int) -> None:
        value = s.body[0].value
        expr: Doc
        if isinstance(value, A.PipelineExpr) and value.stages[0].span is s.params[0].span:
            stages = value.stages[1:]
            expr = self.p.expr(stages[0].expr) if len(stages) == 1 and stages[0].name is None \
                else self.p.expr(A.PipelineExpr(value.span, stages))
        else:
            expr = self.p.expr(value)
        assert s.name_span is not None
        has_params = self.source.text[s.name_span.end:].lstrip().startswith("(")
        params = self.p.params(s.params) if has_params else ""
        returns = [" -> ", self.p.type(s.returns)] if s.returns is not None else ""
        self.simple([sync, "def ", s.name, params, returns, " = ", expr], indent, start,
                     s.span.end)

    def _members(self, items: list[tuple[int, int, Doc]], indent: int, limit: int,
                 outer_col: int) -> None:
        """The lines of a struct, interface or workflow body: (start, end, doc) each."""
        self.out.no_blank = True
        for start, end, doc in sorted(items, key=lambda item: item[0]):
            self.out.comments_before(start, indent)
            self.simple(doc, indent, start, end)
        self.out.comments_before(limit, indent, outer_col + 1)

    def _docs(self, lo: int, hi: int, taken: list[tuple[int, int]]) -> list[tuple[int, int, Doc]]:
        """Docstring lines in [lo, hi): strings that start a line outside `taken` ranges."""
        text = self.source.text
        out = []
        for s in self.strings:
            if lo <= s.start < hi and not text[text.rfind("\n", 0, s.start) + 1:s.start].strip() \
                    and not any(a <= s.start < b for a, b in taken):
                out.append((s.start, s.end, normalize_string(s.text)))
        return out

    def _struct(self, s: A.StructDecl, indent: int, limit: int) -> None:
        colon = self.colon_after(s.span.start)
        self.header(["struct ", s.name], indent, s.span.start, colon)
        items = []
        for f in s.fields:
            default = [" = ", self.p.expr(f.default, TEST)] if f.default is not None else ""
            items.append((f.span.start, f.span.end, [f.name, ": ", self.p.type(f.annotation),
                                                     default]))
        items += self._docs(colon, limit, [(a, b) for a, b, _ in items])
        self._members(items or [self._pass_line(colon, limit)], indent + 4, limit,
                      self.out.col(s.span.start))

    def _pass_line(self, lo: int, hi: int) -> tuple[int, int, Doc]:
        at = self.keyword_before("pass", lo, hi)
        return at, at + 4, "pass"

    def _interface(self, s: A.InterfaceDecl, indent: int, limit: int) -> None:
        colon = self.colon_after(s.span.start)
        self.header(["interface ", s.name], indent, s.span.start, colon)
        items: list[tuple[int, int, Doc]] = []
        for m in s.methods:
            returns = [" -> ", self.p.type(m.returns)] if m.returns is not None else ""
            items.append((m.span.start, m.span.end, [m.name, self.p.params(m.params), returns]))
        items += self._embeds(s, colon, limit, [(a, b) for a, b, _ in items])
        items += self._docs(colon, limit, [(a, b) for a, b, _ in items])
        self._members(items or [self._pass_line(colon, limit)], indent + 4, limit,
                      self.out.col(s.span.start))

    def _embeds(self, s: A.InterfaceDecl, lo: int, hi: int,
                taken: list[tuple[int, int]]) -> list[tuple[int, int, Doc]]:
        """The embedded-interface lines (`Named`) of an interface body."""
        out = []
        text = self.source.text
        at = text.find("\n", lo) + 1
        while 0 < at < hi:
            end = text.find("\n", at)
            end = hi if end < 0 else min(end, hi)
            m = _EMBED.match(text, at, end)
            if m and m.group(1) in s.embeds and not any(a <= at < b for a, b in taken):
                out.append((m.start(1), m.end(1), m.group(1)))
            at = end + 1
        return out

    def _workflow(self, s: A.WorkflowDecl, indent: int, limit: int) -> None:
        colon = self.colon_after(s.span.start)
        written = re.match(r"workflow\s+\w+\s*\(", self.source.text[s.span.start:colon])
        params = self.p.params(s.params) if s.params or written else ""
        returns = [" -> ", self.p.type(s.returns)] if s.returns is not None else ""
        self.header(["workflow ", s.name, params, returns], indent, s.span.start, colon)
        text = self.source.text
        items: list[tuple[int, int, Doc]] = []
        for name, value in s.settings:
            at = text.rfind(name, colon, value.span.start)
            items.append((at, value.span.end, [name, " = ", self.p.expr(value, TEST)]))
        blocks: list[tuple[int, str, tuple]] = []
        if s.requires:
            blocks.append((self.keyword_before("requires", colon, s.requires[0].span.start),
                           "requires", s.requires))
        blocks.append((self.keyword_before("steps", colon, s.steps[0].span.start), "steps",
                       s.steps))
        taken = [(a, b) for a, b, _ in items] + self._block_ranges(blocks, limit)
        items += self._docs(colon, limit, taken)
        self._workflow_body(items, blocks, indent + 4, limit, self.out.col(s.span.start))

    def _block_ranges(self, blocks: list[tuple[int, str, tuple]],
                      limit: int) -> list[tuple[int, int]]:
        return [(at, max(stmt.span.end for stmt in body)) for at, _, body in blocks]

    def _workflow_body(self, items: list, blocks: list, indent: int, limit: int,
                       outer_col: int) -> None:
        entries = [(start, "item", (start, end, doc)) for start, end, doc in items] + \
                  [(at, kind, body) for at, kind, body in blocks]
        entries.sort(key=lambda e: e[0])
        self.out.no_blank = True
        for i, (start, kind, payload) in enumerate(entries):
            nxt = entries[i + 1][0] if i + 1 < len(entries) else limit
            self.out.comments_before(start, indent)
            if kind == "item":
                self.simple(payload[2], indent, payload[0], payload[1])
                continue
            self.header(kind, indent, start, self.colon_after(start + len(kind)))
            if kind == "requires":
                reqs = [(r.span.start, r.span.end, [r.name, ": ", self.p.type(r.annotation)])
                        for r in payload]
                self._members(reqs, indent + 4, nxt, self.out.col(start))
            else:
                self.block(payload, indent + 4, nxt, self.out.col(start))
        self.out.comments_before(limit, indent, outer_col + 1)

