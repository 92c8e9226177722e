"""How long one article with a huge vocabulary holds SQLite's write lock at ingest, old code
against new (a tester's finding 1: the tester's 200,000-word article held it ~4 s, past other
writers' busy timeout).

Each cell runs in a fresh process on a fresh SQLite state DB: the article (``x0 x1 …``, 200,000
distinct words, 1.4 MB) is put into the built-in source table and one ingest tick stores it;
printed are the longest write transaction of the tick (the lock's hold) and the stored search
text's size, for this checkout and for ``--old DIR`` (``git archive <commit> | tar -x -C DIR``).

    python bench/huge_vocabulary.py --old DIR [--words 200000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
from common import machine  # noqa: E402

_CELL = """
import sys, tempfile, time
from contextlib import contextmanager
from datetime import UTC, datetime
sys.path.insert(0, {tests!r})
from factories import article, builtin_ingestor
from sqlalchemy import text
from feedsvc.db import Database, upgrade
from feedsvc.store.source_articles import upsert_source_articles
home = tempfile.TemporaryDirectory()
url = "sqlite:///" + home.name + "/state.db"
db = Database(url)
upgrade(db)
body = " ".join(f"x{{i}}" for i in range({words}))
with db.write() as conn:
    upsert_source_articles(conn, [article(1, body=body)], datetime.now(UTC))
held = []
plain = Database.write
@contextmanager
def timed(self):
    started = time.perf_counter()
    with plain(self) as conn:
        yield conn
    held.append(time.perf_counter() - started)
Database.write = timed
result = builtin_ingestor(db).tick()
with db.read() as conn:
    size = conn.execute(text("SELECT length(search_text) FROM articles")).scalar()
print(f"{{max(held):.2f}} s, search text {{size}} characters, error {{result.error}}")
db.dispose()
home.cleanup()
"""


def cell(code: Path, words: int) -> str:
    source = _CELL.format(tests=str(code / "tests"), words=words)
    done = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(code)},
        cwd=code,
    )
    return done.stdout.strip() or done.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True)
    parser.add_argument("--words", type=int, default=200_000)
    args = parser.parse_args()
    print(machine())
    print(f"one article of {args.words} distinct words, SQLite, longest write transaction:")
    print(f"  old: {cell(args.old, args.words)}")
    print(f"  new: {cell(ROOT, args.words)}")


if __name__ == "__main__":
    main()
