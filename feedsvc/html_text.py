"""HTML → the text a reader sees, fast: **the one reading of what an article's summary or
body shows**, for the matcher (:mod:`feedsvc.matching.normalize`) and for every plain form of
it (:func:`feedsvc.feeds.sanitize.plain_text`, ``plain_lines``: feed excerpts, reader pages,
every channel's alert); the feeds' HTML is cleaned by nh3 over the same reading
(:func:`feedsvc.markup.html_as_read`). So no output lacks a word an article matched on.

Why not ``html.parser``: on a 2 KB article it cost ~5x the rest of normalisation together (it is
pure Python and calls back per tag); matching thousands of topics at ingest speed needs better.
The scan (:func:`feedsvc.markup.markup_spans`) is one compiled regex over the markup (plus a
walk for a tag the regex cannot close itself), following the HTML tokenizer where it matters for
*visible text*, and linear in the markup's size whatever it holds (a body is hostile input: up
to 2 MB at ingest):

* tags (with quoted attribute values that may contain ``>``), comments, doctype/CDATA/processing
  instructions are not text; an unterminated comment runs to the end, as in browsers;
* what no reader sees (:data:`SKIP_TAGS`, :data:`feedsvc.markup.HIDDEN_CONTENT`: scripts,
  styles, ``template``, ``title``, ``svg``, ``math``, an iframe's or a video's fallback…):
  everything up to the matching end tag is dropped; such a start tag with no end tag after it
  is text (``Lỗi <script> khiến trang trắng``), as is an unclosed ``textarea``, ``xmp`` or
  ``plaintext`` (:data:`feedsvc.markup.RAW_TEXT`);
* block elements (:data:`BLOCK_TAGS`) become ``"\\n"`` — a sentence break;
* a summary or body with no markup at all, or none of a known element
  (:func:`feedsvc.markup.has_markup`), is plain text, whose line breaks
  (:data:`feedsvc.line_breaks.LINE_BREAKS`) are line breaks, ``"\\n"``;
* in HTML, U+2028 and U+2029 are line breaks (:data:`feedsvc.line_breaks.SEPARATORS`), and
  newlines inside text are ordinary spaces, except inside ``<pre>`` (:data:`PRE_TAGS`), where
  a browser shows each as a line break: there a newline is a sentence break as ``<br>`` is (a
  tester's ``<pre>công\nan</pre>`` matched the phrase "công an"); entities are decoded with
  :func:`unescape` (the HTML5 rules of :func:`html.unescape`, the function ``html.parser``
  uses, but a reference to a control character is the character, as in html5ever);
* a ``<`` that does not start a tag (``a < b``, ``<3``) is text, and so is one whose tag name
  holds a non-ASCII character (``<Số đỏ>``, ``<Dế Mèn>``: :data:`feedsvc.markup.TAG_NAME`) and
  one whose tag nothing closes (``a<b thì c``): an HTML parser would hide those words;
* an element of no HTML vocabulary (``<not>``, ``<o:p>``) is inline: its text shows.

Known differences from a browser: the raw text of a closed ``xmp`` or ``textarea`` is read as
markup; an unclosed hidden element's words are shown (a browser hides all after its tag),
but not an embed's whose start tag has attributes (:mod:`feedsvc.markup_fallback`); a
quote where HTML takes none (``<b "x>``, ``<b c=x"y>``) opens a value.
The tests compare it with an ``html.parser`` reference on generated articles.
"""

from __future__ import annotations

import html
import re

from feedsvc.line_breaks import SEPARATORS, as_newlines
from feedsvc.markup import HIDDEN_CONTENT, has_markup, markup_spans

# fmt: off
#: Elements whose start or end is a sentence break (what a browser renders as a new block/line).
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "center", "dd", "details",
        "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "menu", "nav",
        "ol", "option", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)
# fmt: on
#: Elements whose line breaks are shown as such (preformatted text; ``listing`` is parsed as
#: ``pre``). ``xmp`` and ``textarea`` hold raw text, which this scanner does not model: not here.
PRE_TAGS = frozenset({"pre", "listing"})
#: The elements whose end closes a preformatted element left open inside (:func:`_block_edge`):
#: the blocks that hold something, and the raw text elements (``<xmp><pre></xmp>``: a browser
#: reads that ``<pre>`` as text).
_CONTAINERS = (BLOCK_TAGS - {"br", "hr"}) | {"xmp", "textarea"}
#: Elements whose content is never visible text: :data:`feedsvc.markup.HIDDEN_CONTENT`, the
#: feeds' cleaner's too.
SKIP_TAGS = HIDDEN_CONTENT


#: A numeric character reference to a C0 control other than NUL, or DEL. ``html.unescape``
#: deletes it (HTML5 calls it a parse error), while html5ever — the feeds' cleaner — and
#: browsers give the character, which :func:`feedsvc.feeds.sanitize.xml_clean` turns into a space
#: (``&#11;``, Word's manual line break) or removes: deleted, "vàng&#11;chiều" read as one word.
_CONTROL_REF = re.compile(
    r"&#(?:[xX]0*([0-9a-fA-F]{1,2})(?![0-9a-fA-F])|0*([0-9]{1,3})(?![0-9]));?"
)


def _control(ref: re.Match[str]) -> str:
    code = int(ref[1], 16) if ref[1] is not None else int(ref[2])
    return chr(code) if 0 < code < 0x20 or code == 0x7F else ref[0]


def unescape(text: str) -> str:
    """Character references decoded as an HTML parser decodes them in text (HTML5's rules,
    :func:`html.unescape`, but a reference to a control character gives that character)."""
    if "&#" in text:
        text = _CONTROL_REF.sub(_control, text)
    return html.unescape(text)


def _text(segment: str, pre: bool = False) -> str:
    if "&" in segment:
        segment = unescape(segment)
    if pre:  # every line break a browser shows: "\r\n", "\r" and "\n" alike
        segment = segment.replace("\r\n", "\n").replace("\r", "\n")
    else:
        segment = segment.replace("\n", " ").replace("\r", " ")
    if not segment.isascii() and _SEPARATOR_RE.search(segment):  # a line break in HTML too
        segment = _SEPARATOR_RE.sub("\n", segment)
    return segment


_SEPARATOR_RE = re.compile(f"[{SEPARATORS}]")


def _block_edge(blocks: int, pres: list[int], name: str, closing: bool) -> int:
    """Count a block element's start or end tag; ``pres`` loses each preformatted element the
    end closes — its own, or an enclosing block's when it was never closed (``<div><pre>…
    </div>``: a browser's line breaks stop there, so do ours; a reviewer's). Returns the
    blocks open now."""
    if not closing:
        if name in PRE_TAGS:
            pres.append(blocks)
        return blocks + 1
    blocks = max(0, blocks - 1)
    while pres and blocks <= pres[-1]:
        pres.pop()
    return blocks


def _plain(text: str) -> str:
    """A plain text's reading: each of its line breaks ``"\\n"`` (:func:`as_newlines`), each
    line's references decoded as in HTML text (a decoded ``&#10;`` is whitespace there, as the
    feeds' cleaner reads it: only a break the text holds is one)."""
    text = as_newlines(text)
    if "&" not in text:
        return text
    return "\n".join(_text(line) for line in text.split("\n"))


def html_to_text(markup: str) -> str:
    """Visible text of ``markup`` with ``"\\n"`` at block boundaries and the line breaks
    ``"\\n"`` in ``<pre>``, and at each U+2028/U+2029 (:data:`SEPARATORS`); never raises.

    A summary or body that is no HTML (:func:`feedsvc.markup.has_markup`: no markup, ``Giá rau
    < 10.000``, or no known element's, ``Liên hệ <banbientap@baohp.vn>``) is plain text: each
    line break it holds (:data:`feedsvc.line_breaks.LINE_BREAKS`: CR LF, VT, NEL, U+2028…) is
    ``"\\n"``, as the feeds' paragraphs and the plain alerts' lines show them; a ``<`` or ``&``
    in it made its line breaks spaces (a tester's T2)."""
    if not has_markup(markup):  # the one decision, the feeds' too (it scans to the first
        return _plain(markup)  # known element: twice at most, linear)
    parts: list[str] = []
    pos = 0  # start of the text not yet taken
    blocks = 0  # block elements open
    pres: list[int] = []  # for each open preformatted element, the blocks open around it
    for start, end, name, closing in markup_spans(markup):
        if start > pos:
            parts.append(_text(markup[pos:start], bool(pres)))
        pos = end
        if name is None:
            continue
        if name in _CONTAINERS and markup[end - 2] != "/":
            blocks = _block_edge(blocks, pres, name, bool(closing))
        if name in BLOCK_TAGS:
            parts.append("\n")
    if pos < len(markup):
        parts.append(_text(markup[pos:], bool(pres)))
    return "".join(parts)
