"""Rows whose cursor value has no place in the order are named once, decided in one place.

A cursor value that is NULL, ``'-infinity'``/BC (PostgreSQL) or a zero date (MySQL/MariaDB) has
no place in the order the keyset cursor follows, so no read takes the row. MariaDB says
``IS NULL`` of a zero date in a NOT NULL ``DATETIME``, while the keyset read took the same rows
too: each was quarantined twice in one tick (stage ``read``, then ``parse``), or stored and
released in the same transaction, while ``source check`` said "never ingested".
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from test_ingest_cursor_edges import Cms, bounded_tick, cms_at, pg_cms_url
from test_ingest_quarantine import T, held

from feedsvc.db import Database
from feedsvc.store import quarantine
from feedsvc.store.status import read_status

__all__ = ["cms_at", "pg_cms_url"]  # fixtures


def add_rows(cms: Cms, numbers: range, modified: str | None = None, mode: str = "") -> None:
    """Rows ``numbers`` in one statement list; ``modified`` SQL (``NULL``), else dated."""
    rows = [
        {
            "n": n, "s": f"p-{n}", "l": f"https://baohaiphong.vn/{n}.html",
            "t": f"Tin số {n}: Kiến Thụy", "at": T + timedelta(minutes=n),
        }
        for n in numbers
    ]  # fmt: skip
    with cms.engine.begin() as conn:
        if mode:
            conn.execute(text(f"SET SESSION sql_mode = '{mode}'"))
        conn.execute(
            text(f"INSERT INTO posts VALUES (:n, :s, :l, :t, NULL, :at, {modified or ':at'})"),
            rows,
        )


def entries(db: Database) -> dict[str, quarantine.Quarantined]:
    with db.read() as conn:
        return {e.row.source_id: e.row for e in quarantine.newest(conn, 10_000)}


def quarantined_count(db: Database, source: str) -> int:
    with db.read() as conn:
        return read_status(conn, source, 20).quarantined


# -- MariaDB zero dates: one place decides, named once --------------------------------------
ZERO = "'0000-00-00 00:00:00'"


@pytest.mark.parametrize("updated", ["modified", "created"])
def test_mariadb_zero_dates_are_quarantined_once(
    db: Database, cms_at: Any, updated: str, caplog: pytest.LogCaptureFixture
) -> None:
    cms = cms_at("mariadb", "DATETIME NOT")  # `modified DATETIME NOT NULL`
    add_rows(cms, range(1, 7))
    with cms.engine.begin() as conn:  # zero dates, where sql_mode allows them
        conn.execute(text("SET SESSION sql_mode = ''"))
        conn.execute(text(f"UPDATE posts SET modified = {ZERO} WHERE id IN (2, 5)"))
    ing = cms.ingestor(db)
    if updated == "created":  # a good article date: the row was ingested, yet "never ingested"
        ing.source.columns = ing.source.columns.model_copy(update={"updated_at": "created"})
    caplog.set_level(logging.INFO, logger="feedsvc.ingest")
    result = bounded_tick(ing)
    assert result.error is None, result.error
    assert held(db) == ["p-1", "p-3", "p-4", "p-6"]
    # was ['2', '2', '5', '5'] (read, then parse) or stored and released in one transaction
    assert sorted(q.source_id for q in result.quarantined) == ["2", "5"]
    got = entries(db)
    assert {k: e.stage for k, e in got.items()} == {"2": "read", "5": "read"}
    assert "modified '0000-00-00 00:00:00' is before any time" in got["2"].reason
    assert quarantined_count(db, ing.source.name) == 2
    assert "parse" not in caplog.text
    assert ing.source.unordered(10) == [("2", "0000-00-00 00:00:00"), ("5", "0000-00-00 00:00:00")]
    ing.source.dispose()


def test_source_check_names_zero_dates(tmp_path: Path, cms_at: Any) -> None:
    """MariaDB: zero dates in a NOT NULL column are named once, with their value."""
    from click.testing import CliRunner

    from feedsvc.cli import cli

    cms = cms_at("mariadb", "DATETIME NOT")
    add_rows(cms, range(1, 10))
    with cms.engine.begin() as conn:
        conn.execute(text("SET SESSION sql_mode = ''"))
        conn.execute(text(f"UPDATE posts SET modified = {ZERO} WHERE id > 2"))
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        f'[source]\nurl = "{cms.url}"\ntable = "posts"\n'
        '[source.columns]\ncursor = "modified"\nsource_key = "slug"\nurl = "link"\n'
        'title = "title"\npublished_at = "created"\nupdated_at = "modified"\n'
        "[topics]\nimport_on_start = false\n",
        encoding="utf-8",
    )
    out = CliRunner().invoke(cli, ["source", "check", "--config", str(config)])
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if "no cursor value" in x)
    assert line.startswith("warning: more than 5 rows with no cursor value"), line
    assert "id=3 (0000-00-00 00:00:00)" in line and line.count(" id=") == 5, line
