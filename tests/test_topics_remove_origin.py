"""`topics remove` names the file a topics-file topic came from, and never one that does not
list it.

The state DB records a file topic's entry (its fingerprint), not which file it came from, so
the file named is ``topics.file`` as the removing process reads it — never a hard-coded
``config/topics.toml``. A topic imported from another file (``topics import other.toml``) is
no file topic: nothing keeps it deleted, nothing is said. And when ``topics.file`` as read now
does not list the topic (the setting changed since the import, or the CLI runs with another
configuration than the service's), the line said "Topic b is listed in the topics file
…/config/topics.toml: it stays deleted at every start" about a file without it; it now says
that file does not list it, so a start with this configuration does not bring it back.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from feedsvc.catalogue import Translator
from feedsvc.cli import cli
from feedsvc.topics_file import stays_deleted

ENTRY = '[[topic]]\nslug = "{slug}"\ntitle = "T"\nquery = "an ninh"\n'


def runner(tmp_path: Path, topics_file: Path):  # type: ignore[no-untyped-def]
    env = {
        "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}",
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_TOPICS__FILE": str(topics_file),
    }
    return lambda *args: CliRunner().invoke(cli, list(args), env=env)


def test_a_topic_of_another_file_is_removed_without_a_file_named(tmp_path: Path) -> None:
    configured = tmp_path / "topics.toml"
    configured.write_text(ENTRY.format(slug="c"), encoding="utf-8")
    other = tmp_path / "other.toml"
    other.write_text(ENTRY.format(slug="a"), encoding="utf-8")
    run = runner(tmp_path, configured)
    assert run("topics", "import", str(other)).exit_code == 0
    removed = run("topics", "remove", "a")
    assert removed.exit_code == 0 and removed.output.splitlines() == ["a: removed"]


def test_the_configured_file_is_named_by_its_path(tmp_path: Path) -> None:
    mine = tmp_path / "newsroom-topics.toml"
    mine.write_text(ENTRY.format(slug="b"), encoding="utf-8")
    run = runner(tmp_path, mine)
    assert run("topics", "import").exit_code == 0
    removed = run("topics", "remove", "b")
    assert removed.exit_code == 0
    said = removed.output.splitlines()[1]
    assert said.startswith(f"Topic b is listed in the topics file {mine.absolute()}: it stays")
    assert "config/topics.toml" not in removed.output


def test_a_configured_file_without_the_topic_is_not_said_to_list_it(tmp_path: Path) -> None:
    mine = tmp_path / "newsroom-topics.toml"
    mine.write_text(ENTRY.format(slug="b"), encoding="utf-8")
    later = tmp_path / "topics.toml"  # topics.file now, without b
    later.write_text(ENTRY.format(slug="c"), encoding="utf-8")
    assert runner(tmp_path, mine)("topics", "import").exit_code == 0
    removed = runner(tmp_path, later)("topics", "remove", "b")
    assert removed.exit_code == 0
    assert removed.output.splitlines()[1:] == [
        f"Topic b was imported from a topics file, but the configured topics file (topics.file)"
        f" {later.absolute()} does not list it: a start with this configuration does not bring"
        " it back."
    ]


def test_the_one_wording_checks_the_file_for_every_front_end(tmp_path: Path) -> None:
    """``stays_deleted`` words the CLI's line, the admin's flash and the API's
    ``kept_deleted_message``: a file that lists the slug, one that does not, one that cannot
    be read (the usual wording, the file's state said by ``shown_file``)."""
    vi = Translator("vi")
    listing = tmp_path / "a.toml"
    listing.write_text(ENTRY.format(slug="b"), encoding="utf-8")
    assert stays_deleted(vi, "b", listing).startswith(f"Chủ đề b có trong tệp chủ đề {listing}")
    assert "không có nó" in stays_deleted(vi, "x", listing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[topic]\n", encoding="utf-8")
    assert stays_deleted(vi, "b", broken).startswith("Chủ đề b có trong tệp chủ đề")
