"""The console's alerts (the demo, a service without a Telegram token) are readable in a log:
the alert's lines indented under its record, not one line of ``\\n`` escapes (a newcomer's:
``alert to telegram chat 1 (#…):\\nBắt giữ…\\nAn ninh - Trật tự · …``). Still no article
text forges a record: a title's CR, LF and ANSI escapes stay neutralised, and every line after
the record's own is indented (``logs.LINES``), as a traceback's are."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from factories import article

from feedsvc.logs import setup_logging
from feedsvc.notify.console import ConsoleSender
from feedsvc.notify.edits import ConsoleEditor
from feedsvc.notify.message import format_alert

RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4} (DEBUG|INFO|WARNING|ERROR)\s")
FORGED = "2026-12-07 10:00:00+0700 INFO    feedsvc.dispatch: sent to chat 9"
HOSTILE = f"Bắt giữ\r\n{FORGED}\x1b[2K\x1b[31m đỏ\rX\u2028Y\x85Z"
CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("INFO")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def _records(text: str) -> list[str]:
    return [line for line in text.split("\n") if RECORD.match(line)]


def test_an_alert_is_logged_as_its_lines_under_one_record(captured: io.StringIO) -> None:
    msg = format_alert(article(title=HOSTILE), ["An ninh"], ZoneInfo("Asia/Ho_Chi_Minh"))
    asyncio.run(ConsoleSender(clock=lambda: 1.0).send(1, msg, False))
    text = captured.getvalue()
    out = text.split("\n")[:-1]  # LF only: the terminal's and a log reader's line breaks
    assert len(_records(text)) == 1 and RECORD.match(out[0]), text
    assert out[0].endswith("feedsvc.notify: alert to telegram chat 1 (#1000):"), out[0]
    assert len(out) > 4 and all(line.startswith("    ") for line in out[1:]), out
    assert "\\n" not in text  # no line of escapes
    assert not CONTROLS.search(text), repr(text)  # CR, ESC, NEL, U+2028: none raw
    title = out[1]
    # the title's line breaks and escapes gone (``notify.message``'s cleaning): one line
    assert title.startswith("    Bắt giữ 2026-12-07") and "sent to chat 9" in title, out
    assert "    An ninh - Trật tự · Minh Châu · " in out[2], out
    assert "    Chủ đề: An ninh" in out, out


def test_a_line_break_inside_a_lines_message_cannot_start_a_record(
    captured: io.StringIO,
) -> None:
    """Whatever a :data:`LINES` message's argument holds (a raw LF, a CR LF, an ANSI escape),
    no line after the record's own starts at the margin, and no control is written raw."""
    from feedsvc.logs import LINES

    logging.getLogger("feedsvc.notify").info("edited:\n%s", f"a\r\n{FORGED}\x1b[31m", extra=LINES)
    text = captured.getvalue()
    out = text.split("\n")[:-1]
    assert len(_records(text)) == 1 and all(line.startswith("    ") for line in out[1:]), out
    assert not CONTROLS.search(text), repr(text)
    asyncio.run(ConsoleEditor().edit(1, 7, "Sửa\nAn ninh", caption=False, html=False))
    assert captured.getvalue().split("\n")[-3:] == ["    Sửa", "    An ninh", ""]


def test_json_mode_keeps_the_message_one_string() -> None:
    from feedsvc.logs import LINES

    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO", fmt="json")
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
        logging.getLogger("feedsvc.notify").info("alert:\n%s", HOSTILE, extra=LINES)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    [line] = stream.getvalue().splitlines()
    doc = json.loads(line)
    assert doc["msg"] == f"alert:\n{HOSTILE}" and "feedsvc_lines" not in doc
