"""Every reader of an SQLite state DB opens the file SQLite opens (``feedsvc.db.sqlite_url.
sqlite_path``), ``..``, ``.``, double slashes and symlinks included: ``file:nodir/../state.db``
(``nodir`` missing) is ``state.db`` to SQLite but was "not initialised" to ``topics list``
(the OS's ``open`` refuses the path), and ``file:link/../s.db`` is beside the link's target
for SQLite, not beside the link as ``os.path.normpath`` has it. A symlink loop is a
configuration problem naming the path, not "not initialised" then "unable to open"."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from feedsvc.db import Database, upgrade
from feedsvc.db.revision import require_schema
from feedsvc.db.sqlite_url import SqlitePathError, connect_file, sqlite_path, sqlite_target
from feedsvc.db.timeouts import DbTimeouts
from feedsvc.store import lite


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``T/a`` (the working directory), ``T/elsewhere/sub``, ``a/link -> ../elsewhere/sub``,
    ``a/abslink -> T/elsewhere/sub``, ``a/file.db -> ../elsewhere/real.db``, a loop
    ``a/loop1 <-> a/loop2`` and ``a/self -> self``."""
    (tmp_path / "a").mkdir()
    (tmp_path / "elsewhere" / "sub").mkdir(parents=True)
    (tmp_path / "a" / "link").symlink_to("../elsewhere/sub")
    (tmp_path / "a" / "abslink").symlink_to(tmp_path / "elsewhere" / "sub")
    (tmp_path / "a" / "file.db").symlink_to("../elsewhere/real.db")
    (tmp_path / "a" / "loop1").symlink_to("loop2")
    (tmp_path / "a" / "loop2").symlink_to("loop1")
    (tmp_path / "a" / "self").symlink_to("self")
    monkeypatch.chdir(tmp_path / "a")
    return tmp_path


#: URLs (``{T}``: the tree) and the file SQLite opens for each, relative to ``T``.
PATHS = {
    "sqlite:///{T}/nodir/../s.db": "s.db",
    "sqlite:///file:nodir/../s.db?uri=true": "a/s.db",
    "sqlite:///file:{T}/nodir/../x/../s.db?uri=true&mode=rwc": "s.db",
    "sqlite:///link/../s.db": "a/s.db",  # SQLAlchemy's abspath: lexical, before SQLite
    "sqlite:///file:link/../s.db?uri=true": "elsewhere/s.db",
    "sqlite:///file:abslink/../s.db?uri=true": "elsewhere/s.db",
    "sqlite:///file:link/nodir/../../s.db?uri=true": "elsewhere/s.db",
    "sqlite:///file:{T}/a/link/../s.db?uri=true": "elsewhere/s.db",
    "sqlite:///file:./link/./s.db?uri=true": "elsewhere/sub/s.db",
    "sqlite:///./link/./s.db": "elsewhere/sub/s.db",
    "sqlite:///{T}//a//.//s.db": "a/s.db",
    "sqlite:///file:{T}//a/.//link//s.db?uri=true": "elsewhere/sub/s.db",
    "sqlite:///file.db": "elsewhere/real.db",
    "sqlite:///file:file.db?uri=true": "elsewhere/real.db",
    "sqlite:///file:../a/link/../../a/s.db?uri=true": "a/s.db",
    "sqlite:///file:%2E%2E/s.db?uri=true": "s.db",
}


def _url(url: str, tree: Path) -> str:
    """``url`` with ``{T}`` the tree's absolute path."""
    return url.replace("{T}", str(tree))


def _db_files(tree: Path) -> set[Path]:
    return {p for p in tree.rglob("*.db") if p.is_file() and not p.is_symlink()}


@pytest.mark.parametrize("url", sorted(PATHS))
def test_the_file_is_the_one_sqlalchemy_and_sqlite_open(tree: Path, url: str) -> None:
    target = sqlite_target(_url(url, tree))
    assert target is not None
    file = target.file()
    assert file == tree / PATHS[url]
    engine = create_engine(_url(url, tree))
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
    finally:
        engine.dispose()
    assert _db_files(tree) == {file}  # the file SQLite made is the one named


@pytest.mark.parametrize("url", sorted(PATHS))
def test_the_lite_path_and_the_revision_check_read_the_db_sqlalchemy_migrated(
    tree: Path, url: str
) -> None:
    url = _url(url, tree)
    db = Database(url)
    try:
        upgrade(db)
        require_schema(db)
    finally:
        db.dispose()
    opened = lite.read_only_url(url, DbTimeouts())
    assert opened is not None
    with opened as reader:  # was "not initialised" where the OS refuses the path
        assert lite.list_topics(reader) == []
    assert not (tree / "a" / "nodir").exists()  # db upgrade made no directory on the way


@pytest.mark.parametrize("path", ["loop1/s.db", "loop1", "self", "self/s.db", "../a/loop2/x.db"])
def test_a_symlink_loop_is_refused_as_sqlite_refuses_it(tree: Path, path: str) -> None:
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        sqlite3.connect(f"file:{path}?mode=rwc", uri=True).execute("CREATE TABLE t (x)")
    with pytest.raises(SqlitePathError, match="symlink loop"):
        connect_file(f"file:{path}", uri=True)


@pytest.mark.parametrize("url", ["sqlite:///loop1/s.db", "sqlite:///file:self?uri=true"])
@pytest.mark.parametrize("argv", [["config", "check"], ["topics", "list"], ["db", "upgrade"]])
def test_a_symlink_loop_is_a_configuration_problem(
    tree: Path, monkeypatch: pytest.MonkeyPatch, url: str, argv: list[str]
) -> None:
    from click.testing import CliRunner

    from feedsvc.cli import cli

    for key in list(os.environ):
        if key.startswith("FEEDSVC_"):
            monkeypatch.delenv(key)
    env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    result = CliRunner().invoke(cli, argv, env=env)
    assert result.exit_code == 2, result.output
    assert "database.url: the path " in result.output and "symlink loop" in result.output


@pytest.mark.parametrize(
    "path",
    ["x/../y/./z.db", "link/../s.db", "./link//s.db", "abslink/nodir/../s.db", "file.db",
     "../a/link/..", "/", "//", "/..", "nodir/../../..", "link/../../elsewhere/sub/s.db"],
)  # fmt: skip
def test_sqlite_path_is_realpath_where_there_is_no_loop(tree: Path, path: str) -> None:
    assert sqlite_path(path) == Path(os.path.realpath(path))
