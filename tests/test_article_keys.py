"""The pure rules behind a typed article key (``keys.canonical``/``key_nfc``/``spelled``, and
``store.article_keys.meant``: which stored key a typed key means). The lookups and their SQL on
both backends: ``test_key_forms.py``."""

from __future__ import annotations

import unicodedata

import pytest

from feedsvc.keys import canonical, key_nfc, spelled
from feedsvc.store.article_keys import Meant, meant

NFC = unicodedata.normalize("NFC", "Tin-Kiến-Thụy-42")
NFD = unicodedata.normalize("NFD", NFC)
MIXED = "Tin-Ki\u00ea\u0301n-Th\u1ee5y-42"


@pytest.mark.parametrize(
    ("typed", "kept", "expected"),
    [
        ("a", [], Meant(None)),
        ("a", ["a"], Meant("a")),
        (NFC, [NFD], Meant(NFD)),  # one equivalent: that article
        (NFC, [NFC, NFD], Meant(NFC, (NFD,))),  # typed exactly: it, the other named
        (MIXED, [NFD, NFC], Meant(None, ambiguous=(NFD, NFC))),  # never a guess
    ],
)
def test_what_a_typed_key_means(typed: str, kept: list[str], expected: Meant) -> None:
    assert meant(typed, kept) == expected


def test_a_stored_key_s_nfc_column_and_its_spelling() -> None:
    assert [key_nfc(k) for k in ("TEST-1", NFC, NFD, MIXED)] == [None, None, NFC, NFC]
    assert canonical("\u212aey") == "Key" and key_nfc("\u212aey") == "Key"  # KELVIN SIGN
    assert spelled(NFD) == "Tin-Kie\\u0302\\u0301n-Thu\\u0323y-42"
    assert spelled(NFC) == NFC  # NFC (what a keyboard gives): as it is
    assert spelled(MIXED) == "Tin-Ki\\u00ea\\u0301n-Th\\u1ee5y-42"
    assert spelled("a\U0001d160") == "a\\U0001d160"  # not NFC (an exclusion): spelled
