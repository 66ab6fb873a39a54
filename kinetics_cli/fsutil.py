"""Atomic file writes: a temporary file in the target folder, fsync, then publish it at the target.

One rule for every file the tool writes (profiles, cards, measurements, evaluation rows, plots):
check the target before any work (`check_target`), write it whole or not at all
(`write_atomic` for text, `atomic_output` for a writer that needs a path, such as matplotlib),
and never replace an existing file without --force, not even one that another run wrote while
this one was working (the file is published with a hard link, which fails on an existing name).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
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


def check_target(path: Path, *, force: bool = False, option: str | None = None) -> Path:
    """The path, if a file may be written there: refuses an existing file without `force` and a
    folder always. `option` (e.g. '--plot') prefixes the message. Call it before the work whose
    result goes there."""
    path = Path(path)
    where = f"{option} {path}" if option else str(path)
    if path.is_dir():
        raise InputError(f"{where} is a folder; expected a file path")
    if path.exists() and not force:
        raise InputError(f"{where} already exists; pass --force to overwrite it")
    return path


# link() errors that mean "no hard links on this file system" (FAT, exFAT, some network and
# FUSE file systems: Linux says EPERM, others EOPNOTSUPP, ENOSYS or EINVAL)
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EINVAL}


def _publish(tmp: str, path: Path, force: bool) -> None:
    """Give the finished temporary file `tmp` the name `path`. With `force`, a rename over
    whatever is there. Without it, a hard link then the temporary name's removal: link() fails
    with FileExistsError when `path` exists, so a file another run published after
    `check_target` is never replaced. Where the file system has no hard links the check and
    the rename are two steps (a check, then os.replace): two runs finishing at the same moment
    can then still both pass the check, and the later rename wins."""
    if force:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except (OSError, NotImplementedError, AttributeError) as exc:
        if isinstance(exc, OSError) and exc.errno not in _NO_LINKS:
            raise
        if path.exists():
            raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def atomic_output(
    path: Path, write: Callable[[Path], object], *, force: bool = False, option: str | None = None
) -> Path:
    """Call `write(tmp)` on a temporary file in `path`'s folder, fsync it, then publish it as
    `path`, so readers see the old file or the whole new one, never a part (a killed run leaves
    no empty file). Refuses an existing file unless `force`: before the work and again when
    publishing, where a file that appeared meanwhile (another run's) is kept and the refusal is
    the same (see `_publish`; with `force` the rename replaces it). The file gets the
    permissions a plain write would give it. File-system errors become InputError naming the
    path."""
    path = check_target(path, force=force, option=option)
    where = f"{option} {path}" if option else str(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, _new_file_mode(path))
        _publish(tmp, path, force)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, FileExistsError) and not force:
            raise InputError(f"{where} already exists; pass --force to overwrite it") from None
        if isinstance(exc, OSError):
            raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        raise
    return path


def write_atomic(path: Path, text: str, *, force: bool = False) -> Path:
    """Write `text` (UTF-8) to `path` atomically; see `atomic_output`."""
    return atomic_output(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force=force)


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


def check_distinct(paths: Sequence[Path], option: str) -> None:
    """Refuse a file given twice (the same file under two spellings too): its rows would count
    as twice the samples."""
    resolved = [Path(p).resolve() for p in paths]
    for i, full in enumerate(resolved):
        if full in resolved[:i]:
            raise InputError(
                f"{option} {paths[i]}: the same file is given twice (its rows would count as "
                "twice the samples)"
            )


def read_text(path: Path) -> str:
    """The file as text: UTF-8 with or without a byte-order mark. UTF-16/32, binary files and
    undecodable bytes raise one InputError naming the file; so do I/O errors."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: the file is UTF-16 (or UTF-32) text; save it as UTF-8")
    if b"\x00" in data[:4096]:
        raise InputError(f"{path}: not a text file (NUL bytes); expected UTF-8 JSON Lines or CSV")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (undecodable byte 0x{data[exc.start]:02x} at byte {exc.start})"
        ) from None


def jsonl_lines(text: str) -> list[str]:
    """The lines of a JSON Lines text: split at '\\n' only (a '\\r' before it is JSON
    whitespace). str.splitlines also splits at U+0085, U+2028 and U+2029, which a JSON writer
    with ensure_ascii=False (lm-evaluation-harness's sample logs) leaves raw inside strings, so
    a model's generation holding one would break its line in two."""
    return text.split("\n")
