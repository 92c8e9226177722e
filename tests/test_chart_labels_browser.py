"""The subscribers chart as Chromium draws it (``test_chart_labels`` asserts on the SVG):
every topic's label inside the image, left of the plot, the bars at least 60 % of its width,
with 150-character Vietnamese, 120-emoji and CJK titles beside short ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from test_admin_browser import BROWSER_MARKS, driver  # noqa: F401  (driver: the fixture)
from test_chart_labels import LONG, SHORT, WIDTH

from feedsvc.catalogue import Translator
from feedsvc.stats import TopicStats
from feedsvc.stats.charts import subscribers_chart

pytestmark = BROWSER_MARKS


def drawn(browser: Any, svg: bytes, tmp_path: Path) -> dict[str, Any]:
    """Where Chromium draws the labels and the plot: px from the image's left."""
    file = tmp_path / "chart.svg"
    file.write_bytes(svg)
    browser.get(file.as_uri())
    return browser.execute_script(  # type: ignore[no-any-return]
        "const root = document.documentElement.getBoundingClientRect();"
        "const box = (n) => { const r = n.getBoundingClientRect();"
        "  return [r.left - root.left, r.right - root.left]; };"
        "return {labels: [...document.querySelectorAll('.axis.y text')].map("
        "  (t) => [t.textContent, ...box(t)]),"
        " plot: box(document.querySelector('.plot > .background'))};"
    )


def test_chromium_draws_every_label_inside_the_image_beside_wide_bars(
    driver: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    titles = [SHORT[0], LONG["vietnamese-150"], LONG["emoji-120"], LONG["cjk-80"], *SHORT[1:]]
    stats = [
        TopicStats(f"t{i}", t, True, 1, None, {"telegram": i + 1}, [(date.today(), 0)], [])
        for i, t in enumerate(titles)
    ]
    svg = subscribers_chart(stats, Translator("vi", ZoneInfo("Asia/Ho_Chi_Minh")))
    seen = drawn(driver, svg, tmp_path)
    plot_left, plot_right = seen["plot"]
    assert plot_right - plot_left >= 0.6 * WIDTH, seen
    assert len(seen["labels"]) == len(titles)
    for text, left, right in seen["labels"]:
        assert left >= 0 and right <= plot_left, (text, left, right, plot_left)
    assert {text for text, _, _ in seen["labels"]} >= set(SHORT)  # whole, not "Kiến", "Phá"
