"""A key whose NFC is longer than the key (the tester's first report), SQLite and PostgreSQL.

NFC decomposes the composition exclusions: U+0958 क़ (and the other Devanagari, Bengali and
Gurmukhi nukta letters), Hebrew presentation forms (U+FB2C: three code points), U+0344, the
musical symbols U+1D15E… So a valid 130 × U+0958 key has a 260-character NFC, and
``source_key_nfc`` as ``VARCHAR(255)`` failed on PostgreSQL: ``db upgrade`` (stuck at 0040),
``feedsvc import``, ingest (quarantined) and ``articles hide --pending``. And on every backend
the key typed as a keyboard gives it (NFC, 260 code points) was refused "1–255 characters"
before the lookup. The column is ``VARCHAR(765)`` (Unicode bounds NFC's growth at 3×) and a
key typed for a lookup may be as long as a stored key's NFC; a key stored new is still at
most 255."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, datetime

import pytest
from factories import article, builtin_ingestor, jsonl
from sqlalchemy import select
from test_upgrade_key_nfc import columns
from upgrades import OLD_ARTICLE, database_at, run_sql

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, pending_hides, source_articles
from feedsvc.importer import import_articles
from feedsvc.jsonlines import read_jsonl
from feedsvc.lifecycle.editors import find_articles, hide_article, unhide_article
from feedsvc.operations import OperationError

LONG = "\u0958" * 255  # 255 code points, NFC 510
NUKTA = "\u0958" * 130  # the tester's: NFC 260
HEBREW = "\ufb2c" * 255  # NFC 765: the bound
NUKTA_IN_KEY = "Tin-" + "\u0959" * 120  # ख़ (another exclusion) after ASCII


def nfc(key: str) -> str:
    return unicodedata.normalize("NFC", key)


def test_the_forms_grow_as_the_report_says() -> None:
    assert len(nfc(NUKTA)) == 260 and len(nfc(LONG)) == 510 and len(nfc(HEBREW)) == 765


def test_upgrade_of_a_0040_db_holding_keys_whose_nfc_is_longer(db_url: str) -> None:
    db = database_at(db_url, "0040")
    try:
        run_sql(
            db,
            OLD_ARTICLE.replace("'a-1'", ":k"),
            OLD_ARTICLE.replace("'a-1'", ":h").replace("/1'", "/2'"),
            "INSERT INTO pending_hides (source_key, reason, hidden_by, hidden_at)"
            " VALUES (:w, 'lệnh', 'cli', :t)",
            "INSERT INTO source_articles (source_key, url, title, published_at, changed_at)"
            " VALUES (:s, 'https://x.vn/4', 'Tin', :t, :t)",
            t="2026-11-01 08:00:00", k=NUKTA, h=HEBREW, w=LONG, s=NUKTA_IN_KEY,
        )  # fmt: skip
        upgrade(db)
        assert columns(db, articles) == sorted([(NUKTA, nfc(NUKTA)), (HEBREW, nfc(HEBREW))])
        assert columns(db, pending_hides) == [(LONG, nfc(LONG))]
        assert columns(db, source_articles) == [(NUKTA_IN_KEY, nfc(NUKTA_IN_KEY))]
        for key in (NUKTA, HEBREW):  # typed as a keyboard gives it: 260 and 765 code points
            hidden = hide_article(db, nfc(key), "gỡ", "cli")
            assert (hidden.source_key, hidden.pending) == (key, False)
        waiting = find_articles(db, nfc(LONG))
        assert [(a.source_key, a.pending) for a in waiting] == [(LONG, True)]
    finally:
        db.dispose()


def test_import_ingest_and_pending_hide_of_255_nukta_letters(db: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    pending = hide_article(db, LONG, "lệnh", "cli", pending=True)  # recorded ahead
    assert (pending.source_key, pending.pending) == (LONG, True)
    lines = read_jsonl(io.StringIO(jsonl(article(1, source_key=LONG, published_at=now))), UTC)
    report = import_articles(db, lines, now=lambda: now)
    assert report.rejected == []
    with db.read() as conn:
        held = conn.execute(select(source_articles.c.source_key_nfc)).scalars().all()
    assert held == [nfc(LONG)]
    tick = builtin_ingestor(db).tick()  # the built-in source: stored, not quarantined
    assert tick.error is None
    with db.read() as conn:
        rows = conn.execute(select(articles.c.source_key, articles.c.hidden_reason)).all()
        assert conn.execute(select(pending_hides.c.source_key)).all() == []
    assert [tuple(r) for r in rows] == [(LONG, "lệnh")]  # arrived hidden: the hide applied
    # typed composed-as-NFC (510 code points): finds it, unhides it
    assert [a.source_key for a in find_articles(db, nfc(LONG))] == [LONG]
    shown = unhide_article(db, nfc(LONG), ())
    assert (shown.source_key, shown.typed_as, shown.hidden_at) == (LONG, nfc(LONG), None)


def test_the_typed_length_rule(db: Database) -> None:
    """A lookup may be as long as a stored key's NFC (765); a key stored new, at most 255."""
    with pytest.raises(OperationError) as too_long:
        hide_article(db, "a" * 766, None, "cli", pending=True)
    assert too_long.value.code == "source_key_invalid"
    with pytest.raises(OperationError) as new_key:
        hide_article(db, nfc(NUKTA), None, "cli", pending=True)  # 260: no stored key is it
    assert new_key.value.code == "source_key_invalid"
    with pytest.raises(OperationError) as unknown:
        hide_article(db, nfc(NUKTA), None, "cli")
    assert unknown.value.code == "article_not_found"
    with db.read() as conn:
        assert conn.execute(select(pending_hides.c.source_key)).all() == []
