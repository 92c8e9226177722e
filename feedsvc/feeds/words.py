"""The few words a feed itself holds (an untitled item's title, the link after a cut body),
in the feed's language: ``site.language``, from the message catalogue.

Why: they were Vietnamese constants, so an English site's feeds said "(Không có tiêu đề)" and
"Đọc tiếp" under ``<language>vi</language>`` (a verifier's).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class FeedWords:
    untitled: str
    read_more: str


@lru_cache(maxsize=4)
def feed_words(language: str) -> FeedWords:
    """The words of a feed in ``language`` ("vi" or "en"; anything else reads as "vi", as
    :class:`feedsvc.catalogue.Translator` does)."""
    from feedsvc.catalogue import Translator

    t = Translator(language)
    return FeedWords(t("reader.feed_untitled"), t("reader.feed_read_more"))
