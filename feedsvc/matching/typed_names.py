"""What a reader meant by a field name or a topic slug typed in Vietnamese, for the query
lexer's errors (:mod:`.query`): an error says what to write instead.

``tiêu_đề:bão`` was "term spans sentence punctuation" (the lexer took only ASCII letters for a
field name), ``tieude:bão`` "unknown field" with no word of ``title:``; ``@kiến-thụy`` was
"unknown topic @ki" (a slug's characters are ASCII, so the reference stopped at ``ế``) and
``@đồ-sơn`` "'@' must be followed by a topic slug". Now the lexer reads such a name whole and
refuses it naming the field (:func:`meant_field`) or the slug form (:func:`slug_form`). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import NamedTuple

from .normalize import tokens

#: A field name as typed before ``:``: a letter, then letters, digits, marks, ``_`` or ``-``
#: (``tiêu_đề``, ``tieu-de``, ``Tiêu_Đề``); what the ASCII field names of SPEC §4 are read from.
TYPED_FIELD = re.compile(r"([^\W\d_][\w\u0300-\u036f-]*):")
#: A slug as typed after ``@``: letters of any script, digits, marks, ``_`` and ``-``.
TYPED_SLUG = re.compile(r"[\w\u0300-\u036f-]+")

# fmt: off
#: A field's name in Vietnamese (without marks, separators dropped) or in other English words,
#: → the field of the query language it stands for.
FIELD_WORDS = {
    "tieude": "title", "tua": "title", "tuade": "title", "tieudebai": "title",
    "headline": "title", "titles": "title",
    "noidung": "body", "thanbai": "body", "baiviet": "body", "tomtat": "body", "sapo": "body",
    "content": "body", "text": "body", "summary": "body",
    "the": "tag", "nhan": "tag", "tukhoa": "tag", "tags": "tag", "keyword": "tag",
    "chuyenmuc": "section", "muc": "section", "danhmuc": "section", "category": "section",
    "sections": "section",
    "tacgia": "author", "butdanh": "author", "nguoiviet": "author", "authors": "author",
    "by": "author", "writer": "author",
}
# fmt: on


def _folded(name: str) -> list[str]:
    """``name``'s syllables, marks removed and ``đ`` read as ``d`` (the normaliser's folding)."""
    return [token.folded for token in tokens(name)]


def meant_field(name: str) -> str | None:
    """The field ``name`` (typed before ``:``) stands for (``tiêu_đề`` → ``title``), or None."""
    return FIELD_WORDS.get("".join(_folded(name)))


def slug_form(typed: str) -> str:
    """``typed`` (after ``@``) as a slug is written: ASCII lower case, marks removed, ``đ`` as
    ``d``, a hyphen between syllables (``kiến-thụy``, ``Kiến_Thụy`` → ``kien-thuy``); "" when
    it holds no letter or digit."""
    return "-".join(_folded(typed))


class Refusal(NamedTuple):
    """A :class:`~.query.QueryError`'s parts (English message and hint, code, params)."""

    message: str
    hint: str
    code: str
    params: dict[str, object]


def field_refusal(word: str, fields: Collection[str], before: str = "") -> Refusal | None:
    """Why ``word`` (a bare word of a query) cannot begin with the field name it begins with,
    or None: a name for one of ``fields`` in other words (``tiêu_đề:``, ``tieude:``, ``Tác_giả:
    x``: :func:`meant_field`, code ``field_meant``), or any other non-ASCII name glued to a term
    (``giờ:10``, ``unknown_field``: a term across ``:`` could never match anyway). An ASCII
    name of no field is the lexer's own ``unknown_field``; ``Phòng: bão`` stays words.
    ``before``: the word typed before ``word``, read with it when the two name a field as
    people write it, with a space, a term glued to the ``:`` (``tiêu đề:an`` was "unknown
    field 'đề'"; ``tiêu đề: bão`` stays words)."""
    typed = TYPED_FIELD.match(word)
    if typed is None or typed.group(1).lower() in fields:
        return None
    name, valid = typed.group(1), ", ".join(fields)
    meant = meant_field(name)
    glued = typed.end() < len(word)  # "tiêu đề: bão" (a space after ":") stays words
    if meant is None and before and glued and meant_field(before + name) is not None:
        name, meant = f"{before} {name}", meant_field(before + name)
    if meant is not None:
        return Refusal(
            f"unknown field {name!r}; valid fields are {valid}",
            f"for this field, write {meant}:",
            code="field_meant",
            params={"name": name, "field": meant, "valid": valid},
        )
    if not name.isascii() and typed.end() < len(word):
        return Refusal(
            f"unknown field {name!r}; valid fields are {valid}",
            "put text that contains ':' in quotes",
            code="unknown_field",
            params={"name": name, "valid": valid},
        )
    return None


def slug_refusal(text: str, start: int, slug_end: int) -> Refusal | None:
    """Why the ``@`` reference whose slug would begin at ``text[start]`` (and, read as ASCII,
    end at ``slug_end``) is refused, or None: a slug typed with marks or other letters runs on
    past ``slug_end`` (``@kiến-thụy``, ``@đồ-sơn``), and is refused naming its slug form."""
    typed = TYPED_SLUG.match(text, start)
    if typed is None or typed.end() <= slug_end:
        return None
    slug = slug_form(typed.group())
    if not slug:
        return None
    return Refusal(
        f"a topic slug is written without marks: @{slug}, not @{typed.group()}",
        f"write @{slug}",
        code="slug_chars",
        params={"typed": typed.group(), "slug": slug},
    )
