"""Digests, quiet hours and silent alerts (issue 15 §1, SPEC §12).

Pure cores: :mod:`.settings` (what a chat asked for, parsed and validated in one place;
a typed time's grammar is :mod:`.spoken`),
:mod:`.schedule` (when held alerts go out: DST-safe local times through :mod:`zoneinfo`) and
:mod:`.message` (the digest message). The durable edge is :mod:`.edge` (held deliveries in the
state DB, claimed and recorded by the dispatcher); SQL lives in :mod:`feedsvc.store.digests`
and :mod:`feedsvc.store.holding`.
"""

from feedsvc.digest.schedule import next_digest, next_local, quiet_end, release_at
from feedsvc.digest.settings import (
    ChatSettings,
    DigestSchedule,
    QuietWindow,
    SettingError,
    parse_digest,
    parse_quiet,
    parse_switch,
)

__all__ = [
    "ChatSettings",
    "DigestSchedule",
    "QuietWindow",
    "SettingError",
    "next_digest",
    "next_local",
    "parse_digest",
    "parse_quiet",
    "parse_switch",
    "quiet_end",
    "release_at",
]
