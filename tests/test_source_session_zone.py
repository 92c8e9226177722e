"""A MariaDB CMS table mixing ``DATETIME`` (the CMS's local wall time) and ``TIMESTAMP`` (an
instant the server gives in the session's zone) had no right ``source.timezone`` (a tester's
M5): one of them was read hours off, and ``source check`` said nothing of it, or advised a zone
that broke the other column. It now names the TIMESTAMP columns and the ``source.url``
parameter that gives the session ``source.timezone``'s zone; with it, ingest dates both columns
right and its cursor moves. Real MariaDB; the pure rule on its own below."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import mariadb_database
from sqlalchemy import create_engine, select, text

from feedsvc.app import Roles, Service
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db.schema import articles
from feedsvc.source.clock import Zone
from feedsvc.source.session_zone import init_command, timestamp_warning

VN = ZoneInfo("Asia/Ho_Chi_Minh")
UTC_SESSION = "init_command=SET%20time_zone%3D%27%2B00%3A00%27"  # a server whose zone is UTC


@pytest.fixture
def cms() -> Iterator[str]:
    with mariadb_database("feedsvc_mix") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(
                "CREATE TABLE posts (id INT PRIMARY KEY, slug VARCHAR(100) NOT NULL, "
                "link VARCHAR(300) NOT NULL, title VARCHAR(300) NOT NULL, "
                "created DATETIME NOT NULL, modified TIMESTAMP NOT NULL "
                "DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, KEY ix_m (modified, id))"
            ))  # fmt: skip
        engine.dispose()
        yield url


def post(url: str, n: int, created_local: datetime) -> None:
    """A row as the CMS writes it: ``created`` its wall time in Vietnam, ``modified`` the
    server's clock (an instant, stored in UTC by MariaDB)."""
    engine = create_engine(f"{url}&{UTC_SESSION}")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO posts (id, slug, link, title, created) VALUES "
                 "(:n, :s, :l, :t, :c)"),
            {"n": n, "s": f"tin-{n}", "l": f"https://e.vn/{n}", "t": f"Công an tin {n}",
             "c": created_local},
        )  # fmt: skip
    engine.dispose()


def config(tmp_path: Path, url: str) -> str:
    """A config on ``url`` as is: a server whose zone is UTC, as this machine's MariaDB."""
    path = tmp_path / "feedsvc.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "state.db"}"\n'
        f'[source]\nurl = "{url}"\ntable = "posts"\ntimezone = "Asia/Ho_Chi_Minh"\n'
        '[source.columns]\nid = "id"\ncursor = "modified"\nsource_key = "slug"\nurl = "link"\n'
        'title = "title"\npublished_at = "created"\n[topics]\nimport_on_start = false\n',
        encoding="utf-8",
    )
    return str(path)


def zone_warnings(path: str) -> list[str]:
    out = CliRunner().invoke(cli, ["source", "check", "--config", path])
    assert out.exit_code == 0, out.output
    return [line for line in out.output.splitlines() if line.startswith("warning:")]


@pytest.mark.parametrize("query", [True, False])
def test_source_check_names_the_url_and_it_works(tmp_path: Path, cms: str, query: bool) -> None:
    """The URL the warning gives, copied as it is (a verifier appended "&init_command=…" to a
    URL without a query, as told: "Unknown database 'db&init_command=…'")."""
    written = datetime.now(VN).replace(tzinfo=None, microsecond=0) - timedelta(minutes=30)
    post(cms, 1, written)
    base = cms if query else cms.split("?")[0]
    (said,) = zone_warnings(config(tmp_path, base))
    assert "source.columns.cursor 'modified' is TIMESTAMP" in said
    assert "(UTC+00:00)" in said and "read 7 hour(s) early" in said
    assert "source.columns.published_at 'created'" in said
    found = re.search(r'source\.url = "([^"]+)"', said)
    assert found is not None, said
    advised = found.group(1)
    assert advised.startswith(base) and "init_command=" in advised

    fixed = config(tmp_path, advised)  # the operator copies the URL into feedsvc.toml
    assert zone_warnings(fixed) == []
    service = Service(load_config(Path(fixed)), Roles(http=False, bot=False))
    try:
        service.prepare()
        assert service.ingest_tick().new == 1
        post(cms, 2, written + timedelta(minutes=1))  # the cursor moves on: the next is read
        assert service.ingest_tick().new == 1
        with service.db.read() as conn:
            rows = conn.execute(select(articles.c.source_key, articles.c.published_at)).all()
    finally:
        service.close()
    published = dict(rows)
    assert published["tin-1"] == written.replace(tzinfo=VN).astimezone(UTC)


def test_a_named_zone_the_server_does_not_know_is_said(tmp_path: Path, cms: str) -> None:
    """A zone with summer time goes by its name, which needs the server's zone tables (this
    machine's MariaDB has none, Debian's default): the warning says how to load them."""
    post(cms, 1, datetime.now(UTC).replace(tzinfo=None, microsecond=0))
    path = Path(config(tmp_path, cms))
    path.write_text(path.read_text().replace("Asia/Ho_Chi_Minh", "Europe/Berlin"))
    (said,) = zone_warnings(str(path))
    assert "SET time_zone = 'Europe/Berlin'" in said and "mariadb-tzinfo-to-sql" in said


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_other_dialects_convert_nothing(dialect: str) -> None:
    now = datetime.now(UTC)
    zone = Zone("Asia/Ho_Chi_Minh", VN)
    columns = [("source.columns.cursor", "m", "TIMESTAMP")]
    assert timestamp_warning(dialect, columns, timedelta(0), zone, now) is None


def test_the_rule() -> None:
    now = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    vn = Zone("Asia/Ho_Chi_Minh", VN)
    stamp = [("source.columns.cursor", "modified", "TIMESTAMP")]
    both = [*stamp, ("source.columns.published_at", "created", "DATETIME")]
    assert timestamp_warning("mariadb", both, timedelta(hours=7), vn, now) is None  # in step
    assert timestamp_warning("mysql", [both[1]], timedelta(0), vn, now) is None  # no TIMESTAMP
    alone = timestamp_warning("mariadb", stamp, timedelta(0), vn, now)
    assert alone is not None and "DATETIME" not in alone
    ahead = timestamp_warning("mariadb", both, timedelta(hours=8), vn, now)
    assert ahead is not None and "read 1 hour(s) late" in ahead
    assert init_command(vn, now) == "init_command=SET%20time_zone%20%3D%20%27%2B07%3A00%27"
    paris = Zone("Europe/Paris", ZoneInfo("Europe/Paris"))  # summer time: the name, not +01:00
    assert "Europe%2FParis" in init_command(paris, now)
