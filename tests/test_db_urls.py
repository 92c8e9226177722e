"""``feedsvc.db.urls`` reads a database URL exactly as SQLAlchemy does, or leaves it to it.

The CLI's read-only commands on PostgreSQL connect with psycopg without SQLAlchemy (issue #17
§1): whatever :func:`urls.parse` accepts must give SQLAlchemy's parts, its masked form and the
connection arguments its psycopg dialect would pass, so a state DB URL means the same on both
paths. What it cannot promise that for, it refuses (None) and SQLAlchemy decides as before.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from feedsvc.config import DatabaseSettings
from feedsvc.db import urls

READ = [
    "postgresql://postgres@127.0.0.1:5432/feedsvc_test?options=-csearch_path%3Dt_1",
    "postgresql+psycopg://feedsvc:s3cr%40t%2Fpw@db.example:6432/feedsvc",
    "postgresql://u:p@h/db?sslmode=require&application_name=feed%20svc&connect_timeout=3",
    "postgresql:///feedsvc",
    "postgresql://",
    "postgresql://h",
    "postgresql://h/",
    "postgresql://h:0/db",
    "postgresql://h:05432/db",
    "postgresql://u:@h/db",
    "postgresql://:pw@h/db",
    "postgresql://u@/db?host=/run/postgresql",
    "postgresql://u@[::1]:5433/db",
    "postgresql://u%20x+y@h/db%20name",
    "postgresql://u:a:b@c@h/db",
    "postgresql://u@h/db?options=-c%20statement_timeout%3D5s%20-csearch_path%3Da,b",
    "postgresql://u@h/db?empty=&flag",
    "postgresql://u@h/db?",
    "postgresql://Người:mật@máy/cơ_sở",
    "mysql+pymysql://reader:pw@cms:3306/news?charset=utf8mb4",
    "sqlite:///var/feedsvc.db",
    "postgresql://u@h/db?password=s3cret&sslmode=require",
    "postgresql://u:pw@h/db?sslpassword=k3y&sslkey=/etc/k.pem",
    "mysql+pymysql://u@h/db?passwd=s3cret&PassWord=x",
]
#: Parsed by SQLAlchemy in ways not repeated here: left to it (None).
LEFT_TO_SQLALCHEMY = [
    "postgresql://h:/db",  # SQLAlchemy refuses an empty port
    "postgresql://h:5_0/db",
    "postgresql://h: 5/db",
    "postgresql://h:٥٤/db",
    "postgresql://u@h/db?a=1&a=2",
    "postgresql://u@h/db?x=1\nignored",
    "postgresql://u@h/db\nname",
]
#: SQLAlchemy's dialect rewrites these host/port query forms: psycopg_url takes them and gives
#: the same connection arguments (``feedsvc.db.hosts``; more in ``tests/test_db_hosts.py``).
MULTI_HOST = [
    "postgresql://u@/db?host=h1:5432",
    "postgresql://u@/db?host=h1,h2&port=5432,5433",
    "postgresql://u@h/db?port=5433",
    "postgresql://u@/db?host=h1:1&host=h2:2",
    "postgresql://u:pw@h:7/db?host=h1,h2&target_session_attrs=read-write",
]


def sqlalchemy_params(url: str) -> dict[str, Any]:
    cargs, cparams = PGDialect_psycopg().create_connect_args(make_url(url))
    assert cargs in ([], [""])
    cparams.pop("context", None)  # SQLAlchemy's own adapters map
    return dict(cparams)


def _unquoted_mask(rendered: str) -> str:
    return rendered.replace("=%2A%2A%2A", "=***")


def assert_same_as_sqlalchemy(url: str) -> None:
    ours = urls.parse(url)
    assert ours is not None, url
    theirs = make_url(url)
    assert (ours.drivername, ours.username, ours.password, ours.host, ours.port,
            ours.database) == (theirs.drivername, theirs.username, theirs.password, theirs.host,
                               theirs.port, theirs.database), url  # fmt: skip
    assert ours.query == tuple(
        (k, v) for k, vs in theirs.query.items() for v in ((vs,) if isinstance(vs, str) else vs)
    ) or dict(ours.query) == dict(theirs.query), url
    # SQLAlchemy masks only the userinfo password; ours also the query's password-like values
    theirs = theirs.update_query_dict({k: "***" for k in theirs.query if urls.is_secret_key(k)})
    assert ours.render() == _unquoted_mask(theirs.render_as_string(hide_password=True)), url
    shown = theirs.set(drivername="postgresql+psycopg").render_as_string(hide_password=True)
    assert ours.render(drivername="postgresql+psycopg") == _unquoted_mask(shown)
    if urls.psycopg_url(url) is not None:
        assert ours.psycopg_params() == sqlalchemy_params(url), url


@pytest.mark.parametrize("url", READ)
def test_a_url_reads_as_sqlalchemy_reads_it(url: str) -> None:
    assert_same_as_sqlalchemy(url)


def test_random_urls_read_as_sqlalchemy_reads_them() -> None:
    """Parts drawn from awkward characters (%-escapes, '@', ':', '+', spaces, '[', '?'…)."""
    rng = random.Random(17)
    alphabet = "aZ09_-.~ %@:+/[]?=&,;#'\"\\é"

    def part() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))

    checked = 0
    for _ in range(3000):
        url = f"postgresql://{part()}:{part()}@{part()}:{rng.choice(['', '5432', part()])}/" \
              f"{part()}?{part()}={part()}&{part()}"  # fmt: skip
        try:
            make_url(url)
        except (ArgumentError, ValueError):
            assert urls.parse(url) is None, url  # never accepts what SQLAlchemy refuses
            continue
        if urls.parse(url) is not None:
            assert_same_as_sqlalchemy(url)
            checked += 1
    assert checked > 1000  # the comparison ran, not only the refusals


@pytest.mark.parametrize("url", LEFT_TO_SQLALCHEMY)
def test_what_could_read_differently_is_left_to_sqlalchemy(url: str) -> None:
    assert urls.parse(url) is None
    assert urls.psycopg_url(url) is None


@pytest.mark.parametrize("url", MULTI_HOST)
def test_multi_host_forms_connect_as_the_dialect_connects(url: str) -> None:
    assert urls.psycopg_url(url) is not None
    assert_same_as_sqlalchemy(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://u@h/db",
        "postgresql+asyncpg://u@h/db",
        "mysql+pymysql://u@h/db",
        "sqlite:///x.db",
        "postgres://u@h/db",
    ],
)
def test_only_urls_database_opens_with_psycopg_are_taken(url: str) -> None:
    assert urls.psycopg_url(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "postgresql//u:pw@db/x",
        "postgresql:/u@db/x",
        "://u@db/x",
        "postgresql://h:x5/db",
        "postgre sql://h/db",
    ],
)
def test_the_config_still_refuses_what_sqlalchemy_refuses(url: str) -> None:
    with pytest.raises(ValueError):
        DatabaseSettings(url=url)


SECRET = "s3cret"
#: A DB URL with a secret in each place one can be: shown_url must show none of them.
SECRET_URLS = [
    f"postgresql://u:{SECRET}@h:5432/db",
    f"postgresql://u@h:5432/db?password={SECRET}",
    f"postgresql+psycopg://u@127.0.0.1:5433/x?password={SECRET}",
    f"postgresql://u@h/db?sslmode=require&sslpassword={SECRET}",
    f"postgresql://u@h/db?PASSWORD={SECRET}",
    f"postgresql://u@h/db?db_pass={SECRET}&application_name=a",
    f"postgresql://u:{SECRET}@h/db?password={SECRET}x",
    f"mysql+pymysql://u@h:3306/db?passwd={SECRET}",
    f"mysql+pymysql://u@h:3306/db?password={SECRET}&charset=utf8mb4",
    f"postgresql://u@/db?host=h1&host=h2&password={SECRET}",  # several hosts
    f"postgresql://u:{SECRET}@/db?host=h1:5432&host=h2:5433&target_session_attrs=read-write",
    f"postgresql://u:{SECRET}@/db?host=h1,h2&port=5432,5433&sslpassword={SECRET}",
    f"postgresql://u@h/db?password={SECRET}&password=other",  # a key twice: SQLAlchemy's
    f"postgresql://u@h:5_0/db?password={SECRET}",  # a port SQLAlchemy reads: its parts
    f"postgresql://u:{SECRET}@h:99x/db",  # cannot be read at all: not shown
    f"postgresql://u@h/db?password={quote_plus(SECRET + ' &=x')}",
]


@pytest.mark.parametrize("url", SECRET_URLS)
def test_shown_url_masks_every_password(url: str) -> None:
    shown = urls.shown_url(url)
    assert SECRET not in shown, shown
    assert "***" in shown or shown == urls.UNREADABLE
    assert SECRET not in urls.shown_url(url, drivername="postgresql+psycopg")


def test_shown_url_keeps_what_is_not_secret() -> None:
    shown = urls.shown_url("postgresql://u:pw@h:5432/db?sslkey=/k.pem&password=pw2&sslmode=require")
    assert shown == "postgresql://u:***@h:5432/db?password=***&sslkey=%2Fk.pem&sslmode=require"
    assert urls.shown_url("sqlite:///var/feedsvc.db") == "sqlite:///var/feedsvc.db"
    assert urls.shown_url("mysql+pymysql://r@cms/news?passwd=x") == (
        "mysql+pymysql://r@cms/news?passwd=***"
    )


@pytest.mark.parametrize("url", SECRET_URLS)
def test_url_secrets_lists_each_secret_for_the_log_filter(url: str) -> None:
    found = urls.url_secrets(url)
    if urls.shown_url(url) != urls.UNREADABLE:
        assert any(SECRET in s for s in found), found


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql://u@h:99x/db", "not a number"),
        ("postgresql://u@h:/db", "not a number"),
        ("postgresql://u@h:٥٤/db", "not a number"),
        ("postgresql://u@h: 5/db", "not a number"),
        ("postgresql://u@h:99999/db", "out of range"),
        ("postgresql://u@h:0/db", "out of range"),
        ("postgresql://u@h:65536/db", "out of range"),
        ("mysql+pymysql://u@h:70000/db", "out of range"),
        ("postgresql://u@/db?host=h&port=99999", "out of range"),
        ("postgresql://u@/db?host=h1,h2&port=5432,x", "not a number"),
        (f"postgresql://u:{SECRET}/db", "not a number"),  # '@' forgotten: the password is read
        # an IPv6 host's bracket left open (or closed only): its port was said not a number
        ("postgresql://u:pw@[::1/db", "'[' must be closed by ']'"),
        ("postgresql://u:pw@[::1:5432/db", "'[' must be closed by ']'"),
        ("postgresql://u:pw@::1]:5432/db", "'[' must be closed by ']'"),
        ("postgresql://u:pw@]::1[/db", "'[' must be closed by ']'"),
        ("mysql+pymysql://root@[fe80::1?charset=utf8mb4", "'[' must be closed by ']'"),
    ],  # as the port, and must not be repeated
)
def test_a_bad_port_is_named_without_repeating_it(url: str, words: str) -> None:
    problem = urls.port_problem(url)
    assert problem is not None and words in problem
    assert SECRET not in problem and "99x" not in problem


@pytest.mark.parametrize(
    "url", ["postgresql://u@h:1/db", "postgresql://u@h:65535/db", "postgresql://u@h/db",
            "postgresql://u@[::1]:5432/db", "postgresql://u@/db?host=h1,h2&port=5432,5433",
            "mysql+pymysql://u@h:3306/db", "postgresql://u:p[w@h:5432/db",
            "postgresql://u:p]w@[::1]/db"],
)  # fmt: skip
def test_a_good_port_is_no_problem(url: str) -> None:
    assert urls.port_problem(url) is None


def test_a_message_names_an_sqlite_file_by_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``shown_db``: a relative ``sqlite:///var/feedsvc.db`` read as ``/var/feedsvc.db`` in
    "the state DB … is not initialised" (a newcomer's); messages name the file, from the
    working directory, as ``db upgrade`` did. A server's URL stays ``shown_url``'s."""
    from feedsvc.db.urls import shown_db

    monkeypatch.chdir(tmp_path)
    here = tmp_path.resolve()
    assert shown_db("sqlite:///var/feedsvc.db") == str(here / "var" / "feedsvc.db")
    assert shown_db(f"sqlite:///{here}/s.db?timeout=3") == str(here / "s.db")
    assert shown_db(f"sqlite:///file:{here}/s.db?mode=ro&uri=true") == str(here / "s.db")
    assert shown_db("sqlite://") == urls.shown_url("sqlite://")  # in memory: no file
    pg = "postgresql+psycopg://u:secret@db.example/feedsvc"
    assert shown_db(pg) == urls.shown_url(pg) and "secret" not in shown_db(pg)
