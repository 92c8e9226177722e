"""``source check`` says when ``source.timezone`` does not match how the CMS writes its times.

A CMS writing UTC into naive DATETIME columns read in the default +07:00 had every article
dated 7 h early, and one whose zone is ahead had new rows held back as "in the future";
``source check`` only said "compared as naive". It now reads the source database's clock (one
query) as ingest reads cursor values and compares it, and the newest row, with the real time:
SQLite (CURRENT_TIMESTAMP is UTC), PostgreSQL and MariaDB (the session's time zone, set here in
the URL as an operator's CMS has it).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from test_source_external import Cms, _config
from test_source_external import mariadb_cms as mariadb_cms  # the fixtures, shared
from test_source_external import postgres_cms as postgres_cms

from feedsvc.cli import cli
from feedsvc.source.clock import (
    Zone,
    clock_warning,
    naive_value,
    newest_warning,
    offset_text,
    zone_for,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
ZONE = Zone("Asia/Ho_Chi_Minh", VN)
COL = "source.columns.cursor 'modified'"


def wall(hours: float, minutes: float = 0) -> datetime:
    """NOW's wall time at UTC+``hours`` (+ ``minutes`` of age or drift)."""
    return (NOW + timedelta(hours=hours, minutes=minutes)).replace(tzinfo=None)


@pytest.mark.parametrize(
    ("clock", "says"),
    [
        (wall(0), 'is UTC+00:00. If the CMS writes the database\'s time (NOW(), CURRENT_TIMESTAMP)'
         ' into source.columns.cursor \'modified\', every article is dated 7 hours early; '
         'then set source.timezone = "UTC" (UTC+00:00)'),
        (wall(8), 'is UTC+08:00. If the CMS writes the database\'s time (NOW(), CURRENT_TIMESTAMP)'
         ' into source.columns.cursor \'modified\', new rows are held back 1 hour as dated '
         'in the future; then set source.timezone = "Etc/GMT-8" (UTC+08:00)'),
        (wall(5.5), "is UTC+05:30. If the CMS writes the database's time (NOW(), "
         "CURRENT_TIMESTAMP) into source.columns.cursor 'modified', every article is dated "
         "1 hour 30 minutes early; then set source.timezone to an IANA zone at UTC+05:30"),
        (wall(-5), 'set source.timezone = "Etc/GMT+5" (UTC-05:00)'),
        (wall(7, 4), None),  # drift within 5 minutes
        (wall(7, -4), None),
        (wall(7), None),
    ],
)  # fmt: skip
def test_clock_read_in_the_configured_zone(clock: datetime, says: str | None) -> None:
    said = clock_warning(clock, ZONE, NOW, COL)
    if says is None:
        assert said is None
    else:
        assert said is not None and says in said, said
        assert "'Asia/Ho_Chi_Minh' (UTC+07:00)" in said


def test_a_clock_no_zone_explains() -> None:
    said = clock_warning(wall(7 + 30), ZONE, NOW, COL)
    assert said is not None and "more than any time zone explains" in said


def test_the_site_zone_is_suggested_first() -> None:
    utc = Zone("UTC", UTC)
    said = clock_warning(wall(7), utc, NOW, COL, ["Asia/Ho_Chi_Minh"])
    assert said is not None and 'set source.timezone = "Asia/Ho_Chi_Minh" (UTC+07:00)' in said
    assert zone_for(timedelta(hours=7), NOW, ["Europe/Paris"]) == "Etc/GMT-7"
    assert zone_for(timedelta(hours=1), NOW, ["Europe/Paris"]) == "Europe/Paris"
    assert offset_text(timedelta(hours=-3, minutes=-30)) == "UTC-03:30"


@pytest.mark.parametrize(
    ("value", "clock_offset", "says"),
    [
        # UTC written 2 minutes ago, read as +07:00
        (wall(0, -2), None, "is dated 7 hours 2 minutes before now in source.timezone "
         "'Asia/Ho_Chi_Minh' (UTC+07:00), just the distance to UTC+00:00. If it was written in "
         "the last minutes, the CMS writes UTC+00:00 times and every article is dated 7 hours "
         '2 minutes early; set source.timezone = "UTC" (UTC+00:00)'),
        # a CMS at +09:00 (the database's clock there too), written just now
        (wall(9), timedelta(hours=9), "is dated 2 hours after now in source.timezone "
         "'Asia/Ho_Chi_Minh' (UTC+07:00): ingest holds it back until then. Written in the last "
         "minutes, it is in UTC+09:00"),
        (wall(3), timedelta(hours=3), "just the distance to UTC+03:00"),  # the DB's clock zone
        (wall(7, -180), None, None),  # an article 3 h old: no zone mistake explains it
        (wall(7, -360), timedelta(hours=7), None),  # 6 h old: UTC+01:00 is no likely zone
        (wall(0, -30), None, None),  # 7 h 30 min: not within 5 minutes of UTC's distance
        (wall(7, -1), None, None),
        (wall(7, 3), None, None),  # a moment ahead: drift
        (wall(7 + 48), None, None),  # a placeholder far ahead: the 'dated after now' warning's
    ],
)  # fmt: skip
def test_newest_row(value: datetime, clock_offset: timedelta | None, says: str | None) -> None:
    said = newest_warning(value, "42", ZONE, NOW, COL, clock_offset)
    if says is None:
        assert said is None, said
    else:
        assert said is not None and says in said, said
        assert said.startswith(f"the newest row (id=42, {COL} = {value:%Y-%m-%d %H:%M:%S})")


def test_only_values_read_in_the_zone() -> None:
    assert naive_value("text", "2026-12-01 03:00:00") == datetime(2026, 12, 1, 3)
    assert naive_value("text", "2026-12-01T03:00:00+00:00") is None  # its own zone
    assert naive_value("text", "soon") is None
    assert naive_value("naive", datetime(2026, 12, 1, 3)) == datetime(2026, 12, 1, 3)
    assert naive_value("aware", datetime(2026, 12, 1, 3, tzinfo=UTC)) is None
    assert naive_value("epoch", 1_764_558_000) is None


# -- the command, on each kind of CMS database ------------------------------------------------


def check(config: str) -> Result:
    out = CliRunner().invoke(cli, ["source", "check", "--config", config])
    assert out.exit_code == 0 and out.output.rstrip().endswith("OK"), out.output
    return out


def warnings_of(out: Result) -> list[str]:
    return [line for line in out.output.splitlines() if line.startswith("warning:")]


def sqlite_cms(tmp_path: Path, zone: str | None) -> str:
    """An SQLite CMS whose ``modified`` defaults to CURRENT_TIMESTAMP (UTC); its config."""
    tmp_path = tmp_path / (zone or "unset")
    tmp_path.mkdir()
    cms_file = tmp_path / "cms.db"
    with sqlite3.connect(cms_file) as conn:
        conn.execute(
            "CREATE TABLE news (id INTEGER PRIMARY KEY, slug TEXT, link TEXT, title TEXT, "
            "modified DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )
        conn.execute("INSERT INTO news (slug, link, title) VALUES ('a-1', 'https://x.vn/1', 'T')")
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        f'[source]\nurl = "sqlite:///{cms_file}"\ntable = "news"\n'
        + (f'timezone = "{zone}"\n' if zone else "")
        + '[source.columns]\nid = "id"\ncursor = "modified"\nsource_key = "slug"\n'
        'url = "link"\ntitle = "title"\npublished_at = "modified"\n'
        "[topics]\nimport_on_start = false\n",
        encoding="utf-8",
    )
    return str(config)


def test_sqlite_cms_writing_utc(tmp_path: Path) -> None:
    """Unset, ``source.timezone`` is the site's +07:00: both the clock and the newest row say
    UTC; set to UTC, nothing is said."""
    out = check(sqlite_cms(tmp_path, None))
    clock, newest = warnings_of(out)
    assert "clock reads" in clock and "source.timezone (unset: site.timezone) " in clock
    assert 'every article is dated 7 hours early; then set source.timezone = "UTC"' in clock
    assert "the newest row (id=1, source.columns.cursor 'modified' = " in newest
    assert "just the distance to UTC+00:00" in newest
    assert warnings_of(check(sqlite_cms(tmp_path, "UTC"))) == []


@pytest.fixture(params=["mariadb", "postgres"])
def cms(request: pytest.FixtureRequest) -> Cms:
    return request.getfixturevalue(f"{request.param}_cms")  # type: ignore[no-any-return]


def test_cms_clock_utc_read_as_vietnam(tmp_path: Path, cms: Cms) -> None:
    """The CMS database's session zone UTC, its rows written with NOW(): 7 h early."""
    with cms.writer.begin() as conn:
        conn.exec_driver_sql(
            "SET TIME ZONE 'UTC'" if cms.backend == "postgres" else "SET time_zone = '+00:00'"
        )
        cms.add(conn, 1, datetime.now(UTC).replace(tzinfo=None, microsecond=0))
    clock, newest = warnings_of(check(_config(tmp_path, cms, zone=0)))
    assert "that database's time zone is UTC+00:00" in clock
    assert 'then set source.timezone = "UTC"' in clock
    assert "just the distance to UTC+00:00" in newest


def test_cms_zone_ahead(tmp_path: Path, cms: Cms) -> None:
    """A CMS at +08:00 read as +07:00: its new rows would wait an hour."""
    cms.insert(1, datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0))
    held, clock, newest = warnings_of(check(_config(tmp_path, cms, zone=8)))
    assert "1 row dated after now" in held  # the row is named as held back, as before
    assert "UTC+08:00" in clock and "new rows are held back 1 hour" in clock
    assert "is dated 1 hour after now" in newest and "it is in UTC+08:00" in newest


def test_cms_in_step_says_nothing(tmp_path: Path, cms: Cms) -> None:
    cms.insert(1, datetime.now(VN).replace(tzinfo=None, microsecond=0) - timedelta(minutes=1))
    assert warnings_of(check(_config(tmp_path, cms, zone=7))) == []


def test_cms_writing_utc_from_its_code(tmp_path: Path, cms: Cms) -> None:
    """The database's clock agrees with +07:00 but the CMS's own code writes UTC: only the
    newest row shows it."""
    cms.insert(1, datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(minutes=2))
    (newest,) = warnings_of(check(_config(tmp_path, cms, zone=7)))
    assert "is dated 7 hours 2 minutes before now" in newest and 'source.timezone = "UTC"' in newest


# -- a database clock in UTC, a CMS whose own code writes the configured zone (break-today) ----


@pytest.mark.parametrize(
    ("clock", "newest", "warned"),
    [
        (wall(0), wall(7, -60), False),  # written +07:00 an hour ago: 6 h ahead read as UTC
        (wall(0), wall(7, -400), False),  # 6 h 40 min ago: still ahead read as UTC
        (wall(0), wall(7, -2), False),  # a moment ago in the zone: the zone is right
        (wall(8), wall(7, -1), False),  # a clock at +08:00, rows written now at +07:00
        (wall(-3), wall(7, -30), False),
        (wall(0), wall(0, -2), True),  # the CMS writes the database's UTC: warned, as before
        (wall(0), wall(7, -600), True),  # 10 h old: nothing shows which zone it was written in
        (wall(0), wall(7, 48 * 60), True),  # a placeholder dated after now shows nothing
        (wall(8), wall(8, -1), True),
    ],
)  # fmt: skip
def test_clock_warning_not_against_the_rows(
    clock: datetime, newest: datetime, warned: bool
) -> None:
    """Advice that the newest row contradicts (read at the clock's zone it lies after now, or
    it is dated now in the configured zone) is not given: it would hold every new row back."""
    said = clock_warning(clock, ZONE, NOW, COL, (), newest)
    assert (said is not None) == warned, said


def test_sqlite_cms_writing_local_time(tmp_path: Path) -> None:
    """SQLite's clock is always UTC; a CMS writing Vietnam's wall time from its code, read in
    the site's +07:00 (right), was told to set source.timezone = "UTC"."""
    config = sqlite_cms(tmp_path, None)
    cms_file = Path(config).parent / "cms.db"
    local = datetime.now(VN).replace(tzinfo=None, microsecond=0) - timedelta(minutes=50)
    with sqlite3.connect(cms_file) as conn:
        conn.execute("UPDATE news SET modified = ?", (local.isoformat(sep=" "),))
    assert warnings_of(check(config)) == []


def test_cms_clock_utc_rows_written_in_vietnam(tmp_path: Path, cms: Cms) -> None:
    """The CMS database's session zone UTC (a server's default), the CMS's code writing
    Vietnam's wall time 1 h ago: source.timezone Asia/Ho_Chi_Minh is right, nothing is said
    (it said 'set source.timezone = "UTC"', which would hold every new row back 7 h)."""
    cms.insert(1, datetime.now(VN).replace(tzinfo=None, microsecond=0) - timedelta(hours=1))
    assert warnings_of(check(_config(tmp_path, cms, zone=0))) == []


# -- the advice names the database's own zone (break-today) -----------------------------------


@pytest.mark.parametrize(
    ("offset", "db_zone", "named"),
    [
        (timedelta(hours=1), "Europe/Berlin", "Europe/Berlin"),  # was Etc/GMT-1: 1 h off in summer
        (timedelta(hours=5, minutes=30), "Asia/Kolkata", "Asia/Kolkata"),  # was "an IANA zone"
        (timedelta(hours=-3), "America/Sao_Paulo", "America/Sao_Paulo"),
        (timedelta(hours=1), "+01:00", "Etc/GMT-1"),  # MariaDB without zone tables: no name
        (timedelta(hours=1), "Asia/Tokyo", "Etc/GMT-1"),  # a name at another offset: not it
        (timedelta(hours=7), "Asia/Bangkok", "Asia/Ho_Chi_Minh"),  # the site's zone first
    ],
)  # fmt: skip
def test_clock_advice_names_the_database_zone(offset: timedelta, db_zone: str, named: str) -> None:
    clock = (NOW + offset).replace(tzinfo=None)
    said = clock_warning(clock, Zone("+00:00", UTC), NOW, COL, ["Asia/Ho_Chi_Minh", db_zone])
    assert said is not None and f'set source.timezone = "{named}"' in said, said


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Kolkata"])
def test_postgres_cms_in_a_named_zone(tmp_path: Path, postgres_cms: Cms, zone: str) -> None:
    """A PostgreSQL CMS whose session zone is Europe/Berlin writing NOW(): the advice was
    "Etc/GMT-1", 1 h wrong from the end of March; it names the database's zone now."""
    with postgres_cms.writer.begin() as conn:
        conn.exec_driver_sql(f"SET TIME ZONE '{zone}'")
        postgres_cms.add(conn, 1, datetime.now(ZoneInfo(zone)).replace(tzinfo=None, microsecond=0))
    config = Path(_config(tmp_path, postgres_cms))
    text = config.read_text(encoding="utf-8").replace(
        "-ctimezone%3DAsia/Ho_Chi_Minh", f"-ctimezone%3D{zone}"
    )
    config.write_text(text, encoding="utf-8")
    assert f"-ctimezone%3D{zone}" in text, text
    clock, newest = warnings_of(check(str(config)))
    assert f'then set source.timezone = "{zone}"' in clock
    assert f'set source.timezone = "{zone}"' in newest


@pytest.mark.parametrize(
    ("zone", "value", "says"),
    [
        # written at +07:00 73 min ago (the database's zone), read at -03:00: it was guessed
        # "Written in the last minutes, it is in UTC+05:45"
        (Zone("America/Sao_Paulo", ZoneInfo("America/Sao_Paulo")), wall(7, -73),
         'In the database\'s zone UTC+07:00 it was written 1 hour 13 minutes ago: new rows are '
         'held back 10 hours as dated in the future; set source.timezone = "Etc/GMT-7"'),
        (Zone("Etc/GMT+7", ZoneInfo("Etc/GMT+7")), wall(7, -300),
         "In the database's zone UTC+07:00 it was written 5 hours ago: new rows are held "
         "back 14 hours"),
        (Zone("Etc/GMT+7", ZoneInfo("Etc/GMT+7")), wall(7, -1),  # a moment ago: as before
         "Written in the last minutes, it is in UTC+07:00"),
    ],
)  # fmt: skip
def test_newest_ahead_read_in_the_database_zone(zone: Zone, value: datetime, says: str) -> None:
    said = newest_warning(value, "1", zone, NOW, COL, timedelta(hours=7))
    assert said is not None and says in said, said
