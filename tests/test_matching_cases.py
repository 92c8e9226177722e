"""Table-driven cases for every matching rule of SPEC §4 (query, article fields, expected).

Each row names the rule it pins.  Sentences are written for these tests.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from feedsvc.matching import (
    Document,
    TopicMatcher,
    document_from_text,
    explain,
    match_document,
    parse_query,
)


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


def D(title: str = "", body: str = "", **kw: Any) -> dict[str, Any]:
    return {"title": title, "body_html": body, **kw}


REFS = {
    "kt": '"Kiến Thụy" OR "Núi Đối" OR "Đoàn Xá"',
    "an": '"an ninh" OR "công an"',
    "spam": '"quảng cáo" OR "tài trợ"',
}

CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    # --- Unicode normal forms -----------------------------------------------------------------
    ("nfd-text", '"Kiến Thụy"', D(nfd("Lễ hội ở Kiến Thụy")), True),
    ("nfd-query", nfd('"Kiến Thụy"'), D("Lễ hội ở Kiến Thụy"), True),
    ("mixed-forms", '"Kiến Thụy"', D("Kiê\u0301n Thu\u0323y mùa lúa chín"), True),
    ("nfd-body-html", "trường", D("", nfd("<p>Học sinh trường làng</p>")), True),
    # --- tone-mark placement, in text and in query --------------------------------------------
    ("hoa-old-query-new-text", "hòa", D("Hoà Bình ký kết"), True),
    ("hoa-new-query-old-text", "hoà", D("Hòa giải ở cơ sở"), True),
    ("thuy-old-new", "thủy", D("Thuỷ lợi nội đồng"), True),
    ("thuy-new-old", '"Thuỵ Hương"', D("Xã Thụy Hương đón bằng"), True),
    ("khoe-old-new", "khỏe", D("Giữ gìn sức khoẻ mùa đông"), True),
    ("khoe-new-old", "khoẻ", D("Sức khỏe người cao tuổi"), True),
    ("misplaced-qui-query", "qúy", D("Quý khách chú ý"), True),
    ("misplaced-qui-text", "quý", D("Báo cáo qúy ba"), True),
    ("misplaced-uy-nfd", '"Kiến Thuỵ"', D(nfd("Kiến Thuỵ")), True),
    # --- case -----------------------------------------------------------------------------------
    ("upper-text", '"kiến thụy"', D("KIẾN THỤY: NGÀY HỘI"), True),
    ("upper-query", "NGƯ", D("Ngư dân ra khơi"), True),
    ("title-case-d", "đoàn", D("Đoàn thanh niên"), True),
    # --- đ and look-alikes ----------------------------------------------------------------------
    ("eth-upper-text", '"Đoàn Xá"', D("Xã Ðoàn Xá làm đường"), True),
    ("eth-lower-text", "đường", D("Làm ðường liên thôn"), True),
    ("eth-in-query", "Ðoàn", D("Đoàn công tác về xã"), True),
    ("d-is-not-dd", "đi", D("Di dời hộ dân"), False),
    ("dd-is-not-d", "di", D("Đi học đúng giờ"), False),
    ("folded-d-dd", "~di", D("Đi học đúng giờ"), True),
    # --- exact vs folded: the known traps -------------------------------------------------------
    ("cong-anh-exact", '"công an"', D("Ông Công Anh nhận giải"), False),
    ("cong-anh-folded", '~"công an"', D("Ông Công Anh nhận giải"), False),
    ("van-ninh-exact", '"an ninh"', D("Du lịch Vạn Ninh hè này"), False),
    ("van-ninh-folded", '~"an ninh"', D("Du lịch Vạn Ninh hè này"), False),
    ("an-ninh-real", '"an ninh"', D("Giữ vững an ninh nông thôn"), True),
    ("an-vs-an-acute", "án", D("Dự an toàn"), False),
    ("an-acute-vs-an", "an", D("Tòa tuyên án"), False),
    ("an-acute-folded", "~án", D("Dự an toàn"), True),
    ("hoa-acute-vs-grave", "hóa", D("Hòa giải thành"), False),
    ("hoa-acute-folded", "~hóa", D("Hòa giải thành"), True),
    ("thuy-hook-vs-dot", "Thủy", D("Kiến Thụy"), False),
    ("thuy-dot-vs-hook", '"Kiến Thụy"', D("Kiến Thủy"), False),
    ("thuy-folded", "~Thủy", D("Kiến Thụy"), True),
    ("folded-phrase-accented", '~"kien thuy"', D("Về Kiến Thụy"), True),
    ("folded-phrase-plain", '~"kien thuy"', D("Ve Kien Thuy"), True),
    ("exact-phrase-plain", '"kien thuy"', D("Về Kiến Thụy"), False),
    # --- whole syllables ------------------------------------------------------------------------
    ("an-in-van", "an", D("Vạn Ninh"), False),
    ("an-in-anh", "an", D("Anh em"), False),
    ("5a-one-syllable", "5a", D("Lớp 5a đạt giải"), True),
    ("5-not-in-5a", "5", D("Lớp 5a đạt giải"), False),
    ("covid-two-syllables", "covid", D("Phòng chống covid-19"), True),
    ("covid-19-query", "covid-19", D("Phòng chống Covid 19"), True),
    ("covid-phrase", '"covid 19"', D("Phòng chống COVID-19"), True),
    ("number-formatting", '"1.000 đồng"', D("Giá 1.000 đồng"), True),
    # --- phrase order and adjacency -------------------------------------------------------------
    ("phrase-order", '"ninh an"', D("Giữ an ninh"), False),
    ("phrase-adjacent", '"an ninh"', D("Đảm bảo an toàn và ninh"), False),
    ("words-any-order", "ninh an", D("Giữ an ninh"), True),
    ("words-any-position", "ninh giữ", D("Giữ vững an ninh"), True),
    ("dash-is-separator", '"Kiến Thụy Hải"', D("Kiến Thụy – Hải Phòng"), True),
    # --- sentence boundaries --------------------------------------------------------------------
    ("period", '"an ninh"', D("Đảm bảo trị an. Ninh Bình"), False),
    ("comma", '"an ninh"', D("Dân an, ninh"), False),
    ("semicolon", '"an ninh"', D("Dân an; ninh"), False),
    ("colon", '"an ninh"', D("Dân an: ninh"), False),
    ("question", '"an ninh"', D("Dân an? Ninh"), False),
    ("ellipsis", '"an ninh"', D("Dân an… Ninh"), False),
    ("parenthesis", '"Kiến Thụy Hải"', D("Kiến Thụy (Hải Phòng)"), False),
    ("quote-not-break", '"xã Đoàn Xá"', D('Về xã "Đoàn Xá" mới'), True),
    # --- abbreviation dots (#13 §4): not sentence ends; typed with or without the dot ---------
    ("abbr-tphcm-query-dotted", '"TP.HCM"', D("Công an TP.HCM bắt giữ"), True),
    ("abbr-tphcm-term-dotted", "TP.HCM", D("Về TP.HCM dự hội"), True),
    ("abbr-tphcm-dotted-finds-spaced", '"TP.HCM"', D("Công an TP HCM"), True),
    ("abbr-tphcm-spaced-finds-dotted", '"TP HCM"', D("Công an TP.HCM bắt giữ"), True),
    ("abbr-tphcm-spaced-finds-dot-space", '"TP HCM"', D("Công an TP. HCM"), True),
    ("abbr-tphcm-in-phrase", '"công an TP.HCM"', D("Công an Tp.HCM bắt giữ"), True),
    ("abbr-tphcm-sentence-end", '"TP.HCM hôm"', D("Về TP.HCM. Hôm nay mưa"), False),
    ("abbr-tp-dot-space", '"TP. Hải Phòng"', D("UBND TP. Hải Phòng họp"), True),
    ("abbr-tp-dot-space-plain-query", '"TP Hải Phòng"', D("UBND TP. Hải Phòng họp"), True),
    ("abbr-tp-lower-case", '"Tp. Hải Phòng"', D("UBND TP.Hải Phòng họp"), True),
    ("abbr-tp-nbsp", '"TP. Hải Phòng"', D("UBND TP.\u00a0Hải Phòng"), True),
    ("abbr-tp-nfd", '"TP. Hải Phòng"', D(nfd("Về TP. Hải Phòng")), True),
    ("abbr-tp-html", '"TP. Hải Phòng"', D("", "<p>Tại <b>TP.</b> Hải Phòng</p>"), True),
    ("abbr-tp-block-break", '"TP Hải Phòng"', D("", "<p>Về TP.</p><p>Hải Phòng</p>"), False),
    ("abbr-tp-folded", '~"tp ho chi minh"', D("Người dân TP. Hồ Chí Minh"), True),
    ("abbr-q1", '"Q.1"', D("Phường Bến Nghé, Q.1"), True),
    ("abbr-q-dot-space", '"Q. 1"', D("Phường Bến Nghé, Q.1"), True),
    ("abbr-q1-not-q10", '"Q.1"', D("Phường 5, Q.10"), False),
    ("abbr-q-with-name", '"P. Lê Chân"', D("Trụ sở Q. Lê Chân và P. Lê Chân"), True),
    ("abbr-ths", '"Th.S Nguyễn"', D("Th.S. Nguyễn Văn An cho biết"), True),
    ("abbr-pgs-ts", '"PGS.TS Lê"', D("PGS.TS. Lê Văn Bình cho biết"), True),
    ("abbr-pgs-ts-spaced", '"PGS. TS. Lê"', D("Theo PGS.TS Lê Văn Bình"), True),
    ("abbr-single-lower-ends", '"x y"', D("Chọn x. Y là số"), False),
    ("abbr-unknown-ends", '"Nội mưa"', D("Về Hà Nội. Mưa to"), False),
    ("abbr-dot-then-comma-ends", '"TP Hải"', D("Ở TP., Hải Phòng"), False),
    # --- HTML: blocks, tags, attributes, entities -----------------------------------------------
    ("block-p", '"an ninh"', D("", "<p>trị an</p><p>ninh</p>"), False),
    ("block-li", '"an ninh"', D("", "<ul><li>an</li><li>ninh</li></ul>"), False),
    ("block-br", '"an ninh"', D("", "an<br>ninh"), False),
    ("block-div", '"an ninh"', D("", "<div>an</div>ninh"), False),
    ("block-td", '"an ninh"', D("", "<table><tr><td>an</td><td>ninh</td></tr></table>"), False),
    ("block-heading", '"an ninh"', D("", "<h2>Bảo đảm an</h2>ninh"), False),
    ("inline-tags", '"an ninh"', D("", "<p>Giữ <b>an</b> <i>ninh</i></p>"), True),
    ("link-text", '"an ninh"', D("", '<p><a href="/x">an ninh</a> xã</p>'), True),
    ("attribute-alt", '"an ninh"', D("", '<p><img alt="an ninh" src="a.jpg"> Ảnh</p>'), False),
    ("attribute-title", "ninh", D("", '<a title="ninh" href="#">xem</a>'), False),
    ("tag-name", "strong", D("", "<strong>Tin</strong> nóng"), False),
    ("script", '"an ninh"', D("", '<script>var s="an ninh";</script><p>Tin</p>'), False),
    ("style", "ninh", D("", "<style>.ninh{color:red}</style><p>Tin</p>"), False),
    ("entity-numeric", '"trật tự"', D("", "<p>Tr&#7853;t t&#7921; đô thị</p>"), True),
    ("entity-named", '"an ninh"', D("", "<p>&quot;an ninh&quot; &amp; trật tự</p>"), True),
    ("entity-nbsp", '"an ninh"', D("", "<p>an&nbsp;ninh</p>"), True),
    ("entity-in-title", '"trật tự"', D("An ninh &amp; trật tự"), True),
    # --- invisible characters and spaces --------------------------------------------------------
    ("soft-hyphen", '"Kiến Thụy"', D("Kiế\u00adn Thụy"), True),
    ("soft-hyphen-entity", '"Kiến Thụy"', D("", "<p>Kiế&shy;n Thụy</p>"), True),
    ("zero-width-space", '"Kiến Thụy"', D("Kiến Thu\u200bỵ"), True),
    ("zero-width-joiner", "thụy", D("Thụ\u200dy"), True),
    ("bom", "kiến", D("\ufeffKiến"), True),
    ("nbsp-char", '"an ninh"', D("Giữ an\u00a0ninh"), True),
    ("narrow-nbsp", '"an ninh"', D("Giữ an\u202fninh"), True),
    ("zwsp-in-query", "Thu\u200bỵ", D("Kiến Thụy"), True),
    # --- tag / title separators, tag and field boundaries ---------------------------------------
    ("tag-hyphen-separator", 'tag:"ninh trật"', D("Tin", tags=["An ninh - Trật tự"]), True),
    ("tag-slash-separator", 'tag:"ninh trật"', D("Tin", tags=["An ninh/Trật tự"]), True),
    ("title-slash-separator", '"ninh trật"', D("An ninh/Trật tự"), True),
    ("two-tags", 'tag:"an ninh"', D("Tin", tags=["Trị an", "Ninh Giang"]), False),
    ("title-body-boundary", '"an ninh"', D("Công an", "<p>ninh giữ</p>"), False),
    ("summary-body-boundary", '"an ninh"', D("Tin", "<p>ninh</p>", summary="Trị an"), False),
    # --- fields ---------------------------------------------------------------------------------
    ("title-field-hit", 'title:"Kiến Thụy"', D("Tin Kiến Thụy", "<p>Khác</p>"), True),
    ("title-field-miss", 'title:"Kiến Thụy"', D("Tin", "<p>Kiến Thụy</p>"), False),
    ("body-field-hit", "body:đường", D("Tin", "<p>Làm đường</p>"), True),
    ("body-field-miss", "body:đường", D("Làm đường", "<p>Tin</p>"), False),
    ("body-includes-summary", "body:đường", D("Tin", summary="Làm đường"), True),
    ("default-includes-summary", "đường", D("Tin", summary="Làm <b>đường</b>"), True),
    ("tag-field", 'tag:"hình sự"', D("Tin", tags=["Hình sự"]), True),
    ("default-excludes-tag", '"hình sự"', D("Tin", tags=["Hình sự"]), False),
    ("section-field", 'section:"pháp luật"', D("Tin", section="Pháp luật"), True),
    ("author-field", "author:Minh", D("Tin", author="Trần Minh"), True),
    ("default-excludes-author", "Minh", D("Tin", author="Trần Minh"), False),
    ("field-group", "title:(cháy OR nổ)", D("Nổ lớn", "<p>cháy</p>"), True),
    ("field-folded", 'title:~"kien thuy"', D("Kiến Thụy"), True),
    ("inner-field-wins", "title:(body:đường)", D("Tin", "<p>đường</p>"), True),
    # --- AND / OR / NOT / groups ----------------------------------------------------------------
    ("and-explicit", "cháy AND nổ", D("Cháy nhà", "<p>không nổ</p>"), True),
    ("and-missing", "cháy AND nổ", D("Cháy nhà"), False),
    ("or-first", '"công an" OR "an ninh"', D("Công an xã"), True),
    ("or-second", '"công an" OR "an ninh"', D("Giữ an ninh"), True),
    ("or-none", '"công an" OR "an ninh"', D("Công Anh"), False),
    ("or-group-and", '(cháy OR nổ) "Kiến Thụy"', D("Cháy ở Kiến Thụy"), True),
    ("or-group-and-miss", '(cháy OR nổ) "Kiến Thụy"', D("Cháy ở Đồ Sơn"), False),
    ("minus-absent", '"công an" -"quảng cáo"', D("Công an xã"), True),
    ("minus-present", '"công an" -"quảng cáo"', D("Công an xã", "<p>Quảng cáo</p>"), False),
    ("not-word", "cháy NOT diễn", D("Cháy nhà"), True),
    ("not-word-present", "cháy NOT diễn", D("Diễn tập cháy"), False),
    ("not-group", "cháy -(diễn OR tập)", D("Tập huấn cháy"), False),
    ("double-not", "cháy NOT -nổ", D("Cháy, nổ"), True),
    ("lowercase-or-is-word", "cháy or", D("Cháy"), False),
    # --- @references ----------------------------------------------------------------------------
    ("ref-and", "@kt @an", D("Công an Kiến Thụy"), True),
    ("ref-and-miss", "@kt @an", D("Công an Đồ Sơn"), False),
    ("ref-negated", "@an -@spam", D("Công an", "<p>Tài trợ</p>"), False),
    ("ref-in-field", "title:@kt", D("Tin", "<p>Núi Đối</p>"), False),
    ("ref-folded", "~@kt", D("Doan Xa mua lua"), True),
]


@pytest.mark.parametrize(
    ("query", "fields", "expected"),
    [pytest.param(q, f, e, id=i) for i, q, f, e in CASES],
)
def test_case(query: str, fields: dict[str, Any], expected: bool) -> None:
    doc = document_from_text(**fields)
    q = parse_query(query, REFS.get)
    assert match_document(q, doc) is expected


@pytest.mark.parametrize(
    ("query", "fields", "expected"),
    [pytest.param(q, f, e, id=i) for i, q, f, e in CASES],
)
def test_case_many_topic_matcher_agrees(query: str, fields: dict[str, Any], expected: bool) -> None:
    """The compiled many-topic path must give exactly the single-query answer."""
    matcher = TopicMatcher.build({"t": query}, refs=REFS)
    assert not matcher.errors
    doc: Document = document_from_text(**fields)
    assert ("t" in matcher.match(doc)) is expected


def test_enough_cases() -> None:
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)


def test_explain_reports_terms_fields_and_escaped_snippets() -> None:
    q = parse_query('"Kiến Thụy"')
    doc = document_from_text(
        "Tin <vắn> & nhanh", "<p>Mở đầu &lt;x&gt;, lễ hội ở Kiến Thuỵ năm nay rất đông.</p>"
    )
    result = explain(q, doc)
    assert result is not None
    assert [(h.term, h.field) for h in result.hits] == [('"Kiến Thụy"', "body")]
    hit = result.hits[0]
    assert hit.snippet_text == "Mở đầu <x>, lễ hội ở [[Kiến Thuỵ]] năm nay rất đông."
    assert hit.snippet_html == "Mở đầu &lt;x&gt;, lễ hội ở <mark>Kiến Thuỵ</mark> năm nay rất đông."
    assert result.to_json() == {
        "hits": [
            {
                "term": '"Kiến Thụy"',
                "field": "body",
                "snippet_html": hit.snippet_html,
                "snippet_text": hit.snippet_text,
            }
        ]
    }


def test_explain_none_without_match_and_skips_negative_terms() -> None:
    q = parse_query("cháy -nổ")
    assert explain(q, document_from_text("Cháy và nổ")) is None
    result = explain(q, document_from_text("Cháy nhà", tags=["Cháy"]))
    assert result is not None
    assert [(h.term, h.field) for h in result.hits] == [("cháy", "title")]


def test_explain_long_text_is_trimmed_around_the_match() -> None:
    filler = " ".join(["chữ"] * 60)
    doc = document_from_text("Tin", f"<p>{filler} Núi Đối {filler}</p>")
    result = explain(parse_query('"Núi Đối"'), doc)
    assert result is not None
    text = result.hits[0].snippet_text
    assert text.startswith("…") and text.endswith("…") and "[[Núi Đối]]" in text
    assert len(text) < 160


def test_explain_highlights_nfd_and_soft_hyphen_text() -> None:
    doc = document_from_text(nfd("Về Kiế\u00adn Thụy"))
    result = explain(parse_query('"kiến thụy"'), doc)
    assert result is not None
    assert result.hits[0].snippet_text == "Về [[Kiến Thụy]]"


def test_explain_highlights_across_abbreviation_dots() -> None:
    """The highlighted span covers the text as written, dots included (#13 §4)."""
    doc = document_from_text("Tin", "<p>Sáng nay, UBND TP. Hải Phòng và Công an Tp.HCM họp.</p>")
    result = explain(parse_query('"TP Hải Phòng" "TP HCM"'), doc)
    assert result is not None
    assert [h.snippet_text.split("[[")[1].split("]]")[0] for h in result.hits] == [
        "TP. Hải Phòng",
        "Tp.HCM",
    ]
