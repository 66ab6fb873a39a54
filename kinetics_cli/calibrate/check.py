"""Predict measured rows with a hardware profile and compare.

A micro-kernel row is predicted as one call of its class (engine.timing.kernel_seconds on the
row's FLOPs and bytes). A composite decode-step row is predicted as the sum over the kernel calls
it is made of (kernels.decode_layer_operators), each timed with its own class's fit: the check
that the fitted model composes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kinetics_cli.calibrate.kernels import COMPOSITE, operators
from kinetics_cli.calibrate.measurements import Measurement
from kinetics_cli.engine.timing import kernel_seconds
from kinetics_cli.errors import InputError
from kinetics_cli.specs import HardwareProfile

DEFAULT_TOLERANCE = 0.25
MAX_TOLERANCE = 100.0  # a relative error; anything larger accepts every prediction


@dataclass(frozen=True)
class RowCheck:
    row: Measurement
    predicted: float

    @property
    def error(self) -> float:
        """Signed relative error of the prediction: predicted / measured - 1."""
        return self.predicted / self.row.seconds - 1.0


@dataclass(frozen=True)
class CheckReport:
    rows: list[RowCheck]
    tolerance: float

    @property
    def median_error(self) -> float:
        return float(np.median([abs(r.error) for r in self.rows]))

    @property
    def worst(self) -> RowCheck:
        return max(self.rows, key=lambda r: abs(r.error))

    @property
    def worst_error(self) -> float:
        return abs(self.worst.error)

    @property
    def passed(self) -> bool:
        return self.median_error <= self.tolerance

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": [
                {
                    "line": r.row.line,
                    "kernel": r.row.kernel,
                    "shape": dict(r.row.shape),
                    "measured_seconds": r.row.seconds,
                    "predicted_seconds": r.predicted,
                    "error": r.error,
                }
                for r in self.rows
            ],
            "median_error": self.median_error,
            "worst_error": self.worst_error,
            "tolerance": self.tolerance,
            "passed": self.passed,
        }


def predict(row: Measurement, profile: HardwareProfile) -> float:
    """Seconds the profile's calibrated roofline gives for one measured row."""
    if row.dtype not in profile.peak_flops:
        raise InputError(
            f"line {row.line}: {profile.name} has no {row.dtype} peak "
            f"(it lists {', '.join(sorted(profile.peak_flops))})"
        )
    if row.kernel != COMPOSITE:
        return float(kernel_seconds(row.flops, row.bytes, profile, row.kernel, dtype=row.dtype))
    return float(
        sum(
            kernel_seconds(op.cost.flops, op.cost.bytes, profile, op.kernel, dtype=row.dtype)
            for op in operators(row.kernel, row.shape, row.dtype)
        )
    )


def check_rows(
    rows: Sequence[Measurement],
    profile: HardwareProfile,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    kernels: Sequence[str] = (),
    source: str = "",
) -> CheckReport:
    """Predict every row (or those of `kernels`) and summarise the relative errors; `source`
    (the file) prefixes the line number in errors."""
    chosen = [r for r in rows if not kernels or r.kernel in kernels]
    if not chosen:
        wanted = ", ".join(kernels) if kernels else "any kernel"
        raise InputError(f"no rows of {wanted} to check")
    if tolerance <= 0:
        raise InputError(f"tolerance must be positive (got {tolerance:g})")
    for row in chosen:
        if row.dtype not in profile.peak_flops:
            raise InputError(
                f"{source or 'line'}:{row.line}: field 'dtype': {profile.name} has no "
                f"{row.dtype} peak (it lists {', '.join(sorted(profile.peak_flops))})"
            )
    return CheckReport([RowCheck(r, predict(r, profile)) for r in chosen], tolerance)


@dataclass(frozen=True)
class CheckSettings:
    """What a shipped file's sidecar (`<stem>.check.toml`) says about checking it."""

    path: Path
    hardware: str | None
    tolerance: float | None
    kernels: tuple[str, ...]
    reason: str
    known_gap: float | None = None  # reference files: the distance from the range on record

    def hardware_ref(self) -> str | None:
        """The profile to use: a path relative to the sidecar when such a file exists, else a name."""
        if self.hardware is None:
            return None
        candidate = self.path.parent / self.hardware
        return str(candidate) if candidate.exists() else self.hardware


def sidecar_path(data_file: Path) -> Path:
    data_file = Path(data_file)
    return data_file.with_name(data_file.stem + ".check.toml")


def read_settings(data_file: Path) -> CheckSettings | None:
    """The sidecar of `data_file`, or None when it has none."""
    from kinetics_cli.tomlio import read_toml

    path = sidecar_path(data_file)
    if not path.is_file():
        return None
    doc = read_toml(path)
    unknown = set(doc) - {"hardware", "tolerance", "kernels", "reason", "known_gap"}
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    tolerance = doc.get("tolerance")
    if tolerance is not None and (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, (int, float))
        or not 0 < tolerance <= MAX_TOLERANCE
    ):
        raise InputError(f"{path}: tolerance must be a positive number up to {MAX_TOLERANCE:g}")
    known_gap = doc.get("known_gap")
    if known_gap is not None and (
        isinstance(known_gap, bool)
        or not isinstance(known_gap, (int, float))
        or not 0 <= known_gap <= MAX_TOLERANCE
    ):
        raise InputError(f"{path}: known_gap must be a number from 0 to {MAX_TOLERANCE:g}")
    kernels = doc.get("kernels", [])
    if not isinstance(kernels, list) or not all(isinstance(k, str) for k in kernels):
        raise InputError(f"{path}: kernels must be a list of kernel names")
    return CheckSettings(
        path=path,
        hardware=doc.get("hardware"),
        tolerance=None if tolerance is None else float(tolerance),
        kernels=tuple(kernels),
        reason=str(doc.get("reason", "")),
        known_gap=None if known_gap is None else float(known_gap),
    )
