"""`dana fmt`: rewrite Dana files in the canonical layout (docs/tools.md).

Consumes: file and folder arguments (folders: every `.dana`/`.na` file below them, minus
hidden folders and the `exclude` globs of `[tool.dana.fmt]` in the nearest
`pyproject.toml`), or `-` for standard input.
Produces: rewritten files (or, with `--check`, the list of files that would change on
stderr and exit 1; with `--diff`, a unified diff on stdout); `-` writes the formatted text
to stdout. A file that does not parse is reported like `dana check` does (exit 2).
"""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path
from typing import Any

from dana import pipeline
from dana.diagnostics import render_error
from dana.errors import DanaError, UsageError
from dana.messages import usage as U
from dana.source import SourceFile

SUFFIXES = (".dana", ".na")
EXIT_OK, EXIT_CHANGED, EXIT_USAGE = 0, 1, 2


def add_parser(sub: Any) -> None:
    fmt = sub.add_parser(
        "fmt", help="format .dana files in the canonical layout",
        description="Rewrite Dana files in one canonical layout (4-space indents, spaces "
                    "around operators, lines of at most 88 columns broken inside brackets), "
                    "keeping every comment. Folders are searched for .dana and .na files "
                    "(hidden folders and [tool.dana.fmt] exclude globs in pyproject.toml "
                    "are skipped). Exit 1 with --check when a file would change, 2 when a "
                    "file does not parse.")
    fmt.add_argument("paths", nargs="+", metavar="FILE|DIR",
                     help="files or folders to format; `-` reads standard input and writes "
                          "the result to standard output")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; list the files that would change and exit 1 if any")
    fmt.add_argument("--diff", action="store_true",
                     help="change nothing; print a unified diff of the changes on stdout")
    fmt.add_argument("--debug", action="store_true", help="show Python tracebacks")


def cmd_fmt(args: Any) -> int:
    from dana.format import format_source  # not loaded by `dana run` (tests/test_startup.py)
    if args.paths == ["-"]:
        text = sys.stdin.read()
        result = format_source(SourceFile("<stdin>", text))
        _report(args, "<stdin>", text, result, write=lambda: sys.stdout.write(result))
        return EXIT_CHANGED if args.check and result != text else EXIT_OK
    changed = broken = 0
    files = discover(args.paths)
    for path in files:
        try:
            source = pipeline.read_source(path)
            result = format_source(source)
        except DanaError as exc:
            print(render_error(exc), file=sys.stderr)
            broken += 1
            continue
        if result != source.text:
            changed += 1
            _report(args, str(path), source.text, result,
                    write=lambda: path.write_text(result, encoding="utf-8"))
    _summary(args, len(files), changed, broken)
    if broken:
        return EXIT_USAGE
    return EXIT_CHANGED if args.check and changed else EXIT_OK


def _report(args: Any, name: str, before: str, after: str, write: Any) -> None:
    if args.diff:
        import difflib
        sys.stdout.writelines(difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True),
            f"{name} (original)", f"{name} (formatted)"))
    if args.check and before != after and name != "<stdin>":
        print(f"would reformat {name}", file=sys.stderr)
    if not args.check and not args.diff:
        write()


def _summary(args: Any, total: int, changed: int, broken: int) -> None:
    verb = "would be reformatted" if args.check or args.diff else "reformatted"
    parts = [f"{changed} file(s) {verb}", f"{total - changed - broken} left unchanged"]
    if broken:
        parts.append(f"{broken} could not be parsed")
    print(", ".join(parts), file=sys.stderr)


def discover(paths: list[str]) -> list[Path]:
    """The files to format: each FILE as given, each DIR searched (sorted). Raises
    UsageError (E0601) for a path that does not exist."""
    out: list[Path] = []
    for arg in paths:
        path = Path(arg)
        if path.is_dir():
            out.extend(_walk(path, _excludes(path.resolve())))
        elif path.exists():
            out.append(path)
        else:
            raise UsageError.of(U.FILE_NOT_FOUND, path=arg)
    return out


def _walk(folder: Path, excludes: tuple[Path, list[str]] | None) -> list[Path]:
    found = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).parts
        if p.suffix not in SUFFIXES or not p.is_file() or any(x.startswith(".") for x in rel):
            continue
        if excludes is not None:
            root, patterns = excludes
            name = p.resolve().relative_to(root).as_posix()
            if any(fnmatch.fnmatch(name, pattern) for pattern in patterns):
                continue
        found.append(p)
    return found


def _excludes(folder: Path) -> tuple[Path, list[str]] | None:
    """(the folder of the nearest pyproject.toml, its [tool.dana.fmt] exclude globs)."""
    import tomllib
    for parent in (folder, *folder.parents):
        config = parent / "pyproject.toml"
        if config.is_file():
            try:
                data = tomllib.loads(config.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                return None
            patterns = data.get("tool", {}).get("dana", {}).get("fmt", {}).get("exclude", [])
            return parent, [str(p) for p in patterns]
    return None
