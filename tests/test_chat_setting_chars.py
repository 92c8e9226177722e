"""A chat's digest and quiet hours refuse the characters every text field refuses.

Found by a tester: on the admin's chat page ``07:30`` + NEL (U+0085) was saved as 07:30 and
``22:00-06:00`` + RLO (U+202E) as 22:00-06:00, while ``07:30`` + BEL was refused: the settings
parser collapsed whitespace with ``str.split`` (which reads NEL and U+001C–U+001F as spaces)
and dropped every format character (U+202E among them) before anything judged the text. The
one parser (:func:`feedsvc.digest.settings`, behind the admin, ``PATCH /api/chats/{id}`` and
the bots' ``/digest``, ``/quiet``, ``/silent``) now checks the text as sent first. What a
topic's title takes stays taken: a no-break space and U+2028 are whitespace, a direction mark
(U+200F) is an invisible format character.
"""

from __future__ import annotations

import warnings
from datetime import UTC
from typing import Any

import httpx
import pytest
from backend_cases import module_on_sqlite
from test_admin import csrf_of, hidden_of, login, served  # noqa: F401  (served: the fixture)
from test_admin_refused_boxes import form_on, new_topic, note_under
from test_digest_admin_api import AUTH, client, service  # noqa: F401  (fixtures)
from test_digest_admin_api import CHAT as API_CHAT

from feedsvc.bot.actions import Target
from feedsvc.bot.options import set_option
from feedsvc.digest import ChatSettings, SettingError
from feedsvc.digest import options as chat_options
from feedsvc.store import digests as digest_store
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.topics import find_topic

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    module_on_sqlite,
]

CHAT = -1004546
#: refused wherever they come: C1 (NEL, PAD, CSI), a C0 str.split reads as a space (U+001C),
#: bidi override / embedding / isolate controls
REFUSED = ["\u0085", "\u0080", "\u009b", "\u001c", "\u001f", "\u202e", "\u202a", "\u2066"]
#: what a topic's title takes: whitespace (NBSP, U+2028, U+3000) and a direction mark
TAKEN = ["\u00a0", "\u2028", "\u3000", "\u200f", "\u200e"]


@pytest.mark.parametrize("char", REFUSED)
@pytest.mark.parametrize(
    ("field", "value"), [("digest", "07:30{}"), ("quiet", "22:00-06:00{}"), ("digest", "{}off"),
                         ("quiet", "22h{}-6h"), ("silent", "on{}")],
)  # fmt: skip
def test_the_shared_parser_refuses_the_character(field: str, value: str, char: str) -> None:
    with pytest.raises(SettingError) as refused:
        chat_options.parse_changes(**{field: value.format(char)})
    assert (refused.value.field, refused.value.code) == (field, "control_character")
    assert refused.value.params == {"char": f"U+{ord(char):04X}"}


@pytest.mark.parametrize("char", TAKEN)
def test_what_a_title_takes_is_taken(char: str) -> None:
    changes = chat_options.parse_changes(f"07:30{char}", f"22:00{char}-06:00{char}")
    assert ChatSettings(changes["digest"], changes["quiet"]).digest.text() == "07:30"  # type: ignore[arg-type]
    assert changes["quiet"].stored() == "22:00-06:00"  # type: ignore[attr-defined]


def test_a_lone_surrogate_is_not_text() -> None:
    with pytest.raises(SettingError) as refused:
        chat_options.parse_changes(digest="07:30\ud800")
    assert refused.value.code == "not_text"


@pytest.mark.parametrize(
    ("sent", "field", "note"),
    [
        ({"digest": "07:30\u0085"}, "digest", "U+0085 (NEL) tại ký tự 6"),
        ({"quiet": "22:00-06:00\u202e"}, "quiet", "U+202E (RIGHT-TO-LEFT OVERRIDE) tại ký tự 12"),
        ({"digest": "07:30\u0007"}, "digest", "U+0007 (BEL) tại ký tự 6"),
        ({"quiet": "22:00\u001c-06:00"}, "quiet", "U+001C (FS) tại ký tự 6"),
    ],
)
def test_the_admin_chat_page_refuses_them_alike(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    sent: dict[str, str],
    field: str,
    note: str,
) -> None:
    web, svc = served
    with svc.db.write() as conn:
        sub_store.ensure_chat(conn, CHAT, "supergroup", "Nhóm", svc.db.now())
    login(web)
    path = f"/admin/chats/{CHAT}"
    data = {"csrf": csrf_of(web, path), "digest": "off", "quiet": "off", **sent}
    r = web.post(path, data=data, follow_redirects=False)
    assert r.status_code == 422, r.text
    said = note_under(r.text, field)
    assert note in said  # the box's note names it where it was
    assert "hãy xoá nó" not in said  # and no "remove it" for what the box already left out
    kept = "".join(c for c in sent[field] if c not in "\u0085\u202e\u0007\u001c")
    assert form_on(r.text, path)[field] == kept
    with svc.db.read() as conn:
        assert digest_store.get_settings(conn, CHAT) == ChatSettings()  # nothing saved


def test_the_admin_chat_page_takes_a_no_break_space(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    web, svc = served
    with svc.db.write() as conn:
        sub_store.ensure_chat(conn, CHAT, "supergroup", "Nhóm", svc.db.now())
    login(web)
    path = f"/admin/chats/{CHAT}"
    data = {**hidden_of(web, path), "digest": "07:30\u00a0", "quiet": "22:00-06:00\u2028"}
    assert web.post(path, data=data, follow_redirects=False).status_code == 303
    with svc.db.read() as conn:
        settings = digest_store.get_settings(conn, CHAT)
    assert settings is not None and settings.digest.text() == "07:30"


@pytest.mark.parametrize("char", ["\u0085", "\u202e", "\u001c"])
@pytest.mark.parametrize("field", ["digest", "quiet"])
async def test_the_api_refuses_them_as_every_body_field(
    client: httpx.AsyncClient,  # noqa: F811  (the imported fixture)
    field: str,
    char: str,
) -> None:
    value = {"digest": "07:30", "quiet": "22:00-06:00"}[field] + char
    answer = await client.patch(f"/api/chats/{API_CHAT}", headers=AUTH, json={field: value})
    assert answer.status_code == 422, answer.text
    assert (answer.json()["code"], answer.json()["field"]) == ("control_character", field)


@pytest.mark.parametrize(("field", "arg"), [("digest", "07:30\u0085"), ("quiet", "22h-6h\u202e")])
def test_the_bot_command_refuses_them(
    service: Any,  # noqa: F811  (the imported fixture)
    field: str,
    arg: str,
) -> None:
    reply = set_option(service.db, Target(API_CHAT, "private", "Lan"), field, arg, UTC)
    assert "U+0085" in reply or "U+202E" in reply
    with service.db.read() as conn:
        assert digest_store.get_settings(conn, API_CHAT) == ChatSettings()


@pytest.mark.parametrize("char", ["\u0085", "\u001c", "\u001f"])
def test_the_admin_refuses_a_slug_str_strip_would_trim(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    char: str,
) -> None:
    """The same class in the topic editor: the slug was stripped before it was judged."""
    web, svc = served
    login(web)
    r = new_topic(web, slug=f"kt-moi{char}")
    assert r.status_code == 422, r.text
    assert f"U+{ord(char):04X}" in note_under(r.text, "slug")
    with svc.db.read() as conn:
        assert find_topic(conn, "kt-moi") is None
