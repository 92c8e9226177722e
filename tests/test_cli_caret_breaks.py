"""The CLI's caret under an invalid query with line breaks in it (a re-tester's): with LF, CR LF
or a blank line only ``at character 18: …`` was printed (no echo, no caret); with CR or a tab
the query was echoed with a space there; U+2028/9 were written raw into the echo line, which a
terminal shows as a line break, so the caret no longer sat under the error. Every line break
and other non-printing whitespace is now echoed as one space, the caret under the character
(``cli.query_caret``), on ``match --query``, ``topics preview`` and ``topics add`` alike."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from migrated import premigrated

from feedsvc.cli import cli
from feedsvc.cli.query_caret import caret_lines

BREAKS = ["\n", "\r\n", "\n\n", "\r\n\r\n", "\r", "\t", "\u2028", "\u2029", "\xa0", "\u3000",
          "\u2028\n\u2029", " \n\t "]  # fmt: skip


def _under(shown: str, caret: str) -> str:
    """The character of ``shown`` drawn at the caret's column (wide ones take two)."""
    import unicodedata

    columns = 0
    for char in shown:
        if columns == len(caret) - 1 and not unicodedata.combining(char):
            return char
        if not unicodedata.combining(char):
            columns += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return ""


@pytest.mark.parametrize("brk", BREAKS)
@pytest.mark.parametrize("command", ["match", "preview", "add"])
def test_every_line_break_is_echoed_as_a_space_with_the_caret(
    sqlite_url: str, brk: str, command: str
) -> None:
    query = f'"Kiến{brk}Thụy" AND ('
    args = {
        "match": ["match", "--query", query],
        "preview": ["topics", "preview", query],
        "add": ["topics", "add", "kt", "--title", "T", "--query", query],
    }[command]
    env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": premigrated(sqlite_url)}
    done = CliRunner().invoke(cli, args, env=env, input="")
    assert done.exit_code == 2, done.output
    lines = done.stderr.split("\n")
    assert lines[0] == (
        f"feedsvc: invalid query: at character {len(query) + 1}: it ends where a term is expected"
    ), done.stderr
    assert len(lines) == 4 and lines[3] == "", done.stderr  # the echo and the caret, one each
    shown, caret = lines[1][2:], lines[2][2:]
    assert shown == query.replace(brk, " " * len(brk)), repr(shown)
    assert caret.strip() == "^" and len(caret) - 1 == len(query), repr(caret)
    assert not any(c in shown for c in "\r\n\t\u2028\u2029\x85\xa0\u3000")


@pytest.mark.parametrize("brk", BREAKS)
def test_the_caret_is_under_the_character_after_a_break(brk: str) -> None:
    query = f"汉字{brk}a b OR c"
    at = query.index("O")
    shown, caret = caret_lines(query, at)
    assert "\n" not in shown and "\u2028" not in shown and "\u2029" not in shown
    assert _under(shown, caret) == "O", (shown, caret)
