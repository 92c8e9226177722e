"""A line too long to be an article is rejected without being held in memory (issue #17 §3).

`import` and `match` iterated their input by lines, so a JSON array exported on one line or a
binary file given by mistake was read whole before it was refused: a 300 MB line took 900 MB,
a few GB ended the process. :func:`feedsvc.jsonlines.bounded_lines` reads past such a line in
chunks and reports it with its number and size; the lines after it are read as before."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from feedsvc import jsonlines
from feedsvc.cli import cli
from feedsvc.jsonlines import OverlongLine, bounded_lines

LIMIT = 1000


def line(key: str, title: str = "Công an xã") -> bytes:
    record = {"source_key": key, "url": f"https://e.vn/{key}", "title": title,
              "published_at": "2026-11-20T10:00:00+07:00"}  # fmt: skip
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


class Watched(io.BytesIO):
    """A stream that records the most bytes one read asked for."""

    most = 0

    def read1(self, size: int | None = -1, /) -> bytes:
        assert size is not None and size > 0, "a read without a bound"
        self.most = max(self.most, size)
        return super().read1(size)

    def readline(self, size: int | None = -1, /) -> bytes:
        raise AssertionError("bounded_lines reads chunks")

    def read(self, size: int | None = -1, /) -> bytes:
        raise AssertionError("bounded_lines reads with read1 when there is one")


@given(st.lists(st.one_of(st.binary(max_size=40), st.integers(0, 5000)), max_size=12),
       st.sampled_from([b"\n", b"\r\n"]), st.booleans())  # fmt: skip
def test_short_lines_are_kept_and_long_ones_skipped_alone(
    parts: list[bytes | int], end: bytes, last_ends: bool
) -> None:
    lines = [p.replace(b"\n", b" ") if isinstance(p, bytes) else b"x" * p for p in parts]
    data = end.join(lines) + (end if last_ends and lines else b"")
    stream = Watched(data)
    got = list(bounded_lines(stream, 100))
    expected = [chunk + end for chunk in lines]
    if expected and not last_ends:
        expected[-1] = lines[-1]
    expected = [chunk for chunk in expected if chunk]
    assert len(got) == len(expected)
    for item, want in zip(got, expected, strict=True):
        if len(want.rstrip(b"\r\n")) <= 100:
            assert item == want
        else:
            assert item == OverlongLine(len(want), 100)
    assert stream.most <= 1024 * 1024  # never the whole line


def test_a_line_of_exactly_the_limit_is_kept() -> None:
    for end in (b"\n", b"\r\n"):
        data = b"y" * 100 + end
        assert list(bounded_lines(io.BytesIO(data + b"z\n"), 100)) == [data, b"z\n"]
    assert list(bounded_lines(io.BytesIO(b"y" * 100), 100)) == [b"y" * 100]  # at the end
    assert list(bounded_lines(io.BytesIO(b"y" * 101), 100)) == [OverlongLine(101, 100)]


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key in ("FEEDSVC_CONFIG", "FEEDSVC_DATABASE__URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(jsonlines, "MAX_LINE_BYTES", LIMIT)
    return tmp_path


@pytest.mark.parametrize("bad", [
    b"[" + b", ".join(line(f"A{i}").rstrip() for i in range(20)) + b"]\n",  # an array, one line
    bytes(range(11, 256)) * 8 + b"\n",  # binary
    line("LONG", "a" * 2 * LIMIT),  # an article over the limit
])  # fmt: skip
def test_import_and_match_reject_the_long_line_and_go_on(small_limit: Path, bad: bytes) -> None:
    data = line("K1") + bad + line("K3")
    (small_limit / "in.jsonl").write_bytes(data)
    result = CliRunner().invoke(cli, ["import", "in.jsonl"])
    assert result.exit_code == 1, result.output
    assert f"rejected line 2: {len(bad)} bytes, over the {LIMIT}-byte limit" in result.output
    assert "inserted 2, updated 0, unchanged 0, rejected 1" in result.output
    result = CliRunner().invoke(cli, ["match", "--query", '"công an"'], input=data)
    assert result.exit_code == 1, result.output
    assert result.stdout == "K1\nK3\n"
    assert f"skipped line 2: {len(bad)} bytes, over the {LIMIT}-byte limit" in result.stderr
