"""The state database: engine set-up, schema and migrations."""

from feedsvc.db.engine import Database, upgrade

__all__ = ["Database", "upgrade"]
