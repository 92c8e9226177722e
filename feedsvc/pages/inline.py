"""The reader pages' one stylesheet and one script, inlined whole into every page
(``templates/_layout.html``) and allowed by hash in the pages' Content-Security-Policy
(:mod:`feedsvc.web.security_headers`).

Why files read as they are, not template text: a CSP hash covers the exact bytes between
``<style>`` and ``</style>``; read here once and placed with ``{{ page_style }}``, the bytes the
page carries and the bytes hashed are one value, so an edit to the style can never leave the
header allowing the old one (a page without its style, silently, in every browser)."""

from __future__ import annotations

import base64
import hashlib
from importlib import resources

from markupsafe import Markup


def _read(name: str) -> str:
    return resources.files("feedsvc.pages").joinpath("templates", name).read_text("utf-8")


#: the reader pages' stylesheet, as placed in ``<style>``
STYLE = Markup(_read("_page.css"))
#: the reader pages' script (the copy buttons), as placed in ``<script>``
SCRIPT = Markup(_read("_page.js"))


def csp_hash(text: str) -> str:
    """The CSP source expression allowing exactly ``text`` inline (``'sha256-…'``: CSP 3 §8.4,
    the hash of its UTF-8 bytes)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"
