"""All SQL on feedsvc's own tables lives in this package (Miniflux's storage layer).

Functions take a :class:`sqlalchemy.Connection` already inside a transaction, so callers decide
what commits together (ingest stores articles, matches, outbox rows and the cursor atomically).
"""
