"""`feedsvc topics …`: add/remove/enable/import/export/preview/backfill through the CLI."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import article, jsonl

from feedsvc.cli import cli


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}",
        "FEEDSVC_CONFIG": "/dev/null",
        # the file a start would apply (absent until a test writes it): not the one in the
        # working directory, which `topics import` tells from other files
        "FEEDSVC_TOPICS__FILE": str(tmp_path / "topics.toml"),
    }
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, list(args), env=env, input=input)

    return invoke


def test_add_validates_and_list_shows(run) -> None:  # type: ignore[no-untyped-def]
    ok = run("topics", "add", "kien-thuy", "--title", "Kiến Thụy", "--query", '"Kiến Thụy"')
    assert ok.exit_code == 0 and "kien-thuy: created" in ok.output
    bad_query = run("topics", "add", "x", "--title", "X", "--query", "a OR b c")
    assert bad_query.exit_code == 2 and "parentheses" in bad_query.output
    bad_slug = run("topics", "add", "Kiến", "--title", "X", "--query", "a")
    assert bad_slug.exit_code == 2 and "slug" in bad_slug.output
    for slug in ("abc\n", "abc\r\n", "kien-thuy\n"):  # "$" took a final line break
        newline = run("topics", "add", slug, "--title", "X", "--query", "a")
        assert newline.exit_code == 2 and "slug must be" in newline.output, repr(slug)
    unknown_ref = run("topics", "add", "y", "--title", "Y", "--query", "@nope")
    assert unknown_ref.exit_code == 2
    listed = run("topics", "list")
    assert listed.output.splitlines() == ['kien-thuy\tenabled\tKiến Thụy\t"Kiến Thụy"']


def test_remove_refuses_when_referenced(run) -> None:  # type: ignore[no-untyped-def]
    run("topics", "add", "a", "--title", "A", "--query", "công")
    run("topics", "add", "b", "--title", "B", "--query", "@a an")
    refused = run("topics", "remove", "a")
    assert refused.exit_code == 1 and "used by b" in refused.output
    assert run("topics", "disable", "a").exit_code == 0
    assert "disabled" in run("topics", "list").output
    assert run("topics", "remove", "b").exit_code == 0
    assert run("topics", "remove", "b").exit_code == 1


def test_import_export_roundtrip(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shipped = Path(__file__).parent.parent / "config" / "topics.toml"
    first = run("topics", "import", str(shipped))
    assert first.exit_code == 0 and "0 disabled" in first.output
    exported = run("topics", "export").output
    again = tmp_path / "again.toml"
    again.write_text(exported, encoding="utf-8")
    second = run("topics", "import", str(again))
    assert "0 created, 0 updated" in second.output
    broken = tmp_path / "broken.toml"
    broken.write_text('[[topic]]\nslug = "x"\ntitle = "X"\nquery = "(a"\n[[topic]]\nslug = "x"\n')
    result = run("topics", "import", str(broken))
    assert result.exit_code == 2
    for problem in ("slug appears more than once", "title is required", "topic x: query"):
        assert problem in result.output


@pytest.mark.parametrize(
    ("query", "scan", "first"),
    [
        ('"công an"', "1", "at least 1 of all 3 published articles matches"),
        ('"công an"', "2", "at least 2 of all 3 published articles match"),
        ('"công an"', "3", "3 of all 3 published articles match"),
        ('"công an"', "2000", "3 of all 3 published articles match"),
        # a term without a key the search index holds (an Arabic-Indic digit): the newest
        # --scan only (it said "recent" for both, though the index searched the whole archive)
        ('"công an" OR ٣', "2", "2 of the 2 latest published articles match"),
        ('"công an" OR ٣', "2000", "3 of the 3 latest published articles match"),
    ],
)
def test_a_preview_says_what_it_covered(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, query: str, scan: str, first: str
) -> None:
    """More candidates than --scan: the count is a lower bound, and the first line said it as
    a fact ("2000 of 30000 recent articles match" over an archive where 3,000 did); the whole
    archive (through the search index) or only the latest articles, as it is."""
    from feedsvc.app import Service
    from feedsvc.config import load_config

    src = tmp_path / "a.jsonl"
    src.write_text(jsonl(*(article(i) for i in range(1, 4))), encoding="utf-8")
    assert run("import", str(src)).exit_code == 0
    url = f"sqlite:///{tmp_path / 'state.db'}"
    service = Service(
        load_config(None, {"database": {"url": url}, "topics": {"import_on_start": False}})
    )
    service.prepare()
    assert service.ingest_tick().new == 3
    preview = run("topics", "preview", query, "--scan", scan, "--samples", "0")
    assert preview.exit_code == 0
    assert preview.output.splitlines()[0] == f"{first} {query}", preview.output
    if scan == "1":  # one candidate checked: singular ("1 candidates checked" before)
        assert "search index: 1 candidate checked, count is a lower bound" in preview.output
    elif scan == "2000" and "OR" not in query:
        assert "search index: 3 candidates checked, count is exact" in preview.output


def test_preview_and_backfill(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from feedsvc.app import Service
    from feedsvc.config import load_config

    src = tmp_path / "a.jsonl"
    src.write_text(
        jsonl(article(1), article(2, title="Bóng đá", body="<p>Sân cỏ.</p>", summary=None)),
        encoding="utf-8",
    )
    assert run("import", str(src)).exit_code == 0
    service = Service(
        load_config(
            None,
            {
                "database": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
                "topics": {"import_on_start": False},
            },
        )
    )
    service.prepare()
    assert service.ingest_tick().new == 2
    preview = run("topics", "preview", '"công an"')
    assert preview.exit_code == 0 and "1 of all 2 published articles match" in preview.output
    assert "[[" in preview.output  # highlighted snippet
    assert run("topics", "preview", '"công an').exit_code == 2
    run("topics", "add", "bong-da", "--title", "Bóng đá", "--query", '"bóng đá"')
    filled = run("topics", "backfill", "bong-da", "--days", "0")
    assert filled.exit_code == 0 and "1 match, 1 of them in the feed (1 newly added)" in (
        filled.output
    )
    assert "(0 newly added)" in run("topics", "backfill", "bong-da", "--days", "0").output
    rendered = run("render", "bong-da", "--format", "json")
    assert [i["title"] for i in json.loads(rendered.output)["items"]] == ["Bóng đá"]


@pytest.mark.parametrize(
    "emptied",
    ["", "\n\n", "# feedsvc topics\n# (all moved elsewhere)\n", "\ufeff\n"],
    ids=["0 bytes", "blank lines", "comments only", "a BOM"],
)
def test_an_emptied_file_never_switches_every_topic_off(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, emptied: str
) -> None:
    """A topics file that holds no topics while topics it imported are on is refused, naming
    the file and the count, exit 2, nothing changed (it switched every feed and alert off)."""
    shipped = Path(__file__).parent.parent / "config" / "topics.toml"
    assert run("topics", "import", str(shipped)).exit_code == 0
    run("topics", "add", "own", "--title", "Own", "--query", "công")  # the API/CLI's own
    before = run("topics", "list").output
    live = before.count("\tenabled\t") - 1
    empty = tmp_path / "topics.toml"
    empty.write_text(emptied, encoding="utf-8")
    refused = run("topics", "import", str(empty))
    assert refused.exit_code == 2, refused.output
    assert f"1 problem(s) in {empty}:\n  it holds no topics: importing it would switch off " in (
        refused.output
    )
    assert f"all {live} topic(s) it imported before" in refused.output and live > 0
    assert run("topics", "list").output == before

    # switched off one by one, the file's topics no longer count: the empty file is fine then
    for line in before.splitlines():
        slug = line.split("\t", 1)[0]
        if slug != "own":
            assert run("topics", "disable", slug).exit_code == 0
    assert run("topics", "import", str(empty)).exit_code == 0
    assert "own\tenabled" in run("topics", "list").output


def test_an_empty_file_into_a_new_state_db_is_fine(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "topics.toml"
    empty.write_text("# topics go here\n", encoding="utf-8")
    done = run("topics", "import", str(empty))
    assert done.exit_code == 0 and "0 created, 0 updated, 0 unchanged, 0 disabled" in done.output


# -- removing a topic with subscriptions (tester F2: they went with it, "rt-1: removed") -------

APPRISE = "json://127.0.0.1:18099/secret-path-x"


def subscribe_three(run, slug: str) -> None:  # type: ignore[no-untyped-def]
    """Two Telegram chats and one Apprise URL on ``slug``."""
    for args in (
        ("1004", "--type", "private"),
        ("-1001009876543", "--type", "supergroup"),
        ("--channel", "apprise", "--to", APPRISE),
    ):
        done = run("subs", "add", *args, "--topic", slug)
        assert done.exit_code == 0, done.output


def test_remove_refuses_a_topic_with_subscriptions(run) -> None:  # type: ignore[no-untyped-def]
    run("topics", "add", "rt-1", "--title", "R1", "--query", "b")
    subscribe_three(run, "rt-1")
    before = run("subs", "list").output
    refused = run("topics", "remove", "rt-1")
    assert refused.exit_code == 1, refused.output
    said = refused.output
    assert "rt-1 has 3 subscriptions (1 Apprise, 2 Telegram): removing it would delete them" in (
        said
    )
    assert "topics disable rt-1` stops the topic and keeps them" in said
    assert "topics remove rt-1 --force` deletes them with it" in said
    assert APPRISE not in said and "secret-path" not in said
    assert "rt-1\tenabled" in run("topics", "list").output  # nothing deleted
    assert run("subs", "list").output == before


def test_remove_force_says_what_went_with_it(run) -> None:  # type: ignore[no-untyped-def]
    run("topics", "add", "rt-1", "--title", "R1", "--query", "b")
    run("topics", "add", "other", "--title", "O", "--query", "c")
    subscribe_three(run, "rt-1")
    assert run("subs", "add", "1005", "--type", "private", "--topic", "other").exit_code == 0
    done = run("topics", "remove", "rt-1", "--force")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "rt-1: removed, with its 3 subscriptions (1 Apprise, 2 Telegram)"
    ]
    left = run("subs", "list").output.splitlines()
    assert len(left) == 1 and left[0].endswith("topic other"), left  # the other topic's stays


@pytest.mark.parametrize("paused", [False, True])
def test_one_subscription_of_any_chat_state_counts(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, paused: bool
) -> None:
    """A paused or switched-off chat's subscription is deleted with the topic too: counted."""
    run("topics", "add", "z", "--title", "Z", "--query", "b")
    assert run("subs", "add", "--channel", "zalo", "--to", "8877", "--topic", "z").exit_code == 0
    if paused:
        with closing(sqlite3.connect(tmp_path / "state.db")) as conn, conn:
            conn.execute("UPDATE chats SET paused = 1, disabled_reason = 'blocked'")
    refused = run("topics", "remove", "z")
    assert refused.exit_code == 1 and "z has 1 subscription (1 Zalo):" in refused.output
    done = run("topics", "remove", "z", "--force")
    assert done.output == "z: removed, with its 1 subscription (1 Zalo)\n"


def test_remove_force_without_subscriptions_is_a_plain_remove(run) -> None:  # type: ignore[no-untyped-def]
    run("topics", "add", "lone", "--title", "L", "--query", "b")
    assert run("topics", "remove", "lone", "--force").output == "lone: removed\n"
    assert run("topics", "remove", "lone", "--force").exit_code == 1  # unknown: as before


# -- "is used by": real @references, chat queries too (tester F3) --------------------------------


def test_remove_reads_references_not_text(run) -> None:  # type: ignore[no-untyped-def]
    """`rt` was refused as "used by phr, ref": `@rt-1` and a phrase held the text `@rt`."""
    for slug, query in (("rt", "a"), ("rt-1", "b"), ("ref", "@rt-1"), ("phr", '"email @rt là"')):
        added = run("topics", "add", slug, "--title", slug.upper(), "--query", query)
        assert added.exit_code == 0, added.output
    done = run("topics", "remove", "rt")
    assert (done.exit_code, done.output) == (0, "rt: removed\n")
    refused = run("topics", "remove", "rt-1")
    assert refused.exit_code == 1
    assert refused.output == "feedsvc: rt-1 is used by ref; change those first\n"


@pytest.mark.parametrize("query", ["@rt-1 c", "(c OR @rt-1)", "c -@rt-1", "title:@rt-1"])
def test_remove_refuses_a_topic_a_chat_query_uses(run, query: str) -> None:  # type: ignore[no-untyped-def]
    """A chat's own query naming the topic stopped parsing once it was removed: the chat got
    nothing more, and only the service's log said so."""
    run("topics", "add", "rt-1", "--title", "R1", "--query", "b")
    added = run("subs", "add", "1003", "--type", "private", "--query", query)
    assert added.exit_code == 0, added.output
    sub_id = added.output.split("\t", 1)[0]
    for force in ((), ("--force",)):  # --force is about its subscriptions, not references
        refused = run("topics", "remove", "rt-1", *force)
        assert refused.exit_code == 1, refused.output
        assert refused.output == (
            "feedsvc: rt-1 is used by the own queries of telegram chat 1003 "
            f"(subscription {sub_id}); "
            "change those first (a chat's query: remove its subscription, or the chat changes "
            "its query)\n"
        )
    assert "rt-1\tenabled" in run("topics", "list").output
    assert run("subs", "remove", sub_id).exit_code == 0
    assert run("topics", "remove", "rt-1").output == "rt-1: removed\n"


def test_topics_and_chat_queries_are_named_together(run) -> None:  # type: ignore[no-untyped-def]
    run("topics", "add", "rt", "--title", "R", "--query", "b")
    run("topics", "add", "ref", "--title", "Ref", "--query", "@rt x")
    ids = []
    for chat in range(2001, 2013):  # 12 chats: 10 named, the rest counted
        added = run("subs", "add", str(chat), "--type", "private", "--query", f"@rt y{chat}")
        ids.append(added.output.split("\t", 1)[0])
    run("subs", "add", "2099", "--type", "private", "--query", '"@rt" z')  # a phrase: no use
    refused = run("topics", "remove", "rt")
    assert refused.exit_code == 1
    named = ", ".join(f"telegram chat {2001 + i} (subscription {ids[i]})" for i in range(10))
    assert refused.output.startswith(
        f"feedsvc: rt is used by ref and by the own queries of {named}, and 2 more; change "
    ), refused.output
    assert "2099" not in refused.output


# -- `topics add` on an existing topic changes what is given only (tester F2b) -------------------


def test_an_update_keeps_the_description_and_the_disabled_state(run) -> None:  # type: ignore[no-untyped-def]
    """The tester's steps: the description was wiped and the topic switched back on."""
    added = run("topics", "add", "up", "--title", "Up", "--query", "a",
                "--description", "Mô tả dài quan trọng")  # fmt: skip
    assert added.output == "up: created\n"
    assert run("topics", "disable", "up").exit_code == 0
    updated = run("topics", "add", "up", "--title", "Up 2", "--query", "b")
    assert (updated.exit_code, updated.output) == (0, "up: updated (title, query)\n")
    assert run("topics", "list").output == "up\tdisabled\tUp 2\tb\n"
    assert "description = 'Mô tả dài quan trọng'" in run("topics", "export").output


@pytest.mark.parametrize(
    ("args", "said", "listed", "description"),
    [
        ((), "up: unchanged", "disabled", "Mô tả"),
        (("--enabled",), "up: updated (enabled)", "enabled", "Mô tả"),
        (("--disabled",), "up: unchanged", "disabled", "Mô tả"),
        (("--description", ""), "up: updated (description)", "disabled", ""),
        (("--description", "Khác", "--enabled"), "up: updated (description, enabled)",
         "enabled", "Khác"),
    ],
)  # fmt: skip
def test_an_update_changes_what_is_given(  # type: ignore[no-untyped-def]
    run, args: tuple[str, ...], said: str, listed: str, description: str
) -> None:
    run("topics", "add", "up", "--title", "Up", "--query", "a", "--description", "Mô tả",
        "--disabled")  # fmt: skip
    done = run("topics", "add", "up", "--title", "Up", "--query", "a", *args)
    assert (done.exit_code, done.output) == (0, said + "\n")
    assert run("topics", "list").output == f"up\t{listed}\tUp\ta\n"
    assert f"description = '{description}'" in run("topics", "export").output


def test_a_create_keeps_its_defaults(run) -> None:  # type: ignore[no-untyped-def]
    assert run("topics", "add", "new", "--title", "N", "--query", "a").output == "new: created\n"
    assert run("topics", "add", "off", "--title", "O", "--query", "a", "--disabled").exit_code == 0
    assert run("topics", "list").output == "new\tenabled\tN\ta\noff\tdisabled\tO\ta\n"
    assert "description = ''" in run("topics", "export").output


@pytest.mark.parametrize("flags", [("--enabled", "--disabled"), ("--disabled", "--enabled")])
def test_enabled_and_disabled_together_are_a_usage_error(  # type: ignore[no-untyped-def]
    run, flags: tuple[str, ...]
) -> None:
    """Both flags were accepted silently, the last one winning; now neither is applied."""
    run("topics", "add", "up", "--title", "Up", "--query", "a")
    for slug in ("up", "new"):  # an update and a create alike
        both = run("topics", "add", slug, "--title", "Up 2", "--query", "b", *flags)
        assert both.exit_code == 2, both.output
        assert "Usage:" in both.output
        assert "--enabled" in both.output.splitlines()[-1]
        assert "--disabled" in both.output.splitlines()[-1]
    assert run("topics", "list").output == "up\tenabled\tUp\ta\n"
    again = run("topics", "add", "up", "--title", "Up", "--query", "a", "--disabled", "--disabled")
    assert (again.exit_code, again.output) == (0, "up: updated (enabled)\n")


def test_an_invalid_update_changes_nothing(run) -> None:  # type: ignore[no-untyped-def]
    run("topics", "add", "up", "--title", "Up", "--query", "a", "--description", "D",
        "--disabled")  # fmt: skip
    refused = run("topics", "add", "up", "--title", "Up", "--query", "a OR b c", "--enabled")
    assert refused.exit_code == 2
    refused = run("topics", "add", "up", "--title", "Up", "--query", "a",
                  "--description", "x\x07y")  # fmt: skip
    assert refused.exit_code == 2 and "control character" in refused.output
    assert run("topics", "list").output == "up\tdisabled\tUp\ta\n"


def test_add_refuses_a_query_that_breaks_a_chat_query(run) -> None:  # type: ignore[no-untyped-def]
    hundred = " OR ".join(f"w{i}" for i in range(100))
    for i in range(1, 11):
        run("topics", "add", f"h{i}", "--title", "H", "--query", hundred)
    run("topics", "add", "rt", "--title", "R", "--query", "b")
    added = run("subs", "add", "1003", "--type", "private", "--query", "@rt x")
    sub_id = added.output.split("\t", 1)[0]
    grown = " OR ".join(f"@h{i}" for i in range(1, 11))
    refused = run("topics", "add", "rt", "--title", "R", "--query", grown)
    assert refused.exit_code == 2
    assert refused.output == (
        "feedsvc: the own queries of telegram chat 1003 "
        f"(subscription {sub_id}) use @rt and would no "
        "longer parse with this query\n"
    )
    assert "rt\tenabled\tR\tb" in run("topics", "list").output


@pytest.mark.parametrize(
    ("command", "query", "caret_at"),
    [
        (("topics", "add", "t2", "--title", "T", "--query"), "a OR b c", 7),
        (("topics", "add", "t2", "--title", "T", "--query"), '"an ninh', 0),
        # stored trimmed, shown as typed: the caret under the "(" typed, as the API's position
        (("topics", "add", "t2", "--title", "T", "--query"), "  x (y", 4),
        (("subs", "add", "--channel", "apprise", "--to", "json://127.0.0.1:9/x", "--query"),
         "công an OR", 8),
        (("subs", "add", "42", "--type", "private", "--query"), "(a", 0),
    ],
)  # fmt: skip
def test_an_invalid_query_is_shown_with_its_caret_like_match_does(
    run, command: tuple[str, ...], query: str, caret_at: int
) -> None:  # type: ignore[no-untyped-def]
    """A tester's: `topics add` said `feedsvc: at character 8: …`, without the `invalid
    query:` every other command says, nor the query and the caret under the character."""
    result = run(*command, query)
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("feedsvc: invalid query: at character "), lines
    assert lines[1] == f"  {query}" and lines[2] == "  " + " " * caret_at + "^", lines


def test_import_without_a_file_where_there_is_none_says_to_give_one(clean_cli: Path) -> None:
    """`topics import` with no FILE, `topics.file` unset and no config/topics.toml here (a first
    try outside the repository) said "1 problem(s) in config/topics.toml: file not found",
    naming neither the default it read nor the FILE it takes. Exit 2, nothing created."""
    result = CliRunner().invoke(cli, ["topics", "import"])
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    said = "feedsvc: no topics file to import: without FILE, `topics import` reads topics.file, "
    assert line.startswith(said + "unset, so its default config/topics.toml"), line
    assert str(clean_cli / "config" / "topics.toml") in line, line
    assert "topics import FILE`), or set topics.file" in line, line
    assert list(clean_cli.iterdir()) == []  # no state DB made for nothing
    # a topics.file that is set and missing stays the file's problem (a typo, an unmounted
    # volume), and a FILE given is read
    given = CliRunner().invoke(cli, ["topics", "import", "mine.toml"])
    assert given.exit_code == 2 and "no topics file to import" not in given.output


def test_list_of_no_topic_says_so_on_stderr(clean_cli: Path) -> None:
    """`topics list` on a state DB without topics printed nothing at all, exit 0: an empty DB
    and the wrong one (another `database.url`, another directory's `var/feedsvc.db`) looked
    alike. It says which state DB holds none and how to add one; stdout stays empty."""
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = CliRunner().invoke(cli, ["topics", "list"])
    assert result.exit_code == 0 and result.stdout == "", result.output
    # the file itself (db.urls.shown_db): sqlite:///var/feedsvc.db read as /var/feedsvc.db
    db = (clean_cli / "var" / "feedsvc.db").resolve()
    assert result.stderr.startswith(
        f"feedsvc: no topic is stored in the state DB {db}: add one with "
    ), result.stderr
    assert "topics add SLUG --title T --query Q`" in result.stderr
    assert "topics import FILE`" in result.stderr
    assert (
        CliRunner().invoke(cli, ["topics", "add", "a", "--title", "A", "--query", "a"]).exit_code
        == 0
    )
    listed = CliRunner().invoke(cli, ["topics", "list"])
    assert listed.stdout.startswith("a\tenabled") and listed.stderr == "", listed.output


def test_export_header_names_the_plain_command(  # type: ignore[no-untyped-def]
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exported file is meant to be shared: its first line named the exporting CLI's own
    path (`/home/me/.venv/bin/feedsvc topics import`, a newcomer's), and its `--config`."""
    monkeypatch.setattr("sys.argv", ["/home/me/app/.venv/bin/feedsvc", "topics", "export"])
    monkeypatch.setenv("PATH", str(tmp_path))  # no `feedsvc` on it: the path would be named
    run("topics", "add", "a", "--title", "A", "--query", "công")
    first = run("topics", "export", "--config", "/dev/null").output.splitlines()[0]
    assert first == "# feedsvc topics — exported; edit and re-import with `feedsvc topics import`."
