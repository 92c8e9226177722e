"""The topics file (feedsvc.topics_file) applies the admin's text rule (feedsvc.fieldtext): a
control character in a title, description or query is a problem naming the topic and the field;
a title's whitespace runs collapse; ``topics export`` stays valid TOML whatever a stored topic
holds."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from feedsvc.store.records import TopicSpec
from feedsvc.topics_file import (
    SLUG_RULE,
    TopicsFileError,
    dump_topics,
    load_topics_file,
    parse_topics,
)


def _topic(**fields: str) -> dict[str, object]:
    return {"slug": "kien-thuy", "title": "Kiến Thụy", "query": '"Kiến Thụy"'} | fields


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9b"])
@pytest.mark.parametrize("field", ["title", "description", "query"])
def test_a_control_character_is_a_problem_naming_topic_and_field(field: str, char: str) -> None:
    data = {"topic": [_topic(slug="ok"), _topic(**{field: f"Kiến{char}Thụy"})]}
    with pytest.raises(TopicsFileError) as caught:
        parse_topics(data, "topics.toml")
    refused = f"{field} contains a control character (U+{ord(char):04X})"
    if field == "query":  # placed on it, as `topics add` places it (test_query_refusal_place)
        refused = f"at character 5: {refused} (hint: remove it)"
    assert caught.value.problems == [f"topic #2 (kien-thuy): {refused}"]


@pytest.mark.parametrize("slug", ["abc\n", "abc\r\n", "a\n", "kien-thuy\n", "abc\n\n", "\nabc"])
def test_a_slug_with_a_line_break_is_refused(slug: str) -> None:
    """``SLUG.match`` with ``$`` took "abc\\n" (``$`` matches before a final line break)."""
    with pytest.raises(TopicsFileError) as caught:
        parse_topics({"topic": [_topic(slug=slug)]}, "topics.toml")
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in slug)  # on one line
    assert caught.value.problems == [
        f"topic #1 ({shown}): slug must be {SLUG_RULE} (e.g. kien-thuy), at most 100 characters"
    ]


@pytest.mark.parametrize("name", ["abcd_bot\n", "abcd_bot\r\n", "\nabcd_bot"])
def test_a_bot_username_with_a_line_break_is_refused(name: str) -> None:
    """The other whole-string pattern of the settings (pydantic's ``pattern``: Rust regex,
    whose ``$`` is the end of the text) refuses it too."""
    from pydantic import ValidationError

    from feedsvc.config.models import Settings

    with pytest.raises(ValidationError, match="username"):
        Settings(telegram={"username": name})


def test_every_problem_of_the_file_is_reported_at_once() -> None:
    data = {"topic": [_topic(title="A\x07"), _topic(slug="b", description="d\x1b", query="q\x85")]}
    with pytest.raises(TopicsFileError) as caught:
        parse_topics(data)
    assert len(caught.value.problems) == 3


@pytest.mark.parametrize(
    ("title", "kept"),
    [
        ("Kiến\nThụy", "Kiến Thụy"),
        (" Kiến\t\tThụy ", "Kiến Thụy"),
        ("Kiến\xa0\r\nThụy", "Kiến Thụy"),
    ],
)
def test_a_title_with_line_breaks_reads_as_one_line(title: str, kept: str) -> None:
    [spec] = parse_topics({"topic": [_topic(title=title, description="dòng 1\r\ndòng 2")]})
    assert spec.title == kept and spec.description == "dòng 1\ndòng 2"


def test_a_multiline_toml_title_is_read_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text('[[topic]]\nslug = "kt"\ntitle = """Kiến\nThụy"""\nquery = "a"\n',
                    encoding="utf-8")  # fmt: skip
    assert load_topics_file(path)[0].title == "Kiến Thụy"
    path.write_text('[[topic]]\nslug = "kt"\ntitle = "Kiến\\u0007Thụy"\nquery = "a"\n',
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(TopicsFileError) as caught:
        load_topics_file(path)
    assert caught.value.problems == ["topic #1 (kt): title contains a control character (U+0007)"]


def test_export_escapes_what_toml_cannot_hold_raw() -> None:
    """A topic stored before control characters were refused exports as valid TOML (it was a
    raw control character, which no TOML reader takes), and importing it names the character."""
    specs = [TopicSpec("a", 'T "q" \\ \x07\x1f\x7f', "x\r\ny", "l1\nl2\tt's"),
             TopicSpec("b", "plain", "q")]  # fmt: skip
    text = dump_topics(specs)
    data = tomllib.loads(text)
    got = [(t["title"], t["query"], t["description"]) for t in data["topic"]]
    assert got == [(s.title, s.query, s.description) for s in specs]
    with pytest.raises(TopicsFileError) as caught:
        parse_topics(data)
    assert caught.value.problems == ["topic #1 (a): title contains a control character (U+0007)"]


#: A value of the wrong TOML type, and how the problem names it (issue #17 §3: ``slug = 5``
#: was "slug is required (a non-empty string)", sending the operator after a missing line).
WRONG_TYPES = {
    "5": "an integer (5)",
    "-1.5": "a number (-1.5)",
    "true": "a boolean (true)",
    '["a"]': "an array",
    "{ x = 1 }": "a table",
    "[]": "an array",
    "2024-01-01": "a date (2024-01-01)",
    "2024-01-01T10:00:00": "a date-time (2024-01-01T10:00:00)",
    "10:00:00": "a time (10:00:00)",
}


def _file(tmp_path: Path, field: str, value: str) -> Path:
    keys = {"slug": '"kt"', "title": '"Kiến Thụy"', "query": '"Kiến Thụy"'} | {field: value}
    path = tmp_path / "topics.toml"
    path.write_text("[[topic]]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()), "utf-8")
    return path


@pytest.mark.parametrize("value", sorted(WRONG_TYPES))
@pytest.mark.parametrize("field", ["slug", "title", "query", "description"])
def test_a_string_key_of_another_type_is_named_as_that_type(
    tmp_path: Path, field: str, value: str
) -> None:
    with pytest.raises(TopicsFileError) as caught:
        load_topics_file(_file(tmp_path, field, value))
    where = "topic #1" if field == "slug" else "topic #1 (kt)"
    assert caught.value.problems == [
        f"{where}: {field} must be a string (in quotes), not {WRONG_TYPES[value]}"
    ]


@pytest.mark.parametrize(
    ("value", "kind"),
    [('"yes"', "a string ('yes')"), ('"false"', "a string ('false')"), ("1", "an integer (1)"),
     ("0", "an integer (0)"), ("[true]", "an array"), ("{ on = true }", "a table")],
)  # fmt: skip
def test_enabled_of_another_type_is_named_as_that_type(
    tmp_path: Path, value: str, kind: str
) -> None:
    with pytest.raises(TopicsFileError) as caught:
        load_topics_file(_file(tmp_path, "enabled", value))
    assert caught.value.problems == [
        f"topic #1 (kt): enabled must be true or false (no quotes), not {kind}"
    ]


@pytest.mark.parametrize(("field", "value"), [("slug", '""'), ("title", '"  "'), ("query", '""')])
def test_an_empty_required_string_is_called_empty(tmp_path: Path, field: str, value: str) -> None:
    with pytest.raises(TopicsFileError) as caught:
        load_topics_file(_file(tmp_path, field, value))
    where = "topic #1 ()" if field == "slug" else "topic #1 (kt)"
    assert caught.value.problems == [f"{where}: {field} is empty (a non-empty string is required)"]


def test_a_wrong_title_does_not_break_another_topics_reference(tmp_path: Path) -> None:
    """A topic whose title has the wrong type is still there for ``@slug`` references: the
    file has one problem, not a second, false "unknown topic" in the topic that uses it."""
    path = tmp_path / "topics.toml"
    path.write_text('[[topic]]\nslug = "a"\ntitle = 1\nquery = "x"\n'
                    '[[topic]]\nslug = "b"\ntitle = "B"\nquery = "@a y"\n', "utf-8")  # fmt: skip
    with pytest.raises(TopicsFileError) as caught:
        load_topics_file(path)
    assert caught.value.problems == [
        "topic #1 (a): title must be a string (in quotes), not an integer (1)"
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [("topic = 5\n", "an integer (5)"), ('[topic]\nslug = "a"\n', "a table")],
)
def test_topic_of_another_type_is_named(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(TopicsFileError) as caught:
        load_topics_file(path)
    assert caught.value.problems == [f"'topic' must be an array of tables ([[topic]]), not {kind}"]


def test_an_entry_of_another_type_is_named(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text('topic = ["a", 1]\n', "utf-8")
    with pytest.raises(TopicsFileError) as caught:
        load_topics_file(path)
    assert caught.value.problems == [
        "topic #1: expected a table [[topic]], not a string ('a')",
        "topic #2: expected a table [[topic]], not an integer (1)",
    ]


def test_an_unknown_key_is_told_the_key_it_stands_for() -> None:
    """``titel`` was "unknown key 'titel' (allowed: …)" where the config file's unknown key is
    told "did you mean …?": the one guess (``feedsvc.meant_names``) for both."""
    data = tomllib.loads(
        'topik = 1\n[[topic]]\nslug = "kt"\ntitel = "Kiến Thụy"\nquery = "x"\ncolour = "red"\n'
    )
    with pytest.raises(TopicsFileError) as caught:
        parse_topics(data, "topics.toml")
    allowed = "(allowed: description, enabled, query, slug, title)"
    assert caught.value.problems == [
        "unknown top-level key 'topik': did you mean 'topic'? (expected [[topic]] tables)",
        f"topic #1 (kt): unknown key 'titel': did you mean 'title'? {allowed}",
        f"topic #1 (kt): unknown key 'colour' {allowed}",
        "topic #1 (kt): title is required (a non-empty string)",
    ]


def test_problems_are_listed_in_the_files_order() -> None:
    """Every problem at its place in the file: by topic, and within one by the line of its
    key (they came unknown keys first, then slug, title, query, description, whatever the
    file's order, and every query's after every topic, every repeated slug's after those)."""
    text = """\
[[topic]]
query = "("
slug = "a"
zz = 1
title = 5

[[topic]]
enabled = "yes"
title = "B"
slug = "Bad Slug"
query = "b"

[[topic]]
slug = "a"
title = "A again"
query = "a"

[extra]
x = 1
"""
    with pytest.raises(TopicsFileError) as caught:
        parse_topics(tomllib.loads(text), "topics.toml")
    said = [p.split(": ", 2)[1] if p.startswith("topic #") else p for p in caught.value.problems]
    assert [s.split(" ")[0] for s in said] == [
        "topic",  # topic #1's query (its first line), from the parser: "topic a: query: …"
        "unknown",  # zz
        "title",  # title = 5
        "enabled",  # topic #2
        "slug",  # Bad Slug
        "topic",  # topic #3: "topic a: slug appears more than once"
        "unknown",  # [extra], after the topics
    ], caught.value.problems
    assert caught.value.problems[0].startswith("topic a: query: ")
    assert caught.value.problems[5] == "topic a: slug appears more than once"
