"""The article record of SPEC §3 and its JSON form.

Every edge that accepts articles (``feedsvc import``, ``feedsvc match``, the API, the source
readers) turns its input into :class:`Article` through :func:`parse_article`, so validation and
the naive-timestamp rule live in one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

REQUIRED = ("source_key", "url", "title", "published_at")
TEXT_FIELDS = ("source_key", "url", "title", "summary", "body", "author", "section", "image_url")
MAX_KEY_LEN = 255
MAX_FIELD_LEN = 2_000_000  # a body larger than 2 MB is a broken export, not an article
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True, slots=True)
class Article:
    """One article as feedsvc understands it; timestamps are always timezone-aware."""

    source_key: str
    url: str
    title: str
    published_at: datetime
    updated_at: datetime | None = None
    summary: str | None = None
    body: str | None = None
    author: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = field(default=())
    image_url: str | None = None

    @property
    def version(self) -> datetime:
        """The article's version for de-duplication: an edit bumps ``updated_at``."""
        return self.updated_at or self.published_at

    def to_json(self) -> dict[str, Any]:
        return {
            "source_key": self.source_key,
            "url": self.url,
            "title": self.title,
            "summary": self.summary,
            "body": self.body,
            "author": self.author,
            "section": self.section,
            "tags": list(self.tags),
            "image_url": self.image_url,
            "published_at": self.published_at.isoformat(),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


class ArticleError(ValueError):
    """A record that cannot be an article; ``field`` names the culprit (None: the record)."""

    def __init__(self, field: str | None, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


def parse_timestamp(value: Any, field_name: str, tz: tzinfo = DEFAULT_TZ) -> datetime:
    """ISO 8601 text or a datetime; a naive value is read in the site's timezone (SPEC §3)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ArticleError(field_name, f"not an ISO 8601 timestamp: {value!r}") from None
    else:
        raise ArticleError(field_name, f"expected an ISO 8601 timestamp, got {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt


def _text(record: Mapping[str, Any], name: str, required: bool) -> str | None:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ArticleError(name, "is required")
        return None
    if not isinstance(value, str):
        raise ArticleError(name, f"expected a string, got {type(value).__name__}")
    if len(value) > MAX_FIELD_LEN:
        raise ArticleError(name, f"too long ({len(value)} characters, limit {MAX_FIELD_LEN})")
    return value


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # tolerate a CMS's comma-separated string
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ArticleError("tags", f"expected a list of strings, got {type(value).__name__}")
    tags: list[str] = []
    for i, tag in enumerate(value):
        if not isinstance(tag, str):
            raise ArticleError("tags", f"item {i} is {type(tag).__name__}, expected a string")
        if tag.strip() and tag.strip() not in tags:
            tags.append(tag.strip())
    return tuple(tags)


def parse_article(record: Any, tz: tzinfo = DEFAULT_TZ) -> Article:
    """Validate one JSON object; raises :class:`ArticleError` naming the first bad field."""
    if not isinstance(record, Mapping):
        raise ArticleError(None, f"expected a JSON object, got {type(record).__name__}")
    values = {name: _text(record, name, name in REQUIRED) for name in TEXT_FIELDS}
    key = values["source_key"]
    assert key is not None
    if len(key) > MAX_KEY_LEN:
        raise ArticleError("source_key", f"longer than {MAX_KEY_LEN} characters")
    url = values["url"]
    assert url is not None
    if not url.startswith(("http://", "https://")):
        raise ArticleError("url", f"must be an absolute http(s) URL, got {url[:80]!r}")
    if record.get("published_at") is None:
        raise ArticleError("published_at", "is required")
    published = parse_timestamp(record["published_at"], "published_at", tz)
    updated_raw = record.get("updated_at")
    updated = None if updated_raw in (None, "") else parse_timestamp(updated_raw, "updated_at", tz)
    if updated is not None and updated < published:
        updated = published  # a CMS that never set updated_at properly; keep order sane
    return Article(
        source_key=key,
        url=url,
        title=values["title"] or "",
        published_at=published,
        updated_at=updated,
        summary=values["summary"],
        body=values["body"],
        author=values["author"],
        section=values["section"],
        tags=_tags(record.get("tags")),
        image_url=values["image_url"],
    )


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    error: ArticleError

    def __str__(self) -> str:
        return f"line {self.line}: {self.error}"


def read_jsonl(
    stream: Iterable[str], tz: tzinfo = DEFAULT_TZ
) -> Iterator[tuple[int, Article | Rejected]]:
    """Yield ``(line_number, Article | Rejected)``; blank lines are skipped, nothing raises."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            reason = f"invalid JSON at column {exc.colno}: {exc.msg}"
            yield number, Rejected(number, ArticleError(None, reason))
            continue
        try:
            yield number, parse_article(record, tz)
        except ArticleError as exc:
            yield number, Rejected(number, exc)


def as_utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)
