"""The archive search index (migration 0002) and the candidate lookups of preview and backfill.

Runs on SQLite (FTS5) and PostgreSQL (GIN over ``to_tsvector('simple', …)``) through the ``db``
fixture.  The key property: the index only narrows the matcher's work, it never loses a match.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from factories import article, builtin_ingestor, tick_changes
from sqlalchemy import delete, func, select, text, update

from feedsvc.articles import Article
from feedsvc.db import Database
from feedsvc.db.schema import articles
from feedsvc.demo import PEOPLE, PLACES, ArticleGenerator
from feedsvc.matching import (
    candidate_key_sets,
    document_from_article,
    match_document,
    parse_query,
    search_keys,
)
from feedsvc.operations import backfill_topic
from feedsvc.preview import preview
from feedsvc.store.article_search import candidate_ids
from feedsvc.store.articles import SourcePosition, insert_articles
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

T0 = datetime(2020, 1, 1, tzinfo=UTC)
WORDS = [
    *PLACES,
    *(p.rstrip(".") for p in PEOPLE),
    "công an",
    "mưa",
    "giao thông",
    "kinh tế",
    "người dân",
    "trộm cắp",
    "xe buýt",
    "cảng",
    "học sinh",
]


def store(db: Database, *items: Article) -> list[int]:
    with db.write() as conn:
        now = db.now()
        rows = [
            (a, search_keys(document_from_article(a)), SourcePosition(a.published_at, a.source_key))
            for a in items
        ]
        return insert_articles(conn, rows, now)


def ids_for(db: Database, query: str, limit: int | None = None) -> list[int] | None:
    with db.read() as conn:
        return candidate_ids(conn, candidate_key_sets(parse_query(query)), limit)


def test_key_sets_follow_the_query_structure() -> None:
    sets = candidate_key_sets(parse_query('"công an" AND ("Kiến Thụy" OR "Lê Chân")'))
    assert sets == [["an", "chân", "công", "lê"], ["an", "công", "kiên1", "thuy5"]]
    assert candidate_key_sets(parse_query('~"Kiến Thụy"')) == [["kien", "thuy"]]
    assert candidate_key_sets(parse_query("title:mưa -bão")) == [["mưa"]]
    assert candidate_key_sets(parse_query("NOT NOT mưa")) is None  # nothing to look up


def test_vietnamese_keys_are_single_tokens(db: Database) -> None:
    """``kiên1``/``thuy5`` must be looked up as whole keys: ``kiên1`` is not ``kiên2``."""
    [kien_thuy] = store(db, article(1, title="Kiến Thụy", summary="", body="", tags=()))
    [kien_an] = store(db, article(2, title="Kiên An", summary="", body="", tags=()))
    assert ids_for(db, '"Kiến Thụy"') == [kien_thuy]
    assert ids_for(db, '"Kiên An"') == [kien_an]
    assert ids_for(db, "~kien") == [kien_an, kien_thuy]  # newest first
    assert ids_for(db, "thuy5") == []  # a query word is normalised, not taken as a key


def test_index_stays_in_sync_on_insert_update_delete(db: Database) -> None:
    [first] = store(db, article(1, title="Mưa lớn ở Kiến Thụy"))
    assert ids_for(db, '"Kiến Thụy"') == [first]
    edited = article(1, title="Mưa lớn ở Tân Trào", summary="", body="", tags=())
    with db.write() as conn:
        keys = search_keys(document_from_article(edited))
        conn.execute(update(articles).where(articles.c.id == first).values(search_text=keys))
    assert ids_for(db, '"Kiến Thụy"') == []
    assert ids_for(db, '"Tân Trào"') == [first]
    with db.write() as conn:
        conn.execute(update(articles).where(articles.c.id == first).values(title="x"))
    assert ids_for(db, '"Tân Trào"') == [first]  # an update of other columns keeps the entry
    with db.write() as conn:
        conn.execute(delete(articles).where(articles.c.id == first))
    assert ids_for(db, '"Tân Trào"') == []
    _fts_consistent(db)  # the triggers' FTS5 'delete' took the old keys out (detail=none too)


def test_preview_finds_an_old_match_a_recent_scan_misses(db: Database) -> None:
    old = article(1, title="Lễ hội Đồ Sơn", published_at=T0)
    noise = [
        article(n, title=f"Tin giao thông số {n}", published_at=T0 + timedelta(days=n))
        for n in range(2, 60)
    ]
    store(db, old, *noise)
    result = preview(db, '"Đồ Sơn"', scan=20)
    assert result.indexed and result.exact
    assert result.count == 1 and result.scanned == 59 and result.checked == 1
    assert result.samples[0].stored.article.source_key == old.source_key
    broad = preview(db, "giao thông", scan=20)  # 58 candidates, 20 checked: a lower bound
    assert broad.count == 20 and not broad.exact and broad.checked == 20
    assert preview(db, "NOT NOT Sơn", scan=20).indexed is False  # falls back to the recent scan
    tiny = preview(db, '"Đồ Sơn"', scan=2)  # windows of 16 and 128 newest: found in the last try
    assert tiny.count == 1 and tiny.exact


def _random_query(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth >= 2 or roll < 0.4:
        word = rng.choice(WORDS)
        text = f'"{word}"' if " " in word else word
        if rng.random() < 0.2:
            text = "~" + text
        if rng.random() < 0.15:
            text = rng.choice(["title:", "body:", "tag:"]) + text
        return text
    parts = [_random_query(rng, depth + 1) for _ in range(rng.randint(2, 3))]
    if roll < 0.7:
        if rng.random() < 0.5:
            parts[-1] = "-" + parts[-1] if not parts[-1].startswith("(") else "NOT " + parts[-1]
        return "(" + " AND ".join(parts) + ")"
    return "(" + " OR ".join(parts) + ")"


@pytest.fixture
def archive(db: Database) -> list[tuple[int, Article]]:
    gen = ArticleGenerator(seed=7)
    items = [gen.make(T0 + timedelta(hours=n), paragraphs=2) for n in range(300)]
    return list(zip(store(db, *items), items, strict=True))


def test_no_false_negatives_against_a_full_scan(
    db: Database, archive: list[tuple[int, Article]]
) -> None:
    rng = random.Random(11)
    documents = [(i, document_from_article(a)) for i, a in archive]
    checked = 0
    for _ in range(120):
        try:
            query = parse_query(_random_query(rng))
        except ValueError:
            continue  # e.g. a query an empty article would match
        matches = {i for i, d in documents if match_document(query, d)}
        with db.read() as conn:
            found = candidate_ids(conn, candidate_key_sets(query), None)
        if found is None:
            continue
        checked += 1
        assert matches <= set(found), query.text
        assert len(found) == len(set(found))
        with db.read() as conn:  # bounded lookups (newest windows first) give the same prefix
            for limit in (3, 10):
                bounded = candidate_ids(conn, candidate_key_sets(query), limit)
                assert bounded == found[:limit], query.text
    assert checked >= 60


def test_backfill_uses_the_index(db: Database, archive: list[tuple[int, Article]]) -> None:
    query = '"Kiến Thụy" OR ~"nui doi"'
    parsed = parse_query(query)
    expected = {i for i, a in archive if match_document(parsed, document_from_article(a))}
    assert expected
    with db.write() as conn:
        save_topic(conn, TopicSpec("kt", "Kiến Thụy", query), "api", db.now())
    result = backfill_topic(db, "kt", days=None)
    assert result.matched == result.added == len(expected)
    assert result.scanned == len(archive) and result.checked < len(archive)
    again = backfill_topic(db, "kt", days=None)
    assert again.matched == len(expected) and again.added == 0


def test_backfill_adds_only_what_is_missing_batch_by_batch(
    db: Database, archive: list[tuple[int, Article]]
) -> None:
    from feedsvc.db.schema import article_topics

    with db.write() as conn:
        save_topic(conn, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'), "api", db.now())
        topic = get_topic(conn, "kt")
    assert topic is not None
    stored = select(article_topics.c.article_id).where(article_topics.c.topic_id == topic.id)
    full = backfill_topic(db, "kt", days=None, batch=2)
    assert full.added == full.matched >= 4
    with db.write() as conn:  # forget every other stored match
        ids = sorted(conn.execute(stored).scalars())
        dropped = ids[::2]
        conn.execute(article_topics.delete().where(article_topics.c.article_id.in_(dropped)))
    again = backfill_topic(db, "kt", days=None, batch=2)  # small batches: known ones interleave
    assert again.matched == full.matched and again.added == len(dropped)
    with db.read() as conn:
        assert sorted(conn.execute(stored).scalars()) == ids


def test_downgrade_drops_the_index_and_upgrade_refills_it(db: Database) -> None:
    from sqlalchemy import inspect
    from upgrades import downgrade

    from feedsvc.db import upgrade

    [first] = store(db, article(1, title="Lễ hội Đồ Sơn"))
    downgrade(db, "0001")
    names = set(inspect(db.engine).get_table_names())
    indexes = {ix["name"] for ix in inspect(db.engine).get_indexes("articles")}
    assert "articles_search" not in names and "ix_articles_search_text_tsv" not in indexes
    upgrade(db)  # existing rows are indexed again (SQLite: FTS5 'rebuild')
    assert ids_for(db, '"Đồ Sơn"') == [first]


def test_abbreviations_are_found_however_they_are_written(db: Database) -> None:
    """#13 §4: "TP.HCM", "TP. HCM" and "TP HCM" are one phrase to the index and the re-check."""
    written = ["Công an TP.HCM bắt giữ", "Công an TP. HCM bắt giữ", "Công an TP HCM bắt giữ"]
    ids = store(
        db,
        *(article(n, title=t, summary="", body="", tags=()) for n, t in enumerate(written, 1)),
        article(4, title="Về TP.HCM. Hôm nay mưa", summary="", body="", tags=()),
        article(5, title="UBND TP. Hải Phòng họp", summary="", body="", tags=()),
        article(6, title="Phường Bến Nghé, Q.1", summary="", body="", tags=()),
    )
    for query in ('"TP.HCM"', '"TP HCM"', '"TP. HCM"', "TP.HCM"):
        result = preview(db, query, scan=20)
        assert result.indexed and result.exact, query
        assert {s.stored.article.source_key for s in result.samples} == {
            f"TEST-{n:05d}" for n in (1, 2, 3, 4)
        }, query
    phrase = preview(db, '"công an TP.HCM"')
    assert phrase.indexed and phrase.count == 3
    assert ids_for(db, '"TP HCM hôm"') == [ids[3]]  # the index over-approximates …
    assert preview(db, '"TP HCM hôm"').count == 0  # … the re-check keeps the sentence end
    for query, key in (('"TP. Hải Phòng"', "TEST-00005"), ('"Q. 1"', "TEST-00006")):
        assert [s.stored.article.source_key for s in preview(db, query).samples] == [key]


def _fts_consistent(db: Database) -> None:
    """SQLite: FTS5's own check that the index holds exactly the content rows' tokens (an
    article indexed twice, or not at all, fails it). PostgreSQL's GIN index cannot drift."""
    if db.dialect == "sqlite":
        with db.write() as conn:
            conn.execute(
                text(
                    "INSERT INTO articles_search(articles_search, rank) "
                    "VALUES ('integrity-check', 1)"
                )
            )


def test_a_batch_is_indexed_once_per_article(db: Database) -> None:
    """Issue 17 §2: the index is written per batch by ``insert_articles`` (no per-row trigger
    since migration 0010). Every article of a batch is found, by its exact and folded keys,
    and nothing is indexed twice."""
    places = ["Kiến Thụy", "Đồ Sơn", "Lê Chân", "Tân Trào", "Cát Bà"]
    batch = [
        article(n, title=f"Tin {places[n % 5]} số {n}", summary="", body=f"<p>mục {n}</p>", tags=())
        for n in range(1, 301)
    ]
    ids = store(db, *batch[:200])
    ids += store(db, *batch[200:])
    ids += store(db, article(999, title="Một bài Cát Bà", summary="", body="", tags=()))
    _fts_consistent(db)
    for i, place in enumerate(places):
        expected = sorted(ids[n - 1] for n in range(1, 301) if n % 5 == i)
        assert sorted(ids_for(db, f'"{place}"') or []) == expected + ([ids[-1]] if i == 4 else [])
    assert sorted(ids_for(db, "~cat AND ~ba") or []) == sorted([*ids[3:300:5], ids[-1]])
    with db.read() as conn:
        total = conn.execute(select(func.count()).select_from(articles)).scalar_one()
        assert total == 301


def test_ingest_indexes_every_article_it_stores(db: Database) -> None:
    """The ingest path (batches of the source, new and edited articles) keeps the index whole."""
    now = datetime.now(UTC)
    with db.write() as conn:
        upsert_source_articles(
            conn,
            [
                article(n, title=f"Mưa ở Đồ Sơn {n}" if n % 2 else f"Nắng ở Cát Bà {n}")
                for n in range(1, 41)
            ],
            now - timedelta(minutes=5),
        )
    ing = builtin_ingestor(db, batch_size=7)
    assert ing.tick().stored == 40
    edited = article(2, title="Mưa ở Đồ Sơn, sửa lại", updated_at=now - timedelta(minutes=1))
    with db.write() as conn:
        upsert_source_articles(conn, [edited], now - timedelta(minutes=1))
    assert [c.is_new for c in tick_changes(ing)[1]] == [False]
    _fts_consistent(db)
    assert len(ids_for(db, '"Đồ Sơn"') or []) == 21
    assert len(ids_for(db, '"Cát Bà"') or []) == 19


def test_upgrade_to_0010_keeps_the_index_of_stored_articles(db_url: str) -> None:
    """A state DB indexed by 0002's insert trigger: after 0010 its articles are still found,
    new ones are indexed once (the trigger is gone, the batch write took over)."""
    from upgrades import database_at

    from feedsvc.db import upgrade

    db = database_at(db_url, "0009")
    old = article(1, title="Lễ hội Đồ Sơn", summary="", body="", tags=())
    with db.write() as conn:  # as 0007's code stored it: a plain insert, indexed by the trigger
        conn.execute(
            articles.insert().values(
                source_key=old.source_key,
                version=old.version,
                url=old.url,
                title=old.title,
                tags=[],
                published_at=old.published_at,
                search_text=search_keys(document_from_article(old)),
                source_cursor=old.published_at,
                first_seen_at=old.published_at,
                last_changed_at=old.published_at,
            )
        )
    upgrade(db)
    [new] = store(db, article(2, title="Đua thuyền Đồ Sơn", summary="", body="", tags=()))
    _fts_consistent(db)
    found = ids_for(db, '"Đồ Sơn"') or []
    assert len(found) == 2 and found[0] == new
    db.dispose()


def _fts_definition(db: Database) -> str:
    with db.read() as conn:
        sql = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'articles_search'")
        ).scalar_one()
    return " ".join(str(sql).split())


def _fts_objects(db: Database) -> set[tuple[str, str]]:
    with db.read() as conn:
        rows = conn.execute(
            text("SELECT type, name FROM sqlite_master WHERE name LIKE 'articles_search%'")
        ).tuples()
        return set(rows)


def test_sqlite_index_keeps_no_positions(lite_db: Database) -> None:
    """Migration 0014: FTS5 ``detail=none`` (the lookups are ANDs and ORs of single tokens), the
    same tokenizer, the update/delete triggers, and the shadow tables ``schema.py`` skips."""
    from feedsvc.db.schema import _FTS_SHADOW_SUFFIXES

    assert _fts_definition(lite_db).endswith(
        "tokenize='unicode61 remove_diacritics 0', detail=none)"
    )
    suffixes = {"_data", "_idx", "_docsize", "_config"}  # external content: no `_content`
    assert suffixes <= set(_FTS_SHADOW_SUFFIXES)  # the schema comparison skips them all
    assert _fts_objects(lite_db) == {
        ("table", "articles_search"),
        *(("table", f"articles_search{suffix}") for suffix in suffixes),
        ("trigger", "articles_search_ad"),
        ("trigger", "articles_search_au"),
    }


def test_every_indexable_key_is_one_sqlite_token() -> None:
    """A quoted key FTS5 split would be a phrase query, which ``detail=none`` refuses: every
    letter ``indexable_key`` accepts must be a token character to the running SQLite's
    ``unicode61``, and every letter it refuses for that reason must really be split."""
    import sqlite3
    import unicodedata

    from feedsvc.matching.candidates import indexable_key

    letters = [chr(c) for c in range(0x80, 0x110000) if unicodedata.category(chr(c))[0] == "L"]
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 0')")
    con.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    words = enumerate((f"q{ch}q" for ch in letters), 1)
    con.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", words)
    groups = con.execute("SELECT doc FROM v GROUP BY doc HAVING count(*) != 1")
    split = {letters[doc - 1] for (doc,) in groups}
    con.close()
    assert {ch for ch in letters if not indexable_key(f"q{ch}q")} == split


def test_a_key_sqlite_would_split_is_left_out(db: Database) -> None:
    """A query word SQLite's tokenizer cuts in two (a New Tai Lue vowel sign) is not looked up
    as a phrase (an error with ``detail=none``): alone, the caller scans; beside other keys, the
    set is only wider."""
    word = "q\u19b0q"
    [hit] = store(db, article(1, title=f"Kiến Thụy {word}", summary="", body="", tags=()))
    store(db, article(2, title="Kiến Thụy", summary="", body="", tags=()))
    assert ids_for(db, word) is None
    assert [s.stored.article.source_key for s in preview(db, word).samples] == ["TEST-00001"]
    assert hit in (ids_for(db, f'"Kiến Thụy" AND {word}') or [])
    assert [s.stored.article.source_key for s in preview(db, f'"Kiến Thụy" {word}').samples] == [
        "TEST-00001"
    ]


def test_upgrade_to_0014_reindexes_without_positions_and_back(db_url: str) -> None:
    """A state DB at 0013 holding articles: 0014 rebuilds SQLite's index as ``detail=none`` and
    they are still found; its triggers still drop an edited or deleted article's old keys; the
    downgrade restores 0013's table (positions kept), rebuilt, with the same triggers."""
    from upgrades import articles_inserted_without, database_at, downgrade

    from feedsvc.db import upgrade

    db = database_at(db_url, "0013")
    places = ["Kiến Thụy", "Đồ Sơn", "Cát Bà"]
    with articles_inserted_without("source_key_nfc"):  # 0041's
        ids = store(db, *(
            article(n, title=f"Tin {places[n % 3]} số {n}", summary="", body="", tags=())
            for n in range(1, 31)
        ))  # fmt: skip
    sqlite = db.dialect == "sqlite"
    if sqlite:
        assert "detail" not in _fts_definition(db)
        before = _fts_objects(db)
    upgrade(db)
    if sqlite:
        assert _fts_definition(db).endswith("remove_diacritics 0', detail=none)")
        assert _fts_objects(db) == before  # same triggers, same shadow tables
    _fts_consistent(db)
    for i, place in enumerate(places):
        expected = sorted(ids[n - 1] for n in range(1, 31) if n % 3 == i)
        assert sorted(ids_for(db, f'"{place}"') or []) == expected, place
    edited, gone = ids[1], ids[4]  # both "Cát Bà"
    with db.write() as conn:
        keys = search_keys(document_from_article(article(1, title="Lê Chân", summary="", body="")))
        conn.execute(update(articles).where(articles.c.id == edited).values(search_text=keys))
        conn.execute(delete(articles).where(articles.c.id == gone))
    _fts_consistent(db)
    cat_ba = sorted(ids[n - 1] for n in range(1, 31) if n % 3 == 2 and n not in (2, 5))
    assert sorted(ids_for(db, '"Cát Bà"') or []) == cat_ba
    assert ids_for(db, '"Lê Chân"') == [edited]
    downgrade(db, "0013")
    if sqlite:
        assert "detail" not in _fts_definition(db)
        assert _fts_objects(db) == before
    _fts_consistent(db)
    assert sorted(ids_for(db, '"Cát Bà"') or []) == cat_ba
    assert ids_for(db, '"Lê Chân"') == [edited]
    assert len(ids_for(db, '"Kiến Thụy"') or []) == 10
    db.dispose()
