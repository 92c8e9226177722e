"""Checking a configuration: :func:`check_config` finds every problem in one pass (a secret
written in the file, the models' and those that need the settings as a whole or the file
system: token files, the source's time zone and URL, Zalo's webhook secret), :func:`load_config`
refuses a configuration with any (a command that needs no secret takes a secret in the file as
a warning, ``cli.common.load_settings``); :func:`weak_token_warnings` and
:func:`source_warnings` (an SQLite source file not there now: an outage, not a wrong
configuration) are advice, not refusals."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from feedsvc.config.models import Settings
from feedsvc.config.placeholders import placeholder_warnings
from feedsvc.config.problems import ConfigError, Problem, describe
from feedsvc.config.secrets import (
    SecretInFile,
    secret_problems,
    secrets_in_file,
    telegram_token_warnings,
    unreadable_secret_files,
    weak_token_warnings,
)
from feedsvc.config.sources import (
    env_name,
    env_values,
    json_shape,
    merged,
    misnamed_env,
    read_toml,
)
from feedsvc.config.urls import check_url, is_loopback_host
from feedsvc.config.zones import zone_problem
from feedsvc.db.timeouts import DbTimeouts

if TYPE_CHECKING:
    from feedsvc.db.sqlite_url import SqliteTarget

#: How the CLI names the configuration when no file is read: ``config check``'s "built-in
#: defaults: OK", and every other command's "invalid configuration (built-in defaults)".
BUILT_IN = "built-in defaults"


def load_config(
    path: Path | None, overrides: dict[str, Any] | None = None, *, secrets: bool = True
) -> Settings:
    """Load and validate; raises :class:`ConfigError` listing every problem. ``secrets=False``:
    for a command that needs no secret, a ``*_file`` secret this user cannot read is no
    problem but unset (:func:`unreadable_secret_files` words them for the command's warning):
    an operator's ``feedsvc status`` refused to run because the bot token file was the service
    user's, mode 0600; and a secret written in the file (:class:`SecretInFile`) is the
    command's warning too, not a refusal (blocking ``status`` during an incident helps no one;
    ``run`` refuses it)."""
    settings, problems = check_config(path, overrides)
    unread = unreadable_secret_files(settings) if settings is not None and not secrets else []
    # by key and words (an env override adds "(set by FEEDSVC_…)" to the words)
    problems = [
        p for p in (secret_first(problems) if secrets else problems)
        if not any(p.key == u.key and p.message.startswith(u.message) for u, _ in unread)
        and (secrets or not isinstance(p, SecretInFile))
    ]  # fmt: skip
    if problems or settings is None:
        # no file: the built-in defaults (and the environment), as `config check` says it
        raise ConfigError(str(path) if path else BUILT_IN, problems)
    settings.without_secret_files(frozenset(file for _, file in unread))
    return settings


def check_config(
    path: Path | None, overrides: dict[str, Any] | None = None
) -> tuple[Settings | None, list[Problem]]:
    """Every problem of the configuration in one pass (``feedsvc config check``, start-up), so
    fixing one never reveals the next: the model's (all keys at once), then the checks that need
    settings (files, time zone, source URL) on what the valid keys give, each invalid key at its
    default. ``overrides`` win over the file and the environment. Returns those settings (for
    further checks, e.g. the topics file; None when nothing could be salvaged) and the
    problems. Raises :class:`ConfigError` only for a file that cannot be read or parsed as
    TOML: nothing more can be said then."""
    data = read_toml(path) if path is not None else {}
    # a secret in the file, first (:func:`secret_first`: the one line of its key, when refused)
    in_file = secrets_in_file(data, str(path)) if path is not None else []
    env = env_values(os.environ)
    # ``overrides`` last: what a command sets for itself (the demo's throw-away DB, the port it
    # listens on) is not undone by a FEEDSVC_* variable meant for the real service
    data = merged(merged(data, env), overrides or {})
    for section, values in (overrides or {}).items():
        if isinstance(env.get(section), dict):  # an overridden key's problem is not the env's
            env[section] = {k: v for k, v in env[section].items() if k not in values}
    problems: list[Problem] = misnamed_env(os.environ)
    try:
        settings: Settings | None = Settings(**data)
    except ValidationError as exc:
        problems += [_from_env(describe(e), env) for e in exc.errors()]
        settings = _salvage(data, [tuple(e["loc"]) for e in exc.errors()])
    if settings is not None:
        seen = {p.key for p in problems}
        problems += [_from_env(p, env) for p in _semantic_problems(settings) if p.key not in seen]
    return settings, in_file + problems


def secret_first(problems: list[Problem]) -> list[Problem]:
    """``problems`` with one line for a secret written in the file (:class:`SecretInFile`):
    what else its key's value has wrong (its shape, a list for a text) is moot once it moves
    out, and told then. For the commands that refuse such a secret (``config check``, and
    :func:`load_config` with its secrets)."""
    refused = {p.key for p in problems if isinstance(p, SecretInFile)}
    return [p for p in problems if isinstance(p, SecretInFile) or p.key not in refused]


def _from_env(problem: Problem, env: dict[str, Any]) -> Problem:
    """``problem`` naming the variable its value came from, when an env override set it (the
    operator looks for it there, not in the file): also for an item of a list or table the
    variable gave as JSON (``telegram.admins.1``: ``FEEDSVC_TELEGRAM__ADMINS='[5, "x"]'`` was
    not attributed). A list or table given as text that is not JSON (``FEEDSVC_TELEGRAM__
    ADMINS=5,6``: "Input should be a valid list") says how to write it there."""
    target: Any = env
    walked: list[str] = []
    for part in problem.key.split("."):
        if not isinstance(target, dict) or part not in target:
            break
        target = target[part]
        walked.append(part)
    # the variable actually set, the longest that holds the key: FEEDSVC_SOURCE__COLUMNS=
    # '{"id": 5}' sets source.columns.id, FEEDSVC_DATABASE='{"url": 5}' database.url (it
    # named FEEDSVC_DATABASE__URL, which nobody set); none for a table several variables
    # filled (FEEDSVC_SOURCE__COLUMNS__ID…): its keys name themselves
    names = {n.upper() for n in os.environ}
    given = (env_name(".".join(walked[:n])) for n in range(len(walked), 0, -1))
    name = next((n for n in given if n in names), None)
    if name is None or not walked:
        return problem
    message = problem.message
    shape = json_shape(walked) if not isinstance(target, list) else None
    if shape is not None:  # a table given for a list too (it lost "set by")
        example = env_name(".".join(walked))
        message += f"; in the environment {shape[0]} is JSON, e.g. {example}='{shape[1]}'"
    return Problem(problem.key, f"{message} (set by {name})")


def _salvage(data: dict[str, Any], invalid: list[tuple[Any, ...]]) -> Settings | None:
    """``data`` without the ``invalid`` keys (each at its default), validated; None if even
    that fails (an error not located at a key)."""
    pruned = copy.deepcopy(data)
    for loc in invalid:
        target: Any = pruned
        for depth, key in enumerate(loc):
            if not isinstance(target, dict) or key not in target:
                break
            if depth == len(loc) - 1 or not isinstance(target[key], dict):
                del target[key]  # the key, or the list / value that holds the bad item
                break
            target = target[key]
    try:
        return Settings(**pruned)
    except ValidationError:
        return None


def _semantic_problems(settings: Settings) -> list[Problem]:
    problems: list[Problem] = secret_problems(settings)
    zone = zone_problem(settings.source.timezone) if settings.source.timezone else None
    if zone is not None:
        problems.append(Problem("source.timezone", zone))
    if settings.source.url:
        problem = _source_url_problem(settings.source.url, settings.source.timeouts())
        if problem is not None:
            problems.append(Problem("source.url", problem))
    if (problem := _state_file_problem(settings.database.url)) is not None:
        problems.append(Problem("database.url", problem))
    if (problem := _site_title_problem(settings.site.title)) is not None:
        problems.append(Problem("site.title", problem))
    return problems


def _site_title_problem(title: str) -> str | None:
    """Why ``site.title`` cannot name the site, or None. It is in every feed's and page's
    title and in alerts: a control character passed ``config check`` and then each output
    dropped or replaced it its own way (a feed's title lost it, its description showed a
    space), and a blank one made every topic feed "Kiến Thụy — ". The refused characters
    are the admin's (:func:`feedsvc.fieldtext.control_char`), imported only for a title
    that is not plain printable text (the CLI's start-up budget)."""
    if not title.strip():
        return "must not be empty: it names the site in every feed, page and alert"
    if title.isprintable():
        return None
    from feedsvc.fieldtext import control_char

    char = control_char(title)
    return None if char is None else f"holds a control character ({char}); remove it"


def _source_url_problem(url: str, timeouts: DbTimeouts) -> str | None:
    """What is wrong with ``source.url``: its form (:func:`check_url`), or connection options
    its driver would refuse (``feedsvc.db.drivers.driver_problem``: PyMySQL's ``connect()``
    raised ``TypeError``/``AttributeError`` from every command); None when it is fine."""
    try:
        check_url(url)
    except ValueError as exc:
        return str(exc)
    if url.startswith("sqlite"):
        return _sqlite_source_problem(url)
    if url.split(":", 1)[0].split("+", 1)[0] not in ("mysql", "mariadb"):
        return None  # libpq's options: check_url asked libpq (feedsvc.db.libpq)
    from sqlalchemy.engine import make_url

    from feedsvc.db.drivers import driver_problem, driver_url, source_connect_args

    parsed = driver_url(make_url(url))
    return driver_problem(parsed, source_connect_args(parsed, timeouts))


def _sqlite_source_problem(url: str) -> str | None:
    """An SQLite source that can never be a CMS file (``feedsvc.db.sqlite_url``: as SQLAlchemy
    opens it): in memory, a directory, a device, a pipe, a socket
    (``feedsvc.db.sqlite_kind.not_a_file``, the state DB's rule too). A file that is not there
    is no problem of the configuration but an outage (:func:`source_warnings`): refused here, it
    stopped every command, ``status`` and a web-only ``run`` included, while the file was
    away."""
    from feedsvc.db.sqlite_kind import not_a_file
    from feedsvc.db.sqlite_url import sqlite_target

    target = sqlite_target(url)
    if target is None:
        return None  # SQLAlchemy's reading: its own errors
    file = target.file()
    if file is None:
        return "an SQLite DB in memory holds no articles: name the publisher's database file"
    what = not_a_file(file)  # passed, then "unable to open database file" at every tick
    return None if what is None else f"{what}: name the publisher's database file"


def _state_file_problem(url: str) -> str | None:
    """An SQLite ``database.url`` whose path holds something no SQLite file can be (a
    directory, a device, a pipe, a socket: ``feedsvc.db.sqlite_kind.not_a_file``, the rule of
    ``source.url``'s check), refused by ``config check`` and so by every command, ``run``
    included (exit 2, naming the key). ``sqlite:////dev/null`` passed and ``db upgrade`` said
    "the SQLite file /dev/null is here but not its /dev/null-wal …" (a tester's U4). A path with
    nothing at it is a new state DB (``db upgrade`` tells where it cannot be made)."""
    if not url.startswith("sqlite"):
        return None
    from feedsvc.db.sqlite_kind import not_a_file
    from feedsvc.db.sqlite_url import SqlitePathError, sqlite_target

    target = sqlite_target(url)
    try:
        file = None if target is None else target.file()
    except SqlitePathError:  # the URL's own check words it (config.urls.check_url)
        return None
    what = None if file is None else not_a_file(file)
    if what is None:
        return None
    return f"{what}: set database.url to the state DB's file (e.g. sqlite:///var/feedsvc.db)"


def source_warnings(settings: Settings) -> list[Problem]:
    """An SQLite ``source.url`` whose file is not there now (``config check``'s warning, exit
    unchanged): the configuration is right, the CMS is absent (moved, a share not mounted), as
    a CMS server may be down. ``run`` starts and serves feeds and alerts, its ingest says the
    source does not answer and retries with backoff, and picks the file up when it is back;
    the file is never created (``feedsvc.db.drivers.never_created``). A mistyped path is a
    file that never comes: ``source check`` fails on it (exit 1, "cannot connect")."""
    url = settings.source.url
    if not url or not url.startswith("sqlite"):
        return []
    from feedsvc.db.sqlite_url import MISSING_SOURCE, missing_file, sqlite_target

    target = sqlite_target(url)
    file = None if target is None else missing_file(target.filename, uri=target.uri)
    if file is None:
        return _unreadable_source(target)
    return [
        Problem(
            "source.url",
            f"{MISSING_SOURCE.format(file=file)}: feedsvc run starts and its ingest retries "
            "until the file is there; if the path is wrong, correct it",
        )
    ]


def _unreadable_source(target: SqliteTarget | None) -> list[Problem]:
    """An SQLite source file this user cannot read (``db.sqlite_reading.unreadable``: named,
    with the permission to grant), a warning as a missing file is: the permission may be
    granted while ``run`` retries."""
    from feedsvc.db.sqlite_reading import unreadable
    from feedsvc.db.sqlite_url import SqlitePathError

    try:
        path = None if target is None else target.file()
    except SqlitePathError:
        return []
    problem = None if path is None else unreadable(path)
    if problem is None:
        return []
    return [Problem("source.url", f"{problem}: feedsvc run starts and its ingest retries")]


def public_url_warnings(settings: Settings) -> list[Problem]:
    """``http.public_url`` left unset while ``http.host`` takes connections from elsewhere: the
    links of feeds, pages and alerts then name this machine's loopback or listening address
    (:func:`~feedsvc.config.urls.listener_url`), which readers elsewhere cannot open. Advice,
    not a problem: a service behind a proxy on the same machine may be reached either way."""
    http = settings.http
    if "public_url" in http.model_fields_set or is_loopback_host(http.host):
        return []
    return [
        Problem(
            "http.public_url",
            f"not set: feed links, pages and alerts point to {http.public_url}, the address "
            "listened on; set it to the address readers use (e.g. https://tin.example.vn/)",
        )
    ]


#: Where Zalo posts updates in webhook mode: the route (``feedsvc.channels.zalo.service``'s
#: ``WEBHOOK_PATH``, ``web/zalo.py``) and the address registered and warned about.
ZALO_WEBHOOK_PATH = "/zalo/webhook"


def zalo_webhook_warnings(settings: Settings) -> list[Problem]:
    """A Zalo bot in webhook mode (``zalo.webhook_secret`` set) whose webhook address Zalo's
    servers cannot use: ``http.public_url`` unset (the address listened on, loopback by
    default), a loopback one, or plain http. The README's quick setup
    (``FEEDSVC_ZALO__TOKEN``, ``FEEDSVC_ZALO__WEBHOOK_SECRET``, ``feedsvc run``) passed
    ``config check`` as OK and registered ``http://127.0.0.1:8080/zalo/webhook`` with Zalo: the
    bot never heard a command, without a word. Advice, not a problem: a tunnel may forward
    such an address. Told from whether the keys are set, never by reading a secret."""
    zalo = settings.zalo
    token = zalo.token is not None or zalo.token_file is not None
    secret = zalo.webhook_secret is not None or zalo.webhook_secret_file is not None
    if not (token and secret):
        return []
    from urllib.parse import urlsplit

    public = settings.http.public_url
    url = public.rstrip("/") + ZALO_WEBHOOK_PATH
    parts = urlsplit(public)
    if "public_url" not in settings.http.model_fields_set:
        why = "http.public_url is not set, so it is the address listened on"
    elif is_loopback_host(parts.hostname or ""):
        why = "http.public_url is an address of this machine"
    elif parts.scheme != "https":
        why = "http.public_url is not https"
    else:
        return []
    return [
        Problem(
            "zalo.webhook_secret",
            f"set, so Zalo must post the bot's updates to {url}, which it cannot use ({why}): "
            "set http.public_url to the service's public https address (e.g. "
            "https://tin.example.vn/), or unset zalo.webhook_secret to poll Zalo for updates "
            "instead (no public address needed)",
        )
    ]


def advice(settings: Settings, *, placeholders: bool = True) -> list[Problem]:
    """Every warning about a configuration that works (``config check`` prints them, ``run``
    logs them at start): ``[site]`` still at its built-in placeholders
    (:func:`~feedsvc.config.placeholders.placeholder_warnings`; ``placeholders=False`` for the
    demo, which runs on them by design), a weak admin token, a Telegram bot token of another
    length than @BotFather's (cut short when pasted?), an unset ``http.public_url`` on a public
    host, a Zalo webhook Zalo cannot reach, a Zalo link without a Zalo bot, a poll interval
    that hammers the CMS."""
    return (
        (placeholder_warnings(settings) if placeholders else [])
        + weak_token_warnings(settings)
        + telegram_token_warnings(settings)
        + public_url_warnings(settings)
        + zalo_webhook_warnings(settings)
        + _zalo_link_warnings(settings)
        + _poll_warnings(settings)
    )


def _zalo_link_warnings(settings: Settings) -> list[Problem]:
    """``zalo.link`` set without a Zalo token: the reader pages show no Zalo (a link to a bot
    that cannot answer), which ``config check`` said nothing about. Told from whether the keys
    are set, never by reading a secret."""
    zalo = settings.zalo
    if zalo.link is None or zalo.token is not None or zalo.token_file is not None:
        return []
    return [Problem("zalo.link", "is set but zalo.token is not: the reader pages show no "
                    "Zalo until the Zalo bot has a token")]  # fmt: skip


#: ``source.poll_seconds`` below this is warned about (a few seconds is already near real time)
BRISK_POLL_SECONDS = 1.0


def _poll_warnings(settings: Settings) -> list[Problem]:
    """``source.poll_seconds = 0.001`` was taken without a word: ``run`` used ~90 % of a core
    and sent the CMS ~300 queries a second."""
    seconds = settings.source.poll_seconds
    if seconds >= BRISK_POLL_SECONDS:
        return []
    return [Problem("source.poll_seconds", f"{seconds:g} s polls the source database about "
                    f"{round(1 / seconds)} times a second, each poll a few queries: a few "
                    "seconds is near real time already")]  # fmt: skip
