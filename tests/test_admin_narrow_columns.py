"""The admin's lists keep every column readable, in headless Chromium (laptop and phone).

Found by a tester (the admin, as a newsroom admin), on the demo as shipped: its topic
``an-ninh`` is used by ``kien-thuy-an-ninh`` (``@an-ninh``), so the topics list says "Không xoá
được: kien-thuy-an-ninh dùng @an-ninh trong truy vấn" in place of its delete button, inside the
actions cell that never wraps. At 1,280 px that one line left the title column a word wide: the
queries under the titles split mid-syllable ("côn|g an", "phạ|m"), and with a second user of the
topic the table ran past the window. On a 360 px phone the deliveries' state filter, as wide as
its longest state's name, ran 14 px past the window.
"""

from __future__ import annotations

from typing import Any

from test_admin_browser import (  # noqa: F401  (driver, server: the fixtures)
    BROWSER_MARKS,
    SERVICES,
    driver,
    login_as_admin,
    no_sideways_scroll,
    save_topic_in,
    server,
)

from feedsvc.store.topics import TopicSpec

pytestmark = BROWSER_MARKS

#: the demo's an-ninh query (feedsvc/demo_data/topics.toml), and two topics using it
AN_NINH = (
    '"an ninh" OR "công an" OR "trật tự" OR "tội phạm" OR "bắt giữ" OR "truy nã" OR "trộm cắp"'
    ' OR "lừa đảo" OR "ma túy" OR "đánh bạc" OR "cướp giật" OR "cố ý gây thương tích"'
)
TOPICS = [
    TopicSpec("an-ninh", "An ninh - Trật tự", AN_NINH),
    TopicSpec("kien-thuy-an-ninh", "An ninh Kiến Thụy", '"Kiến Thụy" @an-ninh'),
    TopicSpec("do-son-an-ninh-trat-tu", "An ninh Đồ Sơn", '"Đồ Sơn" @an-ninh'),
]

#: the words of each query under a title that sit on more than one line (split mid-word)
SPLIT_WORDS = """
var out = [];
document.querySelectorAll('table.topics .query').forEach(function (div) {
  var text = div.firstChild, at = 0;
  text.data.split(' ').forEach(function (word) {
    var range = document.createRange();
    range.setStart(text, at); range.setEnd(text, at + word.length);
    var tops = new Set(Array.from(range.getClientRects()).map(function (r) {
      return Math.round(r.top); }));
    if (tops.size > 1) out.push(word);
    at += word.length + 1;
  });
});
return out;
"""


def test_a_topic_that_cannot_be_deleted_leaves_its_title_room(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
) -> None:
    service = SERVICES[server]
    for spec in TOPICS:
        save_topic_in(service, spec)
    b = driver
    login_as_admin(b, server)
    for width in (1280, 1024):
        b.set_window_size(width, 900)
        b.get(f"{server}/admin/topics")
        no_sideways_scroll(b)
        assert b.execute_script(SPLIT_WORDS) == [], width
        title = b.execute_script(
            "return document.querySelector('table.topics td.text').getBoundingClientRect().width"
        )
        assert title >= 144, (width, title)  # 9rem: a column of words keeps a floor
        note = b.execute_script(
            "var n = document.querySelector('td.actions .blocked');"
            "return [n.textContent, n.getClientRects().length > 0]"
        )
        assert note[0].startswith(
            "Không xoá được: đang được dùng bởi do-son-an-ninh-trat-tu, kien-thuy-an-ninh"
        )


def test_the_deliveries_filter_fits_a_phone(
    server: str,  # noqa: F811  (the imported fixture)
    driver: Any,  # noqa: F811
) -> None:
    b = driver
    login_as_admin(b, server)
    b.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 360, "height": 760, "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        for path in ("/admin/deliveries", "/admin/deliveries?state=unsubscribed"):
            b.get(f"{server}{path}")
            no_sideways_scroll(b)
            right = b.execute_script(
                "return [document.getElementById('state').getBoundingClientRect().right,"
                " document.documentElement.clientWidth]"
            )
            assert right[0] <= right[1], (path, right)
            options = b.execute_script(
                "return Array.from(document.querySelectorAll('#state option'))"
                ".map(function (o) { return o.textContent; })"
            )
            assert all(o[0].isupper() for o in options), options  # "Tin gửi hỏng" as the rest
    finally:
        b.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
