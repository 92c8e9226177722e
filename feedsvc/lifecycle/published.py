"""Drafts published by a status change alone (SPEC §10: a scheduled article "appears within one
poll, with no source change needed").

Ingest reads an external CMS by its cursor column, so a row is read again only when that column
moves. WordPress's scheduled posts do not move it: at the post's time WP-cron's
``check_and_publish_future_post`` calls ``wp_publish_post``, which writes ``post_status =
'publish'`` and nothing else (``wp-includes/post.php``: ``$wpdb->update( $wpdb->posts, array(
'post_status' => 'publish' ), …)``; ``post_modified`` stays). A post read while ``future`` is
held as a draft (``withdrawn_reason = 'draft'``), the cursor is past it, and the article never
appeared and nobody was alerted. Any CMS whose "publish" button flips a status column without
touching the modified one does the same.

So after every ingest tick the held drafts whose ``published_at`` has come are looked up again
by id at the source (:func:`feedsvc.source.recent.visible_among`: ids and the ``visible``
value only), and the rows now shown are handed to ``reread``
(:meth:`feedsvc.ingest.Ingestor.reread`): ingest's one batch write, whose writer
(:func:`feedsvc.versions.takes_over`: the same version with the other visibility) stores them
and whose hooks alert each subscriber once (the outbox), exactly as a row read by the cursor.

The schedule (:data:`BANDS`), by how long ago the draft's ``published_at`` was (its age):

* under an hour: every tick. A scheduled post reaches this band at its time, so it appears
  within one poll of the CMS publishing it (WordPress's cron runs within a minute or so);
* an hour to a day: a pass over the band every 5 minutes;
* a day up to ``source.reconcile_days`` (7 by default, the window in which deletions are
  noticed too): a pass every hour;
* older, or not yet come (a future ``published_at``): never. A draft that stays a draft costs a
  lookup per tick for its first hour only, then one per 5 minutes, one per hour, then nothing;
  one published after the window without its cursor column moving stays unseen (README).

Each band is read :data:`LOOKUP` articles at a time in ``(published_at, id)`` order, going on
at the next tick where the slice stopped until the band is done (every draft gets its turn),
then waits its period: per tick at most three indexed state-DB reads (the ``published_at``
index) and three primary-key ``IN`` lookups at the source, whatever the archive's size.

A failure changes nothing: the source or the state DB raising (an outage) raises out of
:meth:`PublishedCheck.run` before any band's place moves, and the caller (the ingest job) logs
it; the next tick looks the same drafts up again. Only a row found visible is evidence.

The way back (a published row turned into a draft again) is not looked for here: WordPress's
"switch to draft" goes through ``wp_update_post``, which sets ``post_modified``, so the cursor
reads it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from feedsvc.db import Database
from feedsvc.source import SqlSource
from feedsvc.source.recent import visible_among
from feedsvc.store.drafts import Position, held_drafts

log = logging.getLogger(__name__)

#: Drafts looked up per band per tick (one ``IN`` list at the source).
LOOKUP = 100


@dataclass(frozen=True, slots=True)
class Band:
    """Drafts whose ``published_at`` is between ``newest`` and ``oldest`` ago, passed over
    every ``every`` (zero: each tick)."""

    newest: timedelta
    oldest: timedelta
    every: timedelta


#: The schedule by age (the module docstring); the last band ends at the window.
BANDS = (
    Band(timedelta(0), timedelta(hours=1), timedelta(0)),
    Band(timedelta(hours=1), timedelta(days=1), timedelta(minutes=5)),
    Band(timedelta(days=1), timedelta.max, timedelta(hours=1)),
)


def schedule(window: timedelta) -> tuple[Band, ...]:
    """Pure: :data:`BANDS` cut at ``window`` (no draft older than it is looked up)."""
    cut = [Band(b.newest, min(b.oldest, window), b.every) for b in BANDS]
    return tuple(b for b in cut if b.oldest > b.newest)


def looked_up(published_at: datetime, now: datetime, window: timedelta) -> bool:
    """Pure: whether the check looks a held draft up at all, and so alerts it once shown: its
    ``published_at`` has come and is within ``window`` (the span :func:`schedule`'s bands
    cover). A re-read after a mapping change that finds a held draft shown by its status alone
    alerts it by this rule too (:mod:`feedsvc.ingest.remap`): it reaches such a row first."""
    return now - window < published_at <= now


class Reread(Protocol):
    """Reads source rows by id through ingest's batch write; returns how many it stored."""

    def __call__(self, ids: Sequence[str], /) -> int: ...


@dataclass(slots=True)
class _Turn:
    """A band's place: where its pass goes on (None: between passes) and when the next one
    starts."""

    after: Position | None = None
    next_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """What one check did: drafts looked up, the source ids found shown, articles stored."""

    looked: int
    shown: tuple[str, ...]
    stored: int


class PublishedCheck:
    """One check per :meth:`run` (see the module docstring). ``reason``: the
    ``withdrawn_reason`` ``source`` gives a row it does not show (``SqlSource.withdraw_reason``);
    ``window``: the oldest ``published_at`` looked at (``source.reconcile_days``)."""

    def __init__(
        self,
        db: Database,
        source: SqlSource,
        reread: Reread,
        window: timedelta,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.source = source
        self.reread = reread
        self.window = window
        self.bands = schedule(window)
        self.clock = clock or db.now
        self._turns = [_Turn() for _ in self.bands]

    def alerts(self, published_at: datetime, now: datetime) -> bool:
        """Whether a held draft with this ``published_at``, found shown at ``now``, is one
        this check would alert (:func:`looked_up`)."""
        return looked_up(published_at, now, self.window)

    def run(self) -> Checked:
        """Look up the drafts due this tick, store the ones now shown. Raises the source's or
        the state DB's errors (no band's place moves then: the next run looks them up again)."""
        now = self.clock()
        looked, shown = 0, []
        moves: list[tuple[_Turn, _Turn]] = []
        for band, turn in zip(self.bands, self._turns, strict=True):
            if turn.after is None and turn.next_at is not None and now < turn.next_at:
                continue
            with self.db.read() as conn:
                drafts = held_drafts(
                    conn,
                    self.source.withdraw_reason,
                    (now - band.oldest, now - band.newest),
                    turn.after,
                    LOOKUP,
                )
            sids = [sid for _id, sid, _at in drafts]
            found = visible_among(self.source, sids)
            looked += len(sids)
            shown += [sid for sid in sids if sid in found]
            moves.append((turn, _next(turn, drafts, now + band.every)))
        stored = self.reread(shown) if shown else 0
        for turn, moved in moves:  # only now: a failure above looks the same drafts up again
            turn.after, turn.next_at = moved.after, moved.next_at
        if shown:
            log.info(
                "%d held draft(s) now shown by the source (a status change without a cursor "
                "move), %d stored",
                len(shown),
                stored,
            )
        return Checked(looked, tuple(shown), stored)


def _next(turn: _Turn, drafts: Sequence[tuple[int, str, datetime]], then: datetime) -> _Turn:
    """Pure: a band's place after a slice of ``drafts``: on after the last one when the slice
    was full, else the pass is over and the next starts at ``then``."""
    if len(drafts) == LOOKUP:
        id_, _sid, at = drafts[-1]
        return _Turn((at, id_), turn.next_at)
    return _Turn(None, then)
