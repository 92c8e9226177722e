"""``match --query``'s hints, followed as written (tester: "give --topics FILE with the topic in
it" read as adding ``--topics`` to ``--query``, which is refused: "give exactly one of --query
or --topics", exit 2). Every way out a hint names is run here, the commands between backticks
exactly as printed."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_cli_match import ROOT, article

from feedsvc.cli import cli
from feedsvc.matching.query import MAX_QUERY_CHARS, MAX_TERMS

STDIN = (
    "\n".join(
        [
            article("A1", "Công an huyện Kiến Thuỵ ra quân", "<p>Bảo đảm an ninh dịp Tết.</p>"),
            article("A2", "Du lịch Vạn Ninh", "<p>Ông Công Anh kể chuyện</p>"),
        ]
    )
    + "\n"
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A state DB holding the shipped topics (``kien-thuy`` among them)."""
    env = {"FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}",
           "FEEDSVC_CONFIG": "/dev/null"}  # fmt: skip
    for args in (["db", "upgrade"], ["topics", "import", str(ROOT / "config" / "topics.toml")]):
        done = CliRunner().invoke(cli, args, env=env)
        assert done.exit_code == 0, done.output
    return env


def feedsvc(args: list[str], env: dict[str, str], stdin: str = "") -> Result:
    return CliRunner().invoke(cli, args, input=stdin, env=env)


def hint_of(result: Result) -> str:
    assert result.exit_code == 2 and result.stdout == ""
    found = re.search(r"\(hint: (.*)\)$", result.stderr.splitlines()[0])
    assert found is not None, result.stderr
    return found.group(1)


def commands_in(hint: str) -> list[list[str]]:
    """The feedsvc commands between backticks, without the program's name (however
    :func:`feedsvc.cli.common.command_name` spelt it here)."""
    words = [shlex.split(c) for c in re.findall(r"`([^`]+)`", hint)]
    return [w[w.index("topics") :] for w in words]


@pytest.mark.parametrize("query", ["@kien-thuy", "an ninh @kien-thuy"])
def test_an_unknown_topics_hint_is_two_ways_that_work(
    env: dict[str, str], tmp_path: Path, query: str
) -> None:
    hint = hint_of(feedsvc(["match", "--query", query], env, STDIN))
    assert "write out the query of @kien-thuy" in hint
    assert "--topics FILE instead of --query" in hint
    shown, export = commands_in(hint)
    # one way: the topic's query, as `topics export` prints it, written out in its place
    assert shown == ["topics", "export"]
    printed = feedsvc(shown, env)
    assert printed.exit_code == 0
    stored = {t["slug"]: t["query"] for t in tomllib.loads(printed.stdout)["topic"]}
    written_out = query.replace("@kien-thuy", f"({stored['kien-thuy']})")
    done = feedsvc(["match", "--query", written_out], env, STDIN)
    assert done.exit_code == 0 and done.stdout.splitlines() == ["A1"], done.output
    # the other: the topic in a topics file, matched with --topics FILE instead of --query
    file = tmp_path / "topics.toml"
    assert export == ["topics", "export", "-o", "FILE"]
    assert feedsvc([*export[:-1], str(file)], env).exit_code == 0
    done = feedsvc(["match", "--topics", str(file)], env, STDIN)
    assert done.exit_code == 0, done.output
    assert "kien-thuy" in dict(line.split("\t") for line in done.stdout.splitlines())["A1"]


@pytest.mark.parametrize(
    "query",
    [
        " OR ".join(['"công an"'] + [f"w{i}" for i in range(MAX_TERMS)]),  # too many terms
        '"công an" OR ' + "x" * MAX_QUERY_CHARS,  # too long
    ],
)
def test_a_too_big_querys_hint_works_without_topics(
    env: dict[str, str], tmp_path: Path, query: str
) -> None:
    """ "Split it into several topics and combine them with @slug": no topics there."""
    hint = hint_of(feedsvc(["match", "--query", query], env, STDIN))
    assert "several topics of a topics file" in hint and "--topics FILE instead of --query" in hint
    half = len(query) // 2
    cut = query.rindex(" OR ", 0, half)
    parts = [query[:cut], query[cut + len(" OR ") :]]
    file = tmp_path / "split.toml"
    file.write_text(
        "".join(
            f"[[topic]]\nslug = 'part-{n}'\ntitle = 'P{n}'\nquery = '{part}'\nenabled = false\n"
            for n, part in enumerate(parts)
        )
        + "[[topic]]\nslug = 'all'\ntitle = 'All'\nquery = '@part-0 OR @part-1'\n",
        encoding="utf-8",
    )
    done = feedsvc(["match", "--topics", str(file)], env, STDIN)
    assert done.exit_code == 0 and done.stdout.splitlines() == ["A1\tall"], done.output
