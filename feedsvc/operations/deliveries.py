"""The outbox as the admin sees it: the delivery log, re-sending a dead letter, the outbox's side
of the status page."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from feedsvc import delivery_states, metrics
from feedsvc.db import Database
from feedsvc.operations.errors import OperationError
from feedsvc.store import deliveries as delivery_store
from feedsvc.store import delivery_log
from feedsvc.store import topics as topic_store
from feedsvc.store.chat_pauses import ChatPause, chat_pauses


def resend_delivery(db: Database, delivery_id: int, off_channels: Collection[str] = ()) -> None:
    """Queue a dead letter again; a delivery still queued or already sent is a conflict.

    So is a dead letter to a recipient on one of ``off_channels``, the channels this
    configuration cannot send on (:func:`feedsvc.channel_modes.off_channels`: Zalo without
    ``zalo.token``): the re-send was accepted ("queued again") and the service ended it as
    ``failed`` moments later (:mod:`feedsvc.channels.off`), nothing sent, nothing said. The
    refusal names the channel and the setting that switches it on; once it is set (and the
    service restarted) the same dead letter is re-sent as any other."""
    with db.write() as conn:
        found = delivery_log.delivery_channel(conn, delivery_id) if off_channels else None
        if found is not None and found[0] in delivery_states.DEAD_STATES:
            _refuse_if_off(delivery_id, found[1], off_channels)
        if not delivery_store.resend(conn, delivery_id, db.now()):
            state = delivery_log.delivery_state(conn, delivery_id)
            if state is None:
                raise OperationError(
                    "not_found",
                    f"unknown delivery {delivery_id}",
                    code="delivery_not_found",
                    params={"id": delivery_id},
                )
            raise OperationError(
                "conflict",
                f"delivery {delivery_id} is {state}, not a dead letter",
                code="delivery_not_dead",
                params={"id": delivery_id, "state": state},
            )


def _refuse_if_off(delivery_id: int, channel: str, off_channels: Collection[str]) -> None:
    if channel not in off_channels:
        return
    from feedsvc.channel_modes import MISSING_SETTING

    setting = MISSING_SETTING.get(channel, f"the {channel} settings")
    raise OperationError(
        "conflict",
        f"delivery {delivery_id} not re-sent: channel {channel} is not configured ({setting}"
        f" is not set), so it would only end failed again; set {setting} and restart feedsvc,"
        " then re-send it",
        code="channel_off",
        params={"id": delivery_id, "channel": channel, "setting": setting},
    )


def list_deliveries(
    db: Database,
    *,
    state: str | None = None,
    chat_id: int | None = None,
    topic: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[delivery_log.DeliveryRow], int]:
    """The delivery log, newest first; ``topic`` is a slug (its matched articles), ``state``
    a state or ``dead`` (every dead letter), ``channel`` one channel's recipients."""
    if state is not None and state not in (*delivery_states.STATES, delivery_log.DEAD):
        raise OperationError(
            "invalid",
            f"unknown delivery state {state!r}",
            code="state_invalid",
            params={"state": state},
            field="state",
        )
    with db.read() as conn:
        topic_id = None
        if topic is not None:
            found = topic_store.find_topic(conn, topic)
            if found is None:
                return [], 0
            topic_id = found.id
        return delivery_log.list_deliveries(
            conn, state=state, chat_id=chat_id, topic_id=topic_id, channel=channel,
            limit=limit, offset=offset,
        )  # fmt: skip


def page_deliveries(
    db: Database,
    *,
    state: str | None = None,
    channel: str | None = None,
    limit: int = 100,
    before: int | None = None,
    after: int | None = None,
) -> delivery_log.DeliveryPage:
    """The admin's delivery log by keyset (:func:`feedsvc.store.delivery_log.page_deliveries`:
    ``before``/``after`` an id; ``state`` checked by :func:`list_deliveries`' rule)."""
    with db.read() as conn:
        return delivery_log.page_deliveries(
            conn, state=state, channel=channel, limit=limit, before=before, after=after
        )


def page_start(
    db: Database, page: int, limit: int, *, state: str | None = None, channel: str | None = None
) -> int | None:
    """An old ``?page=N`` link (an offset page of ``limit`` rows) as the keyset page that
    begins where it begins now: the ``before`` id that page is (:func:`page_deliveries`);
    None past the end of the log."""
    with db.read() as conn:  # the row just before the page's first: "before" it is the page
        return delivery_log.nth_id(conn, (page - 1) * limit - 1, state=state, channel=channel)


@dataclass(frozen=True)
class StatusDetails:
    """What :func:`feedsvc.status.collect_status` leaves out: the outbox's side."""

    queue_depth: int
    chat_pauses: list[ChatPause]
    recent_errors: list[delivery_log.DeliveryRow]


def status_details(db: Database, errors: int = 10) -> StatusDetails:
    with db.read() as conn:
        depth = delivery_store.queue_depth(conn)
        pauses = chat_pauses(conn, db.now())
        recent = delivery_log.recent_errors(conn, errors)
    metrics.record_queue_depth(depth)  # also fresh on replicas that do not dispatch
    return StatusDetails(depth, pauses, recent)
