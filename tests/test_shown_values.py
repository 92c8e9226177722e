"""``feedsvc.shown_values.shown_value``: a bad value named in JSON's words, bounded, with the
characters a terminal hides written as escapes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from feedsvc.shown_values import shown_value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "null"),
        (True, "true"),
        ("", "an empty string"),
        ("yes", 'the string "yes"'),
        (1.5e300, "the number 1.5e+300"),
        ([1], "an array [1]"),
        ({"a": 1}, 'an object {"a": 1}'),
        ("a\u202eb\u200bc", 'the string "a\\u202eb\\u200bc"'),  # what a terminal hides
        ("x" * 100, 'the string "' + "x" * 59 + "…"),  # bounded: a record may hold megabytes
        (float("nan"), "the number NaN"),
        (Decimal("1.50"), "Decimal Decimal('1.50')"),  # a driver's value: its type and repr
    ],
)
def test_a_value_is_named_in_jsons_words_and_bounded(value: object, shown: str) -> None:
    assert shown_value(value) == shown
