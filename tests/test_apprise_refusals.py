"""An Apprise destination's answer that says "never" is not retried. Apprise's ``notify()`` says
only False, and every failure was retried like a 5xx: a deleted webhook (404, 410), a revoked
credential (401, 403) or a message the destination refuses (400, 413, 422) was sent 25 times
over about 1.6 h per alert, the recipient never disabled, its later alerts waiting behind.
Now, as for Telegram and Zalo: a recipient that can never receive (``blocked``,
``chat_not_found``) is disabled after three in a row, and ``feedsvc status`` says so; a refused
message is a dead letter (``bad_content``) and the next alert goes on; 5xx still retried; a
send of several requests is permanent only when every failed one says so. Nothing stored or
logged holds the URL or its credentials; adding the URL again switches the recipient back on.
Against the local receiver (``tests/receiver.py``) on
loopback, the real dispatcher; SQLite and PostgreSQL. The status tests give each status one
backend, rotating (``backend_cases.on_backends``): the answer picks the outcome
(``channels.apprise.classify``), the dispatcher records any outcome in the same SQL on either
backend, so each status runs once and each test still runs on PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from backend_cases import on_backends
from click.testing import CliRunner
from factories import VN
from receiver import Receiver
from sqlalchemy import select
from test_apprise import dispatch, done, publish, rows
from test_apprise import receiver as receiver  # the fixture
from test_apprise import topic as topic  # the autouse fixture

from feedsvc import operations as ops
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.channels.apprise_urls import mask
from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.db.schema import chats, deliveries

USER, PASSWORD, TOKEN = "feed-user", "Pa55-w0rd-secret", "TOKEN-0123456789abcdef"


@pytest.fixture(autouse=True)
def unthrottled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apprise spaces one plugin's requests 5.5 s apart (``NotifyBase.request_rate_per_sec``):
    ntfy's two topics would cost that per send. Nothing here depends on it."""
    from apprise.plugins.base import NotifyBase

    monkeypatch.setattr(NotifyBase, "request_rate_per_sec", 0)


@pytest.fixture
def secret_url(receiver: Receiver) -> Iterator[str]:
    yield receiver.url(f"hook/{TOKEN}", f"{USER}:{PASSWORD}@")


def subscribe(db: Database, address: str) -> None:
    ops.add_subscription(db, None, None, topic="kien-thuy", query=None, channel="apprise",
                         address=address)  # fmt: skip


def errors(db: Database) -> list[str]:
    with db.read() as conn:
        found = conn.execute(select(deliveries.c.error).order_by(deliveries.c.id)).scalars()
        return [e or "" for e in found]


def disabled_reason(db: Database) -> str | None:
    with db.read() as conn:
        found = conn.execute(select(chats.c.disabled_reason).where(chats.c.channel == "apprise"))
        return found.scalar_one()


def answered(receiver: Receiver) -> int:
    """Requests the receiver answered, accepted or not."""
    return len(receiver.refused) + len(receiver.all())


def assert_no_secret(url: str, *texts: str) -> None:
    """None of ``texts`` holds ``url``, its credentials, token or host and port."""
    where = url.split("@", 1)[1].split("/", 1)[0]  # 127.0.0.1:PORT
    for text in texts:
        for secret in (url, USER, PASSWORD, TOKEN, where):
            assert secret not in text, (secret, text)


RECIPIENT_GONE = [(404, "chat_not_found"), (410, "chat_not_found"), (401, "blocked"),
                  (403, "blocked")]  # fmt: skip


@pytest.mark.parametrize(
    ("db_url", "status", "kind"), on_backends(RECIPIENT_GONE), indirect=["db_url"]
)
async def test_a_recipient_that_can_never_receive_is_disabled_after_three(
    db: Database, receiver: Receiver, secret_url: str, service_logging: io.StringIO,
    status: int, kind: str,
) -> None:  # fmt: skip
    """Four alerts to a deleted webhook / a revoked credential: each of the first three tried
    once and ended ``kind``, the third disabling the recipient; the fourth never sent. The old
    code retried every one up to ``max_attempts``, the recipient never disabled."""
    subscribe(db, secret_url)
    receiver.statuses.extend([status] * 40)
    publish(db, 1, 2, 3, 4)
    await dispatch(db, AppriseChannel(VN), done, max_attempts=5, timeout=30)
    assert rows(db) == [(kind, 1, 0)] * 3 + [("disabled", 0, 0)]
    assert answered(receiver) == 3 and receiver.all() == []
    reason = disabled_reason(db)
    assert reason is not None and reason.startswith(f"{kind}|HTTP {status}"), reason
    stored = errors(db)
    assert all(f"HTTP {status}" in e for e in stored), stored
    assert_no_secret(secret_url, reason, *stored, service_logging.getvalue())
    # the operator sees it: `feedsvc status` names the recipient and why, the log masks it
    env = {"FEEDSVC_DATABASE__URL": db.url, "FEEDSVC_CONFIG": "/dev/null"}
    shown = CliRunner().invoke(cli, ["status"], env=env)
    assert shown.exit_code == 0, shown.output
    [line] = [ln for ln in shown.output.splitlines() if f"HTTP {status}" in ln and "(" in ln
              and not ln.strip().startswith("#")]  # fmt: skip  # chats_not_receiving's line
    assert "several times in a row" in line, shown.output
    assert line.strip().startswith(f"apprise chat {mask(secret_url)} ("), line  # its own name
    assert_no_secret(secret_url, shown.output)
    dead, _ = ops.list_deliveries(db, state="dead")
    assert {d.chat_title for d in dead} == {mask(secret_url)}
    # the webhook is back: an admin adding the URL again switches the recipient on
    receiver.statuses.clear()
    subscribe(db, secret_url)
    assert disabled_reason(db) is None
    publish(db, 5)
    await dispatch(db, AppriseChannel(VN), done, max_attempts=5, timeout=30)
    assert rows(db)[-1] == ("sent", 1, 0) and len(receiver.all()) == 1


async def test_a_success_between_refusals_starts_the_count_again(
    db: Database, receiver: Receiver
) -> None:
    """Three in a row, not three in all: 404, 404, accepted, 404 leaves the recipient on."""
    subscribe(db, receiver.url("flaky"))
    receiver.statuses.extend([404, 404, 200, 404])
    publish(db, 1, 2, 3, 4)
    await dispatch(db, AppriseChannel(VN), done, max_attempts=5, timeout=30)
    assert [s for s, _, _ in rows(db)] == ["chat_not_found"] * 2 + ["sent", "chat_not_found"]
    assert disabled_reason(db) is None


@pytest.mark.parametrize(("db_url", "status"), on_backends([400, 413, 422]), indirect=["db_url"])
async def test_a_refused_message_is_a_dead_letter_and_the_next_alert_goes_on(
    db: Database, receiver: Receiver, secret_url: str, service_logging: io.StringIO,
    status: int,
) -> None:  # fmt: skip
    """The destination refuses one message: it ends ``bad_content`` after one try (was: retried
    to ``max_attempts``, the next alert waiting), the next alert is delivered, the recipient
    stays on."""
    subscribe(db, secret_url)
    receiver.statuses.append(status)
    publish(db, 1, 2)
    await dispatch(db, AppriseChannel(VN), done, max_attempts=5, timeout=30)
    assert rows(db) == [("bad_content", 1, 0), ("sent", 1, 0)]
    assert answered(receiver) == 2 and len(receiver.all()) == 1
    assert receiver.all()[0].body["title"].endswith("số 2")
    assert disabled_reason(db) is None
    [refused, sent] = errors(db)
    assert refused.startswith(f"HTTP {status}") and sent == ""
    dead, _ = ops.list_deliveries(db, state="dead")
    assert [(d.state, d.chat_title) for d in dead] == [("bad_content", mask(secret_url))]
    assert_no_secret(secret_url, refused, service_logging.getvalue())


@pytest.mark.parametrize(
    ("db_url", "status"), on_backends([500, 502, 503, 504]), indirect=["db_url"]
)
async def test_server_errors_are_still_retried(
    db: Database, receiver: Receiver, status: int
) -> None:
    """A 5xx (503 without ``Retry-After``) may pass: retried, then delivered."""
    subscribe(db, receiver.url("busy"))
    receiver.statuses.extend([status, status])
    publish(db, 1)
    await dispatch(db, AppriseChannel(VN), done, max_attempts=5)
    assert rows(db) == [("sent", 3, 0)]
    assert disabled_reason(db) is None


@pytest.mark.parametrize(
    ("db_url", "status"), on_backends([500, 418, 409, 302], start=1), indirect=["db_url"]
)
async def test_an_error_that_is_not_final_ends_failed_after_the_attempts(
    db: Database, receiver: Receiver, status: int
) -> None:
    """An answer that does not say "never" (5xx, an unlisted 4xx, a redirect with nowhere to
    go) is retried to ``max_attempts`` and dead-lettered ``failed``, the recipient kept."""
    subscribe(db, receiver.url("odd"))
    receiver.statuses.extend([status] * 10)
    publish(db, 1)
    await dispatch(db, AppriseChannel(VN), done, max_attempts=3)
    assert rows(db) == [("failed", 3, 0)]
    assert f"HTTP {status}" in errors(db)[0]
    assert disabled_reason(db) is None


def ntfy(receiver: Receiver) -> str:
    return f"ntfy://127.0.0.1:{receiver.port}/topic1/topic2"


@pytest.mark.parametrize(
    ("db_url", "answers", "state", "attempts"),
    on_backends([
        ([404, 404], "chat_not_found", 1),  # both targets gone
        ([410, 403], "blocked", 1),  # both refuse: the last one's kind
        ([400, 404], "bad_content", 1),  # one refuses the message: never the recipient off
        ([404, 500, 200, 200], "sent", 2),  # one may pass: retried whole, then delivered
        ([500, 404, 200, 200], "sent", 2),
        ([413, 503, 200, 200], "sent", 2),
    ]),
    indirect=["db_url"],
)  # fmt: skip
async def test_a_send_of_several_requests_is_permanent_only_when_each_failure_says_so(
    db: Database, receiver: Receiver, answers: list[int], state: str, attempts: int
) -> None:
    """``ntfy://host/topic1/topic2``: one request per topic, none accepted."""
    subscribe(db, ntfy(receiver))
    receiver.statuses.extend(answers)
    publish(db, 1)
    await dispatch(db, AppriseChannel(VN), done, max_attempts=5)
    assert rows(db) == [(state, attempts, 0)]


async def test_a_digest_to_a_deleted_webhook_ends_its_alerts(
    db: Database, receiver: Receiver
) -> None:
    """A digest part is recorded by the same rules: a 410 ends its alerts ``chat_not_found``
    after one try (was: retried whole to ``max_attempts``)."""
    from test_apprise_notes import send_digest

    receiver.statuses.extend([410] * 10)
    await send_digest(db, receiver.url("digest"), 3)
    assert [s for s, _, _ in rows(db)] == ["chat_not_found"] * 3
    assert answered(receiver) == 1


@pytest.mark.parametrize(
    ("failures", "kind"),
    [
        ([(404, True)], "chat_not_found"),
        ([(410, True)], "chat_not_found"),
        ([(401, False)], "blocked"),  # a log-in refused: the credential is revoked
        ([(403, True)], "blocked"),
        ([(200, False), (404, True)], "chat_not_found"),  # the room look-up then the send
        ([(400, True)], "bad_content"),
        ([(413, True)], "bad_content"),
        ([(422, True)], "bad_content"),
        ([(400, False)], "transient"),  # a log-in's 400 is no fault of the message
        ([(404, True), (500, True)], "transient"),
        ([(500, True)], "transient"),
        ([(409, True)], "transient"),
        ([(301, True)], "transient"),
        ([], "transient"),  # not HTTP (e-mail): nothing says "never"
    ],
)
def test_the_classifier_reads_the_answers(failures: list[tuple[int, bool]], kind: str) -> None:
    from feedsvc.channels.apprise import classify
    from feedsvc.channels.apprise_transport import Failure, Watched

    watched = Watched(text="x", failures=[Failure(s, c) for s, c in failures if s != 200])
    watched.parts_failed = 1
    outcome = classify(False, watched)
    assert outcome.kind.value == kind, outcome
