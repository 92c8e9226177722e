"""`feedsvc topics preview` dates its samples in ``site.timezone`` with the offset.

It printed ``2026-11-30 03:34`` for an article published at 10:34 +07:00: the UTC wall time
with no zone, read by an editor in Hải Phòng as seven hours off. The admin's live preview of
the same query says ``30/11/2026 10:34 +07:00``; the CLI now says ``2026-11-30 10:34:56 +07:00``
(to the second as every CLI time, ``local_times.local_time``; the minute until the tester's
T4), in whatever zone ``site.timezone`` names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import article, jsonl

from feedsvc.app import Service
from feedsvc.cli import cli
from feedsvc.config import load_config

PUBLISHED = datetime(2026, 11, 30, 3, 34, 56, tzinfo=UTC)  # 10:34:56 in Hải Phòng


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        (None, "2026-11-30 10:34:56 +07:00"),  # the default, Asia/Ho_Chi_Minh
        ("Europe/Paris", "2026-11-30 04:34:56 +01:00"),
        ("UTC", "2026-11-30 03:34:56 +00:00"),
    ],
)
def test_preview_sample_times_carry_the_site_zone(
    tmp_path: Path, zone: str | None, shown: str
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_CONFIG": "/dev/null"}
    if zone is not None:
        env["FEEDSVC_SITE__TIMEZONE"] = zone
    runner = CliRunner()
    src = tmp_path / "a.jsonl"
    src.write_text(jsonl(article(1, published_at=PUBLISHED)), encoding="utf-8")
    assert runner.invoke(cli, ["import", str(src)], env=env).exit_code == 0
    service = Service(load_config(None, {"database": {"url": url}}))
    service.prepare()
    assert service.ingest_tick().new == 1
    service.close()
    result = runner.invoke(cli, ["topics", "preview", '"công an"'], env=env)
    assert result.exit_code == 0, result.output
    assert f"\n{shown}  TEST-00001  Công an Kiến Thụy" in result.output, result.output
