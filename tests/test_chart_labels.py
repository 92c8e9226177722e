"""The admin's subscribers-per-topic chart keeps its bars whatever the topics' titles (a
tester's: one 150-character Vietnamese title, or 120 emoji, took nearly the whole 960 px for
the axis labels, the bars were a sliver and other labels were pushed off the edge, "Kiến",
"Phá"). A label is its title cut between grapheme clusters with "…"
(``graphemes.fitted``, ``charts.LABEL_COLUMNS``), the whole title its ``<title>``; pygal's
room for the labels follows their drawn width. Asserted on the SVG here; as Chromium draws it
in ``test_chart_labels_browser``."""

from __future__ import annotations

import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import regex
from lxml import etree  # type: ignore[import-untyped]

from feedsvc.catalogue import Translator
from feedsvc.graphemes import columns, fitted
from feedsvc.stats import TopicStats
from feedsvc.stats.charts import LABEL_COLUMNS, subscribers_chart

SVG = "{http://www.w3.org/2000/svg}"
WIDTH = 960
LONG_VI = (
    "Tình hình an ninh trật tự, phòng chống tội phạm trên địa bàn huyện Kiến Thụy và các xã "
    "lân cận, bao gồm Đoàn Xá, Đại Hợp, Tân Trào, Ngũ Đoan, Thụy Hương và Tú Sơn"
)
#: long titles of every kind, each charted beside short ones
LONG = {
    "vietnamese-150": LONG_VI,
    "vietnamese-nfd": unicodedata.normalize("NFD", LONG_VI),
    "emoji-120": "😀" * 120,
    "family-zwj-40": "👨\u200d👩\u200d👧" * 40,
    "flags-60": "🇻🇳" * 60,
    "keycaps-50": "1\ufe0f\u20e3" * 50,
    "cjk-80": "河内市新闻" * 16,
    "marks-stacked": "e\u0301\u0323\u0302" * 90,
    "title-limit-500": ("Kiến Thụy " * 50).strip(),
    "one-word-300": "Đ" * 300,
}
SHORT = ["Kiến Thụy", "Pháp luật", "Đồ Sơn"]


def chart(titles: list[str]) -> Any:
    """The chart of topics ``t0``, ``t1``… titled ``titles``, more subscribers each: their
    labels in that order in the SVG, from the bottom (the most followed on top)."""
    stats = [
        TopicStats(f"t{i}", title, True, 1, None, {"telegram": i + 1, "zalo": i}, [], [])
        for i, title in enumerate(titles)
    ]
    svg = subscribers_chart(stats, Translator("vi", ZoneInfo("Asia/Ho_Chi_Minh")))
    return etree.fromstring(svg)


def of_class(root: Any, tag: str, name: str) -> list[Any]:
    """The ``tag`` elements whose class is ``name`` (or starts with it and a space)."""
    return [n for n in root.iter(SVG + tag) if f"{n.get('class')} ".startswith(f"{name} ")]


def plot_area(root: Any) -> tuple[float, float]:
    """The plot's left edge and width, px."""
    (plot,) = [n for n in root.iter(SVG + "g") if n.get("class") == "plot"]
    left = float(plot.get("transform").split("(")[1].split(",")[0])
    (background,) = [n for n in plot.iter(SVG + "rect") if n.get("class") == "background"]
    return left, float(background.get("width"))


def labels(root: Any) -> list[tuple[str, str]]:
    """Each topic label on the axis: its text and its ``<title>``."""
    (axis,) = of_class(root, "g", "axis y")
    return [(g.find(SVG + "text").text, g.find(SVG + "title").text) for g in axis]


def clusters(text: str) -> list[str]:
    return regex.findall(r"\X", text)


@pytest.mark.parametrize("name", LONG)
def test_a_long_title_leaves_the_bars_their_width(name: str) -> None:
    titles = [SHORT[0], LONG[name], *SHORT[1:]]
    root = chart(titles)
    left, width = plot_area(root)
    assert width >= 0.6 * WIDTH and left <= 0.35 * WIDTH, (left, width)
    # room for the widest label as drawn (0.6 em a column at 12 px), inside the image
    widest = max(columns(text) for text, _ in labels(root))
    assert widest <= LABEL_COLUMNS
    assert left - 5 - widest * 0.6 * 12 >= 0
    assert labels(root) == [
        (SHORT[0], f"{SHORT[0]} (t0)"),
        (fitted(LONG[name], LABEL_COLUMNS), f"{LONG[name]} (t1)"),
        *[(t, f"{t} (t{i})") for i, t in enumerate(SHORT[1:], 2)],
    ]


@pytest.mark.parametrize("name", LONG)
def test_a_cut_label_is_whole_clusters_of_the_title_and_an_ellipsis(name: str) -> None:
    title = LONG[name]
    ((text, whole),) = labels(chart([title]))
    assert whole == f"{title} (t0)" and text.endswith("…") and text != title
    kept = clusters(text[:-1])
    assert kept and kept == clusters(title)[: len(kept)]  # never half a letter or an emoji
    assert columns(text) <= LABEL_COLUMNS
    assert columns(text) >= LABEL_COLUMNS - 3  # the room is used, not a few characters


def test_short_titles_are_whole_and_the_plot_is_as_wide_as_before() -> None:
    root = chart(SHORT)
    assert labels(root) == [(t, f"{t} (t{i})") for i, t in enumerate(SHORT)]
    left, width = plot_area(root)
    assert width >= 0.85 * WIDTH and left < 120, (left, width)


def test_many_long_titles_alike_each_keep_their_title() -> None:
    """Titles alike in their first columns would show the same label: each says its slug
    too (``charts.topic_labels``), within the label's columns, and keeps its own
    ``<title>``, in order."""
    titles = [f"{LONG_VI} {n}" for n in range(6)]
    shown = labels(chart(titles))
    assert [title for _, title in shown] == [f"{t} (t{i})" for i, t in enumerate(titles)]
    assert len({text for text, _ in shown}) == 6
    for i, (text, _) in enumerate(shown):
        assert text.endswith(f"… (t{i})") and columns(text) <= LABEL_COLUMNS


def test_fitted_counts_wide_clusters_twice_and_keeps_short_text() -> None:
    assert fitted("Kiến Thụy", 9) == "Kiến Thụy" and columns("Kiến Thụy") == 9
    assert columns(unicodedata.normalize("NFD", "Kiến Thụy")) == 9
    assert columns("😀🇻🇳👨\u200d👩\u200d👧1\ufe0f\u20e3河") == 10
    assert fitted("😀" * 5, 6) == "😀😀…"
    assert fitted("ab cd", 4) == "ab…"  # no space before the ellipsis
    assert fitted("", 4) == ""
