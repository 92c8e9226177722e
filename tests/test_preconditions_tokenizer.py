"""The one tokenizer of an ``If-Match`` (:func:`feedsvc.web.preconditions.entity_tags`): RFC
9110's ``#entity-tag`` list, where a quoted tag may hold a comma (``W/"a,b"`` was split into
two members, then refused as "invalid"), and what is no entity tag is no list. Pure."""

from __future__ import annotations

import pytest

from feedsvc.web.preconditions import MAX_TAGS, EntityTag, entity_tags


def test_members_are_tags_stars_and_nothing_for_empty_ones() -> None:
    assert entity_tags('W/"a,b", "c" ,, *') == [
        EntityTag(True, "a,b"), EntityTag(False, "c"), "*"
    ]  # fmt: skip
    assert entity_tags("") == [] and entity_tags(" , ") == []
    assert entity_tags('""') == [EntityTag(False, "")]
    assert entity_tags('"caf\xe9"') == [EntityTag(False, "caf\xe9")]  # obs-text
    assert entity_tags('"a", W/"b,c"\t,"d"') == [
        EntityTag(False, "a"), EntityTag(True, "b,c"), EntityTag(False, "d")
    ]  # fmt: skip
    assert MAX_TAGS == 16  # the documents (README, OpenAPI) say 16


@pytest.mark.parametrize(
    "bad", ["W/*", 'W/"v', "W/v", "v", 'w/"v"', '"a" "b"', '"a"b', '"a b"', "**", 'W/ "v"',
            '"a\x7f"', '"\u0100"', '"a"W/"b"'],
)  # fmt: skip
def test_what_is_no_entity_tag_is_no_list(bad: str) -> None:
    assert entity_tags(bad) is None
