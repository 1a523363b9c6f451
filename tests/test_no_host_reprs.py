"""No Python repr of a host object (`<function ... at 0x7f...>`) ever reaches Dana output:
every kind of value a program can name is printed, formatted and str()-ed, and the output
is scanned for `0x` addresses (docs/language.md "Printing values")."""

import io
import re

import dana

PROGRAM = '''
import math
struct P:
    x: int

def f(a: int) -> int:
    return a

def show(state: WorkflowState) -> str:
    print(state.config.items, state.config.keys, state.config.get)
    print(state, state.history, state.get, state.keys, state.at, state.diff)
    return f"{state.config.items}"

workflow w(items: int = 3, keys: str = "k", get: bool = true) -> str:
    steps:
        show

r = run(w)
print(r.output, r, r.state, r.history)
d = {"a": 1}
s = "abc"
l = [1]
print(d.items, d.get, d.keys, d.values, s.upper, s.format, l.append, {1}.add, (1,).count)
g = lambda x :: x
print(len, print, run, now, range, f, g, P, P(1), math, math.sqrt, w, ValueError,
      ValueError("m"), type(1), int, str, compose(w, w), case, read_text)
print([len, f, d.items, r.history], {"k": s.upper, "s": state_of(r)})
print(f"{len} {f} {d.items} {s.upper} {math} {r.history}")
print(str(len), str(f), str(d.items), str(s.upper), str(r.history))
'''


def test_no_host_repr_reaches_output():
    out = io.StringIO()
    interp = dana.Interpreter(stdout=out, check=False)
    interp.exec("def state_of(r) -> any:\n    return r.state\n")
    interp.exec(PROGRAM)
    text = out.getvalue()
    assert "<function f>" in text and "3" in text
    assert not re.search(r"0x[0-9a-f]{6,}", text), text
