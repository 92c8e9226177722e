"""The digest message: held alerts of one chat as one message, split only when the channel's
length limit forces it. Pure: entries in, message parts out.

Layout (Telegram HTML; the plain-text fallback says the same with the links spelled out)::

    <b>Tin tổng hợp · 5 tin</b>

    <b>Kiến Thụy</b>
    • <a href="…">Title</a> <i>10:34 15/12</i>
    • …
    <a href="…/topics/kien-thuy">Đọc tất cả »</a>

Groups (a topic, or the chat's own query) are ordered by their newest article, articles
newest first inside a group. An article sits in the first group it matched only: one line
per article. Lengths are budgeted in UTF-16 units of visible text (Telegram's unit, see
:func:`feedsvc.notify.message.utf16_len`), and the larger of the HTML's visible text and the
plain fallback counts, so either form fits ``limit``. Each part knows which deliveries it
carries: the dispatcher records a part as sent on its own (a crash between parts costs at most
that part once more, never the rest).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

from feedsvc.articles import Article
from feedsvc.feeds.links import article_link, spelled_link
from feedsvc.feeds.sanitize import link_url, xml_clean
from feedsvc.notify.message import (
    TEXT_LIMIT,
    TITLE_CAP,
    URL_CAP,
    AlertMessage,
    trim_utf16,
    utf16_len,
    visible_text,
)

_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class DigestGroup:
    """A heading of the digest: a topic's title and its reader page (None for a query)."""

    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class DigestEntry:
    delivery_id: int
    article: Article
    group: DigestGroup


@dataclass(frozen=True, slots=True)
class DigestWords:
    """The catalogue's words, so this module stays free of language state.
    ``heading`` has a ``{count}`` placeholder; ``continued`` marks parts after the first;
    ``part`` (``{part}``, ``{parts}``) follows the first line of each part of a digest sent in
    several, ``(2/3)``: a reader sees that more is coming, or that one is missing."""

    heading: str
    read_all: str
    continued: str
    part: str = "({part}/{parts})"
    #: the heading of a digest of exactly one article, in the language's form for 1 (English
    #: "Digest · 1 article": "1 articles" was said); None: ``heading``
    heading_one: str | None = None


@dataclass(frozen=True, slots=True)
class DigestPart:
    message: AlertMessage
    delivery_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Line:
    html: str
    plain: str
    delivery_id: int | None = None

    @property
    def cost(self) -> int:  # + the newline joining it to the next line
        return max(utf16_len(html_visible(self.html)), utf16_len(self.plain)) + 1


def html_visible(fragment: str) -> str:
    """What Telegram shows of our own HTML (tags dropped, entities decoded): the length unit."""
    return html.unescape(_TAG.sub("", fragment))


def _sorted_groups(entries: Sequence[DigestEntry]) -> list[list[DigestEntry]]:
    groups: dict[DigestGroup, list[DigestEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)
    for items in groups.values():
        items.sort(key=lambda e: (e.article.published_at, e.delivery_id), reverse=True)
    ordered = sorted(groups.values(), key=lambda items: items[0].group.title)
    ordered.sort(key=lambda items: items[0].article.published_at, reverse=True)
    return ordered


def _item(entry: DigestEntry, tz: tzinfo, *, with_link: bool = True) -> _Line:
    """An article's line; ``with_link=False`` leaves the spelled-out link out of the plain form
    (the HTML keeps it in ``href``, which Telegram does not count)."""
    url = article_link(entry.article.url)  # the one address of an article (feeds.links)
    title = trim_utf16(visible_text(entry.article.title) or url, TITLE_CAP)
    when = entry.article.published_at.astimezone(tz).strftime("%H:%M %d/%m")
    spelled = spelled_link(url)
    link = spelled if url and with_link and utf16_len(spelled) <= URL_CAP else ""
    shown = html.escape(title)
    linked = f'<a href="{html.escape(url)}">{shown}</a>' if url else shown
    return _Line(
        f"• {linked} <i>{when}</i>",
        f"• {title} ({when})" + (f"\n  {link}" if link else ""),
        entry.delivery_id,
    )


def _heading(group: DigestGroup) -> _Line:
    # a topic title or a query is plain text (not CMS HTML): shown as typed
    title = trim_utf16(" ".join(xml_clean(group.title).split()) or "?", TITLE_CAP)
    return _Line(f"\n<b>{html.escape(title)}</b>", f"\n{title}")


def _read_all(group: DigestGroup, words: DigestWords) -> _Line | None:
    if not group.url:
        return None
    url = link_url(group.url)
    return _Line(f'<a href="{html.escape(url)}">{html.escape(words.read_all)} »</a>',
                 f"{words.read_all}: {spelled_link(url)}")  # fmt: skip


class _Parts:
    """Accumulates lines into parts of at most ``limit`` units."""

    def __init__(self, header: _Line, continued: _Line, limit: int) -> None:
        self.limit, self.continued = limit, continued
        self.opening = max(header.cost, continued.cost)  # what any part starts with
        self.done: list[list[_Line]] = []
        self.lines = [header]
        self.size = header.cost

    def fits(self, *lines: _Line) -> bool:
        return self.size + sum(line.cost for line in lines) <= self.limit

    def fits_alone(self, *lines: _Line) -> bool:
        """Whether ``lines`` fit a part of their own, whichever part it is."""
        return self.opening + sum(line.cost for line in lines) <= self.limit

    def add(self, line: _Line) -> None:
        self.lines.append(line)
        self.size += line.cost

    def new_part(self, heading: _Line) -> None:
        self.done.append(self.lines)
        self.lines, self.size = [], 0
        self.add(self.continued)
        self.add(heading)

    def finish(self) -> list[list[_Line]]:
        return [*self.done, self.lines]


def format_digest(
    entries: Sequence[DigestEntry], tz: tzinfo, words: DigestWords, limit: int = TEXT_LIMIT,
    *, sent: int = 0,
) -> list[DigestPart]:  # fmt: skip
    """The digest of ``entries`` as one or more parts, each within ``limit`` UTF-16 units
    (Telegram text: 4096; Zalo's 2,000 characters, which UTF-16 units never undercount), split
    only between lines (an article's line, a heading, a "read all" link: never inside a link or
    an entity). Several parts are numbered on their first line, ``(1/3)``, ``(tiếp) (2/3)``.
    ``sent``: parts of this digest already sent (a re-check before a later part left articles
    out, :mod:`feedsvc.digest.sending`): ``entries`` are the rest, kept in the order they were
    planned, laid out as the parts after those, each opened ``(tiếp)`` and numbered from
    ``sent + 1`` of the total now (``(1/3)`` went, then ``(tiếp) (2/2)``: the last part says it
    is the last). Empty ``entries`` → no parts. Raises ValueError for a ``limit`` too small to
    hold one line (below ~700 units)."""
    if not entries:
        return []
    count = len({e.delivery_id for e in entries})
    groups = _planned_groups(entries) if sent else _sorted_groups(entries)
    lines = [] if sent else _split(groups, tz, words, limit, count, None, sent)
    digits = len(str(sent + 1))
    while (
        sent or len(lines) > 1
    ):  # numbered: the numbers' width budgeted before the parts are known
        widest = words.part.format(part="9" * digits, parts="9" * digits)
        numbered = _split(groups, tz, words, limit, count, widest, sent)
        total = sent + len(numbered)
        if len(str(total)) <= digits:
            lines = numbered
            for n, part in enumerate(lines, sent + 1):
                part[0] = _opening(words, n, count, words.part.format(part=n, parts=total))
            break
        digits = len(str(total))
    return [_part(part) for part in lines]


def format_part(
    entries: Sequence[DigestEntry], tz: tzinfo, words: DigestWords, limit: int = TEXT_LIMIT,
    *, part: int, parts: int, count: int,
) -> list[DigestPart]:  # fmt: skip
    """Part ``part`` of a digest sent in ``parts`` messages, laid out again from ``entries``
    (its articles, listed as a digest lists them): an edit once the rest of its digest shrank
    or one of its own articles changed. Its first line is the one its place opens with now —
    part 1 the heading with the digest's ``count`` then ``(1/N)``, a later part ``(tiếp)
    (2/N)`` —, its article lines as :func:`format_digest` writes them. A digest now of one
    part (``parts`` 1) is :func:`format_digest` of ``entries``: no number, their count.
    Usually one part: the numbers and the count never grow after the send, and every part's
    lines were fitted with the widest number and the last group's "read all" link; more than
    one part (a topic renamed longer since) means the message no longer fits one (its caller
    leaves it as it is). Empty ``entries`` → no parts."""
    if not entries:
        return []
    if parts <= 1:
        return format_digest(entries, tz, words, limit)
    number = words.part.format(part=part, parts=parts)
    lines = _split(_sorted_groups(entries), tz, words, limit, count, number, part - 1)
    return [_part(lines_of) for lines_of in lines]


def _planned_groups(entries: Sequence[DigestEntry]) -> list[list[DigestEntry]]:
    """``entries`` grouped as they come (a group where it first appears), order kept: the rest
    of a digest keeps the order its first parts were read in."""
    groups: dict[DigestGroup, list[DigestEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)
    return list(groups.values())


def _opening(words: DigestWords, part: int, count: int, number: str | None) -> _Line:
    """A part's first line: the heading on the first, ``continued`` on the others, then the
    part's ``number`` (``(2/3)``) if any."""
    heading = words.heading_one if count == 1 and words.heading_one else words.heading
    text = heading.format(count=count) if part == 1 else words.continued
    if number is not None:
        text = f"{text} {number}"
    tag = "b" if part == 1 else "i"
    return _Line(f"<{tag}>{html.escape(text)}</{tag}>", text)


def _split(
    groups: Sequence[Sequence[DigestEntry]],
    tz: tzinfo,
    words: DigestWords,
    limit: int,
    count: int,
    number: str | None,
    sent: int = 0,
) -> list[list[_Line]]:
    """The digest's lines in parts within ``limit``; each part's first line budgeted with the
    ``number`` (``(99/99)``: the widest the parts may need; None: no number),
    :func:`format_digest` writes the real one; the first opens ``continued`` too after ``sent``
    parts."""
    opening = _opening(words, 2 if sent else 1, count, number)
    parts = _Parts(opening, _opening(words, 2, count, number), limit)
    for items in groups:
        group = items[0].group
        heading, tail = _heading(group), _read_all(group, words)
        reserve = [tail] if tail else []
        for i, entry in enumerate(items):
            line = _item(entry, tz)
            if not parts.fits_alone(heading, line, *reserve):
                # a URL under URL_CAP yet longer than a 2,000-unit part (Zalo, Apprise) has room
                # for: its line goes without it, as a plain alert does (``channels.plain``),
                # rather than raise and leave the chat's digest (and the claim) failing forever
                line = _item(entry, tz, with_link=False)
            first = [heading] if i == 0 else []
            if not parts.fits(*first, line, *reserve):
                parts.new_part(heading)
                if not parts.fits(line, *reserve):
                    raise ValueError(f"digest limit {limit} cannot hold one article line")
            elif first:
                parts.add(heading)
            parts.add(line)
        if tail:
            parts.add(tail)
    return parts.finish()


def _part(lines: list[_Line]) -> DigestPart:
    text = "\n".join(line.html for line in lines)
    plain = "\n".join(line.plain for line in lines)
    ids = tuple(line.delivery_id for line in lines if line.delivery_id is not None)
    return DigestPart(AlertMessage(text=text, plain_text=plain), ids)
