"""A control character or a lone surrogate in a JSON object *key* of an API body (or in a query
string's key) is refused as every other refused text is (:mod:`feedsvc.web.api_text`): 422
``control_character`` / ``not_text``, the field named by the key's position with the key
written in JSON escapes (``x\\u0001``, ``title.0.k\\u0001``), worded by ``op.<code>``.

It was a 400 ``invalid_body`` "unknown field" (the raw character echoed in the message); a
key holding ``"\\ud800"`` was named as the object holding it (``body``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import test_api_control_chars as refusals
from test_api_control_chars import AUTH, BODY_CASES, CONTROLS, SURROGATES

from feedsvc.catalogue import Translator

JSON = AUTH | {"Content-Type": "application/json"}
#: The fixtures of the refusals' module: one service for this module (a refusal changes nothing)
shared, client = refusals.shared, refusals.client


def escaped(char: str) -> str:
    """``char`` as a client's JSON encoder writes it inside a string (``\\u0001``)."""
    return f"\\u{ord(char):04x}"


def with_key(body: object, char: str) -> bytes:
    """``body`` as JSON, its ``{}`` (in a key) replaced by ``char`` escaped."""
    return json.dumps(body).replace("{}", escaped(char)).encode()


async def assert_refused(client: httpx.AsyncClient, method: str, path: str, content: bytes | None,
                         field: str, char: str) -> None:  # fmt: skip
    code = "not_text" if "\ud800" <= char <= "\udfff" else "control_character"
    shown = f"U+{ord(char):04X}"
    for language in ("vi", "en"):
        r = await client.request(method, path, content=content,
                                 headers=JSON | {"Accept-Language": language})  # fmt: skip
        assert r.status_code == 422, (repr(char), path, r.status_code, r.text)
        data = r.json()
        assert (data["code"], data["field"]) == (code, field), data
        assert data["message"] == Translator(language)(f"op.{code}", field=field, char=shown)
        assert char not in r.text and char not in json.dumps(data, ensure_ascii=False)


@pytest.mark.parametrize(("method", "path", "body", "_field"), BODY_CASES,
                         ids=[f"{c[0]} {c[1]} {c[3]}" for c in BODY_CASES])  # fmt: skip
async def test_a_key_of_an_otherwise_valid_body_is_422(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any], _field: str
) -> None:
    valid = {k: v.replace("{}", "") if isinstance(v, str) else v for k, v in body.items()}
    for char in CONTROLS + SURROGATES:
        content = with_key(valid | {"x{}y": 1}, char)
        await assert_refused(client, method, path, content, f"x{escaped(char)}y", char)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"{}": 1}, "{}"),  # the whole key
        ({"slug": "ok", "{}title": "T", "query": "a"}, "{}title"),  # a field's name, spoiled
        ({"slug": "ok", "title": [{"k{}": 1}], "query": "a"}, "title.0.k{}"),  # in a list
        ({"slug": "ok", "title": {"a": {"b{}": "c"}}, "query": "a"}, "title.a.b{}"),
        ({"slug": "ok", "title": "T", "query": "a", "d": [[{"z": 1}, {"y{}": 2}]]}, "d.0.1.y{}"),
        ([{"k{}": 1}], "0.k{}"),  # a body that is a list of objects
        ({"slug": "ok", "k{}": 1}, "k{}"),  # fields missing too: the key is named first
    ],
)
async def test_a_key_anywhere_in_the_body_is_named_by_its_position(
    client: httpx.AsyncClient, body: object, field: str
) -> None:
    for char in ("\x01", "\x00", "\u202e", "\ud800"):
        content = with_key(body, char)
        await assert_refused(client, "POST", "/api/topics", content,
                             field.replace("{}", escaped(char)), char)  # fmt: skip


async def test_a_query_string_key_is_422(client: httpx.AsyncClient) -> None:
    for char in ("\x01", "\x1b", "\x7f"):
        key = f"to%{ord(char):02X}pic"
        await assert_refused(client, "GET", f"/api/deliveries?{key}=t", None,
                             f"to{escaped(char)}pic", char)  # fmt: skip


async def test_plain_unknown_keys_are_still_400(client: httpx.AsyncClient) -> None:
    for body in ({"slug": "ok", "title": "T", "query": "a", "colour": 1},
                 {"slug": "ok", "title": "T", "query": "a", "tab\tkey": 1}):  # fmt: skip
        r = await client.post("/api/topics", headers=JSON, content=json.dumps(body).encode())
        assert r.status_code == 400 and r.json()["code"] == "invalid_body", r.text
    r = await client.get("/api/deliveries?colour=1", headers=AUTH)
    assert r.status_code == 400 and r.json()["code"] == "invalid_body", r.text


async def test_a_raw_control_byte_in_a_key_is_not_json(client: httpx.AsyncClient) -> None:
    """Unescaped, it is not JSON (RFC 8259 §7): the parser's 400 stands."""
    r = await client.post("/api/topics", headers=JSON, content=b'{"a\x01": 1}')
    assert r.status_code == 400 and r.json()["code"] == "invalid_body", r.text


@pytest.mark.parametrize("depth", [200, 900, 980, 5000])
async def test_a_deeply_nested_key_is_never_a_500(client: httpx.AsyncClient, depth: int) -> None:
    """Read and walked within Python's recursion limit, or the parser's 400: never a crash."""
    for inner in (b'{"a\\u0001": 1}', b'{"\\ud800": 1}'):
        content = b"[" * depth + inner + b"]" * depth
        r = await client.post("/api/topics", headers=JSON, content=content)
        assert r.status_code in (400, 422), (depth, r.status_code, r.text[:200])
        if r.status_code == 422:
            assert r.json()["field"].startswith("0.0.")


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("   ", '"   "'),  # only spaces: quoted
        ("", '""'),
        (" a ", '" a "'),
        ("\u2028", "\\u2028"),  # a line separator, invisible: escaped
        ("\u00a0", "\\u00a0"),  # a no-break space
        ("a\u200bb", "a\\u200bb"),  # zero-width
        ("tab\tkey", "tab\\u0009key"),
        ('say "hi"', 'say \\"hi\\"'),
        ("kiến", "kiến"),  # a plain name stays as it is
    ],
)
async def test_an_unknown_key_is_named_so_it_can_be_seen(
    client: httpx.AsyncClient, key: str, field: str
) -> None:
    """Not a refused character (400 "unknown field", not 422), but named visibly: a key of
    spaces or U+2028 was echoed as it was, a field name nobody could read."""
    body = {"slug": "ok", "title": "T", "query": "a", key: 1}
    for language in ("vi", "en"):
        r = await client.post("/api/topics", content=json.dumps(body).encode(),
                              headers=JSON | {"Accept-Language": language})  # fmt: skip
        assert r.status_code == 400, r.text
        data = r.json()
        assert (data["code"], data["field"]) == ("invalid_body", field), data
        assert data["error"].startswith(f"{field}: "), data
        assert field in data["message"], data


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ('"\x01', '\\"\\u0001'),  # a quote: it was named '"\u0001', read as a key quoted
        ("\\u0001\x01", "\\\\u0001\\u0001"),  # the escape's text, then the character itself
        (" \x01 ", '" \\u0001 "'),
    ],
)
async def test_a_refused_key_with_a_quote_or_backslash_is_read_one_way(
    client: httpx.AsyncClient, key: str, field: str
) -> None:
    content = json.dumps({"slug": "ok", "title": "T", "query": "a", key: 1}).encode()
    await assert_refused(client, "POST", "/api/topics", content, field, "\x01")
