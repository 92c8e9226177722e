"""Apprise's own log records, kept from telling anything of the URL they came from (SPEC §11:
Apprise URLs are secrets, never logged; FIELD-NOTES "Apprise").

Apprise logs the URL it works with in forms no exact-match scrubber can catch: abbreviated by
its "privacy" print (``mailto://bob:H...w@1...1``, ``...2pw1``), quoted or URL-decoded, lower-cased,
or rebuilt into an e-mail address (``Invalid ~From~ email specified: Apprise <bob@127.0.0.1>``).
:func:`feedsvc.logs.register_secret` knows the URL and its parts only as typed, so Apprise's
records never reach feedsvc's handlers as they are. :func:`install` takes the ``apprise`` logger
off the root logger, with ``urllib3`` and ``requests`` (only Apprise's plugins use them in
feedsvc; at DEBUG urllib3 logs each request line, the Discord token in its path), children
included, and gives them one handler, :class:`Bridge`, which:

- passes on no record while a URL is checked (:func:`checking`, around ``Apprise.instantiate``):
  feedsvc says its own one line (``not an Apprise URL Apprise can send to`` on the CLI, a 422,
  the admin's form error; a send's outcome), Apprise's would add nothing but the URL; one of
  WARNING or above, cleaned as below, is handed to the check instead (a part of the URL
  Apprise ignores: an ntfy topic, a mail recipient it finds invalid, refused naming it);
- while a notification is sent (:func:`sending`) passes on a record of WARNING or above (why a
  destination refused, which feedsvc's outcome cannot say: an operator needs it) as one line
  of the ``feedsvc.apprise`` logger: the URL's mask (``json://***#36d83e``), then Apprise's text
  with every URL, every ``x@y`` address, every privacy abbreviation and every piece of the URL
  (user, password, host, path segments, query values: as typed, decoded or quoted, any case)
  replaced by ``***``. A record below WARNING is dropped (they carry the request URL with its
  token, the payload), and a traceback is reduced to its exception's type (its text holds the
  request URL);
- outside both (Apprise logging on its own) passes on WARNING and above, cleaned the same way
  but for the pieces of a URL it does not know.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, unquote_plus, urlsplit

#: Where Apprise's records, cleaned, are written.
LOGGER = "feedsvc.apprise"


@dataclass(frozen=True)
class _Scope:
    """What the current thread is doing with an Apprise URL: ``check`` or ``send`` it."""

    action: str
    label: str  # the URL's mask
    pieces: tuple[re.Pattern[str], ...]
    #: while checking: Apprise's records of WARNING or above, cleaned (:func:`checking`)
    heard: list[str] = field(default_factory=list)


_scope: ContextVar[_Scope | None] = ContextVar("feedsvc_apprise_scope", default=None)

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S*")
_ADDRESS = re.compile(r"[^\s\"'<>()\[\],;]*@[^\s\"'<>()\[\],;]*")
#: Apprise's privacy print: ``H...w`` (first and last character), ``...2pw1`` (the last four).
_ABBREVIATED = re.compile(r"[^\s.]?\.\.\.[^\s.]{1,4}")
#: A piece at least this long is scrubbed wherever it appears; a shorter one (a two-letter
#: password) only where it stands alone, not inside a word.
_ANYWHERE = 6


def url_pieces(url: str) -> list[str]:
    """Every piece of ``url`` that names or unlocks the destination (user, password, host,
    path segments, query values), each as typed, decoded (``%xx``, and ``+`` as a space) and
    quoted, longest first."""
    parts = urlsplit(url)
    raw = [parts.username or "", parts.password or "", parts.hostname or ""]
    raw += [seg for seg in parts.path.split("/") if seg]
    raw += [value for _, value in parse_qsl(parts.query, keep_blank_values=False)]
    if "@" in parts.netloc:
        raw.append(parts.netloc.rsplit("@", 1)[0])  # user:password as typed
    forms = set()
    for piece in raw:
        for form in (piece, unquote(piece), unquote_plus(piece)):
            forms |= {form, quote(form, safe=""), quote(form, safe="/@:")}
    return sorted((f for f in forms if f.strip()), key=len, reverse=True)


def _patterns(url: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for piece in url_pieces(url):
        text = re.escape(piece)
        if len(piece) < _ANYWHERE:
            text = rf"(?<![A-Za-z0-9]){text}(?![A-Za-z0-9])"
        out.append(re.compile(text, re.IGNORECASE))
    return tuple(out)


def clean(text: str, pieces: tuple[re.Pattern[str], ...] = ()) -> str:
    """``text`` with every URL, address, privacy abbreviation and piece replaced by ``***``."""
    text = _URL.sub("***", text)
    text = _ADDRESS.sub("***", text)
    text = _ABBREVIATED.sub("***", text)
    for pattern in pieces:
        text = pattern.sub("***", text)
    return text


@contextmanager
def checking(url: str = "") -> Iterator[list[str]]:
    """Apprise's records dropped while this thread checks ``url``: passed on to no handler;
    those of WARNING or above are kept in the list it yields, cleaned of ``url`` as a send's
    records are (:func:`clean`: ``A specified ntfy topic (***) is invalid and will be
    ignored``). What Apprise says there is a part of the URL it ignores: the caller refuses
    the URL with it (:func:`feedsvc.channels.apprise_urls.checked_url`)."""
    scope = _Scope("check", "", _patterns(url) if url else ())
    token = _scope.set(scope)
    try:
        yield scope.heard
    finally:
        _scope.reset(token)


@contextmanager
def sending(url: str, label: str) -> Iterator[None]:
    """Apprise's records of WARNING or above, cleaned of ``url``, passed on while this thread
    sends to it (the module docstring)."""
    token = _scope.set(_Scope("send", label, _patterns(url)))
    try:
        yield
    finally:
        _scope.reset(token)


class Bridge(logging.Handler):
    """The ``apprise`` logger's one handler (the module docstring)."""

    def emit(self, record: logging.LogRecord) -> None:
        scope = _scope.get()
        if record.levelno < logging.WARNING:
            return
        try:
            text = record.getMessage()
        except Exception:  # a bad format string in a plugin: nothing of it is passed on
            text = "(a record that could not be formatted)"
        text = clean(" ".join(text.split()), scope.pieces if scope else ())
        if record.exc_info and record.exc_info[0] is not None:
            text += f" ({record.exc_info[0].__name__})"
        if scope is not None and scope.action == "check":
            scope.heard.append(text)  # for the check's answer, never a handler
            return
        label = scope.label if scope else record.name
        logging.getLogger(LOGGER).log(record.levelno, "%s: %s", label, text)


#: The loggers routed through :class:`Bridge`.
ROUTED = ("apprise", "urllib3", "requests")
_bridge = Bridge()


def install() -> None:
    """Route the :data:`ROUTED` loggers through :class:`Bridge` only (cheap when already done;
    done again if something replaced their handlers). Their records no longer reach the root
    logger's handlers as they are; the cleaned line's logger has a NullHandler, so a process
    that set up no logging prints nothing (as Apprise's own NullHandler did)."""
    for name in ROUTED:
        log = logging.getLogger(name)
        if _bridge not in log.handlers:
            log.addHandler(_bridge)
        log.propagate = False
    apprise_log = logging.getLogger("apprise")
    if apprise_log.getEffectiveLevel() > logging.WARNING:  # (a root at ERROR): the check
        apprise_log.setLevel(logging.WARNING)  # must hear what Apprise ignores; Bridge decides
    out = logging.getLogger(LOGGER)
    if not any(isinstance(h, logging.NullHandler) for h in out.handlers):
        out.addHandler(logging.NullHandler())
