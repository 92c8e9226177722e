"""``source check``'s warnings about the row ids: rows without one, ids several rows carry.

Both are the CMS's data, not the mapping (a view over a LEFT JOIN, a table without a primary
key), so they are warnings (stderr, exit unchanged) as a key given twice is, unless no row of
the sample has an id at all (then the id column is the wrong one: a mapping problem, exit 2).
Why here: ``source check`` sampled such a row as ``id=None`` and said OK, while ingest stopped
on it for good or withdrew another row's article as "re-keyed" (a tester's U1, U2); ingest now
quarantines a row without an id (:mod:`feedsvc.ingest.no_id`) and keeps both rows of an id
given twice (:mod:`feedsvc.ingest.shared_ids`), and the operator learns of both here first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from feedsvc.cli.common import cell
from feedsvc.cli.source_cursor import SHOWN

if TYPE_CHECKING:
    from feedsvc.config import Settings
    from feedsvc.source import SqlSource


def id_warnings(
    src: SqlSource, settings: Settings, sampled: int, problems: list[tuple[str, str]]
) -> None:
    """Warn about rows without an id and ids several of the newest rows carry; a problem
    when rows have no id and none of the sample has one. Raises nothing: a failing check
    is its own warning."""
    from sqlalchemy.exc import SQLAlchemyError

    from feedsvc.cli.source import first_line
    from feedsvc.source.row_ids import (
        DUPLICATE_SCAN,
        count_unidentified,
        duplicate_ids,
        unidentified,
    )

    column = f"source.columns.id = {settings.source.columns.id!r}"
    try:
        missing = unidentified(src, SHOWN + 1)
        total = len(missing) if len(missing) <= SHOWN else count_unidentified(src)
        shared = duplicate_ids(src, SHOWN + 1)
    except SQLAlchemyError as exc:
        click.echo(f"warning: the id check fails: {first_line(exc)}", err=True)
        return
    if missing:
        keys = ", ".join("(no key)" if m.key is None else cell(m.key, 60) for m in missing[:SHOWN])
        rest = f", and {total - SHOWN} more" if total > SHOWN else ""
        said = (
            f"{total} row{'' if total == 1 else 's'} {'has' if total == 1 else 'have'} no id "
            f"({column} is NULL or empty): key{'' if total == 1 else 's'} {keys}{rest}; ingest "
            "quarantines such rows (feedsvc names every row by its id): ids must be unique and "
            "not NULL"
        )
        if sampled:
            click.echo(f"warning: {said}", err=True)
        else:
            problems.append(("source.columns.id", said))
    if shared:
        more = ", and more" if len(shared) > SHOWN else ""
        shown = ", ".join(cell(i, 60) for i in shared[:SHOWN])
        click.echo(
            f"warning: {column} is not unique: several of the newest {DUPLICATE_SCAN} rows "
            f"carry the id {shown}{more}; ingest keeps an article for each of their keys (none "
            "taken for a re-key of the other), but a row's id must name that row alone: map a "
            "unique id column",
            err=True,
        )
