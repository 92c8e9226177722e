"""The signal's log line comes before the lines of the work it stops.

The demo's own listener interrupted its start-up (the render, the seeding's ingest) before the
service's listener logged "SIGTERM received: stopping", so "rendering stopped…" and "ingest:
stopping between batches" came first in the log, as if they had stopped by themselves (a
tester's). Every listener now calls ``StopSignals.announce`` first; the line is logged once.

Each signal once: the three reach the listeners alike (``StopSignals``), SIGTERM at the
seeding, the other two at the render.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from processes import free_port
from test_sigterm_startup import _env, _signal_at

#: Lines of work a stop ends, each logged after the signal that ended it.
STOPPED = ("rendering stopped after", "ingest: stopping between batches")


@pytest.mark.parametrize(
    ("stage", "sig", "articles"),
    [
        ("rendering the feeds and pages", signal.SIGINT, "60"),
        ("rendering the feeds and pages", signal.SIGHUP, "60"),
        ("feeds and pages ready", signal.SIGTERM, "5000"),  # during the seeding
    ],
)
def test_the_demo_logs_the_signal_before_what_it_stopped(
    tmp_path: Path, stage: str, sig: signal.Signals, articles: str
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    argv = ["demo", "--port", str(free_port()), "--articles", articles]
    code, _, _, log = _signal_at(argv, "/proc", _env(tmp), tmp_path / "demo.log", stage, sig)
    assert code in (0, 129, 130), log[-3000:]
    said = f"{sig.name} received: stopping"
    assert log.count(said) == 1, log[-3000:]
    lines = log.splitlines()
    at = next(i for i, line in enumerate(lines) if said in line)
    stopped = [i for i, line in enumerate(lines) if any(s in line for s in STOPPED)]
    assert all(i > at for i in stopped), "\n".join(lines[-20:])
