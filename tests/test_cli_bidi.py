"""A bidi control or an invisible format character never reorders or hides a CLI or log line.

A CMS title holding U+202E (RIGHT-TO-LEFT OVERRIDE) printed raw by ``feedsvc articles find``
showed the rest of its row reversed in the terminal: a forged-looking row. Every printer's
one rule, :func:`feedsvc.cli.common.cell` (:func:`feedsvc.logs.escape_controls`, which the
text logs use too), now writes the bidi controls of :mod:`feedsvc.bidi` and the invisible
format characters as escapes (``\\u202e``); ``--json`` outputs and JSON logs as JSON escapes.
Ordinary text — Vietnamese in NFC or NFD, Arabic with its direction marks, emoji with ZWJ and
variation selectors, a subdivision flag's tag characters — is printed as it is.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from cli_service import run, service
from sqlalchemy import insert, select, update

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.bidi import BIDI_CONTROL_RANGES
from feedsvc.cli.common import CELL_CHARS, cell
from feedsvc.db.schema import articles, deliveries, subscriptions, topics
from feedsvc.db.schema_ingest import ingest_quarantine
from feedsvc.logs import setup_logging, unescape_controls
from feedsvc.store.records import TopicSpec
from feedsvc.store.subscriptions import ensure_chat

BIDI = [chr(c) for first, last in BIDI_CONTROL_RANGES for c in range(first, last + 1)]
INVISIBLE = ["\u200b", "\u2060", "\u2062", "\ufeff", "\u180e", "\u206e", "\ufff9"]
HIDDEN = BIDI + INVISIBLE + ["\u2028", "\u2029", "\x85"]

#: Text that needs its invisible characters: escaping them would garble it.
KEPT = [
    "Kiến Thụy khánh thành cầu mới",
    "Kie\u0302\u0301n Thu\u0323y",  # Vietnamese in NFD: combining marks
    "\u0645\u0631\u062d\u0628\u0627 2026\u200f",  # Arabic, a number, RLM
    "\u05e9\u05dc\u05d5\u05dd \u200e(Hà Nội)\u200e",  # Hebrew, LRM
    "\u0627\u0644\u0639\u062f\u062f \u061c123",  # ALM
    "Gia đình 👨\u200d👩\u200d👧 và ❤\ufe0f",  # ZWJ sequence, a variation selector
    "Đội tuyển Anh 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # tags
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with ZWNJ
    "mềm\u00admại",  # soft hyphen
]

__all__ = ["service"]  # the fixture, shared (cli_service)


def forged(char: str) -> str:
    """A title that, printed raw, shows as another row's text (U+202E reverses the rest)."""
    return f"Tin mới {char}gnàhn{char}\u202c cuối"


def assert_escaped(output: str, char: str) -> None:
    assert char not in output, repr(output)
    assert char.encode("unicode_escape").decode("ascii") in output, output


@pytest.mark.parametrize("char", HIDDEN)
def test_cell_escapes_bidi_and_invisible_characters(char: str) -> None:
    shown = cell(forged(char), CELL_CHARS)
    assert_escaped(shown, char)
    assert not any(c in shown for c in HIDDEN)
    assert cell(shown) == shown  # idempotent: a message quoting a cell may be escaped again
    # exact (a key pasted back): one text per shown form, read back as the text itself
    assert unescape_controls(cell(forged(char), exact=True)) == forged(char)


@pytest.mark.parametrize("text", KEPT)
def test_cell_keeps_text_that_needs_its_marks(text: str) -> None:
    assert cell(text) == text


@pytest.mark.parametrize("char", HIDDEN)
def test_articles_find_escapes_a_cms_title_and_key(service: Service, char: str) -> None:
    """The CMS's title, key and the hide reason, as a terminal shows them."""
    with service.db.write() as conn:
        conn.execute(update(articles).values(
            title=forged(char) + " cầu", source_key=f"TEST{char}-00001",
            hidden_at=datetime.now(UTC), hidden_reason=f"gỡ {char}theo yêu cầu",
        ))  # fmt: skip
    found = run(service, "articles", "find", "cầu")
    assert found.exit_code == 0, found.output
    assert_escaped(found.output, char)
    row = found.output.splitlines()
    assert len(row) == 1 and len(row[0].split("\t")) == 5, row


@pytest.mark.parametrize("char", HIDDEN)
def test_topics_and_subs_list_escape_stored_text(service: Service, char: str) -> None:
    """A topic title and a chat's own query stored before the input rule refused them (or
    written by another tool into the state DB)."""
    ops.save_topic(service.db, TopicSpec("kien-thuy", "Kiến Thụy", "cầu"), "cli")
    ops.add_subscription(service.db, 4242, "private", topic=None, query="cầu OR cảng")
    with service.db.write() as conn:
        conn.execute(update(topics).values(title=forged(char)))
        conn.execute(update(subscriptions).values(query=f"cầu OR {char}cảng"))
    listed = run(service, "topics", "list")
    assert listed.exit_code == 0, listed.output
    assert_escaped(listed.output, char)
    assert [len(r.split("\t")) for r in listed.output.splitlines()] == [4]
    subs = run(service, "subs", "list")
    assert subs.exit_code == 0, subs.output
    assert_escaped(subs.output, char)


@pytest.mark.parametrize("char", ["\u202e", "\u2067", "\u200b"])
def test_topics_preview_escapes_a_cms_title_and_key(service: Service, char: str) -> None:
    with service.db.write() as conn:
        conn.execute(update(articles).values(title=forged(char) + " cầu",
                                             source_key=f"TEST{char}-1"))  # fmt: skip
    preview = run(service, "topics", "preview", "cầu")
    assert preview.exit_code == 0, preview.output
    assert_escaped(preview.output, char)


@pytest.mark.parametrize("char", HIDDEN)
def test_status_escapes_a_channel_error_and_a_chat(service: Service, char: str) -> None:
    now = datetime.now(UTC)
    error = f"Bad Request: {char}dilavni si txet{char}"
    with service.db.write() as conn:
        ensure_chat(conn, -100123, "supergroup", f"Tòa {char}soạn", now)
        article_id = conn.execute(select(articles.c.id)).scalar_one()
        conn.execute(insert(deliveries).values(
            chat_id=-100123, article_id=article_id, topics=["x"], state="bad_content",
            error=error, attempts=1, ambiguous=0, plain_text=False, digest=False, due_at=now,
            created_at=now,
        ))  # fmt: skip
    assert status_both_ways(service, char)["recent_errors"]


def status_both_ways(service: Service, char: str) -> Any:
    """``status`` with ``char`` escaped in its lines, and ``status --json`` (parsed) holding it
    only as a JSON escape."""
    shown = run(service, "status")
    assert shown.exit_code == 0, shown.output
    assert_escaped(shown.output, char)
    as_json = run(service, "status", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert char not in as_json.output
    return json.loads(as_json.output)


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200b", "\u2028", "\x85"])
def test_status_and_its_json_escape_a_quarantined_cms_key(service: Service, char: str) -> None:
    """A CMS row's key and the reason quoting its value: the text lines escaped; ``--json``
    holds JSON escapes, the same value to a program, nothing a terminal reorders."""
    now = datetime.now(UTC)
    key, reason = f"TEST{char}-9", f"published_at: not a time: '{char}2026'"
    with service.db.write() as conn:
        conn.execute(insert(ingest_quarantine).values(
            source="builtin", source_id="9", source_key=key, source_cursor=now, stage="parse",
            reason=reason, first_seen_at=now, last_seen_at=now,
        ))  # fmt: skip
    (line,) = status_both_ways(service, char)["quarantined_rows"]
    assert key in line and reason in line


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def logged(stream: io.StringIO, fmt: str, value: str) -> str:
    setup_logging("INFO", fmt)
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    logging.getLogger("feedsvc.ingest").warning("quarantined row %s: %s", value, "bad date")
    return stream.getvalue()


@pytest.mark.parametrize("char", HIDDEN)
def test_text_logs_escape_them(captured: io.StringIO, char: str) -> None:
    out = logged(captured, "text", f"id=7{char} title={forged(char)}")
    assert_escaped(out, char)
    assert out.count("\n") == 1


@pytest.mark.parametrize("char", HIDDEN)
def test_json_logs_escape_them_and_keep_the_value(captured: io.StringIO, char: str) -> None:
    value = f"id=7{char} title={forged(char)}"
    out = logged(captured, "json", value)
    assert char not in out and out.count("\n") == 1
    assert json.loads(out)["msg"] == f"quarantined row {value}: bad date"


@pytest.mark.parametrize("text", KEPT)
def test_logs_keep_text_that_needs_its_marks(captured: io.StringIO, text: str) -> None:
    assert text in logged(captured, "text", text)
