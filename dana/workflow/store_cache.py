"""The step cache of durable runs, kept in the run store (docs/store.md "Step cache").

Consumes: a `cache=True` step about to run (its name, code identity, input), the state it
would read (through hashes the journal keeps of committed values), the store's
`CacheTable`, and after a successful run the keys it read, its output and its writes.
Produces: `StoreCache.probe(...) -> Probe` — a hit (the entry to restore) or the reason
it must run ("first run", "code of `f` changed", "input changed", "cache_key changed",
"state key `k` changed", "config `lr` changed", "workflow version changed", "expired",
"--refresh-cache") — and `StoreCache.store(...)`, which adds an entry.

The key: the step's name; the hashes of its code and of every definition it reaches;
its input (only if it takes one); the workflow's name and version; the value-encoding
version; then, entry by entry, the hashes of the state keys and config parameters the
step read when the entry was made (what it reads dynamically, so no static guess is
needed), which must still hold for a hit. Not the run id, not the position in a loop,
not config the step does not read. A step with a `cache_key` hook is keyed on the hook's
value in place of its input and reads.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Literal

from dana.store.cache import CacheRow, CacheTable
from dana.store.codec import ENCODING_VERSION, UnstorableValue, content_hash, decode, encode
from dana.workflow.cache import UNKEYED
from dana.workflow.codehash import changed, digest
from dana.workflow.state import CONFIG_KEY, MISSING
from dana.workflow.template import Step

KEYED = "key:"
"""The prefix of an entry's `input` hash when a `cache_key` hook's value made it."""

CacheMode = Literal["use", "refresh", "off"]
"""`use` (default): hits are restored; `refresh` (`--refresh-cache`): every cached step
runs and its entry is replaced; `off` (`--no-cache`): no lookups and no new entries."""

CodeOf = Callable[[Step], tuple[dict[str, str], frozenset[str] | None]]
"""step -> (hash of each definition it reaches by name, and of its bound arguments as
`<step>`; the names its code mentions, None when unknown, e.g. a host function)."""


@dataclass(frozen=True)
class Probe:
    """A lookup's result: `hit` is the entry to restore (None: the step runs, for
    `reason`); `base`, `code` and `input` are kept to store the new entry."""

    step: str
    base: str
    code: dict[str, str]
    input: str
    names: frozenset[str] | None
    hit: CacheRow | None
    reason: str

    @property
    def keyed(self) -> bool:
        """Keyed on a `cache_key` hook's value (`input`), not on the state read."""
        return self.input.startswith(KEYED)

    @property
    def code_hash(self) -> str:
        return digest(json.dumps(self.code, sort_keys=True))


class StoreCache:
    """The cache of one durable run: `table` is the store's cache, `hash_of(key)` the hash
    of a state key's current value (None when absent) as the run's journal keeps it,
    `workflow`/`version` the template's identity. Lookups and new entries take the run's
    current config (parameter -> value)."""

    def __init__(self, table: CacheTable, *, workflow: str, version: str, code_of: CodeOf,
                 hash_of: Callable[[str], str | None], mode: CacheMode = "use",
                 wall: Callable[[], float] = time.time) -> None:
        self.table = table
        self.workflow = workflow
        self.version = version
        self.code_of = code_of
        self.hash_of = hash_of
        self.mode = mode
        self.wall = wall
        self._config: dict[str, Any] | None = None  # the config whose hashes are known
        self._config_hashes: dict[str, str | None] = {}

    def probe(self, step: Step, value: Any, config: dict[str, Any],
              key: Any = UNKEYED) -> Probe | None:
        """Look `step` up with input `value`, or with its `cache_key` hook's value `key`;
        None when that cannot be hashed (the step runs and is not cached)."""
        code, names = self.code_of(step)
        try:
            input_hash = KEYED + content_hash(key) if key is not UNKEYED else \
                content_hash(value) if step.takes_input else ""
        except UnstorableValue:
            return None
        base = digest(json.dumps([step.name, code, input_hash, self.workflow, self.version,
                                   ENCODING_VERSION], sort_keys=True))
        if self.mode == "refresh":
            return Probe(step.name, base, code, input_hash, names, None, "--refresh-cache")
        candidates = self.table.candidates(step.name, base)
        now = self.wall()
        for row in candidates:
            if self._holds(row.reads, config):
                if row.expires_at is None or row.expires_at > now:
                    return Probe(step.name, base, code, input_hash, names, row, "")
                return Probe(step.name, base, code, input_hash, names, None, "expired")
        reason = self._why(step.name, code, input_hash, candidates, config)
        return Probe(step.name, base, code, input_hash, names, None, reason)

    def read_hashes(self, probe: Probe, reads: set[str],
                    config: dict[str, Any]) -> dict[str, str | None]:
        """The hashes of what a step read, taken before its own writes commit: state keys
        by their committed hash, config parameters (see `expand_reads`) by value; none for
        a step keyed by its `cache_key` hook."""
        if probe.keyed:
            return {}
        return {k: self._current(k, config) for k in expand_reads(reads, probe.names, config)}

    def store(self, probe: Probe, reads: dict[str, str | None], output: bytes | None,
              writes: dict[str, bytes | None], run_id: str, version: int,
              ttl: float | None) -> None:
        """Add the entry of a step that succeeded and committed `version`, keyed on
        `reads` (from `read_hashes`): its output and writes ({key: value, None: removed})
        as the commit encoded them (a value is encoded once per version)."""
        now = self.wall()
        self.table.put(CacheRow(probe.step, probe.base, reads, probe.code, probe.input,
                                self.workflow, run_id, version, now,
                                None if ttl is None else now + ttl, output, encode(writes)))

    @staticmethod
    def restore(row: CacheRow, struct: Any) -> tuple[Any, dict[str, Any]]:
        """An entry's output and writes (MISSING: a removed key) as values."""
        writes = {k: MISSING if v is None else decode(v, struct)
                  for k, v in decode(row.writes).items()}
        return (None if row.output is None else decode(row.output, struct)), writes

    def _current(self, key: str, config: dict[str, Any]) -> str | None:
        """The hash of a state key's current value, or of config parameter `config.<name>`
        (None: absent)."""
        if key.startswith(CONFIG_KEY + "."):
            return self._config_hash(key[len(CONFIG_KEY) + 1:], config)
        return self.hash_of(key)

    def _config_hash(self, name: str, config: dict[str, Any]) -> str | None:
        """The hash of config parameter `name` (None: absent), hashed once per run."""
        if config is not self._config:
            self._config, self._config_hashes = config, {}
        if name not in self._config_hashes:
            self._config_hashes[name] = content_hash(config[name]) if name in config else None
        return self._config_hashes[name]

    def _holds(self, reads: dict[str, str | None], config: dict[str, Any]) -> bool:
        return all(self._current(key, config) == seen for key, seen in reads.items())

    def _why(self, step: str, code: dict[str, str], input_hash: str,
             candidates: list[CacheRow], config: dict[str, Any]) -> str:
        """Why no entry matched, against the newest entry that could have."""
        if candidates:
            row = candidates[0]
            key = next(k for k, seen in row.reads.items() if self._current(k, config) != seen)
            if key.startswith(CONFIG_KEY + "."):
                return f"config `{key[len(CONFIG_KEY) + 1:]}` changed"
            return f"state key `{key}` changed"
        latest = self.table.latest(step, self.workflow)
        if latest is None:
            return "first run"
        names = changed(latest.code, code)
        if f"<{step}>" in names:
            return "bound arguments changed"
        if names:
            return "code of " + ", ".join(f"`{n}`" for n in names) + " changed"
        if latest.input != input_hash:
            return "cache_key changed" if input_hash.startswith(KEYED) else "input changed"
        return "workflow version changed"



def expand_reads(reads: set[str] | frozenset[str], names: frozenset[str] | None,
                 config: dict[str, Any]) -> set[str]:
    """The keys a step read, with a read of `config` counted as a read of each parameter
    its code mentions (`config.<name>`; every parameter when the code is unknown)."""
    keys = {key for key in reads if key != CONFIG_KEY}
    if CONFIG_KEY in reads:
        keys |= {f"{CONFIG_KEY}.{name}" for name in config if names is None or name in names}
    return keys
