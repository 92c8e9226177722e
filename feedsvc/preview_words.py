"""A topic preview's answer in words of one language (:class:`feedsvc.catalogue.Translator`):
the one wording of its summary and warnings for the admin's live preview and the API's
``POST /api/topics/preview`` (in the request's ``Accept-Language``). The API gave its warnings
in the CLI's English whatever the language asked for (``term an matches 232 of all 457
published articles (51%): too broad?`` to a Vietnamese client) while the admin said them in
Vietnamese: both now word them here, each with a stable code (:data:`WARNING_CODES`). The CLI
keeps its English (:meth:`feedsvc.preview.PreviewResult.warnings`: plain digits). Pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from feedsvc.catalogue import Translator
    from feedsvc.preview import PreviewResult

#: Every warning's machine code, as the API gives it beside the words (``warning_codes``).
WARNING_CODES = ("operator_word", "keyboard_quotes", "broad_term")


class Warning(NamedTuple):
    """One preview warning: its code (:data:`WARNING_CODES`) and its words."""

    code: str
    message: str


def warnings(t: Translator, result: PreviewResult) -> list[Warning]:
    """``result``'s warnings in ``t``'s language, in the CLI's order: words meant as
    operators, phrases between a keyboard's quotes, then over-broad terms."""
    said = [
        Warning(
            "operator_word",
            t("warn.operator_word", word=w.word, operator=w.operator, position=w.position),
        )
        for w in result.operator_words
    ]
    said += [
        Warning(
            "keyboard_quotes",
            t("warn.keyboard_quotes", typed=q.typed, phrase=q.phrase, position=q.position),
        )
        for q in result.keyboard_quotes
    ]
    said += [
        Warning(
            "broad_term",
            t(
                "warn.broad_term" if b.exact else "warn.broad_term_least",
                term=b.term,
                count=t.number(b.count),
                scanned=t.number(b.scanned),
                share=b.share,
            ),
        )
        for b in result.broad_terms
    ]
    return said


def summary(t: Translator, result: PreviewResult) -> str:
    """How many published articles match, then how many of them a backfill puts in the feed
    (:mod:`feedsvc.backfill_window`): "15 of 355 match" alone read as what a save delivers,
    which then added the 13 of the last 30 days. Each sentence agrees with its count
    (:meth:`~feedsvc.catalogue.Translator.counted`: "1 of them is")."""
    if result.indexed:
        key = "preview_count_all" if result.exact else "preview_count_min"
    else:
        key = "preview_count"
    count = t.counted(key, result.count, scanned=result.scanned, checked=result.checked)
    if result.count == 0:
        return count
    window = t.counted(
        "preview_in_window" if result.window_exact else "preview_in_window_min",
        result.in_window,
        days=result.window_days,
    )
    return f"{count} {window}"
