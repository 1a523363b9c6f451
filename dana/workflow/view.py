"""What a Dana program sees as `state`: a view over a transaction or a finished state.

Consumes: a `Transaction` (inside a step: reads and buffered writes) or a `WorkflowState`
(after a run: read-only).
Produces: `StateView`, whose attributes are state keys (`state.readings`) except the
reserved names of docs/workflows.md: `version`, `history()`, `at(v)`, `diff(v1, v2)`,
`created_at`, `updated_at`, `get(key, default)`, `keys()`. `config` is read-only.
"""

from __future__ import annotations

from typing import Any

from dana.errors import runtime_error
from dana.messages import Msg
from dana.messages import runtime as R
from dana.workflow.state import MISSING, Transaction, WorkflowState

RESERVED = frozenset({"version", "history", "at", "diff", "created_at", "updated_at", "get",
                      "keys", "config"})


class ConfigView(dict):
    """`state.config`: the run's parameters. A dict to Dana (`type()` says dict, methods
    work), except that `state.config.items` is the parameter `items` when the workflow
    has one: parameters win over dict methods (docs/workflows.md; the checker reads config
    attributes as parameters too). Written into the state, it is stored as a plain dict."""

    dana_type_name = "dict"


class StateView:
    """`state` in Dana. Writes go to the transaction; a view of a state is read-only
    (writing raises StateError with `read_only`, by default "the state of a finished run
    is read-only"). Raises Dana KeyError for a missing key."""

    dana_type_name = "WorkflowState"

    def __init__(self, target: Transaction | WorkflowState, state: WorkflowState, *,
                 read_only: Msg = R.FINISHED_RUN_READ_ONLY) -> None:
        self._target = target
        self._state = state
        self._read_only = read_only

    @property
    def writable(self) -> bool:
        """True inside a step (a view of a transaction): `state.key = v` is allowed."""
        return isinstance(self._target, Transaction)

    def dana_getattr(self, name: str, span: Any = None) -> Any:
        if name == "version":
            return getattr(self._target, "base_version", self._state.version)
        if name in ("created_at", "updated_at"):
            return getattr(self._state, name)
        if name == "history":
            return lambda: [{"version": h.version, "step": h.step,
                             "keys_changed": list(h.keys_changed), "time": h.time}
                            for h in self._state.history()]
        if name == "at":
            return lambda v: dict(self._state.at(v))
        if name == "diff":
            return lambda a, b: {k: [_plain(o), _plain(n)] for k, (o, n) in
                                 self._state.diff(a, b).items()}
        if name == "get":
            return self._target.get
        if name == "keys":
            return lambda: sorted(k for k in self._keys())
        if name == "config":
            return ConfigView(self._target[name])
        try:
            return self._target[name]
        except KeyError:
            raise runtime_error(R.STATE_NO_KEY, span, key=name) from None

    def _keys(self) -> list[str]:
        return list(self._target.keys())

    def dana_setattr(self, name: str, value: Any, span: Any = None) -> None:
        if not self.writable:
            raise runtime_error(self._read_only, span)
        if name in RESERVED:
            raise runtime_error(R.RESERVED_STATE_NAME, span, name=name)
        self._target[name] = dict(value) if type(value) is ConfigView else value

    def __getitem__(self, key: str) -> Any:
        return self.dana_getattr(key)

    def __contains__(self, key: str) -> bool:
        return key in self._target

    @property
    def version(self) -> int:
        return self.dana_getattr("version")

    def history(self) -> list[dict[str, Any]]:
        return self.dana_getattr("history")()

    def as_dict(self) -> dict[str, Any]:
        return {k: self._target[k] for k in self._keys()}

    def __repr__(self) -> str:
        return f"<WorkflowState v{self.version}: {', '.join(sorted(self._keys()))}>"


def _plain(value: Any) -> Any:
    return None if value is MISSING else value
