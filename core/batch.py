"""Helpers for the few operations that build hundreds of thousands of objects at once."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (usable as a decorator).

    A draw over 100,000 sources allocates that many rows and dicts in a few hundred
    milliseconds; every few thousand allocations the collector then walks all live objects,
    which cost up to a third of the time and made it vary from run to run. Those objects
    form no reference cycles, so nothing is lost by letting the collector resume after the
    block. Reference counting still frees everything as usual meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
