"""Where the grammar and the standard library live, in a checkout or an installed wheel.

Consumes: nothing. Produces: `grammar_path()` and `stdlib_dir()` (absolute Paths), and
`find_module` / `module_source`: where `import name` finds its file (DESIGN §2 "Imports").
A wheel carries `grammar/` and `stdlib/` as `dana/_data/...` (pyproject force-include);
a source checkout (or editable install) has them beside the `dana/` package.
"""

from __future__ import annotations

from pathlib import Path

from dana.source import SourceFile

SOURCE_SUFFIXES = (".dana", ".na")

_PACKAGE = Path(__file__).resolve().parent


def _find(relative: str) -> Path:
    for base in (_PACKAGE / "_data", _PACKAGE.parent):
        candidate = base / relative
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"Dana installation is missing {relative!r}")


def grammar_path() -> Path:
    """Path of `dana.lark`. Raises FileNotFoundError for a broken installation."""
    return _find("grammar/dana.lark")


def stdlib_dir() -> Path:
    """Directory of the standard library's `.dana` modules."""
    return _find("stdlib")


def find_module(name: str, importer: SourceFile) -> Path | None:
    """The file `import name` loads (`a.b` is `a/b.dana` or `a/b.na`): beside the
    importer (the current folder for text without a path), then in the standard library.
    None when there is no such file."""
    relative = name.replace(".", "/")
    bases = [importer.path.parent] if importer.path is not None else [Path.cwd()]
    bases.append(stdlib_dir())
    for base in bases:
        for suffix in SOURCE_SUFFIXES:
            candidate = (base / relative).with_suffix(suffix)
            if candidate.is_file():
                return candidate.resolve()
    return None


def module_source(path: Path, importer: SourceFile) -> SourceFile:
    """The imported file's source, named in diagnostics beside the importer's own display
    name when it lies under the importer's folder (stable across machines), else by its
    full path. Raises OSError when the file cannot be read."""
    if importer.path is not None and path.is_relative_to(importer.path.parent):
        name = str(Path(importer.name).parent / path.relative_to(importer.path.parent))
    else:
        name = str(path)
    return SourceFile(name, path.read_text("utf-8"), path)
