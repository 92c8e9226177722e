"""The exit guard (``feedsvc.shutdown``) in a real process: once armed, the process ends
within its budget, exit 1, even when a thread holds the GIL in one long C call, so that the
guard's own Python thread can never run."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

#: Calls that hold the GIL for far longer than any budget: the regular expression engine
#: backtracking (exponentially) in one C call.
HOGS = {
    "regex": 'import re; re.match(r"(a+)+$", "a" * 64 + "b")',
    "regex-search": 'import re; re.search(r"(x+x+)+y", "x" * 80)',
}


def run_armed(hog: str, seconds: float) -> tuple[int, float, str]:
    code = (
        "import sys, threading\n"
        "from feedsvc.shutdown import ExitGuard\n"
        f"ExitGuard(seconds={seconds}).arm()\n"
        "print('armed', flush=True)\n"
        f"{hog}\n"
        "print('the hog ended', flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "armed\n"
    t0 = time.monotonic()
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, time.monotonic() - t0, out + err


@pytest.mark.parametrize("hog", sorted(HOGS))
def test_a_thread_holding_the_gil_cannot_keep_the_process_alive(hog: str) -> None:
    code, took, output = run_armed(HOGS[hog], seconds=1.5)
    assert code == 1, output
    assert took < 1.5 + 1.0, f"took {took:.1f} s"  # the budget, plus process exit under load
    assert "the hog ended" not in output
    assert "most recent call first" in output  # the stacks say where it was stuck


def test_an_armed_process_that_ends_in_time_is_not_cut_short() -> None:
    code, took, output = run_armed("import time; time.sleep(0.1)", seconds=5.0)
    assert (code, "the hog ended" in output) == (0, True), output
    assert took < 5.0
