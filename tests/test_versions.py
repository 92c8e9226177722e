"""The one rule of which article version wins (``feedsvc.versions``), shared by ingest and
``feedsvc import``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedsvc.versions import VERSION_AHEAD, ahead, public, replaces, takes_over

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


@pytest.mark.parametrize(
    ("new", "new_gone", "held", "held_gone", "wins"),
    [
        (NOW, True, NOW, False, True),  # the same version taken down (newcomer F1)
        (NOW, False, NOW, True, True),  # the same version published again
        (NOW, False, NOW, False, False),  # the same record: nothing to do
        (NOW, True, NOW, True, False),
        (NOW - H, True, NOW, False, False),  # an older takedown: not applied (import says so)
        (NOW + H, True, NOW, False, True),  # a newer one
        (NOW - H, True, NOW + VERSION_AHEAD + H, False, True),  # held far ahead: not believed
    ],
)
def test_which_record_takes_over(
    new: datetime, new_gone: bool, held: datetime, held_gone: bool, wins: bool
) -> None:
    """Ingest's writer and `feedsvc import` apply this one rule: a visibility change at the
    same version is a change (a CMS row back to draft, a re-imported line with
    ``"withdrawn": true``); import counted it "unchanged" and the takedown never happened."""
    assert takes_over(new, new_gone, held, held_gone, NOW) is wins


def test_without_a_clock_only_a_newer_version_or_a_visibility_change_wins() -> None:
    far = NOW + 100 * VERSION_AHEAD
    assert not takes_over(NOW, False, far, False, None)
    assert takes_over(NOW, False, far, False, NOW)
    assert takes_over(far, True, far, False, None)


SCHEDULED = NOW + 3 * H  # a publication time still to come, within VERSION_AHEAD


@pytest.mark.parametrize(
    ("new", "new_published", "held", "held_published", "wins"),
    [
        # held: a scheduled record with no updated_at (its version is its future time)
        (NOW, SCHEDULED, SCHEDULED, SCHEDULED, True),  # an edit before its time
        (NOW - H, SCHEDULED, SCHEDULED, SCHEDULED, True),  # its updated_at: any edit time
        (NOW + H, NOW + H, SCHEDULED, SCHEDULED, True),  # moved earlier, no updated_at
        (NOW - H, NOW - H, SCHEDULED, SCHEDULED, True),  # "publish now", dated back
        (SCHEDULED + H, SCHEDULED + H, SCHEDULED, SCHEDULED, True),  # moved later
        (SCHEDULED, SCHEDULED, SCHEDULED, SCHEDULED, False),  # the same record again
        # held: a dated edit; new: the scheduled record again (the original line re-imported)
        (SCHEDULED, SCHEDULED, NOW, SCHEDULED, False),
        # its time has come: the version is believed again, newer wins as usual
        (NOW, NOW - H, NOW - H, NOW - H, True),
        (NOW - 2 * H, NOW - H, NOW - H, NOW - H, False),
        # an updated_at ahead of a published one that is not its own time: still believed
        (NOW, NOW - H, NOW + H, NOW - H, False),
    ],
)
def test_a_scheduled_records_own_time_is_no_edit_time(
    new: datetime, new_published: datetime, held: datetime, held_published: datetime, wins: bool
) -> None:
    """A scheduled article imported without ``updated_at`` had its future ``published_at`` as
    version: every edit before that time (``updated_at`` = the time of the edit) was older,
    "unchanged"; a takedown was refused; an earlier time ignored. Not an edit time: it gives
    way to any other version, and does not replace a dated one."""
    got = replaces(new, held, NOW, new_published=new_published, held_published=held_published)
    assert got is wins
    assert takes_over(new, False, held, False, NOW, new_published=new_published,
                      held_published=held_published) is wins  # fmt: skip
    if new != held:  # a takedown follows the same rule
        assert takes_over(new, True, held, False, NOW, new_published=new_published,
                          held_published=held_published) is wins  # fmt: skip


M = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("new", "held", "stored", "wins"),
    [
        (NOW + 2 * M, NOW + 10 * M, NOW, True),  # the tester's H2: held 10 min ahead of its read
        (NOW, NOW + 10 * M, NOW, True),  # an edit dated the very moment of the read
        (NOW - M, NOW + 10 * M, NOW, False),  # dated before the read: a restored copy
        (NOW + 10 * M, NOW + 10 * M, NOW, False),  # the same version again
        (NOW + 11 * M, NOW + 10 * M, NOW, True),  # newer anyway
        (NOW - M, NOW - 5 * M, NOW, True),  # a held version behind its read: as before
        (NOW - 6 * M, NOW - 5 * M, NOW, False),
        (NOW + 2 * M, NOW + 10 * M, None, False),  # no read time known (an import line)
    ],
)
def test_a_version_is_believed_up_to_when_it_was_read(
    new: datetime, held: datetime, stored: datetime | None, wins: bool
) -> None:
    assert replaces(new, held, NOW + 3 * M, held_stored=stored) is wins
    assert takes_over(new, False, held, False, None, held_stored=stored) is wins


@pytest.mark.parametrize("new", [NOW - 1000 * H, NOW - M, NOW, NOW + H])
def test_the_held_rows_own_takedown_wins_whatever_its_version(new: datetime) -> None:
    held = NOW + 10 * M
    assert takes_over(new, True, held, False, NOW, own_row=True, held_stored=NOW)
    assert takes_over(new, True, held, False, None, own_row=True)
    # an import line, or another row of the key: only as a newer version
    stale = takes_over(new, True, held, False, NOW, own_row=True, may_be_stale=True)
    other = takes_over(new, True, held, False, NOW)
    assert stale is other is (new > held)
    # publishing again is no takedown: the version rule as ever
    assert takes_over(new, False, held, True, NOW, own_row=True) is (new > held)


LATER = NOW + 24 * H


@pytest.mark.parametrize(
    ("new_gone", "new_published", "held_gone", "held_published", "wins"),
    [
        (True, NOW - H, False, NOW - 2 * H, False),  # a draft copy over a live article (M2)
        (False, LATER, False, NOW - 2 * H, False),  # a copy scheduled for tomorrow
        (True, LATER, False, NOW - 2 * H, False),
        (False, NOW - H, False, NOW - 2 * H, True),  # a public re-post, newer: takes over
        (True, NOW - H, True, NOW - 2 * H, True),  # held a draft: a newer draft may hold it
        (True, NOW - H, False, LATER, True),  # held scheduled, not public yet: as before
        (False, NOW - H, True, NOW - 2 * H, True),  # held a draft: a public row takes over
    ],
)
def test_another_row_of_the_key_takes_a_public_article_only_public(
    new_gone: bool,
    new_published: datetime,
    held_gone: bool,
    held_published: datetime,
    wins: bool,
) -> None:
    """Another CMS row of the key (``other_row``), newer, over the held record."""
    got = takes_over(
        NOW, new_gone, NOW - H, held_gone, NOW,
        new_published=new_published, held_published=held_published, other_row=True,
    )  # fmt: skip
    assert got is wins


def test_the_held_rows_own_draft_and_a_deleted_held_row_still_take_over() -> None:
    """The rule is another row's: the held row's own takedown, a deleted held row's remaining
    row, and an import line (never ``other_row``) take a public article down as before."""
    args = (NOW, True, NOW - H, False, NOW)
    assert takes_over(*args, own_row=True) is True
    assert takes_over(*args, other_row=True, held_gone=True) is True
    assert takes_over(*args, may_be_stale=True) is True  # a newer takedown line
    assert takes_over(*args, new_published=LATER, other_row=False) is True
    assert takes_over(*args, other_row=True) is False


@pytest.mark.parametrize(
    ("new", "new_public", "first", "first_public", "new_own", "first_own", "goes"),
    [
        (NOW, False, NOW - H, True, False, False, False),  # newer draft vs live: live
        (NOW - H, True, NOW, False, False, False, True),  # live read second: live
        (NOW, True, NOW - H, True, False, False, True),  # both public: newer
        (NOW, False, NOW - H, False, False, False, True),  # both not: newer
        (NOW, False, NOW - H, True, True, False, True),  # the held row's own takedown
        (NOW - H, True, NOW, False, False, True, False),  # ... read first: it stays
        (NOW, True, NOW, True, True, False, True),  # the same version: the held row's own
    ],
)
def test_which_row_of_a_key_goes_forward_in_a_batch(
    new: datetime,
    new_public: bool,
    first: datetime,
    first_public: bool,
    new_own: bool,
    first_own: bool,
    goes: bool,
) -> None:
    got = ahead(new, new_public, first, first_public, new_own=new_own, first_own=first_own)
    assert got is goes


def test_public_is_the_records_own_word() -> None:
    assert public(False, NOW - H, NOW) and public(False, None, NOW) and public(False, LATER, None)
    assert not public(True, NOW - H, NOW) and not public(False, LATER, NOW)


def test_another_rows_draft_never_takes_a_public_article_whatever_the_held_version() -> None:
    """Older too: a held version not believed (far ahead, or dated after feedsvc stored it:
    a CMS clock running fast) gives way to any other version, but not to another row's
    draft while it is public."""
    far = NOW + VERSION_AHEAD + H
    assert takes_over(NOW - H, True, far, False, NOW) is True  # the held row's own, as before
    assert takes_over(NOW - H, True, far, False, NOW, other_row=True) is False
    ahead_of_store = dict(held_stored=NOW - 2 * H, other_row=True)
    assert takes_over(NOW - H, True, NOW, False, NOW, **ahead_of_store) is False  # type: ignore[arg-type]
    assert takes_over(NOW - H, False, NOW, False, NOW, **ahead_of_store) is True  # type: ignore[arg-type]
