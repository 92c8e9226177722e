"""``feedsvc match``: run a query or a topics file over JSON Lines articles (SPEC §9).

Reads SPEC §3 articles on stdin (as bytes: invalid UTF-8 is reported, not replaced); a bad line
is reported on stderr (with its line number) and skipped, and the exit status is then 1.
``--query Q`` prints the ``source_key`` of each match (``--explain`` adds indented lines: which
term matched in which field, with a snippet); ``--topics FILE`` prints
``source_key<TAB>slug1,slug2`` per article matching any enabled topic.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from feedsvc.cli.common import cell

if TYPE_CHECKING:  # imported where used: every CLI command imports this module (start-up cost)
    from feedsvc.articles import Article
    from feedsvc.matching import Query, QueryError

FAILED_EXIT = 1
USAGE_EXIT = 2


class TopicsFileError(click.ClickException):
    """A topics file that cannot be read: bad configuration, so exit 2 like a bad query."""

    exit_code = USAGE_EXIT


class _Input:
    """Valid articles from stdin; each rejected line is reported on stderr and counted."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.skipped = 0

    def __iter__(self) -> Iterator[Article]:
        from feedsvc.articles import Article, read_jsonl

        for _number, item in read_jsonl(self.stream):
            if isinstance(item, Article):
                yield item
            else:
                self.skipped += 1
                click.echo(f"skipped {item}", err=True)

    def finish(self) -> None:
        """Exit 1 when a line was skipped: the output is then not the whole input's answer."""
        if self.skipped:
            click.echo(f"{self.skipped} line(s) skipped", err=True)
            sys.exit(FAILED_EXIT)


def _query_error(text: str, exc: QueryError) -> None:
    """Print the error with a caret under the offending character, then exit 2."""
    click.echo(f"invalid query: {exc}", err=True)
    if exc.position is not None and "\n" not in text:
        click.echo(f"  {text}", err=True)
        click.echo("  " + " " * min(exc.position, len(text)) + "^", err=True)
    sys.exit(USAGE_EXIT)


def load_topics(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``(enabled, disabled)`` slug → query maps from a topics TOML (``[[topic]]`` tables)."""
    from feedsvc.tomlfile import TomlFileError, read_toml_file

    try:
        data: dict[str, Any] = read_toml_file(path)
    except (OSError, TomlFileError) as exc:
        raise TopicsFileError(f"{path}: {exc}") from None
    topics = data.get("topic", [])
    if not isinstance(topics, list):
        raise TopicsFileError(f"{path}: 'topic' must be an array of tables ([[topic]])")
    enabled: dict[str, str] = {}
    disabled: dict[str, str] = {}
    for i, topic in enumerate(topics, start=1):
        slug, query = topic.get("slug"), topic.get("query")
        if not isinstance(slug, str) or not isinstance(query, str):
            raise TopicsFileError(f"{path}: topic #{i} needs a string slug and query")
        if slug in enabled or slug in disabled:
            raise TopicsFileError(f"{path}: duplicate topic slug {slug!r}")
        (enabled if topic.get("enabled", True) else disabled)[slug] = query
    return enabled, disabled


def _run_query(query: Query, with_explain: bool) -> None:
    from feedsvc.matching import document_from_article, explain, match_document

    articles = _Input(sys.stdin.buffer)
    for article in articles:
        doc = document_from_article(article)
        if not with_explain:
            if match_document(query, doc):
                click.echo(article.source_key)
            continue
        explanation = explain(query, doc)
        if explanation is None:
            continue
        click.echo(article.source_key)
        for hit in explanation.hits:
            click.echo(f"  {cell(hit.term)} in {hit.field}: {cell(hit.snippet_text)}")
    articles.finish()


def _run_topics(path: Path) -> None:
    from feedsvc.matching import TopicMatcher, document_from_article

    enabled, disabled = load_topics(path)
    matcher = TopicMatcher.build(enabled, refs=disabled)
    for slug, exc in matcher.errors.items():
        click.echo(f"topic {slug!r} skipped: invalid query: {exc}", err=True)
    articles = _Input(sys.stdin.buffer)
    for article in articles:
        matched = matcher.match_slugs(document_from_article(article))
        if matched:
            click.echo(f"{article.source_key}\t{','.join(matched)}")
    articles.finish()


@click.command("match")
@click.option("--query", "query_text", metavar="Q", help="A query in the topic filter language.")
@click.option("--explain", "with_explain", is_flag=True, help="Show which terms matched where.")
@click.option(
    "--topics",
    "topics_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A topics TOML file (like config/topics.toml): match all enabled topics at once.",
)
def match(query_text: str | None, with_explain: bool, topics_file: Path | None) -> None:
    """Match JSON Lines articles on stdin against a query or a topics file."""
    if (query_text is None) == (topics_file is None):
        raise click.UsageError("give exactly one of --query or --topics")
    if topics_file is not None:
        if with_explain:
            raise click.UsageError("--explain works with --query only")
        _run_topics(topics_file)
        return
    assert query_text is not None
    from feedsvc.matching import QueryError, parse_query

    try:
        query = parse_query(query_text)
    except QueryError as exc:
        _query_error(query_text, exc)
        return
    _run_query(query, with_explain)
