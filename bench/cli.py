"""CLI start-up: how long ``feedsvc`` takes to answer, next to ``python -c "import click"``.

Goals (issue #17 §1): ``--version`` and ``--help`` within 3x of importing Click; a command that
only reads the state DB (``topics list``, ``status``) within 6x. Whole processes, measured
interleaved (one run of each command per round) so the machine's load hits all alike; the
median wall time and the median CPU time (user + system, which a shared machine's load
distorts less) of ``--rounds`` rounds are printed; the goals are judged on CPU time.

    python bench/cli.py [--rounds 15] [--baseline /path/to/other/checkout] [--pg URL | --no-pg]

``--baseline`` adds the same commands run from another checkout (e.g. the main branch before a
change), side by side in the same rounds. ``--pg`` (default: the test server's ``feedsvc_test``
database, created when missing) adds the read-only commands on a PostgreSQL state DB, in a
schema of their own made for the run (migrated by ``feedsvc db upgrade``, the same topics and
articles) and dropped after it; ``--no-pg`` leaves PostgreSQL out, as does a server that does
not answer (one line says so).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
from common import machine, postgres_or_skip  # noqa: E402

COMMANDS: list[tuple[str, list[str], float | None]] = [  # label, argv after python, goal (x)
    ("import click", ["-c", "import click"], None),
    ("feedsvc --version", ["-m", "feedsvc", "--version"], 3.0),
    ("feedsvc --help", ["-m", "feedsvc", "--help"], 3.0),
    ("feedsvc topics list", ["-m", "feedsvc", "topics", "list"], 6.0),
    ("feedsvc status", ["-m", "feedsvc", "status"], 6.0),
    ("feedsvc render kien-thuy", ["-m", "feedsvc", "render", "kien-thuy"], None),
]
#: The commands timed on a PostgreSQL state DB too (``--pg``).
PG_COMMANDS = [c for c in COMMANDS if c[0] in ("feedsvc topics list", "feedsvc status")]
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/feedsvc_test"


def prepare(work: Path, code: Path = ROOT, url: str | None = None) -> dict[str, str]:
    """A state DB (made by the feedsvc in ``code``; ``url``, default an SQLite file in
    ``work``) with the shipped topics and 2,000 imported articles; the env to use it."""
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_DATABASE__URL": url or f"sqlite:///{work / 'state.db'}",
        "FEEDSVC_TOPICS__FILE": str(ROOT / "config" / "topics.toml"),
        "PYTHONPATH": str(code),
    }
    # cwd=work: ``-m``/``-c`` put the current directory first on sys.path
    for argv in (["db", "upgrade"], ["topics", "import"]):
        subprocess.run(
            [sys.executable, "-m", "feedsvc", *argv],
            env=env,
            cwd=work,
            check=True,
            capture_output=True,
        )
    code = (
        "import sys;"
        "from feedsvc import demo; from feedsvc.db import Database;"
        "db = Database(sys.argv[1]); demo.seed(db, 2000, demo.ArticleGenerator(seed=1))"
    )
    subprocess.run(
        [sys.executable, "-c", code, env["FEEDSVC_DATABASE__URL"]],
        env=env,
        check=True,
        cwd=work,
        capture_output=True,
    )
    return env


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A new, empty schema in the database at ``url`` (dropped afterwards, with all it holds);
    the URL whose connections use it (``options=-csearch_path=...``). Not ``common.state_db``:
    that one migrates with this checkout's code, and a ``--baseline`` checkout must migrate
    its own schema with its own ``feedsvc db upgrade`` (:func:`prepare`)."""
    import psycopg

    schema = f"bench_cli_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def once(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one process; CPU (user + system) suffers less from a shared
    machine's load than wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], env=env, cwd=cwd, capture_output=True)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="another checkout to time side by side (its code via PYTHONPATH)",
    )
    parser.add_argument(
        "--pg",
        default=DEFAULT_PG,
        metavar="URL",
        help="PostgreSQL database for the state DB rows (a schema made per run)",
    )
    parser.add_argument("--no-pg", dest="pg", action="store_const", const=None)
    args = parser.parse_args()
    print(f"machine: {machine()}; load {os.getloadavg()[0]:.2f}")
    if args.pg is not None:  # created when missing; None (as --no-pg) when it does not answer
        args.pg = postgres_or_skip(args.pg, "--no-pg") or None
    with tempfile.TemporaryDirectory() as tmp, _schemas(args) as (pg_url, base_pg_url):
        work = Path(tmp)
        env = prepare(work)
        (work / "run").mkdir()
        runs: list[tuple[str, list[str], dict[str, str], float | None]] = [
            (label, argv, env, goal) for label, argv, goal in COMMANDS
        ]
        if pg_url is not None:
            pg_env = prepare(work / "pg", url=pg_url)
            runs += [(f"pg: {label}", argv, pg_env, goal) for label, argv, goal in PG_COMMANDS]
        if args.baseline is not None:
            # its own DB: an older feedsvc cannot read a DB migrated by this one
            base_env = prepare(work / "baseline", args.baseline.resolve())
            runs += [
                (f"baseline: {label}", argv, base_env, None) for label, argv, _ in COMMANDS[1:]
            ]
            if base_pg_url is not None:
                base_pg_env = prepare(work / "baseline-pg", args.baseline.resolve(), base_pg_url)
                runs += [
                    (f"baseline pg: {label}", argv, base_pg_env, None)
                    for label, argv, _ in PG_COMMANDS
                ]
        wall: dict[str, list[float]] = {label: [] for label, *_ in runs}
        cpu: dict[str, list[float]] = {label: [] for label, *_ in runs}
        for _label, argv, run_env, _ in runs:  # warm-up: page cache, .pyc files
            once(argv, run_env, work / "run")
        for _ in range(args.rounds):
            for label, argv, run_env, _ in runs:
                w, c = once(argv, run_env, work / "run")
                wall[label].append(w)
                cpu[label].append(c)
        click_wall = statistics.median(wall["import click"])
        click_cpu = statistics.median(cpu["import click"])
        print(f"{'command':<36} {'wall ms':>8} {'x click':>7} {'CPU ms':>7} {'x click':>7}  goal")
        for label, _argv, _env, goal in runs:
            w, c = statistics.median(wall[label]), statistics.median(cpu[label])
            verdict = (
                ""
                if goal is None
                else (f"<= {goal:g}x: {'ok' if c <= goal * click_cpu else 'MISSED'} (CPU)")
            )
            print(
                f"{label:<36} {w * 1000:8.0f} {w / click_wall:7.1f} {c * 1000:7.0f} "
                f"{c / click_cpu:7.1f}  {verdict}"
            )
    print(f"load at end {os.getloadavg()[0]:.2f}; {args.rounds} rounds")


@contextmanager
def _schemas(args: argparse.Namespace) -> Iterator[tuple[str | None, str | None]]:
    """PostgreSQL state DB URLs for this checkout and the baseline (None: not timed)."""
    if args.pg is None:
        yield None, None
        return
    with pg_schema(args.pg) as url:
        if args.baseline is None:
            yield url, None
            return
        with pg_schema(args.pg) as base_url:
            yield url, base_url


if __name__ == "__main__":
    main()
