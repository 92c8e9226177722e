"""Changing a chat's delivery options: the one use case behind ``/digest``, ``/quiet``,
``/silent``, ``PATCH /api/chats/{chat_id}`` and the admin's chat page.

Changing the options also re-times what the chat already holds: switching to instant (and
outside a quiet window) releases it now as one digest; another schedule moves it to that
schedule's next digest. Validation is :mod:`feedsvc.digest.settings`' (errors are
:class:`SettingError` with the field named).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, tzinfo

from feedsvc.catalogue import Translator
from feedsvc.db import Database
from feedsvc.digest.schedule import release_at
from feedsvc.digest.settings import (
    ChatSettings,
    SettingError,
    hhmm,
    parse_digest,
    parse_quiet,
    parse_switch,
)
from feedsvc.store import digests as store


class ChatNotFound(LookupError):
    """No chat with that id (the API answers 404)."""


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
    now: datetime | None = None,
) -> ChatSettings:  # fmt: skip
    """Store ``changes`` (from :func:`parse_changes`) on the chat and re-time its held alerts;
    returns the chat's settings now. Raises :class:`ChatNotFound`."""
    with db.write() as conn:
        current = store.get_settings(conn, chat_id)
        if current is None:
            raise ChatNotFound(chat_id)
        updated = dataclasses.replace(current, **changes)  # type: ignore[arg-type]
        store.save_settings(conn, chat_id, updated)
        at = now or db.now()
        store.retime_held(conn, chat_id, release_at(updated, at, tz) or at)
    return updated


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
