"""``feedsvc import -`` from a slow producer: a line is stored once it has waited
``importer.BATCH_SECONDS``, even when no further line arrives.

The batch's age was checked only as the next line arrived (the read blocked until then): a
producer that sent one line and paused for an hour left it unstored, invisible to ingest, for
the hour. The real CLI on a pipe kept open; the DB polled with a deadline. A partial line
(no line end yet) is never stored before its end comes; a signal still says what is stored
and what to send again.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from migrated import premigrated
from sqlalchemy import select

from feedsvc.db import Database
from feedsvc.db.schema import source_articles
from feedsvc.jsonlines import OverlongLine, bounded_lines

#: How long a line may wait before the test calls it unstored: BATCH_SECONDS (1 s) and a
#: loaded machine's slack.
STORED_WITHIN = 20.0


def record(n: int, title: str = "Công an Kiến Thụy") -> bytes:
    return json.dumps({
        "source_key": f"P{n}", "url": f"https://example.vn/tin/{n}.html", "title": title,
        "published_at": "2026-11-20T10:00:00+07:00",
    }, ensure_ascii=False).encode()  # fmt: skip


def stored(url: str) -> dict[str, str]:
    """source_key → title of the stored articles (none while the DB is not there yet)."""
    db = Database(url)
    try:
        with db.read() as conn:
            rows = conn.execute(select(source_articles.c.source_key, source_articles.c.title))
            return {key: title for key, title in rows}
    except Exception:  # the command has not created its tables yet
        return {}
    finally:
        db.dispose()


def wait_stored(url: str, proc: subprocess.Popen[bytes], keys: set[str]) -> dict[str, str]:
    """Poll until exactly ``keys`` are stored; fail at :data:`STORED_WITHIN` seconds."""
    deadline = time.monotonic() + STORED_WITHIN
    while (rows := stored(url)).keys() != keys:
        assert proc.poll() is None, f"import ended ({proc.returncode}) with {sorted(rows)}"
        assert time.monotonic() < deadline, f"stored {sorted(rows)}, not {sorted(keys)}"
        time.sleep(0.05)
    return rows


def stays(url: str, keys: set[str], seconds: float) -> None:
    """What is stored stays exactly ``keys`` for ``seconds`` (an absence can only be watched
    for a while: here longer than a batch's time)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert stored(url).keys() == keys, stored(url)
        time.sleep(0.1)


@contextmanager
def importing(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``feedsvc import -`` on a pipe the test writes to (and keeps open) on a migrated
    SQLite state DB: (its URL, the process)."""
    url = premigrated(f"sqlite:///{tmp_path / 'state.db'}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "import", "-"], cwd=tmp_path, env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def send(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    proc.stdin.write(data)
    proc.stdin.flush()


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    """Close the pipe (end of input): (exit code, stdout, stderr)."""
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out.decode(), err.decode()


def test_one_line_then_a_pause_is_stored_while_the_pipe_stays_open(tmp_path: Path) -> None:
    """One line, the producer quiet: stored within the batch's time. Then a second line and
    the same again (the next wait after a pause is bounded again)."""
    with importing(tmp_path) as (url, proc):
        send(proc, record(1) + b"\n")
        wait_stored(url, proc, {"P1"})
        send(proc, record(2) + b"\n")
        wait_stored(url, proc, {"P1", "P2"})
        code, out, err = finish(proc)
    assert code == 0, err
    assert out.strip() == "inserted 2, updated 0, unchanged 0, rejected 0", out


def test_two_lines_then_a_pause_are_stored(tmp_path: Path) -> None:
    with importing(tmp_path) as (url, proc):
        send(proc, record(1) + b"\n")
        send(proc, record(2) + b"\n")
        wait_stored(url, proc, {"P1", "P2"})
        code, out, err = finish(proc)
    assert (code, out.strip()) == (0, "inserted 2, updated 0, unchanged 0, rejected 0"), err


def test_a_partial_line_waits_for_its_end(tmp_path: Path) -> None:
    """A line and the first half of the next one, then a pause: the whole line is stored, the
    half is not (it would be a JSON error, or a cut title); its end comes, and it is stored
    whole."""
    whole = record(2, title="Kiến Thụy khánh thành cầu mới")
    half = len(whole) // 2
    with importing(tmp_path) as (url, proc):
        send(proc, record(1) + b"\n" + whole[:half])
        wait_stored(url, proc, {"P1"})
        stays(url, {"P1"}, 2.5)
        send(proc, whole[half:] + b"\n")
        rows = wait_stored(url, proc, {"P1", "P2"})
        code, out, err = finish(proc)
    assert rows["P2"] == "Kiến Thụy khánh thành cầu mới"
    assert (code, out.strip()) == (0, "inserted 2, updated 0, unchanged 0, rejected 0"), err


def test_a_partial_line_alone_is_not_stored(tmp_path: Path) -> None:
    """Nothing but a partial line, then a pause: nothing to store (no line has ended); the
    end of input makes it the last line, stored."""
    with importing(tmp_path) as (url, proc):
        send(proc, record(1)[:20])
        stays(url, set(), 2.5)
        send(proc, record(1)[20:])  # no line end: the input's end ends it
        code, out, err = finish(proc)
        assert stored(url).keys() == {"P1"}
    assert (code, out.strip()) == (0, "inserted 1, updated 0, unchanged 0, rejected 0"), err


@pytest.mark.parametrize(("sig", "code", "word"), [
    (signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated"),
])  # fmt: skip
def test_a_signal_after_the_pause_says_what_to_send_again(
    tmp_path: Path, sig: int, code: int, word: str
) -> None:
    """Stored by the pause, then a partial line, then Ctrl-C or SIGTERM: lines 1-2 are
    stored, the partial one is not, and the message says to send the lines after line 2."""
    with importing(tmp_path) as (url, proc):
        send(proc, record(1) + b"\n" + record(2) + b"\n" + record(3)[:10])
        wait_stored(url, proc, {"P1", "P2"})
        proc.send_signal(sig)
        exit_code, _out, err = finish(proc)
        assert stored(url).keys() == {"P1", "P2"}
    assert exit_code == code, err
    assert f"feedsvc import: {word}" in err and "lines 1-2 are stored (inserted 2" in err, err
    assert "The lines after line 2 were not read: send them again." in err, err
    assert "Traceback" not in err, err


def test_a_rejected_line_keeps_its_number_through_the_pipe_reader(tmp_path: Path) -> None:
    """Through the pipe reader: invalid UTF-8 is rejected with its line number, the good line
    after it is stored at the pause; exit 1 for the rejection."""
    with importing(tmp_path) as (url, proc):
        send(proc, record(1) + b"\n" + b'{"title": "\xff"}\n' + record(3) + b"\n")
        wait_stored(url, proc, {"P1", "P3"})
        exit_code, out, err = finish(proc)
    assert exit_code == 1, err
    assert "rejected line 2: " in err and "UTF-8" in err, err
    assert out.strip() == "inserted 2, updated 0, unchanged 0, rejected 1", out


def test_paced_lines_pause_once_a_line_waited(tmp_path: Path) -> None:
    """In process, on a real pipe: a line, then a pause once it has waited ``pause_after``
    (not before), a partial line never given until its end, one pause per wait, and the end of
    input ends it. A regular file is read through with no pause."""
    from feedsvc.jsonlines import PAUSE
    from feedsvc.pipe_lines import paced_lines

    read_fd, write_fd = os.pipe()
    with open(read_fd, "rb") as stream:
        lines = paced_lines(stream, 0.3)
        os.write(write_fd, b"a\nb")
        assert next(lines) == b"a\n"
        given_at = time.monotonic()
        assert next(lines) is PAUSE
        assert time.monotonic() - given_at >= 0.3
        os.write(write_fd, b"c\r\n")
        assert next(lines) == b"bc\r\n"
        assert next(lines) is PAUSE
        os.write(write_fd, b"d")
        os.close(write_fd)
        assert list(lines) == [b"d"]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"a\nb\n")
    with path.open("rb") as stream:
        assert list(paced_lines(stream, 0.0)) == [b"a\n", b"b\n"]


@given(
    st.lists(st.binary(max_size=30) | st.integers(0, 300), max_size=10),
    st.sampled_from([b"\n", b"\r\n"]),
    st.lists(st.integers(1, 50), min_size=1, max_size=8),
)
def test_lines_are_the_same_whatever_the_reads(
    parts: list[bytes | int], end: bytes, sizes: list[int]
) -> None:
    """``bounded_lines`` (its ``LineSplitter``) gives the same lines however the input comes
    in: all at once, or in reads of any size (a pipe's), lines cut anywhere, an overlong one
    too (limit 100)."""
    data = end.join(p if isinstance(p, bytes) else b"x" * p for p in parts)

    class Trickle(io.BytesIO):
        """A stream whose reads give at most the next of ``sizes`` bytes, in turn."""

        turn = 0

        def read1(self, size: int | None = -1, /) -> bytes:
            self.turn += 1
            return super().read1(min(sizes[self.turn % len(sizes)], size or 1))

    def content(line: bytes) -> bytes:  # the line without its line end
        return line.removesuffix(b"\n").removesuffix(b"\r") if line.endswith(b"\n") else line

    expected = [
        line if len(content(line)) <= 100 else OverlongLine(len(line), 100)
        for line in io.BytesIO(data).readlines()
    ]
    assert list(bounded_lines(io.BytesIO(data), 100)) == expected
    assert list(bounded_lines(Trickle(data), 100)) == expected


def test_what_a_stop_stored_is_said_in_words() -> None:
    """A tester's: "lines 1-1 are stored"."""
    from feedsvc.cli.data import _stored

    assert _stored(0) == "nothing was stored"
    assert _stored(1) == "line 1 is stored"
    assert _stored(2) == "lines 1-2 are stored"
