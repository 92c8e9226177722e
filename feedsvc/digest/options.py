"""Changing a chat's delivery options: the one use case behind ``/digest``, ``/quiet``,
``/silent``, ``PATCH /api/chats/{chat_id}`` and the admin's chat page.

Changing the options also re-times what the chat already holds: switching to instant (and
outside a quiet window) releases it now as one digest; another schedule moves it to that
schedule's next digest. Validation is :mod:`feedsvc.digest.settings`' (errors are
:class:`SettingError` with the field named).

A change made from what someone saw (the admin's page, an API ``PATCH`` with ``If-Match``)
gives that view's version (:mod:`feedsvc.digest.versions`): :func:`apply` then writes only the
options that differ from it, and refuses (:class:`ChatChangedMeanwhile`) one also changed
since by someone else, to another value — the check and the write in one transaction, on the
chat's locked row.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, tzinfo

from sqlalchemy import Connection

from feedsvc.catalogue import Translator
from feedsvc.db import Database
from feedsvc.digest import versions
from feedsvc.digest.schedule import release_at
from feedsvc.digest.settings import (
    ChatSettings,
    SettingError,
    hhmm,
    parse_digest,
    parse_quiet,
    parse_switch,
)
from feedsvc.recipient_names import RecipientName, named
from feedsvc.store import digests as store
from feedsvc.store import subscriptions as chat_store


class ChatNotFound(LookupError):
    """No chat with that id (the API answers 404)."""


class ChatChangedMeanwhile(Exception):
    """A change refused, nothing saved: made from a view of the chat's options (``seen``,
    :func:`apply`) that is no longer what is stored. ``code``: ``chat_changed_meanwhile``
    (``fields``: the options the caller changed that someone else changed since, to another
    value) or ``chat_version_missing`` (``seen`` is no version: a page from before versions,
    a form a script made; every option the caller gave is in ``fields``). ``now``: the stored
    options, ``version`` their version — a form takes it, so saving again is deliberate —,
    ``edited``: the options the caller changed from ``seen`` (all it gave when unknown).
    ``chat``: the chat as operators know it (:func:`feedsvc.recipient_names.named`), which the
    English message (the API's ``error``) and a page's words name — never feedsvc's internal
    chat number (``chat 4503599627370497's options…`` for a Zalo or Apprise chat, a report)."""

    def __init__(
        self, code: str, chat: RecipientName, chat_id: int, fields: tuple[str, ...],
        edited: tuple[str, ...], now: ChatSettings,
    ) -> None:  # fmt: skip
        self.code, self.chat, self.chat_id, self.fields, self.edited, self.now = (
            code, chat, chat_id, fields, edited, now,
        )  # fmt: skip
        self.version = versions.version_of(now)
        said = ", ".join(fields)
        if code == "chat_version_missing":
            message = f"no version of {chat}'s options was given; nothing was saved"
        else:
            message = f"{chat}'s options were changed meanwhile ({said}); nothing was saved"
        super().__init__(message)


def parse_changes(
    digest: str | None = None, quiet: str | None = None, silent: str | bool | None = None
) -> dict[str, object]:
    """The fields given, parsed (None = unchanged). Raises :class:`SettingError` naming the
    first field that cannot be used."""
    changes: dict[str, object] = {}
    if digest is not None:
        changes["digest"] = parse_digest(digest)
    if quiet is not None:
        changes["quiet"] = parse_quiet(quiet)
    if silent is not None:
        changes["silent"] = silent if isinstance(silent, bool) else parse_switch(silent)
    return changes


def apply(
    db: Database, chat_id: int, changes: dict[str, object], tz: tzinfo,
    now: datetime | None = None, *, seen: str | None = None,
) -> ChatSettings:  # fmt: skip
    """Store ``changes`` (from :func:`parse_changes`) on the chat and re-time its held alerts;
    returns the chat's settings now. Raises :class:`ChatNotFound`.

    ``seen``: the version (:func:`feedsvc.digest.versions.version_of`) of the options the
    caller's changes were made from — the admin's page, an API ``If-Match`` —; None (the bot,
    a ``PATCH`` without ``If-Match``) writes every option given. **The one decision on a
    change over a stale view**: an option given with the value ``seen`` had is not written
    (the caller did not change it: someone else's change since stays); one the caller changed
    that was also changed since to another value refuses the whole change
    (:class:`ChatChangedMeanwhile` ``chat_changed_meanwhile``); one changed since to the
    value given is no conflict (the same form sent twice). ``seen`` that is no version is
    ``chat_version_missing``. Judged on the chat's row locked for the write
    (:func:`feedsvc.store.digests.get_settings` ``lock``), never on an earlier read."""
    edited = None if seen is None else versions.differing(seen, changes)
    with db.write() as conn:
        current = store.get_settings(conn, chat_id, lock=True)
        if current is None:
            raise ChatNotFound(chat_id)
        if seen is not None:
            changes = _unseen_changes(conn, chat_id, current, changes, seen, edited)
        updated = dataclasses.replace(current, **changes)  # type: ignore[arg-type]
        store.save_settings(conn, chat_id, updated)
        at = now or db.now()
        store.retime_held(conn, chat_id, release_at(updated, at, tz) or at)
    return updated


def _unseen_changes(
    conn: Connection, chat_id: int, current: ChatSettings, changes: dict[str, object],
    seen: str, edited: tuple[str, ...] | None,
) -> dict[str, object]:  # fmt: skip
    """The part of ``changes`` that :func:`apply` writes over ``current`` for a caller who saw
    ``seen`` (``edited``: the options it changed from it, None for no version); raises
    :class:`ChatChangedMeanwhile`, the chat named from its row read in ``conn``."""
    if edited is None:
        given = tuple(f for f in versions.FIELDS if f in changes)
        code, fields, edited = "chat_version_missing", given, given
    else:
        since = versions.differing(seen, versions.values_of(current)) or ()
        fields = tuple(f for f in edited if f in since and getattr(current, f) != changes[f])
        if not fields:
            return {f: changes[f] for f in edited}
        code = "chat_changed_meanwhile"
    chat = chat_store.get_chat(conn, chat_id)
    assert chat is not None  # its options were just read from its row, locked
    raise ChatChangedMeanwhile(code, named(chat), chat_id, fields, edited, current)


def read(db: Database, chat_id: int) -> ChatSettings:
    with db.read() as conn:
        found = store.get_settings(conn, chat_id)
    if found is None:
        raise ChatNotFound(chat_id)
    return found


def describe(settings: ChatSettings, t: Translator) -> dict[str, str]:
    """The settings in words (``digest``, ``quiet``, ``silent``), for /settings and the admin."""
    schedule = settings.digest
    if schedule.hourly:
        mode = t("digest.mode.hourly")
    elif schedule.times:
        mode = t("digest.mode.times", times=", ".join(hhmm(x) for x in schedule.times))
    else:
        mode = t("digest.mode.off")
    quiet = settings.quiet
    return {
        "digest": mode,
        "quiet": t("digest.quiet.window", window=quiet.stored())
        if quiet
        else t("digest.quiet.off"),
        "silent": t("digest.silent.on" if settings.silent else "digest.silent.off"),
    }


def error_text(exc: SettingError, t: Translator) -> str:
    """A :class:`SettingError` in the catalogue's words (plain text: escape it for HTML)."""
    return t(f"digest.error.{exc.code}", **exc.params)
