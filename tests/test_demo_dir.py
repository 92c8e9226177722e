"""`feedsvc demo` and its directory, as real processes (newcomer D3, F5, W3 and the empty
`var/demo/` left by a refusal):

- a second demo in a directory a running demo holds (``./var/demo`` by default) recreated the
  database under it, which then ran on two databases: now it is refused (exit 2, one line
  naming the directory, the pid and ``--dir``) by an ``flock`` the kernel drops when the holder
  dies (a SIGKILLed demo does not block the next one);
- a refusal removes the directories it made (checked in the test's process: the topics check
  refuses before anything starts);
- the CLI hints name the command as it can be typed (the venv's script by its path);
- Ctrl-C (SIGINT) is exit 130 after the clean stop, for ``demo`` and ``run`` alike; SIGTERM 0;
- a temporary directory the demo made itself goes when it stops (tester F12).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from in_process import feedsvc
from processes import free_port, get, wait_until
from test_cli_db_errors import immutable

from feedsvc.cli.common import command_name

ROOT = Path(__file__).parent.parent
SCRIPT = Path(sys.executable).parent / "feedsvc"  # the venv's console script


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A directory laid out as the README's demo expects (``config/topics.toml``)."""
    (tmp_path / "config").mkdir()
    topics = (ROOT / "config" / "topics.toml").read_text(encoding="utf-8")
    (tmp_path / "config" / "topics.toml").write_text(topics, encoding="utf-8")
    return tmp_path


def _env(path_dirs: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if path_dirs is not None:
        env["PATH"] = path_dirs
    return env


def _demo(
    cwd: Path,
    out: Path,
    *args: str,
    command: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    with out.open("wb") as sink:
        return subprocess.Popen(
            [*(command or [sys.executable, "-m", "feedsvc"]), "demo", "--articles", "5", *args],
            cwd=cwd,
            env=env or _env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def _serving(proc: subprocess.Popen[bytes], port: int, log: Path | None = None) -> None:
    """Wait for the demo at ``port`` to answer; its exit fails the test with ``log``'s text (a
    CI run's exit 2 said nothing: a port taken meanwhile, or another refusal?)."""
    wait_until(
        lambda: (
            proc.poll() is not None
            or ((r := get(f"http://127.0.0.1:{port}/healthz")) is not None and r.status_code == 200)
        ),
        60,
        "the demo to answer",
    )
    told = log.read_text("utf-8", "replace") if log is not None else ""
    assert proc.poll() is None, f"the demo exited: {told}"


def _demo_ran(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", "demo", *args],
        cwd=repo,
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_demo_in_the_same_directory_is_refused(
    repo: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    """The newcomer's repro: `feedsvc demo`, then `feedsvc demo --port 8085` in the same
    directory. The running demo's database is not touched; after it is SIGKILLed (its lock
    file and pid left behind), the next demo starts."""
    port = free_port()
    first = _demo(repo, repo / "first.log", "--port", str(port))
    procs.append(first)
    _serving(first, port)
    db = repo / "var" / "demo" / "demo.db"
    inode = db.stat().st_ino
    second = _demo_ran(repo, "--port", str(free_port()))
    assert second.returncode == 2, second.stderr
    assert second.stdout == ""
    [line] = second.stderr.splitlines()
    assert line == (
        f"feedsvc: a demo is already running in var/demo (pid {first.pid}): stop it, or run "
        "this one in another directory with --dir"
    )
    assert db.stat().st_ino == inode and first.poll() is None
    other = _demo_ran(repo, "--dir", "var/demo/", "--port", str(free_port()))  # same, spelt so
    assert other.returncode == 2 and f"(pid {first.pid})" in other.stderr
    first.kill()
    first.wait()
    assert (repo / "var" / "demo" / "demo.lock").read_text().strip() == str(first.pid)
    port = free_port()
    again = _demo(repo, repo / "again.log", "--port", str(port))
    procs.append(again)
    _serving(again, port)
    again.send_signal(signal.SIGTERM)
    assert again.wait(timeout=30) == 0


def test_a_second_demo_at_the_same_port_is_told_a_demo_runs_there(
    repo: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    """`feedsvc demo` twice in one directory at one port (the default 8080 for a user; a free
    one here): the second was told the port was in use (choose another with --port), the real
    reason only at another port. The directory's lock is looked at first; the running demo's
    database is not touched, and nothing is left in the directory by the refusal."""
    port = free_port()
    first = _demo(repo, repo / "first.log", "--port", str(port))
    procs.append(first)
    _serving(first, port, repo / "first.log")
    db = repo / "var" / "demo" / "demo.db"
    inode = db.stat().st_ino
    for args in (["--port", str(port)], ["--dir", "var/demo/", "--port", str(port)]):
        second = _demo_ran(repo, *args)
        assert second.returncode == 2, second.stderr
        assert second.stderr.splitlines() == [
            f"feedsvc: a demo is already running in var/demo (pid {first.pid}): stop it, or "
            "run this one in another directory with --dir"
        ], second.stderr
    assert db.stat().st_ino == inode and first.poll() is None


def test_two_demos_started_at_once_at_one_port_tell_a_demo_runs(
    repo: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    """A tester's D8: `feedsvc demo --port P` twice in one directory within about 0.6 s; the
    second was told "cannot listen on 127.0.0.1:P: already in use" (3 of 3), as the first had
    bound the port but not yet taken its lock (its imports and settings came between), and
    the second had looked at the lock before its own imports. The lock is now taken before
    the port is bound: whichever demo locks first serves, the other is refused by the lock.
    Started at the same moment here (both look before either locks, as in the report)."""
    port = free_port()
    both = [_demo(repo, repo / f"demo{n}.log", "--port", str(port)) for n in (1, 2)]
    procs.extend(both)
    wait_until(lambda: any(p.poll() is not None for p in both), 60, "one demo to be refused")
    [refused] = [p for p in both if p.poll() is not None]
    [first] = [p for p in both if p is not refused]
    said = (repo / f"demo{both.index(refused) + 1}.log").read_text("utf-8")
    assert refused.returncode == 2, said
    assert said.splitlines() == [
        f"feedsvc: a demo is already running in var/demo (pid {first.pid}): stop it, or run "
        "this one in another directory with --dir"
    ], said
    _serving(first, port, repo / f"demo{both.index(first) + 1}.log")


def test_a_demo_refused_at_a_taken_port_leaves_no_lock_or_directory(tmp_path: Path) -> None:
    """The lock is taken before the port is bound now: a port taken by something else is
    still the one line, and the directory made for the lock goes again (lock and all)."""
    import socket

    env = _env() | {"FEEDSVC_CONFIG": "/dev/null"}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        done = _demo_ran(tmp_path, "--port", str(taken), "--dir", "made/here", env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"feedsvc: cannot listen on 127.0.0.1:{taken}: already in use; stop what holds it, "
        "or choose another port with --port\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("given", [None, "made/for/demo"], ids=["default", "--dir"])
def test_a_refused_demo_leaves_no_directory_behind(tmp_path: Path, given: str | None) -> None:
    """Refused (a ``topics.file`` set but missing: exit 2), it leaves no empty ``var/demo/``
    (or the ``--dir`` it would have made). Without ``topics.file`` set, a directory with no
    ``config/topics.toml`` is no refusal any more: the packaged topics (test_demo_anywhere)."""
    given_dir = ["--dir", given] if given else []
    # in this process: the refusal is the topics check's, before anything starts
    argv = ["demo", "--articles", "5", "--port", str(free_port()), *given_dir]
    done = feedsvc(argv, tmp_path, FEEDSVC_TOPICS__FILE="config/topics.toml")
    assert done.returncode == 2, done.stderr
    assert "topics file config/topics.toml not found" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_demo_names_its_command_and_exits_130_on_ctrl_c(
    repo: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    """Started as the README says (`.venv/bin/feedsvc demo`, the venv not on PATH): the CLI
    hints give that script's path, not a bare `feedsvc` ("command not found"). Ctrl-C stops it
    cleanly with exit 130."""
    if not SCRIPT.is_file():
        pytest.skip(f"no console script at {SCRIPT}")
    port = free_port()
    log = repo / "demo.log"
    proc = _demo(repo, log, "--port", str(port), command=[str(SCRIPT)], env=_env("/usr/bin:/bin"))
    procs.append(proc)
    _serving(proc, port)
    wait_until(lambda: "Ctrl-C to stop" in log.read_text("utf-8"), 30, "the banner")
    text = log.read_text("utf-8")
    assert f"           {SCRIPT} topics list; {SCRIPT} status; " in text, text
    assert " feedsvc topics list" not in text
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130, log.read_text("utf-8")
    assert "feedsvc stopped" in log.read_text("utf-8")


#: Each-choice: the exit code is the signal's (``StopSignals.exit_code``) whichever roles run.
@pytest.mark.parametrize(
    ("sig", "roles"),
    [(signal.SIGINT, []), (signal.SIGTERM, ["--no-http"])],
    ids=["SIGINT-http", "SIGTERM-no-http"],
)
def test_run_exits_130_on_sigint_and_0_on_sigterm(
    repo: Path, procs: list[subprocess.Popen[bytes]], sig: signal.Signals, roles: list[str]
) -> None:
    """One rule for every command (README: "Ctrl-C exits 130"): `run` stopped in order by
    SIGINT is 130 (it was 0), by SIGTERM 0, with or without its HTTP server."""
    port = free_port()
    env = _env() | {
        "FEEDSVC_HTTP__PORT": str(port),
        "FEEDSVC_DATABASE__URL": f"sqlite:///{repo / 's.db'}",
    }
    log = repo / "run.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run", "--no-bot", *roles],
            cwd=repo,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    procs.append(proc)
    wait_until(
        lambda: proc.poll() is not None or "feedsvc started" in log.read_text("utf-8"),
        60,
        "the service to start",
    )
    proc.send_signal(sig)
    code = proc.wait(timeout=30)
    text = log.read_text("utf-8")
    assert code == (130 if sig == signal.SIGINT else 0), text
    assert "feedsvc stopped" in text and "Traceback" not in text


@pytest.mark.parametrize(
    ("argv0", "on_path", "expected"),
    [
        ("{bin}/feedsvc", False, "{bin}/feedsvc"),  # the README's `.venv/bin/feedsvc demo`
        ("{bin}/feedsvc", True, "feedsvc"),  # an activated venv
        ("feedsvc", True, "feedsvc"),
        ("{py}/__main__.py", False, "{py_exe} -m feedsvc"),
    ],
)
def test_command_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv0: str, on_path: bool, expected: str
) -> None:
    """The command the hints print: typed as-is it runs this feedsvc."""
    bin_dir = tmp_path / "my venv" / "bin"  # a space: the printed command is shell-quoted
    bin_dir.mkdir(parents=True)
    script = bin_dir / "feedsvc"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    python = bin_dir / "python"
    python.symlink_to(sys.executable)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "python").symlink_to(sys.executable)  # the same file, another environment
    monkeypatch.chdir(tmp_path)
    path = os.pathsep.join([*([str(bin_dir)] if on_path else []), str(other)])
    names = {"bin": str(bin_dir), "py": str(tmp_path), "py_exe": f"'{python}'"}
    got = command_name(argv0.format(**names), str(python), path)
    assert got == expected.format(**names).replace(str(script), f"'{script}'")


#: Why ``./var/demo`` cannot be made, and the banner's words for it: an immutable directory
#: (root ignores permission bits), and a newcomer's ``touch var`` (a file where its parent goes).
NO_VAR_DEMO = {
    "immutable": "cannot write there (operation not permitted)",
    "var-a-file": "cannot write there (not a directory)",
}


@pytest.mark.parametrize(
    ("sig", "cause"),
    [(signal.SIGINT, "immutable"), (signal.SIGTERM, "var-a-file")],
    ids=["SIGINT-immutable", "SIGTERM-var-a-file"],
)
def test_a_temporary_directory_the_demo_made_goes_when_it_stops(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]], sig: signal.Signals, cause: str
) -> None:
    """Tester F12: started where ``./var/demo`` cannot be made, the demo ran in a new
    ``feedsvc-demo-*`` directory and left it (its 2.5 MB DB and lock) behind at every stop.
    Now it removes it, and only it. Its banner says why ./var/demo was not used and that the
    directory goes when it stops (a newcomer's: it named only the ``/tmp/…`` database)."""
    here, temp = tmp_path / "here", tmp_path / "tmp"
    here.mkdir()
    temp.mkdir()
    if cause == "var-a-file":
        (here / "var").touch()
    port = free_port()
    with immutable(here) if cause == "immutable" else contextlib.nullcontext():
        proc = _demo(
            here, tmp_path / "demo.log", "--port", str(port), env=_env() | {"TMPDIR": str(temp)}
        )
        procs.append(proc)
        _serving(proc, port, tmp_path / "demo.log")
        [made] = temp.iterdir()  # the demo's own, named in its banner
        assert made.name.startswith("feedsvc-demo-") and (made / "demo.db").is_file()
        text = (tmp_path / "demo.log").read_text("utf-8")
        assert f"database sqlite:///{made.resolve() / 'demo.db'}" in text, text
        told = f"./var/demo: {NO_VAR_DEMO[cause]}; using a temporary directory, deleted when"
        assert f"\n  note     {told} the demo stops\n" in text, text
        proc.send_signal(sig)
        code = proc.wait(timeout=30)
    text = (tmp_path / "demo.log").read_text("utf-8")
    assert code == (130 if sig == signal.SIGINT else 0), text
    left = [p.name for p in here.iterdir()]
    assert list(temp.iterdir()) == [] and left == (["var"] if cause == "var-a-file" else []), text
    assert "Traceback" not in text and "could not remove" not in text, text


@pytest.mark.parametrize("given", [None, "mine"], ids=["./var/demo", "--dir"])
def test_a_directory_the_demo_did_not_make_for_itself_is_kept(
    repo: Path, procs: list[subprocess.Popen[bytes]], given: str | None
) -> None:
    """``./var/demo`` and a ``--dir`` keep the DB after the stop (the next start recreates it)."""
    port = free_port()
    extra = ["--dir", str(repo / given)] if given else []
    proc = _demo(repo, repo / "demo.log", "--port", str(port), *extra)
    procs.append(proc)
    _serving(proc, port)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    folder = repo / given if given else repo / "var" / "demo"
    assert (folder / "demo.db").is_file() and (folder / "demo.lock").is_file()


def test_the_temporary_directory_goes_when_the_demo_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error while the demo runs (here: raised by its event loop) removes it too; the
    error is still the command's."""
    from click.testing import CliRunner

    from feedsvc.cli import demo_cmd

    here, temp = tmp_path / "here", tmp_path / "tmp"
    here.mkdir()
    temp.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    monkeypatch.setattr(demo_cmd, "configure_logging", lambda settings: None)
    seen: list[tuple[Path, bool]] = []

    def broken(main: Any) -> None:
        main.close()
        seen.extend((made, (made / "demo.lock").is_file()) for made in temp.iterdir())
        raise RuntimeError("the demo broke")

    monkeypatch.setattr(demo_cmd, "run_async", broken)
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FEEDSVC_")} | {
        "FEEDSVC_CONFIG": "/dev/null"
    }
    with immutable(here):
        result = CliRunner().invoke(demo_cmd.demo, ["--port", "0"], env=env)
    assert isinstance(result.exception, RuntimeError), result.output
    [(made, locked)] = seen
    assert made.name.startswith("feedsvc-demo-") and locked
    assert list(temp.iterdir()) == []
