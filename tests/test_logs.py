"""Logged values cannot forge log lines (issue #12 §7): control characters in any logger's
message are escaped in text mode, tracebacks stay indented under their record, JSON stays one
object per line; secrets are still scrubbed."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.engine.default import DefaultDialect

from feedsvc.logs import setup_logging

RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4} (DEBUG|INFO|WARNING|ERROR|CRITICAL)\s"
)
FORGED = "https://example.vn/tin.html\n12:00:00 INFO    feedsvc.dispatch: sent to chat 1"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What the root handler writes, after each test's own ``setup_logging`` (see ``to``)."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def to(stream: io.StringIO, level: str = "INFO", **options: object) -> None:
    """``setup_logging`` as the service calls it, its handler writing to ``stream``."""
    setup_logging(level, **options)  # type: ignore[arg-type]
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


@pytest.mark.parametrize(
    "value",
    [
        FORGED,
        "a\r\n12:00:00 ERROR x: y",
        "tab\there",
        "bell\x07 esc\x1b[31mred",
        "nel\x85next",
        "ls\u2028ps\u2029end",
        "nul\x00",
        "vt\x0bff\x0c",
    ],
)
@pytest.mark.parametrize("name", ["feedsvc.notify", "uvicorn.error", "httpx", "some.library"])
def test_control_characters_never_start_a_line(
    captured: io.StringIO, value: str, name: str
) -> None:
    to(captured)
    logging.getLogger(name).warning("console alert: %s", value)
    out = lines(captured)
    assert len(out) == 1, out
    assert RECORD.match(out[0])
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", out[0])


def test_tracebacks_keep_their_lines_but_cannot_pass_for_records(captured: io.StringIO) -> None:
    to(captured, secrets=["s3cr3t-token"])
    try:
        raise ValueError(f"bad url {FORGED} s3cr3t-token")
    except ValueError:
        logging.getLogger("feedsvc.ingest").exception("tick failed for %s", "row\n1")
    out = lines(captured)
    assert RECORD.match(out[0]) and "row\\n1" in out[0]
    assert all(not RECORD.match(line) for line in out[1:]), out
    assert all(line.startswith("    ") for line in out[1:])
    assert "Traceback" in out[1] and "s3cr3t-token" not in captured.getvalue()


@given(st.text())
def test_any_message_is_one_line(value: str) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        to(stream)
        logging.getLogger("feedsvc.x").info("v=%s", value)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert len(text.splitlines()) == 1


def test_json_mode_is_one_object_per_line(captured: io.StringIO) -> None:
    to(captured, fmt="json")
    logging.getLogger("feedsvc.notify").warning("console alert: %s", FORGED)
    (line,) = lines(captured)
    assert json.loads(line)["msg"].endswith("sent to chat 1")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ValueError("bad\n  value"), "ValueError: bad value"),
        (OSError("t0ken in the url"), "OSError: <token> in the url"),
        (RuntimeError("<html>" + "x" * 1000), "RuntimeError: <html>" + "x" * 279 + "…"),
    ],
)
def test_brief_error_is_one_bounded_scrubbed_line(exc: BaseException, expected: str) -> None:
    from feedsvc.logs import ERROR_CHARS, brief_error

    got = brief_error(exc, lambda text: text.replace("t0ken", "<token>"))
    assert got == expected and len(got) <= ERROR_CHARS


class Cut(KeyboardInterrupt):
    """A stand-in for the CLI's ``Terminated`` (a KeyboardInterrupt), raised by a close."""


@pytest.mark.parametrize("secrets", [[], ["s3cr3t-token"]], ids=["no secrets", "secrets"])
@pytest.mark.parametrize("raised", [KeyboardInterrupt, Cut], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_inside_the_pools_close_is_not_logged(
    captured: io.StringIO,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    raised: type[KeyboardInterrupt],
    secrets: list[str],
) -> None:
    """SQLAlchemy's pool logs an interrupt raised in a connection's close at ERROR with its
    traceback, then raises it on: the CLI, which says the interrupt in one line, printed the
    traceback above it (`import` hammered with SIGINT, CI). A real engine, a real close."""
    to(captured, secrets=secrets)
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))

    def interrupted(self: object, connection: object) -> None:
        raise raised()

    monkeypatch.setattr(DefaultDialect, "do_close", interrupted)
    with pytest.raises(raised):
        engine.dispose()
    assert captured.getvalue() == ""


def test_an_error_inside_the_pools_close_is_still_logged(
    captured: io.StringIO, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    to(captured)
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))

    def failed(self: object, connection: object) -> None:
        raise OSError("disk I/O error")

    monkeypatch.setattr(DefaultDialect, "do_close", failed)
    engine.dispose()  # SQLAlchemy logs an Exception and goes on
    assert "Exception closing connection" in captured.getvalue()
    assert "disk I/O error" in captured.getvalue()


@pytest.mark.parametrize(("zone", "offset"), [("Asia/Ho_Chi_Minh", "+0700"), ("UTC", "+0000")])
def test_a_text_line_carries_the_date_and_the_offset(zone: str, offset: str) -> None:
    """The time of day alone could not be placed in a log kept past midnight or read in
    another zone: each line says its date and the process's UTC offset."""
    code = (
        "import logging, time\n"
        "from feedsvc.logs import setup_logging\n"
        "setup_logging('INFO', 'text')\n"
        "logging.getLogger('feedsvc.app').info('feedsvc started')\n"
        "print(time.strftime('%Y-%m-%d', time.localtime()))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TZ"} | {"TZ": zone}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    (line,) = done.stderr.splitlines()
    assert RECORD.match(line), line
    day = done.stdout.strip()
    assert line.startswith(day + " ") and line[19:24] == offset, line
    assert line.endswith(" INFO    feedsvc.app: feedsvc started"), line
