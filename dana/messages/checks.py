"""Codes and texts of the rules about names, types and workflows (E02xx-E04xx), reported by
the checker and, for a rule the run enforces too, by the run with the same constant
(docs/errors.md).

Consumes: `Msg`. Produces: `Msg` constants, the `RAISES` table and the note templates.
"""

from __future__ import annotations

from dana.messages import WARNING, Msg


# ------------------------------------------------------------------ E02xx names and scopes
UNDEFINED_NAME = Msg("E0201", "undefined name `{name}`")
UNKNOWN_TYPE = Msg("E0202", "unknown type `{name}`")
BAD_TYPE_ARGS = Msg("E0203", "type `{name}` {problem}")
MODULE_NOT_FOUND = Msg("E0204", "cannot find module `{name}`")
IMPORT_NOT_FOUND = Msg("E0205", "module `{module}` has no name `{name}`")
RETURN_OUTSIDE = Msg("E0206", "`return` outside a function")
LOOP_CONTROL_OUTSIDE = Msg("E0207", "`{what}` outside a loop")
UNBOUND_NAME = Msg("E0201", "`{name}` is used before it is {how}")
NONLOCAL_UNBOUND = Msg("E0209", "no binding for nonlocal `{name}` found")
NONLOCAL_AT_MODULE = Msg("E0209", "nonlocal declaration not allowed at module level")
NONLOCAL_PARAM = Msg("E0209", "name `{name}` is parameter and nonlocal")
MAYBE_UNBOUND = Msg("E0208", "`{name}` may be unbound here (it is not assigned on every path "
                             "before this line)", WARNING)
DUPLICATE_DEFINITION = Msg("E0210", "`{name}` is defined twice in this file: a {first} at line "
                                    "{first_line} and a {second} at line {second_line}")

# ------------------------------------------------------------------ E03xx types
ASSIGN_MISMATCH = Msg("E0301", "cannot assign a value of type `{src}` to {target} of type `{dst}`")
ARG_MISMATCH = Msg("E0302", "{what} `{param}` of {callee} expects `{dst}`, got `{src}`")
TOO_MANY_ARGS = Msg("E0303", "{callee} takes {most} positional argument{s} but {given} "
                    "{were} given")
TYPE_THREE_ARGS = Msg("E0323", "type() with three arguments (which creates a class in "
                               "Python) does not exist in Dana: type(x) gives the type of one "
                               "value, and `struct` declares a new type")
STEP_TOO_MANY_ARGS = Msg("E0303", "step `{step}` gets the previous step's output as its first "
                         "argument, so it takes {most} more positional argument{s}, not {given}")
STEP_TOO_MANY_ARGS_BOUND = Msg("E0303", STEP_TOO_MANY_ARGS.text + "; to give it no input, bind "
                                                                  "by keyword: `{call}`")
UNKNOWN_KEYWORD = Msg("E0304", "{callee} has no parameter named `{name}`")
UNKNOWN_FIELD_KEYWORD = Msg("E0304", "struct `{struct}` has no field `{name}`")
MISSING_ARG = Msg("E0305", "{callee} is missing {what} `{name}`")
UNKNOWN_FIELD = Msg("E0306", "struct `{struct}` has no field `{name}`")
UNKNOWN_MEMBER = Msg("E0306", "struct `{struct}` has no field or method `{name}`")
UNKNOWN_ATTRIBUTE = Msg("E0307", "type `{type}` has no attribute or method `{name}`")
RETURN_MISMATCH = Msg("E0308", "{func} returns `{dst}`, but this returns `{src}`")
NOT_CALLABLE = Msg("E0309", "a value of type `{type}` is not callable")
WORKFLOW_CALLED = Msg("E0309", "workflow `{name}` is not a function: it is run with `run()`")
BAD_OPERANDS = Msg("E0310", "operator `{op}` is not defined for `{left}` and `{right}`")
BAD_OPERAND = Msg("E0310", "operator `{op}` is not defined for `{type}`")
NOT_ITERABLE = Msg("E0311", "a value of type `{type}` is not iterable")
NOT_INDEXABLE = Msg("E0312", "a value of type `{type}` cannot be indexed")
BAD_INDEX = Msg("E0312", "{what} is indexed by `{expected}`, not `{got}`")
BAD_SLICE = Msg("E0312", "a slice bound must be `int` or `None`, not `{got}`")
NOT_ITEM_ASSIGNABLE = Msg("E0312", "items of a `{type}` cannot be assigned")
INTERFACE_UNSATISFIED = Msg("E0313", "`{struct}` does not satisfy interface `{iface}`: "
                                     "missing method{s} {methods}")
MISSING_RETURN = Msg("E0314", "{func} returns `{dst}`, but it can end without a `return`")
UNKNOWN_DECORATOR = Msg("E0315", "unknown decorator `@{name}` (only `@step` exists)")
UNKNOWN_STEP_OPTION = Msg("E0315", "`@step` has no option `{name}`")
BAD_STEP_OPTION = Msg("E0315", "`@step` option `{name}` expects {expected}, got `{src}`")
BAD_STAGE = Msg("E0316", "pipeline stage of type `{type}` cannot take the piped value")
PLACEHOLDER_OUTSIDE = Msg("E0316", "`$$` is only allowed in a call used as a pipeline stage")
BAD_RAISE = Msg("E0317", "`raise` needs an error value or a string, not `{type}`")
BAD_HANDLER = Msg("E0318", "`handle` needs an error type such as `ValueError`, not `{text}` "
                          "(of type `{type}`)")
UNPACK_MISMATCH = Msg("E0319", "cannot unpack {given} value{s} into {wanted} target{t}")
MULTIPLE_VALUES = Msg("E0320", "{callee} got more than one value for `{name}`")
POSSIBLY_NONE = Msg("E0321", "{text} may be `None` here (its type is `{type}`): {problem}")
REDEFINED_SIGNATURE = Msg("E0322", "`{name}` is defined again with another signature, and the "
                                   "body of `{user}` calls it: the body cannot know which "
                                   "definition is in effect when it runs")

# ------------------------------------------------------------------ E04xx workflow state
STATE_KEY_MISSING = Msg("E0401", "{step} reads state key `{key}`, which no earlier step "
                                 "provides and `requires:` does not declare")
STATE_KEY_LATE = Msg("E0402", "{step} reads state key `{key}`, which is not written on "
                              "every path before it")
STATE_TYPE_CONFLICT = Msg("E0403", "state key `{key}` is {first} as `{dst}` but {second} as "
                                   "`{src}`")
STATE_READ_CONFLICT = Msg("E0403", "{step} {verb} state key `{key}` as {want}, but it holds "
                                   "`{have}` here")
STEP_INPUT_MISMATCH = Msg("E0404", "step `{step}` takes `{dst}`, but the previous step "
                                   "gives `{src}`")
WORKFLOW_INPUT_MISMATCH = Msg("E0404", "workflow `{wf}` takes `{dst}` (the input of its first "
                                       "step `{step}`), but the previous step gives `{src}`")
WORKFLOW_OUTPUT_MISMATCH = Msg("E0405", "workflow `{workflow}` returns `{dst}`, but its last "
                                        "step gives `{src}`")
NOT_A_STEP = Msg("E0406", "`{name}` cannot be a step: {reason}")
PARALLEL_CONFLICT = Msg("E0407", "parallel branches both write state key `{key}`")
PARALLEL_FOR_WRITE = Msg("E0407", "every branch of `parallel for {var}` writes state key "
                                  "`{key}`, so two items would conflict")
READONLY_STATE_KEY = Msg("E0408", "state key `{key}` is read-only")
UNKNOWN_SETTING = Msg("E0409", "unknown workflow setting `{name}`")
# E0410-E0414 are the static twins of the run-time input checks (dana/workflow/runner.py).
RUN_MISSING_STATE = Msg("E0410", "workflow `{wf}` requires state key `{key}` ({type}), which "
                                 "is missing")
RUN_STATE_MISMATCH = Msg("E0411", "workflow `{wf}` requires state key `{key}` to be {type}, "
                                  "got {actual}")
RUN_STATE_FIELD_MISMATCH = Msg("E0411", "workflow `{wf}` requires state key `{key}` to be {type}: "
                                        "`{key}.{field}` expects {expected}, got {actual}")
UNKNOWN_CONFIG = Msg("E0412", "workflow `{wf}` has no parameter `{key}`")
CONFIG_MISMATCH = Msg("E0413", "workflow `{wf}` parameter `{key}` expects {type}, got {actual}")
MISSING_CONFIG = Msg("E0414", "workflow `{wf}` parameter `{key}` has no default and was not "
                              "given")
STATE_KEY_NOT_REQUIRED = Msg("E0417", "state key `{key}` is not required by workflow `{wf}`",
                             WARNING)
RESUME_DIVERGED = Msg("E0420", "the resumed run reached step `{actual}` where the run recorded "
                               "`{expected}` (version {version}); a condition in `steps:` gave "
                               "another answer than when the run started")
CODE_CHANGED = Msg("E0421", "the code of run {run} changed since it started: {names}")
NOTE_ALLOW_CHANGED = "resume anyway with --allow-changed (recorded in the run)"
NONDETERMINISTIC_CONDITION = Msg(
    "E0422", "this `steps:` condition calls `{name}()`, which may answer differently when a "
             "resumed run replays it (the resumed run would then stop)", WARNING)
BAD_SETTING = Msg("E0415", "workflow setting `{name}` expects {expected}")
UNKNOWN_PARALLEL_OPTION = Msg("E0416", "`parallel` has no option `{name}` (it takes "
                                       "`max_concurrency=N`)")
BAD_PARALLEL_OPTION = Msg("E0416", "`parallel` option `max_concurrency` expects an `int` >= 1, "
                                   "got `{src}`")

# The run-time error each mistake raises when it is not caught statically: a `try` that
# handles it marks a deliberate failure, and the checker stays silent there.
RAISES: dict[str, str | tuple[str, ...]] = {
    "E0201": "NameError", "E0208": "NameError", "E0204": "ImportError",
    "E0205": ("AttributeError", "ImportError"),
    "E0306": "AttributeError", "E0307": "AttributeError", "E0301": "TypeError",
    "E0302": "TypeError", "E0303": "TypeError", "E0304": "TypeError", "E0305": "TypeError",
    "E0308": "TypeError", "E0309": "TypeError", "E0310": "TypeError", "E0311": "TypeError",
    "E0312": "TypeError", "E0316": "TypeError", "E0317": "TypeError", "E0319": "ValueError",
    "E0320": "TypeError", "E0321": ("TypeError", "AttributeError"), "E0323": "TypeError",
}

# ------------------------------------------------------------------ notes
NOTE_DID_YOU_MEAN = "did you mean `{name}`?"
NOTE_BOUND_AT = "`{name}` is {how} at line{s} {lines}"
NOTE_PROVIDED_LATER = "`{key}` is first written by step `{step}` at line {line}, after this read"
NOTE_PROVIDED_SOMETIMES = ("`{key}` is written by step `{step}` at line {line}, but not on "
                           "every path")
NOTE_NO_PROVIDER = "no step writes `{key}`; declare it in `requires:`"
NOTE_UNTYPED_STATE = ("`{fn}`'s parameter named `state` is not typed `WorkflowState`, so it "
                      "receives the previous step's output, not the state; write "
                      "`def {fn}(state: WorkflowState)`")
NOTE_READ_AT = "read at line {line}"
NOTE_READ_VIA = "read through `{helper}` at line {line}"
NOTE_KEY_DECLARED = "`{key}` is declared as `{type}` in `requires:` at line {line}"
NOTE_KEY_SOURCE = "`{key}` is {how} as `{type}` at line {line}"
NOTE_STEP_AT = "the step runs in workflow `{wf}` at line {line}"
NOTE_STEP_KEYWORDS = ("to give the step no input, bind its parameters by keyword: "
                      "`{step}({example})`")
NOTE_PARALLEL_OTHER = "also written by the branch at line {line}"
NOTE_PARALLEL_FOR_OUTPUT = ("return the value instead: the block's output is the list of its "
                            "branches' outputs, in item order")
NOTE_FIRST_STEP = "the first step receives `None`"
NOTE_NARROW = ("check first that {text} is not `None` (`if ... is not None:`, an early "
               "`return`, or `assert`)")
NOTE_RUN_WORKFLOW = ("write `run({name}, key=value)` to run it (its initial state as keywords, "
                     "its parameters in `config={{...}}`), or name it as a step in `steps:`")
NOTE_FIRST_DEFINED = "`{name}` is first defined at line {line} as `{old}`, here as `{new}`"
NOTE_ONE_SIGNATURE = "keep one signature, or give the new definition another name"
NOTE_MAY_BE_NONE = "the value may be `None`; check `is not None` first"
