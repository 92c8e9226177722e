"""The demo's topics file, refused (exit 2) in words that say where it came from.

The demo imports ``topics.file`` when it is set, else ``config/topics.toml`` when the working
directory has one, else its own packaged topics. Its DB is new, so a file it cannot import
(missing, not a file, with problems, no enabled topic) would leave it with no topic at all.
The refusal said "leave topics.file unset for the demo's own topics" to a user who never set
it: the file was the default location's, found where the demo was started, and leaving the
setting unset changes nothing. Now the refusal names the origin (:func:`~feedsvc.config.
sources.given_by`: the variable, the config file, or the default location) and the change
that works there: the variable or the key to change or unset, or the file to move away or
another directory to start in (``--dir`` moves the demo's database only, not this file).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from feedsvc.cli.common import EXIT_USAGE, fail, topics_file_problems

if TYPE_CHECKING:
    from feedsvc.config import Settings

#: The key the demo's topics come from.
KEY = "topics.file"


def check_topics(settings: Settings, config: Path | None) -> None:
    """Return when ``topics.file`` can be the demo's topics; else exit 2 naming the file, what
    is wrong, where the setting came from and what to change (``config``: the config file
    read, or None)."""
    from feedsvc.topics_file import TopicsFileError, load_topics_file

    file = settings.topics.file
    if not file.is_file():
        _refuse(file, "is not a file" if file.exists() else "not found", "", config)
    try:
        specs = load_topics_file(file)
    except TopicsFileError as exc:
        origin, remedy = _origin(file, config)
        topics_file_problems(exc.path, exc.problems, hint=f"{origin}: fix it, or {remedy}")
    if not any(spec.enabled for spec in specs):  # an empty file: a demo of nothing
        _refuse(file, "holds no enabled topic", "add one, or ", config)


def _refuse(file: Path, what: str, fix: str, config: Path | None) -> NoReturn:
    origin, remedy = _origin(file, config)
    fail(f"topics file {file} {what} ({origin}): {fix}{remedy}", EXIT_USAGE)


def _origin(file: Path, config: Path | None) -> tuple[str, str]:
    """Where ``topics.file`` came from, and the change that gives the demo its own topics."""
    from feedsvc.config.sources import given_by

    given = given_by(KEY, config)
    if given is None:  # nobody set it: the default location, in the working directory
        return (
            f"read from {KEY}'s default location in the working directory, {file.absolute()}; "
            f"{KEY} is not set",
            "move or rename it, or start the demo in another directory (--dir moves "
            "only its database), for the demo's own topics",
        )
    if config is None or given != str(config):  # a variable's name
        origin, change = f"{KEY}, set by {given}", f"unset {given}"
    else:
        origin, change = f"{KEY}, set in {given}", f"remove {KEY} from {given}"
    return origin, f"point it at a topics file, or {change}{_then(given, config)}"


def _then(given: str, config: Path | None) -> str:
    """What the demo reads once ``topics.file`` is no longer set where ``given`` sets it: the
    config file's when a variable hid it, else the default location's file when the working
    directory has one (the same file, maybe), else its own topics."""
    from feedsvc.config import TopicsSettings
    from feedsvc.config.sources import given_by

    if given != str(config) and (file_too := given_by(KEY, config, {})) is not None:
        return f" (then {KEY} in {file_too} applies)"
    default = TopicsSettings().file
    if default.exists():
        return f" (then {default}, the default location, is read here)"
    return " for the demo's own topics"
