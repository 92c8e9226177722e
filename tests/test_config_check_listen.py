"""``config check`` says what ``run`` says of ``http.host`` and of a configuration without a file.

``http.host = "nosuchhost.invalid"`` passed ``config check`` (OK, and a warning calling it "an
address of this machine") while ``run`` exited 2; and ``config check`` named the no-file
configuration "built-in defaults" where ``run`` and ``status`` said "invalid configuration
(defaults)" (a tester's). The check now binds the host as ``run`` does (``cli.listening
.host_problem``, a free port, closed at once) and every command names it one way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from in_process import feedsvc as in_process
from site_placeholder import unplaced

from feedsvc.cli import cli


def configured(tmp_path: Path, host: str) -> Path:
    config = tmp_path / "site.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n[http]\nhost = "{host}"\nport = 0\n',
        encoding="utf-8",
    )
    return config


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}


UNLISTENABLE = [
    ("nosuchhost.invalid", "no such host", 2),
    ("no-such-host.example.invalid", "no such host", 2),
    # TEST-NET-1, nobody's: a warning (exit 0), the configuration may be for another machine
    ("192.0.2.1", "not an address of this machine", 0),
]


@pytest.mark.parametrize(("host", "said", "code"), UNLISTENABLE)
def test_a_host_run_cannot_listen_on_is_said_in_run_words(
    tmp_path: Path, host: str, said: str, code: int
) -> None:
    config = configured(tmp_path, host)
    checked = CliRunner().invoke(cli, ["config", "check", "--config", str(config)], env=clean_env())
    assert checked.exit_code == code, checked.output
    lead = "  " if code else "warning: "
    where = "" if code else " on this machine"
    line = f"{lead}http.host: feedsvc run cannot listen on {host!r}{where}: {said}"
    assert line in checked.output, checked.output
    assert "OK" in checked.output.splitlines()[-1] or code  # exit 0: the file's OK line
    if code:  # http.public_url's advice named an unresolvable name "an address of this machine"
        assert "warning: http.public_url" not in checked.output, checked.output
    ran = subprocess.run(
        [sys.executable, "-m", "feedsvc", "run", "--config", str(config), "--no-scheduler"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ran.returncode == 2, ran.stderr
    [told] = [x for x in checked.output.splitlines() if x.startswith(line)]
    words = told.split(f"{host!r}{where}: ", 1)[1]  # run's words whole, its advice included
    assert ran.stderr.strip().endswith(words), (ran.stderr, words)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0.0.0.0"])
def test_a_host_of_this_machine_is_ok(tmp_path: Path, host: str) -> None:
    config = configured(tmp_path, host)
    checked = CliRunner().invoke(cli, ["config", "check", "--config", str(config)], env=clean_env())
    assert checked.exit_code == 0, checked.output
    assert "http.host" not in checked.output


@pytest.mark.parametrize("argv", [["status"], ["topics", "list"], ["run"]])
def test_the_configuration_without_a_file_has_one_name(tmp_path: Path, argv: list[str]) -> None:
    env = clean_env() | {"FEEDSVC_HTTP__PORT": "x"}
    # in this process, but `run` (were it to start, it would serve, not return): a refusal's words
    checked = in_process(["config", "check"], tmp_path, FEEDSVC_HTTP__PORT="x")
    assert checked.returncode == 2
    assert unplaced(checked.stderr).startswith("built-in defaults: 1 problem")
    other = (
        in_process(argv, tmp_path, FEEDSVC_HTTP__PORT="x")
        if argv != ["run"]
        else subprocess.run(
            [sys.executable, "-m", "feedsvc", *argv],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )
    )  # fmt: skip
    assert other.returncode == 2, other.stderr
    assert other.stderr.startswith("feedsvc: invalid configuration (built-in defaults):")
