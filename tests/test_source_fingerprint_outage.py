"""The overlap window's fingerprint through a source outage (``SqlSource.window_digest``).

A tester's: a revoked grant (PostgreSQL ``permission denied``) and a dropped table (MariaDB
1146) are ``ProgrammingError``s, which the fingerprint took for the database refusing its
statement: a WARNING "no fingerprint of the overlap window …; each tick compares it row by row"
beside the real error, meaningless to an operator, and the fingerprint off for good after the
outage ended (every tick read the whole window again). Now the window's plain ``SELECT`` tells
them apart: failing too, it is the outage, raised for ingest to tell; the fingerprint stays.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cms_news import news_table
from sqlalchemy import text

from feedsvc.db import Database


@pytest.mark.parametrize("backend", ["same", pytest.param("mariadb", marks=pytest.mark.mysql)])
def test_a_table_gone_for_a_while_is_an_outage_not_a_refused_fingerprint(
    pg_db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture, backend: str
) -> None:
    with news_table(pg_db, tmp_path, backend) as news:
        news.put(1)
        source = news.source()
        lo_value = source.latest(1)[0].cursor  # a window of the one row
        before = source.window_digest(lo_value, lo_value, "1")
        assert before is not None and before[0] == 1
        caplog.set_level(logging.DEBUG, logger="feedsvc.source.sql")
        with news.engine.begin() as conn:
            conn.execute(text("ALTER TABLE news RENAME TO news_away"))
        with pytest.raises(Exception, match="news"):
            source.window_digest(lo_value, lo_value, "1")
        assert source.fingerprints
        assert not [r for r in caplog.records if "fingerprint" in r.getMessage()]
        with news.engine.begin() as conn:
            conn.execute(text("ALTER TABLE news_away RENAME TO news"))
        assert source.window_digest(lo_value, lo_value, "1") == before
        source.dispose()
