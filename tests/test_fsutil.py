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
