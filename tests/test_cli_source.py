"""``feedsvc source check`` (``cli/source.py``) shows a CMS's values on one line each.

A CMS row's cursor value, key or title holding a line break was printed raw in the sample, so
the CMS's data could forge a line of the check's output; every value goes through
``cli.common.cell`` now, as ``status`` and the log show them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from source_checks import run_check

from feedsvc.cli import cli


def source_config(tmp_path: Path, cms: Path, visible: str | None = None) -> Path:
    """A config (``tmp_path/feedsvc.toml``) reading the SQLite CMS ``cms``'s table ``posts``
    (columns slug, link, title, created, modified; ``visible`` when given), state DB beside."""
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
        f'[source]\nurl = "sqlite:///{cms}"\ntable = "posts"\n'
        '[source.columns]\ncursor = "modified"\nsource_key = "slug"\nurl = "link"\n'
        'title = "title"\npublished_at = "created"\n'
        + ("" if visible is None else f'visible = "{visible}"\n'),
        encoding="utf-8",
    )
    return config


def source_check(config: Path, *args: str) -> Result:
    """``feedsvc source check --config config *args``, no ``FEEDSVC_*`` variable set."""
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    return CliRunner().invoke(cli, ["source", "check", "--config", str(config), *args], env=env)


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
    out = source_check(source_config(tmp_path, cms))
    lines = out.output.split("\n")
    [row] = [line for line in lines if line.startswith("  id=1 ")]
    assert "forged cursor" in row, out.output
    assert not any(line.startswith("forged") for line in lines), out.output
    assert control == "\n" or control not in out.output


@pytest.mark.parametrize("blank", ["\u200e", "\u00a0", "\u200d", "\ufe0f"], ids=ascii)
def test_the_sample_spells_a_key_as_articles_find_prints_it(tmp_path: Path, blank: str) -> None:
    """The key the article will be stored under, as every command prints a key
    (``keys.spelled``): an LRM or a no-break space inside it was shown raw, so the sample's
    ``p<LRM>-1`` looked like ``p-1``."""
    cms = tmp_path / "cms.db"
    with sqlite3.connect(cms) as conn:
        conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT,"
                     " title TEXT, created TEXT, modified TEXT)")  # fmt: skip
        conn.execute(
            "INSERT INTO posts VALUES (1, ?, 'https://e.vn/1', 'Tin', '2026-11-30 10:00:00',"
            " '2026-11-30 10:00:00')",
            (f"p{blank}-1",),
        )
    out = source_check(source_config(tmp_path, cms))
    [row] = [line for line in out.output.split("\n") if line.startswith("  id=1 ")]
    assert f" → p\\u{ord(blank):04x}-1 | " in row, out.output
    assert blank not in out.output


def _check(tmp_path: Path, rows: list[tuple[object, ...]], visible: str) -> tuple[int, str]:
    cms = tmp_path / "cms.db"
    with sqlite3.connect(cms) as conn:
        conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT,"
                     " title BLOB, status TEXT, created TEXT, modified TEXT)")  # fmt: skip
        conn.executemany("INSERT INTO posts VALUES (?, ?, ?, ?, ?, '2026-11-30 10:00:00', ?)", rows)
    out = source_check(source_config(tmp_path, cms, visible))
    return out.exit_code, out.output


def _row(n: int, title: bytes = b"Tin", status: str = "published") -> tuple[object, ...]:
    return (n, f"p-{n}", f"https://e.vn/{n}", title, status, f"2026-11-30 10:0{n}:00")


@pytest.mark.parametrize("status", ["published", "draft", "Đã đăng"])
def test_a_visible_column_that_says_neither_is_a_mapping_problem(
    tmp_path: Path, status: str
) -> None:
    """``visible = "status"`` on a text column: ingest would quarantine every row (it once
    withdrew them all); the check says so by the key, exit 2, never OK."""
    code, output = _check(tmp_path, [_row(n, status=status) for n in (1, 2, 3)], "status")
    assert code == 2, output
    assert "source.columns.visible: every one of the newest 3 row(s) is rejected" in output
    assert "id=3 cursor=2026-11-30 10:03:00: REJECTED visible is not true or false" in output


def _bad(n: int, *, link: str = "", title: bytes = b"Tin") -> tuple[object, ...]:
    row = list(_row(n, title=title))
    row[2] = link or row[2]
    return tuple(row)


@pytest.mark.parametrize(
    "rows",
    [
        [_bad(1, link="https://e.vn/1 x"), _bad(2, title=b"Gi\xe1 v"), _bad(3, link="e.vn/3")],
        [_bad(1, title=b"\xff"), _bad(2, link="javascript:alert(1)")],
        [_bad(1, link="ftp://e.vn/1"), _bad(2, title=b""), _bad(3, title=b"\xc3")],
    ],
    ids=["space-bytes-relative", "bytes-javascript", "scheme-empty-bytes"],
)
def test_rows_rejected_each_for_its_own_reason_are_the_data_not_the_mapping(
    tmp_path: Path, rows: list[tuple[object, ...]]
) -> None:
    """Every sample row rejected, but by no column they share (a tester's: a URL with a
    space, a title not UTF-8, a summary's bytes): exit 1 saying it is the data; it was a
    "mapping problem" naming the first row's column, exit 2, sending the operator to fix a
    mapping that is right."""
    code, output = _check(tmp_path, rows, "status = 'published'")
    assert code == 1, output
    assert "mapping problem" not in output
    assert f"every one of the newest {len(rows)} row(s) is rejected, each for reasons of its " in (
        output
    )
    assert "the CMS's data, not the mapping" in output
    assert "OK" not in output.splitlines()


@pytest.mark.parametrize(
    ("rows", "key"),
    [
        ([_bad(1, link="x 1"), _bad(2, link="x 2", title=b""), _bad(3, link="x 3")], "link"),
        ([_bad(1, title=b"\xff"), _bad(2, title=b"\xc3", link="y z")], "title"),
    ],
)
def test_rows_rejected_by_one_column_they_share_are_still_its_mapping(
    tmp_path: Path, rows: list[tuple[object, ...]], key: str
) -> None:
    field = {"link": "url", "title": "title"}[key]
    code, output = _check(tmp_path, rows, "status = 'published'")
    assert code == 2, output
    assert f"source.columns.{field}: every one of the newest {len(rows)} row(s) is rejected" in (
        output
    )


def test_a_row_ingest_cannot_read_is_shown_rejected(tmp_path: Path) -> None:
    """A row whose title is not UTF-8 is quarantined by ingest (stage ``read``); the sample
    showed it as a good article (or "title: is required") instead."""
    rows = [_row(1), _row(2, title=b"Gi\xe1 v\xe0ng"), _row(3)]
    code, output = _check(tmp_path, rows, "status = 'published'")
    assert code == 0, output
    assert (
        "  id=2 cursor=2026-11-30 10:02:00: REJECTED title is not valid UTF-8 (byte 2: e1 20 76 e0)"
        in output
    )


@pytest.mark.parametrize(
    "created", ["2026-02-30 10:00:00", "garbage", "1764756000000", "2026-11-30T25:00:00"]
)
def test_a_sample_date_sqlalchemy_cannot_convert_is_a_row_not_a_traceback(
    tmp_path: Path, created: str
) -> None:
    """A SQLite ``TIMESTAMP`` column holding a value SQLAlchemy's converter refuses raised
    ``ValueError: day is out of range for month`` out of ``source check`` (a traceback); the
    row is now named with its field, as ingest quarantines it."""
    cms = tmp_path / "cms.db"
    with sqlite3.connect(cms) as conn:
        conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT,"
                     " title TEXT, created TIMESTAMP, modified TEXT)")  # fmt: skip
        for n in (1, 2, 3):
            conn.execute(
                "INSERT INTO posts VALUES (?, ?, ?, 'Tin', ?, ?)",
                (n, f"p-{n}", f"https://e.vn/{n}",
                 created if n == 3 else "2026-11-30 10:00:00", f"2026-11-30 10:0{n}:00"),
            )  # fmt: skip
    out = run_check(tmp_path, f"sqlite:///{cms}", "posts", {
        "cursor": "modified", "source_key": "slug", "url": "link", "title": "title",
        "published_at": "created",
    })  # fmt: skip
    assert out.exception is None or isinstance(out.exception, SystemExit), out.output
    assert out.exit_code == 0, out.output
    [row] = [line for line in out.output.split("\n") if line.startswith("  id=3 ")]
    assert "REJECTED source.columns.published_at: " in row, out.output
    assert "  id=1 cursor=2026-11-30 10:01:00 → p-1 | Tin |" in out.output
