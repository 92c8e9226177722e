"""Ingest's log lines name a source key as feedsvc prints keys (re-tester D3).

``WARNING feedsvc.ingest.committed: source … row id=2 (BAD‎-1) quarantined …`` held a real
U+200E: the line showed ``BAD-1``, a key no command finds, and a key that is not NFC printed
like its NFC. Now every log line naming a key spells it (:func:`feedsvc.keys.spelled`, what
``articles find`` prints and every ``articles`` command and the admin's search read back)."""

from __future__ import annotations

import logging
import unicodedata

import pytest
from backend_cases import module_on_sqlite
from test_ingest_quarantine import SqliteCms, cms

from feedsvc.db import Database
from feedsvc.keys import spelled

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

__all__ = ["cms"]  # the fixture

KEYS = [
    ("BAD\u200e-1", "BAD\\u200e-1"),  # the re-tester's LRM
    ("BAD\u00a0-2", "BAD\\u00a0-2"),  # NBSP
    ("BAD\u200b-3", "BAD\\u200b-3"),  # zero-width space
    (unicodedata.normalize("NFD", "Tin-Kiến-4"), "Tin-Kie\\u0302\\u0301n-4"),  # decomposed
    ("K\u202e1gnp.exe", "K\\u202e1gnp.exe"),  # a bidi control: quarantined for the key
]


@pytest.mark.parametrize(("key", "printed"), KEYS)
def test_a_quarantined_row_s_key_is_logged_spelled(
    db: Database, cms: SqliteCms, caplog: pytest.LogCaptureFixture, key: str, printed: str
) -> None:
    assert spelled(key) == printed
    cms.post(1)
    cms.post(2, slug=key, link="ftp://cms.local/2")  # a link the parser refuses
    with caplog.at_level(logging.WARNING, logger="feedsvc.ingest"):
        result = cms.ingestor(db).tick()
    assert result.quarantined, result
    (line,) = [r.getMessage() for r in caplog.records if "quarantined" in r.getMessage()]
    assert f"({printed}) quarantined" in line, line
    assert key not in line or key == printed
