"""Peak memory of the 10-minute re-check of quarantined rows against the first ingest of them.

A SQLite CMS table of ``--rows`` rows whose bodies are ``--mb`` MB (over the article limit of
2,000,000 characters: quarantined as too long) and one row a day later (the cursor ends past
them), a SQLite state DB. Each phase runs in a fresh process and reports its peak resident set
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``): the interpreter and feedsvc imported alone
("baseline"); the first ingest of the table ("ingest": every row read by the keyset batches,
each big one quarantined); one tick of a new process, whose first tick runs the re-check by id
of every quarantined row ("re-check"; ``--fixed N`` of them fixed in the CMS first: taken in).
Run it with another checkout's ``feedsvc`` on ``PYTHONPATH`` (e.g. main before a change, from
``git archive``) to compare.

    python bench/recheck_memory.py [--rows 200] [--mb 5] [--batch 100] [--fixed 0]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text

VN = ZoneInfo("Asia/Ho_Chi_Minh")
T = datetime(2026, 11, 2, 8, 0)


def setup(tmp: Path, rows: int, mb: float) -> None:
    """The CMS table (big rows 1..rows, one normal row after them) and the state DB."""
    from feedsvc.db import Database, upgrade

    body = "<p>" + "Kiến Thụy an ninh trật tự. " * int(mb * 1_000_000 / 28) + "</p>"
    with create_engine(f"sqlite:///{tmp / 'cms.db'}").begin() as conn:
        conn.execute(text(
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, slug TEXT, link TEXT, title TEXT, "
            "body TEXT, created TIMESTAMP, modified TEXT)"
        ))  # fmt: skip
        for n in [*range(1, rows + 1), rows + 100]:
            at = T + (timedelta(days=2) if n > rows else timedelta(minutes=n))
            conn.execute(
                text("INSERT INTO posts VALUES (:n, :s, :l, :t, :b, :at, :at)"),
                {"n": n, "s": f"p-{n}", "l": f"https://baohaiphong.vn/{n}.html",
                 "t": f"Tin số {n}", "b": body if n <= rows else "<p>Tin</p>", "at": at},
            )  # fmt: skip
    db = Database(f"sqlite:///{tmp / 'state.db'}")
    upgrade(db)
    db.dispose()


def phase(tmp: Path, name: str, batch: int, fixed: int) -> dict[str, object]:
    """One phase in this process; returns its figures (peak RSS in MB)."""
    from feedsvc.config import SourceColumns
    from feedsvc.db import Database
    from feedsvc.ingest import Ingestor
    from feedsvc.source import external_source
    from feedsvc.store import quarantine
    from feedsvc.topic_index import TopicIndex

    logging.disable(logging.WARNING)  # every quarantined row is one warning line
    out: dict[str, object] = {"phase": name}
    if name != "baseline":
        columns = SourceColumns(
            cursor="modified", source_key="slug", url="link", title="title", body="body",
            published_at="created", updated_at="modified",
        )  # fmt: skip
        db = Database(f"sqlite:///{tmp / 'state.db'}")
        source = external_source(f"sqlite:///{tmp / 'cms.db'}", "posts", columns, VN)
        lookups: list[int] = []
        if name == "re-check":
            with create_engine(f"sqlite:///{tmp / 'cms.db'}").begin() as conn:
                conn.execute(text(f"UPDATE posts SET body = '<p>Tin</p>' WHERE id <= {fixed}"))
            from sqlalchemy import event

            def looked_up(conn: object, cursor: object, stmt: str, *_: object) -> None:
                if " IN (" in stmt and "body" in stmt:  # a lookup of whole rows by id
                    lookups.append(stmt.count("?"))

            event.listen(source.engine, "before_cursor_execute", looked_up)
        ing = Ingestor(
            db, source, TopicIndex(), tz=VN, poll_seconds=1, overlap_seconds=3600,
            batch_size=batch,
        )  # fmt: skip
        news = 0
        while True:
            result = ing.tick()
            assert result.error is None, result.error
            news += result.new
            if name == "re-check" or not result.read:
                break
        with db.read() as conn:
            out["quarantined"] = quarantine.count(conn)
        out["ingested"] = news
        out["lookups"] = len(lookups)
        out["ids per lookup, most"] = max(lookups, default=0)
        ing.source.dispose()
        db.dispose()
    out["peak RSS MB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200, help="big CMS rows (quarantined)")
    parser.add_argument("--mb", type=float, default=5.0, help="each big row's body, MB")
    parser.add_argument("--batch", type=int, default=100, help="source.batch_size")
    parser.add_argument("--fixed", type=int, default=0, help="big rows fixed before the check")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(Path(args.dir), args.phase, args.batch, args.fixed)))
        return
    import feedsvc

    print(f"feedsvc from {Path(feedsvc.__file__).parent}; {args.rows} rows of {args.mb} MB, "
          f"batch {args.batch}, {args.fixed} fixed")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        setup(Path(tmp), args.rows, args.mb)
        for name in ("baseline", "ingest", "re-check"):
            cmd = [sys.executable, __file__, "--phase", name, "--dir", tmp,
                   "--batch", str(args.batch), "--fixed", str(args.fixed)]  # fmt: skip
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            print(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
