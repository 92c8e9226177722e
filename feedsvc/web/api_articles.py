"""``/api/articles``: editors hide and unhide articles (SPEC §10), and find them.

Thin adapters over :mod:`feedsvc.lifecycle.editors` (the rules, shared with the CLI and the web
admin). A hide takes effect in this replica's feeds before the answer (its feed sync runs at
once) and in every other replica's within one feed sync.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from feedsvc.feeds.sanitize import link_url
from feedsvc.lifecycle import editors
from feedsvc.lifecycle.hooks import release_hooks
from feedsvc.lifecycle.typed_keys import key_notes
from feedsvc.store.lifecycle import EditorState
from feedsvc.web.api_base import Call, Endpoint
from feedsvc.web.api_models import Body, Out, Params

if TYPE_CHECKING:
    from feedsvc.app import Service


class HideIn(Body):
    reason: Annotated[str | None, Field(max_length=editors.MAX_REASON)] = None
    pending: bool = Field(
        False,
        description="Record the hide even when feedsvc knows no such key yet (an external "
        "CMS's article it has not read): applied when ingest stores the article. A key the "
        "built-in source table holds is hidden ahead without it. A key recorded so is a new "
        "key: 1–255 characters (a key typed for a stored article may be up to 765, its NFC).",
    )


class ArticleStateOut(Out):
    source_key: str
    title: str
    url: str
    published_at: datetime | None = Field(
        description="null only for a pending hide of a key no table here holds"
    )
    state: str = Field(
        description="public | hidden | withdrawn | scheduled; not_ingested: the answer of an "
        "unhide that cancelled a pending hide"
    )
    pending: bool = Field(
        False,
        description="a hide recorded for a key ingest has not stored yet (state `hidden`): "
        "the article arrives hidden",
    )
    withdrawn_at: datetime | None
    withdrawn_reason: str | None = Field(description="source | draft | deleted")
    hidden_at: datetime | None
    hidden_reason: str | None
    hidden_by: str | None
    message: str | None = Field(
        None,
        description="for a pending hide: what happens next; for a key given in another "
        "Unicode form than the stored one's (they look the same): the stored key used, and "
        "stored lookalikes not changed; in the request's language",
    )


class ArticleList(Out):
    articles: list[ArticleStateOut]


class FindParams(Params):
    q: Annotated[
        str, Field(max_length=editors.MAX_SEARCH, description="a source key or part of a title")
    ] = ""
    limit: Annotated[int, Field(ge=1, le=editors.MAX_FOUND)] = 50


def article_out(a: EditorState, now: datetime, message: str | None = None) -> ArticleStateOut:
    return ArticleStateOut(
        source_key=a.source_key,
        title=a.title,
        url=link_url(a.url),  # as stored (every output links to feeds.links.article_link of it)
        published_at=a.published_at,
        state=a.state(now),
        withdrawn_at=a.withdrawn_at,
        withdrawn_reason=a.withdrawn_reason,
        hidden_at=a.hidden_at,
        hidden_reason=a.hidden_reason,
        hidden_by=a.hidden_by,
        pending=a.pending,
        message=message,
    )


def _said(call: Call, words: str, found: EditorState) -> str | None:
    """A pending hide's (or its cancel's) words in the caller's language: the hide worked,
    but the article is not there yet; then what the answer says of the key
    (:func:`feedsvc.lifecycle.typed_keys.key_notes`: the stored key used, given in another
    Unicode form; its lookalikes left alone)."""
    if call.words is None:
        return None
    said = [] if found.ingested else [call.words(words, key=found.source_key)]
    said += [call.words(code, **params) for code, params in key_notes(found)]
    return " ".join(said) or None


def hide_article(service: Service, call: Call) -> tuple[int, ArticleStateOut]:
    body = call.body_as(HideIn)
    found = editors.hide_article(
        service.web_db, call.path["source_key"], body.reason, "api", pending=body.pending
    )
    service.publisher.sync()  # gone from this replica's feeds before we answer
    return 200, article_out(found, service.web_db.now(), _said(call, "hide_pending", found))


def unhide_article(service: Service, call: Call) -> tuple[int, ArticleStateOut]:
    hooks = release_hooks(service.settings)  # per request: no compiled state shared by threads
    found = editors.unhide_article(service.web_db, call.path["source_key"], hooks)
    service.publisher.sync()
    said = _said(call, "hide_pending_cancelled", found)
    return 200, article_out(found, service.web_db.now(), said)


def find_articles(service: Service, call: Call) -> tuple[int, ArticleList]:
    params = call.params_as(FindParams)
    now = service.web_db.now()
    found = editors.find_articles(service.web_db, params.q, params.limit)
    return 200, ArticleList(articles=[article_out(a, now) for a in found])


_KEY_NOTE = " A key holding `/` goes in the path as is or as `%2F`."
_FORM_NOTE = (
    " A key in another Unicode form than the stored one's (NFC `ế`, NFD `e` + U+0302 + U+0301)"
    " means the stored key (`source_key` in the answer; `message` says so); one that is the"
    " same text as several stored keys, none exactly it, is 409 `article_key_ambiguous`"
    " (`source_keys` lists them)."
)

ENDPOINTS = [
    Endpoint(
        "GET", "/api/articles", find_articles, "Find articles", "articles", {200: ArticleList},
        params=FindParams, errors=(422,), stored_keys=("q",),
        description="Newest first: the article whose source key is `q`, or whose title "
        "contains it, with its lifecycle state. A `q` holding a control character is 422 "
        "(a bidi control excepted: a key stored before keys refused them is found).",
    ),
    Endpoint(
        "POST", "/api/articles/{source_key}/hide", hide_article, "Hide an article", "articles",
        {200: ArticleStateOut}, body=HideIn, errors=(404, 409, 422),
        description="Out of every feed and alert until unhidden, whatever the source says; "
        "its queued alerts end as `withdrawn`. Body optional: `{\"reason\": \"...\"}`. A key "
        "not ingested yet (imported into the built-in table, or any key with `\"pending\": "
        "true`) is hidden ahead: 200 with `pending` true, applied when ingest stores it."
        + _KEY_NOTE + _FORM_NOTE, slashes=("source_key",), stored_keys=("source_key",),
    ),
    Endpoint(
        "POST", "/api/articles/{source_key}/unhide", unhide_article, "Unhide an article",
        "articles", {200: ArticleStateOut}, errors=(404, 409, 422),
        description="Shown again unless the source itself withdrew it. A pending hide is "
        "cancelled (200, `state` `not_ingested`: no article yet, nothing hidden)." + _KEY_NOTE
        + _FORM_NOTE,
        slashes=("source_key",), stored_keys=("source_key",),
    ),
]  # fmt: skip
