"""Which version of an article wins: the one rule ingest (the state DB's articles) and
``feedsvc import`` (the built-in source table) both apply. Pure.

An article's version is its ``updated_at`` (else ``published_at``; SPEC §3): a newer one
replaces what is held. But a held version far in the future (``2199-12-31``, a CMS clock or
zone badly off) would make every later correction look older and be ignored, silently; so a
held version more than :data:`VERSION_AHEAD` after now is not believed, and any other version
the source gives replaces it.

Nor is a version that is no edit time at all (:func:`undated`): a scheduled article's record
without ``updated_at`` (or with it set to the time it is scheduled for) has its own publication
time, still to come, as version. Believed, it was newer than every edit a newsroom makes before
that time (``updated_at`` = the time of the edit): a typo fixed the day before came out
"unchanged" and the old text went out at its time, a takedown was refused, an earlier time was
ignored. Such a held version gives way to any other; and such a record does not replace a held
one that has an edit time (the original scheduled line imported again after the edit). Nor
after its time (:func:`scheduled_again`): believed again then, it was later than every edit
made before it, and the original line imported again (an import script re-run) undid the edit
— the old title back, a takedown undone. A record with no ``updated_at`` does not replace an
edit of its same publication time made before it, whenever it comes.

A version is not all of a record: its visibility (``withdrawn``, SPEC §10) may change while
``updated_at`` stays (a CMS sends a row back to draft without touching it; an editor re-imports
the same line with ``"withdrawn": true``). :func:`takes_over` is the whole rule both writers
apply: a replacing version, or the same version with the other visibility. A record it refuses
whose visibility differs from the held one is a takedown (or a republication) not done: the
import says so per line (``feedsvc.importer``), never counts it "unchanged".

One direction of that is not the same for both writers. A source row is the CMS's record as it
is now: the same version shown again after a draft is the CMS publishing it again. An import
line may be a stale copy: the original line imported again by a script re-run carries the very
version of a takedown given without a newer ``updated_at`` (the same line plus ``"withdrawn":
true``), and the takedown was undone, the article public and alerted (tester 2 F1). So for a
line (``may_be_stale``) the same version takes an article down but does not publish it again:
that takes a newer version, as SPEC §10 words it.

The same holds for content (tester 3 F4). A CMS row re-read at the same version but with other
content (a headline fixed without touching ``updated_at``; any edit when ``updated_at`` is not
mapped, so the version is ``published_at``) is that row as the CMS holds it now: it is the
correction (``edited``), as a newer version would be. Only for the held record's own row: two
rows sharing a key (a re-post) at one version would otherwise replace each other at every
re-read, a correction alert each time; the held one stays. Never for an import line (it may be
a stale copy; the import reports it not applied). And when the held record's row is gone from
the source while another row with its key remains (``held_gone``, reconciliation's finding,
tester 3 F3), that row is the key's record now, whatever its version: the article falls back
to it rather than being withdrawn as deleted.

Nor does another row of the key take a public article down (a newsroom tester's M2): a
second row with the key that is not public (:func:`public`: a draft, hidden, or dated in the
future) appears — an editor's working copy, newer — and was stored as the article's new
version: the live article left every feed and its alerts were retracted, by a row that never
held it. A takedown a reader sees comes from the row holding the article (``own_row``), an
editor's hide, or the key's last row deleted (reconciliation); another row of the key takes a
public article over only as a public record (``other_row``), and a draft one holds the key
once the held row is gone (``held_gone``) or has taken the article down itself. Among rows
of one key read together, :func:`ahead` applies the same rule. An import line is the key's
one record (the built-in table holds one row per key): never ``other_row``, its
``"withdrawn": true`` with a newer ``updated_at`` is the deliberate takedown SPEC §10 names.
"""

from __future__ import annotations

from datetime import datetime, timedelta

#: How far after now a held version is still believed (a CMS clock or zone a little off).
VERSION_AHEAD = timedelta(days=1)


def undated(version: datetime, published_at: datetime | None, now: datetime) -> bool:
    """Whether ``version`` is no edit time: the article's own ``published_at``, still after
    ``now`` (a scheduled article's record with no ``updated_at``, or one equal to its time).
    ``published_at`` None: not known, taken as dated. All aware."""
    return published_at is not None and version == published_at and published_at > now


def scheduled_again(
    new: datetime,
    new_published: datetime | None,
    held: datetime,
    held_published: datetime | None,
) -> bool:
    """Whether ``new``, a record with no ``updated_at`` at all (its version is its own
    ``published_at``: no edit time), is the scheduled record of the held edit seen again: the
    held record has the same ``published_at`` and its version (an edit time) is before it —
    the edit was made while the article was scheduled under this very time, so this record is
    from before the edit, whenever it comes (the original scheduled line imported again after
    its time). ``*_published`` None: not known, taken as dated. All aware.

    Only for a record without ``updated_at`` (the caller says so): a CMS row whose
    ``updated_at`` equals its time is dated (a scheduler may set both to the publication time
    as it publishes a row edited before: that row is the edit's successor, not its past)."""
    return (
        new_published is not None
        and new == new_published
        and held_published == new_published
        and held < new_published
    )


def replaces(
    new: datetime,
    held: datetime,
    now: datetime,
    *,
    new_published: datetime | None = None,
    held_published: datetime | None = None,
    new_unstamped: bool = False,
    held_stored: datetime | None = None,
) -> bool:
    """Whether version ``new`` replaces the ``held`` one at ``now`` (all aware, UTC): newer
    (than ``held`` as far as ``held_stored`` lets it be believed, :func:`newer`);
    or different while ``held`` is not believed (more than :data:`VERSION_AHEAD` after ``now``,
    or :func:`undated`: an edit or a new time given before a scheduled article's time wins);
    never an undated ``new`` over a dated ``held`` (the scheduled record again, after an edit),
    nor, ``new_unstamped`` (the record has no ``updated_at``), once its time has passed, the
    scheduled record of an edit made before that time (:func:`scheduled_again`).
    ``*_published``: each record's ``published_at``, None when not known (taken as dated)."""
    if new == held:
        return False
    if held > now + VERSION_AHEAD or undated(held, held_published, now):
        return True
    if undated(new, new_published, now):
        return False
    if new_unstamped and scheduled_again(new, new_published, held, held_published):
        return False
    return newer(new, held, held_stored)


def newer(new: datetime, held: datetime, stored: datetime | None) -> bool:
    """Whether version ``new`` is newer than ``held``, believed only up to ``stored``, when
    feedsvc read it (its clock as it stored the record; None: not known, ``held`` believed as
    it is). All aware.

    An edit cannot have been made after feedsvc read it, so a version ahead of that moment is
    a clock running fast (a CMS app server 10 minutes ahead), and counts as that moment: the
    row's next edit on a correct clock, dated at or after it, replaces it. Believed whole, it was
    newer than every edit made before the skewed time passed: the headline fixed a minute
    later was refused "an older version" (INFO only) and kept in feeds and alerts, and the
    row was not read again (a tester's H2). A copy restored with its own old ``updated_at``
    (dated before the held record was read) is still older, and not applied."""
    if stored is None or held <= stored:
        return new > held
    return new >= stored and new != held


def public(withdrawn: bool, published: datetime | None, now: datetime | None) -> bool:
    """Whether a record says its article is public at ``now``: not withdrawn by its source,
    its ``published_at`` come (None, or ``now`` None: not known, taken as come). The
    record's own word only: an editor's hide is not a record's (SPEC §10)."""
    return not withdrawn and (published is None or now is None or published <= now)


def ahead(
    new: datetime,
    new_public: bool,
    first: datetime,
    first_public: bool,
    *,
    new_own: bool = False,
    first_own: bool = False,
) -> bool:
    """Whether row ``new`` goes forward instead of ``first``, another row of the same key read
    in the same batch (one of them is stored, :func:`takes_over` judging it against what is
    held): a row that is not public and not the held article's own (``*_own``) never
    displaces a public one, and a public one displaces it — another row's draft does not take
    a live article down, nor, when nothing is held yet, keep it from showing (M2); otherwise
    the newer version, and at the same version the held article's own row."""
    if new_public != first_public and not (new_own if first_public else first_own):
        return new_public
    return new > first or (new == first and new_own and not first_own)


def takes_over(
    new: datetime,
    new_withdrawn: bool,
    held: datetime,
    held_withdrawn: bool,
    now: datetime | None,
    *,
    new_published: datetime | None = None,
    held_published: datetime | None = None,
    new_unstamped: bool = False,
    held_unstamped: bool = False,
    may_be_stale: bool = False,
    edited: bool = False,
    held_gone: bool = False,
    own_row: bool = False,
    other_row: bool = False,
    held_stored: datetime | None = None,
) -> bool:
    """Whether a record (version ``new``, ``new_withdrawn``) replaces the held one: the same
    version with the other visibility, or a version that :func:`replaces` it (``now`` None:
    only a newer one, the rules about the future need a clock). All datetimes aware.

    The same version also replaces when the held record had no ``updated_at`` and this one has
    one (``held_unstamped``, not ``new_unstamped``): the held version is its ``published_at``,
    no edit time, and a CMS scheduler that publishes a row edited before its time may set
    ``updated_at`` to that very time — the edited row was "unchanged" and never shown. The
    reverse (the original line again after that row) stays unchanged, as does the same
    record again.

    ``may_be_stale``: the record is an import line, possibly a copy older than the held one
    (an import script re-run), not a source row as it is now: the same version with
    ``withdrawn`` false does not replace a held takedown (the original line again would undo a
    takedown given without a newer ``updated_at``); a newer version does.

    ``edited``: the record comes from the very source row the held one was read from and its
    content differs (the caller compares): at the same version it replaces the held one — the
    CMS's row as it is now, a correction — unless ``may_be_stale``. ``held_gone``: the held
    record's source row no longer exists and this record is another row with its key: it
    replaces the held one whatever the versions (a key with no other row is deleted).

    ``own_row``: the record is the held record's own source row as the CMS holds it now (not
    an import line): when it says the article is not shown while the held record is shown, it
    replaces it whatever the versions — a takedown is never refused for a version, which a
    clock running fast or slow on one CMS server makes "older" (a tester's H2). Another row of
    the key, or an import line (``may_be_stale``), takes it down only as a newer version.
    ``other_row``: the record is another source row of the key than the held record's, which
    is still there (a key column that is not unique): while the held record is public
    (:func:`public`), a record that is not — a draft, hidden, dated in the future — does not
    replace it, whatever its version (M2: an editor's copy took a live article down). Needs
    ``held_published``/``new_published`` to tell a scheduled record (None: taken as come).
    ``held_stored``: when feedsvc stored the held record (:func:`newer`)."""
    if held_gone:
        return True
    if own_row and new_withdrawn and not held_withdrawn and not may_be_stale:
        return True
    if (
        other_row
        and public(held_withdrawn, held_published, now)
        and not public(new_withdrawn, new_published, now)
    ):
        return False
    if new == held:
        if new_withdrawn != held_withdrawn:
            return new_withdrawn or not may_be_stale
        if edited and not may_be_stale:
            return True
        return held_unstamped and not new_unstamped
    if now is None:
        return newer(new, held, held_stored)
    return replaces(
        new, held, now, new_published=new_published, held_published=held_published,
        new_unstamped=new_unstamped, held_stored=held_stored,
    )  # fmt: skip
