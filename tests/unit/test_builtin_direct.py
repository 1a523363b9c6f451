"""A builtin's direct function (`Builtin.direct`, dana/runtime/builtins.py DIRECT) must
give what the bound builtin gives: the binder passes an argument of each listed class
unchanged, and the value, or the Dana error once `protocol.host_failure` has turned the
Python one into it, is the same (docs/builtins.md)."""

from __future__ import annotations

import pytest

from dana.errors import DanaError
from dana.runtime import protocol as P
from dana.runtime.builtins import DIRECT
from dana.runtime.interpreter import Runtime

SAMPLES = {
    int: [0, -7, 2 ** 70, 10 ** 5000], float: [0.0, -2.5, 1e300, float("inf"), float("nan")],
    str: ["", "12", " 3.5 ", "abc", "1e400", "9" * 5000, "nan", "0x1f"],
    bool: [True, False], type(None): [None], list: [[], [1, 2]], tuple: [(), (1,)],
    dict: [{}, {"a": 1}], set: [set(), {1}], bytes: [b"", b"ab"],
}


def _outcome(fn: object, value: object) -> object:
    try:
        return ("value", repr(fn(value)))
    except Exception as exc:  # as a compiled call site turns it into a Dana error
        err = P.host_failure(exc, None)
        assert isinstance(err, DanaError), err
        return ("error", err.dana_type, err.message)


@pytest.mark.parametrize("name", sorted(DIRECT))
def test_direct_functions_agree_with_the_builtin(name: str) -> None:
    builtin = Runtime().builtins[name]
    assert builtin.direct
    for cls, direct in builtin.direct.items():
        for value in SAMPLES[cls]:
            assert builtin.bind((value,), {}) == ((value,), {})
            assert _outcome(direct, value) == _outcome(builtin, value), (name, value)
