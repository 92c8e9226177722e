"""CPU of a service's start: ``import feedsvc.app`` and ``feedsvc run`` start-to-stop, each in a
fresh interpreter, for one or more trees of feedsvc side by side (runs interleaved).

    python bench/service_start.py [--runs 5] [--before DIR] [--after DIR]

``--before``/``--after`` name directories holding a ``feedsvc`` package (a ``git archive`` of
a commit), put first on ``PYTHONPATH``; without either, the installed one is measured alone.
``run`` has no token (neither ``telegram.token`` nor ``zalo.token``): a fresh SQLite state DB
(migrated at the start: alembic) or a copy of one ``db upgrade`` made (a restart's, and the
test suite's), in a temporary directory with one topic, SIGTERM at the "feedsvc started" line.
CPU is user + sys of the process and the children it waited for (``os.wait4``); one unmeasured
warm-up run of each first (bytecode caches). Prints the machine, then the median and every run,
s.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TOPICS = '[[topic]]\nslug = "kien-thuy"\ntitle = "Kiến Thụy"\nquery = \'"Kiến Thụy"\'\n'
#: what each case leaves in ``sys.modules`` is reported with ``import feedsvc.app``
WATCHED = ("httpx", "rich", "pygments", "pygal", "segno", "telegram")


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        "?",
    )  # fmt: skip
    load = Path("/proc/loadavg").read_text().split()[:3]
    return (
        f"model name: {cpu}; {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"load average {' '.join(load)}"
    )


def env_for(tree: str | None, work: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if tree:
        env["PYTHONPATH"] = tree
    if work is not None:
        env["FEEDSVC_CONFIG"] = str(work / "feedsvc.toml")
    return env


def cpu_of(proc: subprocess.Popen[bytes]) -> float:
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def import_app(tree: str | None) -> float:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import feedsvc.app"], env=env_for(tree), cwd=tempfile.gettempdir()
    )
    cpu = cpu_of(proc)
    assert proc.returncode == 0
    return cpu


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_in(work: Path) -> None:
    (work / "topics.toml").write_text(TOPICS, encoding="utf-8")
    (work / "feedsvc.toml").write_text(
        '[database]\nurl = "sqlite:///state.db"\n[topics]\nfile = "topics.toml"\n',
        encoding="utf-8",
    )


#: a state DB already upgraded (``db upgrade``), copied for each run of ``run_start_stop``
#: with ``migrated``: a restart's start, and the test suite's (``tests/migrated.py``)
UPGRADED = Path(tempfile.mkdtemp(prefix="service-start-")) / "state.db"


def upgraded(tree: str | None) -> None:
    config_in(UPGRADED.parent)
    subprocess.run(
        [sys.executable, "-m", "feedsvc", "db", "upgrade"], env=env_for(tree, UPGRADED.parent),
        cwd=UPGRADED.parent, check=True, capture_output=True,
    )  # fmt: skip


def run_start_stop(
    tree: str | None, *flags: str, migrated: bool = False, importtime: bool = False
) -> float | str:
    """CPU of ``run FLAGS`` started and stopped, on a fresh state DB or (``migrated``) a copy
    of :data:`UPGRADED`; with ``importtime``, which of :data:`WATCHED` it imported
    (``-X importtime``) instead."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config_in(work)
        if migrated:
            shutil.copyfile(UPGRADED, work / "state.db")
        env = env_for(tree, work)
        env["FEEDSVC_HTTP__PORT"] = str(free_port())
        proc = subprocess.Popen(
            [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "feedsvc",
             "run", *flags],
            env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        assert proc.stdout is not None
        seen = []
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            seen.append(line.decode(errors="replace"))
            if b"feedsvc started" in line:
                proc.send_signal(signal.SIGTERM)
                break
            assert time.monotonic() < deadline, "".join(seen)
        else:
            raise AssertionError("no 'feedsvc started':\n" + "".join(seen))
        seen.append(proc.stdout.read().decode(errors="replace"))
        cpu = cpu_of(proc)
        assert proc.returncode == 0, "".join(seen)
        if importtime:
            names = {line.rsplit("|", 1)[1].strip() for line in "".join(seen).splitlines()
                     if line.startswith("import time:")}  # fmt: skip
            return (
                f"run {' '.join(flags)}: {len(names)} modules, {[m for m in WATCHED if m in names]}"
            )
        return cpu


def loaded(tree: str | None) -> str:
    code = (
        "import sys, feedsvc.app; n = len(sys.modules); "
        f"print(feedsvc.app.__file__, n, [m for m in {WATCHED!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env_for(tree), cwd=tempfile.gettempdir(),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before")
    parser.add_argument("--after")
    parser.add_argument("--only", help="the cases whose name holds this text (default: all)")
    args = parser.parse_args()
    trees = {name: tree for name, tree in (("before", args.before), ("after", args.after)) if tree}
    if not trees:
        trees = {"installed": None}
    print(machine())
    upgraded(None)
    for name, tree in trees.items():
        print(f"{name}: {loaded(tree)}")
        for flags in (["--no-bot"], []):
            for migrated in (False, True):
                what = run_start_stop(tree, *flags, migrated=migrated, importtime=True)
                print(f"{name}: {what}{', upgraded DB' if migrated else ''}")
    cases: dict[str, Callable[[str | None], float | str]] = {
        "import feedsvc.app": lambda tree: import_app(tree),
        "run --no-bot, no token": lambda tree: run_start_stop(tree, "--no-bot"),
        "run, no token": lambda tree: run_start_stop(tree),
        "run --no-bot, upgraded": lambda tree: run_start_stop(tree, "--no-bot", migrated=True),
    }
    for case, measure in cases.items():
        if args.only and args.only not in case:
            continue
        figures: dict[str, list[float]] = {name: [] for name in trees}
        for tree in trees.values():
            measure(tree)  # warm-up
        for _ in range(args.runs):
            for name, tree in trees.items():
                figures[name].append(float(measure(tree)))
        for name, runs in figures.items():
            shown = " ".join(f"{r:.2f}" for r in runs)
            print(f"{case:26} {name:9} median {statistics.median(runs):.3f} s CPU  ({shown})")
    print(machine())
    shutil.rmtree(UPGRADED.parent)


if __name__ == "__main__":
    main()
