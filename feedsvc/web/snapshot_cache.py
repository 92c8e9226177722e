"""The cache of snapshots rendered on demand (search feeds, ``?limit=`` variants), bounded in
bytes: :class:`SnapshotCache`.

Kept apart from the serving of a snapshot (:mod:`feedsvc.web.http_cache`): that module decides
what one request gets from one snapshot; this one decides which rendered snapshots (and what
they were made from) stay in memory, for how long, and what each costs there. Only the
renderers that keep their work use it (:mod:`feedsvc.on_demand`, :mod:`feedsvc.publish`).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass

from cachetools import TTLCache

from feedsvc.web.http_cache import Snapshot

#: What a cached snapshot may cost beyond its body: the gzip copy (never larger than the body,
#: or it is not kept) and the prepared header sets.
SNAPSHOT_OVERHEAD = 2048


@dataclass(frozen=True, slots=True)
class _Kept:
    value: object
    cost: int


def _kept_cost(kept: _Kept) -> int:
    return kept.cost


def snapshot_cost(snapshot: Snapshot) -> int:
    """Bytes a cached snapshot may hold once served: body, its gzip copy, headers (an upper
    bound, so the cache's budget holds however the snapshot is later served)."""
    return 2 * len(snapshot.body) + SNAPSHOT_OVERHEAD


class SnapshotCache:
    """Snapshots rendered on demand (search feeds, ``?limit=`` variants), bounded in **bytes**
    (see :func:`snapshot_cost`) and kept at most ``ttl`` seconds; least recently used go first.

    A bound on entries would not bound memory: one entry may be a 200-item feed of 1 MB. A
    snapshot larger than the whole budget is served but not kept. Thread-safe (routes render
    in the thread pool). Built on ``cachetools.TTLCache`` with ``getsizeof``. What a render
    was made from (a search's results, shared by its spellings) may be kept beside the
    snapshots (:meth:`keep`, :meth:`recall`) under the same budget, expiry and clearing.
    """

    def __init__(self, max_bytes: int, ttl: float) -> None:
        self.max_bytes = max_bytes
        self.ttl = ttl
        #: moved by each :meth:`clear`: a render begun before one keeps nothing after it
        self.generation = 0
        self._data: TTLCache[Hashable, _Kept] = TTLCache(max_bytes, ttl, getsizeof=_kept_cost)
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Snapshot | None:
        found = self.recall(key)
        return found if isinstance(found, Snapshot) else None

    def put(self, key: Hashable, snapshot: Snapshot, generation: int | None = None) -> None:
        self.keep(key, snapshot, snapshot_cost(snapshot), generation)

    def recall(self, key: Hashable) -> object | None:
        """What :meth:`keep` or :meth:`put` stored under ``key`` and is still kept, or None."""
        with self._lock:
            found = self._data.get(key)
        return None if found is None else found.value

    def keep(self, key: Hashable, value: object, cost: int, generation: int | None = None) -> None:
        """Keep ``value``, which holds about ``cost`` bytes, unless it alone is over budget or
        it was made from reads before a :meth:`clear` (``generation``: :attr:`generation`
        when the work began; a takedown's clear must not be undone by a render under way)."""
        if cost > self.max_bytes:
            return
        with self._lock:
            if generation is None or generation == self.generation:
                self._data[key] = _Kept(value, cost)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.generation += 1

    @property
    def size(self) -> int:
        """Bytes held now (by :func:`snapshot_cost`), for tests and metrics."""
        with self._lock:
            self._data.expire()
            return int(self._data.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
