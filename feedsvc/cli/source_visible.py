"""What ``feedsvc source check`` says of ``[source.columns] visible`` (SPEC §10).

A row the ``visible`` expression holds false or NULL is read and stored, never shown: no
feed, page, preview or alert. A mistyped expression (``post_status = 'published'`` where
WordPress writes ``'publish'``) therefore made every row a draft while ``source check``
listed each sample row as "published …" and said OK; the service then ran with empty feeds
and nothing in its log to say why. Each sample row the expression hides is marked, and a
sample with no visible row at all is a warning (stderr, exit unchanged: the newest rows of a
real CMS may all be drafts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedsvc.config import Settings
    from feedsvc.source.rows import SourceRow


def not_visible_note(settings: Settings) -> str:
    """Appended to a sample row's line when the source holds the row back: why, in the
    source's own terms (an external CMS's ``visible``; the built-in table's ``withdrawn``)."""
    if settings.source.url:
        return "NOT VISIBLE: stored, never shown (source.columns.visible is false or NULL)"
    return 'NOT VISIBLE: stored, never shown (imported with "withdrawn": true)'


def hidden_by_source(row: SourceRow) -> bool:
    """Whether the source holds ``row`` back (its ``visible`` read into ``withdrawn``:
    ``feedsvc.source.values``)."""
    return bool(row.record.get("withdrawn"))


def visible_warning(settings: Settings, sample: list[SourceRow]) -> str | None:
    """The warning for a sample of an external source none of whose rows ``visible`` shows,
    or None (no sample, no ``visible`` mapped, the built-in table, or a row shown)."""
    visible = settings.source.columns.visible
    if not settings.source.url or not visible or not sample:
        return None
    if not all(hidden_by_source(row) for row in sample):
        return None
    count = len(sample)
    rows = "the newest row is not" if count == 1 else f"none of the newest {count} rows is"
    return (
        f"source.columns.visible: {rows} visible ({visible!r} is false or NULL): feedsvc "
        "stores such rows and shows none of them (no feed, page or alert). If the CMS has "
        "published what it holds, correct the expression to what the CMS writes for a "
        "published row (WordPress: post_status = 'publish'); `--rows 100` looks at more rows"
    )
