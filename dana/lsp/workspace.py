"""The files the language server knows: open documents (their unsaved text) and the Dana
files under the workspace folders (read from disk when asked), each analysed once per
version; and the cross-file questions: where an imported name is defined, and every use
of a definition in any file.

Consumes: document texts and paths; `dana.resources.find_module` (the rule `import`
follows).
Produces: `Workspace.analysis(path)`, `definition_of`, `references_to`, `modules` (for
completion).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dana.lsp.document import Analysis, analyze
from dana.lsp.features import ModuleSource
from dana.resources import find_module, stdlib_dir
from dana.types.resolve import Binding, Ref
from dana.types.scope import MODULE, PARAM, VAR

SUFFIXES = (".dana", ".na")
MAX_FILES = 2000


@dataclass
class _Entry:
    text: str
    analysis: Analysis | None = None


class Workspace(ModuleSource):
    """Open documents (by resolved path) over files on disk."""

    def __init__(self) -> None:
        self.roots: list[Path] = []
        self.open: dict[Path, _Entry] = {}
        self.disk: dict[Path, tuple[float, Analysis]] = {}

    # ---------------------------------------------------------------- documents
    def set_text(self, path: Path, text: str) -> None:
        entry = self.open.get(path)
        if entry is None or entry.text != text:
            self.open[path] = _Entry(text)

    def close(self, path: Path) -> None:
        self.open.pop(path, None)

    def analysis(self, path: Path) -> Analysis | None:
        """The analysis of `path`: of its open text, else of the file on disk (None when
        it cannot be read)."""
        entry = self.open.get(path)
        if entry is not None:
            if entry.analysis is None:
                entry.analysis = analyze(entry.text, path)
            return entry.analysis
        try:
            mtime = path.stat().st_mtime
            cached = self.disk.get(path)
            if cached is None or cached[0] != mtime:
                cached = (mtime, analyze(path.read_text(encoding="utf-8"), path))
                self.disk[path] = cached
        except (OSError, UnicodeDecodeError):
            return None
        return cached[1]

    def files(self) -> list[Path]:
        """Every Dana file of the workspace folders and the open documents."""
        found: dict[Path, None] = dict.fromkeys(self.open)
        for root in self.roots:
            for p in sorted(root.rglob("*")):
                if len(found) >= MAX_FILES:
                    break
                rel = p.relative_to(root).parts
                if p.suffix in SUFFIXES and not any(x.startswith(".") for x in rel):
                    found.setdefault(p.resolve(), None)
        return list(found)

    # ---------------------------------------------------------------- cross-file
    def origin(self, doc: Analysis, d: Binding) -> tuple[Analysis, Binding] | None:
        """Follow an imported name to its definition in the module it comes from."""
        if d.imported is None:
            return doc, d
        module, name = d.imported
        path = find_module(module, doc.source)
        other = self.analysis(path.resolve()) if path is not None else None
        if other is None or other.names is None:
            return None
        if not name:
            return other, Binding(module, MODULE, other.source_span_start())
        struct, _, member = name.partition(".")
        target = other.names.top.get(struct)
        if target is not None and member:
            target = other.names.member(struct, member)
        return (other, target) if target is not None and target.span is not None else None

    def references_to(self, doc: Analysis, d: Binding) -> list[tuple[Analysis, Ref]]:
        """Every use of `d` (followed to its origin) in the workspace's files."""
        found = self.origin(doc, d)
        if found is None:
            return [(doc, r) for r in doc.names.references(d)] if doc.names else []
        home, target = found
        out = [(home, r) for r in home.names.references(target)] if home.names else []
        if home.source.path is None or target.kind in (PARAM, VAR) \
                and home.names is not None and target not in home.names.top.values():
            return out
        name = target.name if target.container is None else \
            f"{target.container.name}.{target.name}"
        for path in self.files():
            other = self.analysis(path)
            if other is None or other.names is None or other is home:
                continue
            for imp in other.names.imported():
                if imp.imported[1] == name:
                    where = find_module(imp.imported[0], other.source)
                    if where is not None and where.resolve() == home.source.path.resolve():
                        out.extend((other, r) for r in other.names.references(imp))
        return out

    # ---------------------------------------------------------------- modules
    def names(self, doc: Analysis) -> list[str]:
        """Module names `import` can load from `doc`: files beside it and the stdlib."""
        folders = [stdlib_dir()]
        if doc.source.path is not None:
            folders.insert(0, doc.source.path.parent)
        names = set()
        for folder in folders:
            for p in folder.glob("*"):
                if p.suffix in SUFFIXES and p.stem != "__init__":
                    names.add(p.stem)
                elif p.is_dir() and any((p / f"__init__{s}").exists() for s in SUFFIXES):
                    names.add(p.name)
        return sorted(names)

    def members(self, module: str, doc: Analysis) -> list[Binding]:
        path = find_module(module, doc.source)
        other = self.analysis(path.resolve()) if path is not None else None
        if other is None or other.names is None:
            return []
        return [d for name, d in other.names.top.items()
                if not name.startswith("_") and d.span is not None]
