"""A value named in an error message about a record (an import's line, a source row): bounded,
and in the words of the JSON the line was written in — pure.

Why apart from :mod:`feedsvc.articles`: how a bad value is shown is its own decision (JSON's
words, the escapes of characters a terminal hides), the one every "expected …, got …" of an
article's fields uses.
"""

from __future__ import annotations

import json
import re
from typing import Any

from feedsvc.bidi import BIDI_CONTROLS


def shown_value(value: Any) -> str:
    """A value for an error message, bounded (a record may hold megabytes): a JSON value in
    JSON's words (``null``, ``true``, ``an empty string``, ``the string "yes"``, ``the number
    1.5e+300``, ``an array [1]``, ``an object {…}``), as the line wrote it; anything else (a
    source row's driver value) by its type and repr."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, str) and not value:
        return "an empty string"
    kind = _JSON_KINDS.get(type(value))
    if kind is None:
        text, kind = repr(value), type(value).__name__
    else:
        try:  # JSON's own escapes, and those of the characters a terminal hides or refuses
            text = _HIDDEN.sub(_escaped, json.dumps(value, ensure_ascii=False))
        except (TypeError, ValueError, RecursionError):  # NaN in a source row, deep nesting
            text = "…"
    return f"{kind} {text[:60]}{'…' if len(text) > 60 else ''}"


#: Written as ``\uXXXX``: C1 controls, zero-width and line/paragraph separators, the BOM, lone
#: surrogates, and the bidi controls (:mod:`feedsvc.bidi`), which reorder the line they are in.
_HIDDEN = re.compile(
    f"[\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff\ud800-\udfff{BIDI_CONTROLS}]"
)


def _escaped(found: re.Match[str]) -> str:
    return f"\\u{ord(found[0]):04x}"


#: JSON's word for the Python type :func:`json.loads` gives each of its values.
_JSON_KINDS: dict[type, str] = {
    str: "the string",
    int: "the number",
    float: "the number",
    list: "an array",
    dict: "an object",
}
