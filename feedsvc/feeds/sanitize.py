"""Make article text safe to put into a feed.

Two different dangers are handled here:

* **XML well-formedness.** XML 1.0 forbids most C0 control characters, lone surrogates and
  U+FFFE/U+FFFF; one such character in a CMS field makes feedgen raise for the whole feed (or,
  worse, emit a document no reader parses). :func:`xml_clean` removes them from *every* string
  before it reaches a serialiser.
* **Hostile or sloppy HTML.** Article bodies are shown by feed readers, some of which render
  them with little sandboxing. :func:`sanitize_html` runs them through nh3 (Rust ammonia, an
  allow-list sanitiser): scripts and styles are dropped with their content, event-handler and
  style attributes are dropped, only ``http``/``https``/``mailto``/``tel`` URLs survive (no
  ``javascript:``, no ``data:``), and relative URLs are made absolute against the article URL
  because a feed reader has no base URL to resolve them against. A lazy-loaded image gets its
  real source from its ``data-src``-style attribute, or is dropped (:mod:`.images`).
"""

from __future__ import annotations

import html
import re
from contextvars import ContextVar
from urllib.parse import quote, urljoin, urlsplit

import idna
import nh3

from feedsvc.bidi import class_without_bidi
from feedsvc.blank_text import shows_nothing
from feedsvc.feeds.images import LAZY_ATTRS, SRCSET_ATTRS, first_candidate, settle_images
from feedsvc.feeds.paragraphs import paragraphs, separators_as_breaks
from feedsvc.feeds.words import feed_words
from feedsvc.graphemes import prefix
from feedsvc.html_text import html_to_text
from feedsvc.line_breaks import as_newlines
from feedsvc.markup import HIDDEN_CONTENT, field_literals, has_markup, html_as_read
from feedsvc.url_chars import stored_url
from feedsvc.url_credentials import without_userinfo

# Everything outside the XML 1.0 ``Char`` production (C0 controls but tab/LF/CR, lone
# surrogates, U+FFFE/U+FFFF), plus C1 controls, DEL and the other noncharacters (U+FDD0..U+FDEF,
# U+nFFFE/U+nFFFF): allowed or merely "discouraged" by XML, never meaningful in text, flagged by
# validators, and some readers' parsers refuse them.
_PLANES = "".join(f"{chr(plane << 16)}-{chr((plane << 16) | 0xFFFD)}" for plane in range(1, 17))
_XML_ILLEGAL = re.compile(
    "[^\u0009\u000a\u000d\u0020-\u007e\u00a0-\ud7ff\ue000-\ufdcf\ufdf0-\ufffd" + _PLANES + "]"
)
# What :func:`xml_clean` removes from text: those, and the bidirectional embedding, override
# and isolate controls (:mod:`feedsvc.bidi`: a U+202E reversed the rest of an article's title
# in feed readers, pages and chat alerts, tester F14; the admin refuses them in typed text).
_UNSHOWN = re.compile(
    "[^\u0009\u000a\u000d\u0020-\u007e"
    + class_without_bidi(0xA0, 0xD7FF)
    + "\ue000-\ufdcf\ufdf0-\ufffd"
    + _PLANES
    + "]"
)
# Of those, the ones text uses as separators (Word's vertical tab for a manual line break, form
# feed, the information separators, NEL): a space, so "vàng\vtăng" does not become "vàngtăng".
_SEPARATORS = re.compile("[\x0b\x0c\x1c-\x1f\x85]")

#: Bodies longer than this (in characters, before sanitising) are cut and get a "read more"
#: link: a 2 MB body is an export accident, and 200 such items would make a 400 MB feed.
MAX_HTML_CHARS = 100_000

#: URL-valued attributes that we resolve against the article URL.
_URL_ATTRS = frozenset({"href", "src", "cite"})

#: ``tel:`` too: a newspaper's hotline ("Đường dây nóng: <a href="tel:0225…">") is a link a
#: reader taps on a phone, and runs nothing.
_URL_SCHEMES = {"http", "https", "mailto", "tel"}
_HTTP = ("http://", "https://")
_SAFE_PREFIXES = ("http://", "https://", "mailto:", "tel:")
# RFC 3986 reserved + unreserved characters and "%": everything else gets percent-encoded.
_URI_SAFE = ":/?#[]@!$&'()*+,;=-._~%"
_URI_CHARS = re.compile(r"[A-Za-z0-9:/?#\[\]@!$&'()*+,;=\-._~%]*\Z")
# An absolute http(s) URI that needs no work: plain host (IPv6 literals take the slow path,
# which validates them) and only URI characters after it. No ``@`` before the path: a user name
# and password take the slow path, which drops them (:mod:`feedsvc.url_credentials`; a body's
# ``<a href="https://u:p@…">`` was published as it was).
_CLEAN_ABSOLUTE = re.compile(
    r"https?://[A-Za-z0-9\-._~%!$&'()*+,;=:]+"
    r"(?:[/?#][A-Za-z0-9:/?#\[\]@!$&'()*+,;=\-._~%]*)?\Z"
)

# The scheme and authority of a URL that ``_CLEAN_ABSOLUTE`` accepted (cheaper than urlsplit,
# which the render path would otherwise call several times per article).
_ORIGIN = re.compile(r"https?://[^/?#]+")


def xml_clean(text: str) -> str:
    """``text`` with only characters every XML 1.0 reader takes as text, and no bidirectional
    embedding, override or isolate control (:mod:`feedsvc.bidi`).

    Separator controls become a space, every other illegal or discouraged character (controls,
    lone surrogates, noncharacters, U+202A–E, U+2066–9) is removed. This is the one cleaner of
    the feed, page and alert outputs (``notify.message``, ``channels.plain`` and the pages
    clean with it): apply it to anything that reaches a serialiser, *after* any entity decoding
    (``&#11;`` decodes to a vertical tab, ``&#x202E;`` to RLO). The direction marks LRM/RLM
    stay: mixed-direction text needs them, and they reverse nothing. Cheap on clean input: one
    regex search, no copy.
    """
    if _UNSHOWN.search(text) is None:
        return text
    return _UNSHOWN.sub("", _SEPARATORS.sub(" ", text))


def xml_legal(text: str) -> str:
    """:func:`xml_clean` for markup handed to the HTML sanitiser (:func:`sanitize_html`): only
    what XML cannot hold goes (a lone surrogate nh3 cannot take, a noncharacter), a bidi
    control stays for the sanitiser's own pass. Never for an identifier: deleting makes two
    keys one (``feeds.model.article_guid`` percent-encodes instead)."""
    if _XML_ILLEGAL.search(text) is None:
        return text
    return _XML_ILLEGAL.sub("", _SEPARATORS.sub(" ", text))


def link_url(url: str) -> str:
    """A stored URL as every output writes it into a link (feeds and reader pages through
    :func:`absolute_url`, the Telegram, Zalo/Apprise and digest texts, the admin's and the JSON
    API's ``url``): the form ingest stores now (:func:`feedsvc.url_chars.stored_url`: a bidi
    control, LRM, ZWSP… percent-encoded, never deleted — deleted, ``https://x.vn/\u202e/a``
    linked to ``https://x.vn//a``, another page), then :func:`xml_clean` for what no URL
    stored may hold and no XML document can (a C0 control: removed, a separator a space, as
    before) and the ends stripped. One row stored before ingest encoded them links to the
    same page in every output."""
    return xml_clean(stored_url(url)).strip()


def absolute_url(url: str, base: str) -> str | None:
    """``url`` resolved against ``base`` as a URI; None unless the result is http(s).

    Characters that are not allowed in a URI (spaces, ``<``, non-ASCII letters of a Vietnamese
    slug) are percent-encoded, as RSS and Atom require URIs, not IRIs.
    """
    resolved = _resolve(url, base)
    return resolved if resolved is not None and resolved.lower().startswith(_HTTP) else None


def _resolve(url: str, base: str) -> str | None:
    """Join and percent-encode (:func:`link_url` first: an invisible character encoded, never
    deleted); the common shapes skip ``urljoin`` (the render hot spot)."""
    url = link_url(url)
    if _CLEAN_ABSOLUTE.match(url):
        return url  # already an absolute http(s) URI: by far the most common case
    base = link_url(base)
    try:
        origin = _origin(base) if url.startswith("/") and not url.startswith("//") else ""
        joined = origin + url if origin else urljoin(base, url)
    except ValueError:  # e.g. a broken IPv6 literal "http://[::1"
        return None
    if not _URI_CHARS.match(joined):
        joined = quote(_ascii_host(joined), safe=_URI_SAFE)
    # the rule once more on what is published: a join or the encoding can make userinfo of
    # what was none to urllib (``//u:p@cdn`` against the page; ``\\`` written ``%5C``)
    return without_userinfo(joined)


def _ascii_host(url: str) -> str:
    """``url`` with a non-ASCII host name in IDNA (UTS #46, punycode: ``ví-dụ.vn`` is
    ``xn--v-d-rma6749a.vn``), as RFC 3987 §3.1 maps an IRI's host to a URI; percent-encoded
    like the path, it named a host no resolver finds. Left as it is when it is no valid name
    (then percent-encoded with the rest)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        if host is None or host.isascii():
            return url
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (ValueError, UnicodeError, idna.IDNAError):
        return url
    userinfo, at, hostport = parts.netloc.rpartition("@")
    port = hostport.rpartition(":")[2] if parts.port is not None else ""
    netloc = f"{userinfo}{at}{ascii_host}{':' + port if port else ''}"
    return parts._replace(netloc=netloc).geturl()


# The article URL being sanitised against, for the shared cleaner's attribute filter. A
# ContextVar keeps concurrent sanitising (threads, tasks) from seeing each other's base.
_BASE: ContextVar[tuple[str, str]] = ContextVar("_BASE", default=("", ""))


def _filter_attribute(tag: str, attr: str, value: str) -> str | None:
    """nh3 callback: make URL attributes absolute; drop any that cannot be made safe.

    An image's lazy-loading attributes (:mod:`.images`) are URL attributes too, reduced to one
    URL (a ``srcset`` to its first candidate) so :func:`settle_images` can pick among them.
    """
    if tag == "img" and (attr == "src" or attr in LAZY_ATTRS):
        return _image_url(attr, value)
    return _filter_url(value) if attr in _URL_ATTRS else value


def _image_url(attr: str, value: str) -> str | None:
    """An image address: absolute http(s) only (``mailto:`` is no image, ``data:`` never passes),
    and never from an empty value, which would resolve to the article page itself."""
    if attr in SRCSET_ATTRS:
        value = first_candidate(value)
    if not value.strip():
        return None
    url = _filter_url(value)
    return url if url is not None and url.lower().startswith(_HTTP) else None


def _filter_url(value: str) -> str | None:
    """An absolute safe URL for a URL attribute's ``value``, or None to drop the attribute."""
    if _CLEAN_ABSOLUTE.match(value):
        return value
    base, origin = _BASE.get()
    if origin and value.startswith("/") and not value.startswith("//") and _URI_CHARS.match(value):
        return origin + value  # site-relative path: the next most common case
    resolved = _resolve(value, base)
    # Only absolute safe URLs survive: a reader has no base to resolve anything else with.
    safe = resolved is not None and resolved.lower().startswith(_SAFE_PREFIXES)
    return resolved if safe else None


# Built once: nh3.clean() would rebuild the allow-lists on every call.
#: Elements dropped with their content: :data:`feedsvc.markup.HIDDEN_CONTENT`, what no reader
#: sees, which the matcher skips too.
_DROPPED_WITH_CONTENT = set(HIDDEN_CONTENT)

#: Block elements nh3 does not allow by default, kept (harmless, attributes filtered as any
#: tag's): stripped, ``<section>Hà Nội</section><section>Kiến An</section>`` read "Hà NộiKiến An"
#: in the feed. ``form``, ``dialog`` (hidden unless open) and ``option`` are still stripped.
_BLOCKS = {"address", "dir", "fieldset", "main", "menu", "section", "tfoot"}

_CLEANER = nh3.Cleaner(
    tags=nh3.ALLOWED_TAGS | _BLOCKS,
    clean_content_tags=_DROPPED_WITH_CONTENT,
    attributes={**nh3.ALLOWED_ATTRIBUTES, "img": nh3.ALLOWED_ATTRIBUTES["img"] | LAZY_ATTRS},
    url_schemes=_URL_SCHEMES,
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel="noopener noreferrer",
)


def _origin(url: str) -> str:
    """``https://host[:port]`` of a clean absolute URL, else "" (then urljoin does the work)."""
    if not _CLEAN_ABSOLUTE.match(url):
        return ""
    found = _ORIGIN.match(url)
    return found.group(0) if found else ""


def sanitize_html(
    fragment: str, base_url: str, max_chars: int = MAX_HTML_CHARS, language: str = "vi"
) -> str:
    """Safe, self-contained HTML for a feed item's content.

    ``base_url`` is the article URL: relative links and image sources are resolved against it.
    A fragment longer than ``max_chars`` is truncated (nh3 re-balances the cut markup) and ends
    with a link to the full article, worded in ``language`` (:mod:`feedsvc.feeds.words`).
    """
    # Plain text (some CMS exports, a summary: SPEC §3) is one with no markup, by the one rule
    # the matcher reads it by (:func:`feedsvc.markup.has_markup`): a "<" alone is no markup
    # ("Giá rau < 10.000" lost its paragraphs, a tester's T2). Its line breaks are made "\n"
    # before ``xml_legal`` makes a VT or NEL a space; a U+2029 parts paragraphs.
    plain = not has_markup(fragment)
    if plain:
        fragment = as_newlines(fragment.replace("\u2029", "\n\n"))
    # Only what nh3 cannot take goes before it (lone surrogates: ``xml_legal``); a bidi control
    # stays until after, so a link's address holding one is percent-encoded (``_filter_url``,
    # :func:`link_url`), not linked to another page, while the text loses it as before.
    text = xml_legal(fragment)
    truncated = len(text) > max_chars
    if truncated:  # between grapheme clusters: never half a flag before the "read on" link
        text = prefix(text, max_chars)
    if plain:  # keep its paragraphs and line breaks
        text = paragraphs(xml_clean(text))
        if "&" not in text and not truncated:
            return text  # nothing for the parser to clean
    text = html_as_read(text)  # the markup the matcher reads, no other (feedsvc.markup)
    token = _BASE.set((base_url, _origin(base_url)))
    try:
        # Cleaned twice: before, because nh3 cannot take lone surrogates; after, because it
        # decodes character references (``&#11;``, ``&#xFFFE;``) into the characters themselves.
        cleaned = separators_as_breaks(settle_images(xml_clean(_CLEANER.clean(text))))
    finally:
        _BASE.reset(token)
    if truncated:
        link = html.escape(base_url, quote=True)
        cleaned += f'<p><a href="{link}">{feed_words(language).read_more} …</a></p>'
    return cleaned


def field_text(value: str) -> str:
    """Visible text of a one-line CMS text field (title, section, author, tag): as
    :func:`plain_text`, but a ``<`` that begins no known markup is the character itself
    (:func:`feedsvc.markup.field_literals`): ``Sách <Số đỏ> tái bản`` keeps ``<Số đỏ>``, while
    ``<b>Bão</b> số 3`` reads ``Bão số 3``."""
    return plain_text(field_literals(xml_clean(value)))


def shown_title(title: str, untitled: str = "") -> str:
    """**The one rule for an article's title as people see it**: its visible text
    (:func:`field_text`: ``&amp;`` and ``&quot;`` decoded, ``<b>`` dropped, ``<Số đỏ>`` kept),
    else ``untitled`` (the words of the surface: the feeds' and pages' "(Untitled)"). The feeds,
    the reader pages, the admin's lists and preview samples and the API's ``article_title``
    show it; an editor saw ``Ban Quản lý &amp; Điều hành`` where readers saw ``&``. The stored
    title stays as the CMS wrote it (the API's article ``title``, SPEC §9)."""
    return field_text(title) or untitled


def plain_text(fragment: str, max_chars: int | None = None) -> str:
    """Visible text of an HTML fragment (or of plain text), whitespace collapsed.

    The matcher's reading (:func:`feedsvc.html_text.html_to_text`: one reading of what an
    article shows, so an alert or excerpt never lacks a word the article matched on, nor holds
    one it did not): block elements are spaces, "<p>a</p><p>b</p>" reads "a b", not "ab";
    what no reader sees (:data:`feedsvc.markup.HIDDEN_CONTENT`) is dropped, a ``<`` that
    begins no markup (``<Số đỏ>``, a tag nothing closes) is text. ``max_chars`` shortens at a
    word boundary and appends an ellipsis. For a title or other text field use
    :func:`field_text`.

    Only the first :data:`MAX_HTML_CHARS` characters are read, as :func:`sanitize_html` reads
    them: every caller shows at most a few thousand (an excerpt, an alert's summary, a field).
    """
    text = xml_clean(fragment[:MAX_HTML_CHARS])
    if "<" in text or "&" in text:  # plain text skips the HTML scan
        text = xml_clean(html_to_text(text))  # &#1; may decode to an illegal character
    # whitespace collapsed and trimmed: str.split()'s whitespace is re's ``\s`` (checked for
    # every code point in the tests), 3x faster than ``re.sub(r"\s+", " ", text).strip()``
    # over a body of a few MB whose excerpt is wanted
    text = " ".join(text.split())
    if max_chars is not None and len(text) > max_chars:
        start = prefix(text, max_chars)  # whole clusters: never half a flag or a mark
        cut = start.rsplit(" ", 1)[0] or start
        text = cut.rstrip(" ,.;:") + "…"
    return text


def plain_lines(fragment: str) -> str:
    """Visible text of a summary or body for plain-text messages (Zalo, Apprise): as
    :func:`plain_text`, but each paragraph, block element and ``<br>`` begins a new line.

    Why: "<p>Đoạn 1</p><p>Đoạn 2</p>" read "Đoạn 1 Đoạn 2", paragraphs run together in every
    plain-text alert. One line break per boundary (``<br><br>`` or ``</p><p>`` is one; a line
    that shows nothing, ``<p>&nbsp;</p>``, is dropped), whitespace inside a line collapsed. A
    text with no markup (:func:`feedsvc.markup.has_markup`: "Giá rau < 10.000" has none) keeps
    its own line breaks (:data:`feedsvc.line_breaks.LINE_BREAKS`: CR LF, VT, NEL, U+2028…), as
    :func:`sanitize_html` keeps them for feeds; in HTML a newline is whitespace (but in
    ``<pre>``, where a browser shows it), a U+2028/U+2029 a line break. Reads the first
    :data:`MAX_HTML_CHARS` characters, as :func:`plain_text`."""
    # the one reading (:func:`feedsvc.html_text.html_to_text`) of the text as the matcher reads
    # it, then cleaned: ``xml_clean`` first made a plain text's VT or NEL a space, no line break
    text = xml_clean(html_to_text(fragment[:MAX_HTML_CHARS]))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def shown_summary(summary: str | None) -> str | None:
    """``summary`` when a reader would see something of it, else None, so the body stands in.

    An emptied CMS field (``<p>&nbsp;</p>``, ``<br>``, a lone zero-width space, a BOM or a
    Hangul filler: :func:`feedsvc.blank_text.shows_nothing`) hid the body's words in alerts and
    left feed readers an empty summary. The one rule of feeds, reader pages and alerts."""
    if not summary or shows_nothing(plain_text(summary)):
        return None
    return summary
