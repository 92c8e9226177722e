"""Chats' own queries (``/sub <query>``): compiled one subscription at a time, outside any write.

``index``  :class:`ChatQueryIndex`: the compiled queries of every own-query subscription, kept in
           step with the state DB by a cheap stamp, updated incrementally (add/remove one), and
           refreshed only before the ingest write transaction, never inside it.
"""

from .index import ChatQueryIndex

__all__ = ["ChatQueryIndex"]
