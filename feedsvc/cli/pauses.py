"""Chats that receive no alerts now, and why a queued alert waits, in the CLI's English:
``feedsvc status``'s ``chats_not_receiving``, ``chat_pauses`` and ``recent_errors`` (and the
words beside its lag during a catch-up, :meth:`English.backlog`), and ``feedsvc subs list``'s
notes.

The catalogue (Babel) is imported only when there is something to word: the start-up cost of
commands that usually have nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from feedsvc.cli.common import CELL_CHARS, cell, cli_words

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from feedsvc.ingest_state import IngestState


#: The shown modes ``status`` adds a note to (:meth:`English.channel_note`).
NOTED = ("sent_elsewhere", "console", "off")
#: The shown modes whose note says so when no token is set at all (``channel_note.<mode>.unset``).
UNSET_NOTED = ("console", "off")


class English:
    """A stored switch-off reason (a code) worded in English, and a pause's end in the site's
    zone, from the catalogue, which is imported only when a chat has one (it brings Babel:
    start-up cost of a command that usually has no such chat)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self._words: Any = None

    def _translator(self) -> Any:
        if self._words is None:
            self._words = cli_words(self._tz)  # the CLI speaks English, times to the second
        return self._words

    def channel_note(self, shown: str, setting: str | None = None) -> str | None:
        """What ``status`` adds to a channel's shown mode (``channel_note.<mode>``; None for
        a mode that says itself: ``on``, ``waiting``…): ``sent_elsewhere``, a shell without
        the token while a running service sends with it; ``console`` and ``off``, this
        command's reading without a token (README: a secret it cannot read is taken as
        unset), which says nothing of a running service's own token. ``setting``: the token's
        setting when this command's configuration sets none (``channel_modes.token_set``):
        ``channel_note.<mode>.unset`` names it — "not available to this command" read as
        though a token existed on a fresh install (a newcomer's)."""
        if shown not in NOTED:
            return None
        if setting is not None and shown in UNSET_NOTED:
            return cast("str", self._translator()(f"channel_note.{shown}.unset", setting=setting))
        return cast("str", self._translator()(f"channel_note.{shown}"))

    def reason(self, code: str | None, channel: str) -> str | None:
        """``code`` in ``channel``'s words (``Translator.reason``); None when there is none."""
        if not code:
            return None
        return cast("str", self._translator().reason(code, channel))

    def waiting(self, failure: Any) -> str | None:
        """Why a delivery still queued after a failed try waits (``Translator.delivery_error``
        of its ``retry_kind``): "it will be tried again" is not all an operator needs when
        the chat is paused for a 429 or the alert may arrive twice. None for a finished row,
        or one recorded before the kind was (migration 0033): its state and error say it."""
        if failure.retry_kind is None:
            return None
        words = self._translator().delivery_error(
            failure.state, failure.channel, failure.retry_kind
        )
        return cast("str", words)

    def backlog(self, state: IngestState | None) -> str | None:
        """What ``status``' text adds to the ``ingest_lag_seconds`` line while rows are behind
        the cursor (``ingest_state.BACKLOG_CODES``): the admin's words for the state
        (``Translator.ingest``, counts in plain digits) — what is left, when it is done, where
        reading stands —, as the lag alone grew while the rows left fell. None otherwise."""
        from feedsvc.ingest_state import BACKLOG_CODES

        if state is None or state.code not in BACKLOG_CODES:
            return None
        return cast("str", self._translator().ingest(state, digits=True))

    def time(self, moment: datetime) -> str:
        """``moment`` as every CLI line writes one: ``2026-11-30 10:34:07 +07:00``, the site's
        zone, to the second (:func:`feedsvc.local_times.local_time`; no Babel needed)."""
        from feedsvc.local_times import local_time

        return local_time(moment, self._tz)


def pause_lines(pauses: Sequence[Any], english: English) -> list[str]:
    """``zalo chat zb (why)`` per chat not receiving alerts: the chat as operators know it
    (``recipient``, :func:`feedsvc.recipient_names.chat_name`), never feedsvc's own number."""
    return [f"{cell(p.recipient)} ({cell(why(p, english), CELL_CHARS)})" for p in pauses]


def error_lines(failures: Sequence[Any], english: English) -> list[str]:
    """``#id state zalo chat zb: error`` (the chat as operators know it, ``recipient``: an
    Apprise URL masked) per recent error (a
    ``delivery_log.DeliveryRow`` or a ``store.lite.Failure``), why it waits first while it is
    queued to be tried again. The error keeps its own ``CELL_CHARS``: the words (up to ~100
    characters) cut into the whole line's left a long proxy page or Apprise detail half of the
    room it had."""
    lines = []
    for f in failures:
        words = english.waiting(f)
        error = cell(f.error or "", CELL_CHARS)
        shown = f"{cell(words)} (last error: {error})" if words else error
        lines.append(f"#{f.id} {f.state} {cell(f.recipient)}: {shown}")
    return lines


def why(pause: Any, english: English) -> str:
    """Why a chat receives no alerts now (a ``store.chat_pauses.ChatPause``), in English:
    ``paused``, its switch-off reason, or its 429 pause's end in the site's zone."""
    if pause.paused:
        return "paused"
    if pause.disabled_reason is not None:  # off whatever it holds (delivery asks IS NULL)
        return english.reason(pause.disabled_reason, pause.channel) or "switched off"
    return f"429 until {english.time(pause.blocked_until)}"


def pause_objects(pauses: Sequence[Any], english: English) -> list[dict[str, Any]]:
    """The chats not receiving alerts as ``/api/status`` lists them (``chat_pauses``: its
    ``ChatPauseOut``'s keys and order), the reason worded in English. Scripts read the
    figure from either interface by one name (the CLI had only ``chats_not_receiving``).
    ``chat_id`` is feedsvc's own number, as before; ``channel`` and ``recipient`` (``zalo chat
    zb``, an Apprise URL masked) say which chat it is."""
    return [
        {
            "chat_id": p.chat_id,
            "type": p.type,
            "title": p.title,
            "paused": p.paused,
            "blocked_until": p.blocked_until,
            "disabled_reason": p.disabled_reason,
            "disabled_reason_message": english.reason(p.disabled_reason, p.channel),
            "channel": p.channel,
            "recipient": p.recipient,
        }
        for p in pauses
    ]
