"""An integer cursor column in milliseconds (break-today).

feedsvc reads an integer cursor column as Unix seconds. A CMS storing JavaScript's
``Date.now()`` (milliseconds) had every row held back "until then", named with a time five
minutes away (now plus the overlap), and ``source check`` said they "wait until that time":
that time is the year 58 000, so nothing was ever ingested and nothing said why. Both now name
the likely unit.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli
from feedsvc.config.models import SourceColumns
from feedsvc.ingest.isolate import held_entries
from feedsvc.source.cursor import CursorCodec
from feedsvc.source.engine import external_source

SECONDS = 1_796_000_000  # 2026-11-30: fixed, the parameters name the test ids (xdist)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (SECONDS * 1000, "looks like milliseconds"),
        (str(SECONDS * 1000), "looks like milliseconds"),  # as source check has it: text
        (SECONDS * 1_000_000, "looks like micro- or nanoseconds"),
        (SECONDS * 10**9, "looks like micro- or nanoseconds"),
        (SECONDS + 86400, None),  # a real time tomorrow: it does come
        (253402300799, None),  # 9999-12-31, a placeholder in seconds
        (float("nan"), None),
        (float("inf"), None),  # PostgreSQL's 'Infinity': the hint raised, failing the tick
        ("-Infinity", None),
        ("soon", None),
    ],
)
def test_unit_hint(value: object, says: str | None) -> None:
    hint = CursorCodec("epoch", UTC).unit_hint(value)
    if says is None:
        assert hint == ""
    else:
        assert says in hint and "read as Unix seconds" in hint, hint
    assert CursorCodec("naive", UTC).unit_hint(value) == ""


def _cms(tmp_path: Path) -> tuple[Path, str]:
    cms = tmp_path / "cms.db"
    now = int(time.time())
    with sqlite3.connect(cms) as conn:
        conn.execute(
            "CREATE TABLE news (id INTEGER PRIMARY KEY, slug TEXT, link TEXT, title TEXT, "
            "stamp INTEGER NOT NULL)"
        )
        conn.executemany(
            "INSERT INTO news VALUES (?, ?, ?, ?, ?)",
            [(i, f"a-{i}", f"https://x.vn/{i}", f"T{i}", (now - 3600 * i) * 1000)
             for i in (1, 2)],
        )  # fmt: skip
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        f'[source]\nurl = "sqlite:///{cms}"\ntable = "news"\n'
        '[source.columns]\nid = "id"\ncursor = "stamp"\nsource_key = "slug"\nurl = "link"\n'
        'title = "title"\npublished_at = "datetime(\'now\')"\n'
        "[topics]\nimport_on_start = false\n",
        encoding="utf-8",
    )
    return cms, str(config)


def test_source_check_names_milliseconds(tmp_path: Path) -> None:
    """Every sampled row's cursor in milliseconds: the mapping, exit 2 (``source_cursor``)."""
    _, config = _cms(tmp_path)
    out = CliRunner().invoke(cli, ["source", "check", "--config", config])
    assert out.exit_code == 2, out.output
    assert "  source.columns.cursor: 'stamp' holds no time of a write" in out.output
    (warned,) = [line for line in out.output.splitlines() if "dated after now" in line]
    assert "looks like milliseconds, and that time never comes" in warned, warned


def test_held_back_reason_names_milliseconds(tmp_path: Path) -> None:
    cms, _ = _cms(tmp_path)
    columns = SourceColumns(
        id="id", cursor="stamp", source_key="slug", url="link", title="title",
        published_at="stamp",
    )  # fmt: skip
    source = external_source(f"sqlite:///{cms}", "news", columns)
    try:
        source.bind()
        horizon = datetime.now(UTC) + timedelta(minutes=5)
        (entry,) = held_entries(source, [("1", SECONDS * 1000)], horizon)
    finally:
        source.dispose()
    assert "held back until its time comes" in entry.reason
    assert "looks like milliseconds" in entry.reason, entry.reason
