"""`feedsvc import`'s "not applied" lines give every time at the line's own offset.

A takedown line older than the stored version said "this line's version
2026-11-30T10:00:00+07:00 … is older than the stored version, 2026-11-30T03:34:00+00:00": the
line's time as typed, the stored one as the state DB returns it (UTC), so the reader had to do
the arithmetic to see why 10:00 is older than "03:34". Both are now at the offset the line
gave (a naive line time is read in ``site.timezone``, +07:00 by default): the line's reads as
typed, and the two compare at a glance.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli

BASE = {"source_key": "K1", "url": "https://example.vn/k1", "title": "Kiến Thụy"}


def lines(*items: dict[str, object]) -> str:
    return "".join(json.dumps(BASE | item, ensure_ascii=False) + "\n" for item in items)


@pytest.fixture
def imp(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 's.db'}", "FEEDSVC_CONFIG": "/dev/null"}
    runner = CliRunner()
    return lambda text: runner.invoke(cli, ["import", "-"], input=text, env=env)


@pytest.mark.parametrize(
    ("line_time", "line_shown", "stored_shown"),
    [
        # the stored version was given as 10:34 +07:00 (stored 03:34 UTC)
        ("2026-11-30T10:00:00+07:00", "2026-11-30T10:00:00+07:00", "2026-11-30T10:34:00+07:00"),
        ("2026-11-30T08:00:00+05:00", "2026-11-30T08:00:00+05:00", "2026-11-30T08:34:00+05:00"),
        ("2026-11-30T10:00:00", "2026-11-30T10:00:00+07:00", "2026-11-30T10:34:00+07:00"),  # naive
    ],
)
def test_a_stale_takedown_names_both_versions_at_the_lines_offset(
    imp, line_time: str, line_shown: str, stored_shown: str
) -> None:  # type: ignore[no-untyped-def]
    assert imp(lines({"published_at": "2026-11-30T10:34:00+07:00"})).exit_code == 0
    stale = {"published_at": "2026-11-29T09:00:00+07:00", "updated_at": line_time}
    result = imp(lines(stale | {"withdrawn": True}))
    assert result.exit_code == 1, result.output
    assert (
        f"this line's version {line_shown} (updated_at, else published_at) is older than the"
        f" stored version, {stored_shown}, which stays public"
    ) in result.output, result.output


def test_the_winning_line_of_the_same_import_is_shown_at_this_lines_offset(imp) -> None:  # type: ignore[no-untyped-def]
    public = {"published_at": "2026-11-30T03:34:00Z", "updated_at": "2026-11-30T04:00:00Z"}
    stale = {"published_at": "2026-11-30T09:00:00+07:00", "updated_at": "2026-11-30T10:00:00+07:00"}
    result = imp(lines(public, stale | {"withdrawn": True}))
    assert result.exit_code == 1, result.output
    assert (
        "rejected line 2: withdrawn: true not applied (the takedown did not happen): this line's"
        " version 2026-11-30T10:00:00+07:00 (updated_at, else published_at) is older than"
        " line 1's, 2026-11-30T11:00:00+07:00, which wins and is public"
    ) in result.output, result.output


def test_the_same_version_with_other_content_reads_as_the_line_gave_it(imp) -> None:  # type: ignore[no-untyped-def]
    assert imp(lines({"published_at": "2026-11-30T03:34:00Z"})).exit_code == 0
    result = imp(lines({"published_at": "2026-11-30T10:34:00+07:00", "title": "Kiến Thụy (sửa)"}))
    assert result.exit_code == 1, result.output
    assert (
        "the same version as the stored one, 2026-11-30T10:34:00+07:00 (updated_at, else"
        " published_at), but a different title"
    ) in result.output, result.output
