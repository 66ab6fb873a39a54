"""Backends that time the calibration kernels: numpy (any CPU) and torch (CUDA GPU, or CPU).

Heavy imports stay inside `get_backend`, so listing or validating never imports torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from kinetics_cli.calibrate.kernels import Case
from kinetics_cli.errors import InputError

BACKENDS = ("numpy", "torch")


class Backend(Protocol):
    """What the runner needs from a backend."""

    name: str
    dtype: str
    device: str
    gpu: bool

    @property
    def clock(self) -> str:
        """What time_call measures: wall, thread_cpu or cuda_events."""
        ...

    def describe(self) -> str: ...

    def reserve(self, cases: Sequence[Case]) -> None:
        """Allocate up front what preparing any of `cases` needs (a no-op where nothing is)."""
        ...

    def prepare(self, case: Case) -> Callable[[], object]: ...

    def flush(self) -> None: ...

    def time_call(self, fn: Callable[[], object]) -> float: ...

    def close(self) -> None: ...


def get_backend(name: str, *, device: str | None = None, dtype: str | None = None) -> Backend:
    """The backend called `name`; torch picks CUDA when present unless `device` says otherwise."""
    if name == "numpy":
        if device not in (None, "cpu"):
            raise InputError("the numpy backend runs on the CPU only (drop --device)")
        if dtype not in (None, "fp32"):
            raise InputError("the numpy backend times fp32 only (numpy has no bf16)")
        from kinetics_cli.calibrate.backends.numpy_backend import NumpyBackend

        return NumpyBackend()
    if name == "torch":
        from kinetics_cli.calibrate.backends.torch_backend import TorchBackend

        return TorchBackend(device=device, dtype=dtype)
    raise InputError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
