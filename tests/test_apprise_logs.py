"""Apprise's own log records tell nothing of a URL (tester2 finding 5; SPEC §11: Apprise URLs
are secrets, never logged): not while a URL is checked (the CLI's ``subs add``, the API, the
admin's form all go through ``address_problem``), not while a notification is sent, in no form
(abbreviated ``H...w``, decoded, lower-cased, rebuilt as an e-mail address)."""

from __future__ import annotations

import io
import logging
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from factories import VN
from receiver import Receiver
from test_admin import TOKEN, csrf_of, login, make_client

from feedsvc.channels.apprise import AppriseChannel
from feedsvc.channels.apprise_urls import address_problem, mask
from feedsvc.channels.base import OutcomeKind, Target
from feedsvc.notify.message import AlertMessage

#: Apprise's privacy print of a secret: its first and last character (``H...w``) or its last
#: four (``...2pw1``).
ABBREVIATED = re.compile(r"[^\s.*]\.\.\.[^\s.*]|\.\.\.[^\s.*]{1,4}")

#: (URL, the fragments of it no log line may carry). Each is refused or accepted by Apprise;
#: either way it is checked without a word from Apprise.
CHECKED = [
    # the tester's: Apprise said "Apprise <bob@127.0.0.1>" and "mailto://bob:H...w@1...1"
    ("mailto://bob:Hunter2pw@127.0.0.1", ["bob", "Hunter2pw", "127.0.0.1"]),
    ("mailto://bob:Q@127.0.0.1", ["bob@", ":Q@", "Q...Q"]),  # a one-character password
    ("mailto://zed:Wx7@127.0.0.1", ["zed", "Wx7", "W...7"]),  # three characters
    ("mailto://bob:Hu%40nt%2Fer@127.0.0.1", ["bob", "Hu%40nt%2Fer", "Hu@nt/er", "H...r"]),
    ("json://jsonuser:J50nPass@hooks.example.test/in", ["jsonuser", "J50nPass"]),
    ("discord://112233445566/DiscordTok3n", ["112233445566", "DiscordTok3n"]),
    ("notaurl://alice:Al1cePw@x", ["alice", "Al1cePw", "A...w"]),
]


#: a mask's tag (``json://***#5d4dab``): six hex digits of a hash, which may happen to end in
#: a fragment searched for ("#5d4dab: ..." holds "ab:"), so tags are left out of the search
MASK_TAG = re.compile(r"\*\*\*#[0-9a-f]{6}")


def assert_clean(text: str, fragments: list[str]) -> None:
    searched = MASK_TAG.sub("***#", text).lower()
    for fragment in fragments:
        assert fragment.lower() not in searched, (fragment, text)
    assert not ABBREVIATED.search(text), text


@pytest.mark.parametrize(("url", "fragments"), CHECKED)
def test_checking_a_url_logs_nothing_of_apprise(
    url: str, fragments: list[str], service_logging: io.StringIO
) -> None:
    address_problem(url)
    err = service_logging.getvalue()
    assert "apprise" not in err, err  # neither Apprise's lines nor a cleaned one: feedsvc says
    assert_clean(err, fragments)  # its own refusal


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_failed_send_logs_apprise_warnings_under_the_mask_only(
    service_logging: io.StringIO,
) -> None:
    """An operator still reads why a destination failed (Apprise's warning), under the URL's
    mask, with nothing of the URL: not its user, password (typed, decoded or abbreviated),
    host or token path."""
    port = closed_port()
    urls = [
        f"json://hookuser:Pa%2Fss%40w0rd@127.0.0.1:{port}/deliver/TOKEN-7f3a",
        f"json://ab:Zq@127.0.0.1:{port}/in",  # two-letter user and password
        f"mailto://bob:Hunter2pw@example.test:{port}?smtp=127.0.0.1&to=carol@example.test",
    ]
    channel = AppriseChannel(VN, send_timeout=15)
    try:
        for url in urls:
            outcome = await channel.send_message(target(url), AlertMessage("<b>x</b>", "x"))
            assert outcome.kind is OutcomeKind.TRANSIENT, outcome
    finally:
        await channel.close()
    err = service_logging.getvalue()
    for url in urls:
        assert f"{mask(url)}: " in err, err  # each send's warning, named by its mask
    assert "WARNING feedsvc.apprise" in err and "connection error" in err.lower()
    fragments = ["hookuser", "Pa%2Fss%40w0rd", "Pa/ss@w0rd", "TOKEN-7f3a", "127.0.0.1", "ab:",
                 ":Zq", "Zq@", "bob", "Hunter2pw", "carol", "example.test"]  # fmt: skip
    assert_clean(err, fragments)
    assert not re.search(r"(?<![A-Za-z0-9])(ab|Zq)(?![A-Za-z0-9])", err), err
    assert "Socket Exception" not in err  # Apprise's DEBUG lines (the request URL) dropped


async def test_a_refused_send_keeps_the_answer_in_the_warning(
    service_logging: io.StringIO,
) -> None:
    """What Apprise says of the answer (the status) is kept; the URL's token path is not."""
    with Receiver() as receiver:
        receiver.statuses.append(500)
        url = receiver.url("deliver/SeCrEtPath9", "u5er:pw@")
        channel = AppriseChannel(VN)
        try:
            outcome = await channel.send_message(target(url), AlertMessage("<b>x</b>", "x"))
        finally:
            await channel.close()
    assert outcome.kind is OutcomeKind.TRANSIENT
    err = service_logging.getvalue()
    assert f"WARNING feedsvc.apprise: {mask(url)}: " in err and "error=500" in err, err
    assert_clean(err, ["SeCrEtPath9", "u5er", "127.0.0.1"])
    assert not re.search(r"(?<![A-Za-z0-9])pw(?![A-Za-z0-9])", err), err


def target(address: str) -> Target:
    return Target(1, "apprise", address, "private", link_preview=False, plain_text=True)


def test_what_apprise_logs_in_a_send_is_cleaned_of_every_form_of_the_url(
    service_logging: io.StringIO,
) -> None:
    """The forms Apprise's plugins write (privacy print, e-mail addresses, decoded and
    quoted values, another case, a traceback) and the levels: below WARNING nothing."""
    from feedsvc.channels import apprise_logs  # here: the other tests run on the old code too

    apprise_logs.install()
    log = logging.getLogger("apprise")
    url = "mailto://Bob.Smith:Hu%40nter2@mail.example.test/?to=Carol@Example.test&from=Ops+Desk"
    with apprise_logs.sending(url, mask(url)):
        log.warning("Could not load E-Mail URL: %s", "mailto://Bob.Smith:H...2@m...t")
        log.warning("Invalid ~From~ email specified: Apprise <bob.smith@mail.example.test>")
        log.error('Sending email to "%s" failed (user %s, pass %s / %s).', "carol@example.test",
                  "bob.smith", "Hu@nter2", "Hu%40nter2")  # fmt: skip
        log.warning("Using key ...ter2 for %s on MAIL.EXAMPLE.TEST", "Ops Desk")
        log.info("Sent Email to %s", "carol@example.test")
        log.debug("Socket Exception: %s", url)
        try:
            raise OSError(f"refused by {url}")
        except OSError:
            log.exception("Connection error")
    lines = service_logging.getvalue().splitlines()
    # a text line: date, time with offset, level, logger, message (logs.TEXT_TIME)
    assert [line.split()[2:4] for line in lines] == [
        [level, "feedsvc.apprise:"] for level in ("WARNING", "WARNING", "ERROR", "WARNING", "ERROR")
    ]  # none of Apprise's own records, none below WARNING, no traceback lines
    assert all(line.split(None, 4)[4].startswith(mask(url) + ": ") for line in lines)
    text = "\n".join(lines)
    assert "Connection error (OSError)" in text and "Could not load E-Mail URL: ***" in text
    assert_clean(text, ["Bob.Smith", "bob.smith", "Hu@nter2", "Hu%40nter2", "carol",
                        "example.test", "Ops Desk", "Ops+Desk", "refused by"])  # fmt: skip


def test_cli_subs_add_prints_only_feedsvcs_refusal(tmp_path: Path) -> None:
    """Tester2 finding 5, as typed: stderr is feedsvc's one line, nothing of Apprise's."""
    env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path}/s.db",
           "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)}  # fmt: skip
    cli = [sys.executable, "-m", "feedsvc"]
    add = subprocess.run([*cli, "topics", "add", "kt", "--title", "KT", "--query", "x"],
                         env=env, cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert add.returncode == 0, add.stderr
    url = "mailto://bob:Hunter2pw@127.0.0.1"
    sub = subprocess.run([*cli, "subs", "add", "--channel", "apprise", "--to", url, "--topic",
                          "kt"], env=env, cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert sub.returncode == 2
    assert sub.stderr == "feedsvc: not an Apprise URL Apprise can send to\n"


def test_the_admin_form_and_the_api_log_nothing_of_a_refused_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service_logging: io.StringIO
) -> None:
    """The tester's URL through ``POST /admin/subscriptions/apprise`` wrote Apprise's two lines
    (``bob:H...w@1...1``) to the service log; ``POST /api/subscriptions`` went the same way."""
    client, service = make_client(tmp_path, monkeypatch)
    url = CHECKED[0][0]
    with client:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        topic = {"slug": "kt", "title": "KT", "query": "x"}
        assert client.post("/api/topics", json=topic, headers=auth).status_code == 201
        body = {"channel": "apprise", "address": url, "topic": "kt"}
        assert client.post("/api/subscriptions", json=body, headers=auth).status_code == 422
        login(client)
        form = {"csrf": csrf_of(client, "/admin/subscriptions"), "url": url, "topic": "kt"}
        page = client.post("/admin/subscriptions/apprise", data=form)
        assert page.status_code == 422 and 'id="url-error"' in page.text, page.text
    service.close()
    log = service_logging.getvalue()
    assert "apprise" not in log, log
    assert_clean(log, ["bob", "Hunter2pw"])  # (the service's start names 127.0.0.1: no check)
