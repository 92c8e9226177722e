"""A topic's preview agrees with its save on a reference back to itself (a tester's): the
admin's live preview parsed the editor's query without knowing which topic it was, so
``"Đồ Sơn" OR @kt-an`` typed into kien-thuy (which @kt-an uses) showed "2 match" with samples,
and Save then refused it as a circular reference. The admin's editor, the API's ``slug`` and
``topics preview --slug`` now name the topic, and the preview refuses what the save would."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

import pytest
from test_admin import TOKEN, csrf_of, login, served  # noqa: F401  (served: the fixture)

from feedsvc import operations as ops
from feedsvc.matching import QueryError
from feedsvc.operations.errors import OperationError
from feedsvc.preview import preview
from feedsvc.store.topics import TopicSpec, save_topic

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

CYCLES = ['"Đồ Sơn" OR @kt-an', "@kt-an", '@kien-thuy "cầu"', "(@kt-an) -x"]


def topics(service: Any) -> None:
    with service.db.write() as conn:
        now = datetime.now(UTC)
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli", now)
        save_topic(conn, TopicSpec("kt-an", "Kiến Thụy an ninh", '@kien-thuy OR "an ninh"'),
                   "cli", now)  # fmt: skip


@pytest.mark.parametrize("query", CYCLES)
def test_the_preview_refuses_what_the_save_refuses(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    query: str,
) -> None:
    client, service = served
    topics(service)
    with pytest.raises(OperationError) as saved:
        spec = TopicSpec("kien-thuy", "Kiến Thụy", query)
        ops.save_topic(service.db, spec, "admin", update_only=True)
    for typed in ("kien-thuy", "KIEN-THUY", "Kien-Thuy"):  # a save takes any case for it
        with pytest.raises(QueryError) as previewed:
            preview(service.db, query, slug=typed)
        assert previewed.value.code == saved.value.cause.code  # type: ignore[union-attr]
    assert preview(service.db, query).count >= 0  # another topic's editor may use it

    login(client)
    headers = {"X-CSRF-Token": csrf_of(client)}
    admin = client.post("/admin/preview", json={"query": query, "slug": "kien-thuy"},
                        headers=headers).json()  # fmt: skip
    assert "error" in admin and "samples" not in admin, admin
    form = client.post("/admin/preview", data={"query": query, "slug": "kien-thuy",
                                               "csrf": csrf_of(client)}).json()  # fmt: skip
    assert "error" in form, form
    new_topic = client.post("/admin/preview", json={"query": query, "slug": ""},
                            headers=headers).json()  # fmt: skip
    assert "error" not in new_topic, new_topic  # no topic named yet: nothing to come back to

    bearer = {"Authorization": f"Bearer {TOKEN}"}
    api = client.post("/api/topics/preview", json={"query": query, "slug": "kien-thuy"},
                      headers=bearer)  # fmt: skip
    assert api.status_code == 422, api.text
    assert client.post("/api/topics/preview", json={"query": query},
                       headers=bearer).status_code == 200  # fmt: skip


def test_the_editor_page_sends_its_slug(
    served: tuple[TestClient, Any],  # noqa: F811
) -> None:
    """The script posts the slug box's value with the query (no browser here: the script's
    text and the box it reads)."""
    client, service = served
    topics(service)
    login(client)
    page = client.get("/admin/topics/kien-thuy/edit").text
    assert 'id="slug"' in page and 'value="kien-thuy"' in page
    script = client.get("/admin/static/admin.js").text
    assert 'getElementById("slug")' in script and "slug: slugBox" in script
