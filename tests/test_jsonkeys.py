"""The one rule for a JSON object giving a key twice (:mod:`feedsvc.jsonkeys`), which the admin
API (422 ``duplicate_key``, ``tests/test_api_key_text.py``) and ``feedsvc import``
(``tests/test_import_hostile.py``) both apply: the key after its escapes are decoded, compared
code point by code point, the first repeat in document order named by its position."""

from __future__ import annotations

import json

import pytest

from feedsvc.jsonkeys import DuplicateKey, loads_unique


@pytest.mark.parametrize(
    ("text", "loc"),
    [
        ('{"a": 1, "a": 2}', ("a",)),
        ('{"a": 1, "a": 2, "a": 3}', ("a",)),  # three copies: the second is the fault
        ('{"": 1, "": 2}', ("",)),
        ('{"a": 1, "\\u0061": 2}', ("a",)),  # an escape spells the same key
        ('{"\\ud83d\\ude00": 1, "\U0001f600": 2}', ("\U0001f600",)),
        ('{"\\ud800": 1, "\\ud800": 2}', ("\ud800",)),  # a lone surrogate is a key like any
        ('{"k\\u0001": 1, "k\\u0001": 2}', ("k\x01",)),
        ('{"x": {"y": [0, {"z": 1, "z": 2}]}}', ("x", "y", 1, "z")),
        ('[[], [{"a": 1}, {"b": 1, "b": 2}]]', (1, 1, "b")),
        # document order: the repeat written first is named, whichever object closes first
        ('{"a": {"b": 1, "b": 2}, "a": 3}', ("a", "b")),
        ('{"a": 1, "a": {"b": 1, "b": 2}}', ("a",)),
        ('{"a": [{"c": 1, "c": 2}], "b": 1, "b": 2}', ("a", 0, "c")),
        ('{"b": 1, "a": [{"c": 1, "c": 2}], "b": 2}', ("a", 0, "c")),
        ('{"b": 1, "b": 2, "a": [{"c": 1, "c": 2}]}', ("b",)),
    ],
)
def test_the_first_repeated_key_is_named(text: str, loc: tuple[object, ...]) -> None:
    with pytest.raises(DuplicateKey) as raised:
        loads_unique(text)
    assert raised.value.loc == loc
    assert raised.value.key == loc[-1]


@pytest.mark.parametrize(
    "text",
    [
        '{"\u00e9": 1, "e\u0301": 2}',  # NFC and NFD: different code points, two keys
        '{"\\u00e9": 1, "e\\u0301": 2}',
        '{"a": 1, "A": 2, "a ": 3}',
        '[{"a": 1}, {"a": 2}]',  # the same key in two objects
        '{"a": {"a": 1}}',
        "[]",
        '"a"',
    ],
)
def test_different_keys_are_read_as_json_reads_them(text: str) -> None:
    assert loads_unique(text) == json.loads(text)


def test_json_errors_are_json_s_own() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_unique('{"a": 1, "a": 2')  # not JSON: that, not a duplicate
    with pytest.raises(ValueError, match="NaN"):
        loads_unique('{"a": NaN, "a": 1}', parse_constant=lambda name: _refuse(name))
    assert loads_unique('{"a": NaN}')["a"] != 0  # Python's default: NaN read


def _refuse(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def test_a_duplicate_is_not_a_value_error() -> None:
    """A reader's ``except ValueError`` (not JSON) cannot take it for a syntax error."""
    assert not issubclass(DuplicateKey, ValueError)


def test_a_deep_repeat_is_found_without_recursion() -> None:
    """As deep as Python's parser reads (the walk naming it is iterative)."""
    depth = 800
    with pytest.raises(DuplicateKey) as raised:
        loads_unique("[" * depth + '{"a": 1, "a": 2}' + "]" * depth)
    assert raised.value.loc == (0,) * depth + ("a",)
