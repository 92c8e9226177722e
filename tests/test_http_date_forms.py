"""Only the three HTTP-date forms RFC 9110 §5.6.7 names are dates a client's condition is read
as (:func:`feedsvc.http_dates.parse_http_date`): IMF-fixdate, rfc850-date, asctime-date,
case-sensitive, GMT only.

A tester's: ``POST /api/topics/x/disable`` with ``If-Unmodified-Since: 01 Jan 2001 00:00:00
GMT`` (no weekday), ``… +0700``, ``… UTC``, a two-digit year, a day without its zero, lower
case — all no HTTP-date, which §13.1.4 says a recipient MUST ignore — answered 412
``if_unmodified_since_not_met`` and wrote nothing: an e-mail date reader read them. Each is now
ignored (the write made, as stored); the three real forms of a past date are still a 412.
``If-Modified-Since`` on a feed is read by the same reader: such a value is ignored (200).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from backend_cases import on_sqlite
from test_api_condition_headers import TOPIC_ROUTES, body_of
from test_api_conditions_ignored import prepared, written
from test_api_if_match_weak import admin  # noqa: F401  (the fixture)
from test_api_write_bodies import JSON, refused, send
from test_http_dates import served  # noqa: F401  (the fixture)

from feedsvc.app import Service
from feedsvc.http_dates import parse_http_date

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

Client = Any
#: Past dates in shapes an e-mail reader takes and RFC 9110 does not (the tester's, then ours).
LAX = [
    "01 Jan 2001 00:00:00 GMT",
    "Mon, 01 Jan 2001 00:00:00 +0700",
    "Mon, 01 Jan 2001 00:00:00 UTC",
    "Mon, 01 Jan 01 00:00:00 GMT",
    "Mon,  1 Jan 2001 00:00:00 GMT",
    "mon, 01 jan 2001 00:00:00 gmt",
    "Mon, 01 Jan 2001 00:00:00 -0000",
    "Mon, 01 Jan 2001 00:00:00 +0000",
    "Mon, 01 Jan 2001 00:00:00 EST",
    "Mon, 01 Jan 2001 00:00:00",
    "Mon, 01 Jan 2001 00:00 GMT",
    "Mon, 1 Jan 2001 00:00:00 GMT",
    "Mon 01 Jan 2001 00:00:00 GMT",
    "Mon, 01 January 2001 00:00:00 GMT",
    "Monday, 01 Jan 2001 00:00:00 GMT",
    "MON, 01 JAN 2001 00:00:00 GMT",
    " Mon, 01 Jan 2001 00:00:00 GMT x",
    "Mon, 01 Jan 2001 00:00:00 GMT (comment)",
    "Monday, 01-Jan-2001 00:00:00 GMT",
    "Mon, 01-Jan-01 00:00:00 GMT",
    "Monday, 01-Jan-01 00:00:00 +0700",
    "Mon Jan 1 00:00:00 2001",
    "Mon Jan 01 00:00:00 2001 GMT",
    "mon jan  1 00:00:00 2001",
    "Mon, 01 Jan 2001 00:00:00 GMT".replace(" ", "\t"),
]
#: The same past instant in each of RFC 9110's three forms.
VALID = [
    "Mon, 01 Jan 2001 00:00:00 GMT",
    "Monday, 01-Jan-01 00:00:00 GMT",
    "Mon Jan  1 00:00:00 2001",
]


@pytest.mark.parametrize("text", LAX)
def test_no_http_date_is_none(text: str) -> None:
    assert parse_http_date(text) is None


@pytest.mark.parametrize("text", VALID)
def test_each_form_is_the_instant(text: str) -> None:
    assert parse_http_date(text) == datetime(2001, 1, 1, tzinfo=UTC)


def test_a_two_digit_year_is_at_most_fifty_years_ahead() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", now) == datetime(
        1994, 11, 6, 8, 49, 37, tzinfo=UTC
    )
    assert parse_http_date("Friday, 01-Jan-76 00:00:00 GMT", now) == datetime(
        2076, 1, 1, tzinfo=UTC
    )
    assert parse_http_date("Friday, 01-Jan-77 00:00:00 GMT", now) == datetime(
        1977, 1, 1, tzinfo=UTC
    )


@on_sqlite
@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
@pytest.mark.parametrize("value", LAX)
def test_a_topic_write_ignores_a_lax_date(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
    value: str,
) -> None:
    client, service = admin
    prepared(service, path)
    assert not written(service, method, path)
    r = send(client, method, path, body_of(method), JSON | {"If-Unmodified-Since": value})
    assert r.status_code == 200, r.text
    assert written(service, method, path)


@on_sqlite
@pytest.mark.parametrize(("method", "path"), TOPIC_ROUTES)
@pytest.mark.parametrize("value", VALID)
def test_a_topic_write_still_refuses_each_form_of_a_past_date(
    admin: tuple[Client, Service],  # noqa: F811
    method: str,
    path: str,
    value: str,
) -> None:
    client, service = admin
    prepared(service, path)
    r = send(client, method, path, body_of(method), JSON | {"If-Unmodified-Since": value})
    refused(r, 412, "if_unmodified_since_not_met", "If-Unmodified-Since")
    assert not written(service, method, path)


def test_a_feed_ignores_a_lax_if_modified_since(served: tuple[str, Service]) -> None:  # noqa: F811
    """A far-future date in lax shapes would be a 304 were it read (a date past the clock is
    ignored anyway, so a recent one: a minute after Last-Modified)."""
    base, _ = served
    with httpx.Client(base_url=base, timeout=30) as client:
        first = client.get("/feeds/kien-thuy.rss")
        modified = parse_http_date(first.headers["last-modified"])
        assert modified is not None
        valid = modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
        assert (
            client.get("/feeds/kien-thuy.rss", headers={"if-modified-since": valid}).status_code
            == 304
        )
        for lax in (
            modified.strftime("%d %b %Y %H:%M:%S GMT"),
            modified.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            modified.strftime("%a, %d %b %Y %H:%M:%S UTC").lower(),
            modified.strftime("%a, %d %b %y %H:%M:%S GMT"),
        ):
            answer = client.get("/feeds/kien-thuy.rss", headers={"if-modified-since": lax})
            assert answer.status_code == 200, lax
