"""Time the calibration kernels, and the whole pipeline `kinetics calibrate` runs in CI.

Each micro-kernel case is prepared (inputs allocated), warmed up (at least one call and 10 ms,
which also lets the allocator settle), then timed `repeats` times with the caches flushed before
every call. The held-out decode steps are prepared and warmed up first and timed in rounds spread
over the run, one call of each step in turn after every group of micro-kernels, so that they see
the same machine as the rows the fit uses: a load that comes and goes moves both alike instead of
only one of them. A row records the median, the interquartile spread and the fastest call.
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
WARMUP_CALLS, WARMUP_SECONDS, WARMUP_MAX = 1, 0.01, 20
# Timed calls per micro-kernel row and per held-out decode step, and the rounds the decode steps'
# calls are spread over; docs/calibration.md (section 6) gives the runs these come from.
REPEATS, COMPOSITE_REPEATS, ROUNDS = 3, 10, 5
# Held-out median relative error the quick CPU pipeline must stay under; docs/calibration.md
# gives the runs it comes from.
CI_TOLERANCE = 0.20


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def warm_up(backend: Backend, fn: Callable[[], object]) -> None:
    """Call `fn` at least WARMUP_CALLS times and until WARMUP_SECONDS of wall time have passed.

    Warm-up calls go through the backend's clock, so that on a GPU each has finished (not just
    been queued) before the next; on a busy CPU the time limit means fewer calls rather than a
    longer run.
    """
    start, calls = time.perf_counter(), 0
    while calls < WARMUP_MAX and (
        calls < WARMUP_CALLS or time.perf_counter() - start < WARMUP_SECONDS
    ):
        backend.time_call(fn)
        calls += 1


def timed_calls(backend: Backend, fn: Callable[[], object], repeats: int) -> list[float]:
    """Seconds of `repeats` calls of `fn`, each after a cache flush."""
    times = []
    for _ in range(repeats):
        backend.flush()
        times.append(backend.time_call(fn))
    return times


def time_case(backend: Backend, case: Case, repeats: int) -> list[float]:
    """Seconds of `repeats` cold-cache calls of `case`, after a warm-up."""
    fn = backend.prepare(case)
    warm_up(backend, fn)
    return timed_calls(backend, fn, repeats)


def row(backend: Backend, case: Case, seconds: Sequence[float], line: int) -> Measurement:
    """The measurement row of `case` from the seconds of its timed calls."""
    times = np.asarray(seconds, dtype=float)
    median = float(np.median(times))
    q25, q75 = np.percentile(times, [25, 75])
    c = cost(case.kernel, case.shape, backend.dtype)
    return Measurement(
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
        line=line,
    )


def measure(
    backend: Backend,
    cases: Sequence[Case],
    *,
    repeats: int = REPEATS,
    composite_repeats: int = COMPOSITE_REPEATS,
    rounds: int = ROUNDS,
    on_step: Step | None = None,
) -> list[Measurement]:
    """Time every case and return its measurement row, in the order of `cases`.

    Micro-kernels are timed one case after another, `repeats` calls each. The decode steps
    (kernels.COMPOSITE) are all prepared and warmed up first; their `composite_repeats` calls are
    split over `rounds` rounds, one after each of `rounds` equal groups of micro-kernels, and
    within a round the steps take turns call by call.
    """
    if not cases:
        return []
    held = [i for i, c in enumerate(cases) if c.kernel == COMPOSITE]
    micro = [i for i, c in enumerate(cases) if c.kernel != COMPOSITE]
    times: dict[int, list[float]] = {i: [] for i in range(len(cases))}
    backend.reserve(cases)
    steps = {}
    for i in held:
        steps[i] = backend.prepare(cases[i])
        warm_up(backend, steps[i])
    rounds = max(1, min(rounds, composite_repeats)) if held else 1
    per_round = [
        composite_repeats // rounds + (r < composite_repeats % rounds) for r in range(rounds)
    ]
    groups = [
        micro[r * len(micro) // rounds : (r + 1) * len(micro) // rounds] for r in range(rounds)
    ]
    done = 0
    for group, calls in zip(groups, per_round, strict=True):
        for i in group:
            if on_step:
                on_step(done, len(cases), cases[i])
            times[i] = time_case(backend, cases[i], repeats)
            done += 1
        for _ in range(calls if held else 0):
            for i in held:
                if on_step:
                    on_step(done, len(cases), cases[i])
                backend.flush()
                times[i].append(backend.time_call(steps[i]))
    steps.clear()
    if on_step:
        on_step(len(cases), len(cases), cases[-1])
    return [row(backend, case, times[i], i + 1) for i, case in enumerate(cases)]


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
    repeats: int = REPEATS,
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
