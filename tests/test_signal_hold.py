"""``signal_hold.SignalHold``: Ctrl-C and the CLI's SIGTERM noted during a critical section
and raised at its edge (:meth:`deliver`, :meth:`release`), never inside it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import pytest

from feedsvc import entry
from feedsvc.cli import terminate
from feedsvc.signal_hold import SignalHold


@pytest.fixture
def cli_sigterm() -> Iterator[None]:
    """SIGTERM handled as the CLI's finite commands handle it (``terminate.install``)."""
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    restore = terminate.install()
    try:
        yield
    finally:
        restore()
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize(
    ("signum", "raised"),
    [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, terminate.Terminated)],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_during_the_hold_is_raised_at_its_release(
    cli_sigterm: None, signum: int, raised: type[BaseException]
) -> None:
    hold = SignalHold()
    hold.hold()
    reached = False
    try:
        signal.raise_signal(signum)
        reached = True  # the section ran to its end
    finally:
        with pytest.raises(raised):
            hold.release()
    assert reached
    assert signal.getsignal(signal.SIGINT) is entry.handle  # the command's handlers put back


def test_deliver_raises_only_what_came_and_keeps_holding(cli_sigterm: None) -> None:
    """The cleanup a delivered signal starts is held too: a second signal (Ctrl-C every 2 ms,
    a verifier's) waits for the release instead of aborting it, and is not raised then
    either: one signal, one stop (``feedsvc.entry``)."""
    hold = SignalHold()
    hold.hold()
    hold.deliver()  # nothing came: still held
    signal.raise_signal(signal.SIGTERM)
    with pytest.raises(terminate.Terminated):
        hold.deliver()
    assert terminate.received()
    signal.raise_signal(signal.SIGINT)  # during the cleanup: noted
    hold.release()  # the stop is under way: not raised again
    assert signal.getsignal(signal.SIGTERM) is entry.handle


def test_the_first_of_two_signals_is_raised_once(cli_sigterm: None) -> None:
    hold = SignalHold()
    hold.hold()
    signal.raise_signal(signal.SIGTERM)
    signal.raise_signal(signal.SIGINT)
    with pytest.raises(terminate.Terminated):
        hold.release()


def test_holds_nest_and_the_outer_one_delivers(cli_sigterm: None) -> None:
    outer, inner = SignalHold(), SignalHold()
    outer.hold()
    inner.hold()
    signal.raise_signal(signal.SIGINT)
    inner.release()  # raised again under the outer hold's handler: noted, not raised
    with pytest.raises(KeyboardInterrupt):
        outer.release()


def test_a_default_sigterm_is_left_alone() -> None:
    """Outside the CLI SIGTERM ends the process, as it always did: no Python handler to hold."""
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        hold = SignalHold()
        hold.hold()
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        hold.release()
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_outside_the_main_thread_it_does_nothing(cli_sigterm: None) -> None:
    """Only the main thread may set handlers (the service's worker threads, the API's)."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            hold = SignalHold()
            hold.hold()
            hold.deliver()
            hold.release()
        except BaseException as exc:  # reported to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive() and errors == []
    assert signal.getsignal(signal.SIGTERM) is entry.handle
