"""A write the state DB refuses for lack of space is said as a full disk, not as a database
that does not answer (a tester's).

While the disk was full — ``/api/status`` said ``state_db_disk_full: true``, reads worked — an
API write answered 503 ``state_db_unavailable`` "The state database does not answer", and the
admin "Dịch vụ tạm thời không đọc được cơ sở dữ liệu" (cannot read the database). Now 503
``state_db_disk_full`` with ``Retry-After``, its words in both languages
(:data:`feedsvc.web.outage.DISK_FULL`, chosen by :func:`feedsvc.db.errors.is_disk_full`); any
other outage keeps ``state_db_unavailable``. The full disk is
:mod:`test_outage_after_ingest`'s engine hook (the driver's own error, raised where it would
be), on every backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from test_admin import csrf_of
from test_api_if_match_weak import AUTH, admin  # noqa: F401  (the fixture)
from test_outage_after_ingest import refused

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.catalogue import Translator

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

Client = Any
FULL = {"en": "disk is full", "vi": "Ổ đĩa của cơ sở dữ liệu đã đầy"}
WRONG = ("does not answer", "không đọc được", "cannot reach")


@contextmanager
def full(service: Service) -> Iterator[None]:
    """Every write to ``topics`` refused as on a full disk, on each engine the app writes by."""
    with ExitStack() as stack:
        for db in {id(d): d for d in (service.db, service.web_db)}.values():
            stack.enter_context(refused(db, "topics"))
        yield


@contextmanager
def locked(service: Service) -> Iterator[None]:
    """Every write to ``topics`` refused as by another process's lock (an outage, no full disk)."""
    dbs = list({id(d): d for d in (service.db, service.web_db)}.values())

    def refuse(_cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and "topics" in statement:
            raise sqlite3.OperationalError("database is locked")

    for db in dbs:
        event.listen(db.engine, "do_execute", refuse)
    try:
        yield
    finally:
        for db in dbs:
            event.remove(db.engine, "do_execute", refuse)


@pytest.mark.parametrize("language", ["en", "vi"])
def test_an_api_write_on_a_full_disk_says_so(
    admin: tuple[Client, Service],  # noqa: F811
    language: str,
) -> None:
    client, service = admin
    with full(service):
        r = client.post("/api/topics/d6/disable", headers=AUTH | {"Accept-Language": language})
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "30"
        body = r.json()
        assert body["code"] == "state_db_disk_full", body
        assert "disk is full" in body["error"]
        said = Translator(language)("api.state_db_disk_full", seconds=30)
        assert said == body["message"] or FULL["en"] in body["message"], body
        assert not any(w in body["message"] for w in WRONG), body
        # reads still work meanwhile
        assert client.get("/api/topics/d6", headers=AUTH).status_code == 200
        status = client.get("/api/status", headers=AUTH).json()
        assert status["state_db_disk_full"] is True, status
    assert ops.get_topic(service.db, "d6").enabled is True


def test_the_admin_on_a_full_disk_says_so(admin: tuple[Client, Service]) -> None:  # noqa: F811
    client, service = admin
    language = service.settings.admin.language
    sent = {"csrf": csrf_of(client), "version": ops.get_topic(service.db, "d6").version}
    with full(service):
        r = client.post("/admin/topics/d6/disable", data=sent, follow_redirects=False)
        assert r.status_code == 503, r.text[:500]
        assert r.headers["retry-after"] == "30"
        page = r.text
        assert Translator(language)("http.state_db_disk_full", seconds=30) in page, page[:2000]
        assert not any(w in page for w in WRONG), page[:2000]
    assert ops.get_topic(service.db, "d6").enabled is True


def test_another_outage_is_still_state_db_unavailable(
    admin: tuple[Client, Service],  # noqa: F811
) -> None:
    client, service = admin
    if service.db.dialect != "sqlite":
        pytest.skip("SQLite's lock")
    with locked(service):
        r = client.post("/api/topics/d6/disable", headers=AUTH)
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "state_db_unavailable", r.text
