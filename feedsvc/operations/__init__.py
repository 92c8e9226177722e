"""Admin use cases shared by the CLI, the JSON API, the web admin and the bot.

Each function validates, runs one transaction and returns plain data, so every front end
enforces the same rules (slug format, query validity, references) and reports the same errors
(:class:`OperationError`). One module per concern: ``errors``, ``topics``, ``backfill``,
``recipients`` (subscriptions, pause), ``deliveries`` (delivery log, re-send, status); callers
import them from here.
"""

from __future__ import annotations

from feedsvc.operations.backfill import BackfillResult, backfill_topic
from feedsvc.operations.deliveries import (
    StatusDetails,
    list_deliveries,
    page_deliveries,
    page_start,
    resend_delivery,
    status_details,
)
from feedsvc.operations.errors import (
    OperationError,
    query_error_of,
    query_invalid,
    refuse_control,
    refused_character,
    topic_exists,
)
from feedsvc.operations.recipients import (
    CHAT_TYPES,
    Subscribed,
    add_subscription,
    remove_subscription,
    set_chat_paused,
    subscribe_recipient,
)
from feedsvc.operations.topic_checks import missing_topic
from feedsvc.operations.topic_uses import TopicUses, topic_uses
from feedsvc.operations.topics import (
    Saved,
    TopicDeleted,
    TopicEdit,
    delete_topic,
    edit_topic,
    get_topic,
    save_topic,
    set_topic_enabled,
    subscription_counts,
)

__all__ = [
    "CHAT_TYPES",
    "BackfillResult",
    "OperationError",
    "Saved",
    "StatusDetails",
    "Subscribed",
    "TopicDeleted",
    "TopicEdit",
    "TopicUses",
    "add_subscription",
    "backfill_topic",
    "delete_topic",
    "edit_topic",
    "get_topic",
    "list_deliveries",
    "missing_topic",
    "page_deliveries",
    "page_start",
    "query_error_of",
    "query_invalid",
    "refuse_control",
    "refused_character",
    "remove_subscription",
    "resend_delivery",
    "save_topic",
    "set_chat_paused",
    "set_topic_enabled",
    "status_details",
    "subscribe_recipient",
    "subscription_counts",
    "topic_exists",
    "topic_uses",
]
