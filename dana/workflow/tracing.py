"""OpenTelemetry spans from run events (docs/workflows.md "Tracing").

Consumes: run events (the records of dana.workflow.events) as a listener.
Produces: OpenTelemetry spans through a tracer of the given `TracerProvider` (the SDK's,
so any exporter works): one span per run, per sub-workflow, per loop and parallel block,
and per step attempt, nested by step path (`epochs[2]/batches[17]/optim_step` is a child
of the `epochs` loop span, itself a child of the run's span). Span times are the events'
wall-clock times.

Attributes (all prefixed `dana.`): `run_id`, `workflow`, `path`; on steps also
`step`, `attempt`, `state_version` (when the step committed one), `cache_hit`; a failed,
retried or skipped attempt has status ERROR with the error's message and `error_type`.

The `opentelemetry` packages are an optional extra (`pip install 'dana-lang[otel]'`); this
module imports them only when a `SpanRecorder` is made.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from dana.messages import usage as U

if TYPE_CHECKING:  # `dana run` checks `tracing_requested` without loading the records
    from dana.workflow.events import RunEvent

OTLP_ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"



class TracingUnavailable(Exception):
    """The OpenTelemetry SDK is not installed (message: `dana.messages.usage.NO_OTEL`)."""


def otlp_provider() -> Any:
    """A `TracerProvider` exporting over OTLP/HTTP in batches, to the endpoint the standard
    `OTEL_EXPORTER_OTLP_*` variables name (default http://localhost:4318). Call its
    `shutdown()` at the end of the run to flush. Raises TracingUnavailable."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise TracingUnavailable(U.NO_OTEL.text) from None
    provider = TracerProvider(resource=Resource.create({"service.name": "dana"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def tracing_requested(flag: bool, environ: dict[str, str] | None = None) -> bool:
    """True when `--otel` was given or the standard OTLP endpoint variable is set."""
    return flag or bool((os.environ if environ is None else environ).get(OTLP_ENDPOINT_VARIABLE))


class SpanRecorder:
    """A run-event listener that records OpenTelemetry spans (see module docstring).
    Thread-safe: parallel branches emit from several threads. Raises TracingUnavailable
    when the SDK is missing. With `owns_provider`, `close()` also shuts the provider down
    (flushing its exporters)."""

    def __init__(self, tracer_provider: Any = None, *, owns_provider: bool = False) -> None:
        try:
            from opentelemetry import trace
            from opentelemetry.trace import Status, StatusCode
        except ImportError:
            raise TracingUnavailable(U.NO_OTEL.text) from None
        self._trace, self._status, self._code = trace, Status, StatusCode
        provider = tracer_provider or trace.get_tracer_provider()
        self._provider = provider if owns_provider else None
        self._tracer = provider.get_tracer("dana")
        self._lock = threading.Lock()
        # run id -> open container spans (workflows, loops, parallel blocks) by path
        self._containers: dict[str, dict[str, list[Any]]] = {}
        # (run id, step path) -> the open span of the step's current attempt
        self._steps: dict[tuple[str, str], Any] = {}

    def __call__(self, event: RunEvent) -> None:
        from dana.workflow import events as E
        with self._lock:
            match event:
                case E.WorkflowStarted(path=path, workflow=workflow):
                    name = path.rsplit("/", 1)[-1] or workflow
                    self._open_container(event, path, f"workflow {name}")
                case E.WorkflowCompleted():
                    self._close_workflow(event, None)
                case E.WorkflowFailed():
                    self._close_workflow(event, "failed")
                case E.WorkflowInterrupted():
                    self._close_workflow(event, "interrupted")
                case E.LoopStarted() | E.ParallelStarted():
                    label = event.loop or "parallel"
                    kind = "loop" if isinstance(event, E.LoopStarted) else "parallel"
                    self._open_container(event, _join(event.path, label), f"{kind} {label}")
                case E.LoopCompleted() | E.ParallelCompleted():
                    self._close_container(event, _join(event.path, event.loop or "parallel"))
                case E.StepStarted():
                    self._open_step(event)
                case E.StepSucceeded():
                    self._close_step(event, None)
                case E.StepFailed():
                    self._close_step(event, "failed")
                case E.StepRetried():
                    self._close_step(event, "retried")
                case E.StepSkipped():
                    self._close_step(event, "skipped")
                case E.StepCached():
                    span = self._start(event, f"step {event.step}", cache_hit=True)
                    self._end(span, event)
                case _:  # run_resumed, loop_iteration, branch_completed: no span of their own
                    pass

    def close(self) -> None:
        """End every span still open (a run cut short), at the time of closing."""
        with self._lock:
            for span in self._steps.values():
                span.end()
            for by_path in self._containers.values():
                for spans in by_path.values():
                    for span in reversed(spans):
                        span.end()
            self._steps.clear()
            self._containers.clear()
        if self._provider is not None:
            self._provider.shutdown()

    # ---------------------------------------------------------------- spans
    def _start(self, event: dict[str, Any], name: str, **attributes: Any) -> Any:
        parent = self._parent(event["run_id"], event["path"])
        context = self._trace.set_span_in_context(parent) if parent is not None else None
        fields = {"run_id": event["run_id"], "workflow": event["workflow"],
                  "path": event["path"], **attributes}
        if "step" in event:
            fields["step"] = event["step"]
        if event.get("attempt") is not None:
            fields["attempt"] = event["attempt"]
        if event.get("version") is not None:
            fields["state_version"] = event["version"]
        return self._tracer.start_span(name, context=context, start_time=_ns(event),
                                       attributes={f"dana.{k}": v for k, v in fields.items()})

    def _end(self, span: Any, event: dict[str, Any], outcome: str | None = None) -> None:
        if event.get("version") is not None:
            span.set_attribute("dana.state_version", event["version"])
        if outcome is not None:
            span.set_attribute("dana.outcome", outcome)
        if event.get("error"):
            span.set_attribute("dana.error_type", event["error"])
            span.set_status(self._status(self._code.ERROR, event.get("message", "")))
        elif outcome in ("failed", "interrupted"):
            span.set_status(self._status(self._code.ERROR, outcome))
        span.end(end_time=_ns(event))

    def _parent(self, run_id: str, path: str) -> Any:
        """The innermost open container of `path`: the longest open container path that
        is `path` itself or one of its ancestors (`a` contains `a/x` and `a[3]/x`)."""
        best, best_len = None, -1
        for where, spans in self._containers.get(run_id, {}).items():
            if spans and len(where) > best_len and _contains(where, path):
                best, best_len = spans[-1], len(where)
        return best

    # ---------------------------------------------------------- containers
    def _open_container(self, event: dict[str, Any], where: str, name: str) -> None:
        span = self._start({**event, "path": where}, name)
        self._containers.setdefault(event["run_id"], {}).setdefault(where, []).append(span)

    def _close_container(self, event: dict[str, Any], where: str,
                         outcome: str | None = None) -> None:
        spans = self._containers.get(event["run_id"], {}).get(where)
        if spans:
            self._end(spans.pop(), event, outcome)

    def _close_workflow(self, event: dict[str, Any], outcome: str | None) -> None:
        """End the workflow's span and everything still open inside it (loops cut short
        by a failure or Ctrl-C send no completion event)."""
        run_id, where = event["run_id"], event["path"]
        for key in [k for k in self._steps if k[0] == run_id and _contains(where, k[1])]:
            self._end(self._steps.pop(key), {**event, "error": None}, "interrupted")
        by_path = self._containers.get(run_id, {})
        for inner in sorted((p for p in by_path if p != where and _contains(where, p)),
                            key=len, reverse=True):
            while by_path[inner]:
                self._end(by_path[inner].pop(), {**event, "error": None}, outcome)
        self._close_container(event, where, outcome)
        if not where:
            self._containers.pop(run_id, None)

    # --------------------------------------------------------------- steps
    def _open_step(self, event: dict[str, Any]) -> None:
        key = (event["run_id"], event["path"])
        self._steps[key] = self._start(event, f"step {event['step']}", cache_hit=False)

    def _close_step(self, event: dict[str, Any], outcome: str | None) -> None:
        span = self._steps.pop((event["run_id"], event["path"]), None)
        if span is not None:
            self._end(span, event, outcome)


def _join(path: str, segment: str) -> str:
    return f"{path}/{segment}" if path else segment


def _contains(container: str, path: str) -> bool:
    """True when `path` lies inside the container at path `container`."""
    if not container:
        return True
    return path == container or (path.startswith(container)
                                 and path[len(container)] in "/[")


def _ns(event: dict[str, Any]) -> int:
    return int(event["time"] * 1e9)
