"""The lines of a pipe or a terminal, and a word when the input pauses with a line waiting.

Why: ``feedsvc import -`` stores a batch once its first line has waited
:data:`feedsvc.importer.BATCH_SECONDS`, but it could only look when the next line arrived: the
read blocked until then. A producer that sent one line and paused for an hour left that line
unstored, invisible to ingest, for the hour. :func:`paced_lines` waits for input with
``poll()`` instead, bounded by how long the oldest line it gave has waited, and gives
:data:`~feedsvc.jsonlines.PAUSE` when that reaches ``pause_after`` with no further line: the
importer stores what it holds.

A line is given only once its end is read (:class:`~feedsvc.jsonlines.LineSplitter`, the rule
:func:`~feedsvc.jsonlines.bounded_lines` follows too): a partial line waits for the rest. A
regular file never blocks: it is read by :func:`~feedsvc.jsonlines.bounded_lines`, and so is a
stream that has no file descriptor (a test's). Ctrl-C and the CLI's SIGTERM interrupt the wait
as they interrupted the blocking read (their handler's exception, out of ``poll`` or ``read``);
a partial line is then lost as it was, never stored.
"""

from __future__ import annotations

import io
import math
import os
import select
import stat
import time
from collections.abc import Iterator
from typing import IO

from feedsvc.jsonlines import PAUSE, READ_CHUNK, LineSplitter, OverlongLine, Pause, bounded_lines


def paced_lines(
    stream: IO[bytes], pause_after: float, limit: int | None = None
) -> Iterator[bytes | OverlongLine | Pause]:
    """The lines of ``stream`` as :func:`~feedsvc.jsonlines.bounded_lines` gives them (``limit``:
    its bound), with :data:`~feedsvc.jsonlines.PAUSE` once a line given has waited
    ``pause_after`` seconds with no line after it, when ``stream`` is a pipe, a terminal or a
    socket. One pause per wait: after it, the wait for the next line has no bound (an idle
    producer costs no wake-ups). What ``stream`` already buffered is read first."""
    fd = _waitable_fd(stream)
    if fd is None:
        yield from bounded_lines(stream, limit)
        return
    splitter = LineSplitter(limit)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    # a buffered reader may hold input already (the CLI peeks for a closed stdin): take it all
    # (READ_CHUNK exceeds its buffer) before reading the descriptor itself; this blocks only
    # when it holds nothing, and nothing waits to be stored yet then
    if isinstance(stream, io.BufferedReader):
        data = stream.read1(READ_CHUNK)
    else:
        data = os.read(fd, READ_CHUNK)
    oldest: float | None = None  # when the first line given since the last pause was
    while data:
        for line in splitter.feed(data):
            if oldest is None:
                oldest = time.monotonic()
            yield line
        if oldest is not None and not _input_within(poller, oldest + pause_after):
            yield PAUSE
            oldest = None
        data = os.read(fd, READ_CHUNK)
    yield from splitter.end()


def _input_within(poller: select.poll, deadline: float) -> bool:
    """Whether input (or its end) is there to read before ``deadline`` (``time.monotonic``)."""
    wait_ms = max(0, math.ceil((deadline - time.monotonic()) * 1000))
    return bool(poller.poll(wait_ms))


def _waitable_fd(stream: IO[bytes]) -> int | None:
    """``stream``'s file descriptor when a read of it can block (a pipe, a terminal or other
    character device, a socket), else None (a regular file, or no descriptor)."""
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last
        return None
    return fd if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode) else None
