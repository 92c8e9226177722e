"""``http.public_url``: its default follows the address the service listens on, and a value no
address can be appended to is a configuration problem.

Found by a newcomer's walk-through: ``feedsvc run --port 18014`` with no configuration linked
every feed, the OPML list and the index's own links to ``http://127.0.0.1:8080`` (the built-in
default), and ``config check`` said OK for ``http.host = "0.0.0.0"`` with no public URL, whose
links no reader elsewhere can open. ``https://tin.example.vn/rss?x=1`` was taken and gave
``https://tin.example.vn/rss?x=1/feeds/x.rss``; a user and password in it were published in
every feed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from processes import free_port, get, wait_until
from site_placeholder import unplaced
from test_config_urls import SECRET, check, one_problem

from feedsvc.cli import cli
from feedsvc.config import load_config


def said(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """``feedsvc config check`` of ``text`` (and the FEEDSVC_ variables ``env``: the secrets,
    which the file may not hold): exit code and every line it printed."""
    config = tmp_path / "feedsvc.toml"
    config.write_text(text, encoding="utf-8")
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    clean.update(env or {})
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(config)], env=clean)
    return result.exit_code, unplaced(result.output).splitlines()


# -- the default follows the listener ------------------------------------------------------


@pytest.mark.parametrize(
    ("http", "url"),
    [
        ({}, "http://127.0.0.1:8080"),
        ({"port": 18014}, "http://127.0.0.1:18014"),
        ({"host": "0.0.0.0", "port": 9000}, "http://127.0.0.1:9000"),
        ({"host": "::", "port": 9000}, "http://[::1]:9000"),  # "::" may take IPv6 only
        ({"host": "::1", "port": 9000}, "http://[::1]:9000"),
        ({"host": "10.1.2.3", "port": 80}, "http://10.1.2.3:80"),
        ({"host": "tin.internal", "port": 8081}, "http://tin.internal:8081"),
    ],
)
def test_an_unset_public_url_is_the_listening_address(http: dict[str, object], url: str) -> None:
    settings = load_config(None, {"http": http})
    assert settings.http.public_url == url
    assert "public_url" not in settings.http.model_fields_set  # redirects stay path-absolute
    settings.http.port = 18099  # run's --port / --port 0
    settings.http.follow_listener()
    assert settings.http.public_url.endswith(":18099")


def test_a_public_url_that_is_set_never_moves() -> None:
    settings = load_config(None, {"http": {"port": 18014, "public_url": "https://tin.vn/rss/"}})
    settings.http.port = 18099
    settings.http.follow_listener()
    assert settings.http.public_url == "https://tin.vn/rss/"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def test_run_on_another_port_links_to_that_port(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    feedsvc = [sys.executable, "-m", "feedsvc"]
    for argv in (["db", "upgrade"], ["topics", "add", "kt", "--title", "KT", "--query", "Kiến"]):
        done = subprocess.run([*feedsvc, *argv], cwd=tmp_path, env=env, capture_output=True)
        assert done.returncode == 0, done.stderr
    port = free_port()
    proc = subprocess.Popen(
        [*feedsvc, "run", "--port", str(port), "--no-bot"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def served() -> bool:
            answer = get(f"{base}/feeds/kt.rss")
            return answer is not None and answer.status_code == 200

        wait_until(served, 60, "the topic's feed")
        feed, opml, index = (get(f"{base}{p}") for p in ("/feeds/kt.rss", "/feeds.opml", "/"))
        assert feed is not None and opml is not None and index is not None
        assert f'<atom:link href="{base}/feeds/kt.rss"' in feed.text
        assert f'xmlUrl="{base}/feeds/kt.rss"' in opml.text
        links = set(re.findall(r'href="(http://[^"/]*)/', index.text))
        assert links == {base}, links
        assert ":8080" not in feed.text + opml.text + index.text
    finally:
        _stop(proc)


# -- advice: a public host with no public URL ----------------------------------------------


# a name must resolve where `config check` runs (one that does not is a problem, exit 2, as
# `run` exits 2 on it: test_config_check_listen.py); another machine's address is a warning
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.20.30.40"])
def test_config_check_warns_of_a_public_host_without_a_public_url(
    tmp_path: Path, host: str
) -> None:
    code, lines = said(tmp_path, f'[http]\nhost = "{host}"\nport = 18014')
    assert code == 0
    warned = [line for line in lines if line.startswith("warning: http.public_url: not set")]
    assert len(warned) == 1 and "http://" in warned[0] and ":18014" in warned[0], lines


@pytest.mark.parametrize(
    "http", ['host = "127.0.0.1"', 'host = "::1"', 'host = "localhost"',
             'host = "0.0.0.0"\npublic_url = "https://tin.example.vn/"'],
)  # fmt: skip
def test_no_warning_for_a_loopback_host_or_a_set_public_url(tmp_path: Path, http: str) -> None:
    code, lines = said(tmp_path, f"[http]\n{http}")
    assert code == 0 and not any("public_url" in line for line in lines), lines


def test_no_not_set_warning_beside_a_refused_public_url(tmp_path: Path) -> None:
    """A refused value is read at its default: "not set" beside its problem contradicted it."""
    code, lines = said(tmp_path, '[http]\nhost = "0.0.0.0"\npublic_url = "https://x.vn/?a=1"')
    assert code == 2 and any("http.public_url: must not have a query" in line for line in lines)
    assert not any("not set" in line for line in lines), lines


# -- a value no address can be appended to -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://tin.example.vn/rss?x=1", "query"),
        ("https://tin.example.vn/rss/?", "query"),
        ("https://tin.example.vn/?utm=a#b", "query"),
        ("https://tin.example.vn/rss/#top", "fragment"),
        ("https://tin.example.vn#", "fragment"),
        (f"https://editor:{SECRET}@tin.example.vn/rss/", "password"),
        ("https://editor@tin.example.vn/", "user name"),
        (f"https://:{SECRET}@tin.example.vn/", "password"),
    ],
)
def test_a_public_url_with_a_query_fragment_or_credentials_is_refused(
    tmp_path: Path, url: str, why: str
) -> None:
    line = one_problem(tmp_path, "http.public_url", FEEDSVC_HTTP__PUBLIC_URL=url)
    assert why in line, line  # one_problem also checks the password is never repeated


CREDENTIALS = [
    f"https://editor:{SECRET}@tin.example.vn/",
    "https://editor@tin.example.vn/",
    f"https://:{SECRET}@tin.example.vn/hub",
    f"http://u:{SECRET}@127.0.0.1:9/hub",
]


@pytest.mark.parametrize("url", CREDENTIALS)
@pytest.mark.parametrize("key", ["site.url", "http.websub_hub"])
@pytest.mark.parametrize("where", ["file", "environment"])
def test_every_published_url_refuses_credentials(
    tmp_path: Path, key: str, url: str, where: str
) -> None:
    """``site.url`` and ``http.websub_hub`` are published in every feed (the channel's link,
    the JSON Feed's ``home_page_url`` and ``hubs``, ``rel="hub"``), on the home page, and the
    hub's was logged with each failed ping: a tester's ``https://u:SECRET@…`` reached all of
    them while ``config check`` said OK (16 of 16 cases passed before). Refused as
    ``http.public_url``'s, the password never repeated."""
    section, name = key.split(".")
    if where == "file":
        line = one_problem(tmp_path, key, f'[{section}]\n{name} = "{url}"')
    else:
        line = one_problem(tmp_path, key, **{f"FEEDSVC_{section.upper()}__{name.upper()}": url})
    assert "must not hold a user name or password" in line


def test_run_refuses_it_before_starting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["FEEDSVC_HTTP__PUBLIC_URL"] = f"https://u:{SECRET}@tin.example.vn/rss/"
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "run", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "http.public_url" in done.stderr and SECRET not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "url", ["https://tin.example.vn/rss/", "https://tin.example.vn", "http://10.0.0.5:8080/a/b/"]
)
def test_good_public_urls_pass(tmp_path: Path, url: str) -> None:
    code, lines = check(tmp_path, f'[http]\npublic_url = "{url}"')
    assert code == 0, lines


# -- advice: a Zalo webhook Zalo cannot reach ------------------------------------------------

ZALO_TOKEN = {"FEEDSVC_ZALO__TOKEN": "12345689:abc-xyz"}
ZALO_SECRET = {"FEEDSVC_ZALO__WEBHOOK_SECRET": "Zalo-webhook-s3cret"}
ZALO = ZALO_TOKEN | ZALO_SECRET  # the secrets from the environment: the file may not hold them


@pytest.mark.parametrize(
    ("http", "url", "why"),
    [
        ("", "http://127.0.0.1:8080/zalo/webhook", "http.public_url is not set"),
        ('public_url = "https://127.0.0.1/rss/"', "https://127.0.0.1/rss/zalo/webhook",
         "an address of this machine"),
        ('public_url = "http://tin.example.vn/"', "http://tin.example.vn/zalo/webhook",
         "is not https"),
    ],
)  # fmt: skip
def test_a_zalo_webhook_zalo_cannot_use_is_warned(
    tmp_path: Path, http: str, url: str, why: str
) -> None:
    """The README's Zalo setup (a token and a webhook secret, then ``feedsvc run``) without a
    public https ``http.public_url`` passed ``config check`` as OK, and ``run`` registered a
    loopback webhook: the bot never heard a command. One warning says where Zalo would post and
    the two ways out; the secret is never printed."""
    code, lines = said(tmp_path, f"[http]\n{http}\n", ZALO)
    assert code == 0, lines
    warned = [line for line in lines if line.startswith("warning: zalo.webhook_secret: set")]
    assert len(warned) == 1, lines
    assert f"post the bot's updates to {url}, which it cannot use (" in warned[0], warned
    assert why in warned[0] and "unset zalo.webhook_secret to poll" in warned[0], warned
    assert "s3cret" not in "\n".join(lines)


@pytest.mark.parametrize(
    ("text", "env"),
    [('[http]\npublic_url = "https://tin.example.vn/"\n', ZALO),
     ("", ZALO_TOKEN),  # polling: no public address needed
     ("", ZALO_SECRET)],  # Zalo off
)  # fmt: skip
def test_no_zalo_webhook_warning_when_it_can_work_or_is_not_used(
    tmp_path: Path, text: str, env: dict[str, str]
) -> None:
    code, lines = said(tmp_path, text, env)
    assert code == 0 and not any("zalo.webhook_secret: set" in line for line in lines), lines
