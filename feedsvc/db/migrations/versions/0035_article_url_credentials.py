"""Stored article URLs without a user name or password.

An article whose ``url`` or ``image_url`` held one (``https://user:pass@example.vn/a.html``)
published it to every reader: feeds, reader pages, search feeds, the JSON API, chat alerts.
Ingest and ``feedsvc import`` now store such a URL without it and every output drops it
(:mod:`feedsvc.url_credentials`). This removes it from what is stored already: the state DB's
articles (their ``last_changed_at`` moved to now, so a restart renders the feeds listing them
before serving any stored snapshot: :mod:`feedsvc.publish.warm_start`; so are an article's
whose body or summary links such a URL, which the outputs drop) and the built-in source table's
rows. Only the userinfo goes; the rest of each URL stays as it was.

The downgrade leaves the URLs as they are: the passwords are not kept anywhere.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-05 14:20:00
"""

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from feedsvc.db.types import UTCDateTime
from feedsvc.url_credentials import without_userinfo

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

#: Rows read and written per round trip.
_CHUNK = 500


#: A link with a user name or password inside an HTML attribute (a body's ``<a href>``,
#: ``<img src>``): the outputs drop it, but a restart would serve the stored snapshots holding
#: it until rendered again, so such an article's feeds are rendered first too.
_LINKED = re.compile(r"""=\s*["']?\s*(?:[A-Za-z][A-Za-z0-9+.\-]*:)?[/\\]{2}[^/\\?#\s"'<>]*@""")


def _scrub(conn: sa.Connection, name: str, stamp: dict[str, object], text: bool) -> None:
    """``name``'s rows whose ``url`` or ``image_url`` holds a userinfo, rewritten without it,
    ``stamp``'s columns set too; ``text``: also stamp a row whose ``summary`` or ``body``
    links such a URL (its text is left as it is)."""
    table = sa.table(
        name,
        sa.column("id"),
        sa.column("url"),
        sa.column("image_url"),
        sa.column("summary"),
        sa.column("body"),
        *(sa.column(c, UTCDateTime()) for c in stamp),
    )
    columns = [table.c.url, table.c.image_url] + ([table.c.summary, table.c.body] if text else [])
    found = conn.execute(
        sa.select(table.c.id, *columns).where(sa.or_(*(c.like("%@%") for c in columns))),
        execution_options={"yield_per": _CHUNK},
    )
    changed = []
    for id_, url, image, *texts in found:
        new_url = without_userinfo(url) if url else url
        new_image = without_userinfo(image) if image else image
        linked = any(t and "@" in t and _LINKED.search(t) for t in texts)
        if (new_url, new_image) != (url, image) or linked:
            changed.append({"_id": id_, "url": new_url, "image_url": new_image, **stamp})
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("_id"))
        .values({c: sa.bindparam(c) for c in ("url", "image_url", *stamp)})
    )
    for start in range(0, len(changed), _CHUNK):
        conn.execute(statement, changed[start : start + _CHUNK])


def upgrade() -> None:
    conn = op.get_bind()
    _scrub(conn, "articles", {"last_changed_at": datetime.now(UTC)}, text=True)
    _scrub(conn, "source_articles", {}, text=False)


def downgrade() -> None:
    pass
