"""The commands that make a secret (README's admin token and Zalo webhook secret, `config
check`'s short-token warning) run where Python is `python3` only, as on Debian and Ubuntu
without `python-is-python3`, the README's own first command's interpreter.

They said `python -c …`: there `python: command not found`, and `export
FEEDSVC_ZALO__WEBHOOK_SECRET="$(python -c …)"` exported an empty secret, which feedsvc reads as
unset: the bot silently polled instead of taking the webhook. Each command is run as written
with a PATH holding `python3` and no `python`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from feedsvc.cli import cli

ROOT = Path(__file__).resolve().parent.parent
COMMAND = re.compile(r"python3? -c 'import secrets; print\(secrets\.token_urlsafe\(32\)\)'")


def python3_only(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    if not bin_dir.is_dir():
        bin_dir.mkdir()
        (bin_dir / "python3").symlink_to(sys.executable)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}


def secret_from(command: str, tmp_path: Path) -> str:
    done = subprocess.run(
        ["bash", "-c", f'printf %s "$({command})"'], env=python3_only(tmp_path),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and not done.stderr, (command, done.stderr)
    return done.stdout


def test_the_readmes_secret_commands_run_with_python3_only(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [m.group(0) for m in COMMAND.finditer(readme)]
    assert len(commands) >= 2, "the README's admin token and Zalo secret commands"
    for command in commands:
        assert command.startswith("python3 "), command
        secret = secret_from(command, tmp_path)
        assert len(secret) == 43, (command, secret)


def test_the_short_token_warning_names_a_command_that_runs(tmp_path: Path) -> None:
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    result = CliRunner().invoke(
        cli, ["config", "check", "--config", "/dev/null"], env=env | {"FEEDSVC_ADMIN__TOKEN": "x"}
    )
    assert result.exit_code == 0, result.output
    match = COMMAND.search(result.output)
    assert match is not None, result.output
    assert match.group(0).startswith("python3 "), result.output
    assert len(secret_from(match.group(0), tmp_path)) == 43
