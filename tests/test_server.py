"""``server._Server``: uvicorn's server as ``feedsvc run`` uses it."""

from __future__ import annotations

import signal

import pytest
import uvicorn

from feedsvc.server import _Server


async def app(scope: object, receive: object, send: object) -> None:
    raise AssertionError("not called")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_first_signal_is_an_orderly_stop_and_a_second_forces_it(sig: int) -> None:
    """A verifier's: the service's stop (``on_exit``) set ``should_exit`` before uvicorn's
    handler ran, which then took a single Ctrl-C for a second one and cut every open request
    at once, skipping their grace period (README: Ctrl-C is the same orderly stop)."""
    heard: list[int] = []
    server = _Server(uvicorn.Config(app), on_exit=heard.append)

    def on_exit(signum: int) -> None:  # what serve()'s on_signal does
        heard.append(signum)
        server.should_exit = True

    server.on_exit = on_exit
    server.handle_exit(sig, None)
    assert (server.should_exit, server.force_exit) == (True, False)
    server.handle_exit(signal.SIGINT, None)  # Ctrl-C again: now it is forced
    assert server.force_exit and heard == [sig, signal.SIGINT]
