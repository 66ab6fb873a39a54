"""calibrate.fit: recovering known efficiencies and overheads, base profiles, catalog round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinetics_cli.calibrate.check import check_rows, predict
from kinetics_cli.calibrate.fit import (
    calibrated_profile,
    fit_classes,
    fit_roofline,
    measured_base,
    profile_toml,
)
from kinetics_cli.calibrate.kernels import Case, cost, plan
from kinetics_cli.calibrate.measurements import Measurement
from kinetics_cli.catalog import load_catalog
from kinetics_cli.engine.timing import kernel_seconds
from kinetics_cli.errors import InputError
from kinetics_cli.specs import HardwareProfile

BASE = HardwareProfile(
    name="toy",
    vendor="Example",
    peak_flops={"bf16": 1e12, "fp32": 1e12},
    hbm_bandwidth=1e11,
    hbm_capacity=1e10,
    sources=["test fixture"],
)


def synthetic(
    e_c: float, e_m: float, t0: float, noise: float, seed: int, n: int = 24
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows spread over intensities 0.1 .. 1000 FLOPs/byte around the ridge (10 here), times from
    the model itself with multiplicative log-normal noise."""
    rng = np.random.default_rng(seed)
    nbytes = np.geomspace(1e5, 1e9, n)
    rng.shuffle(nbytes)
    flops = nbytes * np.geomspace(0.1, 1000, n)
    c, m = flops / 1e12, nbytes / 1e11
    t = np.maximum(c / e_c, m / e_m) + t0
    return c, m, t * np.exp(rng.normal(0.0, noise, n))


def test_exact_data_gives_exact_fit() -> None:
    c, m, t = synthetic(0.8, 0.4, 5e-6, noise=0.0, seed=1)
    fit = fit_roofline(c, m, t, "gemm")
    assert fit.compute_efficiency == pytest.approx(0.8, rel=1e-6)
    assert fit.bandwidth_efficiency == pytest.approx(0.4, rel=1e-6)
    assert fit.overhead_seconds == pytest.approx(5e-6, rel=1e-4)
    assert fit.worst_error < 1e-6 and fit.points == 24
    assert fit.compute_identified and fit.bandwidth_identified


@settings(max_examples=25, deadline=None)
@given(
    e_c=st.floats(0.05, 1.2),
    e_m=st.floats(0.05, 1.2),
    t0=st.sampled_from([0.0, 1e-6, 2e-5, 3e-4]),
    seed=st.integers(0, 10_000),
)
def test_noisy_data_recovers_efficiencies_and_overhead(
    e_c: float, e_m: float, t0: float, seed: int
) -> None:
    c, m, t = synthetic(e_c, e_m, t0, noise=0.03, seed=seed, n=40)
    fit = fit_roofline(c, m, t)
    assert fit.compute_efficiency == pytest.approx(e_c, rel=0.08)
    assert fit.bandwidth_efficiency == pytest.approx(e_m, rel=0.08)
    # t0 is recovered to a small fraction of the shortest time it hides in
    assert abs(fit.overhead_seconds - t0) < 0.1 * float(np.min(t))
    assert fit.median_error < 0.06


def test_memory_bound_rows_leave_compute_efficiency_unconstrained() -> None:
    nbytes = np.geomspace(1e3, 1e9, 10)
    t = nbytes / (0.5 * 1e11) + 2e-6
    fit = fit_roofline(np.zeros(10), nbytes / 1e11, t, "stream")
    assert not fit.compute_identified and fit.compute_efficiency == 1.0
    assert fit.bandwidth_efficiency == pytest.approx(0.5, rel=1e-6)
    assert fit.overhead_seconds == pytest.approx(2e-6, rel=1e-4)


def test_efficiencies_stay_within_the_schema() -> None:
    # times twice as fast as the peaks allow: the fit stops at the schema's ceiling of 1.5
    c, m, t = synthetic(2.0, 2.0, 0.0, noise=0.0, seed=3)
    fit = fit_roofline(c, m, t)
    assert fit.compute_efficiency <= 1.5 and fit.bandwidth_efficiency <= 1.5
    fit.kernel_fit()  # validates against specs.KernelFit


def test_too_few_rows_is_an_input_error() -> None:
    with pytest.raises(InputError, match="at least 3"):
        fit_roofline([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], "gemm")


def rows_from_model(
    profile: HardwareProfile, cases: list[Case], dtype: str = "fp32"
) -> list[Measurement]:
    """Measurement rows whose times are exactly what `profile` predicts."""
    rows = []
    for i, case in enumerate(cases):
        c = cost(case.kernel, case.shape, dtype)
        row = Measurement(
            kernel=case.kernel,
            shape=dict(case.shape),
            flops=float(c.flops),
            bytes=float(c.bytes),
            seconds=1.0,
            spread=0.0,
            repeats=1,
            dtype=dtype,
            device="model",
            backend="synthetic",
            timestamp="2026-01-01T00:00:00+00:00",
            line=i + 1,
        )
        rows.append(Measurement(**{**row.__dict__, "seconds": predict(row, profile)}))
    return rows


def truth() -> HardwareProfile:
    fits = {
        "gemm": {"compute_efficiency": 0.9, "bandwidth_efficiency": 0.3, "overhead_seconds": 2e-5},
        "stream": {"bandwidth_efficiency": 0.95, "overhead_seconds": 8e-6},
        "attention_decode_dense": {
            "compute_efficiency": 0.6,
            "bandwidth_efficiency": 0.22,
            "overhead_seconds": 1.5e-4,
        },
        "attention_decode_blocktopk": {
            "compute_efficiency": 0.55,
            "bandwidth_efficiency": 0.17,
            "overhead_seconds": 3e-4,
        },
    }
    doc = BASE.model_dump()
    doc["calibration"] = {"kernels": fits}
    return HardwareProfile.model_validate(doc)


def test_fit_on_micro_kernels_predicts_held_out_decode_steps() -> None:
    """With times that follow the model exactly, the fit recovers every class and the composite
    decode steps (never fitted) are predicted exactly: the accounting composes."""
    rows = rows_from_model(truth(), plan(quick=True))
    fits = fit_classes(rows, BASE)
    assert set(fits) == {"gemm", "stream", "attention_decode_dense", "attention_decode_blocktopk"}
    assert fits["gemm"].bandwidth_efficiency == pytest.approx(0.3, rel=1e-6)
    assert fits["attention_decode_blocktopk"].overhead_seconds == pytest.approx(3e-4, rel=1e-4)
    profile = calibrated_profile(
        BASE, fits, rows, name="toy-calibrated", source="x", checksum="sha256:0", date="2026-01-01"
    )
    report = check_rows(rows, profile, kernels=("decode_step",))
    assert len(report.rows) == 4 and report.worst_error < 1e-6


def test_measured_base_takes_the_best_gemm_and_a_large_copy() -> None:
    rows = rows_from_model(truth(), plan(quick=True))
    base = measured_base(rows)
    gemm_best = max(r.flops / r.seconds for r in rows if r.kernel == "gemm")
    large = [r for r in rows if r.kernel == "stream" and r.bytes >= 128 << 20]
    assert base.peak("fp32") == base.peak("bf16") == gemm_best
    assert base.hbm_bandwidth == max(r.bytes / r.seconds for r in large)
    with pytest.raises(InputError, match="gemm and stream rows"):
        measured_base([r for r in rows if r.kernel != "stream"])


def test_fitted_profile_round_trips_through_the_catalog(tmp_path: Path) -> None:
    rows = rows_from_model(truth(), plan(quick=True))
    fits = fit_classes(rows, BASE)
    profile = calibrated_profile(
        BASE,
        fits,
        rows,
        name="toy-calibrated",
        source="m.jsonl",
        checksum="sha256:ab",
        date="2026-01-02",
    )
    folder = tmp_path / "catalog" / "hardware_profiles"
    folder.mkdir(parents=True)
    (folder / "toy-calibrated.toml").write_text(profile_toml(profile))
    loaded = load_catalog([tmp_path / "catalog"]).hardware.get("toy-calibrated").spec
    assert loaded == profile
    assert loaded.calibration is not None and loaded.calibration.checksum == "sha256:ab"
    fit = loaded.kernel_fit("attention_decode_dense")
    assert fit.bandwidth_efficiency == pytest.approx(0.22, rel=1e-6)
    assert fit.points == sum(r.kernel == "attention_decode_dense" for r in rows)
    # the engine's timing picks the calibration up
    seconds = kernel_seconds(1e9, 1e9, loaded, "attention_decode_dense", dtype="bf16")
    assert float(seconds) == pytest.approx(1e9 / (0.22 * 1e11) + fit.overhead_seconds)
