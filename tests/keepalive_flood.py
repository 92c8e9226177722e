"""A flood of busy keep-alive connections from 127.0.0.1, run as its own process by
``tests/test_web_accept_fairness.py`` (the server under test runs in the test's process).

    python keepalive_flood.py PORT PATH BUSY DEPTH QUEUED

Opens BUSY connections, each answered once; then keeps every one of them asking DEPTH pipelined
requests for PATH, sending the next DEPTH as soon as the last answer arrives (wrk's closed loop,
pipelined so that each event-loop iteration of the server is long); then opens QUEUED more
connections, each sending one request (they wait in the server's listen queue), and prints
``ready``. Runs until its stdin closes.
"""

from __future__ import annotations

import selectors
import socket
import sys
import threading

STATUS = b"HTTP/1.1 "


def main() -> None:
    port, path, busy, depth, queued = sys.argv[1:6]
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    batch = request * int(depth)
    conns = [socket.create_connection(("127.0.0.1", int(port))) for _ in range(int(busy))]
    for conn in conns:
        conn.sendall(request)
    for conn in conns:  # each answered once: the flood is accepted before it gets busy
        conn.settimeout(30)
        assert conn.recv(65536).startswith(STATUS)
        conn.setblocking(False)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    sel = selectors.DefaultSelector()
    owed: dict[socket.socket, int] = {}
    tails: dict[socket.socket, bytes] = {}
    for conn in conns:
        conn.sendall(batch)
        owed[conn], tails[conn] = int(depth), b""
        sel.register(conn, selectors.EVENT_READ)
    waiting: list[socket.socket] = []
    ready_after = 50  # rounds of reads before the queued connections are opened
    while not stop.is_set():
        for key, _ in sel.select(timeout=0.2):
            conn = key.fileobj
            assert isinstance(conn, socket.socket)
            data = conn.recv(262144)
            if not data:
                sel.unregister(conn)
                continue
            seen = tails[conn] + data
            owed[conn] -= seen.count(STATUS)
            tails[conn] = seen[-(len(STATUS) - 1) :]
            if owed[conn] <= 0:
                conn.sendall(batch)
                owed[conn] += int(depth)
        if ready_after > 0:
            ready_after -= 1
            if ready_after == 0:
                for _ in range(int(queued)):
                    sock = socket.create_connection(("127.0.0.1", int(port)))
                    sock.sendall(request)
                    waiting.append(sock)
                print("ready", flush=True)


if __name__ == "__main__":
    main()
