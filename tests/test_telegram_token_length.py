"""A Telegram bot token cut short by a bad paste passed ``config check`` as OK.

``telegram.token = "123:abc"``, or a real-looking token missing its last characters, has the
shape ``<id>:<secret>`` that :func:`feedsvc.config.secrets.telegram_token_problem` asks for, so
only Telegram refused it, once ``feedsvc run`` used it. @BotFather's tokens have a 35-character
secret, but Telegram documents no fixed length (FIELD-NOTES.md): another length is a WARNING of
``config check`` (exit unchanged) and of ``run``'s advice (:func:`feedsvc.config.advice`), worded
with what to do, never a refusal (the tests' short fake tokens keep working), and never showing
any of the token.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from site_placeholder import unplaced

from feedsvc.cli import cli
from feedsvc.config import advice, load_config

SECRET_35 = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9"
FULL = f"110201543:{SECRET_35}"


def config_check(tmp_path: Path, **env: str) -> tuple[int, str]:
    """``feedsvc config check`` with no config file and ``env``: exit code, stdout + stderr."""
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    clean |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path}/s.db"}
    result = CliRunner().invoke(cli, ["config", "check"], env=clean | env)
    return result.exit_code, unplaced(result.output)


@pytest.mark.parametrize(
    "token",
    [
        "123:abc",  # the brief's example: a fake token's shape
        FULL[:-1],  # the last character lost
        FULL[:-7],  # a few lost
        "7:_",  # the shortest shape
        FULL + "x",  # one character too many (joined to the next line's text?)
        f"{FULL}-{SECRET_35}",  # two pasted into one
    ],
    ids=["123:abc", "cut-1", "cut-7", "shortest", "one-more", "two-joined"],
)
def test_a_token_of_another_length_is_warned_about_not_refused(tmp_path: Path, token: str) -> None:
    code, output = config_check(tmp_path, FEEDSVC_TELEGRAM__TOKEN=token)
    assert code == 0, output
    assert output.rstrip().endswith(": OK")
    secret = token.split(":", 1)[1]
    [warning] = [line for line in output.splitlines() if line.startswith("warning: telegram.")]
    assert warning.startswith(f"warning: telegram.token: its part after ':' has {len(secret)} ")
    assert "have 35" in warning and "copy the whole token from @BotFather again" in warning
    assert secret not in output  # nothing of it shown (the id either, when it is a long one)
    assert len(token.split(":")[0]) < 4 or token.split(":")[0] not in output


def test_a_token_of_botfathers_length_has_no_warning(tmp_path: Path) -> None:
    code, output = config_check(tmp_path, FEEDSVC_TELEGRAM__TOKEN=FULL)
    assert code == 0 and "warning" not in output, output


def test_a_token_file_cut_short_names_the_file_key(tmp_path: Path) -> None:
    path = tmp_path / "tg.token"
    path.write_text(FULL[:-3] + "\n", encoding="utf-8")
    code, output = config_check(tmp_path, FEEDSVC_TELEGRAM__TOKEN_FILE=str(path))
    assert code == 0, output
    assert "warning: telegram.token_file: its part after ':' has 32 characters" in output
    assert SECRET_35[:-3] not in output


def test_runs_advice_holds_it_and_a_malformed_token_is_refused_not_warned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run`` logs :func:`advice` at start; a token that is no token at all (``123abc``) is a
    problem already (exit 2), said once, not also as a warning."""
    for key in list(os.environ):
        if key.startswith("FEEDSVC_"):
            monkeypatch.delenv(key)
    settings = load_config(None, {"telegram": {"token": "123:abc"}})
    [warning] = [w for w in advice(settings) if w.key.startswith("telegram")]
    assert "has 3 characters" in warning.message and "abc" not in str(warning)
    code, output = config_check(tmp_path, FEEDSVC_TELEGRAM__TOKEN="123abc")
    assert code == 2 and "is not a Telegram bot token" in output
    assert "warning: telegram" not in output
