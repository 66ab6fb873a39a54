"""The bundled accuracy source's outcomes, kept on disk between runs.

The bundled priors and measurements answer every (setting, trials, limits) query with the same
arrays from the same files: a default plan spends most of its own work (about 100 ms: the priors'
length tables, the measurements' bootstrap) recomputing them. `CachedSource` keeps the outcomes of
one grid in one file of the user's cache folder and reads them back on the next run, loading the
source itself only for what the file lacks. The file's name is a hash of everything the outcomes
are computed from: the bytes of the accuracy code and data (kinetics_cli/accuracy/ and the modules
it imports), the package, numpy and Python versions, the machine (architecture and the SIMD
features numpy dispatches to), the task and the grid. A change to any of them is a new file,
never a stale answer. Every file carries a CRC-32 of its contents: an unreadable, truncated,
damaged or incomplete file is ignored and rewritten, never read as outcomes (files are written
to a temporary name and renamed, so a reader sees a whole file or none). An install without its
Python sources caches nothing. docs/performance.md has the figures.

Where: $KINETICS_CACHE_DIR, else the platform's cache folder (platformdirs: ~/.cache/kinetics on
Linux, ~/Library/Caches/kinetics on macOS, %LOCALAPPDATA%\\kinetics\\Cache on Windows).
KINETICS_NO_CACHE=1 (or true, yes, on) turns it off. A folder that cannot be written costs only
the speed; `kinetics cache --warm` says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from kinetics_cli.accuracy.base import AccuracySource, AttentionName, Outcome, Setting, SourceKind

ENV_DIR = "KINETICS_CACHE_DIR"
ENV_OFF = "KINETICS_NO_CACHE"
FORMAT = b"kinetics-outcomes 2\n"  # first line of every file: format and version
_CHECK = 9  # the second line: the CRC-32 of the rest of the file, 8 hex digits and a newline
KEEP_GRIDS = 16  # grids kept per task and version (a few MB each): the most recently written
KEEP_VERSIONS = 3  # code or data versions kept per task (installs that share the folder)
_ARRAYS = ("accuracy", "gen_lengths", "gen_weights", "accuracy_ci", "replicates")
_PACKAGE = Path(__file__).resolve().parent.parent
# The files an outcome is computed from: the accuracy package (code, priors, measurements) and the
# package modules it imports (a test follows its imports and holds this list to them).
_INPUTS = ("accuracy", "arrays.py", "errors.py", "fsutil.py", "tomlio.py", "__init__.py")
Piece = bytes | memoryview  # a part of a file's bytes: bytes, or a view of an array's


_ON = ("", "0", "false", "no", "off")  # KINETICS_NO_CACHE values that leave the cache on


def cache_off() -> bool:
    """Whether KINETICS_NO_CACHE turns the cache off (any value but empty, 0, false, no, off)."""
    return os.environ.get(ENV_OFF, "").strip().lower() not in _ON


def cache_folder() -> Path:
    """Where the outcomes are kept, whether the cache is on or off: $KINETICS_CACHE_DIR (~
    expanded), else the platform's cache folder."""
    chosen = os.environ.get(ENV_DIR, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("kinetics", appauthor=False))


def cache_dir() -> Path | None:
    """The folder the outcomes are kept in, or None when KINETICS_NO_CACHE turns the cache off."""
    return None if cache_off() else cache_folder()


def _input_files() -> list[Path]:
    """The files the outcomes are computed from; OSError when one is missing (an install
    without sources: its code cannot be hashed, so nothing is cached)."""
    files: list[Path] = []
    for name in _INPUTS:
        path = _PACKAGE / name
        if path.is_dir():
            found = [
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix in (".py", ".toml", ".csv")
            ]
            if not any(p.suffix == ".py" for p in found):
                raise FileNotFoundError(f"no Python sources in {path}")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path} is missing")
    return files


def _machine() -> list[str]:
    """The CPU the arithmetic ran on: its architecture and the SIMD features numpy dispatches
    to (exp and log may differ in their last bit between, say, AVX2 and AVX-512 kernels)."""
    import importlib
    import platform

    features: dict[str, bool] = {}
    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):  # 2.x, 1.x
        try:
            features = dict(importlib.import_module(module).__cpu_features__)
            break
        except (ImportError, AttributeError):
            continue
    return [platform.machine(), platform.system(), *sorted(k for k, v in features.items() if v)]


def source_digest(task: str) -> str:
    """Hash of everything a task's bundled outcomes are computed from (but the grid): the
    accuracy code and data, the package, numpy and Python versions, the machine and the task."""
    from kinetics_cli import __version__

    digest = hashlib.blake2b(digest_size=16)
    head = [__version__, np.__version__, sys.version, _machine(), task]
    digest.update(json.dumps(head).encode())
    for path in _input_files():
        digest.update(str(path.relative_to(_PACKAGE)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def grid_digest(source: str, trials: np.ndarray, limits: np.ndarray) -> str:
    """Hash of a source digest and one (trials x limits) grid."""
    head = json.dumps([source, trials.tolist(), limits.tolist()]).encode()
    return hashlib.blake2b(head, digest_size=16).hexdigest()


def _setting_key(setting: Setting) -> list[Any]:
    return [setting.model, setting.attention, setting.kv_budget]


def _setting(key: list[Any]) -> Setting:
    budget = None if key[2] is None else float(key[2])
    return Setting(str(key[0]), cast(AttentionName, key[1]), budget)


def encode(header: dict[str, Any], outcomes: dict[Setting, Outcome]) -> bytes:
    """The file's bytes: FORMAT, the CRC-32 of what follows it (8 hex digits), a JSON line (the
    source's fields, each outcome's scalars and where its arrays lie: dtype, byte offset,
    shape), then the arrays back to back."""
    return b"".join(encoded_parts(header, outcomes))


def encoded_parts(header: dict[str, Any], outcomes: dict[Setting, Outcome]) -> list[Piece]:
    """`encode`'s bytes in pieces, for a file written piece by piece: the head (FORMAT, CRC-32,
    JSON line), then each array's bytes (views of the outcomes' arrays, not copies) and its
    padding. The CRC-32 runs over the pieces in turn, as over their join."""
    blocks: list[Piece] = []
    offset = 0
    entries = []
    for setting, outcome in outcomes.items():
        arrays = {}
        for name in _ARRAYS:
            value = getattr(outcome, name)
            if value is None:
                continue
            data = np.ascontiguousarray(value)
            arrays[name] = [data.dtype.str, offset, list(data.shape)]
            blocks.append(data.reshape(-1).view(np.uint8).data)  # its bytes, not a copy
            pad = -data.nbytes % 8  # every array starts on an 8-byte boundary
            if pad:
                blocks.append(b"\0" * pad)
            offset += data.nbytes + pad
        entries.append(
            {
                "setting": _setting_key(setting),
                "prompt_len": float(outcome.prompt_len),
                "pairing": outcome.pairing,
                "kind": outcome.kind,
                "note": outcome.note,
                "arrays": arrays,
            }
        )
    line = json.dumps({**header, "outcomes": entries}).encode()
    line += b" " * (-(len(FORMAT) + _CHECK + len(line) + 1) % 8) + b"\n"  # arrays start aligned
    check = zlib.crc32(line)
    for block in blocks:
        check = zlib.crc32(block, check)
    return [FORMAT + b"%08x\n" % check + line, *blocks]


def decode(raw: bytes | bytearray) -> tuple[dict[str, Any], dict[Setting, Outcome]]:
    """What `encode` wrote (arrays are views of `raw`: writeable when it is a bytearray);
    ValueError, KeyError or TypeError for anything else, a damaged or truncated file included
    (its CRC-32 differs)."""
    if not raw.startswith(FORMAT):
        raise ValueError("not an outcomes file")
    start = len(FORMAT) + _CHECK
    check = bytes(raw[len(FORMAT) : start])
    if len(check) != _CHECK or not check.endswith(b"\n"):
        raise ValueError("truncated outcomes file")
    if int(check[:-1], 16) != zlib.crc32(memoryview(raw)[start:]):
        raise ValueError("damaged or truncated outcomes file (its CRC-32 differs)")
    end = raw.index(b"\n", start) + 1
    header = json.loads(raw[start:end])
    outcomes = {}
    for entry in header.pop("outcomes"):
        arrays = {}
        for name, (dtype, start, shape) in entry["arrays"].items():
            kind = np.dtype(dtype)
            count = int(np.prod(shape))
            if end + start + count * kind.itemsize > len(raw):
                raise ValueError("truncated outcomes file")
            flat = np.frombuffer(raw, dtype=kind, count=count, offset=end + start)
            arrays[name] = flat.reshape(shape)
        outcomes[_setting(entry["setting"])] = Outcome(
            prompt_len=float(entry["prompt_len"]),
            pairing=entry["pairing"],
            kind=str(entry["kind"]),
            note=str(entry["note"]),
            **arrays,
        )
    return header, outcomes


def _read_file(path: Path) -> bytearray:
    """A file's bytes in a writeable buffer (the outcomes' arrays are views of it)."""
    with open(path, "rb") as handle:
        buffer = bytearray(os.fstat(handle.fileno()).st_size)
        if handle.readinto(buffer) != len(buffer):
            raise ValueError(f"{path}: short read")
    return buffer


def _write(path: Path, pieces: Sequence[Piece]) -> None:
    """Write `pieces` one after the other to `path`, whole or not at all (a temporary file
    renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.writelines(pieces)
        # the mode a plain write would give (mkstemp's is 0600): a cache warmed by one user, say
        # while building an image, is read by the users who run it
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def header_bytes(header: dict[str, Any]) -> bytes:
    """The source file's bytes: its fields as JSON, with the CRC-32 of their JSON text."""
    return json.dumps({**header, "crc32": zlib.crc32(json.dumps(header).encode())}).encode()


def read_header(raw: bytes) -> dict[str, Any] | None:
    """The fields `header_bytes` wrote, or None for anything else: not JSON, a field missing or
    of another type, or text changed since (its CRC-32 differs)."""
    fields = json.loads(raw)
    if not isinstance(fields, dict):
        return None
    check = fields.pop("crc32", None)
    if check != zlib.crc32(json.dumps(fields).encode()):
        return None
    return _valid_header(fields)


def _valid_header(header: object) -> dict[str, Any] | None:
    """The source file's fields when every one is there with its type, else None (the file is
    then rewritten from the source)."""
    if not isinstance(header, dict) or header.get("format") != FORMAT.decode().strip():
        return None
    texts = all(isinstance(header.get(k), str) for k in ("task", "kind", "description"))
    settings = header.get("settings")
    rows = isinstance(settings, list) and all(
        isinstance(r, list)
        and len(r) == 3
        and isinstance(r[0], str)
        and r[1] in ("dense", "topk", "block-topk")
        and (r[2] is None or isinstance(r[2], (int, float)))
        for r in settings
    )
    return header if texts and rows and isinstance(header.get("parametric"), bool) else None


class CachedSource:
    """An accuracy source answered from its cache files where they have the answer.

    `load()` builds the real source; it runs only when something the files lack is asked for
    (an outcome on a grid or setting not kept yet, the priors' profile, per-trial rows). `save()`
    writes the grids that gained outcomes in this run, with those read before.
    """

    def __init__(self, task: str, load: Callable[[], AccuracySource], folder: Path):
        self._load, self._folder = load, folder
        self._inner: AccuracySource | None = None
        self._task = task.strip().lower()
        self._digest = source_digest(self._task)
        self._header: dict[str, Any] | None = None
        self._outcomes: dict[str, dict[Setting, Outcome]] = {}
        self._new: set[str] = set()
        self.computed = 0  # outcomes computed by the source, not read from a grid file
        self.save_error: str | None = None  # why the last save wrote nothing, else None
        with contextlib.suppress(OSError, ValueError):  # none, unreadable or not ours: rewritten
            self._header = read_header(self._source_file.read_bytes())

    @property
    def _source_file(self) -> Path:
        return self._folder / f"{self._task}-{self._digest}.json"

    def _grid_file(self, key: str) -> Path:
        return self._folder / f"{self._task}-{self._digest}-{key}.bin"

    # -- the source's own fields: from its cache file, else from the source --------------------
    @property
    def inner(self) -> AccuracySource:
        """The source itself, loaded on first use."""
        if self._inner is None:
            self._inner = self._load()
        return self._inner

    def _field(self, name: str) -> Any:
        if self._header is not None:
            return self._header[name]
        if name == "parametric":
            inner = self.inner
            return bool(getattr(inner, "parametric", inner.kind == "priors"))
        if name == "settings":
            return [_setting_key(s) for s in self.inner.settings()]
        return getattr(self.inner, name)

    @property
    def task(self) -> str:
        return str(self._field("task"))

    @property
    def kind(self) -> SourceKind:
        return cast(SourceKind, self._field("kind"))

    @property
    def description(self) -> str:
        return str(self._field("description"))

    @property
    def parametric(self) -> bool:
        return bool(self._field("parametric"))

    def settings(self) -> list[Setting]:
        return [_setting(key) for key in self._field("settings")]

    def __getattr__(self, name: str) -> Any:
        # anything else (the priors' profile, per-trial rows, setting_kind) is the source's own
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    # -- outcomes -------------------------------------------------------------------------------
    def outcome(self, setting: Setting, trials: np.ndarray, limits: np.ndarray) -> Outcome:
        n = np.asarray(trials, dtype=float)
        lim = np.asarray(limits, dtype=float)
        key = grid_digest(self._digest, n, lim)
        kept = self._outcomes.get(key)
        if kept is None:
            try:
                kept = decode(_read_file(self._grid_file(key)))[1]
            except (OSError, ValueError, LookupError, TypeError, AttributeError):
                kept = {}
            self._outcomes[key] = kept
        found = kept.get(setting)
        if found is not None:
            return found
        outcome = self.inner.outcome(setting, n, lim)
        self.computed += 1
        kept[setting] = outcome
        self._new.add(key)
        return outcome

    def save(self) -> bool:
        """Write the source's fields and the grids that gained outcomes in this run; False when a
        write failed (a read-only folder, a full disk), which costs only the next run's speed;
        `save_error` then says which file and why."""
        self.save_error = None
        if not self._new:
            return True
        header = {
            "format": FORMAT.decode().strip(),
            **{name: self._field(name) for name in ("task", "kind", "description")},
            "parametric": self.parametric,
            "settings": self._field("settings"),
        }
        target = self._source_file
        try:
            if self._header is None:
                _write(target, [header_bytes(header)])
                self._header = header
            for key in sorted(self._new):
                target = self._grid_file(key)
                _write(target, encoded_parts({}, self._outcomes[key]))
            self._prune(self._new)
        except (OSError, ValueError, TypeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.save_error = f"{target}: cannot write: {reason}"
            return False
        finally:
            self._new.clear()
        return True

    def _prune(self, written: set[str]) -> None:
        """Keep this task's files of the KEEP_VERSIONS code or data versions written last (other
        installs may share the folder) and, of this version, the grids just written and the most
        recent others up to KEEP_GRIDS; delete the rest."""
        import re

        ours = re.compile(
            rf"{re.escape(self._task)}-([0-9a-f]{{32}})(-([0-9a-f]{{32}})\.bin|\.json)"
        )
        by_version: dict[str, list[Path]] = {}
        for path in self._folder.iterdir():
            match = ours.fullmatch(path.name)
            if match is not None:
                by_version.setdefault(match.group(1), []).append(path)

        def newest(paths: list[Path]) -> int:
            return max(p.stat().st_mtime_ns for p in paths)

        others = sorted(
            (v for v in by_version if v != self._digest),
            key=lambda v: newest(by_version[v]),
            reverse=True,
        )
        for version in others[KEEP_VERSIONS - 1 :]:
            for path in by_version[version]:
                path.unlink(missing_ok=True)
        fresh = {self._grid_file(key).name for key in written}
        grids = [p for p in by_version.get(self._digest, []) if p.suffix == ".bin"]
        grids.sort(key=lambda p: (p.name in fresh, p.stat().st_mtime_ns), reverse=True)
        for path in grids[KEEP_GRIDS:]:
            path.unlink(missing_ok=True)


def is_bundled_task(task: str) -> bool:
    """Whether `task` names a bundled priors profile, by the rule of priors.available_tasks (the
    stems of accuracy/priors/*.toml; a path is never one), without importing the priors."""
    key = task.strip().lower()
    return key in {p.stem for p in (_PACKAGE / "accuracy" / "priors").glob("*.toml")}


def cached_source(task: str, load: Callable[[], AccuracySource]) -> AccuracySource:
    """`load()`'s source behind the outcome cache, or `load()` itself when the cache is off."""
    folder = cache_dir()
    if folder is None:
        return load()
    try:
        return cast(AccuracySource, CachedSource(task, load, folder))
    except OSError:  # the code or data cannot be read to hash: no cache, the same answers
        return load()


_FILE = r"[a-z0-9][a-z0-9._-]*-[0-9a-f]{32}(-[0-9a-f]{32}\.bin|\.json)"


def cache_files(folder: Path) -> list[Path]:
    """The outcome cache's files in `folder` (nothing else it may hold), sorted by name."""
    import re

    pattern = re.compile(_FILE)
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    return sorted(p for p in entries if pattern.fullmatch(p.name) and p.is_file())


def folder_problem(folder: Path) -> str | None:
    """Why no file can be kept in `folder`, else None: it, or the nearest of its ancestors that
    exists (the folder is made on the first write), is not a folder. A folder this process cannot
    write into is no problem: a cache warmed while building an image is read by users who may
    not write it."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        if existing == folder:
            return f"{folder} is not a folder: nothing is cached"
        return f"{existing} is not a folder, so {folder} cannot be made: nothing is cached"
    return None


def clear(folder: Path) -> tuple[int, int]:
    """Delete the outcome cache's files in `folder`: (files, bytes) removed."""
    files = size = 0
    for path in cache_files(folder):
        try:
            length = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        files, size = files + 1, size + length
    return files, size
