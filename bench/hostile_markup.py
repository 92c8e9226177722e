"""Bodies built to be slow to read as text, old code against new, side by side.

Each shape of ``tests/test_hostile_markup.py`` (tags that open and never close, unclosed
quotes and comments…) is read by the matcher's scanner (``html_to_text``, every article at
ingest) and the feeds' cleaner (``plain_text``, excerpts at render) at each ``--sizes``, in a
fresh process per cell, once with this checkout and once with ``--old DIR`` (e.g. main before
the change: ``git archive <commit> | tar -x -C DIR``). A cell prints the CPU seconds of the
call, or ``>T`` when it was stopped after ``--timeout`` T seconds of wall time.

    python bench/hostile_markup.py --old DIR [--sizes 24000,2000000] [--timeout 60]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "tests"))
from common import machine  # noqa: E402

_CELL = """
import sys, time
sys.path.insert(0, {tests!r})
from test_hostile_markup import _SHAPES
from feedsvc.html_text import html_to_text
from feedsvc.feeds.sanitize import plain_text
read = {{"html_to_text": html_to_text, "plain_text": plain_text}}[{function!r}]
body = _SHAPES[{shape!r}][0]({size})
started = time.process_time()
read(body)
print(f"{{time.process_time() - started:.3f}}")
"""


def cell(code: Path, function: str, shape: str, size: int, timeout: float) -> str:
    """CPU seconds of one call in a fresh interpreter importing feedsvc from ``code``."""
    script = _CELL.format(tests=str(ROOT / "tests"), function=function, shape=shape, size=size)
    env = {**os.environ, "PYTHONPATH": str(code)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            cwd="/",
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return f">{timeout:g}"
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the code before")
    parser.add_argument("--sizes", default="24000,2000000")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--functions", default="html_to_text,plain_text")
    parser.add_argument("--shapes", default="", help="comma-separated; default: all")
    args = parser.parse_args()
    from test_hostile_markup import _SHAPES

    shapes = args.shapes.split(",") if args.shapes else sorted(_SHAPES)
    print(f"# {machine()}; load average {os.getloadavg()[0]:.1f} at start")
    print("| function | shape | size | old (s CPU) | new (s CPU) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for function in args.functions.split(","):
        for shape in shapes:
            for size in (int(s) for s in args.sizes.split(",")):
                old = cell(args.old, function, shape, size, args.timeout)
                new = cell(ROOT, function, shape, size, args.timeout)
                print(f"| {function} | {shape} | {size:,} | {old} | {new} |", flush=True)
    print(f"# load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
