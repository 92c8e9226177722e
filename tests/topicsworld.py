"""A state DB a start imported a topics file into, and the start itself, for the tests of
``run``'s import at start (tests/test_topics_sync.py, tests/test_topics_file_memory.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.store.topics import list_topics
from feedsvc.topics_at_start import import_at_start

KT = '[[topic]]\nslug = "kt"\ntitle = "Kiến Thụy"\nquery = \'"Kiến Thụy"\'\n'
PL = '[[topic]]\nslug = "pl"\ntitle = "Pháp luật"\nquery = \'"tòa án"\'\n'
AN = '[[topic]]\nslug = "an"\ntitle = "An ninh"\nquery = \'"an ninh"\'\n'


def start(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, Path]:
    """The state DB after a first start imported a file of three topics (``topics.file``
    set in the environment), and the file (each module's ``started`` fixture)."""
    path = tmp_path / "topics.toml"
    path.write_text(KT + PL + AN, encoding="utf-8")
    monkeypatch.setenv("FEEDSVC_TOPICS__FILE", str(path))
    import_at_start(db, load_config(Path("/dev/null")).topics)
    return db, path


def restart(db: Database, caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    """``run``'s import at start, as it runs at every start; its log lines (level, text)."""
    caplog.clear()
    logger = logging.getLogger("feedsvc.topics_file")  # a CLI command run before may have
    logger.addHandler(caplog.handler)  # set up logging its own way: listen here directly
    try:
        with caplog.at_level(logging.INFO, logger="feedsvc.topics_file"):
            import_at_start(db, load_config(Path("/dev/null")).topics)
    finally:
        logger.removeHandler(caplog.handler)
    # each record once (seen here and, propagated, at the root)
    return sorted({(r.levelno, r.getMessage()) for r in caplog.records if r.name == logger.name})


def shown(db: Database) -> dict[str, tuple[str, str, bool]]:
    with db.read() as conn:
        return {t.slug: (t.title, t.query, t.enabled) for t in list_topics(conn)}
