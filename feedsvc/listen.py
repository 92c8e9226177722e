"""The HTTP listening socket, apart from the server so ``config check`` can ask whether
``http.host`` can be listened on without importing uvicorn and Starlette
(``cli.service.host_problem``; ``tests/test_cli_imports.py``)."""

from __future__ import annotations

import socket


def listen_socket(host: str, port: int, *, reuse_port: bool = True) -> socket.socket:
    """A listening TCP socket; with SO_REUSEPORT sibling processes can bind the same port.
    Raises OSError (``EADDRINUSE`` for a busy port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=2048, reuse_port=reuse_port)
