"""Atomic file writes: a temporary file in the target folder, fsync, then rename over the target."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from kinetics_cli.errors import InputError


def _new_file_mode(path: Path) -> int:
    """The mode `open()` would give a new file (0o666 less the umask), or the replaced file's."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: Path, text: str, *, force: bool = False) -> Path:
    """Write `text` to `path` so readers see the old file or the whole new one, never a part.

    Refuses to replace an existing file unless `force`. The file gets the permissions a plain
    write would give it (tempfile's private 0o600 is not kept). Errors from the file system become
    InputError naming the path.
    """
    path = Path(path)
    if path.exists() and not force:
        raise InputError(f"{path} already exists; pass --force to overwrite it")
    if path.is_dir():
        raise InputError(f"{path} is a folder; expected a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        raise
    return path


def check_writable(path: Path, *, force: bool = False, make_parents: bool = False) -> Path:
    """Raise InputError now if write_atomic(path) would fail or refuse later: the file exists
    without `force`, it is a folder, its folder is missing (unless `make_parents`, where the
    nearest existing ancestor is checked instead) or is not writable.

    For commands that spend time before writing (measuring, fitting), so that a bad --out costs
    nothing. A check, not a lock: the final write still reports anything that changed since.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder; expected a file path")
    if path.exists() and not force:
        raise InputError(f"{path} already exists; pass --force to overwrite it")
    check_folder(path.parent, make=make_parents, what=str(path))
    return path


def check_folder(folder: Path, *, make: bool = False, what: str = "") -> Path:
    """Raise InputError unless files can be created in `folder`: it exists (or, with `make`, its
    nearest existing ancestor does) as a folder this process can write into. `what` names the
    output in the message (default: the folder)."""
    folder = Path(folder)
    subject = what or str(folder)
    existing = folder
    if make:
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
    if not existing.exists():
        raise InputError(f"cannot write {subject}: folder {folder} does not exist")
    if not existing.is_dir():
        raise InputError(f"cannot write {subject}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {subject}: folder {existing} is not writable")
    return folder
