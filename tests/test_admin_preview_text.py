"""The topic editor's preview shows an article's title as every admin page shows it.

The articles, deliveries and status pages write outside text's bidi controls and control
characters as escapes (``\\u202e``: :func:`feedsvc.web.admin_text.shown`); the preview's JSON
gave the title as stored, and the editor's script wrote it as it is: "Kiến Thụy \\u202egnảt
gnod\\u202c" showed as "Kiến Thụy dong tảng", the rest of the title reversed.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from factories import article
from test_admin import csrf_of, login, served  # noqa: F401  (served: the fixture)

from feedsvc.store.source_articles import upsert_source_articles

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


#: the bidi embedding, override and isolate controls (:mod:`feedsvc.bidi`), the line and
#: paragraph separators, a C0 and a C1 control
SHOWN_ESCAPED = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]] + [
    "\u2028",
    "\u2029",
    "\x07",
    "\x85",
]


@pytest.mark.parametrize("char", SHOWN_ESCAPED)
def test_preview_titles_show_bidi_controls_as_escapes(
    served: tuple[TestClient, Any],  # noqa: F811  (the imported fixture)
    char: str,
) -> None:
    client, service = served
    title = f"Kiến Thụy {char}gnảt gnod\u202c cuối"
    with service.db.write() as conn:
        upsert_source_articles(conn, [article(50, title=title)], service.db.now())
    service.ingest_tick()
    login(client)
    headers = {"X-CSRF-Token": csrf_of(client)}
    data = client.post("/admin/preview", json={"query": "gnod"}, headers=headers).json()
    titles = [s["title"] for s in data["samples"]]
    escaped = f"\\u{ord(char):04x}"
    assert titles == [f"Kiến Thụy {escaped}gnảt gnod\\u202c cuối"]
