"""A secret file this user cannot read stops only the commands that use the secret.

An operator ran ``feedsvc status`` as a user other than the service's: the bot token file was
the service user's, mode 0600, and status refused, exit 2 ("invalid configuration:
telegram.token_file: cannot read …: Permission denied"), though it needs no secret. Commands
that need none now say so in one warning line per file and go on (exit 0); ``run``, ``config
check``, ``config show`` and ``subs add`` still refuse, exit 2, naming the file. The real
``feedsvc`` process; file permissions enforced for root by ``setpriv``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from combos import each_choice
from migrated import copy_template

SECRET = "1234567:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
KEYS = ["telegram.token_file", "admin.token_file", "zalo.token_file", "zalo.webhook_secret_file"]
#: Commands that need no secret, and what their stdout must hold.
NEEDS_NONE: list[tuple[list[str], str]] = [
    (["status"], "articles_stored"),
    (["status", "--json"], '"queue_depth"'),
    (["topics", "list"], "kien-thuy"),
    (["render", "kien-thuy"], "<rss"),
    (["db", "current"], "00"),
    (["subs", "list"], ""),
]
#: Commands that use a secret (or check them): refused, exit 2.
NEEDS_IT = [
    ["run", "--no-http"],
    ["config", "check"],
    ["config", "show"],
    ["subs", "add", "5", "--type", "private", "--topic", "kien-thuy"],
]


def as_other_user() -> list[str]:
    """A prefix under which file permissions apply (root: ``setpriv`` dropping the capabilities
    that bypass them)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner",
            "--inh-caps=-all"]  # fmt: skip


#: This process's (xdist worker's) migrated state DB with the topic added (a ``topics add``
#: process per case before, ~1 s of CPU each).
_with_topic: Path | None = None


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A migrated state DB with one topic, and a secret file owned by someone else, 0600."""
    global _with_topic
    if _with_topic is None:  # this process's first: made once, copied by each case
        made = Path(tempfile.mkdtemp(prefix="feedsvc-secrets-"))
        assert copy_template(f"sqlite:///{made / 'state.db'}")
        done = feedsvc(made, {}, "topics", "add", "kien-thuy", "--title", "K", "--query", "k",
                       prefix=[])  # fmt: skip
        assert done.returncode == 0, done.stderr
        _with_topic = made / "state.db"
    shutil.copyfile(_with_topic, tmp_path / "state.db")
    secret = tmp_path / "secret"
    secret.write_text(SECRET + "\n")
    secret.chmod(0o600)
    if os.geteuid() == 0:
        os.chown(secret, 65534, 65534)  # another user's file: root without its capabilities
    elif os.access(secret, os.R_OK):
        secret.chmod(0)
    return tmp_path


def feedsvc(
    cwd: Path, env_extra: dict[str, str], *argv: str, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": f"sqlite:///{cwd}/state.db",
            "FEEDSVC_HTTP__PUBLIC_URL": "http://feeds.example.test/", **env_extra}  # fmt: skip
    return subprocess.run(
        [*(as_other_user() if prefix is None else prefix), sys.executable, "-m", "feedsvc",
         *argv],
        cwd=cwd, env=env, input="", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def config_file(world: Path, key: str) -> dict[str, str]:
    """The config naming the secret file at ``key`` (the file, not the environment)."""
    section, name = key.split(".")
    path = world / "feedsvc.toml"
    path.write_text(f'[{section}]\n{name} = "{world / "secret"}"\n')
    return {"FEEDSVC_CONFIG": str(path)}


#: Each-choice (6 cases, not 24): which secret file cannot be read is decided and warned about
#: once, as the settings are loaded (``secrets.unreadable_secret_files``,
#: ``cli.common.load_settings(secrets=False)``), before any command's own code: the key and
#: the command are independent. Every key and every command appears.
NO_SECRET_CASES = each_choice(NEEDS_NONE, KEYS)


@pytest.mark.parametrize(
    ("needs", "key"), NO_SECRET_CASES, ids=[f"{' '.join(n[0])}-{k}" for n, k in NO_SECRET_CASES]
)
def test_a_command_that_needs_no_secret_warns_and_goes_on(
    world: Path, needs: tuple[list[str], str], key: str
) -> None:
    argv, says = needs
    done = feedsvc(world, config_file(world, key), *argv)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert says in done.stdout, done.stdout
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert warnings == [
        f"feedsvc: warning: {key}: cannot read {world / 'secret'}: Permission denied (this "
        "command needs no secret and goes on without it; run it as the service's user to read "
        "it)"
    ], done.stderr
    assert SECRET not in done.stdout + done.stderr
    if argv == ["status", "--json"]:
        json.loads(done.stdout)  # the warning is on stderr only


@pytest.mark.parametrize("argv", NEEDS_IT, ids=" ".join)
def test_a_command_that_uses_secrets_still_refuses(world: Path, argv: list[str]) -> None:
    done = feedsvc(world, config_file(world, "telegram.token_file"), *argv)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert f"telegram.token_file: cannot read {world / 'secret'}: Permission denied" in (
        done.stderr + done.stdout
    )
    assert "Traceback" not in done.stderr and SECRET not in done.stdout + done.stderr
    if argv[0] == "subs":  # refused before anything was stored
        listed = feedsvc(world, {}, "subs", "list", prefix=[])
        assert listed.returncode == 0 and listed.stdout == "", listed


def test_a_secret_file_named_in_the_environment(world: Path) -> None:
    """``FEEDSVC_TELEGRAM__TOKEN_FILE`` (its problem's words name the variable too)."""
    env = {"FEEDSVC_TELEGRAM__TOKEN_FILE": str(world / "secret")}
    done = feedsvc(world, env, "status")
    assert done.returncode == 0, done.stderr
    assert "feedsvc: warning: telegram.token_file: cannot read" in done.stderr
    assert feedsvc(world, env, "run", "--no-http").returncode == 2


def test_a_missing_secret_file_is_still_a_configuration_error(world: Path) -> None:
    """Only a file this user cannot read is done without: one that is not there is a wrong
    configuration for every user."""
    env = {"FEEDSVC_TELEGRAM__TOKEN_FILE": str(world / "no-such-secret")}
    done = feedsvc(world, env, "status")
    assert done.returncode == 2, done.stderr
    assert "telegram.token_file: file not found" in done.stderr
