"""A service without the Telegram bot imports none of it, as an import graph (not a timing).

`feedsvc.app` imported `feedsvc.bot.service` at module level, and through it python-telegram-bot
(`telegram`, `telegram.ext`) and the bot's handlers: every process paid ~0.2 s of CPU and
~9 MiB for them at start, though most run no bot — a web replica, `run --no-bot`, no
`telegram.token`, the demo — and the test suite starts hundreds of them (bench/RESULTS.md,
fifty-fifth session). The bot's stack is imported where it is built
(`ServiceParts.telegram_bot`), the Bot API sender only with a token
(`channels.fleet.build_channels`). As `tests/test_cli_imports.py` does for the commands, one
fresh interpreter reports what `sys.modules` holds after each step; the steps go from least
to most Telegram, since nothing leaves `sys.modules`:

1. `import feedsvc.app`;
2. a service with every role but no token (`run` without `telegram.token`, the demo) started
   and stopped, HTTP asked once;
3. a service with a Zalo token and no Telegram token: the Zalo bot runs, and its stop's rule
   (`feedsvc.bot.stopping`) and answers' resends (`feedsvc.notify.resend`) are shared with the
   Telegram bot, but nothing of python-telegram-bot comes with them (it came through
   `feedsvc.bot.stopping` and `feedsvc.notify.charged`: ~0.13 s per start, and an ImportError,
   exit 1, where the package could not be imported — a re-tester's R6). Its own interpreter,
   once as installed and once with `telegram` unimportable;
4. a service with a token and the bot off (`run --no-bot`): its alerts go through the Bot API,
   so `telegram` is loaded, but neither `telegram.ext` nor the bot.

`httpx` is watched too: Zalo's client (`feedsvc.channels.zalo.api`, `.channel`) came with
`import feedsvc.app` (through `feedsvc.channels.recipients` → `feedsvc.channels.zalo` and
`feedsvc.channels.fleet`), and `httpx`'s own `__init__` imports `rich` and `pygments` where they
are installed (the test extras): ~0.1-0.25 s of CPU at every start. A service with neither token
imports none of them, nor pygal (the admin's charts) nor segno (the topics' QR codes), which
draw on request; one with a Zalo token imports Zalo's client, one with a Telegram token
python-telegram-bot's, and `httpx` with either. The service is asked over ASGI by hand:
Starlette's `TestClient` imports `httpx` itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from migrated import premigrated

#: the bot's own modules, python-telegram-bot's polling half, and the Zalo bot (its handlers
#: are the Telegram bot's actions, and it answers through PTB's request edge)
BOT_STACK = (
    "feedsvc.bot.handlers",
    "feedsvc.bot.service",
    "feedsvc.bot.polling_stop",
    "feedsvc.channels.zalo.bot",
    "feedsvc.channels.zalo.service",
    "telegram.ext",
)
#: with no token anywhere, nothing of Telegram's client either
NO_TELEGRAM = (*BOT_STACK, "feedsvc.notify.telegram", "feedsvc.notify.charged", "telegram")
#: the HTTP client (Zalo's, and python-telegram-bot's), and what ``httpx``'s own ``__init__``
#: brings where installed (``httpx._main``: ``rich``, ``pygments``; the test extras have them)
HTTPX = ("httpx", "rich", "pygments")
#: the admin's charts and the topics' QR codes: drawn on request, never at a start
DRAWING = ("pygal", "segno")
WATCHED = (*NO_TELEGRAM, *HTTPX, "feedsvc.channels.zalo.api", *DRAWING)

PROBE = r"""
import asyncio, importlib.abc, json, sys
steps, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])

class NoTelegram(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] == "telegram":
            raise ImportError(f"{name} is made unimportable here")

if sys.argv[3:] == ["--no-telegram"]:
    sys.meta_path.insert(0, NoTelegram())
report = {}

def loaded(step):
    report[step] = sorted(name for name in watched if name in sys.modules)

import feedsvc.app
loaded("import")

from feedsvc.app import Roles, Service, create_app
from feedsvc.config import load_config

async def healthz(app):
    # the ASGI calls by hand, not Starlette's TestClient: it imports httpx, which is watched
    inbox, outbox = asyncio.Queue(), asyncio.Queue()
    lifespan = {"type": "lifespan", "asgi": {"version": "3.0"}}
    life = asyncio.create_task(app(lifespan, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    sent, asked = [], asyncio.Queue()
    await asked.put({"type": "http.request", "body": b"", "more_body": False})
    await app({
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/healthz", "raw_path": b"/healthz", "query_string": b"",
        "root_path": "", "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }, asked.get, lambda message: asyncio.sleep(0, sent.append(message)))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200, sent
    await inbox.put({"type": "lifespan.shutdown"})
    assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
    await life

for step, (overrides, roles) in steps.items():
    service = Service(load_config(None, overrides), Roles(**roles))
    asyncio.run(healthz(create_app(service)))
    loaded(step)
print("\n" + json.dumps(report))
"""


#: the discard port: nothing answers a getMe (Telegram) or getUpdates (Zalo) there
CLOSED = "http://127.0.0.1:9"
ZALO_TOKEN = "1234567890:" + "a" * 40


def _probe(steps: dict[str, object], cwd: Path, *flags: str) -> dict[str, list[str]]:
    """What each step left in ``sys.modules`` of :data:`WATCHED`, in one fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(steps), json.dumps(WATCHED), *flags],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def _with_httpx(report: dict[str, list[str]], *steps: str) -> dict[str, list[str]]:
    """``report`` without what ``import httpx`` brings where installed (``rich``, ``pygments``)
    at ``steps``, whose service imports ``httpx``; the other steps keep them, to be refused."""
    with_httpx = set(HTTPX) - {"httpx"}
    return {
        step: [name for name in names if step not in steps or name not in with_httpx]
        for step, names in report.items()
    }


def _zalo_only(db: Path) -> tuple[dict[str, object], dict[str, bool]]:
    return (
        {
            "database": {"url": premigrated(f"sqlite:///{db}")},
            "zalo": {"token": ZALO_TOKEN, "base_url": CLOSED},
        },
        {},
    )


def test_a_service_without_the_bot_imports_none_of_it(tmp_path: Path) -> None:
    closed = f"{CLOSED}/bot"
    steps = {
        "no token": (
            {"database": {"url": premigrated(f"sqlite:///{tmp_path / 'a.db'}")}},
            {},
        ),
        "token, --no-bot": (
            {
                "database": {"url": premigrated(f"sqlite:///{tmp_path / 'b.db'}")},
                "telegram": {"token": "123456:" + "A" * 35, "base_url": closed},
            },
            {"bot": False},
        ),
    }
    report = _probe(steps, tmp_path)
    assert _with_httpx(report, "token, --no-bot") == {
        # nothing of either bot's client, nor httpx (nor rich, pygments), nor pygal or segno
        "import": [],
        "no token": [],
        # the channel sends through the Bot API: its client only, and httpx with it
        "token, --no-bot": [
            "feedsvc.notify.charged",
            "feedsvc.notify.telegram",
            "httpx",
            "telegram",
        ],
    }


@pytest.mark.parametrize("flags", [(), ("--no-telegram",)], ids=["ptb-there", "ptb-unimportable"])
def test_a_zalo_only_service_imports_no_telegram(tmp_path: Path, flags: tuple[str, ...]) -> None:
    """A Zalo token and no Telegram token, in an interpreter of its own (``sys.modules`` keeps
    what an earlier step loaded): the Zalo bot and nothing of Telegram's, and with ``telegram``
    unimportable (a Zalo-only install) it starts and stops — it died with ImportError from
    ``feedsvc.bot.stopping``, exit 1."""
    report = _probe({"zalo token only": _zalo_only(tmp_path / "z.db")}, tmp_path, *flags)
    assert _with_httpx(report, "zalo token only") == {
        "import": [],
        # Zalo's client, and httpx with it
        "zalo token only": [
            "feedsvc.channels.zalo.api",
            "feedsvc.channels.zalo.bot",
            "feedsvc.channels.zalo.service",
            "httpx",
        ],
    }
