"""feedsvc.timestamps: the wording of a value that is no timestamp."""

from __future__ import annotations

import pytest

from feedsvc.timestamps import unparsable_reason


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
