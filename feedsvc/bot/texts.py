"""What the bot says, worded from the message catalogue (``bot.*`` keys of
:mod:`feedsvc.catalogue`) in the bot's language (``telegram.language``, Vietnamese by default).

Pure functions returning Telegram HTML with every dynamic part escaped, so wording can change
without touching handlers and every reply is safe for ``parse_mode=HTML`` (the fake Bot API in
the tests rejects anything Telegram would). The language is process-wide: one bot per process.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from feedsvc.bot.typed import QuoteProblem
from feedsvc.catalogue import Translator
from feedsvc.catalogue.reasons import stored_reason
from feedsvc.graphemes import prefix, shortened, utf16_units
from feedsvc.limits import TooLong
from feedsvc.matching import QueryError
from feedsvc.store.subscriptions import Subscription
from feedsvc.store.topics import Topic

COMMAND_NAMES = (
    "start", "help", "topics", "sub", "unsub", "list", "pause", "resume", "preview", "digest",
    "quiet", "silent", "settings",
)  # fmt: skip
# Telegram's limit is 4096 UTF-16 units of visible text; the HTML source is never shorter than the
# visible text in UTF-16 units (tags and entities only add), so capping the source's UTF-16 length
# is safe. Code points are not: an emoji in a topic's title or description counts 2 units.
MAX_REPLY = 3900
MAX_SHOWN_QUERY = 120
#: how a reply's line is measured against its limit, in UTF-16 units
Units = Callable[[str], int]
#: The widths ``/list`` tries for each own query and topic title, widest first: the first
#: whose whole list fits one reply. At :data:`MAX_SHOWN_QUERY` alone, 50 own queries (the
#: per-chat cap) showed 26 and "… and 24 more", and nothing could show the rest, which
#: ``/unsub`` names by number (a tester's report).
LIST_WIDTHS = (MAX_SHOWN_QUERY, 60, 32, 20, 12)
#: A topic's description as ``/topics`` shows it (stored ones take 5,000: ``limits.DESCRIPTION``).
MAX_SHOWN_DESCRIPTION = 300
#: answerCallbackQuery's text: "0-200 characters" (Bot API); counted in UTF-16 units, never fewer.
MAX_CALLBACK_ANSWER = 200

_t = Translator("vi")


def set_language(language: str, tz: str = "Asia/Ho_Chi_Minh") -> None:
    """The bot's language from config, set once when the bot starts."""
    global _t
    _t = Translator(language, tz)


def translator() -> Translator:
    """The bot's translator (its language and time zone), for words shared with other parts
    (``digest.*``)."""
    return _t


def t(key: str, **params: object) -> str:
    """A ``bot.*`` catalogue entry; ``params`` must already be HTML-escaped."""
    return _t(f"bot.{key}", **params)


def commands() -> list[tuple[str, str]]:
    """(command, description) for Telegram's command menu."""
    return [(name, t(f"cmd.{name}")) for name in COMMAND_NAMES]


def help_text() -> str:
    return t("help")


def button_answer(key: str, topic: str) -> str:
    """The notice a mute/undo press is answered with (``digest.muted``, ``digest.unmuted``):
    plain text, the topic's title cut in whole graphemes with "…" so the whole notice stays
    within :data:`MAX_CALLBACK_ANSWER`. A title may hold 500 characters (``limits.TITLE``);
    Telegram refuses a longer answer (400 ``MESSAGE_TOO_LONG``), and the press was then acted
    on but never answered (a spinner) nor its button swapped (a second press did it again)."""
    words = translator()
    room = MAX_CALLBACK_ANSWER - utf16_units(words(key, topic=""))
    if utf16_units(topic) > room:
        topic = prefix(topic, room - 1, utf16=True).rstrip() + "…"
    return words(key, topic=topic)


def start() -> str:
    return t("start") + "\n\n" + t("help")


def start_unknown_topic(slug: str) -> str:
    return t("start_unknown_topic", slug=escape(slug))


def fit(lines: list[str], limit: int = MAX_REPLY, units: Units = utf16_units) -> str:
    """Join ``lines``, dropping the tail (with a count) to stay within ``limit`` UTF-16 units
    (Telegram's by default; Zalo's 2,000 for its replies, which its plain text never exceeds:
    tags and entities only add to the source).

    Lines are measured in UTF-16 units of their HTML source (Telegram's unit, never fewer than
    the visible text's): counted in code points, two topics whose descriptions hold 1,800 emoji
    each passed as 3,700 and were 7,200 units, a reply Telegram refuses as too long. Cut to
    Zalo's limit afterwards, a Telegram-sized list lost its tail mid-line, with no count.
    ``units`` measures a line: its source by default; Zalo's, the plain text it sends."""
    kept = _fitting(lines, limit, units)
    out = lines[:kept]
    if kept < len(lines):
        out.append(t("more_items", count=len(lines) - kept))
    return "\n".join(out)


def _fitting(lines: list[str], limit: int, units: Units = utf16_units) -> int:
    """How many of ``lines``, from the first, :func:`fit` keeps whole (room for its count)."""
    size = 0
    for i, line in enumerate(lines):
        length = units(line)
        if size + length + 1 > limit - 40:
            return i
        size += length + 1
    return len(lines)


def channel_label(name: str) -> str:
    """How a channel acted on from a private chat is named in replies (``kênh @x``)."""
    return t("channel_label", name=name)


def where(label: str | None) -> str:
    """`` cho kênh @x`` when acting on a channel from a private chat, else nothing."""
    return t("for_target", label=escape(label)) if label else ""


def subscribed(what: str, label: str | None) -> str:
    return t("subscribed", where=where(label), what=what)


def already_subscribed(what: str, label: str | None) -> str:
    return t("already_subscribed", where=where(label), what=what)


def moved_subscription(what: str, thread_id: int | None) -> str:
    """``/sub`` of a subscription the chat has, sent in another forum thread: it now delivers
    there (``store.subscriptions.subscribe`` moves it), and the thread it left gets nothing
    more. Answered "already subscribed", the move went unsaid: the people of the old thread
    lost its alerts while the reply said nothing had changed."""
    key = "moved_to_thread" if thread_id is not None else "moved_to_general"
    return t(key, what=what)


def unsubscribed(what: str, label: str | None) -> str:
    return t("unsubscribed", where=where(label), what=what)


def shown(text: str, limit: int = MAX_SHOWN_QUERY) -> str:
    """What a reply may echo of user input: at most ``limit`` characters, HTML-escaped."""
    return escape(shortened(text, limit))


def not_subscribed(arg: str) -> str:
    return t("not_subscribed", arg=shown(arg))


def topic_label(topic: Topic) -> str:
    return f"<b>{escape(topic.title)}</b> (<code>{escape(topic.slug)}</code>)"


def query_label(query: str) -> str:
    return t("query_label", query=escape(query))


def topic_disabled(slug: str) -> str:
    return t("topic_disabled", slug=shown(slug))


def arg_too_long(limit: int) -> str:
    return t("arg_too_long", limit=limit)


def arg_control_chars() -> str:
    return t("arg_control_chars")


def query_too_long(over: TooLong) -> str:
    """A chat's query over :data:`feedsvc.limits.CHAT_QUERY`: the words every front end uses
    for a field over its limit (the API's and ``subs add``'s too)."""
    return _t.too_long(**over.params)


def too_many(limit: int) -> str:
    return t("too_many", limit=limit)


def invalid_query(query: str, error: QueryError) -> str:
    """The parser's error worded from its code, with where it is in the query."""
    text = _t.query_error(error, "chat")
    if error.column is not None:
        text += " " + t("at_position", position=error.column)
    return t("invalid_query", query=escape(query), error=escape(text))


def quote_refusal(query: str, problem: QuoteProblem) -> str:
    """A chat query whose quotes cannot be read (:func:`feedsvc.bot.typed.quote_problem`),
    worded as the parser's errors are, with where the mark is (counted from 1)."""
    text = _t(f"op.quote_{problem.code}", mark=problem.mark)  # the admin's and API's words too
    text += " " + t("at_position", position=problem.position + 1)
    return t("invalid_query", query=escape(query), error=escape(text))


def topics(items: list[Topic], head: str = "topics_head", limit: int = MAX_REPLY) -> str:
    """The enabled topics under the catalogue's ``head`` (a Zalo group's says where /sub works),
    within ``limit`` UTF-16 units (:func:`fit`).

    A description is cut to :data:`MAX_SHOWN_DESCRIPTION` (whole graphemes, "…"): whole, one of
    4,000 characters made a line no reply holds, and :func:`fit` listed no topic at all."""
    if not items:
        return t("no_topics")
    lines = [t(head)]
    for topic in items:
        line = f"• <code>{escape(topic.slug)}</code> — <b>{escape(topic.title)}</b>"
        if topic.description:
            line += f": {escape(shortened(topic.description, MAX_SHOWN_DESCRIPTION))}"
        lines.append(line)
    return fit(lines, limit)


def subscription_list(
    subs: list[Subscription], paused: bool, disabled: str | None, label: str | None,
    variant: str = "", limit: int = MAX_REPLY, here: int | None = None,
    units: Units = utf16_units,
) -> str:  # fmt: skip
    """``/list`` within ``limit`` UTF-16 units (:func:`fit`), each query and title shortened
    as much as :data:`LIST_WIDTHS` needs for every line to fit. ``variant`` prefixes the keys of
    the hints naming commands (``list_paused``, ``list_empty``) when a chat cannot use those
    commands (``"zalo_group_"``). In a forum group whose subscriptions go to topic threads,
    each line says where it delivers, seen from the thread ``here`` the list was asked in."""
    head = t("list_head", where=where(label))
    if paused:
        head += t(f"{variant}list_paused")
    if disabled:
        head += "\n" + t("list_disabled", reason=escape(_t.reason(disabled)))
    if not subs:
        return f"{head}\n{t(f'{variant}list_empty')}"
    threads = any(sub.thread_id is not None for sub in subs)
    for width in LIST_WIDTHS:  # the widest whose whole list fits
        lines = [head]
        for i, sub in enumerate(subs, 1):
            if sub.topic_slug is not None:
                title = escape(shortened(sub.topic_title or sub.topic_slug, width))
                line = f"{i}. <b>{title}</b> (<code>{escape(sub.topic_slug)}</code>)"
            else:
                line = f"{i}. {query_label(shortened(sub.query or '', width))}"
            lines.append(line + (_thread_note(sub, here) if threads else ""))
        if _fitting(lines, limit, units) == len(lines):
            break
    return fit(lines, limit, units)


def _thread_note(sub: Subscription, here: int | None) -> str:
    """Where a forum group's subscription delivers, as seen from the thread ``/list`` was sent
    in (``here``; None: General). Listed without it, every line read as this thread's: a
    member in one topic saw another topic's subscriptions as if alerts came here."""
    if sub.thread_id == here:
        return t("list_thread_here")
    if sub.thread_id is None:
        return t("list_thread_general")
    internal = str(sub.chat_id).removeprefix("-100")  # t.me/c/ links name supergroups so
    return t("list_thread_other", link=escape(f"https://t.me/c/{internal}/{sub.thread_id}"))


def link_preview(on: bool, label: str | None) -> str:
    return t("link_preview_on" if on else "link_preview_off", where=where(label))


def paused(now_paused: bool, changed: bool, label: str | None) -> str:
    if now_paused:
        return t("paused_now" if changed else "paused_already", where=where(label))
    return t("resumed_now" if changed else "resumed_already", where=where(label))


def query_is_topic(query: str, topic: Topic) -> str:
    """The line before a ``/sub`` reply when the query typed is a topic's own query (in other
    case, order or spelling: :mod:`feedsvc.bot.meaning`), so the user sees why the topic."""
    return t("query_is_topic", query=escape(query), topic=topic_label(topic)) + "\n"


def query_hints(query: str) -> str:
    """The lines after a ``/sub`` reply of a chat's own ``query`` that will rarely match as
    typed (:mod:`feedsvc.query_hints`): an operator typed as a lower-case word (``an ninh or
    công an``), Vietnamese typed without its marks (``kien thuy``, which finds only text
    written so). Subscribed all the same: a hint, never a refusal. ``""`` when none."""
    from feedsvc.query_hints import operator_words, unaccented_words

    lines = [
        t("hint_operator_word", word=escape(w.word), operator=w.operator, position=w.position)
        for w in operator_words(query)
    ]
    if words := unaccented_words(query):
        folded = " ".join(f"~{word}" for word in words)
        lines.append(t("hint_no_marks", query=shown(query), folded=shown(folded)))
    return "".join("\n" + line for line in lines)


def channel_not_found(ref: str) -> str:
    """No chat ``ref``; an ``@name`` is no topic either (a topic's ``@slug`` never reaches
    the channel lookup), so the reply says both: the sender may have meant a topic."""
    return t("no_topic_no_channel" if ref.startswith("@") else "channel_not_found", ref=escape(ref))


def not_topic_nor_channel(ref: str) -> str:
    """``/sub @bongda`` from someone who manages no channel: "only the bot's admins manage a
    channel's subscriptions" alone answered a reader who meant a topic, about channels."""
    return t("not_topic_nor_channel", ref=escape(ref))


def not_a_channel(ref: str) -> str:
    return t("not_a_channel", ref=escape(ref))


def sender_not_channel_admin(ref: str) -> str:
    return t("sender_not_channel_admin", ref=escape(ref))


def bot_not_channel_admin(ref: str) -> str:
    return t("bot_not_channel_admin", ref=escape(ref))


def removed_reason(private: bool, status: str) -> str:
    """Why a chat was switched off when the bot was blocked or removed: the value stored with
    the chat, a code worded when shown (:mod:`feedsvc.catalogue.reasons`)."""
    return stored_reason("user_blocked") if private else stored_reason("removed", status)
