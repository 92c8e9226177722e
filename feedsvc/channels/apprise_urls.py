"""Apprise URLs as an admin gives them (SPEC §11: admin-configured destinations, secrets):
checked on subscribe, written in one form, compared, masked when shown. Split from
:mod:`feedsvc.channels.apprise` (the sending), which passed 400 lines.

:func:`checked_url` is **the one decision** whether a URL can be an Apprise destination and
the one form feedsvc stores, compares, masks and sends: an IRI's characters outside ASCII
written as a URI's (RFC 3987 §3.1, as a browser sends an address typed with them): each
percent-encoded as its UTF-8 bytes — in the user, the password, the path, the query and the
fragment —, and a host name in IDNA (``json://ví-dụ.vn/hook`` is
``json://xn--v-d-rma6749a.vn/hook``) where the service's URL has a host there
(:func:`_names_a_host`); where it has a token or a topic instead (``ntfy://{topic}``), that is
percent-encoded like the rest and the service judges it. Apprise reads the encoded form as it
reads the raw one (it decodes every part), so nothing changes for the destination, and the URL
typed raw and the URL typed encoded are one recipient, one mask. (Not judged: a user name or
password outside ASCII, taken encoded before as now, which a service sending it as text takes
and one sending HTTP Basic credentials — ``json://``, ``ntfy://`` — cannot carry beyond
Latin-1: that one is refused, :func:`header_problem`.)

Why not refuse them, as feedsvc did (``url.isascii()`` since the channel came, issue 14, "percent-
encode the rest"): the refusal said "not an Apprise URL Apprise can send to" of
``json://127.0.0.1:9/hook/tin-kiến-thụy``, which Apprise sends to, and which feedsvc took
percent-encoded; nothing but that form depended on it. What Apprise cannot use is still
refused, and said: a URL none of its services takes (``address_invalid``), and one a service
takes while ignoring part of it (``address_part_ignored``: an ntfy topic or a mail recipient
with letters outside ASCII, an option value it finds invalid; the URL was stored and every
alert failed, or went to the sender's own mailbox), named by Apprise's own warning with every
piece of the URL replaced by ``***`` (:func:`.apprise_logs.checking`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit

import idna

from feedsvc.channels import apprise_logs
from feedsvc.logs import register_secret
from feedsvc.recipient_names import mask as mask  # re-exported: the one mask

MAX_URL_CHARS = 2000
#: Where the authority of ``scheme://authority/path?query#fragment`` ends (RFC 3986 §3.2).
_AUTHORITY_END = re.compile(r"[/?#]")


class UrlProblem(ValueError):
    """Why a URL cannot be an Apprise destination: ``code`` (an ``op.*`` catalogue key's
    suffix), ``detail``: Apprise's own words, cleaned of the URL (``address_part_ignored``)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code, self.detail = code, detail


def checked_url(url: str) -> str:
    """``url`` as feedsvc stores and sends it (the module docstring), or :class:`UrlProblem`:
    ``address_length`` (empty, or more than :data:`MAX_URL_CHARS` characters as typed or as
    stored), ``address_invalid`` (a space, a character that is not printable, no ``://``, a
    URL ``urlsplit`` refuses, a port no TCP port has, none of Apprise's services takes it),
    ``address_part_ignored`` (a service takes it and ignores part of it),
    ``address_header_invalid`` (a part it sends in an HTTP header no header can carry:
    :func:`header_problem`). Imports Apprise;
    what it logs meanwhile is no log line (:func:`.apprise_logs.checking`), and the URL, as
    typed and as stored, is registered as a secret all the same."""
    if not url or len(url) > MAX_URL_CHARS:
        raise UrlProblem("address_length")
    if not url.isprintable() or " " in url or "://" not in url:
        raise UrlProblem("address_invalid")
    register_secret(url, *secret_parts(url))
    stored = _as_uri(url)
    named = _as_uri(url, idna_host=True)
    if named not in (None, stored):  # a host name outside ASCII: IDNA where it is a host
        assert named is not None
        register_secret(named, *secret_parts(named))
        plugin = plugin_for(named)
        if plugin is not None and _names_a_host(plugin):
            stored = named
    assert stored is not None
    register_secret(stored, *secret_parts(stored))
    if len(stored) > MAX_URL_CHARS:
        raise UrlProblem("address_length")
    parts = _split(stored)
    if parts is None or _port_out_of_range(parts):
        raise UrlProblem("address_invalid")
    heard: list[str] = []
    if plugin_for(stored, heard) is None:
        raise UrlProblem("address_invalid")
    if heard:
        raise UrlProblem("address_part_ignored", heard[0])
    unsendable = header_problem(stored)
    if unsendable is not None:
        raise UrlProblem("address_header_invalid", unsendable)
    return stored


#: An HTTP header name: a token (RFC 9110 §5.1, §5.6.2)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Per Apprise plugin class: the header each of its attributes is sent in (beyond ``headers``,
#: the ``+name=value`` options of ``json://``, ``xml://``, ``form://`` and other HTTP services)
_HEADER_ATTRS = {
    "NotifyNtfy": {
        "token": "Authorization", "email": "X-Email", "delay": "X-Delay",
        "_NotifyNtfy__tags": "X-Tags", "_NotifyNtfy__actions": "X-Actions",
    },
}  # fmt: skip


def header_problem(url: str) -> str | None:
    """What of ``url`` its Apprise plugin would send in an HTTP header that no header can
    carry, named for the ``address_header_invalid`` answer (the option's name, ``***`` for a
    name that is itself unsendable; never a value), or None. A header's name must be a token
    and its value Latin-1 with no line break (RFC 9110 §5.5; ``http.client`` encodes values
    as Latin-1, ``requests`` its Basic credentials too): ``json://h/x?+X-Auth=ả`` was taken,
    then every alert raised ``UnicodeEncodeError`` inside Apprise. The one check at subscribe
    (:func:`checked_url`) and when a send raised (:mod:`.apprise`). None for a URL no plugin
    takes."""
    plugin: Any = plugin_for(url)
    if plugin is None:
        return None
    sent: list[tuple[str, str, object]] = []  # (named as, header name, value)
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict):
        sent += [(f"+{k}" if _TOKEN.fullmatch(str(k)) else "+***", str(k), v)
                 for k, v in headers.items()]  # fmt: skip
    named = _HEADER_ATTRS.get(type(plugin).__name__, {})
    if isinstance(headers, dict) or named:  # an HTTP service: Basic credentials are a header
        sent += [("user", "Authorization", getattr(plugin, "user", None)),
                 ("password", "Authorization", getattr(plugin, "password", None))]  # fmt: skip
    for attr, header in named.items():
        value = getattr(plugin, attr, None)
        shown = attr.rpartition("__")[2]
        sent.append(
            (shown, header, ",".join(map(str, value)) if isinstance(value, list) else value)
        )
    for shown, header, value in sent:
        if not _TOKEN.fullmatch(header) or not _header_value_ok(value):
            return shown
    return None


def _header_value_ok(value: object) -> bool:
    """Whether ``value`` can be an HTTP header's value: None (not sent), or text in Latin-1
    with no CR, LF or NUL (what ``http.client`` refuses)."""
    if value is None:
        return True
    text = str(value)
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return not any(c in text for c in "\r\n\0")


def address_problem(url: str) -> str | None:
    """Why ``url`` cannot be an Apprise destination (an ``op.*`` error code), or None
    (:func:`checked_url`)."""
    try:
        checked_url(url)
    except UrlProblem as exc:
        return exc.code
    return None


def _encoded(text: str) -> str:
    """``text`` with each character outside ASCII percent-encoded as its UTF-8 bytes; ASCII,
    ``%`` included, as it is (an encoded URL is left as it is)."""
    if text.isascii():
        return text
    return "".join(c if c.isascii() else quote(c, safe="") for c in text)


def _as_uri(url: str, *, idna_host: bool = False) -> str | None:
    """``url`` with its characters outside ASCII written as a URI's (:func:`_encoded`); its
    host name, with ``idna_host``, in IDNA (UTS #46, as :mod:`feedsvc.feeds.sanitize` writes
    an article link's), None when the host is no name IDNA takes."""
    if url.isascii():
        return url
    scheme, sep, rest = url.partition("://")
    found = _AUTHORITY_END.search(rest)
    end = found.start() if found else len(rest)
    userinfo, at, hostport = rest[:end].rpartition("@")
    if idna_host and not hostport.isascii():
        host, colon, port = hostport.rpartition(":")
        if not (colon and port.isdigit()):
            host, colon, port = hostport, "", ""
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
        hostport = f"{host}{colon}{port}"
    head = f"{_encoded(scheme)}{sep}{_encoded(userinfo)}{at}{_encoded(hostport)}"
    return head + _encoded(rest[end:])


def _split(url: str) -> SplitResult | None:
    """``urlsplit(url)``, or None for a URL it refuses with ``ValueError``: an unclosed or stray
    IPv6 bracket (``json://[::1``, ``json://a]b/``), a bracketed host that is no address
    (``json://[x]/``). Such a typo was a 500 with a traceback from ``POST /api/subscriptions``
    and a traceback from ``subs add`` and the admin's form; it is an invalid address."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def secret_parts(url: str) -> list[str]:
    """The parts of ``url`` that may be credentials: user, password, path segments and query
    values (a Discord token is a path segment, a Slack token a host), and the host unless it is
    a dotted name or an IP address. All are scrubbed from logs. Nothing for a URL ``urlsplit``
    refuses (:func:`_split`): the caller registers the whole URL, and such a URL is refused
    (:func:`address_problem`), never stored or sent."""
    parts = _split(url)
    if parts is None:
        return []
    found = [parts.username or "", parts.password or ""]
    found += [unquote(seg) for seg in parts.path.split("/") if seg]
    found += [value for _, value in parse_qsl(parts.query)]
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if "." not in host:
            found.append(host)
    return [p for p in found if len(p) >= 6]


def same_destination(url: str, others: Sequence[str]) -> str | None:
    """The first of ``others`` that Apprise reads as the same destination with the same options
    as ``url``, or None. Apprise's own canonical form decides (``URLBase.url(privacy=False)``:
    the scheme's case, parameter order, a default spelled out or left out, a slash Apprise's
    plugin ignores — ``ntfy://host/topic/`` — are not differences; a target, an option's value,
    a webhook's path ``/hook`` against ``/hook/``, which a web server may route apart, are).
    Why not ``url_id()``: Apprise leaves targets out of it, so two ntfy topics or two mail
    recipients of one account share one. ``url`` must be valid (:func:`address_problem`); an
    unparsable entry of ``others`` matches nothing. The canonical forms hold credentials: they
    stay in this call."""
    wanted = _canonical(url)
    if wanted is None:
        return None
    return next((other for other in others if _canonical(other) == wanted), None)


def _canonical(url: str) -> str | None:
    """Apprise's canonical form of ``url``, or None when no plugin takes it or its plugin
    fails to say it (one odd stored URL must not fail every new subscription)."""
    plugin: Any = plugin_for(url)
    if plugin is None:
        return None
    try:
        with apprise_logs.checking():
            canonical = str(plugin.url(privacy=False))
    except Exception:  # a plugin's own bug: that URL is compared by its text alone
        return None
    return _host_lowered(canonical) if _names_a_host(plugin) else canonical


def _names_a_host(plugin: object) -> bool:
    """Whether every URL form of ``plugin``'s service (its Apprise ``templates``) has
    ``{host}`` in the host position (``json://``, ``xml://``, ``form://``, ``mailto://``): a
    name DNS reads in any case (RFC 3986 §3.2.2). Not where a form puts a token or a topic there
    (``tgram://{bot_token}``, ``slack://{token_a}``, ``ntfy://{topic}``): its case may matter."""
    templates = getattr(plugin, "templates", ())
    hosts = [_HOST_SLOT.match(t) for t in templates if isinstance(t, str)]
    return bool(hosts) and all(m is not None and m.group(1) == "host" for m in hosts)


#: The placeholder in the host position of an Apprise URL template, after any ``…@``
_HOST_SLOT = re.compile(r"\{schema\}://(?:[^/]*@)?\{(\w+)\}")


def _host_lowered(url: str) -> str:
    """``url`` with its host name in lower case (user, password, port, path kept)."""
    parts = _split(url)
    if parts is None or not parts.hostname:
        return url
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):  # an IPv6 literal: hex digits, one address in any case
        return url
    host, colon, port = hostport.partition(":")
    return parts._replace(netloc=f"{userinfo}{at}{host.lower()}{colon}{port}").geturl()


def _port_out_of_range(parts: SplitResult) -> bool:
    """Whether the host's port is a number no TCP port has (0, or above 65535). Apprise's
    plugins take ``json://host:99999/x`` and only fail at the first send, in the delivery
    log; a subscriber's typo belongs in the answer to ``subs add``. Only an all-digit port is
    judged: a ``tgram://123456:TOKEN`` netloc's colon is no port's."""
    netloc = parts.netloc.rpartition("@")[2]
    if netloc.startswith("["):  # an IPv6 literal: its port follows the bracket
        host, _, rest = netloc.partition("]")
        colon, port = rest[:1], rest[1:]
    else:
        host, colon, port = netloc.rpartition(":")
    return bool(colon == ":" and host and port.isdigit() and not 0 < int(port) <= 65535)


def plugin_for(url: str, heard: list[str] | None = None) -> object | None:
    """Apprise's plugin for ``url``, or None; Apprise's log records dropped meanwhile, those of
    WARNING or above, cleaned of the URL, added to ``heard`` (:func:`.apprise_logs.checking`)."""
    apprise_logs.install()  # before the import: Apprise may log while loading its plugins
    import apprise

    with apprise_logs.checking(url) as said:
        plugin = apprise.Apprise.instantiate(url)
    if heard is not None:
        heard += said
    return plugin
