"""Time of one kernel call on a hardware profile: the roofline with calibrated efficiencies.

t = max(F / (e_c peak), B / (e_m bandwidth)) + t0, with (e_c, e_m, t0) from the profile's
calibration table for the kernel class, or (1, 1, 0) when the profile is uncalibrated.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from kinetics_cli.specs import HardwareProfile


def roofline_terms(
    flops: ArrayLike,
    nbytes: ArrayLike,
    hardware: HardwareProfile,
    kernel: str,
    *,
    dtype: str = "bf16",
) -> tuple[np.ndarray, np.ndarray, float]:
    """(F / (e_c peak), B / (e_m bandwidth), t0) of one `kernel`-class call, in seconds."""
    fit = hardware.kernel_fit(kernel)
    compute = np.asarray(flops, dtype=float) / (hardware.peak(dtype) * fit.compute_efficiency)
    memory = np.asarray(nbytes, dtype=float) / (hardware.hbm_bandwidth * fit.bandwidth_efficiency)
    return compute, memory, fit.overhead_seconds


def kernel_seconds(
    flops: ArrayLike,
    nbytes: ArrayLike,
    hardware: HardwareProfile,
    kernel: str,
    *,
    dtype: str = "bf16",
) -> np.ndarray:
    """Roofline time of one call of a `kernel`-class operator moving `nbytes` and doing `flops`."""
    compute, memory, overhead = roofline_terms(flops, nbytes, hardware, kernel, dtype=dtype)
    return np.maximum(compute, memory) + overhead
