"""Editors' use cases (SPEC §10): hide and unhide an article, find articles to act on.

Shared by ``feedsvc articles``, ``POST /api/articles/{source_key}/hide|unhide`` and the web
admin's articles page, so every front end applies the same rules and reports the same errors
(:class:`feedsvc.operations.OperationError`, worded from ``op.<code>`` in the admin). A hidden
article stays hidden whatever the source later says, until unhidden; hiding ends its queued
alerts (``withdrawn``), and every replica's next feed sync drops it from the feeds. An unhide
that makes an article public for the first time (hidden before its scheduled time or while
the source held it back, approved after it, whatever corrections moved its time meanwhile)
alerts as the due check would have at its time; any other unhide alerts nobody. A key ingest
has not stored yet is hidden ahead (:mod:`feedsvc.store.pending_hides`: ingest applies the hide
in the transaction that stores the article, which is never public) when the built-in source
table holds it or the editor asks (``pending``: an external CMS's key).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from feedsvc.bidi import BIDI_CONTROLS
from feedsvc.db import Database
from feedsvc.fieldtext import one_line
from feedsvc.ingest.model import Change, Prepares, TransactionHook
from feedsvc.keys import MAX_KEY, MAX_TYPED_KEY, named, spelled, trim_key
from feedsvc.lifecycle.typed_keys import not_found, noted, stored_article, waiting_hide
from feedsvc.matching import (
    Query,
    QueryError,
    candidate_key_sets,
    document_from_text,
    match_document,
    parse_query,
)
from feedsvc.operations import OperationError, refuse_control
from feedsvc.store import lifecycle as store
from feedsvc.store import pending_hides
from feedsvc.store.article_search import candidate_ids
from feedsvc.store.articles import articles_by_ids
from feedsvc.store.due import mark_released
from feedsvc.store.lifecycle import EditorState
from feedsvc.store.source_articles import waiting_keys, waiting_state
from feedsvc.store.topics import topic_ids_of_articles

log = logging.getLogger(__name__)

_BIDI = re.compile(f"[{BIDI_CONTROLS}]")

MAX_REASON = 500  # characters: a sentence for the log, not a document
MAX_FOUND = 200  # articles one search lists at most
#: characters a search may have: a whole typed key (:data:`feedsvc.keys.MAX_TYPED_KEY`: a stored
#: key's NFC, what a keyboard gives); longer is refused, not cut
MAX_SEARCH = MAX_TYPED_KEY
TITLE_CHECK = 2000  # newest index candidates whose titles one search re-checks at most


def _key(source_key: str) -> str:
    """The key as looked up: trimmed, 1–:data:`~feedsvc.keys.MAX_TYPED_KEY` characters (a stored
    key of up to 255 typed in NFC can be three times longer: U+0958 क़ is two code points
    in NFC), no control character or lone surrogate
    (no stored key holds one, :mod:`feedsvc.articles`; a NUL failed PostgreSQL) except the bidi
    controls: import and ingest refuse keys holding one only since the change CHANGELOG calls
    "a key that could not be taken down", and a key stored before must still be found.
    One that is not stored is refused as before (:func:`~feedsvc.lifecycle.typed_keys.
    not_found`)."""
    key = trim_key(source_key)  # the parser's and migration 0019's rule
    refuse_control("source_key", _BIDI.sub("", key))
    if not key or len(key) > MAX_TYPED_KEY:
        raise _invalid_key()
    return key


def _invalid_key() -> OperationError:
    """A key no article can have: longer than any typed form of a stored key (a lookup), or
    than a stored key (a hide recorded ahead under the key as typed)."""
    return OperationError(
        "invalid", f"source_key must be 1–{MAX_KEY} characters", code="source_key_invalid",
        field="source_key",
    )  # fmt: skip


def waiting_problem(db: Database, text: str) -> OperationError | None:
    """What ``articles find KEY`` says on stderr when ``text`` is a key the built-in source
    table holds that ingest has not read yet and that no pending hide names (a pending hide is
    a row of its own), else None: finding nothing said "no article matches" for an article
    imported a moment ago, as if the key were a typo."""
    try:
        key = _key(text)
    except OperationError:
        return None
    with db.read() as conn:
        waiting = waiting_state(conn, key)
    if waiting is None:
        return None
    if waiting:
        return OperationError(
            "not_found",
            f"{named(key)} is not ingested yet and is withdrawn in the source table: it will not "
            "be published; a hide now keeps it hidden if it is imported again without "
            '"withdrawn": true',
            code="article_not_ingested_withdrawn", params={"key": key},
        )  # fmt: skip
    return OperationError(
        "not_found",
        f"{named(key)} is in the source table but not ingested yet: the next ingest publishes "
        "it (within source.poll_seconds while the service runs); a hide now keeps it out",
        code="article_not_ingested", params={"key": key},
    )  # fmt: skip


def _reason(reason: str | None) -> str | None:
    """A hide reason as stored: one line. Line breaks, tabs and runs of spaces (a paste, the
    admin's textarea) read as one space; any other control character (C0, DEL, C1) is refused,
    like a topic's; over :data:`MAX_REASON` characters is refused. Blank is no reason."""
    raw = reason or ""
    refuse_control("reason", raw)
    text = one_line(raw) or None
    if text is not None and len(text) > MAX_REASON:
        raise OperationError(
            "invalid", f"reason is longer than {MAX_REASON} characters", code="reason_too_long",
            params={"limit": MAX_REASON}, field="reason",
        )  # fmt: skip
    return text


def hide_article(
    db: Database, source_key: str, reason: str | None, by: str, pending: bool = False
) -> EditorState:
    """Hide the article with ``source_key`` (``reason``: optional, shown to editors; ``by``:
    ``cli``, ``api`` or ``admin:<user>``). The reason is kept as one line (:func:`_reason`).

    The key means the stored article it is, else the one whose key is the same text in another
    Unicode form (:func:`feedsvc.lifecycle.typed_keys.stored_article`: a CMS's decomposed key
    typed composed); several such, none exactly the key, are refused (``conflict``,
    ``article_key_ambiguous``), never guessed. The answer names the stored key used
    (``typed_as``) and its lookalikes left alone (``lookalikes``).

    A key ingest has not stored yet is hidden ahead (``store.pending_hides``: ingest applies
    it in the transaction that stores the article, under this key or one the same text in
    another form, which is never public) when the built-in source table holds it (in any
    form), or when ``pending`` asks for it (an external CMS's key feedsvc has not read: it
    cannot cheaply know whether the CMS holds it); the answer's ``pending`` says so. Never
    while an article the key means is stored: that one is hidden. Any other unknown key is
    probably a typo: ``not_found``. Raises OperationError: ``invalid`` (key, reason over
    :data:`MAX_REASON` characters or with a control character other than a line break or
    tab), ``not_found``, ``conflict``."""
    key = _key(source_key)
    text = _reason(reason)
    with db.write() as conn:
        found = _hide_stored(db, conn, key, text, by)
        if found is None:
            pending_hides.serialize(conn)  # an ingest storing it now commits first
            found = _hide_stored(db, conn, key, text, by)
        if found is None:
            found = _hide_ahead(db, conn, key, text, by, pending)
        if found is None:
            raise not_found(conn, key)
    return found


def _hide_stored(
    db: Database, conn: Connection, key: str, text: str | None, by: str
) -> EditorState | None:
    """Hide the stored article ``key`` means, if any (None: none is stored)."""
    meant = stored_article(conn, key)
    if meant.key is None:
        return None
    store.lock_article(conn, meant.key)  # stamped after any wait for the row, not before it
    found = store.set_hidden(conn, meant.key, True, db.now(), text, by)
    return None if found is None else noted(found, key, meant.lookalikes)


def _hide_ahead(
    db: Database, conn: Connection, key: str, text: str | None, by: str, pending: bool
) -> EditorState | None:
    """Record the hide of a key no stored article is (under :func:`pending_hides.serialize`):
    renewing a hide recorded for it in any form, else under the built-in source table's key
    when one row holds it in another form (the answer names the key the source sends), else
    as typed. None: not asked, and no table here holds the key."""
    held = waiting_hide(conn, key)
    waiting = waiting_keys(conn, key)
    if not (pending or held.key is not None or waiting):
        return None
    refuse_control("source_key", key)  # a bidi control: never ingested now
    recorded = held.key or (next(iter(waiting)) if len(waiting) == 1 else key)
    if len(recorded) > MAX_KEY:  # a new key, as typed: never a stored one's
        raise _invalid_key()
    pending_hides.record(conn, recorded, db.now(), text, by)
    return noted(pending_hides.pending_states(conn, [recorded], 1)[0], key, held.lookalikes)


def unhide_article(
    db: Database, source_key: str, release: Sequence[TransactionHook]
) -> EditorState:
    """Show the article again (as far as the source allows: a withdrawn one stays out), or
    cancel the pending hide of a key ingest has not stored yet (it then ingests as any other;
    the answer is that key, not ``ingested``, its state ``not_ingested``). The key means what
    a hide's does (:func:`hide_article`: the stored key in any Unicode form; several, none
    exactly it: ``conflict``).

    An article hidden while not public (before its time, or a source's draft, or hidden
    before ingest) and never alerted (:func:`first_public`) becomes public for the first time
    now: it goes through ``release`` (the hooks the due check runs,
    :func:`feedsvc.lifecycle.hooks.release_hooks`: the outbox's alerts, within
    ``telegram.alert_max_age_hours``) in the unhide's transaction, as it would have at its time
    had nobody hidden it. Any other unhide queues nothing (a takedown undone is no news). The
    hooks are prepared (chats' queries compiled) before the write, only when the row read then
    is a candidate; the decision is taken again on the locked row (a row that became one in
    between — its time came that instant — is the due check's, whose overlap still covers
    it). The answer's ``released`` says it went through ``release``. Raises OperationError
    ``invalid``, ``not_found`` or ``conflict``."""
    key = _key(source_key)
    for _ in range(2):  # again once when ingest stored the article while we looked
        found = _unhide(db, key, release)
        if found is not None:
            return found
    with db.read() as conn:
        raise not_found(conn, key)


def _unhide(db: Database, key: str, release: Sequence[TransactionHook]) -> EditorState | None:
    """One try of :func:`unhide_article`; None when ingest stored the article between the read
    that prepares the hooks and the write (the caller tries again, the hooks prepared)."""
    with db.read() as conn:
        meant = stored_article(conn, key)
        before = None if meant.key is None else store.editor_state(conn, meant.key)
    prepared = before is not None and _hidden_unpublic(before)
    for hook in release if prepared else ():
        if isinstance(hook, Prepares):
            hook.prepare(db)
    with db.write() as conn:
        if before is None:
            pending_hides.serialize(conn)  # an ingest applying it now commits first
            if stored_article(conn, key).key is not None:
                return None  # stored meanwhile (hidden, if it was pending): read it again
            return _cancel(conn, key)
        if stored_article(conn, key) != meant:
            return None  # another form of the key stored meanwhile: read it again
        stored = before.source_key
        store.lock_article(conn, stored)
        now = db.now()
        held = store.editor_state(conn, stored)
        found = store.set_hidden(conn, stored, False, now)
        # the deliveries are read (one indexed probe) only for a candidate
        released = held is not None and prepared and first_public(held, now, _queued(conn, held))
        if released:
            assert held is not None
            _release(conn, held, release, now)
        if found is None:
            raise not_found(conn, key)
    found = noted(found, key, meant.lookalikes)
    return replace(found, released=True) if released else found


def _cancel(conn: Connection, key: str) -> EditorState:
    """An unhide of a key no article is: cancel the hide waiting for it (in any form)."""
    held = waiting_hide(conn, key)
    waiting = [] if held.key is None else pending_hides.pending_states(conn, [held.key], 1)
    if held.key is None or not waiting or pending_hides.cancel(conn, held.key) is None:
        raise not_found(conn, key)
    # the answer says it (each front end's own words); a log line said it again on the CLI's
    # stderr
    log.debug("unhide: %s pending hide cancelled before ingest", spelled(held.key))
    cancelled = replace(
        waiting[0], hidden_at=None, hidden_reason=None, hidden_by=None,
        hidden_unpublic=False, pending=False,
    )  # fmt: skip
    return noted(cancelled, key, held.lookalikes)


def _queued(conn: Connection, held: EditorState) -> bool:
    return store.ever_queued(conn, held.id)


def _hidden_unpublic(held: EditorState) -> bool:
    """Hidden while it was not public (still scheduled, or withdrawn by the source), as the
    hide recorded it (:func:`feedsvc.store.lifecycle.set_hidden`). Not its current time
    against the hide's: a correction may have moved its ``published_at`` to before the hide
    since (it would have been public from then, but the hide came first)."""
    return held.hidden_at is not None and held.hidden_unpublic


def first_public(held: EditorState, now: datetime, ever_queued: bool) -> bool:
    """Does unhiding ``held`` (its row before the unhide) at ``now`` make it public for the
    first time? Hidden while not public (scheduled or a source's draft, whatever its time or
    state became since: corrections under the hide), its time passed, not withdrawn by the
    source now, and no delivery of it ever queued (``ever_queued``; the outbox queues only
    public articles: one public and alerted, then moved to a later time and hidden before it,
    is not news again, and its withdrawn alerts stay withdrawn). An article public when it was
    hidden is not news on its unhide, whatever its time became meanwhile. Pure."""
    return (
        _hidden_unpublic(held)
        and held.published_at is not None
        and held.published_at <= now
        and held.withdrawn_at is None
        and not ever_queued
    )


def _release(
    conn: Connection, held: EditorState, hooks: Sequence[TransactionHook], now: datetime
) -> None:
    """The due check's release of one article (:class:`feedsvc.lifecycle.due.DueCheck`),
    recorded as the check records its own: a check whose overlap still covers its time (an
    unhide within 10 minutes of it) does not release it again."""
    article_id = held.id
    article = articles_by_ids(conn, [article_id])[article_id]
    topics = frozenset(topic_ids_of_articles(conn, [article_id]).get(article_id, ()))
    changes = [Change(article_id, article, True, topics)]
    for hook in hooks:
        hook(conn, changes, now)
    mark_released(conn, [article_id], now)
    # the answer says it (``EditorState.released``): a CLI command's answer is its own output
    log.debug(
        "unhide: %s public for the first time, released as at its time", spelled(held.source_key)
    )


def find_articles(db: Database, text: str, limit: int = 50) -> list[EditorState]:
    """Articles whose source key is ``text`` or whose title contains it, newest first, at most
    ``limit`` (1..:data:`MAX_FOUND`), after the pending hides (``pending``, hides of keys
    ingest has not stored yet) of that key, or every one when ``text`` is empty. "Contains"
    is the substring the backend's LIKE finds, and also the words as topic matching reads
    them (:func:`title_query`): any case (``KIẾN THỤY``), Unicode form or tone-mark
    placement (``Thuỵ``), and without accents when typed without any (``kien thuy``) —
    SQLite's LIKE folds ASCII letters only. Raises OperationError ``invalid``
    (``search_too_long``) for ``text`` over :data:`MAX_SEARCH` characters: searched whole or
    not at all, never a cut of it; ``control_character`` or ``not_text`` for a control
    character or lone surrogate (a NUL failed PostgreSQL) — not a bidi control: a key stored
    before keys refused them is found by its exact text (:func:`search_problem`)."""
    if (problem := search_problem(text)) is not None:
        raise problem
    limit = max(1, min(limit, MAX_FOUND + 1))  # one more: a caller's probe for more
    query = title_query(text)
    key = trim_key(text)
    with db.read() as conn:
        # hides waiting for ingest first (the urgent ones): all of them with no text, else
        # those of the key typed, in any Unicode form (a key, never a title: no article row
        # holds one yet)
        keys = pending_hides.equivalent(conn, key) if key else None
        waiting = pending_hides.pending_states(conn, keys, limit) if keys != [] else []
        found = {a.id: a for a in store.find_for_editors(conn, text, limit)}
        if query is not None:
            ids = candidate_ids(conn, candidate_key_sets(query), TITLE_CHECK) or []
            for article in store.editor_states(conn, [i for i in ids if i not in found]):
                if match_document(query, document_from_text(article.title)):
                    found[article.id] = article
    ordered = sorted(found.values(), key=_newest, reverse=True)
    return [*waiting, *ordered][:limit]


def _newest(article: EditorState) -> tuple[datetime, int]:
    assert article.published_at is not None  # an article's; only a pending hide has none
    return article.published_at, article.id


def search_problem(text: str) -> OperationError | None:
    """Why :func:`find_articles` refuses ``text``, or None: a control character other than
    the bidi controls (an exact key stored before keys refused them is found, as
    :func:`_key` finds it to hide it) or a lone surrogate, or over :data:`MAX_SEARCH`
    characters. Also asked by the admin's hide/unhide
    before it sends the editor back to the filtered list: a filter the list refuses was
    carried into a 422 page after the action had succeeded."""
    try:  # a bidi control may be in a key stored before keys refused it: find it (_key)
        refuse_control("q", _BIDI.sub("", text))
    except OperationError as exc:
        return exc
    if len(text) > MAX_SEARCH:
        return OperationError(
            "invalid", f"search text is longer than {MAX_SEARCH} characters",
            code="search_too_long", params={"limit": MAX_SEARCH}, field="q",
        )  # fmt: skip
    return None


def title_query(text: str) -> Query | None:
    """``text`` as a phrase in titles (accent-insensitive when typed without accents), or
    None when it holds no word to look for (punctuation only, or empty)."""
    words = " ".join(text.replace('"', " ").split())
    if not words:
        return None
    fold = "~" if words.isascii() else ""
    try:
        return parse_query(f'title:{fold}"{words}"')
    except QueryError:
        return None
