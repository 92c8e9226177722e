"""The one tokenizer of an ``If-Match`` (:func:`feedsvc.web.preconditions.entity_tags`): RFC
9110's ``#entity-tag`` list, where a quoted tag may hold a comma (``W/"a,b"`` was split into
two members, then refused as "invalid"), and what is no entity tag is no list; and the
syntax apart from what can match (``listed``, ``candidates``): a well-formed tag that is no
version was a 400 "invalid", it is a list that matches nothing, 412. Pure."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from feedsvc.topic_versions import readable
from feedsvc.web.api_errors import ApiError
from feedsvc.web.preconditions import (
    ANY,
    MAX_TAGS,
    EntityTag,
    candidates,
    entity_tags,
    listed,
)


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


# -- syntax and matching apart (feedsvc.web.preconditions.listed, candidates) ---------------------

VERSION = "1-" + "-".join(["0123456789abcdef"] * 3) + "-1"


def _listed(*lines: str) -> object:
    return listed(Headers(raw=[(b"if-match", line.encode("latin-1")) for line in lines]), "topic")


def test_the_syntax_step_judges_no_version() -> None:
    """``"abc"`` is a well-formed list: :func:`listed` takes it; whether it names a version is
    :func:`candidates`' question (it was a 400 "invalid" from one step doing both)."""
    assert _listed('"abc"', 'W/"x"') == [EntityTag(False, "abc"), EntityTag(True, "x")]
    assert _listed("*") == ANY and _listed() is None
    for bad in ("abc", '"abc', "", '*, "abc"'):
        with pytest.raises(ApiError) as refused:
            _listed(bad)
        assert (refused.value.status, refused.value.code) == (400, "if_match_invalid"), bad


@pytest.mark.parametrize(
    ("tags", "code"),
    [([EntityTag(False, "abc")], "if_match_unknown"),
     ([EntityTag(False, "stale-1"), EntityTag(True, VERSION)], "if_match_unknown"),
     ([EntityTag(False, "")], "if_match_unknown"),
     ([EntityTag(True, VERSION)], "if_match_weak")],
)  # fmt: skip
def test_a_list_that_can_match_nothing_is_412(tags: list[EntityTag], code: str) -> None:
    with pytest.raises(ApiError) as refused:
        candidates(tags, readable, "topic")
    assert (refused.value.status, refused.value.code) == (412, code)


def test_the_versions_that_can_match_are_kept_in_order_once() -> None:
    other = VERSION[:-1] + "0"
    tags = [EntityTag(False, "abc"), EntityTag(False, other), EntityTag(True, VERSION),
            EntityTag(False, VERSION), EntityTag(False, other)]  # fmt: skip
    assert candidates(tags, readable, "topic") == (other, VERSION)
