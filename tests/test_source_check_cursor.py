"""``source check`` on a cursor column whose values place no row in time (``cli/source_cursor``).

``[source.columns] cursor`` mapped to an article code (``BV-0001``) passed the check — exit 0,
"2 shown now" — and ``run`` then held every row back for ever while ``status`` said
``ingest_state ok`` (a tester's). Every sampled value unusable is the mapping: exit 2 naming
``source.columns.cursor`` and what its values look like. One row's is the CMS's data: a
warning, that row marked HELD BACK and never counted as shown now.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from feedsvc.cli import cli

NOW = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
STAMPS = [str(NOW - timedelta(hours=h)) for h in (3, 2, 1)]


def check(
    tmp_path: Path, cursors: list[object], column_type: str = "TEXT", **mapped: str
) -> Result:
    """``source check`` on an SQLite table of three rows whose ``cur`` column holds ``cursors``
    (``code`` the article code, ``stamp`` a real time, ``published`` its publication)."""
    cms = tmp_path / "cms.db"
    with sqlite3.connect(cms) as conn:
        conn.execute(
            f"CREATE TABLE posts (id INTEGER PRIMARY KEY, code TEXT, link TEXT, title TEXT,"
            f" published TEXT, stamp TEXT, cur {column_type})"
        )
        conn.executemany(
            "INSERT INTO posts VALUES (?, ?, ?, 'Kiến Thụy', ?, ?, ?)",
            [(n, f"BV-000{n}", f"https://x.vn/{n}", STAMPS[n - 1], STAMPS[n - 1], c)
             for n, c in enumerate(cursors, 1)],
        )  # fmt: skip
    columns = {"cursor": "cur", "source_key": "code", "url": "link", "title": "title",
               "published_at": "published"} | mapped  # fmt: skip
    config = tmp_path / "site.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
        f'[source]\nurl = "sqlite:///{cms}"\ntable = "posts"\ntimezone = "UTC"\n'
        "[source.columns]\n" + "".join(f'{k} = "{v}"\n' for k, v in columns.items()),
        encoding="utf-8",
    )
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    return CliRunner().invoke(cli, ["source", "check", "--config", str(config)], env=env)


def summary(result: Result) -> str:
    return next(line for line in result.output.splitlines() if line.startswith("summary: "))


@pytest.mark.parametrize(
    "values",
    [
        ["BV-0001", "BV-0002", "BV-0003"],  # the tester's: an article code (sorts after dates)
        ["0001", "0002", "0003"],  # a code that sorts before every date: taken, never ordered
        ["bài 1", "bài 2", "bài 3"],
        ["-infinity", "-infinity", "-infinity"],
    ],
)
def test_a_cursor_of_text_that_is_no_time_is_a_mapping_problem(
    tmp_path: Path, values: list[str]
) -> None:
    result = check(tmp_path, list(values))
    assert result.exit_code == 2, result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("  source.columns.cursor: ")]
    assert "'cur' holds no time of a write" in line and repr(values[-1]) in line, line
    assert "(not a timestamp)" in line
    assert "OK" not in result.output.splitlines()


def test_every_row_held_back_is_never_shown_now(tmp_path: Path) -> None:
    result = check(tmp_path, ["BV-0001", "BV-0002", "BV-0003"])
    assert (
        summary(result)
        == "summary: 0 shown now, 0 scheduled, 0 not visible, 0 rejected, 3 held back"
    )
    rows = [x for x in result.output.splitlines() if x.startswith("  id=")]
    assert len(rows) == 3 and all("HELD BACK: its cursor value is no moment" in x for x in rows)


def test_a_cursor_column_of_nulls_is_a_mapping_problem(tmp_path: Path) -> None:
    result = check(tmp_path, [None, None, None])
    assert result.exit_code == 2, result.output
    assert "source.columns.cursor: 'cur' holds no time of a write: no row has a cursor value" \
        in result.output  # fmt: skip


def test_milliseconds_in_an_integer_cursor_are_a_mapping_problem(tmp_path: Path) -> None:
    """JavaScript's ``Date.now()``: read as Unix seconds, a time that never comes."""
    ms = [int(datetime.fromisoformat(s).replace(tzinfo=UTC).timestamp() * 1000) for s in STAMPS]
    result = check(tmp_path, list(ms), "INTEGER")
    assert result.exit_code == 2, result.output
    assert "source.columns.cursor: 'cur' holds no time of a write" in result.output
    assert "looks like milliseconds" in result.output
    assert summary(result).endswith(", 3 held back")


@pytest.mark.parametrize("bad", ["BV-0003", "9999-12-31 00:00:00"])
def test_one_row_held_back_is_the_cms_data(tmp_path: Path, bad: str) -> None:
    """One row's cursor value (no moment, or far ahead): a warning, exit 0, the row marked."""
    result = check(tmp_path, [STAMPS[0], STAMPS[1], bad])
    assert result.exit_code == 0, result.output
    assert (
        summary(result)
        == "summary: 2 shown now, 0 scheduled, 0 not visible, 0 rejected, 1 held back"
    )
    [held] = [x for x in result.output.splitlines() if x.startswith("  id=3 ")]
    assert "HELD BACK" in held, held
    assert "warning: 1 row " in result.output


def test_a_good_cursor_says_ok(tmp_path: Path) -> None:
    result = check(tmp_path, list(STAMPS))
    assert result.exit_code == 0, result.output
    assert summary(result) == "summary: 3 shown now, 0 scheduled, 0 not visible, 0 rejected"


@pytest.mark.parametrize("field", ["published_at", "updated_at"])
def test_other_time_columns_of_text_are_mapping_problems_too(tmp_path: Path, field: str) -> None:
    """The same class, already told apart by ``source check``'s every-row-rejected rule."""
    result = check(tmp_path, list(STAMPS), **{field: "code"})
    assert result.exit_code == 2, result.output
    assert (
        f"  source.columns.{field}: every one of the newest 3 row(s) is rejected" in result.output
    )


@pytest.mark.parametrize(
    ("values", "column_type", "shown"),
    [
        ([1, 2, 3], "INTEGER", "1970-01-01 00:00:03 UTC"),  # the post's id mapped as the cursor
        ([1041, 1042, 2093], "INTEGER", "1970-01-01 00:34:53 UTC"),  # ids with gaps
        ([7, 7, 9], "NUMERIC", "1970-01-01 00:00:09 UTC"),  # a revision counter
        ([0, 0, 0], "INTEGER", "1970-01-01 00:00:00 UTC"),  # a flag left at 0
        ([-1, -1, -1], "INTEGER", "1969-12-31 23:59:59 UTC"),  # "unset"
        ([315_532_799, 315_532_799, 315_532_799], "INTEGER", "1979-12-31 23:59:59 UTC"),
    ],
)
def test_a_counter_as_an_integer_cursor_is_a_mapping_problem(
    tmp_path: Path, values: list[int], column_type: str, shown: str
) -> None:
    """An id (or any counter) mapped as the cursor passed: read as Unix seconds every row is
    1970's, so ingest took them all and then followed inserts only, never an update."""
    result = check(tmp_path, list(values), column_type)
    assert result.exit_code == 2, result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("  source.columns.cursor: ")]
    assert "'cur' holds no time of a write" in line, line
    assert f"read as Unix seconds, {shown}: a row number or counter" in line, line
    assert "OK" not in result.output.splitlines()


@pytest.mark.parametrize("first", [315_532_800, 1_000_000_000, 5])
def test_unix_seconds_of_real_writes_pass_beside_an_old_one(tmp_path: Path, first: int) -> None:
    """The controls: Unix seconds since 1980 are times of writes, and one row of the CMS's
    with a counter-like value among real ones is its data, not the mapping."""
    stamps = [int(datetime.fromisoformat(s).replace(tzinfo=UTC).timestamp()) for s in STAMPS]
    result = check(tmp_path, [first, *stamps[1:]], "INTEGER")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "OK"
