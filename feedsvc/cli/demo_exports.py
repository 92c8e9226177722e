"""The demo banner's ``export`` line: what a CLI command needs to act on the demo as it runs.

The demo sets some settings itself (its database, its address, its topics file, no external
source); a command run in another shell sees none of that unless the banner exports it. The
banner exported the database and the public URL only, so ``topics import one.toml`` run with
them saw no ``topics.file`` (the demo's was its packaged one), took the whole-file meaning and
switched off every other topic of the demo (a tester's: "1 created, … 1005 disabled").

:data:`EXPORTED` and :data:`SERVING_ONLY` together name every setting the demo sets
(``tests/test_demo_exports.py`` checks that a CLI loading exactly the printed exports sees the
demo's settings, all but :data:`SERVING_ONLY`).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedsvc.config import Settings

#: The settings the demo sets that a CLI command acts on, exported by the banner.
EXPORTED = ("database.url", "http.public_url", "topics.file", "source.url")
#: The settings the demo sets for its own serving alone: where it listens (a CLI listens
#: nowhere; ``config check`` binds a free port anyway), how often it polls its built-in source,
#: and its throw-away admin token (printed on its own banner line; no CLI command uses it).
SERVING_ONLY = frozenset({"http.host", "http.port", "source.poll_seconds", "admin.token"})


def exports(settings: Settings, config: Path | None) -> list[tuple[str, str]]:
    """(variable, value) pairs that make a CLI's settings the demo's ``settings`` (those of
    :data:`EXPORTED`), with ``FEEDSVC_CONFIG`` naming ``config``, the file it read (its
    ``[site]`` and the rest), when it read one. ``topics.file`` is absolute: a relative one is
    read from the working directory, another one in another shell. An unset ``source.url``
    (the built-in source) is exported empty only when the file or a variable sets one, which
    the demo overrode."""
    from feedsvc.config.sources import env_name, given_by

    values: dict[str, str | None] = {
        "database.url": settings.database.url,
        "http.public_url": settings.http.public_url,
        "topics.file": str(settings.topics.file.absolute()),
        "source.url": settings.source.url,
    }
    assert tuple(values) == EXPORTED
    out = []
    for key, value in values.items():
        if value is None and given_by(key, config) is None:
            continue  # unset here, unset for the CLI too
        out.append((env_name(key), value or ""))
    return out + ([] if config is None else [("FEEDSVC_CONFIG", str(config))])


def export_line(pairs: list[tuple[str, str]]) -> str:
    """``NAME=value …`` as a shell reads it back (each value quoted when it must be)."""
    return " ".join(f"{name}={shlex.quote(value)}" for name, value in pairs)
