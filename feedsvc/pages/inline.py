"""The reader pages' one stylesheet and one script, inlined whole into every page
(``templates/_layout.html``) and allowed by hash in the pages' Content-Security-Policy
(:mod:`feedsvc.web.security_headers`), without their comments.

Why files read as they are, not template text: a CSP hash covers the exact bytes between
``<style>`` and ``</style>``; read here once and placed with ``{{ page_style }}``, the bytes the
page carries and the bytes hashed are one value, so an edit to the style can never leave the
header allowing the old one (a page without its style, silently, in every browser).

Why without comments: the files' comments are for developers, and every reader was sent them
("/* The reader pages' one stylesheet, inlined whole by _layout.html; its CSP hash…" on ``/``
and every topic's page). They are dropped when read (:func:`without_css_comments`,
:func:`without_js_comment_lines`), before the hash is taken, so what is hashed is still what
is placed."""

from __future__ import annotations

import base64
import hashlib
from importlib import resources

from markupsafe import Markup


def _read(name: str) -> str:
    return resources.files("feedsvc.pages").joinpath("templates", name).read_text("utf-8")


def without_css_comments(text: str) -> str:
    """``text`` without its ``/* … */`` comments (none is read inside a quoted string), and
    without the lines they leave blank."""
    kept: list[str] = []
    i, quote = 0, ""
    while i < len(text):
        char = text[i]
        if quote:
            kept.append(text[i : i + 2] if char == "\\" else char)
            i += 2 if char == "\\" else 1
            quote = "" if char == quote else quote
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ValueError("an unclosed /* comment in the reader pages' stylesheet")
            i = end + 2
        else:
            quote = char if char in "\"'" else ""
            kept.append(char)
            i += 1
    return _without_blank_lines("".join(kept))


def without_js_comment_lines(text: str) -> str:
    """``text`` without its lines that are a ``//`` comment only (a comment after code on its
    line is kept: telling it from a ``//`` inside a string or a regular expression needs a
    JavaScript lexer; write comments on their own lines)."""
    return _without_blank_lines(
        "".join(line for line in text.splitlines(True) if not line.lstrip().startswith("//"))
    )


def _without_blank_lines(text: str) -> str:
    return "".join(line for line in text.splitlines(True) if line.strip())


#: the reader pages' stylesheet, as placed in ``<style>``
STYLE = Markup(without_css_comments(_read("_page.css")))
#: the reader pages' script (the copy buttons), as placed in ``<script>``
SCRIPT = Markup(without_js_comment_lines(_read("_page.js")))


def csp_hash(text: str) -> str:
    """The CSP source expression allowing exactly ``text`` inline (``'sha256-…'``: CSP 3 §8.4,
    the hash of its UTF-8 bytes)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"
