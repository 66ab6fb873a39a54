"""fsutil: writes are atomic and never replace a file without consent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kinetics_cli.errors import InputError
from kinetics_cli.fsutil import write_atomic


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    write_atomic(path, "one\n")
    with pytest.raises(InputError, match="already exists; pass --force"):
        write_atomic(path, "two\n")
    write_atomic(path, "two\n", force=True)
    assert path.read_text() == "two\n"


def test_interrupted_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.toml"
    path.write_text("old\n")

    def boom(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, "new\n", force=True)
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.toml"]


def test_new_files_get_the_usual_permissions(tmp_path: Path) -> None:
    """mkstemp makes private 0o600 files; the written file gets 0o666 less the umask, like open()."""
    umask = os.umask(0o022)
    try:
        path = write_atomic(tmp_path / "card.toml", "x = 1\n")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~0o022 == 0o644


def test_replacing_keeps_the_old_files_permissions(tmp_path: Path) -> None:
    path = tmp_path / "card.toml"
    path.write_text("old\n")
    path.chmod(0o640)
    write_atomic(path, "new\n", force=True)
    assert path.stat().st_mode & 0o777 == 0o640 and path.read_text() == "new\n"


def test_file_system_errors_name_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(InputError, match=r"not-a-folder/card\.toml: cannot write: "):
        write_atomic(blocker / "card.toml", "x\n")
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        write_atomic(tmp_path / "folder.toml", "x\n", force=True)
