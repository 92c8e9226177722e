"""Unknown is not 0 on ``/metrics`` (ops-trips §1).

Before the first successful ingest tick (a new service, a source never reached, a first sync
whose first batch has not committed) ``/metrics`` said ``feedsvc_ingest_lag_seconds 0.0`` and
``feedsvc_ingest_last_success_timestamp 0.0``: an alert ``lag > 600`` never fired on a service
that had never ingested (the worst case read as the best), and a lag set by an earlier scrape
stayed as it was. A web replica, or a service just restarted, reported a last success of 0 (1970)
until its own tick. A scrape the state DB did not answer left every gauge at its last value.
Here the real ASGI app is scraped on SQLite (``module_on_sqlite``), next to ``/api/status``, the
admin
page and ``feedsvc status``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient
from test_admin import TOKEN, login
from test_status_first_sync import _cli as status_cli
from test_status_first_sync import partial_sync, serve_app

from feedsvc.app import Service
from feedsvc.db import Database, upgrade
from feedsvc.roles import Roles
from feedsvc.store.cursors import get_cursor

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

STATES = ("never", "ok", "lagging", "failing", "first_sync", "catching_up", "unknown")
UNREACHABLE_SOURCE = "postgresql://postgres@127.0.0.1:1/news"  # loopback: refused at once


def scrape(client: TestClient) -> dict[str, float]:
    """``/metrics`` as ``name{label="v"}`` → value (no label: the bare name)."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return out


def states(sampled: dict[str, float]) -> dict[str, float]:
    return {s: sampled[f'feedsvc_ingest_state{{state="{s}"}}'] for s in STATES}


@pytest.fixture
def app(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Service, TestClient]]:
    """The real app (HTTP only, like a web replica) on a migrated, never ingested state DB."""
    db = Database(db_url)
    upgrade(db)
    db.dispose()
    yield from serve_app(db_url, monkeypatch)


def api_status(client: TestClient) -> dict[str, Any]:
    return client.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"}).json()


def cli_status(db_url: str, cwd: Path) -> dict[str, Any]:
    return dict(json.loads(cli_status_text(db_url, cwd, "--json")))


def cli_status_text(db_url: str, cwd: Path, *args: str) -> str:
    """``feedsvc status ARGS``'s stdout (in this process: ``test_status_first_sync._cli``)."""
    return status_cli(db_url, cwd, *args)


def test_a_new_service_reports_no_lag_not_zero(
    app: tuple[Service, TestClient], db_url: str, tmp_path: Path
) -> None:
    """Never ingested: the lag and the last success are NaN, the state ``never`` is 1; every
    status surface says the same (no lag, state never)."""
    _service, client = app
    sampled = scrape(client)
    assert math.isnan(sampled["feedsvc_ingest_lag_seconds"]), sampled
    assert math.isnan(sampled["feedsvc_ingest_last_success_timestamp"]), sampled
    assert states(sampled) == {s: float(s == "never") for s in STATES}
    assert sampled["feedsvc_delivery_queue_depth"] == 0.0  # known, and empty
    for facts in (api_status(client), cli_status(db_url, tmp_path)):
        assert (facts["ingest_state"], facts["ingest_lag_seconds"]) == ("never", None), facts
        assert facts["last_ingest_success"] is None
    login(client)
    page = client.get("/admin/status").text
    assert "no successful ingest yet" in page and "up to date" not in page
    text = cli_status_text(db_url, tmp_path)  # the text form printed Python's "None"
    facts = dict(line.split(None, 1) for line in text.splitlines() if not line.startswith(" "))
    assert (facts["ingest_state"], facts["ingest_lag_seconds"]) == ("never", "-"), text
    assert facts["last_ingest_success"] == "-" and "None" not in text, text


def test_a_source_never_reached_is_failing_with_no_lag(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every tick fails (the CMS refuses connections) and none ever succeeded: ``failing`` is
    1, the lag and the last success NaN (they were 0.0)."""
    db = Database(db_url)
    upgrade(db)
    db.dispose()
    for service, client in serve_app(db_url, monkeypatch, url=UNREACHABLE_SOURCE, table="news"):
        assert service.ingest_tick().error is not None  # then backoff: skipped ticks
        sampled = scrape(client)
        assert math.isnan(sampled["feedsvc_ingest_lag_seconds"]), sampled
        assert math.isnan(sampled["feedsvc_ingest_last_success_timestamp"]), sampled
        assert states(sampled) == {s: float(s == "failing") for s in STATES}
        facts = api_status(client)
        assert (facts["ingest_state"], facts["ingest_lag_seconds"]) == ("failing", None)
        login(client)  # the admin page said "failing: 0 seconds behind, 1 failed attempts"
        page = client.get("/admin/status").text
        assert "failing: no successful ingest yet, failed attempts in a row: 1" in page, page
        assert "behind" not in page


def test_an_earlier_lag_is_not_left_standing(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gauges are the process's: a lag one scrape set (a state DB 90 days behind) stayed
    when the next scrape found no ingest at all (a fresh DB here, e.g. database.url changed and
    the process restarted in place; in the same process the registry is the same)."""
    partial_sync(db_url)
    for _service, client in serve_app(db_url, monkeypatch):
        assert scrape(client)["feedsvc_ingest_lag_seconds"] > 80 * 86400
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(db := Database(fresh))
    db.dispose()
    for _service, client in serve_app(fresh, monkeypatch):
        sampled = scrape(client)
        assert math.isnan(sampled["feedsvc_ingest_lag_seconds"]), sampled
        assert states(sampled)["never"] == 1.0


def test_last_success_comes_from_the_state_db(app: tuple[Service, TestClient]) -> None:
    """A web replica (no scheduler) never ticks: its last success was 0 (1970) for ever while
    the ingest leader's bookkeeping said when. It is now the stored time, on every replica."""
    service, client = app
    leader = Service(service.settings, Roles(http=False, bot=False))
    try:
        assert leader.ingest_tick().error is None
        with leader.db.read() as conn:
            stored = get_cursor(conn, leader.ingestor.source.name).last_success_at
    finally:
        leader.close()
    assert stored is not None
    # a scrape whose probe of the state DB got no answer within its 2 s is NaN by design (a
    # loaded CI machine's): scraped again until one was answered, within a deadline
    deadline = time.monotonic() + 30
    sampled = scrape(client)
    while math.isnan(sampled["feedsvc_ingest_last_success_timestamp"]):
        assert time.monotonic() < deadline, "the web replica's /metrics never read the time"
        sampled = scrape(client)
    assert sampled["feedsvc_ingest_last_success_timestamp"] == pytest.approx(stored.timestamp())
    assert states(sampled)["ok"] == 1.0
    assert 0 <= sampled["feedsvc_ingest_lag_seconds"] < 60


def test_a_state_db_that_does_not_answer_is_unknown(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scrape's DB probe fails: every gauge kept its last value (a stale ``ok`` and lag,
    the last queue depth). Now ``unknown`` is 1 and the numbers are NaN; when the DB answers
    again the real state is back."""
    upgrade(db := Database(sqlite_url))
    db.dispose()
    state_file = tmp_path / "state.db"
    for service, client in serve_app(sqlite_url, monkeypatch):
        assert service.ingest_tick().error is None
        assert states(scrape(client))["ok"] == 1.0
        kept = tmp_path / "kept.db"
        state_file.rename(kept)
        state_file.write_bytes(b"this is not an SQLite database " * 200)
        try:
            sampled = poll_scrape(client, lambda s: states(s)["unknown"] == 1.0)
            assert states(sampled) == {s: float(s == "unknown") for s in STATES}
            for name in ("ingest_lag_seconds", "ingest_last_success_timestamp",
                         "delivery_queue_depth"):  # fmt: skip
                assert math.isnan(sampled[f"feedsvc_{name}"]), (name, sampled)
        finally:
            state_file.unlink()
            kept.rename(state_file)
        sampled = poll_scrape(client, lambda s: states(s)["unknown"] == 0.0)
        assert states(sampled)["ok"] == 1.0 and sampled["feedsvc_delivery_queue_depth"] == 0


def poll_scrape(client: TestClient, done: Any, deadline: float = 15.0) -> dict[str, float]:
    """Scrape until ``done(sampled)`` (a probe result is reused for a second), or fail."""
    end = time.monotonic() + deadline
    while True:
        sampled = scrape(client)
        if done(sampled):
            return sampled
        assert time.monotonic() < end, sampled
        time.sleep(0.1)
