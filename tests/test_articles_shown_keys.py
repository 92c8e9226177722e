"""A key as the CLI prints it names that key when typed back; a legacy key is found by its text.

Keys stored before bidi controls were refused (``K`` U+202E ``1gnp.exe``) were printed
``K\\u202e1gnp.exe``, exactly as a key holding those six characters was: pasted back into
``articles hide … --pending`` the escape recorded a hide of another, literal key. The CLI's one
rule (:func:`feedsvc.cli.common.cell`, :func:`feedsvc.logs.escape_controls`) now doubles a
backslash that would read as an escape, and the commands taking a key read the printed form
back (:data:`feedsvc.cli.params.SHOWN`). ``articles find``, ``GET /api/articles?q=`` and the
admin's search refused a legacy key's exact text (a control character); they find it now. And
``articles hide``/``unhide`` answer with their own lines only: no INFO log line on stderr.

The bidi control in a legacy key, and the key an unknown-article message names or a pending
hide records, are each given one state DB backend, rotating (``backend_cases.on_backends``):
such characters are plain text to both backends (no case to fold, nothing LIKE treats
specially), and the printing and reading back are the CLI's. Keys holding backslashes that are
looked up as typed keep both backends: ``find`` puts the typed text into ``ILIKE … ESCAPE``,
whose handling differs by backend.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from backend_cases import on_backends
from click.testing import CliRunner
from factories import article
from sqlalchemy import select, update
from test_lifecycle_editors import AUTH, CSRF_FIELD, TOKEN, make_service

from feedsvc.app import Service, create_app
from feedsvc.bidi import BIDI_CONTROL_RANGES
from feedsvc.cli import cli
from feedsvc.db.schema import articles, pending_hides
from feedsvc.logs import escape_controls
from feedsvc.store.lifecycle import editor_state
from feedsvc.store.source_articles import upsert_source_articles

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

BIDI = [chr(c) for first, last in BIDI_CONTROL_RANGES for c in range(first, last + 1)]


def shown_char(char: str) -> str:
    return f"U+{ord(char):04X}"


# each bidi control on one backend, rotating (this module's docstring); ``start`` varies which
BIDI_ON_BACKENDS = [on_backends(BIDI, start=s, label=shown_char) for s in (0, 1)]
TITLE = "Lừa đảo qua tệp 1gnp"


@pytest.fixture
def service(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    """Two ingested articles, TEST-00001 and TEST-00002, titled alike."""
    service = make_service(db_url, monkeypatch, (TITLE, TITLE))
    yield service
    service.close()


def rekey(service: Service, n: int, key: str) -> int:
    """Article TEST-0000n given ``key`` as import and ingest stored such keys before they
    refused them; its id."""
    with service.db.write() as conn:
        old = f"TEST-{n:05d}"
        conn.execute(update(articles).where(articles.c.source_key == old).values(source_key=key))
        return int(conn.execute(select(articles.c.id).where(articles.c.source_key == key)).one()[0])


def run(service: Service, *args: str) -> Any:
    env = {"FEEDSVC_DATABASE__URL": service.db.url, "FEEDSVC_CONFIG": "/dev/null"}
    return CliRunner().invoke(cli, ["articles", *args], env=env)


def hidden_ids(service: Service) -> set[int]:
    with service.db.read() as conn:
        return set(
            conn.execute(select(articles.c.id).where(articles.c.hidden_at.is_not(None))).scalars()
        )


def pending_keys(service: Service) -> list[str]:
    with service.db.read() as conn:
        return list(conn.execute(select(pending_hides.c.source_key)).scalars())


def keys_printed(output: str) -> list[str]:
    return [line.split("\t")[0] for line in output.splitlines()]


def escape_of(char: str) -> str:
    """The six characters ``\\u202e`` naming ``char``."""
    return f"\\u{ord(char):04x}"


# -- 1. what is printed names one key, and typed back names that key -------------------------


@pytest.mark.parametrize(("db_url", "char"), BIDI_ON_BACKENDS[0], indirect=["db_url"])
def test_a_bidi_key_and_its_escape_as_text_print_apart_and_each_is_hidden_by_its_line(
    service: Service, char: str
) -> None:
    bidi = rekey(service, 1, f"K{char}1gnp.exe")
    literal = rekey(service, 2, f"K{escape_of(char)}1gnp.exe")
    found = run(service, "find", "1gnp")
    assert found.exit_code == 0, found.output
    printed = keys_printed(found.stdout)
    assert printed == [f"K{escape_of(char)}1gnp.exe", f"K\\{escape_of(char)}1gnp.exe"]
    for shown, article_id in zip(printed, (bidi, literal), strict=True):
        done = run(service, "hide", shown, "--pending")
        assert done.exit_code == 0, done.output
        assert keys_printed(done.stdout) == [shown] and "\thidden\t" in done.stdout
        assert article_id in hidden_ids(service)
    assert hidden_ids(service) == {bidi, literal} and pending_keys(service) == []
    back = run(service, "unhide", printed[0])  # the other stays hidden
    assert back.exit_code == 0 and "\tpublic\t" in back.stdout, back.output
    assert hidden_ids(service) == {literal}


@pytest.mark.parametrize(("db_url", "char"), BIDI_ON_BACKENDS[1], indirect=["db_url"])
def test_the_printed_form_of_a_legacy_key_with_pending_hides_that_key(
    service: Service, char: str
) -> None:
    """The verifier's case: no pending hide of the literal ``K\\u202e1gnp.exe`` recorded."""
    bidi = rekey(service, 1, f"K{char}1gnp.exe")
    shown = f"K{escape_of(char)}1gnp.exe"
    done = run(service, "hide", shown, "--pending")
    assert done.exit_code == 0, done.output
    assert hidden_ids(service) == {bidi} and pending_keys(service) == []
    assert run(service, "unhide", shown).exit_code == 0
    assert hidden_ids(service) == set() and pending_keys(service) == []


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("K\\u202e1gnp.exe", "K\\\\u202e1gnp.exe"),
        ("K\\U0000202e", "K\\\\U0000202e"),  # \U0000202e reads as U+202E: doubled
        ("C:\\new\\x41\\tmp", "C:\\\\new\\x41\\\\tmp"),  # \x41 names no escaped character
        ("a\\u0041", "a\\u0041"),  # typed from the CMS as it is: never read as "aA"
        ("S\\ud800", "S\\\\ud800"),  # an escape of a lone surrogate: doubled
        ("W\\x7e\\u00e9\\u1ec7", "W\\x7e\\\\u00e9\\\\u1ec7"),  # \u00e9 reads as é: doubled
        ("x\\\\y", "x\\\\\\y"),
        ("a\\b", "a\\b"),  # a backslash that starts no escape
        ("end\\", "end\\"),
        ("K\\u202E-upper", "K\\\\u202E-upper"),
    ],
)
def test_a_key_holding_backslashes_prints_unambiguously_and_round_trips(
    service: Service, key: str, shown: str
) -> None:
    article_id = rekey(service, 1, key)
    found = run(service, "find", shown)
    assert found.exit_code == 0, found.output
    assert keys_printed(found.stdout) == [shown]
    done = run(service, "hide", shown)
    assert done.exit_code == 0, done.output
    assert keys_printed(done.stdout) == [shown] and hidden_ids(service) == {article_id}


@pytest.mark.parametrize(
    ("db_url", "typed", "recorded"),
    on_backends(
        [
            ("N\\\\u202e", "N\\u202e"),  # as printed: the six characters, one backslash
            ("W\\\\x07", "W\\x07"),
            ("P\\\\\\", "P\\\\"),  # the first doubled: a backslash follows it
            ("Q\\u0041", "Q\\u0041"),  # an escape of no escaped character: the six characters
            ("V\\x41\\\\u1ec7", "V\\x41\\u1ec7"),  # \u1ec7 is ệ: doubled, as printed
        ],
        label=ascii,
    ),
    indirect=["db_url"],
)
def test_a_pending_hide_records_the_key_its_line_shows(
    service: Service, typed: str, recorded: str
) -> None:
    done = run(service, "hide", typed, "--pending")
    assert done.exit_code == 0, done.output
    assert keys_printed(done.stdout) == [typed] and pending_keys(service) == [recorded]
    gone = run(service, "unhide", typed)
    assert gone.exit_code == 0 and pending_keys(service) == [], gone.output


@pytest.mark.parametrize("char", ["\u202e", "\u2066"])
def test_an_escape_of_a_bidi_key_not_stored_is_refused_not_recorded(
    service: Service, char: str
) -> None:
    done = run(service, "hide", f"Z{escape_of(char)}9", "--pending")
    assert done.exit_code == 2 and "control character" in done.stderr, done.output
    assert pending_keys(service) == []


NO_KEY_HOLDS = [
    ("C:\\new", "U+000A"),
    ("T\\tab", "U+0009"),
    ("a\\x00b", "U+0000"),
    ("a\\x1b[31m", "U+001B"),
    ("a\\u2028", "U+2028"),
]


# each typed key on both backends (stored with its backslashes and hidden as printed), with
# --pending on one and without on the other, rotating: the usage error is the CLI's, before SQL
@pytest.mark.parametrize(
    ("db_url", "typed", "char", "pending"),
    [
        case
        for i, (typed, char) in enumerate(NO_KEY_HOLDS)
        for case in on_backends(
            [(typed, char, True), (typed, char, False)],
            start=i,
            label=lambda v: ("pending" if v else "now") if isinstance(v, bool) else ascii(v),
        )
    ],
    indirect=["db_url"],
)
def test_an_escape_of_a_character_no_key_holds_is_a_usage_error(
    service: Service, typed: str, char: str, pending: bool
) -> None:
    """A Windows-like key typed raw (``C:\\new``) is not taken for another key: the usage
    error says how its backslash is typed, and nothing is recorded."""
    rekey(service, 1, typed)  # stored as typed: still not what an escape names
    done = run(service, "hide", typed, *(["--pending"] if pending else []))
    assert done.exit_code == 2, done.output
    assert char in done.stderr and typed.replace("\\", "\\\\") in done.stderr, done.stderr
    assert pending_keys(service) == [] and hidden_ids(service) == set()
    printed = keys_printed(run(service, "find", "1gnp").stdout)
    assert printed == [typed.replace("\\", "\\\\"), "TEST-00002"]  # newest first
    assert run(service, "hide", printed[0]).exit_code == 0  # as printed: that key
    assert len(hidden_ids(service)) == 1 and pending_keys(service) == []


def test_the_escape_rule_is_its_own_inverse() -> None:
    from feedsvc.logs import escape_controls, unescape_controls  # new: old code lacks it

    texts = ["", "a\\", "\\\\", "\\n\n", "\\\u202e", "\\x0", "\\x07\x07", "\\u202", "\u2028\\"]
    texts += [f"{a}{b}{c}" for a in "\\\nux" for b in "\\0\u202eu" for c in "\\2\x85e"]
    for text in texts:
        assert unescape_controls(escape_controls(text, exact=True)) == text, repr(text)
    assert len({escape_controls(t, exact=True) for t in texts}) == len(set(texts))


@pytest.mark.parametrize(
    ("db_url", "key"),
    on_backends(
        [
            "CMS-\u200e42",
            "CMS-\xa042",
            "CMS-\xad42",
            "CMS-\u200d42",
            "CMS-\U000e0041",
            "CMS-\\u200e42",
        ],
        label=ascii,
    ),
    indirect=["db_url"],
)
def test_the_key_an_unknown_article_message_names_is_the_key_typed_back(
    service: Service, key: str
) -> None:
    """A tester's: "unknown article 'CMS-\\u200e42'" (Python's repr of a key holding an LRM)
    pasted into ``hide … --pending`` recorded the 12-character literal key, and the article was
    published when it came. The message quotes the key as the CLI prints keys."""
    missed = run(service, "hide", escape_controls(key, exact=True))  # as the CLI prints it
    assert missed.exit_code == 1, missed.output
    quoted = re.search(r"unknown article '(.*)' \(", missed.stderr)
    assert quoted, missed.stderr
    done = run(service, "hide", quoted.group(1), "--pending")
    assert done.exit_code == 0, done.output
    assert pending_keys(service) == [key]


def test_the_admin_shows_two_keys_that_print_alike_apart(service: Service) -> None:
    """A key holding U+202E and one holding the six characters ``\\u202e`` looked the same in
    the admin's list, and its search box, showing the escape, searched for the other key."""
    bidi, literal = "K\u202e1gnp.exe", "K\\u202e1gnp.exe"
    rekey(service, 1, bidi)
    rekey(service, 2, literal)
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        csrf = CSRF_FIELD.search(client.get("/admin/login").text)
        assert csrf
        client.post("/admin/login", data={"token": TOKEN, "csrf": csrf.group(1)})
        page = client.get("/admin/articles?q=1gnp").text
        shown = re.findall(r'<code class="data key" translate="no">([^<]*)</code>', page)
        assert sorted(shown) == sorted(["K\\u202e1gnp.exe", "K\\\\u202e1gnp.exe"]), shown
        page = client.get(f"/admin/articles?q={quote(bidi, safe='')}").text
        assert f'<input id="q" name="q" value="{bidi}"' in page  # the search, sent again, is it
        shown = re.findall(r'<code class="data key" translate="no">([^<]*)</code>', page)
        assert shown == ["K\\u202e1gnp.exe"], shown


# -- 2. a legacy key is found by its exact text ----------------------------------------------


@pytest.mark.parametrize(("db_url", "char"), BIDI_ON_BACKENDS[1], indirect=["db_url"])
def test_find_finds_a_legacy_key_by_its_exact_text_everywhere(service: Service, char: str) -> None:
    key = f"K{char}1gnp.exe"
    article_id = rekey(service, 1, key)
    for typed in (key, f"K{escape_of(char)}1gnp.exe"):  # the text itself, or as printed
        found = run(service, "find", typed)
        assert found.exit_code == 0, found.output
        assert keys_printed(found.stdout) == [f"K{escape_of(char)}1gnp.exe"]
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        r = client.get(f"/api/articles?q={quote(key, safe='')}", headers=AUTH)
        assert r.status_code == 200, r.text
        assert [a["source_key"] for a in r.json()["articles"]] == [key]
        csrf = CSRF_FIELD.search(client.get("/admin/login").text)
        assert csrf
        client.post("/admin/login", data={"token": TOKEN, "csrf": csrf.group(1)})
        page = client.get(f"/admin/articles?q={quote(key, safe='')}")
        assert page.status_code == 200 and escape_of(char) in page.text, page.text
        assert f'<input type="hidden" name="q" value="{key}">' in page.text
        token = CSRF_FIELD.search(page.text)
        assert token
        # the row's form sends the key and the filter back exactly: the list, filtered as it
        # was, shows the article hidden
        done = client.post(
            "/admin/articles/hide", data={"key": key, "q": key, "csrf": token.group(1)}
        )
        assert done.status_code == 200 and "TEST-00002" not in done.text, done.text
    assert hidden_ids(service) == {article_id}


def test_a_search_with_another_control_character_is_still_refused(service: Service) -> None:
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        for q in ("K%07x", "K%E2%80%AEx%1B"):
            r = client.get(f"/api/articles?q={q}", headers=AUTH)
            assert (r.status_code, r.json()["code"]) == (422, "control_character"), r.text
    refused = run(service, "find", "K\x07x")
    assert refused.exit_code == 2 and "control character" in refused.stderr


# -- 4. hide and unhide answer with their own lines, no log line -----------------------------


def test_hide_and_unhide_print_their_answer_and_no_log_line(service: Service) -> None:
    said = []
    for args in (
        ("hide", "TEST-00001"),
        ("unhide", "TEST-00001"),
        ("hide", "EXT-9", "--pending"),
        ("unhide", "EXT-9"),
    ):
        done = run(service, *args)
        assert done.exit_code == 0, done.output
        assert all(line.startswith("feedsvc: ") for line in done.stderr.splitlines()), args
        said.append(done.stderr)
    assert said[:2] == ["", ""]
    assert said[3] == (
        "feedsvc: The hide of article EXT-9 (not ingested yet) is cancelled: it will be "
        "ingested as any other.\n"
    )


def test_an_unhide_that_releases_says_so_itself(service: Service) -> None:
    """Hidden before its time, unhidden after it: its own line, not the INFO log line."""
    now = service.db.now()
    with service.db.write() as conn:
        upsert_source_articles(
            conn, [article(5, title="hẹn giờ", published_at=now + timedelta(hours=1))], now
        )
    assert service.ingest_tick().error is None
    assert run(service, "hide", "TEST-00005").exit_code == 0
    with service.db.write() as conn:
        conn.execute(
            update(articles)
            .where(articles.c.source_key == "TEST-00005")
            .values(published_at=now - timedelta(minutes=30))
        )
    done = run(service, "unhide", "TEST-00005")
    assert done.exit_code == 0, done.output
    assert done.stderr == (
        "feedsvc: TEST-00005: public for the first time: its subscribers are alerted now, "
        "as at its time\n"
    )
    with service.db.read() as conn:
        held = editor_state(conn, "TEST-00005")
    assert held is not None and held.hidden_at is None
