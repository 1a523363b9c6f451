"""Property test of the checker: programs that pass the checker never raise a
run-time type error in the interpreter for the checked constructs.

Hypothesis builds small well-typed programs — typed and inferred bindings of int, float,
str, bool, list[int], dict[str, int], int | None and a struct; arithmetic, comparison and
string operations; functions with annotated parameters called positionally and by
keyword; struct construction, field reads and writes; if/else narrowing an `int | None`
(`is None`, `is not None`, truthiness, `isinstance`, early return, assignment); `for`
loops over lists. Each program must check clean and then run without a TypeError,
AttributeError or NameError; it is written so that no other error can happen either
(division by `abs(n) + 1`, slices, `dict.get`), and one that fails anyway is a generator
bug. Each program also gets one ill-typed statement appended — a wrong argument, field or
assignment type, a `T | None` used before narrowing, an unknown member, an extra argument
— and the checker must reject that version, which must also fail when run. A name bound
in both branches of an `if` is used after it (definite assignment); other names bound
inside a block are not, and well-typed programs get no warning either. A third version
binds a name in one branch only and reads it after: the checker must warn (E0208) and
still accept it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dana
from dana.errors import DanaRuntimeError
from dana.source import SourceFile
from dana.syntax.builder import parse
from dana.types.checker import check_module

TYPE_ERRORS = {"TypeError", "AttributeError", "NameError"}
INT, FLOAT, STR, BOOL = "int", "float", "str", "bool"
LIST, DICT, OPT, POINT = "list[int]", "dict[str, int]", "int | None", "Point"
TYPES = [INT, FLOAT, STR, BOOL, LIST, DICT, OPT, POINT]
DYNAMIC = ["Any", "object"]  # spellings of `any`: the checker leaves these values alone
PRELUDE = ("struct Point:\n    x: int\n    y: float = 0.0\n\n"
           "def keep(value: Any) -> Any:\n    return value\n\n"
           "def hold(value: object) -> object:\n    return value\n")


@dataclass
class Func:
    """A generated function: `params` are (name, type its values have, annotation
    written, default or None); a parameter annotated `Any`/`object` still receives
    values of its type."""

    name: str
    params: list[tuple[str, str, str, str | None]]
    returns: str

    @property
    def signature(self) -> str:
        shown = [f"{p}: {ann}" + (f" = {d}" if d is not None else "")
                 for p, _, ann, d in self.params]
        return f"({', '.join(shown)}) -> {self.returns}"


@dataclass
class Env:
    """What the generated code may use at one point: variables (name -> type) and the
    functions defined so far."""

    vars: dict[str, str] = field(default_factory=dict)
    funcs: list[Func] = field(default_factory=list)
    loose: set[str] = field(default_factory=set)  # variables whose static type is `any`

    def of(self, t: str) -> list[str]:
        return [n for n, vt in self.vars.items() if vt == t]

    def exact(self, t: str) -> list[str]:
        return [n for n in self.of(t) if n not in self.loose]

    def copy(self) -> "Env":
        return Env(dict(self.vars), list(self.funcs), set(self.loose))


class Gen:
    """Draws one program; `draw` is hypothesis's."""

    def __init__(self, draw) -> None:
        self.draw = draw
        self.counter = 0

    def pick(self, options: list):
        return self.draw(st.sampled_from(options))

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # ---------------------------------------------------------------- expressions
    def expr(self, t: str, env: Env, depth: int = 2) -> str:
        """An expression of type `t` using `env` (depth bounds the nesting)."""
        makers = [self.leaf]
        if depth > 0:
            makers += [self.compound, self.call, self.compound, self.dynamic]
        return self.pick(makers)(t, env, depth)

    def dynamic(self, t: str, env: Env, depth: int) -> str:
        """A value of type `t` passed through a function typed `Any` or `object`."""
        return f"{self.pick(['keep', 'hold'])}({self.expr(t, env, depth - 1)})"

    def exact_leaf(self, t: str, env: Env) -> str:
        """A literal or a variable whose static type is exactly `t` (for mistakes)."""
        names = env.exact(t)
        if names and self.draw(st.booleans()):
            return self.pick(names)
        return self.literal(t, env)

    def leaf(self, t: str, env: Env, depth: int) -> str:
        names = env.of(t)
        if names and self.draw(st.booleans()):
            return self.pick(names)
        return self.literal(t, env)

    def literal(self, t: str, env: Env) -> str:
        d = self.draw
        if t == INT:
            return str(d(st.integers(-9, 9)))
        if t == FLOAT:
            return repr(d(st.sampled_from([0.5, 1.25, -2.0, 3.0])))
        if t == STR:
            return repr(d(st.sampled_from(["", "a", "Ab", "x y"])))
        if t == BOOL:
            return d(st.sampled_from(["True", "False"]))
        if t == LIST:
            return "[" + ", ".join(str(i) for i in d(st.lists(st.integers(-5, 5),
                                                                max_size=3))) + "]"
        if t == DICT:
            keys = d(st.lists(st.sampled_from(["a", "b", "c"]), unique=True, max_size=3))
            return "{" + ", ".join(f'"{k}": {i}' for i, k in enumerate(keys)) + "}"
        if t == OPT:
            return self.pick(["None", str(d(st.integers(0, 5)))])
        return f"Point(x={d(st.integers(-3, 3))})"

    def compound(self, t: str, env: Env, depth: int) -> str:
        e = lambda ty: self.expr(ty, env, depth - 1)  # noqa: E731
        options = {
            INT: [lambda: f"({e(INT)} {self.pick(['+', '-', '*'])} {e(INT)})",
                  lambda: f"({e(INT)} // (abs({e(INT)}) + 1))",
                  lambda: f"len({e(self.pick([LIST, STR]))})",
                  lambda: f"{e(POINT)}.x", lambda: f"max({e(INT)}, {e(INT)})",
                  lambda: f"({e(INT)} if {e(BOOL)} else {e(INT)})",
                  lambda: f"{e(DICT)}.get({e(STR)}, 0)", lambda: f"sum({e(LIST)})",
                  lambda: f"round({e(FLOAT)})", lambda: self.unwrap(env, depth),
                  lambda: f"abs(x={e(INT)})"],
            FLOAT: [lambda: f"({e(FLOAT)} + {e(self.pick([INT, FLOAT]))})",
                    lambda: f"round({e(FLOAT)}, ndigits={self.draw(st.integers(0, 2))})",
                    lambda: f"({e(FLOAT)} / (abs({e(INT)}) + 1))",
                    lambda: f"float({e(INT)})", lambda: f"{e(POINT)}.y",
                    lambda: e(INT)],
            STR: [lambda: f"({e(STR)} + {e(STR)})", lambda: f"str({e(INT)})",
                  lambda: f"{e(STR)}.upper()", lambda: f"{e(STR)}.strip()",
                  lambda: self.fstring(env), lambda: f"{e(STR)}[0:2]",
                  lambda: f'",".join([{e(STR)}, {e(STR)}])',
                  lambda: f'{e(STR)}.replace("a", "b")'],
            BOOL: [lambda: f"({e(INT)} < {e(INT)})", lambda: f"({e(STR)} == {e(STR)})",
                   lambda: f"(not {e(BOOL)})", lambda: f"({e(BOOL)} and {e(BOOL)})",
                   lambda: f"({e(OPT)} is None)", lambda: f"({e(INT)} in {e(LIST)})",
                   lambda: f"({e(STR)} in {e(DICT)})", lambda: f"({e(FLOAT)} >= {e(INT)})",
                   lambda: f"isinstance({e(OPT)}, int)"],
            LIST: [lambda: f"[{e(INT)}, {e(INT)}]", lambda: f"({e(LIST)} + {e(LIST)})",
                   lambda: f"[v * 2 for v in {e(LIST)}]", lambda: f"sorted({e(LIST)})",
                   lambda: f"list(range({e(INT)}))", lambda: f"{e(LIST)}[0:2]",
                   lambda: f"[v for v in {e(LIST)} if v > {e(INT)}]",
                   lambda: f"sorted({e(LIST)}, reverse={e(BOOL)})"],
            DICT: [lambda: f'{{{e(STR)}: {e(INT)}}}',
                   lambda: f"{{k: v + 1 for k, v in {e(DICT)}.items()}}"],
            OPT: [lambda: e(INT), lambda: f"{e(DICT)}.get({e(STR)})",
                  lambda: f"({e(INT)} if {e(BOOL)} else None)"],
            POINT: [lambda: f"Point(x={e(INT)}, y={e(FLOAT)})",
                    lambda: f"Point(y={e(FLOAT)}, x={e(INT)})"],
        }[t]
        return self.pick(options)()

    def fstring(self, env: Env) -> str:
        """An f-string over names and numbers (no quotes inside the quotes)."""
        parts = [self.pick(env.of(t)) for t in (INT, STR, FLOAT) if env.of(t)]
        spec = self.pick(["", ":.2f"]) if env.of(FLOAT) else ""
        inner = "-".join(f"{{{p}{spec if env.vars[p] == FLOAT else ''}}}" for p in parts)
        return f'f"<{inner}>"'

    def unwrap(self, env: Env, depth: int) -> str:
        """An int from an `int | None`, narrowed inside a conditional expression."""
        opts = env.of(OPT)
        if not opts:
            return self.literal(INT, env)
        o = self.pick(opts)
        return self.pick([f"({o} if {o} is not None else 0)", f"(0 if {o} is None else {o})",
                          f"({o} + 1 if {o} else 0)"])

    def call(self, t: str, env: Env, depth: int) -> str:
        funcs = [f for f in env.funcs if f.returns == t]
        if not funcs:
            return self.leaf(t, env, depth)
        return self.call_of(self.pick(funcs), env, depth)

    def call_of(self, f: Func, env: Env, depth: int) -> str:
        """A call of `f`: positional arguments, then keywords in any order; parameters
        with a default may be left out."""
        given = [p for p in f.params if p[3] is None or self.draw(st.booleans())]
        args = [(p, self.expr(pt, env, depth - 1)) for p, pt, _, _ in given]
        # positional up to the first omitted parameter, then keywords in any order
        cut = next((i for i, p in enumerate(f.params) if p not in given), len(f.params))
        cut = self.draw(st.integers(0, min(cut, len(args))))
        named = self.draw(st.permutations(args[cut:]))
        shown = [a for _, a in args[:cut]] + [f"{p}={a}" for p, a in named]
        return f"{f.name}({', '.join(shown)})"

    # ---------------------------------------------------------------- statements
    def block(self, env: Env, indent: str, size: int, depth: int) -> list[str]:
        lines: list[str] = []
        for _ in range(size):
            lines += self.stmt(env, indent, depth)
        return lines or [indent + "pass"]

    def stmt(self, env: Env, indent: str, depth: int) -> list[str]:
        makers = [self.bind, self.bind, self.show, self.reassign]
        if depth > 0:
            makers += [self.branch, self.branch_bind, self.narrow, self.loop,
                       self.field_write]
        if indent == "" and depth > 0:  # definitions at the top level, inside if/try
            makers += [self.branch_def, self.try_def]
        return self.pick(makers)(env, indent, depth)

    def bind(self, env: Env, indent: str, depth: int) -> list[str]:
        t = self.pick(TYPES)
        name = self.fresh("v")
        value = self.expr(t, env)
        env.vars[name] = t
        if t in (STR, BOOL, LIST, POINT) and self.draw(st.booleans()):
            if "keep(" in value or "hold(" in value:
                env.loose.add(name)  # inferred as `any`
            return [f"{indent}{name} = {value}"]
        if self.draw(st.integers(0, 4)) == 0:
            env.loose.add(name)
            return [f"{indent}{name}: {self.pick(DYNAMIC)} = {value}"]
        return [f"{indent}{name}: {t} = {value}"]

    def show(self, env: Env, indent: str, depth: int) -> list[str]:
        return [f"{indent}print({self.expr(self.pick(TYPES), env)})"]

    def reassign(self, env: Env, indent: str, depth: int) -> list[str]:
        names = [n for n, t in env.vars.items() if t in (INT, STR, FLOAT)]
        if not names:
            return self.bind(env, indent, depth)
        n = self.pick(names)
        t = env.vars[n]
        op = self.pick(["=", "+="])
        return [f"{indent}{n} {op} {self.expr(t, env)}"]

    def field_write(self, env: Env, indent: str, depth: int) -> list[str]:
        points = env.of(POINT)
        if not points:
            return self.show(env, indent, depth)
        return [f"{indent}{self.pick(points)}.x = {self.expr(INT, env)}"]

    def branch(self, env: Env, indent: str, depth: int) -> list[str]:
        inner = indent + "    "
        lines = [f"{indent}if {self.expr(BOOL, env)}:"]
        lines += self.block(env.copy(), inner, self.draw(st.integers(1, 2)), depth - 1)
        lines += [f"{indent}else:"]
        lines += self.block(env.copy(), inner, self.draw(st.integers(1, 2)), depth - 1)
        return lines

    def branch_bind(self, env: Env, indent: str, depth: int) -> list[str]:
        """A name assigned in both branches of an `if`, so it is bound after it."""
        t, name, inner = self.pick([INT, STR]), self.fresh("b"), indent + "    "
        lines = [f"{indent}if {self.expr(BOOL, env)}:"]
        for _ in range(2):
            lines += [f"{inner}{name}: {t} = {self.expr(t, env)}"]
            lines += self.block(env.copy(), inner, self.draw(st.integers(0, 1)), depth - 1)
            lines += [f"{indent}else:"]
        env.vars[name] = t
        return lines[:-1]

    def narrow(self, env: Env, indent: str, depth: int) -> list[str]:
        """Use an `int | None` as an int where a check allows it."""
        opts = env.of(OPT)
        if not opts:
            return self.bind(env, indent, depth)
        o, inner = self.pick(opts), indent + "    "
        form = self.draw(st.integers(0, 3))
        if form == 3:  # after `if o is None: o = <int>`, `o` is an int
            lines = [f"{indent}if {o} is None:", f"{inner}{o} = {self.expr(INT, env)}"]
            env.vars[o] = INT
            return lines + [f"{indent}print({o} + 1)"]
        cond = [f"{o} is not None", f"isinstance({o}, int)", f"{o}"][form]
        then = env.copy()
        then.vars[o] = INT
        lines = [f"{indent}if {cond}:", f"{inner}print({o} * 2)"]
        lines += self.block(then, inner, 1, depth - 1)
        lines += [f"{indent}else:"]
        return lines + self.block(env.copy(), inner, 1, depth - 1)

    def loop(self, env: Env, indent: str, depth: int) -> list[str]:
        var, acc, inner = self.fresh("e"), self.fresh("acc"), indent + "    "
        lines = [f"{indent}{acc}: int = 0", f"{indent}for {var} in {self.expr(LIST, env)}:"]
        body = env.copy()
        body.vars[var] = INT
        lines += [f"{inner}{acc} = {acc} + {var}"]
        lines += self.block(body, inner, 1, depth - 1)
        env.vars[acc] = INT
        return lines

    # ---------------------------------------------------------------- functions
    def signature(self, name: str) -> Func:
        """A new signature: 1-3 parameters, some annotated `Any`/`object`, the last ones
        perhaps with a default."""
        params = []
        for i in range(self.draw(st.integers(1, 3))):
            t = self.pick([INT, FLOAT, STR, LIST, OPT, POINT])
            ann = self.pick(DYNAMIC) if self.draw(st.integers(0, 4)) == 0 else t
            params.append((f"p{i}", t, ann, None))
        for i in reversed(range(len(params))):
            if not self.draw(st.booleans()):
                break
            p, t, ann, _ = params[i]
            params[i] = (p, t, ann, self.literal(t, Env()))
        return Func(name, params, self.pick([INT, STR, BOOL, FLOAT]))

    def function(self, env: Env, f: Func | None = None, indent: str = "") -> list[str]:
        """A `def` of `f` (a new function if None) at `indent`; it is added to `env`."""
        f = f or self.signature(self.fresh("fn"))
        others = [g for g in env.funcs if g.name != f.name]  # no recursion
        local = Env({p: t for p, t, _, _ in f.params}, list(others),
                    {p for p, _, ann, _ in f.params if ann in DYNAMIC})
        inner = indent + "    "
        lines = [f"{indent}def {f.name}{f.signature}:"]
        if self.draw(st.integers(0, 3)) == 0:  # a nested function, closing over parameters
            lines += self.nested(local, inner)
        opts = local.of(OPT)
        if opts and self.draw(st.booleans()):  # early exit narrows the rest of the body
            lines += [f"{inner}if {opts[0]} is None:",
                      f"{inner}    return {self.expr(f.returns, local)}"]
            local.vars[opts[0]] = INT
        lines += self.block(local, inner, self.draw(st.integers(0, 2)), 1)
        lines.append(f"{inner}return {self.expr(f.returns, local)}")
        env.funcs = others + [f]
        return lines

    def nested(self, env: Env, indent: str) -> list[str]:
        name = self.fresh("inner")
        body = self.expr(INT, Env(dict(env.vars, q=INT), list(env.funcs), set(env.loose)), 1)
        env.funcs.append(Func(name, [("q", INT, INT, None)], INT))
        return [f"{indent}def {name}(q: int) -> int:", f"{indent}    return q + {body}"]

    def branch_def(self, env: Env, indent: str, depth: int) -> list[str]:
        """One function defined in both branches of an `if` (same signature)."""
        f = self.signature(self.fresh("cd"))
        lines = [f"{indent}if {self.expr(BOOL, env)}:"]
        lines += self.function(env.copy(), f, indent + "    ") + [f"{indent}else:"]
        lines += self.function(env, f, indent + "    ")
        return lines + self.show_call(env, f, indent)

    def try_def(self, env: Env, indent: str, depth: int) -> list[str]:
        """A function defined in a `try` body and again in its handler."""
        f = self.signature(self.fresh("td"))
        lines = [f"{indent}try:"] + self.function(env.copy(), f, indent + "    ")
        lines += [f"{indent}handle Error:"] + self.function(env, f, indent + "    ")
        return lines + self.show_call(env, f, indent)

    def redefine(self, env: Env, indent: str, depth: int) -> list[str]:
        """A function defined again with the same signature and another body."""
        if not env.funcs:
            return self.branch_def(env, indent, depth)
        f = self.pick(env.funcs)
        if f.name.startswith("inner"):
            return self.show(env, indent, depth)
        return self.function(env, f, indent) + self.show_call(env, f, indent)

    def show_call(self, env: Env, f: Func, indent: str) -> list[str]:
        return [f"{indent}print({self.call_of(f, env, 1)})"]

    def program(self) -> tuple[str, Env]:
        env = Env()
        lines = PRELUDE.splitlines() + [""]
        for _ in range(self.draw(st.integers(0, 2))):
            lines += self.function(env) + [""]
        lines += self.block(env, "", self.draw(st.integers(2, 6)), 2)
        return "\n".join(lines) + "\n", env

    # ---------------------------------------------------------------- mistakes
    def mistake(self, env: Env) -> str:
        """One statement that is ill-typed (and fails when run). Its values are literals
        or declared variables, whose static types are exact."""
        kinds = ["assign", "optional", "field", "member", "method"]
        typed = [f for f in env.funcs if any(ann not in DYNAMIC for _, _, ann, _ in f.params)]
        if env.funcs:
            kinds += ["arity", "keyword"]
        if typed:
            kinds += ["argument"]
        kind = self.pick(kinds)
        if kind == "assign":
            t, wrong = self.pick([(INT, STR), (STR, INT), (LIST, INT), (BOOL, STR)])
            return f"bad: {t} = {self.exact_leaf(wrong, env)}"
        if kind == "optional":
            return f"maybe: int | None = None\nprint(maybe {self.pick(['+', '*', '-'])} 1)"
        if kind == "field":
            return f'print(Point(x={self.exact_leaf(STR, env)}, y=1.0))'
        if kind == "member":
            return f"print({self.exact_leaf(POINT, env)}.z)"
        if kind == "method":
            return f"print(({self.exact_leaf(INT, env)}).upper())"
        f = self.pick(typed if kind == "argument" else env.funcs)
        args = [self.exact_leaf(pt, env) for _, pt, _, _ in f.params]
        if kind == "arity":
            return f"print({f.name}({', '.join(args + ['1'])}))"
        if kind == "keyword":
            return f"print({f.name}({', '.join(args + ['nope=1'])}))"
        i = self.pick([i for i, (_, _, ann, _) in enumerate(f.params) if ann not in DYNAMIC])
        wrong = {INT: '"zz"', FLOAT: '"zz"', STR: "5", LIST: "7", OPT: '"zz"', POINT: "3"}
        args[i] = wrong[f.params[i][1]]
        return f"print({f.name}({', '.join(args)}))"


    # ---------------------------------------------------------------- redefinitions
    def redefinition(self) -> str:
        """A function redefined with another signature, and a function whose body calls
        it, written against one of the two signatures and called before or after the
        redefinition: the checker need not accept it, but if it does, it must run."""
        env = Env()
        first = self.signature(self.fresh("rb"))
        second = Func(first.name, self.signature(first.name).params,
                      self.pick([INT, STR, BOOL, FLOAT]))
        lines = self.function(env, first)
        target = self.pick([first, second])
        user = self.fresh("ru")
        lines += [f"def {user}(n: int) -> {target.returns}:",
                  f"    return {self.call_of(target, Env({'n': INT}), 1)}"]
        call = [f"print({user}(1))"]
        early = self.draw(st.booleans())
        lines += (call if early else []) + self.function(env, second) + ([] if early else call)
        return PRELUDE + "\n" + "\n".join(lines) + "\n"


@st.composite
def programs(draw) -> tuple[str, str, str, str]:
    """(a well-typed program, the same program with an ill-typed statement appended,
    with a name bound in one branch only read after it, and a program redefining a
    function with another signature)."""
    gen = Gen(draw)
    text, env = gen.program()
    late = gen.fresh("late")
    maybe = f"if {gen.expr(BOOL, env)}:\n    {late} = 1\nprint({late})\n"
    return text, text + gen.mistake(env) + "\n", text + maybe, gen.redefinition()


def diagnosed(text: str, severity: str = "error") -> list:
    result = check_module(parse(SourceFile("generated.dana", text)))
    return [d for d in result.diagnostics if d.severity == severity]


def checked(text: str) -> list:
    return diagnosed(text)


def run(text: str) -> DanaRuntimeError | None:
    interp = dana.Interpreter(check=False, stdout=io.StringIO(), stderr=io.StringIO())
    try:
        interp.exec(text)
    except DanaRuntimeError as err:
        return err
    return None


# The interpreter raises Python's recursion limit to fit its own call-depth limit the first
# time it runs; hypothesis notices and warns that it will not restore it, which is intended.
@pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_well_typed_programs_check_clean_and_run_without_type_errors(pair) -> None:
    good, bad, maybe, redefined = pair
    errors = checked(good)
    assert not errors, f"checker rejected a well-typed program:\n{good}\n{errors}"
    warnings = diagnosed(good, "warning")
    assert not warnings, f"checker warned about a well-typed program:\n{good}\n{warnings}"
    assert not checked(maybe), f"a possibly unbound name is not an error:\n{maybe}"
    assert [d.code for d in diagnosed(maybe, "warning")] == ["E0208"], maybe
    failure = run(good)
    assert failure is None or failure.dana_type not in TYPE_ERRORS, \
        f"checked program raised {failure.dana_type}: {failure.message}\n{good}"
    assert failure is None, f"generator bug: the program failed ({failure}):\n{good}"
    assert checked(bad), f"checker accepted an ill-typed program:\n{bad}"
    failure = run(bad)
    assert failure is not None and failure.dana_type in TYPE_ERRORS, \
        f"the ill-typed statement did not fail at run time ({failure}):\n{bad}"
    if not checked(redefined):
        failure = run(redefined)
        assert failure is None or failure.dana_type not in TYPE_ERRORS, \
            f"checked program raised {failure.dana_type}: {failure.message}\n{redefined}"
