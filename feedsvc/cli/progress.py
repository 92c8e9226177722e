"""A progress line for long CLI work whose total is known (``topics backfill``).

Why: SPEC §8 says long CLI work shows progress; a backfill of 50,000 articles ran ~7.5 s
silently. The work itself (``ops.backfill_topic``, shared with the API and the admin) prints
nothing: it reports ``(done, total)`` to a callback, and this draws it with Click's progress
bar, as ``feedsvc import`` does, on stderr and only on a TTY (scripts, pipes and tests see
nothing more than before: stdout keeps its one summary line).
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

import click

from feedsvc.signal_hold import SignalHold

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

#: The cursor shown again and the line erased: Click's bar hides the cursor while it draws.
_ERASE = "\r\033[K\033[?25h"


class ProgressLine:
    """``with ProgressLine("backfilling", sys.stderr) as line: work(progress=line.update)``.

    On a TTY ``file``, a bar from the first :meth:`update`: label, bar (as wide as the terminal
    leaves room for), done/total, the ETA (once Click knows it, after a second) and the rate in
    ``unit`` per second, drawn again after each update (a backfill's batch). Leaving
    the block normally leaves the bar at its last state on its own line; leaving it by an
    exception (Ctrl-C, SIGTERM's ``Terminated``, an error the caller will print) erases the
    line, so the message that follows does not land after a half-drawn bar (:attr:`erased`:
    it starts on an empty line). Not a TTY: nothing is ever written.
    """

    def __init__(self, label: str, file: TextIO, unit: str = "articles") -> None:
        self.label, self.file, self.unit = label, file, unit
        self._tty = _isatty(file)
        self._bar: ProgressBar[int] | None = None
        self._start = 0.0  # time.monotonic() of the first update
        #: the bar was on the screen and its line is now empty
        self.erased = False

    def __enter__(self) -> ProgressLine:
        return self

    def update(self, done: int, total: int) -> None:
        """``done`` of ``total`` items (both counts, only growing); the bar is drawn from the
        first call whose total is not 0 (an empty window shows nothing)."""
        if not self._tty or total <= 0:
            return
        if self._bar is None:
            self._start = time.monotonic()
            self._bar = click.progressbar(
                length=total,
                label=self.label,
                file=self.file,
                show_pos=True,
                width=0,  # the terminal's width: the line must not wrap, or each draw is a line
                item_show_func=lambda _item: self._rate(),
            )
        self._bar.length = total
        if done > self._bar.pos:
            self._bar.update(done - self._bar.pos)
        else:  # update(0) draws nothing: the first call, or only the total grew
            self._bar.render_progress()

    def _rate(self) -> str | None:
        """``"6650 articles/s"`` (plain digits, as every CLI count), None before any."""
        assert self._bar is not None
        elapsed = time.monotonic() - self._start
        if elapsed <= 0 or self._bar.pos <= 0:
            return None
        return f"{round(self._bar.pos / elapsed)} {self.unit}/s"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """End the bar's line: kept (a newline) or, on an exception, erased. Ctrl-C, SIGTERM
        and SIGHUP are held meanwhile (raised after it): a stop here would leave the cursor
        hidden or the line half-ended."""
        if self._bar is None:
            return
        hold = SignalHold()
        hold.hold()
        try:
            if exc_type is None:
                self._bar.render_finish()  # shows the cursor, ends the line
            else:
                self.file.write(_ERASE)
                self.file.flush()
                self.erased = True
        finally:
            self._bar = None
            hold.release()


def _isatty(file: TextIO) -> bool:
    try:
        return file.isatty()
    except (AttributeError, ValueError):  # no such method, or a closed stream
        return False
