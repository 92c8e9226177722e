"""`feedsvc demo` typed anywhere: the README's first command refused to start outside the
repository root ("topics file config/topics.toml not found: run the demo from the repository
root", exit 2), so a user who had pip-installed feedsvc got no demo at all.

The demo's topics now ship in the package (``feedsvc/demo_data/topics.toml``, package data;
the repository's ``config/topics.toml`` is a link to it, one copy): with no ``topics.file`` set
and no ``config/topics.toml`` where it starts, the demo imports them. A ``topics.file`` that is
set, or a ``config/topics.toml`` present, is still the one used.
"""

from __future__ import annotations

import importlib.resources
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from in_process import Ran, feedsvc
from processes import free_port, get, wait_until

from feedsvc.topics_file import load_topics_file

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = ROOT / "feedsvc" / "demo_data" / "topics.toml"
OWN_TOPICS = """\
[[topic]]
slug = "rieng"
title = "Chủ đề riêng"
query = '"công an"'
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env | extra


def _start(
    cwd: Path, log: Path, port: int, env: dict[str, str], procs: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    """``python -m feedsvc demo`` in ``cwd`` (its output in ``log``, outside ``cwd``), serving
    and its banner printed."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "demo", "--port", str(port), "--articles", "60"],
            cwd=cwd,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    procs.append(proc)
    wait_until(
        lambda: proc.poll() is not None or "Ctrl-C to stop" in log.read_text("utf-8"),
        60,
        "the demo's banner",
    )
    assert proc.poll() is None, log.read_text("utf-8")
    # the listening socket is open at the banner; a loaded machine's server may take seconds
    # more to answer (a request waits, it is not refused), longer than `get`'s 2 s timeout
    with httpx.Client(timeout=30) as client:
        health = client.get(f"http://127.0.0.1:{port}/healthz")
    assert health.status_code == 200, log.read_text("utf-8")
    return proc


def _feed_items(port: int, slug: str) -> str:
    """The topic's RSS feed once it lists an item (the demo's archive ingested)."""
    url = f"http://127.0.0.1:{port}/feeds/{slug}.rss"
    wait_until(
        lambda: (r := get(url)) is not None and r.status_code == 200 and "<item>" in r.text,
        60,
        f"{url} to list an item",
    )
    feed = get(url)
    assert feed is not None
    return feed.text


def _stop(proc: subprocess.Popen[bytes], log: Path) -> str:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, log.read_text("utf-8")
    text = log.read_text("utf-8")
    assert "feedsvc stopped" in text and "Traceback" not in text, text
    return text


def test_the_demo_runs_in_an_empty_directory(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    """The brief's repro: ``mkdir /tmp/x && cd /tmp/x && feedsvc demo``. It starts on the
    packaged topics (named in its banner), serves their feeds, and stops cleanly; it makes
    only its ``var/demo`` there."""
    cwd = tmp_path / "anywhere"
    cwd.mkdir()
    port = free_port()
    log = tmp_path / "demo.log"
    proc = _start(cwd, log, port, _env(), procs)
    assert f"  topics   {PACKAGED}\n" in log.read_text("utf-8")
    feed = _feed_items(port, "kien-thuy")
    assert "<channel><title>Kiến Thụy — " in feed, feed[:500]
    atom = get(f"http://127.0.0.1:{port}/feeds/an-ninh.atom")
    assert atom is not None and atom.status_code == 200
    text = _stop(proc, log)
    assert f"topics file {PACKAGED}: " in text  # imported at start, one line
    assert sorted(p.name for p in cwd.iterdir()) == ["var"]
    assert (cwd / "var" / "demo" / "demo.db").is_file()


@pytest.mark.parametrize("where", ["config/topics.toml here", "topics.file set"])
def test_a_topics_file_here_or_set_is_still_the_one_used(
    tmp_path: Path, procs: list[subprocess.Popen[bytes]], where: str
) -> None:
    """Today's behaviour kept: ``config/topics.toml`` in the working directory, or a set
    ``topics.file``, is what the demo imports; the packaged topics are not added to it."""
    cwd = tmp_path / "here"
    cwd.mkdir()
    if where == "topics.file set":
        own = tmp_path / "own.toml"
        env = _env(FEEDSVC_TOPICS__FILE=str(own))
    else:
        (cwd / "config").mkdir()
        own = cwd / "config" / "topics.toml"
        env = _env()
    own.write_text(OWN_TOPICS, encoding="utf-8")
    port = free_port()
    log = tmp_path / "demo.log"
    proc = _start(cwd, log, port, env, procs)
    shown = own if where == "topics.file set" else Path("config/topics.toml")
    banner = log.read_text("utf-8")
    assert f"  topics   {shown}\n" in banner
    # the banner names the feeds it imported (it named the sample ones, answering 404)
    assert f"  feeds    http://127.0.0.1:{port}/feeds/rieng.rss\n" in banner
    assert "kien-thuy" not in banner
    assert "<channel><title>Chủ đề riêng — " in _feed_items(port, "rieng")
    shipped = get(f"http://127.0.0.1:{port}/feeds/kien-thuy.rss")
    assert shipped is not None and shipped.status_code == 404
    _stop(proc, log)


def _demo_ran(cwd: Path, *args: str, **env: str) -> Ran:
    """``feedsvc demo ARGS`` in ``cwd`` run to its end, a refusal, in this process: each case
    here is refused by the topics or config check before the demo makes anything, so a process
    per case (~1 s of CPU each, 19 cases) showed nothing the started demos above do not."""
    return feedsvc(["demo", "--port", str(free_port()), *args], cwd, **env)


def _demo_with_topics(cwd: Path, topics_file: str) -> Ran:
    """``feedsvc demo`` in ``cwd`` with ``topics.file`` set, run to its end (a refusal)."""
    return _demo_ran(cwd, FEEDSVC_TOPICS__FILE=topics_file)


def test_a_set_topics_file_that_is_missing_is_still_refused(tmp_path: Path) -> None:
    """A set ``topics.file`` that is missing is a typo or a volume not mounted: exit 2 naming
    it (never the packaged topics instead), and nothing left behind."""
    done = _demo_with_topics(tmp_path, "typo.toml")
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "feedsvc: topics file typo.toml not found (topics.file, set by FEEDSVC_TOPICS__FILE): "
        "point it at a topics file, or unset FEEDSVC_TOPICS__FILE for the demo's own topics\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_one_copy_of_the_topics_and_it_is_package_data(tmp_path: Path) -> None:
    """The repository's ``config/topics.toml`` is the packaged file (a link, not a copy), the
    package finds it by ``importlib.resources``, and setuptools' ``build_py`` — what a
    non-editable ``pip install .`` puts in the wheel — copies it into the build."""
    from feedsvc.cli.demo_cmd import DEMO_TOPICS

    assert (ROOT / "config" / "topics.toml").resolve() == PACKAGED
    # the installed package's copy: the checkout's own when installed editable, site-packages'
    # after .ci/run's ``pip install .`` (which therefore checks the package data shipped)
    assert DEMO_TOPICS.parts[-3:] == ("feedsvc", "demo_data", "topics.toml")
    assert DEMO_TOPICS.read_bytes() == PACKAGED.read_bytes()
    resource = importlib.resources.files("feedsvc").joinpath("demo_data/topics.toml")
    assert resource.is_file() and resource.read_bytes() == PACKAGED.read_bytes()
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "feedsvc", source / "feedsvc", ignore=shutil.ignore_patterns("__py*"))
    built = tmp_path / "build"
    done = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
         "--build-lib", str(built)],
        cwd=source, env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shipped = built / "feedsvc" / "demo_data" / "topics.toml"
    assert shipped.read_bytes() == PACKAGED.read_bytes()
    assert {s.slug for s in load_topics_file(shipped)} >= {"kien-thuy", "an-ninh"}
    assert (built / "feedsvc" / "cli" / "demo_cmd.py").is_file()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[[topik]]\nslug = "x"\n', "unknown top-level key 'topik'"),
        ('[[topic]]\nslug = "x"\ntitle = "X"\nquery = \'"an ninh\'\n', "topic x: query:"),
        ("[[topic]\n", "line 1"),
        ('[[topic]]\nslug = "x"\ntitle = "X"\nquery = "@khong-co"\n', "khong-co"),
        ("", "holds no enabled topic"),
        ('[[topic]]\nslug = "x"\ntitle = "X"\nquery = "x"\nenabled = false\n', "no enabled"),
    ],
)
def test_a_topics_file_with_problems_is_refused(tmp_path: Path, text: str, said: str) -> None:
    """The demo's DB is new, so a file ``run`` would not import left it with no topic at all;
    it started anyway (exit 0), its banner naming feeds that answered 404."""
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    done = _demo_with_topics(tmp_path, "bad.toml")
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "bad.toml" in done.stderr, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["bad.toml"]


# -- where the topics file came from -----------------------------------------------------------


def _refused(cwd: Path, *args: str, **env: str) -> str:
    """``feedsvc demo ARGS`` in ``cwd``, refused before it starts: its stderr."""
    done = _demo_ran(cwd, *args, **env)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert "Traceback" not in done.stderr and "leave" not in done.stderr, done.stderr
    return done.stderr


#: What the default location's refusals advise: the setting is not set, so unsetting it
#: cannot help; --dir moves the demo's DB, not the file the working directory holds.
MOVE_IT = ("move or rename it, or start the demo in another directory (--dir moves only its "
           "database), for the demo's own topics")  # fmt: skip


def _default_location(cwd: Path) -> str:
    where = cwd / "config" / "topics.toml"
    return f"read from topics.file's default location in the working directory, {where}; " \
        "topics.file is not set"  # fmt: skip


@pytest.mark.parametrize("args", [[], ["--dir", "elsewhere"]], ids=["", "--dir"])
@pytest.mark.parametrize("text", ["", '[[topic]]\nslug = "x"\ntitle = "X"\nquery = "x"\n'
                                  'enabled = false\n'], ids=["empty", "none enabled"])  # fmt: skip
def test_the_default_locations_file_with_no_topic_says_where_it_came_from(
    tmp_path: Path, text: str, args: list[str]
) -> None:
    """The tester's: an empty ``config/topics.toml`` where the demo starts, nothing set: exit 2
    "…leave topics.file unset for the demo's own topics", which it was."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "topics.toml").write_text(text, encoding="utf-8")
    said = _refused(tmp_path, *args)
    assert said == (
        f"feedsvc: topics file config/topics.toml holds no enabled topic "
        f"({_default_location(tmp_path)}): add one, or {MOVE_IT}\n"
    )


def test_the_default_locations_file_with_problems_says_where_it_came_from(
    tmp_path: Path,
) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "topics.toml").write_text("[[topik]]\n", encoding="utf-8")
    assert _refused(tmp_path).splitlines() == [
        "feedsvc: 1 problem(s) in config/topics.toml:",
        "  unknown top-level key 'topik': did you mean 'topic'? (expected [[topic]] tables)",
        f"  {_default_location(tmp_path)}: fix it, or {MOVE_IT}",
    ]


def test_a_directory_at_the_default_location_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "config" / "topics.toml").mkdir(parents=True)
    assert _refused(tmp_path) == (
        f"feedsvc: topics file config/topics.toml is not a file "
        f"({_default_location(tmp_path)}): {MOVE_IT}\n"
    )


@pytest.mark.parametrize("default_here", [False, True], ids=["", "default file here too"])
@pytest.mark.parametrize("by", ["env", "config file", "env over config file"])
def test_a_set_topics_file_names_where_it_is_set(
    tmp_path: Path, by: str, default_here: bool
) -> None:
    """Set, the setting is the one to change: the variable or the config file's key, and what
    the demo then reads (the default location's file, when the working directory has one)."""
    (tmp_path / "empty.toml").write_text("", encoding="utf-8")
    env = {"FEEDSVC_TOPICS__FILE": "empty.toml"} if "env" in by else {}
    args = []
    if "config" in by:
        (tmp_path / "c.toml").write_text('[topics]\nfile = "typo.toml"\n', encoding="utf-8")
        args = ["--config", "c.toml"]
    if default_here:
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "topics.toml").write_text(OWN_TOPICS, encoding="utf-8")
    then = (" (then config/topics.toml, the default location, is read here)" if default_here
            else " for the demo's own topics")  # fmt: skip
    if by == "env over config file":  # unset, the variable shows the file's setting
        then = " (then topics.file in c.toml applies)"
    said = _refused(tmp_path, *args, **env)
    if "env" in by:
        assert said == (
            "feedsvc: topics file empty.toml holds no enabled topic (topics.file, set by "
            "FEEDSVC_TOPICS__FILE): add one, or point it at a topics file, or unset "
            f"FEEDSVC_TOPICS__FILE{then}\n"
        )
    else:
        assert said == (
            "feedsvc: topics file typo.toml not found (topics.file, set in c.toml): point it at "
            f"a topics file, or remove topics.file from c.toml{then}\n"
        )


def test_an_invalid_config_file_at_the_default_location_is_named(tmp_path: Path) -> None:
    """``config/feedsvc.toml``, read because it is where the demo started: "invalid
    configuration: bogus: unknown key…" named no file."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "feedsvc.toml").write_text("bogus = 1\n", encoding="utf-8")
    said = _refused(tmp_path)
    assert said.startswith("feedsvc: invalid configuration (config/feedsvc.toml): bogus: ")
    assert said.count("\n") == 1
