"""The CLI's start-up budget, as an import graph: a command imports only what it needs.

Issue #17 §1: every command used to take ~2.4 s because the CLI imported the bot, the web app,
Alembic and psycopg up front. Timings live in ``bench/cli.py``; this test checks the structure
that makes them fast, so a new top-level import in a command module fails here, not in a
benchmark nobody runs. Each case runs ``python -m feedsvc ...`` in a fresh interpreter and
reports which heavy packages ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Packages that cost tens to hundreds of milliseconds to import (or need a server).
HEAVY = (
    "alembic",
    "apscheduler",
    "asyncio",
    "feedgen",
    "httpx",
    "jinja2",
    "prometheus_client",
    "psycopg",
    "pydantic",
    "pymysql",
    "sqlalchemy",
    "starlette",
    "telegram",
    "uvicorn",
    "uvloop",
)
#: Never needed by a command that does not run the service.
SERVICE_ONLY = ("apscheduler", "telegram", "uvicorn", "uvloop", "httpx", "psycopg", "pymysql")

#: What `topics list` and `status` may not import on SQLite: everything heavy but pydantic
#: (the configuration's model).
READ_ONLY_FORBIDDEN = (*(name for name in HEAVY if name != "pydantic"), "pydantic_settings")
#: The same on PostgreSQL, which they read with psycopg (and psycopg imports asyncio).
PG_READ_ONLY_FORBIDDEN = tuple(
    name for name in READ_ONLY_FORBIDDEN if name not in ("psycopg", "asyncio")
)

PROBE = r"""
import json, runpy, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["feedsvc", *json.loads(sys.argv[1])]
code = 0
try:
    runpy.run_module("feedsvc", run_name="__main__")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
print("\n" + json.dumps({"code": code, "loaded": sorted(
    name for name in heavy if name in sys.modules)}))
"""

# (argv, packages that must NOT be imported)
CASES: list[tuple[list[str], tuple[str, ...]]] = [
    (["--version"], HEAVY),
    (["--help"], HEAVY),
    (["topics", "--help"], HEAVY),
    (["run", "--help"], HEAVY),
    # read-only commands on an SQLite state DB read it with stdlib sqlite3 (feedsvc.store.lite):
    # SQLAlchemy alone costs ~5x `import click`, their budget is 6x (bench/cli.py)
    (["topics", "list"], READ_ONLY_FORBIDDEN),
    (["status"], READ_ONLY_FORBIDDEN),
    (["status", "--json"], READ_ONLY_FORBIDDEN),
    (["topics", "export"], (*SERVICE_ONLY, "alembic", "starlette", "feedgen", "jinja2")),
    (["subs", "list"], (*SERVICE_ONLY, "alembic", "starlette", "feedgen", "jinja2")),
    (["db", "current"], (*SERVICE_ONLY, "alembic", "starlette", "feedgen")),
    (["config", "check"], (*SERVICE_ONLY, "alembic", "starlette", "feedgen")),
    # writes: the DB is already at head, so Alembic stays unimported
    (
        ["topics", "add", "x", "--title", "X", "--query", "x"],
        (*SERVICE_ONLY, "alembic", "starlette", "feedgen", "jinja2"),
    ),
    # render goes through the publisher, which brings the web package's feed helpers (and
    # with them uvicorn's proxy-headers middleware): allowed, the bot and scheduler are not
    (["render", "kien-thuy"], ("alembic", "apscheduler", "telegram", "httpx", "psycopg")),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A directory with a config whose state DB is already upgraded and has one topic."""
    work = tmp_path_factory.mktemp("cli-imports")
    (work / "topics.toml").write_text(
        '[[topic]]\nslug = "kien-thuy"\ntitle = "Kiến Thụy"\nquery = \'"Kiến Thụy"\'\n',
        encoding="utf-8",
    )
    (work / "feedsvc.toml").write_text(
        '[database]\nurl = "sqlite:///state.db"\n[topics]\nfile = "topics.toml"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["FEEDSVC_CONFIG"] = str(work / "feedsvc.toml")
    for argv in (["db", "upgrade"], ["topics", "import"]):
        subprocess.run(
            [sys.executable, "-m", "feedsvc", *argv],
            cwd=work,
            env=env,
            check=True,
            capture_output=True,
        )
    return work, env


@pytest.mark.parametrize(("argv", "forbidden"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_command_imports_only_what_it_needs(
    workdir: tuple[Path, dict[str, str]], argv: list[str], forbidden: tuple[str, ...]
) -> None:
    work, env = workdir
    assert probe(argv, forbidden, work, env) == []


def probe(argv: list[str], forbidden: tuple[str, ...], cwd: Path, env: dict[str, str]) -> list[str]:
    """What of ``forbidden`` ``feedsvc argv`` imported (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), json.dumps(sorted({*HEAVY, *forbidden}))],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, done.stdout + done.stderr
    return sorted(set(report["loaded"]) & set(forbidden))


@pytest.mark.postgres
def test_read_only_commands_on_postgresql_import_no_sqlalchemy(pg_url: str, tmp_path: Path) -> None:
    """On a PostgreSQL state DB `topics list` and `status` read with psycopg directly
    (``feedsvc.store.lite``): SQLAlchemy and its PostgreSQL dialect stay unimported, also while
    the configuration checks the URL (``feedsvc.db.urls``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_DATABASE__URL": pg_url,
        "FEEDSVC_TOPICS__FILE": str(Path(__file__).parent.parent / "config/topics.toml"),
    }
    for argv in (["db", "upgrade"], ["topics", "import"]):
        subprocess.run(
            [sys.executable, "-m", "feedsvc", *argv],
            cwd=tmp_path,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    for argv in (["topics", "list"], ["status"], ["status", "--json"]):
        assert probe(argv, PG_READ_ONLY_FORBIDDEN, tmp_path, env) == [], argv
    # the same URL written as postgresql:// (Database reads it as psycopg too)
    env["FEEDSVC_DATABASE__URL"] = pg_url.replace("postgresql+psycopg://", "postgresql://")
    assert probe(["status"], PG_READ_ONLY_FORBIDDEN, tmp_path, env) == []
