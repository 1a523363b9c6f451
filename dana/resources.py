"""Where the grammar and the standard library live, in a checkout or an installed wheel.

Consumes: nothing. Produces: `grammar_path()` and `stdlib_dir()` (absolute Paths), and
`find_module` / `module_source`: where `import name` finds its file (docs/language.md "Imports").
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
    """The file `import name` loads (docs/language.md, "Imports and modules"): `a.b` is
    `a/b.dana` or `a/b.na`, and a package `a` is `a/__init__.dana` (or `.na`). An
    absolute name is looked up beside the importer (the current folder for text without
    a path), then above the package the importer belongs to, then in the standard
    library; a relative name (`.sub`, `..pkg.mod`, `.`) from the importer's own folder,
    one folder up per extra dot. None when there is no such file."""
    here = importer.path.parent if importer.path is not None else Path.cwd()
    rest = name.lstrip(".")
    dots = len(name) - len(rest)
    if dots:
        bases = [here.parents[dots - 2] if dots > 1 else here]
    else:
        bases = [here, *_package_root(here), stdlib_dir()]
    for base in bases:
        found = _module_file(base / rest.replace(".", "/") if rest else base, bool(rest))
        if found is not None:
            return found.resolve()
    return None


def submodule_name(module: str, name: str) -> str:
    """The module `from module import name` loads when `name` is not a member of
    `module`: `pkg` + `sub` is `pkg.sub`, `.` + `sub` is `.sub`."""
    return module + name if module.endswith(".") else f"{module}.{name}"


def _module_file(target: Path, named: bool) -> Path | None:
    candidates = [target.with_suffix(s) for s in SOURCE_SUFFIXES] if named else []
    candidates += [target / f"__init__{s}" for s in SOURCE_SUFFIXES]
    return next((c for c in candidates if c.is_file()), None)


def _package_root(folder: Path) -> list[Path]:
    """The folder above the outermost package containing `folder` (a package is a folder
    with an `__init__` module), where its siblings are found; [] outside any package."""
    top = None
    while _module_file(folder, False) is not None and folder.parent != folder:
        top, folder = folder, folder.parent
    return [folder] if top is not None else []


def module_source(path: Path, importer: SourceFile) -> SourceFile:
    """The imported file's source, named in diagnostics beside the importer's own display
    name when it lies under the importer's folder (stable across machines), else by its
    full path. Raises OSError when the file cannot be read."""
    if importer.path is not None and path.is_relative_to(importer.path.parent):
        name = str(Path(importer.name).parent / path.relative_to(importer.path.parent))
    else:
        name = str(path)
    return SourceFile.from_bytes(name, path.read_bytes(), path)
