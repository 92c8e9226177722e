"""A reconciliation that withdraws nothing by its safety rules is told as its failures are.

A tester's: after the CMS table was emptied, "reconciliation withdrew nothing: the source
shows no row in the window (external:news)" came at every pass (12 WARNING lines an hour at
``reconcile_seconds = 300``) while a failing pass is told at its start, again every 15
minutes, and at its end (``leader_checks.Told``). Now the refusal is told by that one rule.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cms_table import cms_table
from sqlalchemy import text
from test_outage_lines import Clock, leader, told

from feedsvc.db import Database
from feedsvc.failure_log import REMIND_SECONDS


def test_an_emptied_table_is_told_once_then_now_and_then_and_its_end(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with cms_table(db, tmp_path) as cms:
        cms.put(1, "published", datetime.now(UTC))
        cms.put(2, "published", datetime.now(UTC))
        source = cms.source()
        clock = Clock()
        checks = leader(db, source, url=cms.url)
        checks.told.clock = clock
        assert checks.ingestor.tick().error is None  # articles held: there is work to do
        with cms.engine.begin() as conn:
            conn.execute(text("DELETE FROM posts"))  # emptied (a restore under way)
        caplog.set_level(logging.INFO)
        for _ in range(6):  # 5 minutes of passes a minute apart
            clock.now += 60
            assert checks.reconcile() == "reconciliation withdrew nothing"
        first = told(caplog)
        assert len(first) == 1, first
        assert first[0].startswith(
            "reconciliation withdrew nothing: the source shows no row in the window ("
        ), first
        assert "said again in 15 min" in first[0], first
        caplog.clear()
        clock.now += REMIND_SECONDS
        for _ in range(2):
            assert checks.reconcile() == "reconciliation withdrew nothing"
            clock.now += 60
        [reminder] = told(caplog)
        assert reminder.startswith("reconciliation withdrew nothing for "), reminder
        caplog.clear()
        cms.put(1, "published", datetime.now(UTC))
        cms.put(2, "published", datetime.now(UTC))
        assert checks.reconcile() == "reconciliation ran"
        assert told(caplog) == []
        [end] = told(caplog, logging.INFO)
        assert end.startswith("reconciliation works again after "), end
        source.engine.dispose()
