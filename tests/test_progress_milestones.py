"""Plain (non-terminal) progress: loop milestones show the true share of items done."""

import io

from dana.cli.progress import PlainProgress
from dana.workflow.events import event_from_dict


def test_milestones_show_correct_percentages():
    stream = io.StringIO()
    listener = PlainProgress(stream)
    base = {"run_id": "r", "workflow": "w", "path": "", "time": 0.0}
    listener(event_from_dict({**base, "event": "workflow_started"}))
    listener(event_from_dict({**base, "event": "loop_started", "loop": "days", "total": 12}))
    for i in range(12):
        listener(event_from_dict({**base, "event": "loop_iteration", "loop": "days",
                                  "index": i, "total": 12}))
    milestones = [line for line in stream.getvalue().splitlines() if "…" in line]
    assert milestones[0] == "  … loop days: 2/12 (16%)"
    for line in milestones:
        done, total = line.split(": ")[1].split(" ")[0].split("/")
        assert line.endswith(f"({100 * int(done) // int(total)}%)")


def test_a_run_in_the_repl_shows_progress():
    from dana.cli.repl import ReplSession
    out, err = io.StringIO(), io.StringIO()
    session = ReplSession(out, err, progress=PlainProgress(err))
    session.execute("def tick(state: WorkflowState):\n    state.n = state.get('n', 0) + 1\n\n"
                    "workflow w():\n    steps:\n        for i in range(20):\n            tick\n")
    session.execute("r = run(w)")
    text = err.getvalue()
    assert "▶ workflow w" in text and "  … loop range: 2/20 (10%)" in text
    assert "■ workflow w completed" in text
