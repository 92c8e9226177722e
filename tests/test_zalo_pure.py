"""Zalo's pure parts: the plain-text alert within 2,000 characters whatever the article holds,
update parsing, replies as plain text, and the error classifier (issue 14 §2)."""

from __future__ import annotations

import httpx
import pytest
from factories import VN, article

from feedsvc.channels.zalo import ZaloError, classify, format_zalo_alert
from feedsvc.channels.zalo.updates import parse_command, parse_update, plain_reply
from feedsvc.notify import OutcomeKind, utf16_len
from feedsvc.web.zalo import secret_matches

URL = "https://example.vn/tin/1.html"


@pytest.mark.parametrize(
    "over",
    [
        {"summary": "Lực lượng công an " * 300},  # ~5,400 characters
        {"summary": "🚨 " * 3000},  # astral characters: 2 UTF-16 units each
        {"summary": "<p>Tin <b>nóng</b> &amp; mới</p>" * 400, "body": None},
        {"summary": None, "body": "<p>" + "Đoàn Xá " * 2000 + "</p>"},
        {"title": "Tiêu đề rất dài " * 500, "summary": "x" * 5000},
        {"section": "Mục " * 400, "author": "Tác giả " * 400, "summary": "y " * 4000},
    ],
)
def test_the_alert_always_fits_and_keeps_title_link_and_topics(over: dict[str, object]) -> None:
    item = article(1, **over)
    topics = ["Kiến Thụy", "An ninh " * 100]
    text = format_zalo_alert(item, topics, VN)
    assert utf16_len(text) <= 2000 and len(text) <= 2000
    assert URL in text.splitlines()  # the link is written out, on its own line
    assert "Chủ đề: Kiến Thụy" in text
    assert text.splitlines()[0].startswith(str(item.title)[:20])
    assert "<" not in text and "&amp;" not in text  # plain text, entities decoded


def test_a_short_article_is_whole_with_local_time() -> None:
    text = format_zalo_alert(article(1), ["Kiến Thụy"], VN)
    lines = text.split("\n")
    assert lines[0] == "Công an Kiến Thụy bắt đối tượng trộm cắp số 1"
    assert lines[1] == "An ninh - Trật tự · Minh Châu · 10:35 20/11/2026"
    assert "Lực lượng công an nhanh chóng làm rõ vụ việc." in text
    assert text.endswith("Chủ đề: Kiến Thụy\n" + URL)


def test_paragraphs_and_line_breaks_are_lines_of_the_zalo_alert() -> None:
    """Tester: "<p>Đoạn 1 &amp; 2</p><p>Đoạn 2…</p>" arrived as "Đoạn 1 & 2 Đoạn 2…". Zalo
    keeps its title line (it has no title field); the summary a line per paragraph."""
    summary = "<p>Đoạn 1 &amp; 2</p>\n<p>Đoạn 2 có <b>chữ đậm</b><br>và dòng mới</p><p>&nbsp;</p>"
    text = format_zalo_alert(article(1, summary=summary), ["Kiến Thụy"], VN)
    assert text == (
        "Công an Kiến Thụy bắt đối tượng trộm cắp số 1\n"
        "An ninh - Trật tự · Minh Châu · 10:35 20/11/2026\n\n"
        "Đoạn 1 & 2\nĐoạn 2 có chữ đậm\nvà dòng mới\n\n"
        "Chủ đề: Kiến Thụy\n" + URL
    )


def test_an_absurd_url_is_left_out_rather_than_the_message() -> None:
    long_url = "https://example.vn/" + "a" * 3000
    text = format_zalo_alert(article(1, url=long_url, summary="z" * 5000), ["T"], VN)
    assert utf16_len(text) <= 2000 and long_url not in text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"event_name": "message.text.received", "message": {
            "from": {"id": "u1", "display_name": "Lan"},
            "chat": {"id": "c1", "chat_type": "PRIVATE"}, "text": "/sub kien-thuy"}},
         ("c1", "private", "Lan", "/sub kien-thuy")),
        ({"ok": True, "result": {"event_name": "message.text.received", "message": {
            "chat": {"id": 77, "chat_type": "GROUP", "name": "Nhóm"}, "text": "/list"}}},
         ("77", "group", "Nhóm", "/list")),
    ],
)  # fmt: skip
def test_updates_bare_or_under_result(body: object, expected: tuple[str, ...]) -> None:
    got = parse_update(body)
    assert got is not None
    assert (got.chat_id, got.chat_type, got.title, got.text) == expected


@pytest.mark.parametrize(
    "body",
    [
        None, [], "text", {"event_name": "message.image.received", "message": {}},
        {"event_name": "message.text.received", "message": {"chat": {"id": "c"}, "text": 5}},
        {"event_name": "message.text.received", "message": {"chat": {"id": "x" * 101},
                                                            "text": "/help"}},
        {"event_name": "message.text.received", "message": {"chat": [], "text": "/help"}},
        # ids the admin could never type: control characters, whitespace, empty, a bool
        *({"event_name": "message.text.received", "message": {"chat": {"id": bad},
                                                              "text": "/help"}}
          for bad in ("a\nb", "a\x00", "a b", "\u202eab", "ab\t", "", True, "x" * 101,
                      10**101)),
    ],
)  # fmt: skip
def test_anything_else_is_ignored(body: object) -> None:
    assert parse_update(body) is None


@pytest.mark.parametrize("bad", ["u\n1", "u 1", "", "x" * 101, True])
def test_a_sender_id_that_is_no_id_counts_as_unknown(bad: object) -> None:
    """The per-user budget key is an id as stored, or None (the chat's budget still applies)."""
    body = {"event_name": "message.text.received",
            "message": {"chat": {"id": "c1"}, "from": {"id": bad}, "text": "/help"}}  # fmt: skip
    got = parse_update(body)
    assert got is not None and got.user_id is None


def test_commands_and_plain_replies() -> None:
    assert parse_command('/sub  "công an" OR "an ninh" ') == ("sub", '"công an" OR "an ninh"')
    assert parse_command("/Start@bot kien-thuy") == ("start", "kien-thuy")
    assert parse_command("chào bot") is None
    reply = plain_reply('<b>Kiến Thụy</b> &amp; <a href="https://x.vn/?a=1&amp;b=2">đây</a>')
    assert reply == "Kiến Thụy & đây (https://x.vn/?a=1&b=2)"
    assert utf16_len(plain_reply("<b>x</b>" * 3000)) <= 2000


def test_secret_check() -> None:
    assert secret_matches("s3cret-value", "s3cret-value")
    for given in (None, "", "s3cret-valu", "s3cret-value ", "S3CRET-VALUE", "\udcff"):
        assert not secret_matches("s3cret-value", given)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ZaloError(429, "Too many requests", 7), OutcomeKind.RETRY_AFTER),
        (ZaloError(403, "User has blocked the bot"), OutcomeKind.BLOCKED),
        (ZaloError(403, "Forbidden"), OutcomeKind.BLOCKED),
        (ZaloError(400, "Chat not found"), OutcomeKind.CHAT_NOT_FOUND),
        (ZaloError(400, "user not found"), OutcomeKind.CHAT_NOT_FOUND),
        (ZaloError(404, "User not found"), OutcomeKind.CHAT_NOT_FOUND),
        (ZaloError(400, "Text is too long"), OutcomeKind.BAD_CONTENT),
        (ZaloError(404, "Not Found"), OutcomeKind.TRANSIENT),  # a wrong base_url
        (ZaloError(401, "Unauthorized"), OutcomeKind.TOKEN_REFUSED),  # a wrong token
        (ZaloError(500, "Internal server error"), OutcomeKind.TRANSIENT),
        (ZaloError(502, "Bad gateway"), OutcomeKind.TRANSIENT),
        (httpx.ConnectError("refused"), OutcomeKind.TRANSIENT),
        (httpx.ConnectTimeout("slow"), OutcomeKind.TRANSIENT),
        (httpx.PoolTimeout("busy"), OutcomeKind.TRANSIENT),
        (httpx.ReadTimeout("no answer"), OutcomeKind.AMBIGUOUS),
        (httpx.RemoteProtocolError("closed"), OutcomeKind.AMBIGUOUS),
        (httpx.ReadError("reset"), OutcomeKind.AMBIGUOUS),
    ],
)
def test_classifier(exc: BaseException, kind: OutcomeKind) -> None:
    outcome = classify(exc)
    assert outcome.kind is kind
    if kind is OutcomeKind.RETRY_AFTER:
        assert outcome.seconds == 7


def test_zalo_config(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from pathlib import Path

    from feedsvc.config import ConfigError, load_config

    assert isinstance(tmp_path, Path)
    monkeypatch.setenv("FEEDSVC_ZALO__TOKEN", "1234:zalo-token-from-env")
    settings = load_config(None)
    assert settings.zalo_token() == "1234:zalo-token-from-env"
    assert settings.zalo.base_url == "https://bot-api.zaloplatforms.com"
    assert settings.zalo_webhook_secret() is None
    assert "zalo-token-from-env" not in repr(settings)
    secret = tmp_path / "secret"
    secret.write_text("short\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(None, {"zalo": {"webhook_secret_file": str(secret),
                                    "token_file": str(tmp_path / "missing")}})  # fmt: skip
    keys = {p.key for p in err.value.problems}
    # zalo.token: given twice, in FEEDSVC_ZALO__TOKEN and as token_file (test_config_secret_twice)
    assert keys == {"zalo.webhook_secret", "zalo.token_file", "zalo.token"}
    with pytest.raises(ConfigError):
        load_config(None, {"zalo": {"base_url": "ftp://x", "global_rate": 0}})


@pytest.mark.parametrize(
    "bidi",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
)
def test_bidi_controls_reach_no_plain_alert(bidi: str) -> None:
    """Tester F14: the plain-text alert (Zalo's, Apprise's body) kept U+202E from the title,
    summary, section and author; cleaned now, as the feeds clean it."""
    from feedsvc.channels.plain import format_plain_alert

    item = article(
        1,
        title=f"Kiến Thụy {bidi} điều khiển \x07 chuông",
        summary=f"Công an {bidi}xã &#{ord(bidi)}; Đại Đồng",
        section=f"Thời sự{bidi}",
        author=f"Phạm {bidi}Thu Hà",
    )
    for text in (format_zalo_alert(item, ["Kiến Thụy"], VN), format_plain_alert(item, [], VN)):
        assert bidi not in text, ascii(text)
        assert text.startswith("Kiến Thụy điều khiển chuông\nThời sự · Phạm Thu Hà · ")
        assert "Công an xã Đại Đồng" in text
