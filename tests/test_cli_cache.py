"""`kinetics cache`: the outcome cache's folder, files and size, and clearing it."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinetics_cli.accuracy import cache as outcome_cache
from kinetics_cli.cli.main import app

runner = CliRunner()
GRID = "aime24-" + "a" * 32 + "-" + "b" * 32 + ".bin"
SOURCE = "aime24-" + "a" * 32 + ".json"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(tmp_path))
    (tmp_path / GRID).write_bytes(b"x" * 1000)
    (tmp_path / SOURCE).write_bytes(b"y" * 24)
    (tmp_path / "notes.txt").write_text("not the cache's")
    return tmp_path


def test_cache_reports_its_files(folder: Path) -> None:
    result = runner.invoke(app, ["cache", "--json"])
    assert result.exit_code == 0, result.output
    # 1,000 + 24 bytes in the two files named as the cache names them; notes.txt is not one
    assert json.loads(result.stdout) == {
        "folder": str(folder),
        "enabled": True,
        "files": 2,
        "bytes": 1024,
        "problem": None,
    }
    text = runner.invoke(app, ["cache"]).stdout
    assert str(folder) in text and "2 files" in text


def test_cache_says_when_its_folder_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KINETICS_CACHE_DIR naming a file: nothing can be kept, and the status says so instead of
    reporting an empty cache."""
    blocker = tmp_path / "cache"
    blocker.write_text("a file")
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(blocker))
    doc = json.loads(runner.invoke(app, ["cache", "--json"]).stdout)
    assert doc["problem"] == f"{blocker} is not a folder: nothing is cached"
    assert "unusable" in runner.invoke(app, ["cache"]).stdout


def test_cache_says_when_its_folder_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KINETICS_CACHE_DIR under a file: the folder can never be made, so nothing is kept."""
    blocker = tmp_path / "a-file"
    blocker.write_text("a file")
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(blocker / "sub" / "cache"))
    doc = json.loads(runner.invoke(app, ["cache", "--json"]).stdout)
    assert doc["problem"] == (
        f"{blocker} is not a folder, so {blocker / 'sub' / 'cache'} cannot be made: "
        "nothing is cached"
    )
    assert "unusable" in runner.invoke(app, ["cache"]).stdout
    # a folder still to be made is no problem: the first write makes it
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(tmp_path / "new" / "cache"))
    assert json.loads(runner.invoke(app, ["cache", "--json"]).stdout)["problem"] is None


def test_cache_clear_removes_only_its_files(folder: Path) -> None:
    result = runner.invoke(app, ["cache", "--clear", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["removed_files"], document["removed_bytes"]) == (2, 1024)
    assert document["files"] == 0
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_cache_off_still_shows_and_clears_its_folder(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KINETICS_NO_CACHE", "1")
    result = runner.invoke(app, ["cache", "--json"])
    document = json.loads(result.stdout)
    assert document["enabled"] is False and document["folder"] == str(folder)
    assert "off" in runner.invoke(app, ["cache"]).stdout
    cleared = json.loads(runner.invoke(app, ["cache", "--clear", "--json"]).stdout)
    assert cleared["removed_files"] == 2 and cleared["files"] == 0


def test_cache_warm_says_when_nothing_could_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(blocker))
    result = runner.invoke(app, ["cache", "--warm", "--task", "aime25"])
    assert result.exit_code == 2 and "cannot write the outcome cache" in result.stderr


def test_cache_warm_reports_a_grid_it_could_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task's source file is written but its grid is not (a folder in the grid file's place,
    a full disk): --warm filled nothing a plan can read, and says so."""
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(tmp_path))
    assert runner.invoke(app, ["cache", "--warm", "--task", "aime25"]).exit_code == 0
    (grid,) = tmp_path.glob("aime25-*-*.bin")
    assert runner.invoke(app, ["cache", "--clear"]).exit_code == 0
    grid.mkdir()
    result = runner.invoke(app, ["cache", "--warm", "--task", "aime25"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: cannot write the outcome cache in {tmp_path}: {grid}: cannot write: Is a directory"
    ]
    assert len(list(tmp_path.glob("aime25-*.json"))) == 1  # the source file alone was written

    def disk_full(path: Path, raw: bytes) -> None:
        if path.suffix == ".bin":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        outcome_cache_write(path, raw)

    grid.rmdir()
    outcome_cache_write = outcome_cache._write
    monkeypatch.setattr(outcome_cache, "_write", disk_full)
    result = runner.invoke(app, ["cache", "--warm", "--task", "aime25"])
    assert result.exit_code == 2
    assert f"{grid}: cannot write: No space left on device" in result.stderr


def test_cache_warm_fills_what_a_default_plan_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(tmp_path))
    result = runner.invoke(app, ["cache", "--warm", "--task", "aime25", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["warmed_tasks"] == ["aime25"] and document["files"] == 2
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    plan = runner.invoke(app, ["plan", "--task", "aime25", "--budget", "1e16", "--json"])
    assert plan.exit_code == 0, plan.output
    # the plan read the warmed grid: no file added or rewritten
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


def test_cache_warm_says_whether_it_computed_or_found_the_outcomes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first --warm of a task computes its default grid's outcomes; the next finds them in
    the grid file and says so (computed_tasks empty); a task warmed beside it for the first
    time is the one computed."""
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(tmp_path))
    first = runner.invoke(app, ["cache", "--warm", "--task", "aime25"])
    assert first.exit_code == 0, first.output
    assert "computed the default grid's outcomes of aime25\n" in first.stdout
    assert "already cached" not in first.stdout
    again = runner.invoke(app, ["cache", "--warm", "--task", "aime25"])
    assert again.exit_code == 0, again.output
    assert "the default grid's outcomes of aime25 were already cached\n" in again.stdout
    assert "computed" not in again.stdout
    both = runner.invoke(app, ["cache", "--warm", "--task", "aime25,aime24", "--json"])
    document = json.loads(both.stdout)
    assert document["warmed_tasks"] == ["aime25", "aime24"]
    assert document["computed_tasks"] == ["aime24"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "aime24"], "--task goes with --warm"),
        (["--warm", "--clear"], "contradict"),
        (["--warm", "--task", "nope"], "not a bundled task"),
        (["--warm", "--task", ""], "no values given"),
    ],
)
def test_cache_refuses_what_it_cannot_do(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KINETICS_NO_CACHE", "0")
    monkeypatch.setenv("KINETICS_CACHE_DIR", str(tmp_path))
    result = runner.invoke(app, ["cache", *args])
    assert result.exit_code == 2 and message in result.stderr


def test_cache_warm_needs_the_cache_on() -> None:  # the tests run with KINETICS_NO_CACHE=1
    result = runner.invoke(app, ["cache", "--warm"])
    assert result.exit_code == 2 and "off" in result.stderr
