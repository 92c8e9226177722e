"""An empty file path in the configuration is refused by name, never read as ``.``.

``topics.file = ""`` (or ``FEEDSVC_TOPICS__FILE=`` left empty by a deployment template) was
``Path("")``, the working directory: ``config check`` said "topics.file: cannot read .: Is a
directory", the demo "topics file . not found", and an empty ``admin.token_file`` ". is a
directory, not a file" — never that the value was empty, nor how to get the default. Every
``Path`` key (``topics.file`` and the ``*_file`` secrets) now refuses an empty or blank value
with one problem naming the key and saying to unset it; every command that loads the
configuration (``config check``, ``run``, ``demo``, ``topics import``) exits 2 with it.

``FEEDSVC_CONFIG`` set but empty (a template's ``FEEDSVC_CONFIG=$CONF`` with ``CONF`` unset)
read ``config/feedsvc.toml`` or the built-in defaults in silence: the service ran on the
default SQLite state DB in the working directory, not the deployment's. Now the same refusal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from combos import each_choice
from processes import free_port
from site_placeholder import unplaced

from feedsvc.cli import cli
from feedsvc.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
EMPTY = ["", " ", "\t", "  \n "]
PATH_KEYS = [
    "topics.file",
    "telegram.token_file",
    "admin.token_file",
    "zalo.token_file",
    "zalo.webhook_secret_file",
]
#: the environment without the machine's own FEEDSVC_* settings (CliRunner: None unsets)
CLEAN = {k: None for k in os.environ if k.startswith("FEEDSVC_")}


def problems_of(values: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ConfigError) as raised:
        load_config(None, values)  # type: ignore[arg-type]
    return {p.key: p.message for p in raised.value.problems}


def assert_named_empty(message: str, key: str) -> None:
    assert message.startswith("is empty, which names no file"), message
    assert "unset the key" in message, message
    assert "cannot read" not in message and "directory, not a file" not in message
    if key == "topics.file":
        assert "the default, config/topics.toml" in message, message


@pytest.mark.parametrize("value", EMPTY)
@pytest.mark.parametrize("key", PATH_KEYS)
def test_an_empty_path_is_one_problem_naming_the_key(key: str, value: str) -> None:
    section, name = key.split(".")
    shown = problems_of({section: {name: value}})
    assert list(shown) == [key], shown
    assert_named_empty(shown[key], key)


@pytest.mark.parametrize("value", EMPTY)
def test_an_empty_topics_file_is_refused_even_when_not_imported_at_start(value: str) -> None:
    """``topics.import_on_start = false`` is the documented way a start skips the file; an
    empty ``topics.file`` beside it is still a mistake (``topics import`` reads it)."""
    shown = problems_of({"topics": {"file": value, "import_on_start": False}})
    assert_named_empty(shown["topics.file"], "topics.file")


@pytest.mark.parametrize("key", PATH_KEYS)
def test_config_check_refuses_an_empty_path_in_the_file(tmp_path: Path, key: str) -> None:
    section, name = key.split(".")
    config = tmp_path / "feedsvc.toml"
    config.write_text(f'[{section}]\n{name} = ""\n', encoding="utf-8")
    out = CliRunner().invoke(cli, ["config", "check", "--config", str(config)], env=CLEAN)
    assert out.exit_code == 2, out.output
    (line,) = [line for line in out.output.splitlines() if line.startswith(f"  {key}:")]
    assert_named_empty(line.split(": ", 1)[1], key)


@pytest.mark.parametrize("value", ["", " "])
@pytest.mark.parametrize("key", PATH_KEYS)
def test_an_empty_env_override_names_its_variable(tmp_path: Path, key: str, value: str) -> None:
    """``FEEDSVC_TOPICS__FILE=`` (a template's unset variable exported empty)."""
    variable = "FEEDSVC_" + key.upper().replace(".", "__")
    out = CliRunner().invoke(
        cli, ["config", "check", "--config", "/dev/null"], env=CLEAN | {variable: value}
    )
    assert out.exit_code == 2, out.output
    (line,) = [line for line in out.output.splitlines() if line.startswith(f"  {key}:")]
    assert line.endswith(f"(set by {variable})"), line
    assert_named_empty(line.split(": ", 1)[1], key)


def _config(tmp_path: Path) -> tuple[Path, Path]:
    """A configuration with an empty ``topics.file`` that a start does not import (the old
    code read it only then, and started), and the state DB it names (never created)."""
    db = tmp_path / "state.db"
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[topics]\nfile = ""\nimport_on_start = false\n',
        encoding="utf-8",
    )
    return config, db


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.mark.parametrize("command", [["topics", "import"], ["topics", "list"], ["status"]])
def test_every_command_refuses_it_alike(tmp_path: Path, command: list[str]) -> None:
    """Any command's loading stops before anything is done: exit 2, the same problem, no
    state DB created (``topics import`` read ``.``; the others went on as if unset)."""
    config, db = _config(tmp_path)
    out = CliRunner().invoke(cli, [*command, "--config", str(config)], env=CLEAN)
    assert out.exit_code == 2, out.output
    assert "topics.file: is empty, which names no file" in out.output, out.output
    assert "unset the key to use the default, config/topics.toml" in out.output
    assert not db.exists()


def test_run_refuses_it_before_starting(tmp_path: Path) -> None:
    """``run`` started (``topics.import_on_start = false``) with ``topics.file`` the working
    directory, for ``topics import`` and the admin's delete to find later."""
    config, db = _config(tmp_path)
    argv = [sys.executable, "-m", "feedsvc", "run", "--no-bot", "--port", "0"]
    try:
        done = subprocess.run(
            [*argv, "--config", str(config)], cwd=tmp_path, env=_env(), capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("run started with an empty topics.file")
    assert done.returncode == 2, done.stderr
    assert "topics.file: is empty, which names no file" in done.stderr, done.stderr
    assert not db.exists()


@pytest.mark.parametrize("value", [""])
def test_the_demo_refuses_an_empty_topics_file(tmp_path: Path, value: str) -> None:
    """The demo reads ``topics.file`` when set: an empty one was "topics file . not found".
    The empty value only: a blank one is refused by the same check of the key (every blank
    value of every key, and of its variable, is tested in this process above)."""
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "demo", "--port", str(free_port())],
        cwd=tmp_path,
        env=_env() | {"FEEDSVC_TOPICS__FILE": value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "topics.file: is empty, which names no file" in done.stderr, done.stderr
    assert "(set by FEEDSVC_TOPICS__FILE)" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_named_file_and_the_default_still_load(tmp_path: Path) -> None:
    """Only an empty value is refused: a path, even one with a space in its name, is a path."""
    topics = tmp_path / "my topics.toml"
    topics.write_text("", encoding="utf-8")
    secret = tmp_path / "admin token"
    secret.write_text("a-long-enough-admin-token-0123456789\n", encoding="utf-8")
    settings = load_config(None, {"topics": {"file": str(topics)},
                                  "admin": {"token_file": str(secret)}})  # fmt: skip
    assert settings.topics.file == topics and settings.topics.file_is_set
    assert settings.admin.token_file == secret
    assert load_config(None, {}).topics.file == Path("config/topics.toml")


def assert_config_variable_empty(output: str) -> None:
    assert (
        "FEEDSVC_CONFIG: is empty, which names no file: name the configuration file, or "
        "unset the variable to read config/feedsvc.toml when it is there" in output
    ), output


@pytest.mark.parametrize(
    ("value", "command"),
    # each-choice: every command reads FEEDSVC_CONFIG through the one loader (``cli.common``),
    # so which blank value it is and which command meets it do not interact
    each_choice(EMPTY, [["config", "check"], ["status"], ["topics", "list"], ["db", "upgrade"]]),
    ids=lambda v: " ".join(v) if isinstance(v, list) else repr(v),
)
def test_an_empty_feedsvc_config_is_refused(tmp_path: Path, value: str, command: list[str]) -> None:
    """Even with a ``config/feedsvc.toml`` in the working directory, which it read instead."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "feedsvc.toml").write_text("[site]\ntitle = 'Báo'\n", "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", *command], cwd=tmp_path,
        env=_env() | {"FEEDSVC_CONFIG": value}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert_config_variable_empty(done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config"]  # no state DB made


@pytest.mark.parametrize("command", [["run", "--no-bot"], ["demo"]])
def test_run_and_the_demo_refuse_an_empty_feedsvc_config(
    tmp_path: Path, command: list[str]
) -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", *command, "--port", str(free_port())], cwd=tmp_path,
            env=_env() | {"FEEDSVC_CONFIG": ""}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("started with FEEDSVC_CONFIG empty")
    assert done.returncode == 2, done.stderr
    assert_config_variable_empty(done.stderr)
    assert list(tmp_path.iterdir()) == []


def test_config_given_on_the_command_line_wins_over_an_empty_variable(tmp_path: Path) -> None:
    config = tmp_path / "feedsvc.toml"
    config.write_text("[site]\ntitle = 'Báo'\n", encoding="utf-8")
    out = CliRunner().invoke(
        cli, ["config", "check", "--config", str(config)], env=CLEAN | {"FEEDSVC_CONFIG": ""}
    )
    assert out.exit_code == 0, out.output
    assert unplaced(out.output).startswith(f"{config}: OK"), out.output
