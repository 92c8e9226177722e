"""Where the content of an embed that nothing closes ends: what a browser hides after a sloppy
CMS's ``<iframe src=x>``, ``<video controls>`` or ``<canvas id=c>`` with no end tag.

A hidden start tag that no end tag follows is a journalist's text in :func:`feedsvc.markup.
markup_spans` (``Lỗi <iframe> khiến trang trắng``). But an embed's start tag *with attributes*
is what a CMS's embed code emits, and a reader of the newsroom's page sees a frame or a player
there, never the tag: shown as text (``Hà Nội <iframe src=x> Kiến Thụy``) the feeds, pages and
alerts printed markup, and the matcher read the fallback (``Trình duyệt không hỗ trợ video``)
it never reads in the closed form. The HTML Living Standard (§13.2.6.4.7 "in body"; §13.2.5
tokenizer states) says where such content ends:

* :data:`RAW_TEXT_FALLBACK` (``iframe``, ``noembed``, ``noframes``, and ``noscript`` in a
  browser that runs scripts: "generic raw text element parsing") and ``template`` (kept open
  until ``</template>``, its content inert): the rest of the field is the element's, never
  shown;
* :data:`TREE_FALLBACK` (``video``, ``audio``, ``canvas``: ordinary elements whose children
  are fallback content no current browser renders): up to an end tag that closes an element
  open before it (``<p>Hà Nội <video src=x>…</p>``: "any other end tag" pops the video with
  the ``p``), else the rest of the field (:func:`fallback_end`).

Not here: ``svg`` and ``math`` (a foreign element left open ends at the first HTML tag that
breaks out of it, ``<p>``, ``<b>``…), ``script``, ``style``, ``title``, ``datalist``: their
unclosed start tag stays text. ``object``'s fallback is shown, closed or not (a feed cannot
carry the object; a browser shows the fallback when the object fails).

Known difference: a browser ignores an end tag that matches no open element at all; with only a
fragment at hand every unmatched end tag is taken to be an ancestor's (a word shown, not lost).
Pure, no imports beyond the standard library.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Embeds whose unclosed start tag with attributes hides the rest of the field (raw text, or
#: ``template``'s inert content, up to an end tag that a fragment without one never has).
RAW_TEXT_FALLBACK = frozenset({"iframe", "noembed", "noframes", "noscript", "template"})
#: Embeds whose unclosed start tag with attributes hides what follows up to its parent's end.
TREE_FALLBACK = frozenset({"audio", "canvas", "video"})
#: The embeds read by this module: each is in :data:`feedsvc.markup.HIDDEN_CONTENT`.
FALLBACK = RAW_TEXT_FALLBACK | TREE_FALLBACK

#: Elements with no end tag (HTML's void elements, with the obsolete ones CMS exports carry):
#: their start tag opens nothing that a later end tag could close.
VOID = frozenset(
    {
        "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image",
        "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
    }
)  # fmt: skip

#: A span as :func:`feedsvc.markup.markup_spans` yields it: start, end, name or None, closing.
Span = tuple[int, int, str | None, int]


def fallback_end(spans: Iterable[Span], limit: int) -> int:
    """Where the content of a :data:`TREE_FALLBACK` element that nothing closes ends: the start
    of the first end tag in ``spans`` (the markup after its start tag, in order) that closes no
    element opened after it, else ``limit`` (the field's length). Elements opened inside and
    left open are closed by an enclosing end tag as a browser's "any other end tag" step closes
    them (``<video src=x><b>a</p>`` ends at ``</p>``)."""
    opened: list[str] = []
    count: dict[str, int] = {}  # open elements by name: each end tag looked up once (linear)
    for start, _end, name, closing in spans:
        if name is None or name in VOID:
            continue
        if not closing:
            opened.append(name)
            count[name] = count.get(name, 0) + 1
        elif count.get(name):
            while True:  # each element popped once in all
                popped = opened.pop()
                count[popped] -= 1
                if popped == name:
                    break
        else:
            return start
    return limit


def has_attributes(tag: str) -> bool:
    """Whether a start tag's text after its name (``tag``, up to and with its ``>``) holds an
    attribute: anything but HTML whitespace and ``/``."""
    return bool(tag.rstrip(">").strip("\t\n\f\r /"))
