"""What chat readers type, read as they mean it — pure, shared by the Telegram and Zalo bots.

A command is often not the first character of the message that carries it: text pasted from a
web page or a chat app brings a zero-width space (U+200B), a word joiner (U+2060), a BOM
(U+FEFF) or a direction mark (LRM/RLM, U+200E/F) along, some keyboards put one in front, and a
space or NBSP slips in. Telegram then marks no ``bot_command`` at offset 0 (PTB's
``CommandHandler`` and ``filters.COMMAND`` look only there), and Zalo's text did not begin
with ``/``: ``\u200b/sub an ninh`` got no answer on either bot while the reader saw
``/sub an ninh``. :func:`read_command` is the one reading of a command for both bots.

A phrase's quotes as keyboards type them (``„…“``, ``«…»``, ``「…」``, ``'…'``) are the
query language's ``"`` in a chat's query: :func:`plain_quotes`, :func:`quote_problem`.
:func:`keyboard_phrases`: the phrases a topic's query reads as words (its marks are not the
language's, :mod:`feedsvc.phrase_marks`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from feedsvc.phrase_marks import CLOSING_MARKS, OPENING_ONLY, PHRASE_MARKS

#: ``/name`` or ``/name@addressee`` (Telegram's command names: 1-32 of ``[A-Za-z0-9_]``)
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@(\w+))?", re.ASCII)


def unseen(char: str) -> bool:
    """Whether ``char`` shows as nothing or as blank space: whitespace (NBSP included) or an
    invisible format character (Unicode category Cf: ZWSP, word joiner, BOM, LRM/RLM…)."""
    return char.isspace() or unicodedata.category(char) == "Cf"


def visible_start(text: str) -> str:
    """``text`` from its first character that shows (:func:`unseen`)."""
    start = 0
    while start < len(text) and unseen(text[start]):
        start += 1
    return text[start:]


def read_command(text: str) -> tuple[str, str, str] | None:
    """``(name, addressee, argument)`` of the command ``text`` begins with once what does not
    show is skipped: ``"\u200b/Sub@Tin_bot  an ninh "`` → ``("sub", "Tin_bot", "an ninh")``
    (the name in lower case, as Telegram's clients match it; ``""`` without an addressee).
    None when ``text`` begins with no command: not ``/`` then a name, or the name runs on into
    other characters (``/sub-x``, ``/2½``). The argument is the rest, untouched but for what
    does not show at its ends."""
    shown = visible_start(text)
    found = _COMMAND.match(shown)
    if found is None:
        return None
    rest = shown[found.end() :]
    if rest and not unseen(rest[0]):
        return None
    argument = visible_start(visible_start(rest)[::-1])[::-1]
    return found.group(1).lower(), found.group(2) or "", argument


# --- quotes around a phrase ------------------------------------------------------------------
# The query language reads a phrase between ``"`` and the typographic double quotes
# (``“…”``, ``”…”``, ``„…“``, ``„…”``: :mod:`feedsvc.phrase_marks`, SPEC §4); people's keyboards
# and pastes put other marks around it: ``«an ninh»``, ``»an ninh«``, ``‹an ninh›``,
# ``「an ninh」``, ``'an ninh'``, ``‚an ninh‘``, ``''an ninh''``. Read as typed, most were words
# ANDed in any order (``«an`` and ``ninh»``: "an" and "ninh" anywhere in an
# article) while the bot said "Đã đăng ký". A chat reader's query (not the admin's topic
# language) is rewritten to ASCII quotes first (:func:`plain_quotes`, in the bots' normaliser).
#
# How the marks are read (:func:`_read`), so that a mark that is text is never a phrase mark:
# * A phrase opens at a mark outside any phrase and closes at the next mark of its kind
#   (``«…»``, ``»…«``, ``“…“``: one kind closes the other either way, so ``"a “b” c"`` is
#   ``"a "``, b, ``" c"`` as before), or at its bracket's partner (``「…」``).
# * Inside a phrase, a mark of another kind with nothing alphanumeric just before it (and any
#   opening bracket) opens a quotation within the phrase: ``"báo «Tuổi trẻ» hôm nay"``,
#   ``«tin "nóng" hôm nay»`` are each one phrase, the inner marks text (the normaliser reads a
#   quote as a separator only, so the phrase matches "Báo “Tuổi trẻ” hôm nay"). Inner marks of
#   the double kind are taken out (:func:`_unmarked`): kept, the parser would end the phrase
#   at them.
# * A quotation opened inside a phrase and still open when the phrase closes is text:
#   ``"báo «Tuổi trẻ hôm nay"`` is the phrase "báo Tuổi trẻ hôm nay". A mark of the phrase's
#   kind with nothing alphanumeric after it closes the phrase even after punctuation
#   (``„xem 「phim mới…“``, ``«tin "nóng!»``): it opened another quotation, refused unclosed.
# * Single quotes pair among themselves as brackets do (:func:`_paired_singles`): one with a
#   letter or digit after it and none before opens, one with none after it closes the nearest
#   open one before it (a quotation, bracket or emoji after it opens too: ``‘“Tuổi trẻ” hôm
#   nay’``, :func:`_begins_text`). One that pairs with none is an apostrophe, text: ``'90s``,
#   ``nhạc '9x``, ``rock 'n roll``, ``Tom's``, ``students' union``; ``'rock 'n' roll'`` is the
#   phrase "rock 'n' roll" (the syllables rock n roll) and ``'rock 'n roll'`` the word "rock" then
#   the phrase "n roll" (its first quote pairs with none). A closing single quote whose
#   partner a phrase closed over is text: ``«a 'b» c'`` is the phrase "a 'b", then c.
# What is refused (:class:`QuoteProblem`): a phrase never closed (``«an ninh``; the query
# language's own ``"``/``“``/``”`` left open is the parser's to word, as it always was), a
# closing mark that closes nothing open (``an ninh」``, ``"an ninh»``) and quotes that cross
# (``"a «b" c»``: « opens inside the phrase and closes after it), whose meaning is unreadable.

#: marks of one kind close each other in either direction (``»…«`` and ``”…”`` are typed too)
_KINDS = ('"“”„‟〝〞〟', "'‘’‚‛", "«»", "‹›")
_DOUBLE, _SINGLE = _KINDS[0], _KINDS[1]
#: corner and angle brackets: each opens only, its partner closes only
_BRACKETS = {"「": "」", "『": "』", "｢": "｣", "《": "》", "〈": "〉"}
_CLOSING = {close: open_ for open_, close in _BRACKETS.items()}


@dataclass(frozen=True, slots=True)
class QuoteProblem:
    """Why a chat query's quotes cannot be read: ``code`` ``unclosed`` (a phrase never closed),
    ``nested`` (a quotation opened inside a phrase and closed after it: the quotes cross) or
    ``stray`` (a closing mark that closes nothing open); ``position``: 0-based offset of the
    mark in the text (for ``nested``, of the inner quotation's opening mark); ``mark``: as
    typed."""

    code: str
    position: int
    mark: str


@dataclass(frozen=True, slots=True)
class _Mark:
    """A quote mark: ``text[start:end]``; ``kind``: one of :data:`_KINDS` or a bracket's
    opening character; ``role``: ``open`` or ``close`` (brackets, single quotes; ``„`` opens)
    or ``either``;
    ``leads``: nothing alphanumeric just before it, so inside a phrase it may open a quotation;
    ``trails``: nothing alphanumeric just after it, so it may close one (:func:`_closed`)."""

    start: int
    end: int
    kind: str
    role: str
    leads: bool
    trails: bool


def _marks(text: str) -> list[_Mark]:
    """The quote marks in ``text``, in order. Two single quotes in a row are one double mark; a
    single quote between letters or digits (``Tom's``) is none."""
    marks: list[_Mark] = []
    i = 0
    while i < len(text):
        char, leads = text[i], not (i > 0 and text[i - 1].isalnum())
        after = text[i + 1 : i + 2]
        trails = not after.isalnum()
        if char in _BRACKETS or char in _CLOSING:
            opens = char in _BRACKETS
            marks.append(_Mark(i, i + 1, char if opens else _CLOSING[char],
                               "open" if opens else "close", leads, trails))  # fmt: skip
        elif char in _SINGLE and after != "" and after in _SINGLE:
            marks.append(
                _Mark(i, i + 2, _DOUBLE, "either", leads, not text[i + 2 : i + 3].isalnum())
            )
            i += 1
        elif char in _SINGLE and (leads or not after.isalnum()):
            role = "open" if not trails or (leads and _begins_text(after)) else "close"
            marks.append(_Mark(i, i + 1, _SINGLE, role, leads, trails))
        elif char not in _SINGLE and (kind := next((k for k in _KINDS if char in k), None)):
            # „ and ‟ only open, as in the topic language (feedsvc.phrase_marks.OPENING_ONLY):
            # ``"báo „Tuổi trẻ“ hôm nay"`` is one phrase, never "báo " closed at the „
            role = "open" if char in OPENING_ONLY else "either"
            marks.append(_Mark(i, i + 1, kind, role, leads, trails))
        i += 1
    return marks


def _begins_text(char: str) -> bool:
    """Whether a single quote with nothing alphanumeric before it and ``char`` after it opens
    a phrase though ``char`` is no letter: a quotation (``‘“Tuổi trẻ” hôm nay’``, as a
    phone's smart quotes write ``'"Tuổi trẻ" hôm nay'``; ``'«X» mới'``), an opening bracket
    (``'(HN) an ninh'``), an emoji or symbol (``‘🔥 tin nóng’``), ``#``/``@``. Read as a closing
    quote, it paired with none and the phrase was saved as its words. Punctuation that ends
    (``'chào!', 'x'``) still closes."""
    if char == "":
        return False
    if char in '"#@' or char in _BRACKETS or any(char in k for k in _KINDS if k != _SINGLE):
        return True
    return unicodedata.category(char) in ("So", "Sm", "Sc", "Ps", "Pi")


def _paired_singles(marks: list[_Mark]) -> tuple[list[_Mark], dict[int, int]]:
    """``marks`` without the single quotes that pair with none (apostrophes: text), and each
    closing single quote's partner (start → start). They pair as brackets do: a closing one
    with the nearest opening one before it still unpaired."""
    opened: list[int] = []
    partner: dict[int, int] = {}
    for mark in marks:
        if mark.kind == _SINGLE and mark.role == "open":
            opened.append(mark.start)
        elif mark.kind == _SINGLE and opened:
            partner[mark.start] = opened.pop()
    paired = set(partner) | set(partner.values())
    return [m for m in marks if m.kind != _SINGLE or m.start in paired], partner


class _Open:
    """The open phrase, then the quotations open inside it — with how many of each kind and
    which marks are open, so that whether a mark closes one is found without a walk through
    all of them: a walk per mark made 1,000 marks a million steps (``「「…“ “ …``)."""

    def __init__(self) -> None:
        self.marks: list[_Mark] = []
        self._kinds: Counter[str] = Counter()
        self._starts: set[int] = set()

    def push(self, mark: _Mark) -> None:
        self.marks.append(mark)
        self._kinds[mark.kind] += 1
        self._starts.add(mark.start)

    def cut(self, depth: int) -> list[_Mark]:
        """Closes the marks from ``depth`` on (each is pushed and cut once: linear overall)."""
        gone = self.marks[depth:]
        del self.marks[depth:]
        for mark in gone:
            self._kinds[mark.kind] -= 1
            self._starts.discard(mark.start)
        return gone

    def has_kind(self, kind: str) -> bool:
        return self._kinds[kind] > 0

    def has_start(self, start: int) -> bool:
        return start in self._starts

    def depth(self, found: Callable[[_Mark], bool], present: bool) -> int | None:
        """The depth of the innermost open mark ``found`` picks, None when ``present`` says
        there is none (the walk then stops at it, and the marks above it are closed)."""
        if not present:
            return None
        return next(n for n in reversed(range(len(self.marks))) if found(self.marks[n]))


def _closed(mark: _Mark, stack: _Open, partner: dict[int, int]) -> int | None:
    """How deep in ``stack`` (the open phrase first, then the quotations open inside it) the
    quotation ``mark`` closes is, None when it closes none."""
    if mark.role == "open":
        return None
    if mark.kind == _SINGLE:
        wanted = partner[mark.start]
        return stack.depth(lambda o: o.start == wanted, stack.has_start(wanted))
    top = stack.marks[-1].kind if stack.marks else None
    # it opens a quotation inside, unless nothing alphanumeric follows it and its kind is open
    # below: ``„xem 「phim mới…“``, ``«tin "nóng!»`` close their phrase after the punctuation
    inside = mark.role == "either" and mark.leads and top is not None and top != mark.kind
    if inside and not (mark.trails and stack.has_kind(mark.kind)):
        return None
    return stack.depth(lambda o: o.kind == mark.kind, stack.has_kind(mark.kind))


@dataclass(frozen=True, slots=True)
class _Reading:
    """The phrases read (opening and closing mark), the double-kind marks inside them with
    what they are written as (:func:`_unmarked`) and the :class:`QuoteProblem` that stopped
    the reading, if any."""

    phrases: list[tuple[_Mark, _Mark]]
    inner: list[tuple[_Mark, str]]
    problem: QuoteProblem | None


def _unmarked(text: str, mark: _Mark, phrase: tuple[_Mark, _Mark]) -> str:
    """What a double-kind ``mark`` inside ``phrase`` is written as: a space between two
    characters that show (``«a "b"c»``: b and c stay apart), else nothing (``«báo
    "Tuổi trẻ" hôm nay»`` is ``"báo Tuổi trẻ hôm nay"``, not ``"báo  Tuổi trẻ  hôm nay"``)."""
    before = mark.start > phrase[0].end and not text[mark.start - 1].isspace()
    after = mark.end < phrase[1].start and not text[mark.end].isspace()
    return " " if before and after else ""


def _read(text: str) -> _Reading:
    """``text``'s phrases as the comment above this module's quote section says."""
    marks, partner = _paired_singles(_marks(text))
    phrases: list[tuple[_Mark, _Mark]] = []
    inner: list[tuple[_Mark, str]] = []
    quoted: list[_Mark] = []  # double-kind marks inside the open phrase
    stack = _Open()
    left_open: dict[str, _Mark] = {}  # by kind: the last quotation a phrase closed over

    def problem(code: str, mark: _Mark) -> _Reading:
        return _Reading(phrases, inner, QuoteProblem(code, mark.start, text[mark.start : mark.end]))

    for mark in marks:
        depth = _closed(mark, stack, partner)
        if depth is not None:
            opened = stack.marks[0]
            left_open |= {o.kind: o for o in stack.cut(depth)[1:] if o.kind != _SINGLE}
            if depth == 0:
                phrases.append((opened, mark))
                inner += [(m, _unmarked(text, m, phrases[-1])) for m in quoted]
                quoted = []
            elif mark.kind == _DOUBLE:
                quoted.append(mark)
        elif mark.kind == _SINGLE and mark.role == "close":
            continue  # its partner was left open in a phrase closed before: text
        elif mark.role == "open" or (
            mark.role == "either"
            and (mark.leads or (not stack.marks and mark.kind not in left_open))
        ):
            if stack.marks and mark.kind == _DOUBLE:
                quoted.append(mark)
            stack.push(mark)
        elif mark.kind in left_open:
            return problem("nested", left_open[mark.kind])
        else:
            return problem("stray", mark)
    return problem("unclosed", stack.marks[0]) if stack.marks else _Reading(phrases, inner, None)


def quote_problem(text: str) -> QuoteProblem | None:
    """Why the quotes around ``text``'s phrases cannot be read (the reader is told, never
    given a query of other words than meant), or None. A phrase that ``"``, ``“`` or ``”``
    (:data:`feedsvc.phrase_marks.CLOSING_MARKS`) leaves open at the end is the parser's to
    word, as it always was (:func:`plain_quotes` rewrites the phrases before it); one a ``„``
    leaves open is refused here, naming it: the parser reads such a text as its reading before
    ``„`` was a phrase mark did, the words (:func:`feedsvc.matching.lexer.earlier_readings`)."""
    problem = _read(text).problem
    return None if problem is None or _parsers(problem) else problem


def _parsers(problem: QuoteProblem) -> bool:
    return problem.code == "unclosed" and problem.mark in CLOSING_MARKS


def keyboard_phrases(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` spans of ``text``'s phrases a reader's query reads
    (:func:`plain_quotes`) between marks that are not the query language's own pair (an
    opening mark of :data:`~feedsvc.phrase_marks.PHRASE_MARKS` and a closing one of
    :data:`~feedsvc.phrase_marks.CLOSING_MARKS`: ``«…»``, ``»…«``, ``'…'``, ``‚…‘``,
    ``「…」``): what an admin's topic query reads as separate words
    (:func:`feedsvc.preview.keyboard_quotes` warns of each). None when the quotes cannot
    be read."""
    reading = _read(text)
    if reading.problem is not None:
        return []
    return [
        (opened.start, closed.end)
        for opened, closed in reading.phrases
        if text[opened.start : opened.end] not in PHRASE_MARKS
        or text[closed.start : closed.end] not in CLOSING_MARKS
    ]


def plain_quotes(text: str) -> str:
    """``text`` with each phrase's marks, whatever a keyboard typed (``„…“``, ``«…»``,
    ``「…」``, ``'…'``, ``''…''``), as the ASCII ``"`` the query language reads, and the marks of
    that kind inside a phrase (``«báo "Tuổi trẻ" hôm nay»``) taken out, which the phrase's
    matching reads alike (:func:`_unmarked`); unchanged when its quotes cannot be read
    (:func:`quote_problem` says why)."""
    parts, last = [], 0
    for start, end, written in quote_edits(text):
        parts += [text[last:start], written]
        last = end
    return "".join(parts) + text[last:]


def quote_edits(text: str) -> list[tuple[int, int, str]]:
    """The rewrites :func:`plain_quotes` makes, in order: ``(start, end, written)``, each mark
    ``text[start:end]`` written as ``written`` (``"``, or a quotation's inner mark as ``""`` or
    a space). Apart so that a place in the rewritten text can be found in ``text``
    (:func:`feedsvc.typed_query.typed_position`); none when the quotes cannot be read."""
    reading = _read(text)
    if reading.problem is not None and not _parsers(reading.problem):
        return []
    marks = [(m, '"') for pair in reading.phrases for m in pair] + reading.inner
    return [(m.start, m.end, w) for m, w in sorted(marks, key=lambda item: item[0].start)]
