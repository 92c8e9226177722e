"""The JSON API's one check of the text it is sent: no control character, no lone surrogate.

Every text an API request carries — a string path parameter (``slug``, ``source_key``), a
query-string field, a body's string fields however nested — is checked here, after the request
validated and before any handler runs, with :func:`feedsvc.fieldtext.control_char` (the rule
the CLI, the admin and the topics file share). A refused character is the use cases' own error,
:func:`feedsvc.operations.refused_character`: 422 ``control_character`` (``not_text`` for a
lone surrogate) naming the field, worded by the catalogue's ``op.<code>``.

Why here and not in each use case alone: a NUL used to be refused by the request models (400
``invalid_body``) while every other control character reached the use cases (422); some fields
were never checked (a preview's query, a delivery filter's topic, a chat's digest and quiet
hours), and a use case that trims first (a slug, ``"ok\\x1f"``) saw the character stripped as
whitespace. The use cases keep their own checks for the CLI and the admin.

A lone surrogate cannot reach a body as a string: Pydantic's JSON parser refuses ``"\\ud800"``
as invalid JSON. :func:`surrogate_in_json` finds it (Python's parser takes it) so that it is
named like any other refused character.

A JSON object *key* holding one is named by its position, the key written with JSON escapes
(``items.0.na\\u0001me``: :func:`position`, :func:`feedsvc.fieldtext.shown_key`, which also
makes a key of spaces or U+2028 visible in any error naming it). No model takes such a
key, so Pydantic refused it as an unknown field (400 ``invalid_body``, the raw character
echoed in the message); :func:`key_in_json` finds it in a body Pydantic refused, whatever else
is wrong with that body (the key cannot be named otherwise), and a query string's keys are
checked before validation.

An object giving a key twice (``{"title": "A", "title": "B"}``, at any depth) is found by
:func:`read_json`, the body's one reading by Python's ``json``, before Pydantic's (which keeps
the last value silently), by the product's one rule (:mod:`feedsvc.jsonkeys`, also
``feedsvc import``'s): the API answers 422 ``duplicate_key`` naming the key by its
:func:`position`. The same reading is what :func:`key_in_json` and :func:`surrogate_in_json`
look in when Pydantic refuses the body: a body is parsed twice at most.

Headers are never text a handler keeps (the language is picked from ``Accept-Language``, the
token compared), and llhttp refuses control characters in them before any ASGI app runs
(:mod:`feedsvc.web.connections`). Pure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from feedsvc.echoes import echoed
from feedsvc.fieldtext import control_char, shown_key
from feedsvc.jsonkeys import DuplicateKey, loads_unique

#: A JSON ``\\u`` escape of a surrogate (paired or not): the only way a body spells one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def first_refused(value: object, where: str = "") -> tuple[str, str] | None:
    """``(field, "U+0001")`` for the first text in ``value`` holding a refused character, or
    None. ``field`` is written as Pydantic locates errors (``title``, ``items.0.name``): a
    model's fields in declaration order (but its ``READ_ONLY`` ones, which are ignored:
    :class:`feedsvc.web.api_models._Input`), a list's items by index, a mapping's values by
    key."""
    if isinstance(value, str):
        char = control_char(value)
        return (where or "body", char) if char is not None else None
    if isinstance(value, BaseModel):
        skipped: frozenset[str] = getattr(value, "READ_ONLY", frozenset())
        fields = [
            (name, getattr(value, name)) for name in type(value).model_fields if name not in skipped
        ]
        return _first_below(fields, where, first_refused)
    return _first_below(_members(value), where, first_refused)


def first_refused_key(value: object, where: str = "") -> tuple[str, str] | None:
    """``(position, "U+0001")`` for the first JSON object key in ``value`` (decoded JSON or a
    query string's mapping: objects and lists however nested) holding a refused character,
    the key written with JSON escapes, or None."""
    return _first_below(_members(value), where, first_refused_key)


_Found = tuple[str, str] | None


def _members(value: object) -> Sequence[tuple[object, object]]:
    """A mapping's ``(key, value)`` pairs, a list's ``(index, item)``; none for a leaf."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, list | tuple):
        return list(enumerate(value))
    return []


def _first_below(
    members: Sequence[tuple[object, object]], where: str, check: Callable[[object, str], _Found]
) -> _Found:
    """The walk both checks share: each member's key (a refused key is named by its position),
    then ``check`` of its value at ``where.key``."""
    for key, item in members:
        if isinstance(key, str) and (char := control_char(key)) is not None:
            return _key_position(where, key), char
        found = check(item, _key_position(where, key))
        if found is not None:
            return found
    return None


def _key_position(where: str, key: object) -> str:
    """``where`` (a position written by :func:`position`) and one more step, ``key``."""
    step = position((key,))
    return f"{where}.{step}" if where else step


def position(loc: Sequence[object]) -> str:
    """Where in a request a value is (``items.0.name``), the one writer of such positions: a
    Pydantic error's ``loc``, a refused key's or value's: each step ``.``-separated, a list's
    index as it is, an object key as :func:`feedsvc.fieldtext.shown_key` writes it (visible,
    JSON-escaped), by its start when long (:func:`feedsvc.echoes.echoed`: a 30 KB unknown key
    was named whole, three times); ``body`` for the body as a whole."""
    return ".".join(shown_key(echoed(x)) if isinstance(x, str) else str(x) for x in loc) or "body"


@dataclass(frozen=True, slots=True)
class Reading:
    """A body as Python's ``json`` reads it (:func:`read_json`): ``value`` when ``ok``; not
    ``ok`` when Python cannot read it either (Pydantic's own error then stands)."""

    ok: bool
    value: object = None


NOT_READ = Reading(False)


def read_json(raw: bytes) -> Reading:
    """The one reading of a request body besides Pydantic's, done before Pydantic's, which keeps
    the last of two values of one key: raises :class:`feedsvc.jsonkeys.DuplicateKey` for an
    object that gives a key twice (the product's one rule, :func:`feedsvc.jsonkeys.loads_unique`;
    the API answers 422 ``duplicate_key``); else what :func:`key_in_json` and
    :func:`surrogate_in_json` look in when Pydantic refuses the body, so no body is parsed a
    third time.

    Only a body that is UTF-8 text, without a byte order mark, is held to the rule: Pydantic
    reads nothing else as JSON, and such a body keeps the answer it had (Python's ``json`` reads
    it from its bytes, as it always did: UTF-16, a BOM, a surrogate's bytes). A body Python
    cannot read at all (not JSON, a number of more than 4,300 digits, nested past the recursion
    limit) is :data:`NOT_READ`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    try:
        if text is None or text.startswith("\ufeff"):
            return Reading(True, json.loads(raw))
        return Reading(True, loads_unique(text))
    except (ValueError, RecursionError):  # DuplicateKey is neither: raised to the caller
        return NOT_READ


def key_in_json(reading: Reading) -> tuple[str, str] | None:
    """``(position, "U+0001")`` when ``reading``, a body Pydantic refused (not as invalid JSON),
    holds an object key with a refused character (:func:`first_refused_key`), else None."""
    if not reading.ok:
        return None
    try:
        return first_refused_key(reading.value)
    except RecursionError:  # nested too deep to walk
        return None


def surrogate_in_json(raw: bytes, reading: Reading | None = None) -> tuple[str, str] | None:
    """``(field, "U+D800")`` when ``raw``, which Pydantic refused as invalid JSON, is JSON that
    Python reads (``reading``, :func:`read_json`; read here when not given) with a lone
    surrogate in a string (the first refused character of the body, as :func:`first_refused`
    finds it), else None: it is not JSON, or holds nothing refused, and the parser's own error
    stands."""
    if not _SURROGATE_ESCAPE.search(raw):
        return None
    if reading is None:
        try:
            reading = read_json(raw)
        except DuplicateKey:
            return None
    if not reading.ok:
        return None
    try:
        return first_refused(reading.value)
    except RecursionError:  # nested too deep to walk
        return None
