"""A role's start-up step that a stop cuts short: :func:`unless_stopping`.

Why: a bot's start awaits its API several times (Telegram: getMe, setMyCommands, deleteWebhook;
Zalo: setWebhook), each up to its read timeout. Against a slow API that was seconds, and a
SIGTERM in that window waited for them past the stop's 5 s budget: "bot did not stop in time;
abandoning it", exit 1, and a bot that began polling after the stop had begun (a tester's: 10
of 30 stops). A step awaited through here ends as soon as the stop begins: cancelled (an API
call cut short changes nothing a start did not already risk: it is asked again at the next
start), never let finish into polling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import suppress
from typing import Any


async def unless_stopping(step: Coroutine[Any, Any, object], stopping: asyncio.Event) -> bool:
    """Run ``step`` unless ``stopping`` is set first: True when it ran to its end (its
    exception, if it raised one, raised here); False when the stop came first, before or while
    it ran (then it is cancelled and awaited, whatever it raised dropped). Cancelled itself,
    the step is cancelled too."""
    if stopping.is_set():
        step.close()
        return False
    task = asyncio.ensure_future(step)
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        if not task.done() or stopping.is_set():
            await _cancelled(task)
    if stopping.is_set():  # the stop began: even a step that just ended is not followed up
        return False
    task.result()
    return True


async def _cancelled(task: asyncio.Future[object]) -> None:
    """Cancel ``task`` and wait for it to end, dropping what it raised."""
    task.cancel()
    with suppress(asyncio.CancelledError, Exception):
        await task
