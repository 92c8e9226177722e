"""A search by part of a key finds nothing (a key is looked up whole), and the admin offered
"Ẩn trước khi nạp" (hide before ingest) for that part — even with the built-in source, where
feedsvc can see the key is in no table: a stray hide was recorded for a key that never comes
(a tester's: ``DEMO-20261206-0003``). Now, for a key that is no article and not in the built-in
table:

- every front end names the stored keys that begin with or contain it, those that begin with
  it first, at most ten (the admin as links to each key's search; ``articles hide|unhide|find``
  in the message; the API's 404 as ``near_keys`` and in its words);
- with the built-in source the admin says the key is not imported, and offers the hide ahead
  ("so that it arrives hidden" when imported later) only when no stored key begins with or
  contains it; ``articles hide`` hints ``not imported yet?``;
- with an external CMS, which feedsvc cannot look into, the offer stays (near keys above it).

The near-key lookup is SQL whose folding and ``LIKE`` differ by backend: it runs on both; the
front ends' words are spread over the two (``backend_cases.on_backends``)."""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from backend_cases import on_backends, on_sqlite
from click.testing import CliRunner
from factories import article
from sqlalchemy import func, select
from starlette.testclient import TestClient
from test_lifecycle_editors import AUTH, CSRF_FIELD, TOKEN, make_service

from feedsvc.app import Roles, Service, create_app
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db.schema import pending_hides
from feedsvc.keys import spelled
from feedsvc.store.source_articles import upsert_source_articles

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

PART = "DEMO-20261206-0003"
#: ingested; the last one imported only (waiting for ingest); 0004 contains no PART
STORED = ["DEMO-20261206-00031", "DEMO-20261206-00032", "DEMO-20261206-0004"]
WAITING = "DEMO-20261206-00035"
NEAR = ["DEMO-20261206-00031", "DEMO-20261206-00032", WAITING]
NFD = unicodedata.normalize("NFD", "Tin-Kiến-Thụy-42")  # a CMS's decomposed key


def _add(service: Service) -> None:
    """:data:`STORED` and :data:`NFD` ingested, :data:`WAITING` imported after that."""
    now = service.db.now()
    keyed = [*STORED, NFD]
    with service.db.write() as conn:
        rows = [article(10 + i, source_key=k, published_at=now) for i, k in enumerate(keyed)]
        upsert_source_articles(conn, rows, now)
    assert service.ingest_tick().error is None
    with service.db.write() as conn:
        upsert_source_articles(conn, [article(30, source_key=WAITING, published_at=now)], now)


@pytest.fixture
def service(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    service = make_service(db_url, monkeypatch)
    _add(service)
    yield service
    service.close()


def _cms(tmp_path: Path) -> str:
    """An (empty) external CMS table: what an external source's settings name."""
    path = tmp_path / "cms.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, modified TEXT)")
    return f"sqlite:///{path}"


@pytest.fixture
def external(service: Service, tmp_path: Path) -> Iterator[Service]:
    """A web replica on the same state DB whose source is an external CMS."""
    settings = load_config(None, {
        "database": {"url": service.db.url}, "topics": {"import_on_start": False},
        "source": {"url": _cms(tmp_path), "table": "posts"},
    })  # fmt: skip
    web = Service(settings, Roles(scheduler=False, bot=False))
    yield web
    web.close()


def _admin(service: Service) -> Iterator[tuple[TestClient, str]]:
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        found = CSRF_FIELD.search(client.get("/admin/login").text)
        assert found
        client.post("/admin/login", data={"token": TOKEN, "csrf": found.group(1)})
        token = CSRF_FIELD.search(client.get("/admin/articles").text)
        assert token
        yield client, token.group(1)


def waiting_records(service: Service) -> int:
    with service.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(pending_hides)).scalar_one())


def _links(page: str, keys: list[str]) -> None:
    """``page`` links each of ``keys``' search, in that order, spelled as the search reads it
    (:func:`feedsvc.keys.spelled`)."""
    hrefs = [f'href="/admin/articles?q={quote(spelled(k), safe="")}"' for k in keys]
    places = [page.find(h) for h in hrefs]
    assert all(p >= 0 for p in places) and places == sorted(places), (hrefs, page)


OFFER = 'name="pending" value="1"'
NOT_IMPORTED = "bảng nguồn cũng không có mã này: bài chưa được nhập"


@pytest.mark.parametrize(
    ("db_url", "typed", "near"),
    on_backends([
        (PART, NEAR),
        (PART.lower(), NEAR),  # any case
        ("20261206-0003", NEAR),  # inside the keys
        ("Thụy-42", [NFD]),  # typed composed, stored decomposed
    ], label=lambda v: ascii(v)[1:12] if isinstance(v, str) else str(len(v))),
    indirect=["db_url"],
)  # fmt: skip
def test_the_admin_shows_near_keys_and_offers_no_hide_of_a_part(
    service: Service, typed: str, near: list[str]
) -> None:
    for client, _csrf in _admin(service):
        page = client.get("/admin/articles", params={"q": typed}).text
        assert NOT_IMPORTED in page and "Mã bài bắt đầu bằng hoặc chứa" in page, page
        assert OFFER not in page, page
        _links(page, near)
        for key in near:  # each link lists that article, with its own Hide (or the offer)
            shown = client.get("/admin/articles", params={"q": key}).text
            assert OFFER in shown if key == WAITING else 'name="reason"' in shown, shown
    assert waiting_records(service) == 0


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_the_admin_offers_a_key_nothing_resembles_for_a_later_import(
    service: Service,
) -> None:
    for client, csrf in _admin(service):
        page = client.get("/admin/articles", params={"q": "BAI-SE-NHAP-SAU"}).text
        assert NOT_IMPORTED in page and "Nếu bài sẽ được nhập sau, có thể ẩn nó trước" in page
        assert OFFER in page and "Mã bài bắt đầu bằng hoặc chứa" not in page
        form = {"key": "BAI-SE-NHAP-SAU", "csrf": csrf, "pending": "1"}
        assert "lệnh ẩn đã được ghi lại" in client.post("/admin/articles/hide", data=form).text
    assert waiting_records(service) == 1


@on_sqlite
def test_an_external_cms_keeps_the_offer_below_the_near_keys(external: Service) -> None:
    for client, _csrf in _admin(external):
        page = client.get("/admin/articles", params={"q": PART}).text
        assert "Nếu nguồn (CMS) có bài này mà feedsvc chưa đọc tới" in page
        assert OFFER in page and NOT_IMPORTED not in page
        _links(page, NEAR)


def run_cli(service: Service, *args: str, source: str | None = None) -> Any:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    if source is not None:
        env |= {"FEEDSVC_SOURCE__URL": source, "FEEDSVC_SOURCE__TABLE": "posts"}
    return CliRunner().invoke(cli, ["articles", *args], env=env)


LISTED = "'DEMO-20261206-00031', 'DEMO-20261206-00032', 'DEMO-20261206-00035'"
NAMED = f"unknown article '{PART}'; keys that begin with or contain it: {LISTED}"


@pytest.mark.parametrize(
    ("db_url", "verb", "source", "said"),
    on_backends([
        ("hide", None, f"{NAMED} (not imported yet? --pending hides it ahead, so it arrives "
                       "hidden)"),
        ("hide", "cms", f"{NAMED} (not read from the source yet? --pending hides it ahead, so "
                        "it arrives hidden)"),
        ("unhide", None, NAMED),
        ("find", None, f'no article matches "{PART}"; keys that begin with or contain it: '
                       f"{LISTED}"),
    ], label=lambda v: str(v)[:8]),
    indirect=["db_url"],
)  # fmt: skip
def test_the_cli_names_the_near_keys(
    service: Service, tmp_path: Path, verb: str, source: str | None, said: str
) -> None:
    result = run_cli(service, verb, PART, source=_cms(tmp_path) if source else None)
    assert result.exit_code == (0 if verb == "find" else 1), result.output
    assert result.stderr == f"feedsvc: {said}\n"
    assert waiting_records(service) == 0


@on_sqlite
def test_a_key_nothing_resembles_names_none(service: Service) -> None:
    result = run_cli(service, "hide", "NO-SUCH")
    assert result.stderr == (
        "feedsvc: unknown article 'NO-SUCH' (not imported yet? --pending hides it ahead, so it "
        "arrives hidden)\n"
    )


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.mark.parametrize(
    ("db_url", "verb"), on_backends(["hide", "unhide"], start=1), indirect=["db_url"]
)
async def test_the_api_404_names_the_near_keys(
    client: httpx.AsyncClient, service: Service, verb: str
) -> None:
    for lang, words in (("vi", "Mã bài bắt đầu bằng hoặc chứa chuỗi này: "),
                        ("en", "Keys that begin with or contain it: ")):  # fmt: skip
        answer = await client.post(
            f"/api/articles/{PART}/{verb}", headers=AUTH | {"Accept-Language": lang}
        )
        assert answer.status_code == 404, answer.text
        body = answer.json()
        assert (body["code"], body["near_keys"]) == ("article_not_found", NEAR), body
        assert body["message"].endswith(f"{words}{LISTED}."), body
        assert body["error"] == NAMED
    nothing = await client.post("/api/articles/NO-SUCH/hide", headers=AUTH)
    assert nothing.status_code == 404 and "near_keys" not in nothing.json()
    assert nothing.json()["message"] in ("Không có bài NO-SUCH.", "There is no article NO-SUCH.")
    assert waiting_records(service) == 0


def test_near_keys_are_bounded_begin_first_and_literal(service: Service) -> None:
    from feedsvc.lifecycle.typed_keys import NEAR_KEYS, near_keys

    now = service.db.now()
    keys = [f"X_1-{i:02d}" for i in range(12)] + ["AX_1-99", "XX1-00", "X%1-00"]
    with service.db.write() as conn:
        rows = [article(100 + i, source_key=k, published_at=now) for i, k in enumerate(keys)]
        upsert_source_articles(conn, rows, now)
    assert service.ingest_tick().error is None
    found = near_keys(service.db, "x_1-")
    assert found == [f"X_1-{i:02d}" for i in range(NEAR_KEYS)], found  # no XX1-00: _ is _
    assert near_keys(service.db, "X_1-99") == ["AX_1-99"]  # inside
    assert near_keys(service.db, "%1") == ["X%1-00"]  # % is %
    assert near_keys(service.db, "") == near_keys(service.db, "a\x00b") == []
