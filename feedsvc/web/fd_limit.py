"""The process's open-files limit, as the HTTP server needs it.

:func:`raise_fd_limit` lifts the soft ``RLIMIT_NOFILE`` to the hard one at start, as Go and
nginx's ``worker_rlimit_nofile`` do: the soft default (often 1,024) is a legacy of ``select()``,
which nothing here uses. :func:`connection_cap` lowers ``http.max_connections`` to what that
limit leaves (:data:`FD_RESERVE` kept free). Kept apart from the connection limits themselves
(:mod:`feedsvc.web.connections`): this is about the process, asked at start and when the limits
are bound, never per connection.
"""

from __future__ import annotations

import logging
import resource

#: The server's lines keep the logger name they have always had (log filters select them by it).
log = logging.getLogger("feedsvc.web.connections")

#: File descriptors kept free for DB connections, log files and the listening sockets.
FD_RESERVE = 128


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-files limit from %d: %s", soft, exc)
    return soft


def connection_cap(configured: int) -> int:
    """``http.max_connections``, lowered to fit the process's open-files limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, soft - FD_RESERVE))
