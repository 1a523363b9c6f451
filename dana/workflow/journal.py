"""A durable run's link to the run store: what the runner records and replays
(docs/store.md "Checkpoints" and "Resume").

Consumes: a `RunStore`, the run's identity (`RunIdentity`), and from the runner each
commit (step name, structural path, writes, output, attempt, timing) and each step outcome
that commits nothing (a retried, failed or skipped attempt).
Produces: `Journal` — `encode` (writes and output as bytes, BEFORE the in-memory commit, so
an unstorable value fails the step with nothing committed), `record`, `outcome`, `finish`,
`finish_branch` (a parallel branch's net writes and output once it finished, wherever it
ran) — and `Line`, the recorded commits of the run's main line or of one parallel branch, which
a resumed run replays in order instead of running the steps again. `ResumeMismatch` is the
diagnostic of a replay reaching another step path than the one recorded.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable

from dana.errors import DanaError, DanaRuntimeError, runtime_error
from dana.messages import runtime as R
from dana.messages import checks as M
from dana.store.codec import StructBuilder, UnstorableValue, decode, encode
from dana.store.runs import (OUTPUT, BranchReads, Provenance, RunStart, RunStatus, RunStore,
                             VersionRow)
from dana.workflow.state import MISSING

MAX_VALUE_BYTES = 256 * 1024 * 1024
"""The size budget of one stored value (a state key's or a step's output), in bytes."""

FINISHED = "<finished branch>"
"""The step name of a branch's last record: the branch finished, with these net writes
and this output (no step can have this name)."""

_STEP_KEY: ContextVar[tuple[str, str, int] | None] = ContextVar("dana_step_key", default=None)


def idempotency_key() -> str:
    """The running step's key, the same for every attempt and every resume of that step
    in that run: "<run id>:<step path>#<n>", n numbering the steps its line has begun
    (docs/store.md "Idempotency keys"). DanaRuntimeError outside a step."""
    key = _STEP_KEY.get()
    if key is None:
        raise runtime_error(R.IDEMPOTENCY_OUTSIDE_STEP)
    run_id, path, ordinal = key
    return f"{run_id}:{path}#{ordinal}"


class step_key:  # noqa: N801 - used as `with step_key(...):`, like a contextmanager
    """Make (run id, step path, ordinal) the idempotency key of the step running in this
    context (`with step_key(run_id, path, n):`; a class, not a generator: it runs around
    every step, and the key's text is made only when `idempotency_key()` asks)."""

    __slots__ = ("key", "token")

    def __init__(self, run_id: str, path: str, ordinal: int) -> None:
        self.key = (run_id, path, ordinal)

    def __enter__(self) -> None:
        self.token = _STEP_KEY.set(self.key)

    def __exit__(self, *exc: object) -> None:
        _STEP_KEY.reset(self.token)


class ResumeMismatch(DanaError):
    """A resumed run's control flow left the recorded path (docs/store.md "Resume")."""

    code = M.RESUME_DIVERGED.code


@dataclass(frozen=True)
class RunIdentity:
    """What a durable run records at its start besides its state: the workflow's name and
    version, the source file, how it was started ("workflow": `dana run --workflow`, or
    "toplevel": `run(...)` in a file's top-level code), the template's hash and the hash
    of each function, struct and workflow it can reach (name -> sha256 hex)."""

    workflow: str
    version: str
    source: str | None
    entry: str
    template_hash: str
    code: dict[str, str]


@dataclass
class Recorded:
    """One recorded commit: version (or seq in a branch), step name, path, the encoded
    writes (key -> bytes, None: removed), the encoded output, the attempt."""

    number: int
    step: str
    path: str
    writes: dict[str, bytes | None]
    output: bytes | None
    attempt: int = 1


@dataclass(frozen=True)
class Source:
    """Where a commit came from, for its lineage (docs/store.md "Lineage"): the state keys
    it read (`config.<name>` for a config parameter), the hash of its code, its origin
    ("step", "cache", "control" for the runner's own commits) and, for a cache hit, the
    run and version that produced the entry; `reason` says why a cached step ran;
    `input` is the version whose output the step took as its input (None: none);
    `merge` marks a parallel block's merge, whose lineage is its branches' reads."""

    reads: frozenset[str] = frozenset()
    code: str = ""
    origin: str = "step"
    from_run: str | None = None
    from_version: int | None = None
    reason: str = ""
    input: int | None = None
    merge: bool = False


CONTROL = Source(origin="control")
MERGE = Source(origin="control", merge=True)


@dataclass
class Encoded:
    """A commit's writes and output, encoded before it is applied."""

    changes: dict[str, bytes | None]
    output: bytes | None


@dataclass
class Line:
    """The commits of the run's main line (`branch` "") or of one parallel branch
    (`branch` "<base version>:<branch path>"), replayed in order while `replaying`.
    `ordinal` counts the steps begun on this line (their outcomes are keyed by it),
    `seq` the commits made in a branch; `last` is the encoding of the line's last recorded
    commit (a cache entry stores it as it is: a value is encoded once per version);
    `output_version` is the main-line version whose output is the value flowing to the
    next step (None: the workflow's input, or a branch commit's output)."""

    branch: str
    records: list[Recorded] = field(default_factory=list)
    index: int = 0
    ordinal: int = 0
    seq: int = 0
    last: "Encoded | None" = None
    output_version: int | None = None

    @property
    def replaying(self) -> bool:
        return self.index < len(self.records)

    def peek(self) -> Recorded | None:
        return self.records[self.index] if self.replaying else None

    def expect(self, step: str, path: str) -> Recorded:
        """The next recorded commit, which must be `step` at `path`; ResumeMismatch else."""
        record = self.records[self.index]
        if (record.step, record.path) != (step, path):
            raise ResumeMismatch.of(M.RESUME_DIVERGED, actual=_shown(step, path),
                                    expected=_shown(record.step, record.path),
                                    version=record.number)
        return self.take(record)

    def take(self, record: Recorded) -> Recorded:
        """Pass `record` (the next one) while replaying."""
        self.index += 1
        if record.output is not None:
            self.output_version = None if self.branch else record.number
        return record

    def next_ordinal(self) -> int:
        self.ordinal += 1
        return self.ordinal


def _shown(step: str, path: str) -> str:
    return path if path.endswith(step) else f"{step}` at `{path}"


class Journal:
    """One durable run in `store`. `type_name_of` names value types in messages; `struct`
    rebuilds structs when replaying. Made by `start` (a new run) or `resume`."""

    def __init__(self, store: RunStore, run_id: str, *, type_name_of: Callable[[Any], str],
                 struct: StructBuilder | None = None, resumed_from: int | None = None,
                 max_value_bytes: int = MAX_VALUE_BYTES) -> None:
        self.store = store
        self.run_id = run_id
        self.type_name_of = type_name_of
        self.struct = struct
        self.resumed_from = resumed_from
        self.max_value_bytes = max_value_bytes
        self.main = Line("")
        self.hashes: dict[str, str] = {}        # key -> sha256 of its committed encoding
        self.key_versions: dict[str, int] = {}  # key -> the version that last wrote it
        self.cache: Any = None                  # the run's StoreCache, when it has one
        self.code_of: Callable[[Any], tuple[dict[str, str], Any]] | None = None
        self._branches: dict[str, BranchReads] = {}  # branch path -> what it read, wrote
        self._lock = threading.Lock()  # branches record from their threads
        self._code_hashes: dict[Any, tuple[str, Any]] = {}
        self._outcomes: dict[tuple[str, int], list[tuple[int, str, bytes]]] = {}
        self._pending: tuple[RunIdentity, dict[str, Any], dict[str, Any]] | None = None

    # ------------------------------------------------------------ starting
    @classmethod
    def start(cls, store: RunStore, identity: RunIdentity, initial: dict[str, Any],
              config: dict[str, Any], *, type_name_of: Callable[[Any], str]) -> "Journal":
        """A new run's journal; nothing is written until `begin`."""
        journal = cls(store, uuid.uuid4().hex[:12], type_name_of=type_name_of)
        journal._pending = (identity, initial, config)
        return journal

    def begin(self, values: dict[str, Any]) -> None:
        """Record the run's start with version 0's `values` (initial state plus config).
        Raises DanaRuntimeError for an input that cannot be stored."""
        pending = self._pending
        if pending is None:
            return  # a resumed run is already recorded
        identity, initial, config = pending
        self._pending = None
        encoded = {k: self._value(v, "<initial>", k) for k, v in values.items()}
        self._track(0, encoded)
        self.store.begin_run(RunStart(
            self.run_id, identity.workflow, identity.version, identity.source, identity.entry,
            identity.template_hash, encode(identity.code),
            self._value(config, "<initial>", "config"), self._value(initial, "<initial>", "state"),
            encoded))

    @classmethod
    def resume(cls, store: RunStore, run_id: str, *, type_name_of: Callable[[Any], str],
               struct: StructBuilder | None, note: dict[str, Any]) -> "Journal":
        """The journal of stored run `run_id`, continuing from where it stopped: its main
        line holds the versions to replay. `note` is recorded among the run's resumes."""
        row = store.get(run_id)
        previous = decode(row.resumes) if row.resumes else []
        frontier = store.prepare_resume(run_id, encode([*previous, note]))
        journal = cls(store, run_id, type_name_of=type_name_of, struct=struct,
                      resumed_from=frontier)
        changes = store.changes(run_id, 1, frontier)
        journal.main.records = [
            Recorded(v.version, v.step, v.path, changes.get(v.version, {}), v.output, v.attempt)
            for v in store.versions(run_id, frontier) if v.version > 0]
        journal._outcomes = store.outcomes(run_id)
        for version, values in sorted(store.changes(run_id, 0, frontier).items()):
            journal._track(version, values)
        return journal

    def _track(self, version: int, changes: dict[str, bytes | None]) -> None:
        """Remember the hash and version of each key `version` changed (hashed once, as
        it is committed: a cache key never re-encodes a state value)."""
        for key, data in changes.items():
            if data is None:
                self.hashes.pop(key, None)
            else:
                self.hashes[key] = hashlib.sha256(data).hexdigest()
            self.key_versions[key] = version

    def code_hash(self, step: Any) -> tuple[str, Any]:
        """The hash of a step's code (see StoreCache's `code_of`) and the names it
        mentions (None: unknown)."""
        if self.code_of is None:
            return "", None
        known = self._code_hashes.get(step)  # a step in a loop is one Step object
        if known is None:
            code, names = self.code_of(step)
            known = self._code_hashes[step] = (
                hashlib.sha256(repr(sorted(code.items())).encode()).hexdigest(), names)
        return known

    def hash_of(self, key: str) -> str | None:
        """The hash of state key `key`'s committed value (None: absent)."""
        return self.hashes.get(key)

    # ------------------------------------------------------------ recording
    def encode(self, step: str, writes: dict[str, Any], output: Any = None,
               with_output: bool = False) -> Encoded:
        """Encode a commit's writes (MISSING: removed) and, if asked, its output. Raises
        DanaRuntimeError StateError for an unstorable value, LimitError past the budget."""
        changes = {k: None if v is MISSING else self._value(v, step, k) for k, v in writes.items()}
        data = None
        if with_output:
            try:
                data = encode(output)
            except UnstorableValue as exc:
                raise runtime_error(R.UNSTORABLE_OUTPUT, step=step,
                                    reason=str(exc).removeprefix("cannot store "),
                                    type=self.type_name_of(exc.value)) from None
        return Encoded(changes, data)

    def _value(self, value: Any, step: str, key: str) -> bytes:
        try:
            data = encode(value)
        except UnstorableValue as exc:
            raise runtime_error(R.UNSTORABLE_WRITE, step=step, key=key,
                                reason=str(exc).removeprefix("cannot store "),
                                type=self.type_name_of(exc.value)) from None
        if len(data) > self.max_value_bytes:
            raise runtime_error(R.TOO_BIG_VALUE, key=key, step=step, size=len(data),
                                limit=self.max_value_bytes)
        return data

    def record(self, line: Line, version: int, step: str, path: str, keys: tuple[str, ...],
               encoded: Encoded, attempt: int, duration: float,
               source: Source = CONTROL) -> None:
        """Store one commit: a version of the main line with its lineage, or commit
        `line.seq` of a branch (whose reads join the lineage of the block's merge)."""
        changes = {k: encoded.changes.get(k) for k in keys}
        reads = self._versioned(source.reads)
        if source.input is not None:
            reads.append(f"{OUTPUT}@{source.input}")
        line.last = encoded
        if line.branch:
            self._branch_commit(line, step, path, keys, reads, encoded, changes)
            return
        branches, self._branches = self._branches, {}  # a failed block's are dropped
        if encoded.output is not None:
            line.output_version = version
        self.store.commit_version(self.run_id, VersionRow(
            version, step, path, keys, attempt, time.time(), duration, encoded.output),
            changes, Provenance(source.code, tuple(reads), source.origin, source.from_run,
                                source.from_version, source.reason,
                                tuple(branches.values()) if source.merge else ()))
        self._track(version, changes)

    def finish_branch(self, line: Line, path: str, writes: dict[str, Any], output: Any) -> None:
        """Record that the branch of `line` (at `path`) finished, with its net `writes`
        (MISSING: removed) and `output`, so that a resume does not run it again, wherever
        it ran (docs/store.md "Resume"). Raises as `encode` does."""
        encoded = self.encode(FINISHED, writes, output, with_output=True)
        self.record(line, 0, FINISHED, path, tuple(sorted(writes)), encoded, 1, 0.0)

    def _branch_commit(self, line: Line, step: str, path: str, keys: tuple[str, ...],
                       reads: list[str], encoded: Encoded,
                       changes: dict[str, bytes | None]) -> None:
        """Record commit `line.seq` of a branch; what it read joins its branch's share
        of the lineage of the block's merge."""
        line.seq += 1
        if encoded.output is not None:
            line.output_version = None  # a branch commit's output is not a version
        branch = line.branch.split(":", 1)[1]
        with self._lock:
            known = self._branches.get(branch)
            if known is None or step != FINISHED:  # a remote branch's steps said nothing
                self._branches[branch] = (known or BranchReads(branch)).adding(step, reads,
                                                                                keys)
        self.store.commit_branch(self.run_id, line.branch, line.seq, step, path,
                                 encode(changes), encoded.output)

    def _versioned(self, reads: frozenset[str]) -> list[str]:
        """"key@version" of each key read (`config.<name>` at the config's version)."""
        out = []
        for key in sorted(reads):
            written = self.key_versions.get(key.split(".", 1)[0] if key.startswith("config.")
                                            else key)
            if written is not None:
                out.append(f"{key}@{written}")
        return out

    def outcome(self, line: Line, ordinal: int, path: str, attempt: int, kind: str,
                error: DanaRuntimeError) -> None:
        """Store an attempt of the step at `path` that committed nothing: kind "retried",
        "failed" or "skipped"."""
        record = {"path": path, "type": error.dana_type, "message": error.message,
                  "catchable": error.catchable}
        self.store.record_outcome(self.run_id, line.branch, ordinal, attempt, kind,
                                  encode(record))

    def finish(self, status: RunStatus, stopped_at: int | None,
               error: dict[str, Any] | None = None, output: Any = None) -> None:
        """Record how the run ended (an unstorable output is recorded as its repr)."""
        try:
            data = encode(output)
        except UnstorableValue:
            data = encode(repr(output))
        self.store.finish(self.run_id, status, stopped_at,
                          encode(error) if error is not None else None, data)

    # ------------------------------------------------------------ replaying
    def branch_line(self, branch: str) -> Line:
        """The recorded commits of a parallel branch (those it made before the run
        stopped), to replay before it runs on."""
        if self.resumed_from is None:
            return Line(branch)
        records = [Recorded(seq, step, path, decode(writes), output)
                   for seq, step, path, writes, output in
                   self.store.branch_commits(self.run_id, branch)]
        return Line(branch, records, seq=len(records))

    @staticmethod
    def finished_branch(line: Line) -> Recorded | None:
        """The record of a branch that finished before the run stopped (None: it did not)."""
        last = line.records[-1] if line.records else None
        return last if last is not None and last.step == FINISHED else None

    def writes_of(self, record: Recorded) -> dict[str, Any]:
        """A recorded commit's writes as values (MISSING: removed)."""
        return {k: MISSING if v is None else decode(v, self.struct)
                for k, v in record.writes.items()}

    def output_of(self, record: Recorded) -> Any:
        return None if record.output is None else decode(record.output, self.struct)

    def attempts(self, line: Line, ordinal: int,
                 path: str) -> list[tuple[int, str, dict[str, Any]]]:
        """The recorded attempts of step `ordinal` of `line`, at `path`, that committed
        nothing: (attempt, kind, {path, type, message, catchable}), oldest first."""
        found = [(a, kind, decode(error)) for a, kind, error in
                 self._outcomes.get((line.branch, ordinal), [])]
        return [entry for entry in found if entry[2].get("path") == path]


