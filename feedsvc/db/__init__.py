"""The state database: engine set-up, schema and migrations.

``Database`` and ``upgrade`` are loaded on first use (PEP 562): importing a submodule that needs
no SQLAlchemy (``feedsvc.db.timeouts``, read by the configuration of every CLI command) must not
import the engine, which costs several times a whole read-only command (issue #17 §1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feedsvc.db.engine import Database, upgrade

__all__ = ["Database", "upgrade"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from feedsvc.db import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
