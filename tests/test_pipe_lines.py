"""A signal ends every wait for input of ``import -`` and ``match``, whenever it came
(:mod:`feedsvc.pipe_lines`).

CI, once: ``match`` sent SIGTERM right after printing a line's answer hung for 60 s, in a read
of its idle stdin. The signal had come after Python's last check for one and before the read
entered the kernel: the C-level handler marked it, the read was not interrupted, and Python ran
the handler only when the read returned, which an open, idle pipe never makes it do.

That moment cannot be hit on purpose, but its state can be made certain: here the CLI runs with
SIGINT and SIGTERM blocked in its main thread and a second thread open to them, so the
process's signal is always taken by the C-level handler in that thread, and never interrupts
the main thread's wait, exactly as a signal just before the read. The old reads waited until
killed in every case below; each wait must now end with the command's words and exit code.

A wait's moment and the signal are each-choice (:func:`signal_at`): every signal ends every
wait through the same handler (the command's, ``feedsvc.entry``) and wakeup pipe, only the
words and exit code differ.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from combos import each_choice
from migrated import premigrated
from test_import_slow_pipe import send, stored, wait_stored

from feedsvc.pipe_lines import InputWait, paced_lines, wait_for_input

#: The CLI's console script with the signals held off its main thread (the module's docstring).
RUNNER = """
import signal, sys, threading
threading.Thread(target=threading.Event().wait, daemon=True).start()  # takes the signals
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
sys.argv = ["feedsvc", *sys.argv[1:]]
from feedsvc.entry import main
main()
"""

#: A wait ended by the signal takes well under a second; one that never ends is killed here.
ENDS_WITHIN = 30.0

SIGNALS = [
    pytest.param(signal.SIGINT, 130, "interrupted", id="SIGINT"),
    pytest.param(signal.SIGTERM, 143, "terminated (SIGTERM)", id="SIGTERM"),
    pytest.param(signal.SIGHUP, 129, "hung up (SIGHUP)", id="SIGHUP"),
]


def signal_at(whens: list[str]) -> list[Any]:
    """(sig, code, words, when) cases: each signal and each moment of the wait once."""
    return [
        pytest.param(*sig.values, when, id=f"{sig.id}-{when}")
        for sig, when in each_choice(SIGNALS, whens)
    ]


def line(key: str, title: str = "Công an xã Kiến Thụy") -> bytes:
    return json.dumps({
        "source_key": key, "url": f"https://e.vn/{key}", "title": title,
        "published_at": "2026-11-20T10:00:00+07:00",
    }, ensure_ascii=False).encode() + b"\n"  # fmt: skip


@contextmanager
def cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """The CLI (:data:`RUNNER`) with ``args``, its stdin a pipe the test keeps open."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, *args], cwd=tmp_path, env=base | (env or {}),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def asleep(pid: int, steady: float = 0.3) -> None:
    """Return once the main thread of ``pid`` has been asleep (state S: blocked in its wait for
    input, the only place these commands sleep) for ``steady`` seconds; a signal sent before
    that could find it still running Python, which would see the signal without any wait."""
    deadline = time.monotonic() + ENDS_WITHIN
    since: float | None = None
    while True:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        now = time.monotonic()
        since = (since or now) if state == "S" else None
        if since is not None and now - since >= steady:
            return
        assert now < deadline, f"the process never waited (state {state})"
        time.sleep(0.02)


def ended(proc: subprocess.Popen[bytes], sig: int) -> tuple[int, str, str]:
    """Send ``sig``; (exit code, stdout, stderr) once the process has ended, or fail naming
    the wait that did not end."""
    proc.send_signal(sig)
    try:  # stdin stays open (communicate() would close it: the end of input ends any wait)
        proc.wait(timeout=ENDS_WITHIN)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"{signal.Signals(sig).name} did not end the wait for input") from None
    assert proc.stdout is not None and proc.stderr is not None  # a few lines: no pipe fills
    return proc.returncode, proc.stdout.read().decode(), proc.stderr.read().decode()


@pytest.mark.parametrize(
    ("sig", "code", "words", "when"), signal_at(["after-an-answer", "before-any-input"])
)
def test_match_query_ends_on_a_signal_while_it_waits(
    tmp_path: Path, sig: int, code: int, words: str, when: str
) -> None:
    with cli(tmp_path, "match", "--query", '"công an"') as proc:
        assert proc.stdout is not None
        if when == "after-an-answer":
            send(proc, line("K1"))
            assert proc.stdout.readline() == b"K1\n"
        asleep(proc.pid)
        exit_code, _out, err = ended(proc, sig)
    assert (exit_code, err) == (code, f"feedsvc: {words}\n")


@pytest.mark.parametrize(("sig", "code", "words"), SIGNALS)
def test_match_topics_ends_on_a_signal_while_it_waits(
    tmp_path: Path, sig: int, code: int, words: str
) -> None:
    topics = tmp_path / "topics.toml"
    topics.write_text('[[topic]]\nslug = "an-ninh"\ntitle = "An ninh"\nquery = \'"công an"\'\n')
    with cli(tmp_path, "match", "--topics", str(topics)) as proc:
        assert proc.stdout is not None
        send(proc, line("K1") + line("K2", "Thời tiết"))
        assert proc.stdout.readline() == b"K1\tan-ninh\n"
        asleep(proc.pid)
        exit_code, _out, err = ended(proc, sig)
    assert (exit_code, err) == (code, f"feedsvc: {words}\n")


@pytest.mark.parametrize(
    ("sig", "code", "words", "when"),
    signal_at(["before-any-input", "after-a-pause", "in-a-partial-line"]),
)
def test_import_from_a_pipe_ends_on_a_signal_while_it_waits(
    tmp_path: Path, sig: int, code: int, words: str, when: str
) -> None:
    """Before the first line (the wait that comes before the state DB is opened), and in the
    unbounded wait after a pause stored the lines (whole, or with a partial line after them)."""
    url = premigrated(f"sqlite:///{tmp_path / 'state.db'}")
    env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    with cli(tmp_path, "import", "-", env=env) as proc:
        if when != "before-any-input":
            send(proc, line("P1") + (line("P2")[:15] if when == "in-a-partial-line" else b""))
            wait_stored(url, proc, {"P1"})
        asleep(proc.pid)
        exit_code, _out, err = ended(proc, sig)
    assert exit_code == code, err
    if when == "before-any-input":  # nothing read yet: the CLI's one line, as for any command
        assert err == f"feedsvc: {words}\n"
        assert stored(url) == {}
        return
    assert f"feedsvc import: {words.split()[0]}" in err, err
    assert "Traceback" not in err, err
    assert stored(url).keys() == {"P1"}
    assert "The lines after line 1 were not read: send them again." in err, err


def test_a_wait_outside_the_main_thread_is_a_plain_poll() -> None:
    """No wakeup pipe can be set outside the main thread: the wait still gives the input (and
    leaves the main thread's wakeup pipe as it was)."""
    import threading

    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    read_fd, write_fd = os.pipe()
    results: list[object] = []

    def waiter() -> None:
        with open(read_fd, "rb", buffering=0) as stream:
            results.extend(paced_lines(stream, None))

    thread = threading.Thread(target=waiter)
    thread.start()
    os.write(write_fd, b"a\nb\n")
    os.close(write_fd)
    thread.join(ENDS_WITHIN)
    assert results == [b"a\n", b"b\n"]
    assert signal.set_wakeup_fd(before) == before


def test_the_wakeup_pipe_is_put_back_and_closed() -> None:
    """After a wait (ended by input, by a deadline, or by the handler's exception) the wakeup
    descriptor is the one that was set before, and the wait's pipe is closed."""
    read_fd, write_fd = os.pipe()
    before = signal.set_wakeup_fd(-1)
    try:
        with InputWait(read_fd) as wait:
            ours = signal.set_wakeup_fd(-1)
            signal.set_wakeup_fd(ours)
            assert ours not in (-1, before)
            assert wait.ready(time.monotonic() + 0.05) is False
            os.write(write_fd, b"x")
            assert wait.ready(None) is True
        assert signal.set_wakeup_fd(-1) == -1
        with pytest.raises(OSError):
            os.fstat(ours)
        # a signal whose handler only notes it: its byte is drained, the wait runs to its deadline
        noted: list[int] = []
        old = signal.signal(signal.SIGUSR1, lambda signum, frame: noted.append(signum))
        try:
            with InputWait(read_fd) as wait:
                os.read(read_fd, 1)
                signal.raise_signal(signal.SIGUSR1)
                assert wait.ready(time.monotonic() + 0.2) is False
        finally:
            signal.signal(signal.SIGUSR1, old)
        assert noted == [signal.SIGUSR1]
    finally:
        signal.set_wakeup_fd(before)
        os.close(read_fd)
        os.close(write_fd)


def test_wait_for_input_reads_nothing(tmp_path: Path) -> None:
    """``import``'s wait for the first input leaves it all to the reader after it, from a pipe
    and from a regular file."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"a\n")
    os.close(write_fd)
    with open(read_fd, "rb") as stream:
        wait_for_input(stream)
        assert list(paced_lines(stream, None)) == [b"a\n"]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"a\nb\n")
    with path.open("rb") as stream:
        wait_for_input(stream)
        assert list(paced_lines(stream, 1.0)) == [b"a\n", b"b\n"]


@pytest.mark.parametrize("command", [("match", "--query", "a"), ("import", "-")])
def test_stdin_open_for_writing_only_fails_at_once(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """stdin given a pipe's write end (``0<&1`` in a miswired script): a read fails at once
    (EBADF), said in one line, exit 1; a wait for input on it would never end."""
    read_fd, write_fd = os.pipe()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null",
            "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}"}  # fmt: skip
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "feedsvc", *command], cwd=tmp_path, env=env,
            stdin=write_fd, capture_output=True, timeout=ENDS_WITHIN,
        )  # fmt: skip
    finally:
        os.close(read_fd)
        os.close(write_fd)
    err = proc.stderr.decode()
    assert proc.returncode == 1, err
    assert err.startswith("feedsvc: ") and "Bad file descriptor" in err, err
    assert "Traceback" not in err, err
