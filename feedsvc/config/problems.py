"""How a configuration problem is told: :class:`Problem` (a dotted key and what is wrong with
it), :class:`ConfigError` (every problem at once) and :func:`describe`, which words one of
pydantic's errors without echoing a value that may be a secret."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any


@dataclass(frozen=True)
class Problem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(Exception):
    """Every problem found in a configuration, each naming its key."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


#: Key names that may hold a secret (or a URL with a password in it): values never echoed.
_SECRET_WORDS = ("token", "secret", "password", "url", "key")


#: Pydantic's error types for a value where a section (a sub-model) belongs: its own words
#: ("valid dictionary or instance of DatabaseSettings") name Python, not the TOML file.
SECTION_ERRORS = ("model_type", "model_attributes_type", "dict_type")


def section_message(parts: list[str], value: object) -> str:
    """``[database]`` given as ``database = 5``: the key must be a table, i.e. a section. The
    value is named by its kind only (it may be a pasted secret)."""
    kind = kind_of(value)
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        kind = f"a list of tables ([[{'.'.join(parts)}]])"
    return f"must be a table: a [{'.'.join(parts)}] section with its keys under it, not {kind}"


def describe(err: Any) -> Problem:
    """One pydantic error as a :class:`Problem`.

    The value is echoed only for a known key inside a section whose name does not say it may
    hold a secret: a token or password pasted under a wrong or misspelt key, in place of a
    section, or into a URL must never be printed back (the operator has the file; the key and
    the expected shape are enough).
    """
    parts = [str(part) for part in err["loc"]]
    loc = ".".join(parts)
    message = str(err["msg"])
    value = err.get("input")
    if err["type"] == "path_type":  # "Input is not a valid path for <class 'pathlib.Path'>"
        message = "Input should be a valid string (a file's path)"
    if err["type"] == "extra_forbidden":
        known = _known_keys(parts)
        listed = f"{_place(parts)}: {', '.join(known)}" if known else ""
        message = f"unknown key (check spelling; {listed})" if listed else "unknown key"
        if (meant := _meant_key(parts, known)) is not None:
            message = f"unknown key: did you mean {meant}? ({listed})"
    elif err["type"] in SECTION_ERRORS:
        message = section_message(parts, value)
    elif (
        err["type"] != "value_error"
        and len(parts) >= 2
        and not any(word in loc.lower() for word in _SECRET_WORDS)
        and isinstance(value, str | bool | int | float)
    ):
        message = f"{message} (got {value!r})"
    kind_error = err["type"].endswith("_type") and err["type"] not in SECTION_ERRORS
    if kind_error and "(got " not in message:
        message = f"{message} (got {kind_of(value)})"  # the kind only: it may be a secret
    message = message.removeprefix("Value error, ")
    return Problem(loc, message)


#: TOML's kinds of value, by Python type (bool before int: a bool is an int), for a value of
#: the wrong type named without showing it (``telegram.token = 12345``, ``site.title = [..]``:
#: "Input should be a valid string" said nothing of what was there).
_TOML_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "true/false"), (int, "an integer"), (float, "a number"), (str, "a string"),
    (list, "an array"), (dict, "a table"), (datetime, "a date-time"), (date, "a date"),
    (time, "a time"), (type(None), "null"),
)  # fmt: skip


def kind_of(value: object) -> str:
    """What ``value`` is in TOML's words, ``null`` in JSON's (an env variable's JSON ``null``:
    it was "NoneType"); a Python type's name for anything else (nothing TOML or JSON gives)."""
    return next((k for t, k in _TOML_KINDS if isinstance(value, t)), type(value).__name__)


def _known_keys(parts: list[str]) -> list[str]:
    """The keys a config file may write where the unknown one at ``parts`` is: the fields of
    its section (``telegram.tokn`` → the keys of ``[telegram]``), or the sections at the top.

    Said in the message itself: it pointed to "config/feedsvc.toml", a path in the working
    directory, which is the operator's own file in the layout the README and the systemd unit
    give (a copy of the sample, edited, the typo in it), and no file at all where feedsvc was
    installed without the repository. Only names, from the settings models
    (:class:`feedsvc.config.models.Settings`), never a value."""
    from pydantic import BaseModel

    from feedsvc.config.models import Settings

    model: type[BaseModel] = Settings
    for part in parts[:-1]:
        field = model.model_fields.get(part)
        section = field.annotation if field is not None else None
        if not (isinstance(section, type) and issubclass(section, BaseModel)):
            return []
        model = section
    return sorted(model.model_fields)


def _place(parts: list[str]) -> str:
    """Where the keys of :func:`_known_keys` live, as the file writes it: ``the keys of
    [telegram]``, or ``the sections`` for an unknown one at the top."""
    return f"the keys of [{'.'.join(parts[:-1])}]" if len(parts) > 1 else "the sections"


def _meant_key(parts: list[str], known: list[str]) -> str | None:
    """The known key closest to the unknown one at ``parts`` (``telegram.tokn`` →
    ``telegram.token``, ``sitee`` → ``site``), or None: a misspelt environment variable was
    told what it meant, a misspelt key in the file only to check its spelling. ``known``: the
    names there (:func:`_known_keys`); only names are compared and shown, never a value."""
    from feedsvc.meant_names import meant

    close = meant(parts[-1], known)
    return ".".join([*parts[:-1], close]) if close else None
