"""One topics file entry, one fingerprint, whatever its spelling: the fingerprint
(``topics.file_entry``) is taken over the text as the state DB stores it
(:func:`feedsvc.fieldtext.clean_topic`: NFC, a title on one line, CRLF as LF, trimmed). It was
taken over the text as given, so an entry written in NFD (FIELD-NOTES: Vietnamese arrives in
NFC, NFD and mixes) did not match the one recorded from the stored, composed text, and a start
applied it once more ("1 updated", the feed re-rendered) though nothing had changed."""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from backend_cases import module_on_sqlite
from sqlalchemy import select, text, update
from topicsworld import restart, shown
from upgrades import database_at, run_sql

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import topics
from feedsvc.store.records import TopicSpec
from feedsvc.topics_file import dump_topics
from feedsvc.topics_sync import fingerprint, sync_topics

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

NFC = TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy" OR "Núi Đối"', "Tin Kiến Thụy\nvà Đồ Sơn", True)


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


SPELLINGS = {
    "NFD": replace(
        NFC, title=nfd(NFC.title), query=nfd(NFC.query), description=nfd(NFC.description)
    ),
    "NFD title": replace(NFC, title=nfd(NFC.title)),
    "NFD query": replace(NFC, query=nfd(NFC.query)),
    "CRLF": replace(NFC, description=NFC.description.replace("\n", "\r\n")),
    "CR": replace(NFC, description=NFC.description.replace("\n", "\r")),
    "padded": replace(
        NFC, title=f"  {NFC.title}\t", query=f" {NFC.query}\n", description=f"\n{NFC.description} "
    ),
    "title runs": replace(NFC, title="Kiến\u00a0 Thụy"),
    "title break": replace(NFC, title="Kiến\r\nThụy"),
}  # fmt: skip


@pytest.mark.parametrize("name", SPELLINGS)
def test_one_entry_one_fingerprint(name: str) -> None:
    assert fingerprint(SPELLINGS[name]) == fingerprint(NFC)


def test_a_real_change_still_changes_it() -> None:
    for changed in (
        replace(NFC, title="Kiến Thuỵ"),  # another tone placement is another text
        replace(NFC, description=NFC.description.replace("\n", "\n\n")),
        replace(NFC, enabled=False),
        replace(NFC, query='"Kiến Thụy"'),
    ):
        assert fingerprint(changed) != fingerprint(NFC)


@pytest.mark.parametrize("name", SPELLINGS)
def test_a_spelling_applied_is_stored_normalised_and_unchanged_after(
    db: Database, name: str
) -> None:
    """Whoever hands ``sync_topics`` an entry (the loader normalises; a caller might not), the
    DB stores the normalised text and the same entry in any spelling is unchanged after."""
    with db.write() as conn:
        assert sync_topics(conn, [SPELLINGS[name]], db.now()).counts["created"] == 1
    assert shown(db)["kt"] == (NFC.title, NFC.query, True)
    for spec in (NFC, SPELLINGS[name]):
        with db.write() as conn:
            counts = sync_topics(conn, [spec], db.now(), explicit=False).counts
        assert counts["unchanged"] == 1 and counts["updated"] == 0


OLD_STYLE = ["NFD", "NFD title", "CRLF", "padded"]


def _old_fingerprint(spec: TopicSpec) -> str:
    """The fingerprint as it was taken before: over the fields as given."""
    import hashlib
    import json

    fields = [spec.slug, spec.title, spec.description, spec.query, spec.enabled]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


@pytest.mark.parametrize("name", OLD_STYLE)
def test_an_entry_recorded_unnormalised_is_not_applied_again(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    """A row holding the text as an older feedsvc applied it (not normalised) and the
    fingerprint it took over that text: the same file at the next start is unchanged (it was
    "1 updated" once), the row untouched, and the entry re-recorded in today's form."""
    spelled = SPELLINGS[name]
    with db.write() as conn:
        conn.execute(
            topics.insert().values(
                slug="kt", title=spelled.title, description=spelled.description,
                query=spelled.query, enabled=True, origin="file", created_at=db.now(),
                updated_at=db.now(), file_entry=_old_fingerprint(spelled),
            )
        )  # fmt: skip
        stamp = conn.execute(select(topics.c.updated_at)).scalar_one()
    path = tmp_path / "topics.toml"
    path.write_text(dump_topics([spelled]), encoding="utf-8")
    monkeypatch.setenv("FEEDSVC_TOPICS__FILE", str(path))
    lines = restart(db, caplog)
    assert all(level < logging.WARNING for level, _ in lines), lines
    assert "0 created, 0 updated, 1 unchanged, 0 disabled" in "\n".join(m for _, m in lines)
    with db.read() as conn:
        row = conn.execute(select(topics)).one()
    assert (row.updated_at, row.title) == (stamp, spelled.title)
    assert row.file_entry == fingerprint(NFC)
    # an edit made in the DB after that is still kept; a changed entry still wins
    with db.write() as conn:
        conn.execute(update(topics).values(title="Sửa"))
    restart(db, caplog)
    assert shown(db)["kt"][0] == "Sửa"


def test_a_row_stored_in_nfd_before_the_upgrade_is_no_edit(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A DB at 0016 whose topic was stored in NFD (before text was composed) and a file in NFC:
    the first start records the entry with no warning (it warned "differs from its entry in the
    file (title, query)" over the same text)."""
    db = database_at(db_url, "0016")
    try:
        run_sql(
            db,
            "INSERT INTO topics (slug, title, description, query, enabled, origin, created_at,"
            " updated_at) VALUES ('kt', :title, :description, :query, true, 'file', :t, :t)",
            title=nfd(NFC.title), description=nfd(NFC.description), query=nfd(NFC.query),
            t="2026-11-30 10:00:00",
        )  # fmt: skip
        upgrade(db)
        path = tmp_path / "topics.toml"
        path.write_text(dump_topics([NFC]), encoding="utf-8")
        monkeypatch.setenv("FEEDSVC_TOPICS__FILE", str(path))
        lines = restart(db, caplog)
        assert all(level < logging.WARNING for level, _ in lines), lines
        assert "0 created, 0 updated, 1 unchanged, 0 disabled" in "\n".join(m for _, m in lines)
        with db.read() as conn:
            assert conn.execute(text("SELECT file_entry FROM topics")).scalar_one() == fingerprint(
                NFC
            )
    finally:
        db.dispose()
