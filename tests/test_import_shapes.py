"""``feedsvc import`` of a file that is no JSON Lines at all says so once (``jsonl_shape``).

A UTF-16 file (PowerShell's ``>``) was "invalid UTF-8 at byte 1", then "Expecting value" on every
line; a JSON array and a file with CR-only line ends were "Extra data" per line (a tester's).
Now: one line naming what the file is and how to convert it, exit 2 as the other refusals,
nothing stored and, for a file, no state DB created.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli

ARTICLE = {"source_key": "a-{n}", "url": "https://x.vn/{n}", "title": "Kiến Thụy {n}",
           "published_at": "2026-11-30T10:00:00+07:00"}  # fmt: skip


def lines(n: int = 3, end: str = "\n") -> str:
    return "".join(
        json.dumps({k: v.format(n=i) for k, v in ARTICLE.items()}, ensure_ascii=False) + end
        for i in range(1, n + 1)
    )


SHAPES = {
    "utf-16 le (PowerShell >)": (lines().encode("utf-16"), "is UTF-16 (little-endian), not UTF-8"),
    "utf-16 be": (b"\xfe\xff" + lines().encode("utf-16-be"), "is UTF-16 (big-endian)"),
    "utf-16 le, no BOM": (lines().encode("utf-16-le"), "is UTF-16 (little-endian)"),
    "utf-32": (lines().encode("utf-32"), "is UTF-32"),
    "utf-16 CRLF": (lines(end="\r\n").encode("utf-16"), "is UTF-16"),
    "array on one line": (
        ("[" + ",".join(lines().splitlines()) + "]\n").encode(),
        "is a JSON array",
    ),
    "array pretty-printed": (
        ("[\n  " + ",\n  ".join(lines().splitlines()) + "\n]\n").encode(),
        "is a JSON array",
    ),
    "array after a UTF-8 BOM": (
        ("\ufeff[" + ",".join(lines().splitlines()) + "]").encode(),
        "is a JSON array",
    ),
    "CR line ends": (lines(end="\r").encode(), "end in a carriage return alone"),
}


def pretty(indent: int | str = 2, end: str = "\n", n: int = 1) -> str:
    """``n`` articles each spread over lines (``jq .``, ``json.dumps(indent=…)``)."""
    return "".join(
        json.dumps({k: v.format(n=i) for k, v in ARTICLE.items()}, ensure_ascii=False,
                   indent=indent).replace("\n", end) + end
        for i in range(1, n + 1)
    )  # fmt: skip


#: A verifier's: an object spread over lines was one rejected line per line of it.
PRETTY = {
    "jq . of one object": pretty().encode(),
    "jq . of a stream of objects": pretty(n=3).encode(),
    "tab-indented, CRLF (ConvertTo-Json)": pretty("\t", "\r\n").encode(),
    "CR line ends": pretty(4, "\r").encode(),
    "after a BOM and blank lines, `{ ` with a trailing space": (
        "\ufeff\n\n" + pretty().replace("{\n", "{ \n", 1)
    ).encode(),
}


@pytest.mark.parametrize("data", PRETTY.values(), ids=PRETTY.keys())
def test_a_pretty_printed_object_is_refused_once(tmp_path: Path, data: bytes) -> None:
    path, line = refusal(tmp_path, data)
    assert line.startswith(f"feedsvc: {path} is pretty-printed JSON"), line
    assert f"`jq -c . '{path}' > articles.jsonl`" in line and "nothing imported" in line, line
    assert not (tmp_path / "state.db").exists()


def test_a_pretty_printed_object_on_a_pipe_is_refused_once(tmp_path: Path) -> None:
    line = piped_refusal(tmp_path, ("\n" + pretty(n=2)).encode())
    assert line.startswith("feedsvc: the input is pretty-printed JSON"), line
    assert "`jq -c . FILE > articles.jsonl`" in line, line


def test_a_line_that_opens_with_a_brace_and_more_is_read_as_a_line(tmp_path: Path) -> None:
    """The control: a first line holding ``{`` and a key is one (bad) line, the rest stored."""
    path = tmp_path / "a.jsonl"
    path.write_bytes(('{ "source_key": "x",\n' + lines(2)).encode())
    result = CliRunner().invoke(cli, ["import", str(path)], env=env(tmp_path))
    assert result.exit_code == 1, result.output
    assert "inserted 2, updated 0, unchanged 0, rejected 1" in result.output


def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    return base | {"FEEDSVC_CONFIG": "/dev/null",
                   "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}"}  # fmt: skip


def refusal(tmp_path: Path, data: bytes, name: str = "bài viết.jsonl") -> tuple[Path, str]:
    """``import`` of a file holding ``data``: refused, exit 2, in one line (returned)."""
    path = tmp_path / name
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["import", str(path)], env=env(tmp_path))
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    return path, line


def piped_refusal(tmp_path: Path, data: bytes) -> str:
    """``import -`` of ``data`` on a pipe: refused, exit 2, in one line (returned)."""
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "import", "-"],
        input=data, cwd=tmp_path, env=env(tmp_path), capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.decode().splitlines()
    assert "rejected" not in done.stdout.decode()
    return line


@pytest.mark.parametrize(("data", "said"), SHAPES.values(), ids=SHAPES.keys())
def test_a_file_that_is_no_json_lines_is_refused_once(
    tmp_path: Path, data: bytes, said: str
) -> None:
    path, line = refusal(tmp_path, data)
    assert line.startswith(f"feedsvc: {path} {said}") or line.startswith(
        f"feedsvc: {path}'s lines"
    ), line
    assert said in line and "nothing imported" in line and "convert it first" in line
    assert not (tmp_path / "state.db").exists()  # refused before the state DB was touched


@pytest.mark.parametrize(
    ("data", "said"),
    [SHAPES["utf-16 le (PowerShell >)"], SHAPES["array pretty-printed"], SHAPES["CR line ends"]],
)
def test_a_pipe_that_is_no_json_lines_is_refused_once(
    tmp_path: Path, data: bytes, said: str
) -> None:
    line = piped_refusal(tmp_path, data)
    assert line.startswith("feedsvc: the input") and said in line, line


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_json_lines_are_imported_as_before(tmp_path: Path, end: str) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_bytes(("\ufeff" + lines(end=end)).encode())
    result = CliRunner().invoke(cli, ["import", str(path)], env=env(tmp_path))
    assert result.exit_code == 0, result.output
    assert "inserted 3, updated 0, unchanged 0, rejected 0" in result.output


#: A verifier's: shapes the first check missed or misnamed.
MORE = {
    "utf-32 le, no BOM": (lines().encode("utf-32-le"), "is UTF-32 (little-endian)"),
    "utf-32 be, no BOM": (lines().encode("utf-32-be"), "is UTF-32 (big-endian)"),
    "utf-16 le, no BOM, a blank line first": (
        ("\n" + lines()).encode("utf-16-le"),
        "is UTF-16 (little-endian)",
    ),
    "utf-16 be, no BOM, a space first": ((" " + lines()).encode("utf-16-be"), "is UTF-16"),
}


@pytest.mark.parametrize(("data", "said"), MORE.values(), ids=MORE.keys())
def test_utf32_and_utf16_after_blank_space_are_named(
    tmp_path: Path, data: bytes, said: str
) -> None:
    _path, line = refusal(tmp_path, data, "a.jsonl")
    assert said in line and "nothing imported" in line, line
    assert ("PowerShell's `>` writes UTF-16" in line) == ("UTF-16" in said), line


def test_a_pipe_whose_array_follows_blank_lines_is_refused_once(tmp_path: Path) -> None:
    data = ("\n \n\r\n[" + ",".join(lines().splitlines()) + "]\n").encode()
    assert "is a JSON array" in piped_refusal(tmp_path, data)


@pytest.mark.parametrize("final", ["", "\r"])
def test_a_cr_between_one_lines_tokens_is_no_line_end(tmp_path: Path, final: str) -> None:
    """A valid one-line file (no final line feed) with a CR as blank space inside its JSON was
    refused as "lines end in a carriage return alone" (a verifier's)."""
    record = json.dumps({k: v.format(n=1) for k, v in ARTICLE.items()}, ensure_ascii=False)
    path = tmp_path / "one.jsonl"
    path.write_bytes((record.replace(', "url"', ',\r"url"') + final).encode())
    result = CliRunner().invoke(cli, ["import", str(path)], env=env(tmp_path))
    assert result.exit_code == 0, result.output
    assert "inserted 1, updated 0, unchanged 0, rejected 0" in result.output
