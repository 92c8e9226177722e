"""Connects to the CMS under way, by thread: what a stop may leave behind without loss.

Why: SIGTERM while an ingest tick waited on a CMS port that takes the TCP connection and says
nothing (a proxy or a port-forward in front of a stopped server; ``source.connect_timeout`` up
to its bound) ended the service "work abandoned", exit 1: systemd marked the unit failed for a
stop that lost nothing, since a connect holds no row and no transaction of ours (a tester's).
``Service.stop`` asks :meth:`ConnectWatch.under_way` about the ingest tick's own thread; a
connect in any other thread (a read-ahead beside a batch being written) is not vouched for.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, event


class ConnectWatch:
    """The threads now inside a connect of the engine it is attached to: from the dialect's
    connect (``do_connect``, seen first, before the listeners that make the connection) to its
    ``connect`` event, or to ``handle_error`` when it failed (SQLAlchemy 2.0 passes connect
    errors through it)."""

    def __init__(self) -> None:
        self._threads: set[int] = set()
        self._lock = threading.Lock()

    def attach(self, engine: Engine) -> None:
        """Watch ``engine``'s connects: called before any other ``do_connect`` listener is
        installed (the first one that returns a connection ends the chain; ``insert=True``
        did not put this one ahead of one already there)."""
        event.listen(engine, "do_connect", self._began)
        event.listen(engine, "connect", self._ended)
        event.listen(engine, "handle_error", self._ended)

    def _began(self, *_args: Any) -> None:  # None: the next listener, or the dialect, connects
        with self._lock:
            self._threads.add(threading.get_ident())

    def _ended(self, *_args: Any) -> None:
        with self._lock:
            self._threads.discard(threading.get_ident())

    def under_way(self, thread: int | None) -> bool:
        """Whether the thread ``thread`` (``threading.get_ident()``; None: no thread) is
        waiting in a connect to the CMS now. Safe from any thread."""
        with self._lock:
            return thread is not None and thread in self._threads
