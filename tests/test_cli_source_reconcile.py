"""``feedsvc source reconcile``: what the service's reconciliation leaves public on purpose, an
operator can withdraw (a tester's: a newsroom that deleted a whole section, or a story older
than ``source.reconcile_days``, saw it stay in feeds with a WARNING each pass and nothing to do
about it).

Over a real CMS table (SQLite file, or PostgreSQL) and a state DB that ingested it: more than
half the window deleted is refused (exit 1, nothing withdrawn) as the service refuses it;
``--dry-run --bulk`` lists the rows and changes nothing; ``--bulk`` withdraws them (their
queued alerts end); ``--days`` reaches a row older than the window; an empty window is still
refused with ``--bulk``.

The empty window's modes and the mapping's mistakes are given one backend each (state DB and CMS
table alike), rotating (``backend_cases.on_backends``): a mode is the command's own branch, and a
mistyped table or column is found from SQLAlchemy's reflection, which reads either backend the
same way (a missing table on PostgreSQL, whose listing reads a schema; its SQLite listing is
``tests/test_source_check_table.py``'s)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from backend_cases import on_backends
from click.testing import CliRunner, Result
from cms_table import COLUMNS, Cms, cms_table
from sqlalchemy import select

from feedsvc.app import Roles, Service
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.schema import articles


@pytest.fixture
def cms(db: Database, tmp_path: Path) -> Iterator[Cms]:
    with cms_table(db, tmp_path) as table:
        yield table


def configured(tmp_path: Path, db: Database, cms: Cms) -> Path:
    columns = "\n".join(f'{k} = "{v}"' for k, v in COLUMNS.model_dump(exclude_unset=True).items())
    path = tmp_path / "feedsvc.toml"
    path.write_text(
        f'[database]\nurl = "{db.url}"\n[topics]\nimport_on_start = false\n'
        f'[source]\nurl = "{cms.url}"\ntable = "posts"\ntimezone = "UTC"\n'
        f"[source.columns]\n{columns}\n",
        encoding="utf-8",
    )
    return path


def ingest(config: Path) -> None:
    service = Service(load_config(config), Roles(http=False, bot=False))
    try:
        service.prepare()
        while service.ingest_tick().stored:
            pass
    finally:
        service.close()


def reconcile(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["source", "reconcile", "--config", str(config), *args])


def withdrawn(db: Database) -> dict[str, str | None]:
    with db.read() as conn:
        rows = conn.execute(select(articles.c.source_key, articles.c.withdrawn_reason))
        return {key: why for key, why in rows}


def test_a_bulk_delete_is_withdrawn_once_confirmed(tmp_path: Path, db: Database, cms: Cms) -> None:
    now = datetime.now(UTC)
    for n in range(1, 31):
        cms.put(n, "published", now - timedelta(hours=n))
    config = configured(tmp_path, db, cms)
    ingest(config)
    assert len(withdrawn(db)) == 30 and not any(withdrawn(db).values())
    cms.delete(*range(1, 21))  # 20 of 30: a whole section, or a half-restored table

    refused = reconcile(config)
    assert refused.exit_code == 1, refused.output
    assert "20 of 30 held articles would go at once" in refused.stderr
    assert "--bulk" in refused.stderr and not any(withdrawn(db).values())

    listed = reconcile(config, "--bulk", "--dry-run")
    assert listed.exit_code == 0, listed.output
    assert "would withdraw 20" in listed.stdout and "(TEST-00001)" in listed.stdout
    assert not any(withdrawn(db).values())

    done = reconcile(config, "--bulk")
    assert done.exit_code == 0, done.output
    assert "withdrew 20" in done.stdout
    after = withdrawn(db)
    gone = sorted(k for k, why in after.items() if why == "deleted")
    assert gone == [f"TEST-{n:05d}" for n in range(1, 21)]
    assert all(after[f"TEST-{n:05d}"] is None for n in range(21, 31))


def test_days_reaches_a_row_older_than_the_window(tmp_path: Path, db: Database, cms: Cms) -> None:
    now = datetime.now(UTC)
    cms.put(1, "published", now - timedelta(days=40))
    cms.put(2, "published", now - timedelta(hours=2))
    config = configured(tmp_path, db, cms)
    ingest(config)
    cms.delete(1)
    default = reconcile(config)
    assert default.exit_code == 0, default.output
    assert "last 7 days" in default.stdout and "withdrew 0" in default.stdout
    assert withdrawn(db)["TEST-00001"] is None
    wide = reconcile(config, "--days", "60")
    assert wide.exit_code == 0, wide.output
    assert "withdrew 1" in wide.stdout and "row id=1 (TEST-00001)" in wide.stdout
    assert withdrawn(db) == {"TEST-00001": "deleted", "TEST-00002": None}


def test_an_empty_window_is_refused_even_in_bulk(tmp_path: Path, db: Database, cms: Cms) -> None:
    """``--bulk`` confirms deletions, not an outage: a source showing no row in the window
    (a truncated or restoring table) withdraws nothing."""
    now = datetime.now(UTC)
    for n in range(1, 4):
        cms.put(n, "published", now - timedelta(hours=n))
    config = configured(tmp_path, db, cms)
    ingest(config)
    cms.delete(1, 2, 3)
    done = reconcile(config, "--bulk")
    assert done.exit_code == 1 and "the source shows no row in the window" in done.stderr
    assert not any(withdrawn(db).values())


def test_the_built_in_table_is_not_reconciled(tmp_path: Path) -> None:
    env = {"FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 's.db'}", "FEEDSVC_CONFIG": "/dev/null"}
    done = CliRunner().invoke(cli, ["source", "reconcile"], env=env)
    assert done.exit_code == 2 and "feedsvc import" in done.stderr


def head(result: Result) -> str:
    """The pass's line: "last N days: …; <what it did>"."""
    [line] = [ln for ln in result.stdout.splitlines() if ln.startswith("last ")]
    return line


def test_each_mode_says_what_it_did(tmp_path: Path, db: Database, cms: Cms) -> None:
    """The rows were listed under "refused to withdraw 20" in a dry run too, which read as if
    the dry run had been refused, or as if --bulk had been (an operator's): each mode's line
    now says what happened, the exit codes as before."""
    now = datetime.now(UTC)
    for n in range(1, 31):
        cms.put(n, "published", now - timedelta(hours=n))
    config = configured(tmp_path, db, cms)
    ingest(config)
    cms.delete(*range(1, 21))
    refused_share = (
        "; refused: 20 rows would be withdrawn, more than half of the 30 articles held; if the "
        "newsroom did delete them, re-run with --bulk"
    )
    for args in [(), ("--dry-run",)]:  # a dry run without --bulk shows the real pass' refusal
        refused = reconcile(config, *args)
        assert refused.exit_code == 1, refused.output
        assert head(refused).endswith(refused_share), refused.stdout
        assert "refused to withdraw" not in refused.stdout
        assert "row id=1 (TEST-00001)" in refused.stdout
    listed = reconcile(config, "--bulk", "--dry-run")
    assert listed.exit_code == 0, listed.output
    assert head(listed).endswith("; would withdraw 20 (dry run: nothing changed)"), listed.stdout
    assert "row id=1 (TEST-00001)" in listed.stdout and not any(withdrawn(db).values())
    done = reconcile(config, "--bulk")
    assert done.exit_code == 0 and head(done).endswith("; withdrew 20"), done.stdout


@pytest.mark.parametrize(
    ("db_url", "args"),
    on_backends([(("--bulk",),), (("--bulk", "--dry-run"),)], label=" ".join),
    indirect=["db_url"],
)
def test_an_empty_window_says_refused_in_every_mode(
    tmp_path: Path, db: Database, cms: Cms, args: tuple[str, ...]
) -> None:
    now = datetime.now(UTC)
    for n in range(1, 4):
        cms.put(n, "published", now - timedelta(hours=n))
    config = configured(tmp_path, db, cms)
    ingest(config)
    cms.delete(1, 2, 3)
    done = reconcile(config, *args)
    assert done.exit_code == 1, done.output
    assert head(done).endswith(
        "; refused: the source shows no row in the window; nothing withdrawn"
    ), done.stdout


@pytest.mark.parametrize(
    ("db_url", "key", "value", "named"),
    on_backends(
        [
            ("table", "postz", "source.table"),
            ("published_at", "publishd", "source.columns.published_at"),
            ("title", "headline", "source.columns.title"),
            ("cursor", "changed", "source.columns.cursor"),
        ],
        start=1,
    ),
    indirect=["db_url"],
)
def test_a_mapping_that_does_not_fit_the_table_is_named_as_source_check_names_it(
    tmp_path: Path, db: Database, cms: Cms, key: str, value: str, named: str
) -> None:
    """A mistyped table or column (or a CMS table renamed since) ended the pass in a Python
    traceback, exit 1; ``source check`` says the same mapping in one line, exit 2."""
    now = datetime.now(UTC)
    for n in range(1, 4):
        cms.put(n, "published", now - timedelta(hours=n))
    config = configured(tmp_path, db, cms)
    ingest(config)
    text = config.read_text(encoding="utf-8")
    if key == "table":
        config.write_text(text.replace('table = "posts"', f'table = "{value}"'), encoding="utf-8")
    else:  # the key's line (if any) replaced; [source.columns] is the file's last table
        kept = [line for line in text.splitlines() if not line.startswith(f"{key} = ")]
        config.write_text("\n".join([*kept, f'{key} = "{value}"', ""]), encoding="utf-8")
    for args in [(), ("--dry-run",), ("--bulk",)]:
        done = reconcile(config, *args)
        assert done.exit_code == 2, done.output
        assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
        assert "mapping problem(s):" in done.stderr and f"  {named}: " in done.stderr, done.stderr
        checked = CliRunner().invoke(cli, ["source", "check", "--config", str(config)])
        assert checked.exit_code == 2 and f"  {named}: " in checked.stderr, checked.output
    assert not any(withdrawn(db).values())
