"""Why a record is not an article: :class:`ArticleError`, raised by every check of
:func:`feedsvc.articles.parse_article` (the fields' own, :mod:`feedsvc.article_urls`'s), and
:func:`char_name`, how those messages name one character. Kept apart so the checks can live in
modules of their own without importing :mod:`feedsvc.articles`; import the error from there."""

from __future__ import annotations

from collections.abc import Collection, Sequence


class ArticleError(ValueError):
    """A record that cannot be an article. ``problems`` lists every problem found, each
    ``(field, reason)`` (field None: the record as a whole), so a line missing both ``title``
    and ``published_at`` says both at once; ``field`` and ``reason`` are the first one's. The
    message joins them with ``"; "`` (an import's rejected line, a quarantine reason)."""

    def __init__(
        self, field: str | None, reason: str, more: Sequence[tuple[str | None, str]] = ()
    ) -> None:
        self.field = field
        self.reason = reason
        self.problems: list[tuple[str | None, str]] = [(field, reason), *more]
        super().__init__("; ".join(f"{f}: {r}" if f else r for f, r in self.problems))

    @classmethod
    def of(cls, errors: Sequence[ArticleError]) -> ArticleError:
        """One error holding the problems of ``errors`` (not empty), in order."""
        problems = [p for e in errors for p in e.problems]
        return cls(problems[0][0], problems[0][1], problems[1:])


def char_name(c: str) -> str:
    """``U+D83D`` style name of one character for error messages."""
    return f"U+{ord(c):04X}"


def named_field(message: str, fields: Collection[str]) -> str | None:
    """The field the first problem of an :class:`ArticleError`'s message names (``title: is
    required; published_at: …`` → ``title``), read back from the text — a quarantined row keeps
    only its reason —, or None when it names none of ``fields`` (a problem of the record as a
    whole, another error's text). Pure."""
    name, colon, _ = message.partition(": ")
    return name if colon and name in fields else None
