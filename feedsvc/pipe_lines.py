"""The lines of a pipe or a terminal: waits that a signal always ends, and a word when the
input pauses with a line waiting.

Why, two faults of a blocking read of an open-ended input (``import -``, ``match``):

- ``feedsvc import -`` stores a batch once its first line has waited
  :data:`feedsvc.importer.BATCH_SECONDS`, but it could only look when the next line arrived: a
  producer that sent one line and paused for an hour left that line unstored for the hour.
  :func:`paced_lines` gives :data:`~feedsvc.jsonlines.PAUSE` when the oldest line it gave has
  waited ``pause_after`` with no further line: the importer stores what it holds.
- A signal could be lost for good. Python runs a signal's handler in the main thread between
  bytecodes; the C-level handler only marks it. A signal that came after the last such check
  and before a read entered the kernel did not interrupt the read (it was delivered already),
  and on an idle pipe the read waited for ever: ``match`` sent SIGTERM right after a line's
  answer hung until killed (CI, once in ~12,000 tests). Every wait here is a ``poll()`` on the
  input *and* on a wakeup pipe the C-level handler writes to (``signal.set_wakeup_fd``): a
  signal from any moment ends the wait, and its handler (the CLI's: ``feedsvc.entry``) runs
  as ``poll`` returns. The input is read only once ``poll`` says there is input or its end, so
  no read blocks.

The descriptor is read, not the stream's buffer: nothing may read the stream before (the CLI
waits for the first input with :func:`wait_for_input`, which reads nothing). A line is given
only once its end is read (:class:`~feedsvc.jsonlines.LineSplitter`, the rule
:func:`~feedsvc.jsonlines.bounded_lines` follows too): a partial line waits for the rest. A
regular file never blocks: it is read by :func:`~feedsvc.jsonlines.bounded_lines`, and so is a
stream that has no file descriptor (a test's, the CLI's stand-in for a closed stdin). A
partial line is lost when a signal ends the command, never stored.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import math
import os
import select
import signal
import stat
import time
from collections.abc import Iterator
from types import TracebackType
from typing import IO

from feedsvc.jsonlines import PAUSE, READ_CHUNK, LineSplitter, OverlongLine, Pause, bounded_lines


def paced_lines(
    stream: IO[bytes], pause_after: float | None, limit: int | None = None
) -> Iterator[bytes | OverlongLine | Pause]:
    """The lines of ``stream`` as :func:`~feedsvc.jsonlines.bounded_lines` gives them (``limit``:
    its bound), read after a wait a signal ends (see the module). When ``stream`` is a pipe, a
    terminal or a socket and ``pause_after`` (seconds) is given, :data:`~feedsvc.jsonlines.PAUSE`
    too, once a line given has waited that long with no line after it: one pause per wait;
    after it the wait for the next line has no bound (an idle producer costs no wake-ups).
    Raises what a signal's handler raises during a wait, and ``OSError`` of a read."""
    fd = _waitable_fd(stream)
    if fd is None:
        yield from bounded_lines(stream, limit)
        return
    splitter = LineSplitter(limit)
    oldest: float | None = None  # when the first line given since the last pause was
    with InputWait(fd) as wait:
        while True:
            deadline = None if oldest is None or pause_after is None else oldest + pause_after
            if not wait.ready(deadline):
                yield PAUSE
                oldest = None
                continue
            data = os.read(fd, READ_CHUNK)
            if not data:
                break
            for line in splitter.feed(data):
                if oldest is None:
                    oldest = time.monotonic()
                yield line
    yield from splitter.end()


def wait_for_input(stream: IO[bytes]) -> None:
    """Return once ``stream`` has input, or its end, to read, reading none of it; a signal
    ends the wait (its handler's exception). A stream without a waitable descriptor is peeked
    instead, which never blocks for long (a regular file) or raises at once (the CLI's
    stand-in for a closed stdin: its worded ``OSError``)."""
    fd = _waitable_fd(stream)
    if fd is not None:
        with InputWait(fd) as wait:
            wait.ready(None)
    elif isinstance(stream, io.BufferedReader):
        stream.peek(1)


class InputWait:
    """A wait for input on ``fd`` that any SIGINT or SIGTERM ends, whenever it came (the
    module's docstring). A context: the wakeup pipe is set on entry and the previous one put
    back on exit. Outside the main thread (where no wakeup pipe can be set, and no signal's
    handler runs) it is a plain ``poll``."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._poller = select.poll()
        self._poller.register(fd, select.POLLIN)
        self._wakeup: tuple[int, int] | None = None  # (read end, write end)
        self._previous = -1

    def __enter__(self) -> InputWait:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)  # set_wakeup_fd requires it
        try:
            self._previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        except ValueError:  # not the main thread
            os.close(read_end)
            os.close(write_end)
            return self
        self._wakeup = (read_end, write_end)
        self._poller.register(read_end, select.POLLIN)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._wakeup is None:
            return
        with contextlib.suppress(ValueError):  # closed by the collector in another thread
            signal.set_wakeup_fd(self._previous)
        for end in self._wakeup:
            os.close(end)
        self._wakeup = None

    def ready(self, deadline: float | None) -> bool:
        """True once there is input or its end to read; False when ``deadline``
        (``time.monotonic()`` seconds; None: no bound) passes first. A signal in the meantime
        raises what its handler raises, as ``poll`` returns; one the handler only notes (a
        second signal, while the first one's stop runs) lets the wait go on."""
        while True:
            events = self._poller.poll(_milliseconds_to(deadline))
            ready = {fd for fd, _ in events}
            if self._wakeup is not None and self._wakeup[0] in ready:
                _drain(self._wakeup[0])
            if self._fd in ready:
                return True
            if not ready:
                return False


def _milliseconds_to(deadline: float | None) -> int | None:
    """``poll``'s timeout until ``deadline`` (``time.monotonic()`` seconds): None for none."""
    return None if deadline is None else max(0, math.ceil((deadline - time.monotonic()) * 1000))


def _drain(fd: int) -> None:
    """Empty the non-blocking wakeup pipe (a byte per signal since the last wait)."""
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _waitable_fd(stream: IO[bytes]) -> int | None:
    """``stream``'s file descriptor when a read of it can block (a pipe, a terminal or other
    character device, a socket, open for reading), else None (a regular file, no descriptor,
    or one open for writing only: ``poll`` would wait for ever for input on a pipe's write
    end, where a read fails at once, ``EBADF``, which the CLI reports)."""
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
        access = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last
        return None
    if access == os.O_WRONLY:
        return None
    return fd if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode) else None
