"""A TCP proxy on 127.0.0.1 that a test can tell to stop forwarding without closing anything.

That is how a connection dies in production without a reset: a failover behind a virtual IP,
NAT or firewall state lost, a host gone. Both ends keep their sockets, the kernel keeps
acknowledging (so TCP keepalives do not notice), and nothing more arrives. ``pause()``
freezes every connection, open or new (new ones are accepted, then nothing is forwarded);
``resume()`` forwards again, and connections either end closed in the meantime are closed on
the other side too.

One thread runs a selector loop; bytes read while paused stay in the kernel (nothing is read),
so a paused connection looks exactly like a silent peer.
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class TcpProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._paused = threading.Event()
        self._stop = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._peers: dict[socket.socket, socket.socket] = {}
        self._lock = threading.Lock()
        self.accepted = 0
        self._thread = threading.Thread(target=self._run, name="tcpproxy", daemon=True)

    def start(self) -> TcpProxy:
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._thread.start()
        return self

    def pause(self) -> None:
        """Stop forwarding (both directions, every connection); close nothing."""
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            for sock in list(self._peers):
                sock.close()
            self._peers.clear()
        self._listener.close()
        self._selector.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._peers) // 2

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    self._accept()
                elif not self._paused.is_set():
                    self._forward(sock)
            if self._paused.is_set():
                self._stop.wait(0.05)  # readable sockets stay readable: do not spin

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        self.accepted += 1
        for sock in (client, upstream):
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._peers[client], self._peers[upstream] = upstream, client
        self._selector.register(client, selectors.EVENT_READ)
        self._selector.register(upstream, selectors.EVENT_READ)

    def _forward(self, sock: socket.socket) -> None:
        with self._lock:
            peer = self._peers.get(sock)
        if peer is None:
            return
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            try:
                peer.setblocking(True)
                peer.settimeout(5)
                peer.sendall(data)
                peer.setblocking(False)
                return
            except OSError:
                pass
        self._close_pair(sock, peer)

    def _close_pair(self, a: socket.socket, b: socket.socket) -> None:
        with self._lock:
            self._peers.pop(a, None)
            self._peers.pop(b, None)
        for sock in (a, b):
            with suppress(KeyError, ValueError):
                self._selector.unregister(sock)
            sock.close()


@contextmanager
def proxy_to(host: str, port: int) -> Iterator[TcpProxy]:
    with TcpProxy((host, port)) as proxy:
        yield proxy
