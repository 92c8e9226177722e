"""Which ``<`` in CMS text begins markup, and which is the character itself: one decision.

Vietnamese press writes a work's name in angle brackets (``Công chiếu phim <Dế Mèn phiêu lưu
ký>``, ``Sách <Số đỏ> tái bản``, ``<<Tắt đèn>>``). An HTML tokenizer opens a tag at ``<``
followed by an ASCII letter and reads the rest of the name up to whitespace, ``/`` or ``>``
(``<Dế`` is a tag named "dế", ``Mèn`` an attribute), so every HTML-to-text step dropped the
name: feeds, reader pages, every channel's alerts and the matcher (a topic "Dế Mèn" never
matched). Two rules, both stated here and used by the feed/page/alert cleaner
(:mod:`feedsvc.feeds.sanitize`) and the matcher (:mod:`feedsvc.html_text`,
:mod:`feedsvc.matching.normalize`), so the outputs and matching cannot disagree:

* **HTML fields** (summary, body: SPEC §3 says HTML): HTML semantics, except that a tag whose
  *name* holds a non-ASCII character is text (:data:`TAG_NAME`, :func:`html_as_read`). No HTML
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
changes: these run on output and on matching only.

In an HTML field the matcher's scanner (:func:`markup_spans`, read by
:func:`feedsvc.html_text.html_to_text`) is **the one reading of what is markup**, and
:func:`html_as_read` hands the feeds' cleaner the same reading, so feeds, pages, alerts and
matching show and match the same words (a summary whose text a reader could not see matched, or
newsroom text vanished from the feed while the matcher read it):

* a tag that nothing closes (``Nếu a<b thì c``: no ``>`` after ``<b``, outside quotes) is text;
  html5ever dropped it and everything after it;
* an element no HTML vocabulary names is an unknown inline element whose text shows (a browser
  shows ``<not>…</not>``'s words): ammonia removed the content of every name MathML or SVG use
  (``<not>``, ``<text>``, ``<set>``, ``<list>``, ``<max>``, ``<g>``… some 200) outside ``<math>``
  or ``<svg>``, so :func:`html_as_read` writes such a tag as a custom element (``<x-not>``);
* :data:`HIDDEN_CONTENT`: the elements whose content no reader sees, dropped by both, up to
  their end tag; a start tag that no end tag of its element follows is text (a journalist's
  ``Cách chặn thẻ <script> trên trang`` or ``Lỗi <title> khiến trang trắng``, in a title or a
  plain-text summary: a parser hid every word after it in feeds, pages, alerts and matching), as
  is a :data:`RAW_TEXT` start tag nothing closes (``<textarea>``, ``<xmp>``, ``<plaintext>``);
  but not an embed's start tag with attributes (``<iframe src=x>``, ``<video controls>``): a
  CMS's embed, hidden with its fallback as a browser hides it (:mod:`feedsvc.markup_fallback`).
* an address in angle brackets (``<banbientap@baohp.vn>``, ``<https://x.vn/a>``: :data:`_AUTOLINK`)
  is text, not an unknown element a browser hides: what plain text and Markdown mean by it.

Whether a summary or body is HTML at all is :func:`has_markup`: only with a comment (or doctype,
CDATA, processing instruction), a tag of a known element or an end tag; a body whose only tags
are start tags of no element (``<tin nóng>``, ``<banbientap>``) is plain text, its ``<``
characters, its line breaks line breaks.

Pure, no imports beyond ``re``, :mod:`feedsvc.markup_fallback` and :mod:`feedsvc.markup_ends`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from feedsvc.markup_ends import HTML_SPACE as HTML_SPACE
from feedsvc.markup_ends import Ends, HiddenEnds
from feedsvc.markup_fallback import FALLBACK, TREE_FALLBACK, fallback_end, has_attributes

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

#: Elements whose content no reader sees, dropped with it by the feeds' cleaner and the matcher
#: alike: scripts and styles; ``template`` (inert); ``noscript`` (a lazy-loading page's fallback
#: ``<img>``, which html5ever reads as raw text, shown as literal markup); a pasted page's
#: ``title``; an ``iframe``'s, ``noembed``'s and ``noframes``' raw text and the fallback of
#: ``video``, ``audio`` and ``canvas`` ("Trình duyệt không hỗ trợ video": shown by no current
#: browser); a ``datalist`` (never rendered); ``svg`` and ``math``, which a feed cannot carry
#: (the cleaner allows neither) and whose text read flat misleads (``x<sup>2</sup>``'s MathML
#: read "x2"). Not ``head``: in a fragment a browser ignores the tag and shows what it holds.
HIDDEN_CONTENT = frozenset(
    {
        "audio", "canvas", "datalist", "iframe", "math", "noembed", "noframes", "noscript",
        "script", "style", "svg", "template", "title", "video",
    }
)  # fmt: skip

#: Elements whose content an HTML parser reads as text up to their end tag (raw text, not
#: markup): a ``<textarea>`` or ``<xmp>`` nothing closes took the rest of a feed's HTML as one
#: text, its markup shown as written, and ``<plaintext>`` has no end tag at all.
RAW_TEXT = frozenset({"plaintext", "textarea", "xmp"})

#: The start tags that are text when no end tag of theirs follows (:func:`markup_spans`): a
#: journalist's ``Cách chặn thẻ <script> trên trang`` or ``Lỗi <title> khiến trang trắng`` in a
#: title or plain-text summary is words, where a parser hides (or reads raw) all that follows.
_READ_TO_END_TAG = HIDDEN_CONTENT | RAW_TEXT

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
ESCAPED_LT = "&lt;"
#: An embed's start tag in a text field (:data:`feedsvc.markup_fallback.FALLBACK`): one nothing
#: closes is text there, with or without attributes (``Lỗi <video controls> khi tua``), where in
#: an HTML field one with attributes hides what follows (:func:`markup_spans`).
_FIELD_EMBED = re.compile(rf"<({'|'.join(sorted(FALLBACK))})(?![^{HTML_SPACE}/>])", re.I)


def field_literals(text: str) -> str:
    """``text`` of a text field (title, section, author, tag) as the HTML it means: every
    ``<`` that does not begin markup by the text-field rule written ``&lt;``; unchanged (no
    copy) without a ``<``, the common case."""
    if "<" not in text:
        return text
    text = _FIELD_LITERAL.sub(ESCAPED_LT, text)
    if _FIELD_EMBED.search(text) is None:
        return text
    ends = HiddenEnds(text)  # an embed nothing closes is text here: a headline keeps its words
    return _FIELD_EMBED.sub(
        lambda m: m[0] if ends.end(m[1].lower(), m.end()) >= 0 else ESCAPED_LT + m[1], text
    )


def html_as_read(fragment: str) -> str:
    """``fragment`` of an HTML field (summary, body) written so that an HTML parser (nh3, the
    feeds' cleaner) reads in it what the matcher reads (:func:`markup_spans`), and nothing else:

    * every ``<`` of the text that a parser could take for markup written ``&lt;`` (a tag with
      a non-ASCII name, ``<Số đỏ>``; a tag nothing closes, ``a<b thì c``, which html5ever
      dropped with all that followed; a ``<`` before what was cut out);
    * comments, doctypes, CDATA, processing instructions and every :data:`HIDDEN_CONTENT`
      element taken out, tags and content (a self-closed ``<iframe … />`` holds nothing, where
      html5ever hid all that followed it);
    * every tag of an element no HTML vocabulary names written as a custom element (``<not>``
      is ``<x-not>``: ammonia drops what a MathML or SVG name holds, a browser shows it).

    Unchanged (no copy) without a ``<``, the common case, or when nothing needs writing."""
    if "<" not in fragment:
        return fragment
    out: list[str] = []
    pos = 0  # copied up to here
    text = 0  # the text since the last markup starts here
    for start, end, name, closing in markup_spans(fragment):
        if name is not None and name in KNOWN_ELEMENTS and name not in HIDDEN_CONTENT:
            if _TEXT_LT.search(fragment, text, start) is None:
                text = end
                continue  # a tag read as it is: copied later with what precedes it
            custom = False
        else:
            custom = name is not None and name not in KNOWN_ELEMENTS
        out.append(fragment[pos:text])
        out.append(_TEXT_LT.sub(ESCAPED_LT, fragment[text:start]))
        if custom:
            at = start + 1 + closing  # after "<" or "</"
            out.append(fragment[start:at] + _CUSTOM + fragment[at:end])
        elif name is not None and name not in HIDDEN_CONTENT:
            out.append(fragment[start:end])
        pos = text = end
    if _TEXT_LT.search(fragment, text) is not None:
        out.append(fragment[pos:text])
        out.append(_TEXT_LT.sub(ESCAPED_LT, fragment[text:]))
        pos = len(fragment)
    if not out:
        return fragment
    out.append(fragment[pos:])
    return "".join(out)


def has_markup(fragment: str) -> bool:
    """Whether a summary or body is HTML at all: **the one test of a plain-text summary or
    body** (SPEC §3: a summary may be plain text), for the feeds (:mod:`feedsvc.feeds.sanitize`),
    the plain alerts and the matcher (:func:`feedsvc.html_text.html_to_text`) alike. HTML when
    :func:`markup_spans` finds a comment, doctype, CDATA or processing instruction, a tag of a
    known HTML element (:data:`KNOWN_ELEMENTS`, the text fields' vocabulary) or an end tag (no
    plain text writes ``</o:p>``, ``</not>``: a CMS's or Word's own elements); read by HTML's
    rules then, where an unknown tag is still markup. Plain text otherwise — no ``<``, ``<``
    that begin no markup (``Giá rau < 10.000``, ``<3``, ``a<b thì c``, ``<Số đỏ>``), or only
    start tags of no element (``Liên hệ <banbientap> ngay``, ``<tin nóng>``; an address in
    angle brackets is no tag, :data:`_AUTOLINK`: a re-tester's R4, the address vanished and
    the paragraphs merged) —, whose ``<`` are characters and whose
    line breaks are line breaks (a tester's T2: "Giá rau < 10.000 đồng/kg.\n\nNgười dân…" was
    one paragraph in feeds and one line in alerts). Linear; stops at the first such markup."""
    if "<" not in fragment:
        return False
    return any(
        name is None or closing or name in KNOWN_ELEMENTS
        for _, _, name, closing in markup_spans(fragment)
    )


#: A ``<`` in text that an HTML parser could read as the start of markup: a letter, ``/``,
#: ``!`` or ``?`` after it, or the end of the text before markup taken out.
_TEXT_LT = re.compile("<(?=[a-zA-Z/!?]|\\Z)")
#: What makes an unknown element's name a custom element's (never an HTML, SVG or MathML name).
_CUSTOM = "x-"

_TAGS = rf"<(/?)({TAG_NAME})(?:[^<>\"']++|\"[^\"<]*+\"|'[^'<]*+')*+(>)?"
_MARKUP_RE = re.compile(
    # a comment: up to "-->" or "--!>" (``<!-->`` and ``<!--->`` end where they begin, as in
    # html5ever and browsers); one that reaches the end unterminated is text (a journalist's
    # "<!--" hid the rest, a verifier's; browsers run it to the end): :func:`markup_spans`
    r"<!--(?:-?>|.*?(?:--!?>|\Z))"
    r"|<[!?][^>]*+(?:>|\Z)"  # doctype, CDATA, processing instruction: not text
    # start or end tag; group 3 is its ">" when found before any "<" outside quotes
    rf"|{_TAGS}",
    re.S,
)
#: :data:`_MARKUP_RE` after an unterminated comment: no later "<!--" is a comment either (none
#: has an end after it), and none is looked at again (linear however many there are)
_MARKUP_NO_COMMENT_RE = re.compile(rf"<(?!!--)[!?][^>]*+(?:>|\Z)|{_TAGS}", re.S)
#: a comment's end, as :data:`_MARKUP_RE` reads it
_COMMENT_END = re.compile("--!?>\\Z")

#: A start tag that is an address written in angle brackets, as plain text and Markdown write
#: one (``<banbientap@baohp.vn>``, ``<mailto:a@b.vn>``, ``<https://x.vn/a>``): text in an HTML
#: field too (:func:`markup_spans`), where a browser hid the address. A URL needs its ``//``
#: (``<st1:place>``, ``<o:p>``, Word's namespaced tags, stay markup).
_AUTOLINK = re.compile(
    rf"<(?:[A-Za-z][A-Za-z0-9+.-]{{1,31}}://[^{HTML_SPACE}<>\"']*+"
    r"|(?:mailto:)?[A-Za-z0-9.!#$%&*+/=?^_`{|}~-]++@[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)++)>"
)

#: One piece of markup in :func:`markup_spans`: start, end, the tag's name in lower case (None
#: for a comment, doctype, CDATA, processing instruction or a hidden element's content), and
#: whether it is an end tag (1) or not (0).
Span = tuple[int, int, str | None, int]


def markup_spans(
    markup: str, at: int = 0, embeds: bool = True, ends: Ends | None = None
) -> Iterator[Span]:
    """The markup in an HTML field, in order; what lies between is text. Never raises, linear in
    the markup's size whatever it holds (a body is hostile input: up to 2 MB at ingest).

    A tag is a ``<`` or ``</``, a :data:`TAG_NAME`, then up to ``>`` outside quoted values; one
    that reaches no ``>`` is text (:class:`~feedsvc.markup_ends.TagEnds`). The content of a
    :data:`HIDDEN_CONTENT` element, up to its end tag and that tag's ``>``, is one span named
    None; a self-closed ``<script/>`` has none. A hidden or :data:`RAW_TEXT` start tag that no
    complete end tag of its element follows (``</script>``, ``</SCRIPT >``; not ``</script``
    at the end) is text, not markup (:class:`~feedsvc.markup_ends.HiddenEnds`), except an
    embed's with attributes (``<iframe src=x>``, ``<video controls>``), whose content ends
    where a browser ends it (:mod:`feedsvc.markup_fallback`; ``embeds=False``, its scan of
    that content: a video's there is an open element, never scanned again). ``at``: where to
    begin (after a start tag); ``ends``: the document's caches, shared by its scans
    (:mod:`feedsvc.markup_ends`)."""
    n = len(markup)
    if ends is None:
        ends = Ends(markup)
    markup_re = _MARKUP_RE
    while at < n:
        m = markup_re.search(markup, at)
        if m is None:
            return
        end = m.end()
        if (
            end == n
            and markup.startswith("<!--", m.start())
            and not _COMMENT_END.search(markup, max(m.start(), n - 4))
        ):  # an unterminated comment: its "<" is text, and every later "<!--" too
            markup_re = _MARKUP_NO_COMMENT_RE
            at = m.start() + 1
            continue
        name = m.group(2)
        if name is not None and m.group(3) is None:  # not closed yet: walk on to its ">"
            end = ends.tags.end(end)
            if end < 0:  # none: this "<" is text
                at = ends.tags.skip(m.start() + 1)
                continue
        at = end
        if name is None:
            yield m.start(), end, None, 0
            continue
        name = name.lower()
        closing = 1 if m.group(1) else 0
        if not closing and _AUTOLINK.fullmatch(markup, m.start(), end):
            continue  # an address in angle brackets: text (at is past it already)
        if name in _READ_TO_END_TAG and not closing:
            if name in HIDDEN_CONTENT and markup[end - 2] == "/":
                yield m.start(), end, name, closing  # ``<script/>``: holds nothing
                continue
            after = ends.hidden.end(name, end)
            if after < 0 and name in FALLBACK and has_attributes(markup[m.end(2) : end]):
                after = n  # an embed the CMS left open: hidden as a browser hides it
                if name in TREE_FALLBACK and not embeds:  # inside another's fallback: an
                    yield m.start(), end, name, closing  # element open there, read on
                    continue
                if name in TREE_FALLBACK:
                    after = fallback_end(markup_spans(markup, end, False, ends), n)
            if after < 0:  # nothing closes it: a journalist's "Lỗi <script> khiến…" is text
                continue
            yield m.start(), end, name, closing
            if name in HIDDEN_CONTENT:
                yield end, after, None, 0
                at = after
            continue
        yield m.start(), end, name, closing
