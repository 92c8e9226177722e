"""Which record wins between the stored one and an import line, the whole matrix
(``feedsvc.versions.takes_over`` with ``may_be_stale``, ``feedsvc.store.source_articles``,
``feedsvc.not_applied``).

Stored {scheduled, public} × {with, without ``updated_at``} × {public, withdrawn}; the line
{the same, an older, a newer version} × {the same content, another title, the other
``withdrawn``}. A line that does not win is "unchanged" only when it holds what is stored;
otherwise it is said not applied (rejected, exit 1), naming both versions and what differs.

Two faults of this class (tester 2): the original line imported again after a takedown given
at the same version (no ``updated_at`` on either, an import script re-run) undid the
takedown — "updated 1", the article public and alerted (F1); a line older than the stored
version with another content was "unchanged", exit 0, a correction dropped silently (F4: a
stored ``updated_at`` hours ahead, a CMS writing local time as UTC).
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import VN, article, jsonl
from lifecycle_world import Clock, make_world
from sqlalchemy import select

from feedsvc.articles import Article
from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.db.schema import source_articles
from feedsvc.importer import ImportReport, import_articles
from feedsvc.jsonlines import read_jsonl
from feedsvc.versions import takes_over

NOW = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
H = timedelta(hours=1)
BEFORE = NOW - timedelta(seconds=10)
NEW_TITLE = "Kiến Thụy: tiêu đề đã sửa"


def run_import(db: Database, text: str, now: datetime = NOW) -> ImportReport:
    """An import at ``now``: a row stored at ``now`` or later counts as this import's own
    (``since``), so what is to be held before it is imported at :data:`BEFORE`."""
    return import_articles(db, read_jsonl(io.StringIO(text), VN), now=lambda: now)


def stored(db: Database) -> dict[str, tuple[str, bool]]:
    with db.read() as conn:
        rows = conn.execute(
            select(source_articles.c.source_key, source_articles.c.title,
                   source_articles.c.withdrawn)
        ).tuples()  # fmt: skip
        return {key: (title, bool(gone)) for key, title, gone in rows}


@dataclass(frozen=True)
class Case:
    scheduled: bool  # the stored article's time is still to come
    stamped: bool  # the stored record has an updated_at
    gone: bool  # the stored record is withdrawn
    version: str  # the line's: "same", "older", "newer"
    change: str  # the line's: "none", "title", "flip" (the other withdrawn)

    @property
    def id(self) -> str:
        return "-".join((
            "scheduled" if self.scheduled else "public",
            "stamped" if self.stamped else "unstamped",
            "withdrawn" if self.gone else "shown",
            self.version, self.change,
        ))  # fmt: skip

    def records(self, n: int) -> tuple[Article, Article]:
        """The stored record and the line, for key ``n``."""
        published = NOW + 2 * H if self.scheduled else NOW - 2 * H
        updated = NOW - H if self.stamped else None
        held = article(n, published_at=published, updated_at=updated, withdrawn=self.gone)
        base = held.updated_at or published
        line_updated = {
            "same": updated,
            # an updated_at before the stored version (before published_at when it has none)
            "older": base - H / 2,
            "newer": NOW - H / 6 if self.stamped or not self.scheduled else published + H,
        }[self.version]
        line = replace(held, updated_at=line_updated)
        if self.change == "title":
            line = replace(line, title=NEW_TITLE)
        elif self.change == "flip":
            line = replace(line, withdrawn=not self.gone)
        return held, line

    def expected(self) -> str:
        """ "updated", "unchanged" or "rejected" (said not applied)."""
        if self.version == "newer":
            return "updated"
        if self.scheduled and not self.stamped and self.version == "older":
            return "updated"  # held: no edit time, its time to come; any edit replaces it
        if self.change == "none":
            return "unchanged"
        if self.change == "flip" and self.version == "same" and not self.gone:
            return "updated"  # a takedown at the same version (newcomer F1)
        return "rejected"  # F4: an older other content; F1: no republication at the same


CASES = [
    Case(*values)
    for values in itertools.product(
        (True, False), (True, False), (False, True), ("same", "older", "newer"),
        ("none", "title", "flip"),
    )
]  # fmt: skip


def _outcome(report: ImportReport) -> str:
    c = report.counts
    got = [name for name, n in (("updated", c.updated), ("unchanged", c.unchanged)) if n]
    got += ["rejected"] * len(report.rejected)
    assert len(got) == 1 and c.inserted == 0, report
    return got[0]


def _check_said(case: Case, held: Article, line: Article, said: str) -> None:
    if line.withdrawn and not held.withdrawn:
        assert said.startswith("line 1: withdrawn: true not applied"), said
    elif held.withdrawn and not line.withdrawn:
        assert said.startswith(
            "line 1: withdrawn: false (or left out) not applied (the article stays withdrawn)"
        ), said
        assert "give this line an updated_at after" in said, said
    else:
        assert said.startswith("line 1: not applied (the stored record stays)"), said
        assert "a different title" in said, said
    # both versions, at the line's offset (UTC here)
    assert line.version.isoformat() in said and held.version.isoformat() in said, said


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_matrix(db: Database, case: Case) -> None:
    held, line = case.records(1)
    assert run_import(db, jsonl(held), BEFORE).counts.inserted == 1
    report = run_import(db, jsonl(line))
    want = case.expected()
    assert _outcome(report) == want, [str(r) for r in report.rejected]
    winner = line if want == "updated" else held
    assert stored(db)["TEST-00001"] == (winner.title, winner.withdrawn)
    if want == "rejected":
        _check_said(case, held, line, str(report.rejected[0]))
    again = run_import(db, jsonl(line))  # the same line twice: the same verdict, or unchanged
    assert _outcome(again) == ("unchanged" if want == "updated" else want)


def test_the_matrix_in_one_file(db: Database) -> None:
    """All cases at once, each its own key, on every backend: the batch path counts and
    stores as one line at a time does; and the line-by-line path (a batch the database
    refused) too."""
    from feedsvc.importer import _line_by_line

    pairs = [c.records(n) for n, c in enumerate(CASES, 1)]
    run_import(db, jsonl(*(h for h, _ in pairs)), BEFORE)
    report = run_import(db, jsonl(*(line for _, line in pairs)))
    want = [c.expected() for c in CASES]
    assert report.counts.updated == want.count("updated")
    assert report.counts.unchanged == want.count("unchanged")
    assert [r.line for r in report.rejected] == [
        n for n, w in enumerate(want, 1) if w == "rejected"
    ]
    after = stored(db)
    for (held, line), w in zip(pairs, want, strict=True):
        winner = line if w == "updated" else held
        assert after[held.source_key] == (winner.title, winner.withdrawn), held.source_key
    with db.write() as conn:  # every line again, one savepoint per key
        batch = list(enumerate((line for _, line in pairs), 1))
        counts = _line_by_line(conn, batch, NOW, lambda line, e: None)
    assert counts.updated == 0
    assert [batch[n.index][0] for n in counts.not_applied] == [r.line for r in report.rejected]


def test_a_line_and_a_source_row() -> None:
    """Only a stored record (one held before this import) is guarded against a stale copy:
    within one file the lines are read top to bottom and the last of a version wins (97a0142),
    the takedown then the line without it included."""
    h = NOW - H
    assert takes_over(h, False, h, True, NOW)  # a source row: the CMS publishing again
    assert not takes_over(h, False, h, True, NOW, may_be_stale=True)
    assert takes_over(h, True, h, False, NOW, may_be_stale=True)  # a takedown is taken
    assert takes_over(h + H / 2, False, h, True, NOW, may_be_stale=True)  # a newer version


def test_the_last_line_of_a_file_wins_over_its_own_takedown(db: Database) -> None:
    original = article(1, published_at=NOW - H)
    down = replace(original, withdrawn=True)
    report = run_import(db, jsonl(original, down, original))
    assert (report.counts.inserted, report.counts.updated, report.rejected) == (1, 2, [])
    assert stored(db)["TEST-00001"][1] is False


def test_an_append_only_export_imported_again_is_quiet(db: Database) -> None:
    """A file that keeps every line (the original, then its takedown at the same version; a
    line, then its correction) imported again: each line a later line of its key replaces in
    the file itself is "unchanged", not said, exit 0; the stored record stays as it is."""
    shown = article(1, published_at=NOW - H)
    edited = article(2, published_at=NOW - H)
    corrected = replace(edited, title=NEW_TITLE, updated_at=NOW - H / 2)
    text = jsonl(shown, edited, replace(shown, withdrawn=True), corrected)
    first = run_import(db, text, BEFORE)
    assert (first.counts.inserted, first.counts.updated, first.rejected) == (2, 2, [])
    again = run_import(db, text)
    assert (again.counts.updated, again.counts.unchanged, again.rejected) == (0, 4, [])
    assert stored(db) == {"TEST-00001": (shown.title, True), "TEST-00002": (NEW_TITLE, False)}


# -- tester 2's reproductions ------------------------------------------------------------


@pytest.mark.parametrize("scheduled", [True, False])
@pytest.mark.parametrize("later", [timedelta(0), 3 * H])
def test_the_original_line_again_does_not_undo_a_takedown(
    db: Database, scheduled: bool, later: timedelta
) -> None:
    """F1: imported without updated_at, taken down with the same line plus ``"withdrawn":
    true``, then the original line again (before its time or after it; a published article
    alike): it said "updated 1" and the article was public again."""
    original = article(1, published_at=NOW + H if scheduled else NOW - H)
    run_import(db, jsonl(original), BEFORE - H)
    assert run_import(db, jsonl(replace(original, withdrawn=True)), BEFORE).counts.updated == 1
    report = run_import(db, jsonl(original), NOW + later)
    assert (report.counts.updated, report.counts.unchanged) == (0, 0)
    [refused] = report.rejected
    assert str(refused).startswith(
        "line 1: withdrawn: false (or left out) not applied (the article stays withdrawn): this"
        f" line's version {original.published_at.isoformat()} (updated_at, else published_at)"
        " is the same as the stored version"
    ), str(refused)
    assert stored(db)["TEST-00001"][1] is True
    republished = replace(original, updated_at=NOW + later)  # what the message asks for
    assert run_import(db, jsonl(republished), NOW + later).counts.updated == 1
    assert stored(db)["TEST-00001"][1] is False


def test_through_ingest_the_takedown_stays_and_nothing_is_alerted(db: Database) -> None:
    """F1 end to end on the built-in source: the scheduled article taken down before its time
    stays withdrawn after the original line is imported again, at its time and after; no
    alert queued (the takedown was undone and the article alerted to every subscriber)."""
    w = make_world(db, Clock())
    original = article(1, published_at=w.clock() + timedelta(seconds=40))
    w.publish(original)
    w.clock.advance(seconds=4)
    w.publish(replace(original, withdrawn=True))
    w.clock.advance(seconds=4)
    w.publish(original)  # the import script re-run
    w.clock.advance(seconds=40)
    w.poll()
    w.publish(original)  # and again after its time
    assert w.feed_keys("json") == []
    assert w.deliveries() == []


def cli_import(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    env = {"FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 's.db'}", "FEEDSVC_CONFIG": "/dev/null"}
    return CliRunner().invoke(cli, ["import", "-"], input=text, env=env)


def test_a_correction_behind_a_version_ahead_is_said(tmp_path: Path) -> None:
    """F4: the stored ``updated_at`` 7 hours ahead (a CMS writing local time as UTC, within the
    day a version ahead is believed); the correction, dated now, was "unchanged", exit 0. It is
    said not applied, both versions at the line's offset, what differs and why: exit 1."""
    now = datetime.now(UTC).replace(microsecond=0)
    base = {"source_key": "B", "url": "https://example.vn/b", "published_at": now.isoformat()}
    ahead = (now + 7 * H).astimezone(VN)
    first = cli_import(
        tmp_path, jsonl(base | {"title": "Old wrong headline", "updated_at": ahead.isoformat()})
    )
    assert first.exit_code == 0, first.output
    fixed = (now + timedelta(minutes=1)).astimezone(VN)
    result = cli_import(
        tmp_path, jsonl(base | {"title": "Corrected headline", "updated_at": fixed.isoformat()})
    )
    assert result.exit_code == 1, result.output
    assert "inserted 0, updated 0, unchanged 0, rejected 1" in result.output
    assert (
        f"rejected line 1: not applied (the stored record stays): this line's version"
        f" {fixed.isoformat()} (updated_at, else published_at) is older than the stored"
        f" version, {ahead.isoformat()}, but it has a different title (that version is 6 h 59"
        " min ahead of now: a clock or time zone off? a version up to a day ahead is believed);"
        f" only a newer version replaces it: give this line an updated_at after {ahead.isoformat()}"
    ) in result.output, result.output


def test_an_older_identical_line_stays_unchanged(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    base = {"source_key": "B", "url": "https://example.vn/b", "title": "Kiến Thụy",
            "published_at": (now - 2 * H).isoformat()}  # fmt: skip
    assert cli_import(tmp_path, jsonl(base | {"updated_at": now.isoformat()})).exit_code == 0
    old = cli_import(tmp_path, jsonl(base | {"updated_at": (now - H).isoformat()}))
    assert old.exit_code == 0 and "unchanged 1, rejected 0" in old.output, old.output
