"""A snapshot dated ahead of the server's clock (a version stored in the second after the one it
replaced, ``feedsvc.store.snapshots.next_modified``; another replica's clock) is sent with the
clock's second as ``Last-Modified`` — never a later one (RFC 9110 §8.8.2.1) — and no 304 on
If-Modified-Since until its own second has come; then it is served as any other. If-None-Match
answers as ever. Checked on prepared replies and through the routes, the feed fast path and the
wire path (real sockets); GET and HEAD, plain and gzip."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient
from test_web_feeds import MAX_AGE, FakeBackend, backend, client  # noqa: F401  (fixtures)

from feedsvc.http_dates import parse_http_date
from feedsvc.web.http_cache import Reply, Snapshot, gzip_etag, http_date, make_snapshot, replies

BODY = "<rss><channel><title>Kiến Thụy</title>".encode() + b"<item/>" * 200 + b"</rss>"
POLLS = [("GET", None), ("GET", "gzip"), ("HEAD", None), ("HEAD", "gzip")]


def ahead(seconds: float) -> Snapshot:
    """A feed dated ``seconds`` after the clock's whole second now."""
    base = datetime.now(UTC).replace(microsecond=0)
    return make_snapshot(BODY, "application/rss+xml", base + timedelta(seconds=seconds))


def last_modified(answer: Reply) -> datetime:
    (value,) = [v for k, v in answer.headers if k == b"last-modified"]
    parsed = parse_http_date(value.decode())
    assert parsed is not None
    return parsed


def now_second() -> datetime:
    return datetime.fromtimestamp(int(time.time()), UTC)


@pytest.mark.parametrize("seconds", [5, 3600])
def test_a_date_ahead_of_the_clock_is_sent_as_the_clocks(seconds: int) -> None:
    snap = ahead(seconds)
    prepared = replies(snap, MAX_AGE)
    for method, encoding in POLLS:
        before = now_second()
        for since in (None, http_date(before), http_date(before - timedelta(seconds=1))):
            answer = prepared.reply(method, encoding, None, since)
            assert answer.status == 200, (method, encoding, since)  # never 304 on the date
            sent = last_modified(answer)
            assert before <= sent <= now_second() < snap.last_modified
        if method == "GET":
            assert answer.body == BODY or encoding == "gzip"
    for tag, encoding in ((snap.etag, None), (gzip_etag(snap.etag), "gzip")):
        answer = prepared.reply("GET", encoding, tag, http_date(now_second()))
        assert answer.status == 304 and (b"etag", tag.encode()) in answer.headers
        assert last_modified(answer) <= now_second()


def test_once_its_second_has_come_it_is_served_as_any_other() -> None:
    snap = ahead(1)
    prepared = replies(snap, MAX_AGE)
    early = prepared.reply("GET", None, None, None)
    held = http_date(last_modified(early))  # what a reader polling now keeps
    deadline = time.monotonic() + 10
    while time.time() < snap.last_modified.timestamp():  # a poll with a deadline
        assert time.monotonic() < deadline
        time.sleep(0.05)
    for method, encoding in POLLS:
        assert prepared.reply(method, encoding, None, held).status == 200  # once more
        answer = prepared.reply(method, encoding, None, None)
        assert last_modified(answer) == snap.last_modified
        assert prepared.reply(method, encoding, None, http_date(snap.last_modified)).status == 304


def test_a_shown_date_is_sent_and_the_own_date_compared() -> None:
    """An on-demand render made within its date's second shows the second before
    (``feedsvc.on_demand_dates.shown_modified``): a reader of an older version still gets it, and a
    reader holding the shown date gets the next render once more."""
    own = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    snap = make_snapshot(BODY, "application/rss+xml", own, own - timedelta(seconds=1))
    prepared = replies(snap, MAX_AGE)
    for method, encoding in POLLS:
        answer = prepared.reply(method, encoding, None, None)
        assert last_modified(answer) == own - timedelta(seconds=1)
        held = http_date(own - timedelta(seconds=1))
        assert prepared.reply(method, encoding, None, held).status == 200
        assert prepared.reply(method, encoding, None, http_date(own)).status == 304
    assert make_snapshot(BODY, "text/plain", own, own + timedelta(hours=1)).shown == own


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
async def test_every_path_sends_no_date_ahead_of_the_clock(
    client: AsyncClient,  # noqa: F811
    backend: FakeBackend,  # noqa: F811
    method: str,
    encoding: str,
) -> None:
    snap = ahead(3600)  # a replica whose clock is an hour ahead stored it
    backend.snapshots[("kien-thuy", "rss", 50)] = snap
    before = now_second()
    since = http_date(before)
    answer = await client.request(method, "/feeds/kien-thuy.rss",
                                  headers={"accept-encoding": encoding,
                                           "if-modified-since": since})  # fmt: skip
    assert answer.status_code == 200
    sent = parse_http_date(answer.headers["last-modified"])
    assert sent is not None and before <= sent <= now_second()
    tagged = await client.request(method, "/feeds/kien-thuy.rss",
                                  headers={"accept-encoding": encoding,
                                           "if-none-match": answer.headers["etag"]})  # fmt: skip
    assert tagged.status_code == 304
    sent = parse_http_date(tagged.headers["last-modified"])
    assert sent is not None and sent <= now_second()
