"""What the JSON API reads from a request: numbers as ASCII digits, validation errors worded.

* Path ids (``/api/chats/{chat_id}``), query parameters (``limit``, ``chat_id``, ``days``…) and
  ``Content-Length`` are ASCII digits (``feedsvc.digits``): ``int()`` and Pydantic's lax mode
  read "１２" or "+12" as 12, and ``"²".isdigit()`` let a header reach ``int()`` and fail.
* A body or query string that fails validation is worded from the catalogue per Pydantic error
  type (``feedsvc.web.api_invalid``), so the Vietnamese ``message`` holds no English sentence.

The number tests cross no dimensions: a text that is not ASCII digits and the field it is given
to are each-choice (``combos.each_choice``), since one check reads every integer (``Params``'
one validator for every query parameter, ``ascii_int`` for every path id), whatever the field;
the field only names it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
import pytest
from apiworld import api_service, asgi_client
from combos import each_choice
from pydantic import BaseModel, Field, ValidationError

from feedsvc.app import Service
from feedsvc.catalogue import CATALOGUE, Translator
from feedsvc.web import api_invalid
from feedsvc.web.api_models import Body, Params

ADMIN_TOKEN = "adm-inputs-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
VI = AUTH | {"Accept-Language": "vi"}
EN = AUTH | {"Accept-Language": "en"}
CHAT = 777
#: Pydantic's English, which must never show in a Vietnamese message
ENGLISH = ("Input should", "Field required", "Extra inputs", "String should", "valid ",
           "List should", "Value error", "permitted", "at least", "at most", "must be", "object",
           "invalid")  # fmt: skip
NOT_ASCII = ["１２", "١٢", "४२", "𝟏𝟐", "²", "-１", "1_2", "+12", " 12", "12 ", "12.0", "--12"]


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    with api_service(tmp_path, monkeypatch, ADMIN_TOKEN, (CHAT, 12)) as service:
        yield service


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(service) as c:
        yield c


# -- numbers ---------------------------------------------------------------------------------


PATH_IDS = [
    ("GET", "/api/chats/{}"), ("POST", "/api/chats/{}/pause"), ("DELETE", "/api/subscriptions/{}"),
    ("POST", "/api/deliveries/{}/resend"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "text"),
    [(*where, text) for where, text in each_choice(PATH_IDS, NOT_ASCII)],
    ids=lambda v: str(v),
)
async def test_a_path_id_is_ascii_digits(
    client: httpx.AsyncClient, method: str, path: str, text: str
) -> None:
    """Chat 12 exists: "/api/chats/１２/pause" paused it."""
    r = await client.request(method, path.format(quote(text)), headers=EN)
    assert r.status_code == 400, r.text
    out = r.json()
    assert out["code"] == "not_integer" and out["field"] in ("chat_id", "id"), out


QUERY_NUMBERS = [
    ("/api/deliveries", "limit"), ("/api/deliveries", "offset"), ("/api/deliveries", "chat_id"),
    ("/api/subscriptions", "chat_id"), ("/api/stats", "days"), ("/api/articles", "limit"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "name", "text"),
    [(*where, text) for where, text in each_choice(QUERY_NUMBERS, NOT_ASCII)],
    ids=lambda v: str(v),
)
async def test_a_query_number_is_ascii_digits(
    client: httpx.AsyncClient, path: str, name: str, text: str
) -> None:
    for headers, words in ((VI, "phải là số nguyên"), (EN, "must be an integer")):
        r = await client.get(path, params={name: text}, headers=headers)
        assert r.status_code == 400, r.text
        out = r.json()
        assert out["code"] == "invalid_body" and out["field"] == name, out
        assert f"{name}: {words}" in out["message"], out


async def test_ascii_numbers_are_still_read(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/deliveries", params={"limit": "3", "chat_id": "-1001"}, headers=EN)
    assert r.status_code == 200 and r.json()["limit"] == 3
    assert (await client.post("/api/chats/12/pause", headers=EN)).status_code == 200


@pytest.mark.parametrize("address", ["１２", "-١٢٣٤", "--5", "+12", "1_2", "²"])
async def test_a_telegram_address_is_ascii_digits(client: httpx.AsyncClient, address: str) -> None:
    """``"--5"`` passed the old check and crashed ``int()`` (a 500)."""
    body = {"address": address, "chat_type": "group", "query": "a"}
    r = await client.post("/api/subscriptions", json=body, headers=EN)
    assert r.status_code == 422 and r.json()["code"] == "address_invalid", r.text


@pytest.mark.parametrize("length", [b"\xb2", b"\xb9\xb2", b"1\xb2", b"+5", b"\xef\xbc\x91"])
async def test_a_content_length_that_is_not_ascii_digits_is_no_crash(
    service: Service, length: bytes
) -> None:
    """Latin-1 decodes byte 0xB2 as "²", which ``str.isdigit()`` accepted and ``int()`` refused
    (a 500). Sent as raw ASGI: HTTP clients refuse to send such a header."""
    from feedsvc.app import create_app

    body = b'{"slug": "x", "title": "X", "query": "a"}'
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/topics", "raw_path": b"/api/topics", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 5000), "server": ("test", 80),
        "headers": [(b"host", b"test"), (b"authorization", AUTH["Authorization"].encode()),
                    (b"content-type", b"application/json"), (b"content-length", length)],
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await create_app(service)(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 201, sent


# -- the body's encoding ---------------------------------------------------------------------

BOM = "\ufeff".encode()


@pytest.mark.parametrize("before", [BOM, BOM + b" \r\n", BOM + b"\t"])
@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [("POST", "/api/topics", b'{"slug": "bom", "title": "Bom", "query": "a"}', 201),
     ("PATCH", f"/api/chats/{CHAT}", b'{"silent": true}', 200),
     ("POST", "/api/topics/preview", '{"query": "Kiến Thụy"}'.encode(), 200)],
)  # fmt: skip
async def test_a_body_after_a_byte_order_mark_is_read(
    client: httpx.AsyncClient, before: bytes, method: str, path: str, body: bytes, status: int
) -> None:
    """Windows tools (PowerShell's ``Out-File``, Notepad) write a UTF-8 BOM before the JSON: it
    was a 400 "not valid JSON" for a body that is (RFC 8259 §8.1: a parser may ignore it;
    ``feedsvc import`` does)."""
    headers = AUTH | {"Content-Type": "application/json"}
    answer = await client.request(method, path, content=before + body, headers=headers)
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize(
    "body",
    [BOM + BOM + b'{"silent": true}', b'{"silent": true}' + BOM, b" " + BOM + b'{"silent": 1}'],
)
async def test_a_byte_order_mark_elsewhere_is_still_not_json(
    client: httpx.AsyncClient, body: bytes
) -> None:
    answer = await client.patch(f"/api/chats/{CHAT}", content=body, headers=AUTH)
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_body", answer.text
    assert (await client.get(f"/api/chats/{CHAT}", headers=AUTH)).json()["silent"] is False


async def test_a_byte_order_mark_alone_is_an_empty_body(client: httpx.AsyncClient) -> None:
    """An empty body means "all defaults" (a backfill of the default period); so does a BOM
    with nothing after it."""
    await client.post("/api/topics", json={"slug": "kt", "title": "KT", "query": "a"}, headers=AUTH)
    answer = await client.post("/api/topics/kt/backfill", content=BOM, headers=AUTH)
    assert answer.status_code == 200 and answer.json()["scanned"] >= 0, answer.text


# -- validation errors, worded ---------------------------------------------------------------

CASES: list[tuple[str, str, Any, str, str, str]] = [
    # method, path, body, field, vi words, en words
    ("POST", "/api/topics", {"title": "x", "query": "a"}, "slug",
     "slug: thiếu trường bắt buộc này", "slug: this field is required"),
    ("POST", "/api/topics", {"slug": "a", "title": "x", "query": "a", "titel": "y"}, "titel",
     "titel: không có trường này", "titel: unknown field"),
    ("POST", "/api/topics", {"slug": 5, "title": "x", "query": "a"}, "slug",
     "slug: phải là chuỗi ký tự", "slug: must be a string"),
    ("POST", "/api/topics", {"slug": "a", "title": 501, "query": "a"}, "title",
     "title: phải là chuỗi ký tự", "title: must be a string"),
    ("POST", "/api/topics", {"slug": "a", "title": "x", "query": "a", "enabled": "yes"},
     "enabled", "enabled: phải là true hoặc false", "enabled: must be true or false"),
    ("POST", "/api/subscriptions", {"chat_id": "5", "chat_type": "private", "query": "a"},
     "chat_id", "chat_id: phải là số nguyên", "chat_id: must be an integer"),
    ("POST", "/api/subscriptions", {"chat_id": 5, "chat_type": "bogus", "query": "a"},
     "chat_type", "chat_type: phải là một trong các giá trị private, group, supergroup, channel,"
     " destination", "chat_type: must be one of private, group, supergroup, channel, destination"),
    ("POST", "/api/subscriptions", {"channel": "sms", "address": "x", "query": "a"}, "channel",
     "channel: phải là một trong các giá trị telegram, zalo, apprise",
     "channel: must be one of telegram, zalo, apprise"),
    ("POST", "/api/topics/preview", {"query": "a", "scan": 0}, "scan",
     "scan: phải lớn hơn hoặc bằng 1", "scan: must be at least 1"),
    ("POST", "/api/topics/preview", {"query": "a", "samples": 51}, "samples",
     "samples: phải nhỏ hơn hoặc bằng 50", "samples: must be at most 50"),
    ("POST", "/api/topics/preview", {"query": "a", "scan": 1.5}, "scan",
     "scan: phải là số nguyên", "scan: must be an integer"),
    ("POST", "/api/topics/kt/backfill", {"days": "30"}, "days",
     "days: phải là số nguyên", "days: must be an integer"),
    # whole days (README: "the last N days"; the CLI's --days N): 1.5 was taken, answered 200
    *[("POST", "/api/topics/kt/backfill", b'{"days": %s}' % fraction, "days",
       "days: phải là số nguyên", "days: must be an integer")
      for fraction in (b"1.5", b"0.5", b"-0.5", b"30.0", b"1e2", b"true")],
    # not JSON numbers, which Python's reader takes: a NaN was "must be at most 36500.0"
    # (when days was a float; whole days now, they are no integer either)
    *[("POST", "/api/topics/kt/backfill", b'{"days": %s}' % bad, "days",
       "days: phải là số nguyên", "days: must be an integer")
      for bad in (b"1e400", b"-1e999")],  # NaN, Infinity: no JSON (test_api_media_types.py)
    ("POST", "/api/topics", [1, 2], "body",
     "body: phải là một đối tượng JSON", "body: must be a JSON object"),
    ("POST", "/api/topics", b'{"slug": ', "body",
     "body: không phải JSON hợp lệ", "body: not valid JSON"),
    ("PATCH", f"/api/chats/{CHAT}", {"silent": "on"}, "silent",
     "silent: phải là true hoặc false", "silent: must be true or false"),
    ("GET", "/api/deliveries?state=nope", None, "state",
     "state: phải là một trong các giá trị pending", "state: must be one of pending"),
    ("GET", "/api/deliveries?limit=501", None, "limit",
     "limit: phải nhỏ hơn hoặc bằng 500", "limit: must be at most 500"),
    ("GET", "/api/deliveries?colour=red", None, "colour",
     "colour: không có trường này", "colour: unknown field"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "field", "vi", "en"), CASES,
                         ids=[f"{c[0]} {c[1]} {c[3]}" for c in CASES])  # fmt: skip
async def test_validation_errors_are_worded_in_each_language(
    client: httpx.AsyncClient, method: str, path: str, body: Any, field: str, vi: str, en: str
) -> None:
    answers = {}
    for lang, headers in (("vi", VI), ("en", EN)):
        kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
        r = await client.request(method, path, headers=headers, **(kwargs if body else {}))
        assert r.status_code == 400, r.text
        answers[lang] = r.json()
        assert answers[lang]["code"] == "invalid_body" and answers[lang]["field"] == field
    vi_message, en_message = answers["vi"]["message"], answers["en"]["message"]
    assert vi_message.startswith("Dữ liệu gửi lên không hợp lệ: ") and vi in vi_message
    assert en_message.startswith("Invalid request: ") and en in en_message
    for english in ENGLISH:
        assert english not in vi_message, vi_message
    assert answers["vi"]["error"] == answers["en"]["error"]  # English for programs, as before


async def test_a_fields_bound_is_shown_as_written(client: httpx.AsyncClient) -> None:
    """``days`` was a float with ``le=36_500``: Pydantic's context said 36500.0 (whole days
    now; the bound reads as written either way)."""
    r = await client.post("/api/topics/kt/backfill", json={"days": 99999}, headers=EN)
    assert r.status_code == 400 and r.json()["message"].endswith("days: must be at most 36500")


# -- the mapping itself ----------------------------------------------------------------------


def test_every_kind_has_words_in_both_languages() -> None:
    for kind in {*api_invalid.KINDS.values(), api_invalid.GENERIC}:
        assert f"api.invalid.{kind}" in CATALOGUE, kind


class Odd(Body):
    when: Any = None
    mode: Literal["a", "b"] | None = None


def _problems(model: type[BaseModel], data: Any) -> list[api_invalid.Problem]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return api_invalid.problems(caught.value, model)


class Rated(Body):
    rate: Annotated[float, Field(ge=0, le=36_500)] = 1


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_float_field_refuses_what_is_no_json_number(bad: float) -> None:
    """The API's float fields (none since backfill's ``days`` is whole days; the rule stays for
    the next): ``NaN`` and ``Infinity``, which Python's JSON reader takes, are no number."""
    found = _problems(Rated, {"rate": bad})
    assert api_invalid.worded(found, Translator("en")) == "rate: must be a number"


def test_a_float_fields_bound_is_shown_as_written() -> None:
    """Pydantic's context says 36500.0 for a float field's ``le=36_500``."""
    found = _problems(Rated, {"rate": 99999})
    assert api_invalid.worded(found, Translator("en")) == "rate: must be at most 36500"


@pytest.mark.parametrize("data", [{"n": "x"}])
def test_an_unmapped_type_names_the_field_without_english(data: dict[str, Any]) -> None:
    from datetime import date

    class Dated(Params):
        n: date

    found = _problems(Dated, data)
    assert [(p.where, p.kind) for p in found] == [("n", "invalid")]
    assert api_invalid.worded(found, Translator("vi")) == "n: giá trị không hợp lệ"
    assert api_invalid.worded(found, Translator("en")) == "n: invalid value"


def test_a_bare_value_error_from_a_validator_is_worded_generically() -> None:
    from pydantic import field_validator

    class Checked(Body):
        name: str = ""

        @field_validator("name")
        @classmethod
        def _check(cls, value: str) -> str:
            raise ValueError("an English sentence")

    found = _problems(Checked, {"name": "x"})
    assert api_invalid.worded(found, Translator("vi")) == "name: giá trị không hợp lệ"


def test_at_most_five_problems_are_listed() -> None:
    class Many(Body):
        a: int
        b: int
        c: int
        d: int
        e: int
        f: int

    found = _problems(Many, {})
    assert len(found) == 6
    assert api_invalid.worded(found, Translator("vi")).count("thiếu") == 5


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/deliveries?state=sent&state=dead", "state"),
        ("/api/deliveries?limit=5&offset=0&limit=5", "limit"),
        ("/api/articles?q=a&q=b", "q"),
        ("/api/stats?days=7&days=7", "days"),
        ("/api/subscriptions?chat_id=1&chat_id=2", "chat_id"),
        ("/api/deliveries?a%01=1&a%01=2", "a\\u0001"),  # visible, as a refused key is named
        ("/api/deliveries?%E2%80%A8=1&%E2%80%A8=2", "\\u2028"),
    ],
)
async def test_a_repeated_parameter_is_named_as_its_field(
    client: httpx.AsyncClient, path: str, field: str
) -> None:
    """A parameter given twice was the one query-string refusal without ``field`` (every other
    one names it), and named a key holding a control character raw, invisible."""
    r = await client.get(path, headers=EN)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "repeated_param" and body["field"] == field
    assert body["error"] == f"{field}: given more than once"
    assert body["message"] == f"Parameter {field} is given more than once."
