"""Test-only (put on ``PYTHONPATH`` by ``tests/test_cli_signals_early.py``): the process sends
itself a signal when it first imports a given module, i.e. at a known point of the CLI's
start-up, before any of its handlers could be in place in the old code.

``SIGNAL_AT_IMPORT=MODULE:SIGNAME`` (e.g. ``click.core:SIGTERM``); ``SIGNAL_AT_IMPORT_LOG``:
a file told the moment it was sent (the test checks the signal was sent at all).
"""

import os
import signal
import sys

_MODULE, _, _NAME = os.environ.get("SIGNAL_AT_IMPORT", "").partition(":")


class _SignalAtImport:
    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == _MODULE:
            sys.meta_path.remove(_SignalAtImport)
            with open(os.environ["SIGNAL_AT_IMPORT_LOG"], "a") as log:
                log.write(f"{_NAME} at the import of {name}\n")
            signal.raise_signal(getattr(signal, _NAME))


if _MODULE:
    sys.meta_path.insert(0, _SignalAtImport)
