"""Several PostgreSQL hosts in a URL's query (a primary and its standbys): read as SQLAlchemy's
dialect reads them (``feedsvc.db.hosts``), checked by ``config check`` host by host, shown
masked, and connected to by the lite path (``status``, ``topics list``) as the engine connects.
Compared with SQLAlchemy's own ``create_connect_args`` and with the real PostgreSQL server."""

from __future__ import annotations

import random
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from test_config_urls import SECRET, check, one_problem
from test_db_urls import sqlalchemy_params
from test_store_lite import _cli
from test_store_lite import state as state  # the fixture

from feedsvc.db import Database
from feedsvc.db.urls import port_problem, psycopg_url, shown_url

#: URLs SQLAlchemy's dialect takes: the lite path's arguments must be its arguments.
TAKEN = [
    "postgresql://u@/db?host=h1:5432&host=h2:5433",
    "postgresql://u@/db?host=h1&host=h2",
    "postgresql://u@/db?host=h1,h2&port=5432,5433",
    "postgresql://u@/db?host=h1,h2&port=5432,",
    "postgresql://u@/db?host=h1,,h3&port=1,,3",
    "postgresql://u@/db?host=/run/postgresql&host=h2:5",
    "postgresql://u@/db?host=::1,::2&port=5432,5433",
    "postgresql://u:pw@h:7/db?host=h1,h2",  # SQLAlchemy passes port ",": not the 7
    "postgresql://u:pw@h:7/db?host=h1:5432&host=h2",
    "postgresql://u:pw@h:7/db?host=h1",  # one host and no port: the 7 stays
    "postgresql://u@/db?host=h1:5",
    "postgresql://u@h1,h2/db",  # libpq reads SQLAlchemy's one host "h1,h2" as two
    "postgresql://u@/db?host=h1&host=h2&target_session_attrs=read-write&sslmode=require",
    "postgresql+psycopg://u@/db?port=5433&host=h1",
]

#: (URL, the words of its problem). SQLAlchemy refuses the first ones when connecting (after
#: config check had passed them); the last ones it takes and libpq refuses, or it mangles.
REFUSED = [
    ("postgresql://u@/db?host=h1,h2&port=5432", "2 hosts but 1 port"),
    ("postgresql://u@/db?host=h1,h2&port=5432,5433,5434", "2 hosts but 3 ports"),
    ("postgresql://u@/db?port=5432,5433", "no host but 2 ports"),
    ("postgresql://u@/db?host=h1:5432&host=h2:x", "port of host 2 of 2 (h2) is not a number"),
    ("postgresql://u@/db?host=h1:5432&host=h2&port=1", "mixes its two forms"),
    ("postgresql://u@/db?host=h1&host=h2&port=1&port=2", "mixes its two forms"),
    ("postgresql://u@/db?host=h1,h2&port=5432,99999", "port of host 2 of 2 (h2) is out of range"),
    ("postgresql://u@/db?host=h1:5432&host=h2:0", "port of host 2 of 2 (h2) is out of range"),
    ("postgresql://u@/db?host=h1:1&host=h2:2&host=h3:70000", "host 3 of 3 (h3) is out of"),
    ("postgresql://u@/db?host=[::1]:5&host=h2:5", "an IPv6 address cannot be given as host="),
    ("postgresql://u@/db?host=h:x", "port of the host (h) is not a number"),
    (f"postgresql://u:{SECRET}@h1:5432,h2:5433/db", "several hosts with a port each after"),
]


def _sqlalchemy_refuses(url: str) -> bool:
    try:
        PGDialect_psycopg().create_connect_args(make_url(url))
    except (ArgumentError, ValueError):
        return True
    return False


@pytest.mark.parametrize("url", TAKEN)
def test_the_lite_path_connects_as_sqlalchemy_connects(url: str) -> None:
    parsed = psycopg_url(url)
    assert parsed is not None and port_problem(url) is None, url
    assert parsed.psycopg_params() == sqlalchemy_params(url), url


@pytest.mark.parametrize(("url", "words"), REFUSED)
def test_hosts_and_ports_that_cannot_connect_are_named(url: str, words: str) -> None:
    problem = port_problem(url)
    assert problem is not None and words in problem, problem
    assert SECRET not in problem and "invalid literal" not in problem
    assert psycopg_url(url) is None  # never the lite path: SQLAlchemy's error, if it gets there


def test_random_multi_host_urls_read_as_sqlalchemy_reads_them() -> None:
    """Either SQLAlchemy refuses it and so does the check, or the check passes it and the
    lite path gives SQLAlchemy's arguments (the check may refuse more: a port libpq refuses)."""
    rng = random.Random(5)
    names = ["h1", "h2", "db.example", "10.0.0.1", "", "/run/pg"]
    ports = ["", "5432", "6432", "0", "x", "99999"]
    taken = refused = 0
    for _ in range(3000):
        n = rng.randint(1, 3)
        hosts = [rng.choice(names) for _ in range(n)]
        ps = [rng.choice(ports) for _ in range(rng.choice([n, n, 1, n + 1]))]
        form = rng.choice(["paired", "lists", "lists-repeated", "netloc+query"])
        if form == "paired":
            pairs = zip(hosts, ps, strict=False)  # this form has no port count of its own
            query = "&".join(f"host={h}" + (f":{p}" if p else "") for h, p in pairs)
        elif form == "lists":
            query = f"host={','.join(hosts)}&port={','.join(ps)}"
        elif form == "lists-repeated":
            query = "&".join([f"host={h}" for h in hosts] + [f"port={p}" for p in ps])
        else:
            query = f"host={','.join(hosts)}"
        url = f"postgresql://u:pw@hx:7/db?{query}&sslmode=prefer"
        if _sqlalchemy_refuses(url):
            assert port_problem(url) is not None and psycopg_url(url) is None, url
            refused += 1
        elif port_problem(url) is None:
            parsed = psycopg_url(url)
            assert parsed is not None, url
            assert parsed.psycopg_params() == sqlalchemy_params(url), url
            taken += 1
    assert taken > 300 and refused > 300, (taken, refused)


@pytest.mark.parametrize(("url", "words"), REFUSED[:9])
@pytest.mark.parametrize("key", ["database", "source"])
def test_config_check_names_the_host_whose_port_is_wrong(
    tmp_path: Path, url: str, words: str, key: str
) -> None:
    line = one_problem(tmp_path, f"{key}.url", **{f"FEEDSVC_{key.upper()}__URL": url})
    assert words in line, line


@pytest.mark.parametrize(
    "query",
    ["target_session_attrs=nope", "sslmode=bogus", "load_balance_hosts=sometimes"],
)
def test_libpq_options_are_checked_with_several_hosts_too(tmp_path: Path, query: str) -> None:
    """``libpq_problem`` was asked only of single-host URLs."""
    url = f"postgresql://u:{SECRET}@/db?host=h1:5432&host=h2:5433&{query}"
    line = one_problem(tmp_path, "database.url", FEEDSVC_DATABASE__URL=url)
    assert "libpq refuses the connection options" in line, line


@pytest.mark.parametrize("url", TAKEN)
def test_taken_urls_pass_config_check(tmp_path: Path, url: str) -> None:
    assert check(tmp_path, FEEDSVC_DATABASE__URL=url) == (0, [])


def test_several_hosts_are_shown_masked_each_named() -> None:
    url = f"postgresql://u:{SECRET}@/db?host=h1:5432&host=h2:5433&sslpassword={SECRET}"
    assert shown_url(url) == (
        "postgresql://u:***@/db?host=h1%3A5432&host=h2%3A5433&sslpassword=***"
    )  # SQLAlchemy's rendering, passwords masked; each host in its order


def _two_hosts(pg_url: str, form: str) -> str:
    """``pg_url`` (one host, 127.0.0.1:5432) with a host that is down tried first."""
    base, query = pg_url.split("?", 1)
    head, _, database = base.rpartition("/")
    userinfo = head.split("//", 1)[1].split("@", 1)[0]
    hosts = {
        "paired": "host=127.0.0.1:1&host=127.0.0.1:5432",
        "lists": "host=127.0.0.1,127.0.0.1&port=1,5432",
        # the URL's own port is dropped by SQLAlchemy for several query hosts: libpq's default
        "netloc port": "host=127.0.0.1,127.0.0.1",
    }[form]
    at = "127.0.0.1:1" if form == "netloc port" else ""
    options = f"target_session_attrs=read-write&{query}"
    return f"postgresql://{userinfo}@{at}/{database}?{hosts}&{options}"


@pytest.mark.postgres
@pytest.mark.parametrize("form", ["paired", "lists", "netloc port"])
def test_a_down_first_host_is_skipped_by_the_lite_path_as_by_the_engine(
    pg_url: str, form: str
) -> None:
    url = _two_hosts(pg_url, form)
    parsed = psycopg_url(url)
    assert parsed is not None
    with psycopg.connect(connect_timeout=5, **parsed.psycopg_params()) as conn:
        assert conn.info.port == 5432 and conn.info.host == "127.0.0.1"
    db = Database(url)
    try:
        db.ping()  # through the engine: SQLAlchemy's arguments skip the same host
    finally:
        db.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("form", ["paired", "netloc port"])
def test_status_is_the_same_through_either_path_with_a_host_down(
    state: tuple[Database, str], tmp_path: Path, form: str
) -> None:
    _, url = state
    if not url.startswith("postgresql"):
        pytest.skip("several hosts: PostgreSQL only")
    two = _two_hosts(url, form)
    lite_facts = _cli(["status", "--json"], two, tmp_path)
    db_facts = _cli(["status", "--json"], two, tmp_path, fast=False)
    for facts in (lite_facts, db_facts):
        facts.pop("ingest_lag_seconds")
        assert SECRET not in str(facts.pop("database"))
    assert lite_facts == db_facts and lite_facts["ingest_state"] == "failing"
