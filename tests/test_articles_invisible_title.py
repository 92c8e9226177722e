"""A title of only invisible characters is an empty title (``parse_article``): a lone ZERO WIDTH
SPACE was imported and published as a blank headline while ``""`` was refused. Refused in the
same words on every path (``feedsvc import``, ingest's quarantine); visible text around such
characters is kept as given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import article, builtin_ingestor, jsonl
from sqlalchemy import select

from feedsvc.articles import ArticleError, parse_article
from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.store import quarantine
from feedsvc.store.source_articles import upsert_source_articles

BASE: dict[str, Any] = article(1).to_json()
INVISIBLE = [
    "\u200b",  # ZERO WIDTH SPACE
    "\u2060",  # WORD JOINER
    "\ufeff",  # BYTE ORDER MARK
    "\u00ad",  # SOFT HYPHEN
    "\u00a0",  # NO-BREAK SPACE
    " \u200b\u00ad\u2060\ufeff\u00a0\t\n\u3000 ",
    "\u3164",  # HANGUL FILLER: printable, drawn blank
    "\u115f\u1160\uffa0",  # the other Hangul fillers
    "\u2800 \u2800",  # BRAILLE PATTERN BLANK
    "\u200b\u3164\u00a0",
    "\u200e\u200f",  # bidi marks: Cf, as the matcher deletes them
]


def problems(title: str) -> list[tuple[str | None, str]]:
    with pytest.raises(ArticleError) as info:
        parse_article({**BASE, "title": title})
    return info.value.problems


@pytest.mark.parametrize("title", INVISIBLE)
def test_a_title_of_invisible_characters_is_refused_as_an_empty_one(title: str) -> None:
    assert problems(title) == problems("") == [("title", "is required")]


@pytest.mark.parametrize(
    "title",
    ["\u200bTin nóng\u200b", "Tin\u00adnóng", "\ufeffKiến Thụy", "Tin\u2060", "a", "\u200b."],
)
def test_visible_text_around_them_is_kept_as_given(title: str) -> None:
    assert parse_article({**BASE, "title": title}).title == title


def test_import_refuses_it_as_it_refuses_an_empty_title(tmp_path: Path) -> None:
    env = {
        "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}",
        "FEEDSVC_CONFIG": "/dev/null",
    }
    lines = jsonl(article(1), {**BASE, "source_key": "E", "title": ""},
                  {**BASE, "source_key": "Z", "title": "\u200b"})  # fmt: skip
    done = CliRunner().invoke(cli, ["import", "-"], input=lines, env=env)
    assert done.exit_code == 1, done.output
    assert "inserted 1, updated 0, unchanged 0, rejected 2" in done.output
    assert "line 2: title: is required" in done.output
    assert "line 3: title: is required" in done.output


def test_ingest_quarantines_it_as_it_quarantines_an_empty_title(db: Database) -> None:
    """A source row (the built-in table here, written before this check, as an external
    CMS's rows) goes through parse_article too: quarantined at stage ``parse``, same reason."""
    ing = builtin_ingestor(db)
    rows = [article(1), article(2, title=""), article(3, title="\u200b\u00ad"),
            article(4, title="\u200bTin số 4")]  # fmt: skip
    with db.write() as conn:
        upsert_source_articles(conn, rows, datetime.now(UTC) - timedelta(minutes=5))
    result = ing.tick()
    assert result.error is None, result.error
    with db.read() as conn:
        held = dict(conn.execute(select(articles.c.source_key, articles.c.title)).tuples().all())
        kept = {e.row.source_key: e.row for e in quarantine.newest(conn, 100)}
    assert held == {"TEST-00001": article(1).title, "TEST-00004": "\u200bTin số 4"}
    assert sorted(kept) == ["TEST-00002", "TEST-00003"]
    assert kept["TEST-00002"].stage == kept["TEST-00003"].stage == "parse"
    assert kept["TEST-00002"].reason == kept["TEST-00003"].reason
    assert "title: is required" in kept["TEST-00003"].reason
