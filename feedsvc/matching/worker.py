"""Matching articles in bulk, in this process or in a match-pool process (issue 17 §2).

A first sync at thousands of topics spends most of its CPU normalising and matching, so ingest
hands that work to a worker process (:mod:`feedsvc.ingest.pool`) while it reads and writes. Both
paths go through :func:`match_text`, so a worker's answer is the in-process answer by
construction. This module lives under ``matching`` so that a spawned worker imports only the
matcher (~40 ms), not SQLAlchemy; :func:`serve` is the worker's loop (a pipe in, a pipe out).

Messages (pickled by :mod:`multiprocessing`):

* to the worker: ``(version, spec or None, texts)``: the topics' ``version``, the
  :class:`MatcherSpec` only when the sender believes the worker lacks that version, and the
  batch's :data:`ArticleText` tuples; ``None`` ends the worker.
* from the worker: ``None`` ("send the spec": it does not hold ``version``), or one
  :data:`Matched` per text, in order.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection

from .document import build_document, search_keys
from .multi import TopicMatcher

#: What matching reads of an article: title, summary, body, tags, section, author.
ArticleText = tuple[str | None, str | None, str | None, tuple[str, ...], str | None, str | None]
#: An article's search text and ``slug → matched term labels`` (topic order).
Matched = tuple[str, dict[str, list[str]]]


@dataclass(frozen=True, slots=True)
class MatcherSpec:
    """What another process needs to build the same :class:`TopicMatcher`: the enabled topics'
    ``slug → query`` and every topic's query for ``@slug`` references."""

    queries: dict[str, str]
    refs: dict[str, str]

    def build(self) -> TopicMatcher:
        return TopicMatcher.build(self.queries, refs=self.refs)


def match_text(matcher: TopicMatcher | None, text: ArticleText) -> Matched:
    """Normalise one article's text and match it; no matcher (no topics yet): search text only.
    The one implementation behind ``TopicIndex.match`` and the match pool."""
    doc = build_document(*text)
    return (search_keys(doc), {}) if matcher is None else matcher.search_and_match(doc)


def match_texts(matcher: TopicMatcher | None, texts: Sequence[ArticleText]) -> list[Matched]:
    return [match_text(matcher, t) for t in texts]


def serve(conn: Connection) -> None:
    """A match-pool worker: answer batches until told to stop or the parent's end closes.

    Ctrl-C reaches the whole process group, as does the SIGHUP of a terminal that closed: the
    parent decides what they mean (an orderly stop), so SIGINT and SIGHUP are ignored here (no
    KeyboardInterrupt traceback from a worker, no worker killed under a batch the parent still
    waits for). SIGTERM ends the worker as it
    ends any process: ``multiprocessing`` relies on that at interpreter exit (it terminates,
    then joins, daemon children; a worker ignoring SIGTERM hung the parent's exit forever), and a
    service manager's SIGTERM to the whole group just makes the parent match its last batch
    in-process. The worker also ends when told to and when the parent's end of the pipe closes
    (the parent died or dropped the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    version: object = None
    matcher: TopicMatcher | None = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if message is None:
            return
        wanted, spec, texts = message
        if spec is not None:
            matcher, version = spec.build(), wanted
        if wanted != version or matcher is None:
            conn.send(None)
            continue
        conn.send(match_texts(matcher, texts))
