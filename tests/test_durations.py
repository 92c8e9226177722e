"""One wording of a duration: the catalogue's (ops-trips §3).

``source check``'s clock warnings (``feedsvc.source.clock.span_text``: ``7 h 00 min``) and the
catch-up's ETA log line (``feedsvc.ingest.progress.eta_text``: ``3 min 20 s``) each had their
own formatter beside the catalogue's ``duration`` (Babel, both languages). They now use the
catalogue's precise form; the rounded form the admin shows is unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from feedsvc.catalogue import Translator
from feedsvc.ingest.progress import Progress
from feedsvc.source.clock import Zone, clock_warning

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
ZONE = Zone("Asia/Ho_Chi_Minh", ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.mark.parametrize(
    ("seconds", "en", "vi"),
    [
        (0, "0 seconds", "0 giây"),
        (42.4, "42 seconds", "42 giây"),
        (59.6, "1 minute", "1 phút"),  # rounded to the minute once past one
        (200, "3 minutes", "3 phút"),
        (3600, "1 hour", "1 tiếng"),
        (4380, "1 hour 13 minutes", "1 tiếng 13 phút"),
        (-25_320, "7 hours 2 minutes", "7 tiếng 2 phút"),  # no sign: the caller says which way
        (5 * 3600 + 45 * 60, "5 hours 45 minutes", "5 tiếng 45 phút"),  # Nepal: not "6 hours"
        (3 * 86400 + 3600 + 60, "3 days 1 hour 1 minute", "3 ngày 1 tiếng 1 phút"),
        (400 * 86400, "400 days", "400 ngày"),  # not "1 year"
    ],
)
def test_a_precise_duration_in_both_languages(seconds: float, en: str, vi: str) -> None:
    assert Translator("en").duration(seconds, precise=True) == en
    assert Translator("vi").duration(seconds, precise=True) == vi


def test_the_rounded_form_is_unchanged() -> None:
    """The admin's lag and ETA stay rounded to their largest unit."""
    assert Translator("en").duration(5 * 3600 + 45 * 60) == "6 hours"
    assert Translator("vi").duration(90 * 86400) == "3 tháng"


@pytest.mark.parametrize(
    ("clock", "says"),
    [
        # a database at +05:45 read in +07:00: every article 1 h 15 min early
        (NOW + timedelta(hours=5, minutes=45), "every article is dated 1 hour 15 minutes early"),
        # at -03:30 (Newfoundland): 10 h 30 min early
        (NOW - timedelta(hours=3, minutes=30), "every article is dated 10 hours 30 minutes early"),
        # a clock 3 days and 2 minutes ahead: the distance as it is, not "3 days"
        (NOW + timedelta(days=3, hours=7, minutes=2), "3 days 2 minutes after now"),
    ],
)
def test_source_check_words_its_spans_through_the_catalogue(clock: datetime, says: str) -> None:
    said = clock_warning(clock.replace(tzinfo=None), ZONE, NOW, "source.columns.cursor 'm'")
    assert said is not None and says in said, said
    assert " h " not in said and " min " not in said, said


@pytest.mark.parametrize(
    ("backlog_rows", "eta"),
    [(420, "42 seconds"), (2000, "3 minutes"), (75_000, "2 hours 5 minutes")],
)
def test_the_catch_up_eta_in_the_log(backlog_rows: int, eta: str) -> None:
    """10 rows/s: the log line's ETA in the catalogue's words (was ``42 s``, ``3 min 20 s``,
    ``2 h 05 min``)."""
    now = [0.0]
    progress = Progress(total=backlog_rows + 100, clock=lambda: now[0])
    now[0] = 10.0
    progress.advance(100)
    assert progress.line().endswith(f"10 rows/s, ETA {eta}"), progress.line()
