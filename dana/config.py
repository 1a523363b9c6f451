"""Workflow inputs from files and the command line: `--config`, `--state` and `--set` (docs/workflows.md).

Consumes: a YAML (`.yaml`/`.yml`), TOML (`.toml`) or JSON (`.json`) file holding a mapping
of names to values, `key=value` override strings, and an environment mapping.
Produces: plain dicts of JSON-like values (str, int, float, bool, None, lists, dicts) for
the runner, which validates each workflow parameter against its declared type (E0412-E0414).

Rules, all documented in docs/cli.md:
* The format is chosen by the file's extension. YAML is read by ruamel.yaml as YAML 1.2:
  only `true`/`false` are booleans (not `yes`/`on`), `010` is the integer 10, and `1:30`
  stays a string; dates stay the text written. TOML dates and times become ISO 8601
  strings.
* The file must be a mapping whose keys are names (`[A-Za-z_][A-Za-z0-9_]*`); an empty
  YAML file is an empty mapping. The shape is validated with pydantic.
* In config files (not state files), `${VAR}` in a string value is replaced by the
  environment variable VAR; `${VAR:-default}` uses `default` when VAR is unset or empty;
  `$${` is a literal `${`. A value that is exactly one `${...}` reference is read the way
  `--set` reads a value, so `epochs: ${EPOCHS:-10}` is the integer 10.
* `--set key=value` overrides the file, later ones winning; `value` is read as a YAML
  scalar or flow collection (`0.1`, `x`, `true`, `[a, b]`, `{k: 1}`, `"quoted text"`;
  an empty value is the empty string); a dotted key `a.b=1` sets `b` inside mapping `a`.

Every failure is a `UsageError` (exit 2) positioned in the file when it has a place there
(ruamel.yaml's round-trip loader knows the line and column of every key of a YAML or JSON
file; a TOML key is found by its `key =` line):
E0603 for a file that does not parse or is not a mapping of names, E0604 for an unset
environment variable or a malformed `${...}`, E0605 for a malformed `--set`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Iterable, Mapping

from pydantic import RootModel, StringConstraints, ValidationError
from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarbool import ScalarBoolean

from dana.errors import UsageError
from dana.messages import usage as U
from dana.pipeline import read_source
from dana.source import SourceFile, Span

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
FORMATS = {".yaml": "YAML", ".yml": "YAML", ".toml": "TOML", ".json": "JSON"}
_REFERENCE = re.compile(r"\$\$\{|\$\{(?:(" + NAME + r")(?::-([^}]*))?\})?")
_WHOLE_REFERENCE = re.compile(r"\$\{" + NAME + r"(?::-[^}]*)?\}")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class _Mapping(RootModel[dict[Annotated[str, StringConstraints(pattern=f"^{NAME}$")], Any]]):
    """The shape of a config or state file: names mapped to values."""


# ------------------------------------------------------------------ YAML
class _Resolver(VersionedResolver):
    """ruamel.yaml's YAML 1.2 resolver, except that a date or time stays the text written
    (YAML 1.2's core schema has no timestamps)."""

    def resolve(self, kind: Any, value: str, implicit: Any) -> Any:
        tag = super().resolve(kind, value, implicit)
        return self.DEFAULT_SCALAR_TAG if tag == "tag:yaml.org,2002:timestamp" else tag


def _yaml() -> YAML:
    """A round-trip loader (its mappings know where each key is written: `.lc`), made per
    use: a ruamel.yaml loader keeps state while it reads."""
    yaml = YAML(typ="rt")
    yaml.Resolver = _Resolver
    return yaml


def parse_value(text: str) -> Any:
    """Read one command-line value as YAML: a plain scalar (`0.1` -> float, `true` -> bool,
    `null` -> None, anything else -> that text), a quoted string, or a flow collection
    (`[a, b]`, `{k: 1}`). The empty string stays "". Raises YAMLError when a quoted
    string or collection does not parse."""
    stripped = text.strip()
    if not stripped:
        return text
    yaml = _yaml()
    if stripped[0] not in "[{\"'" and \
            yaml.resolver.resolve(ScalarNode, stripped, (True, False)) == "tag:yaml.org,2002:str":
        return stripped  # `a: b`, `#tag`: text, not a mapping or a comment
    return _plain(yaml.load(stripped))


# ------------------------------------------------------------------ files
def load_data_file(path: str | Path, what: str = "--config") -> dict[str, Any]:
    """The mapping held by a YAML, TOML or JSON file, without substitution.

    `what` names the option in messages (`--config`, `--state`). Raises UsageError:
    E0601 the file cannot be read, E0600 an unknown extension, E0603 a syntax error (at
    its line and column) or a value that is not a mapping of names."""
    source = read_source(path)
    return _validated(_parse(source, _format(path, what), what), source, what)


def load_config(path: str | Path | None, overrides: Iterable[str] = (),
                env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Workflow parameters: the file at `path` (or nothing), with `${VAR}` references
    replaced from `env` (no environment when None), then each `key=value` of `overrides`
    applied in order. Raises UsageError (E0601, E0603, E0604, E0605)."""
    config: dict[str, Any] = {}
    if path is not None:
        source = read_source(path)
        data = _validated(_parse(source, _format(path, "--config"), "--config"), source,
                          "--config")
        config = _substitute(data, env or {}, source)
    for item in overrides:
        apply_override(config, item)
    return config


def origin(key: str, path: str | Path | None, overrides: Iterable[str] = ()) -> str | None:
    """Where `key` was given, as a phrase: "by `--set key=value`" (the last `--set`
    naming it), else "at file:line:col" in the file at `path` (a dotted `key.field`: the
    field inside the key's mapping); None when neither has it."""
    for item in reversed(list(overrides)):
        if item.partition("=")[0].strip().split(".")[0] == key:
            return f"by `--set {item}`"
    if path is None:
        return None
    try:
        source = read_source(path)
    except UsageError:
        return None
    span = _key_span(source, tuple(key.split(".")))
    return f"at {span}" if span is not None else None


def apply_override(config: dict[str, Any], item: str) -> None:
    """Apply one `--set key=value` to `config` in place (see module docstring).
    Raises UsageError E0605 for a malformed item."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not re.fullmatch(rf"{NAME}(\.{NAME})*", key):
        raise UsageError.of(U.BAD_SET_ITEM, item=item)
    try:
        value = parse_value(text)
    except YAMLError as exc:
        raise UsageError.of(U.BAD_SET_VALUE, key=key, text=text,
                            problem=getattr(exc, "problem", None) or exc) from None
    *parents, last = key.split(".")
    target = config
    for depth, part in enumerate(parents):
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            where = ".".join(parents[:depth + 1])
            raise UsageError.of(U.SET_INTO_VALUE, key=key, where=where, type=type(child).__name__,
                                value=json.dumps(child, default=str))
        target = child
    target[last] = value


def _format(path: str | Path, what: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError.of(U.UNKNOWN_FORMAT, what=what, path=path, suffix=suffix or "(none)")
    return FORMATS[suffix]


def _parse(source: SourceFile, fmt: str, what: str) -> Any:
    text = source.text
    try:
        if fmt == "JSON":
            return json.loads(text)
        if fmt == "TOML":
            return _plain(tomllib.loads(text))
        return _plain(_yaml().load(text))
    except json.JSONDecodeError as exc:
        raise _syntax(source, what, fmt, exc.msg, exc.lineno, exc.colno) from None
    except tomllib.TOMLDecodeError as exc:
        at = _TOML_POSITION.search(str(exc))
        message = _TOML_POSITION.sub("", str(exc)).strip()
        line, col = (int(at[1]), int(at[2])) if at else (1, 1)
        raise _syntax(source, what, fmt, message, line, col) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        message = getattr(exc, "problem", None) or str(exc)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise _syntax(source, what, fmt, message, line, col) from None


def _syntax(source: SourceFile, what: str, fmt: str, message: str, line: int,
            col: int) -> UsageError:
    at = source.offset(line, col)
    return UsageError.of(U.BAD_DATA_FILE, Span(source, at, at + 1), fmt=fmt, what=what,
                         problem=message)


def _plain(value: Any) -> Any:
    """Loaded values as plain JSON-like ones: ruamel.yaml's round-trip types (which keep
    comments and positions) become dict, list, bool, int, float and str; TOML dates and
    times become ISO 8601 strings."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, ScalarBoolean):  # an anchored boolean
        return bool(value)
    kind = next((k for k in (bool, int, float, str) if isinstance(value, k)), None)
    return value if kind is None else kind(value)


def _validated(data: Any, source: SourceFile, what: str) -> dict[str, Any]:
    """`data` checked to be a mapping of names (pydantic); None (an empty YAML file) is {}."""
    if data is None:
        return {}
    try:
        return _Mapping.model_validate(data).root
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:
            raise UsageError.of(U.NOT_A_MAPPING, Span(source, 0, min(1, len(source.text))),
                                what=what, name=source.name, kind=_kind(data)) from None
        key = str(first["loc"][0])
        raise UsageError.of(U.KEY_NOT_A_NAME, _key_span(source, (key,)), what=what,
                            name=source.name, key=key) from None


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def _key_span(source: SourceFile, path: tuple[str, ...]) -> Span | None:
    """Where the key at `path` (`("target", "image")`) is written, as deep as the file's
    mappings go; None when not even its first key is found."""
    if Path(source.name).suffix.lower() == ".toml":
        return _toml_key_span(source, path)
    try:
        node = _yaml().load(source.text)  # a JSON file is YAML 1.2 too
    except YAMLError:
        return _find(source, path[0])
    span = None
    for key in path:
        written = next((k for k in node if str(k) == key), None) \
            if isinstance(node, CommentedMap) else None
        if written is None:
            break
        line, col = node.lc.key(written)
        at = source.offset(line + 1, col + 1)
        at += source.text[at:at + 1] in "\"'"  # a quoted key: the name inside the quotes
        span, node = Span(source, at, at + len(key)), node[written]
    return span


def _toml_key_span(source: SourceFile, path: tuple[str, ...]) -> Span | None:
    """Where a TOML key is written (tomllib keeps no positions): the first `key =` or
    `[key]` at the start of a line, then each inner key's first `key =` after it."""
    m = re.search(rf"^[ \t]*\[?[\"']?({re.escape(path[0])})[\"']?[ \t]*[=\]]", source.text,
                  re.M)
    span = Span(source, m.start(1), m.end(1)) if m else None
    for key in path[1:] if span else ():
        m = re.compile(rf"[\"']?\b({re.escape(key)})\b[\"']?[ \t]*=").search(source.text, span.end)
        if m is None:
            break
        span = Span(source, m.start(1), m.end(1))
    return span


def _find(source: SourceFile, text: str) -> Span | None:
    at = source.text.find(text)
    return Span(source, at, at + len(text)) if at >= 0 and text else None


# ------------------------------------------------------------------ ${VAR} substitution
def _substitute(value: Any, env: Mapping[str, str], source: SourceFile) -> Any:
    """`value` with `${...}` references in its strings replaced (keys are left alone)."""
    if isinstance(value, dict):
        return {k: _substitute(v, env, source) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, env, source) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    text = _REFERENCE.sub(lambda m: _replacement(m, env, source), value)
    if _WHOLE_REFERENCE.fullmatch(value):
        try:
            return parse_value(text)
        except YAMLError:
            return text
    return text


def _replacement(match: re.Match, env: Mapping[str, str], source: SourceFile) -> str:
    if match[0] == "$${":
        return "${"
    name, default = match[1], match[2]
    if name is None:
        bad = match.string[match.start():match.start() + 12]
        raise UsageError.of(U.BAD_REFERENCE, _find(source, bad), text=bad, name=source.name)
    value = env.get(name)
    if default is not None and not value:
        return default
    if value is None:
        raise UsageError.of(U.UNSET_VARIABLE, _reference_span(source, name), variable=name,
                            name=source.name,
                            notes=(U.NOTE_SET_VARIABLE.format(variable=name),))
    return value


def _reference_span(source: SourceFile, name: str) -> Span | None:
    """Where `${name}` (the form without a default) first appears in the file."""
    m = re.search(r"(?<!\$)\$\{" + re.escape(name) + r"\}", source.text)
    return Span(source, m.start(), m.end()) if m else None
