"""Web admin sessions, CSRF tokens and the admin token's failure limit (the login form, the API's
and ``/readyz``'s Bearer token: :func:`check_bearer`) — stateless, keyed by the admin token.

Every secret is derived from the admin token with HMAC, so nothing has to be stored: a restart
keeps sessions valid, and changing the token invalidates every session, CSRF token and flash
message at once (that is how an operator logs everyone out). A session cookie is
``<id>.<issued unix time>.<hmac>``; the CSRF token of a session is an HMAC of its id, so a
page from one session cannot be replayed in another, and a cross-site form cannot know it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request

from feedsvc.bounded_log import BoundedLog
from feedsvc.config import Settings
from feedsvc.ratelimit import TOKEN_FAILURES, TOKEN_WINDOW, FailureLimiter

log = logging.getLogger(__name__)

#: A wrong admin token, one WARNING per try (:func:`token_refused`): what an operator greps
#: for a guesser's address. A client may send them as fast as it likes (the failure limit is
#: per address), so bounded (:class:`~feedsvc.bounded_log.BoundedLog`).
REFUSED_TOKENS = BoundedLog(log, ("admin token refused", "admin tokens refused"))
#: ``admin.token_file`` unreadable: read on every admin and API request, so bounded too.
UNREADABLE_TOKEN = BoundedLog(
    log,
    ("failed read of admin.token_file", "failed reads of admin.token_file"),
    level=logging.ERROR,
)

SESSION_COOKIE = "feedsvc_admin"
LOGIN_COOKIE = "feedsvc_login"  # pre-session nonce: the login form has a CSRF token too
FLASH_COOKIE = "feedsvc_flash"
SESSION_SECONDS = 12 * 3600
LOGIN_FAILURES = TOKEN_FAILURES  # failures allowed per window and client address, then 429
LOGIN_WINDOW = TOKEN_WINDOW


def derive_key(token: str) -> bytes:
    """The signing key: an HMAC of a fixed label, so the raw token never signs anything."""
    return hmac.new(token.encode(), b"feedsvc-session", hashlib.sha256).digest()


def _sign(key: bytes, purpose: str, value: str) -> str:
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def configured_token(settings: Settings) -> str | None:
    """The admin token, or None when none is set or its file cannot be read (the admin and
    the API then answer 503 "not configured", never 500; the reason is logged, not the
    token). One place for the web admin and the API."""
    try:
        return settings.admin_token()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        UNREADABLE_TOKEN.log(
            "admin.token_file %s cannot be read: %s", settings.admin.token_file, reason
        )
        return None


class Malformed(ValueError):
    """A cookie or CSRF value that no feedsvc could have issued (→ 400, not a failed check).

    Everything feedsvc signs is ASCII; a client sending other bytes (Starlette hands cookie
    bytes over as Latin-1 text, form fields as UTF-8) is broken or probing.
    """


def require_ascii(value: str) -> str:
    """``value`` if ASCII, else :class:`Malformed` (every token feedsvc issues is ASCII)."""
    if not value.isascii():
        raise Malformed("non-ASCII characters in a session cookie or CSRF token")
    return value


def _equal(given: str, expected: str) -> bool:
    """Constant-time comparison of text of any content (``hmac.compare_digest`` raises
    TypeError for non-ASCII ``str``; bytes it compares whatever they hold)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def check_token(given: str, expected: str) -> bool:
    """Constant-time comparison of the submitted admin token."""
    return _equal(given, expected)


@dataclass(frozen=True)
class Session:
    id: str
    issued: int


def new_session_cookie(key: bytes, now: float | None = None) -> str:
    sid = secrets.token_urlsafe(18)
    issued = int(now if now is not None else time.time())
    return f"{sid}.{issued}.{_sign(key, 'session', f'{sid}.{issued}')}"


def read_session(key: bytes, cookie: str | None, now: float | None = None) -> Session | None:
    """The session in a cookie when its signature is valid and it has not expired.
    Raises :class:`Malformed` for a cookie holding non-ASCII characters."""
    if not cookie or require_ascii(cookie).count(".") != 2:
        return None
    sid, issued, sig = cookie.split(".")
    if not _equal(sig, _sign(key, "session", f"{sid}.{issued}")):
        return None
    try:
        at = int(issued)
    except ValueError:
        return None
    current = now if now is not None else time.time()
    if not at - 60 <= current <= at + SESSION_SECONDS:
        return None
    return Session(sid, at)


def csrf_token(key: bytes, session_id: str) -> str:
    return _sign(key, "csrf", session_id)


def check_csrf(key: bytes, session_id: str, given: str | None) -> bool:
    """Raises :class:`Malformed` for a token holding non-ASCII characters."""
    return bool(given) and _equal(require_ascii(str(given)), csrf_token(key, session_id))


def sign_value(key: bytes, value: str) -> str:
    """``value|hmac`` for small client-held values (the flash message, the login nonce)."""
    return f"{value}|{_sign(key, 'value', value)}"


def unsign_value(key: bytes, signed: str | None) -> str | None:
    """The value when its signature is valid. Raises :class:`Malformed` for non-ASCII."""
    if not signed or "|" not in require_ascii(signed):
        return None
    value, sig = signed.rsplit("|", 1)
    return value if _equal(sig, _sign(key, "value", value)) else None


def origin_allowed(request: Request, public_url: str) -> bool:
    """A browser's ``Origin`` on a POST must be this site (its public URL or the Host it used).

    Absent ``Origin`` is allowed (older browsers, same-origin GET-to-POST); the CSRF token is
    the real check, this is defence in depth.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    pub = urlsplit(public_url)
    allowed = {f"{pub.scheme}://{pub.netloc}", f"{request.url.scheme}://{request.url.netloc}"}
    host = request.headers.get("host")
    if host:
        allowed.add(f"{request.url.scheme}://{host}")
    return origin.rstrip("/") in allowed


#: The admin login form's limiter, now the one limiter of every admin-token check: the class
#: moved to :mod:`feedsvc.ratelimit` (a sliding window of failures per client address).
LoginLimiter = FailureLimiter


@dataclass(frozen=True)
class BearerCheck:
    """What an ``Authorization`` header proved: ``ok``; ``offered`` (a header was sent, so it
    was a try); ``wait``, seconds until this client may try again when it is locked out (the
    token was then not compared at all: a right guess during a lockout is not told apart)."""

    ok: bool
    offered: bool
    wait: float | None = None


def check_bearer(
    limiter: FailureLimiter, client: str, header: str | None, expected: str
) -> BearerCheck:
    """The admin token as a Bearer token, under the login form's failure limit (tester F8):
    one rule for ``/api/`` and ``/readyz``, one budget per client address shared with the login
    form (``limiter`` is the service's one, ``client`` :func:`feedsvc.web.clients.request_client`:
    ``X-Forwarded-For`` only from ``http.trusted_proxies``).

    As at the login form: while the address is locked out (:data:`LOGIN_FAILURES` failures in
    :data:`LOGIN_WINDOW` seconds) even the right token is refused, so guessing on gains nothing;
    a right token clears the address's failures. No header is no try: not counted."""
    if header is None:
        return BearerCheck(ok=False, offered=False)
    wait = limiter.blocked(client)
    if wait is not None:
        return BearerCheck(ok=False, offered=True, wait=wait)
    scheme, _, given = header.partition(" ")
    if scheme.lower() == "bearer" and check_token(given.strip(), expected):
        limiter.succeeded(client)
        return BearerCheck(ok=True, offered=True)
    token_refused(limiter, client, "Bearer token")
    return BearerCheck(ok=False, offered=True)


def token_refused(limiter: FailureLimiter, client: str, how: str) -> None:
    """A wrong admin token from ``client`` (``how``: the login form, a Bearer token): counted
    against its address (``limiter``) and one bounded WARNING line, never the token sent."""
    limiter.failed(client)
    REFUSED_TOKENS.log("admin token refused from %s (%s)", client, how, source=client)
