"""The one reader of HTTP-dates (RFC 9110 §5.6.7) that other parties send: a client's
``If-Modified-Since`` and ``If-Unmodified-Since`` (:func:`parse_http_date`, strict), a
destination's ``Retry-After`` (:func:`parse_lenient_date`).

Why strict for a client's conditions: RFC 9110 §13.1.3 and §13.1.4 say a recipient MUST ignore
an ``If-(Un)modified-Since`` that is no HTTP-date, and an HTTP-date is exactly one of three
case-sensitive forms (IMF-fixdate, and the obsolete rfc850-date and asctime-date a recipient
must also accept). :func:`email.utils.parsedate_to_datetime` reads far more — no weekday,
``+0700``, ``UTC``, a two-digit year, lower case — and a write with such an
``If-Unmodified-Since`` was refused 412 where it had to be made (a tester's). Why lenient for
``Retry-After``: a destination's odd date only sets how long a recipient pauses, and reading
what it meant is kinder than the default; :func:`parsedate_to_datetime` raises four different
exceptions on text that is no date, and one of them, ``OverflowError`` (a year, day or hour of
11 digits), was not caught once: every feed and page a 500. Both never raise. Pure.

Also the one rounding of a moment to what an HTTP-date can say (:func:`utc_seconds`): every
date feedsvc shows — a feed's item dates, ``Last-Modified``, a new version's later second — is
in whole UTC seconds, so two places never disagree on one instant.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_DAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
_LONG_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "|".join(_MONTHS)
_TIME = r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
#: RFC 9110 §5.6.7's three forms, case-sensitive, single spaces, GMT only.
_FORMS = (
    re.compile(rf"(?:{_DAYS}), (?P<d>\d\d) (?P<mo>{_MONTH}) (?P<y>\d{{4}}) {_TIME} GMT"),
    re.compile(rf"(?:{_LONG_DAYS}), (?P<d>\d\d)-(?P<mo>{_MONTH})-(?P<y>\d\d) {_TIME} GMT"),
    re.compile(rf"(?:{_DAYS}) (?P<mo>{_MONTH}) (?P<d>[ \d]\d) {_TIME} (?P<y>\d{{4}})"),
)


def utc_seconds(dt: datetime) -> datetime:
    """``dt`` (aware) in UTC with whole seconds: the instant as an HTTP-date or a feed's date
    shows it (one-second resolution, RFC 9110 §5.6.7)."""
    return dt.astimezone(UTC).replace(microsecond=0)


def parse_http_date(text: str, now: datetime | None = None) -> datetime | None:
    """``text`` as an aware UTC datetime when it is an HTTP-date (RFC 9110 §5.6.7: an
    IMF-fixdate, an rfc850-date or an asctime-date, exactly), else None (never raises). The
    weekday is not checked against the date (§5.6.7 leaves it to the sender). An rfc850-date's
    two-digit year is the latest year ending so that is at most 50 years after ``now`` (UTC;
    default the clock), as §5.6.7 says."""
    for form in _FORMS:
        match = form.fullmatch(text)
        if match is not None:
            break
    else:
        return None
    year = int(match["y"])
    if len(match["y"]) == 2:
        this_year = (now or datetime.now(UTC)).year
        year += this_year - this_year % 100
        if year > this_year + 50:
            year -= 100
    try:
        return datetime(
            year, _MONTHS.index(match["mo"]) + 1, int(match["d"]),
            int(match["h"]), int(match["mi"]), int(match["s"]), tzinfo=UTC,
        )  # fmt: skip
    except ValueError:  # a 31 February, a 25th hour, a 60th second
        return None


def parse_lenient_date(text: str) -> datetime | None:
    """``text`` as an aware UTC datetime, or None when it is no date a calendar has (any
    shape, any size: never raises), read as leniently as an e-mail date: for a destination's
    ``Retry-After`` only (see the module's docstring). A zone-less form (``-0000``, obsolete
    ones) is GMT, as every HTTP-date is."""
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
