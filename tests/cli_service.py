"""A service on a pre-migrated SQLite DB holding one ingested article, and ``run``: a CLI
command against it in process (Click's runner), as the CLI output tests use them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from factories import article
from migrated import premigrated

from feedsvc.app import Roles, Service
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.store.source_articles import upsert_source_articles


@pytest.fixture
def service(sqlite_url: str) -> Iterator[Service]:
    settings = load_config(None, {"database": {"url": premigrated(sqlite_url)},
                                  "topics": {"import_on_start": False}})  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    service.prepare()
    now = service.db.now()
    with service.db.write() as conn:
        upsert_source_articles(conn, [article(1, title="Kiến Thụy khánh thành cầu mới",
                                              published_at=now)], now)  # fmt: skip
    assert service.ingest_tick().error is None
    yield service
    service.close()


def run(service: Service, *args: str) -> Any:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    return CliRunner().invoke(cli, list(args), env=env)
