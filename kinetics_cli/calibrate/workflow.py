"""The calibrate commands as library calls: resolve a profile, fit or check a file, save a run.

Profiles are named as on the command line: a catalog name (`h100-sxm`), a profile TOML file, or
'measured' (fit.measured_base on the given rows). The catalog comes as a loader, a function that
returns it (`catalog.load_catalog`, or the CLI's per-invocation one), called only when a profile
is named by catalog name. Errors are InputError / CatalogError / SpecError, as everywhere else.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kinetics_cli.calibrate.check import DEFAULT_TOLERANCE, CheckReport, CheckSettings
from kinetics_cli.calibrate.fit import ClassFit
from kinetics_cli.calibrate.measurements import Measurement
from kinetics_cli.calibrate.reference import ReferenceCheck
from kinetics_cli.errors import InputError
from kinetics_cli.specs import HardwareProfile

if TYPE_CHECKING:
    from kinetics_cli.calibrate.run import PipelineResult
    from kinetics_cli.catalog import Catalog

CatalogLoader = Callable[[], "Catalog"]


def resolve_profile(
    ref: str, catalog: CatalogLoader, rows: Sequence[Measurement] | None = None
) -> HardwareProfile:
    """A catalog name, a TOML file, or 'measured' (from `rows`; also read under the names
    measured_base gives it, local-cpu and local-gpu) into a HardwareProfile."""
    from kinetics_cli.calibrate.fit import MEASURED_NAMES, measured_base
    from kinetics_cli.catalog import load_spec

    if ref in MEASURED_NAMES:
        if rows is None:
            raise InputError("'measured' needs measurement rows")
        return measured_base(rows)
    path = Path(ref)
    if ref.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise InputError(f"{path}: no such profile file")
        return load_spec(path, HardwareProfile)
    return catalog().hardware.get(ref).spec


def resolve_tolerance(
    given: float | None, settings: CheckSettings | None, default: float = DEFAULT_TOLERANCE
) -> float:
    """The given tolerance, else the sidecar's, else `default`; never silently non-positive."""
    if given is not None:
        if given <= 0:
            raise InputError(f"--tolerance must be positive (got {given:g})")
        return given
    if settings is not None and settings.tolerance is not None:
        return float(settings.tolerance)
    return default


# ---------------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileFit:
    """A measurement file fitted against a base profile."""

    base: HardwareProfile
    fits: dict[str, ClassFit]
    profile: HardwareProfile


def fit_file(
    path: Path, base_ref: str, catalog: CatalogLoader, *, name: str | None = None
) -> FileFit:
    """Fit the rows of `path` against `base_ref`; the profile is `name`, else BASE-calibrated."""
    from kinetics_cli.calibrate.fit import fit_profile
    from kinetics_cli.calibrate.kernels import COMPOSITE
    from kinetics_cli.calibrate.measurements import file_checksum, read_measurements
    from kinetics_cli.calibrate.run import now_utc

    rows = read_measurements(path)
    base = resolve_profile(base_ref, catalog, [r for r in rows if r.kernel != COMPOSITE])
    fits, profile = fit_profile(
        rows,
        base,
        name=name or f"{base.name}-calibrated",
        source=path.name,
        checksum=file_checksum(path),
        date=now_utc()[:10],
    )
    return FileFit(base, fits, profile)


def default_profile_path(name: str) -> Path:
    """Where a fitted profile goes without --out: NAME.toml in the user catalog folder."""
    from kinetics_cli.catalog import HARDWARE_DIR, user_root

    return user_root() / HARDWARE_DIR / f"{name}.toml"


def write_profile(profile: HardwareProfile, path: Path | None = None, *, force: bool) -> Path:
    """Write `profile` as TOML to `path`, by default NAME.toml in the user catalog folder."""
    from kinetics_cli.calibrate.fit import profile_toml
    from kinetics_cli.fsutil import write_atomic

    target = path or default_profile_path(profile.name)
    write_atomic(target, profile_toml(profile), force=force)
    return target


# ---------------------------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileCheck:
    """A measurement file predicted with a profile; `origin` says where the profile came from."""

    file: Path
    profile: HardwareProfile
    origin: str
    report: CheckReport

    def as_dict(self) -> dict[str, object]:
        return {"file": str(self.file), "hardware": self.profile.name, **self.report.as_dict()}


def check_file(
    path: Path,
    catalog: CatalogLoader,
    *,
    hardware: str | None = None,
    tolerance: float | None = None,
    kernels: Sequence[str] = (),
) -> FileCheck:
    """Predict the rows of a measurement file with `hardware`, else the sidecar's profile, else a
    fit of the file's own micro-kernel rows on their measured peaks."""
    from kinetics_cli.calibrate.check import check_rows, read_settings
    from kinetics_cli.calibrate.fit import fit_profile, measured_base
    from kinetics_cli.calibrate.kernels import COMPOSITE
    from kinetics_cli.calibrate.measurements import file_checksum, read_measurements

    rows = read_measurements(path)
    settings = read_settings(path)
    ref = hardware or (settings.hardware_ref() if settings else None)
    if ref is not None:
        profile = resolve_profile(ref, catalog)
        origin = ref
    else:
        _, profile = fit_profile(
            rows,
            measured_base([r for r in rows if r.kernel != COMPOSITE]),
            name="this-file",
            source=path.name,
            checksum=file_checksum(path),
            date="",
        )
        origin = "a fit of this file's micro-kernel rows on their measured peaks"
    limit = resolve_tolerance(tolerance, settings)
    chosen = tuple(kernels) or (settings.kernels if settings else ())
    report = check_rows(rows, profile, tolerance=limit, kernels=chosen, source=str(path))
    return FileCheck(path, profile, origin, report)


# ---------------------------------------------------------------------------------------------
# reference
# ---------------------------------------------------------------------------------------------


def shipped_reference_file() -> Path:
    """The paper's B200 reference rows shipped with the catalog."""
    from kinetics_cli.catalog import HARDWARE_DIR, bundled_root

    return bundled_root() / HARDWARE_DIR / "measurements" / "paper-b200-qwen3-0.6b.jsonl"


@dataclass(frozen=True)
class ReferenceReport:
    """Predicted vs published ratios of a reference file, each with the profile's name.

    `passed` means agreement: the median distance from the published ranges is within the
    tolerance (reference.AGREEMENT_TOLERANCE unless given). Otherwise the prediction is outside
    the published range, and `reasons` says what is known to separate the two; `known_gap` is
    the distance the file's sidecar records as understood, so a wider one is a regression.
    """

    file: Path
    checks: list[tuple[str, ReferenceCheck]]
    tolerance: float
    reasons: tuple[str, ...] = ()
    known_gap: float | None = None
    known_reason: str = ""

    @property
    def median_error(self) -> float:
        return statistics.median(abs(c.error) for _, c in self.checks)

    @property
    def passed(self) -> bool:
        return self.median_error <= self.tolerance

    @property
    def verdict(self) -> str:
        return "agrees" if self.passed else "outside the published range"

    @property
    def within_known_gap(self) -> bool | None:
        """Whether a disagreement is no wider than the recorded one (None: none recorded)."""
        return None if self.known_gap is None else self.median_error <= self.known_gap

    def as_dict(self) -> dict[str, object]:
        return {
            "file": str(self.file),
            "rows": [{"hardware": n, **c.as_dict()} for n, c in self.checks],
            "median_error": self.median_error,
            "tolerance": self.tolerance,
            "passed": self.passed,
            "verdict": self.verdict,
            "reasons": list(self.reasons) if not self.passed else [],
            "known_gap": self.known_gap,
            "within_known_gap": self.within_known_gap,
        }


def check_references(
    path: Path,
    catalog: CatalogLoader,
    *,
    hardware: str | None = None,
    efficiencies_from: str | None = None,
    tolerance: float | None = None,
) -> ReferenceReport:
    """Predict every reference row with `hardware` (else the sidecar's, else the row's profile),
    with `efficiencies_from`'s fitted efficiencies when given."""
    from kinetics_cli.calibrate.check import read_settings
    from kinetics_cli.calibrate.reference import (
        AGREEMENT_TOLERANCE,
        check_reference,
        gap_reasons,
        read_references,
        with_efficiencies,
    )

    rows = read_references(path)
    settings = read_settings(path)
    donor = resolve_profile(efficiencies_from, catalog) if efficiencies_from else None
    chosen = hardware or (settings.hardware_ref() if settings else None)
    priced = []
    for row in rows:
        profile = resolve_profile(chosen or row.hardware, catalog)
        if donor is not None:
            profile = with_efficiencies(profile, donor)
        priced.append((check_reference(row, profile), profile))
    checks = [(profile.name, check) for check, profile in priced]
    # The recorded gap describes the file's own profile; another profile is a new comparison.
    own = settings is not None and hardware is None and efficiencies_from is None
    return ReferenceReport(
        path,
        checks,
        resolve_tolerance(tolerance, settings, default=AGREEMENT_TOLERANCE),
        tuple(gap_reasons(priced, donor)),
        settings.known_gap if own and settings else None,
        settings.reason if own and settings else "",
    )


# ---------------------------------------------------------------------------------------------
# the pipeline's files (bare `kinetics calibrate --out DIR`)
# ---------------------------------------------------------------------------------------------

PIPELINE_MEASUREMENTS = "measurements.jsonl"


def check_outputs(out: Path, base: HardwareProfile | None, *, gpu: bool, force: bool) -> None:
    """Raise before timing when a pipeline run could not write its files into `out`: `out` is a
    file, neither it nor its parent folder exists, a folder is not writable, or a file is there
    already (without `force`)."""
    from kinetics_cli.fsutil import check_folder, check_writable

    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    check_folder(out if out.exists() else out.parent, what=f"into {out}")
    measured = "local-gpu" if gpu else "local-cpu"  # fit.measured_base's name
    profile_name = f"{base.name if base else measured}-calibrated.toml"
    if out.exists():
        for target in (out / PIPELINE_MEASUREMENTS, out / profile_name):
            check_writable(target, force=force)


def save_outputs(out: Path, result: PipelineResult, *, force: bool) -> tuple[Path, Path]:
    """Write a pipeline run's measurements and fitted profile into `out`; both paths.

    The run's profile names no file as its source (none was saved yet); the saved one names the
    measurements file written beside it, whose checksum is the one the run already recorded.
    """
    from kinetics_cli.calibrate.fit import calibrated_profile, profile_toml
    from kinetics_cli.calibrate.measurements import write_measurements
    from kinetics_cli.fsutil import write_atomic

    rows_path = write_measurements(out / PIPELINE_MEASUREMENTS, result.rows, force=force)
    run_calibration = result.profile.calibration
    assert run_calibration is not None  # fit.calibrated_profile always fills it
    profile = calibrated_profile(
        result.base,
        result.fits,
        result.rows,
        name=result.profile.name,
        source=PIPELINE_MEASUREMENTS,
        checksum=run_calibration.checksum,
        date=run_calibration.date,
    )
    profile_path = out / f"{profile.name}.toml"
    write_atomic(profile_path, profile_toml(profile), force=force)
    return rows_path, profile_path
