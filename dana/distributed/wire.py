"""What travels between the coordinator and a worker for one parallel branch.

Consumes: a `BranchTask` (the coordinator's description of a branch) and the runtime that
runs the workflow; on the way back, the bytes a worker returns.
Produces: two byte strings per branch, in the store's value encoding
(dana.store.codec), never pickled interpreter internals (docs/distributed.md "What
travels"):

* the header, one per module and run: the module's source text, name, path and digest
  (its identity), the host functions to import (`module:qualname`), its permissions
  (folders to read and write, environment variables) and its limits;
* the payload, one per branch: where the block stands in the source (its span), the
  branch number, the branch's own keys (the `parallel for` item), the block's input,
  the state keys and version history at the block's start, the step path, the run id
  and on_error default, the job id its live events are numbered under and the Dask event
  topic to log them under (dana.distributed.live);
* the result: the output, the net writes and deleted keys, the events, what the branch
  printed, or the error that failed it; and which worker process sent it.
`decode_result` turns a result back into an `Outcome`, after applying the writes to the
task's branch layer and, in a durable run, recording the finished branch (as each result
arrives, so a resume runs only the branches whose results had not come back).
"""

from __future__ import annotations

import hashlib
import importlib
import sys
from typing import Any, Callable

from dana.distributed import live
from dana.errors import DanaRuntimeError, LimitError, TraceEntry, UsageError, runtime_error
from dana.messages import runtime as R, usage as U
from dana.source import SourceFile, Span
from dana.store.codec import UnstorableValue, decode, encode
from dana.runtime.values import StructInstance, StructType
from dana.workflow.parallel import BranchTask, HostFunction, Outcome
from dana.workflow.state import MISSING
from dana.workflow.template import (ForNode, IfNode, ParallelForNode, ParallelNode, StepLine,
                                    TryNode, WhileNode, WorkflowTemplate)


# ------------------------------------------------------------------ host functions
def host_reference(label: str, host: HostFunction) -> str:
    """`module:qualname` of a registered host function. Raises UsageError (E0607) naming
    it when a worker could not import it: a lambda, a nested function, a function of the
    `__main__` script, or a name that does not lead back to the function."""
    fn = host.fn
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    why = None
    if not module or module == "__main__":
        why = f"it is defined in the script being run (module {module!r})"
    elif "<" in qualname:
        why = f"`{qualname}` is a lambda or a nested function"
    elif resolve(f"{module}:{qualname}", strict=False) is not fn:
        why = f"`{module}:{qualname}` does not import as the same function"
    if why is not None:
        raise UsageError.of(U.NOT_IMPORTABLE, label=label, why=why)
    return f"{module}:{qualname}"


def resolve(reference: str, strict: bool = True) -> Any:
    """The object `module:qualname` names (None when it is missing and not `strict`)."""
    module, _, qualname = reference.partition(":")
    try:
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        if strict:
            raise
        return None
    return target


def _host_table(rt: Any) -> dict[str, Any]:
    table = {}
    for label, host in rt.host_functions.items():
        options = {k: (host_reference(f"{label} ({k} hook)", HostFunction(v))
                       if callable(v) else v) for k, v in host.options.items()}
        table[label] = [host.kind, host_reference(label, host), options]
    return table


# ------------------------------------------------------------------ coordinator -> worker
def header(rt: Any, source: SourceFile) -> bytes:
    """The module part of every branch of `source`'s blocks (see module docstring).
    Raises UsageError (E0607) for a host function workers cannot import."""
    limits = rt.limits
    return encode({
        "name": source.name, "path": str(source.path) if source.path else None,
        "text": source.text, "digest": hashlib.sha256(source.text.encode()).hexdigest(),
        "host": _host_table(rt), "permissions": _permissions(rt.permissions),
        "limits": {"max_operations": limits.max_operations, "max_depth": limits.max_depth,
                   "max_size": limits.max_size},
    })


def _permissions(granted: Any) -> dict[str, Any]:
    """What the program may touch, for a worker to grant the same (docs/cli.md)."""
    return {"read": [str(p) for p in granted.read], "write": [str(p) for p in granted.write],
            "env": list(granted.env), "base": str(granted.base) if granted.base else None}


def payload(task: BranchTask, job: str = "", topic: str = "") -> bytes:
    """One branch (see module docstring), shipped as `job` (its events are numbered under
    that id; `topic`: the Dask event topic to log them under, "" for a process pool). Only the state keys the branch can reach travel
    (`branch_keys`); those whose values cannot be encoded (a function, a host object) are
    left out: reading one on the worker is a KeyError. Raises DanaRuntimeError
    (TypeError) when the block's input or the item cannot be encoded."""
    nodes = task.node.branches[task.index] if isinstance(task.node, ParallelNode) else \
        task.node.body
    wanted = branch_keys(nodes)
    state = {}
    for key, value in task.layer.as_dict().items():
        if key in task.scoped or (wanted is not None and key not in wanted):
            continue
        try:
            encode(value)
        except UnstorableValue:
            continue
        state[key] = value
    history = [[h.version, h.step, list(h.keys_changed), h.time]
               for h in task.layer.history()]
    job = {"node": task.node.span.start, "index": task.index, "scoped": task.scoped,
           "value": task.value, "state": state, "history": history, "path": task.path,
           "name": task.layer.name, "run_id": task.run_id, "on_error": task.on_error,
           "job": job, "live": topic}
    try:
        return encode(job)
    except UnstorableValue as exc:
        what = "the parallel block's input" if _contains(task.value, exc.value) else \
            "the `parallel for` item"
        raise runtime_error(R.UNSENDABLE, task.node.span, what=what, reason=exc) from None


def branch_keys(nodes: list[Any], seen: set[int] | None = None) -> set[str] | None:
    """The state keys the plan `nodes` can reach: those their steps and conditions name
    literally (dana.types.state_keys), the keys the runner itself reads (loop and handler
    variables, a sub-workflow's required keys) and `config`; None when some step could
    reach any key (a host function, a step with hooks, a name not resolved yet)."""
    keys: set[str] = {"config"}
    seen = set() if seen is None else seen  # sub-workflows already counted
    for node in nodes:
        found = _keys_of(node, seen)
        if found is None:
            return None
        keys |= found
    return keys


def _keys_of(node: Any, seen: set[int]) -> set[str] | None:
    if isinstance(node, StepLine):
        return _line_keys(node, seen)
    own: set[str] = set()
    if isinstance(node, (ForNode, WhileNode, IfNode, ParallelForNode)):
        if node.reads is None:
            return None
        own |= node.reads
    if isinstance(node, (ForNode, ParallelForNode)):
        own.add(node.var)
    if isinstance(node, TryNode):
        own |= {var for _, var, _ in node.handlers if var}
    inner = branch_keys([n for block in nested_plans(node) for n in block], seen)
    return None if inner is None else own | inner


def _line_keys(line: StepLine, seen: set[int]) -> set[str] | None:
    try:
        steps = line.resolve()
    except DanaRuntimeError:
        return None
    keys: set[str] = set()
    for step in steps:
        if isinstance(step, WorkflowTemplate):
            if id(step) in seen:
                continue
            seen.add(id(step))
            inner = branch_keys(step.plan, seen)
            if inner is None:
                return None
            keys |= inner | {r.key for r in step.requires}
        elif step.reads is None:
            return None
        else:
            keys |= step.reads
    return keys


def nested_plans(node: Any) -> list[list[Any]]:
    """The plan lists nested in a plan node."""
    if isinstance(node, (ForNode, WhileNode, ParallelForNode)):
        return [node.body]
    if isinstance(node, IfNode):
        return [node.body, node.orelse]
    if isinstance(node, TryNode):
        return [node.body, node.orelse, node.finalbody, *[h[2] for h in node.handlers]]
    if isinstance(node, ParallelNode):
        return list(node.branches)
    return []


def _contains(value: Any, part: Any) -> bool:
    try:
        encode(value)
    except UnstorableValue:
        return True
    return value is part


def struct_builder(rt: Any) -> Callable[[str, dict[str, Any]], Any]:
    """Rebuild a struct value by name with the runtime's own struct type (so type checks
    against it hold); a name it does not know gets a type of its own."""
    def build(name: str, fields: dict[str, Any]) -> StructInstance:
        struct = rt.struct_types.get(name)
        if struct is None:
            struct = rt.struct_types.setdefault(name, StructType(name, {}))
        return StructInstance(struct, fields)
    return build


# ------------------------------------------------------------------ worker -> coordinator
def success(output: Any, writes: dict[str, Any], events: list[dict], out: str,
            err: str) -> bytes:
    """A finished branch. Raises UnstorableValue when its output or a write cannot travel."""
    return encode({"ok": True, "output": output, "sender": live.sender(),
                   "writes": {k: v for k, v in writes.items() if v is not MISSING},
                   "deleted": [k for k, v in writes.items() if v is MISSING],
                   "events": events, "stdout": out, "stderr": err})


def failure(kind: str, step: str, error: Exception, events: list[dict], out: str,
            err: str) -> bytes:
    """A failed branch: `kind` is "step" (a failed step), "limit" (a resource limit) or
    "internal" (a bug: `error` is any exception)."""
    if isinstance(error, DanaRuntimeError):
        record = {"type": error.dana_type, "message": error.message, "code": error.code,
                  "span": _span(error.span), "catchable": error.catchable,
                  "trace": [[t.function, *_span(t.span)] for t in error.trace
                             if t.span is not None]}
    else:
        record = {"type": type(error).__name__, "message": str(error)}
    return encode({"ok": False, "kind": kind, "step": step, "error": record,
                   "sender": live.sender(),
                   "events": events, "stdout": out, "stderr": err})


def _span(span: Span | None) -> list:
    return [span.source.name, span.start, span.end] if span is not None else []


def decode_result(rt: Any, task: BranchTask, data: bytes,
                  settle: Callable[[str | None, list[dict]], None] | None = None) -> Outcome:
    """Apply a worker's result to the coordinator: its printed text to the runtime's
    streams, its events to the run (through `settle(sender, events)`, which forwards
    those that did not arrive live; without it, all of them), its writes to the task's
    branch layer; then the Outcome (the output, or the failure the runner expects)."""
    result = decode(data, struct_builder(rt))
    if result["stdout"]:
        rt.write(result["stdout"])
    if result["stderr"]:
        (rt.stderr or sys.stderr).write(result["stderr"])
    if settle is not None:
        settle(result["sender"], result["events"])
    else:
        for event in result["events"]:
            task.forward(event)
    if not result["ok"]:
        task.completed(False)
        return Outcome(error=_error(result, task))
    tx = task.layer.begin(task.layer.name)
    for key, value in result["writes"].items():
        tx[key] = value
    for key in result["deleted"]:
        tx.delete(key)
    try:
        task.layer.commit(tx)
    except DanaRuntimeError as exc:
        task.completed(False)
        return Outcome(error=task.failure(task.layer.name, exc))
    try:
        task.completed(True, result["output"])  # a durable run records the branch here
    except Exception as exc:  # noqa: BLE001 - the branch's failure, as `completed` raises it
        return Outcome(error=exc)
    return Outcome(result["output"])


def _error(result: dict, task: BranchTask) -> BaseException:
    record, kind, source = result["error"], result["kind"], task.node.span.source
    if kind == "internal":
        return RuntimeError(f"internal error in a worker: {record['type']}: "
                            f"{record['message']}")
    span = _to_span(record["span"], source)
    if kind == "limit":
        return LimitError(record["message"], span)
    error = DanaRuntimeError(record["type"], record["message"], span, code=record["code"])
    error.catchable = record["catchable"]
    error.trace = [TraceEntry(at, name) for name, *where in record["trace"]
                    if (at := _to_span(where, source)) is not None]
    return task.failure(result["step"], error)


def _to_span(where: list, source: SourceFile) -> Span | None:
    """A span of the coordinator's copy of the module (None for another file's)."""
    if len(where) == 3 and where[0] == source.name:
        return Span(source, where[1], where[2])
    return None
