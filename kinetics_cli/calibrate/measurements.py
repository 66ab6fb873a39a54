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

from kinetics_cli.calibrate.kernels import DTYPE_BYTES, ShapeValue, check_shape, show
from kinetics_cli.errors import InputError
from kinetics_cli.fsutil import jsonl_lines, read_text, write_atomic

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


# Plausible ranges of a row's numbers: one kernel call on any machine this tool models, with room
# to spare (a call of 1e18 FLOPs or 1e15 bytes runs for minutes on the largest accelerator).
# Anything outside is a corrupt or hand-edited row, refused before it can reach a fit or a TOML.
LIMITS: dict[str, tuple[float, float]] = {
    "flops": (0.0, 1e18),
    "bytes": (0.0, 1e15),
    "seconds": (1e-9, 1e4),
    "seconds_min": (1e-9, 1e4),
    "spread": (0.0, 100.0),
}
MAX_REPEATS = 10**6


def bound_text(value: float) -> str:
    """A range bound as the tool's messages write one: whole numbers below ten million with
    thousands separators ('10,000'), others in short exponent form ('1e18', '1e-9', not
    '1e+18' or '1e-09')."""
    from kinetics_cli.units import format_plain

    text = format_plain(value)
    mantissa, e, exponent = text.partition("e")
    return f"{mantissa}e{int(exponent)}" if e else text


def bounded_number(where: str, key: str, value: object, low: float, high: float) -> float:
    """`value` as a float within [low, high]; an InputError naming `where` and the field if it is
    not a number (booleans included), not finite, or out of range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: field {key!r} must be a number (got {show(value)})")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf if value > 0 else -math.inf  # type: ignore[operator]
    if math.isnan(number):
        raise InputError(f"{where}: field {key!r} must be finite (got NaN)")
    if not low <= number <= high:
        bound = "at least" if number < low else "at most"
        if math.isinf(number) and isinstance(value, float):
            raise InputError(f"{where}: field {key!r} must be finite (got {show(value)})")
        if number < low and low == 0:
            raise InputError(f"{where}: field {key!r} must not be negative (got {show(value)})")
        if number <= 0 < low:
            raise InputError(f"{where}: field {key!r} must be positive (got {show(value)})")
        limit = low if number < low else high
        raise InputError(
            f"{where}: field {key!r} must be {bound} {bound_text(limit)} (got {show(value)})"
        )
    return number


def _number(where: str, key: str, value: object) -> float:
    low, high = LIMITS[key]
    return bounded_number(where, key, value, low, high)


def _text(where: str, key: str, value: object, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or (not value.strip() and not empty_ok):
        raise InputError(f"{where}: field {key!r} must be a non-empty string (got {show(value)})")
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
    flops = _number(where, "flops", doc["flops"])
    nbytes = _number(where, "bytes", doc["bytes"])
    if flops == 0 and nbytes == 0:
        raise InputError(f"{where}: fields 'flops' and 'bytes' are both zero")
    repeats = doc["repeats"]
    if isinstance(repeats, bool) or not isinstance(repeats, int) or not 1 <= repeats <= MAX_REPEATS:
        raise InputError(
            f"{where}: field 'repeats' must be a whole number from 1 to {MAX_REPEATS:,} "
            f"(got {show(repeats)})"
        )
    seconds = _number(where, "seconds", doc["seconds"])
    seconds_min = doc.get("seconds_min")
    if seconds_min is not None:
        seconds_min = _number(where, "seconds_min", seconds_min)
        if seconds_min > seconds:
            raise InputError(
                f"{where}: field 'seconds_min' ({seconds_min:g}) exceeds 'seconds' ({seconds:g}), "
                "the median of the same calls"
            )
    return Measurement(
        kernel=kernel,
        shape=dict(shape),
        flops=flops,
        bytes=nbytes,
        seconds=seconds,
        spread=_number(where, "spread", doc["spread"]),
        repeats=repeats,
        dtype=dtype,
        device=_text(where, "device", doc["device"]),
        backend=_text(where, "backend", doc["backend"]),
        timestamp=_text(where, "timestamp", doc["timestamp"]),
        seconds_min=seconds_min,
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
    if not path.exists():
        raise InputError(f"{path}: no such {what} file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a {what} file")
    lines = jsonl_lines(read_text(path))  # UTF-8, with or without a byte-order mark
    docs = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{path}:{number}"
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise InputError(f"{where}: not valid JSON ({exc})") from None
        except RecursionError:
            raise InputError(f"{where}: not valid JSON (nested too deeply)") from None
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
