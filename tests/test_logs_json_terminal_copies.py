"""`feedsvc run --log-json` (the systemd units' command): one JSON object per line, each value
something a log pipeline can index, never a copy of the message coloured for a terminal.

uvicorn logs its start and stop lines with ``extra={"color_message": …}``, the same message
with ANSI colour sequences, for its own coloured console formatter. The JSON formatter wrote
every extra, so each start and stop record carried ``"color_message": "Started server process
[\\u001b[36m%d\\u001b[0m]"``: a second, unformatted message full of escape sequences beside
``msg``. The real service is run here and its log read line by line.
"""

from __future__ import annotations

import io
import json
import logging
import signal
import subprocess
import sys
from pathlib import Path

from processes import free_port, wait_until
from test_web_stopping_log import service_env

from feedsvc.logs import JsonFormatter


def run_and_stop(tmp_path: Path) -> tuple[int, list[dict[str, object]]]:
    """`feedsvc run --log-json` started and stopped by SIGTERM: its exit code and records."""
    log_path = tmp_path / "service.log"
    argv = [sys.executable, "-m", "feedsvc", "run", "--no-bot", "--log-json"]
    argv += ["--port", str(free_port())]
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=tmp_path, env=service_env(tmp_path), stdout=out, stderr=subprocess.STDOUT
        )
        text = lambda: log_path.read_text("utf-8", errors="replace")  # noqa: E731
        try:
            wait_until(lambda: "Started server process" in text() or proc.poll() is not None,
                       60, "the service's start")  # fmt: skip
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
    return code, [json.loads(line) for line in text().splitlines() if line.strip()]


def test_the_services_json_log_has_no_terminal_colour_copies(tmp_path: Path) -> None:
    code, records = run_and_stop(tmp_path)
    assert code == 0, records
    uvicorn = [r for r in records if str(r["logger"]).startswith("uvicorn")]
    assert any("Started server process" in str(r["msg"]) for r in uvicorn), records
    assert any("Finished server process" in str(r["msg"]) for r in uvicorn), records
    for record in records:
        assert "color_message" not in record, record
        for key, value in record.items():
            assert "\x1b" not in str(value), (key, record)


def format_json(**extra: object) -> dict[str, object]:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started [%d]",
                               (42,), None)  # fmt: skip
    record.__dict__.update(extra)
    doc = json.loads(JsonFormatter().format(record))
    assert isinstance(doc, dict)
    return doc


def test_a_records_own_extras_stay() -> None:
    """Only the terminal copy is left out: the extras a record carries for programs (a chat,
    a count) are still written beside the message."""
    doc = format_json(color_message="Started [\x1b[36m%d\x1b[0m]", chat_id=1001, rows=3)
    assert doc["msg"] == "Started [42]"
    assert doc["chat_id"] == 1001 and doc["rows"] == 3
    assert "color_message" not in doc


def test_the_text_log_is_unchanged(tmp_path: Path) -> None:
    """The text format never wrote extras: the message as formatted, escape-free."""
    from feedsvc.logs import TextFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("feedsvc.test.terminal_copies")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("Started [%d]", 42, extra={"color_message": "Started [\x1b[36m%d\x1b[0m]"})
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == "WARNING feedsvc.test.terminal_copies: Started [42]\n"
