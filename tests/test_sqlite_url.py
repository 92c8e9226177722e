"""``feedsvc.db.sqlite_url`` opens what SQLAlchemy opens for an SQLite URL, SQLite's URI form
included (issue #17 §3): ``sqlite:///file:/srv/state.db?mode=ro&uri=true`` named an initialised
state DB "not initialised" in ``topics list`` and ``status``, since the file ``file:/srv/…``
(the URL's database part taken as a path) does not exist."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import pytest
from in_process import Ran, feedsvc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from feedsvc.db import Database, upgrade
from feedsvc.db.revision import require_schema, schema_status
from feedsvc.db.sqlite_url import connect_file, sqlite_target, written_path
from feedsvc.db.timeouts import DbTimeouts
from feedsvc.store import lite

URLS = [
    "sqlite://",
    "sqlite:///",
    "sqlite:///:memory:",
    "sqlite:///rel.db",
    "sqlite:////abs/dir/s.db",
    "sqlite:///a%20b.db",
    "sqlite:///%2Fabs.db",
    "sqlite:///s.db?timeout=5",
    "sqlite:///s.db?foo=1&mode=ro",
    "sqlite:///file:/abs/s.db",
    "sqlite:///file:/abs/s.db?mode=ro&uri=true",
    "sqlite:///file:/abs/s.db?uri=true&mode=ro&cache=shared&timeout=3",
    "sqlite:///file:rel.db?uri=1",
    "sqlite:///file:rel.db?uri=YES",
    "sqlite:///file:rel.db?uri=false",
    "sqlite:///file:///abs/s.db?uri=true",
    "sqlite:///file://localhost/abs/s%20t.db?uri=on&mode=rw",
    "sqlite:///file:/abs/s.db?uri=true&mode=r%6F",
    "sqlite:///file::memory:?uri=true",
    "sqlite:////abs/s.db?uri=true&mode=ro",
    "sqlite+pysqlite:///file:/abs/s.db?uri=true&immutable=1",
    "sqlite+pysqlite:///rel.db",
    "sqlite:////abs/nodir/../s.db",
    "sqlite:///link/../s.db",
    "sqlite:///./a//b/./s.db",
    "sqlite:///file:nodir/../s.db?uri=true",
    "sqlite:///file:/abs//./x/../s.db?uri=true&mode=ro",
]


@pytest.mark.parametrize("url", URLS)
def test_the_target_is_what_sqlalchemy_passes_sqlite3(url: str) -> None:
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    args, kwargs = SQLiteDialect_pysqlite().create_connect_args(make_url(url))
    target = sqlite_target(url)
    assert target is not None
    assert (target.filename, target.uri) == (args[0], bool(kwargs.get("uri", False)))


@pytest.mark.parametrize(
    "url",
    ["sqlite:///s.db?uri=maybe", "sqlite://user@host/s.db", "sqlite:///s.db?uri=1&uri=1",
     "postgresql://u@h/db", "mysql+pymysql://u@h/db"],
)  # fmt: skip
def test_a_url_sqlalchemy_reads_otherwise_or_refuses_is_left_to_it(url: str) -> None:
    assert sqlite_target(url) is None


@pytest.mark.parametrize(
    ("filename", "uri", "file"),
    [
        ("/abs/s.db", False, "/abs/s.db"),
        ("file:/abs/s.db", False, "file:/abs/s.db"),  # a file named so: no URI without uri
        ("file:/abs/s.db?mode=ro", True, "/abs/s.db"),
        ("file:rel.db", True, "rel.db"),
        ("file:///abs/s.db", True, "/abs/s.db"),
        ("file://localhost/abs/s%20t.db?cache=shared#frag", True, "/abs/s t.db"),
        ("/abs/s.db?mode=ro", True, "/abs/s.db?mode=ro"),  # not file:, so a plain name
        (":memory:", False, None),
        ("", True, None),
        ("file::memory:?cache=shared", True, None),
        ("file:/abs/s.db?mode=memory", True, None),
        ("file:/abs/s.db?vfs=memdb", True, None),
        ("file:?mode=ro", True, None),
        ("file://elsewhere/abs/s.db", True, None),  # SQLite refuses it when connecting
    ],
)
def test_the_file_a_target_opens_follows_sqlites_uri_rules(
    filename: str, uri: bool, file: str | None
) -> None:
    """``file`` as written; the file opened is absolute (``/abs`` does not exist: no symlink
    on the way, tests/test_sqlite_paths.py has them)."""
    assert written_path(filename, uri=uri) == file
    assert connect_file(filename, uri=uri) == (None if file is None else Path.cwd() / file)


def _initialised(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


def _uri_forms(path: Path) -> list[str]:
    quoted = str(path).replace(" ", "%20")
    return [
        f"sqlite:///file:{path}?mode=ro&uri=true",
        f"sqlite:///file:{path}?uri=true",
        f"sqlite+pysqlite:///file://{path}?uri=1&cache=shared&timeout=3",
        f"sqlite:///file://localhost{quoted}?uri=yes&mode=rw",
    ]


def test_an_initialised_db_in_uri_form_is_initialised_on_both_paths(tmp_path: Path) -> None:
    """The SQLAlchemy path's revision check and the lite path read the same file: the DB
    Alembic migrated, not a file named ``file:…``."""
    path = _initialised(tmp_path)
    for url in _uri_forms(path):
        db = Database(url)
        try:
            require_schema(db)  # raised "not initialised"
            assert schema_status(db).current
        finally:
            db.dispose()
        opened = lite.read_only_url(url, DbTimeouts())
        assert opened is not None, url
        with opened as reader:
            assert lite.list_topics(reader) == []


def _cli(args: list[str], url: str, cwd: Path) -> Ran:
    """``feedsvc ARGS`` on the state DB ``url`` in ``cwd``, in this process: which file a URL
    names is read from the URL and the working directory, not from the process."""
    return feedsvc(args, cwd, FEEDSVC_CONFIG="/dev/null", FEEDSVC_DATABASE__URL=url)


def test_topics_list_and_status_read_a_db_given_in_uri_form(tmp_path: Path) -> None:
    path = _initialised(tmp_path)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    plain = _cli(["status", "--json"], f"sqlite:///{path}", cwd)
    assert plain.returncode == 0, plain.stderr
    for url in [*_uri_forms(path), "sqlite:///file:../state.db?uri=true&mode=ro"]:
        listed = _cli(["topics", "list"], url, cwd)
        assert listed.returncode == 0, (url, listed.stderr)  # read: it holds no topic
        assert listed.stderr.startswith("feedsvc: no topic is stored in the state DB "), url
        status = _cli(["status", "--json"], url, cwd)
        assert status.returncode == 0, (url, status.stderr)
        facts = json.loads(status.stdout)
        assert facts["ingest_state"] == json.loads(plain.stdout)["ingest_state"]
    assert not (cwd / "file:").exists()


def test_a_missing_db_in_uri_form_is_not_initialised_and_upgrade_makes_that_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new.db"
    url = f"sqlite:///file:{path}?uri=true"
    listed = _cli(["topics", "list"], url, tmp_path)
    assert listed.returncode == 1 and "is not initialised: run `feedsvc db upgrade`" in (
        listed.stderr
    )
    assert not path.exists()
    upgraded = _cli(["db", "upgrade"], url, tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert path.is_file() and not (tmp_path / "file:").exists()
    assert _cli(["topics", "list"], url, tmp_path).returncode == 0


def test_sqlalchemy_refuses_what_is_left_to_it() -> None:
    """The forms :func:`sqlite_target` does not mirror are ones SQLAlchemy itself refuses or
    reads as several values: it decides, with its own error."""
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    with pytest.raises(ArgumentError):
        SQLiteDialect_pysqlite().create_connect_args(make_url("sqlite://user@host/s.db"))
    with pytest.raises(ValueError):
        SQLiteDialect_pysqlite().create_connect_args(make_url("sqlite:///s.db?uri=maybe"))


def test_upgrade_makes_a_relative_uris_directory_as_a_relative_paths(tmp_path: Path) -> None:
    """``db upgrade`` makes a relative path's directories (the default ``var/feedsvc.db``),
    in URI form too; an absolute one's must exist."""
    made = _cli(["db", "upgrade"], "sqlite:///file:sub/new.db?uri=true", tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "sub" / "new.db").is_file()
    absent = _cli(["db", "upgrade"], f"sqlite:///file:{tmp_path}/none/new.db?uri=true", tmp_path)
    assert absent.returncode == 2 and f"directory {tmp_path}/none does not exist" in absent.stderr


#: SQLite URLs SQLAlchemy parses but fails on at every connection (a traceback from each
#: command, `config check` said OK), or opens as another file than meant; what the problem says.
MISREAD = {
    "sqlite:///s.db?uri=maybe": "the query key 'uri' must be true or false",
    "sqlite:///s.db?timeout=abc": "the query key 'timeout' must be a number of seconds",
    "sqlite:///file:/s.db?uri=true&timeout=x": "the query key 'timeout' must be a number",
    "sqlite:///s.db?timeout=1&timeout=2": "the query key 'timeout' is given 2 times",
    "sqlite:///s.db?uri=1&uri=1": "the query key 'uri' is given 2 times",
    "sqlite:///s.db?detect_types=x": "the query key 'detect_types' must be an integer",
    "sqlite:///s.db?cached_statements=1.5": "'cached_statements' must be an integer",
    "sqlite:///s.db?check_same_thread=perhaps": "'check_same_thread' must be true or false",
    "sqlite:///file:/srv/s.db": "written as an SQLite URI (file:…) but the query has no uri=true",
    "sqlite:///file:s.db?mode=ro": "but the query has no uri=true",
    "sqlite+pysqlite:///file:/srv/s.db?uri=false": "but the query has no uri=true",
    "sqlite:///file://elsewhere/srv/s.db?uri=true": "names a host (file://HOST/…)",
    # options SQLite refuses when it opens the file, or ignores (F5/F6)
    "sqlite:///file:/srv/s.db?mode=bogus&uri=true": "'mode' must be one of ro, rw, rwc, memory",
    "sqlite:///file:/srv/s.db?uri=true&vfs=nosuch": "'vfs' names no VFS this SQLite has (unix",
    "sqlite:///file:/srv/s.db?uri=1&cache=weird": "'cache' must be one of shared, private",
    "sqlite:///file:/srv/s.db?uri=1&mode=ro&mode=rw": "the query key 'mode' is given 2 times",
    "sqlite:///file:/srv/s.db?uri=1&immutable=maybe": "'immutable' must be 1 or 0",
    "sqlite:///file:/srv/s.db?uri=1&modeof=/no/such": "'modeof' must name an existing file",
    "sqlite:///file:/srv/s.db?uri=1&MODE=ro": "SQLite ignores the query key 'MODE'",
    "sqlite:////srv/s.db?mode=ro": "the query key 'mode' is ignored without uri=true",
    "sqlite:///s.db?cache=shared&timeout=3": "the query key 'cache' is ignored without uri=true",
    "sqlite:///file:s.db?mode=ro&uri=false": "but the query has no uri=true",
    "sqlite:////srv/s.db?mode=ro&uri=true": "would open a file named 's.db?mode=ro'",
}


@pytest.mark.parametrize(
    "url", sorted(u for u, p in MISREAD.items() if "must be one of" in p or "no VFS" in p)
)
def test_each_refused_uri_option_fails_in_sqlite(url: str, tmp_path: Path) -> None:
    """SQLite itself refuses these when it opens the file (here a real one)."""
    import sqlite3

    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    args, kwargs = SQLiteDialect_pysqlite().create_connect_args(make_url(url))
    filename = str(args[0]).replace("/srv/s.db", str(tmp_path / "s.db"))
    with pytest.raises(sqlite3.OperationalError, match="no such"):
        sqlite3.connect(filename, uri=kwargs["uri"]).close()


@pytest.mark.parametrize("url", sorted(u for u, p in MISREAD.items() if "without uri" in p))
def test_an_option_without_uri_is_dropped_by_sqlalchemy(url: str) -> None:
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    args, kwargs = SQLiteDialect_pysqlite().create_connect_args(make_url(url))
    assert "?" not in str(args[0]) and not kwargs.get("uri")


@pytest.mark.parametrize("url", sorted(MISREAD))
def test_config_check_names_a_misread_sqlite_url(clean_cli: Path, url: str) -> None:
    from click.testing import CliRunner

    from feedsvc.cli import cli

    result = CliRunner().invoke(cli, ["config", "check"], env={"FEEDSVC_DATABASE__URL": url})
    assert result.exit_code == 2, result.output
    assert "database.url: " in result.output and MISREAD[url] in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "url",
    ["sqlite:///s.db?timeout=2.5", "sqlite:///file:/srv/s.db?uri=true&mode=rw&timeout=3",
     "sqlite:///s.db?uri=no", "sqlite:///file:s.db?uri=YES", "sqlite:///s.db?isolation_level=x",
     "sqlite:///s.db?uri=&timeout=",  # blank values are dropped, as SQLAlchemy drops them
     "sqlite:///file:/srv/s.db?uri=true&mode=r%77&cache=private&immutable=0&nolock=yes",
     "sqlite:///file:s.db?uri=true&mode=rwc&cache=shared&psow=0&vfs=unix-dotfile",
     "sqlite:///file:s.db?uri=true&vfs=unix-none&custom=1"],  # a VFS may read its own keys
)  # fmt: skip
def test_config_check_takes_the_sqlite_urls_sqlalchemy_reads_as_meant(
    clean_cli: Path, url: str
) -> None:
    """(Read-only ones, ``mode=ro`` and ``immutable=1``, are a problem of their own since:
    ``tests/test_state_db_read_only.py``.)"""
    from click.testing import CliRunner

    from feedsvc.cli import cli

    result = CliRunner().invoke(cli, ["config", "check"], env={"FEEDSVC_DATABASE__URL": url})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "url",
    sorted(
        u
        for u, p in MISREAD.items()
        if any(
            f"query key {k!r}" in p
            for k in ("uri", "timeout", "detect_types", "cached_statements", "check_same_thread")
        )
        and "uri=1&uri=1" not in u
    ),
)
def test_each_refused_query_key_fails_in_sqlalchemy(url: str) -> None:
    """The problems are true: SQLAlchemy raises on each of these at connection set-up (but
    ``uri=1&uri=1``: a tuple, true whatever it holds, ``uri=1&uri=0`` too: refused as well)."""
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    with pytest.raises((ValueError, TypeError)):
        SQLiteDialect_pysqlite().create_connect_args(make_url(url))


IN_MEMORY = [
    "sqlite://",
    "sqlite:///",
    "sqlite:///:memory:",
    "sqlite+pysqlite:///:memory:",
    "sqlite:///file::memory:?uri=true",
    "sqlite:///file:state.db?uri=true&mode=memory",
    "sqlite:///file:state.db?uri=true&vfs=memdb",
    "sqlite:///file:?uri=true",
]


@pytest.mark.parametrize("url", IN_MEMORY)
@pytest.mark.parametrize(
    "argv", [["config", "check"], ["db", "upgrade"], ["topics", "add", "a", "--title", "A",
                                                      "--query", "a"], ["topics", "list"]]
)  # fmt: skip
def test_a_state_db_in_memory_is_a_configuration_problem(
    clean_cli: Path, url: str, argv: list[str]
) -> None:
    """`db upgrade` said "database at revision …" and `topics add` "created" into a DB gone
    when the command ended; the next command said "not initialised: run `feedsvc db
    upgrade`"."""
    from click.testing import CliRunner

    from feedsvc.cli import cli

    result = CliRunner().invoke(cli, argv, env={"FEEDSVC_DATABASE__URL": url})
    assert result.exit_code == 2, result.output
    assert "database.url: an SQLite DB in memory (or a temporary one) keeps nothing" in (
        result.output
    )


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite:///cms.db", "the SQLite file {cwd}/cms.db does not exist (a source is read"),
        ("sqlite:///sub/cms.db", "the SQLite file {cwd}/sub/cms.db does not exist"),
        ("sqlite:///file:cms.db?uri=true&mode=ro", "the SQLite file {cwd}/cms.db does not exist"),
        ("sqlite:///file:cms.db?uri=true&mode=rwc", "the SQLite file {cwd}/cms.db does not exist"),
        ("sqlite://", "an SQLite DB in memory holds no articles"),
        ("sqlite:///:memory:", "an SQLite DB in memory holds no articles"),
    ],
)
@pytest.mark.parametrize("argv", [["source", "check"], ["config", "check"]])
def test_an_sqlite_source_that_is_no_file_is_refused_and_not_created(
    clean_cli: Path, url: str, said: str, argv: list[str]
) -> None:
    """`source check` created an empty file at a mistyped path and said "table
    'source_articles' not found". A file not there is an outage (F4): `source check` cannot
    connect (exit 1), `config check` warns (exit 0); in memory it is a configuration problem."""
    from click.testing import CliRunner

    from feedsvc.cli import cli

    env = {"FEEDSVC_SOURCE__URL": url, "FEEDSVC_DATABASE__URL": f"sqlite:///{clean_cli}/s.db"}
    result = CliRunner().invoke(cli, argv, env=env)
    said = said.format(cwd=clean_cli)
    if "memory" in said:
        assert result.exit_code == 2, result.output
        assert f"source.url: {said}" in result.output, result.output
    elif argv == ["source", "check"]:
        assert result.exit_code == 1, result.output
        assert f"feedsvc: cannot connect to the source: {said}" in result.output, result.output
    else:
        assert result.exit_code == 0, result.output
        assert f"warning: source.url: {said}" in result.output, result.output
    assert not (clean_cli / "cms.db").exists() and not (clean_cli / "sub").exists()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite:///sub", "{cwd}/sub is a directory, not an SQLite file"),
        ("sqlite:///sub/", "{cwd}/sub is a directory, not an SQLite file"),
        ("sqlite:///file:sub?uri=true&mode=ro", "{cwd}/sub is a directory, not an SQLite file"),
        ("sqlite:///sub/../sub/.", "{cwd}/sub is a directory, not an SQLite file"),
        ("sqlite:////dev/null", "/dev/null is not a regular file"),
    ],
)
@pytest.mark.parametrize("argv", [["source", "check"], ["config", "check"]])
def test_an_sqlite_source_that_is_a_directory_is_refused(
    clean_cli: Path, url: str, said: str, argv: list[str]
) -> None:
    """A directory (or a device) as source.url passed `config check`; ingest then failed with
    "unable to open database file" at every tick."""
    from click.testing import CliRunner

    from feedsvc.cli import cli

    (clean_cli / "sub").mkdir()
    env = {"FEEDSVC_SOURCE__URL": url, "FEEDSVC_DATABASE__URL": f"sqlite:///{clean_cli}/s.db"}
    result = CliRunner().invoke(cli, argv, env=env)
    assert result.exit_code == 2, result.output
    assert f"source.url: {said.format(cwd=clean_cli)}" in result.output, result.output


def test_an_sqlite_source_file_that_exists_passes(clean_cli: Path) -> None:
    from click.testing import CliRunner

    from feedsvc.cli import cli

    (clean_cli / "cms.db").write_bytes(b"")
    for url in ("sqlite:///cms.db", "sqlite:///file:cms.db?uri=true&mode=ro"):
        result = CliRunner().invoke(cli, ["config", "check"], env={"FEEDSVC_SOURCE__URL": url})
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "name", ["cms.db", "a b.db", "q?x.db", "h#x.db", "p%41.db", "Kiến Thụy.db", "sub/../cms.db"]
)
@pytest.mark.parametrize("form", ["plain", "uri", "uri mode=rwc", "uri mode=ro"])
def test_a_source_opens_the_same_file_and_never_creates_it(
    tmp_path: Path, name: str, form: str
) -> None:
    """``existing_only``: what SQLAlchemy's arguments open, without SQLite's ``create`` flag (a
    missing CMS file was created empty at the first ingest tick, F4)."""
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    from feedsvc.db.sqlite_url import existing_only, missing_file

    (tmp_path / "sub").mkdir()
    path = tmp_path / name
    quoted = quote(str(path), safe="/")
    url = {
        "plain": f"sqlite:///{path}",
        "uri": f"sqlite:///file:{quoted}?uri=true",
        "uri mode=rwc": f"sqlite:///file:{quoted}?mode=rwc&uri=true",
        "uri mode=ro": f"sqlite:///file:{quoted}?mode=ro&uri=true",
    }[form]
    args, kwargs = SQLiteDialect_pysqlite().create_connect_args(make_url(url))
    filename, uri = str(args[0]), bool(kwargs.get("uri"))
    if form == "plain" and "?" in name:
        pytest.skip("a plain URL's path cannot hold '?': it starts the query")
    expected = tmp_path / "cms.db" if "sub/" in name else path
    assert missing_file(filename, uri=uri) == expected
    with pytest.raises(sqlite3.OperationalError, match="unable to open database file"):
        sqlite3.connect(existing_only(filename, uri=uri), uri=True).execute("SELECT 1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]
    with closing(sqlite3.connect(expected)) as made:  # the CMS writes it
        made.execute("CREATE TABLE posts (id INTEGER)")
        made.commit()
    assert missing_file(filename, uri=uri) is None
    with closing(sqlite3.connect(existing_only(filename, uri=uri), uri=True)) as opened:
        assert opened.execute("SELECT count(*) FROM posts").fetchone() == (0,)
