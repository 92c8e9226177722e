"""How the sending loops wait (:mod:`feedsvc.waiting`): ``sleep_or_wake`` and the release gate."""

from __future__ import annotations

import asyncio
import itertools
import time

from feedsvc.waiting import ReleaseGate, release_gate, sleep_or_wake


async def test_sleep_or_wake_returns_when_an_event_is_set() -> None:
    stop, wake = asyncio.Event(), asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, wake.set)
    started = time.monotonic()
    await sleep_or_wake(30, stop, wake)
    assert time.monotonic() - started < 5
    stop.set()
    started = time.monotonic()
    await sleep_or_wake(30, stop)  # already set: at once
    assert time.monotonic() - started < 1


async def test_calls_due_together_leave_a_gap_apart_in_order() -> None:
    """Slots that all fell due during a stall (``at`` in the past) are released one ``gap``
    after another, first come first served."""
    gate, released = ReleaseGate(), []

    async def call(n: int) -> None:
        await gate.wait(time.monotonic() - 1, 0.05)
        # the gate's own release stamp: a clock read here could come after the OS paused
        # the process for a moment, and make the next gap look a millisecond short
        released.append((n, gate._last))

    await asyncio.gather(*(call(n) for n in range(6)))
    assert [n for n, _ in released] == list(range(6))
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(released)]
    assert min(gaps) >= 0.05, gaps


async def test_a_call_leaves_no_sooner_than_its_slot() -> None:
    gate = ReleaseGate()
    at = time.monotonic() + 0.2
    await gate.wait(at, 0.01)
    assert time.monotonic() >= at


async def test_a_late_release_pushes_the_next_one_back() -> None:
    """The gap counts from when a call was actually released, not from its plan: a call
    released late (the loop blocked after its slot) does not let the next one bunch up."""
    gate = ReleaseGate()
    start = time.monotonic()
    await gate.wait(start, 0.1)
    time.sleep(0.3)  # the fault under test: a blocked event loop (not a wait)
    await gate.wait(start + 0.1, 0.1)  # planned 0.1 s in, due long ago
    first = gate._last  # the release stamps, as in the test above
    await gate.wait(start + 0.2, 0.1)
    assert gate._last - first >= 0.1


async def test_a_call_that_leaves_late_pushes_the_next_one_back() -> None:
    """Released on time, then the process stalled before the request left: the next call,
    already waiting at the gate for its own (on-time) slot, leaves at least half a gap after
    it (:meth:`ReleaseGate.leaving`), not right behind it."""
    gate, left = ReleaseGate(), []
    start = time.monotonic()

    async def stalled() -> None:
        await gate.wait(start, 0.1)
        time.sleep(0.3)  # the fault under test: a stall before the request (not a wait)
        gate.leaving()
        left.append(time.monotonic())

    async def next_call() -> None:
        await gate.wait(start + 0.1, 0.1)
        left.append(time.monotonic())

    await asyncio.gather(stalled(), next_call())
    assert left[1] - left[0] >= 0.05, left  # at least half a gap after the late one


async def test_a_call_leaving_a_little_after_its_release_costs_no_throughput() -> None:
    """The usual path from release to request (a few ms) does not push releases back: calls
    due long ago still leave one gap after another, not gap + lag."""
    gate, released = ReleaseGate(), []
    for _ in range(5):
        await gate.wait(0, 0.1)
        released.append(gate._last)
        time.sleep(0.04)  # the path to the request, under half a gap (the case, not a wait)
        gate.leaving()
    gaps = [b - a for a, b in itertools.pairwise(released)]
    assert sum(gaps) / len(gaps) < 0.12, gaps  # gap + lag would be 0.14


def test_one_gate_per_channel_object() -> None:
    """A channel's dispatcher and follow-up worker are handed the same channel object and so
    share a gate; another channel (or another instance) has its own."""

    class Channel:
        pass

    telegram, zalo = Channel(), Channel()
    assert release_gate(telegram) is release_gate(telegram)
    assert release_gate(telegram) is not release_gate(zalo)


def test_a_gate_serves_successive_event_loops() -> None:
    """``asyncio.run`` twice (a test, a restart in one process): an asyncio lock is bound to
    one loop, so the gate keeps one per loop instead of failing in the second."""
    gate = ReleaseGate()

    async def burst() -> None:
        await asyncio.gather(*(gate.wait(0, 0.01) for _ in range(3)))

    asyncio.run(burst())
    asyncio.run(burst())
