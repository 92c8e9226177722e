"""An admin form that gives one field twice is refused whole (400 naming the field, nothing
saved), on every admin POST route, as the API refuses a repeated parameter. Starlette kept
the last value: ``title=A&title=B`` saved "B", and what a crafted or doubled submission saved
depended on the order its client wrote the fields."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from html import unescape
from urllib.parse import quote

import pytest
from test_admin_inputs import INPUTS, PATH_VALUES, _csrf, admin_world

from feedsvc.app import Service
from feedsvc.echoes import ECHOED
from feedsvc.store import topics as topic_store
from feedsvc.store.lifecycle import editor_state

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
REFUSED_VI = "nhiều lần; không có gì được lưu"

POSTS = [
    (path.split("#")[0], fields)
    for (method, path), fields in INPUTS.items()
    if method == "POST" and path != "/admin/preview"
]
CASES = [(path, fields, name) for path, fields in POSTS for name in [*fields, "csrf"]]


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Service]]:
    """One logged-in admin for the module, SQLite (a refusal reaches no SQL; a refusal that
    failed would show in the next case's "nothing saved"): test_admin_inputs' world."""
    with admin_world(f"sqlite:///{tmp_path_factory.mktemp('repeated') / 'state.db'}") as world:
        yield world


def _path(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    return path


def _body(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def _post(client: object, path: str, pairs: list[tuple[str, str]]) -> object:
    return client.post(  # type: ignore[attr-defined]
        _path(path),
        content=_body(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def _topics(service: Service) -> dict[str, tuple[str, str]]:
    with service.db.read() as conn:
        return {t.slug: (t.title, t.query) for t in topic_store.list_topics(conn)}


@pytest.mark.parametrize(("path", "fields", "name"), CASES, ids=[f"{p} {n}" for p, _, n in CASES])
@pytest.mark.parametrize("second", ["other", "same"])
def test_a_field_given_twice_is_refused_naming_it(
    admin: tuple[TestClient, Service],
    path: str,
    fields: dict[str, str],
    name: str,
    second: str,
) -> None:
    client, service = admin
    before = _topics(service)
    pairs = [*fields.items(), ("csrf", _csrf(client))]  # type: ignore[arg-type]
    value = dict(pairs)[name]
    pairs.append((name, value + "x" if second == "other" else value))
    response = _post(client, path, pairs)
    assert response.status_code == 400, (response.status_code, response.text[:500])  # type: ignore[attr-defined]
    text = unescape(response.text)  # type: ignore[attr-defined]
    assert REFUSED_VI in text and f"'{name}'" in text, text[-600:]
    assert _topics(service) == before
    with service.db.read() as conn:
        state = editor_state(conn, "TEST-00001")
    assert state is not None and state.hidden_at is None


def test_the_same_form_with_each_field_once_is_saved(admin: tuple[TestClient, Service]) -> None:
    """The guard: the route the cases above refuse takes the form when no field repeats."""
    client, service = admin
    form = {**INPUTS[("POST", "/admin/topics/new")], "slug": "moi-2", "csrf": _csrf(client)}
    response = _post(client, "/admin/topics/new", list(form.items()))
    assert response.status_code == 303, response.text[:500]  # type: ignore[attr-defined]
    assert _topics(service)["moi-2"] == ("Mới", '"mới"')


def test_multipart_forms_are_held_to_the_same_rule(admin: tuple[TestClient, Service]) -> None:
    client, service = admin
    fields = {**INPUTS[("POST", "/admin/topics/new")], "csrf": _csrf(client)}
    parts = [(k, (None, v)) for k, v in fields.items()] + [("title", (None, "Khác"))]
    response = client.post("/admin/topics/new", files=parts, follow_redirects=False)  # type: ignore[attr-defined]
    assert response.status_code == 400 and "'title'" in unescape(response.text)
    assert "moi" not in _topics(service)


@pytest.mark.parametrize(
    ("field", "shown"),
    [
        ("ti\u202etle", "'ti\\u202etle'"),  # a bidi override shown, never applied
        ("t\x00", "'t\\x00'"),
        # cut (feedsvc.echoes): a field name can be as long as the body
        ("n" * 300, "'" + "n" * (ECHOED - 1) + "…'"),
        ("<b>x</b>", "&#39;&lt;b&gt;x&lt;/b&gt;&#39;"),  # escaped as text, never markup
    ],
)
def test_the_repeated_field_is_named_visibly_and_briefly(
    admin: tuple[TestClient, Service],
    field: str,
    shown: str,
) -> None:
    client, service = admin
    pairs = [*INPUTS[("POST", "/admin/topics/new")].items(), ("csrf", _csrf(client))]
    response = _post(client, "/admin/topics/new", [*pairs, (field, "a"), (field, "b")])
    assert response.status_code == 400
    found = response.text if "&lt;" in shown else unescape(response.text)  # type: ignore[attr-defined]
    assert shown in found, found[-800:]
    assert "moi" not in _topics(service)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("query=a&query=b", "trường 'query' nhiều lần"),
        ("query=a&csrf={csrf}&csrf={csrf}", "trường 'csrf' nhiều lần"),
        ("query=Kh%E1nh", "%E1"),  # not UTF-8 text: the rule this one sits beside
    ],
)
def test_the_preview_answers_its_script_in_json(
    admin: tuple[TestClient, Service], body: str, words: str
) -> None:
    """``/admin/preview`` answers JSON (its script shows ``error``): a refused form there was
    the HTML message page, which the script could not read ("HTTP 400")."""
    client, _ = admin
    csrf = _csrf(client)
    if "{csrf}" not in body:
        body += f"&csrf={csrf}"
    response = client.post(
        "/admin/preview",
        content=body.format(csrf=csrf),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert words in response.json()["error"], response.json()


UNREADABLE_VI = "Không đọc được biểu mẫu gửi lên"
TOO_MANY_FIELDS = "".join(
    f'--B\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n' for i in range(1001)
)
UNREADABLE = [
    ("multipart/form-data; boundary=B", "garbage"),  # no part at all
    ("multipart/form-data", "--B\r\n\r\n--B--\r\n"),  # no boundary named
    ("multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--"),
    ("multipart/form-data; boundary=B", TOO_MANY_FIELDS + "--B--\r\n"),  # over 1,000 fields
]


@pytest.mark.parametrize(
    ("kind", "body"), UNREADABLE, ids=["garbage", "no-boundary", "no-name", "1001"]
)
@pytest.mark.parametrize("path", ["/admin/topics/new", "/admin/login", "/admin/preview"])
def test_a_form_that_cannot_be_read_is_refused_in_the_admins_words(
    admin: tuple[TestClient, Service], kind: str, body: str, path: str
) -> None:
    """A multipart body Starlette cannot read was its plain-text 400 in English ("Invalid
    multipart data.", "Missing boundary in multipart.") to an admin reading Vietnamese, and to
    the preview's script, which reads JSON. It is refused like any unreadable form: the
    admin's words, JSON for the preview, nothing saved."""
    client, service = admin
    before = _topics(service)
    response = client.post(
        path, content=body, headers={"Content-Type": kind}, follow_redirects=False
    )
    assert response.status_code == 400
    if path == "/admin/preview":
        assert response.headers["content-type"] == "application/json"
        assert UNREADABLE_VI in response.json()["error"]
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert UNREADABLE_VI in response.text
    assert _topics(service) == before
