"""``feedsvc match`` driven through Click's test runner."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli
from feedsvc.cli.match import match

ROOT = Path(__file__).resolve().parents[1]


def article(key: str, title: str, body: str = "", **extra: Any) -> str:
    record = {
        "source_key": key,
        "url": f"https://example.vn/{key}",
        "title": title,
        "body": body,
        "published_at": "2025-03-01T08:00:00",
        **extra,
    }
    return json.dumps(record, ensure_ascii=False)


LINES = [
    article("A1", "Công an huyện Kiến Thuỵ ra quân", "<p>Bảo đảm an ninh dịp Tết.</p>"),
    article("A2", "Du lịch Vạn Ninh", "<p>Ông Công Anh kể chuyện</p>"),
    "{not json",
    article("A3", "Tai nạn giao thông ở Núi Đối", "<p>Xe tải va chạm xe máy</p>"),
    json.dumps({"source_key": "A4", "title": "thiếu url"}),
    "",
    article("A5", "Tòa án xét xử", "<p>Bị cáo nhận tội</p>", tags=["Pháp luật"]),
]
STDIN = "\n".join(LINES) + "\n"


def run(*args: str, stdin: str = STDIN) -> Any:
    return CliRunner().invoke(match, list(args), input=stdin)


def test_query_prints_matching_keys_and_reports_bad_lines() -> None:
    result = run("--query", '"an ninh" OR "công an"')
    assert result.exit_code == 1  # lines were skipped: the answer is not the whole input's
    assert result.stdout.splitlines() == ["A1"]
    assert "line 3" in result.stderr and "invalid JSON" in result.stderr
    assert "line 5" in result.stderr and "url" in result.stderr


def test_explain_shows_terms_fields_and_snippets() -> None:
    result = run("--query", '"an ninh" OR "công an"', "--explain")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "A1"
    assert '  "công an" in title: [[Công an]] huyện Kiến Thuỵ ra quân' in lines
    assert '  "an ninh" in body: Bảo đảm [[an ninh]] dịp Tết.' in lines


def test_folded_query() -> None:
    result = run("--query", '~"kien thuy"')
    assert result.stdout.splitlines() == ["A1"]


def test_invalid_query_exits_2_with_position() -> None:
    result = run("--query", "a b OR c")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "invalid query: at character 5: AND and OR are mixed" in result.stderr
    assert "hint: add parentheses" in result.stderr
    assert "      ^" in result.stderr  # caret under the OR


@pytest.mark.parametrize("query", ["@kien-thuy", "an ninh @kien-thuy", '(@a OR "b") ~@c'])
def test_a_reference_says_match_reads_no_topics(query: str) -> None:
    """``match --query`` reads no state DB: "check the slug" sent an operator whose topic
    exists looking for a typo (a newcomer's report)."""
    result = run("--query", query)
    assert result.exit_code == 2 and result.stdout == ""
    assert "unknown topic @" in result.stderr
    assert "check the slug" not in result.stderr
    assert "hint: match --query reads no topics: write out the query of @" in result.stderr
    assert "--topics FILE instead of --query" in result.stderr  # tests/test_cli_match_hints.py


def test_exactly_one_mode_is_required() -> None:
    assert run().exit_code == 2
    both = run("--query", "a", "--topics", str(ROOT / "config" / "topics.toml"))
    assert both.exit_code == 2
    assert "exactly one" in both.stderr


def test_topics_file(tmp_path: Path) -> None:
    result = run("--topics", str(ROOT / "config" / "topics.toml"))
    assert result.exit_code == 1
    rows = dict(line.split("\t") for line in result.stdout.splitlines())
    assert rows["A1"].split(",") == ["kien-thuy", "an-ninh", "kien-thuy-an-ninh"]
    assert rows["A3"].split(",") == ["kien-thuy", "giao-thong"]
    assert rows["A5"] == "phap-luat"
    assert "A2" not in rows


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "it holds no topics: nothing to match against"),
        ("# topics go here\n", "it holds no topics: nothing to match against"),
        (
            '[[topic]]\nslug = "a"\ntitle = "A"\nquery = "công"\nenabled = false\n'
            + '[[topic]]\nslug = "b"\ntitle = "B"\nquery = "an"\nenabled = false\n',
            "it holds no enabled topic (all 2 are off): nothing to match against",
        ),
    ],
    ids=["0 bytes", "comments only", "all off"],
)
def test_a_topics_file_with_nothing_to_match_is_refused(
    tmp_path: Path, text: str, words: str
) -> None:
    """It matched nothing and exited 0, which reads as "no article matches": the wrong file
    (an emptied one, every topic off) is exit 2 naming it, before any article is read."""
    path = tmp_path / "topics.toml"
    path.write_text(text, encoding="utf-8")
    result = run("--topics", str(path))
    assert result.exit_code == 2, result.output
    assert f"1 problem(s) in {path}:\n  {words}" in result.stderr
    assert result.stdout == ""


def test_topics_file_disabled_topics_are_references_only(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(
        """
[[topic]]
slug = "base"
title = "Base"
query = '"Núi Đối"'
enabled = false

[[topic]]
slug = "uses-base"
title = "Uses"
query = "@base tai"
""",
        encoding="utf-8",
    )
    result = run("--topics", str(path))
    assert result.exit_code == 1  # the bad input lines
    assert result.stdout.splitlines() == ["A3\tuses-base"]


T = '[[topic]]\nslug = "{slug}"\ntitle = "T"\nquery = \'{query}\'\n'
#: Files `topics import` refuses, and a problem each must name (issue #17 §3).
INVALID_FILES = {
    "misspelt table": ('[[topik]]\nslug = "a"\ntitle = "A"\nquery = "x"\n', ["'topik'"]),
    "one broken topic of two": (
        T.format(slug="ok", query="x") + T.format(slug="broken", query="a OR b c"),
        ["topic broken: query: at character 8: OR and an implied AND are mixed"],
    ),
    "a reference cycle": (
        T.format(slug="a", query="@b") + T.format(slug="b", query="@a"),
        ["topic a: query:", "topic b: query:", "circular reference"],
    ),
    "an unclosed parenthesis": (
        T.format(slug="a", query="(x"),
        ["topic a: query: at character 1: unclosed"],
    ),
    "enabled as a string": (
        T.format(slug="a", query="x") + 'enabled = "no"\n',
        ["topic #1 (a): enabled must be true or false"],
    ),
    "a bad slug and an unknown key": (
        T.format(slug="Bad Slug", query="x") + "colour = 1\n",
        ["topic #1 (Bad Slug): slug must be lowercase", "unknown key 'colour'"],
    ),
    "several structural problems": (
        '[[topic]]\nslug = "a"\n[[topic]]\ntitle = "B"\nquery = 3\n[[topic]]\nslug = "a"\n'
        'title = "A"\nquery = "x"\n',
        [
            "topic #1 (a): title is required",
            "topic #2: slug is required",
            "topic #2: query must be a string (in quotes), not an integer (3)",
            "topic a: slug appears more than once",
        ],
    ),
    "a duplicate slug": (T.format(slug="a", query="x") * 2, ["slug appears more than once"]),
    "not TOML": ("[[topic]\nslug=", ["invalid TOML", "line 1"]),
    "not UTF-8": ('[[topic]]\nslug = "\xff"\n', ["not UTF-8"]),
}


@pytest.mark.parametrize("name", sorted(INVALID_FILES))
def test_an_invalid_topics_file_is_refused_whole_before_matching(tmp_path: Path, name: str) -> None:
    """`match --topics` reads the file with `topics import`'s loader: every problem (file,
    topic, key) on stderr, exit 2, and no article matched: it used to skip broken topics (exit
    0 when all were broken), count ``enabled = "no"`` as enabled, accept a bad slug, an unknown
    key or a misspelt ``[[topik]]`` (0 topics), and stop at the first structural error."""
    text, wanted = INVALID_FILES[name]
    path = tmp_path / "bad.toml"
    path.write_bytes(text.encode("latin-1") if name == "not UTF-8" else text.encode())
    result = run("--topics", str(path), stdin=GOOD_ONLY)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"problem(s) in {path}:" in result.stderr
    for part in wanted:
        assert part in result.stderr, result.stderr
    # the same problems, worded the same, as `topics import` (which writes nothing)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        for key in [k for k in os.environ if k.startswith("FEEDSVC_")]:
            mp.delenv(key)
        imported = CliRunner().invoke(cli, ["topics", "import", str(path)])
    assert imported.exit_code == 2
    assert imported.stderr == result.stderr
    assert not (tmp_path / "var").exists()


def test_topics_file_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[topic]\nslug=", encoding="utf-8")
    result = run("--topics", str(path))
    assert result.exit_code == 2
    assert "bad.toml" in result.stderr


GOOD_ONLY = "\n".join([LINES[0], LINES[1], LINES[3], LINES[6]])


def test_exit_0_only_when_no_line_was_skipped(tmp_path: Path) -> None:
    assert run("--query", "tai", stdin=GOOD_ONLY).exit_code == 0
    assert run("--topics", str(ROOT / "config" / "topics.toml"), stdin=GOOD_ONLY).exit_code == 0
    result = run("--query", "tai", stdin=GOOD_ONLY + "\n{bad\n")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["A3"]  # the good matches are still printed
    assert "1 line(s) skipped" in result.stderr


def test_lone_surrogate_and_invalid_utf8_are_skipped_not_fatal() -> None:
    """#12 §4: `match --explain` crashed on a lone surrogate; invalid UTF-8 was replaced."""
    surrogate = LINES[0].replace("A1", "S1").replace("ra quân", "\\ud83d ra")  # JSON escape
    bad_utf8 = LINES[0].replace("A1", "S2").encode().replace("Công".encode(), b"C\xf4ng")
    stdin = b"\n".join(
        [LINES[0].encode(), surrogate.encode(), LINES[0].replace("A1", "A9").encode(), bad_utf8]
    )
    result = CliRunner().invoke(match, ["--query", '"công an"', "--explain"], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    keys = [line for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert keys == ["A1", "A9"]
    assert "line 2: title: contains a lone surrogate (U+D83D)" in result.stderr
    assert "line 4: invalid UTF-8" in result.stderr


#: Inputs that are no JSON Lines at all, and what the refusal must name (``jsonl_shape``).
GOOD = "\n".join([LINES[0], LINES[3]]) + "\n"
NOT_JSON_LINES = {
    "utf-16 le (PowerShell >)": (GOOD.encode("utf-16"), "is UTF-16 (little-endian), not UTF-8"),
    "utf-16 be, no BOM": (GOOD.encode("utf-16-be"), "is UTF-16 (big-endian)"),
    "utf-32": (GOOD.encode("utf-32"), "is UTF-32"),
    "array on one line": (("[" + ",".join(GOOD.splitlines()) + "]\n").encode(), "JSON array"),
    "array pretty-printed": (
        ("[\n  " + ",\n  ".join(GOOD.splitlines()) + "\n]\n").encode(),
        "JSON array",
    ),
    "array after a BOM": (("\ufeff[" + ",".join(GOOD.splitlines()) + "]").encode(), "JSON array"),
    "CR line ends": (GOOD.replace("\n", "\r").encode(), "carriage return alone"),
    "an object pretty-printed (jq .)": (
        "".join(
            json.dumps(json.loads(line), indent=2) + "\n" for line in GOOD.splitlines()
        ).encode(),
        "is pretty-printed JSON",
    ),
}


@pytest.mark.parametrize("mode", ["query", "topics"])
@pytest.mark.parametrize(("data", "said"), NOT_JSON_LINES.values(), ids=NOT_JSON_LINES.keys())
def test_an_input_that_is_no_json_lines_is_refused_once(mode: str, data: bytes, said: str) -> None:
    """`match` said "skipped line N" for each line of a UTF-16 file (or one long line for an
    array or CR-only ends) and exit 1, as if the rest had been read: now one refusal naming
    what the input is and how to convert it, exit 2, nothing printed on stdout."""
    args = (
        ["--query", "tai"]
        if mode == "query"
        else ["--topics", str(ROOT / "config" / "topics.toml")]
    )
    result = CliRunner().invoke(match, args, input=data)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("feedsvc: the input") and said in line, line
    assert "feedsvc match reads" in line and "nothing matched" in line, line
    assert "convert it first" in line and "import" not in line, line


def test_the_same_lines_in_utf8_are_matched() -> None:
    """The control: the articles the refused inputs hold, as UTF-8 JSON Lines, match."""
    result = CliRunner().invoke(match, ["--query", "tai"], input=GOOD.encode())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["A3"]


def test_an_array_after_blank_lines_is_refused_once() -> None:
    """A verifier's: ``match`` checked line 1 only, blank; the array was one skipped line."""
    data = ("\n\n  \n[" + ",".join(GOOD.splitlines()) + "]\n").encode()
    result = CliRunner().invoke(match, ["--query", "tai"], input=data)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert "is a JSON array" in line and "nothing matched" in line, line


def test_a_cr_inside_one_lines_json_is_matched() -> None:
    """A valid one-line input, a CR as blank space between its tokens, no final line feed: it
    was refused as "lines end in a carriage return alone"."""
    one = LINES[3].replace(', "url"', ',\r"url"')
    assert "\r" in one
    result = CliRunner().invoke(match, ["--query", "tai"], input=one.encode())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["A3"]
