"""**The one rule for a chat's delivery options as someone saw them** (:func:`version_of`) and
which of them differ from what is stored or sent now (:func:`differing`): the admin's chat
page carries it as a hidden field, ``GET /api/chats/{chat_id}`` as ``version`` (``If-Match``
on ``PATCH``), and :func:`feedsvc.digest.options.apply` refuses a change made over a stale view
(``ChatChangedMeanwhile``).

Why: the chat page sent its three boxes whole, so a page opened before the chat's owner typed
``/quiet 22:00-06:00`` and ``/digest 07:00`` in Telegram switched both off again when an admin
only ticked "silent" (a tester). With the version, a save writes only the options the admin
changed from what the page showed, and one changed both there and elsewhere meanwhile is
refused, naming it.

A digest per option (the stored form, :mod:`feedsvc.digest.settings`) as a topic's version has
(:mod:`feedsvc.topic_versions`), so a refusal names the options that changed, and a token has
no comma (``If-Match`` is a list) and no time of day a person could misread as a setting. A
change undone meanwhile is no change. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping

from feedsvc.digest.settings import ChatSettings, DigestSchedule, QuietWindow
from feedsvc.topic_versions import field_digest

#: The options a version covers, in the token's order and the order a refusal names them.
FIELDS = ("digest", "quiet", "silent")
#: ``c1`` (a chat's options, this format), the digests of ``digest`` and ``quiet``, silent 0/1.
_TOKEN = re.compile(r"c1-([0-9a-f]{16})-([0-9a-f]{16})-([01])")


def _part(name: str, value: object) -> str:
    """One option's part of the token, from its parsed value."""
    if name == "digest":
        assert isinstance(value, DigestSchedule)
        return field_digest(value.stored() or "")
    if name == "quiet":
        assert value is None or isinstance(value, QuietWindow)
        return field_digest(value.stored() if value is not None else "")
    return "1" if value else "0"


def values_of(settings: ChatSettings) -> dict[str, object]:
    """The options of ``settings`` by name (:data:`FIELDS`), as :func:`differing` takes them."""
    return {name: getattr(settings, name) for name in FIELDS}


def version_of(settings: ChatSettings) -> str:
    """The version of a chat's stored options: ASCII, 40 characters, the same on every
    backend and process for the same options (``c1-…-…-0``)."""
    return "-".join(("c1", *(_part(name, getattr(settings, name)) for name in FIELDS)))


def readable(version: str) -> bool:
    """Whether ``version`` is one :func:`version_of` gives (an API's ``If-Match`` checked)."""
    return _TOKEN.fullmatch(version.strip()) is not None


def differing(version: str, values: Mapping[str, object]) -> tuple[str, ...] | None:
    """The options among ``values`` (name → parsed value, any of :data:`FIELDS`) whose value
    is not the one ``version`` was taken with, in :data:`FIELDS` order; None when ``version``
    is no version this rule gives (empty, cut short, a topic's, typed by hand)."""
    found = _TOKEN.fullmatch(version.strip())
    if found is None:
        return None
    was = dict(zip(FIELDS, found.groups(), strict=True))
    return tuple(n for n in FIELDS if n in values and _part(n, values[n]) != was[n])
