"""The shapes of the language-surface declarations (docs/architecture.md "The language surface").

Consumes: nothing (plain data).
Produces: `Param`, `Function` (a builtin function or a method of a builtin type), `TypeRef`
and `parse_type(text) -> TypeRef` for the type texts the declarations use, and the
`REQUIRED`/`OMITTED` default markers. The checker turns a `TypeRef` into a static type, the
runtime into a run-time check; neither keeps its own list of builtins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ParamKind = Literal["plain", "keyword", "star", "kwstar"]


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: The parameter has no default: a call must give it.
REQUIRED = _Marker("REQUIRED")
#: The parameter may be left out; then the implementation is called without it (it must be
#: the last positional parameter given, or keyword-only).
OMITTED = _Marker("OMITTED")


@dataclass(frozen=True)
class Param:
    """One parameter. `type` is Dana type text (`int`, `str | None`, `list[T]`, the aliases
    of `ALIASES`); `kind` is "plain" (by position or keyword), "keyword" (keyword-only),
    "star" (`*name`, the rest of the positional arguments, each of `type`) or "kwstar"
    (`**name`)."""

    name: str
    type: str = "any"
    default: object = REQUIRED
    kind: ParamKind = "plain"

    @property
    def optional(self) -> bool:
        return self.default is not REQUIRED or self.kind in ("star", "kwstar")

    def text(self) -> str:
        """`name: type = default` as the reference page shows it."""
        prefix = {"star": "*", "kwstar": "**"}.get(self.kind, "")
        out = f"{prefix}{self.name}: {self.type}"
        if self.default is OMITTED:
            return out + " = (omitted)"
        return out if self.default is REQUIRED else f"{out} = {self.default!r}"


@dataclass(frozen=True)
class Function:
    """A builtin function or method: its name, parameters in order, return type text and a
    one-line doc. `receiver` is the builtin type a method belongs to ("" for a function);
    `nondeterministic` marks a function whose answer changes from call to call (a `steps:`
    condition calling one may take another path when a resumed run replays it)."""

    name: str
    params: tuple[Param, ...]
    returns: str
    doc: str
    receiver: str = ""
    nondeterministic: bool = False

    def signature(self) -> str:
        """`name(params) -> returns`, keyword-only parameters after a `*`."""
        parts: list[str] = []
        for p in self.params:
            if p.kind == "keyword" and not any(x.startswith("*") for x in parts):
                parts.append("*")
            parts.append(p.text())
        return f"{self.name}({', '.join(parts)}) -> {self.returns}"


@dataclass(frozen=True)
class TypeRef:
    """A parsed type text: `name[args]`, or a union when `name` is "|" (`args` the options).
    `...` appears as a TypeRef named "..." (as in `tuple[int, ...]`)."""

    name: str
    args: tuple[TypeRef, ...] = ()


def parse_type(text: str) -> TypeRef:
    """Parse Dana type text (`dict[str, list[int]] | None`). Raises ValueError on bad text."""
    ref, rest = _union(text.replace(" ", ""))
    if rest:
        raise ValueError(f"bad type text {text!r}")
    return ref


def _union(text: str) -> tuple[TypeRef, str]:
    options = []
    while True:
        ref, text = _named(text)
        options.append(ref)
        if not text.startswith("|"):
            break
        text = text[1:]
    return (options[0] if len(options) == 1 else TypeRef("|", tuple(options))), text


def _named(text: str) -> tuple[TypeRef, str]:
    end = 0
    while end < len(text) and (text[end].isalnum() or text[end] in "_."):
        end += 1
    if end == 0:
        raise ValueError(f"bad type text at {text!r}")
    name, text = text[:end], text[end:]
    if not text.startswith("["):
        return TypeRef(name), text
    args = []
    text = text[1:]
    while True:
        ref, text = _union(text)
        args.append(ref)
        if text.startswith(","):
            text = text[1:]
            continue
        if not text.startswith("]"):
            raise ValueError(f"missing ] at {text!r}")
        return TypeRef(name, tuple(args)), text[1:]
