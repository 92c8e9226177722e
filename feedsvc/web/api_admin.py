"""``/api/subscriptions``, ``/api/chats``, ``/api/deliveries`` and ``/api/status``.

Adapters over :mod:`feedsvc.operations` (the same subscription rules as the bot and the CLI)
and :func:`feedsvc.status.collect_status` (the same facts as ``feedsvc status``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from feedsvc import operations as ops
from feedsvc.channel_modes import off_channels
from feedsvc.channels.recipients import shown_address
from feedsvc.db import Database
from feedsvc.digest import SettingError
from feedsvc.digest import options as chat_options
from feedsvc.digest import versions as chat_versions
from feedsvc.feeds.sanitize import shown_title
from feedsvc.status import collect_status
from feedsvc.store import digests as digest_store
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.chat_pauses import ChatPause
from feedsvc.store.delivery_log import DeliveryRow
from feedsvc.web.api_base import ApiError, Call, Endpoint
from feedsvc.web.api_recipient_models import (
    ChatOptionsIn,
    ChatOptionsOut,
    ChatOut,
    ChatPauseOut,
    DeliveryList,
    DeliveryOut,
    DeliveryParams,
    ResendOut,
    StatusOut,
    SubscriptionAddedOut,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
    SubscriptionParams,
)
from feedsvc.web.preconditions import CHAT, first_met, none_match_any, with_body_version

if TYPE_CHECKING:
    from feedsvc.app import Service


def subscription_out(sub: sub_store.Subscription, service: Service) -> SubscriptionOut:
    return SubscriptionOut(
        channel_off=sub.channel in off_channels(service.channel_modes),
        id=sub.id,
        chat_id=sub.chat_id,
        channel=sub.channel,
        address=shown_address(sub.channel, sub.address),
        topic=sub.topic_slug,
        topic_title=sub.topic_title,
        query=sub.query,
    )


def list_subscriptions(service: Service, call: Call) -> tuple[int, SubscriptionList]:
    params = call.params_as(SubscriptionParams)
    with service.web_db.read() as conn:
        subs = sub_store.list_subscriptions(conn, params.chat_id, channel=params.channel)
    return 200, SubscriptionList(subscriptions=[subscription_out(s, service) for s in subs])


def create_subscription(service: Service, call: Call) -> tuple[int, SubscriptionAddedOut]:
    """201 with the new subscription, 200 with the one the recipient had; either says what
    the add changed for the recipient (``switched_on``) and what still stops its alerts
    (``not_receiving``), in words too (``message``)."""
    body = call.body_as(SubscriptionIn)
    done = ops.subscribe_recipient(
        service.web_db, body.chat_id, body.chat_type, topic=body.topic, query=body.query,
        channel=body.channel, address=body.address, topics_config=service.settings.topics,
    )  # fmt: skip
    said = call.words.subscribed(done) if call.words is not None else []
    out = SubscriptionAddedOut(
        **subscription_out(done.subscription, service).model_dump(),
        switched_on=done.switched_on,
        not_receiving=None if done.still_off is None else chat_pause_out(call, done.still_off),
        message=" ".join(said) or None,
    )
    return (201 if done.created else 200), out


def delete_subscription(service: Service, call: Call) -> tuple[int, SubscriptionOut]:
    removed = ops.remove_subscription(service.web_db, call.int_param("id"))
    return 200, subscription_out(removed, service)


def reason_message(call: Call, stored: str | None, channel: str) -> str | None:
    """A chat's stored ``disabled_reason`` in the caller's words (the catalogue's
    ``reason.<code>`` as its ``channel`` words it, plus the detail); None when the chat is on."""
    if not stored or call.words is None:
        return None
    return call.words.reason(stored, channel)


def chat_pause_out(call: Call, p: ChatPause) -> ChatPauseOut:
    """A recipient not receiving alerts as the API shows it (``/api/status``' ``chat_pauses``,
    a subscription add's ``not_receiving``): its reason in the caller's words too."""
    return ChatPauseOut.model_validate(
        asdict(p)
        | {
            "disabled_reason_message": reason_message(call, p.disabled_reason, p.channel),
            "recipient": p.recipient,
        }
    )


def _chat_out(chat: sub_store.Chat, call: Call) -> ChatOut:
    return ChatOut(
        chat_id=chat.chat_id,
        type=chat.type,
        title=chat.title,
        paused=chat.paused,
        disabled_reason=chat.disabled_reason,
        disabled_reason_message=reason_message(call, chat.disabled_reason, chat.channel),
    )


def pause_chat(service: Service, call: Call) -> tuple[int, ChatOut]:
    chat = ops.set_chat_paused(service.web_db, call.int_param("chat_id"), True)
    return 200, _chat_out(chat, call)


def resume_chat(service: Service, call: Call) -> tuple[int, ChatOut]:
    chat = ops.set_chat_paused(service.web_db, call.int_param("chat_id"), False)
    return 200, _chat_out(chat, call)


def chat_options_out(db: Database, chat_id: int) -> ChatOptionsOut:
    with db.read() as conn:
        chat = sub_store.get_chat(conn, chat_id)
        settings = digest_store.get_settings(conn, chat_id)
        held = digest_store.held_count(conn, chat_id)
    if chat is None or settings is None:
        raise _unknown_chat(chat_id)
    return ChatOptionsOut(
        chat_id=chat.chat_id, type=chat.type, title=chat.title,
        digest=settings.digest.text(), quiet=settings.quiet.stored() if settings.quiet else None,
        silent=settings.silent, held=held, version=chat_versions.version_of(settings),
    )  # fmt: skip


def _unknown_chat(chat_id: int) -> ApiError:
    return ApiError(404, f"unknown chat_id {chat_id}", code="unknown_id",
                    params={"name": "chat_id", "value": chat_id})  # fmt: skip


def get_chat(service: Service, call: Call) -> tuple[int, ChatOptionsOut]:
    return 200, chat_options_out(service.web_db, call.int_param("chat_id"))


def patch_chat(service: Service, call: Call) -> tuple[int, ChatOptionsOut]:
    """Validation is the bot's (:mod:`feedsvc.digest.options`): a refused value is a 400 that
    names its field, in English, with the reason's ``code``. ``If-Match`` (the ``version`` a
    ``GET`` gave; :func:`feedsvc.web.preconditions.with_body_version`): written only what
    differs from that version, and 412 ``chat_changed_meanwhile`` when an option sent was
    changed since to another value (:func:`feedsvc.digest.options.apply` ``seen``, the admin
    page's rule); a list of versions is met when any one is, a ``version`` in the body is one
    more, judged in the same order as a topic's."""
    chat_id = call.int_param("chat_id")
    body = call.body_as(ChatOptionsIn)
    try:  # the body's "version" (a GET's body sent back) is a condition too
        seen = with_body_version(call.headers, body.version, chat_versions.readable, "chat")
    except ApiError as exc:  # not met (weak tags only): an unknown chat is still 404 (§13.2.1)
        if exc.status == 412:
            chat_options_out(service.web_db, chat_id)
        raise
    if none_match_any(call.headers):  # `*`: only a chat that does not exist, which is 404
        chat = chat_options_out(service.web_db, chat_id)  # unknown: 404 (§13.2.1)
        raise ApiError(
            412, f"chat {chat.chat_id} exists (If-None-Match: * not met); nothing was saved",
            code="chat_exists", params={"chat_id": chat.chat_id}, field="If-None-Match",
        )  # fmt: skip
    if body.chat_id is not None and body.chat_id != chat_id:  # a GET's body of another chat
        raise ApiError(
            422, f"chat_id {body.chat_id} in the body is not the path's {chat_id}",
            code="chat_id_mismatch", params={"given": body.chat_id, "chat_id": chat_id},
            field="chat_id",
        )  # fmt: skip
    try:
        changes = chat_options.parse_changes(*body.nulls_off())
    except SettingError as exc:
        raise ApiError(
            400, f"{exc.field}: {exc}", code=f"setting_{exc.code}", params=exc.params,
            field=exc.field,
        ) from None  # fmt: skip
    try:
        first_met(
            seen,
            lambda version: chat_options.apply(
                service.web_db, chat_id, changes, service.settings.tz, seen=version
            ),
            lambda exc: isinstance(exc, chat_options.ChatChangedMeanwhile),
        )
    except chat_options.ChatNotFound:
        raise _unknown_chat(chat_id) from None
    except chat_options.ChatChangedMeanwhile as exc:  # the chat named as its refusal named it
        raise ApiError(
            412, f"{exc} (If-Match not met)", code=exc.code,
            params={"chat": exc.chat, "fields": ", ".join(exc.fields)},
        ) from None  # fmt: skip
    return 200, chat_options_out(service.web_db, chat_id)


def delivery_out(row: DeliveryRow) -> DeliveryOut:
    """A delivery as the API gives it: ``article_title`` is a display field, the title as
    readers see it (:func:`feedsvc.feeds.sanitize.shown_title`, "" when nothing of it shows),
    as the admin's delivery log shows it; the stored title is the article's own ``title``."""
    shown = {"article_title": shown_title(row.article_title), "recipient": row.recipient}
    return DeliveryOut.model_validate(asdict(row) | shown)


def list_deliveries(service: Service, call: Call) -> tuple[int, DeliveryList]:
    p = call.params_as(DeliveryParams)
    rows, total = ops.list_deliveries(
        service.web_db, state=p.state, chat_id=p.chat_id, topic=p.topic, channel=p.channel,
        limit=p.limit, offset=p.offset,
    )  # fmt: skip
    items = [delivery_out(r) for r in rows]
    return 200, DeliveryList(items=items, total=total, limit=p.limit, offset=p.offset)


def resend_delivery(service: Service, call: Call) -> tuple[int, ResendOut]:
    delivery_id = call.int_param("id")
    ops.resend_delivery(service.web_db, delivery_id, off_channels(service.channel_modes))
    return 200, ResendOut(id=delivery_id, state="pending")


def status(service: Service, call: Call) -> tuple[int, StatusOut]:
    # ``queue_depth`` is the facts' (``status.ALIASES``: ``deliveries_pending``'s read, in the
    # same transaction); the outbox's own count, a moment later, disagreed with it now and then
    facts = collect_status(service, service.web_db)
    details = ops.status_details(service.web_db)
    outbox = {
        "chat_pauses": [chat_pause_out(call, p) for p in details.chat_pauses],
        "recent_errors": [delivery_out(r) for r in details.recent_errors],
    }
    return 200, StatusOut.model_validate(facts | outbox)


ENDPOINTS = [
    Endpoint(
        "GET", "/api/subscriptions", list_subscriptions, "List subscriptions", "subscriptions",
        {200: SubscriptionList}, params=SubscriptionParams,
    ),
    Endpoint(
        "POST", "/api/subscriptions", create_subscription,
        "Subscribe a recipient to a topic or a query", "subscriptions",
        {200: SubscriptionAddedOut, 201: SubscriptionAddedOut}, body=SubscriptionIn,
        errors=(409, 422),
        description="A Telegram chat (`chat_id`, `chat_type`; the default channel) or "
        "`channel` + `address` (`zalo`: a Zalo chat id; `apprise`: an Apprise URL, stored as a "
        "secret and only shown masked). Exactly one of `topic` (an enabled topic's slug) or "
        "`query`. Idempotent: 200 with the existing subscription when the recipient has it. "
        "Either answer says what the add changed for the recipient: `switched_on` (an Apprise "
        "URL switched off after refusals is switched back on by adding it again) and "
        "`not_receiving` (what still stops its alerts), with `message` in words.",
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
        wakes_dispatcher=True,  # what the chat had queued may go out now
    ),
    Endpoint(
        "GET", "/api/chats/{chat_id}", get_chat, "A chat and how it gets its alerts",
        "subscriptions", {200: ChatOptionsOut}, errors=(404,), path_types={"chat_id": "integer"},
        etag=True, description='Sent with `ETag: "<version>"` (strong), its `version`.',
    ),
    Endpoint(
        "PATCH", "/api/chats/{chat_id}", patch_chat,
        "Change how a chat gets its alerts (digest, quiet hours, silent)", "subscriptions",
        {200: ChatOptionsOut}, body=ChatOptionsIn, errors=(400, 404, 412),
        path_types={"chat_id": "integer"}, wakes_dispatcher=True, etag=True, conditions=CHAT,
        description="`digest`: `off`, `hourly` or up to 4 local times (`07:30,18:00`); "
        "`quiet`: `HH:MM-HH:MM` or `off`; `silent`: a boolean; null is `off` (false), an "
        "empty text is refused (`setting_digest_empty`, `setting_quiet_format`). Times are "
        "read as the bot reads them (`7h tối, 6h sáng`, `10pm-6am`) and answered as `HH:MM`. "
        "Fields left out are unchanged. "
        "A refused value: 400 with `field` and `code`. Alerts already held are re-timed to "
        "the new schedule (released now when the chat becomes instant). "
        '`If-Match` (optional): the `version` a GET gave, quoted; only the fields whose value '
        "differs from that version are written (sending back what GET read, with a change, "
        "changes only that), and a field also changed since to another value is 412 "
        "`chat_changed_meanwhile`, nothing saved; `If-Match: *` checks nothing. Several "
        "strong tags (at most 16 tags in all, else 400 `if_match_too_long`): met when any "
        "one is; weak tags only: 412 `if_match_weak`; strong tags none of which is a chat "
        'version (`"abc"`): 412 `if_match_unknown`; a bare unquoted version or anything '
        "else that is no list of entity tags: 400 `if_match_invalid`. A `version` in the "
        "body (a GET's body sent back) is the same condition as `If-Match`; with an "
        "`If-Match` not listing it, 400 `version_mismatch`. `If-None-Match: *`: 412 "
        "`chat_exists` (a chat that does not exist is 404); any other `If-None-Match` 400 "
        "`if_none_match_invalid`. A chat's options have no modification date: "
        "an `If-Unmodified-Since` HTTP-date is 400 `condition_unsupported` (one that is no "
        "HTTP-date is ignored, RFC 9110 §13.1.4; `If-Modified-Since` too, §13.1.3). The "
        "answer has the new `ETag`.",
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
        wakes_dispatcher=True, description="409 when the delivery is still queued or was sent "
        "(`delivery_not_dead`), or when its recipient's channel is not configured here "
        "(`channel_off`: Zalo without `zalo.token`; it would only end failed again).",
    ),
    Endpoint(
        "GET", "/api/status", status, "Service status", "status", {200: StatusOut},
        description="What `feedsvc status` prints, plus queue depth, paused or blocked chats "
        "and the latest delivery errors.",
    ),
]  # fmt: skip
