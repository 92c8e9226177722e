"""The hides new articles arrive with, and new keys that look like stored ones (SPEC §10).

A key is the source's identity, stored as sent (:mod:`feedsvc.keys`): a CMS may hold
``Tin-Kiến`` decomposed (NFD) in one row and composed (NFC) in another, and an editor types it
composed. Compared code point by code point, a takedown recorded ahead in one form waited for
an article that arrived in the other and was published; and a second row of the same story
under the other form became a second article (two feed items, two alerts) with nothing said.

So, in the ingest transaction that inserts the articles (:func:`feedsvc.ingest.writer.apply`):

* a hide recorded ahead (:mod:`feedsvc.store.pending_hides`) applies to the article arriving
  under its key or one canonically equivalent to it (said when the forms differ);
* a new key canonically equivalent to a stored article's other key is a WARNING naming both
  (once the transaction commits, :mod:`feedsvc.db.committed`):
  the rows stay two articles (never merged: distinct CMS rows), and the operator learns of it;
* such a new article arrives hidden when its stored lookalike is hidden by an editor, with
  that hide's reason and author: the two look the same to every reader, and a takedown must
  not be undone by a second copy under the other form. An editor unhides each by its key.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

from feedsvc.db.committed import say
from feedsvc.keys import canonical, named
from feedsvc.store import pending_hides
from feedsvc.store.article_keys import Lookalike, stored_lookalikes
from feedsvc.store.pending_hides import PendingHide, Waiting

log = logging.getLogger(__name__)


def arriving_hides(
    conn: Connection, keys: Sequence[str], pending: Waiting | None, now: datetime
) -> dict[str, PendingHide]:
    """The hide each of ``keys`` (articles about to be inserted) arrives with, by key: a hide
    recorded ahead for it (taken: deleted in this transaction), else an editor's hide of a
    stored article whose key is canonically equivalent to it. ``pending``: what
    :func:`feedsvc.store.pending_hides.read_locked` gave earlier in this transaction."""
    if not keys:
        return {}
    hides = pending_hides.take(conn, keys, pending)
    for key, hide in hides.items():
        if hide.source_key != key:
            say(
                conn, log, logging.WARNING,
                "the hide recorded ahead for %s applies to the article arriving as %s: the same "
                "key in another Unicode form", _named(hide.source_key), _named(key),
            )  # fmt: skip
    stored = stored_lookalikes(conn, keys)
    for key, others in stored.items():
        hidden = [a for a in others if a.hidden_at is not None]
        inherited = key not in hides and bool(hidden)
        if inherited:
            first = hidden[0]
            hides[key] = PendingHide(first.source_key, first.hidden_reason, first.hidden_by, now)
        say(conn, log, logging.WARNING, "%s", _lookalike_words(key, others, inherited=inherited))
    _same_batch(conn, keys)
    return hides


def _same_batch(conn: Connection, keys: Sequence[str]) -> None:
    """A WARNING for new keys of one batch that are one key in other Unicode forms."""
    forms: dict[str, list[str]] = {}
    for key in keys:
        forms.setdefault(canonical(key), []).append(key)
    for alike in forms.values():
        if len(alike) > 1:
            say(
                conn, log, logging.WARNING,
                "new articles %s are the same key in other Unicode forms (distinct source rows):"
                " stored as %d articles, so feeds and alerts show each",
                ", ".join(_named(k) for k in alike), len(alike),
            )  # fmt: skip


def _lookalike_words(key: str, others: Sequence[Lookalike], *, inherited: bool) -> str:
    named = ", ".join(_named(a.source_key) for a in others)
    said = (
        f"new article {_named(key)} is the same key in another Unicode form as the stored "
        f"{named}: stored as another article (a distinct source row), so feeds and alerts "
        "show both"
    )
    if inherited:
        said += "; it arrives hidden, as its stored lookalike is (an editor unhides it by its key)"
    return said


def _named(key: str) -> str:
    """A key in the one spelling the CLI prints keys in and reads back
    (:func:`feedsvc.keys.spelled`: code point by code point unless NFC), so two that look the
    same print apart and either can be pasted into ``articles hide|unhide``."""
    return named(key)
