"""How ingest tells the infrastructure's failures from one row's, and says either in one line."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from feedsvc.ingest.lease import LeaseLost


def describe(exc: BaseException) -> str:
    """One line naming the error and the driver's message (no SQL, no parameters)."""
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).strip()
    first = message.splitlines()[0] if message else repr(exc)
    return f"{type(exc).__name__}: {first}"[:500]


def is_infrastructure(exc: BaseException) -> bool:
    """True when ``exc`` says the state DB (or our lease) failed, not the row being written:
    a lost or refused connection, a lock or statement timeout, a full disk (all DBAPI
    ``OperationalError``/``InterfaceError``), or the ingest lease gone. Such a failure rolls
    the batch back and fails the tick; anything else raised while storing one row (a value the
    DB refuses, a constraint, a conversion that overflows, a bug triggered by its data) is
    that row's fault, and the row is quarantined."""
    if isinstance(exc, LeaseLost | OperationalError | InterfaceError | DisconnectionError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
