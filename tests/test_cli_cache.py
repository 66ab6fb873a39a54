"""`kinetics cache`: the outcome cache's folder, files and size, and clearing it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

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
