"""The retraction/correction plan is pure: every Bot API answer → the next step."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from factories import article

from feedsvc.notify.edits import EditKind, EditOutcome
from feedsvc.retraction.plan import (
    CORRECT,
    RETRACT,
    Next,
    OnWithdraw,
    decide,
    first_method,
    is_correction,
    is_photo,
    left_as,
)

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "policy", "age_h", "caption", "method"),
    [
        (RETRACT, OnWithdraw.DELETE, 1, False, "delete"),
        (RETRACT, OnWithdraw.DELETE, 47.9, True, "delete"),
        (RETRACT, OnWithdraw.DELETE, 48, False, "text"),  # Telegram: no delete past 48 h
        (RETRACT, OnWithdraw.DELETE, 200, True, "cover"),  # a photo's picture goes too
        (RETRACT, OnWithdraw.EDIT, 1, True, "cover"),
        (RETRACT, OnWithdraw.EDIT, 1, False, "text"),
        (CORRECT, OnWithdraw.DELETE, 1, False, "text"),  # a correction never deletes
        (CORRECT, OnWithdraw.DELETE, 1, True, "caption"),
    ],
)
def test_first_method(
    kind: str, policy: OnWithdraw, age_h: float, caption: bool, method: str
) -> None:
    assert first_method(kind, policy, NOW - timedelta(hours=age_h), NOW, caption) == method


def _o(kind: EditKind, seconds: float | None = None) -> EditOutcome:
    return EditOutcome(kind, seconds, f"words for {kind}")


@pytest.mark.parametrize(
    ("kind", "method", "answer", "expected"),
    [
        (RETRACT, "delete", _o(EditKind.DONE), Next("deleted")),
        (RETRACT, "text", _o(EditKind.DONE), Next("edited")),
        (RETRACT, "delete", _o(EditKind.GONE), Next("gone")),
        (RETRACT, "text", _o(EditKind.NOT_MODIFIED), Next("edited")),  # already the notice
        (CORRECT, "text", _o(EditKind.NOT_MODIFIED), Next("unchanged")),
        (CORRECT, "caption", _o(EditKind.GONE), Next("gone")),
        (RETRACT, "delete", _o(EditKind.UNDELETABLE), Next(method="text", error="x")),
        (RETRACT, "delete", _o(EditKind.REFUSED), Next(method="text", error="x")),
        (RETRACT, "delete", _o(EditKind.CHAT_GONE), Next("failed", error="x")),
        (RETRACT, "text", _o(EditKind.WRONG_KIND), Next(method="cover", error="x")),
        (RETRACT, "text_plain", _o(EditKind.WRONG_KIND), Next(method="cover_plain", error="x")),
        (CORRECT, "text", _o(EditKind.WRONG_KIND), Next(method="caption", error="x")),
        (RETRACT, "cover", _o(EditKind.DONE), Next("edited")),
        (RETRACT, "cover", _o(EditKind.NOT_MODIFIED), Next("edited")),
        (RETRACT, "cover", _o(EditKind.WRONG_KIND), Next(method="text", error="x")),
        (RETRACT, "cover", _o(EditKind.PARSE_ERROR), Next(method="cover_plain", error="x")),
        (RETRACT, "cover_plain", _o(EditKind.PARSE_ERROR), Next(method="caption_plain", error="x")),
        (RETRACT, "cover", _o(EditKind.REFUSED), Next(method="caption", error="x")),
        (RETRACT, "cover", _o(EditKind.CHAT_GONE), Next("failed", error="x")),
        (RETRACT, "cover", _o(EditKind.MIGRATED), Next("unreachable", error="x")),
        (RETRACT, "cover", _o(EditKind.RETRY_AFTER, 3),
         Next(method="cover", delay=3, pause_chat=3, error="x")),
        (CORRECT, "caption_plain", _o(EditKind.WRONG_KIND), Next(method="text_plain", error="x")),
        (CORRECT, "text", _o(EditKind.PARSE_ERROR), Next(method="text_plain", error="x")),
        (CORRECT, "text_plain", _o(EditKind.PARSE_ERROR), Next("failed", error="x")),
        (CORRECT, "text", _o(EditKind.REFUSED), Next("failed", error="x")),
        (RETRACT, "text", _o(EditKind.CHAT_GONE), Next("failed", error="x")),
        (RETRACT, "delete", _o(EditKind.RETRY_AFTER, 7),
         Next(method="delete", delay=7, pause_chat=7, error="x")),
        (RETRACT, "delete", _o(EditKind.TRANSIENT), Next(method="delete", delay=8.0, error="x")),
    ],
)  # fmt: skip
def test_decide(kind: str, method: str, answer: EditOutcome, expected: Next) -> None:
    got = decide(kind, method, answer, attempts=2)
    if expected.error is not None:
        assert got.error == answer.description
        got = replace(got, error="x")
    assert got == expected


def test_a_refused_delete_edits_the_caption_when_that_is_the_guess() -> None:
    assert decide(RETRACT, "delete", _o(EditKind.UNDELETABLE), 0, caption=True).method == "cover"


@pytest.mark.parametrize("answer", [EditKind.TRANSIENT, EditKind.RETRY_AFTER, EditKind.WRONG_KIND])
def test_attempts_are_bounded(answer: EditKind) -> None:
    assert decide(RETRACT, "text", _o(answer), attempts=24, max_attempts=25).outcome == "failed"


def test_backoff_doubles_and_is_capped() -> None:
    delays = [decide(CORRECT, "text", _o(EditKind.TRANSIENT), a).delay for a in range(12)]
    assert delays[:3] == [2.0, 4.0, 8.0] and max(delays) == 300.0


def test_what_is_a_correction() -> None:
    a = article(1, summary="Tóm tắt")
    assert is_correction(a, replace(a, title="Tiêu đề mới"))
    assert is_correction(a, replace(a, summary="Tóm tắt mới"))
    assert is_correction(a, replace(a, summary=None))
    assert not is_correction(a, replace(a, body="<p>khác</p>", tags=("x",)))
    assert not is_correction(replace(a, summary=None), replace(a, summary=""))


@pytest.mark.parametrize(
    "change",
    [
        {"url": "https://example.vn/tin/1-sua.html"},  # the link and its "Đọc bài" button
        {"section": "Thời sự"},
        {"author": "Minh Anh"},
        {"published_at": article(1).published_at + timedelta(hours=1)},  # the meta line
    ],
)
def test_a_change_the_alert_shows_is_a_correction(change: dict[str, object]) -> None:
    """Only the title and summary counted: a corrected link left the alert's title and button
    on the old URL, the meta line kept the old author (a tester's)."""
    a = article(1, summary="Tóm tắt")
    assert is_correction(a, replace(a, **change))  # type: ignore[arg-type]


def test_a_body_shown_for_a_missing_summary_is_a_correction() -> None:
    """No summary: the alert shows the body's start, so a body fixing a name ("Bình" →
    "Minh") is a correction; a body behind a summary, or an image alone, is not."""
    a = article(1, summary=None, body="<p>Ông Bình, chủ tịch xã.</p>")
    assert is_correction(a, replace(a, body="<p>Ông Minh, chủ tịch xã.</p>"))
    assert not is_correction(a, replace(a, body="<p>Ông Bình, <b>chủ tịch</b> xã.</p>"))
    b = replace(a, summary="Tóm tắt")
    assert not is_correction(b, replace(b, body="<p>Ông Minh.</p>"))
    assert not is_correction(a, replace(a, image_url="https://example.vn/anh/2.jpg"))


def test_a_group_upgraded_to_a_supergroup_ends_unreachable() -> None:
    """Telegram answers a call on an upgraded group's id with ``migrate_to_chat_id``: the old
    group is deactivated, its messages beyond reach for good (not retried, not "gone")."""
    for kind, method in ((RETRACT, "delete"), (RETRACT, "text"), (CORRECT, "caption")):
        got = decide(kind, method, _o(EditKind.MIGRATED), 0)
        assert got == Next("unreachable", error="words for migrated")


@pytest.mark.parametrize(
    ("kind", "digest", "guess", "photo"),
    [
        ("text", False, True, False),  # a photo refused, sent as text: the guess is wrong
        ("photo", False, False, True),  # images switched off since: a photo all the same
        ("photo", True, True, False),  # a digest is a text, whatever its rows say
        (None, False, False, False),  # not known (before 0042): a text edit first
        (None, False, True, True),  # not known, a restore: the guess its notice was made by
    ],
)  # fmt: skip
def test_what_the_message_is(kind: str | None, digest: bool, guess: bool, photo: bool) -> None:
    assert is_photo(kind, digest, guess) is photo


@pytest.mark.parametrize(
    ("method", "outcome", "kind"),
    [
        ("text", "edited", "text"), ("text_plain", "unchanged", "text"),
        ("caption", "edited", "photo"), ("cover", "edited", "photo"),
        ("cover_plain", "edited", "photo"), ("photo", "unchanged", "photo"),
        ("delete", "deleted", None), ("text", None, None), ("cover", "failed", None),
        (None, "cancelled", None),
    ],
)  # fmt: skip
def test_what_an_edit_left_the_message_as(
    method: str | None, outcome: str | None, kind: str | None
) -> None:
    assert left_as(method, outcome) == kind
