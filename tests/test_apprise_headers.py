"""Apprise URLs with a part their service sends in an HTTP header that no header carries
(re-tester D1): ``json://127.0.0.1:18432/hdr-viet?+X-Auth=ả`` was taken (201), then every alert
stayed ``pending``, "Apprise raised UnicodeEncodeError", transient, nothing logged: HTTP header
values go out as Latin-1 (``é`` works, ``ả`` does not), names must be tokens.

Now refused at subscribe through the one check (``apprise_urls.checked_url`` →
``header_problem``): API, CLI and admin alike, ``address_header_invalid``, in both languages,
never the URL or the value. A URL stored before the check ends at its first send as the
recipient's address unusable (``chat_not_found``), logged under its mask."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime

import pytest
from backend_cases import module_on_sqlite
from factories import VN
from receiver import Receiver
from test_admin_refused_boxes import note_under
from test_apprise import dispatch, done, publish, rows
from test_apprise_non_ascii import API, admin_add, receiver, recipients, served
from test_field_limits import run_cli

from feedsvc import operations as ops
from feedsvc.channels import apprise_urls
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.channels.apprise_urls import mask
from feedsvc.db import Database
from feedsvc.store.topics import TopicSpec, save_topic

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

__all__ = ["receiver", "served"]  # fixtures

SECRET = "Bí-mật-ảnh"  # a value no HTTP header carries (ả, ậ: not Latin-1)

REFUSED = [
    ("json://127.0.0.1:18432/hdr-viet?+X-Auth=" + SECRET, "+X-Auth"),  # the re-tester's
    ("json://ví-dụ.vn/hdr-viet?+X-Auth=" + SECRET, "+X-Auth"),  # the admin's form's
    ("xml://127.0.0.1:9/x?+X-Key=" + SECRET, "+X-Key"),
    ("form://127.0.0.1:9/x?+X-Key=" + SECRET, "+X-Key"),
    ("json://127.0.0.1:9/x?+X-Kh%C3%B3a=1", "+***"),  # a name that is no token
    ("form://127.0.0.1:9/x?+X%20Key=1", "+***"),
    ("json://" + SECRET + ":pw@127.0.0.1:9/x", "user"),  # Basic credentials: a header too
    ("ntfy://127.0.0.1:9/tin?auth=token&token=" + SECRET, "token"),
    ("ntfy://127.0.0.1:9/tin?email=" + SECRET + "@vi.vn", "email"),
    ("ntfy://127.0.0.1:9/tin?tags=" + SECRET, "tags"),
]


@pytest.mark.parametrize(("url", "part"), REFUSED)
def test_a_part_no_http_header_carries_is_refused_everywhere(
    served: tuple[object, object], url: str, part: str
) -> None:
    client, service = served
    for lang, words in (("vi", "trong một header HTTP"), ("en", "in an HTTP header")):
        answer = client.post(  # type: ignore[attr-defined]
            "/api/subscriptions", headers=API | {"Accept-Language": lang},
            json={"channel": "apprise", "address": url, "topic": "kien-thuy"},
        )  # fmt: skip
        assert answer.status_code == 422, answer.text
        out = answer.json()
        assert (out["code"], out["field"]) == ("address_header_invalid", "address"), out
        assert words in out["message"] and part in out["message"], out
        assert "Latin-1" in out["error"], out
        assert SECRET not in answer.text and "hdr-viet" not in answer.text
    cli = run_cli(service, "subs", "add", "--channel", "apprise", "--to", url,
                  "--topic", "kien-thuy")  # fmt: skip
    assert cli.exit_code == 2, cli.output
    assert "HTTP header" in cli.output and SECRET not in cli.output, cli.output
    page = admin_add(client, url, "Kiến Thụy")
    assert page.status_code == 422, page.text
    under = html.unescape(note_under(page.text, "url"))
    assert "trong một header HTTP" in under and SECRET not in under, under
    assert recipients(service) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.1:9/hdr?+X-Auth=é",  # Latin-1: sent as it is
        "json://127.0.0.1:9/tin-kiến?-nguồn=Kiến-Thụy&:tiêu-đề=Tin",  # the JSON body: UTF-8
        "json://Ngô:pé@127.0.0.1:9/x?+X-Auth=Ngô",
        "ntfy://127.0.0.1:9/tin?click=https://ví-dụ.vn/tin",  # quoted by Apprise
    ],
)
def test_what_headers_carry_is_still_taken(url: str) -> None:
    """Latin-1 values, UTF-8 payload options, quoted ones: taken, before as now."""
    assert apprise_urls.checked_url(url).startswith(url.split("://")[0])


@pytest.mark.parametrize(
    ("path", "query", "userinfo", "part"),
    [
        ("hdr-viet", "?+X-Auth=" + SECRET, "", "+X-Auth"),  # the re-tester's
        ("hdr-user", "", SECRET + ":pw@", "user"),  # Basic credentials: raised the same
    ],
)
async def test_a_url_stored_before_the_check_ends_as_an_unusable_address(
    db: Database, receiver: Receiver, service_logging: io.StringIO, path: str, query: str,
    userinfo: str, part: str, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Stored as an older feedsvc stored it; the send raised (``UnicodeEncodeError``) or
    Apprise caught ``requests``' ``InvalidHeader``: retried as transient, unlogged, before."""
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli",
                   datetime.now(UTC))  # fmt: skip
    url = receiver.url(path, userinfo) + query
    with monkeypatch.context() as m:
        m.setattr(apprise_urls, "header_problem", lambda url: None)
        stored = apprise_urls.checked_url(url)
        ops.add_subscription(db, None, None, topic="kien-thuy", query=None, channel="apprise",
                             address=url)  # fmt: skip
    publish(db, 1)
    await dispatch(db, AppriseChannel(VN), done, max_attempts=5)
    assert rows(db) == [("chat_not_found", 1, 0)]
    assert receiver.at(path) == []
    err = service_logging.getvalue()
    line = next(x for x in err.splitlines() if "address unusable" in x)
    assert mask(stored) in line
    assert part in line and SECRET not in err and "hdr-viet" not in line
