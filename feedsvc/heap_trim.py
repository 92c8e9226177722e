"""Giving the heap that work on big texts freed back to the system (Linux with glibc only).

Why: glibc's ``malloc`` keeps freed memory in its arenas (one per thread that allocated, up to
8 per core) and returns it only from the top of the main heap, so after an ingest batch or a
render of articles of ~2,000,000 characters the freed strings stayed resident: with 90 such
articles a service measured 1,215 MB resident, of which ``malloc_trim(0)`` gave 548 MB back
(a tester's U5, ``bench/huge_bodies.py``, bench/RESULTS.md). Ordinary articles (a few thousand
characters) are reused from the free lists and need no trim.

Work that reads big texts says how much (:func:`worked_on`: a batch read by ingest, articles
prepared for a render); at a quiet point, once those objects are dropped (the end of an ingest
tick, of a feeds sync, of an on-demand render), :func:`settle` trims when at least
:data:`TRIM_AFTER` characters were worked on since the last trim. ``malloc_trim`` walks every
arena's free chunks (its cost grows with the heap; not measured apart in the service), so it is
not run after small work; ctypes releases the GIL during it.
Elsewhere (macOS, musl) :func:`settle` does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import platform
import sys
import threading
import time
from collections.abc import Callable
from functools import cache

log = logging.getLogger(__name__)

#: characters of text worked on (as Python strings: 1, 2 or 4 bytes each) before a trim: one
#: ingest batch's text budget (``ingest.isolate.BATCH_TEXT``)
TRIM_AFTER = 16 * 1024 * 1024

_lock = threading.Lock()
_worked = 0


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where there is none."""
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def worked_on(chars: int) -> None:
    """Note ``chars`` characters of text read or built (see the module's docstring)."""
    global _worked
    with _lock:
        _worked += chars


def settle() -> bool:
    """Trim the heap when :data:`TRIM_AFTER` characters were worked on since the last trim;
    whether it did. Call it where the big objects are dropped, never while they are held."""
    global _worked
    with _lock:
        if _worked < TRIM_AFTER:
            return False
        _worked = 0
    trim = _malloc_trim()
    if trim is None:
        return False
    t0 = time.perf_counter()
    trim(0)
    log.debug("heap trimmed in %.0f ms", (time.perf_counter() - t0) * 1000)
    return True


def pending() -> int:
    """Characters worked on since the last trim (tests)."""
    with _lock:
        return _worked
