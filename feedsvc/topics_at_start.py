"""``run``'s import of ``topics.file`` at start, and the log lines that say what it did.

Kept apart from reading and checking the file (:mod:`feedsvc.topics_file`): this is the one
place a start writes the file's topics into the state DB (:func:`feedsvc.topics_sync.
sync_topics`), and it says every topic whose state-DB edits the file replaced, kept, kept
deleted or created again, so an operator learns from the log what a restart changed. A file
with problems never stops the service: the state DB's topics are kept.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from feedsvc.topics_file import TopicsFileError, bring_back, configured_topics
from feedsvc.topics_sync import (
    Applied,
    FileNotApplied,
    relisted_words,
    switched_off_words,
    sync_topics,
)

if TYPE_CHECKING:
    from feedsvc.config import TopicsSettings
    from feedsvc.db import Database

#: The start's lines keep the logger name they have always had (log filters select them by it).
log = logging.getLogger("feedsvc.topics_file")


def import_at_start(db: Database, topics: TopicsSettings) -> None:
    """``topics.file`` into the state DB as ``run`` starts, by
    :func:`feedsvc.topics_file.configured_topics` (the rule ``config check`` applies). A file
    with problems (or set and missing) is one error line naming the file and every problem, and
    the service goes on with the topics already in the state DB: a typo in the file must not
    stop the feeds and alerts. The default file absent is one info line saying where topics
    come from."""
    try:
        specs = configured_topics(topics.file, is_set=topics.file_is_set)
    except TopicsFileError as exc:
        log.error(
            "topics file %s not imported, the state DB's topics are kept: %d problem(s): %s",
            exc.path, len(exc.problems), "; ".join(exc.problems),
        )  # fmt: skip
        return
    if specs is None:
        log.info(
            "no topics file at %s: topics are the state DB's (add them with `feedsvc topics "
            "add`, or create the file, or set topics.file)",
            topics.file,
        )
        return
    try:
        with db.write() as conn:
            applied = sync_topics(conn, specs, db.now(), explicit=False)
    except FileNotApplied as exc:
        log.error(
            "topics file %s not imported, the state DB's topics are kept: %s", topics.file, exc
        )
        return
    log.info("topics file %s: %s", topics.file, applied.summary())
    log_applied(str(topics.file), applied)


def log_applied(path: str, applied: Applied) -> None:
    """The topics whose state DB edits a start replaced (a WARNING each, naming the fields:
    the file's entry for it changed, so the file won), kept, or kept because no entry was
    recorded yet (the first start after the upgrade to 0017); deleted in the DB and created
    again (a WARNING each) or kept deleted (one line naming them and how to bring one back)."""
    for slug, fields in applied.replaced.items():
        log.warning(
            "topics file %s: topic %s: its entry in the file changed since it was last "
            "imported; the file's version replaced the state DB's edits (%s)",
            path, slug, ", ".join(fields),
        )  # fmt: skip
    for slug, fields in applied.relisted.items():
        log.info("topics file %s: topic %s: %s", path, slug, relisted_words(fields))
    for slug, fields in applied.adopted.items():
        log.warning(
            "topics file %s: topic %s differs from its entry in the file (%s): the state DB's "
            "version is kept and the file's entry recorded as imported (`feedsvc topics "
            "import` applies the file's version)",
            path, slug, ", ".join(fields),
        )  # fmt: skip
    for slug in applied.kept_on:
        log.warning(
            "topics file %s: topic %s is no longer in the file but is on: kept on "
            "(`feedsvc topics disable %s` switches it off)",
            path, slug, slug,
        )  # fmt: skip
    for slug in applied.recreated:
        log.warning(
            "topics file %s: topic %s, deleted in the state DB, is created again: its entry "
            "in the file changed since it was deleted",
            path, slug,
        )  # fmt: skip
    if applied.kept_deleted:
        log.info(
            "topics file %s: %d topic(s) deleted in the state DB are kept deleted (their "
            "entries in the file did not change): %s; to bring one back, %s",
            path, len(applied.kept_deleted), ", ".join(sorted(applied.kept_deleted)),
            bring_back(),
        )  # fmt: skip
    if (off := switched_off_words(applied)) is not None:  # their alerts and feeds stop
        log.info("topics file %s: %s", path, off)
    if applied.kept:
        log.info(
            "topics file %s: %d topic(s) edited in the state DB are kept (their entries in "
            "the file did not change): %s",
            path, len(applied.kept), ", ".join(sorted(applied.kept)),
        )  # fmt: skip
