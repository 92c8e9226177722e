"""The configuration as ``feedsvc config show`` prints it: JSON-ready, secrets masked."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from feedsvc.config.models import Settings

MASK = "***"


def printable(settings: Settings) -> dict[str, Any]:
    """The settings as JSON-ready data for display: secrets masked (``SecretStr``), every DB
    URL as :func:`feedsvc.db.urls.shown_url` shows it (passwords as ``***``, in the userinfo
    and in the query), and in every other value a secret it holds (a bot token pasted into
    ``telegram.base_url``) and an http(s) URL's password (``http.websub_hub``) as ``***``."""
    from feedsvc.db.urls import shown_url

    data: dict[str, Any] = settings.model_dump(mode="json")
    for section in ("database", "source"):
        url = data[section].get("url")
        if url:
            data[section]["url"] = shown_url(url)
    masked: dict[str, Any] = _masked(data, _secrets(settings))
    return masked


def _secrets(settings: Settings) -> list[str]:
    """The secrets' values, longest first (one inside another is masked whole)."""
    from feedsvc.config.secrets import SECRET_KEYS, secret_value

    found = [v for s, k in SECRET_KEYS if (v := secret_value(settings, s, k))]
    return sorted(found, key=len, reverse=True)


def _masked(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, secrets) for v in value]
    if not isinstance(value, str):
        return value
    for secret in secrets:
        value = value.replace(secret, MASK)
    return _url_password_masked(value)


#: query keys whose values are masked in an http(s) URL (the DB URLs' rule, ``shown_url``:
#: "pass"; and what else names a credential)
_SECRET_KEYS = ("pass", "secret", "token", "key", "auth", "sig")


def _url_password_masked(text: str) -> str:
    """An http(s) URL with its userinfo's password and the values of its query keys naming a
    credential (``?password=``, ``?hub_token=``) as ``***``; any other text as it is."""
    if not text.startswith(("http://", "https://")):
        return text
    try:
        parts = urlsplit(text)
        password = parts.password
    except ValueError:
        return text
    if password:
        user, _, host = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{user.split(':', 1)[0]}:{MASK}@{host}")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(s in k.lower() for k, _ in pairs for s in _SECRET_KEYS):
        masked = [(k, MASK if any(s in k.lower() for s in _SECRET_KEYS) else v) for k, v in pairs]
        parts = parts._replace(query=urlencode(masked, safe="*"))
    return urlunsplit(parts)
