"""Texts of run-time errors that have no static twin (E05xx, docs/errors.md): their code is
that of their error type (`dana.surface.vocab`). A mistake the checker also finds is
raised with the checker's constant instead (`dana.errors.rule_error`).

Consumes: `Msg`. Produces: `Msg` constants.
"""

from __future__ import annotations

from dana.messages import Msg

EARLIER_ARGUMENT = Msg("E0502", "{callee} needs argument `{name}` when a later one is given")
