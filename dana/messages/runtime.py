"""Texts of run-time errors that have no static twin (E05xx, docs/errors.md): each code is
that of the error's Dana type (`dana.surface.vocab`: E0501 ValueError, E0502 TypeError,
...), so `dana.errors.runtime_error(msg, span, **fields)` raises the right type. A mistake
the checker also finds is raised with the checker's constant instead
(`dana.errors.rule_error`, `dana.messages.checks`).

Consumes: `Msg`. Produces: `Msg` constants, grouped by error type.
"""

from __future__ import annotations

from dana.messages import Msg

# ------------------------------------------------------------------ E0501 ValueError
BAD_FORMAT_SPEC = Msg("E0501", "invalid format spec {spec!r} for {type}: {reason}")
CHANGED_WHILE_ITERATED = Msg("E0501", "cannot change a {type} while a `for` loop iterates over "
                                      "it (copy it first, e.g. `for x in list(xs):`)")
INT_BASE_NEEDS_STR = Msg("E0501", "int() with a base converts a str, got {type}")
INVALID_JSON = Msg("E0501", "invalid JSON: {reason}")
SQRT_OF_NEGATIVE = Msg("E0501", "sqrt() of a negative number ({x})")
EXP_TOO_LARGE = Msg("E0501", "exp({x}) is too large")
LOG_OF_NON_POSITIVE = Msg("E0501", "log() of a non-positive number ({x})")
NOT_A_DATE = Msg("E0501", "cannot format {seconds} as a date: {reason}")
NOT_ISO_DATE = Msg("E0501", "not an ISO 8601 date: {text!r}")
UNKNOWN_LOG_LEVEL = Msg("E0501", "unknown log level {level!r}; expected one of {levels}")
FORMAT_FIELD_NOT_ALLOWED = Msg("E0501", "format field {{{field}}} is not allowed: a field names "
                                        "an argument ({{0}}, {{name}}), never an attribute or "
                                        "index of it; use an f-string for expressions")
NO_CASE_MATCHES = Msg("E0501", "no case matches {subject!r}")

# ------------------------------------------------------------------ E0502 TypeError
EARLIER_ARGUMENT = Msg("E0502", "{callee} needs argument `{name}` when a later one is given")
STAR_STAR_NOT_DICT = Msg("E0502", "argument after ** must be a dict, not `{type}`")
BAD_INDEX_TYPE = Msg("E0502", "{type} indices must not be {index}")
ISINSTANCE_NOT_TYPE = Msg("E0502", "isinstance() expects a type, got {type}")
NOT_JSON = Msg("E0502", "cannot convert to JSON: {reason}")
CASE_WITHOUT_PAIRS = Msg("E0502", "case() needs at least one (predicate, function) pair")
CASE_BAD_ARGUMENTS = Msg("E0502", "case() arguments are (predicate, function) pairs and an "
                                  "optional fallback")
WRITES_TEXT = Msg("E0502", "{fn}() writes a str, got {type}; convert it with str() or "
                           "json_dumps()")
EXPECTS_NUMBER = Msg("E0502", "{fn}() expects a number, got {type}")
EXPECTS_TEXT = Msg("E0502", "{fn}() expects a str, got {type}")
PATH_NOT_TEXT = Msg("E0502", "a path must be a str, not {type}")
ENV_NAME_NOT_TEXT = Msg("E0502", "an environment variable name must be a str, not {type}")
COMPOSE_NOT_WORKFLOW = Msg("E0502", "compose() expects workflows, got {type}")
COMPOSE_NOTHING = Msg("E0502", "compose() needs at least one workflow")
COMPOSE_PARAM_CONFLICT = Msg("E0502", "cannot compose `{first}` and `{second}`: parameter `{key}` "
                                      "is {first_type} in `{first}` but {second_type} in "
                                      "`{second}`")
RUN_NOT_WORKFLOW = Msg("E0502", "run() expects a workflow, got {type}")
RUN_CONFIG_NOT_DICT = Msg("E0502", "run() config must be a dict, got {type}")
STORED_STRUCT_GONE = Msg("E0502", "the stored run holds a struct `{name}`, which the file no "
                                  "longer defines")

# ------------------------------------------------------------------ E0503 KeyError, E0504 IndexError
KEY_NOT_FOUND = Msg("E0503", "key {key!r} not found")
DICT_NO_KEY = Msg("E0503", "dict has no key {key!r}")
INDEX_OUT_OF_RANGE = Msg("E0504", "{type} index {index!r} out of range")
ASSIGN_INDEX_OUT_OF_RANGE = Msg("E0504", "list assignment index {index!r} out of range")

# ------------------------------------------------------------------ E0505 AttributeError
PRIVATE_ATTRIBUTE = Msg("E0505", "attribute `{name}` is not accessible: names starting with "
                                 "'_' are private to the host")
CANNOT_SET_ATTRIBUTE = Msg("E0505", "cannot set attribute `{name}` on `{type}`")

# ------------------------------------------------------------------ E0507 ZeroDivisionError
DIVISION_BY_ZERO = Msg("E0507", "division by zero")

# ------------------------------------------------------------------ E0510 TimeoutError
STEP_TIMEOUT = Msg("E0510", "step `{step}` took longer than {seconds} seconds")

# ------------------------------------------------------------------ E0512 PermissionError
ENV_NOT_ALLOWED = Msg("E0512", "reading environment variable {name} is not allowed; run with "
                               "--allow-env {name} (embedding: Permissions(env=[{name!r}]))")
PATH_NOT_ALLOWED = Msg("E0512", "{doing} {shown} is not allowed: {where}; run with {flag} "
                                "{resolved} (embedding: Permissions({keyword}=[...]))")

# ------------------------------------------------------------------ E0513 LimitError
TOO_LONG_TEXT = Msg("E0513", "string of {size} characters exceeds the limit of {limit}")
TOO_BIG_RESULT = Msg("E0513", "creating a {type} of {size} {units} exceeds the limit of {limit}")
TOO_BIG_INT = Msg("E0513", "the result of {shown} would have about {bits} bits, over the limit "
                           "of {limit} bits")
TOO_COSTLY_DIVISION = Msg("E0513", "{shown} would take about {steps} bit-steps ({quotient} "
                                   "quotient bits times {divisor} divisor bits), over the limit "
                                   "of {limit}")
TOO_BIG_COMPREHENSION = Msg("E0513", "a comprehension over {size} items exceeds the limit of "
                                     "{limit} items")
TOO_BIG_BY_METHOD = Msg("E0513", "{type}.{name}() would create a {type} of {size} {units}, over "
                                 "the limit of {limit}")
TOO_BIG_RANGE = Msg("E0513", "a range of {size} items exceeds the limit of {limit} items")
TOO_WIDE_FORMAT = Msg("E0513", "format spec {spec!r} asks for {digits} characters, over the limit "
                               "of {limit}")
INT_TOO_LONG_FOR_TEXT = Msg("E0513", "an int of more than {digits} digits cannot be converted to "
                                     "or from text (the limit is {digits} digits)")
TOO_DEEP_CALLS = Msg("E0513", "maximum call depth of {depth} exceeded")
TOO_DEEP_RECURSION = Msg("E0513", "maximum recursion depth exceeded")
TOO_DEEP_FOR_HOST = Msg("E0513", "the program nested too deeply for the host's stack (maximum "
                                 "recursion depth exceeded)")
TOO_MANY_OPERATIONS = Msg("E0513", "the program executed more than {limit} operations")
TOO_LONG_RUN = Msg("E0513", "the program ran longer than {seconds} seconds")
TOO_MUCH_MEMORY = Msg("E0513", "the program used more than {limit} MiB of memory")
TOO_BIG_TO_WALK = Msg("E0513", "cannot {doing} a value that {problem}")
TOO_BIG_TO_SEARCH = Msg("E0513", "cannot look for a value in a {type} that {problem}")
TOO_BIG_TO_HASH = Msg("E0513", "cannot hash a tuple that {problem}")

# ------------------------------------------------------------------ E0500 Error, E0515, E0516
WRITE_TO_FOLDER = Msg("E0500", "cannot write {path}: it is a folder")
WRITE_NO_FOLDER = Msg("E0500", "cannot write {path}: folder {folder} does not exist")
IMPORT_CYCLE = Msg("E0515", "import cycle: `{name}` is still being loaded")
NO_SUCH_FILE = Msg("E0516", "no such file {path!r} (looked for {shown})")

# ------------------------------------------------------------------ workflow runs (docs/workflows.md)
STATE_NO_KEY = Msg("E0503", "state has no key `{key}`")
STATE_KEY_NOT_TEXT = Msg("E0511", "state keys must be strings, got {type}")
STATE_BAD_TYPE = Msg("E0511", "state key `{key}` expects {expected}, got {actual}")
STATE_NO_VERSION = Msg("E0511", "state has no version {version} (versions are 0 to {current})")
TRANSACTION_CLOSED = Msg("E0511", "the transaction of step `{step}` is already {status}")
TRANSACTION_FOREIGN = Msg("E0511", "the transaction of step `{step}` belongs to another state")
TRANSACTION_STALE = Msg("E0511", "step `{step}` began at version {base} but the state is now at "
                                 "version {current}; parallel branches must be committed "
                                 "together with commit_many")
BRANCHES_CONFLICT = Msg("E0511", "parallel branches `{first}` and `{second}` both write state "
                                 "key `{key}`")
REPLICA_HISTORY = Msg("E0511", "state.at({version}) and state.diff of earlier versions are not "
                               "available in a parallel branch running on a worker")
BRANCH_DECLARES_KEYS = Msg("E0511", "a parallel branch cannot declare state keys")
FINISHED_RUN_READ_ONLY = Msg("E0511", "the state of a finished run is read-only")
VALIDATE_READ_ONLY = Msg("E0511", "a validate hook cannot write the state")
CACHE_KEY_READ_ONLY = Msg("E0511", "a cache_key hook cannot write the state")
FORECAST_READ_ONLY = Msg("E0511", "the forecast cannot write")
RESERVED_STATE_NAME = Msg("E0511", "`{name}` is a reserved name of the workflow state and cannot "
                                   "be written")
SUB_REQUIRES = Msg("E0511", "sub-workflow `{wf}` requires {problem}")
SUB_PARAM_MISSING = Msg("E0511", "sub-workflow `{wf}` parameter `{key}` has no default and the "
                                 "config has no `{key}`")
SUB_PARAM_TYPE = Msg("E0502", "sub-workflow `{wf}` parameter `{key}` expects {type}, but the "
                              "config has {actual}")
STEP_FAILED_VALIDATE = Msg("E0509", "step `{step}` failed its validate hook `{hook}`")
IDEMPOTENCY_OUTSIDE_STEP = Msg("E0511", "idempotency_key() can only be called while a workflow "
                                        "step runs")
UNSTORABLE_WRITE = Msg("E0511", "step `{step}` wrote state key `{key}` a value that cannot be "
                                "stored ({reason}, type {type})")
UNSTORABLE_OUTPUT = Msg("E0511", "step `{step}` returned a value that cannot be stored ({reason}, "
                                 "type {type})")
TOO_BIG_VALUE = Msg("E0513", "state key `{key}` written by step `{step}` is {size} bytes encoded, "
                             "over the store's budget of {limit} bytes")
LINEAGE_EPHEMERAL = Msg("E0511", "lineage is recorded only for durable runs (this run was "
                                 "ephemeral)")

# ------------------------------------------------------------------ executors, host calls
WORKER_LOST = Msg("E0500", "the worker running branch `{path}` was lost: {reason}")
NO_SCHEDULER = Msg("E0500", "cannot reach the Dask scheduler at {address}: {reason}")
NO_BLOCK = Msg("E0500", "the parallel block at offset {offset} of {name} is not in a top-level "
                        "workflow of the module, so a worker cannot find it")
UNSENDABLE = Msg("E0502", "{what} cannot travel to another process: {reason}")
HOST_FAILED = Msg("E0500", "{type}: {reason}")
