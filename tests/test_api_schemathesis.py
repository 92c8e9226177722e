"""Property-based run of schemathesis over the API's own OpenAPI document: no input the schema
allows may produce a server error, and every response must match its declared schema.

Bounded (a few examples per operation) so it stays a fast, deterministic part of the suite.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import schemathesis
from factories import VN, article
from hypothesis import HealthCheck, settings
from migrated import premigrated
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from feedsvc.app import Roles, Service, create_app
from feedsvc.config import load_config
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.subscriptions import ensure_chat, subscribe
from feedsvc.store.topics import TopicSpec, save_topic

TOKEN = "schemathesis-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def _service() -> tuple[Service, Path]:
    """A module-wide service with a few topics, articles, chats and deliveries to hit."""
    workdir = Path(tempfile.mkdtemp(prefix="feedsvc-schemathesis-"))
    token_file = workdir / "admin-token"  # not the env: this runs at collection time
    token_file.write_text(TOKEN)
    settings_ = load_config(
        None,
        {
            "database": {"url": premigrated(f"sqlite:///{workdir / 'state.db'}")},
            "topics": {"import_on_start": False},
            "admin": {"token_file": str(token_file)},
        },
    )
    service = Service(settings_, Roles(scheduler=False, bot=False))
    service.prepare()
    now = datetime.now(UTC)
    with service.db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "api", now)
        save_topic(conn, TopicSpec("a", "A", "@kien-thuy OR công"), "api", now)
        ensure_chat(conn, 1, "private", None, now)
        subscribe(conn, 1, topic_id=1, query=None, now=now)
        items = [article(i, published_at=datetime.now(VN)) for i in range(1, 6)]
        upsert_source_articles(conn, items, now)
    with service.db.read() as conn:
        service.index.refresh(conn)
    service.ingest_tick()
    return service, workdir


SERVICE, WORKDIR = _service()
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(SERVICE))


def teardown_module() -> None:
    SERVICE.close()
    shutil.rmtree(WORKDIR, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_has_no_server_errors(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH, checks=CHECKS)
