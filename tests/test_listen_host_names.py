"""``http.host`` as a NAME is listened on at every address it stands for.

``http.host = "localhost"`` listened on 127.0.0.1 only and the start-up line said "HTTP on
localhost:PORT": another program holding [::1]:PORT got every client that tries ::1 first
(curl, browsers, Python's clients), and nothing told the operator. Now ``localhost`` is
127.0.0.1 and ::1 (RFC 6761: curl tries both even where /etc/hosts names 127.0.0.1 only, as
on this machine), each address bound is named, a port taken at either is the clean busy-port
error (exit 2) naming that address, and a machine without IPv6 starts on IPv4 and says so. A
literal address is listened on alone, as before (``::`` IPv6 only). Real sockets on loopback.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import get, wait_until
from site_placeholder import unplaced

STARTED = re.compile(r"feedsvc started: HTTP on (.+?), ")
ROOT = Path(__file__).resolve().parent.parent
FEEDSVC = (sys.executable, "-m", "feedsvc")


def _has_ipv6_loopback() -> bool:
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _has_ipv6_loopback(), reason="no ::1 on this machine")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env | {"FEEDSVC_CONFIG": "/dev/null"} | extra


class Run:
    """``feedsvc run`` (HTTP only) in ``cwd``, output to a file: started or ended, whichever
    comes first (a deadline), then stopped."""

    def __init__(self, cwd: Path, port: int, env: dict[str, str], prefix: tuple[str, ...] = ()):
        self.log = cwd / "run.log"
        env = env | {"FEEDSVC_DATABASE__URL": f"sqlite:///{cwd / 'state.db'}"}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*prefix, *FEEDSVC, "run", "--port", str(port), "--no-scheduler", "--no-bot"],
                cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_until(lambda: self.proc.poll() is not None or "feedsvc started" in self.text(),
                   120, "the start-up line or the exit")  # fmt: skip

    def text(self) -> str:
        return self.log.read_text("utf-8")

    def listening(self) -> list[str]:
        found = STARTED.search(self.text())
        assert found is not None, self.text()
        return found[1].split(" and ")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


@pytest.fixture
def run(tmp_path: Path) -> Iterator[list[Run]]:
    started: list[Run] = []
    yield started
    for one in started:
        one.stop()


@needs_ipv6
def test_localhost_is_served_at_127_0_0_1_and_at_ipv6_loopback(
    tmp_path: Path, run: list[Run]
) -> None:
    """``--port 0``: one port, the same at both; the start-up line names both addresses."""
    run.append(Run(tmp_path, 0, _env(FEEDSVC_HTTP__HOST="localhost")))
    served = run[0]
    assert served.proc.poll() is None, served.text()
    v4, v6 = served.listening()
    port = v4.rsplit(":", 1)[1]
    assert (v4, v6) == (f"127.0.0.1:{port}", f"[::1]:{port}"), served.text()
    for address in (v4, v6):
        answer = get(f"http://{address}/healthz")
        assert answer is not None and answer.status_code == 200, address
    assert " WARNING " not in unplaced(served.text()), served.text()


@needs_ipv6
@pytest.mark.parametrize(
    ("family", "address"),
    [(socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1")],
    ids=["held-at-ipv6-loopback", "held-at-127.0.0.1"],
)
def test_a_port_held_at_either_address_of_localhost_is_the_busy_port_error(
    tmp_path: Path, run: list[Run], family: socket.AddressFamily, address: str
) -> None:
    """Another program on [::1]:PORT got the clients that try ::1 first while feedsvc started
    on 127.0.0.1:PORT; now it is exit 2 before anything starts, naming the address."""
    with socket.create_server((address, 0), family=family) as holder:
        port = holder.getsockname()[1]
        run.append(Run(tmp_path, port, _env(FEEDSVC_HTTP__HOST="localhost")))
        done = run[0]
        assert done.proc.wait(timeout=30) == 2, done.text()
    shown = f"[{address}]" if family == socket.AF_INET6 else address
    assert done.text() == (
        f"feedsvc: cannot listen on {shown}:{port} (localhost): already in use; stop what "
        "holds it, or choose another port with --port (or http.port in the config)\n"
    )
    assert not (tmp_path / "state.db").exists()  # nothing started


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "::", "0.0.0.0"])
def test_a_literal_address_is_listened_on_alone(host: str) -> None:
    """As before: one socket at that address; ``::`` takes IPv6 only (IPV6_V6ONLY), as
    ``0.0.0.0`` takes IPv4 only (README)."""
    from feedsvc.listen import listen_sockets

    if ":" in host and not _has_ipv6_loopback():
        pytest.skip("no IPv6 on this machine")
    bound = listen_sockets(host, 0)
    try:
        [sock] = bound.sockets
        assert sock.getsockname()[0] == host
        if sock.family == socket.AF_INET6:
            assert sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
        shown = f"[{host}]" if ":" in host else host
        assert bound.addresses() == [f"{shown}:{bound.port}"]
    finally:
        bound.close()


def test_a_literal_address_logs_itself_and_leaves_the_other_family_alone(
    tmp_path: Path, run: list[Run]
) -> None:
    """``http.host = "127.0.0.1"``: 127.0.0.1 only, as before; [::1] at the port is not ours."""
    run.append(Run(tmp_path, 0, _env(FEEDSVC_HTTP__HOST="127.0.0.1")))
    [only] = run[0].listening()
    port = int(only.rsplit(":", 1)[1])
    assert only == f"127.0.0.1:{port}"
    if _has_ipv6_loopback():
        with pytest.raises(OSError):
            socket.create_connection(("::1", port), timeout=5).close()


@needs_ipv6
def test_localhost_sockets_take_connections_at_one_port_each_v6_only() -> None:
    """The sockets themselves: IPv4 first, the IPv6 one IPV6_V6ONLY (the two never clash),
    and each takes a connection."""
    from feedsvc.listen import listen_sockets

    bound = listen_sockets("localhost", 0, reuse_port=False)
    try:
        v4, v6 = bound.sockets
        assert (v4.family, v6.family) == (socket.AF_INET, socket.AF_INET6)
        assert v6.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
        assert v4.getsockname()[1] == v6.getsockname()[1] == bound.port
        for sock, address in ((v4, "127.0.0.1"), (v6, "::1")):
            with socket.create_connection((address, bound.port), timeout=5):
                sock.settimeout(5)
                accepted, _ = sock.accept()
                accepted.close()
    finally:
        bound.close()


NO_IPV6 = 'ip link set lo up && echo 1 > /proc/sys/net/ipv6/conf/lo/disable_ipv6 && exec "$@"'


def _without_ipv6() -> tuple[str, ...]:
    """A command prefix running in a network namespace of its own whose loopback has no ::1;
    skips (with why) where one cannot be made."""
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        pytest.skip("unshare/nsenter not installed")
    probe = subprocess.run(["unshare", "-n", "sh", "-c", NO_IPV6, "sh", "true"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"no network namespace without IPv6 here: {probe.stderr.strip()}")
    return ("unshare", "-n", "sh", "-c", NO_IPV6, "sh")


def test_without_ipv6_localhost_starts_on_ipv4_and_says_so(tmp_path: Path, run: list[Run]) -> None:
    """::1 unavailable (EADDRNOTAVAIL): ``run`` starts on 127.0.0.1 and one WARNING says IPv6
    was unavailable. In a network namespace of its own, reached there with nsenter."""
    prefix = _without_ipv6()
    run.append(Run(tmp_path, 0, _env(FEEDSVC_HTTP__HOST="localhost"), prefix))
    served = run[0]
    assert served.proc.poll() is None, served.text()
    [only] = served.listening()
    port = int(only.rsplit(":", 1)[1])
    assert only == f"127.0.0.1:{port}", served.text()
    [warned] = [line for line in unplaced(served.text()).splitlines() if " WARNING " in line]
    assert warned.endswith(
        f"http.host 'localhost': not listening on [::1]:{port}: IPv6 is unavailable on this "
        f"machine (cannot assign requested address); listening on http://127.0.0.1:{port} only"
    ), warned
    asked = subprocess.run(
        ["nsenter", "-t", str(served.proc.pid), "-n", sys.executable, "-c",
         f"import urllib.request as u; print(u.urlopen('http://127.0.0.1:{port}/healthz').status)"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert asked.stdout.strip() == "200", asked.stderr
