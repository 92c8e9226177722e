"""``feedsvc source check`` (``cli/source.py``) shows a CMS's values on one line each.

A CMS row's cursor value, key or title holding a line break was printed raw in the sample, so
the CMS's data could forge a line of the check's output; every value goes through
``cli.common.cell`` now, as ``status`` and the log show them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli


@pytest.mark.parametrize("control", ["\n", "\r", "\u2028", "\x85", "\x1b", "\t"])
def test_the_sample_shows_each_row_on_one_line(tmp_path: Path, control: str) -> None:
    cms = tmp_path / "cms.db"
    with sqlite3.connect(cms) as conn:
        conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT,"
                     " title TEXT, created TEXT, modified TEXT)")  # fmt: skip
        conn.execute(
            "INSERT INTO posts VALUES (1, ?, 'https://e.vn/1', ?, '2026-11-30 10:00:00', ?)",
            (f"p-1{control}forged key", f"Tin{control}forged title",
             f"2026-11-30 10:00:00{control}forged cursor"),
        )  # fmt: skip
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
        f'[source]\nurl = "sqlite:///{cms}"\ntable = "posts"\n'
        '[source.columns]\ncursor = "modified"\nsource_key = "slug"\nurl = "link"\n'
        'title = "title"\npublished_at = "created"\n',
        encoding="utf-8",
    )
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    out = CliRunner().invoke(cli, ["source", "check", "--config", str(config)], env=env)
    lines = out.output.split("\n")
    [row] = [line for line in lines if line.startswith("  id=1 ")]
    assert "forged cursor" in row, out.output
    assert not any(line.startswith("forged") for line in lines), out.output
    assert control == "\n" or control not in out.output
