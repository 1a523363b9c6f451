"""Structs crossing between Python and a module loaded with `interp.load()`
(docs/embedding.md "Structs"): Python values given to or returned by registered functions
and steps become the module's declared struct types; results come back as plain Python."""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

import dana

QUOTES = '''
struct Quote:
    symbol: str
    price: float

def cheapest(quotes: list[Quote]) -> Quote:
    best = quotes[0]
    for q in quotes:
        if q.price < best.price:
            best = q
    return best

def load(state: WorkflowState) -> list[Quote]:
    state.quotes = fetch_quotes()
    return state.quotes

workflow pick() -> Quote:
    steps:
        load | cheapest

def from_state(state: WorkflowState) -> Quote:
    return cheapest(state.quotes)

workflow pick_given() -> Quote:
    requires:
        quotes: list[Quote]
    steps:
        from_state

workflow pick_py() -> Quote:
    steps:
        py_quotes | cheapest
'''


@dataclass
class Quote:
    symbol: str
    price: float


@pytest.fixture
def module(tmp_path: Path):
    (tmp_path / "quotes.dana").write_text(QUOTES)
    interp = dana.Interpreter()

    @interp.function
    def fetch_quotes() -> list:
        return [Quote("A", 2.0), Quote("B", 1.5)]

    @interp.register_step
    def py_quotes(_):
        return [{"symbol": "A", "price": 2.0}, {"symbol": "B", "price": 1.25}]
    return interp.load(tmp_path / "quotes.dana")


def test_dataclasses_from_a_registered_function_become_the_module_struct(module):
    result = module.run("pick")
    assert result.status == "succeeded", dana.render(result.exception)
    assert result.output == Quote("B", 1.5)


def test_dicts_from_a_python_step_become_the_declared_struct(module):
    result = module.run("pick_py")
    assert result.status == "succeeded", dana.render(result.exception)
    assert result.output.price == 1.25


def test_module_struct_made_in_python_is_accepted_back(module):
    result = module.run("pick_given", quotes=[module.Quote("A", 2.0), module.Quote("B", 1.0)])
    assert result.status == "succeeded", dana.render(result.exception)
    assert result.output.price == 1.0


def test_run_state_holds_plain_python_values(module):
    result = module.run("pick")
    assert result.state["quotes"] == [Quote("A", 2.0), Quote("B", 1.5)]
    assert result.state.as_dict()["quotes"][1] == Quote("B", 1.5)
    assert all(dataclasses.is_dataclass(q) for q in result.state.as_dict()["quotes"])


def test_two_types_of_one_name_are_told_apart_in_messages(tmp_path: Path):
    (tmp_path / "other.dana").write_text("struct Quote:\n    symbol: str\n    price: float\n\n"
                                         "def make() -> Quote:\n    return Quote('X', 1.0)\n")
    (tmp_path / "main.dana").write_text(QUOTES + "\nimport other\n\n"
                                        "def mixed() -> Quote:\n"
                                        "    return cheapest([other.make()])\n")
    interp = dana.Interpreter(check=False)
    interp.register(lambda: [], name="fetch_quotes")
    interp.register_step(lambda _: [], name="py_quotes")
    module = interp.load(tmp_path / "main.dana")
    with pytest.raises(dana.DanaRuntimeError) as info:
        module.mixed()
    message = info.value.message
    assert "list[Quote]" in message and "other.dana" in message


def test_a_failing_python_step_keeps_its_traceback_on_cause(tmp_path: Path):
    (tmp_path / "w.dana").write_text("workflow w():\n    steps:\n        boom\n")
    interp = dana.Interpreter()

    @interp.register_step
    def boom(_):
        raise RuntimeError("disk on fire")
    result = interp.load(tmp_path / "w.dana").run("w")
    assert result.status == "failed"
    assert isinstance(result.exception.__cause__, RuntimeError)
