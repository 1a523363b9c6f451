"""Every example runs end to end through `dana run` and reports what its data says.

Most examples are run once as a subprocess (`python -m dana.cli.main run FILE`); the
resilient-ingest example and `--workflow` mode run in-process, so events can be collected
and backoff sleeps injected instead of slept. The figures an example prints are checked
against the same figures computed here, independently, in plain Python from the same
shipped files (the KNOWS reports with the csv module; the trained models by re-running the
same deterministic procedure): nothing below is a number copied from an example's output.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DATA = EXAMPLES / "data"


def run_example(name: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run examples/NAME with the CLI from a scratch directory; return its stdout."""
    cwd = tmp_path_factory.mktemp(name.replace(".", "_"))
    proc = subprocess.run([sys.executable, "-m", "dana.cli.main", "run", str(EXAMPLES / name)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    return proc.stdout


def line_with(out: str, prefix: str) -> str:
    """The first stdout line that starts with `prefix` (after indentation)."""
    for line in out.splitlines():
        if line.strip().startswith(prefix):
            return line.strip()
    raise AssertionError(f"no line starting with {prefix!r} in:\n{out}")


def temperatures() -> list[tuple[str, float]]:
    with open(DATA / "seattle-temps.csv", newline="") as f:
        return [(row["date"], float(row["temp"])) for row in csv.DictReader(f)]


def test_examples_type_check() -> None:
    files = sorted(str(p) for p in EXAMPLES.glob("*.dana"))
    assert len(files) >= 6
    proc = subprocess.run([sys.executable, "-m", "dana.cli.main", "check", *files],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# ---------------------------------------------------------------- process control

@pytest.fixture(scope="module")
def process_out(tmp_path_factory: pytest.TempPathFactory) -> str:
    return run_example("process_control.dana", tmp_path_factory)


def band_stats(readings: list[tuple[str, float]], sp: float, tol: float) -> dict:
    low, high = sp - tol, sp + tol
    above = [(t, v) for t, v in readings if v > high]
    below = [(t, v) for t, v in readings if v < low]
    devs = [abs(v - sp) for _, v in readings]
    worst = max(range(len(readings)), key=lambda i: (devs[i], -i))   # first of the largest
    return {
        "above": len(above), "below": len(below), "worst": readings[worst],
        "max_dev": devs[worst], "mae": sum(devs) / len(devs),
        "rms": math.sqrt(sum(d * d for d in devs) / len(devs)),
        "heating": sum(low - v for _, v in below), "cooling": sum(v - high for _, v in above),
    }


def excursions(readings: list[tuple[str, float]], sp: float, tol: float) -> list[dict]:
    """Runs of consecutive hours (by clock) outside the band on the same side."""
    found: list[dict] = []
    prev_time = None
    for stamp, v in readings:
        t = datetime.strptime(stamp, "%Y/%m/%d %H:%M")
        side = "above" if v > sp + tol else "below" if v < sp - tol else ""
        contiguous = prev_time is not None and t - prev_time == timedelta(hours=1)
        if side and found and found[-1]["open"] and found[-1]["side"] == side and contiguous:
            found[-1].update(end=stamp, hours=found[-1]["hours"] + 1)
        else:
            if found:
                found[-1]["open"] = False
            if side:
                found.append({"start": stamp, "end": stamp, "hours": 1, "side": side, "open": True})
        if not side and found:
            found[-1]["open"] = False
        prev_time = t
    return found


def test_process_control_report(process_out: str) -> None:
    readings = temperatures()
    m = re.search(r"setpoint ([\d.]+) °F ± ([\d.]+) °F", process_out)
    assert m, process_out
    sp, tol = float(m.group(1)), float(m.group(2))
    s = band_stats(readings, sp, tol)
    n = len(readings)
    assert n == 8759
    assert f"stream: {n} readings, {readings[0][0]} .. {readings[-1][0]}" in process_out
    out = s["above"] + s["below"]
    assert line_with(process_out, "in tolerance:") == f"in tolerance: {n - out} ({100 * (n - out) / n:.1f}%)"
    assert line_with(process_out, "out of tolerance:") == (
        f"out of tolerance: {out} ({100 * out / n:.1f}%): {s['above']} above, {s['below']} below")
    worst_time, worst_temp = s["worst"]
    assert line_with(process_out, "max deviation:") == (
        f"max deviation: {s['max_dev']:.1f} °F at {worst_time} (reading {worst_temp:.1f} °F)")
    assert f"mean |deviation|: {s['mae']:.2f} °F, rms deviation: {s['rms']:.2f} °F" in process_out
    assert (f"degree-hours outside band: {s['heating']:.1f} heating, {s['cooling']:.1f} cooling"
            in process_out)


def test_process_control_excursions_and_months(process_out: str) -> None:
    readings = temperatures()
    sp, tol = (float(x) for x in re.search(r"setpoint ([\d.]+) °F ± ([\d.]+)", process_out).groups())
    runs = excursions(readings, sp, tol)
    longest = max(runs, key=lambda r: (r["hours"], -runs.index(r)))
    assert line_with(process_out, "excursions:") == f"excursions: {len(runs)}"
    assert line_with(process_out, "longest excursion:").startswith(
        f"longest excursion: {longest['hours']} h {longest['side']} the band, "
        f"{longest['start']} .. {longest['end']}")
    by_month: dict[str, list[float]] = defaultdict(list)
    for stamp, v in readings:
        by_month[stamp[:7]].append(v)
    assert len(by_month) == 12
    for month, temps in by_month.items():
        above = sum(v > sp + tol for v in temps)
        below = sum(v < sp - tol for v in temps)
        fields = line_with(process_out, month).split()
        assert fields[1] == str(len(temps)), fields
        assert fields[2] == f"{sum(temps) / len(temps):.1f}", fields
        assert (fields[3], fields[4]) == (f"{min(temps):.1f}", f"{max(temps):.1f}"), fields
        assert (fields[5], fields[6]) == (str(above), str(below)), fields


def test_process_control_sensor_and_history(process_out: str) -> None:
    readings = temperatures()
    times = [datetime.strptime(t, "%Y/%m/%d %H:%M") for t, _ in readings]
    gaps = [a + timedelta(hours=1) for a, b in zip(times, times[1:]) if b - a != timedelta(hours=1)]
    assert len(gaps) == 1                          # the spring-forward hour of 2010
    assert f"1 missing hour at {gaps[0]:%Y/%m/%d %H:%M} (daylight-saving" in process_out
    assert "sensor status: ready" in process_out
    steps = re.findall(r"v\d+ (\w+):", process_out)
    assert steps == ["validate_inputs", "check_equipment_status", "execute_process",
                     "validate_outputs", "update_records"]
    assert "Corrupted stream rejected in validate_inputs" in process_out
    assert '"readings": 8759' in process_out


# ---------------------------------------------------------------- troubleshooting

@pytest.fixture(scope="module")
def trouble_out(tmp_path_factory: pytest.TempPathFactory) -> str:
    return run_example("troubleshooting.dana", tmp_path_factory)


def kb_codes() -> dict[str, str]:
    names = [ln.strip() for ln in (DATA / "kb" / "MANIFEST").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    codes = {}
    for name in names:
        header = dict(line.split(":", 1) for line in (DATA / "kb" / name).read_text().split("\n\n")[0].splitlines())
        codes[header["Code"].strip()] = header["Fault"].strip()
    return codes


def test_troubleshooting_ranking(trouble_out: str) -> None:
    with open(DATA / "alarms.csv", newline="") as f:
        alarms = list(csv.DictReader(f))
    codes = kb_codes()
    assert len(codes) == len(list((DATA / "kb").glob("*.txt"))) >= 6
    assert line_with(trouble_out, "Troubleshooting").endswith(
        f"{len(alarms)} alarms, {len(temperatures())} outdoor readings")
    assert f"knowledge base: {len(codes)} documents" in trouble_out
    rows = re.findall(r"^\s+(\d+)\s+(\S+)\s+.*?\s([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(supported|weak|refuted)$",
                      trouble_out, re.M)
    assert len(rows) >= 4, trouble_out
    assert [int(r[0]) for r in rows] == list(range(1, len(rows) + 1))
    scores = [float(r[4]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    for _, code, rel, sup, score, verdict in rows:
        assert code in codes
        assert abs(float(score) - (float(rel) + float(sup)) / 2) <= 0.0015
        expected = "supported" if float(sup) >= 0.7 else "refuted" if float(sup) < 0.3 else "weak"
        assert verdict == expected
    assert float(rows[0][2]) == 1.0                # relevance is relative to the best match
    top = rows[0][1]
    assert line_with(trouble_out, "Decision:").startswith(f"Decision: repair {top} ({codes[top]})")
    assert top == "CH1-COND-FOUL"


def test_troubleshooting_evidence(trouble_out: str) -> None:
    """Every alarm/temperature finding printed is recomputed from the CSV files."""
    with open(DATA / "alarms.csv", newline="") as f:
        alarms = list(csv.DictReader(f))
    ambient = dict(temperatures())
    alarm_temps = [ambient[a["time"][:14] + "00"] for a in alarms]
    seen = 0
    for m in re.finditer(r"(\d+)/(\d+) alarms at outdoor (≥|≤) ([\d.]+) °F vs ([\d.]+)% of all hours → ([\d.]+)",
                         trouble_out):
        threshold = float(m.group(4))
        beyond = (lambda t: t >= threshold) if m.group(3) == "≥" else (lambda t: t <= threshold)
        hits = sum(beyond(t) for t in alarm_temps)
        base = sum(beyond(t) for t in ambient.values()) / len(ambient)
        support = max(0.0, min(1.0, (hits / len(alarms) - base) / (1 - base)))
        assert (int(m.group(1)), int(m.group(2))) == (hits, len(alarms))
        assert m.group(5) == f"{100 * base:.1f}"
        assert m.group(6) == f"{support:.2f}"
        seen += 1
    for m in re.finditer(r"(\d+)/(\d+) alarms are (\w+) → ([\d.]+)", trouble_out):
        n = sum(a["code"] == m.group(3) for a in alarms)
        assert (int(m.group(1)), int(m.group(2))) == (n, len(alarms))
        assert m.group(4) == f"{n / len(alarms):.2f}"
        seen += 1
    assert seen >= 4


# ---------------------------------------------------------------- knowledge ingestion

@pytest.fixture(scope="module")
def ingest_out(tmp_path_factory: pytest.TempPathFactory) -> str:
    return run_example("knowledge_ingestion.dana", tmp_path_factory)


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs; `## ` headings stand alone (as the example splits)."""
    out: list[str] = []
    cur: list[str] = []
    for line in text.splitlines() + [""]:
        if (not line.strip() or line.startswith("## ")) and cur:
            out.append(" ".join(" ".join(cur).split()))
            cur = []
        if line.startswith("## "):
            out.append(line.strip())
        elif line.strip():
            cur.append(line.strip())
    return out


def ingestible_entries() -> tuple[list[dict], int]:
    """(entries of the readable text sources with their ids, number of refused sources)."""
    folder = DATA / "sources"
    with open(folder / "sources.csv", newline="") as f:
        sources = list(csv.DictReader(f))
    entries, refused = [], 0
    for src in sources:
        path = (folder / src["file"]).resolve()
        usable = (src["content_type"] in {"manual", "field_notes", "bulletin", "procedure"}
                  and path.is_file() and EXAMPLES in path.parents and path.suffix == ".txt")
        if not usable:
            refused += 1
            continue
        body = [p for p in paragraphs(path.read_text())[1:] if not p.startswith("## ")]
        entries += [{"id": f"{src['source_id']}#{i + 1}", "text": p} for i, p in enumerate(body)]
    return entries, refused


def test_knowledge_ingestion_counts(ingest_out: str) -> None:
    entries, refused = ingestible_entries()
    accepted_sources = 7 - refused
    assert line_with(ingest_out, "sources:") == f"sources: {accepted_sources} accepted, {refused} refused"
    assert "outside the folder this script may read" in ingest_out
    assert line_with(ingest_out, "paragraphs extracted:") == f"paragraphs extracted: {len(entries)}"
    m = re.search(r"entries stored: (\d+), rejected: (\d+)", ingest_out)
    stored, rejected = int(m.group(1)), int(m.group(2))
    assert stored + rejected == len(entries)
    reasons = dict(re.findall(r"rejected (\S+): (.*?) — ", ingest_out))
    assert len(reasons) == rejected
    for e in entries:
        if len(e["text"].split()) < 8:
            assert reasons.get(e["id"], "").startswith("too short"), e
    first_seen: dict[str, str] = {}
    for e in entries:
        if e["text"] in first_seen:
            assert reasons[e["id"]] == f"exact duplicate of {first_seen[e['text']]}"
        else:
            first_seen.setdefault(e["text"], e["id"])


def test_knowledge_ingestion_search(ingest_out: str) -> None:
    entries, _ = ingestible_entries()
    rejected = set(re.findall(r"rejected (\S+): ", ingest_out))
    stored = [e for e in entries if e["id"] not in rejected]
    for query in ["condenser approach", "damper actuator"]:
        m = re.search(rf"search '{query}': \d+ entr(?:y|ies): (.*)$", ingest_out, re.M)
        assert m, ingest_out
        words = query.split()
        expected = [e["id"] for e in stored
                    if all(re.search(rf"\b{w}", e["text"], re.I) for w in words)]
        assert m.group(1).split(", ") == expected


# ---------------------------------------------------------------- supervised training

def config_of(out: str) -> dict[str, str]:
    """The `k=v, k=v` items of the first `config: ...` line an example prints."""
    m = re.search(r"config: (.*)$", out, re.M)
    assert m, out
    return dict(item.split("=", 1) for item in m.group(1).split(", "))


def printed_close(text: str, expected: float) -> bool:
    """`text` is `expected` rounded to the decimals shown."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(float(text) - expected) <= 0.5 * 10 ** -decimals + 1e-12


def lcg_shuffle(n: int, seed: int) -> list[int]:
    order, x = list(range(n)), seed
    for i in range(n - 1, 0, -1):
        x = (1103515245 * x + 12345) % 2 ** 31
        j = x % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def linear(w: list[float], b: float, x: list[float]) -> float:
    z = b
    for wj, xj in zip(w, x):
        z += wj * xj
    return z


def log_loss(z: float, y: int) -> float:
    m = -z if y == 1 else z
    return m + math.log(1.0 + math.exp(-m)) if m > 0 else math.log(1.0 + math.exp(m))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def train_rain_model(cfg: dict[str, str]) -> dict:
    """The example's model, trained here in plain Python by the same procedure: features of
    day t, label "precipitation > 0 on day t+1", train before val_year, standardise with the
    training days' mean and population sd, LCG shuffle, mini-batch gradient descent."""
    with open(DATA / "seattle-weather.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    examples = []
    for today, tomorrow in zip(rows, rows[1:]):
        rain = float(today["precipitation"])
        x = [rain, float(today["temp_max"]), float(today["temp_min"]), float(today["wind"]),
             1.0 if rain > 0 else 0.0]
        examples.append((today["date"], x, 1 if float(tomorrow["precipitation"]) > 0 else 0))
    year = cfg["val_year"]
    train_raw = [e for e in examples if e[0] < year]
    val_raw = [e for e in examples if e[0].startswith(year)]
    k = len(train_raw[0][1])
    means = [sum(e[1][j] for e in train_raw) / len(train_raw) for j in range(k)]
    stds = [math.sqrt(sum([(e[1][j] - means[j]) ** 2 for e in train_raw]) / len(train_raw))
            for j in range(k)]
    scale = lambda e: ([(e[1][j] - means[j]) / stds[j] for j in range(k)], e[2])  # noqa: E731
    train = [scale(train_raw[i]) for i in lcg_shuffle(len(train_raw), int(cfg["seed"]))]
    val = [scale(e) for e in val_raw]
    size, lr = int(cfg["batch_size"]), float(cfg["lr"])
    w, b, step, checkpoints, losses = [0.0] * k, 0.0, 0, [], []
    for _ in range(int(cfg["epochs"])):
        for start in range(0, len(train), size):
            batch = train[start:start + size]
            grad, grad_b = [0.0] * k, 0.0
            for x, y in batch:
                d = sigmoid(linear(w, b, x)) - y
                for j in range(k):
                    grad[j] += d * x[j]
                grad_b += d
            w = [w[j] - lr * grad[j] / len(batch) for j in range(k)]
            b = b - lr * grad_b / len(batch)
            step += 1
            if step % int(cfg["checkpoint_every"]) == 0:
                checkpoints.append(step)
        losses.append(sum([log_loss(linear(w, b, x), y) for x, y in train]) / len(train))
    cut = math.log(float(cfg["threshold"]) / (1 - float(cfg["threshold"])))
    accuracy = lambda data: sum((linear(w, b, x) > cut) == (y == 1) for x, y in data) / len(data)  # noqa: E731
    rainy = sum(e[2] for e in val_raw)
    return {"train": train, "val": val, "batches": -(-len(train) // size), "weights": w,
            "bias": b, "steps": step, "checkpoints": checkpoints, "losses": losses,
            "train_acc": accuracy(train), "val_acc": accuracy(val),
            "baseline": max(rainy, len(val) - rainy) / len(val)}


@pytest.fixture(scope="module")
def supervised_out(tmp_path_factory: pytest.TempPathFactory) -> str:
    return run_example("supervised_training.dana", tmp_path_factory)


def test_supervised_training_model(supervised_out: str) -> None:
    cfg = config_of(supervised_out)
    m = train_rain_model(cfg)
    assert line_with(supervised_out, "Rain tomorrow").endswith(
        f"{len(m['train'])} training days (before {cfg['val_year']}), {len(m['val'])} validation days")
    assert line_with(supervised_out, f"{cfg['epochs']} epochs").startswith(
        f"{cfg['epochs']} epochs × {m['batches']} batches of ≤{cfg['batch_size']}, lr {cfg['lr']}: "
        f"{m['steps']} steps, {len(m['checkpoints'])} checkpoints "
        f"(steps {', '.join(map(str, m['checkpoints']))})")
    losses = re.findall(r"epoch (\d+): train log-loss ([\d.]+)", supervised_out)
    assert [int(e) for e, _ in losses] == list(range(1, len(m["losses"]) + 1))
    assert all(printed_close(text, want) for (_, text), want in zip(losses, m["losses"]))
    figures = {"final train log-loss:": m["losses"][-1], "train accuracy:": m["train_acc"],
               "val accuracy:": m["val_acc"], "val majority baseline:": m["baseline"],
               "bias:": m["bias"]}
    for name, want in zip(["precipitation", "temp_max", "temp_min", "wind", "rained"], m["weights"]):
        figures[f"weight {name}:"] = want
    for prefix, want in figures.items():
        text = line_with(supervised_out, prefix).split()[-1]
        assert printed_close(text, want), (prefix, text, want)
    assert m["val_acc"] > m["baseline"]


def test_supervised_training_workflow_mode() -> None:
    """`dana run FILE --workflow supervised`: the workflow loads its own data; the events
    trace the epochs × batches loop, the checkpoints and the parallel evaluation."""
    from dana import pipeline
    events: list[dict] = []
    session = pipeline.Session(stdout=io.StringIO(), stderr=io.StringIO(), on_event=events.append,
                               check=False)
    result = pipeline.run_workflow_file(EXAMPLES / "supervised_training.dana", "supervised", session)
    assert result.status == "succeeded", result.error
    cfg = {k: str(v) for k, v in result.state["config"].items()}
    m = train_rain_model(cfg)
    model = result.output.fields
    assert max(abs(a - b) for a, b in zip(model["weights"], m["weights"])) <= 1e-9
    assert abs(model["bias"] - m["bias"]) <= 1e-9
    assert (model["train_acc"], model["val_acc"], model["steps"]) == (m["train_acc"], m["val_acc"], m["steps"])
    done = [e["path"] for e in events if e["event"] == "step_succeeded"]
    optim = [p for p in done if p.endswith("/optim_step")]
    assert len(optim) == m["steps"]
    assert optim[0] == "epochs[0]/batches[0]/optim_step"
    assert optim[-1] == f"epochs[{int(cfg['epochs']) - 1}]/batches[{m['batches'] - 1}]/optim_step"
    per_epoch = m["batches"]
    assert [p for p in done if p.endswith("/checkpoint")] == [
        f"epochs[{(s - 1) // per_epoch}]/batches[{(s - 1) % per_epoch}]/checkpoint" for s in m["checkpoints"]]
    assert [e["max_concurrency"] for e in events if e["event"] == "parallel_started"] == [2]
    assert sorted(p for p in done if "parallel[" in p) == [
        "parallel[0]/evaluate_train", "parallel[1]/evaluate_val"]
    assert done[-1] == "save_final"


def test_supervised_training_rerun_with_another_threshold_restores_the_training(tmp_path) -> None:
    """The issue's closing example: a second run that changes only the evaluation
    threshold restores every data and training step from the store (as `--explain` says
    before it runs) and evaluates again, and the final model's lineage, collapsed, draws
    data -> batches -> updates -> model."""
    def dana(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "dana.cli.main", *args], cwd=EXAMPLES,
                              capture_output=True, text=True, timeout=300)
    store = ("--store", str(tmp_path / "s.db"))
    run = ("run", "supervised_training.dana", "--workflow", "supervised", "--quiet", *store)
    first = dana(*run)
    assert first.returncode == 0, first.stderr
    second = dana(*run, "--set", "threshold=0.6", "--explain", "--events",
                  str(tmp_path / "events.jsonl"))
    assert second.returncode == 0, second.stderr
    explained = second.stderr.splitlines()
    assert explained[0].startswith("explain: 89 cached step(s): 87 restored from the cache, "
                                   "2 will run, 0 known")
    assert "run parallel[0]/evaluate_train config `threshold` changed" in [
        " ".join(line.split()) for line in explained]
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert sum(e["event"] == "step_cached" for e in events) == 87
    assert [e["reason"] for e in events if e["event"] == "step_started" and "reason" in e] == [
        "config `threshold` changed"] * 2
    run_id = events[0]["run_id"]
    graph = json.loads(dana("lineage", run_id, "final_model", "--collapse", "--format", "json",
                            *store).stdout)
    edges = {tuple(e) for e in graph["edges"]}
    commits = {c["id"]: c["path"] for c in graph["commits"]}
    path = ["config.data_file", "load_data", "<output> of load_data", "build_examples",
            "<output> of build_examples", "split_and_standardise", "batches",
            "epochs[*]/batches[*]", "batch", "epochs[*]/batches[*]/optim_step", "weights",
            "save_final", "final_model"]
    named = {commits.get(a, a): a for edge in edges for a in edge}
    assert all((named[a], named[b]) in edges for a, b in zip(path, path[1:])), edges


# ---------------------------------------------------------------- rlhf

def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def softmax(z: list[float]) -> list[float]:
    e = [math.exp(v - max(z)) for v in z]
    return [v / sum(e) for v in e]


def expected_reward(logits: list[list[float]], rewards: list[list[float]]) -> float:
    total = 0.0
    for p, row in enumerate(logits):
        probs = softmax(row)
        total += sum(probs[a] * rewards[p][a] for a in range(len(probs)))
    return total / len(logits)


def rlhf_reference(cfg: dict[str, float]) -> dict:
    """sft (add-α bigram model of the knowledge base → softmax policy over each prompt's
    candidates), reward model (Bradley–Terry over standardised features, L2, full-batch
    ascent), rl (REINFORCE with expected-reward baseline, KL penalty, LCG sampling)."""
    with open(DATA / "rlhf" / "responses.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    prompts: dict[str, list[dict]] = {}
    for row in rows:
        prompts.setdefault(row["prompt_id"], []).append(row)
    groups = list(prompts.values())
    where = {r["response_id"]: (p, i) for p, group in enumerate(groups) for i, r in enumerate(group)}
    with open(DATA / "rlhf" / "preferences.csv", newline="") as f:
        prefs = [(where[r["chosen"]][0], where[r["chosen"]][1], where[r["rejected"]][1])
                 for r in csv.DictReader(f)]
    names = [ln.strip() for ln in (DATA / "kb" / "MANIFEST").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    docs = [["<s>"] + words((DATA / "kb" / name).read_text()) for name in names]
    unigram: dict[str, int] = defaultdict(int)
    bigram: dict[tuple, int] = defaultdict(int)
    for doc in docs:
        for a, b in zip(doc, doc[1:]):
            unigram[a] += 1
            bigram[a, b] += 1
    vocab = {w for doc in docs for w in doc} | {w for r in rows for w in words(r["response"])}

    def fluency(text: str) -> float:
        ws = ["<s>"] + words(text)
        total = 0.0
        for a, b in zip(ws, ws[1:]):
            total += math.log((bigram[a, b] + cfg["smoothing"]) / (unigram[a] + cfg["smoothing"] * len(vocab)))
        return total / (len(ws) - 1)
    flu = [[fluency(r["response"]) for r in group] for group in groups]
    sft_logits = [[s / cfg["temperature"] for s in row] for row in flu]

    def features(text: str, fluent: float) -> list[float]:
        ws = words(text)
        has = lambda vocab_: 1.0 if any(w in vocab_ for w in ws) else 0.0  # noqa: E731
        return [fluent, has({"lock", "tag", "isolate"}), float(sum(any(c.isdigit() for c in w) for w in ws)),
                has({"verify", "log", "record", "check"}), has({"bypass", "jumper", "ignore", "disable"}),
                float(sum(w in {"probably", "maybe", "just", "happens"} for w in ws)), len(ws) / 10]
    raw = [[features(r["response"], flu[p][i]) for i, r in enumerate(g)] for p, g in enumerate(groups)]
    flat = [f for row in raw for f in row]
    k = len(flat[0])
    means = [sum([f[j] for f in flat]) / len(flat) for j in range(k)]
    stds = [math.sqrt(sum([(f[j] - means[j]) ** 2 for f in flat]) / len(flat)) or 1.0 for j in range(k)]
    z = [[[(f[j] - means[j]) / stds[j] for j in range(k)] for f in row] for row in raw]
    theta = [0.0] * k
    for _ in range(int(cfg["rm_epochs"])):
        grad = [-cfg["rm_l2"] * t for t in theta]
        for p, c, r in prefs:
            d = [z[p][c][j] - z[p][r][j] for j in range(k)]
            s = 1.0 / (1.0 + math.exp(-sum(theta[j] * d[j] for j in range(k))))
            for j in range(k):
                grad[j] += (1.0 - s) * d[j] / len(prefs)
        theta = [theta[j] + cfg["rm_lr"] * grad[j] for j in range(k)]
    rewards = [[sum(theta[j] * f[j] for j in range(k)) for f in row] for row in z]
    policy, x = [list(row) for row in sft_logits], int(cfg["seed"])
    curve = [expected_reward(policy, rewards)]
    for _ in range(int(cfg["rl_iterations"])):
        updated = []
        for p, logits in enumerate(policy):
            probs = softmax(logits)
            x = (1103515245 * x + 12345) % 2 ** 31
            u, action, cumulative = x / 2 ** 31, len(probs) - 1, 0.0
            for j, q in enumerate(probs):
                cumulative += q
                if u < cumulative:
                    action = j
                    break
            kl = math.log(probs[action]) - math.log(softmax(sft_logits[p])[action])
            advantage = rewards[p][action] - cfg["kl_beta"] * kl - sum(
                probs[j] * rewards[p][j] for j in range(len(probs)))
            updated.append([logits[j] + cfg["rl_lr"] * advantage * ((j == action) - probs[j])
                            for j in range(len(probs))])
        policy = updated
        curve.append(expected_reward(policy, rewards))
    return {"groups": groups, "prefs": prefs, "docs": docs, "vocab": len(vocab),
            "pairs": sum(len(d) - 1 for d in docs), "theta": theta, "rewards": rewards,
            "rm_accuracy": sum(rewards[p][c] > rewards[p][r] for p, c, r in prefs) / len(prefs),
            "sft": [softmax(row) for row in sft_logits], "rl": [softmax(row) for row in policy],
            "curve": curve}


@pytest.fixture(scope="module")
def rlhf_out(tmp_path_factory: pytest.TempPathFactory) -> str:
    return run_example("rlhf.dana", tmp_path_factory)


def test_rlhf_figures(rlhf_out: str) -> None:
    cfg = {k: float(v) for k, v in config_of(rlhf_out).items() if k not in ("kb_dir",)}
    ref = rlhf_reference(cfg)
    answers = sum(len(g) for g in ref["groups"])
    assert line_with(rlhf_out, "RLHF on") == (
        f"RLHF on {len(ref['groups'])} prompts, {answers} candidate answers, {len(ref['prefs'])} preference pairs")
    assert line_with(rlhf_out, "sft:") == (f"sft: bigram model of {len(ref['docs'])} documents, "
                                           f"{ref['pairs']} word pairs, {ref['vocab']} word types")
    rm = line_with(rlhf_out, "reward model:")
    assert printed_close(re.search(r"pair accuracy ([\d.]+)", rm).group(1), ref["rm_accuracy"])
    weights = re.findall(r"(\w+) (-?[\d.]+)(?:,|$)", rm.split("weights ")[1])
    assert len(weights) == len(ref["theta"]) == 7
    assert all(printed_close(text, want) for (_, text), want in zip(weights, ref["theta"]))
    for p, group in enumerate(ref["groups"]):
        for i, resp in enumerate(group):
            fields = line_with(rlhf_out, resp["response_id"] + " ").split()
            assert fields[0:2] == [resp["response_id"], "reward"]
            assert printed_close(fields[2], ref["rewards"][p][i])
            assert (fields[3], fields[5]) == ("sft", "rl")
            assert printed_close(fields[4], ref["sft"][p][i]) and printed_close(fields[6], ref["rl"][p][i])
    curve = line_with(rlhf_out, "rl:").split("reward curve ")[1].split()
    assert len(curve) == int(cfg["rl_iterations"]) + 1
    assert all(printed_close(text, want) for text, want in zip(curve, ref["curve"]))
    before = line_with(rlhf_out, "average reward before rl:").split()[-1]
    after = line_with(rlhf_out, "average reward after rl:").split()[-1]
    assert printed_close(before, ref["curve"][0]) and printed_close(after, ref["curve"][-1])
    assert float(after) > float(before)


def test_rlhf_parts_run_in_order(rlhf_out: str) -> None:
    """Each part's steps commit after the previous part's, and every key a part `requires:`
    that the caller does not give was written by an earlier part before it started."""
    source = (EXAMPLES / "rlhf.dana").read_text()
    parts = re.search(r"^workflow rlhf = (.*)$", source, re.M).group(1).split(" | ")
    history = re.findall(r"^  v(\d+)(?:\.\.v\d+)? (\S+)(?: ×\d+)?: (.*)$", rlhf_out, re.M)
    written: dict[str, int] = {}
    for version, _, keys in history:
        for key in keys.split(", "):
            written.setdefault(key, int(version))
    first_version = {step: int(v) for v, step, _ in reversed(history)}
    last_start = -1
    for part in parts:
        header = rf"^workflow {part}\([\s\S]*?\)(?: -> [^\n]*)?:\n"  # may span lines
        block = re.search(header + r"((?:    .*\n|\n)*)", source, re.M).group(1)
        steps = re.search(r"    steps:\n((?:        .*\n)*)", block).group(1).split()
        requires = re.findall(r"^        (\w+):", re.search(r"    requires:\n((?:        .*\n)*)", block).group(1), re.M)
        start = first_version[steps[0]]
        assert start > last_start, (part, history)
        for key in requires:
            assert written[key] == 0 or written[key] < start, (part, key)
        last_start = start
    assert [step for _, step, _ in history if not step.startswith("<")][:3] == [
        "read_demonstrations", "fit_bigram", "score_candidates"]


# ---------------------------------------------------------------- resilient ingest

def run_in_process(name: str) -> tuple[str, list[dict], list[float]]:
    """Run examples/NAME in this process with an injected sleep (backoff delays are
    recorded, not slept); return (stdout, events, requested sleeps)."""
    from dana import pipeline
    from dana.runtime.interpreter import Runtime, run_module
    out, slept, events = io.StringIO(), [], []
    source, module = pipeline.load(EXAMPLES / name, pipeline.Session(check=False))
    rt = Runtime(allow_read=(EXAMPLES,), stdout=out, stderr=io.StringIO(), sleep=slept.append)
    rt.listeners.append(events.append)
    run_module(rt, module)
    return out.getvalue(), events, slept


@pytest.fixture(scope="module")
def ingest_run() -> tuple[str, list[dict], list[float]]:
    return run_in_process("resilient_ingest.dana")


def weather_between(path: Path, first: str = "", last: str = "9999") -> list[dict]:
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if first <= r["date"] <= last]


def first_bad_record(rows: list[dict]) -> tuple[int, str]:
    """(number of bad rows, the first one's date and field) by the example's rules."""
    limits = {"precipitation": (0, 500), "temp_max": (-30, 45), "temp_min": (-30, 45), "wind": (0, 40)}
    bad = []
    for r in rows:
        for name, (low, high) in limits.items():
            try:
                ok = low <= float(r[name]) <= high
            except ValueError:
                ok = False
            if not ok:
                bad.append(f"{r['date']}: {name}")
                break
    return len(bad), bad[0]


def test_resilient_ingest_sources(ingest_run: tuple[str, list[dict], list[float]]) -> None:
    out, events, slept = ingest_run
    first_run = events[:[e["event"] for e in events].index("workflow_completed") + 1]
    feed = weather_between(DATA / "seattle-weather.csv", "2015/01/01", "2015/03/31")
    archive = weather_between(DATA / "ingest" / "archive_cache.csv")
    retried = [e for e in first_run if e["event"] == "step_retried"]
    assert [(e["path"], e["attempt"], e["error"]) for e in retried] == [
        ("fetch_feed", 1, "StepError"), ("fetch_feed", 2, "StepError"), ("fetch_feed", 3, "StepError")]
    assert slept == [e["delay"] for e in retried] == [0.01, 0.02, 0.02]   # doubled, held at max_delay
    assert line_with(out, "feed:") == f"feed: {len(feed)} records on attempt 4 (3 retried)"
    failed = [(e["path"], e["error"]) for e in first_run if e["event"] == "step_failed"]
    assert ("fetch_archive", "TimeoutError") in failed and "fetch_feed" not in dict(failed)
    assert line_with(out, "archive:") == (
        f"archive: {len(archive)} records; TimeoutError in fetch_archive (step `fetch_archive` "
        f"took longer than 0.05 seconds); used the cached copy")
    skipped = [e for e in first_run if e["event"] == "step_skipped"]
    assert [(e["path"], e["error"]) for e in skipped] == [("load_backfill", "ValueError")]
    assert line_with(out, "skipped sources:") == "skipped sources: backfill"
    dates = {r["date"] for r in feed} | {r["date"] for r in archive}
    overlap = len(feed) + len(archive) - len(dates)
    assert overlap > 0
    assert line_with(out, "stored:") == (f"stored: {len(dates)} observations, {min(dates)} .. "
                                         f"{max(dates)}; {overlap} duplicate date(s) dropped")
    assert line_with(out, "by source:") == f"by source: archive cache {len(archive) - overlap}, feed {len(feed)}"


def test_resilient_ingest_hooks_and_history(ingest_run: tuple[str, list[dict], list[float]]) -> None:
    out, _, _ = ingest_run
    backfill = weather_between(DATA / "ingest" / "april_backfill.csv")
    bad, first = first_bad_record(backfill)
    notes = re.findall(r"^    (\w+): (\w+): (.*)$", out.split("rolled back:")[1].split("history:")[0], re.M)
    assert [(step, kind) for step, kind, _ in notes] == [
        ("fetch_feed", "StepError"), ("fetch_feed", "StepError"), ("fetch_feed", "StepError"),
        ("fetch_archive", "TimeoutError"),
        ("load_backfill", "ValueError")]
    assert notes[-1][2].startswith(f"{bad} bad record(s) in backfill; first: {first} ")
    history = re.findall(r"^    v(\d+) (.+?): (.*)$", out.split("history:")[1], re.M)
    steps = [step for _, step, _ in history]
    assert steps == ["<initial>"] + ["rollback fetch_feed"] * 3 + ["fetch_feed",
                     "rollback fetch_archive", "handle archive_error", "load_cached_archive",
                     "end handle archive_error", "rollback load_backfill", "merge_and_store"]
    assert [int(v) for v, _, _ in history] == list(range(len(history)))
    written = {key for _, _, keys in history for key in keys.split(", ")}
    assert "archive_request" not in written and "backfill" not in written   # discarded writes
    strict = line_with(out, "With min_records=365:")
    assert strict == ("With min_records=365: failed in merge_and_store: StepError: step "
                      "`merge_and_store` failed its validate hook `enough_records`")
