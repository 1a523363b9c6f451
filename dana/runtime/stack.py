"""Room on CPython's frame stack for a Dana program, so deep recursion stays cheap.

Consumes: a function to run (a compiled module's top level, a parallel branch).
Produces: `with_room(fn, *args) -> fn(*args)`, run inside one Python frame that reserves
about a MiB of frame stack after itself.

CPython (3.11 and later) keeps each thread's Python frames in a stack of 16 KiB chunks: a
call that does not fit in the current chunk maps a new one, and the return of the frame
that began that chunk unmaps it again. A Dana call takes a few Python frames, so a
recursive Dana function a few dozen calls deep crosses a chunk's edge back and forth,
paying a map and an unmap each time (naive fib(24) ran 2.2x slower from it). CPython
gives a frame that needs more than a chunk its own chunk, rounded up to a power of two:
the frame of `with_room` declares a large value stack it never uses, so its chunk leaves
about a MiB free above it, and every frame of the program is allocated in that room. The
pages are never written, so they cost no memory.
"""

from __future__ import annotations

from typing import Any, Callable

ROOM_WORDS = 1 << 17
"""The value stack `with_room`'s frame declares, in pointers (1 MiB on 64 bits)."""


def with_room(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)`, run with about a MiB of CPython frame stack in one chunk."""
    return fn(*args)


try:
    with_room.__code__ = with_room.__code__.replace(co_stacksize=ROOM_WORDS)
except (AttributeError, TypeError, ValueError):  # not CPython: nothing to reserve
    pass
