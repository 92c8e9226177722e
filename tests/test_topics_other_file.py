"""``topics import OTHER`` (a file other than ``topics.file``) recorded OTHER's entries as the
ones last applied: at the next start every entry of ``topics.file`` then looked changed and was
put back over what OTHER had set, and OTHER switched off every file topic it did not list
(kept off at later starts). Now another file's entries are applied as edits made in the state
DB: nothing recorded, nothing switched off; ``topics.file`` wins back for an entry only when that
entry changes. The configured file itself, by any path to it, keeps the whole-file meaning."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from topicsworld import AN, KT, PL, restart, shown, start

from feedsvc.cli import cli
from feedsvc.db import Database

EX = '[[topic]]\nslug = "ex"\ntitle = "Thêm"\nquery = \'"thêm"\'\n'


@pytest.fixture
def started(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, Path]:
    return start(db, tmp_path, monkeypatch)


def topics_import(db: Database, path: Path | str) -> Result:
    """`feedsvc topics import PATH` with ``topics.file`` as the environment sets it."""
    url = str(db.engine.url.render_as_string(hide_password=False))
    env = {"FEEDSVC_DATABASE__URL": url, "FEEDSVC_TOPICS__FILE": os.environ["FEEDSVC_TOPICS__FILE"]}
    return CliRunner().invoke(cli, ["topics", "import", str(path)], env=env)


@pytest.mark.parametrize(
    "other",
    [PL.replace("Pháp luật", "PL khác") + EX, PL.replace("Pháp luật", "PL khác")],
    ids=["changed and new", "changed only"],
)
def test_another_files_import_is_kept_at_the_next_start(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture, tmp_path: Path, other: str
) -> None:
    db, path = started
    extra = tmp_path / "extra.toml"
    extra.write_text(other, encoding="utf-8")
    done = topics_import(db, extra)
    assert done.exit_code == 0, done.output
    assert ", 0 disabled" in done.output and f"{extra} is not topics.file ({path})" in done.output
    after = shown(db)
    assert after["pl"] == ("PL khác", '"tòa án"', True)
    assert after["kt"][2] and after["an"][2]  # not switched off: it is not the file's removal
    for _ in range(2):
        lines = restart(db, caplog)
        assert shown(db) == after
        assert all(level < logging.WARNING for level, _ in lines), lines
        assert "1 kept (edited in the state DB)" in "\n".join(m for _, m in lines)
    # the configured file's entry changes: it wins again, the replaced edit named
    path.write_text(KT + PL.replace('"tòa án"', '"tòa án" OR "xét xử"') + AN, encoding="utf-8")
    lines = restart(db, caplog)
    assert shown(db)["pl"] == ("Pháp luật", '"tòa án" OR "xét xử"', True)
    assert any("topic pl: its entry in the file changed" in m for _, m in lines), lines
    if "ex" in after:  # not the configured file's: left alone
        assert shown(db)["ex"] == ("Thêm", '"thêm"', True)


def test_the_configured_file_by_another_path_is_the_file(
    started: tuple[Database, Path], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Through a symbolic link (or ``..``), it is still ``topics.file``: recorded, and a topic
    it no longer lists switched off, as documented."""
    db, path = started
    link = tmp_path / "sub"
    link.mkdir()
    (link / "linked.toml").symlink_to(path)
    path.write_text(KT + PL.replace("Pháp luật", "Pháp luật 2"), encoding="utf-8")
    done = topics_import(db, link / ".." / "sub" / "linked.toml")
    assert done.exit_code == 0, done.output
    assert "0 created, 1 updated, 1 unchanged, 1 disabled" in done.output
    assert "is not topics.file" not in done.output
    text = "\n".join(m for _, m in restart(db, caplog))
    assert "0 created, 0 updated, 2 unchanged, 0 disabled" in text


def test_an_empty_other_file_changes_nothing(
    started: tuple[Database, Path], tmp_path: Path
) -> None:
    """Another file with no topics switches nothing off: nothing to refuse either."""
    db, _ = started
    before = shown(db)
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing yet\n", encoding="utf-8")
    done = topics_import(db, empty)
    assert done.exit_code == 0, done.output
    assert "0 created, 0 updated, 0 unchanged, 0 disabled" in done.output
    assert shown(db) == before


def test_without_a_file_at_start_any_import_is_the_file(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ``topics.file`` a start reads (absent): `topics import FILE` keeps its whole-file
    meaning for whatever file it is given (a topic it no longer lists switched off)."""
    monkeypatch.setenv("FEEDSVC_TOPICS__FILE", str(tmp_path / "absent.toml"))
    mine = tmp_path / "mine.toml"
    mine.write_text(KT + PL, encoding="utf-8")
    assert topics_import(db, mine).exit_code == 0
    mine.write_text(KT, encoding="utf-8")
    done = topics_import(db, mine)
    assert "0 created, 0 updated, 1 unchanged, 1 disabled" in done.output
    assert "is not topics.file" not in done.output
    assert shown(db)["pl"][2] is False
