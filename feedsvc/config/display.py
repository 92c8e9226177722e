"""The configuration as ``feedsvc config show`` prints it: JSON-ready, secrets masked."""

from __future__ import annotations

from typing import Any

from feedsvc.config.models import Settings


def printable(settings: Settings) -> dict[str, Any]:
    """The settings as JSON-ready data for display: secrets masked (``SecretStr``) and every DB
    URL as :func:`feedsvc.db.urls.shown_url` shows it (passwords as ``***``, in the userinfo
    and in the query)."""
    from feedsvc.db.urls import shown_url

    data: dict[str, Any] = settings.model_dump(mode="json")
    for section in ("database", "source"):
        url = data[section].get("url")
        if url:
            data[section]["url"] = shown_url(url)
    return data
