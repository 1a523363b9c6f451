"""`dana.config`: workflow inputs from YAML/TOML/JSON files, `${VAR}` and `--set` (docs/cli.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dana.config import apply_override, load_config, load_data_file, origin, parse_value
from dana.diagnostics import render_error
from dana.errors import UsageError

SAME_CONFIG = {
    "cfg.yaml": "lr: 0.1\nepochs: 3\nname: run-1\ntags: [a, b]\nopt:\n  momentum: 0.9\n",
    "cfg.yml": "lr: 0.1\nepochs: 3\nname: run-1\ntags:\n  - a\n  - b\nopt: {momentum: 0.9}\n",
    "cfg.toml": 'lr = 0.1\nepochs = 3\nname = "run-1"\ntags = ["a", "b"]\n\n'
                "[opt]\nmomentum = 0.9\n",
    "cfg.json": '{"lr": 0.1, "epochs": 3, "name": "run-1", "tags": ["a", "b"], '
                '"opt": {"momentum": 0.9}}\n',
}
EXPECTED = {"lr": 0.1, "epochs": 3, "name": "run-1", "tags": ["a", "b"],
            "opt": {"momentum": 0.9}}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def usage_error(fn, *args, **kwargs) -> tuple[UsageError, str]:
    with pytest.raises(UsageError) as info:
        fn(*args, **kwargs)
    return info.value, render_error(info.value)


@pytest.mark.parametrize("name", sorted(SAME_CONFIG))
def test_every_format_loads_the_same_mapping(tmp_path, name):
    assert load_config(write(tmp_path, name, SAME_CONFIG[name])) == EXPECTED


def test_yaml_scalars_follow_yaml_1_2_not_1_1(tmp_path):
    cfg = write(tmp_path, "c.yaml", "country: NO\nflag: yes\non: off\nport: 010\n"
                                    "day: 2024-01-31\nduration: 1:30\nbig: 1e3\nhex: 0x1F\n"
                                    "ok: true\nnothing: null\n")
    assert load_config(cfg) == {"country": "NO", "flag": "yes", "on": "off", "port": 10,
                                "day": "2024-01-31", "duration": "1:30", "big": 1000.0,
                                "hex": 31, "ok": True, "nothing": None}


def test_toml_dates_become_iso_strings(tmp_path):
    cfg = write(tmp_path, "c.toml", "day = 2024-01-31\nat = 2024-01-31T08:30:00Z\n")
    assert load_config(cfg) == {"day": "2024-01-31", "at": "2024-01-31T08:30:00+00:00"}


def test_an_empty_yaml_file_is_an_empty_mapping(tmp_path):
    assert load_config(write(tmp_path, "c.yaml", "# nothing yet\n")) == {}


def test_env_references_are_substituted_in_strings(tmp_path):
    cfg = write(tmp_path, "c.yaml", 'out: "${HOME_DIR}/runs/${RUN}"\nlr: ${LR}\n'
                                    "epochs: ${EPOCHS:-10}\nmode: ${MODE:-fast}\n"
                                    "literal: $${NOT_A_VAR}\nprice: $5\n"
                                    "nested:\n  - ${RUN}\n")
    env = {"HOME_DIR": "/data", "RUN": "7", "LR": "0.05", "MODE": ""}
    assert load_config(cfg, env=env) == {
        "out": "/data/runs/7", "lr": 0.05, "epochs": 10, "mode": "fast",
        "literal": "${NOT_A_VAR}", "price": "$5", "nested": [7]}


def test_env_substitution_in_toml_and_json(tmp_path):
    env = {"WHO": "ada"}
    toml = write(tmp_path, "c.toml", 'name = "hi ${WHO}"\n')
    json_ = write(tmp_path, "c.json", '{"name": "hi ${WHO}"}')
    assert load_config(toml, env=env) == load_config(json_, env=env) == {"name": "hi ada"}


def test_unset_variable_names_the_variable_the_file_and_the_line(tmp_path):
    cfg = write(tmp_path, "c.yaml", "lr: 0.1\ndata: ${DATA_DIR}/train.csv\n")
    err, text = usage_error(load_config, cfg, env={})
    assert err.code == "E0604"
    assert text.startswith(f"{cfg}:2:7: error[E0604]: environment variable `DATA_DIR` is "
                           f"not set (used in config file {cfg})")
    assert "2 | data: ${DATA_DIR}/train.csv\n  |       ^^^^^^^^^^^" in text
    assert "${DATA_DIR:-value}" in text  # the note suggests a default


def test_malformed_reference_is_an_error(tmp_path):
    cfg = write(tmp_path, "c.yaml", "x: ${1BAD}\n")
    err, text = usage_error(load_config, cfg, env={})
    assert err.code == "E0604" and "malformed variable reference `${1BAD}`" in text


def test_state_files_are_not_substituted(tmp_path):
    state = write(tmp_path, "s.yaml", "template: Hello ${name}\n")
    assert load_data_file(state, "--state") == {"template": "Hello ${name}"}


@pytest.mark.parametrize("name, text, where, message", [
    ("c.yaml", "a: 1\nb: [1, 2\n", "3:1", "invalid YAML in --config"),
    ("c.toml", "a = 1\nb = \n", "2:5", "invalid TOML in --config"),
    ("c.json", '{"a": 1,\n "b": }', "2:7", "invalid JSON in --config: Expecting value"),
])
def test_syntax_errors_point_at_the_line_and_column(tmp_path, name, text, where, message):
    cfg = write(tmp_path, name, text)
    err, rendered = usage_error(load_config, cfg)
    assert err.code == "E0603"
    assert rendered.startswith(f"{cfg}:{where}: error[E0603]: {message}")


@pytest.mark.parametrize("text, message", [
    ("[1, 2]\n", "must be a mapping of names to values, got a list"),
    ("just text\n", "must be a mapping of names to values, got a string"),
    ("ok: 1\nbad-name: 2\n", "`bad-name` is not a name"),
    ("1: x\n", "`1` is not a name"),
])
def test_the_file_must_map_names_to_values(tmp_path, text, message):
    err, rendered = usage_error(load_data_file, write(tmp_path, "c.yaml", text), "--state")
    assert err.code == "E0603" and message in rendered and "--state" in rendered


def test_unknown_extension_and_missing_file(tmp_path):
    err, text = usage_error(load_config, write(tmp_path, "c.ini", "a=1"))
    assert "unknown file format `.ini`; use .yaml, .yml, .toml or .json" in text
    err, text = usage_error(load_config, tmp_path / "missing.yaml")
    assert err.code == "E0601" and "file not found" in text


@pytest.mark.parametrize("text, value", [
    ("0.1", 0.1), ("3", 3), ("x", "x"), ("true", True), ("yes", "yes"), ("null", None),
    ("[a,b]", ["a", "b"]), ("[1, 2.5]", [1, 2.5]), ("{k: 1}", {"k": 1}), ("", ""),
    ("'007'", "007"), ('"a b"', "a b"), ("a: b", "a: b"), ("#tag", "#tag"),
    ("hello world", "hello world"), ("2024-01-31", "2024-01-31"),
])
def test_command_line_values_are_read_as_yaml(text, value):
    assert parse_value(text) == value


def test_set_overrides_the_file_and_later_sets_win(tmp_path):
    cfg = write(tmp_path, "c.yaml", "lr: 0.1\nname: base\n"
                                    "opt:\n  momentum: 0.9\n  nesterov: false\n")
    config = load_config(cfg, ["lr=0.5", "name=x", "tags=[a,b]", "opt.nesterov=true",
                               "name=final", "new.deep.key=1"])
    assert config == {"lr": 0.5, "name": "final", "tags": ["a", "b"],
                      "opt": {"momentum": 0.9, "nesterov": True}, "new": {"deep": {"key": 1}}}


def test_set_without_a_file():
    assert load_config(None, ["epochs=2"]) == {"epochs": 2}


@pytest.mark.parametrize("item, message", [
    ("lr", "--set expects KEY=VALUE"),
    ("=1", "--set expects KEY=VALUE"),
    ("a-b=1", "--set expects KEY=VALUE"),
    ("tags=[a,", "--set tags: cannot read `[a,` as a value"),
    ("lr.x=1", "--set lr.x: `lr` is float 0.1, not a mapping"),
])
def test_malformed_set_items(item, message):
    err, text = usage_error(apply_override, {"lr": 0.1}, item)
    assert err.code == "E0605" and message in text


def test_errors_point_at_the_offending_reference_and_key(tmp_path):
    cfg = write(tmp_path, "c.yaml", "a: ${X:-1}\nb: ${X}\n")
    assert render_error(usage_error(load_config, cfg, env={})[0]).startswith(f"{cfg}:2:4:")
    cfg = write(tmp_path, "c.toml", 'x = 1\n"bad key" = 2\n')
    assert render_error(usage_error(load_config, cfg)[0]).startswith(f"{cfg}:2:2:")


def test_a_key_given_twice_is_an_error_at_the_second(tmp_path):
    cfg = write(tmp_path, "c.yaml", "lr: 0.1\nepochs: 3\nlr: 0.2\n")
    err, text = usage_error(load_config, cfg)
    assert err.code == "E0603"
    assert text.startswith(f"{cfg}:3:1: error[E0603]: invalid YAML in --config: found "
                           'duplicate key "lr"')


@pytest.mark.parametrize("name, text, where", [
    ("c.yaml", "# the target\ntarget:\n  replicas: 3\n  'image': x\n", "4:4"),
    ("c.json", '{"target": {"replicas": 3,\n  "image": "x"}}', "2:4"),
    ("c.toml", "[target]\nreplicas = 3\nimage = 'x'\n", "3:1"),
])
def test_origin_names_where_a_nested_key_is_written(tmp_path, name, text, where):
    cfg = write(tmp_path, name, text)
    assert origin("target.image", cfg) == f"at {cfg}:{where}"
    assert origin("target.missing", cfg) == origin("target", cfg) != f"at {cfg}:{where}"
