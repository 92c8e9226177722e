"""HTML → the text a reader sees, fast.

Why not ``html.parser``: on a 2 KB article it cost ~5x the rest of normalisation together (it is
pure Python and calls back per tag); matching thousands of topics at ingest speed needs better.
This scanner is one compiled regex over the markup (plus :class:`_TagEnds` for a tag the regex
cannot close itself), following the HTML tokenizer where it matters for *visible text*, and
linear in the markup's size whatever it holds (a body is hostile input: up to 2 MB at ingest):

* tags (with quoted attribute values that may contain ``>``), comments, doctype/CDATA/processing
  instructions are not text; an unterminated comment runs to the end, as in browsers;
* ``<script>``, ``<style>`` etc. (:data:`SKIP_TAGS`): everything up to the matching end tag is
  dropped;
* block elements (:data:`BLOCK_TAGS`) become ``"\\n"`` — a sentence break;
* newlines inside text are ordinary spaces, except inside ``<pre>`` (:data:`PRE_TAGS`), where
  a browser shows each as a line break: there a newline is a sentence break as ``<br>`` is (a
  tester's ``<pre>công\nan</pre>`` matched the phrase "công an"); entities are decoded with
  :func:`html.unescape` (the HTML5 rules, the same function ``html.parser`` uses);
* a ``<`` that does not start a tag (``a < b``, ``<3``) is text, and so is one whose tag name
  holds a non-ASCII character (``<Số đỏ>``, ``<Dế Mèn>``): :data:`feedsvc.markup.TAG_NAME`,
  the rule the feeds' cleaner shares (an HTML parser would hide those words).

The tests compare it with an ``html.parser`` reference on generated articles.
"""

from __future__ import annotations

import html
import re

from feedsvc.markup import TAG_NAME

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
#: Elements whose content is never visible text.
SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title", "svg", "math"})

_MARKUP_RE = re.compile(
    r"<!--.*?(?:-->|\Z)"  # comment
    r"|<[!?][^>]*+(?:>|\Z)"  # doctype, CDATA, processing instruction: not text
    # start or end tag; group 3 is its ">" when found before any "<" outside quotes
    rf"|<(/?)({TAG_NAME})(?:[^<>\"']++|\"[^\"<]*+\"|'[^'<]*+')*+(>)?",
    re.S,
)
# What decides a tag's end: ">" closes it, a quote opens a value that may hold ">".
_TAG_STOP = re.compile("[>\"']")
# Where markup that needs no ">" may begin (a comment, doctype, CDATA, processing instruction).
_BANG = re.compile("<[!?]")
# A skipped element's end tag: its name, then anything up to the next ">".
_SKIP_END = {tag: re.compile(rf"</{tag}\b", re.I) for tag in SKIP_TAGS}


class _TagEnds:
    """Where the tags of one document end, for the tags :data:`_MARKUP_RE` could not close
    itself (a raw ``<`` after the name, outside quotes, or none of ``>``).

    Why: a tag is ``<name`` then ``(?:[^>"']|"[^"]*"|'[^']*')*>``, and matching that with a
    regex from every ``<`` rescans the rest of the document from each tag that never closes
    (``"<a " * 8000``, 24 KB, took 12 s; a 2 MB body would take hours). The walk from a name to
    its ``>`` stops only at quotes and ``>``; two walks that reach the same opening quote go on
    alike, so a quote seen by a walk that failed is remembered (:attr:`_dead`) and ends a later
    walk at once, and a walk that succeeds is consumed as the tag: linear in all. The first stop
    after a name is cached, so ``"<a " * N`` with no ``>`` at all costs one search.
    """

    __slots__ = ("_dead", "_failed_at", "_markup", "_stop", "_stop_from")

    def __init__(self, markup: str) -> None:
        self._markup = markup
        self._dead: set[int] = set()  # opening quotes from which no ">" is reached
        self._stop_from = -1
        self._stop = -1  # first of ">\"'" at or after _stop_from (len(markup): none)
        self._failed_at = -1  # first stop of the last walk that failed

    def _first_stop(self, pos: int) -> int:
        if not self._stop_from <= pos <= self._stop:
            found = _TAG_STOP.search(self._markup, pos)
            self._stop_from = pos
            self._stop = len(self._markup) if found is None else found.start()
        return self._stop

    def end(self, pos: int) -> int:
        """End (after ``>``) of the tag whose walk is outside quotes at ``pos``; -1 if none."""
        markup = self._markup
        stop = first = self._first_stop(pos)
        walked: list[int] = []
        while stop < len(markup) and stop not in self._dead:
            quote = markup[stop]
            if quote == ">":
                return stop + 1
            walked.append(stop)
            close = markup.find(quote, stop + 1)
            if close < 0:
                break
            found = _TAG_STOP.search(markup, close + 1)
            stop = len(markup) if found is None else found.start()
        self._dead.update(walked)
        self._failed_at = first
        return -1

    def skip(self, pos: int) -> int:
        """After a tag failed to close: where markup may begin next, from ``pos`` on.

        Every later tag whose name ends before the failed walk's first stop has that stop as
        its own, so it fails too: only ``<!``/``<?`` and a name running past the stop remain.
        """
        stop = self._failed_at
        if stop <= pos:
            return pos
        bang = _BANG.search(self._markup, pos, stop)
        if bang is not None:
            return bang.start()
        last = self._markup.rfind("<", pos, stop)
        return stop if last < 0 else last


def _text(segment: str, pre: bool = False) -> str:
    if "&" in segment:
        segment = html.unescape(segment)
    if pre:  # every line break a browser shows: "\r\n", "\r" and "\n" alike
        return segment.replace("\r\n", "\n").replace("\r", "\n")
    return segment.replace("\n", " ").replace("\r", " ")


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


def html_to_text(markup: str) -> str:
    """Visible text of ``markup`` with ``"\\n"`` at block boundaries; never raises."""
    parts: list[str] = []
    pos = 0  # start of the text not yet taken
    at = 0  # where to look for markup next
    n = len(markup)
    tags: _TagEnds | None = None
    blocks = 0  # block elements open
    pres: list[int] = []  # for each open preformatted element, the blocks open around it
    while pos < n:
        m = _MARKUP_RE.search(markup, at)
        if m is None:
            parts.append(_text(markup[pos:], bool(pres)))
            break
        end = m.end()
        name = m.group(2)
        if name is not None and m.group(3) is None:  # not closed yet: walk on to its ">"
            if tags is None:
                tags = _TagEnds(markup)
            end = tags.end(end)
            if end < 0:  # none: this "<" is text
                at = tags.skip(m.start() + 1)
                continue
        if m.start() > pos:
            parts.append(_text(markup[pos : m.start()], bool(pres)))
        pos = at = end
        if name is None:
            continue
        name = name.lower()
        if name in _CONTAINERS and markup[end - 2] != "/":
            blocks = _block_edge(blocks, pres, name, bool(m.group(1)))
        if name in BLOCK_TAGS:
            parts.append("\n")
        elif name in SKIP_TAGS and not m.group(1) and markup[end - 2] != "/":
            close = _SKIP_END[name].search(markup, pos)
            gt = -1 if close is None else markup.find(">", close.end())
            pos = at = n if gt < 0 else gt + 1
    return "".join(parts)
