"""An article key typed in another Unicode form than the stored one's (tester: HIGH harm).

Keys are stored as the source sends them, never normalised: a CMS's ``Tin-Kiến-Thụy-42`` may be
decomposed (NFD), and an editor types it composed (NFC: every keyboard). The two look the same
and compared code point by code point they differed: ``articles hide`` said "unknown article",
``--pending`` recorded a hide for a key that never arrives, ``find`` listed the hide "waiting
for ingest" above the same-looking public article — which stayed in every feed while the
operator believed a court-ordered takedown was recorded.

Now a typed key means the stored key it is, else the one canonically equivalent to it (the same
NFC: ``store.article_keys``); several equivalent and none exact are refused, never guessed; a
hide recorded ahead applies to the article arriving in either form, and a new key that looks
like a stored one is said (a WARNING naming both) and arrives hidden when that one is hidden.
Through ``lifecycle.editors`` (the CLI, API and admin share it: their own tests are
``test_key_forms_fronts.py``), ingest over the built-in table and ``feedsvc import``; SQLite
and PostgreSQL."""

from __future__ import annotations

import logging
import unicodedata
from datetime import timedelta

import pytest
from backend_cases import on_backends
from factories import article, jsonl
from lifecycle_world import World, make_world
from sqlalchemy import select

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.db.schema import articles, pending_hides, source_articles
from feedsvc.lifecycle.editors import find_articles, hide_article, unhide_article
from feedsvc.operations import OperationError
from feedsvc.store.lifecycle import EditorState, editor_state
from feedsvc.store.source_articles import upsert_source_articles

NFC = unicodedata.normalize("NFC", "Tin-Kiến-Thụy-42")
NFD = unicodedata.normalize("NFD", NFC)
MIXED = "Tin-Ki\u00ea\u0301n-Th\u1ee5y-42"  # ê composed and a combining acute; ụ composed
NGHE = "Tin-Nghệ-An-7"  # ệ: a dot below (class 220) and a circumflex (230)
REORDERED = "Tin-Nghe\u0302\u0323-An-7"  # the marks in the other order: the same text
assert len({NFC, NFD, MIXED}) == 3 and {unicodedata.normalize("NFC", k) for k in (NFD, MIXED)} == {
    NFC
}
assert REORDERED != NGHE and unicodedata.normalize("NFC", REORDERED) == NGHE


def stored(w: World, key: str, n: int = 1, **fields: object) -> None:
    """Article ``n`` ingested under ``key`` (its feed entry ``n.html``); the clock moves on, so
    what an editor does next is a change a feed sync sees."""
    w.publish(article(n, source_key=key, published_at=w.clock() - timedelta(minutes=n), **fields))
    w.clock.advance(seconds=1)


def imported(w: World, key: str, n: int = 1) -> None:
    """``feedsvc import``'s write of article ``n`` under ``key``, no ingest yet."""
    with w.db.write() as conn:
        upsert_source_articles(
            conn, [article(n, source_key=key, published_at=w.clock())], w.clock()
        )


def records(w: World) -> list[str]:
    with w.db.read() as conn:
        return sorted(conn.execute(select(pending_hides.c.source_key)).scalars())


def state(w: World, key: str) -> EditorState:
    with w.db.read() as conn:
        held = editor_state(conn, key)
    assert held is not None, f"{key!r} not stored"
    return held


def test_the_tester_s_case_nfd_stored_nfc_typed(db: Database) -> None:
    """The report, step by step: the hide is of the stored article (no "unknown", nothing
    pending), ``--pending`` hides the stored one too, ``find`` lists one line."""
    w = make_world(db)
    stored(w, NFD)
    assert w.feed_keys("rss") == ["1.html"]
    found = hide_article(w.db, NFC, "test", "cli")
    assert (found.source_key, found.typed_as, found.pending) == (NFD, NFC, False)
    assert found.state(w.clock()) == "hidden" and found.lookalikes == ()
    w.pub.sync()
    assert w.feed_keys("rss") == [] and records(w) == []
    again = hide_article(w.db, NFC, "lệnh toà", "cli", pending=True)
    assert (again.source_key, again.pending, again.hidden_reason) == (NFD, False, "lệnh toà")
    assert records(w) == []  # no hide "waiting for ingest" beside the stored article
    listed = find_articles(w.db, NFC)
    assert [(a.source_key, a.pending) for a in listed] == [(NFD, False)]
    assert state(w, NFD).hidden_reason == "lệnh toà"
    assert w.deliveries() == [(NFD, "withdrawn", "hidden")]  # its queued alert ended
    w.poll()
    assert w.feed_keys("rss") == []


@pytest.mark.parametrize(
    ("db_url", "kept", "typed"),
    on_backends(
        [
            (NFC, NFD),
            (MIXED, NFC),
            (NFC, MIXED),
            (NFD, MIXED),
            (REORDERED, NGHE),
            (NGHE, REORDERED),
        ],
        label=ascii,
    ),
    indirect=["db_url"],
)
def test_any_form_typed_hides_finds_and_unhides_the_stored_one(
    db: Database, kept: str, typed: str
) -> None:
    w = make_world(db)
    stored(w, kept, title="Kiến Thụy: tin cần gỡ")
    hidden = hide_article(w.db, f" {typed}\u200b", None, "api")  # trimmed as ever
    assert (hidden.source_key, hidden.typed_as) == (kept, typed)
    w.pub.sync()
    assert w.feed_keys("rss") == [] and records(w) == []
    assert [a.source_key for a in find_articles(w.db, typed)] == [kept]
    w.clock.advance(seconds=1)
    shown = unhide_article(w.db, typed, w.ing.hooks)
    assert (shown.source_key, shown.typed_as, shown.state(w.clock())) == (kept, typed, "public")
    w.pub.sync()
    assert w.feed_keys("rss") == ["1.html"]
    exact = hide_article(w.db, kept, None, "cli")  # the stored key itself: nothing to say
    assert (exact.source_key, exact.typed_as, exact.lookalikes) == (kept, None, ())


def test_both_forms_stored_is_ambiguous_unless_typed_exactly(db: Database) -> None:
    """Two CMS rows whose keys differ only in form: a third form is refused naming both (never
    a guess); each exact key acts on its own article and names the other, left alone."""
    w = make_world(db)
    stored(w, NFC, 1)
    stored(w, NFD, 2)
    with pytest.raises(OperationError) as refused:
        hide_article(w.db, MIXED, "lệnh toà", "cli", pending=True)
    error = refused.value
    assert (error.kind, error.code) == ("conflict", "article_key_ambiguous")
    assert error.params["source_keys"] == (NFD, NFC)  # code point order
    assert "Tin-Kie\\u0302\\u0301n-Thu\\u0323y-42" in error.message  # told apart
    assert "'Tin-Kiến-Thụy-42'" in error.message  # NFC: as a keyboard gives it
    assert records(w) == [] and sorted(w.feed_keys("rss")) == ["1.html", "2.html"]
    with pytest.raises(OperationError) as again:
        unhide_article(w.db, MIXED, w.ing.hooks)
    assert again.value.code == "article_key_ambiguous"
    one = hide_article(w.db, NFC, "lệnh toà", "cli")
    assert (one.source_key, one.typed_as, one.lookalikes) == (NFC, None, (NFD,))
    w.pub.sync()
    assert w.feed_keys("rss") == ["2.html"]  # the other row is its own article
    assert state(w, NFD).hidden_at is None
    assert {a.source_key for a in find_articles(w.db, MIXED)} == {NFC, NFD}
    back = unhide_article(w.db, NFC, w.ing.hooks)
    assert (back.source_key, back.lookalikes) == (NFC, (NFD,))


def test_a_hide_recorded_ahead_in_one_form_applies_to_the_other(db: Database) -> None:
    """``--pending`` of an external CMS's key typed composed; the source sends it decomposed:
    the article arrives hidden, never public, never alerted, the record gone."""
    w = make_world(db)
    ahead = hide_article(w.db, NFC, "lệnh toà", "cli", pending=True)
    assert (ahead.source_key, ahead.pending) == (NFC, True)
    assert [(a.source_key, a.pending) for a in find_articles(w.db, NFD)] == [(NFC, True)]
    stored(w, NFD, 1)
    stored(w, "TEST-00002", 2)
    held = state(w, NFD)
    assert (held.hidden_reason, held.hidden_by, held.hidden_unpublic) == ("lệnh toà", "cli", True)
    assert records(w) == [] and w.feed_keys("rss") == ["2.html"]
    assert [k for k, _, _ in w.deliveries()] == ["TEST-00002"]


def test_a_hide_ahead_in_decomposed_form_applies_to_the_composed_article(db: Database) -> None:
    w = make_world(db)
    hide_article(w.db, MIXED, None, "api", pending=True)
    stored(w, NFC, 1)
    assert state(w, NFC).hidden_at is not None and records(w) == [] and w.deliveries() == []


def test_a_waiting_key_in_the_table_typed_in_another_form(db: Database) -> None:
    """Imported decomposed, not ingested yet: the hide (no ``--pending`` needed) is recorded
    under the table's key and said so; an unhide typed composed cancels it."""
    w = make_world(db)
    imported(w, NFD)
    ahead = hide_article(w.db, NFC, "gỡ", "admin")
    assert (ahead.source_key, ahead.typed_as, ahead.pending) == (NFD, NFC, True)
    assert ahead.title == article(1).title and records(w) == [NFD]
    cancelled = unhide_article(w.db, MIXED, w.ing.hooks)
    assert (cancelled.source_key, cancelled.typed_as, cancelled.ingested) == (NFD, MIXED, False)
    assert records(w) == []
    hide_article(w.db, NFC, "gỡ lại", "admin")
    w.poll()
    assert state(w, NFD).hidden_reason == "gỡ lại" and w.deliveries() == []


def test_an_equivalent_hide_ahead_is_renewed_not_doubled(db: Database) -> None:
    w = make_world(db)
    hide_article(w.db, NFC, "một", "cli", pending=True)
    renewed = hide_article(w.db, NFD, "hai", "api", pending=True)
    assert (renewed.source_key, renewed.typed_as, renewed.hidden_reason) == (NFC, NFD, "hai")
    assert records(w) == [NFC]


def test_a_new_key_looking_like_a_stored_one_is_said_and_never_merged(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """The same story imported under both forms: two articles (distinct source rows, kept),
    a WARNING naming both keys; a lookalike of an article an editor hid arrives hidden."""
    w = make_world(db)
    stored(w, NFC, 1)
    with caplog.at_level(logging.WARNING, logger="feedsvc.ingest.lookalikes"):
        stored(w, NFD, 2)
    said = [r.getMessage() for r in caplog.records if r.name == "feedsvc.ingest.lookalikes"]
    assert len(said) == 1 and "'Tin-Kiến-Thụy-42'" in said[0]
    assert "Tin-Kie\\u0302\\u0301n-Thu\\u0323y-42" in said[0] and "arrives hidden" not in said[0]
    assert sorted(w.feed_keys("rss")) == ["1.html", "2.html"]
    hide_article(w.db, NFD, "lệnh toà", "cli")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="feedsvc.ingest.lookalikes"):
        stored(w, MIXED, 3)
    said = [r.getMessage() for r in caplog.records if r.name == "feedsvc.ingest.lookalikes"]
    assert len(said) == 1 and "arrives hidden" in said[0]
    third = state(w, MIXED)
    assert (third.hidden_reason, third.hidden_by, third.hidden_unpublic) == (
        "lệnh toà",
        "cli",
        True,
    )
    assert w.feed_keys("rss") == ["1.html"]
    assert sorted(k for k, _, _ in w.deliveries()) == sorted([NFC, NFD])  # never MIXED's
    with w.db.read() as conn:
        keys = conn.execute(select(articles.c.source_key, articles.c.source_key_nfc)).all()
    assert sorted(keys) == sorted([(NFC, None), (NFD, NFC), (MIXED, NFC)])  # as sent


def test_import_says_a_key_looking_like_one_in_the_table(db: Database) -> None:
    """``feedsvc import`` of the same story under its NFC then NFD key: both stored (the
    source's identity), the second line warned naming both keys, spelled."""
    import io
    from datetime import UTC, datetime

    from feedsvc.importer import import_articles
    from feedsvc.jsonlines import read_jsonl

    def run(*items: Article) -> list[str]:
        lines = read_jsonl(io.StringIO(jsonl(*items)), UTC)
        report = import_articles(db, lines, now=lambda: datetime.now(UTC))
        return [str(w) for w in report.warned]

    assert run(article(1, source_key=NFC)) == []
    warned = run(
        article(1, source_key=NFC), article(2, source_key=NFD), article(3, source_key=MIXED)
    )
    assert [w.split(":", 1)[0] for w in warned] == ["line 2", "line 3"]
    assert "'Tin-Kiến-Thụy-42'" in warned[0] and "Tin-Kie\\u0302\\u0301n" in warned[0]
    assert "stored as another article" in warned[0]
    with db.read() as conn:
        rows = conn.execute(select(source_articles.c.source_key)).scalars().all()
    assert sorted(rows) == sorted([NFC, NFD, MIXED])
