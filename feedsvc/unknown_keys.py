"""A JSON article line's keys that are no field of SPEC §3 (nor §10's ``withdrawn``): refused,
naming the field most likely meant. Pure.

Why refused rather than dropped: a key feedsvc does not read does nothing, and the line said
"updated", exit 0. For ``"visible": false`` (SPEC §10's word for a source's column, the word a
newsroom uses) or the typo ``"withdrawm": true`` that was a legal takedown not done, silently;
for ``"Title"`` or ``"publishedAt"`` a field not changed. Only the JSON form (``feedsvc
import``, ``feedsvc match``, through :func:`feedsvc.jsonlines.parse_json_article`, the one place
deciding): a source row is built from the configured column mapping and holds only fields.

Only the top level is checked: the fields' values are judged by :func:`feedsvc.articles.
parse_article` (an object where ``tags`` or ``title`` belongs is refused by its type there).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from feedsvc.articles import JSON_FIELDS, ArticleError
from feedsvc.fieldtext import shown_key

#: Lifecycle words a newsroom or another tool uses for what SPEC §10 calls ``withdrawn``, by
#: the value that means ``"withdrawn": true``: true for the first set, false for the second;
#: None: a state word (``"status": "draft"``), no polarity to translate.
_TRUE_MEANS_DOWN = frozenset(
    {"hidden", "deleted", "draft", "unpublished", "removed", "withdraw", "archived", "disabled"}
)
_FALSE_MEANS_DOWN = frozenset({"visible", "published", "public", "active", "enabled", "online"})
_STATE = frozenset({"status", "state", "visibility", "publishstatus", "publishedstate"})
#: Other names of a field, as other feeds and CMS exports spell them.
_SYNONYMS = {
    "id": "source_key",
    "key": "source_key",
    "guid": "source_key",
    "link": "url",
    "headline": "title",
    "description": "summary",
    "excerpt": "summary",
    "content": "body",
    "text": "body",
    "category": "section",
    "categories": "tags",
    "keywords": "tags",
    "image": "image_url",
    "thumbnail": "image_url",
    "date": "published_at",
    "pubdate": "published_at",
    "modified": "updated_at",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_LETTER = re.compile(r"[^a-z]")


def unknown_keys(record: Mapping[str, Any]) -> list[ArticleError]:
    """One problem per key of ``record`` that is no article field, in the record's order; the
    key as :func:`feedsvc.fieldtext.shown_key` writes it (JSON escapes, quoted when blank)."""
    return [
        ArticleError(shown_key(key), f"unknown field{_meant(key, record[key])}")
        for key in record
        if key not in JSON_FIELDS
    ]


def _meant(key: str, value: Any) -> str:
    """`` (did you mean …?)`` for the field ``key`` most likely stands for, or nothing."""
    snake = _CAMEL.sub("_", key.strip()).lower().replace("-", "_").replace(" ", "_")
    letters = _NOT_LETTER.sub("", snake)
    bare = letters.removeprefix("is") if letters.startswith("is") else letters
    if snake in JSON_FIELDS:  # "Title", "publishedAt", "Published-At"
        return f' (did you mean "{snake}"? field names are lower case, with "_")'
    lifecycle = bare in _TRUE_MEANS_DOWN | _FALSE_MEANS_DOWN | _STATE
    if lifecycle and (isinstance(value, bool) or value is None or bare in _STATE):
        return f' (did you mean "withdrawn"? {_polarity(key, bare)})'
    if (field := _SYNONYMS.get(letters)) is not None:
        return f' (did you mean "{field}"?)'
    close = difflib.get_close_matches(snake, JSON_FIELDS, n=1, cutoff=0.75)
    if close:  # "withdrawm", "tag", "published": "2026-11-20" (a date: published_at)
        return f' (did you mean "{close[0]}"?)'
    return f' (did you mean "withdrawn"? {_polarity(key, bare)})' if lifecycle else ""


def _polarity(key: str, bare: str) -> str:
    """How ``key``'s value is written as ``withdrawn`` (SPEC §10: true takes it down)."""
    shown = shown_key(key)
    shown = shown if shown.startswith('"') else f'"{shown}"'
    if bare in _STATE:
        return (
            'an article taken down is "withdrawn": true, a public one "withdrawn": false'
            " (or no withdrawn)"
        )
    down = "false" if bare in _FALSE_MEANS_DOWN else "true"
    up = "true" if down == "false" else "false"
    return f'{shown}: {down} is "withdrawn": true, {shown}: {up} is "withdrawn": false'
