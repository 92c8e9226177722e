"""Checking a configuration: :func:`check_config` finds every problem in one pass (the models'
and those that need the settings as a whole or the file system: token files, the source's time
zone and URL, Zalo's webhook secret), :func:`load_config` refuses a configuration with any;
:func:`weak_token_warnings`, :func:`secret_warnings` and :func:`source_warnings` (an SQLite
source file not there now: an outage, not a wrong configuration) are advice, not refusals."""

from __future__ import annotations

import copy
import os
import re
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from feedsvc.config.models import Settings, read_secret_file
from feedsvc.config.problems import ConfigError, Problem, describe
from feedsvc.config.sources import (
    env_name,
    env_values,
    json_shape,
    merged,
    misnamed_env,
    read_toml,
)
from feedsvc.config.urls import check_url, is_loopback_host
from feedsvc.db.timeouts import DbTimeouts

SECRET_KEYS = (
    ("telegram", "token"), ("admin", "token"), ("zalo", "token"), ("zalo", "webhook_secret"),
)  # fmt: skip
#: The secrets that are bot tokens: they go into the Bot API's URL path (``/bot<TOKEN>/``) and
#: are issued without any whitespace, so a space inside is a paste gone wrong.
BOT_TOKENS = frozenset({("telegram", "token"), ("zalo", "token")})


def load_config(path: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    """Load and validate; raises :class:`ConfigError` listing every problem."""
    settings, problems = check_config(path, overrides)
    if problems or settings is None:
        raise ConfigError(str(path) if path else "defaults", problems)
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
    return settings, problems


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


def _secret_file_problem(path: Path) -> str | None:
    """Why the secret in ``path`` cannot be read as the service reads it (UTF-8 text), or None;
    never its content. A file in another encoding passed the check and ``run`` then stopped on
    a ``UnicodeDecodeError`` traceback."""
    if path.is_dir():
        return f"{path} is a directory, not a file"
    if not path.is_file():
        return f"file not found: {path}" if not path.exists() else f"{path} is not a regular file"
    try:
        path.read_bytes().decode("utf-8")
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    except UnicodeDecodeError:
        return f"{path} is not UTF-8 text (a secret file holds the secret as plain text)"
    return None


def _semantic_problems(settings: Settings) -> list[Problem]:
    problems: list[Problem] = []
    files = (
        ("telegram.token_file", settings.telegram.token_file),
        ("admin.token_file", settings.admin.token_file),
        ("zalo.token_file", settings.zalo.token_file),
        ("zalo.webhook_secret_file", settings.zalo.webhook_secret_file),
    )
    for key, path in files:
        if path is not None:
            problem = _secret_file_problem(path)
            if problem is not None:
                problems.append(Problem(key, problem))
    problems.extend(_secret_text_problems(settings))
    problems.extend(_token_in_base_url(settings))
    problems.extend(_zalo_problems(settings))
    if settings.source.timezone:
        try:
            ZoneInfo(settings.source.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                Problem("source.timezone", f"unknown IANA timezone {settings.source.timezone!r}")
            )
    if settings.source.url:
        problem = _source_url_problem(settings.source.url, settings.source.timeouts())
        if problem is not None:
            problems.append(Problem("source.url", problem))
    return problems


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
    opens it): in memory, a directory, a device. A file that is not there is no problem of the
    configuration but an outage (:func:`source_warnings`): refused here, it stopped every
    command, ``status`` and a web-only ``run`` included, while the file was away."""
    from feedsvc.db.sqlite_url import sqlite_target

    target = sqlite_target(url)
    if target is None:
        return None  # SQLAlchemy's reading: its own errors
    file = target.file()
    if file is None:
        return "an SQLite DB in memory holds no articles: name the publisher's database file"
    if not file.exists():
        return None  # absent for now (moved, a share not mounted): source_warnings
    if file.is_dir():  # passed, then "unable to open database file" at every ingest tick
        return f"{file} is a directory, not an SQLite file: name the publisher's database file"
    if not file.is_file():
        return f"{file} is not a regular file (a device or a pipe): name an SQLite database file"
    return None


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
        return []
    return [
        Problem(
            "source.url",
            f"{MISSING_SOURCE.format(file=file)}: feedsvc run starts and its ingest retries "
            "until the file is there; if the path is wrong, correct it",
        )
    ]


def _secret_text_problems(settings: Settings) -> list[Problem]:
    """Each secret (:data:`SECRET_KEYS`, given itself or in its ``*_file``) that cannot be what
    was meant, named by the key it came from, never shown: a file of two lines (``abc\\ndef``:
    the service used both lines as one token, and `config check` said OK), a line break or
    another control character in it, a space inside a bot token. A file's ends are stripped,
    as the service reads it."""
    problems: list[Problem] = []
    for section, key in SECRET_KEYS:
        part = getattr(settings, section)
        value, path = getattr(part, key), getattr(part, f"{key}_file")
        if value is not None and value.get_secret_value():
            name, text = f"{section}.{key}", value.get_secret_value()
        elif path is not None and path.is_file():  # else said by _secret_file_problem (a FIFO
            # would block the read)
            try:
                name, text = f"{section}.{key}_file", read_secret_file(path)
            except (OSError, UnicodeDecodeError):
                continue  # said by _secret_file_problem
        else:
            continue
        problem = secret_text_problem(text, bot=(section, key) in BOT_TOKENS)
        if not text:  # an empty file switched its feature off without a word (the admin, the
            # Zalo webhook: long polling instead) or was "no Telegram bot token"
            problem = f"is empty: put the {key.replace('_', ' ')} in it, or unset the key"
        elif problem is None and (section, key) == ("telegram", "token"):
            problem = telegram_token_problem(text)
        elif problem is None and (section, key) == ("zalo", "token"):
            problem = zalo_token_problem(text)
        if problem is not None:
            what = f"the secret in {path}" if name.endswith("_file") else "the value"
            problems.append(Problem(name, f"{what} {problem}"))
    return problems


def secret_text_problem(text: str, *, bot: bool) -> str | None:
    """Why ``text`` cannot be a secret as typed (``bot``: a bot token), or None; in words that
    never repeat any of it."""
    lines = len(text.splitlines())
    if lines > 1:
        return f"has {lines} lines: it must be one line holding the secret alone"
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text):
        return "contains a line break or another control character"
    if invisible := next((c for c in text if unicodedata.category(c) == "Cf"), None):
        # a zero-width space pasted with it, a byte-order mark inside: no secret holds one
        return f"contains an invisible character (U+{ord(invisible):04X}): type it again"
    if bot and any(c.isspace() for c in text):
        return "contains whitespace, which no bot token has: copy the token again"
    return None


#: A Telegram bot token as @BotFather gives it: the bot's id, a colon, the secret.
_TELEGRAM_TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")


def telegram_token_problem(text: str) -> str | None:
    """Why ``text`` (one line, no whitespace) is no Telegram bot token, or None; never any of
    it. A token copied from a Bot API URL (``bot123:ABC``), quoted twice, or cut at the colon
    passed `config check`; only Telegram refused it, once the service was running."""
    if _TELEGRAM_TOKEN.fullmatch(text):
        return None
    if _TELEGRAM_TOKEN.fullmatch(text.removeprefix("bot")):
        return "starts with 'bot', which the Bot API's URL adds itself (/bot<TOKEN>/): remove it"
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        return "is quoted twice (the inner quotes are part of it): remove them"
    return (
        "is not a Telegram bot token, which is the bot's id, ':' and letters, digits, '_' or "
        "'-' (e.g. 123456789:AAF…, as @BotFather gives it): copy the token again"
    )


def zalo_token_problem(text: str) -> str | None:
    """Why ``text`` (one line, no whitespace: :func:`secret_text_problem`) cannot be a Zalo bot
    token, or None; never any of it. Zalo's token format is not documented where feedsvc looked
    (``FIELD-NOTES.md``): only what no token can be is refused — quoted twice (an empty
    ``token_file``, as every secret file, is refused by :func:`_secret_text_problems`); any
    other text is left to Zalo."""
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        return "is quoted twice (the inner quotes are part of it): remove them"
    return None


def secret_value(settings: Settings, section: str, key: str) -> str | None:
    """The secret ``section.key`` as the service reads it (the value, else its ``*_file``'s
    text, stripped), or None — also when that file is not a regular file (a FIFO would block
    the read) or cannot be read: :func:`_secret_file_problem` says so."""
    part = getattr(settings, section)
    value, path = getattr(part, key), getattr(part, f"{key}_file")
    if value is not None and value.get_secret_value():
        return str(value.get_secret_value())
    if path is None or not path.is_file():
        return None
    try:
        return read_secret_file(path) or None
    except (OSError, UnicodeDecodeError):
        return None


def _token_in_base_url(settings: Settings) -> list[Problem]:
    """A bot token pasted into its ``base_url`` (the Bot API URL copied whole): the token went
    into the request path twice, every call failed, and ``config show`` printed it."""
    problems = []
    for section in ("telegram", "zalo"):
        token = secret_value(settings, section, "token")
        base = unquote(getattr(settings, section).base_url)  # %31%32…: the token all the same
        segments = [s.lower() for s in urlsplit(base).path.split("/")]
        long_enough = token is not None and len(token) >= 8  # a short one is found anywhere
        if token and (
            token.lower() in segments
            or f"bot{token}".lower() in segments
            or (long_enough and token in base)
        ):
            default = type(getattr(settings, section))().base_url
            problems.append(Problem(
                f"{section}.base_url",
                f"holds the bot token, which feedsvc adds itself: set it to the Bot API's "
                f"address only (the default is {default})",
            ))  # fmt: skip
    return problems


def _zalo_problems(settings: Settings) -> list[Problem]:
    """Zalo accepts a webhook secret of 8 to 256 characters (Zalo Bot Platform's setWebhook)."""
    try:
        secret = settings.zalo_webhook_secret()
    except (OSError, UnicodeDecodeError):
        return []  # a missing file is reported above
    if secret is not None and not 8 <= len(secret) <= 256:
        return [Problem("zalo.webhook_secret", "must be 8 to 256 characters")]
    return []


#: Shorter admin tokens are accepted with a warning: the login limit is per process and client
#: address, so the token's length is what really stands between the admin and a guesser.
MIN_ADMIN_TOKEN_CHARS = 16


def weak_token_warnings(settings: Settings) -> list[Problem]:
    """An admin token too short to resist guessing (its length is reported, never the token)."""
    try:
        token = settings.admin_token()
    except (OSError, UnicodeDecodeError):
        return []  # an unreadable token file is reported where the token is used
    if token is None or len(token) >= MIN_ADMIN_TOKEN_CHARS:
        return []
    return [
        Problem(
            "admin.token",
            f"only {len(token)} characters; use {MIN_ADMIN_TOKEN_CHARS} or more random ones, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    ]


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
            f"not set: feed links, pages and alerts point to {http.public_url}, an address of "
            "this machine; set it to the address readers use "
            "(e.g. https://tin.example.vn/)",
        )
    ]


def advice(settings: Settings) -> list[Problem]:
    """Every warning about a configuration that works (``config check`` prints them, ``run``
    logs them at start): a weak admin token, an unset ``http.public_url`` on a public host, a
    poll interval that hammers the CMS."""
    return weak_token_warnings(settings) + public_url_warnings(settings) + _poll_warnings(settings)


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


def secret_warnings(path: Path | None) -> list[Problem]:
    """Secrets written into the config file work, but belong in env or a ``*_file``."""
    if path is None or not path.is_file():
        return []
    data = read_toml(path)
    return [
        Problem(
            f"{section}.{key}",
            "secret in the config file; prefer env "
            f"FEEDSVC_{section.upper()}__{key.upper()} or {section}.{key}_file",
        )
        for section, key in SECRET_KEYS
        if isinstance(data.get(section), dict) and data[section].get(key)
    ]
