"""The delivery log's keyset pages (``store.delivery_log.page_deliveries``) on SQLite and
PostgreSQL: "before" an id the rows older than it, "after" the rows just newer, each page's
place in the log (``newer``) and whether any is older, filtered as the offset listing is, and
an old ``?page=N`` link's start (``nth_id``). See ``test_admin_delivery_pages`` for the page."""

from __future__ import annotations

from factories import article

from feedsvc.db import Database
from feedsvc.store import delivery_log
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.articles import SourcePosition, insert_articles
from feedsvc.store.deliveries import enqueue


def test_keyset_pages_on_each_backend(db: Database) -> None:
    now = db.now()
    with db.write() as conn:
        [aid] = insert_articles(conn, [(article(1), "k", SourcePosition(now, "1"))], now)
        for n in range(7):
            sub_store.ensure_chat(conn, -500 - n, "group", f"n{n}", now)
            state = "failed" if n % 2 else "sent"
            enqueue(conn, [{"chat_id": -500 - n, "article_id": aid, "topics": ["x"],
                            "state": state, "due_at": now, "created_at": now}])  # fmt: skip
    with db.read() as conn:
        ids = [r.id for r in delivery_log.list_deliveries(conn, limit=100)[0]]
        top = delivery_log.page_deliveries(conn, limit=3)
        assert [r.id for r in top.rows] == ids[:3] and (top.newer, top.older) == (0, True)
        assert top.total == 7
        nxt = delivery_log.page_deliveries(conn, limit=3, before=top.rows[-1].id)
        assert [r.id for r in nxt.rows] == ids[3:6] and nxt.newer == 3
        last = delivery_log.page_deliveries(conn, limit=3, before=nxt.rows[-1].id)
        assert [r.id for r in last.rows] == ids[6:] and not last.older
        up = delivery_log.page_deliveries(conn, limit=3, after=last.rows[0].id)
        assert [r.id for r in up.rows] == ids[3:6]
        past = delivery_log.page_deliveries(conn, limit=3, before=ids[-1])
        assert past.rows == [] and past.total == 7 and not past.older
        failed = delivery_log.page_deliveries(conn, limit=2, state="failed")
        assert all(r.state == "failed" for r in failed.rows) and failed.total == 3
        assert delivery_log.nth_id(conn, 2) == ids[2]
        assert delivery_log.nth_id(conn, 7) is None
