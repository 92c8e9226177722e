"""Which version of an article wins: the one rule ingest (the state DB's articles) and
``feedsvc import`` (the built-in source table) both apply. Pure.

An article's version is its ``updated_at`` (else ``published_at``; SPEC §3): a newer one
replaces what is held. But a held version far in the future (``2199-12-31``, a CMS clock or
zone badly off) would make every later correction look older and be ignored, silently; so a
held version more than :data:`VERSION_AHEAD` after now is not believed, and any other version
the source gives replaces it.

A version is not all of a record: its visibility (``withdrawn``, SPEC §10) may change while
``updated_at`` stays (a CMS sends a row back to draft without touching it; an editor re-imports
the same line with ``"withdrawn": true``). :func:`takes_over` is the whole rule both writers
apply: a replacing version, or the same version with the other visibility. A record it refuses
whose visibility differs from the held one is a takedown (or a republication) not done: the
import says so per line (``feedsvc.importer``), never counts it "unchanged".
"""

from __future__ import annotations

from datetime import datetime, timedelta

#: How far after now a held version is still believed (a CMS clock or zone a little off).
VERSION_AHEAD = timedelta(days=1)


def replaces(new: datetime, held: datetime, now: datetime) -> bool:
    """Whether version ``new`` replaces the ``held`` one at ``now`` (all aware, UTC): newer,
    or different while ``held`` lies more than :data:`VERSION_AHEAD` after ``now``."""
    return new > held or (new != held and held > now + VERSION_AHEAD)


def takes_over(
    new: datetime,
    new_withdrawn: bool,
    held: datetime,
    held_withdrawn: bool,
    now: datetime | None,
) -> bool:
    """Whether a record (version ``new``, ``new_withdrawn``) replaces the held one: the same
    version with the other visibility, or a version that :func:`replaces` it (``now`` None:
    only a newer one, the far-future rule needs a clock). All datetimes aware."""
    if new == held:
        return new_withdrawn != held_withdrawn
    return new > held or (now is not None and replaces(new, held, now))
