"""What a Dana program may touch outside itself: files to read, files to write, and
environment variables (docs/language.md "Files and the environment").

Consumes: the folders and names a host grants (the CLI's `--allow-read`, `--allow-write`,
`--allow-env`, `--sandbox`; an embedding host's `Permissions(...)`).
Produces: `Permissions` with `readable(path)`, `writable(path)` and `env_allowed(name)`,
each raising a Dana `PermissionError` that names the path as resolved (symlinks and `..`
followed first) and the flag that would allow it. The model is Deno's: nothing is
allowed unless granted; `dana run` grants reading and writing under the script's own
folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from dana.errors import DanaRuntimeError, runtime_error
from dana.messages import runtime as R
from dana.runtime.values import type_name


def _paths(items: Iterable[str | Path]) -> tuple[Path, ...]:
    return tuple(Path(p).expanduser().resolve() for p in items)


@dataclass(frozen=True, init=False)
class Permissions:
    """Folders (or files) a program may read under (`read`) and write under (`write`),
    and environment variables it may read (`env`, exact names). Paths are resolved when
    the value is made; relative paths a program uses start at `base` (default: the first
    read folder, else the current directory)."""

    read: tuple[Path, ...] = ()
    write: tuple[Path, ...] = ()
    env: tuple[str, ...] = ()
    base: Path | None = field(default=None, compare=False)

    def __init__(self, read: Iterable[str | Path] = (), write: Iterable[str | Path] = (),
                 env: Iterable[str] = (), base: str | Path | None = None) -> None:
        object.__setattr__(self, "read", _paths(read))
        object.__setattr__(self, "write", _paths(write))
        object.__setattr__(self, "env", tuple(env))
        object.__setattr__(self, "base", Path(base).resolve() if base is not None else None)

    def with_read(self, folder: str | Path) -> "Permissions":
        """These permissions, also reading under `folder`."""
        return replace(self, read=self.read + _paths([folder]))

    def resolve(self, path: Any) -> Path:
        """`path` (a Dana str) made absolute from `base`, symlinks and `..` resolved."""
        if not isinstance(path, str):
            raise runtime_error(R.PATH_NOT_TEXT, type=type_name(path))
        base = self.base or (self.read[0] if self.read else Path.cwd())
        return (base / path).resolve()

    def readable(self, path: Any) -> Path:
        """The resolved path when it lies under a read root; PermissionError otherwise."""
        resolved = self.resolve(path)
        if not _under(resolved, self.read):
            raise _denied("reading", path, resolved, self.read, "--allow-read", "read")
        return resolved

    def writable(self, path: Any) -> Path:
        """The resolved path when it lies under a write root; PermissionError otherwise."""
        resolved = self.resolve(path)
        if not _under(resolved, self.write):
            raise _denied("writing", path, resolved, self.write, "--allow-write", "write")
        return resolved

    def env_allowed(self, name: Any) -> str:
        """`name` when the program may read environment variable `name`; PermissionError
        otherwise."""
        if not isinstance(name, str):
            raise runtime_error(R.ENV_NAME_NOT_TEXT, type=type_name(name))
        if name not in self.env:
            raise runtime_error(R.ENV_NOT_ALLOWED, name=name)
        return name


def _under(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _denied(doing: str, given: str, resolved: Path, roots: tuple[Path, ...], flag: str,
            keyword: str) -> DanaRuntimeError:
    where = f"allowed only under {', '.join(str(r) for r in roots)}" if roots else \
        f"no folder may be {'read' if keyword == 'read' else 'written'}"
    shown = f"{given!r}" if str(resolved) == given else f"{given!r} (resolved: {resolved})"
    return runtime_error(R.PATH_NOT_ALLOWED, doing=doing, shown=shown, where=where, flag=flag,
                         resolved=resolved, keyword=keyword)
