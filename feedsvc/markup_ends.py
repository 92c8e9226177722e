"""Where the tags and hidden elements of one document end: the caches that keep
:func:`feedsvc.markup.markup_spans` linear in the markup's size whatever it holds (a body is
hostile input: up to 2 MB at ingest). One :class:`Ends` per document, shared by the scan and
the scans of an open embed's fallback (:mod:`feedsvc.markup_fallback`) inside it: each holds
facts about the document, not about a scan, so no part of it is searched twice.

Pure, no imports beyond ``re``.
"""

from __future__ import annotations

import re

#: HTML whitespace (the tokenizer's, not Unicode's): what ends a tag name besides ``/`` and ``>``.
HTML_SPACE = "\t\n\f\r "

# What decides a tag's end: ">" closes it, a quote opens a value that may hold ">".
_TAG_STOP = re.compile("[>\"']")
# Where markup that needs no ">" may begin (a comment, doctype, CDATA, processing instruction).
_BANG = re.compile("<[!?]")
#: Elements no end tag closes once open (``plaintext``: the rest of the document is its text).
NO_END_TAG = frozenset({"plaintext"})
_HIDDEN_END: dict[str, re.Pattern[str]] = {}


def _end_tag(name: str) -> re.Pattern[str]:
    """An element's end tag: ``</`` and its name, then whitespace, "/" or ">" (the tokenizer's
    "appropriate end tag": ``</scripts>``, ``</script-x>`` and ``</script`` at the end are
    text), then anything up to the next ">"."""
    found = _HIDDEN_END.get(name)
    if found is None:
        found = _HIDDEN_END[name] = re.compile(rf"</{name}(?=[{HTML_SPACE}/>])", re.I)
    return found


class Ends:
    """The caches of one document, each made on first use."""

    __slots__ = ("_hidden", "_markup", "_tags")

    def __init__(self, markup: str) -> None:
        self._markup = markup
        self._tags: TagEnds | None = None
        self._hidden: HiddenEnds | None = None

    @property
    def tags(self) -> TagEnds:
        if self._tags is None:
            self._tags = TagEnds(self._markup)
        return self._tags

    @property
    def hidden(self) -> HiddenEnds:
        if self._hidden is None:
            self._hidden = HiddenEnds(self._markup)
        return self._hidden


class HiddenEnds:
    """Where a hidden element's content ends (after its end tag's ``>``), or -1: none does.

    Why cached: a start tag nothing closes is text and the scan goes on after it, so
    ``"<script>" * N`` would search to the end from each of them (quadratic). A search from
    ``pos`` that found no end tag finds none from any later ``pos``; one that found an end tag
    finds the same from any ``pos`` up to it. One entry per element name: linear in all.
    """

    __slots__ = ("_found", "_markup")

    def __init__(self, markup: str) -> None:
        self._markup = markup
        self._found: dict[str, tuple[int, int, int]] = {}  # name -> (from, "</" at, end or -1)

    def end(self, name: str, pos: int) -> int:
        """End of the content of the ``name`` element whose start tag ends at ``pos``."""
        cached = self._found.get(name)
        if cached is not None:
            start, close, after = cached
            if start <= pos and (after < 0 or pos <= close):
                return after
        if name in NO_END_TAG:  # nothing ends it
            return -1
        ends = _end_tag(name)
        markup = self._markup
        found = ends.search(markup, pos)
        gt = -1 if found is None else markup.find(">", found.end())
        after = -1 if gt < 0 else gt + 1
        self._found[name] = (pos, -1 if found is None else found.start(), after)
        return after


class TagEnds:
    """Where the tags of one document end, for the tags :data:`_MARKUP_RE` could not close
    itself (a raw ``<`` after the name, outside quotes, or none of ``>``).

    Why: a tag is ``<name`` then ``(?:[^>"']|"[^"]*"|'[^']*')*>``, and matching that with a
    regex from every ``<`` rescans the rest of the document from each tag that never closes
    (``"<a " * 8000``, 24 KB, took 12 s; a 2 MB body would take hours). The walk from a name to
    its ``>`` stops only at quotes and ``>``; two walks that reach the same opening quote go on
    alike, so a quote seen by a walk that failed is remembered (:attr:`_dead`) and ends a later
    walk at once, and a walk that succeeds is consumed as the tag: linear in all. The first stop
    after a name is cached, so ``"<a " * N`` with no ``>`` at all costs one search.
    """

    __slots__ = ("_dead", "_failed_at", "_markup", "_stop", "_stop_from")

    def __init__(self, markup: str) -> None:
        self._markup = markup
        self._dead: set[int] = set()  # opening quotes from which no ">" is reached
        self._stop_from = -1
        self._stop = -1  # first of ">\"'" at or after _stop_from (len(markup): none)
        self._failed_at = -1  # first stop of the last walk that failed

    def _first_stop(self, pos: int) -> int:
        if not self._stop_from <= pos <= self._stop:
            found = _TAG_STOP.search(self._markup, pos)
            self._stop_from = pos
            self._stop = len(self._markup) if found is None else found.start()
        return self._stop

    def end(self, pos: int) -> int:
        """End (after ``>``) of the tag whose walk is outside quotes at ``pos``; -1 if none."""
        markup = self._markup
        stop = first = self._first_stop(pos)
        walked: list[int] = []
        while stop < len(markup) and stop not in self._dead:
            quote = markup[stop]
            if quote == ">":
                return stop + 1
            walked.append(stop)
            close = markup.find(quote, stop + 1)
            if close < 0:
                break
            found = _TAG_STOP.search(markup, close + 1)
            stop = len(markup) if found is None else found.start()
        self._dead.update(walked)
        self._failed_at = first
        return -1

    def skip(self, pos: int) -> int:
        """After a tag failed to close: where markup may begin next, from ``pos`` on.

        Every later tag whose name ends before the failed walk's first stop has that stop as
        its own, so it fails too: only ``<!``/``<?`` and a name running past the stop remain.
        """
        stop = self._failed_at
        if stop <= pos:
            return pos
        bang = _BANG.search(self._markup, pos, stop)
        if bang is not None:
            return bang.start()
        last = self._markup.rfind("<", pos, stop)
        return stop if last < 0 else last
