"""A takedown is no delivery error (a tester's): hiding 4 articles made ``/admin/status``'s
"Lỗi gần đây" and ``feedsvc status``' ``recent_errors`` list ``#89 withdrawn …: hidden`` and
the like, pushing the real delivery errors out of the 5-row list. Both reads of the list —
the store's (``status_details``: the admin, the API) and the CLI's lite path — leave out
``delivery_states.NOT_ERRORS``; on SQLite and PostgreSQL (``test_store_lite``'s state DB)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from test_store_lite import NOW, lite_reader, state  # noqa: F401  (the fixture)

from feedsvc import operations as ops
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.store import delivery_log, lite


@pytest.mark.parametrize("state_name", ["withdrawn", "unsubscribed"])
@pytest.mark.parametrize("limit", [3, 2])
def test_takedowns_never_push_real_errors_out(
    state: tuple[Database, str],  # noqa: F811  (the imported fixture)
    state_name: str,
    limit: int,
) -> None:
    db, url = state
    with db.write() as conn:
        failed = [
            r[0]
            for r in conn.execute(
                select(deliveries.c.id).where(deliveries.c.state == "failed")
                .order_by(deliveries.c.id)
            )
        ]  # fmt: skip
        real = failed[:limit]
        conn.execute(  # the real failures, an hour ago
            update(deliveries).where(deliveries.c.id.in_(real))
            .values(finished_at=NOW - timedelta(hours=1))
        )  # fmt: skip
        taken = failed[limit : limit + 4]  # takedowns since, newest of all
        assert len(taken) >= 3, failed
        conn.execute(
            update(deliveries).where(deliveries.c.id.in_(taken))
            .values(state=state_name, error="hidden", finished_at=NOW)
        )  # fmt: skip
        conn.execute(
            update(deliveries).where(deliveries.c.id.in_(failed[limit + 4 :]))
            .values(state="sent", error=None)
        )  # fmt: skip
    with db.read() as conn:
        store = [r.id for r in delivery_log.recent_errors(conn, limit)]
    with lite_reader(url) as reader:
        cli = [f.id for f in lite.recent_errors(reader, limit)]
    shown = [r.id for r in ops.status_details(db, errors=limit).recent_errors]
    assert sorted(store) == sorted(real), (store, real, taken)
    assert cli == store == shown
