"""The HTTP listening sockets, apart from the server so ``config check`` can ask whether
``http.host`` can be listened on without importing uvicorn and Starlette
(``cli.listening.host_problem``; ``tests/test_cli_imports.py``).

A host NAME may stand for several addresses: ``localhost`` is 127.0.0.1 and ::1, a name with
A and AAAA records is both. One socket on the first IPv4 address left the others to whatever
else held the port there: ``http.host = "localhost"`` listened on 127.0.0.1 only while the log
said "localhost", and curl, browsers and Python's clients, which try ::1 first, reached
another program holding [::1]:PORT without a word. So a name is listened on at every address
it stands for (:func:`host_addresses`), each its own socket, the IPv6 ones with IPV6_V6ONLY
(``socket.create_server`` sets it) so the two families never clash; the log names what was
bound (:meth:`Listeners.addresses`). A literal address is one socket, as it always was:
``0.0.0.0`` takes IPv4 only, ``::`` IPv6 only (IPV6_V6ONLY).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from dataclasses import dataclass, field

#: What ``localhost`` and ``*.localhost`` stand for whatever the resolver says (RFC 6761
#: §6.3): clients hard-code them (curl tries [::1] where /etc/hosts names 127.0.0.1 only).
LOOPBACK = (socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")

#: An address of a name that cannot be had here (no IPv6; another machine's address): skipped,
#: and said, when another address of the name is listened on; else the error.
UNAVAILABLE = frozenset({errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT})

#: Picks of a free port (``port = 0``) before giving up: the port the first address got may
#: be taken at another, and then all are bound again at a new one.
PORT_0_TRIES = 20

Address = tuple[socket.AddressFamily, str]


class ListenError(OSError):
    """Listening failed at ``address``:``port`` (the host itself when its name did not
    resolve), with the error's errno and its words without Python's "while attempting to
    bind on address …": the one "cannot listen on …" line (``cli.listening.listen``) names the
    address that failed, not only the name."""

    def __init__(self, exc: OSError, address: str, port: int) -> None:
        super().__init__(exc.errno, error_words(exc))
        self.address = address
        self.port = port

    def where(self, host: str) -> str:
        """``[::1]:8080 (localhost)``; ``127.0.0.1:8080`` for the literal ``127.0.0.1``."""
        named = "" if self.address == host else f" ({host})"
        return address_text(self.address, self.port) + named


@dataclass
class Listeners:
    """The listening sockets of one host and port, and the host's addresses that could not be
    had here (``skipped``: the address and why)."""

    host: str
    sockets: list[socket.socket] = field(default_factory=list)
    skipped: list[tuple[Address, OSError]] = field(default_factory=list)

    @property
    def port(self) -> int:
        """The port listened on (the one the system gave for ``port = 0``, the same at each
        address)."""
        return int(self.sockets[0].getsockname()[1])

    def addresses(self) -> list[str]:
        """Each address listened on, ``127.0.0.1:8080``, ``[::1]:8080``."""
        return [address_text(s.getsockname()[0], s.getsockname()[1]) for s in self.sockets]

    def urls(self) -> list[str]:
        return [f"http://{a}" for a in self.addresses()]

    def notes(self) -> list[str]:
        """One line per address of the host not listened on, for the start-up log: a client
        trying that address first gets nothing (or another program), so the operator is told."""
        only = " and ".join(self.urls())
        lines = []
        for (family, host), exc in self.skipped:
            version = 6 if family == socket.AF_INET6 else 4
            why = (
                f"IPv{version} is unavailable on this machine"
                if exc.errno == errno.EAFNOSUPPORT or ipaddress.ip_address(host).is_loopback
                else "not an address of this machine"
            )
            lines.append(
                f"http.host {self.host!r}: not listening on {address_text(host, self.port)}: "
                f"{why} ({error_words(exc).lower()}); listening on {only} only"
            )
        return lines

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


def error_words(exc: OSError) -> str:
    """The error in the system's words, without Python's "(while attempting to bind on
    address …)" (the address is named apart)."""
    code = exc.errno
    return os.strerror(code) if code and code > 0 else (exc.strerror or str(exc))


def address_text(host: str, port: int) -> str:
    """``host:port``, an IPv6 address in brackets (RFC 3986 §3.2.2)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def host_addresses(host: str) -> list[Address]:
    """The addresses ``host`` stands for, IPv4 first, each once: a literal address itself;
    ``localhost`` :data:`LOOPBACK`; any other name what getaddrinfo answers for TCP, IPv4
    and IPv6 (``socket.gaierror`` when it answers nothing)."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [(socket.AF_INET6 if literal.version == 6 else socket.AF_INET, host)]
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return list(LOOPBACK)
    found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    families = (socket.AF_INET, socket.AF_INET6)
    unique = dict.fromkeys((f, str(a[0])) for f, _, _, _, a in found if f in families)
    return sorted(unique, key=lambda address: address[0] != socket.AF_INET)


def listen_sockets(host: str, port: int, *, reuse_port: bool = True) -> Listeners:
    """Listening TCP sockets at every address of ``host`` (:func:`host_addresses`) and
    ``port`` (0: one the system picks, the same at every address); with SO_REUSEPORT sibling
    processes can bind the same port. An address unavailable here (:data:`UNAVAILABLE`) is
    skipped when another one of the name is listened on (:meth:`Listeners.notes`). Raises
    :class:`ListenError` naming the address that failed (``EADDRINUSE``: a busy port), the
    sockets bound before it closed."""
    try:
        addresses = host_addresses(host)
    except OSError as exc:
        raise ListenError(exc, host, port) from exc
    tries = PORT_0_TRIES if port == 0 and len(addresses) > 1 else 1
    for attempt in range(tries):
        try:
            return _bind_all(host, addresses, port, reuse_port)
        except _TakenElsewhere as taken:
            if attempt + 1 == tries:
                raise taken.error from None
    raise AssertionError("unreachable")  # pragma: no cover


class _TakenElsewhere(Exception):
    """``port = 0``: the port the first address got is taken at another; pick again."""

    def __init__(self, error: ListenError) -> None:
        super().__init__(str(error))
        self.error = error


def _bind_all(host: str, addresses: list[Address], port: int, reuse_port: bool) -> Listeners:
    """:func:`listen_sockets`'s one try: every address at ``port``, or at the port the first
    bound one got when ``port`` is 0."""
    bound = Listeners(host)
    for family, address in addresses:
        at = bound.port if port == 0 and bound.sockets else port
        try:
            sock = socket.create_server(
                (address, at), family=family, backlog=2048, reuse_port=reuse_port
            )
        except OSError as exc:
            if len(addresses) > 1 and exc.errno in UNAVAILABLE:
                bound.skipped.append(((family, address), exc))
                continue
            bound.close()
            error = ListenError(exc, address, at)
            if at != port and exc.errno == errno.EADDRINUSE:
                raise _TakenElsewhere(error) from exc
            raise error from exc
        bound.sockets.append(sock)
    if not bound.sockets:  # every address unavailable: the first one's error
        (_, first), why = bound.skipped[0]
        raise ListenError(why, first, port) from why
    return bound
