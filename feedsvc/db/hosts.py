"""The hosts and ports of a PostgreSQL URL's query, read as SQLAlchemy's PostgreSQL dialect reads
them (``PGDialect._split_multihost_from_url``, SQLAlchemy 2.0), without importing it.

Why: a multi-host URL (a primary and its standbys, tried in turn by libpq; with
``target_session_attrs=read-write`` the one taking writes) has two query forms SQLAlchemy
accepts, ``?host=h1:5432&host=h2:5433`` and ``?host=h1,h2&port=5432,5433``, and the engine
rewrites them into libpq's ``host=h1,h2 port=5432,5433`` only when it connects. ``feedsvc
config check`` passed a port of 99999 or "x" in the second host, three ports for two hosts, or
both forms mixed, and every command then failed at connect time; the lite path of ``status``
and ``topics list`` (``feedsvc.store.lite``) could not read these URLs at all, and for
``postgresql://u@h:7/db?host=h1,h2`` it would have kept port 7 where SQLAlchemy passes none.

:func:`query_hosts` is that reading, with SQLAlchemy's refusals (and the ports it passes on
that libpq refuses: not a number, out of range) as :class:`HostsError`, worded for an operator:
which host, never a password. ``tests/test_db_hosts.py`` compares it with SQLAlchemy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: SQLAlchemy's reading of one ``host=name:port`` value given alone (RFC 1123 names).
_ONE_HOST_PORT = re.compile(r"^([a-zA-Z0-9\-\.]*)(?:\:(\d*))?$")
#: The TCP ports a URL may name.
PORTS = range(1, 65536)
#: The two query forms, for advice.
FORMS = "?host=h1:5432&host=h2:5433, or ?host=h1,h2&port=5432,5433"


class HostsError(ValueError):
    """The query's hosts and ports cannot be connected to as written (the message says why)."""


@dataclass(frozen=True, slots=True)
class Hosts:
    """The hosts libpq is given, in order, and each one's port (None: libpq's default)."""

    hosts: tuple[str, ...]
    ports: tuple[int | None, ...]

    def conninfo(self) -> dict[str, str]:
        """``host`` and, when any host has one, ``port`` as libpq keywords (comma-separated,
        an empty place for the default), as SQLAlchemy's psycopg dialect passes them."""
        out = {"host": ",".join(self.hosts)}
        ports = ",".join(str(p) if p else "" for p in self.ports)
        if ports:  # "," for two hosts without ports: SQLAlchemy passes it, and so do we
            out["port"] = ports
        return out


def _count(n: int, what: str) -> str:
    return f"no {what}" if n == 0 else f"{n} {what}" + ("s" if n > 1 else "")


def _nth(i: int, count: int) -> str:
    return "the host" if count == 1 else f"host {i + 1} of {count}"


def _port(text: str, i: int, hosts: Sequence[str]) -> int | None:
    """The ``i``-th port as written, for ``hosts`` (the query's, maybe none or fewer): None
    when empty (libpq's default)."""
    if text == "":
        return None
    if i < len(hosts):
        where = f"the port of {_nth(i, len(hosts))} ({hosts[i] or 'the default host'})"
    else:
        where = "the query's port" if len(hosts) <= 1 else f"the query's port {i + 1}"
    if not (text.isascii() and text.isdigit()):
        raise HostsError(f"{where} is not a number (a TCP port is 1-65535)")
    if int(text) not in PORTS:
        raise HostsError(f"{where} is out of range (a TCP port is 1-65535)")
    return int(text)


def query_hosts(query: Sequence[tuple[str, str]]) -> Hosts | None:
    """The hosts and ports ``query`` (a URL's ``key=value`` pairs in order, ``host`` and
    ``port`` possibly repeated) gives libpq; None when it names no host (the URL's own host,
    if any, is used as written). Raises :class:`HostsError` for what SQLAlchemy refuses (both
    forms mixed, a port count that does not match, a port that is no number) or mangles (an
    IPv6 address in the repeated form), and for a port out of range, which libpq refuses."""
    hosts_given = [v for k, v in query if k == "host"]
    ports_given = [v for k, v in query if k == "port"]
    hosts: list[str] | None = None
    ports_text: list[str] | None = None
    paired = False  # host=name:port, SQLAlchemy's "integrated" form
    if len(hosts_given) > 1:
        paired, hosts, ports_text = True, [], []
        for i, token in enumerate(hosts_given):
            if token.count(":") > 1 or "[" in token:
                raise HostsError(
                    f"{_nth(i, len(hosts_given))} ({token}) has more than one ':': an IPv6 "
                    "address cannot be given as host=…&host=…; use host=ADDR1,ADDR2&port=P1,P2"
                )
            name, _, port = token.partition(":")
            hosts.append(name)
            ports_text.append(port)
    elif hosts_given:
        hosts = hosts_given[0].split(",")
        if not ports_given and len(hosts) == 1 and ":" in hosts[0]:
            m = _ONE_HOST_PORT.match(hosts[0])
            if m is not None:
                paired, hosts, ports_text = True, [m[1]], [m[2] or ""]
            elif hosts[0].count(":") == 1 and not hosts[0].startswith("/"):
                name, _, port = hosts[0].partition(":")  # SQLAlchemy passes "h:x" as a name
                _port(port, 0, [name])
    if ports_given:
        if paired:
            raise HostsError(
                "the query mixes its two forms, host=…&host=… (or host=name:port) and port=…: "
                f"use one, {FORMS}"
            )
        ports_text = ports_given if len(ports_given) > 1 else ports_given[0].split(",")
    ports = [_port(p, i, hosts or []) for i, p in enumerate(ports_text or [])]
    if ports and (
        (not hosts and len(ports) > 1)
        or (hosts and len(hosts) != len(ports) and (len(hosts) > 1 or len(ports) > 1))
    ):
        count = f"{_count(len(hosts or []), 'host')} but {_count(len(ports), 'port')}"
        raise HostsError(
            f"the query gives {count}: give one port per host (an empty one for the "
            f"default: port=5432,,5433), or none, {FORMS}"
        )
    if hosts is None:
        return None
    return Hosts(tuple(hosts), tuple(ports) if ports else tuple(None for _ in hosts))
