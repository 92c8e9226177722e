"""An operation error in one language's words (:meth:`Translator.operation_error`): its code's
sentence, ``op.<code>.<kind>`` when the catalogue has one (the API's 412s), else ``op.<code>``,
and its parameters worded in that language — a typed slug quoted, an article's key in its one
spelling, subscription counts, the chats whose queries use a topic, the near keys, a topic's
changed fields, a state, a channel, a refused character's field. Apart from ``__init__``, which
is at its size.

:data:`REFUSED_CHARACTER` is also read by the admin (``web.admin_text``, ``web.admin_chats``):
its form says the refused field beside the field itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedsvc.logs import quoted

from . import CATALOGUE

if TYPE_CHECKING:
    from feedsvc.operations import OperationError

    from . import Translator


#: Operation errors whose ``slug`` is the text someone typed, which named no (enabled) topic
#: (or, ``slug_mismatch``, the path's slug a ``PUT``'s body contradicts):
#: worded quoted as the CLI names it (:func:`feedsvc.logs.quoted`), never raw (a no-break space
#: or a zero-width space unseen, a leading combining mark on the word before), by its start
#: when long (:func:`feedsvc.echoes.echoed`); ``params`` keep it as sent (the API's JSON).
TYPED_SLUG = frozenset({"topic_not_found", "topic_unknown", "topic_disabled", "slug_mismatch"})
#: The codes whose ``key`` is an article's key (typed, or stored in the source table): worded
#: in the one spelling of a printed key (:func:`feedsvc.keys.spelled`), as the CLI's messages
#: name it, so a key holding an LRM or a no-break space does not read as another.
ARTICLE_KEY = frozenset(
    {"article_not_found", "article_not_ingested", "article_not_ingested_withdrawn",
     "article_key_ambiguous"}
)  # fmt: skip

#: the codes of a refused character (:func:`feedsvc.operations.refused_character`), whose
#: ``field`` is a name people filled in (``input.<field>``), else shown as sent
REFUSED_CHARACTER = ("control_character", "not_text")


def operation_error(t: Translator, exc: OperationError) -> str:
    """``exc`` in words: ``op.<code>.<kind>`` when the catalogue has it (the API's 412s),
    else ``op.<code>``, its parameters worded (a typed slug quoted, counts, chats)."""
    if exc.cause is not None:
        return t.query_error(exc.cause)
    if exc.code == "too_long":
        return t.too_long(**exc.params)
    params = dict(exc.params)
    if exc.code in TYPED_SLUG and isinstance(slug := params.get("slug"), str):
        from feedsvc.echoes import echoed  # here: the grapheme rules import `regex`

        params["slug"] = quoted(echoed(slug))  # as typed, maybe hostile: one visible form
    if exc.code in ARTICLE_KEY and isinstance(key := params.get("key"), str):
        from feedsvc.keys import spelled

        params["key"] = spelled(key)
    if isinstance(counts := params.pop("counts", None), dict):
        params["subs"] = t.subscriptions(counts)
    if isinstance(chats := params.pop("chat_queries", None), tuple):
        params["chats"] = t.chat_queries(*chats)
    if isinstance(near := params.pop("near_keys", None), tuple):  # an unknown article key's
        from feedsvc.keys import named  # each as the CLI spells it (typed_keys.listed)

        keys = ", ".join(named(str(k)) for k in near)
        params["near"] = t("article_near_keys", keys=keys) if near else ""
    if isinstance(fields := params.pop("fields", None), tuple):  # a topic's: "Title, Query"
        params["fields"] = ", ".join(t(f) for f in fields)
    if "state" in params:
        params["state"] = t(f"state.{params['state']}")
    if "channel" in params:  # "zalo" → "Zalo"
        params["channel"] = t(f"channel.{params['channel']}")
    if exc.code in REFUSED_CHARACTER and t.has(label := f"input.{params.get('field')}"):
        params["field"] = t(label)  # "Trường title có ký tự điều khiển": two languages
    # a code raised as another kind has its own words where there are some: the API's
    # 412s (``precondition``) for an If-Match / If-None-Match the topics do not meet
    key = f"op.{exc.code}.{exc.kind}"
    said = t(key if key in CATALOGUE else f"op.{exc.code}", **params)
    hint = t.topic_hint(params) if exc.code == "topic_unknown" else ""
    return f"{said} {hint}" if hint else said
