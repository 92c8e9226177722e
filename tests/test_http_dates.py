"""The one reader of HTTP-dates others send (``feedsvc.http_dates``), and what a hostile one
does to the web's conditional GET and to Apprise's ``Retry-After``.

A tester's: ``If-Modified-Since: Sat, 05 Dec 99999999999 10:40:26 GMT`` (a year, day or hour
of 11 digits) raised ``OverflowError`` out of ``email.utils.parsedate_to_datetime``, which only
``TypeError``/``ValueError``/``IndexError`` were caught for: every feed, page, OPML and
stylesheet answered 500 and logged two tracebacks, for any anonymous client. The header is now
ignored, as any other text that is no date is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from processes import free_port, uvicorn_thread
from test_on_demand import app_service

from feedsvc.app import Service, create_app
from feedsvc.channels.apprise_transport import retry_after_seconds
from feedsvc.http_dates import parse_http_date, parse_lenient_date
from feedsvc.server import uvicorn_config

#: Texts shaped like an HTTP-date that no calendar or clock holds.
HOSTILE = [
    "Sat, 05 Dec 99999999999 10:40:26 GMT",  # the tester's: the year
    "Sat, 99999999999 Dec 2026 10:40:26 GMT",  # the day
    "Sat, 05 Dec 2026 99999999999:40:26 GMT",  # the hour
    "Sat, 05 Dec 2026 10:99999999999:26 GMT",  # the minute
    "Sat, 05 Dec 2026 10:40:26 +99999999999",  # the offset
    "Sat, 05 Dec 10000 10:40:26 GMT",  # past year 9999
    "Fri, 31 Dec 9999 23:59:59 -0100",  # after year 9999 in UTC
    "Sat, 31 Feb 2026 10:40:26 GMT",
    "Sat, 05 Dec 2026",
    "not a date",
    "",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_no_date_is_none(text: str) -> None:
    assert parse_http_date(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sat, 05 Dec 2026 10:40:26 GMT", datetime(2026, 12, 5, 10, 40, 26, tzinfo=UTC)),
        ("Saturday, 05-Dec-26 10:40:26 GMT", datetime(2026, 12, 5, 10, 40, 26, tzinfo=UTC)),
        ("Sat Dec  5 10:40:26 2026", datetime(2026, 12, 5, 10, 40, 26, tzinfo=UTC)),
    ],
)
def test_a_date_is_read_in_utc(text: str, expected: datetime) -> None:
    when = parse_http_date(text)
    assert when == expected and when is not None and when.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["Sat, 05 Dec 2026 10:40:26 -0000", "Sat, 05 Dec 2026 17:40:26 +0700"]
)
def test_a_destinations_mail_date_is_read_leniently(text: str) -> None:
    """``Retry-After`` only: a destination's odd date sets a pause, read as it meant."""
    expected = datetime(2026, 12, 5, 10, 40, 26, tzinfo=UTC)
    when = parse_lenient_date(text)
    assert when == expected and when is not None and when.utcoffset() == timedelta(0)


@given(st.text(max_size=80))
def test_any_text_is_a_date_or_none(text: str) -> None:
    when = parse_http_date(text)
    assert when is None or when.tzinfo is not None


@given(st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from(["year", "day", "hour"]))
def test_any_number_in_any_part_is_a_date_or_none(number: int, part: str) -> None:
    fields = {"day": "05", "year": "2026", "hour": "10"} | {part: str(number)}
    text = f"Sat, {fields['day']} Dec {fields['year']} {fields['hour']}:40:26 GMT"
    when = parse_http_date(text)
    assert when is None or when.tzinfo is not None


@pytest.mark.parametrize("text", HOSTILE)
def test_a_destinations_retry_after_that_is_no_date_is_none(text: str) -> None:
    """Apprise's reading of ``Retry-After`` (the caller then pauses a default)."""
    assert retry_after_seconds(text) is None


def test_a_destinations_retry_after_date_is_seconds_from_now() -> None:
    now = datetime(2026, 12, 5, 10, 40, 0, tzinfo=UTC)
    assert retry_after_seconds("Sat, 05 Dec 2026 17:40:30 +0700", now) == 30.0
    assert retry_after_seconds("Sat, 05 Dec 2026 10:39:00 GMT", now) == 0.0
    assert retry_after_seconds(" 120 ", now) == 120.0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Service]]:
    """The real HTTP server (the wire's fast path for plain feed polls, ASGI for the rest)."""
    service = app_service(Path(tmp_path_factory.mktemp("dates")), client_burst=10_000)
    port = free_port()
    settings = service.settings.model_copy(
        update={"http": service.settings.http.model_copy(update={"port": port})}
    )
    with uvicorn_thread(uvicorn_config(settings, create_app(service))):
        yield f"http://127.0.0.1:{port}", service


PATHS = [
    "/feeds/kien-thuy.rss", "/feeds/kien-thuy.atom", "/feeds/kien-thuy.json",
    "/feeds/kien-thuy.rss?limit=5", "/feeds/search.rss?q=%22Ki%E1%BA%BFn+Th%E1%BB%A5y%22",
    "/topics/kien-thuy", "/", "/?q=kien", "/feeds.opml", "/feed.xsl",
]  # fmt: skip


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", PATHS)
def test_a_hostile_if_modified_since_is_ignored(
    served: tuple[str, Service], path: str, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    base, _ = served
    with httpx.Client(base_url=base, timeout=30) as client:
        plain = client.request(method, path, headers={"accept-encoding": "identity"})
        assert plain.status_code == 200, plain.text[:300]
        with caplog.at_level(logging.WARNING):
            for since in HOSTILE[:6]:
                answer = client.request(
                    method, path, headers={"if-modified-since": since,
                                           "accept-encoding": "identity"},
                )  # fmt: skip
                assert answer.status_code == 200, (since, answer.text[:300])
                assert answer.content == plain.content
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_real_date_still_gets_304(served: tuple[str, Service]) -> None:
    base, _ = served
    with httpx.Client(base_url=base, timeout=30) as client:
        first = client.get("/feeds/kien-thuy.rss")
        since = first.headers["last-modified"]
        assert (
            client.get("/feeds/kien-thuy.rss", headers={"if-modified-since": since}).status_code
            == 304
        )
    later = datetime.now(timezone(timedelta(hours=7))) - timedelta(seconds=1)
    assert parse_lenient_date(later.strftime("%a, %d %b %Y %H:%M:%S %z")) is not None
