"""A refused admin form's boxes hold what Save would send, never the page's display escapes.

Found by a tester: a topic title refused for its BEL (U+0007) came back with the six letters
``\\u0007`` in the title box (the escape :func:`feedsvc.web.admin_text.shown` writes so that
read-only text shows its control characters), and Save stored those letters as the title; a
U+2028 in an accepted title, sent back with another field's error, was saved as ``\\u2028``
likewise, and a stored title holding a bidi control (from before titles refused them) turned
into its escape on a plain open-and-save. Every editable box is now filled through the ``box``
filter: the text less the characters no save takes, those named under the box with where they
were (``U+0007 (BEL) tại ký tự 2``). Read-only text keeps its escapes
(``test_admin_text``).

Each refusal is posted as the browser posts the form, and the refused page's form is posted
again as it stands (:func:`resend`): what Save would store after the refusal is checked.
"""

from __future__ import annotations

import re
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_admin import csrf_of, hidden_of, login, make_client, served  # noqa: F401  (served: the fixture)

from feedsvc.catalogue import Translator
from feedsvc.store import subscriptions as sub_store
from feedsvc.store import topics as topic_store
from feedsvc.store.topics import TopicSpec
from feedsvc.web import admin_text

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

VI = Translator("vi")
CHAT = -1004545
#: what no admin page may write as it is (``test_admin_text.RAW``), lone surrogates too
RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


class Forms(HTMLParser):
    """A page's forms as a browser submits them: each named ``<input>`` (a checkbox only when
    ticked) and ``<textarea>``, by the form's ``id`` (or its ``action``)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, str]] = {}
        self.current: dict[str, str] | None = None
        self.area: str | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current = self.forms.setdefault(a.get("id") or a.get("action", ""), {})
        elif self.current is not None and tag == "input" and "name" in a:
            if a.get("type") != "checkbox" or "checked" in a:
                self.current[a["name"]] = a.get("value", "on" if a.get("type") else "")
        elif self.current is not None and tag == "textarea":
            self.area = a["name"]
            self.current[self.area] = ""

    def handle_data(self, data: str) -> None:
        if self.current is not None and self.area is not None:
            self.current[self.area] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self.current is not None and self.area is not None:
            # HTML drops a newline right after <textarea> (the template writes one)
            self.current[self.area] = self.current[self.area].removeprefix("\n")
            self.area = None
        elif tag == "form":
            self.current = None


def form_on(page: str, name: str) -> dict[str, str]:
    return Forms(page).forms[name]


def note_under(page: str, field: str) -> str:
    """The words under the box ``field`` (its ``field-error``), "" when there are none."""
    found = re.search(rf'<p class="field-error" id="{field}-error" role="alert">(.*?)</p>', page)
    return found.group(1) if found else ""


def resend(client: TestClient, page: str, form: str, path: str, **changed: str) -> Any:
    """Save pressed on the refused ``page``: its form posted as it stands (``changed``: what
    the editor typed over before pressing it)."""
    return client.post(path, data={**form_on(page, form), **changed}, follow_redirects=False)


def stored(service: Any, slug: str) -> topic_store.Topic:
    with service.db.read() as conn:
        topic = topic_store.get_topic(conn, slug)
    assert topic is not None
    return topic


def new_topic(client: TestClient, **fields: str) -> Any:
    data = {"slug": "kt-moi", "title": "Kiến Thụy", "query": '"Kiến Thụy"', **fields}
    return client.post(
        "/admin/topics/new", data={"csrf": csrf_of(client), **data}, follow_redirects=False
    )


# -- the filter and its words ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "held", "gone"),
    [
        ("K\x07iến", "Kiến", [(2, "\x07")]),
        ("\x00a\x1b[31m\x85", "a[31m", [(1, "\x00"), (3, "\x1b"), (8, "\x85")]),
        ("ab\u202ecd\u2066", "abcd", [(3, "\u202e"), (6, "\u2066")]),
        ("x\ud800y", "xy", [(2, "\ud800")]),
        # what every save takes stays exactly: line breaks, tabs, U+2028/9, marks, joiners
        ("a\u2028b\u2029c\n\td\r\n\u200e\u200d", "a\u2028b\u2029c\n\td\r\n\u200e\u200d", []),
        ("K\\u0007 \\u202e", "K\\u0007 \\u202e", []),  # an escape's letters are text
    ],
)
def test_a_box_holds_the_text_less_what_no_save_takes(
    given: str, held: str, gone: list[tuple[int, str]]
) -> None:
    assert (admin_text.box(given), admin_text.removed(given)) == (held, gone)


def test_each_taken_out_character_is_named_where_it_was() -> None:
    char_name, removal_note, named = (
        admin_text.char_name,
        admin_text.removal_note,
        admin_text.NAMED,
    )
    assert [char_name(c) for c in "\x00\x07\x1b\x7f\x85\x9f\u202e\u2066\ud800"] == [
        "NUL", "BEL", "ESC", "DEL", "NEL", "APC", "RIGHT-TO-LEFT OVERRIDE",
        "LEFT-TO-RIGHT ISOLATE", "",
    ]  # fmt: skip
    en = Translator("en")
    assert removal_note(en, "Title", "Kiến") == ""
    assert removal_note(en, "Title", "K\x07i\ud800") == (
        "Taken out of the box “Title”, as no box takes them: U+0007 (BEL) at character 2, "
        "U+D800 (a lone surrogate) at character 4. Check the box before sending it again."
    )
    many = removal_note(VI, "Tiêu đề", "\x07" * (named + 2))
    assert many.count("U+0007 (BEL)") == named and "và 2 chỗ khác" in many
    assert f"tại ký tự {named}," in many


# -- the topic editor ------------------------------------------------------------------------

#: a title holding what no save takes, the box it comes back in, and the note's characters
TITLES = [
    ("Kiến\x07 Thụy", "Kiến Thụy", ["U+0007 (BEL) tại ký tự 5"]),
    ("Kiến Thụy\x00", "Kiến Thụy", ["U+0000 (NUL) tại ký tự 10"]),
    ("\x1b[31mKiến Thụy", "[31mKiến Thụy", ["U+001B (ESC) tại ký tự 1"]),
    ("Kiến \u202eThụy", "Kiến Thụy", ["U+202E (RIGHT-TO-LEFT OVERRIDE) tại ký tự 6"]),
    ("Kiến\x85 Thụy", "Kiến Thụy", ["U+0085 (NEL) tại ký tự 5"]),
    (
        "\x07Kiến\x1b Thụy\u202e",
        "Kiến Thụy",
        ["U+0007 (BEL) tại ký tự 1", "U+001B (ESC) tại ký tự 6", "U+202E (RIGHT-TO-LEFT"],
    ),
]


@pytest.mark.parametrize(("sent", "held", "named"), TITLES)
def test_a_title_refused_for_a_character_comes_back_without_it_and_saves_so(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    sent: str,
    held: str,
    named: list[str],
) -> None:
    client, service = served
    login(client)
    r = new_topic(client, title=sent)
    assert r.status_code == 422, r.text
    assert form_on(r.text, "topic-form")["title"] == held
    note = note_under(r.text, "title")
    assert all(words in note for words in named) and "“Tiêu đề”" in note, note
    assert "hãy xoá nó" not in r.text  # asked for what the box has done already
    assert not RAW.search(r.text)
    again = resend(client, r.text, "topic-form", "/admin/topics/new")
    assert again.status_code == 303, again.text
    assert stored(service, "kt-moi").title == held


def test_characters_in_two_fields_are_both_taken_out_and_named(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    client, service = served
    login(client)
    r = new_topic(
        client,
        title="Kiến\x07 Thụy",
        description="Dòng 1\n\x1bDòng 2",
        query='"Kiến\u2066 Thụy" OR "Núi Đối"',
    )
    assert r.status_code == 422, r.text
    form = form_on(r.text, "topic-form")
    assert (form["title"], form["description"], form["query"]) == (
        "Kiến Thụy",
        "Dòng 1\nDòng 2",
        '"Kiến Thụy" OR "Núi Đối"',
    )
    assert "U+0007 (BEL) tại ký tự 5" in note_under(r.text, "title")
    assert "U+001B (ESC) tại ký tự 8" in note_under(r.text, "description")
    assert "U+2066 (LEFT-TO-RIGHT ISOLATE) tại ký tự 6" in note_under(r.text, "query")
    for field in ("title", "description", "query"):  # each box marked, tied to its words
        tag = re.search(rf'<(?:input|textarea)\b[^>]*\bid="{field}"[^>]*>', r.text)
        assert tag and f'aria-describedby="{field}-error"' in tag.group(0), field
    again = resend(client, r.text, "topic-form", "/admin/topics/new")
    assert again.status_code == 303, again.text
    topic = stored(service, "kt-moi")
    assert (topic.title, topic.description, topic.query) == (
        "Kiến Thụy",
        "Dòng 1\nDòng 2",
        '"Kiến Thụy" OR "Núi Đối"',
    )


def test_what_a_save_takes_comes_back_as_sent_beside_another_fields_error(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    """U+2028 is no refused character (a title's is a space when saved, a query's stays), so
    a form refused for its slug sent it back escaped, and Save stored the escape."""
    client, service = served
    login(client)
    title, query = "Kiến\u2028Thụy", '"Kiến Thụy"\u2028OR "Núi Đối"'
    r = new_topic(client, slug="Kiến-Thụy", title=title, query=query)
    assert r.status_code == 422 and note_under(r.text, "slug"), r.text
    form = form_on(r.text, "topic-form")
    assert (form["title"], form["query"]) == (title, query)
    assert not note_under(r.text, "title") and not note_under(r.text, "query")
    again = resend(client, r.text, "topic-form", "/admin/topics/new", slug="kt-moi")
    assert again.status_code == 303, again.text
    topic = stored(service, "kt-moi")
    assert (topic.title, topic.query) == ("Kiến Thụy", query)


def test_an_escapes_letters_typed_as_text_are_saved_and_shown_as_typed(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    client, service = served
    login(client)
    title = "Mã \\u0007 và \\u202e"
    r = new_topic(client, title=title, query='"Kiến Thụy" AND (')
    assert r.status_code == 422, r.text
    assert form_on(r.text, "topic-form")["title"] == title and not note_under(r.text, "title")
    again = resend(client, r.text, "topic-form", "/admin/topics/new", query='"Kiến Thụy"')
    assert again.status_code == 303, again.text
    assert stored(service, "kt-moi").title == title
    page = client.get("/admin/topics/kt-moi/edit").text
    assert form_on(page, "topic-form")["title"] == title


def test_a_refused_edit_comes_back_without_the_character_at_its_version(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    client, service = served
    with service.db.write() as conn:
        topic_store.save_topic(
            conn, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'), "cli", service.db.now()
        )
    login(client)
    page = client.get("/admin/topics/kt/edit").text
    r = resend(client, page, "topic-form", "/admin/topics/kt/edit", title="Kiến Thụy\x07 mới")
    assert r.status_code == 422, r.text
    assert form_on(r.text, "topic-form")["title"] == "Kiến Thụy mới"
    assert "U+0007 (BEL) tại ký tự 10" in note_under(r.text, "title")
    again = resend(client, r.text, "topic-form", "/admin/topics/kt/edit")
    assert again.status_code == 303, again.text
    assert stored(service, "kt").title == "Kiến Thụy mới"


def test_a_stored_title_holding_a_bidi_control_opens_without_it_said_so(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    """A title stored before titles refused bidi controls: opened and saved unchanged, the
    box's escape was stored in its place."""
    client, service = served
    with service.db.write() as conn:
        spec = TopicSpec("kt", "Kiến \u202eThụy", '"Kiến Thụy"', "Mô \x07tả")
        topic_store.save_topic(conn, spec, "cli", service.db.now())
    login(client)
    page = client.get("/admin/topics/kt/edit")
    assert page.status_code == 200
    form = form_on(page.text, "topic-form")
    assert (form["title"], form["description"]) == ("Kiến Thụy", "Mô tả")
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE) tại ký tự 6" in note_under(page.text, "title")
    assert "U+0007 (BEL) tại ký tự 4" in note_under(page.text, "description")
    assert " autofocus" not in page.text  # nothing refused: the focus stays where it was
    again = resend(client, page.text, "topic-form", "/admin/topics/kt/edit")
    assert again.status_code == 303, again.text
    topic = stored(service, "kt")
    assert (topic.title, topic.description) == ("Kiến Thụy", "Mô tả")


def test_a_lone_surrogate_a_form_can_carry_is_taken_out_too(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    """A browser never sends one, but a multipart form may name its charset: in UTF-7
    ``+2AA-`` is U+D800, which Starlette gives the handler as it is. The refused form could
    not be written at all (a 500: no page is encoded with a lone surrogate)."""
    client, service = served
    login(client)
    fields = {"csrf": csrf_of(client), "slug": "kt-moi", "title": "Ki\ud800en", "query": "kien"}
    body = b"".join(
        b'--B\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (name.encode(), value.encode("utf-7"))
        for name, value in fields.items()
    )
    r = client.post(
        "/admin/topics/new",
        content=body + b"--B--\r\n",
        headers={"Content-Type": "multipart/form-data; charset=utf-7; boundary=B"},
        follow_redirects=False,
    )
    assert r.status_code == 422, r.text
    assert form_on(r.text, "topic-form")["title"] == "Kien"
    assert "U+D800 (nửa cặp UTF-16) tại ký tự 3" in note_under(r.text, "title")
    again = resend(client, r.text, "topic-form", "/admin/topics/new")
    assert again.status_code == 303, again.text
    assert stored(service, "kt-moi").title == "Kien"


def test_the_note_is_in_the_admins_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = make_client(tmp_path, monkeypatch, language="en")
    with client:
        login(client)
        r = new_topic(client, title="K\x07iến")
    assert r.status_code == 422, r.text
    assert note_under(r.text, "title") == (
        "Taken out of the box “Title”, as no box takes them: U+0007 (BEL) at character 2. "
        "Check the box before sending it again."
    )


# -- the chat page and the articles search ---------------------------------------------------


def test_the_chat_pages_boxes_come_back_without_the_character(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    client, service = served
    with service.db.write() as conn:
        sub_store.ensure_chat(conn, CHAT, "supergroup", "Nhóm Kiến Thụy", service.db.now())
    login(client)
    path = f"/admin/chats/{CHAT}"
    sent = {**hidden_of(client, path), "digest": "08:00\x07", "quiet": "22:00-06:00\x1b"}
    r = client.post(path, data=sent, follow_redirects=False)
    assert r.status_code == 422, r.text
    form = form_on(r.text, path)
    assert (form["digest"], form["quiet"]) == ("08:00", "22:00-06:00")
    assert "U+0007 (BEL) tại ký tự 6" in note_under(r.text, "digest")
    assert "U+001B (ESC) tại ký tự 12" in note_under(r.text, "quiet")
    # the note is the refusal's words ("not a time" quoted the BEL it had not checked for)
    assert "không phải giờ" not in note_under(r.text, "digest")
    assert not RAW.search(r.text)
    again = resend(client, r.text, path, path)
    assert again.status_code == 303, again.text
    page = client.get(path).text
    assert form_on(page, path)["digest"] == "08:00"


def test_a_refused_search_comes_back_without_the_character(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    client, _ = served
    login(client)
    r = client.get("/admin/articles", params={"q": "Kiến\x07 Thụy"})
    assert r.status_code == 422, r.text
    assert form_on(r.text, "")["q"] == "Kiến Thụy"
    note = note_under(r.text, "q")
    assert "U+0007 (BEL) tại ký tự 5" in note and "hãy xoá nó" not in note, note
    assert not RAW.search(r.text)
    again = client.get("/admin/articles", params=form_on(r.text, ""))
    assert again.status_code == 200 and "Kiến Thụy khánh thành" in again.text


# -- every box, by the templates -------------------------------------------------------------

TEMPLATES = Path(__file__).parents[1] / "feedsvc" / "web" / "templates"
#: what a person cannot type in: its value is the server's, sent back as given
NOT_TYPED = ("hidden", "checkbox", "radio", "submit")


def test_every_editable_box_is_filled_through_the_box_filter() -> None:
    """Not through ``shown``'s escapes (the templates' ``finalize``): every ``<input>`` a
    person types in whose value a template fills, and every ``<textarea>``."""
    unfilled = []
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<input\b[^>]*>", text):
            kind = re.search(r'\btype="(\w+)"', tag)
            value = re.search(r'\bvalue="([^"]*\{\{[^"]*)"', tag)
            typed = value and not (kind and kind.group(1) in NOT_TYPED)
            if typed and not re.search(r"\|\s*box\b", value.group(1)):
                unfilled.append((template.name, tag))
        for content in re.findall(r"<textarea\b[^>]*>(.*?)</textarea>", text, re.S):
            if "{{" in content and not re.search(r"\|\s*box\b", content):
                unfilled.append((template.name, content))
    assert unfilled == []
