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

A stored key is shown as the CLI shows it (``key_text``: two keys never look alike). A value
a form must send back exactly (a stored key holding a bidi control, from before keys
refused them) is marked :class:`FormValue` by the ``form_value`` filter and written as it is,
escaped only for HTML by autoescape.
"""

from __future__ import annotations

import re

from feedsvc.bidi import BIDI_CONTROLS

_SHOWN_ESCAPED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")


class FormValue(str):
    """A text written into a form field exactly as stored (see the module docstring)."""

    __slots__ = ()


def form_value(value: object) -> FormValue:
    """The ``form_value`` filter: ``value`` as text, left as it is by :func:`shown`."""
    return FormValue(value)


def key_text(value: object) -> FormValue:
    """The ``key_text`` filter: a stored key as the CLI prints it (``escape_controls``,
    ``exact``: a backslash that would read as an escape doubled), so a key holding U+202E
    (``K\\u202e1``) and one holding those six characters (``K\\\\u202e1``) never look alike
    to an editor choosing the row to take down; the form that acts on it sends it exactly."""
    from feedsvc.logs import escape_controls

    return FormValue(escape_controls(str(value), exact=True))


def shown(value: object) -> object:
    """The admin templates' ``finalize``: a text with each control character (but tab and
    line breaks), U+2028/9 and bidi control as ``\\uXXXX``; anything else unchanged (markup
    from ``Markup`` included: ours, never outside text)."""
    if type(value) is not str:  # FormValue, Markup, numbers, None
        return value
    return _SHOWN_ESCAPED.sub(lambda m: f"\\u{ord(m[0]):04x}", value)
