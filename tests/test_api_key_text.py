"""A control character or a lone surrogate in a JSON object *key* of an API body (or in a query
string's key) is refused as every other refused text is (:mod:`feedsvc.web.api_text`): 422
``control_character`` / ``not_text``, the field named by the key's position with the key
written in JSON escapes (``x\\u0001``, ``title.0.k\\u0001``), worded by ``op.<code>``.

It was a 400 ``invalid_body`` "unknown field" (the raw character echoed in the message); a
key holding ``"\\ud800"`` was named as the object holding it (``body``).

An object giving a key twice (``{"title": "A", "title": "B"}``, at any depth, ``"\\u0074itle"``
for ``title`` too) is 422 ``duplicate_key`` on every route that reads a body, named by the
same position (:mod:`feedsvc.jsonkeys`, the rule ``feedsvc import`` applies): it was accepted,
the last value winning silently.
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
#: The fixtures of the refusals' module: one service for this module (a refusal changes
#: nothing), ``fresh`` for a test that stores something
shared, client, fresh = refusals.shared, refusals.client, refusals.fresh


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


# -- a key given twice in one object: 422 duplicate_key (feedsvc.jsonkeys) ----------------------

#: Every route that reads a JSON body, each with a valid body written as raw JSON text (a
#: client's encoder cannot write a key twice; a templating bug can) and ``{}`` where a repeated
#: member goes.
DUP_ROUTES: list[tuple[str, str, str]] = [
    ("POST", "/api/topics", '{"slug": "ok", "title": "A", "query": "a"{}}'),
    ("POST", "/api/topics/preview", '{"query": "\\"an ninh\\""{}}'),
    ("PUT", "/api/topics/ok", '{"title": "A", "query": "a"{}}'),
    ("POST", "/api/topics/ok/backfill", '{"days": 1{}}'),
    ("POST", "/api/subscriptions", '{"chat_id": 777, "chat_type": "private", "query": "a"{}}'),
    ("PATCH", "/api/chats/777", '{"silent": true{}}'),
    ("POST", "/api/articles/K1/hide", '{"reason": "r"{}}'),
]
DUP_FIRST_KEY = {"/api/topics/preview": "query", "/api/topics/ok/backfill": "days",
                 "/api/chats/777": "silent", "/api/articles/K1/hide": "reason"}  # fmt: skip


async def assert_duplicate(client: httpx.AsyncClient, method: str, path: str, content: bytes,
                           field: str) -> None:  # fmt: skip
    """Both languages: 422 ``duplicate_key`` naming ``field``, in the other 422s' shape."""
    for language in ("vi", "en"):
        r = await client.request(method, path, content=content,
                                 headers=JSON | {"Accept-Language": language})  # fmt: skip
        assert r.status_code == 422, (content[:80], r.status_code, r.text)
        data = r.json()
        assert data == {
            "error": f"{field}: key given more than once in one object",
            "code": "duplicate_key",
            "field": field,
            "message": Translator(language)("api.duplicate_key", field=field),
        }, data


@pytest.mark.parametrize(("method", "path", "body"), DUP_ROUTES,
                         ids=[f"{m} {p}" for m, p, _ in DUP_ROUTES])  # fmt: skip
async def test_a_key_given_twice_is_422_on_every_body_route(
    client: httpx.AsyncClient, method: str, path: str, body: str
) -> None:
    key = DUP_FIRST_KEY.get(path, "title" if "title" in body else "query")
    again = json.loads(body.replace("{}", ""))[key]
    await assert_duplicate(client, method, path,
                           body.replace("{}", f", {json.dumps(key)}: {json.dumps(again)}").encode(),
                           key)  # fmt: skip


async def test_a_put_with_a_key_twice_changes_nothing(
    fresh: httpx.AsyncClient,
) -> None:
    """The user trip: the last value won, silently; now nothing is stored and the topic keeps
    its title."""
    client = fresh
    r = await client.post("/api/topics", headers=JSON,
                          json={"slug": "t1", "title": "A", "query": "an ninh"})  # fmt: skip
    assert r.status_code == 201, r.text
    content = b'{"title": "A", "query": "an ninh", "title": "B"}'
    await assert_duplicate(client, "PUT", "/api/topics/t1", content, "title")
    r = await client.get("/api/topics/t1", headers=AUTH)
    assert (r.json()["title"], r.json()["query"]) == ("A", "an ninh"), r.text
    once = content.replace(b'"title": "B"', b'"enabled": true')
    r = await client.put("/api/topics/t1", headers=JSON, content=once)
    assert r.status_code == 200 and r.json()["title"] == "A", r.text  # one of each: as before


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ('{"a": {"b": 1, "b": 2}}', "a.b"),  # at depth
        ('{"title": [{"x": 1}, {"t": 1, "t": 2}]}', "title.1.t"),  # in a list of objects
        ('{"d": [[{"z": 1}, {"y": 1, "y": 2}]]}', "d.0.1.y"),
        ('[{"k": 1, "k": 2}]', "0.k"),  # a body that is a list of objects
        ('{"title": "A", "\\u0074itle": "B"}', "title"),  # an escape spells the same key
        ('{"\\u0074\\u0069tle": "A", "ti\\u0074le": "B"}', "title"),
        ('{"\\ud83d\\ude00": 1, "\U0001f600": 2}', "\U0001f600"),  # a pair, and its character
        ('{"title": "A", "title": "B", "title": "C"}', "title"),  # three copies: one answer
        ('{"": 1, "": 2}', '""'),  # the empty key, shown quoted
        ('{"x": {"": 1, "": 2}}', 'x.""'),
        ('{"a b ": 1, "a b ": 2}', '"a b "'),  # shown as every answer names a key
        ('{"a": {"b": 1, "b": 2}, "a": 3}', "a.b"),  # the first repeat in document order
        ('{"a": 1, "a": {"b": 1, "b": 2}}', "a"),
        ('{"kiến": 1, "ki\\u1ebfn": 2}', "kiến"),
    ],
)
async def test_a_key_twice_is_named_by_its_position(
    client: httpx.AsyncClient, content: str, field: str
) -> None:
    body = content if content.startswith("[") else '{"slug": "ok", "query": "q", ' + content[1:]
    await assert_duplicate(client, "POST", "/api/topics", body.encode(), field)


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ('{"slug": "ok", "slug": "ok2"}', "slug"),  # title and query missing too
        ('{"slug": "ok", "title": 1, "title": "B", "query": "a"}', "title"),  # a wrong type
        ('{"slug": "ok", "title": "T", "query": "a", "colour": 1, "colour": 2}', "colour"),
        ('{"slug": "ok", "title": "T\\u0001", "query": "a", "query": "b"}', "query"),
        ('{"slug": "\\ud800", "title": "T", "query": "a", "query": "b"}', "query"),
        # a key holding a control character, twice: the repeat is named (in JSON escapes);
        # given once, the same key is 422 control_character (test_a_key_anywhere_…)
        ('{"slug": "ok", "title": "T", "query": "a", "k\\u0001": 1, "k\\u0001": 2}', "k\\u0001"),
        ('{"slug": "ok", "title": "T", "query": "a", "\\ud800": 1, "\\ud800": 2}', "\\ud800"),
        ('{"slug": "ok", "title": "T", "query": "a", "x": NaN, "x": 1}', "x"),
    ],
)
async def test_a_key_twice_is_the_one_answer_whatever_else_is_wrong(
    client: httpx.AsyncClient, content: str, field: str
) -> None:
    """Checked on the JSON, before the model: which of the values would a 400 be about?"""
    await assert_duplicate(client, "POST", "/api/topics", content.encode(), field)


async def test_keys_that_differ_only_in_normalisation_are_two_keys(
    client: httpx.AsyncClient,
) -> None:
    """NFC "é" and NFD "e\\u0301" are different strings to every JSON parser (and to Pydantic):
    two unknown fields, the 400 they always were, not a duplicate."""
    content = '{"slug": "ok", "title": "T", "query": "a", "\u00e9": 1, "e\\u0301": 2}'
    r = await client.post("/api/topics", headers=JSON, content=content.encode())
    assert r.status_code == 400 and r.json()["code"] == "invalid_body", r.text


@pytest.mark.parametrize(
    "content",
    [
        b'{"title": "A", "title": "B"',  # cut short: not JSON
        b'{"title": "A", "title": "B",}',  # a trailing comma
        b'{"title": "A", "title": "B"}\xef\xbb\xbf',  # a byte order mark at the end: not JSON
        '{"title": "A", "title": "B"}'.encode("utf-16"),
        b'{"title": "C\xf4ng", "title": "B"}',  # not UTF-8
    ],
)
async def test_a_body_that_is_not_json_keeps_its_400(
    client: httpx.AsyncClient, content: bytes
) -> None:
    r = await client.post("/api/topics", headers=JSON, content=content)
    assert r.status_code == 400 and r.json()["code"] == "invalid_body", r.text
    assert r.json()["field"] == "body", r.text


async def test_the_size_cap_comes_first(client: httpx.AsyncClient) -> None:
    from feedsvc.web.api_input import MAX_BODY

    content = b'{"title": "A", "title": "B", "x": "' + b"a" * MAX_BODY + b'"}'
    r = await client.post("/api/topics", headers=JSON, content=content)
    assert r.status_code == 413 and r.json()["code"] == "body_too_large", r.text


@pytest.mark.parametrize("depth", [200, 900, 5000])
async def test_a_deeply_nested_repeat_is_never_a_500(client: httpx.AsyncClient, depth: int) -> None:
    """Found where Python's parser reads that deep (the walk naming it is not recursive), else
    the parser's 400."""
    content = b"[" * depth + b'{"a": 1, "a": 2}' + b"]" * depth
    r = await client.post("/api/topics", headers=JSON, content=content)
    assert r.status_code in (400, 422), (depth, r.status_code, r.text[:200])
    if r.status_code == 422:
        assert r.json()["code"] == "duplicate_key"
        assert r.json()["field"] == "0." * depth + "a"
    if depth == 200:
        assert r.status_code == 422
