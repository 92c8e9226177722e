"""A topic preview says how many of its matches a backfill puts in the feed, and the API words
its warnings in the request's language (two testers' reports, the admin as a newsroom would).

1. The preview promised more than a save delivers: ``"an ninh"`` previewed "15 trong tổng số
   355 bài đã đăng khớp truy vấn", then Save with "backfill on save" said "13 bài khớp" (the
   preview counts the whole archive, the backfill the last 30 days). Every preview now counts
   the matches within the backfill window too (``feedsvc.backfill_window``): the admin's
   summary, the API's ``in_backfill_window``, ``topics preview``'s line.
2. ``POST /api/topics/preview`` with ``Accept-Language: vi`` gave ``term an matches 232 of all
   457 published articles (51%): too broad?``; the admin said it in Vietnamese. The API's
   ``warnings`` are the admin's words now, in the request's language, each with a code in
   ``warning_codes``."""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from factories import article
from migrated import premigrated
from test_admin import TOKEN, csrf_of, login, served  # noqa: F401  (served: the fixture)
from test_search_index import store

from feedsvc import operations as ops
from feedsvc.backfill_window import BACKFILL_DAYS
from feedsvc.catalogue import Translator
from feedsvc.cli import cli
from feedsvc.cli.topics import backfill as backfill_command
from feedsvc.db import Database
from feedsvc.preview import preview
from feedsvc.store.topics import TopicSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

#: days ago each "an ninh" article was published: three within the window, two before it
AGES = [1, 5, 29, 31, 200]
IN_WINDOW = sum(age < BACKFILL_DAYS for age in AGES)


def seed(db: Database, extra: int = 0) -> None:
    """The :data:`AGES` articles about "an ninh", and ``extra`` of them a day old."""
    now = db.now()
    dated = [*AGES, *[1] * extra]
    store(db, *(article(100 + n, title=f"Tin an ninh số {n}",
                        published_at=now - timedelta(days=age, minutes=n))
                for n, age in enumerate(dated, 1)))  # fmt: skip


@pytest.mark.parametrize("query", ['"an ninh"', '"an ninh" OR "công an"', "-xyz an", "an"])
def test_the_preview_counts_what_a_backfill_adds(db: Database, query: str) -> None:
    seed(db)
    result = preview(db, query)
    assert (result.count, result.in_window, result.window_exact) == (len(AGES), IN_WINDOW, True)
    assert result.window_days == BACKFILL_DAYS
    ops.save_topic(db, TopicSpec("an-ninh", "An ninh", query), "cli")
    done = ops.backfill_topic(db, "an-ninh")  # the admin's "backfill on save", the API's
    assert done.added_to_feed == done.in_feed == result.in_window
    assert result.count > done.in_feed  # the two counts the preview now says apart


def test_a_cut_preview_says_at_least(db: Database) -> None:
    seed(db, extra=4)  # the newest 4 all within the window
    cut = preview(db, '"an ninh"', scan=4)
    assert (cut.in_window, cut.window_exact) == (4, False)
    reaches_back = preview(db, '"an ninh"', scan=len(AGES) + 3)  # its oldest is out of it
    assert (reaches_back.in_window, reaches_back.window_exact) == (IN_WINDOW + 4, True)


@pytest.mark.parametrize(("language", "other"), [("vi", "en"), ("en", "vi")])
def test_admin_and_api_say_the_window_and_word_warnings_alike(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    language: str,
    other: str,
) -> None:
    client, service = served
    seed(service.db, extra=20)  # "an" in a third of the articles or more: a broad term
    login(client)
    t = Translator(language)  # type: ignore[arg-type]
    admin_t = Translator(service.settings.admin.language)
    admin = client.post(
        "/admin/preview", json={"query": "an"}, headers={"X-CSRF-Token": csrf_of(client)}
    ).json()
    in_window = preview(service.db, "an").in_window  # the fixture's own "công an" articles too
    assert in_window >= IN_WINDOW + 20
    said = admin_t.counted("preview_in_window", in_window, days=BACKFILL_DAYS)
    assert admin["in_backfill_window"] == in_window and admin["summary"].endswith(said), admin
    bearer = {"Authorization": f"Bearer {TOKEN}", "Accept-Language": language}
    api = client.post("/api/topics/preview", json={"query": "an"}, headers=bearer).json()
    assert api["in_backfill_window"] == in_window and api["in_backfill_window_exact"], api
    assert api["backfill_window_days"] == BACKFILL_DAYS
    assert api["warning_codes"] == ["broad_term"] and len(api["warnings"]) == 1, api
    words = t("warn.broad_term", term="an", count=t.number(api["count"]),
              scanned=t.number(api["scanned"]), share="")  # fmt: skip
    assert api["warnings"][0].startswith(words.split("(")[0]), api["warnings"]
    if admin_t.language == language:
        assert api["warnings"] == admin["warnings"]
    assert "too broad" in api["warnings"][0] if language == "en" else "quá rộng" in str(api)
    asked = dict(bearer, **{"Accept-Language": other})
    again = client.post("/api/topics/preview", json={"query": "an"}, headers=asked).json()
    assert again["warnings"] != api["warnings"] and again["warning_codes"] == ["broad_term"]


def test_topics_preview_prints_the_window(sqlite_url: str) -> None:
    url = premigrated(sqlite_url)
    db = Database(url)
    try:
        seed(db)
    finally:
        db.dispose()
    env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}
    done = CliRunner().invoke(cli, ["topics", "preview", '"an ninh"'], env=env)
    assert done.exit_code == 0, done.output
    assert f"\n({IN_WINDOW} of them published in the last {BACKFILL_DAYS} days:" in done.output


def test_every_backfill_default_is_the_window() -> None:
    [days] = [p for p in backfill_command.params if p.name == "days"]
    assert days.default == BACKFILL_DAYS  # the CLI spells it again (only Click at top level)
    from feedsvc.web.api_models import BackfillIn

    assert BackfillIn().days == BACKFILL_DAYS
    vi, en = Translator("vi"), Translator("en")
    assert f"({BACKFILL_DAYS} ngày)" in vi("backfill_on_save", days=BACKFILL_DAYS)
    assert f"({BACKFILL_DAYS} days)" in en("backfill_on_save", days=BACKFILL_DAYS)
