"""Where a command writes what an operator asked for with ``-o``/``--output``: a file named on
the command line, or ``-``, standard output.

Why one place: ``topics export -o -`` with stdout closed (``>&-``) printed the right line and
then a 59-line traceback. Click's stream for ``-`` was told from a file by its ``name``, which
is ``standard output`` for the stand-in of a closed stdout (:mod:`feedsvc.cli.streams`), so it
took the file's branch, closed ``sys.stdout`` after the failed write, and the root's last
flush met a closed file (``ValueError``). ``-`` is now decided where the value is typed
(:class:`OutputFile`), and standard output is never closed here: its errors are the root's to
say, once, as for every command (one line, exit 1; a reader that left the pipe: exit 1, quiet).
"""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from typing import IO, Any

import click

from feedsvc.cli.common import fail

#: What :class:`OutputFile` gives for ``-``: standard output as the command finds it then
#: (``sys.stdout``, which :func:`feedsvc.cli.streams.guard` may have replaced).
STDOUT = "-"


class OutputFile(click.File):
    """An ``-o``/``--output`` parameter: a file opened for writing (UTF-8, lazily: a file that
    cannot be opened is exit 2 at the first write, ``feedsvc.cli._Root``), or ``sys.stdout``
    itself for ``-``, which :func:`write_output` recognises by identity, never by name. Every
    output option of the CLI is one (``tests/test_cli_output.py`` walks them)."""

    def __init__(self) -> None:
        super().__init__("w", encoding="utf-8")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str | os.PathLike) and os.fsdecode(value) == STDOUT:
            return sys.stdout
        return super().convert(value, param, ctx)


def write_output(output: IO[Any], text: str) -> None:
    """``text`` written where ``-o`` said. A file named on the command line is flushed here, so
    a full disk or an I/O error is one line naming the file (exit 1): Click's lazy file wrote
    its buffer only when it was closed, after the command, and said "No space left on device"
    without the file. Standard output (``-``, :class:`OutputFile`) gets the text as UTF-8 (a
    topics file's encoding, whatever ``PYTHONIOENCODING`` says) and is neither flushed nor
    closed here: :mod:`feedsvc.cli.streams` words its failures for every command."""
    if output is sys.stdout:
        _to_stdout(text)
        return
    name = getattr(output, "name", None)
    try:
        output.write(text)
        output.flush()
    except OSError as exc:
        with suppress(OSError):  # closed now, its unwritten buffer dropped: not said twice
            output.close()
        fail(f"cannot write {name}: {exc.strerror or exc}")


def _to_stdout(text: str) -> None:
    """``text`` on standard output as UTF-8, after what is already buffered there: through its
    byte layer when it has one (a failure there is ``streams.OutputError`` or a broken pipe,
    left to the root), else through the text layer (a test runner's stream)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None or (sys.stdout.encoding or "").lower().replace("-", "") == "utf8":
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
