"""``feedsvc config check|show``."""

from __future__ import annotations

import json
from typing import Any

import click

from feedsvc.cli.common import EXIT_USAGE, command_name, config_hints, load_settings
from feedsvc.cli.params import config_option


@click.group()
def config() -> None:
    """Check or show the configuration."""


@config.command("check")
@config_option
def check(config_file: str | None) -> None:
    """Validate the config (and the topics file); print every problem; exit 2 if any."""
    from feedsvc.config import (
        BUILT_IN,
        ConfigError,
        advice,
        check_config,
        config_path,
        secret_first,
        source_warnings,
    )
    from feedsvc.topics_file import TopicsFileError, configured_topics

    path, source = None, BUILT_IN
    try:  # every problem in one run; with invalid keys at their defaults for the checks below
        path = config_path(config_file)
        source = str(path) if path else source
        settings, found = check_config(path)
        found = secret_first(found)  # a secret written in the file: that is its key's line
    except ConfigError as exc:  # the file does not read or parse: nothing more can be said
        settings, found, source = None, exc.problems, str(path or exc.source)
    problems = [str(p) for p in found]
    # a [topics] key refused: the file it names is not the default one, so neither is read
    topics = None if any(p.key.startswith("topics.") for p in found) else settings
    # the file `run` would import (feedsvc.topics_file.configured_topics: the same rule), and one
    # there though not imported at start: `topics import` reads it
    if topics is not None and (topics.topics.import_on_start or topics.topics.file.exists()):
        try:
            configured_topics(topics.topics.file, is_set=topics.topics.file_is_set)
        except TopicsFileError as exc:
            problems += [f"topics.file: {p}" for p in exc.problems]
    if settings is not None and not any(p.key == "database.url" for p in found):
        problems += _state_db_problems(settings.database.url)
    host_refused, host_warning = _listen_check(
        None if settings is None else settings.http.host, found
    )
    problems += [host_refused] if host_refused else []
    warnings: list[object] = [host_warning] if host_warning else []
    if settings is not None:  # advice: the configuration is right (a missing CMS file: outage)
        # a key with a problem was read at its default: no advice about that default (and
        # none of http.public_url's, "an address of this machine", on a name no one resolves)
        bad = {p.key for p in found} | ({"http.public_url"} if host_refused else set())
        warnings += [w for w in advice(settings) if w.key not in bad]
        if not any(p.key == "source.url" for p in found):
            warnings += source_warnings(settings)
    for warning in warnings:
        click.echo(f"warning: {config_hints(str(warning))}", err=True)
    if problems:
        click.echo(f"{source}: {len(problems)} problem(s):", err=True)
        for problem in problems:
            click.echo(f"  {config_hints(problem)}", err=True)
        raise SystemExit(EXIT_USAGE)
    # the file's OK, not the CMS's: a wrong password or table passed unseen (a tester's)
    unchecked = settings is not None and settings.source.url
    check = f"`{command_name()} source check`"
    tried = f" (source.url not connected to: {check} tries it)" if unchecked else ""
    click.echo(f"{source}: OK{tried}")


def _listen_check(host: str | None, found: list[Any]) -> tuple[str | None, str | None]:
    """(problem, warning) for ``http.host`` (None: unread, or refused already), in ``run``'s
    words (``cli.listening.host_problem``): a name that does not resolve is a problem — ``run``
    exits 2 on it —; an address that is not this machine's a warning (exit 0), since a
    configuration may be checked elsewhere than where it runs."""
    from feedsvc.cli.listening import host_problem

    if host is None or any(p.key == "http.host" for p in found):
        return None, None
    trouble = host_problem(host)
    if trouble is None:
        return None, None
    advice, elsewhere = trouble
    where = " on this machine" if elsewhere else ""
    said = f"http.host: feedsvc run cannot listen on {host!r}{where}: {advice}"
    return (None, said) if elsewhere else (said, None)


def _state_db_problems(url: str) -> list[str]:
    """An SQLite ``database.url`` that opens the state DB read-only (``mode=ro``,
    ``immutable=1``), told without connecting: ``run`` refuses it at start (exit 2)."""
    from feedsvc.db.errors import read_only_url_advice
    from feedsvc.db.where import state_db

    where = state_db(url)
    if where.read_only is None:
        return []
    return [
        f"database.url: opens the state DB read-only ({where.read_only} in the URL), so "
        f"feedsvc run refuses it: {read_only_url_advice(where)}"
    ]


@config.command("show")
@config_option
def show(config_file: str | None) -> None:
    """Print the effective configuration as JSON (secrets and URL passwords masked)."""
    from feedsvc.config import printable
    from feedsvc.logs import escape_json

    settings = load_settings(config_file, logging_=False)
    click.echo(escape_json(json.dumps(printable(settings), indent=2, ensure_ascii=False)))
