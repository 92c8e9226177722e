"""An operator's TOML file is read to a bound (``feedsvc.tomlfile.MAX_TOML_BYTES``): ``--config
/dev/zero``, ``topics.file`` or ``topics import`` on a device read until memory ran out
(issue #17 §3); a pipe (``--config <(…)``) is still read as a file."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from combos import each_choice

from feedsvc.tomlfile import MAX_TOML_BYTES

TOO_BIG = f"larger than {MAX_TOML_BYTES >> 20} MiB, more than any config or topics file holds"


def _huge(tmp_path: Path) -> Path:
    """A sparse file one byte over the bound (no disk used)."""
    path = tmp_path / "huge.toml"
    with path.open("wb") as file:
        file.truncate(MAX_TOML_BYTES + 1)
    return path


def _bounded() -> None:
    """At most 1 GiB of address space: a reader without the bound fails instead of taking the
    machine's memory."""
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def feedsvc(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *argv], cwd=cwd, env=clean | env,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
        preexec_fn=_bounded, check=False,
    )  # fmt: skip


def _commands(path: str) -> list[tuple[list[str], dict[str, str]]]:
    return [
        (["config", "check", "--config", path], {}),
        (["config", "check"], {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_TOPICS__FILE": path}),
        (["topics", "import", path], {"FEEDSVC_CONFIG": "/dev/null"}),
        (["match", "--topics", path], {"FEEDSVC_CONFIG": "/dev/null"}),
    ]


WHICH = ["--config", "topics.file", "import", "match"]


@pytest.mark.parametrize(
    ("which", "source"),
    # each-choice: every command reads its file through the one bounded reader
    # (``feedsvc.tomlfile``), where a regular file's size and a device's endless read are told
    # apart; which command opened it does not change that
    each_choice(range(4), ["sparse file", "/dev/zero"]),
    ids=lambda v: WHICH[v] if isinstance(v, int) else v,
)
def test_a_toml_file_past_the_bound_is_refused(tmp_path: Path, which: int, source: str) -> None:
    path = str(_huge(tmp_path)) if source == "sparse file" else source
    argv, env = _commands(path)[which]
    done = feedsvc(argv, tmp_path, **env)
    assert done.returncode == 2, done.stderr
    assert TOO_BIG in done.stderr and "Traceback" not in done.stderr


def test_a_pipe_is_still_read(tmp_path: Path) -> None:
    """``--config <(envsubst < feedsvc.toml.in)``: a pipe, not a regular file, read as one."""
    read, write = os.pipe()
    os.write(write, b"[http]\nport = 1\n")
    os.close(write)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", "config", "check", "--config", f"/dev/fd/{read}"],
            cwd=tmp_path, pass_fds=(read,), capture_output=True, text=True, timeout=60,
            env={k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")},
            check=False,
        )  # fmt: skip
    finally:
        os.close(read)
    assert (done.returncode, done.stdout) == (0, f"/dev/fd/{read}: OK\n"), done.stderr


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("host = 127.0.0.1", "host"),
        ("url = sqlite:///var/feedsvc.db", "url"),
        ("title = Tin tức Hải Phòng", "title"),
        ("token = 123456:ABC-def_s3cret", "token"),
    ],
)
def test_text_without_quotes_is_told_to_take_them(tmp_path: Path, line: str, key: str) -> None:
    """`host = 127.0.0.1` was "invalid TOML: Expected newline or end of document after a
    statement (at line 2, column 13)"; the line now says text is written in quotes, naming the
    key, never the value (it may be a secret), for the config (`config check`) and a topics
    file (`topics import`) alike."""
    config = tmp_path / "feedsvc.toml"
    config.write_text(f"[section]\n{line}\n", encoding="utf-8")
    checked = feedsvc(["config", "check", "--config", str(config)], tmp_path)
    assert checked.returncode == 2, checked.stderr
    assert "(at line 2, column " in checked.stderr, checked.stderr
    assert checked.stderr.rstrip().endswith(f': text is written in quotes: {key} = "…"')
    assert line.split("=", 1)[1].strip() not in checked.stderr + checked.stdout
    topics = tmp_path / "topics.toml"
    topics.write_text(f"[[topic]]\n{line}\n", encoding="utf-8")
    imported = feedsvc(["topics", "import", str(topics)], tmp_path, FEEDSVC_CONFIG="/dev/null")
    assert imported.returncode == 2, imported.stderr
    assert imported.stderr.rstrip().endswith(f': text is written in quotes: {key} = "…"')


@pytest.mark.parametrize("line", ["admins = 42, 43", "port = 80 80", 'title = "open', "a b = 1"])
def test_no_quotes_hint_where_quotes_are_not_the_fix(tmp_path: Path, line: str) -> None:
    """Numbers (a list without its brackets, two ports), a string left open, a bad key: the
    parser's own words stand alone."""
    config = tmp_path / "feedsvc.toml"
    config.write_text(f"[section]\n{line}\n", encoding="utf-8")
    checked = feedsvc(["config", "check", "--config", str(config)], tmp_path)
    assert checked.returncode == 2 and "invalid TOML" in checked.stderr, checked.stderr
    assert "in quotes" not in checked.stderr, checked.stderr
