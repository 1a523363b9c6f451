"""Codes and texts of Dana's own failures (E09xx, docs/errors.md): a bug in Dana met while
handling a program, never a mistake in the program.

Consumes: `Msg`. Produces: `Msg` constants.
"""

from __future__ import annotations

from dana.messages import Msg

CHECKER_CRASHED = Msg("E0900", "internal error: the type checker crashed ({error}); this is a "
                               "bug in Dana, please report it with this program")
