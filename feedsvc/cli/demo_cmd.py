"""``feedsvc demo``: everything on a throw-away SQLite DB with generated articles.

One demo per directory (``./var/demo`` by default): its database is recreated at start, so a
second demo there would pull it from under the first (which then ran on two databases). The
directory's ``demo.lock`` is held with ``flock`` while a demo runs; a refusal leaves no
directory it made behind. A temporary directory the demo made itself (``./var/demo`` could not
be written) is removed when it stops, however it stops short of SIGKILL.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from feedsvc.cli.common import (
    EXIT_USAGE,
    command_name,
    configure_logging,
    fail,
    run_async,
)
from feedsvc.cli.demo_topics import check_topics
from feedsvc.cli.listening import listen
from feedsvc.cli.params import Float, Int, PathParam, config_option
from feedsvc.cli.service import one_scheduler, stopped_early

if TYPE_CHECKING:
    from feedsvc.config import Settings
    from feedsvc.listen import Listeners
    from feedsvc.shutdown import StopSignals

log = logging.getLogger("feedsvc.demo")


@click.command()
@click.option("--port", type=Int(0, 65535), default=8080, show_default=True)
@click.option(
    "--dir",
    "directory",
    type=PathParam(file_okay=False),
    default=None,
    help="Where the demo DB lives (default: ./var/demo, or a temp dir).",
)
@click.option("--articles", type=Int(0, 100_000), default=300, show_default=True)
@click.option(
    "--every",
    type=Float(0.2, 3600),
    default=5.0,
    show_default=True,
    help="Seconds between new generated articles.",
)
@config_option
def demo(
    port: int, directory: str | None, articles: int, every: float, config_file: str | None
) -> None:
    """Run everything on a throw-away SQLite DB with generated Vietnamese articles."""
    from feedsvc.shutdown import StartupStopped, StopSignals

    signals = StopSignals().install()  # first: a signal at any moment of start-up stops it
    try:
        with signals.interruptible():  # the imports (feedsvc.app): nothing made yet
            importlib.import_module("feedsvc.app")  # `listen`'s, slow: before the look
            _refuse_a_running_demo(Path(directory) if directory else Path("var/demo"))
        _demo_in(port, directory, articles, every, config_file, signals)
    except StartupStopped as stopped:
        stopped_early(stopped.signum)
    finally:
        signals.restore()


def _demo_in(
    port: int,
    directory: str | None,
    articles: int,
    every: float,
    config_file: str | None,
    signals: StopSignals,
) -> None:
    """The demo once its imports are done: from here a signal is only noted (what this makes,
    a temporary directory, is removed however it stops), and the start-up looks at it between
    steps (:func:`_demo`).

    The directory's lock is taken before the port is bound: a second demo started in the
    same directory within about 0.6 s (the first one's imports and settings) bound the port
    after the first had, before the first took its lock, and was told "cannot listen on
    127.0.0.1:18300: already in use", not that a demo runs there (a tester's D8). Now
    whichever takes the lock first binds the port; the other is refused by the lock."""
    target = Path(directory) if directory else Path("var/demo")
    made = _missing_dirs(target)  # what a refusal removes again (when still empty)
    base, fallback = (target, None) if directory else _demo_dir()
    if base != target:  # a temporary directory instead of ./var/demo
        made.append(base)
    lock: int | None = None
    try:
        if (problem := _writable(base)) is not None:
            _unwritable(base, problem)
        lock = _demo_lock(base)  # held (by the kernel) until this process ends, however
        bound = listen("127.0.0.1", port, configurable=False)
        port = bound.port  # the real one when --port 0 asked for any free port
        settings, config = _demo_settings(base, port, config_file)
        # and its DB's scheduler lock: a `feedsvc run` on demo.db (the banner's commands
        # invite it) would be a second scheduler, and the clearing below would pull its DB away
        one_scheduler(settings.database.url, replacing=True)
        if (problem := _clear_last_demo(base)) is not None:  # only under the lock
            _unwritable(base, problem)
    except SystemExit:  # a refusal leaves nothing behind: the directories it made go
        if lock is not None:  # released; its file too, in a directory made for it
            if base in made:
                with contextlib.suppress(OSError):
                    (base / DEMO_LOCK).unlink()
            os.close(lock)
        for path in reversed(made):
            with contextlib.suppress(OSError):
                path.rmdir()  # only when empty: a running demo's files stay
        raise
    try:
        configure_logging(settings)
        run_async(_demo(settings, articles, every, bound, signals, config, fallback))
    finally:
        os.close(lock)
        if base != target:  # made by _demo_dir for this demo alone: never --dir or ./var/demo
            _remove_temporary(base)
    if signals.received and signals.exit_code:  # SIGINT before the service started
        raise SystemExit(signals.exit_code)


def _remove_temporary(base: Path) -> None:
    """Remove the temporary directory this demo made (its DB, ~2.5 MB, and lock): nobody can
    start another demo on it, and each start makes a new one, so one was left behind at every
    stop (tester F12). What cannot be removed is logged, never an error at exit."""
    import shutil

    try:
        shutil.rmtree(base)
    except OSError as exc:
        log.warning("demo: could not remove its temporary directory %s (%s)", base, exc)


def _unwritable(base: Path, problem: str) -> NoReturn:
    fail(f"demo --dir {base}: {problem}; choose a directory it can write with --dir "
         "(without --dir: ./var/demo, else a temporary directory)", EXIT_USAGE)  # fmt: skip


def _demo_settings(base: Path, port: int, config_file: str | None) -> tuple[Settings, Path | None]:
    """The demo's settings: its SQLite DB in ``base``, HTTP on 127.0.0.1:``port``, the built-in
    source, a throw-away admin token, and ``topics.file`` when set, else ``config/topics.toml``
    when present, else the packaged :data:`DEMO_TOPICS`. A bad config (naming the file read)
    or a topics file the demo cannot import (:func:`~feedsvc.cli.demo_topics.check_topics`)
    is exit 2.
    Also returns the config file read (absolute), None for none."""
    import secrets

    from feedsvc.config import ConfigError, config_path, load_config
    from feedsvc.db.sqlite_url import path_url

    overrides: dict[str, dict[str, object]] = {
        "database": {"url": path_url((base / "demo.db").resolve())},
        "source": {"url": None, "poll_seconds": 2.0},
        "http": {"port": port, "host": "127.0.0.1", "public_url": f"http://127.0.0.1:{port}"},
    }
    try:
        used = config_path(config_file)
        settings = load_config(used, overrides)
        added: dict[str, dict[str, object]] = {}
        if not settings.topics.file_is_set and not settings.topics.file.exists():
            added["topics"] = {"file": str(DEMO_TOPICS)}  # none set, none here: the packaged one
        if settings.admin_token() is None:  # a throw-away token so the demo's admin can be tried
            added["admin"] = {"token": secrets.token_urlsafe(12)}
        if added:
            settings = load_config(used, overrides | added)
    except ConfigError as exc:  # the file named: it may be the working directory's default
        problems = "; ".join(str(p) for p in exc.problems)
        fail(f"invalid configuration ({exc.source}): {problems}", EXIT_USAGE)
    # its DB is new: a file not imported left the demo with no topic at all, exit 0
    check_topics(settings, used)
    return settings, (used.resolve() if used is not None else None)


#: The demo's topics, shipped in the package (the repository's ``config/topics.toml`` is a
#: link to this file): what the demo imports when ``topics.file`` is not set and the default
#: ``config/topics.toml`` is absent where it is started. Before, a demo started outside the
#: repository root (an installed feedsvc, ``feedsvc demo`` typed anywhere) refused to start.
DEMO_TOPICS = Path(__file__).resolve().parent.parent / "demo_data" / "topics.toml"


def _demo_dir() -> tuple[Path, str | None]:
    """./var/demo when the demo can keep its DB there (:func:`_writable`), else a new
    temporary directory: an existing ./var/demo it cannot write was taken, and the demo then
    failed on it. With it, why ./var/demo was not used (None when it is), for the banner
    (:func:`fallback_line`)."""
    import tempfile

    path = Path("var/demo")
    if (problem := _writable(path)) is None:
        return path, None
    return Path(tempfile.mkdtemp(prefix="feedsvc-demo-")), problem


def fallback_line(problem: str) -> str:
    """The banner's line when the demo runs in a temporary directory: why ./var/demo was not
    used and that the directory goes when the demo stops. The banner named only the
    ``/tmp/feedsvc-demo-…`` database, which read as where the demo always keeps it (a
    newcomer's: ``touch var``, then ``feedsvc demo``)."""
    gone = "deleted when the demo stops"
    return f"  note     ./var/demo: {problem}; using a temporary directory, {gone}\n"


def _missing_dirs(path: Path) -> list[Path]:
    """The directories of ``path`` (itself included) that do not exist, outermost first."""
    return [p for p in [path, *path.parents] if not p.exists()][::-1]


def _writable(base: Path) -> str | None:
    """Make ``base`` (and its parents) and prove a file can be created and removed in it: what
    failed, in words (no advice: the caller's), or None. Nothing in it is removed: a running
    demo may own it (its lock is taken next, :func:`_demo_lock`).

    Why here: the demo sets ``database.url`` itself, so the state DB's own errors, which advise
    setting ``database.url``, sent a demo user to a setting they never set (an unwritable
    ``--dir`` was exit 2 with that advice, or a bare "Operation not permitted", exit 1)."""
    try:
        base.mkdir(parents=True, exist_ok=True)
        probe = base / f".feedsvc-demo-{os.getpid()}"
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        probe.unlink()
    except OSError as exc:
        return _cannot_write(exc)
    return None


def _clear_last_demo(base: Path) -> str | None:
    """Remove the last demo's ``demo.db`` and every file SQLite keeps beside it (the DB is
    recreated at each start, and a new state DB is never made beside a missing one's
    ``-wal``, ``-shm`` or ``-journal``: ``sqlite_file.orphan_problem``); what failed, in
    words, or None. Called holding the directory's lock only."""
    from feedsvc.db.sqlite_file import SIDE_FILES

    try:
        for suffix in ("", *SIDE_FILES):
            Path(f"{base / 'demo.db'}{suffix}").unlink(missing_ok=True)
    except OSError as exc:
        return _cannot_write(exc)
    return None


def _cannot_write(exc: OSError) -> str:
    return f"cannot write there ({(exc.strerror or type(exc).__name__).lower()})"


#: The demo's lock file in its directory: one demo at a time per directory (its DB is
#: recreated at start, under the other one's feet: two databases in one process, newcomer D3).
DEMO_LOCK = "demo.lock"


def _refuse_a_running_demo(target: Path) -> None:
    """Exit 2 (:func:`_already_running`) when another demo holds ``target``'s lock, asked
    before anything is made (:func:`feedsvc.pid_lock.holder`: nothing created): a second demo
    at the same port said the port was in use, the real reason only with another port. The
    lock is still taken, later but before the port is bound, by :func:`_demo_lock` (this is a
    look, not a hold)."""
    from feedsvc.pid_lock import holder

    if (pid := holder(target / DEMO_LOCK)) is not None:
        _already_running(target, pid)


def _demo_lock(base: Path) -> int:
    """Hold ``base``'s demo lock (:func:`feedsvc.pid_lock.take`); the file descriptor, to keep
    open while the demo runs. Another demo holding it is exit 2, naming the directory and the
    pid it wrote."""
    from feedsvc.pid_lock import Held, take

    try:
        return take(base / DEMO_LOCK)
    except Held as held:
        _already_running(base, held.pid)
    except OSError as exc:
        _unwritable(base, _cannot_write(exc))


def _already_running(base: Path, pid: int | None) -> NoReturn:
    """Exit 2: another demo runs in ``base`` (``pid``: what its lock holds; 0 or None: not
    readable)."""
    said = f" (pid {pid})" if pid else ""
    fail(
        f"a demo is already running in {base}{said}: stop it, or run this one in another "
        "directory with --dir",
        EXIT_USAGE,
    )


async def _demo(
    settings: Settings,
    count: int,
    every: float,
    bound: Listeners,
    signals: StopSignals,
    config: Path | None = None,
    fallback: str | None = None,
) -> None:
    """Prepare the demo's DB, seed it, ingest the seed (its feeds hold it when the banner names
    them), serve. A signal before here skips it all; one during it ends the step under way at
    its next stage (the first render between topics, the ingest after its batch), skips the
    rest, and ``serve`` stops the service in order. ``config``: the config file it read (its
    ``[site]`` the CLI hint hands on); ``fallback``: why ./var/demo was not used, when the
    demo runs in a temporary directory (:func:`fallback_line`)."""
    import asyncio

    from feedsvc import demo as gen_module
    from feedsvc.app import Roles, Service, serve

    if signals.received:
        log.info("demo: stopped before it started")
        return
    service = Service(settings, Roles())
    service.warn_placeholders = False  # the demo runs on the placeholder [site] by design
    service.exit_guard = signals.guard  # one countdown, from the signal

    def stopping(sig: int) -> None:  # signal-safe: a log line and flags only
        signals.announce(sig)  # before what it stops says so (the order of the log)
        service.interrupt()

    signals.listen(stopping)
    await asyncio.to_thread(service.prepare)
    if signals.received:
        await serve(settings, Roles(), service=service, listeners=bound, signals=signals)
        return
    gen = gen_module.ArticleGenerator(seed=2026)
    stop = lambda: bool(signals.received)  # noqa: E731
    seeded = await asyncio.to_thread(gen_module.seed, service.db, count, gen, stop)
    # the seeded rows are in the built-in source only: the first ingest moves them into the
    # feeds before the banner names them (printed first, its feeds were empty for ~1 s)
    if not signals.received:
        await asyncio.to_thread(service.ingest_tick)
    if signals.received:
        await serve(settings, Roles(), service=service, listeners=bound, signals=signals)
        return
    if not settings.telegram_token():
        await asyncio.to_thread(gen_module.subscribe_console, service.db)

    from feedsvc.keys import spelled

    new_articles = gen_module.NewArticles(service.db, gen)

    async def add() -> None:  # an article the state DB could not take waits for the next tick
        article = await asyncio.to_thread(new_articles.tick)
        if article is not None:
            log.info("demo: new source article %s: %s", spelled(article.source_key), article.title)

    service.jobs.every("demo-generator", every, add, start_now=False)
    url = settings.http.public_url
    # the file's [site] too: a command run from another directory read another file, or none,
    # and rendered another title (a verifier's); its topics.file: a CLI without it imported
    # a file of one topic as the whole file and switched the demo's topics off (a tester's)
    from feedsvc.cli.demo_exports import export_line, exports

    # `.venv/bin/feedsvc demo` with the venv not on PATH: its full path; its file exported above
    cmd = command_name(config=False)
    from feedsvc.topics_file import load_topics_file

    # the topics it imported (checked above): the banner named the sample ones whatever the file
    slugs = [s.slug for s in load_topics_file(settings.topics.file) if s.enabled][:2]
    feeds = f"{url}/feeds/{slugs[0]}.rss" + (f"  {url}/feeds/{slugs[1]}.atom" if slugs[1:] else "")
    click.echo(
        f"\nfeedsvc demo: {seeded} sample articles seeded, one more every {every:g} s.\n"
        f"  listening on {' and '.join(bound.urls())}\n"
        f"  index    {url}/\n  feeds    {feeds}\n"
        f"  search   {demo_search_url(url)}\n"
        f"  health   {url}/healthz   {url}/readyz   {url}/metrics\n"
        f"  admin    {url}/admin   (token for this demo: {settings.admin_token()})\n"
        f"  database {settings.database.url}\n"
        + (fallback_line(fallback) if fallback is not None else "")
        + f"  topics   {settings.topics.file}\n"
        "  CLI      the feedsvc commands work on this demo's database while it runs, e.g.\n"
        f"           export {export_line(exports(settings, config))}\n"
        f"           {cmd} topics list; {cmd} status; {cmd} topics backfill {slugs[0]}\n"
        "Alerts for new matching articles are logged below (set FEEDSVC_TELEGRAM__TOKEN to\n"
        "send them to Telegram instead). Ctrl-C to stop.\n"
    )
    await serve(settings, Roles(), service=service, listeners=bound, signals=signals)


#: The search the banner names: a phrase the sample articles hold.
DEMO_SEARCH = '"công an"'


def demo_search_url(url: str) -> str:
    """The banner's search feed at ``url``: the address the feed names as its own (``feed_url``,
    ``rel="self"``: :func:`feedsvc.feeds.model.search_feed_urls`). The banner printed ``+`` for
    the space, and the W3C validator warned ``SelfDoesntMatchLocation`` there (a tester's)."""
    from feedsvc.feeds.model import search_feed_urls

    return search_feed_urls(url, DEMO_SEARCH)["json"]
