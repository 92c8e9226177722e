"""A placeholder date is quoted as the source gave it, never in a zone's local mean time.

A tester's: with ``Asia/Ho_Chi_Minh``, ``source check`` (and a quarantine reason) quoted a
``0001-01-01`` read from a naive column as ``'0001-01-01T00:00:00+07:06:30'``: the zone's
offset before 1906, meaningless to an operator. The value is quoted as the driver gave it:
naive as it is, an aware one with its own offset, text as written.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from source_checks import run_check
from sqlalchemy import create_engine, text

from feedsvc.articles import ArticleError, parse_timestamp

ZONES = ["Asia/Ho_Chi_Minh", "Europe/Amsterdam", "America/New_York", "Asia/Kolkata"]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        (datetime(1, 1, 1), "'0001-01-01T00:00:00'"),
        (datetime(1800, 6, 1, 12, 30), "'1800-06-01T12:30:00'"),
        (date(1, 1, 1), "'0001-01-01'"),
        (datetime(9999, 12, 31, 23, 59, 59), "'9999-12-31T23:59:59'"),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=7))), "'0001-01-01T00:00:00+07:00'"),
    ],
)
def test_a_value_outside_the_range_is_quoted_as_given(
    value: object, quoted: str, zone: str
) -> None:
    with pytest.raises(ArticleError) as caught:
        parse_timestamp(value, "published_at", ZoneInfo(zone))
    said = str(caught.value)
    assert f"{quoted} is outside 1900-01-01..2200-01-01 UTC" in said, said


@pytest.mark.postgres
def test_source_check_in_ho_chi_minh_shows_no_local_mean_time(tmp_path: Path, pg_url: str) -> None:
    """PostgreSQL's naive ``TIMESTAMP`` comes as a naive ``datetime`` (SQLite's as text, quoted
    as written before too)."""
    url = pg_url
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE TABLE news (id INTEGER PRIMARY KEY, changed_at TIMESTAMP, source_key TEXT, "
            "url TEXT, title TEXT, published_at TIMESTAMP)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO news VALUES (1, '2026-12-01 08:00:00', 'P-1', 'https://example.vn/1', "
            "'Tin', '0001-01-01 00:00:00'), (2, '2026-12-01 08:00:01', 'P-2', "
            "'https://example.vn/2', 'Tin', '2026-12-01 08:00:00')"
        ))  # fmt: skip
    engine.dispose()
    config_columns = {"cursor": "changed_at", "source_key": "source_key", "url": "url",
                      "title": "title", "published_at": "published_at"}  # fmt: skip
    config_columns |= dict.fromkeys(("summary", "body", "author", "section", "tags",
                                     "image_url", "updated_at"), "")  # fmt: skip
    zone = 'timezone = "Asia/Ho_Chi_Minh"\n'
    result = run_check(tmp_path, url, "news", config_columns, source=zone, site=zone)
    rejected = [x for x in result.output.splitlines() if "REJECTED" in x]
    assert len(rejected) == 1, result.output
    assert "'0001-01-01" in rejected[0] and "+07:06:30" not in result.output, result.output
