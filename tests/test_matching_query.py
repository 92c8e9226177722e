"""The query language: structure of parsed queries and every error case, with positions."""

from __future__ import annotations

import pytest

from feedsvc.matching import QueryError, Term, parse_query
from feedsvc.matching.query import MAX_NESTING, MAX_QUERY_CHARS, MAX_TERMS, And, Not, Or

TOPICS = {
    "a": '"an ninh"',
    "b": "@a OR @c",
    "c": '"công an"',
    "loop1": "@loop2 x",
    "loop2": "@loop1 y",
    "self": "@self",
    "broken": "a OR b c",
    "neg": "-x",
}


def test_bare_words_are_anded() -> None:
    q = parse_query("cháy nổ")
    assert isinstance(q.root, And)
    assert [t.keys for t, _ in q.terms()] == [("chay1",), ("nô3",)]


def test_phrase_is_one_term_with_tone_keys() -> None:
    q = parse_query('"Kiến Thuỵ"')
    assert isinstance(q.root, Term)
    assert q.root.keys == ("kiên1", "thuy5")
    assert q.root.needle == " kiên1 thuy5 "
    assert q.text == '"Kiến Thuỵ"'


def test_folded_term_keys() -> None:
    q = parse_query('~"Kiến Thụy"')
    assert isinstance(q.root, Term)
    assert q.root.folded and q.root.keys == ("kien", "thuy")
    assert q.root.label == '~"Kiến Thụy"'


def test_hyphenated_word_is_a_phrase() -> None:
    q = parse_query("covid-19")
    assert isinstance(q.root, Term) and q.root.keys == ("covid", "190")


def test_or_and_not_structure() -> None:
    q = parse_query('(a OR b) -"c d" AND e')
    assert isinstance(q.root, And)
    first, second, third = q.root.children
    assert isinstance(first, Or) and isinstance(second, Not) and isinstance(third, Term)
    assert [pos for _, pos in q.terms()] == [True, True, False, True]


def test_field_labels_and_masks() -> None:
    q = parse_query('title:"Kiến Thụy" tag:an')
    labels = [t.label for t, _ in q.terms()]
    assert labels == ['title:"Kiến Thụy"', "tag:an"]
    masks = [t.mask for t, _ in q.terms()]
    assert masks == [1, 4]


def test_field_name_is_case_insensitive() -> None:
    q = parse_query("Title:an")
    assert isinstance(q.root, Term) and q.root.mask == 1


def test_refs_expand_and_flatten() -> None:
    q = parse_query("@b x", TOPICS.get)
    assert isinstance(q.root, And)
    assert [t.label for t, _ in q.terms()] == ['"an ninh"', '"công an"', "x"]


def test_query_is_immutable() -> None:
    q = parse_query("an")
    with pytest.raises(AttributeError):
        q.text = "x"  # type: ignore[misc]


def test_typographic_quotes() -> None:
    q = parse_query("“an ninh”")
    assert isinstance(q.root, Term) and q.root.keys == ("an", "ninh")


def test_error_str_is_one_line() -> None:
    with pytest.raises(QueryError) as info:
        parse_query("a b OR c")
    err = info.value
    assert isinstance(err, ValueError)
    assert str(err) == (
        "at character 5: AND and OR are mixed at this level"
        ' (hint: add parentheses, e.g. "(a b) OR c" or "a (b OR c)")'
    )
    assert (err.position, err.hint) == (4, 'add parentheses, e.g. "(a b) OR c" or "a (b OR c)"')
    assert "\n" not in str(err)


# (query, expected position, fragment of the message)
ERRORS: list[tuple[str, str, int | None, str]] = [
    ("empty", "", None, "empty"),
    ("blank", "   ", None, "empty"),
    ("mixed-implicit", "a b OR c", 4, "mixed"),
    ("mixed-implicit-after-or", "a OR b c", 7, "mixed"),
    ("mixed-explicit", "a AND b OR c", 8, "AND and OR are mixed"),
    ("mixed-in-group", "x (a OR b AND c)", 10, "mixed"),
    ("unclosed-paren", "(a OR b", 0, "unclosed '('"),
    ("stray-paren", "a OR b)", 6, "unbalanced ')'"),
    ("empty-parens", "a ()", 2, "empty parentheses"),
    ("unterminated-phrase", 'a "an ninh', 2, "unterminated phrase"),
    ("empty-phrase", 'a ""', 2, "no letters or digits"),
    ("punctuation-term", "a !!!", 2, "no letters or digits"),
    ("phrase-spans-comma", '"Hải Phòng, Việt Nam"', 0, "sentence punctuation"),
    ("phrase-spans-period", '"TP.HCM. Hôm nay"', 0, "sentence punctuation"),
    ("phrase-spans-lower-x", '"x. y"', 0, "sentence punctuation"),
    ("or-at-end", "a OR", 2, "OR needs a term"),
    ("or-at-start", "OR a", 0, "unexpected OR"),
    ("double-or", "a OR OR b", 2, "OR needs a term"),
    ("and-at-end", "a AND", 2, "AND needs a term"),
    ("not-at-end", "a NOT", 2, "NOT needs a term"),
    ("dangling-minus", "a -", 2, "must be followed directly"),
    ("minus-space", "a - b", 2, "must be followed directly"),
    ("tilde-space", "~ a", 0, "must be followed directly"),
    ("field-space", "title: a", 5, "must be followed directly"),
    ("unknown-field", "a titel:b", 2, "unknown field 'titel'"),
    ("at-without-slug", "a @", 2, "topic slug"),
    ("unknown-ref", "@nope", 0, "unknown topic @nope"),
    ("cycle", "@loop1", 0, "circular reference"),
    ("self-cycle", "@self", 0, "circular reference @self → @self"),
    ("broken-ref", "x @broken", 2, "in @broken at character 8"),
    ("only-negative", "-a", None, "no positive term"),
    ("only-negatives", "-a NOT b", None, "no positive term"),
    ("or-negative", "a OR -b", None, "no positive term"),
    ("negative-ref", "@neg", None, "no positive term"),
    ("wildcard", "an*", 0, "wildcards"),
    ("regex", "/an.*ninh/", 0, "wildcards"),
    ("regex-slashes", "/ninh/", 0, "regular expressions"),
    ("closing-quote-alone", "a ”", 2, "closing quote"),
    ("too-long", "a " * (MAX_QUERY_CHARS // 2 + 1), None, "too long"),
    ("too-many-terms", " ".join(f"w{i}" for i in range(MAX_TERMS + 1)), None, "more than"),
    ("too-deep", "(" * (MAX_NESTING + 2) + "a" + ")" * (MAX_NESTING + 2), None, "nested"),
]


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [pytest.param(q, p, f, id=i) for i, q, p, f in ERRORS],
)
def test_error(query: str, position: int | None, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(query, TOPICS.get)
    err = info.value
    assert fragment in err.message
    if position is not None or fragment not in ("more than", "nested"):
        assert err.position == position
    if err.position is not None:
        assert str(err).startswith(f"at character {err.position + 1}: ")


def test_unknown_field_lists_valid_fields() -> None:
    with pytest.raises(QueryError) as info:
        parse_query("tieude:x")
    assert "title, body, tag, section, author" in info.value.message


def test_mixing_error_has_parentheses_hint() -> None:
    with pytest.raises(QueryError) as info:
        parse_query("a b OR c")
    assert info.value.hint is not None and "parentheses" in info.value.hint


def test_ref_without_resolver_is_unknown() -> None:
    with pytest.raises(QueryError, match="unknown topic @a"):
        parse_query("@a")


def test_too_many_terms_points_at_the_extra_term() -> None:
    words = [f"w{i}" for i in range(MAX_TERMS + 1)]
    text = " ".join(words)
    with pytest.raises(QueryError) as info:
        parse_query(text)
    assert info.value.position == text.index(words[-1])


def test_limits_are_inclusive() -> None:
    parse_query(" ".join(f"w{i}" for i in range(MAX_TERMS)))
    parse_query("(" * MAX_NESTING + "a" + ")" * MAX_NESTING)


def test_lowercase_operators_are_words() -> None:
    q = parse_query("an or not")
    assert [t.keys for t, _ in q.terms()] == [("an",), ("or",), ("not",)]


def test_colon_inside_number_is_not_a_field() -> None:
    q = parse_query("10:30")
    assert isinstance(q.root, Term) and q.root.keys == ("100", "300")


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ('"TP.HCM"', ("tp", "hcm")),
        ("TP.HCM", ("tp", "hcm")),
        ('"TP. Hải Phòng"', ("tp", "hai3", "phong2")),
        ('"Tp. Hải Phòng"', ("tp", "hai3", "phong2")),
        ("Q.1", ("q", "10")),
        ('"Q. 1"', ("q", "10")),
        ('"Th.S. Nguyễn"', ("th", "s", "nguyên4")),
        ('"PGS.TS. Lê"', ("pgs", "ts", "lê")),
        ('"GS.TSKH. Lê"', ("gs", "tskh", "lê")),
        ('"NSƯT. Lê"', ("nsưt", "lê")),
    ],
)
def test_abbreviation_dots_are_accepted_as_one_phrase(query: str, keys: tuple[str, ...]) -> None:
    """#13 §4: these used to be rejected as spanning sentence punctuation ("could never match")."""
    [term] = [t for t, _ in parse_query(query).terms()]
    assert term.keys == keys


#: Every kind of Unicode whitespace a pasted query may carry between words: NBSP, the line and
#: paragraph separators, NEL, vertical tab, form feed, information separators, ideographic space.
PASTED_SPACES = [
    "\xa0",
    "\u2028",
    "\u2029",
    "\x85",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1f",
    "\u3000",
    "\u2009",
]


@pytest.mark.parametrize("space", PASTED_SPACES)
def test_any_whitespace_between_bare_words_separates_them(space: str) -> None:
    """A bare word ends at any whitespace, as the gaps between tokens always did: before, a word
    ran on through NBSP (silently a phrase) or U+2028 (refused: "spans sentence punctuation")."""
    assert parse_query(f"Kiến{space}Thụy").root == parse_query("Kiến Thụy").root
    assert parse_query(f"(an{space}ninh){space}OR{space}cháy").root == (
        parse_query("(an ninh) OR cháy").root
    )
    assert parse_query(f"title:Kiến{space}-Thụy").root == parse_query("title:Kiến -Thụy").root


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("@rt", {"rt"}),
        ("@rt-1", {"rt-1"}),  # not rt: a substring test said so (tester F3)
        ('"email @rt là"', set()),  # a phrase: text, no reference
        ("“email @rt là”", set()),
        ("a@rt b", set()),  # '@' inside a word
        ("(x OR @rt) -@b title:@c ~@d NOT @e", {"rt", "b", "c", "d", "e"}),
        ("@a @a @b", {"a", "b"}),
        ("@RT", {"RT"}),  # as written: slugs are lower case, so it names no topic rt
        ('"unterminated @rt', set()),  # no query: names nothing
        ("", set()),
    ],
)
def test_references_are_the_lexers_ref_tokens(text: str, refs: set[str]) -> None:
    from feedsvc.matching import references

    assert references(text) == refs
