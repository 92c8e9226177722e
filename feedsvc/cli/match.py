"""``feedsvc match``: run a query or a topics file over JSON Lines articles (SPEC §9).

Reads SPEC §3 articles on stdin (as bytes: invalid UTF-8 is reported, not replaced); a bad line
is reported on stderr (with its line number) and skipped, and the exit status is then 1; an input
that is no JSON Lines at all (UTF-16, a JSON array, CR-only line ends) is refused once, exit 2.
``--query Q`` prints the ``source_key`` of each match (``--explain`` adds indented lines: which
term matched in which field, with a snippet); ``--topics FILE`` prints
``source_key<TAB>slug1,slug2`` per article matching any enabled topic; the file is checked as
``topics import`` checks it (an invalid one is exit 2, nothing matched). A naive
``published_at``/``updated_at`` is read in ``site.timezone``, as ``import`` reads the same line
(the configuration is read as every command reads it: an invalid one is exit 2).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import tzinfo
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from feedsvc.cli.common import EXIT_USAGE, cell, fail, load_settings, topics_file_problems
from feedsvc.cli.params import PathParam, config_option
from feedsvc.cli.query_caret import query_failed

if TYPE_CHECKING:  # imported where used: every CLI command imports this module (start-up cost)
    from feedsvc.articles import Article
    from feedsvc.jsonlines import OverlongLine, Pause
    from feedsvc.matching import Query, QueryError

FAILED_EXIT = 1


class _Input:
    """Valid articles from stdin (a naive time read in ``tz``: ``site.timezone``); each
    rejected line is reported on stderr and counted."""

    def __init__(self, stream: IO[bytes], tz: tzinfo) -> None:
        self.stream = stream
        self.tz = tz
        self.skipped = 0

    def __iter__(self) -> Iterator[Article]:
        from feedsvc.articles import Article
        from feedsvc.jsonlines import read_jsonl

        for _number, item in read_jsonl(self._lines(), self.tz):
            if isinstance(item, Article):
                yield item
            else:
                self.skipped += 1
                click.echo(f"skipped {item}", err=True)

    def _lines(self) -> Iterator[bytes | OverlongLine | Pause]:
        """The input's lines, paced: a wait for the next line that a signal always ends (no
        pause: each answer is printed as its line is read). An input whose first line is no
        JSON Lines at all (UTF-16, a JSON array, CR-only line ends) is refused once, exit 2,
        as ``import`` refuses it (``jsonl_shape``), not reported as a bad line each."""
        from feedsvc.jsonl_shape import NotJsonLines, checked_lines
        from feedsvc.pipe_lines import paced_lines

        try:
            yield from checked_lines(paced_lines(self.stream, None), "-", "match")
        except NotJsonLines as exc:
            fail(str(exc), EXIT_USAGE)

    def finish(self) -> None:
        """Exit 1 when a line was skipped: the output is then not the whole input's answer."""
        if self.skipped:
            click.echo(f"feedsvc: {self.skipped} line(s) skipped", err=True)
            sys.exit(FAILED_EXIT)


def _site_tz(config_file: str | None) -> tzinfo:
    """``site.timezone``, which a naive article time is read in, as ``import`` reads the same
    line; read after the query or the topics file is checked (their problems come first), and
    an invalid configuration is exit 2 as for every command that reads it."""
    return load_settings(config_file, secrets=False).tz


def _run_query(query: Query, with_explain: bool, tz: tzinfo) -> None:
    from feedsvc.matching import document_from_article, explain, match_document

    articles = _Input(sys.stdin.buffer, tz)
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


def _run_topics(path: Path, config_file: str | None) -> None:
    """Every enabled topic of the file over stdin. The file is read and checked by the loader
    ``topics import`` and ``config check`` use (unknown keys and tables, slugs, ``enabled``,
    every query with its ``@refs``): a file they refuse is refused here too, with every
    problem, exit 2, before any article is read. A preview that quietly drops a broken topic
    would say "no match" for a file the service would never load."""
    from feedsvc.matching import TopicMatcher, document_from_article
    from feedsvc.topics_file import TopicsFileError, load_topics_file

    try:
        specs = load_topics_file(path)
    except TopicsFileError as exc:
        topics_file_problems(exc.path, exc.problems)
    enabled = {s.slug: s.query for s in specs if s.enabled}
    if not enabled:  # nothing could ever match: the wrong file, not an answer of "no match"
        what = "no topics" if not specs else f"no enabled topic (all {len(specs)} are off)"
        topics_file_problems(str(path), [f"it holds {what}: nothing to match against"])
    matcher = TopicMatcher.build(enabled, refs={s.slug: s.query for s in specs if not s.enabled})
    if matcher.errors:  # the loader parsed each query already: kept as a guard, not a skip
        topics_file_problems(
            str(path), [f"topic {slug}: query: {exc}" for slug, exc in matcher.errors.items()]
        )
    articles = _Input(sys.stdin.buffer, _site_tz(config_file))
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
    type=PathParam(exists=True, dir_okay=False, path_type=Path),
    help="A topics TOML file (like config/topics.toml): match all enabled topics at once.",
)
@config_option
def match(
    query_text: str | None,
    with_explain: bool,
    topics_file: Path | None,
    config_file: str | None,
) -> None:
    """Match JSON Lines articles on stdin against a query or a topics file."""
    if (query_text is None) == (topics_file is None):
        raise click.UsageError("give exactly one of --query or --topics")
    if topics_file is not None:
        if with_explain:
            raise click.UsageError("--explain works with --query only")
        _run_topics(topics_file, config_file)
        return
    assert query_text is not None
    from feedsvc.cli.query_caret import refuse_controls
    from feedsvc.matching import QueryError, parse_typed

    refuse_controls(query_text)
    try:
        query = parse_typed(query_text)
    except QueryError as exc:
        query_failed(query_text, _without_topics(exc))
    _run_query(query, with_explain, _site_tz(config_file))


#: ``match --query`` reads no topics (no state DB): the codes whose topic hint (``check the
#: slug``, "split it into several topics") cannot be followed there, the topics being nowhere.
NO_TOPICS_CODES = frozenset({"unknown_ref", "too_long", "too_many_terms", "too_many_expanded"})


def no_topics_hint(exc: QueryError) -> str:
    """The hint ``match --query`` gives instead, each way out one that works as written
    (``tests/test_cli_match_hints.py`` runs them): "give --topics FILE with the topic in it"
    read as adding ``--topics`` to ``--query``, which is refused ("give exactly one")."""
    from feedsvc.cli.common import command_name

    command = command_name()
    if exc.code == "unknown_ref":
        return (
            f"match --query reads no topics: write out the query of @{exc.params.get('slug')} "
            f"in its place (`{command} topics export` prints each topic's query as stored), "
            "or match with "
            f"--topics FILE instead of --query, the topic in FILE (`{command} topics export "
            "-o FILE` writes them all)"
        )
    return (
        "match --query reads no topics: split the query into several topics of a topics file, "
        "combined with @slug, and match with --topics FILE instead of --query"
    )


def _without_topics(exc: QueryError) -> QueryError:
    """``exc`` with the hint ``match --query`` needs where a topic's would send the operator
    to topics it cannot read."""
    if exc.code not in NO_TOPICS_CODES:
        return exc
    hint = no_topics_hint(exc)
    return type(exc)(exc.message, exc.position, hint, code=exc.code, params=exc.params)
