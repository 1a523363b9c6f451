"""OpenTelemetry spans from a run (docs/workflows.md "Tracing"), recorded with the SDK's
in-memory exporter: one span per run, sub-workflow, loop, parallel block and step attempt,
nested by step path, with the run id, path, attempt, state version, cache hit and error."""

import http.server
import os
import subprocess
import sys
import threading

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter)
from opentelemetry.trace import StatusCode  # noqa: E402

import dana  # noqa: E402

PROGRAM = """
tries = []

def load(state: WorkflowState) -> int:
    state.items = [1, 2]
    return 2

@step(retry=1, backoff=0.0)
def flaky(n: int) -> int:
    tries.append(n)
    if len(tries) == 1:
        raise ValueError("first try fails")
    return n

def square(state: WorkflowState) -> int:
    state.total = state.item * state.item
    return state.total

def tag(state: WorkflowState) -> int:
    state.tagged = True
    return 1

def mark(state: WorkflowState) -> int:
    state.marked = True
    return 0

@step(cache=True)
def pure(outputs: list[int]) -> int:
    return len(outputs) * 10

workflow inner:
    steps:
        mark

workflow outer:
    steps:
        load | flaky
        for item in state.items:
            square
        parallel:
            tag
            inner
        pure
"""


def spans_of_run(program: str, workflow: str, runs: int = 1):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    interp = dana.Interpreter()
    recorder = dana.SpanRecorder(provider)
    interp.on_event(recorder)
    interp.exec(program)
    results = [interp.exec(f"r = run({workflow})") or interp.eval("r") for _ in range(runs)]
    recorder.close()
    return results, exporter.get_finished_spans()


def by_name(spans):
    found = {}
    for span in spans:
        found.setdefault(span.name, []).append(span)
    return found


def parent_name(span, spans):
    if span.parent is None:
        return None
    return next(s.name for s in spans if s.context.span_id == span.parent.span_id)


def test_spans_nest_by_step_path():
    (result,), spans = spans_of_run(PROGRAM, "outer")
    names = by_name(spans)
    assert parent_name(names["workflow outer"][0], spans) is None
    assert parent_name(names["step load"][0], spans) == "workflow outer"
    assert parent_name(names["loop items"][0], spans) == "workflow outer"
    assert [parent_name(s, spans) for s in names["step square"]] == ["loop items"] * 2
    assert parent_name(names["parallel parallel"][0], spans) == "workflow outer"
    assert parent_name(names["step tag"][0], spans) == "parallel parallel"
    assert parent_name(names["workflow inner"][0], spans) == "parallel parallel"
    assert parent_name(names["step mark"][0], spans) == "workflow inner"
    trace_ids = {s.context.trace_id for s in spans}
    assert len(trace_ids) == 1                      # one trace per run


def test_step_attributes_name_run_path_attempt_and_version():
    (result,), spans = spans_of_run(PROGRAM, "outer")
    squares = by_name(spans)["step square"]
    assert [s.attributes["dana.path"] for s in squares] == ["items[0]/square", "items[1]/square"]
    assert {s.attributes["dana.run_id"] for s in spans} == {result.run_id}
    versions = [s.attributes["dana.state_version"] for s in squares]
    assert versions == sorted(versions) and len(set(versions)) == 2
    assert all(s.attributes["dana.cache_hit"] is False for s in squares)


def test_a_retried_attempt_is_its_own_failed_span():
    _, spans = spans_of_run(PROGRAM, "outer")
    first, second = sorted(by_name(spans)["step flaky"], key=lambda s: s.start_time)
    assert (first.attributes["dana.attempt"], second.attributes["dana.attempt"]) == (1, 2)
    assert first.status.status_code is StatusCode.ERROR
    assert first.attributes["dana.error_type"] == "ValueError"
    assert "first try fails" in first.status.description
    assert second.status.status_code is not StatusCode.ERROR


def test_a_cache_hit_is_a_span_marked_as_hit():
    _, spans = spans_of_run(PROGRAM, "outer", runs=2)
    pure = sorted(by_name(spans)["step pure"], key=lambda s: s.start_time)
    assert [s.attributes["dana.cache_hit"] for s in pure] == [False, True]


def test_a_failed_run_ends_every_open_span_with_an_error():
    program = """
def boom(state: WorkflowState) -> int:
    raise ValueError("bad row")

workflow w:
    steps:
        for i in range(3):
            boom
"""
    (result,), spans = spans_of_run(program, "w")
    assert result.status == "failed"
    names = by_name(spans)
    assert names["workflow w"][0].status.status_code is StatusCode.ERROR
    assert names["step boom"][0].status.status_code is StatusCode.ERROR
    assert "loop range" in names                     # ended although no loop_completed came
    assert all(s.end_time is not None for s in spans)


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, int]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, len(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_dana_run_otel_exports_over_otlp_http(tmp_path):
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    server = http.server.HTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    src = tmp_path / "w.dana"
    src.write_text("def one() -> int:\n    return 1\n\nworkflow w:\n    steps:\n        one\n")
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}"}
    proc = subprocess.run([sys.executable, "-m", "dana.cli.main", "run", str(src),
                           "--workflow", "w", "--quiet"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    server.shutdown()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "1\n"
    assert [path for path, size in _Collector.received if size > 0] == ["/v1/traces"]
