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
    unknown: bool = False  # a forecast that only the run can settle (`reason`: on what)

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
    current config (parameter -> value). `report`, when given, is told the run's forecast
    (dana.workflow.explain) before its first step."""

    def __init__(self, table: CacheTable, *, workflow: str, version: str, code_of: CodeOf,
                 hash_of: Callable[[str], str | None], mode: CacheMode = "use",
                 wall: Callable[[], float] = time.time,
                 report: Callable[[list], None] | None = None) -> None:
        self.table = table
        self.workflow = workflow
        self.version = version
        self.code_of = code_of
        self.hash_of = hash_of
        self.mode = mode
        self.wall = wall
        self.report = report
        self._config: dict[str, Any] | None = None  # the config whose hashes are known
        self._config_hashes: dict[str, str | None] = {}

    def probe(self, step: Step, value: Any, config: dict[str, Any],
              key: Any = UNKEYED) -> Probe | None:
        """Look `step` up with input `value`, or with its `cache_key` hook's value `key`;
        None when that cannot be hashed (the step runs and is not cached)."""
        try:
            input_hash = input_hash_of(step, value, key)
        except UnstorableValue:
            return None
        return self.lookup(step, input_hash, lambda k: self._current(k, config))

    def lookup(self, step: Step, input_hash: str,
               current: Callable[[str], "str | None | Unknown"]) -> Probe:
        """Look `step` up with `input_hash` (see `input_hash_of`), `current(key)` giving
        the hash of what a read key holds now (`Unknown`: only the run can tell, for a
        forecast; the probe's `reason` then says on what it depends)."""
        code, names = self.code_of(step)
        base = digest(json.dumps([step.name, code, input_hash, self.workflow, self.version,
                                   ENCODING_VERSION], sort_keys=True))
        if self.mode == "refresh":
            return Probe(step.name, base, code, input_hash, names, None, "--refresh-cache")
        candidates = self.table.candidates(step.name, base)
        now, waiting = self.wall(), None
        for row in candidates:
            match = _match(row.reads, current)
            if match is True:
                if row.expires_at is None or row.expires_at > now:
                    return Probe(step.name, base, code, input_hash, names, row, "")
                return Probe(step.name, base, code, input_hash, names, None, "expired")
            waiting = waiting or (match or None)
        if waiting is not None:
            return Probe(step.name, base, code, input_hash, names, None, waiting.why, True)
        reason = self._why(step.name, code, input_hash, candidates, current)
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

    def _why(self, step: str, code: dict[str, str], input_hash: str,
             candidates: list[CacheRow], current: Callable[[str], Any]) -> str:
        """Why no entry matched: against the newest entry with this base that could have
        (a read changed), else against the step's recent entries, the closest first: the
        same code and input (so the workflow's version changed), the same code (the input
        changed), else the newest (its code or bound arguments changed)."""
        if candidates:
            row = candidates[0]
            key = next(k for k, seen in row.reads.items()
                       if not isinstance(now := current(k), Unknown) and now != seen)
            if key.startswith(CONFIG_KEY + "."):
                return f"config `{key[len(CONFIG_KEY) + 1:]}` changed"
            return f"state key `{key}` changed"
        recent = self.table.recent(step, self.workflow)
        if not recent:
            return "first run"
        same_code = [row for row in recent if not changed(row.code, code)]
        if any(row.input == input_hash for row in same_code):
            return "workflow version changed"
        if same_code:
            return "cache_key changed" if input_hash.startswith(KEYED) else "input changed"
        names = changed(recent[0].code, code)
        if f"<{step}>" in names:
            return "bound arguments changed"
        return "code of " + ", ".join(f"`{n}`" for n in names) + " changed"



@dataclass(frozen=True)
class Unknown:
    """What a read key holds is known only once the run gets there: `why` says so."""

    why: str


def input_hash_of(step: Step, value: Any, key: Any = UNKEYED) -> str:
    """What an entry is keyed on besides the reads: the `cache_key` hook's value `key`
    (tagged KEYED), else the hash of the input `value`, "" for a step that ignores its
    input. Raises UnstorableValue."""
    if key is not UNKEYED:
        return KEYED + content_hash(key)
    return content_hash(value) if step.takes_input else ""


def _match(reads: dict[str, str | None], current: Callable[[str], Any]) -> "bool | Unknown":
    """True when every read still holds its hash; False when one known read differs;
    else the `Unknown` of the first read only the run can tell."""
    waiting = None
    for key, seen in reads.items():
        now = current(key)
        if isinstance(now, Unknown):
            waiting = waiting or now
        elif now != seen:
            return False
    return waiting or True


def expand_reads(reads: set[str] | frozenset[str], names: frozenset[str] | None,
                 config: dict[str, Any]) -> set[str]:
    """The keys a step read, with a read of `config` counted as a read of each parameter
    its code mentions (`config.<name>`; every parameter when the code is unknown)."""
    keys = {key for key in reads if key != CONFIG_KEY}
    if CONFIG_KEY in reads:
        keys |= {f"{CONFIG_KEY}.{name}" for name in config if names is None or name in names}
    return keys
