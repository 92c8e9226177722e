"""A/B of normalisation (HTML → document) between checkouts, on bench/matching.py's articles.

Run once per checkout, alternating, each in a fresh process (the first pass has cold caches):
``PYTHONPATH=DIR .venv/bin/python bench/normalise_ab.py`` where DIR holds the ``feedsvc``
package of the checkout under test (e.g. ``git archive REV feedsvc | tar -x -C DIR``).
Prints articles/s in process CPU time: cold, and warm best of 5.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import feedsvc.matching.normalize as normalize  # from PYTHONPATH: the checkout under test
from feedsvc.matching import document_from_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matching import Generator  # the bench's seeded generator

ARTICLES = 2000


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def normalise_all(arts: list[dict[str, object]]) -> float:
    """CPU seconds to normalise every article once."""
    started = cpu()
    for a in arts:
        document_from_text(
            str(a["title"]),
            str(a["body"]),
            summary=str(a["summary"]),
            tags=list(a["tags"]),  # type: ignore[call-overload]
            section=str(a["section"]),
        )
    return cpu() - started


def main() -> None:
    gen = Generator(2025)
    arts = [gen.article() for _ in range(ARTICLES)]
    cold = normalise_all(arts)
    warm = min(normalise_all(arts) for _ in range(5))
    where = normalize.__file__.split("/feedsvc/")[0]
    rates = f"cold {ARTICLES / cold:,.0f} art/s, warm best of 5 {ARTICLES / warm:,.0f} art/s"
    print(f"{where}: {rates}")


if __name__ == "__main__":
    main()
