"""Quote marks that are text inside a chat's query are not read as phrase marks
(``bot.typed``, the bots' normaliser and ``operations.recipients``).

* A quotation of another kind inside a phrase is part of the phrase: ``/sub "báo «Tuổi trẻ»
  hôm nay"`` was refused as a "nested quote" though the parser had always read it as one
  phrase; ``«báo "Tuổi trẻ" hôm nay»`` too, and its inner ``"`` must not end the phrase once
  the outer marks are written ``"``.
* A single quote that pairs with none is an apostrophe: ``/sub '90s``, ``nhạc '9x``,
  ``rock 'n roll`` were refused as a quote never closed.
* Single quotes inside a single-quoted phrase pair as brackets do: ``'rock 'n' roll'`` was
  refused as nested; it is the phrase "rock 'n' roll".

Quotes whose meaning cannot be read stay refused: a phrase never closed, a closing mark that
closes nothing open, quotes that cross."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fakebot import FakeBotAPI
from starlette.testclient import TestClient
from test_bot import USER, ask, subs_of
from test_field_limits import API, served

from feedsvc.app import Service
from feedsvc.bot import BotService, actions
from feedsvc.bot.typed import plain_quotes, quote_problem
from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.matching import document_from_text, match_document, parse_chat_query
from feedsvc.store import subscriptions as sub_store

__all__ = ["served"]  # the fixture, shared with test_field_limits

#: (typed, the query it is): a quotation inside a phrase is part of it; inner marks the
#: parser would read as phrase marks are written as spaces
INSIDE = [
    ('"báo «Tuổi trẻ» hôm nay"', '"báo «Tuổi trẻ» hôm nay"'),
    ('«báo "Tuổi trẻ" hôm nay»', '"báo Tuổi trẻ hôm nay"'),
    ('«tin "nóng" hôm nay»', '"tin nóng hôm nay"'),
    ("„xem 「phim」 mới“", '"xem 「phim」 mới"'),
    ("\"anh ấy nói 'chào' rồi\"", "\"anh ấy nói 'chào' rồi\""),
    ("'vụ «X» mới'", '"vụ «X» mới"'),
    ("「báo “Tuổi trẻ” hôm nay」", '"báo Tuổi trẻ hôm nay"'),
    ("«an „ninh“ x»", '"an ninh x"'),
    ("‹a ''b'' c›", '"a b c"'),
    ("「a「b」」", '"a「b」"'),
    ('"a «b "c" d» e"', '"a «b c d» e"'),  # a quotation inside one inside the phrase
    ("title:«công an „Hà Nội“» OR x", 'title:"công an Hà Nội" OR x'),
    # a quotation left open inside a phrase is text: the phrase closes at its own closer
    ('"báo «Tuổi trẻ hôm nay"', '"báo «Tuổi trẻ hôm nay"'),
    ('«báo "Tuổi trẻ hôm nay»', '"báo Tuổi trẻ hôm nay"'),
    ("'báo 「Tuổi trẻ hôm nay'", '"báo 「Tuổi trẻ hôm nay"'),
]

#: (typed, the query it is): a single quote that pairs with none is an apostrophe
APOSTROPHES = [
    ("'90s", "'90s"),
    ("nhạc '9x", "nhạc '9x"),
    ("'em", "'em"),
    ("rock 'n roll", "rock 'n roll"),
    ("’90s", "’90s"),
    ("‘90s", "‘90s"),
    ("'an ninh", "'an ninh"),
    ("nhạc '9x và 'em'", 'nhạc \'9x và "em"'),
    ("«nhạc '9x» OR '90s", "\"nhạc '9x\" OR '90s"),
    # single quotes inside a single-quoted phrase pair as brackets do
    ("'rock 'n' roll'", "\"rock 'n' roll\""),
    ("‘rock ‘n’ roll’", '"rock ‘n’ roll"'),
    ("'a 'b 'c' d' e'", "\"a 'b 'c' d' e\""),
    ("'rock 'n roll'", '\'rock "n roll"'),  # the first quote pairs with none
]


def only_term(query: str) -> tuple[str, ...]:
    """The syllable keys of the one term ``query`` parses to."""
    terms = [term for term, _positive in parse_chat_query(query).terms()]
    assert len(terms) == 1, (query, terms)
    return terms[0].keys


@pytest.mark.parametrize(("typed", "meant"), INSIDE + APOSTROPHES)
def test_what_a_chat_query_reads_as(typed: str, meant: str) -> None:
    assert quote_problem(typed) is None
    assert actions.normalise(typed) == meant
    assert actions.normalise(meant) == meant  # one spelling: read again, the same
    parse_chat_query(meant)


@pytest.mark.parametrize(
    "typed",
    [
        '"báo «Tuổi trẻ» hôm nay"', '«báo "Tuổi trẻ" hôm nay»', "„báo 「Tuổi trẻ」 hôm nay“",
        "'báo «Tuổi trẻ» hôm nay'", "「báo “Tuổi trẻ” hôm nay」", "«báo ‘Tuổi trẻ’ hôm nay»",
        '"báo «Tuổi trẻ hôm nay"', '«báo "Tuổi trẻ hôm nay»',
    ],
)  # fmt: skip
def test_the_phrase_matches_the_articles_it_names(typed: str) -> None:
    query = parse_chat_query(actions.normalise(typed))
    assert only_term(actions.normalise(typed)) == only_term('"báo Tuổi trẻ hôm nay"')
    for title in [
        'Báo "Tuổi trẻ" hôm nay đưa tin',
        "Báo «Tuổi Trẻ» hôm nay đưa tin",
        "báo Tuổi trẻ hôm nay",
        "Theo báo “Tuổi trẻ” hôm nay, giá vàng tăng",
    ]:
        assert match_document(query, document_from_text(title)), (typed, title)
    for title in ["Tuổi trẻ hôm nay báo tin", "Báo Tuổi trẻ cuối tuần", "Báo. Tuổi trẻ hôm nay"]:
        assert not match_document(query, document_from_text(title)), (typed, title)


@pytest.mark.parametrize(
    ("typed", "title", "other"),
    [
        ("rock 'n roll", "Rock 'n roll sống mãi", "Rock sống mãi"),
        ("'90s", "Nhạc thập niên ’90s trở lại", "Nhạc thập niên 90 trở lại"),
        ("nhạc '9x", "Nhạc '9x lên ngôi", "Nhạc 8x lên ngôi"),
        ("'rock 'n' roll'", "Rock 'n' roll sống mãi", "Roll 'n' rock sống mãi"),
        ("'rock 'n' roll'", "rock n roll", "rock and roll"),
    ],
)
def test_an_apostrophe_is_a_letter_of_the_query(typed: str, title: str, other: str) -> None:
    query = parse_chat_query(actions.normalise(typed))
    assert match_document(query, document_from_text(title))
    assert not match_document(query, document_from_text(other))


@pytest.mark.parametrize(
    ("typed", "code", "mark", "position"),
    [
        ("«an", "unclosed", "«", 0),
        ("「an ninh", "unclosed", "「", 0),
        ("an «ninh", "unclosed", "«", 3),
        ("」x", "stray", "」", 0),
        ("an ninh」", "stray", "」", 7),
        ('"an ninh»', "stray", "»", 8),  # a phrase closed with another kind's mark
        ("「an ninh』", "stray", "』", 8),
        ('"a «b" c»', "nested", "«", 3),  # « opens inside the phrase, closes after it
        ("«an „ninh» x“", "nested", "„", 4),
        ("「x «a „b» c“ d」", "nested", "„", 6),
    ],
)
def test_quotes_whose_meaning_cannot_be_read_stay_refused(
    typed: str, code: str, mark: str, position: int
) -> None:
    problem = quote_problem(typed)
    assert problem is not None
    assert (problem.code, problem.mark, problem.position) == (code, mark, position)
    assert plain_quotes(typed) == typed


@pytest.mark.parametrize("typed", ["»an ninh«", "”an ninh”", "«an ninh»", "'an ninh'"])
def test_phrases_read_before_are_still_phrases(typed: str) -> None:
    assert actions.normalise(typed) == '"an ninh"'


def queries(db: Database) -> list[str | None]:
    with db.read() as conn:
        return [s.query for s in sub_store.list_subscriptions(conn)]


def test_subs_add_and_the_api_take_them(served: tuple[TestClient, Service]) -> None:
    client, service = served
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    for n, typed in enumerate(['«báo "Tuổi trẻ" hôm nay»', "'rock 'n' roll'", "nhạc '9x"]):
        result = CliRunner().invoke(
            cli, ["subs", "add", str(1001 + n), "--type", "private", "--query", typed], env=env
        )
        assert result.exit_code == 0, result.output
    body = {"chat_id": 1010, "chat_type": "private", "query": '"báo «Tuổi trẻ» hôm nay"'}
    answer = client.post("/api/subscriptions", json=body, headers=API)
    assert answer.status_code == 201, answer.text
    body = {"chat_id": 1011, "chat_type": "private", "query": "'90s"}
    assert client.post("/api/subscriptions", json=body, headers=API).status_code == 201
    assert queries(service.db) == [
        '"báo Tuổi trẻ hôm nay"',
        "\"rock 'n' roll\"",
        "nhạc '9x",
        '"báo «Tuổi trẻ» hôm nay"',
        "'90s",
    ]


async def test_telegram_subscribes_them(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    reply = await ask(fake, USER, '/sub "báo «Tuổi trẻ» hôm nay"')
    assert reply.startswith("Đã đăng ký: truy vấn"), reply
    reply = await ask(fake, USER, '/sub «báo "Tuổi trẻ" hôm nay»')
    assert reply.startswith("Đã đăng ký rồi"), reply  # the same phrase
    assert (await ask(fake, USER, "/sub rock 'n roll")).startswith("Đã đăng ký: truy vấn")
    assert (await ask(fake, USER, "/sub 'rock 'n' roll'")).startswith("Đã đăng ký: truy vấn")
    assert subs_of(lite_db, USER) == [
        '"báo «Tuổi trẻ» hôm nay"',
        "rock 'n roll",
        "\"rock 'n' roll\"",
    ]
