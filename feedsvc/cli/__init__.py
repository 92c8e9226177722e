"""The ``feedsvc`` command: a thin shell over the package (parsing, exit codes, printing).

Exit codes scripts can rely on: 0 success, 1 the work ran but something was rejected or
failed (including a name not in the state DB, and a state DB that cannot be reached or is not
initialised), 2 bad usage (including a file on the command line that cannot be opened), bad
configuration or an invalid query.

Start-up cost matters (``feedsvc --version`` should answer at once): the command modules import
only Click at import time and everything heavy inside the command that needs it.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

import click

from feedsvc import __version__
from feedsvc.cli import (
    articles,
    config_cmd,
    data,
    demo_cmd,
    service,
    source,
    streams,
    subs,
    terminate,
    topics,
)
from feedsvc.cli.common import EXIT_FAILED, EXIT_USAGE
from feedsvc.cli.match import match
from feedsvc.cli.params import root_config_option


class _UnopenableFile(click.FileError):
    """Click's "Could not open file" with the exit code of bad usage."""

    exit_code = EXIT_USAGE


class _Root(click.Group):
    """The root group: an operator's environment problem (a DB that cannot be reached, a file
    that cannot be read, a standard stream closed or full: :mod:`feedsvc.cli.streams`) ends any
    command with one line and exit 1, never a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        streams.guard()
        try:
            try:
                return super().main(*args, **kwargs)
            finally:
                streams.flush()  # buffered output fails here, not in the interpreter's exit
        except streams.OutputError as exc:  # Click lets all but EPIPE through (--help, --version)
            streams.output_failed(exc)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command, and SIGTERM made to end it as Ctrl-C does (:mod:`.terminate`), unless
        it stops in order on SIGTERM itself (``run``, ``demo``); put back when it ends."""
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and command.name not in terminate.OWN_HANDLING:
            ctx.call_on_close(terminate.install())
            terminate.deliver()  # a signal during the imports ends the command now
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            finally:
                # the command has ended: a signal from here on is ignored (feedsvc.entry).
                # Armed until the root context's close, one that came after this returned
                # raised where only Click caught it: "Aborted!", exit 1 (`topics list` in CI).
                # Inside the outer try: one raised before this line is still reported below.
                terminate.ended()  # a no-op unless a command was armed
        except click.FileError as exc:
            # a file named on the command line that cannot be opened is bad usage (exit 2), as
            # Click says of a FILE argument; only an output file opened late (lazily: `topics
            # export -o`) reached here, as exit 1
            raise _UnopenableFile(exc.filename, exc.message) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except (BrokenPipeError, streams.OutputError):
            # `feedsvc … | head`: the reader left; Click quiets the pipe, exits 1, no message;
            # stdout full or closed: main says so, once
            raise
        except KeyboardInterrupt as exc:
            # Ctrl-C: Click said "Aborted!" and exit 1, the code of work that failed; a shell
            # reports 130 (128 + SIGINT), as `import` does with what it stored; SIGTERM
            # (terminate.Terminated) alike, 143
            terminate.say(exc)
            raise SystemExit(terminate.exit_code(exc)) from None
        except Exception as exc:
            if terminate.received():  # its interrupt was lost in a cleanup (terminate.received)
                interrupt = terminate.lost()
                terminate.say(interrupt)
                raise SystemExit(terminate.exit_code(interrupt)) from None
            message = environment_error(exc)
            if message is None:
                raise  # a bug: keep its traceback
            from feedsvc.cli.common import config_hints

            click.echo(f"feedsvc: {config_hints(message)}", err=True)
            from feedsvc.db.revision import DatabaseUrlError  # a light module, as above

            code = (
                EXIT_USAGE if isinstance(exc, DatabaseUrlError) else EXIT_FAILED
            )  # a config error
            raise SystemExit(code) from None


def environment_error(exc: BaseException) -> str | None:
    """A one-line message for errors the operator's environment causes, else None."""
    from feedsvc.db.revision import SchemaError  # no SQLAlchemy: a light module

    if isinstance(exc, SchemaError):  # e.g. `run` on a DB newer than this feedsvc
        return str(exc)
    from feedsvc.db.errors import explain  # no SQLAlchemy import
    from feedsvc.db.where import is_database_error

    # SQLAlchemy's, or the driver's own from the read-only commands (feedsvc.store.lite): which
    # database, what it said (no SQL or parameters) and what to do when that is known
    if is_database_error(exc):
        return explain(exc)
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    return None


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feedsvc")
@root_config_option
def cli(config_file: str | None) -> None:
    """feedsvc: topic feeds (RSS, Atom, JSON) and alerts (Telegram, Zalo, Apprise: Discord,
    Slack, e-mail, webhooks…) from a news database."""
    # the root's --config is read by each command's own (feedsvc.cli.params.config_option)


for command in (
    service.run,
    demo_cmd.demo,
    service.status,
    data.db,
    data.import_cmd,
    data.render,
    topics.topics,
    subs.subs,
    articles.articles,
    config_cmd.config,
    source.source,
    match,
):
    cli.add_command(command)


def main() -> None:
    """Run the command line, then leave the interpreter's shutdown no garbage collection to do.

    A command ends by exiting the process (Click's standalone mode raises ``SystemExit``), and
    Python's shutdown then collects everything still alive in a reference cycle, i.e. every
    module, class and function imported (pydantic's and psycopg's with their schemas and type
    adapters), walking and freeing it object by object: ~80-100 ms CPU after `topics list` on
    PostgreSQL, ~1.5x ``import click`` (issue #17 §1). ``gc.freeze()`` takes it all out of the
    collector's reach and the memory goes back with the process. Nothing that must happen at
    exit depends on that collection: commands close their databases and files themselves
    (``with``, ``finally``: ``tests/test_cli_exit.py``), ``atexit`` hooks (logging's flush,
    multiprocessing's children) still run, and Python promises no ``__del__`` for objects still
    alive at exit. Tests call :data:`cli` (Click's runner), not this: no freeze in pytest.
    """
    try:
        cli(prog_name="feedsvc")
    except KeyboardInterrupt as exc:  # called without ``feedsvc.entry`` (it takes Ctrl-C first)
        sys.exit(terminate.exit_code(exc))
    finally:
        gc.freeze()
        unheard = terminate.finish()
        if unheard is not None:  # it came while no command ran: `--help`, a usage error
            terminate.say(unheard)
            sys.exit(terminate.exit_code(unheard))
