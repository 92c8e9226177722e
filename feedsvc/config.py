"""Configuration: ``config/feedsvc.toml`` + ``FEEDSVC_<SECTION>__<KEY>`` env overrides.

Validation collects *every* problem with its dotted key before giving up, because an operator
fixing a config one error per restart is a bad afternoon. Secrets are :class:`SecretStr` so they
never show up in reprs or logs, and may come from env or ``*_file`` keys.

Every CLI command loads this module, so its imports are part of each command's start-up (issue
#17 §1): env overrides are read by :func:`env_values` (pydantic-settings, which brought asyncio
and ssl along, ~4x the cost of importing Click, is no longer used) and SQLAlchemy is imported
only to check a database URL that is neither a plain ``sqlite://`` one nor a PostgreSQL one
``feedsvc.db.urls`` reads.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from feedsvc.db.timeouts import DbTimeouts

DEFAULT_CONFIG = Path("config/feedsvc.toml")
SECRET_KEYS = (
    ("telegram", "token"), ("admin", "token"), ("zalo", "token"), ("zalo", "webhook_secret"),
)  # fmt: skip


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Timeouts(_Section):
    """Bounds on every wait on a network DB's sockets (seconds; see feedsvc.db.timeouts)."""

    connect_timeout: float = Field(default=10.0, gt=0, le=600)
    statement_timeout: float = Field(default=60.0, ge=0, le=86400)  # 0: unbounded
    keepalive_seconds: float = Field(default=30.0, ge=1, le=7200)

    def timeouts(self) -> DbTimeouts:
        return DbTimeouts(self.connect_timeout, self.statement_timeout, self.keepalive_seconds)


class DatabaseSettings(_Timeouts):
    url: str = "sqlite:///var/feedsvc.db"

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        _check_url(value)
        return value


class SourceColumns(_Section):
    """Which column of an external source holds each article field (absent → null)."""

    id: str = "id"
    cursor: str = "changed_at"
    source_key: str = "source_key"
    url: str = "url"
    title: str = "title"
    summary: str | None = "summary"
    body: str | None = "body"
    author: str | None = "author"
    section: str | None = "section"
    tags: str | None = "tags"
    image_url: str | None = "image_url"
    published_at: str = "published_at"
    updated_at: str | None = "updated_at"
    # SPEC §10: an SQL boolean expression or column, e.g. "status = 'published'". Rows are read
    # whatever it says; a false (or NULL) one is withdrawn, never shown. Unset: every row shows.
    visible: str | None = None


class SourceSettings(_Timeouts):
    url: str | None = None
    table: str = "source_articles"
    poll_seconds: float = Field(default=30.0, gt=0, le=86400)
    overlap_seconds: float = Field(default=300.0, ge=0, le=7 * 86400)
    # rows per ingest transaction: 100 is as fast as 500 and holds the write lock a fifth as
    # long (bench/RESULTS.md, "Ingest, 2026-11-30")
    batch_size: int = Field(default=100, ge=1, le=100_000)
    # processes that normalise and match ingest batches beside the service's own (issue 17
    # §2; feedsvc.ingest.pool): "auto" = one per core beyond the first (none on one core),
    # 0 = always in the service's process
    match_workers: Annotated[int, Field(ge=0, le=64)] | Literal["auto"] = "auto"
    timezone: str | None = None
    # Deleted rows (SPEC §10): every reconcile_seconds, the rows published in the last
    # reconcile_days are compared with what feedsvc holds (feedsvc.lifecycle.reconcile).
    reconcile_days: float = Field(default=7.0, gt=0, le=366)
    reconcile_seconds: float = Field(default=300.0, ge=10, le=86400)
    columns: SourceColumns = SourceColumns()

    @field_validator("match_workers", mode="before")
    @classmethod
    def _workers(cls, value: object) -> object:
        if isinstance(value, bool):  # `true` would read as 1 worker
            raise ValueError('a number of processes (0-64) or "auto"')
        return value


def match_processes(setting: int | Literal["auto"]) -> int:
    """Match worker processes for ``source.match_workers``: ``"auto"`` is one per core this
    process may run on beyond the first (0 on one core: matching stays in-process)."""
    if setting != "auto":
        return setting
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(0, cores - 1)


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    cache_seconds: int = Field(default=300, ge=0, le=86400)
    websub_hub: str | None = None
    # SO_REUSEPORT: several feedsvc processes on one host share host:port (the kernel spreads
    # connections), e.g. web replicas (`feedsvc run --no-scheduler --no-bot`) for more cores.
    reuse_port: bool = False
    # Peers (addresses or CIDR networks) whose X-Forwarded-For / X-Forwarded-Proto are believed;
    # empty: nobody's, the connecting address is the client (feedsvc.web.clients).
    trusted_proxies: list[str] = []
    # Uncached search feeds and ?limit= variants rendered at once; more get 503 + Retry-After.
    search_concurrency: int = Field(default=2, ge=1, le=64)
    # Search-feed and ?limit= requests per client address (IPv6: per /64): a burst, then a rate.
    client_burst: int = Field(default=30, ge=1, le=100_000)
    client_rate: float = Field(default=1.0, gt=0, le=10_000)
    # Memory for on-demand renders (search feeds, ?limit= variants), in MiB (bodies + gzip).
    render_cache_mb: int = Field(default=32, ge=1, le=4096)
    # Connection limits (feedsvc.web.connections): seconds a connection may take to send a
    # request head (also the idle time before a first request), bytes a request head
    # (request line + headers) may have, and open client connections per process.
    header_timeout: float = Field(default=10.0, gt=0, le=600)
    max_header_bytes: int = Field(default=32768, ge=1024, le=1048576)
    max_connections: int = Field(default=2000, ge=10, le=1_000_000)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or CIDR network: {item!r}") from None
        return [item.strip() for item in value]

    @field_validator("public_url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        return _absolute_url(value)

    @field_validator("websub_hub")
    @classmethod
    def _hub(cls, value: str | None) -> str | None:
        return _absolute_url(value) if value else None


class TelegramSettings(_Section):
    token: SecretStr | None = None
    token_file: Path | None = None
    base_url: str = "https://api.telegram.org/bot"
    admins: list[int] = []
    global_rate: float = Field(default=25.0, gt=0, le=30)
    alert_max_age_hours: float = Field(default=48.0, gt=0)
    images: bool = False
    lease_seconds: float = Field(default=60.0, ge=5, le=3600)
    # SPEC §10: sent alerts of a withdrawn or hidden article are deleted (within Telegram's 48 h;
    # past that, or refused, edited to a notice), always edited to the notice, or kept.
    on_withdraw: Literal["delete", "edit", "keep"] = "delete"
    # a correction (new title or summary) edits the alerts sent within 48 h; no new message
    edit_on_update: bool = True
    # The bot's @username for the reader pages' "t.me/<bot>?start=<topic>" links; unset: asked
    # from Telegram (getMe) when the service starts.
    username: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
    # What one bot user (or one chat) may make the bot do: commands at once and per minute
    # (token buckets; the first refusal is answered, the rest ignored until allowed again), and
    # subscriptions across all chats. telegram.admins are exempt.
    user_command_burst: int = Field(default=10, ge=1, le=1000)
    user_commands_per_minute: float = Field(default=20.0, gt=0, le=6000)
    chat_command_burst: int = Field(default=20, ge=1, le=1000)
    chat_commands_per_minute: float = Field(default=40.0, gt=0, le=6000)
    max_subscriptions_per_user: int = Field(default=100, ge=1, le=100_000)


class ZaloSettings(_Section):
    """The Zalo bot (SPEC §11). Off without a token; ``webhook_secret`` set: updates arrive at
    ``POST /zalo/webhook`` (and the webhook is registered at ``http.public_url`` when
    ``set_webhook``); unset: long polling, one poller across replicas."""

    token: SecretStr | None = None
    token_file: Path | None = None
    base_url: str = "https://bot-api.zaloplatforms.com"
    webhook_secret: SecretStr | None = None
    webhook_secret_file: Path | None = None
    set_webhook: bool = True
    global_rate: float = Field(default=10.0, gt=0, le=100)

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        return _absolute_url(value)


class AdminSettings(_Section):
    token: SecretStr | None = None
    token_file: Path | None = None
    language: Literal["vi", "en"] = "vi"


class SiteSettings(_Section):
    title: str = "Tin tức"
    url: str = "https://example.vn/"
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"  # what readers see: the reader pages and the bot

    @field_validator("url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        return _absolute_url(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {value!r}") from None
        return value


class TopicsSettings(_Section):
    file: Path = Path("config/topics.toml")
    import_on_start: bool = True


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class Settings(BaseModel):
    """All settings; build with :func:`load_config` (file, then env overrides)."""

    model_config = ConfigDict(extra="forbid")

    database: DatabaseSettings = DatabaseSettings()
    source: SourceSettings = SourceSettings()
    http: HttpSettings = HttpSettings()
    telegram: TelegramSettings = TelegramSettings()
    zalo: ZaloSettings = ZaloSettings()
    admin: AdminSettings = AdminSettings()
    site: SiteSettings = SiteSettings()
    topics: TopicsSettings = TopicsSettings()
    log: LogSettings = LogSettings()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)

    @property
    def source_tz(self) -> ZoneInfo:
        return ZoneInfo(self.source.timezone or self.site.timezone)

    def telegram_token(self) -> str | None:
        return _secret(self.telegram.token, self.telegram.token_file)

    def admin_token(self) -> str | None:
        return _secret(self.admin.token, self.admin.token_file)

    def zalo_token(self) -> str | None:
        return _secret(self.zalo.token, self.zalo.token_file)

    def zalo_webhook_secret(self) -> str | None:
        return _secret(self.zalo.webhook_secret, self.zalo.webhook_secret_file)


ENV_PREFIX = "FEEDSVC_"
ENV_NESTING = "__"


def env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    """``FEEDSVC_<SECTION>__<KEY>[__<KEY>]`` variables as nested config data (names compared
    case-insensitively). A value for a list or a section (``FEEDSVC_TELEGRAM__ADMINS='[5, 6]'``,
    ``FEEDSVC_SOURCE__COLUMNS='{"id": "nid"}'``) is JSON; when it is not valid JSON it is passed
    on as text, so validation names the key. Variables whose first part is not a section
    (``FEEDSVC_CONFIG``) are not settings and are skipped; an unknown key inside a section is
    kept, so validation reports it like a misspelt key in the file."""
    out: dict[str, Any] = {}
    prefix = ENV_PREFIX.lower()
    for name, value in environ.items():
        lowered = name.lower()
        if not lowered.startswith(prefix):
            continue
        path = lowered[len(prefix) :].split(ENV_NESTING)
        if path[0] not in Settings.model_fields or not all(path):
            continue
        target = out
        for key in path[:-1]:
            child = target.setdefault(key, {})
            if not isinstance(child, dict):
                break  # a whole section given as JSON and one of its keys: the JSON stays
            target = child
        else:
            target[path[-1]] = _json_if_complex(value, _annotation(path))
    return out


def _annotation(path: list[str]) -> Any:
    """The declared type at ``path`` (None when the path names no field)."""
    model: Any = Settings
    annotation: Any = None
    for key in path:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(key)
        if field is None:
            return None
        annotation = model = field.annotation
    return annotation


def _json_if_complex(value: str, annotation: Any) -> Any:
    kinds = typing.get_args(annotation) if typing.get_origin(annotation) is not None else ()
    candidates = [a for a in (annotation, *kinds) if a is not type(None)]
    complex_ = any(
        typing.get_origin(a) in (list, dict) or (isinstance(a, type) and issubclass(a, BaseModel))
        for a in candidates
    )
    if not complex_:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _merged(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top, section by section (env wins over the file)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _check_url(value: str) -> None:
    """Raise ValueError for a string SQLAlchemy cannot parse as a URL; the message never
    repeats the value (it may hold a password).

    ``sqlite://…`` URLs are accepted without asking SQLAlchemy (its URL pattern takes any text
    after ``sqlite://`` as the database), and so are the PostgreSQL URLs
    ``feedsvc.db.urls.psycopg_url`` reads, so a read-only command on an SQLite or PostgreSQL
    state DB need not import SQLAlchemy only to validate its configuration.
    """
    if value.startswith(("sqlite://", "sqlite+pysqlite://")) and "?" not in value:
        return
    from feedsvc.db.urls import psycopg_url

    if psycopg_url(value) is not None:
        return  # parsed as SQLAlchemy would (tests/test_db_urls.py): no SQLAlchemy import
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except ArgumentError:
        raise ValueError(
            "not a SQLAlchemy URL (expected dialect+driver://user:password@host:port/database)"
        ) from None


def printable(settings: Settings) -> dict[str, Any]:
    """The settings as JSON-ready data for display: secrets masked (``SecretStr``) and the
    password of every DB URL replaced by ``***``."""
    from feedsvc.db.engine import masked_url

    data: dict[str, Any] = settings.model_dump(mode="json")
    for section in ("database", "source"):
        url = data[section].get("url")
        if url:
            data[section]["url"] = masked_url(url)
    return data


def _absolute_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an absolute http(s) URL")
    return value


def _secret(value: SecretStr | None, path: Path | None) -> str | None:
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    if path is not None:
        return path.read_text(encoding="utf-8").strip() or None
    return None


@dataclass(frozen=True)
class Problem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(Exception):
    """Every problem found in a configuration, each naming its key."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [Problem(str(path), f"invalid TOML: {exc}")]) from None
    except OSError as exc:
        raise ConfigError(str(path), [Problem(str(path), f"cannot read: {exc.strerror}")]) from None


#: Key names that may hold a secret (or a URL with a password in it): values never echoed.
_SECRET_WORDS = ("token", "secret", "password", "url", "key")


def _describe(err: Any) -> Problem:
    """One pydantic error as a :class:`Problem`.

    The value is echoed only for a known key inside a section whose name does not say it may
    hold a secret: a token or password pasted under a wrong or misspelt key, in place of a
    section, or into a URL must never be printed back (the operator has the file; the key and
    the expected shape are enough).
    """
    parts = [str(part) for part in err["loc"]]
    loc = ".".join(parts)
    message = str(err["msg"])
    value = err.get("input")
    if err["type"] == "extra_forbidden":
        message = "unknown key (check spelling; see config/feedsvc.toml for every key)"
    elif (
        err["type"] != "value_error"
        and len(parts) >= 2
        and not any(word in loc.lower() for word in _SECRET_WORDS)
        and isinstance(value, str | bool | int | float)
    ):
        message = f"{message} (got {value!r})"
    message = message.removeprefix("Value error, ")
    return Problem(loc, message)


def _semantic_problems(settings: Settings) -> list[Problem]:
    problems: list[Problem] = []
    files = (
        ("telegram.token_file", settings.telegram.token_file),
        ("admin.token_file", settings.admin.token_file),
        ("zalo.token_file", settings.zalo.token_file),
        ("zalo.webhook_secret_file", settings.zalo.webhook_secret_file),
    )
    for key, path in files:
        if path is not None and not path.is_file():
            problems.append(Problem(key, f"file not found: {path}"))
    problems.extend(_zalo_problems(settings))
    if settings.source.timezone:
        try:
            ZoneInfo(settings.source.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                Problem("source.timezone", f"unknown IANA timezone {settings.source.timezone!r}")
            )
    if settings.source.url:
        try:
            _check_url(settings.source.url)
        except ValueError as exc:
            problems.append(Problem("source.url", str(exc)))
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


def config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    """``--config`` wins, then ``FEEDSVC_CONFIG``, then ``config/feedsvc.toml`` if present."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("FEEDSVC_CONFIG")
    if env:
        return Path(env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


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
    default. Returns those settings (for further checks, e.g. the topics file; None when nothing
    could be salvaged) and the problems. Raises :class:`ConfigError` only for a file that cannot
    be read or parsed as TOML: nothing more can be said then."""
    data = _read_toml(path) if path is not None else {}
    for section, values in (overrides or {}).items():
        data.setdefault(section, {}).update(values)
    data = _merged(data, env_values(os.environ))
    problems: list[Problem] = []
    try:
        settings: Settings | None = Settings(**data)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
        settings = _salvage(data, [tuple(e["loc"]) for e in exc.errors()])
    if settings is not None:
        seen = {p.key for p in problems}
        problems += [p for p in _semantic_problems(settings) if p.key not in seen]
    return settings, problems


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


def secret_warnings(path: Path | None) -> list[Problem]:
    """Secrets written into the config file work, but belong in env or a ``*_file``."""
    if path is None or not path.is_file():
        return []
    data = _read_toml(path)
    return [
        Problem(
            f"{section}.{key}",
            "secret in the config file; prefer env "
            f"FEEDSVC_{section.upper()}__{key.upper()} or {section}.{key}_file",
        )
        for section, key in SECRET_KEYS
        if isinstance(data.get(section), dict) and data[section].get(key)
    ]
