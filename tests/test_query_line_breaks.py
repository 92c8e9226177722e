"""A line break inside a query's phrase is whitespace, as a tab or NBSP is (a tester's, the
admin's multi-line query box): ``"Kiến`` / ``Thụy"`` — a phrase wrapped in the box or pasted —
was refused as "'Kiến\\nThụy' có dấu câu ở giữa nên không bao giờ khớp" / ``phrase spans
sentence punctuation``, while the same phrase with a tab matched 16 articles. In an article a
line is a paragraph or ``<br>`` (a sentence end, SPEC §4); in a query nobody types a paragraph
inside a phrase. The rule is the query normaliser's (``matching.normalize.query_spaces``), so
every surface reads it alike: the parser (save, previews, ``match``), the admin's live preview
and Save, the API, ``topics add`` and the topics file. VT, FF, NEL and the other control
characters stay refused in a topic's query, as in every field, and ``match --query`` and
``topics preview`` now refuse them too, naming the character (they read it as punctuation)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import article, jsonl
from migrated import premigrated
from test_admin import TOKEN, csrf_of, login, served  # noqa: F401  (served: the fixture)

from feedsvc import operations as ops
from feedsvc.cli import cli
from feedsvc.matching import document_from_article, match_document, parse_typed
from feedsvc.operations.errors import OperationError
from feedsvc.store.topics import TopicSpec
from feedsvc.topics_file import load_topics_file

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

#: line breaks a box, a paste or a JSON body brings, and runs of them
BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\r\n\r\n", " \n\t ", "\u2028\n\u2029"]
#: line breaks no topic's field may hold (control characters), and every surface says so
CONTROLS = ["\x0b", "\x0c", "\x85", "\x1e"]


def keys(query: str) -> list[tuple[tuple[str, ...], bool, int]]:
    return [(t.keys, t.folded, t.mask) for t, _ in parse_typed(query).terms()]


@pytest.mark.parametrize("brk", BREAKS + CONTROLS)
@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ('"Kiến{}Thụy"', '"Kiến Thụy"'),  # the tester's
        ('~"kien{}thuy"', '~"kien thuy"'),
        ('title:"Kiến{}Thụy" -"Đồ{}Sơn"', 'title:"Kiến Thụy" -"Đồ Sơn"'),
        ('"{}Kiến Thụy bắt{}"', '"Kiến Thụy bắt"'),  # at its ends
        ('"Công an{}Kiến{}Thụy"', '"Công an Kiến Thụy"'),
    ],
)
def test_a_line_break_in_a_phrase_is_a_space(brk: str, typed: str, meant: str) -> None:
    query = typed.format(brk, brk)
    assert keys(query) == keys(meant)
    assert match_document(parse_typed(query), document_from_article(article(1)))
    labels = [t.label for t, _ in parse_typed(query).terms()]
    assert labels == [t.label for t, _ in parse_typed(meant).terms()]  # shown on one line


@pytest.mark.parametrize("brk", BREAKS)
def test_punctuation_still_splits_a_phrase(brk: str) -> None:
    for query in (f'"Kiến.{brk}Thụy"', f'"Kiến{brk}, Thụy"', f'"Kiến;{brk}{brk}Thụy"'):
        with pytest.raises(Exception) as refused:
            parse_typed(query)
        assert getattr(refused.value, "code", None) == "spans_punctuation", query


def test_match_reads_a_wrapped_phrase_and_names_a_control(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path}/s.db"}
    lines = jsonl(article(1), article(2, title="Đồ Sơn đón khách"))
    for brk in BREAKS:
        done = runner.invoke(cli, ["match", "--query", f'"Kiến{brk}Thụy"'], input=lines, env=env)
        assert (done.exit_code, done.output) == (0, "TEST-00001\n"), (brk, done.output)
    for brk in CONTROLS:
        done = runner.invoke(cli, ["match", "--query", f'"Kiến{brk}Thụy"'], input=lines, env=env)
        assert done.exit_code == 2, (brk, done.output)
        assert f"control character (U+{ord(brk):04X})" in done.output, done.output
        assert "punctuation" not in done.output and "at character 6" in done.output


def test_topics_preview_reads_a_wrapped_phrase(sqlite_url: str) -> None:
    runner = CliRunner()
    env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": premigrated(sqlite_url)}
    for brk in ("\r\n", "\u2028"):
        done = runner.invoke(cli, ["topics", "preview", f'"Kiến{brk}Thụy"'], env=env)
        assert done.exit_code == 0 and "0 of " in done.output, done.output
    done = runner.invoke(cli, ["topics", "preview", '"Kiến\x85Thụy"'], env=env)
    assert done.exit_code == 2 and "control character (U+0085)" in done.output, done.output


def test_the_topics_file_and_a_save_take_it(
    tmp_path: Path,
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(
        '[[topic]]\nslug = "kien-thuy"\ntitle = "Kiến Thụy"\nquery = """\n"Kiến\n  Thụy" OR\n'
        '"Đồ\r\nSơn"\n"""\n',
        encoding="utf-8",
    )
    [spec] = load_topics_file(path)
    assert keys(spec.query) == keys('"Kiến Thụy" OR "Đồ Sơn"')
    _client, service = served
    for n, brk in enumerate(BREAKS):  # `topics add`, the API's and the admin's save
        ops.save_topic(service.db, TopicSpec(f"kt-{n}", "Kiến Thụy", f'"Kiến{brk}Thụy"'), "cli")
    for brk in CONTROLS:
        with pytest.raises(OperationError) as refused:
            ops.save_topic(service.db, TopicSpec("kt-x", "Kiến Thụy", f'"Kiến{brk}Thụy"'), "cli")
        assert refused.value.code == "control_character"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_admin_and_the_api_agree(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    language: str,
) -> None:
    client, _service = served
    login(client)
    headers = {"X-CSRF-Token": csrf_of(client)}
    bearer = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": language}
    for brk in BREAKS:
        query = f'"Kiến{brk}Thụy"'
        admin = client.post("/admin/preview", json={"query": query}, headers=headers).json()
        assert admin.get("count") == 1, (brk, admin)
        api = client.post("/api/topics/preview", json={"query": query}, headers=bearer)
        assert api.status_code == 200 and api.json()["count"] == 1, api.text
    saved = client.post(
        "/admin/topics/new",
        data={"csrf": csrf_of(client), "slug": "kien-thuy", "title": "Kiến Thụy",
              "query": '"Kiến\r\nThụy"', "enabled": "on", "version": "0-0"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    for brk in CONTROLS:  # refused everywhere as the character it is, never as punctuation
        query = f'"Kiến{brk}Thụy"'
        admin = client.post("/admin/preview", json={"query": query}, headers=headers).json()
        assert f"U+{ord(brk):04X}" in admin["error"] and admin["column"] == 6, admin
        api = client.post("/api/topics/preview", json={"query": query}, headers=bearer)
        assert api.status_code == 422 and api.json()["code"] == "control_character", api.text
