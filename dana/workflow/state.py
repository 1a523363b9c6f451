"""Versioned workflow state: the mapping of keys a workflow run reads and writes (docs/workflows.md).

Consumes: initial values (str keys), a clock (seconds since the epoch), per-key type checkers
from the runtime, and step transactions. Produces: `WorkflowState` (values, `version`,
`history()`, `at(v)`, `diff(v1, v2)`), `Transaction`, `BranchState` (a parallel branch's
private layer), `ReplicaState` (a worker's copy of a state), `StateSnapshot`,
`HistoryEntry`, and `MISSING` (an absent key). Raises
`DanaRuntimeError("StateError", ...)`, and `StateKeyError` (Dana `KeyError`) for reads of
absent keys.

Transactions: `begin(step)` gives a `Transaction` that reads the current values and buffers
writes; `commit(tx)` applies them as one new version. A failed or discarded transaction
leaves the state untouched, so a retry or `handle` starts from clean state. `tx.delete(key)`
removes a key when committed (a loop variable going out of scope). Parallel branches each run
on a `BranchState` begun on one version (their steps commit into the branch, seeing only
their own writes); `branch.transaction()` holds a branch's net writes, and `commit_many`
merges those into ONE version, rejecting two branches writing one key.

Storage (structural sharing): ONE dict of current values plus, per version, an undo record
mapping each key that version wrote to its previous value (`MISSING` if new), so memory grows
with the number of writes, never with versions x size. `at(v)` copies the current dict and
undoes versions current..v+1 (O(size + writes since v), paid on request); `diff` rebuilds
only keys written in between. Values are stored by reference (write a new value rather than
mutate one in place); commits are serialised by a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from dana.errors import DanaRuntimeError, runtime_error
from dana.messages import runtime as R

INITIAL_STEP = "<initial>"
ERROR_STEP = "<error>"
ERROR_KEY = "error"
CONFIG_KEY = "config"  # the state key holding a run's config (parameter -> value)



class _Missing:
    """Type of `MISSING`; `__reduce__` keeps it the one instance through copy and pickle."""

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Marks a key absent at a version: in `diff` results and in undo records."""


class StateKeyError(DanaRuntimeError, KeyError):
    """Read of an absent `key` (attribute): Dana type `KeyError`; also a Python `KeyError`
    so the Mapping protocol (`get`, `in`) works as usual."""

    def __init__(self, key: Any) -> None:
        super().__init__("KeyError", R.STATE_NO_KEY.format(key=key))
        self.key = key


def _check_key(key: Any) -> None:
    if not isinstance(key, str):
        raise runtime_error(R.STATE_KEY_NOT_TEXT, type=type(key).__name__)


def _python_type_name(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def _same(a: Any, b: Any) -> bool:
    """Identical, or equal values of the same type (1, 1.0 and True count as different)."""
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # == that is not a bool (arrays): count as changed
        return False


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One committed version: `version` (int, 0 = initial values), `step` (the step's name,
    "<initial>" or "<error>"), `keys_changed` (sorted names of the keys written), `time`
    (commit time, seconds since the epoch, from the state's clock)."""

    version: int
    step: str
    keys_changed: tuple[str, ...]
    time: float


class _ValueMapping(Mapping[str, Any]):
    """Read-only Mapping over the dict `_values`; a missing key raises `StateKeyError`."""

    __slots__ = ()
    _values: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise StateKeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        """The value of `key`, or `default` when absent."""
        return self._values.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class StateSnapshot(_ValueMapping):
    """Read-only Mapping of the state's values at one `version` (int), unaffected by later
    commits. A missing key raises `StateKeyError`."""

    __slots__ = ("version", "_values")

    def __init__(self, version: int, values: dict[str, Any]) -> None:
        self.version = version
        self._values = values

    def __repr__(self) -> str:
        return f"StateSnapshot(version={self.version}, {self._values!r})"


class Transaction:
    """One step's view of a `WorkflowState`, made by `WorkflowState.begin(step)`.

    Reads see its own writes, then the state's current values; writes (`tx[key] = value`)
    are buffered until `WorkflowState.commit`. `base_version`: the state version at `begin`.
    Writing a non-str key, or after commit or discard, raises StateError."""

    def __init__(self, state: WorkflowState, step: str, base_version: int) -> None:
        self.step = step
        self.base_version = base_version
        self._state = state
        self._writes: dict[str, Any] = {}
        self._reads: set[str] = set()
        self._status = "open"

    @property
    def writes(self) -> dict[str, Any]:
        """A copy of the buffered writes: key -> value (`MISSING` for a deleted key)."""
        return dict(self._writes)

    @property
    def reads(self) -> set[str]:
        """Keys this transaction read from the state (not counting reads of its own writes)."""
        return set(self._reads)

    @property
    def status(self) -> str:
        """"open", "committed" or "discarded"."""
        return self._status

    def __getitem__(self, key: str) -> Any:
        if key in self._writes:
            value = self._writes[key]
            if value is MISSING:
                raise StateKeyError(key)
            return value
        self._reads.add(key)
        return self._state[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of `key` as this step sees it, or `default` when absent."""
        if key in self._writes:
            value = self._writes[key]
            return default if value is MISSING else value
        self._reads.add(key)
        return self._state.get(key, default)

    def __contains__(self, key: object) -> bool:
        if key in self._writes:
            return self._writes[key] is not MISSING  # type: ignore[index]
        self._reads.add(key)  # type: ignore[arg-type]
        return key in self._state

    def keys(self) -> list[str]:
        """The keys this step sees: the state's, plus its own new ones, minus deleted ones."""
        keys = set(self._state.keys()) | set(self._writes)
        return [k for k in keys if self._writes.get(k) is not MISSING]

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_open()
        _check_key(key)
        self._writes[key] = value

    def delete(self, key: str) -> None:
        """Remove `key` from the state when this transaction commits (no error if absent)."""
        self[key] = MISSING

    def discard(self) -> None:
        """Drop the buffered writes; the state is untouched. No effect once closed."""
        self._finish("discarded")

    def _check_open(self) -> None:
        if self._status != "open":
            raise runtime_error(R.TRANSACTION_CLOSED, step=self.step, status=self._status)

    def _finish(self, status: str) -> None:
        if self._status == "open":
            self._status = status
            if status == "discarded":
                self._writes.clear()


class WorkflowState(_ValueMapping):
    """The versioned state of one workflow run: a Mapping of str keys to values.

    `initial`: the values of version 0 (step "<initial>"); `clock`: seconds since the epoch,
    for `created_at`, `updated_at` and history times; `type_name_of`: a value's type name in
    StateError messages of declared keys. `state[key]` of an absent key raises StateKeyError.
    Equality is identity: a state is a run's mutable record, not a value."""

    __eq__ = object.__eq__
    __hash__ = object.__hash__
    in_branch = False  # a BranchState: its commits become versions only when merged

    def __init__(self, initial: Mapping[str, Any] | None = None, *,
                 clock: Callable[[], float] = time.time,
                 type_name_of: Callable[[Any], str] = _python_type_name) -> None:
        self._values = dict(initial or {})
        for key in self._values:
            _check_key(key)
        self._clock = clock
        self._type_name_of = type_name_of
        self._types: dict[str, tuple[Callable[[Any], bool], str]] = {}
        self._lock = threading.Lock()
        self._created_at = self._updated_at = clock()
        entry = HistoryEntry(0, INITIAL_STEP, tuple(sorted(self._values)), self._created_at)
        self._history = [entry]  # the entries made so far (`history()` makes the rest)
        self._log: list[tuple[str, float]] = [(INITIAL_STEP, self._created_at)]  # per version
        self._undo: list[dict[str, Any]] = [{}]  # per version: key -> value before it
        self._change_count = 0

    @property
    def version(self) -> int:
        """The current version: 0 initially, +1 per commit (also one that wrote nothing) and
        per recorded error."""
        return len(self._log) - 1

    @property
    def created_at(self) -> float:
        """When the state was made, in seconds since the epoch."""
        return self._created_at

    @property
    def updated_at(self) -> float:
        """When the current version was committed (`created_at` for version 0), in seconds."""
        return self._updated_at

    def as_dict(self) -> dict[str, Any]:
        """A shallow copy of the current values: key -> value."""
        return dict(self._values)

    def __repr__(self) -> str:
        return f"WorkflowState(version={self.version}, keys={len(self._values)})"

    def declare(self, key: str, checker: Callable[[Any], bool], type_name: str) -> None:
        """Give `key` a type: a commit writing a value failing `checker` raises StateError
        "state key `k` expects <type_name>, got <type>", as does a failing current value."""
        _check_key(key)
        if key in self._values:
            self._check_types({key: self._values[key]}, {key: (checker, type_name)})
        self._types[key] = (checker, type_name)

    def _check_types(self, writes: Mapping[str, Any],
                     types: Mapping[str, tuple[Callable[[Any], bool], str]]) -> None:
        for key, value in writes.items():
            checker, expected = types.get(key, (None, ""))
            if checker is not None and value is not MISSING and not checker(value):
                actual = self._type_name_of(value)
                raise runtime_error(R.STATE_BAD_TYPE, key=key, expected=expected, actual=actual)

    def begin(self, step: str) -> Transaction:
        """Start the transaction of step `step` on the current version."""
        return Transaction(self, step, self.version)

    def commit(self, tx: Transaction) -> int:
        """Apply `tx`'s writes atomically as one new version and return its number. A
        transaction with no writes is a version too (docs/workflows.md: +1 per committed step).
        Raises StateError (discarding `tx`; the state is unchanged) when `tx` is closed,
        belongs to another state, fails a declared type, or has writes but began before
        the current version (parallel branches: use `commit_many`)."""
        with self._lock:  # `commit_many` of one transaction, without merging: every step's path
            writes = tx._writes
            try:
                if tx._state is not self or tx._status != "open" or (
                        writes and tx.base_version != self.version):
                    self._check_branches((tx,))  # raises the StateError that says which
                if self._types:
                    self._check_types(writes, self._types)
            except DanaRuntimeError:
                if tx._state is self:
                    tx._finish("discarded")
                raise
            version = self._apply(tx.step, writes)
            tx._finish("committed")
            return version

    def commit_many(self, txs: Iterable[Transaction], step_name: str) -> int:
        """Merge the writes of parallel branches (begun on the current version) into ONE new
        version recorded as `step_name`; return its number (a version even if nothing was
        written). Raises StateError naming both steps and the key when two branches write one
        key, and the errors of `commit`; on error all `txs` are discarded, the state unchanged."""
        txs = list(txs)
        with self._lock:
            try:
                writes = self._merge(txs)
                self._check_types(writes, self._types)
            except DanaRuntimeError:
                for tx in txs:
                    if tx._state is self:
                        tx._finish("discarded")
                raise
            version = self._apply(step_name, writes)
            for tx in txs:
                tx._finish("committed")
            return version

    def _merge(self, txs: list[Transaction]) -> dict[str, Any]:
        self._check_branches(txs)
        if len(txs) == 1:  # one step's commit: nothing to merge
            return dict(txs[0]._writes)
        writes: dict[str, Any] = {}
        writer: dict[str, str] = {}
        for tx in txs:
            for key, value in tx._writes.items():
                if key in writer:
                    raise runtime_error(R.BRANCHES_CONFLICT, first=writer[key], second=tx.step,
                                        key=key)
                writer[key] = tx.step
                writes[key] = value
        return writes

    def _check_branches(self, txs: Iterable[Transaction]) -> None:
        for tx in txs:
            if tx._state is not self:
                raise runtime_error(R.TRANSACTION_FOREIGN, step=tx.step)
            tx._check_open()
            if tx._writes and tx.base_version != self.version:
                raise runtime_error(R.TRANSACTION_STALE, step=tx.step, base=tx.base_version,
                                    current=self.version)

    def _apply(self, step: str, writes: dict[str, Any]) -> int:
        """Write `writes` as one new version (caller holds the lock and has checked them);
        a `MISSING` value deletes its key (and is no change for an absent key). Its
        HistoryEntry is made when `history()` asks (the undo record names its keys)."""
        now = self._clock()
        values = self._values
        undo = {}
        for key, value in writes.items():
            previous = values.get(key, MISSING)
            if value is not MISSING:
                values[key] = value
            elif previous is not MISSING:
                del values[key]
            else:
                continue  # deleting an absent key: no change
            undo[key] = previous
        self._log.append((step, now))
        self._undo.append(undo)
        self._change_count += len(undo)
        self._updated_at = now
        return len(self._log) - 1

    def record_error(self, type_name: str, message: str, step: str,
                     time: float | None = None) -> int:
        """Commit key `error` = {"type", "message", "step", "time"} as its own version with
        step "<error>"; return that version. `time` is seconds since the epoch (default: the
        clock). Type declarations do not apply, so recording an error cannot fail."""
        when = self._clock() if time is None else time
        error = {"type": type_name, "message": message, "step": step, "time": when}
        with self._lock:
            return self._apply(ERROR_STEP, {ERROR_KEY: error})

    def history(self) -> list[HistoryEntry]:
        """One entry per version, oldest (version 0, "<initial>") first."""
        with self._lock:
            entries, made = self._history, len(self._history)
            for version, (step, when) in enumerate(self._log[made:], made):
                entries.append(HistoryEntry(version, step, tuple(sorted(self._undo[version])),
                                            when))
            return list(entries)

    def change_count(self) -> int:
        """Number of (key, previous value) pairs in the undo log: the keys written, summed over
        commits. This is what old versions cost, whatever the state's size."""
        return self._change_count

    def at(self, version: int) -> StateSnapshot:
        """A read-only snapshot of the values at `version`; StateError if there is none."""
        with self._lock:
            self._check_version(version)
            values = self._rewind(version)
        return StateSnapshot(version, {k: v for k, v in values.items() if v is not MISSING})

    def diff(self, v1: int, v2: int) -> dict[str, tuple[Any, Any]]:
        """Keys whose values differ between versions `v1` and `v2`, sorted: key -> (value at
        v1, value at v2), `MISSING` where absent. Equal means identical, or `==` and the same
        type. Raises StateError for an unknown version."""
        with self._lock:
            for version in (v1, v2):
                self._check_version(version)
            keys: set[str] = set()
            for v in range(min(v1, v2) + 1, max(v1, v2) + 1):
                keys.update(self._undo[v])
            old, new = self._rewind(v1, keys), self._rewind(v2, keys)
        return {k: (old[k], new[k]) for k in sorted(keys) if not _same(old[k], new[k])}

    def _check_version(self, version: int) -> None:
        valid = isinstance(version, int) and not isinstance(version, bool)
        if not valid or not 0 <= version <= self.version:
            raise runtime_error(R.STATE_NO_VERSION, version=version, current=self.version)

    def _rewind(self, version: int, keys: set[str] | None = None) -> dict[str, Any]:
        """Values at `version` (just `keys` if given; absent = MISSING): later versions undone."""
        values = (dict(self._values) if keys is None
                  else {key: self._values.get(key, MISSING) for key in keys})
        for v in range(self.version, version, -1):
            for key, previous in self._undo[v].items():
                if keys is None or key in keys:
                    values[key] = previous
        return values


class ReplicaState(WorkflowState):
    """A copy of another process's state at its current version, for a parallel branch
    run on a worker (docs/distributed.md): the same values, `version` and `history()`;
    `at` and `diff` raise StateError for any version but the current one (the undo
    records stay with the original)."""

    def __init__(self, values: Mapping[str, Any], history: Iterable[HistoryEntry], *,
                 clock: Callable[[], float] = time.time,
                 type_name_of: Callable[[Any], str] = _python_type_name) -> None:
        super().__init__(values, clock=clock, type_name_of=type_name_of)
        self._history = list(history) or self._history
        self._log = [(entry.step, entry.time) for entry in self._history]
        self._undo = [{} for _ in self._history]
        self._created_at = self._history[0].time
        self._updated_at = self._history[-1].time

    def _check_version(self, version: int) -> None:
        if version != self.version:
            raise runtime_error(R.REPLICA_HISTORY, version=version)


class BranchState(WorkflowState):
    """One parallel branch's private layer over `parent` (a `WorkflowState` or an enclosing
    branch), begun on the parent's current version (docs/workflows.md "parallel").

    Reads see the parent's values at that version plus the branch's own committed writes,
    never another branch's. `begin`/`commit`/`commit_many` work as on a WorkflowState, with
    the parent's type declarations, but add no versions: `version` stays the base version
    and `history()`, `at`, `diff`, `created_at`, `updated_at` are the parent's. `name` names
    the branch in conflict errors; `transaction()` gives its net writes for `commit_many`.
    `scoped` keys (a `parallel for` item) are visible to the branch only: they are part of
    its base, so they reach the parent only if a step writes them anew. Copies the parent's
    values once (a shallow dict copy)."""

    in_branch = True

    def __init__(self, parent: WorkflowState, name: str,
                 scoped: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self._parent = parent
        self._base_version = parent.version
        self._base = {**parent.as_dict(), **(scoped or {})}
        self._values = dict(self._base)
        self._net: dict[str, Any] = {}
        self._types = parent._types
        self._clock = parent._clock
        self._type_name_of = parent._type_name_of
        self._lock = threading.Lock()

    @property
    def version(self) -> int:
        """The parent's version when the branch began (branches add no versions)."""
        return self._base_version

    @property
    def created_at(self) -> float:
        return self._parent.created_at

    @property
    def updated_at(self) -> float:
        return self._parent.updated_at

    def __repr__(self) -> str:
        return f"BranchState({self.name!r}, version={self.version}, keys={len(self._values)})"

    def declare(self, key: str, checker: Callable[[Any], bool], type_name: str) -> None:
        raise runtime_error(R.BRANCH_DECLARES_KEYS)

    def history(self) -> list[HistoryEntry]:
        return self._parent.history()

    def change_count(self) -> int:
        return self._parent.change_count()

    def at(self, version: int) -> StateSnapshot:
        return self._parent.at(version)

    def diff(self, v1: int, v2: int) -> dict[str, tuple[Any, Any]]:
        return self._parent.diff(v1, v2)

    def _apply(self, step: str, writes: dict[str, Any]) -> int:
        for key, value in writes.items():
            if value is MISSING:
                self._values.pop(key, None)
            else:
                self._values[key] = value
            if self._base.get(key, MISSING) is value:
                self._net.pop(key, None)
            else:
                self._net[key] = value
        return self.version

    def transaction(self) -> Transaction:
        """The branch's net writes (key -> value, `MISSING` for a removed key) as one open
        transaction of the parent named `name`, begun on the base version."""
        tx = Transaction(self._parent, self.name, self._base_version)
        tx._writes = dict(self._net)
        return tx
