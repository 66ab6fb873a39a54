"""Time the calibration kernels, and the whole pipeline `kinetics calibrate` runs in CI.

Each case is prepared (inputs allocated), warmed up (at least two calls and 50 ms, which also
lets the allocator settle), then timed `repeats` times with the caches flushed before every
call; a row records the median, the interquartile spread and the fastest call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from kinetics_cli.calibrate.backends import Backend
from kinetics_cli.calibrate.check import CheckReport, check_rows
from kinetics_cli.calibrate.fit import ClassFit, fit_profile, measured_base
from kinetics_cli.calibrate.kernels import COMPOSITE, Case, cost, plan
from kinetics_cli.calibrate.measurements import Measurement, dumps_measurements, text_checksum
from kinetics_cli.specs import HardwareProfile

Step = Callable[[int, int, Case], None]  # (cases done, cases total, case starting)
WARMUP_CALLS, WARMUP_SECONDS, WARMUP_MAX = 2, 0.05, 20
# Held-out median relative error the quick CPU pipeline must stay under; docs/calibration.md
# gives the runs it comes from.
CI_TOLERANCE = 0.20


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def time_case(backend: Backend, case: Case, repeats: int) -> list[float]:
    """Seconds of `repeats` cold-cache calls of `case`, after a warm-up.

    Warm-up calls go through the backend's clock, so that on a GPU each has finished (not just
    been queued) before the next; the warm-up lasts WARMUP_SECONDS of wall time, which on a busy
    CPU means fewer calls rather than a longer run.
    """
    fn = backend.prepare(case)
    start, calls = time.perf_counter(), 0
    while calls < WARMUP_MAX and (
        calls < WARMUP_CALLS or time.perf_counter() - start < WARMUP_SECONDS
    ):
        backend.time_call(fn)
        calls += 1
    times = []
    for _ in range(repeats):
        backend.flush()
        times.append(backend.time_call(fn))
    return times


def measure(
    backend: Backend,
    cases: Sequence[Case],
    *,
    repeats: int = 5,
    composite_repeats: int = 9,
    on_step: Step | None = None,
) -> list[Measurement]:
    """Time every case and return its measurement row."""
    rows = []
    for index, case in enumerate(cases):
        if on_step:
            on_step(index, len(cases), case)
        n = composite_repeats if case.kernel == COMPOSITE else repeats
        times = np.asarray(time_case(backend, case, n))
        median = float(np.median(times))
        q25, q75 = np.percentile(times, [25, 75])
        c = cost(case.kernel, case.shape, backend.dtype)
        rows.append(
            Measurement(
                kernel=case.kernel,
                shape=dict(case.shape),
                flops=float(c.flops),
                bytes=float(c.bytes),
                seconds=median,
                spread=float((q75 - q25) / median),
                repeats=int(times.size),
                dtype=backend.dtype,
                device=backend.device,
                backend=backend.name,
                timestamp=now_utc(),
                seconds_min=float(times.min()),
                clock=backend.clock,
                line=index + 1,
            )
        )
    if on_step:
        on_step(len(cases), len(cases), cases[-1])
    return rows


@dataclass(frozen=True)
class PipelineResult:
    """What `kinetics calibrate` did: the rows, the base, the fits, and the held-out check."""

    rows: list[Measurement]
    base: HardwareProfile
    fits: dict[str, ClassFit]
    profile: HardwareProfile
    report: CheckReport
    measure_seconds: float


def pipeline(
    backend: Backend,
    *,
    base: HardwareProfile | None = None,
    quick: bool = True,
    tolerance: float,
    cases: Sequence[Case] | None = None,
    repeats: int = 5,
    on_step: Step | None = None,
) -> PipelineResult:
    """Run, fit on the micro-kernels, check the held-out decode steps. Without `base`, the fit is
    relative to this machine's measured peaks (fit.measured_base: local-cpu or local-gpu)."""
    chosen = list(cases) if cases is not None else plan(quick=quick, gpu=backend.gpu)
    start = time.perf_counter()
    try:
        rows = measure(backend, chosen, repeats=repeats, on_step=on_step)
    finally:
        backend.close()
    elapsed = time.perf_counter() - start
    base = base or measured_base([r for r in rows if r.kernel != COMPOSITE])
    fits, profile = fit_profile(
        rows,
        base,
        name=f"{base.name}-calibrated",
        source="(this run, not saved)",
        checksum=text_checksum(dumps_measurements(rows)),
        date=now_utc()[:10],
    )
    report = check_rows(rows, profile, tolerance=tolerance, kernels=(COMPOSITE,))
    return PipelineResult(rows, base, fits, profile, report, elapsed)
