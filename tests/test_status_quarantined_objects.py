"""``feedsvc status --json`` and ``/api/status`` give the quarantined source rows as objects
(``quarantined``: source, row id, key, stage, the field the reason names, reason, first and last
seen), beside ``quarantined_rows``' one-line texts, which stay as they were: a script read the
row id and the stage out of ``"builtin row 7 (TEST-00002), parse: url: … (last seen …)"``.

Both backends: the CLI's JSON is read on each of its read paths (the driver itself; and
SQLAlchemy, on PostgreSQL), ``/api/status`` through SQLAlchemy."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import article
from sqlalchemy import text
from starlette.testclient import TestClient
from test_admin import TOKEN

from feedsvc.app import Roles, Service
from feedsvc.articles import JSON_FIELDS
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.server import create_app
from feedsvc.status import StatusReads, facts_from, flatten
from feedsvc.store.records import Cursor, Quarantined, QuarantineEntry
from feedsvc.store.source_articles import upsert_source_articles

FIRST = datetime(2026, 12, 5, 17, 0, 0, tzinfo=UTC)
SEEN = datetime(2026, 12, 5, 17, 23, 5, tzinfo=UTC)

#: row number → (the article's bad value, the field the reason names)
BAD = {2: ({"url": "javascript:alert(1)"}, "url"), 3: ({"title": "   "}, "title")}


def _config(db_url: str, tmp_path: Path) -> Path:
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[topics]\nimport_on_start = false\n',
        encoding="utf-8",
    )
    return config


def _quarantine(config: Path) -> Service:
    """Two rows of the built-in table that are no article, ingested: quarantined (parse)."""
    service = Service(load_config(config), Roles(scheduler=False, bot=False))
    service.prepare()
    rows = [article(1), *(article(n, **bad) for n, (bad, _field) in BAD.items())]
    with service.db.write() as conn:
        upsert_source_articles(conn, rows, datetime.now(UTC))
    service.ingest_tick()
    with service.db.write() as conn:
        conn.execute(
            text("UPDATE ingest_quarantine SET first_seen_at = :first, last_seen_at = :seen"),
            {"first": FIRST, "seen": SEEN},
        )
    return service


def _status(config: Path, *args: str, url: str | None = None) -> str:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    if url is not None:
        env["FEEDSVC_DATABASE__URL"] = url
    out = CliRunner().invoke(cli, ["status", "--config", str(config), *args], env=env)
    assert out.exit_code == 0, out.output
    return out.stdout


def _sqlalchemy_only(url: str) -> str | None:
    """The PostgreSQL URL in a form the CLI's driver-only path does not take (as
    ``test_status_first_sync``'s): ``status`` then reads through SQLAlchemy."""
    if url.startswith("sqlite"):
        return None
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    hostport, _, database = rest.split("@", 1)[1].partition("/")
    return f"{scheme}://postgres@/{database}?host={hostport}&{query}"


def _expected(ids: dict[str, str]) -> list[dict[str, Any]]:
    """The objects, newest first as the lines are (the same last-seen time: by id, newest
    first), ``ids``: source key → the row id the table gave it."""
    return [
        {
            "source": "builtin",
            "row_id": ids[f"TEST-{n:05d}"],
            "source_key": f"TEST-{n:05d}",
            "stage": "parse",
            "field": field,
            "first_seen_at": "2026-12-05T17:00:00Z",
            "last_seen_at": "2026-12-05T17:23:05Z",
        }
        for n, (_bad, field) in sorted(BAD.items(), reverse=True)
    ]


def _without_reason(objects: list[dict[str, Any]], lines: list[str]) -> list[dict[str, Any]]:
    """The objects without their reason, each reason checked against its line: the line says
    it after the stage."""
    assert len(objects) == len(lines)
    for obj, line in zip(objects, lines, strict=True):
        assert f", parse: {obj['reason']} (last seen" in line, (obj, line)
        assert obj["reason"].startswith(f"{obj['field']}: "), obj
    return [{k: v for k, v in obj.items() if k != "reason"} for obj in objects]


@pytest.mark.parametrize(
    "db_url",
    [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_quarantined_rows_are_objects_too(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)  # a secret never in the config file
    config = _config(db_url, tmp_path)
    service = _quarantine(config)
    with service.db.read() as conn:
        found = conn.execute(text("SELECT source_key, source_id FROM ingest_quarantine"))
        ids = {key: row_id for key, row_id in found.tuples()}
    assert sorted(ids) == ["TEST-00002", "TEST-00003"], ids
    expected = _expected(ids)
    try:
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            api = client.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
            schema = client.get("/api/openapi.json")
    finally:
        service.close()
    assert api.status_code == 200, api.text
    answer = api.json()
    assert _without_reason(answer["quarantined"], answer["quarantined_rows"]) == expected
    assert schema.status_code == 200  # documented where the API documents itself
    assert "QuarantinedOut" in schema.text
    views = [json.loads(_status(config, "--json"))]
    if (full := _sqlalchemy_only(db_url)) is not None:
        views.append(json.loads(_status(config, "--json", url=full)))
    for view in views:
        assert _without_reason(view["quarantined"], view["quarantined_rows"]) == expected
        # the lines stay strings, as they were
        assert all(isinstance(line, str) for line in view["quarantined_rows"])
        assert view["quarantined"] == answer["quarantined"]
    shown = _status(config)
    assert re.search(r"^quarantined_rows +2$", shown, re.M), shown
    assert not re.search(r"^quarantined ", shown, re.M), shown  # the objects are JSON's only


def _entry(stage: str, reason: str, key: str | None = "K-1") -> QuarantineEntry:
    return QuarantineEntry(Quarantined("42", SEEN, key, stage, reason), "external:posts", FIRST,
                           SEEN)  # fmt: skip


@pytest.mark.parametrize(
    ("stage", "reason", "key", "field"),
    [
        ("parse", "title: is required; published_at: is required", "K-1", "title"),
        ("parse", "published_at: expected an ISO 8601 timestamp, got 'x'", None, "published_at"),
        ("parse", "expected a JSON object, got 3", "K-1", None),  # the record as a whole
        ("parse", "ValueError: boom", "K-1", None),  # no article field
        ("read", "title: text that is not UTF-8", "K-1", None),  # a CMS's column, not parsed
        ("store", "refused by the database: value too long", "K-1", None),
        ("ahead", "modified '2099-01-01' sorts after now", None, None),
    ],
)
def test_each_stage_as_an_object(stage: str, reason: str, key: str | None, field: str) -> None:
    reads = StatusReads(Cursor(None, None), 1, 0, 0, 0, None, [_entry(stage, reason, key)])
    flat = flatten(
        facts_from(reads, source="external:posts", now=SEEN, poll_seconds=30.0,
                   database="sqlite://", started_at=None)
    )  # fmt: skip
    [line] = flat["quarantined_rows"]
    assert line.startswith(f"external:posts row 42{f' ({key})' if key else ''}, {stage}: ")
    assert flat["quarantined"] == [
        {
            "source": "external:posts", "row_id": "42", "source_key": key, "stage": stage,
            "field": field, "reason": reason, "first_seen_at": FIRST, "last_seen_at": SEEN,
        }
    ]  # fmt: skip
    from feedsvc.status import quarantined_object  # new with it: the others fail, not import

    assert quarantined_object(_entry(stage, reason, key)) == flat["quarantined"][0]


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("url: must be an absolute http(s) URL, got 'x'", "url"),
        ("tags: item 1 is 3, expected a string; title: is required", "tags"),
        ("invalid JSON: nested too deeply", None),
        ("source_key:is required", None),  # not the form ArticleError writes
        ("", None),
        ("not applied (an older version): a newer one is stored", None),
    ],
)
def test_named_field(message: str, field: str | None) -> None:
    from feedsvc.article_errors import named_field

    assert named_field(message, JSON_FIELDS) == field
