"""The checks of URL settings: a database URL (``database.url``, ``source.url``), which
databases can hold the state DB, and every http(s) URL setting.

Apart from the settings models so each URL rule lives once and the models only call it; these
checks import SQLAlchemy only for a URL the lite parsers (``feedsvc.db.urls``,
``feedsvc.db.sqlite_url``) cannot read themselves, which keeps read-only commands fast.
"""

from __future__ import annotations

#: The kinds of database each URL key takes, as its hints name them (``state``: ``database.url``,
#: :data:`STATE_BACKENDS`; else ``source.url``): ``database.url = "foo://bar"`` was told
#: "MariaDB/MySQL 'mysql+pymysql://'", which the state DB then refused.
KINDS = {
    True: "SQLite 'sqlite:///var/feedsvc.db', PostgreSQL 'postgresql://'",
    False: "PostgreSQL 'postgresql://', MariaDB/MySQL 'mysql+pymysql://', SQLite 'sqlite:///'",
}
#: The drivers feedsvc ships for each key's kinds.
SHIPPED = {
    True: "feedsvc ships psycopg: 'postgresql://'; the state DB is SQLite or PostgreSQL",
    False: "feedsvc ships psycopg: 'postgresql://', and PyMySQL: 'mysql+pymysql://'",
}


def check_url(value: str, *, state: bool = False) -> None:
    """Raise ValueError for a string SQLAlchemy cannot parse as a URL, or whose dialect or
    driver it cannot load; the message never repeats the value (it may hold a password), only
    its ``dialect+driver`` part. ``state``: the URL is ``database.url``, whose hints name only
    the kinds that can hold the state DB (:data:`KINDS`, :data:`SHIPPED`).

    ``sqlite://…`` URLs are accepted without asking SQLAlchemy (its URL pattern takes any text
    after ``sqlite://`` as the database), and so are the PostgreSQL URLs
    ``feedsvc.db.urls.psycopg_url`` reads, so a read-only command on an SQLite or PostgreSQL
    state DB need not import SQLAlchemy only to validate its configuration.

    Whitespace around the URL is refused: a trailing space was part of an SQLite file's name
    (``sp.db `` created beside ``sp.db``), a leading one "not a SQLAlchemy URL".
    """
    if value != value.strip():
        raise ValueError("has whitespace before or after it: remove it")
    if value.startswith(("sqlite://", "sqlite+pysqlite://")):
        from feedsvc.db.sqlite_url import url_problem

        if (problem := url_problem(value)) is not None:
            raise ValueError(problem)
        if "?" not in value:
            return
    from feedsvc.db.urls import port_problem, psycopg_url, userinfo_problem

    if not value.startswith("sqlite"):
        # before SQLAlchemy, whose int() says "invalid literal" and whose host is a password's
        # tail after an unencoded '@'
        problem = userinfo_problem(value) or port_problem(value)
        if problem is not None:
            raise ValueError(problem)
    if (parsed := psycopg_url(value)) is not None:
        if parsed.query:  # options libpq checks only when connecting (psycopg: only then)
            from feedsvc.db.libpq import libpq_problem

            if (problem := libpq_problem(parsed.psycopg_params())) is not None:
                raise ValueError(problem)
        return  # parsed as SQLAlchemy would (tests/test_db_urls.py): no SQLAlchemy import
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from feedsvc.db.drivers import driver_url

    try:
        url = driver_url(make_url(value))
    except (ArgumentError, ValueError):
        raise ValueError(
            "not a SQLAlchemy URL (expected dialect+driver://user:password@host:port/database)"
        ) from None
    # what the engine would load at the first connection: a scheme SQLAlchemy does not know
    # (`postgres://`) or a driver not installed (`postgresql+psycopg2://`) is a configuration
    # problem here, not a traceback or a plugin error from every command
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise ValueError(
            f"unknown database kind {url.drivername + '://'!r} ({KINDS[state]})"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError:
        raise ValueError(
            f"the driver of {url.drivername + '://'!r} is not installed ({SHIPPED[state]})"
        ) from None


#: The databases the state DB's schema and migrations are written and tested for (SPEC §8:
#: SQLite embedded, PostgreSQL for replicas). MariaDB/MySQL is a *source* only (SPEC §3).
STATE_BACKENDS = ("sqlite", "postgresql")


def check_state_backend(value: str) -> None:
    """Raise ValueError unless ``value`` (a URL :func:`check_url` accepted) names one of
    :data:`STATE_BACKENDS`: on another one the migrations stop half-way (MariaDB at 0009,
    ``CAST(… AS TEXT)``), leaving a state DB that neither this nor any feedsvc can use."""
    kind = value.split("://", 1)[0]
    if kind.split("+", 1)[0] not in STATE_BACKENDS:
        raise ValueError(
            f"{kind + '://'!r} cannot hold the state DB: use SQLite ('sqlite:///var/feedsvc.db') "
            "or PostgreSQL ('postgresql://user@host/db'); MariaDB/MySQL can be read as a source "
            "(source.url)"
        )
    from feedsvc.db.sqlite_url import state_problem

    if (problem := state_problem(value)) is not None:
        raise ValueError(problem)


def absolute_url(value: str) -> str:
    """The one check of every http(s) URL setting (``http.public_url``, ``http.websub_hub``,
    ``site.url``, ``telegram.base_url``, ``zalo.base_url``): a scheme, a host, a port that is a
    number, no spaces. ``"http://"`` and ``"https://exa mple.vn"`` passed a prefix test and
    failed later, at every request or render; ``telegram.base_url`` had no check at all (the
    bot retried ``UnsupportedProtocol`` forever while ``config check`` said OK)."""
    from urllib.parse import urlsplit

    expected = "must be an absolute http(s) URL (e.g. https://example.vn/)"
    if not value.startswith(("http://", "https://")) or any(
        c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value
    ):
        raise ValueError(expected)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # a port out of range or not a number, an unclosed "[" of an IPv6 host
        raise ValueError(f"{expected}: its host or port cannot be read") from None
    if not parts.hostname:
        raise ValueError(f"{expected}: no host after {parts.scheme}://")
    if port == 0:
        raise ValueError(f"{expected}: the port after the host is not 1-65535")
    return value


def https_link(value: str) -> str:
    """``zalo.link``, the address a reader opens to chat with the Zalo bot (as Zalo's bot
    creator gives it): an absolute URL (:func:`absolute_url`) over https, without a user or
    password. It is printed on the public reader pages and drawn as a QR code for phones, so
    a plain-http, relative or credential-bearing value is refused by ``config check`` rather
    than shown to every reader."""
    from urllib.parse import urlsplit

    expected = "must be an absolute https URL (e.g. https://zalo.me/...)"
    try:
        absolute_url(value)
    except ValueError:
        raise ValueError(expected) from None
    parts = urlsplit(value)
    if parts.scheme != "https":
        raise ValueError(f"{expected}: it begins with {parts.scheme}://")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{expected}: no user or password before the host")
    return value


#: What python-telegram-bot replaces with the token in a base URL (``telegram._bot``); any
#: other base URL gets the token appended to it as it is.
_TOKEN_INSERTIONS = ("{token}", "{TOKEN}", "{bot_token}", "{BOT_TOKEN}", "{bot-token}",
                     "{BOT-TOKEN}")  # fmt: skip


def bot_api_base_problem(value: str) -> str | None:
    """Why ``telegram.base_url`` (an absolute URL: :func:`absolute_url`) cannot be the Bot
    API's base, or None: its path must end in ``/bot``, as the Bot API's
    (``https://api.telegram.org/bot``) and a local Bot API server's
    (``http://127.0.0.1:8081/bot``) do, or it marks where the token goes (``{token}``). The
    token is appended to any other as it is: ``https://api.telegram.org`` made
    ``https://api.telegram.org123456:AAF…/getMe``, the bot retried an invalid URL for ever
    while ``config check`` said OK, and the error named the token's secret half as the port."""
    if value.endswith("/bot") or any(i in value for i in _TOKEN_INSERTIONS):
        return None
    return (
        "must end in /bot, the Bot API's path, after which the token is added as it is "
        "(…/bot<TOKEN>/getMe): e.g. https://api.telegram.org/bot, or http://127.0.0.1:8081/bot "
        "for a local Bot API server"
    )


def published_url(value: str) -> str:
    """An http(s) URL setting every feed or page shows (``http.public_url``, ``site.url``,
    ``http.websub_hub``: feeds name the hub for subscribers to reach): :func:`absolute_url`,
    without a user name or password. ``site.url`` and the hub's were published as they were —
    in every feed's links, the JSON Feed's ``home_page_url`` and ``hubs``, the home page — and
    the hub's password was logged with each failed ping (a tester's report), while
    ``config show`` masked it as a secret."""
    from urllib.parse import urlsplit

    value = absolute_url(value)
    parts = urlsplit(value)
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not hold a user name or password: it is published in every feed")
    return value


def public_base_url(value: str) -> str:
    """``http.public_url``: :func:`published_url`, and a base other addresses are appended to
    (``<public_url>/feeds/x.rss``), so no query or fragment (``https://x.vn/rss?a=1`` became
    ``https://x.vn/rss?a=1/feeds/x.rss`` in every feed)."""
    value = published_url(value)
    if "?" in value:  # an empty query ("…/rss?") too
        raise ValueError("must not have a query string (?…): feed addresses are appended to it")
    if "#" in value:  # an empty fragment too
        raise ValueError("must not have a fragment (#…): feed addresses are appended to it")
    return value


def listener_url(host: str, port: int) -> str:
    """The address ``http.host``:``http.port`` is reached at on this machine, ``http.public_url``'s
    default when the operator leaves it unset: ``http://127.0.0.1:8080`` for the defaults, the
    loopback address of an unspecified one's family (``0.0.0.0``: ``127.0.0.1``; ``::``, which
    may take IPv6 connections only: ``[::1]``), an IPv6 literal in brackets (RFC 3986 §3.2.2)."""
    import ipaddress

    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        name = host or "127.0.0.1"  # a host name, or every address
    else:
        if address.is_unspecified:  # "::" may take IPv6 only: its loopback is the one sure
            name = "127.0.0.1" if address.version == 4 else "[::1]"
        else:
            name = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{name}:{port}"


def is_loopback_host(host: str) -> bool:
    """Whether ``http.host`` only takes connections from this machine (``127.x``, ``::1``,
    ``localhost``): then a default ``http.public_url`` pointing at it is not a mistake."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(value: str) -> str:
    """``http.host``: an IP address or a host name (RFC 1123 labels), returned as given; else
    ValueError saying what to write. ``"127.0.0.1 "`` passed `config check` and `run` then
    could not listen ("name or service not known")."""
    import ipaddress
    import re

    try:
        ipaddress.ip_address(value)
    except ValueError:
        label = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
        labels = value.removesuffix(".").split(".")
        numeric = all(part.isdigit() for part in labels)  # 999.1.1.1: no IPv4 address
        if not value or len(value) > 253 or numeric or not all(map(label.fullmatch, labels)):
            raise ValueError(
                f"not an IP address or a host name (got {value!r}): e.g. 127.0.0.1 "
                "(this machine only), 0.0.0.0 or :: (every address), localhost"
            ) from None
    return value


def check_networks(value: list[str]) -> list[str]:
    """``http.trusted_proxies``: each an IP address or CIDR network (host bits allowed),
    returned trimmed; else ValueError naming the item."""
    import ipaddress

    for item in value:
        try:
            ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            raise ValueError(f"not an IP address or CIDR network: {item!r}") from None
    return [item.strip() for item in value]
