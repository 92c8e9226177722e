"""``feedsvc.nfc.nfc``: stored text in NFC, HTML's markup characters untouched."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsvc.nfc import MARKUP, nfc

NFD = unicodedata.normalize("NFD", "Kiến Thụy, Hòa, Thuỷ, Đoàn Xá")


def test_nfd_becomes_nfc() -> None:
    assert nfc(NFD) == unicodedata.normalize("NFC", NFD) != NFD


@pytest.mark.parametrize("text", ["", "ascii only", "Kiến Thụy", "<p>Kiến</p>"])
def test_nfc_text_is_returned_as_is(text: str) -> None:
    assert nfc(text) is text


@pytest.mark.parametrize(
    ("text", "kept"),
    [("<\u0338p>", "<\u0338p>"), ("a =\u0338 b", "a =\u0338 b"), ("</b>\u0338", "</b>\u0338"),
     ("&amp\u037e", "&amp\u037e"),  # U+037E decomposes to ";": would end an entity
     (f"<b>{NFD}</b>\u0338", f"<b>{unicodedata.normalize('NFC', NFD)}</b>\u0338")],
)  # fmt: skip
def test_markup_is_never_composed_with_or_created(text: str, kept: str) -> None:
    assert nfc(text) == kept


@given(st.text(alphabet=st.sampled_from([*MARKUP, "e", "a", "u", "\u0301", "\u0302", "\u0323",
                                         "\u0338", "\u037e", " ", "ơ", "\u031b"])))  # fmt: skip
def test_markup_characters_stay_where_they_are(text: str) -> None:
    out = nfc(text)
    assert [c for c in out if c in MARKUP] == [c for c in text if c in MARKUP]
    assert unicodedata.normalize("NFC", out) == unicodedata.normalize("NFC", text)
