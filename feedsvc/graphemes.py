"""Where a text may be cut: between grapheme clusters (Unicode UAX #29, extended clusters),
the units a reader sees as one character.

A cut between code points can still split what is drawn as one sign: a flag is two regional
indicators (🇻🇳 = U+1F1FB U+1F1F3; cut after the first, the reader sees a lone "🇻"), a family
emoji is several joined by ZWJ, a keycap is a digit, U+FE0F and U+20E3, and a letter typed in
decomposed form carries its tone mark as a following combining character (``e`` + U+0301). The
clusters come from the ``regex`` package's ``\\X``, which follows the Unicode version it ships
(the standard library has no segmentation). Every alert, bot reply and excerpt cut goes through
:func:`prefix` (:func:`shortened` adds the "…") — pure.
"""

from __future__ import annotations

import unicodedata

import regex

_CLUSTER = regex.compile(r"\X")


#: How far back :func:`prefix` looks for a place where a cluster surely begins before it
#: segments from the start instead (a long run of emoji or marks: rare, and still linear).
LOOK_BACK = 256


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units (Telegram's and Zalo's unit: a code point outside the BMP
    counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def prefix(text: str, budget: int, *, utf16: bool = False) -> str:
    """The longest start of ``text`` made of whole grapheme clusters at most ``budget`` long:
    code points, or UTF-16 units with ``utf16`` (the chat platforms' unit). A first cluster
    longer than the whole budget (a letter under thousands of combining marks) is cut between
    code points instead, so a hostile text still yields a start rather than nothing.

    Only the clusters near the cut are segmented (an alert's summary is cut on every send, a
    feed excerpt on every render): from the last place before it where a cluster surely
    begins — an ASCII character not after CR or a prepended mark (UAX #29 GB3, GB9–GB13) —
    within :data:`LOOK_BACK` code points, else from the start."""
    cut = _code_point_cut(text, budget, utf16)
    if cut >= len(text):
        return text
    start = _sure_start(text, cut)
    end = start
    for match in _CLUSTER.finditer(text, start):
        if match.end() > cut:
            break
        end = match.end()
    return text[: end or cut]


def cluster_at(text: str, at: int) -> tuple[int, int]:
    """``(start, end)``: the code point offsets of the grapheme cluster that holds code point
    ``at`` of ``text`` (0 ≤ ``at`` < ``len(text)``); segments only near it, as :func:`prefix`."""
    start = 0 if at <= 0 else _sure_start(text, at)
    for match in _CLUSTER.finditer(text, start):
        if match.end() > at:
            return match.start(), match.end()
    return at, at + 1  # not reached for 0 ≤ at < len(text)


def _code_point_cut(text: str, budget: int, utf16: bool) -> int:
    """How many code points of ``text`` fit in ``budget`` (C-speed slicing, no loop)."""
    if not utf16:
        return max(0, min(len(text), budget))
    units = text.encode("utf-16-le", "surrogatepass")[: 2 * max(0, budget)]
    return len(units.decode("utf-16-le", "ignore"))  # a half pair at the end is dropped


def _sure_start(text: str, cut: int) -> int:
    """A cluster boundary at or before ``cut``: the nearest place within :data:`LOOK_BACK`
    where :func:`_sure_break` holds; inside a run of regional indicators, the place the run's
    pairs give (GB12, GB13); else the start."""
    if _is_ri(text[cut]) and _is_ri(text[cut - 1]):
        run = cut
        while run > 0 and _is_ri(text[run - 1]):
            run -= 1
        return cut - (cut - run) % 2
    for at in range(cut, max(0, cut - LOOK_BACK), -1):
        if _is_ri(text[at - 1]) and _is_ri(text[at]):
            continue  # between two regional indicators: a break or not by the run's parity
        if _sure_break(_kind(text[at - 1]), _kind(text[at])):
            return at
    return 0


def _is_ri(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


_KIND_NAMES: tuple[str, ...] = ("CR", "LF", "Control", "Extend", "ZWJ", "Prepend", "SpacingMark")
_KIND_NAMES += ("L", "V", "T", "LV", "LVT")  # Hangul jamo and syllables (GB6-GB8)
_KINDS = [(kind, regex.compile(rf"\p{{Grapheme_Cluster_Break={kind}}}")) for kind in _KIND_NAMES]
_HANGUL_JOINS = {
    ("L", "L"), ("L", "V"), ("L", "LV"), ("L", "LVT"),
    ("LV", "V"), ("LV", "T"), ("V", "V"), ("V", "T"), ("LVT", "T"), ("T", "T"),
}  # fmt: skip


def _kind(char: str) -> str:
    """The character's Grapheme_Cluster_Break value among those :func:`_sure_break` asks
    about ("Other" for the rest: letters, digits, punctuation, pictographs)."""
    if char < "\x7f":
        return {"\r": "CR", "\n": "LF"}.get(char, "Control" if char < " " else "Other")
    for kind, pattern in _KINDS:
        if pattern.match(char):
            return kind
    return "Other"


def _sure_break(before: str, after: str) -> bool:
    """Whether a cluster surely ends between characters of these kinds whatever precedes them
    (UAX #29 GB3–GB9b); after an Extend, a ZWJ or a Prepend it depends on more context
    (GB9c, GB11), so not surely."""
    if before == "CR":
        return after != "LF"
    if before in ("LF", "Control") or after in ("CR", "LF", "Control"):
        return True
    if after in ("Extend", "ZWJ", "SpacingMark") or before in ("Extend", "ZWJ", "Prepend"):
        return False
    return (before, after) not in _HANGUL_JOINS


def shortened(text: str, limit: int) -> str:
    """``text`` when at most ``limit`` code points, else its start in whole clusters and "…",
    ``limit`` code points in all (a bot's echo of a query, a CLI cell)."""
    if len(text) <= limit:
        return text
    return prefix(text, limit - 1) + "…"


def cluster_columns(cluster: str) -> int:
    """How wide one grapheme cluster is drawn, in columns of about half an em (what a narrow
    letter takes, pygal's and a terminal's unit): 2 for a cluster holding an East Asian wide
    or fullwidth character (CJK, most emoji), a regional indicator (a flag) or U+FE0F (an
    emoji drawn as one), else 1 (a letter with all its marks, in any Unicode form)."""
    if cluster.isascii():
        return 1
    for char in cluster:
        if char == "\ufe0f" or _is_ri(char) or unicodedata.east_asian_width(char) in "WF":
            return 2
    return 1


def columns(text: str) -> int:
    """How wide ``text`` is drawn, in columns (:func:`cluster_columns`, summed)."""
    if text.isascii():
        return len(text)
    return sum(cluster_columns(match[0]) for match in _CLUSTER.finditer(text))


def fitted(text: str, limit: int) -> str:
    """``text`` when at most ``limit`` columns wide (:func:`columns`), else its longest start
    of whole clusters that leaves a column for "…", spaces at its end dropped, and "…": a
    label that keeps its room (a chart's axis) whatever the text, never cut inside a letter
    and its tone marks or inside an emoji."""
    if text.isascii() and len(text) <= limit:
        return text
    taken, cut = 0, 0
    for match in _CLUSTER.finditer(text):
        taken += cluster_columns(match[0])
        if taken > limit:
            return text[:cut].rstrip() + "…"
        if taken <= limit - 1:
            cut = match.end()
    return text
