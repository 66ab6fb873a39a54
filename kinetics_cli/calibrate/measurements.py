"""The measurement file: JSON Lines, one timed kernel per line.

Each row: `kernel` (a class of specs.KERNEL_CLASSES), `shape` (the kernel's shape parameters,
see kernels.SHAPE_KEYS), `flops` and `bytes` (from engine.operators via kernels.cost), `seconds`
(median of the repeats), `spread` (interquartile range over the median), `repeats`, `dtype`,
`device`, `backend`, `timestamp` (ISO 8601, UTC). Optional: `seconds_min` (fastest call),
`clock` (what timed the calls: wall, thread_cpu, cuda_events), `note`. Format reference:
docs/calibration.md.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kinetics_cli.calibrate.kernels import DTYPE_BYTES, ShapeValue, check_shape
from kinetics_cli.errors import InputError
from kinetics_cli.fsutil import write_atomic

REQUIRED = (
    "kernel",
    "shape",
    "flops",
    "bytes",
    "seconds",
    "spread",
    "repeats",
    "dtype",
    "device",
    "backend",
    "timestamp",
)
OPTIONAL = ("seconds_min", "clock", "note")


@dataclass(frozen=True)
class Measurement:
    """One timed kernel: its shape, its accounting, and the measured time."""

    kernel: str
    shape: Mapping[str, ShapeValue]
    flops: float
    bytes: float
    seconds: float
    spread: float
    repeats: int
    dtype: str
    device: str
    backend: str
    timestamp: str
    seconds_min: float | None = None
    clock: str = ""
    note: str = ""
    line: int = field(default=0, compare=False)

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "kernel": self.kernel,
            "shape": dict(self.shape),
            "flops": self.flops,
            "bytes": self.bytes,
            "seconds": self.seconds,
            "spread": self.spread,
            "repeats": self.repeats,
            "dtype": self.dtype,
            "device": self.device,
            "backend": self.backend,
            "timestamp": self.timestamp,
        }
        if self.seconds_min is not None:
            doc["seconds_min"] = self.seconds_min
        if self.clock:
            doc["clock"] = self.clock
        if self.note:
            doc["note"] = self.note
        return doc


def _number(where: str, key: str, value: object, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: field {key!r} must be a number (got {value!r})")
    number = float(value)
    if not math.isfinite(number):
        raise InputError(f"{where}: field {key!r} must be finite (got {value!r})")
    if positive and number <= 0:
        raise InputError(f"{where}: field {key!r} must be positive (got {value!r})")
    if number < 0:
        raise InputError(f"{where}: field {key!r} must not be negative (got {value!r})")
    return number


def _text(where: str, key: str, value: object, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or (not value.strip() and not empty_ok):
        raise InputError(f"{where}: field {key!r} must be a non-empty string (got {value!r})")
    return value


def parse_row(doc: object, where: str) -> Measurement:
    """Validate one decoded JSON value as a measurement; errors name `where` and the field."""
    if not isinstance(doc, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(doc).__name__}")
    missing = [key for key in REQUIRED if key not in doc]
    if missing:
        raise InputError(
            f"{where}: missing field{'s' if len(missing) > 1 else ''} {', '.join(repr(k) for k in missing)}"
        )
    kernel = _text(where, "kernel", doc["kernel"])
    shape = doc["shape"]
    if not isinstance(shape, dict):
        raise InputError(f"{where}: field 'shape' must be an object of shape parameters")
    problem = check_shape(kernel, shape)
    if problem:
        field_name = "kernel" if problem.startswith("unknown kernel") else "shape"
        raise InputError(f"{where}: field {field_name!r}: {problem}")
    dtype = _text(where, "dtype", doc["dtype"])
    if dtype not in DTYPE_BYTES:
        raise InputError(
            f"{where}: field 'dtype': unknown dtype {dtype!r}; expected one of {', '.join(DTYPE_BYTES)}"
        )
    flops = _number(where, "flops", doc["flops"], positive=False)
    nbytes = _number(where, "bytes", doc["bytes"], positive=False)
    if flops == 0 and nbytes == 0:
        raise InputError(f"{where}: fields 'flops' and 'bytes' are both zero")
    repeats = doc["repeats"]
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise InputError(f"{where}: field 'repeats' must be a whole number >= 1 (got {repeats!r})")
    seconds_min = doc.get("seconds_min")
    return Measurement(
        kernel=kernel,
        shape=dict(shape),
        flops=flops,
        bytes=nbytes,
        seconds=_number(where, "seconds", doc["seconds"], positive=True),
        spread=_number(where, "spread", doc["spread"], positive=False),
        repeats=repeats,
        dtype=dtype,
        device=_text(where, "device", doc["device"]),
        backend=_text(where, "backend", doc["backend"]),
        timestamp=_text(where, "timestamp", doc["timestamp"]),
        seconds_min=None
        if seconds_min is None
        else _number(where, "seconds_min", seconds_min, positive=True),
        clock=_text(where, "clock", doc.get("clock", ""), empty_ok=True),
        note=_text(where, "note", doc.get("note", ""), empty_ok=True),
    )


def read_jsonl(path: Path, what: str) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects of a JSON Lines file with their line numbers (`what` names the file's
    kind in messages: 'measurement', 'reference').

    Blank lines are skipped; NaN and Infinity literals are read as numbers, so that the field
    check names the field. Any problem is an InputError naming the file (and line).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a {what} file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    docs = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{path}:{number}"
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise InputError(f"{where}: not valid JSON ({exc})") from None
        if not isinstance(doc, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(doc).__name__}")
        docs.append((number, doc))
    if not docs:
        raise InputError(f"{path}: no {what} rows (the file is empty)")
    return docs


def read_measurements(path: Path) -> list[Measurement]:
    """Read and validate a measurement file; any problem is an InputError naming file and line."""
    return [
        replace(parse_row(doc, f"{path}:{line}"), line=line)
        for line, doc in read_jsonl(path, "measurement")
    ]


def dumps_measurements(rows: Iterable[Measurement]) -> str:
    return "".join(json.dumps(row.as_dict(), allow_nan=False) + "\n" for row in rows)


def write_measurements(path: Path, rows: Iterable[Measurement], *, force: bool = False) -> Path:
    """Write rows as JSON Lines atomically (never over an existing file without `force`)."""
    return write_atomic(Path(path), dumps_measurements(rows), force=force)


def file_checksum(path: Path) -> str:
    """'sha256:<hex>' of the file's bytes, as a calibration table records its source."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return f"sha256:{digest}"


def text_checksum(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
