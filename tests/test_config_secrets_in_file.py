"""A secret written in the config file is refused (SPEC §7: secrets only from the environment or
a ``*_file``): ``config check``, ``config show`` and ``run`` exit 2 with one line per key naming
the key, the variable and the ``*_file`` key to use instead, never the secret; a command that
needs no secret (``status``, ``topics list``) says the same as a warning and goes on.

It was a warning of ``config check`` only, and ``run`` started without a word (a tester's).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from migrated import copy_template
from processes import free_port

from feedsvc.cli import cli
from feedsvc.config import ConfigError, load_config

#: (section, key, a value of its kind): every secret key the config knows
SECRETS = [
    ("telegram", "token", "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"),
    ("admin", "token", "Adm1n-t0ken-that-is-long-enough"),
    ("zalo", "token", "98765:zalo-Secret-Token"),
    ("zalo", "webhook_secret", "Zalo-webhook-s3cret"),
]


@pytest.fixture
def here(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No FEEDSVC_* variable of the caller's, in an empty directory with an initialised state
    DB (``var/feedsvc.db``: ``status`` and ``topics list`` answer)."""
    for name in list(os.environ):
        if name.startswith("FEEDSVC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    assert copy_template(f"sqlite:///{tmp_path / 'var' / 'feedsvc.db'}")
    return tmp_path


def config(where: Path, text: str) -> Path:
    path = where / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def invoke(argv: list[str]) -> tuple[int | None, str]:
    """``feedsvc ARGV``: its exit code and output. ``run`` in a process of its own, with a
    deadline (one that starts serves until stopped: None then)."""
    if argv[0] == "run":
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
        command = [sys.executable, "-m", "feedsvc", "run", "--port", str(free_port()), *argv[1:]]
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired as exc:
            return None, str(exc.stdout or "") + str(exc.stderr or "")
        return done.returncode, done.stdout + done.stderr
    result = CliRunner().invoke(cli, argv, input="")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{argv}: uncaught {result.exception!r}\n{result.output}")
    return result.exit_code, result.output


def told(output: str, key: str) -> list[str]:
    return [line for line in output.splitlines() if f"{key}: a secret may not be written" in line]


@pytest.mark.parametrize(("section", "key", "value"), SECRETS)
@pytest.mark.parametrize("argv", [["config", "check"], ["run"], ["config", "show"]])
def test_a_secret_in_the_file_is_refused_naming_what_to_do(
    here: Path, section: str, key: str, value: str, argv: list[str]
) -> None:
    path = config(here, f'[{section}]\n{key} = "{value}"\n')
    code, output = invoke([*argv, "--config", str(path)])
    assert code == 2, output
    [line] = told(output, f"{section}.{key}")
    assert f"FEEDSVC_{section.upper()}__{key.upper()}" in line, line
    assert f"{section}.{key}_file" in line and str(path) in line, line
    assert value not in output and value[-12:] not in output
    assert "Traceback" not in output


def test_every_secret_in_the_file_is_one_line_each(here: Path) -> None:
    """All four at once, one of them a bot token of a wrong shape and one also given by the
    environment (still in the file): one line a key, nothing more about those keys, no value."""
    text = "".join(f'[{s}]\n{k} = "{v}"\n' for s, k, v in SECRETS if s != "zalo")
    text += '[zalo]\ntoken = "not a token"\nwebhook_secret = "short"\n'
    path = config(here, text)
    env = {"FEEDSVC_ADMIN__TOKEN": "Another-admin-token-long-enough"}
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(path)], env=env)
    assert result.exit_code == 2, result.output
    for section, key, value in SECRETS:
        assert len(told(result.output, f"{section}.{key}")) == 1, result.output
        about = [line for line in result.output.splitlines() if f"{section}.{key}:" in line]
        assert len(about) == 1, about  # not also "contains whitespace", "must be 8 to 256…"
        assert value not in result.output
    assert "not a token" not in result.output and "short" not in result.output
    assert "4 problem(s)" in result.output, result.output


@pytest.mark.parametrize(
    "value",
    ['"  spaced Secret  "', '"Bí-mật-tiếng-Việt-123"', '["list-Secret-x"]', "123456789"],
)
def test_any_value_of_a_secret_key_in_the_file_is_refused_unshown(here: Path, value: str) -> None:
    path = config(here, f"[telegram]\ntoken = {value}\n")
    code, output = invoke(["run", "--config", str(path)])
    assert code == 2, output
    assert len(told(output, "telegram.token")) == 1, output
    assert value.strip('"[] ') not in output


@pytest.mark.parametrize("argv", [["status"], ["topics", "list"]])
def test_a_command_that_needs_no_secret_warns_and_goes_on(here: Path, argv: list[str]) -> None:
    """Blocking ``status`` during an incident because of a committed secret helps no one: the
    same words as a warning on stderr, and the command's own answer."""
    value = SECRETS[1][2]
    path = config(here, f'[admin]\ntoken = "{value}"\n')
    result = CliRunner().invoke(cli, [*argv, "--config", str(path)])
    assert result.exit_code == 0, result.output
    [line] = told(result.stderr, "admin.token")
    assert line.startswith("feedsvc: warning: admin.token: ") and "FEEDSVC_ADMIN__TOKEN" in line
    assert "this command needs no secret" in line and "`run`" in line, line
    assert value not in result.output


def test_load_config_refuses_unless_the_command_needs_no_secret(tmp_path: Path) -> None:
    path = config(tmp_path, '[zalo]\nwebhook_secret = "Zalo-webhook-s3cret"\n[http]\nport = 8081\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    [problem] = raised.value.problems
    assert problem.key == "zalo.webhook_secret" and "s3cret" not in str(raised.value)
    settings = load_config(path, secrets=False)
    assert settings.http.port == 8081


def test_the_environment_and_secret_files_stay_fine(here: Path, tmp_path: Path) -> None:
    """The ways SPEC §7 names: no refusal, no warning about secrets."""
    secret = tmp_path / "admin-token"
    secret.write_text(SECRETS[1][2] + "\n", encoding="utf-8")
    path = config(here, f'[admin]\ntoken_file = "{secret}"\n')
    env = {"FEEDSVC_TELEGRAM__TOKEN": SECRETS[0][2]}
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(path)], env=env)
    assert result.exit_code == 0, result.output
    assert "a secret may not be written" not in result.output
