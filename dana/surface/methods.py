"""Methods of Dana's builtin types: the one declaration (docs/builtins.md is generated from it).

Consumes: `dana.surface.model`.
Produces: `METHODS` (receiver type name -> method name -> `Function`). In type texts `T` is
the receiver's item type (list, set, tuple) and `K`, `V` its key and value types (dict). The
checker types method calls from it; the runtime allows exactly these methods and binds their
arguments through it.
"""

from __future__ import annotations

from dana.surface.model import OMITTED, Function, Param

P = Param
_START_END = (P("start", "int | None", None), P("end", "int | None", None))


def _m(receiver: str, name: str, params: tuple[Param, ...], returns: str, doc: str) -> Function:
    return Function(name, params, returns, doc, receiver)


def _str_methods() -> list[Function]:
    s = "str"
    out = [_m(s, n, (), "str", doc) for n, doc in (
        ("upper", "Upper-cased copy."), ("lower", "Lower-cased copy."),
        ("title", "Title-cased copy."), ("capitalize", "Copy with the first letter upper-cased."),
        ("casefold", "Copy folded for caseless comparison."),
        ("swapcase", "Copy with upper and lower case swapped."))]
    out += [_m(s, n, (P("chars", "str | None", None),), "str",
               f"Copy without leading/trailing `chars` (None: whitespace) ({n}).")
            for n in ("strip", "lstrip", "rstrip")]
    out += [_m(s, n, (), "bool", f"Whether the text is non-empty and {n[2:]}.")
            for n in ("isdigit", "isalpha", "isalnum", "isascii", "isspace", "isupper",
                      "islower", "isnumeric", "isdecimal", "istitle", "isidentifier")]
    out += [_m(s, n, (P("prefix", "str | tuple[str, ...]"),) + _START_END, "bool",
               f"Whether the text (from start to end) {n} with `prefix` (or one of a tuple).")
            for n in ("startswith", "endswith")]
    out += [_m(s, n, (P("sub", "str"),) + _START_END, "int", doc) for n, doc in (
        ("find", "Lowest index of `sub`, or -1."), ("rfind", "Highest index of `sub`, or -1."),
        ("index", "Lowest index of `sub` (ValueError when absent)."),
        ("rindex", "Highest index of `sub` (ValueError when absent)."),
        ("count", "Non-overlapping occurrences of `sub`."))]
    out += [_m(s, n, (P("width", "int"), P("fillchar", "str", " ")), "str",
               f"Copy padded with `fillchar` to `width` ({n}).") for n in ("center", "ljust", "rjust")]
    out += [_m(s, n, (P("sep", "str | None", None), P("maxsplit", "int", -1)), "list[str]",
               f"Words split at `sep` (None: runs of whitespace) ({n}).") for n in ("split", "rsplit")]
    out += [_m(s, n, (P("sep", "str"),), "tuple[str, str, str]",
               f"(before, sep, after) around the {'first' if n == 'partition' else 'last'} `sep`.")
            for n in ("partition", "rpartition")]
    out += [_m(s, "removeprefix", (P("prefix", "str"),), "str", "Copy without a leading `prefix`."),
            _m(s, "removesuffix", (P("suffix", "str"),), "str", "Copy without a trailing `suffix`."),
            _m(s, "splitlines", (P("keepends", "bool", False),), "list[str]", "The lines."),
            _m(s, "join", (P("items", "list[str] | tuple[str, ...] | set[str]"),), "str",
               "The items joined with the text between them."),
            _m(s, "replace", (P("old", "str"), P("new", "str"), P("count", "int", -1)), "str",
               "Copy with `old` replaced by `new` (at most `count` times; -1: all)."),
            _m(s, "format", (P("args", "any", kind="star"), P("kwargs", "any", kind="kwstar")),
               "str", "The text with `{}` fields filled in (no attribute or index access)."),
            _m(s, "zfill", (P("width", "int"),), "str", "Copy padded with zeros to `width`."),
            _m(s, "expandtabs", (P("tabsize", "int", 8),), "str", "Copy with tabs expanded.")]
    return out


def _list_methods() -> list[Function]:
    r = "list"
    return [
        _m(r, "append", (P("item", "T"),), "None", "Add `item` at the end."),
        _m(r, "extend", (P("items", "iterable"),), "None", "Add the items at the end."),
        _m(r, "insert", (P("index", "int"), P("item", "T")), "None", "Insert before `index`."),
        _m(r, "remove", (P("item", "T"),), "None", "Remove the first `item` (ValueError if none)."),
        _m(r, "pop", (P("index", "int", -1),), "T", "Remove and return the item at `index`."),
        _m(r, "clear", (), "None", "Remove every item."),
        _m(r, "index", (P("item", "T"), P("start", "int", 0), P("end", "int", OMITTED)), "int",
           "Index of the first `item` (ValueError if none)."),
        _m(r, "count", (P("item", "T"),), "int", "How many items equal `item`."),
        _m(r, "sort", (P("key", "function | None", None, "keyword"),
                       P("reverse", "bool", False, "keyword")), "None", "Sort in place."),
        _m(r, "reverse", (), "None", "Reverse in place."),
        _m(r, "copy", (), "list[T]", "A shallow copy."),
    ]


def _dict_methods() -> list[Function]:
    r = "dict"
    return [
        _m(r, "keys", (), "list[K]", "The keys, in insertion order."),
        _m(r, "values", (), "list[V]", "The values, in insertion order."),
        _m(r, "items", (), "list[tuple[K, V]]", "The (key, value) pairs, in insertion order."),
        _m(r, "get", (P("key", "K"), P("default", "any", None)), "V | None",
           "The value of `key`, or `default`."),
        _m(r, "pop", (P("key", "K"), P("default", "any", OMITTED)), "V",
           "Remove `key` and return its value (or `default`; KeyError without one)."),
        _m(r, "popitem", (), "tuple[K, V]", "Remove and return the last (key, value) pair."),
        _m(r, "setdefault", (P("key", "K"), P("default", "any", None)), "V",
           "The value of `key`, first setting it to `default` when absent."),
        _m(r, "update", (P("other", "dict | list[tuple]", OMITTED),
                         P("pairs", "any", kind="kwstar")), "None",
           "Set the keys of `other` and the keyword arguments."),
        _m(r, "clear", (), "None", "Remove every key."),
        _m(r, "copy", (), "dict[K, V]", "A shallow copy."),
    ]


def _set_methods() -> list[Function]:
    r = "set"
    out = [
        _m(r, "add", (P("item", "T"),), "None", "Add `item`."),
        _m(r, "remove", (P("item", "T"),), "None", "Remove `item` (KeyError if absent)."),
        _m(r, "discard", (P("item", "T"),), "None", "Remove `item` if present."),
        _m(r, "pop", (), "T", "Remove and return some item (KeyError if empty)."),
        _m(r, "clear", (), "None", "Remove every item."),
        _m(r, "copy", (), "set[T]", "A shallow copy."),
    ]
    out += [_m(r, n, (P("others", "iterable", kind="star"),), "set[T]", f"A new set: the {n}.")
            for n in ("union", "intersection", "difference")]
    out += [_m(r, n, (P("others", "iterable", kind="star"),), "None", f"In place: {n}.")
            for n in ("update", "intersection_update", "difference_update")]
    out += [_m(r, "symmetric_difference", (P("other", "iterable"),), "set[T]",
               "A new set: the items in exactly one of the two."),
            _m(r, "symmetric_difference_update", (P("other", "iterable"),), "None",
               "In place: keep the items in exactly one of the two.")]
    out += [_m(r, n, (P("other", "iterable"),), "bool", f"Whether the set {n[2:]} `other`.")
            for n in ("issubset", "issuperset", "isdisjoint")]
    return out


def _tuple_methods() -> list[Function]:
    r = "tuple"
    return [_m(r, "count", (P("item", "T"),), "int", "How many items equal `item`."),
            _m(r, "index", (P("item", "T"), P("start", "int", 0), P("end", "int", OMITTED)),
               "int", "Index of the first `item` (ValueError if none).")]


def _number_methods() -> list[Function]:
    return [_m("int", "bit_length", (), "int", "Bits needed to write the int, sign aside."),
            _m("int", "bit_count", (), "int", "Number of one bits of the absolute value."),
            _m("float", "is_integer", (), "bool", "Whether the float has no fraction."),
            _m("float", "as_integer_ratio", (), "tuple[int, int]",
               "(numerator, denominator) equal to the float.")]


METHODS: dict[str, dict[str, Function]] = {}
for _fn in (_str_methods() + _list_methods() + _dict_methods() + _set_methods()
            + _tuple_methods() + _number_methods()):
    METHODS.setdefault(_fn.receiver, {})[_fn.name] = _fn
