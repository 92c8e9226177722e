"""A secret given both itself (the environment, the config file) and in its ``*_file`` is a
configuration problem naming both (a tester's: the environment's value won without a word, so
an admin token rotated by rewriting its file kept the old one a stale ``.env`` still gave).
Never shown; ``config check`` and ``run`` alike (exit 2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli

SECRETS = [
    ("admin", "token", "another-token-0123456789abcdef", "file-token-0123456789abcdef"),
    ("telegram", "token", "123456:" + "A" * 35, "654321:" + "B" * 35),
    ("zalo", "token", "1234567890:" + "a" * 40, "1234567890:" + "b" * 40),
    ("zalo", "webhook_secret", "w" * 16, "v" * 16),
]


@pytest.mark.parametrize(("section", "key", "given", "in_file"), SECRETS)
@pytest.mark.parametrize("command", [["config", "check"], ["run"]])
def test_a_secret_given_twice_is_refused_naming_both(
    tmp_path: Path, section: str, key: str, given: str, in_file: str, command: list[str]
) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(in_file + "\n", encoding="utf-8")
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    env |= {
        f"FEEDSVC_{section.upper()}__{key.upper()}": given,
        f"FEEDSVC_{section.upper()}__{key.upper()}_FILE": str(secret_file),
        "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 's.db'}",
    }
    result = CliRunner().invoke(cli, command, env=env)
    assert result.exit_code == 2, result.output
    said = f"{section}.{key}: is given twice, as {section}.{key}"
    assert said in result.output and f"{section}.{key}_file ({secret_file})" in result.output
    assert given not in result.output and in_file not in result.output


def test_one_of_them_alone_is_fine(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("file-token-0123456789abcdef\n", encoding="utf-8")
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    env["FEEDSVC_ADMIN__TOKEN_FILE"] = str(secret_file)
    result = CliRunner().invoke(cli, ["config", "check"], env=env)
    assert result.exit_code == 0, result.output
