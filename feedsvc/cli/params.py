"""Click parameter types: how the CLI reads what an operator types (ids, numbers, paths, text).

Each refuses what Python's own conversion would quietly take (full-width digits, ``nan``, an
empty path, an escape no stored text holds) with Click's usage error naming the parameter
(exit 2). Imported by every command module, so it needs only Click at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from feedsvc.cli.common import cell
from feedsvc.digits import MAX_ID, ascii_decimal, ascii_int

F = TypeVar("F", bound=Callable[..., Any])

#: Row and chat ids as the CLI takes them. A plain ``int`` lets ``10**30`` through to the driver
#: (OverflowError on SQLite, "out of range" on PostgreSQL): a traceback instead of exit 2.
#: Every integer parameter of the CLI is a bounded :class:`Int` (tests/test_cli_errors.py checks).


class Int(click.IntRange):
    """A bounded integer parameter typed as ASCII digits (:func:`feedsvc.digits.ascii_int`).

    Click's ``INT`` calls ``int()``, which takes ``"１２３"`` (full-width), ``"١٢٣"``, ``"1_0"``
    and ``" 5"``: a chat id pasted in full-width digits would be stored as another number's
    twin. Anything else is Click's usage error naming the parameter (exit 2)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and ascii_int(value) is None:
            self.fail(f"{value!r} is not an integer (ASCII digits 0-9).", param, ctx)
        return _as_typed(self, super().convert, value, param, ctx)


class Float(click.FloatRange):
    """A bounded number parameter typed as ASCII digits with an optional ``.`` fraction
    (:func:`feedsvc.digits.ascii_decimal`): ``float()`` would also take ``"３０"`` and ``"nan"``."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and ascii_decimal(value) is None:
            self.fail(f"{value!r} is not a number (ASCII digits 0-9, optional .).", param, ctx)
        return _as_typed(self, super().convert, value, param, ctx)


def _as_typed(
    kind: click.IntRange | click.FloatRange,
    convert: Callable[[Any, click.Parameter | None, click.Context | None], Any],
    value: Any,
    param: click.Parameter | None,
    ctx: click.Context | None,
) -> Any:
    """``convert`` (Click's range check) with its refusal naming the number as it was typed:
    Click names the converted one, so ``--days -1`` was "-1.0 is not in the range", a number
    the user never typed. The text was checked to be a number first, so a refusal here is
    the range's."""
    try:
        return convert(value, param, ctx)
    except click.BadParameter:
        if not isinstance(value, str):
            raise
        kind.fail(f"{value} is not in the range {kind._describe_range()}.", param, ctx)


ID = Int(-MAX_ID, MAX_ID)


class PathParam(click.Path):
    """A path parameter that refuses an empty one (usage error, exit 2). ``--config ''`` (an
    unset variable in a script: ``--config "$CFG"``) was taken as "not given": the command
    quietly fell back to ``$FEEDSVC_CONFIG`` or the default file; ``topics import ''`` to
    ``topics.file``, ``demo --dir ''`` to ./var/demo. Every path parameter of the CLI is one
    (tests/test_cli_errors.py walks them)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path: give one, or leave the option out", param, ctx)
        return super().convert(value, param, ctx)


class Shown(click.types.StringParamType):
    """Stored text named as the CLI prints it (:func:`cell`): an article's key pasted from
    ``articles find``, escapes and all. ``K\\u202e1`` is read back as the key holding U+202E
    that ``find`` printed so, ``K\\\\u202e1`` as the one holding a backslash
    (:func:`feedsvc.logs.unescape_controls`, the inverse of :func:`cell`'s rule): the key
    acted on is the key that was shown, never one that merely prints alike. A backslash
    that starts no escape (``a\\b``) is itself. An escape of a character no stored text
    holds (``C:\\new``: a line break) is a usage error saying how a backslash is typed."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from feedsvc.logs import unescape_controls

        typed = super().convert(value, param, ctx)
        text = unescape_controls(typed)
        if text != typed and (char := _escaped_control(typed, text)) is not None:
            literal = cell(typed, exact=True)  # how the text typed, as it is, is printed
            self.fail(
                f"reads as holding {char} (an escape, as the CLI prints text), which no stored "
                f"text holds; a backslash itself is typed \\\\: {literal}",
                param,
                ctx,
            )
        return text


def _escaped_control(typed: str, text: str) -> str | None:
    """The first character (as ``U+000A``) an escape in ``typed`` put into ``text`` that no
    stored text holds, or None: a control character (tab and line breaks too), U+2028/9 or a
    lone surrogate. Not a bidi control or an invisible character: a key stored with one
    (before keys refused bidi controls; U+200B inside a key) is typed as printed."""
    import unicodedata

    for char in text:
        if char in typed:
            continue
        if unicodedata.category(char) in ("Cc", "Cs") or char in "\u2028\u2029":
            return f"U+{ord(char):04X}"
    return None


SHOWN = Shown()


#: The help of ``--config``, before the command name (the root group's) or after it.
CONFIG_HELP = "Config file (default: $FEEDSVC_CONFIG, else config/feedsvc.toml if present)."


def root_config_option(func: F) -> F:
    """``feedsvc --config FILE COMMAND``: the file for every command, as many CLIs take a global
    option before the command name. Only ``--config FILE`` after the name existed: the README's
    "every command reads one TOML file: ``--config FILE``" typed before it was "No such option
    '--config'" (exit 2). Stored in the root context's ``config_file``, read by
    :func:`config_option`'s default (the one place a command's file is decided)."""
    return click.option(
        "--config", "config_file", type=PathParam(dir_okay=False), default=None, help=CONFIG_HELP
    )(func)


#: The root context's ``meta`` key holding the ``--config`` a command was given (or None):
#: ``common.given_config`` reads it.
GIVEN_CONFIG = "feedsvc.given_config"


def _command_or_root_config(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
    """The command's own ``--config``, else the one given before the command name (the
    root's), else None (then ``FEEDSVC_CONFIG``, then ``config/feedsvc.toml``:
    :func:`feedsvc.config.config_path`). A file after the name wins: it is the nearer one."""
    chosen = value if value is not None else ctx.find_root().params.get("config_file")
    # for the hints of messages printed after the command's context ended (the root's errors)
    ctx.find_root().meta[GIVEN_CONFIG] = chosen
    return chosen


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_file",
        type=PathParam(dir_okay=False),
        default=None,
        callback=_command_or_root_config,
        help=CONFIG_HELP,
    )(func)
