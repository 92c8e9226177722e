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

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Connection

from feedsvc.keys import spelled
from feedsvc.logs import quoted
from feedsvc.operations import OperationError
from feedsvc.store import pending_hides
from feedsvc.store.article_keys import Meant, article_meant, meant
from feedsvc.store.lifecycle import EditorState

#: the error of a typed key several stored keys are the same text of (none of them exactly)
AMBIGUOUS = "article_key_ambiguous"


def listed(keys: Sequence[str]) -> str:
    """Keys that look alike, each quoted as the CLI prints it and spelled by code point:
    ``'Tin-Kiến' (Tin-Kie\\u0302\\u0301n)``."""
    return ", ".join(f"{quoted(k)} ({spelled(k)})" for k in keys)


def ambiguous(key: str, keys: Sequence[str]) -> OperationError:
    """``conflict`` (409, exit 1): ``key`` is the same text as several stored keys in other
    Unicode forms — distinct rows of the source — and none is the key as typed: never a
    guess. ``params["source_keys"]``: the stored keys (the API's answer lists them)."""
    return OperationError(
        "conflict",
        f"{quoted(key)} is the same text as several stored keys in other Unicode forms: "
        f"{listed(keys)}; give the one meant exactly (e.g. in a shell: $'…\\u0302…')",
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
    (``key_lookalikes``)."""
    notes: list[tuple[str, dict[str, object]]] = []
    if found.typed_as is not None:
        notes.append(("key_other_form", {"key": quoted(found.source_key),
                                         "spelled": spelled(found.source_key)}))  # fmt: skip
    if found.lookalikes:
        notes.append(("key_lookalikes", {"keys": listed(found.lookalikes)}))
    return notes
