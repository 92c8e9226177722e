"""The one rule for a user name and password in a URL (:mod:`feedsvc.url_credentials`), read as
a browser reads a URL; its uses are ``tests/test_article_url_credentials.py``'s."""

from __future__ import annotations

import pytest
from test_article_url_credentials import FORMS, PLAIN, no_secret

from feedsvc.url_credentials import holds_userinfo, masked, no_host_after, without_userinfo


@pytest.mark.parametrize(("raw", "clean"), list(FORMS.values()), ids=list(FORMS))
def test_the_rule_drops_the_userinfo(raw: str, clean: str) -> None:
    assert holds_userinfo(raw)
    assert without_userinfo(raw) == clean
    assert not holds_userinfo(clean)
    assert no_secret(masked(raw)) and "***@" in masked(raw)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("//user:s3cret@cdn.vn/x.jpg", "//cdn.vn/x.jpg"),  # relative to the scheme
        ("https:\\\\user:s3cret@example.vn/a", "https:\\\\example.vn/a"),  # a browser's
        ("https:user:s3cret@example.vn/a", "https:example.vn/a"),  # credentials too
        ("https://user:s3cret@exam\tple.vn/a", "https://example.vn/a"),  # tab ignored
        ("https://evil.vn\\:s3cret@example.vn/", None),  # the authority ends at "\\"
    ],
)
def test_odd_forms_are_read_as_a_browser_reads_them(raw: str, clean: str | None) -> None:
    if clean is None:
        assert not holds_userinfo(raw) and without_userinfo(raw) == raw
    else:
        assert holds_userinfo(raw) and without_userinfo(raw) == clean


@pytest.mark.parametrize("url", PLAIN)
def test_no_userinfo_is_left_alone(url: str) -> None:
    assert not holds_userinfo(url)
    assert without_userinfo(url) is url and masked(url) is url


@pytest.mark.parametrize(
    ("url", "bare"),
    [("https://u:p@/a", True), ("https://u:p@", True), ("https://u:p@?q", True),
     ("https://u:p@h/a", False), ("https://h/a", False), ("mailto:a@b", False)],
)  # fmt: skip
def test_a_userinfo_before_no_host_is_told(url: str, bare: bool) -> None:
    assert no_host_after(url) is bare
