"""Every text of the reader pages readable against its background, light and dark.

Found by looking (the ``looks`` pass): the reader pages' main button, "Nhận tin qua Telegram",
was white on Telegram's own #229ed9, 3.0:1; in the dark scheme (a phone set to dark) the
"Chép" (Copy) buttons beside every feed address and the topic search's "Tìm" were white on the
light accent #8ab4f8, 2.1:1. WCAG AA asks 4.5:1 for text of this size (3:1 from 24 px, or
18.66 px bold). Measured in headless Chromium from the computed colours, every element that
holds text of its own, with ``prefers-color-scheme`` emulated.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_admin_browser import BROWSER_MARKS, SERVICES, By, driver, ec, server, wait  # noqa: F401  (driver, server: fixtures)

from feedsvc.operations.backfill import backfill_topic
from feedsvc.store.topics import TopicSpec, save_topic

pytestmark = BROWSER_MARKS

#: [tag, text, colour, background, ratio] of each element whose own text is below AA: the
#: background is the nearest opaque one among the element and its ancestors.
LOW_CONTRAST = r"""
function lum(c) {
  const m = c.match(/[\d.]+/g).map(Number);
  const f = v => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]);
}
function background(el) {
  for (; el; el = el.parentElement) {
    const m = getComputedStyle(el).backgroundColor.match(/[\d.]+/g);
    if (m && (m.length < 4 || +m[3] > 0.5)) return getComputedStyle(el).backgroundColor;
  }
  return "rgb(255, 255, 255)";
}
const low = [];
for (const el of document.body.querySelectorAll("*")) {
  if (!el.getClientRects().length) continue;
  const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join("").trim();
  if (!text) continue;
  const s = getComputedStyle(el), fg = lum(s.color), bg = lum(background(el));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  const size = parseFloat(s.fontSize);
  const large = size >= 24 || (size >= 18.66 && +s.fontWeight >= 700);
  if (ratio < (large ? 3 : 4.5)) {
    low.push([el.tagName, text.slice(0, 40), s.color, background(el), ratio.toFixed(2)]);
  }
}
return low;
"""


def many_topics(service: Any) -> None:
    """51 topics (the index shows its search box past 50), Kiến Thụy with its articles."""
    now = service.db.now()
    with service.db.write() as conn:
        for i in range(50):
            save_topic(conn, TopicSpec(f"a-{i:03d}", f"Đồ Sơn {i + 1}", '"Đồ Sơn"'), "test", now)
        spec = TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"', "Tin về Kiến Thụy")
        save_topic(conn, spec, "test", now)
    backfill_topic(service.db, "kien-thuy")
    service.publisher.refresh()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_reader_pages_text_contrast(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
    scheme: str,
) -> None:
    many_topics(SERVICES[server])
    b = driver
    b.set_window_size(390, 844)
    feature = {"name": "prefers-color-scheme", "value": scheme}
    b.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [feature]})
    low = {}
    for path in ("/", "/?q=kien", "/topics/kien-thuy", "/topics/khong-co", "/khong-co"):
        b.get(f"{server}{path}")
        wait(b).until(ec.presence_of_element_located((By.TAG_NAME, "body")))
        assert b.execute_script(f"return matchMedia('(prefers-color-scheme: {scheme})').matches")
        b.execute_script("for (const d of document.querySelectorAll('details')) d.open = true")
        if found := b.execute_script(LOW_CONTRAST):
            low[path] = found
    assert low == {}
    # what was measured: the buttons are there
    b.get(f"{server}/topics/kien-thuy")
    assert b.find_elements(By.CSS_SELECTOR, "a.button.telegram")
    assert len(b.find_elements(By.CSS_SELECTOR, "button[data-copy]")) == 3
