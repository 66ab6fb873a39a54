"""fsutil: writes are atomic and never replace a file without consent."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from kinetics_cli.errors import InputError
from kinetics_cli.fsutil import atomic_output, write_atomic


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


def _racing_writer(path: Path, theirs: str):  # type: ignore[no-untyped-def]
    """A writer during which another run publishes `theirs` at `path` (after the check)."""

    def write(tmp: Path) -> None:
        tmp.write_text("mine\n")
        path.write_text(theirs)

    return write


def test_a_file_written_meanwhile_is_kept(tmp_path: Path) -> None:
    """Two runs started together both pass the check; the second to finish must not replace the
    first's file (a rename over it would)."""
    path = tmp_path / "profile.toml"
    with pytest.raises(InputError, match=r"profile\.toml already exists; pass --force"):
        atomic_output(path, _racing_writer(path, "theirs\n"))
    assert path.read_text() == "theirs\n"
    assert [p.name for p in tmp_path.iterdir()] == ["profile.toml"]  # no temporary file left
    with pytest.raises(InputError, match=r"^--plot .*plot\.png already exists; pass --force"):
        atomic_output(
            tmp_path / "plot.png", _racing_writer(tmp_path / "plot.png", ""), option="--plot"
        )


def test_force_still_replaces_a_file_written_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "profile.toml"
    atomic_output(path, _racing_writer(path, "theirs\n"), force=True)
    assert path.read_text() == "mine\n"
    assert [p.name for p in tmp_path.iterdir()] == ["profile.toml"]


@pytest.mark.parametrize("code", [errno.EPERM, errno.EOPNOTSUPP])
def test_without_hard_links_the_check_is_repeated_before_the_rename(
    code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system without hard links (FAT: link() fails with EPERM on Linux): the file is
    renamed into place, after checking the name once more."""

    def no_links(src: str, dst: str) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "link", no_links)
    path = write_atomic(tmp_path / "a.toml", "one\n")
    assert path.read_text() == "one\n"
    with pytest.raises(InputError, match="already exists; pass --force"):
        atomic_output(tmp_path / "b.toml", _racing_writer(tmp_path / "b.toml", "theirs\n"))
    assert (tmp_path / "b.toml").read_text() == "theirs\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.toml", "b.toml"]


def test_other_link_errors_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(src: str, dst: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "link", full)
    with pytest.raises(InputError, match=r"a\.toml: cannot write: No space left on device"):
        write_atomic(tmp_path / "a.toml", "x\n")
    assert list(tmp_path.iterdir()) == []
