"""A standby's wait names the ingest lease's holder and when its lease lapses (an operator's
report, low): after ``kill -9`` and a restart on a PostgreSQL state DB the log said
``sending still waits: another replica leads ingest: waiting for its next pass``, then
``sending starts after 11.8 s``, though the only process was the killed one, whose lease was
left to lapse. Now: ``sending still waits: the ingest lease of host:4242:ab12cd (not heard from
for 3 s) lapses in 9 s: …`` — the holder as the ``leases`` table records it —, once per holder.

The real :class:`~feedsvc.app.Service` on PostgreSQL (``test_send_gate``'s world: alerts owed
from before the stop), with the lease a killed process left; and the wording, pure.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from factories import article
from fakebot import FakeBotAPI
from lifecycle_world import CHAT
from test_send_gate import before_the_stop, settings_for, states, subscribed, until
from test_send_gate import fake as fake  # the fixture

from feedsvc.app import Roles, Service
from feedsvc.db import Database
from feedsvc.ingest import lease as ingest_lease
from feedsvc.ingest import model
from feedsvc.ingest.lease import INGEST_LEASE
from feedsvc.ingest.model import TickResult
from feedsvc.send_gate import SendGate
from feedsvc.store import leases
from feedsvc.store.source_articles import upsert_source_articles

NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
TTL = timedelta(seconds=12)


@pytest.mark.parametrize(
    ("holder", "renewed_ago", "words"),
    [
        ("web-1:4242:ab12cd", 3, "the ingest lease of web-1:4242:ab12cd (not heard from for 3 s) "
         "lapses in 9 s"),
        ("feedsvc-0:1:0f0f0f", 0, "the ingest lease of feedsvc-0:1:0f0f0f (not heard from for "
         "0 s) lapses in 12 s"),
        ("h:7:aa", 11.6, "the ingest lease of h:7:aa (not heard from for 12 s) lapses in 0 s"),
        ("h:7:aa", 15, "the ingest lease of h:7:aa (not heard from for 15 s) has lapsed"),
    ],
)  # fmt: skip
def test_the_hold_is_said_with_its_holder_and_times(
    holder: str, renewed_ago: float, words: str
) -> None:
    renewed = NOW - timedelta(seconds=renewed_ago)
    lease = leases.Lease(INGEST_LEASE, holder, renewed + TTL)
    assert ingest_lease.held_by(lease, NOW, TTL) == model.LeaseHolder(holder, words)


def test_a_holder_with_a_longer_lease_is_not_said_to_be_silent() -> None:
    """A holder configured with a longer TTL renewed at a time this process cannot tell."""
    lease = leases.Lease(INGEST_LEASE, "web-2:9:bb", NOW + timedelta(seconds=40))
    said = ingest_lease.held_by(lease, NOW, TTL).words
    assert said == "the ingest lease of web-2:9:bb lapses in 40 s"


def test_the_gate_says_the_holder_once_and_shows_its_latest_times(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = SendGate(bound_seconds=60)
    gate._armed_at = 0.0  # armed without a loop: only the wording is under test
    caplog.set_level(logging.INFO, logger="feedsvc.send_gate")
    for left in (9, 8, 7):
        words = f"the ingest lease of a:1:x (not heard from for {12 - left} s) lapses in {left} s"
        gate.after_tick(
            TickResult(skipped=True, standby=True, leader=model.LeaseHolder("a:1:x", words)),
            False, lambda: False, lambda: "never",
        )  # fmt: skip
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "sending still waits: the ingest lease of a:1:x (not heard from for 3 s) lapses in 9 s: "
        "waiting for that process's next pass, or for its lease to lapse (this process then "
        "leads ingest)"
    ]
    assert "(not heard from for 5 s) lapses in 7 s" in gate.shown()
    other = model.LeaseHolder(
        "b:2:y", "the ingest lease of b:2:y (not heard from for 0 s) lapses in 12 s"
    )
    gate.after_tick(TickResult(skipped=True, standby=True, leader=other), False,
                    lambda: False, lambda: "never")  # fmt: skip
    assert len(caplog.records) == 2 and "b:2:y" in caplog.records[1].getMessage()
    assert "another replica" not in caplog.text


@pytest.mark.parametrize("holder", ["gone-host:4242:ab12cd", "feedsvc-0:1:0f0f0f"])
async def test_a_restart_after_kill_names_the_killed_process_lease(
    pg_db: Database, pg_url: str, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture, holder: str
) -> None:
    """The killed process's lease is still in the table (renewed 2 s before the kill); the
    restarted process waits for it to lapse, saying whose it is and when, then leads ingest
    and sends."""
    subscribed(pg_db, digest=False)
    now = datetime.now(UTC).replace(microsecond=0)
    with pg_db.write() as conn:
        upsert_source_articles(conn, [article(n, published_at=now) for n in (1, 2)], now)
    settings = settings_for(pg_url, fake)
    before_the_stop(settings, held=False)
    service = Service(settings, Roles(http=False, bot=False))
    assert service.ingestor.lease is not None
    ttl = service.ingestor.lease.ttl
    with pg_db.write() as conn:  # what the killed process left: renewed 2 s ago
        assert leases.acquire(conn, INGEST_LEASE, holder, ttl, pg_db.now() - timedelta(seconds=2))
    caplog.set_level(logging.INFO, logger="feedsvc.send_gate")
    await service.start()
    try:
        await until("the alerts sent", lambda: len(fake.messages(CHAT)) == 2)
    finally:
        await service.stop()
    said = [r.getMessage() for r in caplog.records if r.name == "feedsvc.send_gate"]
    waits = [s for s in said if s.startswith("sending still waits:")]
    assert len(waits) == 1, said
    found = re.fullmatch(
        rf"sending still waits: the ingest lease of {re.escape(holder)} \(not heard from for "
        r"(\d+) s\) lapses in (\d+) s: waiting for that process's next pass, or for its lease "
        r"to lapse \(this process then leads ingest\)",
        waits[0],
    )
    assert found is not None, waits
    quiet, left = int(found[1]), int(found[2])
    lease_seconds = round(ttl.total_seconds())
    assert 2 <= quiet <= 5 and lease_seconds - 1 <= quiet + left <= lease_seconds + 1, found
    assert "another replica" not in caplog.text
    assert any(s.startswith("sending starts after") for s in said), said
    assert all(s == "sent" for s, _ in states(pg_db).values())
