"""Prepared feed items remembered across renders, keyed by the article's fields with its long
texts as digests, never by the article itself.

Sanitising is most of a render's cost, and a topic feed re-rendered after an ingest mostly holds
articles it held before, so :func:`feedsvc.feeds.model.prepare_items` remembers each article's
:class:`~feedsvc.feeds.model.FeedItem`. Why not ``functools.lru_cache``: it keyed its entries by
the :class:`~feedsvc.articles.Article` and so kept every article it had seen whole, bodies of up
to 2,000,000 characters (~4 MB each as a Python string of Vietnamese text, two bytes a
character): 90 such articles held 335 MB for as long as the service ran (a tester's U5,
``bench/huge_bodies.py``). A key here (:func:`memo_key`) holds every compared field of the
article, a text longer than :data:`SHORT` characters as its BLAKE2b digest, so a new version of
an article (an edited body, a new ``updated_at``) is a new key, as before, and the memo holds
no long text but its items': at most :data:`MAX_ITEMS` of them and :data:`MAX_CHARS` characters
of their text (an item's sanitised body is cut at ``sanitize.MAX_HTML_CHARS``, so the bound in
characters only matters for big articles; the least recently used are dropped). Pure but for
its own lock (renders run on several threads).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING

from feedsvc.articles import Article

if TYPE_CHECKING:
    from feedsvc.feeds.model import FeedItem

#: items remembered at most (the lru_cache's bound, kept)
MAX_ITEMS = 2048
#: characters of text remembered at most, items' and keys' (16 Mi: 2,048 items of ordinary
#: articles of ~3,000 characters fit; ~100 items of huge articles, 100,000 characters of
#: sanitised body each)
MAX_CHARS = 16 * 1024 * 1024

#: the fields an article is compared by (``credentials_dropped`` is not its content)
_COMPARED = tuple(f.name for f in fields(Article) if f.compare)
#: a text field longer than this (characters) is keyed by its digest, not held: an ordinary body
#: (a few thousand characters) is held, as hashing it costs nothing more than ``hash`` does,
#: while encoding and digesting it cost ~15 µs an item per render (a 50-item feed's render
#: took ~1 ms more)
SHORT = 4096


def _digest(value: str | tuple[str, ...]) -> bytes:
    """32 bytes of BLAKE2b: a long text, or tags, each tag's length before it."""
    digest = hashlib.blake2b(digest_size=32)
    for text in (value,) if isinstance(value, str) else value:
        data = text.encode("utf-8", "surrogatepass")
        digest.update(b"%d:" % len(data))
        digest.update(data)
    return digest.digest()


def _kept(value: object) -> object:
    """A field's value as the key holds it: itself when short, else its digest (bytes, which no
    ``str`` or ``tuple`` equals)."""
    if isinstance(value, str) and len(value) > SHORT:
        return _digest(value)
    if isinstance(value, tuple) and sum(len(v) for v in value) > SHORT:
        return b"T" + _digest(value)
    return value


def memo_key(article: Article) -> tuple[object, ...]:
    """What tells ``article`` apart from any other that compares unequal, without holding its
    long texts: each compared field's value, a long text (a body, a summary) as its digest.
    Compared as the article is (an instant equal in another offset is equal: its item is the
    same, ``prepare_item`` shows UTC). Costs one UTF-8 copy of one field at a time."""
    return tuple(_kept(getattr(article, name)) for name in _COMPARED)


def item_chars(item: FeedItem, key: tuple[object, ...] = ()) -> int:
    """Characters of text an item and its key hold (what :data:`MAX_CHARS` counts)."""
    texts = (item.content_html, item.summary_html, item.summary_text, item.title, item.url)
    held = sum(len(t) for t in texts if t)
    return held + sum(len(v) for v in key if isinstance(v, str | bytes))


Key = tuple[str, str, tuple[object, ...]]


class ItemMemo:
    """Least recently used items by ``(site_url, language, memo_key)``, bounded in items
    and characters (see the module's docstring)."""

    def __init__(self, max_items: int = MAX_ITEMS, max_chars: int = MAX_CHARS) -> None:
        self.max_items = max_items
        self.max_chars = max_chars
        self._items: OrderedDict[Key, tuple[FeedItem, int]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(
        self,
        site_url: str,
        article: Article,
        language: str,
        prepare: Callable[[str, Article, str], FeedItem],
    ) -> FeedItem:
        """The item of ``article`` in ``language``, prepared by ``prepare`` when not held.
        Prepared outside the lock: two threads may both prepare one item; either is kept."""
        fields_key = memo_key(article)
        key = (site_url, language, fields_key)
        with self._lock:
            held = self._items.get(key)
            if held is not None:
                self._items.move_to_end(key)
                return held[0]
        item = prepare(site_url, article, language)
        size = item_chars(item, fields_key)
        if size > self.max_chars:
            return item
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._chars -= old[1]
            self._items[key] = (item, size)
            self._chars += size
            while len(self._items) > self.max_items or self._chars > self.max_chars:
                _, (_, dropped) = self._items.popitem(last=False)
                self._chars -= dropped
        return item

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0

    def held(self) -> tuple[int, int]:
        """Items and characters held now."""
        with self._lock:
            return len(self._items), self._chars
