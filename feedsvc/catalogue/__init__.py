"""The one catalogue of user-facing strings: the web admin, the bot, the reader pages, query and
operation errors, delivery states and status facts, in Vietnamese (the newsroom's language, the
default) and English.

Every entry is a ``(vi, en)`` pair, so a language cannot be forgotten for one key;
``tests/test_catalogue.py`` also checks placeholders agree and that every key the code and the
templates use exists. Errors are worded from their *code and parameters*
(:class:`feedsvc.matching.QueryError`, :class:`feedsvc.operations.OperationError`), never by
translating English text.

Times are shown in ``site.timezone`` with their UTC offset, to the minute (the command line's
translator, ``seconds``: to the second, ``feedsvc.local_times``), and durations in words
("3 phút trước"), both through Babel's CLDR data (plural rules and phrasing per language).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.units import format_unit

from feedsvc.recipient_names import Recipient, RecipientName, named

from . import (
    admin,
    bot,
    channels,
    deliveries,
    digest,
    errors,
    lifecycle,
    query_errors,
    reader,
    reasons,
    status,
    subscribe_words,
    web,
)

if TYPE_CHECKING:
    from feedsvc.ingest_state import IngestState
    from feedsvc.matching import QueryError
    from feedsvc.operations import BackfillResult, OperationError, Subscribed
    from feedsvc.state_disk import StateDisk

Language = Literal["vi", "en"]
#: Who wrote a query, for its error's hint (:meth:`Translator.query_error`).
QueryAuthor = Literal["topic", "search", "chat"]
LANGUAGES: tuple[Language, ...] = ("vi", "en")
MODULES = (
    admin, bot, channels, deliveries, digest, errors, lifecycle, query_errors, reader, reasons,
    status, subscribe_words, web,
)  # fmt: skip

#: key → (Vietnamese, English); modules must not share keys (checked by the tests).
CATALOGUE: dict[str, tuple[str, str]] = {}
for _module in MODULES:
    CATALOGUE.update(_module.MESSAGES)

#: Babel/CLDR patterns: an unambiguous date, the minute, and the offset ("+07:00").
TIME_PATTERNS = {"vi": "dd/MM/yyyy HH:mm xxx", "en": "yyyy-MM-dd HH:mm xxx"}
MISSING = "⟦{key}⟧"  # what an unknown key renders as: visible, and searched for by the tests

log = logging.getLogger(__name__)


class Translator:
    """Strings, times and numbers for one language and time zone.

    ``t(key, **params)`` formats the entry with ``params`` (a catalogue string uses
    ``str.format`` placeholders). The result is plain text, except ``bot.*`` entries, which are
    Telegram HTML: whoever passes a parameter into those escapes it first.

    A parameter that names a recipient (:class:`~feedsvc.recipient_names.RecipientName`) is
    worded by :meth:`recipient`, in this language; ``operators`` (:data:`ENGLISH`: the CLI's
    and the log's words) keeps the operators' own naming, as the log lines have it.
    """

    def __init__(
        self,
        language: str,
        tz: ZoneInfo | str = "Asia/Ho_Chi_Minh",
        *,
        operators: bool = False,
        seconds: bool = False,
    ) -> None:
        self.language: Language = "en" if language == "en" else "vi"
        self._index = LANGUAGES.index(self.language)
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.operators = operators
        #: the command line's times (``cli.common.cli_words``): :meth:`time` to the second
        self.seconds = seconds

    def __call__(self, key: str, /, **params: object) -> str:
        entry = CATALOGUE.get(key)
        if entry is None:
            log.warning("message catalogue: no entry %r", key)
            return MISSING.format(key=key)
        text = entry[self._index]
        if not params:
            return text
        if not self.operators:  # every sentence that names a chat names it in this language
            params = {
                k: self.recipient(v) if isinstance(v, RecipientName) else v
                for k, v in params.items()
            }
        return text.format(**params)

    def recipient(self, who: RecipientName | Recipient) -> str:
        """A recipient (its name, or a row carrying its channel, address and chat id) as this
        language names it: ``chat Telegram -1001`` / ``Telegram chat -1001``, ``chat Zalo zb``,
        ``Apprise json://***#1edd70`` (``recipient.<channel>``), the address as
        :mod:`feedsvc.recipient_names` shows it, an Apprise URL masked. The admin's
        ``recipient`` filter (rows, headings, ``<title>``s) and every parameter of a sentence
        that names a chat; a channel without words keeps the operators' name."""
        name = who if isinstance(who, RecipientName) else named(who)
        key = f"recipient.{name.channel}"
        if self.operators or key not in CATALOGUE:
            return str(name)
        return self(key, address=name.shown)

    def has(self, key: str) -> bool:
        return key in CATALOGUE

    def counted(self, key: str, n: int, /, **params: object) -> str:
        """``key.one`` or ``key.other`` by ``n``'s plural category in this language (CLDR's,
        through Babel: English ``one`` for 1 alone; Vietnamese has no plural forms, its two
        entries say the same), formatted with ``params`` (``count`` is ``n`` unless given,
        e.g. grouped by :meth:`number`). The one way a sentence with a count agrees with it:
        "1 of them are within the backfill window" / "1 alerts held" were said.
        ``tests/test_catalogue_plurals.py`` checks every ``.one`` has its ``.other``."""
        from babel import Locale

        form = "one" if Locale.parse(self.language).plural_form(n) == "one" else "other"
        return self(f"{key}.{form}", **({"count": n} | params))

    # -- times, durations, numbers -------------------------------------------------------
    def time(self, when: datetime | None) -> str:
        """``30/11/2026 09:48 +07:00`` (vi) / ``2026-11-30 09:48 +07:00`` (en); "—" for None.
        A translator of the command line's (``seconds``) writes the CLI's one format instead,
        to the second: ``2026-11-30 09:48:07 +07:00`` (:func:`feedsvc.local_times.local_time`;
        a 429 pause's end was shown to the minute by ``status`` alone of its times)."""
        if when is None:
            return "—"
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if self.seconds:
            from feedsvc.local_times import local_time

            return local_time(when, self.tz)
        return format_datetime(
            when, TIME_PATTERNS[self.language], tzinfo=self.tz, locale=self.language
        )

    def duration(self, seconds: float, *, precise: bool = False) -> str:
        """A span in words, the one wording of a duration. By default rounded to its largest
        unit: ``2 phút``, ``3 giờ``, ``45 giây`` (the admin's lag and ETA). ``precise``: days,
        hours and minutes, to the minute, seconds only under a minute, without a sign: ``1 tiếng
        13 phút`` / ``1 hour 13 minutes``, ``7 hours``, ``42 seconds``: a difference of clocks or
        zones (``feedsvc.source.clock``: "6 hours" for 5 h 45 min would name the wrong zone),
        an ETA in the log (``feedsvc.ingest.progress``)."""
        if not precise:
            return format_timedelta(
                timedelta(seconds=seconds), threshold=1.0, format="long", locale=self.language
            )
        whole = round(abs(seconds))
        if whole < 60:
            parts = [(whole, "second")]
        else:
            days, minutes = divmod(round(whole / 60), 24 * 60)
            hours, minutes = divmod(minutes, 60)
            parts = [(n, unit) for n, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
                     if n]  # fmt: skip
        words = [
            format_unit(n, f"duration-{unit}", length="long", locale=self.language)
            for n, unit in parts
        ]
        return format_list(words, style="unit-narrow", locale=self.language)

    def ago(self, when: datetime | None, now: datetime | None = None) -> str:
        """``3 phút trước`` / ``3 minutes ago`` (``in 2 minutes`` for a future time)."""
        if when is None:
            return "—"
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        delta = when - (now or datetime.now(UTC))
        if abs(delta.total_seconds()) < 45:
            return self("just_now")
        return format_timedelta(
            delta, threshold=1.0, add_direction=True, format="long", locale=self.language
        )

    def number(self, value: float) -> str:
        """``1.234`` (vi) / ``1,234`` (en)."""
        return _decimal(value, self.language)

    # -- the ingest state ----------------------------------------------------------------
    def ingest(self, state: IngestState, *, digits: bool = False) -> str:
        """Ingest's state in words (``ingest.<code>``), the one wording of the admin's status
        page and of ``feedsvc status``' text (``digits``: a count in plain digits, as every
        CLI count). While rows are behind the cursor (:data:`feedsvc.ingest_state.BACKLOG_CODES`)
        what is left and when it is done lead, and the read position is a time
        (``ingest.progress``; ``ingest.position`` when nothing counts what is left now):
        "first sync under way, 23 seconds behind" grew with every refresh while the rows
        left fell. Without a position, the lag as before (``ingest.behind``)."""
        if state.lag_seconds is None:  # no success yet: no lag to give
            key = "ingest.failing_never" if state.code == "failing" else f"ingest.{state.code}"
            return self(key, failures=state.failures, progress="")
        lag = self.duration(state.lag_seconds)
        if state.position is None:
            progress = self("ingest.behind", lag=lag)
        elif state.backlog and state.eta_seconds:
            left = str(state.backlog) if digits else self.number(state.backlog)
            progress = self.counted(
                "ingest.progress", state.backlog, backlog=left,
                eta=self.duration(state.eta_seconds), time=self.time(state.position),
            )  # fmt: skip
        else:
            progress = self("ingest.position", time=self.time(state.position))
        return self(f"ingest.{state.code}", lag=lag, failures=state.failures, progress=progress)

    def state_disk(self, disk: StateDisk) -> str:
        """The state DB's disk in words (``disk.*``, :mod:`.disk_words`): the admin's page."""
        from .disk_words import state_disk

        return state_disk(self, disk)

    def subscribed(self, done: Subscribed) -> list[str]:
        """What adding a subscription changed for its recipient, and what still stops its
        alerts (:mod:`.subscribe_words`): ``subs add``, the API's ``message``, the admin."""
        from .subscribe_words import subscribed

        return subscribed(self, done)

    # -- errors by code -------------------------------------------------------------------
    def query_error(self, exc: QueryError, for_whom: QueryAuthor = "topic") -> str:
        """A query error in words, with its hint; an error inside ``@slug`` names the topic.

        ``for_whom``: who wrote the query, so the hint is one they can follow: ``"topic"`` (an
        admin's topic: "split it into several topics"), ``"search"`` (a reader's search on the
        site, who has no topics to split), ``"chat"`` (a chat's ``/sub`` query). A code with no
        hint of its own for them takes the topic's (``query.<code>.hint.<for_whom>``, else
        ``query.<code>.hint``)."""
        if exc.cause is not None:
            inner = self.query_error(exc.cause, for_whom)
            return self("query.in_ref", slug=exc.params.get("slug", ""), inner=inner)
        # every code alike, ``too_long`` too: a query error is worded to follow words that
        # name the query (query_errors.py's rule), never op.too_long's sentence ("Truy vấn
        # không hợp lệ: tại ký tự 2001: Truy vấn quá dài: 2001 ký tự, tối đa 2000. — …")
        text = self(f"query.{exc.code}", **exc.params)
        for hint_key in (f"query.{exc.code}.hint.{for_whom}", f"query.{exc.code}.hint"):
            if hint_key in CATALOGUE:
                return text + " — " + self(hint_key, **exc.params)
        return text

    def too_long(self, field: object, length: object, limit: object) -> str:
        """A field over its limit (:class:`feedsvc.limits.TooLong`'s ``params``), the one
        wording of every front end: "The title is too long: 612 characters, at most 500."."""
        return self("op.too_long", what=self(f"too_long.{field}"), length=length, limit=limit)

    def reason(self, stored: str | None, channel: str | None = None) -> str:
        """Why a recipient of ``channel`` is switched off, from its stored ``disabled_reason``
        (:mod:`.reasons`): the code in the channel's words, then the technical detail (an
        Apprise recipient's: the HTTP status it met); "" for None. The CLI's and the API's
        wording; the admin shows :meth:`reason_words` and the detail apart."""
        if not stored:
            return ""
        words, detail = self._reason(stored, channel)
        return f"{words} ({detail})" if detail else words

    def reason_words(self, stored: str | None, channel: str | None = None) -> str:
        """:meth:`reason` without the channel's own text: words in this language only (an
        Apprise recipient's with its HTTP status); a value stored before codes as it is."""
        return self._reason(stored, channel)[0] if stored else ""

    def _reason(self, stored: str, channel: str | None) -> tuple[str, str]:
        """``(words, detail still to show)`` of a stored reason."""
        code, detail = reasons.split_reason(stored)
        if code is None:
            return detail, ""  # stored before reasons had codes
        key = reasons.words_key(code, channel)
        status = reasons.http_status(detail) if key != f"reason.{code}" else None
        if status is not None:  # the channel's words name the status; the rest is ours
            return f"{self(key)} (HTTP {status})", ""
        return self(key), detail

    @staticmethod
    def reason_detail(stored: str | None) -> str:
        """The channel's own text kept with a stored reason ("" when none or not coded)."""
        code, detail = reasons.split_reason(stored or "")
        return detail if code is not None else ""

    def state(self, state: str, channel: str | None = None) -> str:
        """A delivery's state in words, as its recipient's ``channel`` says it."""
        return self(deliveries.state_key(state, channel))

    def delivery_error(
        self, state: str, channel: str | None = None, retry_kind: str | None = None
    ) -> str:
        """What the error of a delivery in ``state`` to a recipient of ``channel`` means, by
        outcome kind (:mod:`.deliveries`; for one still queued, by why it waits,
        ``retry_kind``): shown above the channel's own text, kept as is."""
        return self(deliveries.error_key(state, channel, retry_kind))

    def subscriptions(self, counts: Mapping[str, int]) -> str:
        """channel → subscriptions as "3 subscriptions: 2 Telegram, 1 Apprise": the one wording
        of what a topic's delete takes with it (the CLI in English, the API, the admin).
        Plain digits: the CLI's counts are (``tests/test_cli_wordings.py``)."""
        total = sum(counts.values())
        channels = ", ".join(f"{n} {self(f'channel.{c}')}" for c, n in sorted(counts.items()) if n)
        key = "topic_subs.one" if total == 1 else "topic_subs.other"
        return self(key, count=total, channels=channels)

    def backfilled(self, slug: str, result: BackfillResult) -> str:
        """A backfill's counts (:class:`feedsvc.operations.BackfillResult`), the one wording of
        them: the admin's flash (the button, "backfill on save") and ``topics backfill``'s
        line. "In the feed" and "added" count what readers see (``in_feed``,
        ``added_to_feed``), the matches kept out (hidden, withdrawn, scheduled) said apart
        when there are any: "12 added to the feed" was said of 12 hidden articles."""
        said = self(
            "backfilled", slug=slug, scanned=result.scanned, matched=result.matched,
            shown=result.in_feed, added=result.added_to_feed, removed=result.removed,
        )  # fmt: skip
        if result.not_in_feed <= 0:
            return said
        return f"{said} {self('backfilled_out', held=result.not_in_feed)}"

    def chat_queries(self, shown: Sequence[tuple[str, int]], more: int = 0) -> str:
        """``(chat, subscription id)`` pairs as "Telegram chat 1003 (subscription 8), … and 5
        more" (the chat as :meth:`recipient` words :func:`feedsvc.recipient_names.named`):
        the chat queries that reference a topic, which its delete names."""
        named = [self("chat_query_ref", chat=chat, id=sub) for chat, sub in shown]
        if more > 0:
            named.append(self("and_more", count=more))
        return ", ".join(named)

    def operation_error(self, exc: OperationError) -> str:
        """``exc`` in words: ``op.<code>.<kind>`` when the catalogue has it (the API's 412s),
        else ``op.<code>``, its parameters worded (a typed slug quoted, counts, chats)."""
        from .operation_words import operation_error

        return operation_error(self, exc)

    def topic_hint(self, params: Mapping[str, object]) -> str:
        """Why a typed slug names no topic (``op.topic_unknown.<hint>``, the parameters
        ``operations.recipients`` gives an unknown topic's error), or ""."""
        hint = params.get("hint")
        if not isinstance(hint, str):
            return ""
        start = self("op.topic_unknown.start") if params.get("start") else ""
        return self(f"op.topic_unknown.{hint}", **{**params, "start": start})


#: The command line's and the log's words: feedsvc's CLI and log lines speak English, and name
#: a chat as the operators' lines do (``telegram chat 1001``: :mod:`feedsvc.recipient_names`).
ENGLISH = Translator("en", operators=True)


def translator(language: str, tz: ZoneInfo | str = "Asia/Ho_Chi_Minh") -> Translator:
    return Translator(language, tz)


@lru_cache(maxsize=4096, typed=True)
def _decimal(value: float, language: str) -> str:
    """A number as ``language`` writes it, kept: Babel takes ~0.1 ms a number, and the index's
    pages show the same few (page numbers, counts) again at every rebuild, 7 on each of 100
    pages at 5,000 topics. ``typed``: 1 and 1.0 are kept apart."""
    return format_decimal(value, locale=language)
