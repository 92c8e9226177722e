"""``feedsvc topics list|add|remove|enable|disable|import|export|preview``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import click

from feedsvc.cli.common import EXIT_FAILED, EXIT_USAGE, config_option, fail, load_settings
from feedsvc.config import Settings
from feedsvc.db import Database, upgrade
from feedsvc.matching import QueryError
from feedsvc.preview import preview as run_preview
from feedsvc.store import topics as store
from feedsvc.topics_file import (
    TopicsFileError,
    check_queries,
    dump_topics,
    load_topics_file,
    sync_topics,
    validate_slug,
)


def _db(settings: Settings) -> Database:
    db = Database(settings.database.url)
    upgrade(db)
    return db


def _now() -> datetime:
    return datetime.now(UTC)


@click.group()
def topics() -> None:
    """Manage topics (the state DB is the source of truth)."""


@topics.command("list")
@config_option
def list_cmd(config_file: str | None) -> None:
    """List topics: slug, state, title, query."""
    db = _db(load_settings(config_file))
    with db.read() as conn:
        rows = store.list_topics(conn)
    for t in rows:
        state = "enabled " if t.enabled else "disabled"
        click.echo(f"{t.slug}\t{state}\t{t.title}\t{t.query}")


@topics.command("add")
@click.argument("slug")
@click.option("--title", required=True)
@click.option("--query", "query", required=True)
@click.option("--description", default="")
@click.option("--disabled", is_flag=True)
@config_option
def add(
    slug: str, title: str, query: str, description: str, disabled: bool, config_file: str | None
) -> None:
    """Create or update a topic (the query is validated first)."""
    if err := validate_slug(slug):
        fail(f"slug {slug!r}: {err}", EXIT_USAGE)
    db = _db(load_settings(config_file))
    spec = store.TopicSpec(slug, title.strip(), query.strip(), description.strip(), not disabled)
    with db.write() as conn:
        known = {t.slug: t.query for t in store.list_topics(conn)}
        if problems := check_queries([spec], known):
            fail("\n".join(problems), EXIT_USAGE)
        outcome = store.save_topic(conn, spec, "cli", _now())
    click.echo(f"{slug}: {outcome}")


@topics.command("remove")
@click.argument("slug")
@config_option
def remove(slug: str, config_file: str | None) -> None:
    """Delete a topic and its matches (use `disable` to keep its history)."""
    db = _db(load_settings(config_file))
    with db.write() as conn:
        dependants = [t.slug for t in store.list_topics(conn) if f"@{slug}" in t.query]
        if dependants:
            fail(f"{slug} is used by {', '.join(dependants)}; change those first", EXIT_USAGE)
        if not store.delete_topic(conn, slug):
            fail(f"unknown topic {slug!r}", EXIT_FAILED)
    click.echo(f"{slug}: removed")


@topics.command("enable")
@click.argument("slug")
@config_option
def enable(slug: str, config_file: str | None) -> None:
    """Enable a topic."""
    _set_enabled(slug, True, config_file)


@topics.command("disable")
@click.argument("slug")
@config_option
def disable(slug: str, config_file: str | None) -> None:
    """Disable a topic (its feed and matches are kept)."""
    _set_enabled(slug, False, config_file)


def _set_enabled(slug: str, enabled: bool, config_file: str | None) -> None:
    db = _db(load_settings(config_file))
    with db.write() as conn:
        if store.get_topic(conn, slug) is None:
            fail(f"unknown topic {slug!r}", EXIT_FAILED)
        store.set_enabled(conn, slug, enabled, _now())
    click.echo(f"{slug}: {'enabled' if enabled else 'disabled'}")


@topics.command("import")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@config_option
def import_cmd(file: str | None, config_file: str | None) -> None:
    """Apply a topics TOML file (default: topics.file); nothing is written if it has errors."""
    settings = load_settings(config_file)
    path = Path(file) if file else settings.topics.file
    try:
        specs = load_topics_file(path)
    except TopicsFileError as exc:
        click.echo(f"feedsvc: {len(exc.problems)} problem(s) in {exc.path}:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(EXIT_USAGE) from None
    db = _db(settings)
    with db.write() as conn:
        summary = sync_topics(conn, specs, _now())
    click.echo(f"{path}: {summary}")


@topics.command("export")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
@config_option
def export(output: TextIO, config_file: str | None) -> None:
    """Write all topics as a topics TOML file (stdout by default)."""
    db = _db(load_settings(config_file))
    with db.read() as conn:
        specs = [t.spec for t in store.list_topics(conn)]
    output.write(dump_topics(specs))


@topics.command("preview")
@click.argument("query")
@click.option("--scan", type=click.IntRange(1, 1_000_000), default=2000, show_default=True)
@click.option("--samples", type=click.IntRange(0, 100), default=5, show_default=True)
@config_option
def preview(query: str, scan: int, samples: int, config_file: str | None) -> None:
    """How many recent stored articles QUERY (or @slug) matches, with highlighted samples."""
    db = _db(load_settings(config_file))
    try:
        result = run_preview(db, query, scan=scan, samples=samples)
    except QueryError as exc:
        fail(f"invalid query: {exc}", EXIT_USAGE)
    click.echo(f"{result.count} of {result.scanned} recent articles match {query}")
    for warning in result.warnings:
        click.echo(f"warning: {warning}")
    for sample in result.samples:
        a = sample.stored.article
        click.echo(f"\n{a.published_at:%Y-%m-%d %H:%M}  {a.source_key}  {a.title}")
        for hit in sample.explanation.hits:
            click.echo(f"    {hit.term} in {hit.field}: {hit.snippet_text}")
