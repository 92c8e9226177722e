"""Deleting a topic of the topics file says, in one line, that it stays deleted at every start
while its entry in the file is unchanged and how to bring it back — `feedsvc topics remove`
and the admin's delete, in the words of the start's own line (``topics_file.stays_deleted`` and
``topics_file.bring_back``, :func:`feedsvc.topics_file.stays_deleted`).

Only the next start's log line said so (migration 0020 keeps such a topic deleted): the
command printed "pl: removed" alone, the admin "Topic pl deleted.".

SQLite only (``backend_cases.on_sqlite``, every test): the point is what each way of deleting
says, in the catalogue's words; the deletion and the start that keeps such a topic deleted are
the store's and the topics file's statements, run on PostgreSQL by ``test_topics_deleted.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backend_cases import on_sqlite
from click.testing import CliRunner
from migrated import premigrated
from starlette.testclient import TestClient
from test_admin import button_fields
from topicsworld import restart, start

from feedsvc.app import Roles, Service, create_app
from feedsvc.catalogue import ENGLISH, Translator
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.operations.topics import delete_topic as op_delete
from feedsvc.operations.topics import save_topic as op_save
from feedsvc.store.records import TopicSpec

TOKEN = "adm-remove-words-0123456789"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
BRING_BACK = "change its entry in the file or run `"


pytestmark = on_sqlite


@pytest.fixture
def started(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, Path]:
    return start(db, tmp_path, monkeypatch)


def url(db: Database) -> str:
    return str(db.engine.url.render_as_string(hide_password=False))


def remove(db: Database, slug: str) -> list[str]:
    done = CliRunner().invoke(cli, ["topics", "remove", slug],
                              env={"FEEDSVC_DATABASE__URL": url(db)})  # fmt: skip
    assert done.exit_code == 0, done.output
    return done.output.splitlines()


def test_removing_a_file_topic_says_it_stays_deleted(started: tuple[Database, Path]) -> None:
    db, path = started
    lines = remove(db, "pl")
    assert len(lines) == 2, lines
    assert lines[0] == "pl: removed"
    said = lines[1]
    assert said.startswith(
        f"Topic pl is listed in the topics file {path}: it stays deleted at every start while "
        f"its entry there is unchanged; to bring it back, {BRING_BACK}"
    ), said
    assert " topics import` (it applies the whole file: " in said, said
    from feedsvc.cli.common import command_name
    from feedsvc.topics_file import stays_deleted  # new: the old-code run imports this module

    assert said == stays_deleted(ENGLISH, "pl", path, command_name())


def test_the_start_says_it_in_the_same_words(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture
) -> None:
    db, _ = started
    said = remove(db, "an")[1]
    how = said.partition("to bring it back, ")[2].removesuffix(".")
    logged = "\n".join(m for _, m in restart(db, caplog))
    assert "kept deleted" in logged
    # the command's hint names the running feedsvc; the log's says `feedsvc`
    assert how.replace(how[len(BRING_BACK) : how.index(" topics import`")], "feedsvc") in logged


def test_a_db_topic_removed_says_nothing_more(started: tuple[Database, Path]) -> None:
    db, _ = started
    op_save(db, TopicSpec("own", "Own", "công"), "cli")
    assert remove(db, "own") == ["own: removed"]


def test_the_operation_tells_which_it_was(started: tuple[Database, Path]) -> None:
    db, _ = started
    op_save(db, TopicSpec("own", "Own", "công"), "cli")
    assert op_delete(db, "kt").kept_deleted is True
    assert op_delete(db, "own").kept_deleted is False


@pytest.fixture(params=["vi", "en"])
def admin(
    request: pytest.FixtureRequest, started: tuple[Database, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, str, Path]]:
    db, path = started
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(None, {"database": {"url": premigrated(url(db))},
                                  "topics": {"import_on_start": False},
                                  "admin": {"language": request.param}})  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    try:
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            yield client, request.param, path
    finally:
        service.close()


def csrf(client: TestClient, path: str) -> str:
    found = CSRF_FIELD.search(client.get(path).text)
    assert found
    return found.group(1)


def flash(client: TestClient, slug: str) -> Any:
    client.post("/admin/login", data={"token": TOKEN, "csrf": csrf(client, "/admin/login")})
    done = client.post(f"/admin/topics/{slug}/delete", follow_redirects=False,
                       data=button_fields(client, slug, "delete"))  # fmt: skip
    assert done.status_code == 303, done.text
    page = client.get("/admin/topics").text
    found = re.search(r'class="flash[^"]*"[^>]*>(.*?)<', page, re.S)
    assert found, page
    return found.group(1).strip()


def test_the_admin_says_it_in_its_language(admin: tuple[TestClient, str, Path]) -> None:
    client, language, path = admin
    t = Translator(language)
    said = flash(client, "pl")
    from feedsvc.topics_file import stays_deleted

    expected = f"{t('deleted', slug='pl')} {stays_deleted(t, 'pl', path)}"
    assert said == expected.replace("'", "&#39;").replace('"', "&#34;"), said


def test_the_hint_says_what_topics_import_also_does(started: tuple[Database, Path]) -> None:
    """``topics import`` applies the whole file: following the hint to bring back one topic also
    re-created every other deleted file topic and replaced the state DB's edits of the file's
    topics (named only afterwards). The hint says so before it is followed."""
    db, _ = started
    said = remove(db, "pl")[1]
    assert "every deleted topic of the file comes back" in said, said
    assert "the state DB's edits of its topics are replaced" in said, said
    vi = Translator("vi")("topics_file.bring_back", command="feedsvc")
    assert "mọi chủ đề của tệp đã xoá đều được tạo lại" in vi


# -- the file named as a start reads it (F7) ---------------------------------------------------

NOT_HERE = (
    " (no such file from here: a relative topics.file is read from the directory the service "
    "starts in)"
)


@pytest.fixture
def relative(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A start from ``tmp_path/svc`` with ``topics.file`` set relative, ``config/topics.toml``
    (the default's value); the process stays in that directory."""
    from topicsworld import AN, KT, PL

    from feedsvc.topics_at_start import import_at_start

    service_dir = tmp_path / "svc"
    (service_dir / "config").mkdir(parents=True)
    (service_dir / "config" / "topics.toml").write_text(KT + PL + AN, encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(service_dir)
    monkeypatch.setenv("FEEDSVC_TOPICS__FILE", "config/topics.toml")
    import_at_start(db, load_config(Path("/dev/null")).topics)
    return service_dir


def test_the_cli_names_the_file_absolute(db: Database, relative: Path) -> None:
    """From the service's directory: the file by its absolute path, the one ``topics import``
    run here reads (the setting ``config/topics.toml`` was printed as it was)."""
    said = remove(db, "pl")[1]
    assert f"in the topics file {relative / 'config' / 'topics.toml'}: it stays" in said, said


def test_from_another_directory_the_cli_says_the_file_is_not_there(
    db: Database, relative: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run elsewhere, the relative setting names no file: said so, with where it looked (the
    command's ``topics import`` would fail with "file not found")."""
    elsewhere = relative.parent / "elsewhere"
    monkeypatch.chdir(elsewhere)
    said = remove(db, "pl")[1]
    assert f"in the topics file {elsewhere / 'config' / 'topics.toml'}{NOT_HERE}: it" in said


def test_a_file_removed_since_is_said_to_be_gone(started: tuple[Database, Path]) -> None:
    db, path = started
    path.unlink()
    said = remove(db, "pl")[1]
    assert f"in the topics file {path} (no such file now): it stays deleted" in said, said


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_admin_names_the_file_the_service_reads(
    db: Database, relative: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(None, {"database": {"url": premigrated(url(db))},
                                  "topics": {"import_on_start": False},
                                  "admin": {"language": language}})  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    try:
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            said = flash(client, "pl")
    finally:
        service.close()
    assert f" {relative / 'config' / 'topics.toml'}: " in said, said


# -- the API's DELETE says it too (additive fields) --------------------------------------------


@pytest.fixture
def api(started: tuple[Database, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    db, _ = started
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(None, {"database": {"url": premigrated(url(db))},
                                  "topics": {"import_on_start": False}})  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    try:
        with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
            yield client
    finally:
        service.close()


def api_delete(client: TestClient, slug: str, language: str) -> Any:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": language}
    done = client.delete(f"/api/topics/{slug}", headers=headers)
    assert done.status_code == 200, done.text
    return done.json()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_api_says_it_in_the_callers_language(
    api: TestClient, started: tuple[Database, Path], language: str
) -> None:
    """DELETE /api/topics/SLUG answered the topic alone: nothing said it comes back never."""
    _, path = started
    body = api_delete(api, "pl", language)
    from feedsvc.topics_file import stays_deleted

    assert body["kept_deleted"] is True
    assert body["kept_deleted_message"] == stays_deleted(Translator(language), "pl", path)
    # the topic as before: every field of TopicOut, unchanged
    assert (body["slug"], body["title"], body["query"]) == ("pl", "Pháp luật", '"tòa án"')
    assert set(body) >= {"description", "enabled", "origin", "updated_at", "feeds", "stats"}


def test_the_api_on_a_db_topic_says_nothing_more(
    api: TestClient, started: tuple[Database, Path]
) -> None:
    db, _ = started
    op_save(db, TopicSpec("own", "Own", "công"), "cli")
    body = api_delete(api, "own", "en")
    assert (body["kept_deleted"], body["kept_deleted_message"]) == (False, None)
    assert body["slug"] == "own"


def test_the_openapi_document_lists_the_added_fields(api: TestClient) -> None:
    spec = api.get("/api/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    answer = spec["paths"]["/api/topics/{slug}"]["delete"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    deleted = spec["components"]["schemas"][ref]["properties"]
    topic = spec["components"]["schemas"]["TopicOut"]["properties"]
    assert set(deleted) - set(topic) == {
        "kept_deleted",
        "kept_deleted_message",
        "subscriptions_removed",  # the subscriptions deleted with it (tests/test_api.py)
        "subscriptions_removed_by_channel",
    }
    assert all(deleted[name] == topic[name] for name in topic)  # additive: the rest unchanged
