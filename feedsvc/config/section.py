"""The base of every settings section (:mod:`feedsvc.config.models`): the rules all of them
follow (:data:`SECTION_RULES`) and the validators every key passes (:class:`Section`: no
true/false for a number, no empty path), and the network DB timeouts the database and source
sections share (:class:`TimeoutsSection`).
"""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from feedsvc.db.timeouts import DbTimeouts

#: Every section's rules: a misspelt key is a problem, and so is a number that is not finite.
#: ``inf`` (TOML), ``"infinity"`` (env) and ``1e400`` passed ``gt=0`` bounds, and an unbounded
#: one reached ``timedelta(hours=inf)``: every ingest tick of ``run`` then ended in an
#: OverflowError traceback while ``config check`` said OK.
SECTION_RULES = ConfigDict(extra="forbid", allow_inf_nan=False)


class Section(BaseModel):
    model_config = SECTION_RULES

    @field_validator("*", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object, info: ValidationInfo) -> object:
        """``port = true`` is no number: pydantic's lax mode read it as 1 (``batch_size = true``
        one row per batch, ``port = true`` port 1) and ``config check`` said OK. A list of
        numbers (``telegram.admins``) likewise. ``source.match_workers`` says so itself."""
        kind = cls.model_fields[str(info.field_name)].annotation
        numbers = (int, float)
        if isinstance(value, bool) and kind in numbers:
            raise ValueError("must be a number, not true/false")
        if (
            isinstance(value, list)
            and typing.get_origin(kind) is list
            and typing.get_args(kind)[0] in numbers
            and any(isinstance(item, bool) for item in value)
        ):
            raise ValueError("must be a list of numbers, not of true/false")
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _no_empty_path(cls, value: object, info: ValidationInfo) -> object:
        """A file's path given as ``""`` or blanks (``topics.file = ""``, an env override
        ``FEEDSVC_TOPICS__FILE=`` left empty) is refused: pydantic made it ``Path(".")``, the
        working directory, and the commands said "cannot read .: Is a directory", "topics file
        . not found", ". is a directory, not a file": never that the value was empty. No key
        has an empty value meaning "none" (the README documents none; ``topics.import_on_start
        = false`` is how a start skips the file), so the message says how to get the default:
        unset the key. Every ``Path`` key, the ``*_file`` secrets' too, by this one rule."""
        field = cls.model_fields[str(info.field_name)]
        kind = field.annotation
        if isinstance(value, str) and not value.strip() and Path in (kind, *typing.get_args(kind)):
            default = field.default
            instead = (
                f"unset the key to use the default, {default}"
                if isinstance(default, Path)
                else "name the file, or unset the key"
            )
            raise ValueError(f"is empty, which names no file (read as a path, it is the "
                             f"current directory): {instead}")  # fmt: skip
        return value


class TimeoutsSection(Section):
    """Bounds on every wait on a network DB's sockets (seconds; see feedsvc.db.timeouts)."""

    connect_timeout: float = Field(default=10.0, gt=0, le=600)
    statement_timeout: float = Field(default=60.0, ge=0, le=86400)  # 0: unbounded
    keepalive_seconds: float = Field(default=30.0, ge=1, le=7200)

    def timeouts(self) -> DbTimeouts:
        return DbTimeouts(self.connect_timeout, self.statement_timeout, self.keepalive_seconds)
