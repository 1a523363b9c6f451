"""The interactive REPL (`dana`, `dana repl`): a thin client of parse/check/run.

Consumes: lines typed at a prompt-toolkit prompt (a terminal), or lines of stdin when it is
not a terminal (`echo 'print(1+1)' | dana repl`).
Produces: program output and echoed expression values on stdout, rendered diagnostics on
stderr, and `run_repl() -> exit code`.

Input rules: a line opening a block (ending in `:`) continues until a blank line (or an
unindented line that does not continue the block, like `else:`); an unfinished bracket or
string asks for another line (the parser's IncompleteInputError). A chunk whose last
statement is an expression echoes the value's repr unless it is None. Definitions persist
between chunks (one runtime, one globals dict and the checker's scope per session).
Commands: `:help :type EXPR :state :load FILE :check on|off :reset :quit`.

Exit codes: interactive sessions exit 0 (`:quit` or Ctrl-D). With piped input the exit
code is 0 when every chunk succeeded and 1 when any chunk failed (a syntax, type or
runtime error); no prompts or banners are printed.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, TextIO

from dana.diagnostics import render_error
from dana.embedding import Interpreter, exec_chunk, expression_module
from dana.errors import DanaError, IncompleteInputError
from dana.pipeline import read_source
from dana.source import SourceFile
from dana import surface
from dana.syntax import ast as A
from dana.syntax.builder import parse, parse_expr
from dana.runtime import protocol as P
from dana.runtime.functions import NO_DEFAULT, Function
from dana.runtime.values import (Builtin, ModuleValue, StructInstance, StructType, type_name)
from dana.workflow.runner import RunInterrupted

if TYPE_CHECKING:  # annotations only: the event records load with the runner
    from dana.workflow.events import Listener

PROMPT, CONTINUATION = ">>> ", "... "
COMMANDS = (":help", ":type", ":doc", ":state", ":load", ":check", ":reset", ":quit")
CONTINUES_BLOCK = ("else", "elif", "except", "handle", "finally")
HELP = """\
Dana REPL. Type statements or expressions; a block opened with `:` ends at a blank line.
  :help          this text
  :type EXPR     the static type of EXPR (or, without the checker, its run-time type);
                 a function's signature
  :doc NAME      the signature and docstring of a function, struct or workflow
  _              the last value echoed
  :state         the last workflow run: status, output, state keys and version history
  :load FILE     run a .dana file in this session (its definitions stay)
  :check on|off  turn the static type checker on or off for later inputs
  :reset         forget every definition and the last run
  :quit          leave (also Ctrl-D, `exit` and `quit`); Ctrl-C cancels the current input
"""


#: Words completed everywhere: the keywords and literal constants of dana.surface.
SURFACE_WORDS: tuple[str, ...] = (tuple(k.word for k in surface.KEYWORDS)
                                  + tuple(surface.CONSTANTS))
#: Builtin names completed everywhere: declared functions, type names and error types.
SURFACE_NAMES: tuple[str, ...] = (tuple(surface.FUNCTIONS) + tuple(surface.TYPE_NAMES)
                                  + tuple(e.name for e in surface.ERROR_TYPES)
                                  + tuple(surface.ERROR_SYNONYMS))


class ReplSession:
    """The state of one REPL session and everything it does with complete inputs.
    Output goes to `stdout` (results) and `stderr` (diagnostics); nothing here reads.
    `progress` (an event listener, as `dana run` shows progress) sees every run's events.
    Program output follows `sys.stdout` when `stdout` is not given (so a live progress
    display can print it above its bars)."""

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None,
                 check: bool = True, progress: Listener | None = None) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._program_streams = (stdout, stderr)
        self.check = check
        self.progress = progress
        self.reset()

    def reset(self) -> None:
        """A fresh runtime: no definitions, no checker scope, no last run."""
        program_out, program_err = self._program_streams
        self.interp = Interpreter(allow_read=[Path.cwd()], stdout=program_out,
                                  stderr=program_err, check=self.check,
                                  on_warning=self._warn)
        if self.progress is not None:
            self.interp.on_event(self.progress)
        # `_` holds the last echoed value, as in Python; typed `any` for the checker.
        self.interp.run_source(SourceFile("<repl>", "_: any = None\n"))
        self.last_run: Any = None
        original = self.interp.runtime.builtins["run"]

        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                result = original(*args, **kwargs)
            except RunInterrupted as interrupted:  # Ctrl-C: `:state` shows the partial run
                self.last_run = interrupted.result
                raise
            self.last_run = result
            return result
        self.interp.runtime.builtins["run"] = Builtin("run", run)

    @property
    def check(self) -> bool:
        """Whether later inputs are type-checked (`:check on|off`)."""
        return self._check

    @check.setter
    def check(self, on: bool) -> None:
        self._check = on
        if hasattr(self, "interp"):
            self.interp.check = on

    def _warn(self, diagnostic: Any) -> None:
        from dana.diagnostics import render
        self.error(render(diagnostic))

    @property
    def globals(self) -> dict[str, Any]:
        return self.interp.globals

    @property
    def runtime(self) -> Any:
        return self.interp.runtime

    # -------------------------------------------------------------- input
    def needs_more(self, lines: list[str]) -> bool:
        """True when `lines` are not a complete input yet (an open block not ended by a
        blank line, or an open bracket/string)."""
        in_block = any(_opens_block(line) for line in lines)
        if in_block and lines[-1].strip():
            return True
        try:
            parse(SourceFile("<repl>", "\n".join(lines)))
        except IncompleteInputError:
            last = next((ln for ln in reversed(lines) if ln.strip()), "")
            return not (in_block and _opens_block(last))
        except DanaError:
            return False
        return False

    def execute(self, text: str) -> bool:
        """Parse, check and run one chunk; echo an expression's value. False on error."""
        return self._guard(lambda: self._execute(text))

    def _execute(self, text: str) -> None:
        self.echo(self.interp.run_source(SourceFile("<repl>", text)))

    def echo(self, value: Any) -> None:
        if value is not None:
            self.globals["_"] = value
            self.stdout.write(f"{value!r}\n")
            self.stdout.flush()

    def _guard(self, action: Any) -> bool:
        try:
            action()
            return True
        except DanaError as exc:
            self.error(render_error(exc))
        except KeyboardInterrupt:
            self.error("interrupted")
        except RecursionError:
            self.error("error: Python recursion limit reached")
        except Exception:  # a bug in Dana: show it, keep the session
            self.error(traceback.format_exc() + "dana: internal error (a bug in Dana)")
        return False

    def error(self, text: str) -> None:
        self.stdout.flush()
        self.stderr.write(text.rstrip("\n") + "\n")
        self.stderr.flush()

    # -------------------------------------------------------------- commands
    def command(self, line: str) -> bool | None:
        """Run a `:command`. Returns None to quit, else whether it succeeded."""
        name, _, arg = line.strip().partition(" ")
        arg = arg.strip()
        matches = [c for c in COMMANDS if c.startswith(name)] if name != ":" else []
        if name in (":q", ":exit"):
            matches = [":quit"]
        if len(matches) != 1:
            self.error(f"unknown command {name}; try :help")
            return False
        name = matches[0]
        if name == ":quit":
            return None
        if name == ":help":
            self.stdout.write(HELP)
            return True
        if name == ":reset":
            self.reset()
            self.stdout.write("session reset\n")
            return True
        if name == ":check":
            return self._check_command(arg)
        if not arg and name in (":type", ":doc", ":load"):
            self.error(f"usage: {name} {'FILE' if name == ':load' else 'EXPR'}")
            return False
        action = {":type": self.show_type, ":doc": self.show_doc, ":state": self.show_state,
                  ":load": self.load}[name]
        return self._guard(lambda: action(arg))

    def _check_command(self, arg: str) -> bool:
        if arg not in ("on", "off", ""):
            self.error("usage: :check on|off")
            return False
        if arg:
            self.check = arg == "on"
        self.stdout.write(f"type checking is {'on' if self.check else 'off'}\n")
        return True

    def show_type(self, text: str) -> None:
        """The checker's static type of `text`; a function named by `text` shows its
        signature (parameter names included), and where the checker only knows `any`
        the expression is evaluated and its run-time type shown."""
        from dana.types.checker import type_of_expression
        from dana.types.types import FunctionT
        expr = parse_expr(SourceFile("<repl>", text))
        static = type_of_expression(expr, self.interp.scope)
        named = isinstance(expr, (A.NameExpr, A.AttributeExpr))  # looked up, never called
        if str(static) != "any" and not (named and isinstance(static, FunctionT)):
            self.stdout.write(f"{static}\n")
            return
        value = exec_chunk(self.runtime, self.globals, expression_module(expr))
        shown = static if isinstance(static, FunctionT) else type_name(value)
        self.stdout.write(f"{_signature(value) or shown}\n")

    def show_doc(self, text: str) -> None:
        """The signature (or type) of the value of `text` and its docstring."""
        value = exec_chunk(self.runtime, self.globals,
                           expression_module(parse_expr(SourceFile("<repl>", text))))
        doc = getattr(value, "docstring", None) or "(no docstring)"
        body = "\n".join(f"    {line}" for line in doc.splitlines())
        self.stdout.write(f"{_signature(value) or type_name(value)}\n{body}\n")

    def show_state(self, _: str = "") -> None:
        """The last run's status, output, state values and version history."""
        result = self.last_run
        if result is None:
            self.stdout.write("no workflow has run yet in this session (use run(...))\n")
            return
        state = result.state
        out = [f"run {result.run_id}: workflow {result.workflow} v{result.version} "
               f"{result.status} in {result.duration:.3f} s"]
        if result.output is not None:
            out.append(f"output: {result.output!r}")
        if result.error:
            out.append(f"error: {result.error.get('type')}: {result.error.get('message')} "
                       f"(step {result.error.get('step')})")
        out.append(f"state (version {getattr(state, 'version', '?')}):")
        values = state.as_dict() if hasattr(state, "as_dict") else dict(state)
        out.extend(f"  {key} = {values[key]!r}" for key in sorted(values))
        out.append("history:")
        for entry in result.history():
            version, step, keys = _history_fields(entry)
            out.append(f"  v{version} {step}: {', '.join(keys) or '-'}")
        self.stdout.write("\n".join(out) + "\n")

    def load(self, path: str) -> None:
        """Run file `path` in this session; its folder becomes readable too."""
        source = read_source(path.strip("'\""))
        if source.path is not None:
            rt = self.runtime
            rt.permissions = rt.permissions.with_read(source.path.parent)
        self.interp.run_source(source)
        self.stdout.write(f"loaded {path}\n")

    # -------------------------------------------------------------- completion data
    def names(self) -> list[str]:
        """Keywords and constants, names defined in the session, then the declared builtins
        (dana.surface: functions, type names, error types) and host functions, without
        `__` names."""
        names = dict.fromkeys(SURFACE_WORDS)
        names.update(dict.fromkeys(self.globals))
        names.update(dict.fromkeys(SURFACE_NAMES))
        names.update(dict.fromkeys(self.runtime.builtins))
        return [n for n in names if not n.startswith("__")]

    def attributes(self, path: str) -> list[str]:
        """Completion candidates after `path.` (fields, methods, module names), found by
        looking names up, never by evaluating code."""
        parts = path.split(".")
        value = self.globals.get(parts[0], self.runtime.builtins.get(parts[0]))
        for part in parts[1:]:
            value = _member(value, part)
        return _members(value)


def _signature(value: Any) -> str | None:
    """`mean(values: list) -> float` for a Dana function (None for other values)."""
    if not isinstance(value, Function):
        return None
    params = []
    for p in value.params:
        text = "*" * p.star + p.name + (f": {p.type.name}" if p.annotated else "")
        params.append(text + (" = ..." if p.default is not NO_DEFAULT else ""))
    returns = f" -> {value.returns.name}" if value.returns is not None else ""
    return f"{value.name}({', '.join(params)}){returns}"


def _opens_block(line: str) -> bool:
    return re.sub(r"#[^'\"]*$", "", line).rstrip().endswith(":")


def _history_fields(entry: Any) -> tuple[Any, Any, Any]:
    if isinstance(entry, dict):
        return entry.get("version"), entry.get("step"), entry.get("keys_changed", ())
    return entry.version, entry.step, entry.keys_changed


def _member(value: Any, name: str) -> Any:
    if isinstance(value, StructInstance):
        return value.fields.get(name)
    if isinstance(value, ModuleValue):
        return value.namespace.get(name)
    attrs = getattr(type(value), "dana_attrs", ())
    return getattr(value, name, None) if name in attrs else None


def _members(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, StructInstance):
        return list(value.fields) + sorted(value.struct.methods)
    if isinstance(value, ModuleValue):
        return [n for n in value.namespace if not n.startswith("_")]
    if isinstance(value, StructType):
        return sorted(value.methods)
    methods = P.METHODS.get(type(value))
    if methods is not None:
        return sorted(methods)
    return sorted(getattr(type(value), "dana_attrs", ()))


# ------------------------------------------------------------------ line accumulation
class Reader:
    """Groups input lines into complete chunks and commands."""

    def __init__(self, session: ReplSession) -> None:
        self.session = session
        self.lines: list[str] = []

    @property
    def pending(self) -> bool:
        return bool(self.lines)

    def cancel(self) -> None:
        self.lines = []

    def feed(self, line: str) -> Iterator[str]:
        """Add one line; yields the complete chunks (or `:commands`) it finishes."""
        if not self.lines:
            if not line.strip():
                return
            if line.lstrip().startswith(":"):
                yield line.strip()
                return
        elif (line.strip() and not line[0].isspace() and not _continues(line)
              and any(_opens_block(ln) for ln in self.lines)
              and not self.session.needs_more(self.lines + [""])):
            yield from self.flush()        # an unindented line ends the open block
            yield from self.feed(line)
            return
        self.lines.append(line)
        if not self.session.needs_more(self.lines):
            yield from self.flush()

    def flush(self) -> Iterator[str]:
        text = "\n".join(self.lines).rstrip() + "\n"
        self.lines = []
        if text.strip():
            yield text

    def indent(self) -> str:
        """The indentation to prefill on a continuation line."""
        last = next((ln for ln in reversed(self.lines) if ln.strip()), "")
        lead = last[:len(last) - len(last.lstrip())]
        return lead + "    " if _opens_block(last) else lead


def _continues(line: str) -> bool:
    word = re.match(r"\s*([A-Za-z_]+)", line)
    return bool(word) and word.group(1) in CONTINUES_BLOCK


# Python's REPL words, when the session has not defined them: `help` shows the commands,
# `exit`/`quit` (with or without `()`) leave, as in Python.
PYTHON_WORDS = {"help": ":help", "help()": ":help", "exit": ":quit", "exit()": ":quit",
                "quit": ":quit", "quit()": ":quit"}


def dispatch(session: ReplSession, chunk: str) -> bool | None:
    """Run one chunk or command: None to quit, else success."""
    if chunk.startswith(":"):
        return session.command(chunk)
    word = chunk.strip()
    if word in PYTHON_WORDS and word.rstrip("()") not in session.globals:
        return session.command(PYTHON_WORDS[word])
    return session.execute(chunk)


# ------------------------------------------------------------------ front ends
def run_piped(lines: Iterable[str], session: ReplSession) -> int:
    """Drive the session from non-terminal input; 0 if every chunk succeeded, else 1."""
    reader, failed = Reader(session), False
    for raw in lines:
        for chunk in reader.feed(raw.rstrip("\r\n")):
            outcome = dispatch(session, chunk)
            if outcome is None:
                return 1 if failed else 0
            failed = failed or not outcome
    for chunk in reader.flush():
        failed = not dispatch(session, chunk) or failed
    session.stdout.flush()
    return 1 if failed else 0


def history_path() -> Path:
    """$DANA_HISTORY, else $XDG_DATA_HOME/dana/history, else ~/.local/share/dana/history."""
    explicit = os.environ.get("DANA_HISTORY")
    if explicit:
        return Path(explicit).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "dana" / "history"


def make_prompt(session: ReplSession, input: Any = None, output: Any = None) -> Any:
    """A prompt-toolkit PromptSession with Dana highlighting, history and completion."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    from prompt_toolkit.lexers import PygmentsLexer
    from dana.cli.lexer import DanaLexer

    try:
        path = history_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        history: Any = FileHistory(str(path))
    except OSError:
        history = InMemoryHistory()
    return PromptSession(lexer=PygmentsLexer(DanaLexer), history=history,
                         completer=make_completer(session), complete_while_typing=False,
                         auto_suggest=AutoSuggestFromHistory(), input=input, output=output)


# A literal before the dot being completed: a string, a list (`]`) or a dict (`}`).
LITERAL_RECEIVER = re.compile(r"""(?:(["'])(?:(?!\1).)*\1|(\])|\})\.(\w*)$""")


def make_completer(session: ReplSession) -> Any:
    """A prompt-toolkit completer for commands, keywords, names, fields and methods."""
    from prompt_toolkit.completion import Completer, Completion, PathCompleter
    from prompt_toolkit.document import Document

    paths = PathCompleter(expanduser=True)

    class DanaCompleter(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Iterator[Any]:
            before = document.text_before_cursor
            stripped = before.lstrip()
            if stripped.startswith(":load "):
                arg = stripped[len(":load "):].lstrip()
                yield from paths.get_completions(Document(arg, len(arg)), complete_event)
                return
            if stripped.startswith(":") and " " not in stripped:
                for name in COMMANDS:
                    if name.startswith(stripped):
                        yield Completion(name, -len(stripped))
                return
            literal = LITERAL_RECEIVER.search(before)
            if literal is not None:  # "abc".up<Tab>, [1].app<Tab>
                kind = "str" if literal.group(1) else "list" if literal.group(2) else "dict"
                word = literal.group(3)
                for name in sorted(surface.METHODS[kind]):
                    if name.startswith(word):
                        yield Completion(name, -len(word))
                return
            match = re.search(r"([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)?(\.)?([A-Za-z_]\w*)?$",
                              before)
            head, dot, word = match.groups() if match else (None, None, None)
            if dot and head:
                candidates = session.attributes(head)
            elif head and "." in head:
                obj, _, word = head.rpartition(".")
                candidates = session.attributes(obj)
            else:
                word = head or ""
                candidates = session.names()
            word = word or ""
            for name in candidates:
                if name.startswith(word) and not name.startswith("_"):
                    yield Completion(name, -len(word))

    return DanaCompleter()


def run_interactive(session: ReplSession, input: Any = None, output: Any = None,
                    banner: bool = True, auto_indent: bool = True) -> int:
    """The prompt-toolkit loop. Ctrl-C cancels the input, Ctrl-D (or :quit) exits 0."""
    prompt = make_prompt(session, input, output)
    reader = Reader(session)
    if banner:
        session.stdout.write("Dana REPL — :help for commands, Ctrl-D to exit\n")
    while True:
        continuing = reader.pending
        default = reader.indent() if continuing and auto_indent else ""
        try:
            line = prompt.prompt(CONTINUATION if continuing else PROMPT, default=default)
        except KeyboardInterrupt:
            reader.cancel()
            continue
        except EOFError:
            for chunk in reader.flush():
                dispatch(session, chunk)
            return 0
        for chunk in reader.feed(line):
            if dispatch(session, chunk) is None:
                return 0


def run_repl(stdin: TextIO | None = None, stdout: TextIO | None = None,
             stderr: TextIO | None = None) -> int:
    """`dana repl`: interactive on a terminal, line-driven otherwise. Returns the exit code."""
    stdin = stdin or sys.stdin
    if not (stdin.isatty() and (stdout or sys.stdout).isatty()):
        return run_piped(stdin, ReplSession(stdout, stderr))
    from dana.cli.progress import progress_listener
    progress = progress_listener(stderr)
    try:
        return run_interactive(ReplSession(stdout, stderr, progress=progress))
    finally:
        progress.close()


if __name__ == "__main__":
    sys.exit(run_repl())
