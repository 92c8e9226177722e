"""``feedsvc render``: one topic's feed on stdout, its links at ``http.public_url``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from feedsvc.cli import cli

UNSET = "http.public_url is unset"


def render(tmp_path: Path, *args: str, **env: str) -> Result:
    """``render kt`` on a state DB holding the topic ``kt``, under ``env`` (FEEDSVC_*)."""
    base = {
        "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}",
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_TOPICS__FILE": str(tmp_path / "topics.toml"),
    }
    runner = CliRunner()
    added = runner.invoke(
        cli, ["topics", "add", "kt", "--title", "Kiến Thụy", "--query", '"Kiến Thụy"'], env=base
    )
    assert added.exit_code == 0, added.output
    return runner.invoke(cli, ["render", "kt", *args], env=base | env)


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
@pytest.mark.parametrize(
    "where",
    [{"FEEDSVC_HTTP__PORT": "0"}, {"FEEDSVC_HTTP__PORT": "0", "FEEDSVC_HTTP__HOST": "0.0.0.0"}],
    ids=["port 0", "port 0, every address"],
)
def test_port_0_without_a_public_url_is_refused(
    tmp_path: Path, fmt: str, where: dict[str, str]
) -> None:
    """`run` learns its port as it starts; `render` listens on none: every link was
    http://127.0.0.1:0/…, exit 0. Now bad configuration for this command (exit 2), saying
    which key to set, and nothing on stdout."""
    done = render(tmp_path, "--format", fmt, **where)
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    assert UNSET in done.stderr and "FEEDSVC_HTTP__PUBLIC_URL" in done.stderr


def test_port_0_in_the_config_file_is_refused_too(tmp_path: Path) -> None:
    config = tmp_path / "feedsvc.toml"
    config.write_text("[http]\nport = 0\n", encoding="utf-8")
    done = render(tmp_path, "--config", str(config))
    assert done.exit_code == 2 and UNSET in done.stderr, done.output


def test_port_0_links_at_the_public_url_when_set(tmp_path: Path) -> None:
    done = render(
        tmp_path,
        "--format",
        "json",
        FEEDSVC_HTTP__PORT="0",
        FEEDSVC_HTTP__PUBLIC_URL="https://tin.example.vn/rss",
    )
    assert done.exit_code == 0, done.output
    feed = json.loads(done.stdout)
    assert feed["feed_url"] == "https://tin.example.vn/rss/feeds/kt.json"


def test_an_unset_public_url_is_the_configured_port(tmp_path: Path) -> None:
    done = render(tmp_path, "--format", "json", FEEDSVC_HTTP__PORT="18014")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["feed_url"] == "http://127.0.0.1:18014/feeds/kt.json"
