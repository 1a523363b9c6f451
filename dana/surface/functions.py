"""Dana's builtin functions: the one declaration (docs/builtins.md is generated from it).

Consumes: `dana.surface.model`.
Produces: `FUNCTIONS` (name -> `Function`). The checker types calls from it, the runtime binds
arguments through it before calling its implementation (so both accept the same calls), and
the lexer, the REPL and the reference page list it. To add a builtin: declare it here, give
the runtime an implementation of the same name (`dana.runtime.builtins`), regenerate
docs/builtins.md (`python -m dana.surface.reference > docs/builtins.md`).
"""

from __future__ import annotations

from dana.surface.model import OMITTED, Function, Param

P = Param


def _f(name: str, params: tuple[Param, ...], returns: str, doc: str) -> Function:
    return Function(name, params, returns, doc)


_ANY_OPT = P("x", "any", OMITTED)

FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    _f("print", (P("values", "any", kind="star"), P("sep", "str", " ", "keyword"),
                 P("end", "str", "\n", "keyword")), "None",
       "Write the values, separated by `sep` and followed by `end`, to stdout."),
    _f("log", (P("message"), P("level", "str", "info")), "None",
       "Write `[level] message` to stderr when `level` is at or above the threshold."),
    _f("log_level", (P("level", "str"), P("namespace", "str", "dana")), "None",
       "Set the logging threshold (debug, info, warning, error, critical; any case)."),
    _f("len", (P("x", "sized"),), "int", "The number of characters or items of `x`."),
    _f("range", (P("start", "int"), P("stop", "int | None", None), P("step", "int", 1)),
       "list[int]", "The ints from `start` to `stop` by `step` (no `stop`: from 0 to `start`)."),
    _f("str", (_ANY_OPT,), "str", "`x` as text (no argument: the empty string)."),
    _f("int", (P("x", "int | float | str | bool", 0), P("base", "int | None", None)), "int",
       "`x` as an int; with `base`, `x` must be a str of digits in that base (ValueError)."),
    _f("float", (P("x", "int | float | str | bool", OMITTED),), "float", "`x` as a float."),
    _f("bool", (_ANY_OPT,), "bool", "The truth value of `x`."),
    _f("list", (P("items", "iterable", OMITTED),), "list", "A new list of the items."),
    _f("dict", (P("items", "dict | list[tuple]", OMITTED), P("pairs", "any", kind="kwstar")),
       "dict", "A new dict from a dict, a list of (key, value) pairs and keyword arguments."),
    _f("set", (P("items", "iterable", OMITTED),), "set", "A new set of the distinct items."),
    _f("tuple", (P("items", "iterable", OMITTED),), "tuple", "A new tuple of the items."),
    _f("sum", (P("items", "list[number] | tuple[number, ...] | set[number]"),
               P("start", "number", 0)), "number", "The sum of `start` and the items."),
    _f("min", (P("items", "any", kind="star"), P("key", "function | None", None, "keyword"),
               P("default", "any", OMITTED, "keyword")), "any",
       "The smallest of one iterable's items, or of several arguments."),
    _f("max", (P("items", "any", kind="star"), P("key", "function | None", None, "keyword"),
               P("default", "any", OMITTED, "keyword")), "any",
       "The largest of one iterable's items, or of several arguments."),
    _f("abs", (P("x", "number"),), "number", "The absolute value of `x`."),
    _f("round", (P("x", "number"), P("ndigits", "int | None", None)), "number",
       "`x` rounded to `ndigits` decimals (None: to an int), halves to even."),
    _f("sorted", (P("items", "iterable"), P("key", "function | None", None, "keyword"),
                  P("reverse", "bool", False, "keyword")), "list",
       "A new sorted list of the items."),
    _f("reversed", (P("items", "str | list | tuple | dict"),), "list",
       "A new list of the items in reverse order."),
    _f("enumerate", (P("items", "iterable"), P("start", "int", 0)), "list[tuple]",
       "A list of (index, item) pairs, counting from `start`."),
    _f("zip", (P("items", "iterable", kind="star"),), "list[tuple]",
       "A list of tuples of the i-th items of each argument (as long as the shortest)."),
    _f("any", (P("items", "iterable"),), "bool", "Whether some item is true."),
    _f("all", (P("items", "iterable"),), "bool", "Whether every item is true."),
    _f("map", (P("function", "function"), P("items", "iterable", kind="star")), "list",
       "A list of `function` applied to the items (to the i-th items of each iterable)."),
    _f("filter", (P("function", "function | None"), P("items", "iterable")), "list",
       "A list of the items for which `function` is true (None: the true items)."),
    _f("type", (P("x"),), "type", "The type of `x`."),
    _f("isinstance", (P("x"), P("types", "any")), "bool",
       "Whether `x` is of the type, or of one of a tuple of types."),
    _f("json_dumps", (P("x"), P("indent", "int | None", None), P("sort_keys", "bool", False)),
       "str", "`x` as JSON text (structs as objects)."),
    _f("json_loads", (P("text", "str"),), "any", "The value of JSON text."),
    Function("now", (), "float", "Seconds since the epoch (wall clock).",
             nondeterministic=True),
    _f("idempotency_key", (), "str",
       "A key for the running step attempt, the same when a resumed run repeats it."),
    _f("run", (P("workflow", "workflow"), P("config", "dict | None", None),
               P("params", "any", kind="kwstar")), "RunResult",
       "Run a workflow to completion with the config and parameters; its RunResult."),
    _f("compose", (P("workflows", "workflow", kind="star"),), "workflow",
       "The workflow running the given workflows one after another."),
    _f("case", (P("branches", "any", kind="star"),), "any",
       "A pipeline stage routing its input: (predicate, function) pairs, then a fallback."),
    _f("read_text", (P("path", "str"),), "str", "A file's text (UTF-8), if reading is allowed."),
    _f("read_lines", (P("path", "str"),), "list[str]", "A file's lines, without line ends."),
    _f("read_csv", (P("path", "str"),), "list[dict[str, str]]",
       "A CSV file's rows as dicts keyed by the header row."),
    _f("write_text", (P("path", "str"), P("text", "str")), "None",
       "Replace a file's text atomically, if writing there is allowed."),
    _f("append_text", (P("path", "str"), P("text", "str")), "None",
       "Add text at the end of a file atomically, if writing there is allowed."),
    _f("getenv", (P("name", "str"), P("default", "str | None", None)), "str | None",
       "An environment variable's value (or `default`), if reading it is allowed."),
)}
