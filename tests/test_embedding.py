"""The embedding API (`import dana`) and the runnable examples of docs/embedding.md."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel

import dana

DOC = Path(__file__).resolve().parents[1] / "docs" / "embedding.md"

WORKFLOW = """\
struct Order:
    item: str
    qty: int

def total(state: WorkflowState) -> int:
    state.total = state.order.qty * unit()
    return state.total

def label(n: int) -> str:
    return f"total {n}"

def boom(n: int) -> int:
    return n // 0

workflow price() -> str:
    requires:
        order: Order
    steps:
        total
        label

workflow broken() -> int:
    requires:
        order: Order
    steps:
        total
        boom
"""


@dataclass
class Order:
    item: str
    qty: int


class Point(BaseModel):
    x: int
    y: list[int]


@pytest.fixture
def shop(tmp_path: Path) -> tuple[dana.Interpreter, dana.Module]:
    (tmp_path / "shop.dana").write_text(WORKFLOW)
    interp = dana.Interpreter()
    interp.register(lambda: 3, name="unit")
    return interp, interp.load(tmp_path / "shop.dana")


def test_docs_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = DOC.read_text()
    for name, body in re.findall(r"<!-- file: (\S+) -->\n```dana\n(.*?)```", text, re.S):
        (tmp_path / name).write_text(body)
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name} python block {i + 1}", "exec"), namespace)


def test_eval_and_exec_keep_definitions() -> None:
    interp = dana.Interpreter()
    assert interp.eval("1 + 2") == 3
    assert interp.exec("def sq(x: int) -> int:\n    return x * x\ny = sq(4)\n") is None
    assert interp.eval("sq(y)") == 256
    assert interp.eval("[sq(2), {'a': (1, 2)}]") == [4, {"a": (1, 2)}]


def test_print_goes_to_the_given_stream() -> None:
    out = io.StringIO()
    dana.Interpreter(stdout=out).exec("print('hello', 1)")
    assert out.getvalue() == "hello 1\n"


def test_load_module_attributes(shop: tuple) -> None:
    interp, module = shop
    assert module.label(5) == "total 5"
    order = module.Order("pen", 2)
    assert (type(order).__name__, order.item, order.qty) == ("Order", "pen", 2)
    assert module.price(order=Order("pen", 2)).output == "total 6"
    assert "price" in dir(module)
    with pytest.raises(AttributeError):
        module.nothing


def test_module_run_result(shop: tuple) -> None:
    _, module = shop
    result = module.run("price", order=Order("pen", 4))
    assert isinstance(result, dana.RunResult)
    assert (result.status, result.output, result.state["total"]) == ("succeeded", "total 12", 12)
    assert [h["step"] for h in result.history()] == ["<initial>", "total", "label"]
    assert module.run("price", order={"item": "pen", "qty": 1}).output == "total 3"


def test_failed_run_and_bad_inputs(shop: tuple) -> None:
    _, module = shop
    failed = module.run("broken", order=Order("pen", 1))
    assert failed.status == "failed" and failed.error["type"] == "ZeroDivisionError"
    assert isinstance(failed.exception, dana.DanaRuntimeError)
    with pytest.raises(dana.DanaCheckError, match="requires state key `order` to be Order"):
        module.run("price", order=5)
    with pytest.raises(dana.UsageError, match="no workflow `nope`; it defines: broken, price"):
        module.run("nope")


def test_register_and_function_decorator() -> None:
    interp = dana.Interpreter()

    @interp.function
    def shout(text: str) -> str:
        return text.upper() + "!"

    interp.register(len, name="size")
    assert interp.eval('shout("hi")') == "HI!"
    assert interp.eval("size([1, 2, 3])") == 3


def test_host_errors_become_dana_errors() -> None:
    interp = dana.Interpreter()

    @interp.function
    def fail(kind: str) -> int:
        raise (ValueError if kind == "value" else RuntimeError)("bad " + kind)

    interp.exec("def safe() -> str:\n    try:\n        fail('value')\n"
                "    handle ValueError as e:\n        return e.message\n    return 'no'\n")
    assert interp.eval("safe()") == "bad value"
    with pytest.raises(dana.DanaRuntimeError, match="RuntimeError: bad other"):
        interp.eval("fail('other')")


def test_register_step_and_events() -> None:
    interp = dana.Interpreter()
    calls = []

    def flaky(value, state):
        calls.append(state.version)
        if len(calls) < 2:
            raise ValueError("first try fails")
        state["seen"] = Order("a", 1)
        return 7

    interp.register_step(flaky, retry=2)
    events = []
    interp.on_event(events.append)
    interp.exec("workflow w() -> int:\n    steps:\n        flaky\n")
    result = interp.run(interp.globals["w"])
    assert (result.status, result.output, len(calls)) == ("succeeded", 7, 2)
    assert result.state["seen"] == Order("a", 1)  # plain Python, as result.output
    kinds = [e["event"] for e in events]
    assert kinds[0] == "workflow_started" and "step_retried" in kinds
    assert kinds[-1] == "workflow_completed"


def test_dataclass_and_pydantic_round_trip() -> None:
    interp = dana.Interpreter()

    @interp.function
    def make() -> Point:
        return Point(x=1, y=[2, 3])

    @interp.function
    def echo(p: Order) -> Order:
        return p

    assert interp.eval("make().x + len(make().y)") == 3
    back = interp.eval("make()")
    assert isinstance(back, Point) and back == Point(x=1, y=[2, 3])
    interp.register(lambda: Order("a", 2), name="make_order")
    assert interp.eval("echo(make_order())") == Order("a", 2)
    assert interp.eval("make_order().qty * 2") == 4


def test_dana_struct_comes_back_as_generated_dataclass() -> None:
    interp = dana.Interpreter()
    interp.exec("struct Box:\n    w: int\n    h: int\n")
    box = interp.eval("[Box(1, 2)]")[0]
    assert type(box).__name__ == "Box" and (box.w, box.h) == (1, 2)
    assert box == interp.eval("Box(1, 2)")          # one class per struct type


def test_python_dataclass_into_declared_struct_is_type_checked(shop: tuple) -> None:
    _, module = shop
    with pytest.raises(dana.DanaRuntimeError, match="field `qty` of `Order` expects `int`"):
        module.Order("pen", "many")


def test_errors_carry_span_and_render() -> None:
    interp = dana.Interpreter()
    with pytest.raises(dana.DanaSyntaxError) as syntax:
        interp.exec("x = = 1")
    assert syntax.value.span.line == 1
    with pytest.raises(dana.DanaRuntimeError) as runtime:
        interp.exec("x = 1\ny = x / 0\n")
    err = runtime.value
    assert (err.span.line, err.dana_type) == (2, "ZeroDivisionError")
    assert dana.render(err).startswith("<exec>:2:5: error[E0507]: ZeroDivisionError")
    with pytest.raises(dana.UsageError):
        interp.load("/no/such/file.dana")
    assert issubclass(dana.LimitError, dana.DanaError)


def test_check_errors_surface_as_dana_check_error() -> None:
    interp = dana.Interpreter()
    with pytest.raises(dana.DanaCheckError) as info:
        interp.exec("def f(x: int) -> int:\n    return x\nf('no')\n")
    assert info.value.diagnostics and info.value.span is not None
    assert dana.Interpreter(check=False).exec("def g(x: int) -> int:\n    return x\n") is None


def test_limits() -> None:
    interp = dana.Interpreter(limits=dana.Limits(max_operations=500))
    with pytest.raises(dana.LimitError, match="500 operations"):
        interp.exec("while true:\n    pass\n")


def test_allow_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hi")
    path = str(tmp_path / "a.txt")
    assert dana.Interpreter(allow_read=[tmp_path]).eval(f"read_text({path!r})") == "hi"
    with pytest.raises(dana.DanaRuntimeError, match="not allowed"):
        dana.Interpreter().eval(f"read_text({path!r})")


def test_two_interpreters_share_nothing() -> None:
    a, b = dana.Interpreter(), dana.Interpreter()
    a.exec("x = 1")
    a.register(lambda: "a", name="who")
    assert a.eval("x") == 1 and a.eval("who()") == "a"
    with pytest.raises(dana.DanaError):
        b.eval("x")
    with pytest.raises(dana.DanaError):
        b.eval("who()")
    assert a.runtime is not b.runtime and a.runtime.builtins is not b.runtime.builtins


def test_public_api_is_small() -> None:
    assert set(dana.__all__) == {"Interpreter", "Module", "Limits", "Permissions", "RunResult",
                                 "RunInterrupted",
                                 "render",
                                 "DanaError", "DanaSyntaxError", "DanaRuntimeError",
                                 "DanaCheckError", "InternalError", "LimitError", "UsageError",
                                 "SpanRecorder"}
    with pytest.raises(AttributeError):
        dana.nothing_here


def test_a_failing_event_listener_is_dropped_and_the_run_goes_on() -> None:
    err = io.StringIO()
    interp = dana.Interpreter(stderr=err)
    seen = []

    def broken(event):
        seen.append(event["event"])
        raise RuntimeError("listener broke")

    interp.on_event(broken)
    interp.exec("def a(state: WorkflowState):\n    state.x = 1\n\n"
                "workflow w():\n    steps:\n        a\n")
    assert interp.eval("run(w)").status == "succeeded"
    assert seen == ["workflow_started"]
    assert "event listener" in err.getvalue() and "RuntimeError: listener broke" in err.getvalue()
