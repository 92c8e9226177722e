"""Which ``<`` in CMS text begins markup, and which is the character itself: one decision.

Vietnamese press writes a work's name in angle brackets (``Công chiếu phim <Dế Mèn phiêu lưu
ký>``, ``Sách <Số đỏ> tái bản``, ``<<Tắt đèn>>``). An HTML tokenizer opens a tag at ``<``
followed by an ASCII letter and reads the rest of the name up to whitespace, ``/`` or ``>``
(``<Dế`` is a tag named "dế", ``Mèn`` an attribute), so every HTML-to-text step dropped the
name: feeds, reader pages, every channel's alerts and the matcher (a topic "Dế Mèn" never
matched). Two rules, both stated here and used by the feed/page/alert cleaner
(:mod:`feedsvc.feeds.sanitize`) and the matcher (:mod:`feedsvc.matching.html_text`,
:mod:`feedsvc.matching.normalize`), so the outputs and matching cannot disagree:

* **HTML fields** (summary, body: SPEC §3 says HTML): HTML semantics, except that a tag whose
  *name* holds a non-ASCII character is text (:data:`TAG_NAME`, :func:`html_literals`). No HTML
  element, and no custom element a CMS emits, has such a name; a browser would hide the words,
  but no editor meant them as markup (an editor escapes what it means as text, so such a ``<``
  came from plain text pasted into the field). ``<Em và Trịnh>`` in a body stays an ``em`` tag.
* **Text fields** (title, section, author, tags): a ``<`` begins markup only when it begins a
  comment ``<!--`` or a complete tag of a known HTML element (:data:`KNOWN_ELEMENTS`, any case)
  whose attributes, if any, are ASCII names with optional values, up to its ``>``
  (:func:`field_literals`). So ``<b>Bão</b>``, ``<span class="x">``, ``<br/>``,
  ``<script>…</script>`` stay markup (stripped; script content dropped), while ``<Số đỏ>``,
  ``<Em và Trịnh>`` (``và`` is no attribute name), ``<Mai>``, ``<50``, ``a < b``, ``<<`` are
  text. Known ambiguity: a bracketed ASCII-only name that is also an element (``<Em>``,
  ``<Big Fish>``) is read as markup, as an HTML parser would.

Literal ``<`` are rewritten as ``&lt;`` *before* the HTML-to-text step, which then decodes it
back: the cleaners themselves stay HTML parsers (nh3 cannot be told otherwise). Nothing stored
changes: these run on output and on matching only. Pure, no imports beyond ``re``.
"""

from __future__ import annotations

import re

#: HTML whitespace (the tokenizer's, not Unicode's): what ends a tag name besides ``/`` and ``>``.
HTML_SPACE = "\t\n\f\r "

#: A tag name the HTML-to-text steps accept (after ``<`` or ``</``): an ASCII letter, then
#: ASCII up to whitespace, ``/``, ``>`` or the end. A name running into a non-ASCII character
#: (``Dế``, ``Số``) does not match, so its ``<`` is text; nor does one running into another
#: ``<`` (``<a<b>``: text, then a ``b`` tag), which keeps every scan linear: without it
#: ``"<a" * 5000`` cost each ``<`` a scan to the end (0.4 s for 10 kB).
TAG_NAME = rf"[a-zA-Z][^{HTML_SPACE}/><\x80-\U0010ffff]*+(?![^{HTML_SPACE}/>])"

# fmt: off
#: Elements of HTML (WHATWG, with the obsolete ones old CMS exports still carry) and the SVG and
#: MathML roots: in a text field, only these open a tag.
KNOWN_ELEMENTS = frozenset(
    {
        "a", "abbr", "acronym", "address", "applet", "area", "article", "aside", "audio", "b",
        "base", "basefont", "bdi", "bdo", "bgsound", "big", "blink", "blockquote", "body", "br",
        "button", "canvas", "caption", "center", "cite", "code", "col", "colgroup", "data",
        "datalist", "dd", "del", "details", "dfn", "dialog", "dir", "div", "dl", "dt", "em",
        "embed", "fieldset", "figcaption", "figure", "font", "footer", "form", "frame",
        "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "html",
        "i", "iframe", "image", "img", "input", "ins", "isindex", "kbd", "keygen", "label",
        "legend", "li", "link", "listing", "main", "map", "mark", "marquee", "math", "menu",
        "menuitem", "meta", "meter", "nav", "nobr", "noembed", "noframes", "noscript", "object",
        "ol", "optgroup", "option", "output", "p", "param", "picture", "plaintext", "pre",
        "progress", "q", "rb", "rp", "rt", "rtc", "ruby", "s", "samp", "script", "search",
        "section", "select", "slot", "small", "source", "spacer", "span", "strike", "strong",
        "style", "sub", "summary", "sup", "svg", "table", "tbody", "td", "template", "textarea",
        "tfoot", "th", "thead", "time", "title", "tr", "track", "tt", "u", "ul", "var", "video",
        "wbr", "xmp",
    }
)
# fmt: on

_SP = f"[{HTML_SPACE}]"
# An attribute: ASCII name, optional value (quoted, or unquoted up to whitespace or ">").
# Possessive quantifiers: no backtracking, so a long unterminated "tag" costs linear time.
_ATTRIBUTE = (
    rf"[{HTML_SPACE}/]++[A-Za-z_:@][-A-Za-z0-9_:.@]*+"
    rf"(?:{_SP}*+={_SP}*+(?:\"[^\"]*+\"|'[^']*+'|[^{HTML_SPACE}\"'<>=`]++))?+"
)
_ELEMENT = "|".join(sorted(KNOWN_ELEMENTS, key=len, reverse=True))
#: A ``<`` that begins markup in a text field (see the module doc).
_FIELD_MARKUP = rf"!--|/?(?:{_ELEMENT})(?![^{HTML_SPACE}/>])(?:{_ATTRIBUTE})*+[{HTML_SPACE}/]*+>"
_FIELD_LITERAL = re.compile(rf"<(?!{_FIELD_MARKUP})", re.IGNORECASE | re.ASCII)
_HTML_LITERAL = re.compile(rf"<(?=/?[a-zA-Z])(?!/?{TAG_NAME})")

ESCAPED_LT = "&lt;"


def field_literals(text: str) -> str:
    """``text`` of a text field (title, section, author, tag) as the HTML it means: every
    ``<`` that does not begin markup by the text-field rule written ``&lt;``; unchanged (no
    copy) without a ``<``, the common case."""
    if "<" not in text:
        return text
    return _FIELD_LITERAL.sub(ESCAPED_LT, text)


def html_literals(fragment: str) -> str:
    """``fragment`` of an HTML field (summary, body) with the ``<`` of every would-be tag whose
    name holds a non-ASCII character written ``&lt;``, so an HTML parser keeps ``<Số đỏ>`` as
    text; unchanged without such a tag (one regex search)."""
    if "<" not in fragment or _HTML_LITERAL.search(fragment) is None:
        return fragment
    return _HTML_LITERAL.sub(ESCAPED_LT, fragment)
