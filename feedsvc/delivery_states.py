"""The names of an outbox row's states and of why an unfinished one waits: one list, read by
the store (its SQL), the catalogue (its words) and the CLI's driver-level reads, none of which
may import the others (the catalogue and ``store.lite`` stay free of SQLAlchemy).

The states' life is told in :mod:`feedsvc.store.deliveries`."""

from __future__ import annotations

WITHDRAWN = "withdrawn"
#: the chat no longer subscribes to anything the article matches (:mod:`feedsvc.wanted`): it
#: unsubscribed, or the article stopped matching (a correction) — queued again if it matches again
UNSUBSCRIBED = "unsubscribed"
TERMINAL = (
    "sent", "blocked", "chat_not_found", "bad_content", "disabled", "failed", "unknown_outcome",
    WITHDRAWN, UNSUBSCRIBED,
)  # fmt: skip
#: ended without a message before it was due to go, and owed again should the article be shown
#: again or match the chat again (``store.deliveries.enqueue``)
NEVER_SENT = (WITHDRAWN, UNSUBSCRIBED)
#: ended with a note in ``error`` that is no failure, never a "recent error" (``status``, the
#: admin's status page, the API's ``recent_errors``: ``store.delivery_log.recent_errors`` and
#: ``store.lite.recent_errors`` both read this): an editor's takedown (withdrawn, "hidden"), a
#: chat no longer subscribed. Four takedowns filled the five-row list and pushed the real
#: delivery errors out, as a ``topics remove --force`` with hundreds queued once did.
NOT_ERRORS = NEVER_SENT
#: finished without being sent and worth sending again: what ``resend`` accepts
DEAD_STATES = tuple(s for s in TERMINAL if s not in ("sent", WITHDRAWN, UNSUBSCRIBED))
#: not finished: the row's error, if any, is its last try's
UNFINISHED = ("pending", "held", "sending")
STATES = (*UNFINISHED, *TERMINAL)
#: Why an unfinished row waits to be tried again (``retry_kind``, migration 0033): a 429
#: (``rate_limited``), a 5xx or network error (``transient``), a send whose answer never came,
#: re-sent once and maybe twice received (``unknown``), a parse error re-sent as plain text
#: (``plain_text``), a group upgraded to a supergroup (``migrated``), a deleted forum thread
#: (``thread_gone``), an article whose time was moved ahead (``scheduled``), a forum topic the
#: chat's admins closed (``topic_closed``: waits to be reopened). Worded by the
#: catalogue's ``delivery_error.retrying.<kind>``.
RETRY_KINDS = (
    "rate_limited", "transient", "unknown", "plain_text", "migrated", "thread_gone", "scheduled",
    "token_refused", "topic_closed",
)  # fmt: skip

#: What a sent message is (``deliveries.message_kind``, migration 0042): a picture with the
#: alert as its caption, or a text; read from the channel's answer to the send
#: (:attr:`feedsvc.notify.outcome.SendOutcome.message_kind`), so the follow-up worker edits
#: what is there, not what the settings suggest. NULL: not known.
PHOTO, TEXT = "photo", "text"
MESSAGE_KINDS = (PHOTO, TEXT)


def waits_because(state: str, retry_kind: str | None) -> str | None:
    """Why a row in ``state`` waits now: its recorded ``retry_kind`` while it is unfinished;
    None once it has ended (the column keeps its last retry's kind: history, not a reason)."""
    return retry_kind if state in UNFINISHED else None
