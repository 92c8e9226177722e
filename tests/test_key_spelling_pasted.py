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
import regex
from click.testing import CliRunner
from factories import article
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from test_key_forms_fronts import add, admin, on_backend, search_feed
from test_lifecycle_editors import AUTH, make_service, state

from feedsvc.app import Service
from feedsvc.blank_chars import shows_blank
from feedsvc.cli import cli
from feedsvc.db.schema import pending_hides
from feedsvc.keys import named, spelled
from feedsvc.logs import unescape_controls
from feedsvc.store.source_articles import upsert_source_articles

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
    service.close()


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
    assert sorted(html.unescape(v) for v in values) == sorted(map(spelled, [NFD, NFC]))
    for key in (NFD, NFC):  # each form sends its key spelled, read back as the CLI reads it
        client.post("/admin/articles/hide", data={"key": spelled(key), "csrf": csrf})
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


# --- keys told apart only by what shows as nothing or as a blank (the tester's LRM) ---------

#: one character inside ``k…EY`` that shows as nothing, as a blank, or as no standard glyph
BLANK_INSIDE = {
    "lrm": "\u200e", "rlm": "\u200f", "alm": "\u061c", "zwsp": "\u200b", "zwnj": "\u200c",
    "zwj": "\u200d", "word-joiner": "\u2060", "invisible-times": "\u2062", "bom": "\ufeff",
    "soft-hyphen": "\u00ad", "cgj": "\u034f", "mongolian-vs": "\u180e", "fvs1": "\u180b",
    "vs1": "\ufe00", "vs16": "\ufe0f", "vs17": "\U000e0100", "tag-g": "\U000e0067",
    "hangul-filler": "\u3164", "halfwidth-filler": "\uffa0", "choseong-filler": "\u115f",
    "khmer-aq": "\u17b4", "nbsp": "\u00a0", "en-space": "\u2002", "thin-space": "\u2009",
    "hair-space": "\u200a", "narrow-nbsp": "\u202f", "math-space": "\u205f",
    "ideographic-space": "\u3000", "ogham-space": "\u1680", "braille-blank": "\u2800",
    "private-use": "\ue000", "unassigned": "\u0378", "arabic-number-sign": "\u0600",
    "shorthand-format": "\U0001bca0", "musical-begin-beam": "\U0001d173",
}  # fmt: skip
#: pairs of distinct keys that looked the same when printed
LOOKALIKE_PAIRS = [
    ("a b", "a\u00a0b"), ("a\u2002b", "a\u2003b"), ("Tin\u3000Kiến", "Tin  Kiến"),
    ("👨\u200d👩\u200d👧", "👨👩👧"), ("❤\ufe0f-1", "❤-1"),
    ("🏴\U000e0067\U000e0062\U000e007f", "🏴"),
    ("lrm\u200eKEY", "lrm\u200fKEY"), ("\\\u200e", "\\u200e"), ("K\\\u00a0", "K\\u00a0"),
    ("Tiến\u00adThủy", "TiếnThủy"), ("Kiê\u034f\u0301n", "Kiê\u0301n"),
]  # fmt: skip


def blank_raw(printed: str) -> list[str]:
    """The characters of ``printed`` that show as nothing or as a blank (printed raw)."""
    return [c for c in printed if shows_blank(c) or (c.isspace() and c != " ")]


@pytest.mark.parametrize("name", BLANK_INSIDE)
def test_a_key_differing_by_a_blank_character_prints_apart_and_reads_back(name: str) -> None:
    key = f"k{BLANK_INSIDE[name]}EY"
    printed = spelled(key)
    assert printed != spelled("kEY") and blank_raw(printed) == []
    assert printed.isascii()  # k, EY and one escape of the character
    assert unescape_controls(printed) == key
    assert named(key) == f"'{printed}'"


@pytest.mark.parametrize(("a", "b"), LOOKALIKE_PAIRS, ids=ascii)
def test_lookalike_keys_print_apart_and_each_reads_back(a: str, b: str) -> None:
    assert blank_raw(spelled(a)) == [] and blank_raw(spelled(b)) == []
    assert spelled(a) != spelled(b)
    assert unescape_controls(spelled(a)) == a and unescape_controls(spelled(b)) == b


def test_every_default_ignorable_and_space_is_spelled_in_a_key() -> None:
    """Every ``Default_Ignorable_Code_Point`` and every space but the ASCII one, by the
    ``regex`` module's Unicode tables (not feedsvc's list), is spelled inside a key."""
    blank = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Zs}]")
    found = [chr(c) for c in range(0x80, 0x110000) if blank.match(chr(c))]
    assert len(found) > 4000
    shown = [c for c in found if c in spelled(f"a{c}b")]
    assert shown == []


def test_a_key_in_nfc_keeps_its_letters_and_emoji() -> None:
    """Only what shows as nothing or as a blank is spelled: letters, marks and emoji stay."""
    for key in ("Tin-Kiến-Thụy-42", "tin-😀-1", "🇻🇳-quốc-kỳ", "x\u0301b", "ĐBSCL-👍🏽"):
        assert spelled(key) == key


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list(BLANK_INSIDE.values()) + list("\\uxe0 aK̂ế👨")), max_size=8
    )
    | st.text(max_size=8)
)
def test_any_key_prints_nothing_blank_and_reads_back(key: str) -> None:
    printed = spelled(key)
    assert blank_raw(printed) == [] and unescape_controls(printed) == key


@pytest.fixture
def blanks(service: Service) -> Service:
    """Articles 20, 21, 22 under ``lrmKEY``, ``lrm`` + LRM + ``KEY``, ``lrm`` + NBSP + ``KEY``."""
    add(service, (20, "lrmKEY"), (21, "lrm\u200eKEY"), (22, "lrm\u00a0KEY"))
    return service


def test_cli_find_prints_keys_told_apart_and_each_pastes_back(blanks: Service) -> None:
    found = run(blanks, "find", "Thụy: tin 2")  # their titles
    assert found.exit_code == 0, found.output
    printed = sorted(line.split("\t")[0] for line in found.stdout.splitlines())
    assert len(printed) == 3, found.stdout
    assert printed == ["lrmKEY", "lrm\\u00a0KEY", "lrm\\u200eKEY"]
    keys = {p: unescape_controls(p) for p in printed}
    for shown, key in keys.items():
        done = run(blanks, "hide", shown, "--reason", "lệnh")
        assert done.exit_code == 0, done.output
        assert done.stdout.split("\t")[:2] == [shown, "hidden"]
        assert [k for k in keys.values() if state(blanks, k).hidden_at] == [key]
        assert pending_keys(blanks) == []
        undone = run(blanks, "unhide", shown)
        assert undone.exit_code == 0 and undone.stdout.split("\t")[0] == shown
        assert state(blanks, key).hidden_at is None


@on_backend("sqlite")
def test_cli_pending_hide_of_a_key_with_a_blank_prints_it_spelled(service: Service) -> None:
    done = run(service, "hide", "ext\\u200d-1", "--pending")
    assert done.exit_code == 0, done.output
    assert pending_keys(service) == ["ext\u200d-1"]
    assert done.stdout.split("\t")[0] == "ext\\u200d-1"
    assert "Article ext\\u200d-1 is not ingested yet" in done.stderr
    assert run(service, "unhide", "ext\\u200d-1").exit_code == 0
    assert pending_keys(service) == []


@on_backend("postgres")
def test_admin_rows_and_messages_tell_the_keys_apart(blanks: Service, admin: Any) -> None:
    client, csrf = admin
    listing = client.get("/admin/articles", params={"q": "Thụy: tin 2"}).text
    shown = re.findall(r'<code class="data key" translate="no">([^<]*)</code>', listing)
    assert sorted(html.unescape(s) for s in shown) == ["lrmKEY", "lrm\\u00a0KEY", "lrm\\u200eKEY"]
    page = client.post("/admin/articles/hide", data={"key": "lrm\u200eKEY", "csrf": csrf})
    assert "Đã ẩn bài lrm\\u200eKEY." in html.unescape(page.text)
    assert state(blanks, "lrm\u200eKEY").hidden_at is not None
    assert state(blanks, "lrmKEY").hidden_at is None
    missing = client.post("/admin/articles/hide", data={"key": "nope\u00a0KEY", "csrf": csrf})
    assert "Không có bài nope\\u00a0KEY." in html.unescape(missing.text)


def test_topics_preview_prints_a_sample_key_spelled(blanks: Service) -> None:
    env = {"FEEDSVC_DATABASE__URL": blanks.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    shown = CliRunner().invoke(
        cli, ["topics", "preview", '"Kiến Thụy"', "--samples", "10"], env=env
    )
    assert shown.exit_code == 0, shown.output
    assert "lrm\\u200eKEY" in shown.stdout and "lrm\\u00a0KEY" in shown.stdout
    assert blank_raw(shown.stdout.replace("\n", "")) == []


@on_backend("sqlite")
def test_admin_status_names_a_quarantined_row_s_key_spelled(service: Service, admin: Any) -> None:
    client, _ = admin
    with service.db.write() as conn:
        bad = article(30, source_key="bad\u200eKEY", url="javascript:alert(1)")
        upsert_source_articles(conn, [bad], service.db.now())
    service.ingest_tick()
    page = html.unescape(client.get("/admin/status").text)
    assert "bad\\u200eKEY" in page and "bad\u200eKEY" not in page
