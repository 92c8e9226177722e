"""Run inside the service by ``bench/huge_bodies.py --probe`` (gdb, ``PyRun_SimpleString``):
which objects hold texts of over 100,000 characters or bytes, by the holder's type, appended as
one JSON line to ``$HUGE_PROBE_OUT``. Strings are not tracked by the garbage collector, so each
is found through the containers that refer to it; each is counted once."""

import collections
import gc
import json
import os
import sys


def _probe() -> None:
    owners: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    seen: dict[int, int] = {}
    for o in gc.get_objects():
        for r in gc.get_referents(o):
            if type(r) in (str, bytes, bytearray) and len(r) > 100_000 and id(r) not in seen:
                size = sys.getsizeof(r)
                seen[id(r)] = size
                key = f"{type(o).__module__}.{type(o).__qualname__}"
                owners[key][0] += 1
                owners[key][1] += size
    top = sorted(owners.items(), key=lambda kv: -kv[1][1])[:15]
    line = {
        "big_text_objects": len(seen),
        "big_text_MB": round(sum(seen.values()) / 2**20),
        "owners": {k: [n, round(size / 2**20, 1)] for k, (n, size) in top},
    }
    with open(os.environ.get("HUGE_PROBE_OUT", "/tmp/huge_bodies_probe.out"), "a") as fh:
        fh.write(json.dumps(line) + "\n")


_probe()
del _probe
