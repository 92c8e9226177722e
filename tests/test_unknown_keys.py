"""``feedsvc.unknown_keys``: a JSON article line's key that is no field is refused, naming the
field meant (tester F1: ``"visible": false`` and ``"withdrawm": true`` were dropped unseen)."""

from __future__ import annotations

from typing import Any

import pytest

from feedsvc.articles import JSON_FIELDS
from feedsvc.unknown_keys import unknown_keys

# key, value, the problem said for it
MEANT: list[tuple[str, Any, str]] = [
    (
        "visible",
        False,
        'unknown field (did you mean "withdrawn"? "visible": false is "withdrawn": true',
    ),
    ("isVisible", False, '"isVisible": false is "withdrawn": true'),
    ("hidden", True, '(did you mean "withdrawn"? "hidden": true is "withdrawn": true'),
    ("deleted", True, '"deleted": true is "withdrawn": true'),
    ("is_deleted", 1, '"is_deleted": true is "withdrawn": true'),
    ("draft", True, '"draft": true is "withdrawn": true'),
    ("published", False, '"published": false is "withdrawn": true'),
    ("status", "draft", 'did you mean "withdrawn"? an article taken down is "withdrawn": true'),
    ("Status", "hidden", 'did you mean "withdrawn"?'),
    ("withdrawm", True, 'unknown field (did you mean "withdrawn"?)'),
    ("withdraw", True, '"withdraw": true is "withdrawn": true'),
    ("Withdrawn", True, 'did you mean "withdrawn"? field names are lower case, with "_"'),
    ("Title", "x", 'unknown field (did you mean "title"? field names are lower case'),
    ("publishedAt", "2026-11-20", 'did you mean "published_at"? field names are lower case'),
    ("Updated-At", "2026-11-20", 'did you mean "updated_at"?'),
    ("published", "2026-11-20", 'unknown field (did you mean "published_at"?)'),  # a date
    ("tag", ["a"], 'unknown field (did you mean "tags"?)'),
    ("imageUrl", "/a.jpg", 'did you mean "image_url"?'),
    ("link", "https://e.vn/1", 'unknown field (did you mean "url"?)'),
    ("description", "x", 'unknown field (did you mean "summary"?)'),
    ("content", "x", 'unknown field (did you mean "body"?)'),
]


@pytest.mark.parametrize(("key", "value", "said"), MEANT, ids=[m[0] + str(m[1]) for m in MEANT])
def test_an_unknown_key_names_the_field_meant(key: str, value: Any, said: str) -> None:
    [problem] = unknown_keys({"source_key": "K", key: value})
    assert problem.problems == [(key, problem.reason)]
    assert said in problem.reason, problem.reason


@pytest.mark.parametrize("key", ["x", "foo_bar", "ghi_chu", "nguoi_viet"])
def test_a_key_like_no_field_is_just_unknown(key: str) -> None:
    [problem] = unknown_keys({key: 1})
    assert str(problem) == f"{key}: unknown field"


def test_every_unknown_key_in_the_records_order_and_no_known_one() -> None:
    record = {name: None for name in JSON_FIELDS} | {"b": 1, "visible": False, "a": 2}
    assert [p.field for p in unknown_keys(record)] == ["b", "visible", "a"]
    assert unknown_keys({name: None for name in JSON_FIELDS}) == []


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("a\u0001", "a\\u0001"),  # a control character
        (" visible", '" visible"'),  # a leading space: quoted, as the API names keys
        ("", '""'),
        ('ti"tle', 'ti\\"tle'),
        ("title\u200b", "title\\u200b"),  # an invisible character: not the field title
    ],
)
def test_the_key_is_named_json_escaped(key: str, shown: str) -> None:
    [problem] = unknown_keys({key: True})
    assert problem.field == shown and str(problem).startswith(f"{shown}: unknown field")


def test_a_spaced_lifecycle_key_keeps_its_quotes_once() -> None:
    [problem] = unknown_keys({" visible": False})
    assert '" visible": false is "withdrawn": true' in problem.reason
