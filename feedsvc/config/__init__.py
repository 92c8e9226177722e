"""Configuration: ``config/feedsvc.toml`` + ``FEEDSVC_<SECTION>__<KEY>`` env overrides.

Validation collects *every* problem with its dotted key before giving up, because an operator
fixing a config one error per restart is a bad afternoon. Secrets are ``SecretStr`` so they
never show up in reprs or logs, and come only from env or ``*_file`` keys (one written in the
file is refused by every command that uses it).

One module per concern, every name importable from ``feedsvc.config`` as before:
``models`` (the sections, keys, defaults and bounds: pydantic, the one validator), ``sources``
(reading the TOML file and the env overrides, merged), ``problems`` (how a problem is worded,
secrets never echoed), ``checks`` (every problem in one pass; load; warnings), ``secrets``
(the secrets: how read, what none can be, where none may be, a weak admin token), ``display``
(``config show``'s masked JSON).

Every CLI command loads this package, so its imports are part of each command's start-up (issue
#17 §1): no pydantic-settings, and SQLAlchemy is imported only to check a database URL that is
neither a plain ``sqlite://`` one nor a PostgreSQL one ``feedsvc.db.urls`` reads
(``tests/test_config.py``, ``tests/test_cli_imports.py``).
"""

from __future__ import annotations

from feedsvc.config.checks import (
    BUILT_IN,
    advice,
    check_config,
    load_config,
    secret_first,
    source_warnings,
)
from feedsvc.config.cores import match_processes
from feedsvc.config.display import printable
from feedsvc.config.models import (
    AdminSettings,
    DatabaseSettings,
    HttpSettings,
    LogSettings,
    Settings,
    SiteSettings,
    SourceColumns,
    SourceSettings,
    TelegramSettings,
    TopicsSettings,
    ZaloSettings,
)
from feedsvc.config.problems import ConfigError, Problem
from feedsvc.config.secrets import (
    MIN_ADMIN_TOKEN_CHARS,
    SECRET_KEYS,
    secrets_in_config_file,
    weak_token_warnings,
)
from feedsvc.config.sources import (
    DEFAULT_CONFIG,
    ENV_NESTING,
    ENV_PREFIX,
    config_path,
    env_values,
)

__all__ = [
    "BUILT_IN",
    "DEFAULT_CONFIG",
    "ENV_NESTING",
    "ENV_PREFIX",
    "MIN_ADMIN_TOKEN_CHARS",
    "SECRET_KEYS",
    "AdminSettings",
    "ConfigError",
    "DatabaseSettings",
    "HttpSettings",
    "LogSettings",
    "Problem",
    "Settings",
    "SiteSettings",
    "SourceColumns",
    "SourceSettings",
    "TelegramSettings",
    "TopicsSettings",
    "ZaloSettings",
    "advice",
    "check_config",
    "config_path",
    "env_values",
    "load_config",
    "match_processes",
    "printable",
    "secret_first",
    "secrets_in_config_file",
    "source_warnings",
    "weak_token_warnings",
]
