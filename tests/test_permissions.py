"""Permissions (docs/cli.md "Permissions"): what `dana run` and an embedding
host let a program read, write and see of the environment, and atomic writes. Denials of
each kind also have golden tests in tests/golden/hostile/permissions/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import dana
from dana.cli.main import main
from dana.runtime import files


def run(tmp_path: Path, source: str, *flags: str) -> int:
    script = tmp_path / "app" / "main.dana"
    script.parent.mkdir(exist_ok=True)
    script.write_text(source, encoding="utf-8")
    return main(["run", "--quiet", *flags, str(script)])


def test_default_allows_writing_under_the_script_folder(tmp_path: Path, capsys) -> None:
    code = run(tmp_path, 'write_text("out/../result.txt", "one\\n")\n'
                         'append_text("result.txt", "two\\n")\n'
                         'print(read_text("result.txt"))\n')
    assert code == 0
    assert (tmp_path / "app" / "result.txt").read_text() == "one\ntwo\n"
    assert capsys.readouterr().out == "one\ntwo\n\n"


def test_default_refuses_writing_elsewhere(tmp_path: Path, capsys) -> None:
    assert run(tmp_path, 'write_text("../escaped.txt", "x")\n') == 1
    err = capsys.readouterr().err
    assert f"(resolved: {tmp_path / 'escaped.txt'})" in err
    assert f"--allow-write {tmp_path / 'escaped.txt'}" in err
    assert not (tmp_path / "escaped.txt").exists()


def test_allow_write_widens(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    out.mkdir()
    assert run(tmp_path, f'write_text("{out}/x.txt", "x")\n', "--allow-write", str(out)) == 0
    assert (out / "x.txt").read_text() == "x"


def test_allow_read_widens(tmp_path: Path, capsys) -> None:
    (tmp_path / "data.txt").write_text("outside")
    assert run(tmp_path, 'print(read_text("../data.txt"))\n') == 1
    assert run(tmp_path, 'print(read_text("../data.txt"))\n', "--allow-read",
               str(tmp_path / "data.txt")) == 0
    assert capsys.readouterr().out == "outside\n"


def test_a_symlink_out_of_the_folder_is_resolved_before_the_check(tmp_path: Path,
                                                                     capsys) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "link.txt").symlink_to(secret)
    assert run(tmp_path, 'print(read_text("link.txt"))\n') == 1
    assert f"(resolved: {secret})" in capsys.readouterr().err


def test_sandbox_refuses_writes_even_under_the_folder(tmp_path: Path, capsys) -> None:
    assert run(tmp_path, 'write_text("x.txt", "x")\n', "--sandbox") == 1
    assert "PermissionError: writing 'x.txt'" in capsys.readouterr().err
    assert not (tmp_path / "app" / "x.txt").exists()


def test_sandbox_still_reads_under_the_folder(tmp_path: Path, capsys) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "in.txt").write_text("hi")
    assert run(tmp_path, 'print(read_text("in.txt"))\n', "--sandbox") == 0
    assert capsys.readouterr().out == "hi\n"


def test_environment_needs_allow_env(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("DANA_TEST_VALUE", "42")
    source = 'print(getenv("DANA_TEST_VALUE"), getenv("DANA_TEST_MISSING", "none"))\n'
    assert run(tmp_path, source) == 1
    assert "--allow-env DANA_TEST_VALUE" in capsys.readouterr().err
    assert run(tmp_path, source, "--allow-env", "DANA_TEST_VALUE",
               "--allow-env", "DANA_TEST_MISSING") == 0
    assert capsys.readouterr().out == "42 none\n"


def test_embedding_permissions(tmp_path: Path) -> None:
    interp = dana.Interpreter(permissions=dana.Permissions(read=[tmp_path], write=[tmp_path],
                                                           env=["HOME"]))
    interp.exec(f'write_text("{tmp_path}/a.txt", "a")')
    assert interp.eval(f'read_text("{tmp_path}/a.txt")') == "a"
    with pytest.raises(dana.DanaRuntimeError, match="Permissions\\(write=") as info:
        dana.Interpreter().exec(f'write_text("{tmp_path}/b.txt", "b")')
    assert info.value.dana_type == "PermissionError"


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old report\n")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk unplugged")
    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError):
        files.write_atomic(target, "new report that never lands\n")
    assert target.read_text() == "old report\n"
    assert os.listdir(tmp_path) == ["report.txt"]  # no temporary file left behind


def test_a_write_keeps_the_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "run.sh"
    target.write_text("old")
    target.chmod(0o750)
    files.append_atomic(target, "+new")
    assert target.read_text() == "old+new"
    assert target.stat().st_mode & 0o777 == 0o750


def test_stdlib_writers(tmp_path: Path, capsys) -> None:
    source = ('import csv\nimport json\n'
              'csv.write_rows("rows.csv", [{"a": 1, "b": "x,y"}, {"a": 2, "b": "z"}])\n'
              'json.write("data.json", {"k": [1, 2]}, pretty=True)\n'
              'print(csv.read_rows("rows.csv"))\n'
              'print(json.loads(read_text("data.json")))\n')
    assert run(tmp_path, source) == 0
    assert (tmp_path / "app" / "rows.csv").read_text() == 'a,b\n1,"x,y"\n2,z\n'
    assert capsys.readouterr().out == ("[{'a': '1', 'b': 'x,y'}, {'a': '2', 'b': 'z'}]\n"
                                       "{'k': [1, 2]}\n")


def _append_lines(path: str, tag: str, count: int) -> None:
    for i in range(count):
        files.append_atomic(Path(path), f"{tag} {i}\n")


def test_concurrent_appends_keep_every_line(tmp_path: Path) -> None:
    """Branches of a `parallel for` (threads) and workers (processes) appending to one file:
    each append stays atomic and none is lost."""
    import multiprocessing
    import threading
    target = tmp_path / "log.txt"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_lines, args=(str(target), f"p{n}", 40))
               for n in range(2)]
    workers += [threading.Thread(target=_append_lines, args=(str(target), f"t{n}", 40))
                for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    lines = target.read_text().splitlines()
    assert sorted(lines) == sorted(f"{tag} {i}" for tag in ("p0", "p1", "t0", "t1", "t2")
                                   for i in range(40))
    assert [p.name for p in tmp_path.iterdir()] == ["log.txt"]
