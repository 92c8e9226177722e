"""The ``feedsvc`` command: a thin shell over the package (parsing, exit codes, printing).

Exit codes scripts can rely on: 0 success, 1 the work ran but something was rejected or
failed, 2 bad usage, bad configuration or an invalid query.
"""

from __future__ import annotations

import sys

import click

from feedsvc import __version__
from feedsvc.cli import config_cmd, data, service, source, subs, topics


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feedsvc")
def cli() -> None:
    """feedsvc: topic feeds (RSS, Atom, JSON) and Telegram alerts from a news database."""


for command in (
    service.run,
    service.demo,
    service.status,
    data.db,
    data.import_cmd,
    data.render,
    topics.topics,
    subs.subs,
    config_cmd.config,
    source.source,
):
    cli.add_command(command)

try:
    from feedsvc.cli.match import match

    cli.add_command(match)
except ImportError:  # pragma: no cover - only while the matching package is incomplete
    pass


def main() -> None:
    try:
        cli(prog_name="feedsvc")
    except KeyboardInterrupt:
        sys.exit(130)
