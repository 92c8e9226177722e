"""An editor's typed key as the editors' use cases read it (:mod:`feedsvc.lifecycle.editors`):
the stored key it means (:mod:`feedsvc.store.article_keys`, the one lookup), the refusal of a
key that means several, and what an answer says about the key used.

A key looks the same in any Unicode form: ``Tin-Kiến-Thụy-42`` composed (NFC, what a keyboard
gives) and decomposed (NFD, what a CMS may store). So an answer that acted on a stored key in
another form than the one typed names it (:func:`key_notes`: the stored key, spelled code point
by code point), and so does one with lookalikes left alone — other stored articles whose key
is the same text in another form: a takedown of one of them must never seem to cover them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Connection

from feedsvc.bidi import BIDI_CONTROLS
from feedsvc.db import Database
from feedsvc.fieldtext import control_char
from feedsvc.keys import MAX_TYPED_KEY, named, trim_key
from feedsvc.operations import OperationError, refuse_control
from feedsvc.store import article_keys, pending_hides
from feedsvc.store.article_keys import Meant, article_meant, meant
from feedsvc.store.lifecycle import EditorState

#: a backslash, ``u`` and four hex digits (or ``U`` and eight): how a printed key spells a
#: character; in a key recorded ahead, most likely a spelling the front end did not read
LITERAL_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")

#: the error of a typed key several stored keys are the same text of (none of them exactly)
AMBIGUOUS = "article_key_ambiguous"
#: how many stored keys beginning with or containing an unknown typed key are named
NEAR_KEYS = 10
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def listed(keys: Sequence[str]) -> str:
    """Keys that look alike, each in the one spelling the CLI prints keys in and reads them
    back (:func:`feedsvc.keys.spelled`): ``'Tin-Kiến', 'Tin-Kie\\u0302\\u0301n'`` — each
    pasted back names that stored key."""
    return ", ".join(named(k) for k in keys)


def ambiguous(key: str, keys: Sequence[str]) -> OperationError:
    """``conflict`` (409, exit 1): ``key`` is the same text as several stored keys in other
    Unicode forms — distinct rows of the source — and none is the key as typed: never a
    guess. ``params["source_keys"]``: the stored keys (the API's answer lists them)."""
    return OperationError(
        "conflict",
        f"{named(key)} is the same text as several stored keys in other Unicode forms: "
        f"{listed(keys)}; give the one meant exactly, as written here (paste it)",
        code=AMBIGUOUS,
        params={"key": key, "keys": listed(keys), "source_keys": tuple(keys)},
    )


def stored_article(conn: Connection, key: str) -> Meant:
    """The stored article ``key`` (trimmed) means; raises :func:`ambiguous`."""
    found = article_meant(conn, key)
    if found.ambiguous:
        raise ambiguous(key, found.ambiguous)
    return found


def waiting_hide(conn: Connection, key: str) -> Meant:
    """The hide waiting for ingest (``store.pending_hides``) ``key`` means, by the same rule
    as an article's; raises :func:`ambiguous`."""
    found = meant(key, pending_hides.equivalent(conn, key))
    if found.ambiguous:
        raise ambiguous(key, found.ambiguous)
    return found


def noted(found: EditorState, typed: str, lookalikes: Sequence[str] = ()) -> EditorState:
    """``found`` with what its answer says of the key: ``typed`` when it is not the stored
    key, and the ``lookalikes`` left alone."""
    typed_as = typed if typed != found.source_key else None
    return replace(found, typed_as=typed_as, lookalikes=tuple(lookalikes))


def key_notes(found: EditorState) -> list[tuple[str, dict[str, object]]]:
    """What an editor's answer adds about the key, as catalogue keys and their parameters
    (each front end words them in its language): the stored key acted on when it was given
    in another Unicode form (``key_other_form``), the stored lookalikes not acted on
    (``key_lookalikes``); and for a hide recorded ahead under a key holding a backslash, ``u``
    and hex digits as characters (``key_literal_escape``): a printed key's spelling of one
    character (``\\u0302``) given where keys are taken exactly (JSON, the admin's box, or
    typed ``\\\\u0302`` in the CLI), which the source will almost never send: a takedown
    that waits for nothing while the article stays public is said, not silent."""
    notes: list[tuple[str, dict[str, object]]] = []
    if found.typed_as is not None:
        notes.append(("key_other_form", {"key": named(found.source_key)}))
    if found.lookalikes:
        notes.append(("key_lookalikes", {"keys": listed(found.lookalikes)}))
    if found.pending and LITERAL_ESCAPE.search(found.source_key):
        notes.append(("key_literal_escape", {"key": named(found.source_key)}))
    return notes


def not_found(conn: Connection, key: str) -> OperationError:
    """``not_found`` ``article_not_found`` for ``key`` (a key as looked up, of no article and
    no hide waiting for one), naming the stored keys that begin with or contain it
    (``near_keys``, :func:`near_keys`' rule: part of a key typed); for a key holding a bidi
    control, which no article can have any more, the refused character (what it always
    was)."""
    if _BIDI.search(key):
        refuse_control("source_key", key)
    near = article_keys.near_keys(conn, key, NEAR_KEYS)
    said = f"; keys that begin with or contain it: {listed(near)}" if near else ""
    return OperationError(
        "not_found", f"unknown article {named(key)}{said}", code="article_not_found",
        params={"key": key, "near_keys": tuple(near)},
    )  # fmt: skip


def near_keys(db: Database, text: str) -> list[str]:
    """Stored keys (articles, and rows of the built-in source table not ingested yet) that
    begin with or contain ``text`` typed as a key, at most :data:`NEAR_KEYS`, those that begin
    with it first (:func:`feedsvc.store.article_keys.near_keys`); [] for a text that is no key
    (empty, too long, a control character). Why: a key is looked up whole, so part of one
    (``DEMO-20261206-0003`` for ``DEMO-20261206-00031``) found nothing and was offered a hide
    ahead of ingest; an unknown key's answer names these instead (``articles hide|find``, the
    API's 404 ``near_keys``, the admin's list of them)."""
    key = trim_key(text)
    if not key or len(key) > MAX_TYPED_KEY or control_char(key) is not None:
        return []
    with db.read() as conn:
        return article_keys.near_keys(conn, key, NEAR_KEYS)
