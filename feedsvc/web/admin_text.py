"""What the admin shows of outside text: every control character and bidi control visible as
an escape (``\\u202e``), in every value a template writes (:func:`shown`, the admin's Jinja
``finalize``).

Why: article titles, source keys, hide reasons, chat titles (Telegram and Zalo users name their
chats), delivery errors and quarantine reasons come from outside, and the admin wrote them as
they were (a tester's): one U+202E in a title showed the rest of its cell reversed to the
editor deciding what to take down, and BEL or ESC went into the page. Feeds, reader pages and
alerts clean these characters out (:mod:`feedsvc.bidi`), the CLI and the logs escape them
(:func:`feedsvc.logs.escape_controls`); the admin, where someone must see exactly what is
there, escapes them too. Line breaks and tabs stay (a description in the editor's textarea).

An editable box (an ``<input>``'s value, a ``<textarea>``) is different: what it holds is what
Save sends, so an escape there is six letters saved (a title refused for its BEL came back
holding ``\\u0007``, and Save stored those letters in place of the title). A box is filled
through :func:`box` (the ``box`` filter, a :class:`FormValue`): the text as sent or stored,
less the characters every save refuses (:func:`feedsvc.fieldtext.refused_chars`; what a
box holds then saves as it shows), and :func:`removal_note` says under the box which were
taken out, where (``U+0007 (BEL) at character 5``): never a silent change. The save's own
"remove it" is not said beside it (:func:`field_words`).

A stored key is shown as the CLI shows it (``key_text``: two keys never look alike). A value
a form must send back exactly (a stored key holding a bidi control, from before keys
refused them) is marked :class:`FormValue` by the ``form_value`` filter and written as it is,
escaped only for HTML by autoescape.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from feedsvc.article_errors import char_name as code_point
from feedsvc.bidi import BIDI_CONTROLS
from feedsvc.catalogue.operation_words import REFUSED_CHARACTER
from feedsvc.fieldtext import refused_chars, without_refused

if TYPE_CHECKING:
    from feedsvc.catalogue import Translator
    from feedsvc.operations import OperationError

# lone surrogates too: not text, and no page can be encoded with one (a 500)
_SHOWN_ESCAPED = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}\ud800-\udfff]"
)
#: The C0 and C1 controls' abbreviations (Unicode's NameAliases.txt): they have no name
#: ``unicodedata.name`` knows, and "U+001B" alone says less to an admin than "ESC".
_C0 = (  # U+0000–U+001F
    "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL",
    "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
    "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
    "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US",
)  # fmt: skip
_C1 = (  # U+0080–U+009F
    "PAD", "HOP", "BPH", "NBH", "IND", "NEL", "SSA", "ESA",
    "HTS", "HTJ", "VTS", "PLD", "PLU", "RI", "SS2", "SS3",
    "DCS", "PU1", "PU2", "STS", "CCH", "MW", "SPA", "EPA",
    "SOS", "SGC", "SCI", "CSI", "ST", "OSC", "PM", "APC",
)  # fmt: skip
#: At most this many taken-out characters are named one by one; the rest are counted.
NAMED = 5


class FormValue(str):
    """A text written into a form field exactly as stored (see the module docstring)."""

    __slots__ = ()


def form_value(value: object) -> FormValue:
    """The ``form_value`` filter: ``value`` as text, left as it is by :func:`shown`."""
    return FormValue(value)


def key_text(value: object) -> FormValue:
    """The ``key_text`` filter: a stored key as the CLI prints it (:func:`feedsvc.keys.spelled`:
    ``escape_controls`` ``exact``, a backslash that would read as an escape doubled; a key not
    in NFC code point by code point), so a key holding U+202E (``K\\u202e1``) and one holding
    those six characters (``K\\\\u202e1``), or a key in NFD and its NFC, never look alike to
    an editor choosing the row to take down; the form that acts on it sends it exactly."""
    from feedsvc.keys import spelled

    return FormValue(spelled(str(value)))


def shown(value: object) -> object:
    """The admin templates' ``finalize``: a text with each control character (but tab and
    line breaks), U+2028/9 and bidi control as ``\\uXXXX``; anything else unchanged (markup
    from ``Markup`` included: ours, never outside text)."""
    if type(value) is not str:  # FormValue, Markup, numbers, None
        return value
    return _SHOWN_ESCAPED.sub(lambda m: f"\\u{ord(m[0]):04x}", value)


def box(value: object) -> FormValue:
    """The ``box`` filter: what an editable box is filled with — ``value`` less the characters
    a save refuses (:func:`feedsvc.fieldtext.without_refused`), everything else exactly as it
    is (a line separator, a direction mark: the save takes them), never escaped."""
    return FormValue(without_refused(str(value)))


def removed(value: object) -> list[tuple[int, str]]:
    """The ``removed`` filter: what :func:`box` takes out of ``value``, ``(position, char)``."""
    return refused_chars(str(value))


def char_name(char: str) -> str:
    """A character's name as Unicode gives it (``RIGHT-TO-LEFT OVERRIDE``), its abbreviation
    for a C0/C1 control or DEL (``BEL``); "" for one without (a lone surrogate)."""
    code = ord(char)
    if code < 0x20:
        return _C0[code]
    if 0x7F <= code <= 0x9F:
        return "DEL" if code == 0x7F else _C1[code - 0x80]
    return unicodedata.name(char, "")


def removal_note(t: Translator, label: str, value: object) -> str:
    """What :func:`box` took out of ``value``, said under the box ``label`` in the admin's
    language (``box.removed``): each character by code, name and 1-based position in the text
    as sent or stored (the first :data:`NAMED`, then how many more); "" when nothing was."""
    gone = removed(value)
    if not gone:
        return ""
    named = [
        t("box.char", char=code_point(c), name=char_name(c) or t("box.surrogate"), position=p)
        for p, c in gone[:NAMED]
    ]
    if len(gone) > NAMED:
        named.append(t("and_more", count=len(gone) - NAMED))
    return t("box.removed", field=label, chars=", ".join(named))


def field_words(t: Translator, error: OperationError) -> str:
    """The words under a box for a save's ``error``: a refused character's are none, as the
    box no longer holds it and :func:`removal_note` says so ("remove it" asked for what was
    done); any other error in its words."""
    return "" if error.code in REFUSED_CHARACTER else t.operation_error(error)
