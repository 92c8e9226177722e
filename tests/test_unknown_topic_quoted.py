""" "unknown topic" names the typed slug in the CLI's one visible form (``feedsvc.logs.quoted``,
as article keys are quoted), never Python's ``repr``: repr wrote ``'zz-\\xa0test'`` for a
no-break space (four characters when typed back) and let a combining mark at the start merge
into the opening quote. The API's ``code`` stays, and so does every error's ``params``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_api import make_service
from test_topic_names import run  # noqa: F401  (the fixture: a CLI with an-ninh and kien-thuy)

from feedsvc import operations as ops
from feedsvc.app import Service, create_app
from feedsvc.catalogue import Translator
from feedsvc.logs import unescape_controls
from feedsvc.store.topics import TopicSpec

#: (typed slug, how a message shows it between its quotes)
HOSTILE = [
    ("zz-\xa0test", "zz-\xa0test"),  # a no-break space: itself, visible between the quotes
    ("\u0301zz", "\\u0301zz"),  # a leading combining mark: escaped, not on the quote
    ("zz\u200b-x", "zz\\u200b-x"),  # a zero-width space: escaped (dropped by the lookup)
    ("\\u00a0zz", "\\\\u00a0zz"),  # the six characters typed: doubled (\u00a0 reads as NBSP)
    ("\\u0301zz", "\\\\u0301zz"),  # typed, not a leading mark: its backslash doubled
    ("zz'x", "zz'x"),  # repr switched to double quotes
]
IDS = [ascii(typed) for typed, _ in HOSTILE]


@pytest.mark.parametrize(("typed", "shown"), HOSTILE, ids=IDS)
def test_the_cli_quotes_an_unknown_slug(run: Any, typed: str, shown: str) -> None:  # noqa: F811
    assert unescape_controls(shown) == typed  # one form, read back as typed
    for argv in (
        ["topics", "enable", typed],
        ["topics", "backfill", typed],
        ["subs", "add", "42", "--type", "private", "--topic", typed],
    ):
        refused = run(*argv)
        assert refused.exit_code == 1, refused.output
        assert refused.output == f"feedsvc: unknown topic '{shown}'\n", argv
    rendered = run("render", typed)
    assert rendered.exit_code == 1
    # the program as typed again (``cli.common.command_name``: pytest's path here)
    assert rendered.output.startswith(f"feedsvc: unknown topic '{shown}' (see `"), rendered.output
    assert rendered.output.endswith(" topics list`)\n"), rendered.output


@pytest.mark.parametrize(("typed", "shown"), HOSTILE, ids=IDS)
def test_the_catalogue_quotes_it_and_params_keep_it(tmp_path: Path, typed: str, shown: str) -> None:
    service = make_service(tmp_path)
    try:
        with pytest.raises(ops.OperationError) as caught:
            ops.set_topic_enabled(service.db, typed, True)
    finally:
        service.close()
    exc = caught.value
    assert (exc.code, exc.params) == ("topic_not_found", {"slug": typed})
    assert Translator("vi").operation_error(exc) == f"Không có chủ đề '{shown}'."
    assert Translator("en").operation_error(exc) == f"There is no topic '{shown}'."
    unknown = ops.OperationError("invalid", "x", code="topic_unknown", params={"slug": typed})
    assert Translator("vi").operation_error(unknown) == f"Không có chủ đề '{shown}'."


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(tmp_path)
    ops.save_topic(service.db, TopicSpec("an-ninh", "An ninh", "an"), "test")
    yield service
    service.close()


TOKEN = "adm-quoted-0123456789abcdef"


@pytest.fixture
async def api(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": "vi"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        yield c


async def test_the_api_keeps_its_code(api: httpx.AsyncClient) -> None:
    typed, shown = HOSTILE[0]
    body = {"channel": "zalo", "address": "zc9", "topic": typed}
    refused = await api.post("/api/subscriptions", json=body)
    assert refused.status_code == 422
    got = refused.json()
    assert got["code"] == "topic_unknown" and got["field"] == "topic"
    assert got["error"] == f"unknown topic '{shown}'"
    assert got["message"] == f"Không có chủ đề '{shown}'."
