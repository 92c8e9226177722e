"""The one rule of which article version wins (``feedsvc.versions``), shared by ingest and
``feedsvc import``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedsvc.versions import VERSION_AHEAD, replaces

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("new", "held", "wins"),
    [
        (NOW, NOW - H, True),  # newer
        (NOW - H, NOW, False),  # older
        (NOW, NOW, False),  # the same version
        (NOW - H, NOW + VERSION_AHEAD - H, False),  # held a little ahead: still believed
        (NOW - H, NOW + VERSION_AHEAD + H, True),  # held far ahead: not believed
        (NOW - 1000 * H, datetime(2199, 12, 31, tzinfo=UTC), True),
        (datetime(2199, 12, 31, tzinfo=UTC), datetime(2199, 12, 31, tzinfo=UTC), False),
    ],
)
def test_which_version_wins(new: datetime, held: datetime, wins: bool) -> None:
    assert replaces(new, held, NOW) is wins
