"""deploy/systemd/feedsvc.service's install steps (its header), replayed as written.

The header copied the configuration with ``cp -r config /srv/feedsvc/``; the repository's
``config/topics.toml`` is a symbolic link to the package's sample topics
(``../feedsvc/demo_data/topics.toml``), which ``cp -r`` copies as a link: in /srv/feedsvc it
points at nothing. The unit's service then failed ``feedsvc config check`` (exit 2,
``topics.file: file not found: config/topics.toml``) and ran with no topics, logging an
error at each start. The steps are run here with /srv/feedsvc under a temporary directory,
then feedsvc is run as the unit runs it (its WorkingDirectory and FEEDSVC_CONFIG).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "systemd" / "feedsvc.service"
SRV = "/srv/feedsvc"


def header_commands() -> list[str]:
    """The shell commands of the unit's header (``#   cmd``), in order."""
    lines = UNIT.read_text(encoding="utf-8").splitlines()
    return [m.group(1) for ln in lines if (m := re.match(r"^#   (\S.*)$", ln))]


def unit_setting(name: str) -> list[str]:
    return [
        ln.split("=", 1)[1] for ln in UNIT.read_text(encoding="utf-8").splitlines()
        if ln.startswith(f"{name}=")
    ]  # fmt: skip


@pytest.fixture
def srv(tmp_path: Path) -> Path:
    """The header's directory and configuration steps, run from the repository root (where
    they are typed) with /srv/feedsvc under ``tmp_path``: the user, the venv and systemd's
    own steps are not replayed (the package is this checkout's)."""
    root = tmp_path / "srv" / "feedsvc"
    root.mkdir(parents=True)
    steps = [c for c in header_commands() if c.startswith(("cp -r", "cp -R", "mkdir"))]
    assert any("config" in c for c in steps), header_commands()
    for step in steps:
        step = step.split("(then edit")[0].split("  #")[0]  # the prose after a step
        step = step.replace(" && chown feedsvc " + SRV + "/var", "")  # no such user here
        command = step.replace(SRV, str(root))
        subprocess.run(["bash", "-c", command], cwd=ROOT, check=True)
    return root


def feedsvc_as_the_unit(srv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (workdir,) = unit_setting("WorkingDirectory")
    config = next(
        e.split("=", 1)[1] for e in unit_setting("Environment") if e.startswith("FEEDSVC_CONFIG=")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": config.replace(SRV, str(srv)), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *args],
        cwd=workdir.replace(SRV, str(srv)), env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_copied_configuration_checks_clean(srv: Path) -> None:
    result = feedsvc_as_the_unit(srv, "config", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_the_copied_topics_file_is_a_file_of_its_own(srv: Path) -> None:
    """The operator edits /srv/feedsvc/config/topics.toml (the README: copy the sample to start
    your own): a file there, not a link into a package an upgrade replaces."""
    topics = srv / "config" / "topics.toml"
    assert topics.is_file() and not topics.is_symlink()
    assert "[[topic]]" in topics.read_text(encoding="utf-8")


def test_the_unit_imports_the_copied_topics(srv: Path) -> None:
    """What the unit's `feedsvc run` reads at start: the topics file the config names."""
    upgrade = feedsvc_as_the_unit(srv, "topics", "import")
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    listed = feedsvc_as_the_unit(srv, "topics", "list")
    assert listed.returncode == 0, listed.stderr
    assert "kien-thuy\t" in listed.stdout
    assert (srv / "var" / "feedsvc.db").is_file()  # in ReadWritePaths
    (rw,) = unit_setting("ReadWritePaths")
    assert Path(rw.replace(SRV, str(srv))) == srv / "var"


def test_every_file_the_steps_copy_is_where_they_are_typed() -> None:
    """The steps are typed in the repository root (`cp -rL config …`): the units they copy
    into /etc/systemd/system are named from there too (`cp feedsvc.service …` found nothing)."""
    copies = [c for c in header_commands() if c.startswith("cp ")]
    assert copies
    for command in copies:
        words = command.split("&&")[0].split(" (")[0].split("  #")[0].split()
        sources = [w for w in words[1:-1] if not w.startswith("-")]
        for source in sources:
            assert (ROOT / source).exists(), f"{command}: no {source} in the repository root"
