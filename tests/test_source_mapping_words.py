"""`source check`'s mapping problems list the table's columns once (issue #17 §3).

Each missing column repeated the table's whole column list: six times for ``mysql.user``
(46 columns), burying the problems. Reflection is not needed to word them: the mapping is
bound against an SQLAlchemy ``Table`` built here.
"""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text

from feedsvc.config import SourceColumns
from feedsvc.source import SourceError
from feedsvc.source.mapping import bind_mapping

WIDE = [f"col_{i:02d}" for i in range(46)]


def table(*names: str) -> Table:
    columns = [
        Column(name, Integer if name == "id" else DateTime if name == "ts" else Text)
        for name in names
    ]
    return Table("news", MetaData(), *columns)


#: (the table's columns, the mapping's changes): one or many columns missing, required and
#: explicitly named optional ones, the id and cursor among them.
CASES = [
    (WIDE, {}),
    (["id", "ts", *WIDE], {"id": "id", "cursor": "ts"}),
    (["id", "ts", "title"], {"id": "id", "cursor": "ts", "author": "tac_gia"}),
    (["id", "ts"], {"id": "id", "cursor": "ts", "title": "tieu_de", "author": "tac_gia"}),
]


@pytest.mark.parametrize(("names", "changes"), CASES)
def test_the_columns_are_listed_once(names: list[str], changes: dict[str, str]) -> None:
    columns = SourceColumns(**changes)
    with pytest.raises(SourceError) as raised:
        bind_mapping(table(*names), columns, "sqlite", UTC)
    problems = raised.value.problems
    listing = f"(columns: {', '.join(names)})"
    text = "\n".join(message for _, message in problems)
    assert text.count(listing) == 1, text
    assert listing in problems[0][1] or not problems[0][1].startswith("column "), problems
    missing = [m for _, m in problems if m.startswith("column ")]
    assert missing and all(" not in table news" in m for m in missing), problems
