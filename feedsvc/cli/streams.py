"""The standard streams a command was given, when they do not work (issue #17 §3).

A script may start ``feedsvc`` with stdin closed (``<&-``: Python then sets ``sys.stdin`` to
None, and ``import -`` or ``match`` failed on ``None.buffer`` or inside Click), or with stdout on
a full disk (``>/dev/full``: ``--help`` and ``--version`` write before any command runs, and
buffered output fails only at the interpreter's final flush, "Exception ignored … exit 120").
Each is one line on stderr and exit 1 here, at the CLI's root, for every command: a closed
stream is replaced by one whose use raises a worded ``OSError``, and stdout is flushed before
the command's exit code is final. A reader leaving the pipe (EPIPE, ``… | head -1``) stays
quiet, as Click makes it: exit 1, no message.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Any, NoReturn

import click

EXIT_FAILED = 1


class OutputError(OSError):
    """Writing standard output failed (not EPIPE: a reader leaving is Click's quiet exit 1).
    Its own class, so the root tells it from any other ``OSError`` a command meets."""


class _Stdout(io.FileIO):
    """stdout's descriptor, its write errors raised as :class:`OutputError`."""

    def write(self, data: Any, /) -> int:
        try:
            return super().write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(exc.errno, exc.strerror) from None


class _Closed(io.RawIOBase):
    """The raw stream behind a standard stream the process was started without: every read or
    write raises ``OSError(EBADF, "<name> is closed")``, until :func:`quiet` lets writes go
    nowhere (so the interpreter's last flush has nothing to complain about)."""

    def __init__(self, name: str, *, output: bool) -> None:
        super().__init__()
        self.name = name
        self.output = output
        self.discard = False

    def readable(self) -> bool:
        return not self.output

    def writable(self) -> bool:
        return self.output

    def readinto(self, buffer: Any, /) -> int:
        raise OSError(errno.EBADF, f"{self.name} is closed")

    def write(self, data: Any, /) -> int:
        if self.discard:
            return len(data)
        raise OutputError(errno.EBADF, f"{self.name} is closed")


def _closed_stream(name: str, *, output: bool) -> io.TextIOWrapper:
    raw = _Closed(name, output=output)
    buffered = io.BufferedWriter(raw) if output else io.BufferedReader(raw)
    return io.TextIOWrapper(buffered, encoding="utf-8", line_buffering=output)


def guard() -> None:
    """Stand-ins for the standard streams the process was started without (None in ``sys``):
    a command that reads or writes one gets a worded error; one that does not, runs as usual.
    A closed stderr takes nothing, since nothing could be said there anyway. stdout on a file
    descriptor is reopened as :class:`_Stdout` (same descriptor, encoding, buffering), so a
    failed write is known to be stdout's wherever it happens."""
    if sys.stdin is None:
        sys.stdin = _closed_stream("standard input", output=False)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (kept to the end)
    if sys.stdout is None:
        sys.stdout = _closed_stream("standard output", output=True)
        return
    old = sys.stdout
    buffer = getattr(old, "buffer", None)
    raw = getattr(buffer, "raw", buffer)  # PYTHONUNBUFFERED: the text layer is over FileIO
    if type(raw) is not io.FileIO or not isinstance(old, io.TextIOWrapper):
        return  # already ours, or not a plain file (Click's test runner): left alone
    old.flush()
    ours = _Stdout(raw.fileno(), "w", closefd=False)
    sys.stdout = io.TextIOWrapper(
        ours if buffer is raw else io.BufferedWriter(ours),
        encoding=old.encoding,
        errors=old.errors,
        line_buffering=old.line_buffering,
        write_through=old.write_through,
    )


def flush() -> None:
    """Write what is still buffered for stdout now, so that its failure (:class:`OutputError`)
    is the command's to report, not the interpreter's at exit ("Exception ignored", exit 120).
    A reader that left the pipe before this flush ends the command as Click does: exit 1, no
    message. A closed ``sys.stdout`` holds nothing to write (its close wrote it, or failed in
    the command, which said so): ``ValueError`` from it was a traceback after the one line
    (``topics export >&-``). No command closes it (``tests/test_cli_output.py``)."""
    if sys.stdout.closed:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        quiet()
        raise SystemExit(EXIT_FAILED) from None


def output_failed(exc: OSError) -> NoReturn:
    """Stdout failed: one line on stderr (none for a reader that left the pipe), stdout made
    quiet so the interpreter's final flush does not fail again, exit 1."""
    if exc.errno != errno.EPIPE:
        try:
            what = exc.strerror or str(exc)
            if not what.startswith("standard output"):  # not the closed stand-in's own words
                what = f"cannot write standard output: {what}"
            click.echo(f"feedsvc: {what}", err=True)
        except OSError:
            pass  # stderr does not work either: the exit code is all there is
    quiet()
    raise SystemExit(EXIT_FAILED)


def quiet() -> None:
    """Whatever is still buffered for stdout goes nowhere from now on."""
    buffer = getattr(sys.stdout, "buffer", None)
    raw = getattr(buffer, "raw", buffer)
    if isinstance(raw, _Closed):
        raw.discard = True
        return
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
