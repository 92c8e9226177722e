"""A key printed by feedsvc, pasted back, is that stored key (the tester's second report).

The ambiguity refusal and the lookalike notes spelled keys by code point
(``Ba\\u0300i-He\\u0323\\u0302-Tho\\u0302\\u0301ng-C``) and said "give the one meant exactly",
but the CLI read ``\\u0300`` as six characters: following that advice, ``articles hide
'Ba\\u0300i-…' --pending`` exited 0 recording a takedown for a key with backslashes that never
arrives, while the article stayed public. Now every key is printed in one spelling
(:func:`feedsvc.keys.spelled`: NFC as it is, any other form code point by code point) that
every ``articles`` command reads back (``\\uHHHH``/``\\UHHHHHHHH`` naming a non-ASCII
character is that character). Each case on one backend, rotating; the refusal's candidates
pasted back on both."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from test_key_forms_fronts import add, admin, on_backend, search_feed
from test_lifecycle_editors import AUTH, make_service, state

from feedsvc.app import Service
from feedsvc.cli import cli
from feedsvc.db.schema import pending_hides

__all__ = ["admin"]  # the fixture, used by name

NFC = unicodedata.normalize("NFC", "Bài-Hệ-Thống-C")
NFD = unicodedata.normalize("NFD", NFC)
SHOWN_NFD = "Ba\\u0300i-He\\u0323\\u0302-Tho\\u0302\\u0301ng-C"  # the tester's paste
MIXED = "B\u00e0i-H\u00ea\u0323-Th\u00f4\u0301ng-C"  # partly composed: neither stored key
#: composition exclusions: a precomposed character NFC decomposes (not NFC as stored)
EXCLUDED = ["Tin-\u0958-1", "Tin-\ufb2c-2", "Tin-\u0344-3", "Tin-\U0001d160-4"]


@pytest.fixture
def service(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    service = make_service(db_url, monkeypatch)
    add(service, (9, NFD))
    yield service
    service.db.dispose()


def run(service: Service, *args: str) -> Any:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    return CliRunner().invoke(cli, ["articles", *args], env=env)


def pending_keys(service: Service) -> list[str]:
    with service.db.read() as conn:
        return list(conn.execute(select(pending_hides.c.source_key)).scalars())


def quoted_keys(said: str) -> list[str]:
    """The keys a message names between single quotes, as printed."""
    return re.findall(r"'([^']*)'", said)


def test_the_testers_paste_hides_the_stored_decomposed_article(service: Service) -> None:
    done = run(service, "hide", SHOWN_NFD, "--pending", "--reason", "legal")
    assert done.exit_code == 0, done.output
    assert done.stdout.split("\t")[:2] == [SHOWN_NFD, "hidden"]  # printed as pasted
    assert pending_keys(service) == []  # no takedown waiting for a key that never arrives
    assert state(service, NFD).hidden_reason == "legal"
    assert "9.html" not in search_feed(service)
    assert run(service, "unhide", SHOWN_NFD).exit_code == 0
    assert state(service, NFD).hidden_at is None


def test_find_prints_the_spelling_and_it_pastes_back(service: Service) -> None:
    found = run(service, "find", NFC)
    assert found.exit_code == 0, found.output
    printed = [line.split("\t")[0] for line in found.stdout.splitlines()]
    assert printed == [SHOWN_NFD]
    again = run(service, "find", printed[0])
    assert [line.split("\t")[0] for line in again.stdout.splitlines()] == [SHOWN_NFD]


def test_each_key_the_ambiguity_refusal_lists_pasted_back_is_that_key(service: Service) -> None:
    add(service, (10, NFC))
    refused = run(service, "hide", MIXED, "--pending")
    assert refused.exit_code == 1 and pending_keys(service) == [], refused.output
    listed = quoted_keys(refused.stderr.split("forms: ", 1)[1])
    assert listed == [SHOWN_NFD, NFC]
    for printed, key, other in ((listed[0], NFD, NFC), (listed[1], NFC, NFD)):
        done = run(service, "hide", printed, "--reason", "lệnh")
        assert done.exit_code == 0, done.output
        assert state(service, key).hidden_at is not None
        assert state(service, other).hidden_at is None
        assert pending_keys(service) == []
        # its note names the other, which pastes back too
        (noted,) = quoted_keys(done.stderr.split("not changed: ", 1)[1])
        assert noted == (SHOWN_NFD if other == NFD else NFC)
        assert run(service, "unhide", printed).exit_code == 0
        assert state(service, key).hidden_at is None


@on_backend("postgres")
@pytest.mark.parametrize("key", EXCLUDED, ids=ascii)
def test_a_key_holding_a_composition_exclusion_prints_and_pastes_back(
    service: Service, key: str
) -> None:
    add(service, (11, key))
    typed = unicodedata.normalize("NFC", key)  # a keyboard's: longer than the key
    assert typed != key
    found = run(service, "find", typed)
    assert found.exit_code == 0, found.output
    printed = found.stdout.split("\t")[0]
    assert printed.isascii() and ("\\u" in printed or "\\U" in printed)
    done = run(service, "hide", printed)
    assert done.exit_code == 0 and done.stderr == "", done.output  # the key itself: no note
    assert state(service, key).hidden_at is not None


@on_backend("sqlite")
def test_a_pending_hide_of_a_literal_backslash_u_key_warns(service: Service) -> None:
    done = run(service, "hide", "Ext-\\\\u0300-9", "--pending")  # typed doubled: the 6 chars
    assert done.exit_code == 0, done.output
    assert pending_keys(service) == ["Ext-\\u0300-9"]
    assert "holds a backslash, u and hex digits as characters" in done.stderr
    plain = run(service, "hide", "Ext-9", "--pending")
    assert plain.exit_code == 0 and "backslash" not in plain.stderr


@on_backend("postgres")
def test_the_api_409_lists_exact_keys_and_the_admin_acts_on_each(
    service: Service, admin: Any
) -> None:
    add(service, (10, NFC))
    client, csrf = admin
    r = client.post(f"/api/articles/{quote(MIXED, safe='')}/hide", headers=AUTH, json={})
    assert r.status_code == 409 and r.json()["source_keys"] == [NFD, NFC]
    refused = client.post("/admin/articles/hide", data={"key": MIXED, "csrf": csrf})
    assert "trùng chữ với nhiều mã bài" in refused.text
    listing = client.get("/admin/articles", params={"q": MIXED}).text
    values = re.findall(r'name="key" value="([^"]*)"', listing)
    assert sorted(html.unescape(v) for v in values) == sorted([NFD, NFC])
    for key in (NFD, NFC):
        client.post("/admin/articles/hide", data={"key": key, "csrf": csrf})
        assert state(service, key).hidden_at is not None


def test_the_cli_takes_a_260_code_point_nfc_of_a_stored_key(service: Service) -> None:
    """Refused "source_key must be 1–255 characters" (exit 2) before the lookup."""
    key = "\u0958" * 130
    add(service, (12, key))
    typed = unicodedata.normalize("NFC", key)
    assert len(typed) == 260
    done = run(service, "hide", typed)
    assert done.exit_code == 0, done.output
    assert state(service, key).hidden_at is not None
    found = run(service, "find", typed)
    assert found.exit_code == 0 and found.stdout.split("\t")[:2] == ["\\u0958" * 130, "hidden"]
    assert run(service, "unhide", typed).exit_code == 0
