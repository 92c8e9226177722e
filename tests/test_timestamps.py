"""feedsvc.timestamps: the wording of a value that is no timestamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from feedsvc.articles import ArticleError, parse_timestamp
from feedsvc.timestamps import edge_of_time, unparsable_reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0000-05-01", "no such date: '0000-05-01' (year 0000)"),
        ("2026-00-15", "no such date: '2026-00-15' (month 00)"),
        ("2026-13-01T10:00:00", "no such date: '2026-13-01T10:00:00' (month 13)"),
        ("2026-11-00", "no such date: '2026-11-00' (day 00)"),
        ("2026-02-30 08:00", "no such date: '2026-02-30 08:00' (day 30: that month has 28 days)"),
        ("2024-02-30", "no such date: '2024-02-30' (day 30: that month has 29 days)"),
        ("yesterday", "not an ISO 8601 timestamp: 'yesterday'"),
        ("2026-02-28x", "not an ISO 8601 timestamp: '2026-02-28x'"),
    ],
)
def test_a_date_no_calendar_has_is_named_as_such(value: str, reason: str) -> None:
    assert unparsable_reason(value) == reason


def test_a_long_value_is_quoted_in_part() -> None:
    value = "x" * 500
    assert unparsable_reason(value) == f"not an ISO 8601 timestamp: {'x' * 60!r}"


ICT = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        # a leap second, read as PostgreSQL reads it: the next second (UTC counts none)
        ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, tzinfo=UTC)),
        ("2016-12-31T23:59:60.5+00:00", datetime(2017, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)),
        ("2016-12-31 23:59:60,25Z", datetime(2017, 1, 1, 0, 0, 0, 250_000, tzinfo=UTC)),
        ("2017-01-01T06:59:60+07:00", datetime(2017, 1, 1, tzinfo=UTC)),
        ("2024-05-01T10:15:60", datetime(2024, 5, 1, 10, 16, tzinfo=ICT)),  # naive: site zone
        # the end of a day: the next day's 00:00
        ("2024-05-01T24:00:00+07:00", datetime(2024, 5, 2, tzinfo=ICT)),
        ("2024-05-01T24:00", datetime(2024, 5, 2, tzinfo=ICT)),
        ("2024-05-01 24:00:00.000Z", datetime(2024, 5, 2, tzinfo=UTC)),
        ("2024-12-31T24:00:00+0700", datetime(2025, 1, 1, tzinfo=ICT)),
        ("2024-02-28T24:00Z", datetime(2024, 2, 29, tzinfo=UTC)),  # a leap year's day
        # every form fromisoformat reads otherwise: a lower-case t, the basic format
        ("2016-12-31t23:59:60Z", datetime(2017, 1, 1, tzinfo=UTC)),
        ("20161231T235960Z", datetime(2017, 1, 1, tzinfo=UTC)),
        ("20161231T235960.5+0000", datetime(2017, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)),
        ("2024-05-01t24:00:00Z", datetime(2024, 5, 2, tzinfo=UTC)),
        ("20240501T2400", datetime(2024, 5, 2, tzinfo=ICT)),
        ("20240501T240000+07", datetime(2024, 5, 2, tzinfo=ICT)),
    ],
)
def test_what_iso_8601_allows_and_fromisoformat_refuses_is_read(
    text: str, instant: datetime
) -> None:
    """``23:59:60`` (a leap second a CMS logged) and ``24:00`` (a day's end) are ISO 8601;
    both were refused as "not an ISO 8601 timestamp", the article with them (a tester's)."""
    assert parse_timestamp(text, "published_at", ICT) == instant


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T24:00:01",  # past the end of the day
        "2024-05-01T24:30",
        "2024-05-01T24:00:00.5Z",
        "2024-05-01T25:00",
        "2024-05-01T10:15:61",
        "2024-05-01T24:00:00 junk",
        "2024-05-01T24:00:00+07:00:00:00",
        "24:00",
    ],
)
def test_other_times_past_the_clock_stay_refused(text: str) -> None:
    assert edge_of_time(text) is None
    with pytest.raises(ArticleError, match="not an ISO 8601 timestamp"):
        parse_timestamp(text, "published_at", ICT)


def test_a_day_that_does_not_exist_is_still_named_at_its_end() -> None:
    with pytest.raises(ArticleError, match=r"no such date: .*that month has 29 days"):
        parse_timestamp("2024-02-30T24:00", "published_at", ICT)


@pytest.mark.parametrize("text", ["9999-12-31T24:00:00Z", "9999-12-31T23:59:60Z"])
def test_a_day_end_past_the_calendar_is_named_a_placeholder(text: str) -> None:
    """Not "not an ISO 8601 timestamp": the range check says what is wrong, as for
    ``9999-12-31T23:59:59Z``."""
    with pytest.raises(ArticleError, match=r"is outside 1900-01-01\.\.2200-01-01 UTC"):
        parse_timestamp(text, "published_at", ICT)
