"""How ``feedsvc import`` words a line that was not applied: the version rule
(:mod:`feedsvc.versions`) kept the stored record (or an earlier line of the import) although
the line differs from it, in content or in visibility.

Such a line is counted rejected (exit 1), never "unchanged": "unchanged" said nothing was
lost, while a corrected headline behind a stored version a CMS dated hours ahead was dropped
(tester 2 F4), and the original line imported again after a takedown undid it (tester 2 F1).
Each message says which version won, this line's, both at the line's own UTC offset
(:func:`as_given`) so they compare at a glance, what differs, and what would make the line
apply. A line of the winner's content and visibility is "unchanged" and never comes here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from feedsvc.articles import Article, ArticleError
from feedsvc.store.source_articles import NotApplied

Batch = Sequence[tuple[int, Article]]

_VERSION = "(updated_at, else published_at)"


def not_applied_error(
    article: Article, skipped: NotApplied, batch: Batch, now: datetime | None = None
) -> ArticleError:
    """Why the line holding ``article`` was not applied (``batch``: the import's lines as
    ``(line number, article)``, where ``skipped.winner_index`` points; ``now``: the import's
    clock, to say a stored version is in the future — None, not said).

    A takedown (``"withdrawn": true``) while what wins is public, field ``withdrawn``; a public
    line while what wins is withdrawn (the takedown stays), field ``withdrawn``; else a line
    whose content differs, no field. Its version is the same as the winner's (only a newer one
    replaces it), older, or — neither — a scheduled line without ``updated_at``: its own
    ``published_at``, later than an edit made before that time but no edit time, so not
    believed over it (never "older")."""
    held = as_given(skipped.held, article.version)
    line = article.version.isoformat()
    fields = ", ".join(skipped.differs)
    if skipped.winner_index is None:
        winner, who = f"the stored version, {held}", "the stored record stays"
    else:
        n = batch[skipped.winner_index][0]
        winner, who = f"line {n}'s, {held}", f"line {n} wins"
    if article.version == skipped.held:
        kind = "same"
    elif article.version < skipped.held:
        kind = "older"
    else:
        kind = "scheduled"
    ahead = _ahead(skipped.held, now) if kind == "older" else ""

    if article.withdrawn and not skipped.held_withdrawn:
        public = f"{winner}, which {'stays' if skipped.winner_index is None else 'wins and is'}"
        if kind == "scheduled":
            why = (
                f"this line's version {line} is its own published_at (no updated_at, or one"
                f" equal to it): a scheduled time, no edit time, so it does not replace"
                f" {public} public, an edit made before that time; give it an updated_at, the"
                f" time of the takedown"
            )
        else:
            why = (
                f"this line's version {line} {_VERSION} is older than {public} public{ahead};"
                f" give it the same or a newer updated_at"
            )
        return ArticleError("withdrawn", f"true not applied (the takedown did not happen): {why}")

    also = f", and it has a different {fields}" if fields else ""
    if not article.withdrawn and skipped.held_withdrawn:
        takedown = f"{winner}, a takedown"
        if kind == "same":
            why = (
                f"this line's version {line} {_VERSION} is the same as {takedown}{also}: the"
                f" same version takes an article down but does not publish it again (the"
                f" original line imported again carries it too)"
            )
        elif kind == "older":
            why = f"this line's version {line} {_VERSION} is older than {takedown}{also}{ahead}"
        else:
            why = (
                f"this line's version {line} is its own published_at (no updated_at, or one"
                f" equal to it): a scheduled time, no edit time, so it does not replace"
                f" {takedown} made before that time{also}"
            )
        return ArticleError(
            "withdrawn",
            f"false (or left out) not applied (the article stays withdrawn): {why}; to publish"
            f" it again give this line an updated_at after {held}",
        )

    if kind == "same":  # as 97a0142 worded it (only the stored row: a line of it wins)
        why = (
            f"the same version as the stored one, {line} {_VERSION}, but a different {fields};"
            " only a newer version replaces it: give this line a newer updated_at"
        )
    elif kind == "older":
        why = (
            f"this line's version {line} {_VERSION} is older than {winner}, but it has a"
            f" different {fields}{ahead}; only a newer version replaces it: give this line an"
            f" updated_at after {held}"
        )
    else:
        why = (
            f"this line's version {line} is its own published_at (no updated_at, or one equal"
            f" to it): a scheduled time, no edit time, so it does not replace {winner}, an edit"
            f" made before that time (the original line imported again?), but it has a"
            f" different {fields}; to make it the edit give this line an updated_at, the time"
            " of the edit"
        )
    return ArticleError(None, f"not applied ({who}): {why}")


def as_given(when: datetime, line_version: datetime) -> str:
    """``when`` in ISO 8601 at the UTC offset ``line_version`` carries (as the line gave it;
    a naive line time was read in ``site.timezone``). The stored version comes back from the
    state DB in UTC: "…10:00:00+07:00 is older than …03:34:00+00:00" made the reader do the
    arithmetic to see that 10:00 is older than 10:34 (a naive stored time is UTC)."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return aware.astimezone(line_version.tzinfo or UTC).isoformat()


def _ahead(held: datetime, now: datetime | None) -> str:
    """A note when the winning version is after ``now``: believed up to a day ahead
    (``feedsvc.versions.VERSION_AHEAD``), it makes every correction dated by today's clock
    look older (a CMS writing local time as UTC: 7 hours ahead). Empty otherwise."""
    if now is None:
        return ""
    aware = held if held.tzinfo is not None else held.replace(tzinfo=UTC)
    gap = aware - now
    if gap < timedelta(minutes=1):
        return ""
    hours, rest = divmod(int(gap.total_seconds()) // 60, 60)
    span = f"{hours} h {rest} min" if hours else f"{rest} min"
    return (
        f" (that version is {span} ahead of now: a clock or time zone off? a version up to a"
        " day ahead is believed)"
    )
