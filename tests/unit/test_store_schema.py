"""The run store's schema migrations (docs/store.md "Schema"): a store written by an older
Dana opens in a newer one with its runs, versions and lineage intact; a newer store is
refused."""

import json
import sqlite3

import pytest

from dana.store.codec import encode
from dana.store.lineage import trace
from dana.store.runs import Provenance, RunStart, RunStore, VersionRow
from dana.store.schema import MIGRATIONS, SCHEMA_VERSION, StoreError, _statements


def v2_store(path) -> None:
    """A store as Dana wrote it at schema 2: run `r1` (finished, three versions, the last
    one a cache hit) with its lineage rows in the `lineage` table."""
    db = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:2]:
        for statement in _statements(script):
            db.execute(statement)
    db.execute("PRAGMA user_version = 2")
    blob = encode(0)
    db.execute("INSERT INTO runs (id, workflow, version, source, entry, template_hash, code, "
               "config, initial, encoding, status, started_at, ended_at, heartbeat_at, pid, "
               "last_version, last_path) VALUES ('r1','w','1.0','w.dana','workflow','h',?,?,?,"
               "1,'succeeded',100.0,110.0,109.0,1,2,'build')", (blob, blob, blob))
    for version, step, keys, when in ((0, "<initial>", '["rows"]', 100.0),
                                      (1, "load", '["rows"]', 101.0),
                                      (2, "build", '["model"]', 109.0)):
        db.execute("INSERT INTO versions VALUES ('r1',?,?,?,?,1,?,0.5,NULL)",
                   (version, step, step if version else "", keys, when))
        for key in json.loads(keys):
            db.execute("INSERT INTO changes VALUES ('r1',?,?,?)", (key, version, blob))
    db.execute("INSERT INTO lineage VALUES ('r1',1,'c1','[\"rows@0\"]','step',NULL,NULL,'')")
    db.execute("INSERT INTO lineage VALUES ('r1',2,'c2','[\"rows@1\"]','cache','r0',4,'')")
    db.close()


def test_a_schema_2_store_migrates_with_its_lineage(tmp_path):
    v2_store(tmp_path / "old.db")
    store = RunStore(tmp_path / "old.db")
    assert store.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION == 3
    row = store.get("r1")
    assert (row.last_version, row.last_path, row.heartbeat_at) == (2, "build", 109.0)
    provenance = store.provenance("r1")
    assert provenance[1] == Provenance("c1", ("rows@0",), "step")
    assert provenance[2] == Provenance("c2", ("rows@1",), "cache", "r0", 4)
    graph = trace(store, "r1", "model")
    assert graph.edges == [("v2", "model@2"), ("rows@1", "v2"), ("v1", "rows@1"),
                           ("rows@0", "v1"), ("v0", "rows@0")]
    assert not store.query("SELECT name FROM sqlite_master WHERE name = 'lineage'")
    assert store.integrity() == "ok"


def test_a_run_in_a_migrated_store_goes_on_recording(tmp_path):
    v2_store(tmp_path / "old.db")
    store = RunStore(tmp_path / "old.db")
    store.begin_run(RunStart("r2", "w", "1.0", None, "workflow", "h", encode({}), encode({}),
                             encode({}), {"n": encode(0)}))
    store.commit_version("r2", VersionRow(1, "bump", "bump", ("n",), 1, 200.0, 0.1, None),
                         {"n": encode(1)}, Provenance("c", ("n@0",), "step"))
    assert (store.get("r2").last_version, store.get("r2").last_path) == (1, "bump")
    assert store.provenance("r2")[0].origin == "initial"
    assert store.runs()[0].last_version == 1


def test_a_store_from_a_newer_dana_is_refused(tmp_path):
    db = sqlite3.connect(tmp_path / "new.db")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this Dana's"):
        RunStore(tmp_path / "new.db")
