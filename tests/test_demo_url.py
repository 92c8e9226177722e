"""A state DB URL made from a directory's path (``feedsvc.db.sqlite_url.path_url``) names that
file, whatever the path holds (a tester's): ``feedsvc demo --dir 'run?1'`` printed the banner
``database sqlite:////…/run?1/demo.db`` while its DB was ``./run`` in the working directory
(with ``run-wal``, ``run-shm``, ``run-scheduler.lock``), and its ``export FEEDSVC_DATABASE__URL``
hint sent the other commands there; ``--dir 'run?x=1'`` was exit 2, "the query key 'x' is
ignored without uri=true", for a ``database.url`` the user never set. The URL was a path
pasted after ``sqlite:///``, where a ``?`` starts the query. ``URL.create("sqlite",
database=…)`` is no cure: its text ends at the ``?`` as well (checked below).

The demo runs as a process: the banner's URL, its export hint read by ``feedsvc status`` in
another directory, and the file on disk are one.
"""

from __future__ import annotations

import os
import shlex
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from in_process import feedsvc
from processes import free_port, wait_until
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, make_url

from feedsvc.config import check_config
from feedsvc.db.sqlite_url import path_url, sqlite_target

ROOT = Path(__file__).resolve().parent.parent

#: Directory names a user may type for ``--dir`` (the tester's two first).
NAMES = ["run?1", "run?x=1", "a#b", "a%20b", "a%3Fb", "thư mục dữ liệu", "a b", "q?x=1#y%25z",
         "tab\there", "uri=true?mode=ro", "file:x"]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_the_url_of_a_path_opens_that_file(tmp_path: Path, name: str) -> None:
    """SQLAlchemy's own dialect reading of the URL opens the file at the path (and nothing
    else is made), feedsvc's reading of it (``sqlite_target``) names it, and the URL is the
    same text through ``str`` and the environment (the banner's ``export``)."""
    path = tmp_path / name / "demo.db"
    path.parent.mkdir()
    url = path_url(path)
    args, kwargs = SQLiteDialect_pysqlite().create_connect_args(make_url(url))
    with closing(sqlite3.connect(*args, **kwargs)) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert sorted(p.name for p in path.parent.iterdir()) == ["demo.db"]
    target = sqlite_target(url)
    assert target is not None and target.file() == path
    assert str(make_url(url)) == url


@pytest.mark.parametrize("name", NAMES)
def test_the_url_of_a_path_is_a_valid_database_url(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given as ``FEEDSVC_DATABASE__URL`` (the banner's hint), the configuration takes it as
    it is, with no problem: ``run?x=1`` was "the query key 'x' is ignored without uri=true"."""
    for key in [k for k in os.environ if k.startswith("FEEDSVC_")]:
        monkeypatch.delenv(key)
    url = path_url(tmp_path / name / "demo.db")
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    settings, problems = check_config(None)
    assert problems == []
    assert settings is not None and settings.database.url == url


def test_sqlalchemys_url_create_does_not_round_trip_a_question_mark() -> None:
    """Why ``path_url`` and not ``URL.create``: its text is the path pasted as well."""
    made = URL.create("sqlite", database="/srv/run?1/demo.db")
    assert make_url(made.render_as_string()).database == "/srv/run"
    target = sqlite_target(path_url("/srv/run?1/demo.db"))
    assert target is not None and target.file() == Path("/srv/run?1/demo.db")


# -- the demo, as a process ------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env | extra


def _banner(cwd: Path, log: Path, directory: str, procs: list[subprocess.Popen[bytes]]) -> str:
    """``feedsvc demo --dir DIRECTORY`` started in ``cwd``, its banner once printed."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "demo", "--port", str(free_port()), "--dir",
             directory, "--articles", "7", "--every", "3600"],
            cwd=cwd, env=_env(), stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    procs.append(proc)
    wait_until(
        lambda: proc.poll() is not None or "Ctrl-C to stop" in log.read_text("utf-8"),
        60,
        "the demo's banner",
    )
    assert proc.poll() is None, log.read_text("utf-8")
    return log.read_text("utf-8")


@pytest.mark.parametrize("directory", ["run?1", "run?x=1", "thư mục #1 ?x=1 %3F%20"])
def test_the_demos_banner_names_the_db_it_runs_on(
    tmp_path: Path, directory: str, procs: list[subprocess.Popen[bytes]]
) -> None:
    cwd = tmp_path / "here"
    cwd.mkdir()
    banner = _banner(cwd, tmp_path / "demo.log", directory, procs)
    db = cwd / directory / "demo.db"
    # its DB, lock and the scheduler's lock in --dir; nothing beside it (./run, run-wal, …)
    assert sorted(p.name for p in cwd.iterdir()) == [directory]
    assert db.is_file() and (cwd / directory / "demo.lock").is_file()
    [shown] = [ln.removeprefix("  database ") for ln in banner.splitlines() if "  database " in ln]
    [hint] = [ln for ln in banner.splitlines() if "export FEEDSVC_DATABASE__URL=" in ln]
    exported = dict(w.split("=", 1) for w in shlex.split(hint)[1:])
    assert exported["FEEDSVC_DATABASE__URL"] == shown
    # the hint, used from elsewhere: `status` reads the demo's DB (its seeded articles)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    url = exported["FEEDSVC_DATABASE__URL"]
    done = feedsvc(["status", "--json"], elsewhere, FEEDSVC_DATABASE__URL=url)  # in process
    assert done.returncode == 0, done.stderr
    assert f'"database": "{shown}"' in done.stdout
    with closing(sqlite3.connect(db)) as conn:
        stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert stored == 7 and f'"articles_stored": {stored},' in done.stdout
    assert list(elsewhere.iterdir()) == []
    procs[-1].send_signal(signal.SIGTERM)
    assert procs[-1].wait(timeout=30) == 0
