"""The article record of SPEC §3 and its validation.

Every edge that accepts articles (``feedsvc import``, ``feedsvc match``, the source readers at
ingest, the API) turns its input into :class:`Article` through :func:`parse_article`, so the
rules below hold the same on every path and for every state DB:

* text must be storable and printable everywhere: a lone surrogate (``"\\ud83d"`` in JSON) has no
  UTF-8 form and a NUL is refused by PostgreSQL, so either rejects the record (naming the field
  and the character position) instead of failing a whole database batch later;
* identifiers have their surrounding whitespace trimmed, all alike (as browsers trim URLs), by
  :func:`feedsvc.keys.trim_key` (tabs, line breaks, NBSP, the Unicode spaces, a BOM);
  ``source_key`` is one printable line (it is printed one per line by ``feedsvc match``);
  ``url``/``image_url`` hold no whitespace or control characters, and a character no reader
  sees (a bidi control, LRM, a zero-width space) is percent-encoded; ``image_url`` is an http(s)
  URL, a relative one resolved against ``url`` (``javascript:``/``data:`` are refused); a user
  name and password in either are dropped (:mod:`feedsvc.url_credentials`:
  ``Article.credentials_dropped`` names the fields, for the edge to say so);
* text shown to readers is stored in NFC (:mod:`feedsvc.nfc`), markup untouched;
* a ``title`` of only invisible characters (a U+200B, a soft hyphen, NBSP) is empty: refused
  with the words of an empty one (``title: is required``);
* every problem of a record is reported at once (:class:`ArticleError` ``problems``);
* timestamps are ISO 8601; a naive one is read in the site's timezone; after conversion to UTC
  it must lie in :data:`MIN_DATE` ..:data:`MAX_DATE` (a CMS's ``0001-01-01`` placeholder is not a
  publication date, and at +07:00 it is not even representable in UTC).

Other control characters (the vertical tab Word pastes) are kept: they are harmless in storage,
and every output cleans them (:func:`feedsvc.feeds.sanitize.xml_clean`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from feedsvc.article_errors import ArticleError as ArticleError
from feedsvc.article_errors import char_name
from feedsvc.article_urls import checked_image_url, checked_url, dropped_fields
from feedsvc.bidi import BIDI_CONTROLS
from feedsvc.blank_text import shows_nothing
from feedsvc.keys import MAX_KEY, trim_key
from feedsvc.nfc import nfc
from feedsvc.shown_values import shown_value
from feedsvc.timestamps import edge_of_time, unparsable_reason

REQUIRED = ("source_key", "url", "title", "published_at")
TEXT_FIELDS = ("source_key", "url", "title", "summary", "body", "author", "section", "image_url")
#: Required text a reader sees: only invisible characters in it is empty
#: (:func:`feedsvc.blank_text.shows_nothing`).
_VISIBLE_FIELDS = ("title",)
#: The keys of the JSON form (SPEC §3, and §10's ``withdrawn``); a JSON line holding any other
#: is refused (:mod:`feedsvc.unknown_keys`), a source row holds only these.
JSON_FIELDS = (*TEXT_FIELDS, "tags", "published_at", "updated_at", "withdrawn")
MAX_FIELD_LEN = 2_000_000  # a body larger than 2 MB is a broken export, not an article
MAX_TAGS, MAX_TAG_LEN = 100, 500
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: Accepted publication/update instants (UTC), on every path. Wide enough for a digitised
#: archive and scheduled posts; narrow enough to catch placeholders (year 1, year 9999).
MIN_DATE = datetime(1900, 1, 1, tzinfo=UTC)
MAX_DATE = datetime(2200, 1, 1, tzinfo=UTC)

# A source key is one printable line: no C0/C1 controls, DEL, line/paragraph separators, nor
# what every front end refuses as a control character (:func:`feedsvc.fieldtext.
# control_char`: a bidi override too, else `articles hide` refused a key import had stored, and
# "K\u202e1gnp.exe" showed as "Kexe.png1"), and any line break.
_KEY_BAD = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}\ud800-\udfff]")


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
    #: the source took it back (SPEC §10): an imported ``"withdrawn": true``, or a CMS row whose
    #: ``visible`` expression is false. Not part of :attr:`version`: a CMS may unpublish a row
    #: without touching ``updated_at``.
    withdrawn: bool = False
    #: the URL fields (``url``, ``image_url``) whose user name and password the parse dropped
    #: (:mod:`feedsvc.url_credentials`), for the edge to say so (ingest's log line, ``import``'s
    #: warning); not the article's content: neither compared nor hashed, never stored.
    credentials_dropped: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def version(self) -> datetime:
        """The article's version for de-duplication: an edit bumps ``updated_at``."""
        return self.updated_at or self.published_at

    def to_json(self) -> dict[str, Any]:
        """SPEC §3 JSON; ``withdrawn`` only when true (it is optional there)."""
        out: dict[str, Any] = {
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
        if self.withdrawn:
            out["withdrawn"] = True
        return out


def parse_timestamp(value: Any, field_name: str, tz: tzinfo = DEFAULT_TZ) -> datetime:
    """ISO 8601 text, a datetime or a date (midnight); a naive value is read in ``tz``.

    Returns an aware datetime (in the offset it was given) whose UTC instant lies in
    ``[MIN_DATE, MAX_DATE)``; raises :class:`ArticleError` otherwise.
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            edge = edge_of_time(text)  # 24:00, a leap second
            if edge is None:
                raise ArticleError(field_name, unparsable_reason(value)) from None
            dt = edge
    else:
        raise ArticleError(field_name, f"expected an ISO 8601 timestamp, got {shown_value(value)}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    try:
        instant = dt.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 at +07:00 is year 0 in UTC
        instant = None
    if instant is None or not MIN_DATE <= instant < MAX_DATE:
        # the value as the source gave it: a naive one dressed in ``tz`` showed that zone's
        # local mean time before 1900 ('0001-01-01T00:00:00+07:06:30' for Asia/Ho_Chi_Minh)
        shown = value if isinstance(value, str) else value.isoformat()
        raise ArticleError(
            field_name,
            f"{shown!r} is outside {MIN_DATE:%Y-%m-%d}..{MAX_DATE:%Y-%m-%d} UTC"
            " (a placeholder date?)",
        )
    return dt


def _text(record: Mapping[str, Any], name: str, required: bool) -> str | None:
    value = record.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ArticleError(name, "is required")
        return None
    if not isinstance(value, str):
        raise ArticleError(name, f"expected a string, got {shown_value(value)}")
    if len(value) > MAX_FIELD_LEN:
        raise ArticleError(name, f"too long ({len(value)} characters, limit {MAX_FIELD_LEN})")
    _check_storable(name, value)
    if name in _VISIBLE_FIELDS and shows_nothing(value):
        raise ArticleError(name, "is required")  # the words of an empty one: it is one
    return value


def _check_storable(name: str, value: str) -> None:
    # C-speed checks instead of a regex (which cost ~17 us on a 2 KB Vietnamese body): a NUL,
    # and a lone surrogate by the UTF-8 encoder that would fail on it later. The common case,
    # storable text, in one pass: U+0000 is the only character whose UTF-8 holds a 0 byte.
    if value.isascii():  # O(1) in CPython: the common source key, URL, date
        if "\x00" not in value:
            return
    else:
        try:
            if b"\x00" not in value.encode("utf-8"):
                return
        except UnicodeEncodeError:
            pass
    # something is wrong: say what, a NUL first
    nul = value.find("\x00")
    if nul >= 0:
        raise ArticleError(name, f"contains a NUL character (U+0000) at character {nul + 1}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ArticleError(
            name,
            f"contains a lone surrogate ({char_name(value[exc.start])}) at character"
            f" {exc.start + 1}",
        ) from None


def _tags(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # tolerate a CMS's comma-separated string
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ArticleError("tags", f"expected a list of strings, got {shown_value(value)}")
    if len(value) > MAX_TAGS:
        raise ArticleError("tags", f"{len(value)} tags, limit {MAX_TAGS}")
    tags: list[str] = []
    for i, tag in enumerate(value):
        if not isinstance(tag, str):
            raise ArticleError("tags", f"item {i} is {shown_value(tag)}, expected a string")
        if len(tag) > MAX_TAG_LEN:
            raise ArticleError("tags", f"item {i} is longer than {MAX_TAG_LEN} characters")
        _check_storable(f"tags[{i}]", tag)
        shown = nfc(tag.strip())  # before the duplicate check: NFD "Kiến" is NFC "Kiến"
        if shown and shown not in tags:
            tags.append(shown)
    return tuple(tags)


def _withdrawn(value: Any) -> bool:
    """``withdrawn`` (SPEC §10): JSON true/false, absent/null meaning false. Nothing else: a
    ``"false"`` string read as true would take an article down."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise ArticleError("withdrawn", f"expected true or false, got {shown_value(value)}")


def _source_key(value: str) -> str:
    """``source_key`` trimmed like ``url`` (:func:`feedsvc.keys.trim_key`, the one rule for the
    whitespace around identifiers, which migration 0019 applied to the keys stored before: a
    key kept as ``" spaced "`` could not be named to ``articles hide``), then one printable
    line of at most :data:`MAX_KEY` characters."""
    key = trim_key(value)
    if not key:  # only invisible characters (a ZERO WIDTH SPACE): no key
        raise ArticleError("source_key", "is required")
    if len(key) > MAX_KEY:
        raise ArticleError("source_key", f"longer than {MAX_KEY} characters")
    bad = _KEY_BAD.search(key)
    if bad is not None:
        raise ArticleError(
            "source_key",
            f"contains a control character ({char_name(bad.group())}) at character"
            f" {bad.start() + 1}",
        )
    return key


T = TypeVar("T")


def _checked(problems: list[ArticleError], check: Callable[..., T], *args: Any) -> T | None:
    """``check(*args)``, or None with its :class:`ArticleError` added to ``problems``."""
    try:
        return check(*args)
    except ArticleError as exc:
        problems.append(exc)
        return None


def _shown(value: str | None) -> str | None:
    """Text shown to readers, in NFC (:func:`feedsvc.nfc.nfc`: HTML's markup kept)."""
    return nfc(value) if value is not None else None


def parse_article(record: Any, tz: tzinfo = DEFAULT_TZ) -> Article:
    """Validate one record (a JSON object or a source row's mapping) into an :class:`Article`.

    Raises :class:`ArticleError` naming every bad field of the record at once; never anything
    else. Text shown to readers (title, summary, body, author, section, tags) is stored in NFC
    (:mod:`feedsvc.nfc`); identifiers (``source_key``, ``url``, ``image_url``) are trimmed.
    """
    if not isinstance(record, Mapping):
        raise ArticleError(None, f"expected a JSON object, got {shown_value(record)}")
    problems: list[ArticleError] = []
    values = {
        name: _checked(problems, _text, record, name, name in REQUIRED) for name in TEXT_FIELDS
    }
    key = values["source_key"]
    if key is not None:
        key = _checked(problems, _source_key, key)
    url = values["url"]
    if url is not None:
        url = _checked(problems, checked_url, "url", url, True)
    image = values["image_url"]
    if image is not None:
        image = _checked(problems, checked_image_url, image, url)
    published = None
    if record.get("published_at") is None:
        problems.append(ArticleError("published_at", "is required"))
    else:
        published = _checked(problems, parse_timestamp, record["published_at"], "published_at", tz)
    updated_raw = record.get("updated_at")
    updated = None
    if updated_raw not in (None, ""):
        updated = _checked(problems, parse_timestamp, updated_raw, "updated_at", tz)
    tags = _checked(problems, _tags, record.get("tags"))
    withdrawn = _checked(problems, _withdrawn, record.get("withdrawn"))
    if problems:
        raise ArticleError.of(problems)
    assert key is not None and url is not None and published is not None
    # An ``updated_at`` before ``published_at`` is kept as given: it is normal for a scheduled
    # article (edited today, published tomorrow), and clamping it up to ``published_at`` froze
    # the version, so every edit before the publication time was ignored (issue #13 §1).
    # Outputs date an item by the later of the two (feedsvc.feeds.model.prepare_item).
    return Article(
        source_key=key,
        url=url,
        title=nfc(values["title"] or ""),
        published_at=published,
        updated_at=updated,
        summary=_shown(values["summary"]),
        body=_shown(values["body"]),
        author=_shown(values["author"]),
        section=_shown(values["section"]),
        tags=tags or (),
        image_url=image,
        withdrawn=bool(withdrawn),
        credentials_dropped=dropped_fields(values["url"], values["image_url"]),
    )
