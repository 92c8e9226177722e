"""The admin's charts, drawn on the server as SVG by pygal (no JavaScript bundle, no vendored
assets): articles ingested and alerts sent per hour, and subscribers per topic.

pygal embeds a small inline ``<script>`` with its tooltip config in every SVG; the admin serves
the charts as images (``<img>``: scripts never run there) with a CSP that forbids scripts even
when a chart is opened on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pygal
from pygal.style import Style

from feedsvc.catalogue import Translator
from feedsvc.stats import Activity, TopicStats

FONT = (
    '-apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, '
    '"Liberation Sans", "DejaVu Sans", sans-serif'
)
STYLE = Style(
    font_family=FONT,
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2125",
    foreground_strong="#1d2125",
    foreground_subtle="#5f6b76",
    colors=("#0b5cad", "#e07b00", "#1e6b34", "#b3261e"),
    title_font_size=16,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
)


def whole_numbers(values: Sequence[int]) -> list[int]:
    """Value-axis ticks for counts: whole numbers, about eight of them (pygal's own picks
    fractions such as 0.1 for a handful of subscribers)."""
    top = max(4, *values) if values else 4
    step = max(1, math.ceil(top / 8))
    return list(range(0, top + step, step))


#: The CSP the admin sends with a chart: its own inline styles, nothing else.
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def activity_chart(data: Activity, t: Translator, tz: ZoneInfo) -> bytes:
    """Two lines over the window's hours, one x label per local midnight (the date)."""
    chart = pygal.Line(
        js=[], style=STYLE, width=960, height=320, show_dots=False, fill=False,
        show_minor_x_labels=False, truncate_label=-1, legend_at_bottom=True,
        x_label_rotation=0, min_scale=2, max_scale=6, include_x_axis=True,
    )  # fmt: skip
    chart.title = t("stats.chart_activity")
    # only local midnights are named (the date); pygal matches major labels by text, so the
    # other hours get an empty label, which is minor and hidden
    local = [h.astimezone(tz) for h in data.hours]
    day = "{:%d/%m}" if t.language == "vi" else "{:%m-%d}"
    chart.x_labels = [day.format(h) if h.hour == 0 else "" for h in local]
    chart.x_labels_major = [label for label in chart.x_labels if label]
    chart.y_labels = whole_numbers([*data.articles, *data.alerts])
    chart.add(t("stats.series_articles"), data.articles)
    chart.add(t("stats.series_alerts"), data.alerts)
    return bytes(chart.render())


def subscribers_chart(topics: Sequence[TopicStats], t: Translator) -> bytes:
    """Horizontal bars: each topic's subscribers, one bar series per channel."""
    shown = [s for s in topics if s.enabled]
    chart = pygal.HorizontalBar(
        js=[], style=STYLE, width=960, height=max(220, 60 + 34 * len(shown)),
        legend_at_bottom=True, truncate_label=-1, print_values=True, include_x_axis=True,
    )  # fmt: skip
    chart.title = t("stats.chart_subscribers")
    chart.x_labels = [s.title for s in shown]
    channels = sorted({c for s in shown for c in s.subscribers}) or ["telegram"]
    chart.y_labels = whole_numbers([n for s in shown for n in s.subscribers.values()])
    for channel in channels:
        chart.add(t(f"channel.{channel}"), [s.subscribers.get(channel, 0) for s in shown])
    return bytes(chart.render())
