"""Binding the HTTP listening sockets from the command line, and the words when that fails:
:func:`listen` (``run``, ``demo``: the one "cannot listen on …" line, exit 2, before any
start-up work) and :func:`host_problem` (``config check``: what ``run`` would say of
``http.host``), both advised by :func:`_listen_advice` (the port, or ``http.host``; the demo's
``--port`` alone). Apart from :mod:`feedsvc.cli.service`, which runs the service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedsvc.cli.common import EXIT_USAGE, fail

if TYPE_CHECKING:
    from feedsvc.listen import Listeners


def listen(
    host: str, port: int, *, reuse_port: bool = False, configurable: bool = True
) -> Listeners:
    """The HTTP listening sockets, bound before anything starts, at every address ``host``
    stands for (:func:`feedsvc.listen.listen_sockets`: ``localhost`` is 127.0.0.1 and ::1).
    A busy port, or any other failure, at ANY of them ends the command with one message naming
    that address (exit 2), before any start-up work or banner; an address unavailable here
    (no IPv6) is skipped, said by ``serve`` (``Listeners.notes``)."""
    from feedsvc.app import ListenError, listen_sockets

    try:
        return listen_sockets(host, port, reuse_port=reuse_port)
    except ListenError as exc:
        advice = _listen_advice(exc, configurable=configurable)
        fail(f"cannot listen on {exc.where(host)}: {advice}", EXIT_USAGE)


def host_problem(host: str) -> tuple[str, bool] | None:
    """What ``run`` would say of listening on ``host`` (``http.host``), asked by binding it at
    a free port and closing the socket at once, and whether it holds on this machine only (an
    address that is not this machine's may be the one ``run`` starts on: a configuration
    checked elsewhere), else None. ``config check`` called an unresolvable
    ``nosuchhost.invalid`` "an address of this machine" and said OK, and ``run`` then exited 2
    (a tester's). The port is left out: one taken now may be free at start."""
    import errno

    from feedsvc.listen import listen_sockets

    try:
        listen_sockets(host, 0, reuse_port=False).close()
    except OSError as exc:
        return _listen_advice(exc), exc.errno == errno.EADDRNOTAVAIL
    return None


def _listen_advice(exc: OSError, *, configurable: bool = True) -> str:
    """What went wrong binding the HTTP socket and what to change: the port when it is taken
    or privileged, ``http.host`` when the host is unknown or not this machine's.

    ``configurable`` is false for ``demo``, which listens on 127.0.0.1 at its ``--port``
    whatever ``http.host``/``http.port`` say: pointing its user at those keys sent them to
    change settings the demo never reads.
    """
    import errno
    import socket

    if not configurable:
        if exc.errno == errno.EADDRINUSE:
            return "already in use; stop what holds it, or choose another port with --port"
        return f"{(exc.strerror or str(exc)).lower()}; choose another port with --port"
    port = "choose another port with --port (or http.port in the config)"
    if exc.errno == errno.EADDRINUSE:
        return f"already in use; stop what holds it, or {port}"
    if exc.errno == errno.EACCES:
        return f"permission denied (ports below 1024 need privileges); {port}"
    # a lookup's gaierror reaches here as a plain OSError with its errno (listen.ListenError)
    # (getaddrinfo's "no such name": EAI_NONAME, and glibc's EAI_NODATA)
    no_such_host = {getattr(socket, n) for n in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, n)}
    if isinstance(exc, socket.gaierror) or exc.errno in no_such_host:
        return "no such host; set http.host to an address or name of this machine (0.0.0.0: all)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "not an address of this machine; set http.host to one (0.0.0.0: all)"
    return f"{(exc.strerror or str(exc)).lower()}; check http.host and http.port"
