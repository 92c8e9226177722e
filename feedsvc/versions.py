"""Which version of an article wins: the one rule ingest (the state DB's articles) and
``feedsvc import`` (the built-in source table) both apply. Pure.

An article's version is its ``updated_at`` (else ``published_at``; SPEC §3): a newer one
replaces what is held. But a held version far in the future (``2199-12-31``, a CMS clock or
zone badly off) would make every later correction look older and be ignored, silently; so a
held version more than :data:`VERSION_AHEAD` after now is not believed, and any other version
the source gives replaces it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

#: How far after now a held version is still believed (a CMS clock or zone a little off).
VERSION_AHEAD = timedelta(days=1)


def replaces(new: datetime, held: datetime, now: datetime) -> bool:
    """Whether version ``new`` replaces the ``held`` one at ``now`` (all aware, UTC): newer,
    or different while ``held`` lies more than :data:`VERSION_AHEAD` after ``now``."""
    return new > held or (new != held and held > now + VERSION_AHEAD)
