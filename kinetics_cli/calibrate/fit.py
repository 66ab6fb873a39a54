"""Fit a kernel class's achieved efficiencies and per-call overhead to measured times.

Model (engine.timing): t = max(F / (e_c P), B / (e_m W)) + t0, with P the profile's peak for the
row's dtype and W its memory bandwidth. Writing c = F / P and m = B / W (the times at datasheet
speed), u = 1 / e_c and v = 1 / e_m, the fit minimises the squared relative error

    sum_i ((max(u c_i, v m_i) + t0) / t_i - 1)^2,   u, v >= 1 / 1.5, t0 >= 0.

The max splits the rows at one ridge intensity c/m = v/u: below it a row is memory-bound, above
it compute-bound. For a fixed split the problem is linear least squares with lower bounds, solved
exactly by enumerating which bounds are active; every split of the rows sorted by intensity is
tried, each solution is re-split by its own ridge until stable, and the lowest true loss wins.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from kinetics_cli.calibrate.kernels import COMPOSITE, MICRO_KERNELS
from kinetics_cli.calibrate.measurements import Measurement
from kinetics_cli.errors import InputError
from kinetics_cli.specs import Calibration, HardwareProfile, KernelFit

T = TypeVar("T")
MAX_EFFICIENCY = 1.5  # the schema's ceiling (specs.Fraction)
MIN_POINTS = 3
MEASURED = "measured"  # --hardware value: take the peaks from the file's own best rows
# measured_base's own names, which the output prints beside 'measured': read as 'measured' too.
MEASURED_NAMES = (MEASURED, "local-cpu", "local-gpu")
LARGE_COPY_BYTES = 64 << 20  # copies this large or larger set a measured base's bandwidth


@dataclass(frozen=True)
class ClassFit:
    """Fitted (e_c, e_m, t0) of one kernel class and how well they reproduce its rows."""

    kernel: str
    compute_efficiency: float
    bandwidth_efficiency: float
    overhead_seconds: float
    points: int
    rms_error: float
    median_error: float
    worst_error: float
    compute_identified: bool
    bandwidth_identified: bool

    def kernel_fit(self) -> KernelFit:
        return KernelFit(
            compute_efficiency=self.compute_efficiency,
            bandwidth_efficiency=self.bandwidth_efficiency,
            overhead_seconds=self.overhead_seconds,
            residual=round(self.rms_error, 6),
            points=self.points,
        )


def _bounded_lstsq(columns: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """argmin ||A p - 1||^2 subject to p >= lower, for a handful of columns.

    The problem is convex, so the optimum is the unconstrained optimum of its free parameters
    with the others held at their bounds, for some choice of which are held: try every choice
    and keep the best one that satisfies the bounds.
    """
    k = columns.shape[1]
    target = np.ones(columns.shape[0])
    best, best_loss = np.maximum(lower, 0.0), math.inf
    for held in itertools.product((False, True), repeat=k):
        p = lower.copy()
        free = [j for j in range(k) if not held[j]]
        rest = target - columns[:, [j for j in range(k) if held[j]]] @ lower[list(held)]
        if free:
            sol, *_ = np.linalg.lstsq(columns[:, free], rest, rcond=None)
            p[free] = sol
        if np.any(p < lower - 1e-12):
            continue
        loss = float(np.sum((columns @ p - target) ** 2))
        if loss < best_loss:
            best, best_loss = p, loss
    return best


def _relative_errors(
    u: float, v: float, t0: float, c: np.ndarray, m: np.ndarray, t: np.ndarray
) -> np.ndarray:
    return (np.maximum(u * c, v * m) + t0) / t - 1.0


def fit_roofline(
    compute_seconds: Sequence[float],
    memory_seconds: Sequence[float],
    seconds: Sequence[float],
    kernel: str = "",
) -> ClassFit:
    """Fit (e_c, e_m, t0) to rows whose datasheet-speed compute and memory times are given.

    An efficiency no row constrains (no compute-bound row, or no memory traffic) is left at 1.0,
    or at the smallest value the rows allow when 1.0 would contradict them.
    """
    c = np.asarray(compute_seconds, dtype=float)
    m = np.asarray(memory_seconds, dtype=float)
    t = np.asarray(seconds, dtype=float)
    n = t.size
    if n < MIN_POINTS:
        raise InputError(f"{kernel or 'kernel'}: {n} rows; a fit needs at least {MIN_POINTS}")
    low = 1.0 / MAX_EFFICIENCY
    with np.errstate(divide="ignore", invalid="ignore"):
        intensity = np.where(m > 0, c / np.where(m > 0, m, 1.0), np.inf)
    order = np.argsort(intensity, kind="stable")

    def solve(compute_bound: np.ndarray) -> tuple[float, float, float, bool, bool]:
        has_c = bool(np.any(compute_bound & (c > 0)))
        has_m = bool(np.any(~compute_bound & (m > 0)))
        cols, lows = [np.ones(n) / t], [0.0]
        if has_c:
            cols.append(np.where(compute_bound, c, 0.0) / t)
            lows.append(low)
        if has_m:
            cols.append(np.where(compute_bound, 0.0, m) / t)
            lows.append(low)
        p = _bounded_lstsq(np.stack(cols, axis=1), np.array(lows))
        t0, rest = float(p[0]), list(p[1:])
        u = rest.pop(0) if has_c else math.nan
        v = rest.pop(0) if has_m else math.nan
        if (
            not has_c
        ):  # e_c unconstrained: 1.0 unless that would make a memory-bound row compute-bound
            limits = [
                v * mi / ci for ci, mi in zip(c, m, strict=True) if ci > 0 and not math.isnan(v)
            ]
            u = min(1.0, min(limits)) if limits else 1.0
            u = max(u, low)
        if not has_m:
            limits = [u * ci / mi for ci, mi in zip(c, m, strict=True) if mi > 0]
            v = max(low, min(1.0, min(limits))) if limits else 1.0
        return u, v, t0, has_c, has_m

    best: tuple[float, tuple[float, float, float, bool, bool]] | None = None
    for split in range(n + 1):
        compute_bound = np.zeros(n, dtype=bool)
        compute_bound[order[split:]] = True
        seen: set[bytes] = set()
        for _ in range(20):
            params = solve(compute_bound)
            u, v, t0 = params[:3]
            loss = float(np.sum(_relative_errors(u, v, t0, c, m, t) ** 2))
            if best is None or loss < best[0] - 1e-15:
                best = (loss, params)
            key = compute_bound.tobytes()
            if key in seen:
                break
            seen.add(key)
            resplit = u * c > v * m
            if np.array_equal(resplit, compute_bound):
                break
            compute_bound = resplit
    assert best is not None
    u, v, t0, has_c, has_m = best[1]
    errors = np.abs(_relative_errors(u, v, t0, c, m, t))
    if not (math.isfinite(u) and math.isfinite(v) and math.isfinite(t0) and u > 0 and v > 0):
        raise InputError(
            f"{kernel or 'kernel'}: the fit gives no finite efficiencies and overhead from these "
            "rows (look for rows whose flops, bytes or seconds are far from the others)"
        )
    if not np.all(np.isfinite(errors)):
        raise InputError(f"{kernel or 'kernel'}: the fitted model cannot reproduce the rows")
    return ClassFit(
        kernel=kernel,
        compute_efficiency=min(MAX_EFFICIENCY, 1.0 / u),
        bandwidth_efficiency=min(MAX_EFFICIENCY, 1.0 / v),
        overhead_seconds=max(0.0, t0),
        points=n,
        rms_error=float(np.sqrt(np.mean(errors**2))),
        median_error=float(np.median(errors)),
        worst_error=float(np.max(errors)),
        compute_identified=has_c,
        bandwidth_identified=has_m,
    )


def _peak(profile: HardwareProfile, dtype: str) -> float:
    try:
        return profile.peak(dtype)
    except KeyError as exc:
        raise InputError(
            f"{exc.args[0]}; the rows are {dtype}: fit them against a profile with a {dtype} "
            f"peak, or against '{MEASURED}' (this machine's own best rows)"
        ) from None


def fit_classes(rows: Sequence[Measurement], base: HardwareProfile) -> dict[str, ClassFit]:
    """One ClassFit per micro-kernel class present in `rows` (composite rows are never fitted)."""
    fits: dict[str, ClassFit] = {}
    for kernel in MICRO_KERNELS:
        group = [r for r in rows if r.kernel == kernel]
        if not group:
            continue
        c = [r.flops / _peak(base, r.dtype) for r in group]
        m = [r.bytes / base.hbm_bandwidth for r in group]
        fits[kernel] = fit_roofline(c, m, [r.seconds for r in group], kernel)
    if not fits:
        raise InputError(
            f"no micro-kernel rows to fit (expected some of {', '.join(MICRO_KERNELS)}; "
            f"{COMPOSITE} rows are held out)"
        )
    return fits


def _host_memory_bytes() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 1.0


def measured_base(rows: Sequence[Measurement], name: str | None = None) -> HardwareProfile:
    """A base profile for the machine that produced `rows`: peak = the best gemm FLOP/s, bandwidth
    = the best stream bytes/s among copies of at least 64 MiB (past any CPU cache; all copies
    when there are none that large), memory = this host's RAM. Named `local-gpu` when the rows
    were timed with CUDA events, else `local-cpu`, unless `name` says otherwise.

    Efficiencies fitted against it are relative to what this machine was seen to reach, not to a
    datasheet. The schema needs a bf16 peak; a run in another dtype repeats its peak there.
    """
    gemms = [r for r in rows if r.kernel == "gemm"]
    streams = [r for r in rows if r.kernel == "stream"]
    if not gemms or not streams:
        raise InputError(
            "a measured base needs gemm and stream rows (for the peak FLOP/s and bandwidth); "
            "pass --hardware with a catalog profile instead"
        )
    dtypes = {r.dtype for r in gemms}
    if len(dtypes) > 1:
        raise InputError(f"gemm rows mix dtypes {sorted(dtypes)}; a measured base needs one")
    dtype = dtypes.pop()
    large = [r for r in streams if r.bytes >= 2 * LARGE_COPY_BYTES]  # read + write
    best_gemm = max(gemms, key=lambda r: r.flops / r.seconds)
    best_stream = max(large or streams, key=lambda r: r.bytes / r.seconds)
    peak = best_gemm.flops / best_gemm.seconds
    bandwidth = best_stream.bytes / best_stream.seconds
    peaks = {dtype: peak}
    peaks.setdefault("bf16", peak)
    devices = sorted({r.device for r in rows})
    if name is None:
        name = "local-gpu" if any(r.clock == "cuda_events" for r in rows) else "local-cpu"
    return HardwareProfile(
        name=name,
        vendor="measured",
        description=f"{', '.join(devices)} as measured by kinetics calibrate ({rows[0].backend})",
        peak_flops=peaks,
        hbm_bandwidth=bandwidth,
        hbm_capacity=_host_memory_bytes(),
        sources=[
            f"peak {dtype} FLOP/s = best gemm row ({_shape_text(best_gemm)}: {peak:.4g} FLOP/s); "
            f"bandwidth = best stream row ({_shape_text(best_stream)}: {bandwidth:.4g} B/s); "
            "memory = host RAM"
        ],
        notes="Nominal figures are the best this machine reached in the run, so fitted "
        "efficiencies are relative to them."
        + (
            ""
            if dtype == "bf16"
            else f" The bf16 peak repeats the {dtype} one (schema requires bf16)."
        ),
    )


def _shape_text(row: Measurement) -> str:
    return " ".join(f"{k}={v}" for k, v in row.shape.items())


def calibrated_profile(
    base: HardwareProfile,
    fits: dict[str, ClassFit],
    rows: Sequence[Measurement],
    *,
    name: str,
    source: str,
    checksum: str,
    date: str,
) -> HardwareProfile:
    """`base` with a filled [calibration] table: one KernelFit per fitted class; the table-wide
    defaults (used by classes without a fit) take gemm's compute and stream's bandwidth figures.
    Fitted figures the schema refuses are an InputError, never a profile that cannot be written."""
    calibration = _valid(
        lambda: _calibration(base, fits, rows, source=source, checksum=checksum, date=date),
        "the fitted figures do not make a valid calibration table",
    )
    doc = base.model_dump()
    doc.update(
        name=name,
        aliases=[],
        description=(base.description + " (calibrated)").strip(),
        sources=[*base.sources, f"calibration: kinetics calibrate fit of {source} ({checksum})"],
        calibration=calibration,
    )
    return _valid(lambda: HardwareProfile.model_validate(doc), "the calibrated profile is invalid")


def _calibration(
    base: HardwareProfile,
    fits: dict[str, ClassFit],
    rows: Sequence[Measurement],
    *,
    source: str,
    checksum: str,
    date: str,
) -> Calibration:
    """The [calibration] table of calibrated_profile."""
    gemm, copy = fits.get("gemm"), fits.get("stream")
    unidentified = [
        f"{f.kernel} {what}"
        for f in fits.values()
        for what, ok in (("compute", f.compute_identified), ("bandwidth", f.bandwidth_identified))
        if not ok and not (f.kernel == "stream" and what == "compute")
    ]
    note = (
        "least squares on relative error of t = max(F/(e_c P), B/(e_m W)) + t0 per kernel class"
        f" against {base.name}'s peaks"
    )
    if unidentified:
        note += (
            "; not constrained by any row (left at 1.0 or the bound the rows allow): "
            + ", ".join(unidentified)
        )
    return Calibration(
        compute_efficiency=gemm.compute_efficiency if gemm else 1.0,
        bandwidth_efficiency=copy.bandwidth_efficiency if copy else 1.0,
        overhead_seconds=copy.overhead_seconds if copy else 0.0,
        kernels={k: f.kernel_fit() for k, f in fits.items()},  # type: ignore[misc]
        source=source,
        checksum=checksum,
        date=date,
        backend=", ".join(sorted({r.backend for r in rows})),
        device=", ".join(sorted({r.device for r in rows})),
        note=note,
    )


def _valid(build: Callable[[], T], what: str) -> T:
    """`build()`, with a schema violation (pydantic's ValidationError) as one InputError line."""
    from pydantic import ValidationError

    try:
        return build()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{what}: {where}: {first['msg']}") from None


def fit_profile(
    rows: Sequence[Measurement],
    base: HardwareProfile,
    *,
    name: str,
    source: str,
    checksum: str,
    date: str,
) -> tuple[dict[str, ClassFit], HardwareProfile]:
    """Fit the micro-kernel rows of `rows` against `base` (decode steps are held out) and return
    the fits with the calibrated profile `name`."""
    fits = fit_classes(rows, base)
    profile = calibrated_profile(
        base, fits, rows, name=name, source=source, checksum=checksum, date=date
    )
    return fits, profile


def profile_toml(profile: HardwareProfile) -> str:
    """The profile as a catalog TOML file, with a header saying where its calibration came from."""
    from kinetics_cli.tomlio import dumps_toml

    c = profile.calibration
    header = f"Hardware profile {profile.name}"
    if c is not None:
        header += (
            f", calibrated by `kinetics calibrate fit` on {c.date or 'an unsaved run'}\n"
            f"from {c.source} ({c.checksum}), {c.backend} on {c.device}.\n"
            "Per-kernel-class fits: t = max(F / (e_c peak), B / (e_m bandwidth)) + t0;\n"
            "residual = RMS relative error over the class's rows. See docs/calibration.md."
        )
    try:
        return dumps_toml(profile.model_dump(mode="json", exclude_none=True), header=header)
    except ValueError as exc:  # a value TOML cannot hold (inf, nan): refuse rather than write it
        raise InputError(f"profile {profile.name} cannot be written as TOML: {exc}") from None
