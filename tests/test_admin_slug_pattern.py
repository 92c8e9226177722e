"""The admin's form checks in the browser, in headless Chromium: every ``pattern`` compiles.

A browser compiles an input's ``pattern`` with the ``v`` flag, where ``[a-z0-9-]`` (a ``-`` left
unescaped in a class) is a syntax error: Chromium logs it and drops the check, so the slug field
let ``-a``, ``A`` and ``kiến-thụy`` through to the server (a tester's). The slug's ``pattern`` is
now ``topics_file.SLUG`` itself: the browser says what the server will, slug for slug.
"""

from __future__ import annotations

from typing import Any

from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    By,
    driver,
    login_as_admin,
    server,
)

from feedsvc.limits import SLUG as SLUG_LIMIT
from feedsvc.topics_file import SLUG

pytestmark = BROWSER_MARKS

SLUGS = [
    "kien-thuy", "a", "a1", "a--b", "9", "x" * SLUG_LIMIT,  # the server takes these
    "a-", "-a", "-", "-kien-thuy-", "Kien-thuy", "AB", "kiến-thụy", "đ", "a_b", "a b", " a",
    "x" * (SLUG_LIMIT + 1),
]  # fmt: skip

#: each input's ``pattern`` compiled as the browser does (HTML: ``^(?:p)$``, flag ``v``):
#: the error's text, or None
COMPILES = """
return Array.from(document.querySelectorAll('input[pattern]')).map(function (e) {
  try { new RegExp('^(?:' + e.pattern + ')$', 'v'); return [e.id, null]; }
  catch (err) { return [e.id, String(err)]; }
});
"""


def test_every_pattern_compiles_as_a_browser_compiles_it(driver: Any, server: str) -> None:  # noqa: F811
    """The topic editor (the one admin form with a ``pattern``): each compiles, slug's too."""
    login_as_admin(driver, server)
    driver.get(f"{server}/admin/topics/new")
    compiled = dict(driver.execute_script(COMPILES))
    assert "slug" in compiled
    assert {field: error for field, error in compiled.items() if error} == {}


def test_the_slug_field_says_what_the_server_says(driver: Any, server: str) -> None:  # noqa: F811
    login_as_admin(driver, server)
    driver.get(f"{server}/admin/topics/new")
    field = driver.find_element(By.ID, "slug")
    assert field.get_attribute("pattern")
    refused = {}
    for slug in SLUGS:
        refused[slug] = driver.execute_script(
            "arguments[0].value = arguments[1]; return arguments[0].validity.patternMismatch;",
            field,
            slug,
        )
    assert refused == {slug: SLUG.fullmatch(slug) is None for slug in SLUGS}
    assert sum(refused.values()) == 12  # the rule refuses what it should, not only agrees
