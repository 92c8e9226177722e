"""Syllable codes: the topic matcher's automata run over one character per syllable key.

Scanning the key streams (``" kiên1 thuy5 | hai3 phong2 "``) cost the automata ~6 characters
per syllable, ~2,000 per stream of a news article, and the streams had to be built first: at
5,000 topics that was a quarter of a match worker's time per article (issue 17 §2). Only a key
that occurs in some needle can take part in a match, so :class:`Codes` gives each such key its
own character and every other key, and a sentence break, one shared *filler*: a needle
``" k1 k2 "`` becomes its keys' codes, a field the codes of its chunks' keys, cached per chunk
with the chunk's search keys (one lookup per chunk gives the matcher and the search text all
they read).

Why the answers cannot change: a needle occurs in a stream exactly when its keys occur as
consecutive keys of the stream (keys are single-space separated and hold no space); codes are
one-to-one on needle keys and the filler is no needle key's code, so that happens exactly when
the needle's codes occur in the field's codes. ``tests/test_matching_codes.py`` checks the
matcher against a scan of the streams.

More needle keys than characters (~1.1 million: absurd, but topics are data) get two
characters each, the first from the lower and the second from the upper half of the code
characters: a match can then only start at a key's first character, so the same holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter

from .normalize import chunk_keys

#: Code characters: "!" and up, without the surrogates (lone surrogates are not text).
_FIRST = 0x21
CAPACITY = 0x110000 - _FIRST - 0x800
#: Chunks remembered per matcher (the normaliser keeps as many).
CACHE_CHUNKS = 200_000

#: One chunk as the matcher reads it: its exact keys' codes, its folded keys' codes, and its
#: search keys (:attr:`~.normalize.ChunkKeys.search`).
Coded = tuple[str, str, tuple[str, ...]]
EXACT, FOLDED, SEARCH = itemgetter(0), itemgetter(1), itemgetter(2)


def _char(i: int) -> str:
    c = _FIRST + i
    return chr(c if c < 0xD800 else c + 0x800)


class Codes:
    """Codes of one matcher's needle keys, and the chunks it has met.

    Safe to share between threads: the cache only gains entries or is cleared, and a chunk
    missing at a lookup is computed again.
    """

    def __init__(self, keys: Iterable[str]) -> None:
        distinct = dict.fromkeys(keys)
        capacity = CAPACITY
        half = capacity // 2
        self.width = 1 if len(distinct) < capacity else 2  # code 0 is the filler

        def code(i: int) -> str:
            return _char(i) if self.width == 1 else _char(i // half) + _char(half + i % half)

        self.filler = code(0)
        self._table = {key: code(i) for i, key in enumerate(distinct, 1)}
        self._chunks: dict[str, Coded] = {}

    def needle(self, needle: str) -> str:
        """The codes of a needle (``" k1 k2 "``) whose keys were given at construction."""
        return "".join([self._table[key] for key in needle.split()])

    def lookup(self, chunks: Sequence[str]) -> list[Coded]:
        """Each of a field's :func:`~.normalize.chunks` as the matcher reads it."""
        try:
            return list(map(self._chunks.__getitem__, chunks))
        except KeyError:  # a chunk not met yet (or the cache was cleared meanwhile)
            get = self._chunks.get
            return [get(c) or self._remember(c) for c in chunks]

    def _remember(self, chunk: str) -> Coded:
        """One chunk, cached; returned as computed (filling may clear the cache)."""
        (keys,) = chunk_keys((chunk,))
        table, filler = self._table, self.filler
        coded = (
            "".join([table.get(key, filler) for key in keys.exact.split()]),
            "".join([table.get(key, filler) for key in keys.folded.split()]),
            keys.search,
        )
        if len(self._chunks) >= CACHE_CHUNKS:
            self._chunks.clear()
        self._chunks[chunk] = coded
        return coded
