"""The one reader of HTTP-dates (RFC 9110 §5.6.7) that other parties send: a client's
``If-Modified-Since``, a destination's ``Retry-After``.

Why one: :func:`email.utils.parsedate_to_datetime` raises four different exceptions on text
that is no date, and one of them, ``OverflowError`` (a year, day or hour of 11 digits), was
not caught where the web's conditional GET read the header: any anonymous client turned every
feed and page into a 500 with two logged tracebacks (a tester's). Pure.

Also the one rounding of a moment to what an HTTP-date can say (:func:`utc_seconds`): every
date feedsvc shows — a feed's item dates, ``Last-Modified``, a new version's later second — is
in whole UTC seconds, so two places never disagree on one instant.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def utc_seconds(dt: datetime) -> datetime:
    """``dt`` (aware) in UTC with whole seconds: the instant as an HTTP-date or a feed's date
    shows it (one-second resolution, RFC 9110 §5.6.7)."""
    return dt.astimezone(UTC).replace(microsecond=0)


def parse_http_date(text: str) -> datetime | None:
    """``text`` as an aware UTC datetime, or None when it is no date a calendar has (any
    shape, any size: never raises). A zone-less form (``-0000``, obsolete ones) is GMT, as
    every HTTP-date is."""
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:  # year 1 with an offset east of UTC, year 9999 west of it
        return None
