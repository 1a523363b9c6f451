"""Step results kept for `@step(cache=True)` (docs/workflows.md "Caching").

Consumes: a step's name and identity (its code and bound arguments, made by the runtime),
its input, the state it would run on, and after a successful run the keys it read, its
output and its writes.
Produces: a hit (the output and writes of an earlier identical execution) or None.

An entry matches when the step's identity and input equal (`==`) the stored ones and every
state key the step read still holds an equal value (a key that was absent must still be
absent); the config is a state key, so a step that reads it is keyed by it too. A step
with a `cache_key` hook is keyed on the hook's value instead of its input and reads. What a
step reads outside the state (globals, `private:` variables, files) is not part of the
key. Entries live in memory for one interpreter, across its runs: at most
`MAX_ENTRIES` per step name, the oldest dropped first. Durable runs would keep them in
the run store instead.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dana.workflow.state import MISSING

MAX_ENTRIES = 64

UNKEYED: Any = type("Unkeyed", (), {"__repr__": lambda self: "<no cache_key>"})()
"""The key of a step without a `cache_key` hook (keyed on its input and reads instead)."""


def cache_input(takes_input: bool, value: Any, key: Any = UNKEYED) -> Any:
    """What an entry is keyed on besides the state read: the `cache_key` hook's value
    (tagged, so it never equals an input), else the input, or None for a step that
    ignores its input."""
    if key is not UNKEYED:
        return ("cache_key", key)
    return value if takes_input else None


@dataclass(frozen=True, eq=False)
class CacheEntry:
    """One remembered execution: `reads` maps each key read to its value then (MISSING
    when absent); `writes` maps each key written to its new value (MISSING: deleted)."""

    identity: tuple
    input: Any
    reads: dict[str, Any]
    output: Any
    writes: dict[str, Any]


class StepCache:
    """Thread-safe store of `CacheEntry`s by step name (parallel branches share it)."""

    def __init__(self) -> None:
        self._entries: dict[str, deque[CacheEntry]] = {}
        self._lock = threading.Lock()

    def lookup(self, step: str, identity: tuple, value: Any,
               state: Mapping[str, Any]) -> CacheEntry | None:
        """The newest entry of `step` matching `identity`, `value` and `state`, or None."""
        with self._lock:
            entries = list(self._entries.get(step, ()))
        for entry in reversed(entries):
            if _equal(entry.identity, identity) and _equal(entry.input, value) and all(
                    _equal(state.get(key, MISSING), seen) for key, seen in entry.reads.items()):
                return entry
        return None

    def store(self, step: str, entry: CacheEntry) -> None:
        with self._lock:
            self._entries.setdefault(step, deque(maxlen=MAX_ENTRIES)).append(entry)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(e) for e in self._entries.values())


def _equal(a: Any, b: Any) -> bool:
    """`a == b` as a plain bool; values that cannot be compared never match."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # a host value whose __eq__ raises: treat as different
        return False
