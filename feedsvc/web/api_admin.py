"""``/api/subscriptions``, ``/api/chats``, ``/api/deliveries`` and ``/api/status``.

Adapters over :mod:`feedsvc.operations` (the same subscription rules as the bot and the CLI)
and :func:`feedsvc.status.collect_status` (the same facts as ``feedsvc status``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from feedsvc import operations as ops
from feedsvc.status import collect_status
from feedsvc.store import subscriptions as sub_store
from feedsvc.web.api_base import Call, Endpoint
from feedsvc.web.api_models import (
    ChatOut,
    ChatPauseOut,
    DeliveryList,
    DeliveryOut,
    DeliveryParams,
    ResendOut,
    StatusOut,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
    SubscriptionParams,
)

if TYPE_CHECKING:
    from feedsvc.app import Service


def subscription_out(sub: sub_store.Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=sub.id,
        chat_id=sub.chat_id,
        topic=sub.topic_slug,
        topic_title=sub.topic_title,
        query=sub.query,
    )


def list_subscriptions(service: Service, call: Call) -> tuple[int, SubscriptionList]:
    chat_id = call.params_as(SubscriptionParams).chat_id
    with service.web_db.read() as conn:
        subs = sub_store.list_subscriptions(conn, chat_id)
    return 200, SubscriptionList(subscriptions=[subscription_out(s) for s in subs])


def create_subscription(service: Service, call: Call) -> tuple[int, SubscriptionOut]:
    body = call.body_as(SubscriptionIn)
    sub, created = ops.add_subscription(
        service.web_db, body.chat_id, body.chat_type, topic=body.topic, query=body.query
    )
    return (201 if created else 200), subscription_out(sub)


def delete_subscription(service: Service, call: Call) -> tuple[int, SubscriptionOut]:
    return 200, subscription_out(ops.remove_subscription(service.web_db, call.int_param("id")))


def _chat_out(chat: sub_store.Chat) -> ChatOut:
    return ChatOut(
        chat_id=chat.chat_id,
        type=chat.type,
        title=chat.title,
        paused=chat.paused,
        disabled_reason=chat.disabled_reason,
    )


def pause_chat(service: Service, call: Call) -> tuple[int, ChatOut]:
    return 200, _chat_out(ops.set_chat_paused(service.web_db, call.int_param("chat_id"), True))


def resume_chat(service: Service, call: Call) -> tuple[int, ChatOut]:
    return 200, _chat_out(ops.set_chat_paused(service.web_db, call.int_param("chat_id"), False))


def list_deliveries(service: Service, call: Call) -> tuple[int, DeliveryList]:
    p = call.params_as(DeliveryParams)
    rows, total = ops.list_deliveries(
        service.web_db, state=p.state, chat_id=p.chat_id, topic=p.topic, limit=p.limit,
        offset=p.offset,
    )  # fmt: skip
    items = [DeliveryOut.model_validate(asdict(r)) for r in rows]
    return 200, DeliveryList(items=items, total=total, limit=p.limit, offset=p.offset)


def resend_delivery(service: Service, call: Call) -> tuple[int, ResendOut]:
    delivery_id = call.int_param("id")
    ops.resend_delivery(service.web_db, delivery_id)
    return 200, ResendOut(id=delivery_id, state="pending")


def status(service: Service, call: Call) -> tuple[int, StatusOut]:
    facts = collect_status(service, service.web_db)
    details = ops.status_details(service.web_db)
    outbox = {
        "queue_depth": details.queue_depth,
        "chat_pauses": [ChatPauseOut.model_validate(asdict(p)) for p in details.chat_pauses],
        "recent_errors": [DeliveryOut.model_validate(asdict(r)) for r in details.recent_errors],
    }
    return 200, StatusOut.model_validate(facts | outbox)


ENDPOINTS = [
    Endpoint(
        "GET", "/api/subscriptions", list_subscriptions, "List subscriptions", "subscriptions",
        {200: SubscriptionList}, params=SubscriptionParams,
    ),
    Endpoint(
        "POST", "/api/subscriptions", create_subscription,
        "Subscribe a chat to a topic or a query", "subscriptions",
        {200: SubscriptionOut, 201: SubscriptionOut}, body=SubscriptionIn, errors=(409, 422),
        description="Exactly one of `topic` (an enabled topic's slug) or `query`. Idempotent: "
        "200 with the existing subscription when the chat already has it.",
    ),
    Endpoint(
        "DELETE", "/api/subscriptions/{id}", delete_subscription, "Delete a subscription",
        "subscriptions", {200: SubscriptionOut}, errors=(404,), path_types={"id": "integer"},
    ),
    Endpoint(
        "POST", "/api/chats/{chat_id}/pause", pause_chat, "Pause a chat's alerts",
        "subscriptions", {200: ChatOut}, errors=(404,), path_types={"chat_id": "integer"},
    ),
    Endpoint(
        "POST", "/api/chats/{chat_id}/resume", resume_chat, "Resume a chat's alerts",
        "subscriptions", {200: ChatOut}, errors=(404,), path_types={"chat_id": "integer"},
    ),
    Endpoint(
        "GET", "/api/deliveries", list_deliveries, "The delivery log", "deliveries",
        {200: DeliveryList}, params=DeliveryParams,
        description="Newest first. `state=dead` lists every dead letter; `topic` keeps "
        "deliveries of articles that matched that topic.",
    ),
    Endpoint(
        "POST", "/api/deliveries/{id}/resend", resend_delivery, "Re-send a dead letter",
        "deliveries", {200: ResendOut}, errors=(404, 409), path_types={"id": "integer"},
        wakes_dispatcher=True, description="409 when the delivery is still queued or was sent.",
    ),
    Endpoint(
        "GET", "/api/status", status, "Service status", "status", {200: StatusOut},
        description="What `feedsvc status` prints, plus queue depth, paused or blocked chats "
        "and the latest delivery errors.",
    ),
]  # fmt: skip
