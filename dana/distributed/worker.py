"""Run one parallel branch shipped to a worker process (docs/distributed.md).

Consumes: the header and payload bytes of `dana.distributed.wire` (a module's source and
identity, one branch of one of its parallel blocks).
Produces: `run_job(header, payload) -> bytes`, the encoded result. A worker process parses
and loads each module once (its definitions and constants, as `dana run --workflow`
does) and keeps it for the next branches; the branches of one module run one at a time
in a process (Dana code holds the GIL: a second thread would not run it faster). The
worker commits nothing: the branch's writes go back to the coordinator. Each event of the
branch is also sent to the coordinator as it happens (dana.distributed.live).
"""

from __future__ import annotations

import io
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dana.distributed import live, wire
from dana.embedding import Interpreter
from dana.errors import DanaError, DanaRuntimeError, LimitError, runtime_error
from dana.messages import runtime as R
from dana.pipeline import load_definitions
from dana.runtime.formatting import SIZE_BUDGET
from dana.runtime.interpreter import Limits, Runtime
from dana.runtime.permissions import Permissions
from dana.runtime.values import describe_type
from dana.runtime.workflows import runner_for
from dana.source import SourceFile
from dana.store.codec import UnstorableValue, decode
from dana.syntax.builder import parse
from dana.workflow.runner import step_failure
from dana.workflow.state import BranchState, HistoryEntry, ReplicaState
from dana.workflow.template import ParallelForNode, ParallelNode, WorkflowTemplate

_MODULES: dict[bytes, "_Loaded"] = {}
_LOADING = threading.Lock()


@dataclass
class _Loaded:
    """A module loaded in this worker: its runtime and workflow templates."""

    rt: Runtime
    name: str
    templates: list[WorkflowTemplate]
    lock: threading.Lock = field(default_factory=threading.Lock)
    blocks: dict[int, tuple[WorkflowTemplate, Any]] = field(default_factory=dict)

    def block(self, offset: int) -> tuple[WorkflowTemplate, Any]:
        """The template holding the parallel block at `offset`, and the block."""
        if offset not in self.blocks:
            for template in self.templates:
                found = _find(template.plan, offset)
                if found is not None:
                    self.blocks[offset] = (template, found)
                    break
            else:
                raise runtime_error(R.NO_BLOCK, offset=offset, name=self.name)
        return self.blocks[offset]


def run_job(header: bytes, payload: bytes) -> bytes:
    """Run one branch; never raises for a failure of the branch (it is in the result)."""
    out, err, events = io.StringIO(), io.StringIO(), []
    try:
        loaded = _load(header)
        with loaded.lock:
            return _run(loaded, decode(payload, wire.struct_builder(loaded.rt)), out, err,
                        events)
    except LimitError as exc:
        return wire.failure("limit", "", exc, events, out.getvalue(), err.getvalue())
    except DanaError as exc:  # the module does not load here (a missing file, an import)
        error = exc if isinstance(exc, DanaRuntimeError) else \
            DanaRuntimeError("Error", str(exc))
        return wire.failure("step", "parallel", error, events, out.getvalue(), err.getvalue())
    except Exception:  # a bug in Dana itself
        problem = RuntimeError(traceback.format_exc(limit=-8))
        return wire.failure("internal", "", problem, events, out.getvalue(), err.getvalue())


def _load(header: bytes) -> _Loaded:
    with _LOADING:
        loaded = _MODULES.get(header)
        if loaded is None:
            loaded = _MODULES[header] = _fresh(decode(header))
        return loaded


def _fresh(head: dict[str, Any]) -> _Loaded:
    """Parse the module and load its definitions in a new interpreter, with the host
    functions imported by reference."""
    interp = Interpreter(Limits(**head["limits"]), check=False, stdout=io.StringIO(),
                         stderr=io.StringIO(), permissions=Permissions(**head["permissions"]))
    for label, (kind, reference, options) in head["host"].items():
        fn = wire.resolve(reference)
        if kind == "step":
            hooks = {k: wire.resolve(v) for k, v in options.items()
                     if k in ("validate", "rollback") and v is not None}
            interp.register_step(fn, name=label, **{**options, **hooks})
        else:
            interp.register(fn, name=label)
    path = Path(head["path"]) if head["path"] else None
    module = parse(SourceFile(head["name"], head["text"], path))
    namespace = load_definitions(interp.runtime, module)
    templates = [v for v in namespace.values() if isinstance(v, WorkflowTemplate)]
    return _Loaded(interp.runtime, head["name"], templates)


def _run(loaded: _Loaded, job: dict[str, Any], out: io.StringIO, err: io.StringIO,
         events: list[dict]) -> bytes:
    rt = loaded.rt
    template, block = loaded.block(job["node"])
    nodes = block.branches[job["index"]] if isinstance(block, ParallelNode) else block.body
    history = [HistoryEntry(v, step, tuple(keys), at) for v, step, keys, at in job["history"]]
    parent = ReplicaState(job["state"], history, type_name_of=describe_type)
    layer = BranchState(parent, job["name"], job["scoped"])
    send = live.sender_for(job["job"], job["live"])  # each event, as it happens

    def record(event: Any) -> None:
        shape = dict(event)  # events travel in their JSON shape
        events.append(shape)
        if send is not None:
            send(shape)
    rt.stdout, rt.stderr, rt.listeners = out, err, [record]
    SIZE_BUDGET.set(rt.limits.max_size)  # this task's thread runs Dana code from here
    try:
        output = runner_for(rt).run_branch(job["run_id"], template, layer, nodes,
                                           job["value"], job["path"], job["on_error"])
    except LimitError:
        raise
    except Exception as exc:
        failed = step_failure(exc)
        if failed is None:
            raise
        return wire.failure("step", failed[0], failed[1], events, out.getvalue(),
                            err.getvalue())
    try:
        return wire.success(output, layer.transaction().writes, events, out.getvalue(),
                            err.getvalue())
    except UnstorableValue as exc:
        error = runtime_error(R.UNSENDABLE, block.span,
                              what="the branch's output or a state key it wrote", reason=exc)
        return wire.failure("step", "parallel", error, events, out.getvalue(), err.getvalue())


def _find(nodes: list[Any], offset: int) -> Any:
    """The parallel block starting at `offset` among `nodes` and the blocks inside them."""
    for node in nodes:
        if isinstance(node, (ParallelNode, ParallelForNode)) and node.span.start == offset:
            return node
        for inner in wire.nested_plans(node):
            found = _find(inner, offset)
            if found is not None:
                return found
    return None
