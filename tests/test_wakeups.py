"""The dispatcher wake-up listener (:mod:`feedsvc.wakeups`) on a real PostgreSQL server.

A NOTIFY channel spans the whole database, not a schema: deployments (and this suite's xdist
workers) kept in separate schemas of one database heard each other's wake-ups. A CI run failed
``test_replicas::test_notify_wakes_listeners_on_new_deliveries`` that way (a second
notification from another worker's ingest). Each listener now wakes for its own schema only.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from conftest import PG_ADMIN_URL, pg_skip_reason
from processes import wait_until
from sqlalchemy import text
from sqlalchemy.engine import make_url

from feedsvc.db import Database
from feedsvc.ingest import WAKE_CHANNEL
from feedsvc.wakeups import WakeListener, connect_params

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_schemas() -> Iterator[tuple[str, str]]:
    """State DB URLs for two schemas of one database of this test's own: the suite's other
    workers share ``feedsvc_test`` and would send this test's listeners notifications of theirs.
    """
    if reason := pg_skip_reason():
        pytest.skip(reason)
    admin = make_url(PG_ADMIN_URL)
    name = f"feedsvc_wake_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**connect_params(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base = admin.set(database=name)
    urls = []
    with psycopg.connect(**connect_params(base.render_as_string(hide_password=False))) as conn:
        for schema in ("t_a", "t_b"):
            conn.execute(f"CREATE SCHEMA {schema}")
            options = {"options": f"-csearch_path={schema}"}
            urls.append(base.update_query_dict(options).render_as_string(hide_password=False))
    yield urls[0], urls[1]
    with psycopg.connect(**connect_params(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def notify(url: str, payload: str | None = None) -> None:
    """What a replica's ingest commit sends (the payload: its schema, as
    :func:`feedsvc.ingest.notify_new_deliveries` computes it), or a given payload."""
    with psycopg.connect(**connect_params(url), autocommit=True) as conn:
        if payload is None:
            conn.execute("SELECT pg_notify(%s, current_schema())", (WAKE_CHANNEL,))
        else:
            conn.execute("SELECT pg_notify(%s, %s)", (WAKE_CHANNEL, payload))


class Listening:
    """A started listener whose connect-time wake-up has happened (LISTEN is in place)."""

    def __init__(self, url: str) -> None:
        self.woken = threading.Event()
        self.listener = WakeListener(url, WAKE_CHANNEL, self.woken.set)
        self.listener.start()
        wait_until(self.woken.is_set, 30, "the listener's connect-time wake-up")
        self.woken.clear()

    def wait_seen(self, count: int) -> None:
        """Until ``count`` notifications arrived, whether they woke this listener or not."""
        listener = self.listener
        wait_until(lambda: listener.received + listener.ignored >= count, 30, f"{count} notes")


@pytest.fixture
def pair(two_schemas: tuple[str, str]) -> Iterator[tuple[Listening, Listening]]:
    a, b = Listening(two_schemas[0]), Listening(two_schemas[1])
    yield a, b
    a.listener.stop()
    b.listener.stop()


def test_a_listener_wakes_for_its_own_schema_only(
    pair: tuple[Listening, Listening], two_schemas: tuple[str, str]
) -> None:
    a, b = pair
    notify(two_schemas[0])
    notify(two_schemas[1])
    notify(two_schemas[1])  # several commits: several notifications
    a.wait_seen(3)
    b.wait_seen(3)
    assert (a.listener.received, a.listener.ignored) == (1, 2)
    assert (b.listener.received, b.listener.ignored) == (2, 1)
    assert a.woken.is_set() and b.woken.is_set()


def notify_together(url: str, payloads: list[str]) -> None:
    """Notifications sent in one commit: they reach each listener together, in one read."""
    with psycopg.connect(**connect_params(url)) as conn, conn.transaction():
        for payload in payloads:
            conn.execute("SELECT pg_notify(%s, %s)", (WAKE_CHANNEL, payload))


@pytest.mark.parametrize(
    "order", [["t_a", "t_b", ""], ["t_b", "t_a", ""], ["", "t_a", "t_b"], ["t_b", "", "t_a"]]
)
def test_a_listener_hears_every_notification_of_a_commit(
    pair: tuple[Listening, Listening], two_schemas: tuple[str, str], order: list[str]
) -> None:
    """Another schema's notification ended the read of the batch it came in, and psycopg
    dropped the rest of the batch: a listener lost its own schema's (and empty) ones sent in
    the same commit (CI: one of two listeners saw 1 of 3). Each hears all three."""
    a, b = pair
    notify_together(two_schemas[0], order)
    a.wait_seen(3)
    b.wait_seen(3)
    assert (a.listener.received, a.listener.ignored) == (2, 1)
    assert (b.listener.received, b.listener.ignored) == (2, 1)
    assert a.woken.is_set() and b.woken.is_set()


@pytest.mark.parametrize("payload", ["", "public", "t_other", "T_A", "t_a ", "x" * 60])
def test_another_payload_wakes_only_when_empty(
    pair: tuple[Listening, Listening], two_schemas: tuple[str, str], payload: str
) -> None:
    """An empty payload is what an older feedsvc sends (a plain NOTIFY): it still wakes every
    listener, as before; any other schema's name wakes none."""
    a, b = pair
    notify(two_schemas[0], payload)
    a.wait_seen(1)
    b.wait_seen(1)
    woke = payload == ""
    assert [a.listener.received, b.listener.received] == [int(woke), int(woke)]
    assert [a.woken.is_set(), b.woken.is_set()] == [woke, woke]


@pytest.fixture
def own_db() -> Iterator[str]:
    """A database of this test's own (URL without options), dropped after."""
    if reason := pg_skip_reason():
        pytest.skip(reason)
    name = f"feedsvc_wake_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**connect_params(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(**connect_params(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def ingest_notify(url: str) -> None:
    """The ingest's NOTIFY (:func:`feedsvc.ingest.notify_new_deliveries`' statement) on the
    state DB engine ``database.url`` opens: its session, its ``search_path``."""
    db = Database(url)
    try:
        with db.write() as conn:
            conn.execute(
                text("SELECT pg_notify(:channel, coalesce(current_schema(), ''))"),
                {"channel": WAKE_CHANNEL},
            )
    finally:
        db.dispose()


def quoted(schema: str) -> str:
    return '"' + schema.replace('"', '""') + '"'


@pytest.mark.parametrize(
    ("schema", "options"),
    [
        # PostgreSQL's documented spelling, with a space after -c: the listener never connected
        ("feedsvc", "-c search_path=feedsvc"),
        ("feedsvc", "-csearch_path=feedsvc -cwork_mem=8MB"),  # several settings
        ("tin tức", r'-csearch_path="tin\ tức"'),  # a space in the schema's name
        ("Tin Tức 2026", r'-c search_path="Tin\ Tức\ 2026",public'),
        ("ư" * 31, "-csearch_path=" + "ư" * 31),  # 62 bytes of Vietnamese letters
    ],
)
def test_the_listener_session_is_the_engines(own_db: str, schema: str, options: str) -> None:
    """``database.url`` options with a space (as SQLAlchemy re-renders a URL: a ``+``, which
    libpq does not read as a space): the listener connected with another search_path than the
    ingest (or not at all) and ignored every wake-up of its own deployment."""
    with psycopg.connect(**connect_params(own_db), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {quoted(schema)}")
    url = make_url(own_db).update_query_dict({"options": options})
    url_text = url.render_as_string(hide_password=False)
    listening = Listening(url_text)
    try:
        ingest_notify(url_text)
        listening.wait_seen(1)
        assert (listening.listener.received, listening.listener.ignored) == (1, 0)
        assert listening.woken.is_set()
    finally:
        listening.listener.stop()


def test_a_schema_created_after_the_listener_connected(own_db: str) -> None:
    """search_path ``late, public`` (``"$user", public`` alike) with only ``public`` there at
    start: once ``late`` is created the ingest's current schema is ``late``, and the listener,
    which read ``public`` when it connected, ignored its own deployment's wake-ups until it
    reconnected (never, on a healthy connection)."""
    url = make_url(own_db).update_query_dict({"options": "-csearch_path=late,public"})
    url_text = url.render_as_string(hide_password=False)
    listening = Listening(url_text)
    try:
        with psycopg.connect(**connect_params(own_db), autocommit=True) as conn:
            conn.execute("CREATE SCHEMA late")
        ingest_notify(url_text)
        listening.wait_seen(1)
        assert (listening.listener.received, listening.listener.ignored) == (1, 0)
        notify(own_db, "elsewhere")  # another deployment's: still ignored
        listening.wait_seen(2)
        assert (listening.listener.received, listening.listener.ignored) == (1, 1)
    finally:
        listening.listener.stop()
