"""Structured logging: readable text by default, one JSON object per line with ``--log-json``.

Secrets are scrubbed in a handler filter, so even a third-party library that logs a URL with
the bot token in it (httpx does, at INFO) cannot leak it.

Logged values come from outside (article URLs and titles, query strings, chat names, request
lines): a newline in one would start what looks like a new log record, and a bidi override
(U+202E) would show the rest of its line reversed in the terminal that reads it. In text mode
every character of :data:`ESCAPED` in a message is written as an escape (``\n``, ``\x1b``,
``\u2028``, ``\u202e``), for every logger, ours and libraries'; a traceback keeps its lines
but each is indented, so none can pass for a record. JSON mode writes them as JSON escapes
(``\u202e``): the same value to a program, nothing a terminal acts on
(:func:`escape_json`). :func:`escape_controls` is also the CLI's one rule for free text in
line-based output (:func:`feedsvc.cli.common.cell`): a backslash that would read as an escape
is doubled, so a shown text names one text (a key holding U+202E and one holding the six
characters ``\u202e`` were printed alike), and :func:`unescape_controls` reads it back.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from feedsvc.bidi import BIDI_CONTROLS

#: A record's attributes that are not its extras: the standard ones, and uvicorn's
#: ``color_message`` (its message again with ANSI colours, for its own console formatter),
#: which in a JSON log was a second, unformatted message full of escape sequences.
_STD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


#: The ``extra`` of a record whose message is a text of several lines (``log.info("alert to
#: %s:\n%s", chat, text, extra=LINES)``: the console's alerts and edits): in text mode its
#: first line is the record's and each further line is indented under it (:func:`_lines`), as
#: a traceback's are, each escaped on its own (a CR, an ANSI escape, U+2028 inside a line
#: stay escapes); every other message stays one line, its line breaks ``\n``. Article text
#: reaches such a message one line per field (``notify.message``: ``_clean``), and a line
#: break an argument still held could only make an indented line, never a record's. JSON mode
#: is unchanged (the message one JSON string) and does not write the flag.
_LINES_FLAG = "feedsvc_lines"
LINES: dict[str, object] = {_LINES_FLAG: True}

#: Secrets learnt while running (Apprise destination URLs and their credentials, read from the
#: state DB): every RedactSecrets filter scrubs them too. Longest first, so a URL is replaced
#: whole before its parts.
_LEARNT: list[str] = []


def register_secret(*values: str) -> None:
    """Scrub ``values`` (each at least 6 characters; shorter ones are ignored) from every log
    line from now on, in every handler set up by :func:`setup_logging`."""
    added = [v for v in values if v and len(v) >= 6 and v not in _LEARNT]
    if added:
        _LEARNT.extend(added)
        _LEARNT.sort(key=len, reverse=True)


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self.secrets + _LEARNT if _LEARNT else self.secrets
        if not secrets:
            return True
        message = record.getMessage()
        clean = message
        for secret in secrets:
            clean = clean.replace(secret, "***")
        if clean != message or record.exc_info:
            record.msg, record.args = clean, None
            if record.exc_info:
                text = logging.Formatter().formatException(record.exc_info)
                for secret in secrets:
                    text = text.replace(secret, "***")
                record.exc_info, record.exc_text = None, text
        return True


class RewriteMessages(logging.Filter):
    """Each record's message passed through ``rewrite`` (its arguments merged in first), left
    as it was when ``rewrite`` changes nothing."""

    def __init__(self, rewrite: Callable[[str], str]) -> None:
        super().__init__()
        self.rewrite = rewrite

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        rewritten = self.rewrite(message)
        if rewritten != message:
            record.msg, record.args = rewritten, None
        return True


class PoolInterrupts(logging.Filter):
    """Drops SQLAlchemy's pool's ERROR record of an interrupt (Ctrl-C, the CLI's SIGTERM)
    raised inside a connection's close or reset: the pool logs it with its traceback and then
    raises it on (sqlalchemy/pool/base.py, ``_close_connection`` and ``_finalize_fairy``
    re-raise whatever is no ``Exception``), and the CLI says it in one line. A SIGINT during
    `import`'s last close printed the traceback above "feedsvc: interrupted" (CI)."""

    def filter(self, record: logging.LogRecord) -> bool:
        raised = record.exc_info[1] if record.exc_info else None
        return not (
            isinstance(raised, KeyboardInterrupt) and record.name.startswith("sqlalchemy.pool")
        )


#: Invisible format characters that no ordinary text needs and that hide or disguise text in
#: a terminal: ZERO WIDTH SPACE U+200B, the MONGOLIAN VOWEL SEPARATOR U+180E, WORD JOINER
#: U+2060 and the invisible operators U+2061–U+2064, the deprecated format characters
#: U+206A–U+206F, the byte order mark U+FEFF and the interlinear annotation characters
#: U+FFF9–U+FFFB (which hide the text between them where supported). A title showing
#: ``\u200b`` says why a slug that looks right is not found.
INVISIBLE = "\u180e\u200b\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb"

#: The body of the character class of what :func:`escape_controls` escapes: control characters
#: (Unicode category Cc: C0, DEL, C1), the line/paragraph separators U+2028/U+2029, the bidi
#: embedding, override and isolate controls (:mod:`feedsvc.bidi`, the one definition) and
#: :data:`INVISIBLE`. Deliberately not: the direction marks LRM/RLM/ALM (U+200E/F, U+061C: they
#: reverse nothing, and mixed Arabic/Hebrew text needs them), the joiners ZWNJ/ZWJ (U+200C/D:
#: Persian, Indic scripts, emoji sequences), the soft hyphen, variation selectors, combining
#: marks (Vietnamese in NFD), tag characters (the flags of England, Scotland, Wales) and
#: letters that happen to be blank (Hangul fillers): escaping them would garble real text.
_BEYOND_C0 = f"\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}{INVISIBLE}"
ESCAPED = f"\x00-\x1f{_BEYOND_C0}"
#: What ``json.dumps`` leaves raw of them (it escapes C0; a newline of ``indent`` is layout).
_JSON_RAW = re.compile(f"[{_BEYOND_C0}]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNESCAPES = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
#: What a backslash followed by it reads as: an escape (:func:`unescape_controls`).
_ESCAPE_TAIL = r"\\|[nrt]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}"
_ESCAPE = re.compile(rf"\\({_ESCAPE_TAIL})")
#: What :func:`escape_controls` rewrites: the characters of :data:`ESCAPED`, and a backslash
#: that the text after it, as shown, would make the start of an escape (a character of
#: :data:`ESCAPED` is shown starting with a backslash; hex digits and letters as they are).
_SHOWN = re.compile(f"[{ESCAPED}]")
#: :data:`_SHOWN` and a backslash followed by what would read as an escape (``exact``).
_SHOWN_EXACT = re.compile(rf"[{ESCAPED}]|\\(?=([\\{ESCAPED}]|{_ESCAPE_TAIL}))")
#: :data:`_SHOWN_EXACT` with every non-ASCII character escaped too (:func:`spell`).
_SPELLED = re.compile(
    rf"[{ESCAPED}\x80-\U0010ffff]|\\(?=([\\{ESCAPED}\x80-\U0010ffff]|{_ESCAPE_TAIL}))"
)
_ESCAPED_CHAR = re.compile(f"[{ESCAPED}]")


#: The longest error text a warning about a remote API carries (a proxy's page can be KBs).
ERROR_CHARS = 300


def brief_error(exc: BaseException, scrub: Callable[[str], str] = lambda text: text) -> str:
    """``exc`` for a warning line: its type and text, passed through ``scrub`` (which takes a
    token out), whitespace runs as one space, at most :data:`ERROR_CHARS` characters."""
    text = " ".join(scrub(f"{type(exc).__name__}: {exc}").split())
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def escape_controls(text: str, *, exact: bool = False) -> str:
    """``text`` with each character of :data:`ESCAPED` as a visible escape (``\\n``,
    ``\\x85``, ``\\u202e``), so it stays on one line, in the order it is written, with
    nothing hidden: the text logs' and the CLI's rule. A backslash is left as it is, so a text
    escaped twice reads the same (a message quoting a key escaped already).

    ``exact``: so that the shown text names one text only (a key an editor pastes back), a
    backslash that would read as the start of an escape (followed by ``\\``, ``n``, ``r``,
    ``t``, a character escaped here, or ``x`` and two hex digits or ``u`` and four naming such
    a character) is doubled: a stored ``K\\u202e1`` is shown ``K\\\\u202e1``, a ``K`` +
    U+202E + ``1`` is shown ``K\\u202e1``; any other backslash (``C:\\path``, ``a\\b``,
    ``\\u0041``) as it is. A combining mark (of the BMP) that begins the text, with nothing of
    its own to sit on, is shown as its escape too (``\\u0301``): raw, it merged into the quote
    or the tab before it; a backslash that would then read as such an escape is doubled.
    :func:`unescape_controls` is its exact inverse. Escape once."""
    shown = (_SHOWN_EXACT if exact else _SHOWN).sub(_escape, text)
    if exact and text and _lone_mark(text[0]):
        return f"\\u{ord(text[0]):04x}" + shown[1:]
    return shown


def spell(text: str, only: Callable[[str], bool] | None = None) -> str:
    """``text`` spelled code point by code point: :func:`escape_controls` ``exact`` with every
    non-ASCII character as its ``\\uHHHH`` (``\\UHHHHHHHH`` beyond the BMP) too, a
    backslash that would then read as an escape doubled. Texts that look the same (a key in
    NFD and in NFC) are told apart, and :func:`unescape_controls` reads it back exactly: the
    spelling a person can paste back to name that very text.

    ``only``: spell only the non-ASCII characters it holds for (one character in, e.g.
    :func:`feedsvc.blank_chars.shows_blank`), the rest as :func:`escape_controls` ``exact``
    shows them (a leading combining mark spelled too): ``spell(t, lambda c: False) ==
    escape_controls(t, exact=True)``. Read back the same way."""
    if only is None:
        return _SPELLED.sub(_spelled, text)
    shown = _SPELLED.sub(lambda match: _spelled(match, only), text)
    if text and _lone_mark(text[0]) and not only(text[0]):
        return f"\\u{ord(text[0]):04x}" + shown[1:]
    return shown


def _spelled(match: re.Match[str], only: Callable[[str], bool] | None = None) -> str:
    char = match[0]
    if char == "\\":
        after = match[1]
        if only is not None and len(after) == 1 and _kept(after, only):
            return char  # the character after it is shown as it is: no escape begins here
        return "\\\\" if _reads_as_escape(after) else char
    if _ESCAPED_CHAR.fullmatch(char):
        return _escape(match)
    if only is not None and _kept(char, only):
        return char
    return f"\\u{ord(char):04x}" if char <= "\uffff" else f"\\U{ord(char):08x}"


def _kept(char: str, only: Callable[[str], bool]) -> bool:
    """Whether :func:`spell` with ``only`` shows ``char`` as it is: a non-ASCII character
    that is neither escaped by :func:`escape_controls` nor one ``only`` holds for."""
    return char >= "\x80" and not only(char) and not _ESCAPED_CHAR.fullmatch(char)


def quoted(text: str) -> str:
    """``text`` in a message naming it (an article's key, a topic's slug), between single
    quotes: :func:`escape_controls` ``exact``, the CLI's one visible form of a name, which
    :func:`unescape_controls` reads back. Python's ``repr`` wrote ``\\xa0`` for a no-break
    space and ``\\u200e`` for an LRM (four and six characters when typed back), and let a
    leading combining mark merge into its quote."""
    return "'" + escape_controls(text, exact=True) + "'"


def _lone_mark(char: str) -> bool:
    """A combining mark ``\\uHHHH`` can name: shown escaped where it begins a text (exact)."""
    return char <= "\uffff" and unicodedata.category(char) in ("Mn", "Mc", "Me")


def _escape(match: re.Match[str]) -> str:
    char = match[0]
    if char == "\\":  # doubled only where the text after it would be read as an escape
        return "\\\\" if _reads_as_escape(match[1]) else char
    return _ESCAPES.get(char) or char.encode("unicode_escape").decode("ascii")


def unescape_controls(shown: str) -> str:
    """The text :func:`escape_controls` (``exact``) or :func:`spell` showed as ``shown``:
    ``\\\\`` a backslash; ``\\n``, ``\\r``, ``\\t``, and ``\\xHH`` naming a character
    that is escaped, that character; ``\\uHHHH`` and ``\\UHHHHHHHH`` (hex in either case)
    naming a non-ASCII character (``\\u0302``, ``\\u202e``), that character; every other
    backslash itself (``\\u0041`` is six characters, not ``A``: ASCII is never shown so).
    ``unescape_controls(escape_controls(t, exact=True)) == unescape_controls(spell(t)) == t``
    for every ``t``; a text with no backslash is itself. Used by the CLI's arguments that
    name stored text (an article's key): what a command prints — a key as it is, or spelled
    by code point where keys look alike — can be pasted back as it is."""
    if "\\" not in shown:
        return shown
    return _ESCAPE.sub(_unescape, shown)


def _unescape(match: re.Match[str]) -> str:
    body = match[1]
    if body in _UNESCAPES:
        return _UNESCAPES[body]
    return chr(int(body[1:], 16)) if _reads_as_escape(body) else match[0]


def _reads_as_escape(body: str) -> bool:
    """Whether a backslash followed by ``body`` is an escape: ``\\``, ``n``/``r``/``t``,
    ``xHH`` naming a character escaped here, or ``uHHHH``/``UHHHHHHHH`` naming a non-ASCII
    character (what :func:`spell` writes). ``\\u0041`` names ASCII, which is never shown so:
    it is read as written, the six characters of a key typed from a CMS as they are."""
    if body in _UNESCAPES or len(body) == 1:
        return True
    point = int(body[1:], 16)
    if body[0] == "x":
        return _ESCAPED_CHAR.fullmatch(chr(point)) is not None
    return 0x80 <= point <= 0x10FFFF


def escape_json(dumped: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with each character of
    :data:`ESCAPED` its ``\\uXXXX`` escape: the value a program reads is unchanged, and the
    line a terminal shows is neither broken (U+2028, NEL) nor reordered (U+202E). Outside a
    string JSON holds only ASCII, and ``json`` escapes C0 itself (a newline of ``indent`` is
    layout, left alone), so every match is a character of a string."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m[0]):04x}", dumped)


#: A text log line's time: the date, the time of day and the UTC offset of the process's local
#: time (``TZ``). The time of day alone could not be placed once a log outlived a day or was
#: read on a machine in another zone (a file that ``nohup`` or a redirect kept).
TEXT_TIME = "%Y-%m-%d %H:%M:%S%z"


class TextFormatter(logging.Formatter):
    """``YYYY-MM-DD HH:MM:SS+ZZZZ LEVEL logger: message`` (:data:`TEXT_TIME`) with control
    characters escaped (see the module docstring); exception and stack text follow, each line
    indented."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        if getattr(record, _LINES_FLAG, False):
            record.message = _lines(record.message)
        else:
            record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return _indent(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indent(super().formatStack(stack_info))

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_text and not record.exc_info:  # pre-rendered (RedactSecrets) tracebacks
            record.exc_text = _indent(record.exc_text)
        return super().format(record)


def _lines(message: str) -> str:
    """A message of several lines (:data:`LINES`): its first line, then each further one (split
    at ``\n`` only: any other line break is escaped in its line) indented by four spaces,
    every line's control characters escaped (:func:`escape_controls`)."""
    first, *rest = message.split("\n")
    return "\n".join([escape_controls(first), *("    " + escape_controls(line) for line in rest)])


def _indent(text: str) -> str:
    """Every line of a traceback indented, control characters inside lines escaped."""
    if text.startswith("    "):
        return text  # already done (a record formatted twice)
    return "\n".join("    " + escape_controls(line) for line in text.splitlines())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc |= {k: v for k, v in vars(record).items() if k not in _STD and k != _LINES_FLAG}
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exc"] = record.exc_text
        return escape_json(json.dumps(doc, ensure_ascii=False, default=str))


def setup_logging(
    level: str = "INFO",
    fmt: str = "text",
    secrets: Iterable[str] = (),
    hints: Callable[[str], str] | None = None,
) -> None:
    """The root logger's one handler on stderr. ``hints``: rewrites each message (the CLI's
    ``config_hints``: the commands a line names carry the running command's ``--config``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(PoolInterrupts())  # before RedactSecrets, which formats the traceback
    handler.addFilter(RedactSecrets(secrets))
    if hints is not None:
        handler.addFilter(RewriteMessages(hints))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            TextFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", TEXT_TIME)
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic", "apprise"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # python-telegram-bot's one record here is an ERROR with a traceback and the whole answer
    # whenever the Bot API answers with something other than JSON (a proxy's HTML error page),
    # just before it raises the NetworkError that feedsvc.bot logs as one bounded line
    logging.getLogger("telegram.request.BaseRequest").setLevel(logging.CRITICAL)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
