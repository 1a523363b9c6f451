"""The three KNOWS examples run end to end through `dana run` and report what the data says.

Each example is run once as a subprocess (`python -m dana.cli.main run FILE`). The figures it
prints are checked against the same figures computed here, independently, with Python's csv
module from the same shipped files: nothing below is a number copied from an example's output.
"""

from __future__ import annotations

import csv
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
    assert len(files) >= 3
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
