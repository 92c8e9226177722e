"""English sentences with a count agree with it (a re-tester's: the admin's preview said "1 of
all 10 published articles match. 1 of them are within the backfill window"): a counted entry
is a ``.one``/``.other`` pair chosen by :meth:`feedsvc.catalogue.Translator.counted` (CLDR's
plural rules; Vietnamese has no plural forms, both entries say the same)."""

from __future__ import annotations

import re
import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_admin import served  # noqa: F401  (served: the fixture)

from feedsvc import preview_words
from feedsvc.catalogue import CATALOGUE, Translator
from feedsvc.digest.message import DigestWords
from feedsvc.preview import preview


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_counted_entry_has_both_forms_alike() -> None:
    for key in CATALOGUE:
        stem, _, form = key.rpartition(".")
        if form in ("one", "other"):
            other = CATALOGUE[f"{stem}.{'other' if form == 'one' else 'one'}"]
            assert _placeholders(CATALOGUE[key][1]) == _placeholders(other[1]), key
            assert CATALOGUE[key][0] == other[0], key  # Vietnamese: one form


#: English words that agree with a count just before them: "{count} articles", "{count} of
#: them are", "{count} of … match."
DISAGREES = re.compile(
    r"\{count\} (?:[a-z]+ )?[a-z]+s\b|\{count\} of them are|\{count\} of .* match\b"
)
#: counts never 1 where they stand ("the newest 3 of 5 articles": more than one shown;
#: ``reader.all_articles`` is used nowhere), and a sentence of two counts not yet split
#: (``cli.reconcile_refused_share``: "{count} rows …, more than half of the {held} articles")
NEVER_ONE = {"reader.shown_newest", "reader.all_articles", "cli.reconcile_refused_share"}


def test_no_single_form_sentence_puts_a_plural_after_its_count() -> None:
    found = [
        key for key, (_vi, en) in CATALOGUE.items()
        if not key.endswith((".one", ".other")) and key not in NEVER_ONE and DISAGREES.search(en)
    ]  # fmt: skip
    assert found == []


@pytest.mark.parametrize(
    ("count", "in_window", "said"),
    [
        (1, 1, "1 of all {n} published articles matches. 1 of them is within"),
        (2, 1, "2 of all {n} published articles match. 1 of them is within"),
        (3, 2, "3 of all {n} published articles match. 2 of them are within"),
        (1, 0, "1 of all {n} published articles matches. 0 of them are within"),
        (21, 21, "21 of all {n} published articles match. 21 of them are within"),
    ],
)
def test_the_admin_preview_agrees_with_its_counts(
    served: tuple[Any, Any],  # noqa: F811  (the imported fixture)
    count: int,
    in_window: int,
    said: str,
) -> None:
    _client, service = served
    result = preview(service.db, '"Kiến Thụy"')  # the fixture's: 1 of 2, within the window
    summary = preview_words.summary(Translator("en"), result)
    assert summary.startswith(f"1 of all {result.scanned} published articles matches. 1 of them is")
    shaped = replace(result, count=count, in_window=in_window)
    assert preview_words.summary(Translator("en"), shaped).startswith(said.format(n=result.scanned))
    cut = replace(shaped, window_exact=False)
    assert ("them is" in preview_words.summary(Translator("en"), cut)) is (in_window == 1)
    vi = preview_words.summary(Translator("vi"), shaped)
    assert vi.startswith(f"{count} trong tổng số {result.scanned} bài") and "Trong đó" in vi
    assert result.english().startswith("1 of all") and result.english().endswith(" matches")


@pytest.mark.parametrize(
    ("n", "en"), [(0, "0 alerts held"), (1, "1 alert held"), (2, "2 alerts held")]
)
def test_other_counted_sentences(n: int, en: str) -> None:
    t = Translator("en")
    assert t.counted("chat_held", n).startswith(en)
    assert t.counted("reader.article_count", n, count=t.number(n)).endswith(
        "article" if n == 1 else "articles"
    )
    assert Translator("vi").counted("chat_held", n) == f"{n} tin đang chờ bản tổng hợp"


def test_a_digest_of_one_article_says_one() -> None:
    from feedsvc.digest.edge import DigestEdge  # the words a digest is sent with

    words: DigestWords = DigestEdge(UTC, "en").words
    assert words.heading.format(count=2) == "Digest · 2 articles"
    assert (words.heading_one or "").format(count=1) == "Digest · 1 article"


def test_ingest_progress_agrees() -> None:
    from feedsvc.ingest_state import IngestState

    now = datetime.now(UTC)
    state = IngestState("catching_up", lag_seconds=90, failures=0, position=now - timedelta(1),
                        backlog=1, eta_seconds=5)  # fmt: skip
    assert "1 source row left" in Translator("en").ingest(state)
    assert "2 source rows left" in Translator("en").ingest(replace(state, backlog=2))
