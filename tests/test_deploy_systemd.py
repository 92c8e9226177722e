"""deploy/systemd units: valid for systemd, and their command lines valid for feedsvc."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = sorted((Path(__file__).parent.parent / "deploy" / "systemd").glob("*.service"))


def exec_start(unit: Path) -> list[str]:
    lines = [ln for ln in unit.read_text().splitlines() if ln.startswith("ExecStart=")]
    assert len(lines) == 1, unit
    return shlex.split(lines[0].removeprefix("ExecStart="))


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_command_line_is_accepted_by_feedsvc(unit: Path) -> None:
    program, *args = exec_start(unit)
    assert program.endswith("/bin/feedsvc")
    result = subprocess.run(
        [sys.executable, "-m", "feedsvc", *args, "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr  # every option in the unit exists


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_passes_systemd_analyze_verify(unit: Path, tmp_path: Path) -> None:
    # The binary is not installed here: point ExecStart at one that exists, keep the rest.
    program = exec_start(unit)[0]
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace(program, "/bin/true"))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
