"""A naive article time is read in ``site.timezone`` by every command that reads article JSON.

``feedsvc import`` read a naive ``published_at``/``updated_at`` in ``site.timezone`` (SPEC §3),
but ``feedsvc match`` read the same line at Asia/Ho_Chi_Minh's offset whatever the config
said: with ``site.timezone = "Europe/Berlin"`` a line import stored was skipped by match as
"outside 1900-01-01..2200-01-01 UTC" (exit 1), so the preview and the service disagreed on
which articles exist. Now both read the configuration's zone (:func:`feedsvc.jsonlines.
read_jsonl` has no zone of its own); a time with an offset is read at its offset everywhere.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from feedsvc.cli import cli
from feedsvc.db.schema import source_articles

#: key → (published_at, updated_at): the accepted range's lower end lies between the zones'
#: readings of 1900-01-01 01:30 and 05:00 (Berlin +01:00; Hồ Chí Minh City's +07:06:30 then)
LINES = {
    "naive-0130": ("1900-01-01T01:30:00", None),  # Berlin 00:30Z, HCM 1899-12-31 18:23Z
    "naive-0500": ("1900-01-01 05:00:00", None),  # Berlin 04:00Z, HCM 1899-12-31 21:53Z
    "naive-0030": ("1900-01-01T00:30:00", None),  # before 1900 UTC in both
    "naive-0730": ("1900-01-01T07:30:00", None),  # 1900 UTC in both
    "naive-updated": ("2026-07-01T12:00:00", "1900-01-01T02:00:00"),  # its updated_at decides
    "summer": ("2026-07-01T12:00:00", None),  # Berlin +02:00 (summer time)
    "winter": ("2026-01-15T12:00:00", None),  # Berlin +01:00
    "offset-in": ("1900-01-01T01:30:00+01:00", None),  # the offset given: read at it anywhere
    "offset-out": ("1900-01-01T05:00:00+07:00", None),
    "utc-z": ("2026-07-01T12:00:00Z", None),
}
ACCEPTED = {
    "Europe/Berlin": set(LINES) - {"naive-0030", "offset-out"},
    "Asia/Ho_Chi_Minh": set(LINES)
    - {"naive-0130", "naive-0500", "naive-0030", "naive-updated", "offset-out"},
}
#: the UTC instant import stores for the naive summer and winter lines, per zone
INSTANTS = {
    "Europe/Berlin": {"summer": (7, 1, 10), "winter": (1, 15, 11)},
    "Asia/Ho_Chi_Minh": {"summer": (7, 1, 5), "winter": (1, 15, 5)},
}


def _jsonl() -> str:
    rows = []
    for key, (published, updated) in LINES.items():
        row = {"source_key": key, "url": f"https://example.vn/{key}", "title": "Công an xã"}
        row |= {"published_at": published} | ({"updated_at": updated} if updated else {})
        rows.append(json.dumps(row, ensure_ascii=False))
    return "\n".join(rows) + "\n"


def _env(tmp_path: Path, zone: str) -> dict[str, str | None]:
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[site]\ntimezone = "{zone}"\n[database]\nurl = "sqlite:///{tmp_path}/state.db"\n',
        encoding="utf-8",
    )
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    return clean | {"FEEDSVC_CONFIG": str(config)}


def _matched(tmp_path: Path, zone: str, args: list[str]) -> set[str]:
    result = CliRunner().invoke(cli, args, env=_env(tmp_path, zone), input=_jsonl())
    assert result.exit_code == 1, result.output  # some lines are refused in every zone
    lines = result.stdout.splitlines()  # --explain indents its lines under each key
    return {line.split("\t")[0] for line in lines if line and not line.startswith(" ")}


def _imported(tmp_path: Path, zone: str) -> dict[str, datetime]:
    result = CliRunner().invoke(cli, ["import", "-"], env=_env(tmp_path, zone), input=_jsonl())
    assert result.exit_code == 1, result.output
    engine = create_engine(f"sqlite:///{tmp_path}/state.db")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(source_articles.c.source_key, source_articles.c.published_at)
            ).all()
    finally:
        engine.dispose()
    return {key: published for key, published in rows}


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Ho_Chi_Minh"])
def test_import_and_match_accept_the_same_lines(tmp_path: Path, zone: str) -> None:
    imported = _imported(tmp_path, zone)
    assert set(imported) == ACCEPTED[zone]
    for key, (month, day, hour) in INSTANTS[zone].items():
        assert imported[key].astimezone(UTC) == datetime(2026, month, day, hour, tzinfo=UTC)
    query = ["match", "--query", '"công an"']
    assert _matched(tmp_path, zone, query) == ACCEPTED[zone]
    assert _matched(tmp_path, zone, [*query, "--explain"]) == ACCEPTED[zone]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Ho_Chi_Minh"])
def test_match_topics_reads_the_zone_too(tmp_path: Path, zone: str) -> None:
    topics = tmp_path / "topics.toml"
    topics.write_text(
        '[[topic]]\nslug = "ca"\ntitle = "Công an"\nquery = \'"công an"\'\n', encoding="utf-8"
    )
    assert _matched(tmp_path, zone, ["match", "--topics", str(topics)]) == ACCEPTED[zone]


def test_config_given_before_the_command_name_is_read(tmp_path: Path) -> None:
    """``feedsvc --config FILE match``: the root's option, as for every command."""
    env = _env(tmp_path, "Europe/Berlin")
    config = str(env.pop("FEEDSVC_CONFIG"))
    args = ["--config", config, "match", "--query", '"công an"']
    result = CliRunner().invoke(cli, args, env=env | {"FEEDSVC_CONFIG": None}, input=_jsonl())
    keys = {line for line in result.stdout.splitlines() if line}
    assert keys == ACCEPTED["Europe/Berlin"], result.output
