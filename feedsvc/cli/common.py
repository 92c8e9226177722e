"""Shared CLI plumbing: ``--config`` on every command, settings loading, error printing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import click

from feedsvc.config import ConfigError, Settings, config_path, load_config
from feedsvc.db import Database, upgrade
from feedsvc.logs import setup_logging

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

EXIT_FAILED = 1
EXIT_USAGE = 2


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False),
        default=None,
        help="Config file (default: $FEEDSVC_CONFIG, else config/feedsvc.toml if present).",
    )(func)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"feedsvc: {message}", err=True)
    raise SystemExit(code)


def load_settings(config_file: str | None, *, logging_: bool = True) -> Settings:
    path = config_path(config_file)
    try:
        settings = load_config(path)
    except ConfigError as exc:
        click.echo(f"feedsvc: invalid configuration ({exc.source}):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    if logging_:
        configure_logging(settings)
    return settings


def configure_logging(settings: Settings) -> None:
    setup_logging(settings.log.level, settings.log.format, _secrets(settings))


def _secrets(settings: Settings) -> list[str]:
    out = []
    for getter in (settings.telegram_token, settings.admin_token):
        try:
            value = getter()
        except OSError:
            value = None
        if value:
            out.append(value)
    return out


def run_async(main: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run`` on uvloop where it is installed (faster HTTP serving), else asyncio."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def run_operation(action: Callable[[Database], T], config_file: str | None) -> T:
    """One admin operation on the (upgraded) state DB; its errors become a message and the
    CLI's exit codes (2 for invalid input, 1 for not found / conflict)."""
    from feedsvc import operations as ops

    db = Database(load_settings(config_file).database.url)
    try:
        upgrade(db)
        return action(db)
    except ops.OperationError as exc:
        fail(exc.message, EXIT_USAGE if exc.kind == "invalid" else EXIT_FAILED)
    finally:
        db.dispose()
