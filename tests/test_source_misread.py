"""Text a CMS wrote as UTF-8 into a ``latin1`` column, read back as Latin-1 ("NguyÃ©n"): found
(:mod:`feedsvc.source.misread`) and said by ``source check`` with the mapping that reads it
right (a tester's: it reached alerts unflagged). On a real MariaDB latin1 table, and on text."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import mariadb_database
from source_checks import run_check
from sqlalchemy import create_engine, text

from feedsvc.source.misread import misread_fields, misread_utf8

VIETNAMESE = ["Nguyễn Văn Toàn", "đường phố", "Công an Kiến Thụy", "Thành phố Hải Phòng",
              "Đoàn Xá", "An ninh – Trật tự"]  # fmt: skip


def as_mysql_latin1(meant: str) -> str:
    """``meant``'s UTF-8 bytes as MySQL's latin1 reads them (Windows-1252, its five unassigned
    bytes the C1 controls)."""
    return "".join(
        chr(b) if b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes([b]).decode("cp1252")
        for b in meant.encode()
    )


@pytest.mark.parametrize("meant", VIETNAMESE)
def test_utf8_read_as_latin1_is_found_with_what_was_meant(meant: str) -> None:
    assert misread_utf8(as_mysql_latin1(meant)) == meant


@pytest.mark.parametrize(
    "right", [*VIETNAMESE, "café", "naïve résumé", "©2026 Báo Hải Phòng", "abc", "Ã"]
)
def test_right_text_is_left_alone(right: str) -> None:
    assert misread_utf8(right) is None


def test_the_first_misread_value_of_each_field_is_named() -> None:
    rows = [
        ("3", {"title": "Tin", "author": as_mysql_latin1("Nguyễn Văn Toàn"), "tags": ["x"]}),
        ("2", {"title": as_mysql_latin1("Đoàn Xá"), "tags": [as_mysql_latin1("An ninh")]}),
        ("1", {"author": as_mysql_latin1("Lê Hà")}),
    ]
    found = misread_fields(rows)
    assert [(f, i) for f, i, _, _ in found] == [("title", "2"), ("author", "3")]  # "An ninh": ASCII
    assert found[1][3] == "Nguyễn Văn Toàn"


def test_source_check_warns_of_a_latin1_column_holding_utf8(tmp_path: Path) -> None:
    with mariadb_database("latin1cms") as url:
        engine = create_engine(url.replace("charset=utf8mb4", "charset=latin1"))
        with engine.begin() as conn:
            conn.execute(text(
                "CREATE TABLE news (id INT PRIMARY KEY, slug VARCHAR(50), link VARCHAR(200),"
                " title VARCHAR(200), author VARCHAR(100) CHARACTER SET latin1,"
                " created DATETIME, modified DATETIME) DEFAULT CHARSET=utf8mb4"
            ))  # fmt: skip
            # the CMS's own connection said latin1 and sent UTF-8 bytes: stored byte for byte
            conn.execute(
                text("INSERT INTO news VALUES (1, 'a', 'https://e.vn/1', 'Tin', :author,"
                     " '2026-12-05 08:00:00', '2026-12-05 08:01:00')"),
                {"author": as_mysql_latin1("Nguyễn Văn Toàn")},
            )  # fmt: skip
        engine.dispose()
        result = run_check(tmp_path, url, "news", {
            "cursor": "modified", "source_key": "slug", "url": "link", "title": "title",
            "author": "author", "published_at": "created",
        })  # fmt: skip
    assert result.exit_code == 0, result.output
    said = "warning: source.columns.author: row id=1 reads 'Nguyá»…n VÄƒn ToÃ\\xa0n', UTF-8"
    assert said in result.output and "('Nguyễn Văn Toàn' was meant)" in result.output
    assert "CONVERT(CAST(author AS BINARY) USING utf8mb4)" in result.output


@pytest.mark.parametrize("charset", ["latin1", "utf8mb4"])
def test_a_latin1_table_over_any_url_charset_is_read_without_a_traceback(
    tmp_path: Path, charset: str
) -> None:
    """The MariaDB side of an SQL_ASCII PostgreSQL CMS (``test_source_sql_ascii``): a latin1
    database and table, the URL's ``charset`` latin1 or not: feedsvc reads utf8mb4 whatever the
    URL says (``db.drivers.MYSQL_CHARSET``), so the server converts; Latin-1 text reads as it
    is, and the sample's rows are shown, never a driver's traceback."""
    with mariadb_database("latin1url") as url:
        engine = create_engine(url.replace("charset=utf8mb4", "charset=latin1"))
        with engine.begin() as conn:
            conn.execute(text("ALTER DATABASE CHARACTER SET latin1"))
            conn.execute(text(
                "CREATE TABLE news (id INT PRIMARY KEY, slug VARCHAR(50), link VARCHAR(200),"
                " title VARCHAR(200), created DATETIME, modified DATETIME)"
                " DEFAULT CHARSET=latin1"
            ))  # fmt: skip
            conn.execute(
                text("INSERT INTO news VALUES (1, 'M-004', 'https://e.vn/1', :title,"
                     " '2026-12-05 08:00:00', '2026-12-05 08:01:00')"),
                {"title": "Café crème à la une"},
            )  # fmt: skip
        engine.dispose()
        result = run_check(tmp_path, url.replace("charset=utf8mb4", f"charset={charset}"),
                           "news", {"cursor": "modified", "source_key": "slug", "url": "link",
                                    "title": "title", "published_at": "created"})  # fmt: skip
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert "M-004 | Café crème à" in result.output, result.output
