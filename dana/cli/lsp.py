"""`dana lsp`: start the language server on stdin/stdout (docs/tools.md "dana lsp").

Consumes: nothing but the LSP stream an editor opens.
Produces: exit 0 when the client ends the session; a usage error (exit 2) when the `lsp`
extra (pygls) is not installed.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from dana.errors import UsageError
from dana.messages import usage as U


def add_parser(sub: Any) -> None:
    lsp = sub.add_parser(
        "lsp", help="run the Dana language server (LSP over stdio)",
        description="Serve the Language Server Protocol on stdin/stdout for an editor: "
                    "diagnostics, hover, completion, signature help, definition, "
                    "references, rename, symbols and formatting. Needs the `lsp` extra: "
                    "pip install 'dana-lang[lsp]'.")
    lsp.add_argument("--debug", action="store_true", help="show Python tracebacks")


def cmd_lsp(args: Any) -> int:
    try:
        from dana.lsp.server import serve
    except ImportError as exc:
        raise UsageError.of(U.LSP_MISSING, package=exc.name) from None
    from dana.cli.main import _version
    serve(_version())
    sys.stdout = open(os.devnull, "w")  # pygls closed the real one when the client left
    return 0
