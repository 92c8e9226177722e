"""The admin's charts, drawn on the server as SVG by pygal (no JavaScript bundle, no vendored
assets): articles ingested and alerts sent per hour, and subscribers per topic.

pygal embeds a small inline ``<script>`` with its tooltip config in every SVG; the admin serves
the charts as images (``<img>``: scripts never run there) with a CSP that forbids scripts even
when a chart is opened on its own.

pygal is imported by the functions that draw (~80 ms of CPU): the admin's pages import the
rules they share with the charts (:func:`charted`, :func:`chart_height`) at every web start,
and most processes never draw a chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from feedsvc.catalogue import Translator
from feedsvc.graphemes import columns, fitted
from feedsvc.stats import Activity, TopicStats

if TYPE_CHECKING:
    from pygal.style import Style

FONT = (
    '-apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, '
    '"Liberation Sans", "DejaVu Sans", sans-serif'
)
#: the labels' font size, px (pygal's ``label_font_size``)
LABEL_FONT_SIZE = 12


@cache
def chart_style() -> Style:
    """The charts' pygal style, built on the first chart drawn."""
    from pygal.style import Style

    return Style(
        font_family=FONT,
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1d2125",
        foreground_strong="#1d2125",
        foreground_subtle="#5f6b76",
        colors=("#0b5cad", "#e07b00", "#1e6b34", "#b3261e"),
        title_font_size=16,
        label_font_size=LABEL_FONT_SIZE,
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
    import pygal

    chart = pygal.Line(
        js=[], style=chart_style(), width=960, height=320, show_dots=False, fill=False,
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


#: The widest a topic's label on the subscribers chart may be, in columns (about half an em
#: each; a wide character or emoji takes two, :func:`feedsvc.graphemes.columns`): about a
#: quarter of the chart's 960 px, so the bars keep the rest whatever the titles.
LABEL_COLUMNS = 36
#: pygal's estimate of a text's width: 0.6 em per code point (``pygal.util.text_len``).
_EM_PER_CODE_POINT = 0.6
#: pygal's default margin, px (``margin``), which the label room is added to.
_MARGIN = 20


#: The topics the subscribers chart draws: the most followed. 1,085 topics made a 36,542 px
#: tall, 1.1 MB chart; the page says how many more there are and links to the list.
TOP_TOPICS = 30
#: The widest a slug is shown in a label that needs it (titles that repeat), in columns.
SLUG_COLUMNS = 20


def charted(topics: Sequence[TopicStats]) -> tuple[list[TopicStats], int]:
    """The enabled topics the chart draws — the :data:`TOP_TOPICS` with the most subscribers,
    ties by slug — and how many enabled topics it leaves out: the chart and the page that
    shows it (its "and K more topics") decide by this one rule."""
    enabled = sorted((s for s in topics if s.enabled), key=lambda s: (-s.subscribers_total, s.slug))
    return enabled[:TOP_TOPICS], max(0, len(enabled) - TOP_TOPICS)


def chart_height(bars: int) -> int:
    """The subscribers chart's height, px, for ``bars`` topics (the page's ``<img>`` says the
    same, so nothing moves as it loads)."""
    return max(220, 60 + 34 * bars)


def topic_labels(shown: Sequence[TopicStats]) -> list[str]:
    """Each topic's label: its title cut to :data:`LABEL_COLUMNS`; where that label repeats
    (three topics titled "Kiến Thụy", five titled "t"), title and slug — the slug cut to
    :data:`SLUG_COLUMNS`, the title to what is left — so every bar says which topic it is."""
    plain = [fitted(s.title, LABEL_COLUMNS) for s in shown]
    seen: dict[str, int] = {}
    for label in plain:
        seen[label] = seen.get(label, 0) + 1
    labels = []
    for s, label in zip(shown, plain, strict=True):
        if seen[label] > 1:
            slug = fitted(s.slug, SLUG_COLUMNS)
            room = max(1, LABEL_COLUMNS - columns(slug) - 3)
            label = f"{fitted(s.title, room)} ({slug})"
        labels.append(label)
    return labels


def subscribers_chart(topics: Sequence[TopicStats], t: Translator) -> bytes:
    """Horizontal bars: the most followed topics' subscribers (:func:`charted`), one bar
    series per channel.

    A topic's label is its title cut to :data:`LABEL_COLUMNS` between grapheme clusters
    with "…" (:func:`feedsvc.graphemes.fitted`), with its slug where titles repeat
    (:func:`topic_labels`), the whole title and slug its ``<title>`` (the tooltip when the
    SVG is opened; the topics table shows them too). pygal drew every title whole and
    reserved room for it by code points: one 150-character title (or 120 emoji, each drawn
    two columns wide) took nearly the whole width, left the bars a sliver and pushed other
    labels off the edge (a tester's)."""
    import pygal

    shown, _ = charted(topics)
    shown.reverse()  # pygal draws its first bar at the bottom: the most followed on top
    labels = topic_labels(shown)
    chart = pygal.HorizontalBar(
        js=[], style=chart_style(), width=960, height=chart_height(len(shown)),
        legend_at_bottom=True, truncate_label=-1, print_values=True, include_x_axis=True,
        margin_left=_label_room_correction(labels),
    )  # fmt: skip
    chart.title = t("stats.chart_subscribers")
    chart.x_labels = labels
    channels = sorted({c for s in shown for c in s.subscribers}) or ["telegram"]
    chart.y_labels = whole_numbers([n for s in shown for n in s.subscribers.values()])
    for channel in channels:
        chart.add(t(f"channel.{channel}"), [s.subscribers.get(channel, 0) for s in shown])
    titles = [f"{s.title} ({s.slug})" for s in shown]
    chart.add_xml_filter(lambda svg: _title_labels(svg, labels, titles))
    return bytes(chart.render())


def _label_room_correction(labels: Sequence[str]) -> int:
    """``margin_left`` that makes pygal's room for the labels their drawn width: pygal adds
    0.6 em per code point of the longest label (in code points) to the margin; a label is
    drawn :func:`feedsvc.graphemes.columns` wide (an emoji two columns in one code point, a
    letter with its marks in NFD one column in two or three). Never 0 (pygal reads 0 as
    "unset": its own 20 px)."""
    if not labels:
        return _MARGIN
    em = _EM_PER_CODE_POINT * LABEL_FONT_SIZE
    drawn = max(columns(label) for label in labels) * em
    reserved = max(len(label) for label in labels) * em
    return round(_MARGIN + drawn - reserved) or 1


def _title_labels(svg: Any, labels: Sequence[str], titles: Sequence[str]) -> Any:
    """pygal's SVG (its root element; an ``xml_filters`` step) with each topic label's
    ``<title>`` (where pygal writes the label's position, ``0.125``) holding the topic's
    whole title, in the order pygal draws them (the labels' own); left as it is if the
    layout is not the one this expects."""
    axis = next((g for g in svg.iter() if _is(g, "g") and _class(g).startswith("axis y")), None)
    guides = [] if axis is None else [g for g in axis if _is(g, "g")]
    if len(guides) != len(labels):
        return svg
    for group, label, title in zip(guides, labels, titles, strict=True):
        text = next((node for node in group if _is(node, "text")), None)
        if text is None or text.text != label:
            return svg
        named = next((node for node in group if _is(node, "title")), None)
        if named is None:
            named = group.makeelement("title", {})
            group.append(named)
        named.text = title
    return svg


def _is(node: Any, name: str) -> bool:
    """Whether ``node`` is the SVG element ``name`` (pygal's tree holds plain names; a
    namespaced one, ``{http://www.w3.org/2000/svg}g``, is the same)."""
    return isinstance(node.tag, str) and node.tag.rsplit("}", 1)[-1] == name


def _class(node: Any) -> str:
    return str(node.get("class") or "")
