"""How Dana values are called, indexed and have attributes read or written.

Consumes: runtime values (plain Python data, `values.*`, `Function`, host objects).
Produces: `call`, `get_attr`, `set_attr`, `get_item`, `set_item` and `host_error`, each
raising Dana runtime errors (`DanaRuntimeError`) with the caller's span. This is where
docs/language.md is enforced for attributes: no `_` names, only allow-listed methods of
str/list/dict/set/tuple, and host objects only through their `dana_attrs`.
"""

from __future__ import annotations

import functools
import types
from typing import Any, Callable

from dana.errors import DanaError, DanaRuntimeError, rule_error, runtime_error
from dana.messages import checks as M
from dana.messages import runtime as R
from dana.source import Span
from dana.surface import METHODS as SURFACE_METHODS
from dana.runtime.binding import Bind, binder
from dana.runtime.formatting import (SIZE_BUDGET, format_template, int_text_limit,
                                     is_int_text_limit)
from dana.runtime.functions import Function
from dana.runtime.shapes import check_contains, check_keys, check_walk
from dana.workflow.view import ConfigView
from dana.runtime.values import (describe_type, BoundMethod, Builtin, ErrorValue, ModuleValue,
                                 StructInstance, StructType, type_name)

_RECEIVERS: dict[type, str] = {str: "str", list: "list", dict: "dict", ConfigView: "dict",
                               set: "set", frozenset: "set", tuple: "tuple", int: "int",
                               float: "float"}
#: Python type -> method name -> argument binder, for the methods of `dana.surface.METHODS`.
METHODS: dict[type, dict[str, Bind]] = {
    py: {name: binder(decl) for name, decl in SURFACE_METHODS[receiver].items()}
    for py, receiver in _RECEIVERS.items()}
_LISTED = frozenset({"keys", "values", "items"})


def error(dana_type: str, message: str, span: Span | None) -> DanaRuntimeError:
    """A Dana runtime error of `dana_type` at `span`."""
    return DanaRuntimeError(dana_type, message, span)


_HOST_ERRORS = {ZeroDivisionError: "ZeroDivisionError", KeyError: "KeyError",
                IndexError: "IndexError", ValueError: "ValueError", TypeError: "TypeError",
                OverflowError: "ValueError", AttributeError: "AttributeError",
                RecursionError: "LimitError", PermissionError: "PermissionError",
                UnicodeError: "ValueError", FileNotFoundError: "Error", OSError: "Error"}


def host_error(exc: BaseException, span: Span | None) -> DanaError:
    """Turn a Python exception raised by host code into the matching Dana error."""
    if isinstance(exc, DanaError):
        return exc
    if isinstance(exc, ValueError) and is_int_text_limit(exc):
        return int_text_limit(span)
    if isinstance(exc, KeyError) and exc.args:
        return runtime_error(R.KEY_NOT_FOUND, span, key=exc.args[0])
    if isinstance(exc, RecursionError):
        return runtime_error(R.TOO_DEEP_RECURSION, span)
    for py_type, dana_type in _HOST_ERRORS.items():
        if isinstance(exc, py_type):
            return error(dana_type, str(exc), span)
    raise exc


def call(fn: Any, args: list[Any] | tuple, kwargs: dict[str, Any], span: Span | None) -> Any:
    """Call any Dana-callable value. Raises TypeError for values that are not callable."""
    if fn.__class__ is Function:
        return fn.call(tuple(args), span, kwargs or None)
    if fn.__class__ is not Builtin and fn.__class__ is not StructType:
        invoke = getattr(fn, "invoke", None)
        if invoke is not None:
            return invoke(list(args), kwargs, span)
        if not callable(fn) or isinstance(fn, (type, ModuleValue)):
            raise _not_callable(fn, span)
    return host_call(fn, args, kwargs, span)


def _not_callable(fn: Any, span: Span | None) -> DanaRuntimeError:
    if type_name(fn) == "workflow":
        name = getattr(fn, "name", "?")
        return rule_error("TypeError", M.WORKFLOW_CALLED, span, name=name,
                          notes=(M.NOTE_RUN_WORKFLOW.format(name=name),))
    return rule_error("TypeError", M.NOT_CALLABLE, span, type=type_name(fn))


def host_call(fn: Any, args: list[Any] | tuple, kwargs: dict[str, Any],
              span: Span | None) -> Any:
    """Call a host callable (a builtin, a struct type, a method of a builtin value) with
    Python errors turned into Dana errors at `span`."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        raise host_failure(exc, span) from None


def host_failure(exc: Exception, span: Span | None) -> BaseException:
    """What a call of host code at `span` raises for `exc`: a Dana error as it is (at
    `span` when it has no span of its own), a closed stdout as it is (it ends the program,
    not a step), any other Python error as the matching Dana error (`host_error`)."""
    if isinstance(exc, DanaRuntimeError):
        if exc.span is None:
            exc.span = span
        return exc
    if isinstance(exc, (DanaError, BrokenPipeError)):
        return exc
    return host_error(exc, span)


def get_attr(obj: Any, name: str, span: Span | None) -> Any:
    """`obj.name`: struct fields and methods, allowed methods of builtin types, dict keys
    (`d.key` sugar), module members and host objects' `dana_attrs`."""
    if name.startswith("_"):
        raise runtime_error(R.PRIVATE_ATTRIBUTE, span, name=name)
    if isinstance(obj, StructInstance):
        return _struct_attr(obj, name, span)
    if type(obj) is ConfigView and name in obj:  # a parameter named like a dict method
        return obj[name]
    methods = METHODS.get(type(obj))
    if methods is not None:
        if name in methods:
            return Builtin(f"{type_name(obj)}.{name}", builtin_method(obj, name))
        if isinstance(obj, dict):
            if name in obj:
                return obj[name]
            raise runtime_error(R.DICT_NO_KEY, span, key=name)
        raise rule_error("AttributeError", M.UNKNOWN_ATTRIBUTE, span, type=type_name(obj),
                         name=name)
    if isinstance(obj, ModuleValue):
        if name in obj.namespace:
            return obj.namespace[name]
        raise rule_error("AttributeError", M.IMPORT_NOT_FOUND, span, module=obj.name, name=name)
    getter = getattr(obj, "dana_getattr", None)
    if getter is not None:
        return _as_dana(getter(name, span), f"{type_name(obj)}.{name}")
    if name in getattr(obj, "dana_attrs", ()):
        return _as_dana(getattr(obj, name), f"{type_name(obj)}.{name}")
    raise rule_error("AttributeError", M.UNKNOWN_ATTRIBUTE, span, type=type_name(obj), name=name)


_HOST_CALLABLES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                   functools.partial)


def _as_dana(value: Any, label: str) -> Any:
    """A host object's attribute as Dana sees it: a Python function or method becomes a
    Builtin named `label` (so printing it never shows a host repr with an address)."""
    return Builtin(label, value) if isinstance(value, _HOST_CALLABLES) else value


def types_with_method(name: str) -> frozenset[type]:
    """The builtin types that have the allowed method `name` (see `builtin_method`)."""
    return frozenset(t for t, names in METHODS.items() if name in names)


def _struct_attr(obj: StructInstance, name: str, span: Span | None) -> Any:
    if name in obj.fields:
        return obj.fields[name]
    method = obj.struct.methods.get(name)
    if method is not None:
        return BoundMethod(obj, method)
    raise rule_error("AttributeError", M.UNKNOWN_MEMBER, span, struct=obj.struct.name, name=name)


# Mutating a list, dict or set while a `for` loop iterates over it is a ValueError at the
# mutating line (Starlark's rule; docs/language.md "for and while"). Containers being
# iterated, by id -> number of loops over them (shared by all threads).
ITERATED: dict[int, int] = {}
_MUTATORS: dict[type, frozenset[str]] = {
    list: frozenset("append clear extend insert pop remove reverse sort".split()),
    dict: frozenset("clear pop popitem setdefault update".split()),
    set: frozenset("""add clear difference_update discard intersection_update pop remove
symmetric_difference_update update""".split()),
}


def hold(container: Any) -> int | None:
    """Mark `container` as iterated by a loop; returns the key for `release` (None for
    values that cannot change)."""
    if type(container) not in _MUTATORS:
        return None
    key = id(container)
    ITERATED[key] = ITERATED.get(key, 0) + 1
    return key


def release(key: int | None) -> None:
    """The loop that `hold` returned `key` for has ended."""
    if key is not None:
        left = ITERATED.get(key, 1) - 1
        if left > 0:
            ITERATED[key] = left
        else:
            ITERATED.pop(key, None)


def _not_iterated(obj: Any, span: Span | None) -> None:
    if ITERATED and id(obj) in ITERATED:
        raise runtime_error(R.CHANGED_WHILE_ITERATED, span, type=type_name(obj))


def _guarded_method(obj: Any, method: Any) -> Any:
    def mutate(*args: Any, **kwargs: Any) -> Any:
        _not_iterated(obj, None)
        return method(*args, **kwargs)
    return mutate


def builtin_method(obj: Any, name: str) -> Any:
    """The allowed method `name` of a builtin-type `obj` as a host callable that binds its
    arguments through the declaration (str.format limited to plain fields; dict's
    keys/values/items returning lists; a mutating method refused while a loop iterates
    over `obj`)."""
    bind, method = METHODS[type(obj)][name], _method(obj, name)

    def call(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = bind(args, kwargs)
        _walk_guard(obj, name, args)
        _growth_guard(obj, name, args)
        return method(*args, **kwargs)
    return call


def call_method(obj: Any, name: str, args: tuple, span: Span | None) -> Any:
    """`obj.name(*args)` for an allowed method of a builtin-type `obj`, as calling
    `builtin_method(obj, name)` through `host_call` does, without making that callable:
    a method that neither changes its receiver nor needs a guard (`_plan`) is called
    directly, and only an error it raises goes the general way (it changes nothing, so
    calling it again there gives the same error)."""
    plan = _PLANS.get((obj.__class__, name))
    if plan is None:
        plan = _PLANS[obj.__class__, name] = _plan(obj.__class__, name)
    bind, direct, walks, grows = plan
    try:
        args, kwargs = bind(args, _NO_KEYWORDS)
        if walks:
            _walk_guard(obj, name, args)
        if grows:
            _growth_guard(obj, name, args)
    except DanaRuntimeError as exc:
        if exc.span is None:
            exc.span = span
        raise
    if direct is not None:
        try:
            return direct(obj, *args, **kwargs)
        except Exception:
            pass
    return host_call(_method(obj, name), args, kwargs, span)


_PLANS: dict[tuple[type, str], tuple] = {}
_GROWING = {list: frozenset({"extend"}),
            str: frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "replace",
                            "join"})}


def direct_method(cls: type, name: str) -> bool:
    """Whether method `name` of `cls` may be called directly (`dana.runtime.receivers`):
    it changes nothing, needs no size guard and walks only a dict's key."""
    _, direct, walks, grows = _plan(cls, name)
    return direct is not None and not grows and (not walks or cls is dict)


def _plan(cls: type, name: str) -> tuple:
    """How `call_method` calls method `name` of class `cls`: (binder, the unbound Python
    method when it may be called directly else None, whether `_walk_guard` and whether
    `_growth_guard` apply)."""
    plain = not (name == "format" and issubclass(cls, str)) \
        and not (name in _LISTED and issubclass(cls, dict)) and name not in _MUTATORS.get(cls, ())
    walks = cls in (dict, set, frozenset) or name == "sort" or name in _COMPARING
    return (METHODS[cls][name], getattr(cls, name) if plain else None, walks,
            name in _GROWING.get(cls, ()))


def _method(obj: Any, name: str) -> Callable[..., Any]:
    """The Python callable behind the allowed method `name` of `obj`."""
    if name == "format" and isinstance(obj, str):
        method = functools.partial(format_template, obj, SIZE_BUDGET.get())
    elif name in _LISTED and isinstance(obj, dict):
        method = _listed(getattr(obj, name))
    else:
        method = getattr(obj, name)
    if name in _MUTATORS.get(type(obj), ()):
        method = _guarded_method(obj, method)
    return method


_NO_KEYWORDS: dict[str, Any] = {}  # never written: the binder returns a new dict or this

def _growth_guard(obj: Any, name: str, args: tuple) -> None:
    """Before a method whose result can outgrow its receiver (str padding, expandtabs,
    replace and join; list.extend): refuse a result over the run's size budget (characters or
    items; docs/language.md "Safety and limits")."""
    size, limit = _grown_size(obj, name, args), SIZE_BUDGET.get()
    if size is not None and size > limit:
        raise runtime_error(R.TOO_BIG_BY_METHOD, type=type_name(obj), name=name, size=size,
                            units="characters" if obj.__class__ is str else "items",
                            limit=limit)


# The methods whose result can outgrow their receiver, by receiver type (`_grown_size`).
_GROWING = {list: frozenset({"extend"}),
            str: frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "replace",
                            "join"})}


def _grown_size(obj: Any, name: str, args: tuple) -> int | None:
    cls = obj.__class__
    if name not in _GROWING.get(cls, ()):
        return None
    try:
        if cls is list and name == "extend":
            return len(obj) + len(args[0])
        if cls is not str:
            return None
        if name in ("center", "ljust", "rjust", "zfill"):
            return args[0]
        if name == "expandtabs":
            return len(obj) + obj.count("\t") * (args[0] if args else 8)
        if name == "replace":
            old, new = args[0], args[1]
            count = obj.count(old) if old else len(obj) + 1
            return len(obj) + count * max(len(new) - len(old), 0)
        if name == "join":
            return len(obj) * max(len(args[0]) - 1, 0) + sum(map(len, args[0]))
    except (TypeError, IndexError, OverflowError):  # the method itself reports bad arguments
        return None
    return None


_COMPARING = frozenset({"index", "count", "remove"})


def _walk_guard(obj: Any, name: str, args: tuple) -> None:
    """Before a method that hashes its arguments (dict and set methods) or compares them
    with the items (list.index/count/remove, sort): that walk must be bounded (`shapes`)."""
    cls, budget = obj.__class__, SIZE_BUDGET.get()
    if cls is dict or cls is set or cls is frozenset:
        for arg in args[:1] if cls is dict else args:  # a dict's key comes first
            check_keys(arg if arg.__class__ in (list, set) else (arg,), budget, None)
    elif name == "sort":
        check_walk(obj, budget, None, "sort")
    elif name in _COMPARING:
        check_contains(args[0], obj, budget, None)


def _listed(method: Any) -> Any:
    return lambda: list(method())


def set_attr(obj: Any, name: str, value: Any, span: Span | None) -> None:
    """`obj.name = value`: struct fields (type-checked) and host objects with a setter."""
    if name.startswith("_"):
        raise runtime_error(R.PRIVATE_ATTRIBUTE, span, name=name)
    if isinstance(obj, StructInstance):
        spec = obj.struct.fields.get(name)
        if spec is None:
            raise rule_error("AttributeError", M.UNKNOWN_FIELD, span, struct=obj.struct.name,
                             name=name)
        value = spec.coerce(value)
        if not spec.check(value):
            raise rule_error("TypeError", M.ASSIGN_MISMATCH, span, src=describe_type(value),
                             target=f"field `{name}`", dst=spec.type_name)
        obj.fields[name] = value
        return
    setter = getattr(obj, "dana_setattr", None)
    if setter is not None:
        setter(name, value, span)
        return
    raise runtime_error(R.CANNOT_SET_ATTRIBUTE, span, name=name, type=type_name(obj))


def get_item(obj: Any, index: Any, span: Span | None) -> Any:
    """`obj[index]` with Python semantics (negative indices, slices; a zero slice step is
    a ValueError with Python's message)."""
    if index.__class__ is tuple:
        check_keys((index,), SIZE_BUDGET.get(), span)
    try:
        return obj[index]
    except Exception as exc:
        raise item_error(exc, obj, index, span) from None


def item_error(exc: Exception, obj: Any, index: Any, span: Span | None) -> BaseException:
    """The Dana error for Python's `exc` raised by `obj[index]` (`exc` itself when it is
    not one of the mapped kinds)."""
    if isinstance(exc, ValueError):
        return error("ValueError", str(exc), span)
    if isinstance(exc, KeyError):
        return runtime_error(R.KEY_NOT_FOUND, span, key=index)
    if isinstance(exc, IndexError):
        return runtime_error(R.INDEX_OUT_OF_RANGE, span, type=type_name(obj), index=index)
    if isinstance(exc, TypeError):
        if not hasattr(obj, "__getitem__") or isinstance(obj, (StructInstance, StructType)):
            return rule_error("TypeError", M.NOT_INDEXABLE, span, type=type_name(obj))
        return _bad_index(obj, index, span)
    return exc


def _bad_index(obj: Any, index: Any, span: Span | None) -> DanaRuntimeError:
    """The TypeError of a key `obj` does not take: the checker's E0312 for a sequence
    indexed by a non-int or sliced by non-int bounds (docs/errors.md)."""
    if isinstance(obj, (list, tuple, str, range)):
        if not isinstance(index, slice):
            return rule_error("TypeError", M.BAD_INDEX, span, what=f"a `{type_name(obj)}`",
                              expected="int", got=type_name(index))
        bounds = [b for b in (index.start, index.stop, index.step)
                  if b is not None and not isinstance(b, int)]
        if bounds:
            return rule_error("TypeError", M.BAD_SLICE, span, got=type_name(bounds[0]))
    return runtime_error(R.BAD_INDEX_TYPE, span, type=type_name(obj), index=type_name(index))


def set_item(obj: Any, index: Any, value: Any, span: Span | None) -> None:
    """`obj[index] = value` for lists and dicts; slice assignment as in Python (a zero
    step or an extended slice of another size is a ValueError with Python's message)."""
    if not isinstance(obj, (list, dict)):
        raise rule_error("TypeError", M.NOT_ITEM_ASSIGNABLE, span, type=type_name(obj))
    _not_iterated(obj, span)
    if index.__class__ is tuple:
        check_keys((index,), SIZE_BUDGET.get(), span)
    try:
        obj[index] = value
    except IndexError:
        raise runtime_error(R.ASSIGN_INDEX_OUT_OF_RANGE, span, index=index) from None
    except ValueError as exc:
        raise error("ValueError", str(exc), span) from None
    except TypeError as exc:
        raise error("TypeError", str(exc), span) from None


def make_error_value(value: Any, span: Span | None) -> ErrorValue:
    """What `raise value` throws: an error value, an error type, or a string (an `Error`)."""
    if isinstance(value, ErrorValue):
        return value
    if isinstance(value, str):
        return ErrorValue("Error", value)
    name = getattr(value, "name", None)
    if type(value).__name__ == "ErrorType" and name:
        return ErrorValue(name, "")
    raise rule_error("TypeError", M.BAD_RAISE, span, type=type_name(value))
