"""Where digests meet the outbox: holding, claiming, decorating and recording, for the
dispatcher (:mod:`feedsvc.dispatch`). SQL in :mod:`feedsvc.store.digests`; decisions in the pure
cores (:mod:`.schedule`, :mod:`.message`).

Per step, inside the dispatcher's claim transaction: pending rows of chats that hold (a digest
schedule, a quiet window now) become ``held``; due held rows are leased per chat and turned into
digest parts; instant alerts get their chat's options (silent, forum thread, buttons).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import Connection

from feedsvc.articles import Article
from feedsvc.catalogue import Translator
from feedsvc.digest.message import (
    DigestEntry,
    DigestGroup,
    DigestPart,
    DigestWords,
    format_digest,
    format_part,
)
from feedsvc.digest.schedule import release_at
from feedsvc.digest.settings import ChatSettings
from feedsvc.digits import MAX_ID, ascii_int
from feedsvc.feeds.links import article_link
from feedsvc.graphemes import shortened
from feedsvc.notify.message import TEXT_LIMIT, Button, DeliveryOptions
from feedsvc.store import digests as store
from feedsvc.store import holding
from feedsvc.store.articles import articles_by_ids
from feedsvc.store.lifecycle import public_ids
from feedsvc.wanted import Wants, query_label, wants

MAX_MUTE_BUTTONS = 3  # one per matched topic; an alert matching more offers the first three
#: A topic's title as a mute or undo button shows it (titles take 500 characters,
#: ``limits.TITLE``): a whole one is ellipsized by the apps anyway, and three made a keyboard
#: over the ~10 KB Telegram takes ("Reply markup is too long": tginfo/Telegram-Limits issue
#: 187, a third party's measurement), the whole alert refused.
MAX_BUTTON_TITLE = 40
MUTE, UNDO = "mute", "undo"  # callback data "mute:<topic id>" / "undo:<topic id>[:<thread>]"


class Later(NamedTuple):
    """A row left out of a digest because its article is still scheduled: due again at
    ``due``, ``held`` for the chat's digest then, or else pending as an instant alert."""

    delivery_id: int
    due: datetime
    held: bool


@dataclass(frozen=True, slots=True)
class DigestJob:
    """One chat's digest, ready to send part by part with ``options`` (sound, thread).
    ``withdrawn``: rows whose article stopped being public (withdrawn, hidden, or no longer
    stored): they end ``withdrawn`` without a message. ``later``: rows of articles still
    scheduled (not yet public), due again when an alert matched at their time would go
    (:meth:`DigestEdge.set_later`). ``unsubscribed``: rows the
    chat no longer wants (:mod:`feedsvc.wanted`), ended ``unsubscribed`` without a message."""

    batch: store.HeldBatch
    entries: list[DigestEntry]
    parts: list[DigestPart]
    options: DeliveryOptions
    withdrawn: list[int]
    later: list[Later]
    unsubscribed: list[int]


@dataclass(frozen=True, slots=True)
class Sorted:
    """A digest's rows as :meth:`DigestEdge.sort_rows` found them: ``wanted`` (row id → what
    the chat wants of its public article), ``withdrawn``, ``later`` (:class:`Later`: when and
    how each goes instead) and ``unsubscribed`` (row ids, as :class:`DigestJob`'s), ``found``
    (article id → article, those still stored)."""

    wanted: dict[int, Wants]
    withdrawn: list[int]
    later: list[Later]
    unsubscribed: list[int]
    found: dict[int, Article]

    @property
    def left_out(self) -> set[int]:
        """The row ids that do not go."""
        return {*self.withdrawn, *(later.delivery_id for later in self.later), *self.unsubscribed}


def callback_data(action: str, topic_id: int, thread_id: int | None = None) -> str:
    """``mute:12`` / ``undo:12:345`` (≤ 64 bytes: Telegram's limit for callback data)."""
    tail = f":{thread_id}" if thread_id is not None else ""
    return f"{action}:{topic_id}{tail}"


def parse_callback(data: str) -> tuple[str, int, int | None] | None:
    """(action, topic id, thread id) from :func:`callback_data`, None when not ours."""
    parts = data.split(":")
    if len(parts) not in (2, 3) or parts[0] not in (MUTE, UNDO):
        return None
    read = [ascii_int(p, signed=False) for p in parts[1:]]  # int() reads "１２" too
    numbers = [n for n in read if n is not None and n <= MAX_ID]
    if len(numbers) != len(read):
        return None
    return parts[0], numbers[0], numbers[1] if len(numbers) == 2 else None


class DigestEdge:
    """The digest side of one dispatcher: ``tz`` (site.timezone), the language of the words,
    ``public_url`` (topic pages: ``{public_url}/topics/{slug}``) and the channel's limit."""

    def __init__(
        self, tz: tzinfo, language: str = "vi", public_url: str = "",
        limit: int = TEXT_LIMIT, buttons: bool = True,
    ) -> None:  # fmt: skip
        self.tz = tz
        self.t = Translator(language, str(tz))
        self.public_url = public_url.rstrip("/")
        self.limit = limit
        self.buttons = buttons
        self.words = DigestWords(
            self.t.counted("digest.heading", 2, count="{count}"),
            self.t("digest.read_all"),
            self.t("digest.continued"),
            self.t("digest.part"),
            self.t.counted("digest.heading", 1, count="{count}"),
        )

    # -- in the claim transaction --------------------------------------------------------------
    def release(self, now: datetime) -> holding.Release:
        """The chats' rule at ``now``: settings → when their alerts go out (None: now),
        :func:`~feedsvc.digest.schedule.release_at` in the site's zone; what both the hold and
        the outbox claim apply (:mod:`feedsvc.store.holding`)."""
        return lambda settings: release_at(settings, now, self.tz)

    def hold(self, conn: Connection, now: datetime, channel: str = "telegram") -> int:
        return holding.hold_pending(conn, now, self.release(now), channel)

    def claim(
        self, conn: Connection, owner: str, now: datetime, limit: int, lease: timedelta,
        channel: str = "telegram",
    ) -> list[DigestJob]:  # fmt: skip
        batches = store.claim_digests(conn, owner, now, limit, now + lease, channel)
        return [self._job(conn, batch, now) for batch in batches]

    def _job(self, conn: Connection, batch: store.HeldBatch, now: datetime) -> DigestJob:
        """One chat's digest of its due rows: each public article goes under what the chat
        wants of it now (:meth:`sort_rows`), its group the first topic it still follows, else
        the first own query that still matches. Rows whose labels changed since they were
        queued keep the new ones (``deliveries.topics``: what they went out with)."""
        chat = batch.chat_id
        seen = self.sort_rows(conn, chat, batch.rows, now, batch.settings)
        threads = store.query_threads(conn, chat)
        entries, thread_ids = [], set()
        relabelled: dict[int, list[str]] = {}
        for row in batch.rows:
            want = seen.wanted.get(row.id)
            if want is None:
                continue
            if want.labels != row.topics:
                relabelled[row.id] = want.labels
            entries.append(DigestEntry(row.id, seen.found[row.article_id], self._group(want)))
            thread_ids.add(_thread(list(want.topics), [q for _, q in want.queries], threads))
        store.relabel(conn, relabelled)
        parts = format_digest(entries, self.tz, self.words, self.limit)
        thread = thread_ids.pop() if len(thread_ids) == 1 else None  # mixed: the chat itself
        options = DeliveryOptions(batch.silent, thread)
        return DigestJob(batch, entries, parts, options, seen.withdrawn, seen.later,
                         seen.unsubscribed)  # fmt: skip

    def sort_rows(
        self,
        conn: Connection,
        chat: int,
        rows: Sequence[store.HeldRow],
        now: datetime,
        settings: ChatSettings,
    ) -> Sorted:
        """**The one sorting of a digest's rows** at ``now``, at claim and again before each
        later part (:mod:`.sending`): an article not public goes back to ``held`` until its
        time when still scheduled, else ends ``withdrawn`` (withdrawn, hidden, no longer
        stored); one the chat wants nothing of (:mod:`feedsvc.wanted`) ends ``unsubscribed``;
        the others go, with what the chat wants of them."""
        ids = [r.article_id for r in rows]
        found = articles_by_ids(conn, ids)
        public = public_ids(conn, ids, now)
        wanted = wants(conn, [(chat, a) for a in ids if a in public], found)
        out = Sorted({}, [], [], [], found)
        for row in rows:
            want = wanted.get((chat, row.article_id))
            if want is None:  # not public, or no longer stored
                article = found.get(row.article_id)
                if article is not None and article.published_at > now:
                    # scheduled: not yet; then as the chat's rule (``settings``) has it
                    out.later.append(self.set_later(row.id, settings, article.published_at))
                else:
                    out.withdrawn.append(row.id)
            elif not want:
                out.unsubscribed.append(row.id)
            else:
                out.wanted[row.id] = want
        return out

    def message_now(
        self, conn: Connection, chat: int, sent: Mapping[int, Sequence[str]], now: datetime,
        message: tuple[int, int] | None = None, digest: Sequence[tuple[tuple[int, int], int]] = (),
    ) -> list[DigestPart]:  # fmt: skip
        """**The one rule for what a sent digest message reads once its articles change**
        (SPEC §10, :mod:`feedsvc.retraction.worker`): those of its articles (``sent``: article
        id → the labels it went out with, ``store.digests.message_articles``) public at
        ``now``, as a digest of them, each under what the chat wants of it now, else under
        the first label it went out with (the chat left its topic since: still listed, as an
        alert's correction keeps the alert). A part of a digest sent in several (``digest``:
        (message, article id) of every row of its parts still in the chat, in the order they
        went, ``store.digest_parts.digest_rows``; ``message``, this one's (sent chat, message
        id)) keeps its place among **the parts that list an article now**: its first line
        says which of how many it is, the first one's heading the digest's articles public
        now (:func:`~feedsvc.digest.message.format_part`); one left is a digest of its own.
        A part deleted, gone or showing the notice is no part: "(1/3)" and "(tiếp) (2/3)"
        were left over a deleted part 3; laid out as a digest of its own, a part read "Tin
        tổng hợp · 2 tin" above "(tiếp) (2/3)". ``[]``: none is public (the notice, or the
        message deleted); more than one part: they no longer fit one message."""
        ids = list(sent)
        everything = list(dict.fromkeys([*ids, *(a for _, a in digest)]))
        found = articles_by_ids(conn, ids)
        shown = public_ids(conn, everything, now)
        public = [a for a in ids if a in shown and a in found]
        wanted = wants(conn, [(chat, a) for a in public], found)
        entries = []
        for a in public:
            want = wanted.get((chat, a))
            labels = sent[a]
            group = self._group(want) if want else DigestGroup(labels[0] if labels else "?")
            entries.append(DigestEntry(a, found[a], group))
        parts = list(dict.fromkeys(m for m, a in digest if a in shown))  # list one now
        if message not in parts or len(parts) < 2:
            return format_digest(entries, self.tz, self.words, self.limit)
        count = len({a for _, a in digest if a in shown})
        return format_part(entries, self.tz, self.words, self.limit,
                           part=parts.index(message) + 1, parts=len(parts),
                           count=count)  # fmt: skip

    def rest(self, entries: Sequence[DigestEntry], sent: int) -> list[DigestPart]:
        """The parts of a digest still to go after ``sent`` parts, laid out again for
        ``entries`` (in the order they were planned) once a re-check left some out
        (:func:`~feedsvc.digest.message.format_digest`'s ``sent``)."""
        return format_digest(entries, self.tz, self.words, self.limit, sent=sent)

    def set_later(self, delivery_id: int, settings: ChatSettings, published_at: datetime) -> Later:
        """A held alert whose article was moved to ``published_at`` (still scheduled) goes as
        an alert matched then would: held for the chat's first release after it (its next
        digest, its quiet window's end), or, when the chat would not hold one then, back in
        the outbox as an instant alert due then. It was held until the new time itself and
        went out alone then, as a digest of one, off the chat's schedule (tester tlife, s6)."""
        due = release_at(settings, published_at, self.tz)
        return Later(delivery_id, published_at if due is None else due, due is not None)

    def _group(self, want: Wants) -> DigestGroup:
        """The heading a wanted article is listed under: its first topic (with the topic's
        page), else its first own query."""
        if want.topics:
            first = want.topics[0]
            return DigestGroup(first.title, self.topic_url(first.slug))
        return DigestGroup(query_label(want.queries[0][1]))

    def options(
        self, conn: Connection, claimed: Sequence[tuple[int, int, int, list[str]]],
        articles: dict[int, Article], undo: Mapping[int, Sequence[store.Match]] | None = None,
    ) -> dict[int, DeliveryOptions]:  # fmt: skip
        """Options of instant alerts: ``claimed`` is (delivery id, chat id, article id, labels);
        ``articles`` the claimed articles by id (for the link button); ``undo``, per delivery
        id, topics offered as "↩ Bật lại" (a correction of an alert whose topic the chat muted
        since: :mod:`feedsvc.retraction.undo`; sends have none)."""
        if not claimed:
            return {}
        found = store.alert_options(conn, [d for d, _, _, _ in claimed])
        matched = store.matches_for(conn, [(c, a) for _, c, a, _ in claimed])
        threads_of = store.query_threads_for(conn, [c for _, c, _, _ in claimed])
        out = {}
        for delivery_id, chat_id, article_id, labels in claimed:
            topics = matched.get((chat_id, article_id), [])
            threads = threads_of.get(chat_id, {})
            silent, notice = found.get(delivery_id, (False, None))
            article = articles.get(article_id)
            out[delivery_id] = DeliveryOptions(
                silent,
                _thread(topics, labels, threads),
                self.buttons_for(
                    article_link(article.url) if article else "",
                    topics,
                    (undo or {}).get(delivery_id, ()),
                ),
                self.t(f"digest.notice.{notice}") if notice else None,
            )
        return out

    # -- pure ----------------------------------------------------------------------------------
    def buttons_for(
        self, url: str, topics: Sequence[store.Match], undo: Sequence[store.Match] = ()
    ) -> tuple[tuple[Button, ...], ...]:
        """A link button to the article and one "mute this topic" button per matched topic,
        then one "↩ Bật lại" per ``undo`` topic (callback with its thread, none: the chat
        itself); at most :data:`MAX_MUTE_BUTTONS` topic buttons, the undos kept first (the
        reader was just offered them). Telegram shows them, other channels ignore them."""
        if not self.buttons:
            return ()
        rows: list[tuple[Button, ...]] = []
        url = url.strip()
        if button_url(url):
            rows.append((Button(self.t("digest.button.read"), url=url),))
        undos = list(undo)[:MAX_MUTE_BUTTONS]
        for m in list(topics)[: MAX_MUTE_BUTTONS - len(undos)]:
            rows.append((Button(self.t("digest.button.mute", topic=button_title(m.title)),
                                data=callback_data(MUTE, m.topic_id)),))  # fmt: skip
        for m in undos:
            rows.append((Button(self.t("digest.button.undo", topic=button_title(m.title)),
                                data=callback_data(UNDO, m.topic_id, m.thread_id)),))  # fmt: skip
        return tuple(rows)

    def thread_gone(self, options: DeliveryOptions) -> DeliveryOptions:
        """``options`` for the chat itself, saying once that the thread is gone."""
        return replace(options, thread_id=None, notice=self.t("digest.notice.thread_gone"))

    def topic_url(self, slug: str) -> str | None:
        return f"{self.public_url}/topics/{slug}" if self.public_url else None


def button_title(title: str) -> str:
    """A topic's title as its button shows it: :data:`MAX_BUTTON_TITLE` code points at most,
    cut in whole graphemes with "…"."""
    return shortened(title, MAX_BUTTON_TITLE)


def button_url(url: str) -> bool:
    """Whether Telegram takes ``url`` as a URL button's: http(s), no whitespace, and a host that
    holds a dot or is an IP address. Telegram refuses the whole message for a bare host (400
    ``BUTTON_URL_INVALID``: ``http://intranet/tin/1``, which an article may carry — an intranet
    CMS), and that refusal is bad content: the alert was lost. Such an alert goes without the
    "read" button; its title still links to the article."""
    if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if "." in host.strip("."):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _thread(topics: list[store.Match], labels: list[str], threads: dict[str, int]) -> int | None:
    """The forum thread of the first matching subscription that has one (topics, then own
    queries by their label, :func:`feedsvc.wanted.query_label`, or their text: a label queued
    before labels were quoted), else None: the chat itself."""
    for match in topics:
        if match.thread_id is not None:
            return match.thread_id
    by_label = {query_label(query): thread for query, thread in threads.items()}
    for label in labels:
        if label in threads or label in by_label:
            return threads.get(label, by_label.get(label))
    return None
