"""Codes and texts of the mistakes made outside any Dana source (E06xx, docs/errors.md): a
command line, a file that cannot be read, a config or state file, the run store, an
executor or tracing extra that is missing. Each is a `UsageError` (exit status 2).

Consumes: `Msg`. Produces: `Msg` constants and their note templates.
"""

from __future__ import annotations

from dana.messages import Msg

# ------------------------------------------------------------------ E0600 the command line
NOT_POSITIVE = Msg("E0600", "{flag} must be positive, got {value}")
NEEDS_WORKFLOW = Msg("E0600", "--state, --config and --set need --workflow NAME")
UNKNOWN_FORMAT = Msg("E0600", "{what} {path}: unknown file format `{suffix}`; use .yaml, .yml, "
                              ".toml or .json")
BAD_AGE = Msg("E0600", "--older-than expects an age like 30d, 12h or 90m, not {text!r}")
RESUME_EPHEMERAL = Msg("E0600", "dana resume needs a run store, not --ephemeral")
LSP_MISSING = Msg("E0600", "dana lsp needs the `lsp` extra ({package} is missing): "
                           "pip install 'dana-lang[lsp]'")
SOURCE_NOT_STR = Msg("E0600", "Dana source must be a str, got {type}")

# ------------------------------------------------------------------ E0601 files
FILE_NOT_FOUND = Msg("E0601", "file not found: {path}")
IS_A_DIRECTORY = Msg("E0601", "{path} is a directory, not a Dana file")
CANNOT_READ = Msg("E0601", "cannot read {path}: {reason}")
CANNOT_OPEN_EVENTS = Msg("E0601", "cannot open --events file {path}: {reason}")
CANNOT_WRITE = Msg("E0601", "cannot write {path}: {reason}")

# ------------------------------------------------------------------ E0602 which workflow
SEVERAL_WORKFLOWS = Msg("E0602", "{name} defines {count} workflows; choose one with "
                                 "--workflow NAME; it defines: {names}")
NO_SUCH_WORKFLOW = Msg("E0602", "{name} has no workflow `{workflow}`; it defines: {names}")
NO_WORKFLOW_AT_ALL = Msg("E0602", "{name} has no workflow `{workflow}`; it defines no workflow")
NOT_A_WORKFLOW = Msg("E0602", "not a workflow: {value}")
WORKFLOW_GONE = Msg("E0602", "{source} no longer defines workflow `{name}`")

# ------------------------------------------------------------------ E0603 data files, run store
BAD_DATA_FILE = Msg("E0603", "invalid {fmt} in {what}: {problem}")
NOT_A_MAPPING = Msg("E0603", "{what} {name} must be a mapping of names to values, got {kind}")
KEY_NOT_A_NAME = Msg("E0603", "{what} {name}: `{key}` is not a name (letters, digits and `_`, "
                              "not starting with a digit)")
NO_STORE = Msg("E0603", "no run store at {path} (run a workflow first, or give --store)")
STORE_PROBLEM = Msg("E0603", "{problem}")
NO_STATE_KEY = Msg("E0603", "run {run} has no state key `{key}` at version {version}")
NO_SUCH_VERSION = Msg("E0603", "the run has no version {version} (versions are 0 to {last})")
NOT_RESUMABLE = Msg("E0603", "run {run} {status}; only a failed, interrupted or crashed run can "
                             "be resumed")
NO_INTERPRETER_STORE = Msg("E0603", "this interpreter has no run store: Interpreter(store=PATH)")

# ------------------------------------------------------------------ E0604 ${...} in config files
BAD_REFERENCE = Msg("E0604", "malformed variable reference `{text}` in config file {name}; write "
                             "${{NAME}} or ${{NAME:-default}} (and $${{ for a literal ${{)")
UNSET_VARIABLE = Msg("E0604", "environment variable `{variable}` is not set (used in config file "
                              "{name})")
NOTE_SET_VARIABLE = "set it (export {variable}=...) or give a default: ${{{variable}:-value}}"

# ------------------------------------------------------------------ E0605 --set
BAD_SET_ITEM = Msg("E0605", "--set expects KEY=VALUE with KEY a name or dotted names (a.b.c), "
                            "got `{item}`")
BAD_SET_VALUE = Msg("E0605", "--set {key}: cannot read `{text}` as a value: {problem}")
SET_INTO_VALUE = Msg("E0605", "--set {key}: `{where}` is {type} {value}, not a mapping")

# ------------------------------------------------------------------ E0606-E0609 executors, tracing
BAD_EXECUTOR = Msg("E0606", "unknown executor `{text}`; expected threads, processes, processes:N, "
                            "dask or dask://HOST:PORT")
BAD_WORKER_COUNT = Msg("E0606", "the number of workers must be an integer >= 1, got `{text}`")
NOT_IMPORTABLE = Msg("E0607", "host function `{label}` cannot run on a worker: it must be "
                              "importable there as package.module:function, but {why}")
NO_DASK = Msg("E0608", "--executor dask needs dask.distributed, which is not installed: "
                       "pip install 'dana-lang[dask]'")
NO_OTEL = Msg("E0609", "tracing needs the OpenTelemetry SDK: pip install 'dana-lang[otel]'")
