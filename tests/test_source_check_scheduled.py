"""``feedsvc source check`` marks a scheduled sample row and counts the sample (SPEC §10).

A row whose ``published_at`` is after now (a post scheduled for tomorrow morning) is stored and
shown only from its time, but ``source check`` listed it as any published row: an operator read
it as alerted now. It is marked ``SCHEDULED: shown from <time>`` (``site.timezone``, with its
offset, as ``topics preview`` prints times), a row both held back and scheduled stays ``NOT
VISIBLE`` (its time shows nothing), and a summary line counts the sample by kind. Checked on an
SQLite CMS (naive times in ``source.timezone``) and the built-in table (an imported line).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_cli_source import source_check, source_config
from test_source_check_visible import MARK, import_lines, row_line

from feedsvc.cli.service import local_time  # also feedsvc.local_times (the one format)

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def cms_rows(tmp_path: Path, rows: list[tuple[datetime, str]], site_zone: str | None) -> Path:
    """A CMS table whose row n is published at ``rows[n-1][0]`` (written naive, in Hà Nội's
    wall time: ``source.timezone`` unset reads it in the default ``site.timezone``… unless
    the site's is set, so the source's is set to Hà Nội explicitly) with status
    ``rows[n-1][1]``; ``visible = "status = 'publish'"``."""
    cms = tmp_path / "cms.db"
    modified = (datetime.now(HANOI) - timedelta(hours=1)).replace(tzinfo=None)
    with sqlite3.connect(cms) as conn:
        conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT,"
                     " title TEXT, status TEXT, created TEXT, modified TEXT)")  # fmt: skip
        conn.executemany(
            "INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(n, f"p-{n}", f"https://e.vn/{n}", f"Tin số {n}", status,
              f"{at.astimezone(HANOI):%Y-%m-%d %H:%M:%S}",
              f"{modified - timedelta(minutes=10 - n):%Y-%m-%d %H:%M:%S}")
             for n, (at, status) in enumerate(rows, start=1)],
        )  # fmt: skip
    config = source_config(tmp_path, cms, "status = 'publish'")
    text = config.read_text(encoding="utf-8")
    text = text.replace("[source]\n", '[source]\ntimezone = "Asia/Ho_Chi_Minh"\n')
    if site_zone is not None:
        text += f'[site]\ntimezone = "{site_zone}"\n'
    config.write_text(text, encoding="utf-8")
    return config


def summary(output: str) -> str:
    [line] = [ln for ln in output.splitlines() if ln.startswith("summary: ")]
    return line


@pytest.mark.parametrize(
    ("site_zone", "offset"),
    [(None, "+07:00"), ("Europe/Paris", None), ("UTC", "+00:00")],
)
def test_a_scheduled_row_is_marked_with_its_local_time(
    tmp_path: Path, site_zone: str | None, offset: str | None
) -> None:
    now = datetime.now(UTC)
    tomorrow = _minute(now + timedelta(days=1, hours=2))
    rows = [
        (now - timedelta(days=1), "publish"),  # shown now
        (tomorrow, "publish"),  # scheduled
        (now + timedelta(minutes=30), "draft"),  # held back and future: NOT VISIBLE
        (now - timedelta(days=2), "draft"),  # held back
    ]
    result = source_check(cms_rows(tmp_path, rows, site_zone), "--rows", "4")
    assert result.exit_code == 0, result.output
    zone = ZoneInfo(site_zone or "Asia/Ho_Chi_Minh")
    shown = local_time(tomorrow, zone)  # to the second, as every CLI time; Paris: +01:00/+02:00
    assert offset is None or shown.endswith(offset)
    assert f"SCHEDULED: shown from {shown}" in row_line(result.output, 2), result.output
    assert "SCHEDULED" not in row_line(result.output, 1) + row_line(result.output, 4)
    assert MARK not in row_line(result.output, 1) + row_line(result.output, 2)
    third = row_line(result.output, 3)
    assert MARK in third and "SCHEDULED" not in third
    assert summary(result.output) == (
        "summary: 1 shown now, 1 scheduled, 2 not visible, 0 rejected"
    )
    assert result.output.rstrip().endswith("OK")


@pytest.mark.parametrize("site_zone", [None, "Europe/Paris", "Asia/Tokyo"])
def test_a_sample_rows_published_time_is_in_the_sites_zone(
    tmp_path: Path, site_zone: str | None
) -> None:
    """A sample row's ``published`` was printed in the zone it was read in
    (``source.timezone``), beside a SCHEDULED mark in the site's: two zones on one line when
    they differ. It is the site's, to the second, with its offset, as every CLI time."""
    at = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    result = source_check(cms_rows(tmp_path, [(at, "publish")], site_zone), "--rows", "1")
    assert result.exit_code == 0, result.output
    local = local_time(at, ZoneInfo(site_zone or "Asia/Ho_Chi_Minh"))  # it was ISO 8601
    assert f"| published {local} |" in row_line(result.output, 1), result.output


def test_a_sample_of_scheduled_rows_only(tmp_path: Path) -> None:
    """Every sampled row scheduled (a newsroom's queue for the morning): each marked, counted,
    and no warning about ``visible`` (the rows are visible, from their time)."""
    soon = _minute(datetime.now(UTC) + timedelta(minutes=5))
    rows = [(soon + timedelta(hours=n), "publish") for n in range(3)]
    result = source_check(cms_rows(tmp_path, rows, None))
    assert result.exit_code == 0, result.output
    for n in (1, 2, 3):
        assert "SCHEDULED: shown from " in row_line(result.output, n)
    assert summary(result.output) == "summary: 0 shown now, 3 scheduled, 0 not visible, 0 rejected"
    assert "warning: source.columns.visible" not in result.output


def test_the_built_in_table_marks_a_scheduled_line(tmp_path: Path) -> None:
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n[site]\ntimezone = "Asia/Tokyo"\n',
        encoding="utf-8",
    )
    at = _minute(datetime.now(UTC) + timedelta(days=3))
    import_lines(
        config,
        f'{{"source_key": "K-1", "url": "https://e.vn/1", "title": "Tin hẹn giờ", '
        f'"published_at": "{at.astimezone(HANOI).isoformat()}"}}\n'
        f'{{"source_key": "K-2", "url": "https://e.vn/2", "title": "Tin gỡ", '
        f'"published_at": "{at.isoformat()}", "withdrawn": true}}\n',
    )
    result = source_check(config)
    assert result.exit_code == 0, result.output
    [first] = [ln for ln in result.output.splitlines() if "→ K-1 |" in ln]
    tokyo = local_time(at, ZoneInfo("Asia/Tokyo"))
    assert tokyo.endswith(":00 +09:00")
    assert f"SCHEDULED: shown from {tokyo}" in first, result.output
    [second] = [ln for ln in result.output.splitlines() if "→ K-2 |" in ln]
    assert 'NOT VISIBLE: stored, never shown (imported with "withdrawn": true)' in second
    assert "SCHEDULED" not in second
    assert summary(result.output) == "summary: 0 shown now, 1 scheduled, 1 not visible, 0 rejected"
