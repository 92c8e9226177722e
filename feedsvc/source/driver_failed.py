"""An error of an unexpected class while connecting to the source or reflecting its table.

Why: a PostgreSQL CMS database in ``SQL_ASCII`` read without a client encoding made psycopg
hand SQLAlchemy's first connect ``bytes``, and its version parse raised ``TypeError``:
``source check`` printed a 132-line traceback, and ingest's probe took the failure for a
source that does not answer and said so, with the traceback, for ever (a tester's). The
database did answer: the driver (or SQLAlchemy) could not work with what it said. Such an
error is named in one line as what it is — its class and first line, and that it came from
the driver, not the database — by :func:`named_unexpected`, around the source's connect and
reflection (:meth:`feedsvc.source.sql.SqlSource.bind`, ``ping``). SQLAlchemy's own errors
(the driver's wrapped), :class:`~feedsvc.source.mapping.SourceError` and ``OSError`` (the
network's) pass as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import SQLAlchemyError

from feedsvc.source.mapping import SourceError


class DriverFailed(Exception):
    """What the driver or SQLAlchemy raised while ``doing`` something with the source, in one
    line; the database answered (``ingest.failures``: no outage of the source)."""

    def __init__(self, doing: str, exc: BaseException) -> None:
        lines = str(exc).strip().splitlines()
        said = f"{type(exc).__name__}: {lines[0][:300]}" if lines else type(exc).__name__
        super().__init__(
            f"{said} (raised in the database driver while {doing}, not an error the database "
            "answered with: a setting of source.url this driver cannot work with, or a bug)"
        )


#: What passes through :func:`named_unexpected` as it is.
PASSED = (SQLAlchemyError, SourceError, OSError, DriverFailed)


@contextmanager
def named_unexpected(doing: str) -> Iterator[None]:
    """Raise any error of the block outside :data:`PASSED` as :class:`DriverFailed`."""
    try:
        yield
    except PASSED:
        raise
    except Exception as exc:
        raise DriverFailed(doing, exc) from exc
