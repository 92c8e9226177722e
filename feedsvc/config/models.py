"""The settings models: every section, key, default and bound of ``config/feedsvc.toml``.

Pydantic is the one validator of the configuration: a key's type, range and shape are declared
here and nowhere else (``feedsvc.config.checks`` adds only what needs the settings as a whole or
the file system). Secrets are :class:`SecretStr`, so they never show up in reprs or logs; the
token methods of :class:`Settings` read them from the setting or its ``*_file``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from feedsvc.config.secret_file import read_secret_file
from feedsvc.config.section import SECTION_RULES, Section, TimeoutsSection
from feedsvc.config.urls import (
    absolute_url,
    check_host,
    check_networks,
    check_state_backend,
    check_url,
    https_link,
    listener_url,
    public_base_url,
    published_url,
)


class DatabaseSettings(TimeoutsSection):
    url: str = "sqlite:///var/feedsvc.db"

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        check_url(value, state=True)
        check_state_backend(value)
        return value


class SourceColumns(Section):
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

    @field_validator("visible", mode="before")
    @classmethod
    def _visible_is_sql(cls, value: object) -> object:
        """``visible = true`` (TOML's boolean) read "Input should be a valid string": say what
        the key takes, and that leaving it out is how every row shows."""
        if isinstance(value, bool):
            raise ValueError(
                "must be an SQL boolean expression or column as a string, e.g. "
                "\"status = 'published'\", not true/false (leave it out and every row is shown)"
            )
        return value


class SourceSettings(TimeoutsSection):
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
    # reconcile_days are compared with what feedsvc holds (feedsvc.lifecycle.reconcile); held
    # drafts are looked up again for as long (feedsvc.lifecycle.published).
    reconcile_days: float = Field(default=7.0, gt=0, le=366)
    reconcile_seconds: float = Field(default=300.0, ge=10, le=86400)
    columns: SourceColumns = SourceColumns()

    @field_validator("match_workers", mode="wrap")
    @classmethod
    def _workers(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        """One problem for a bad value: the union's members would each report one, named by
        pydantic's tags (``source.match_workers.constrained-int``, ``….literal['auto']``)."""
        expected = 'a number of processes (0-64) or "auto"'
        if isinstance(value, bool):  # `true` would read as 1 worker
            raise ValueError(expected)
        try:
            return handler(value)
        except ValidationError:
            shown = f" (got {value!r})" if isinstance(value, str | int | float) else ""
            raise ValueError(expected + shown) from None


class HttpSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # Unset: the listening address (listener_url), kept so by follow_listener.
    public_url: str = "http://127.0.0.1:8080"
    cache_seconds: int = Field(default=300, ge=0, le=86400)
    websub_hub: str | None = None
    # SO_REUSEPORT: several feedsvc processes on one host share host:port (the kernel spreads
    # connections), e.g. web replicas (`feedsvc run --no-scheduler --no-bot`) for more cores.
    reuse_port: bool = False
    # Peers (addresses or CIDR networks) whose X-Forwarded-For / X-Forwarded-Proto are believed;
    # empty: nobody's, the connecting address is the client (feedsvc.web.clients).
    trusted_proxies: list[str] = Field(default=[], examples=[["127.0.0.1", "10.0.0.0/8"]])
    # Uncached search feeds and ?limit= variants rendered at once; more get 503 + Retry-After.
    search_concurrency: int = Field(default=2, ge=1, le=64)
    # Search-feed and ?limit= requests per client address (IPv6: per /64): a burst, then a rate.
    client_burst: int = Field(default=30, ge=1, le=100_000)
    client_rate: float = Field(default=1.0, gt=0, le=10_000)
    # Memory for on-demand renders (search feeds, ?limit= variants), in MiB (bodies + gzip).
    render_cache_mb: int = Field(default=32, ge=1, le=4096)
    # Connection limits (feedsvc.web.connections): seconds a connection may take to send a
    # request head (also the idle time before a first request), bytes a request head
    # (request line + headers) may have, and open client connections per process; and per
    # client address (IPv6: per /64; 0: no cap; http.trusted_proxies not counted): past it a
    # new connection is answered 429 and closed (feedsvc.web.client_cap).
    header_timeout: float = Field(default=10.0, gt=0, le=600)
    max_header_bytes: int = Field(default=32768, ge=1024, le=1048576)
    max_connections: int = Field(default=2000, ge=10, le=1_000_000)
    max_connections_per_client: int = Field(default=256, ge=0, le=1_000_000)
    # After the head (feedsvc.web.stalls): seconds a request body may go without a byte, and
    # take in all (then 408 and closed); seconds an answer may wait for the client to read any
    # of it (then the connection is cut).
    body_idle_timeout: float = Field(default=10.0, gt=0, le=600)
    body_timeout: float = Field(default=60.0, gt=0, le=3600)
    send_timeout: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        return check_networks(value)

    @field_validator("public_url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        return public_base_url(value)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        return check_host(value)

    @model_validator(mode="after")
    def _listener(self) -> HttpSettings:
        self.follow_listener()
        return self

    def follow_listener(self) -> None:
        """An unset ``public_url`` is the address this process listens on (:func:`~feedsvc.
        config.urls.listener_url`): feeds, pages and alerts of ``run --port 18014`` linked to
        port 8080. Called again when ``run`` learns its port (``--port``, ``--port 0``). The
        key stays unset (``model_fields_set``): redirects stay path-absolute."""
        if "public_url" not in self.model_fields_set:
            self.__dict__["public_url"] = listener_url(self.host, self.port)

    @field_validator("websub_hub")
    @classmethod
    def _hub(cls, value: str | None) -> str | None:
        return published_url(value) if value else None


class TelegramSettings(Section):
    token: SecretStr | None = None
    token_file: Path | None = None
    base_url: str = "https://api.telegram.org/bot"
    admins: list[int] = []  # noqa: RUF012 - a pydantic field: each instance gets a copy
    global_rate: float = Field(default=25.0, gt=0, le=30)
    alert_max_age_hours: float = Field(default=48.0, gt=0, le=24 * 3660)  # ten years
    images: bool = False
    lease_seconds: float = Field(default=60.0, ge=5, le=3600)
    # SPEC §10: sent alerts of a withdrawn or hidden article are deleted (within Telegram's 48 h;
    # past that, or refused, edited to a notice), always edited to the notice, or kept.
    on_withdraw: Literal["delete", "edit", "keep"] = "delete"
    # a correction (new title or summary) edits the alerts sent within 48 h; no new message
    edit_on_update: bool = True
    # The bot's @username for the reader pages' "t.me/<bot>?start=<topic>" links; unset: asked
    # from Telegram (getMe) when the service starts.
    username: str | None = None
    # What one bot user (or one chat) may make the bot do: commands at once and per minute
    # (token buckets; the first refusal is answered, the rest ignored until allowed again), and
    # subscriptions across all chats. telegram.admins are exempt.
    user_command_burst: int = Field(default=10, ge=1, le=1000)
    user_commands_per_minute: float = Field(default=20.0, gt=0, le=6000)
    chat_command_burst: int = Field(default=20, ge=1, le=1000)
    chat_commands_per_minute: float = Field(default=40.0, gt=0, le=6000)
    max_subscriptions_per_user: int = Field(default=100, ge=1, le=100_000)

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        return absolute_url(value)

    @field_validator("username", mode="before")
    @classmethod
    def _username(cls, value: object) -> object:
        """``"@tin_bot"``, as Telegram, @BotFather and the README write a bot's name, is the
        name without its ``@``: a pattern refused it, in regex words only. Spaces around it
        are dropped; a line break is not (a pasted value holding one is refused, as before)."""
        value = value.strip(" ").removeprefix("@") if isinstance(value, str) else value
        if isinstance(value, str) and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", value):
            raise ValueError("must be the bot's username as @BotFather gave it: a letter, then "
                             "3 to 31 letters, digits or _ (the @ may be left out)")  # fmt: skip
        return value


class ZaloSettings(Section):
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
    #: the bot's public link (``https://zalo.me/…``, as Zalo's bot creator gives it): with a
    #: token, the reader pages show it, its QR code and the ``/sub <slug>`` to send (SPEC §13)
    link: str | None = None

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, value: str) -> str:
        return absolute_url(value)

    @field_validator("link")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return https_link(value) if value else None  # "" unset, as ``http.websub_hub``


class AdminSettings(Section):
    token: SecretStr | None = None
    token_file: Path | None = None
    language: Literal["vi", "en"] = "vi"


class SiteSettings(Section):
    title: str = "Tin tức"
    url: str = "https://example.vn/"
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"  # what readers see: the reader pages and the bot

    @field_validator("url")
    @classmethod
    def _published(cls, value: str) -> str:
        return published_url(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from feedsvc.config.zones import zone_problem

        if (problem := zone_problem(value)) is not None:
            raise ValueError(problem)
        return value


class TopicsSettings(Section):
    file: Path = Path("config/topics.toml")
    import_on_start: bool = True

    @property
    def file_is_set(self) -> bool:
        """Whether ``file`` was given (config file or ``FEEDSVC_TOPICS__FILE``), even at the
        default's value. A set file that is missing is a problem (a typo, a volume not mounted);
        the default one missing only means the topics live in the state DB alone."""
        return "file" in self.model_fields_set


class LogSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class Settings(BaseModel):
    """All settings; build with :func:`load_config` (file, then env overrides)."""

    model_config = SECTION_RULES

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

    #: ``*_file`` secrets this user cannot read, taken as unset: only for a command that needs
    #: no secret (``load_config(secrets=False)``: ``status``, ``topics list``…), which says so
    _unread: frozenset[Path] = PrivateAttr(default=frozenset())

    def without_secret_files(self, paths: frozenset[Path]) -> None:
        """Take the secrets in ``paths`` as unset (see :attr:`_unread`)."""
        self._unread = paths

    def telegram_token(self) -> str | None:
        return _secret(self.telegram.token, self.telegram.token_file, self._unread)

    def admin_token(self) -> str | None:
        return _secret(self.admin.token, self.admin.token_file, self._unread)

    def zalo_token(self) -> str | None:
        return _secret(self.zalo.token, self.zalo.token_file, self._unread)

    def zalo_webhook_secret(self) -> str | None:
        return _secret(self.zalo.webhook_secret, self.zalo.webhook_secret_file, self._unread)


def _secret(value: SecretStr | None, path: Path | None, unread: frozenset[Path]) -> str | None:
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    if path is not None and path not in unread:
        return read_secret_file(path) or None
    return None
