"""calibrate.run: warm-up, cold-cache repeats and the rows a run writes, on a fake backend.

The fake backend returns the seconds it is told to, so the tests check what the runner does with
them, not how fast anything is; the warm-up's wall-clock limit is set to 0 or to a day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from kinetics_cli.calibrate import run as run_module
from kinetics_cli.calibrate.fit import measured_base
from kinetics_cli.calibrate.kernels import COMPOSITE, Case, cost
from kinetics_cli.calibrate.run import WARMUP_CALLS, WARMUP_MAX, measure, time_case


class FakeBackend:
    """Records what the runner asks for; every call 'takes' the next of `seconds` (cycled)."""

    name = "fake"
    dtype = "bf16"
    device = "fake gpu"
    gpu = True
    clock = "cuda_events"

    def __init__(self, seconds: list[float]):
        self.seconds = seconds
        self.log: list[str] = []
        self.calls = 0

    def describe(self) -> str:
        return "fake"

    def reserve(self, cases: Sequence[Case]) -> None:
        self.log.append(f"reserve {len(cases)}")

    def prepare(self, case: Case) -> Callable[[], object]:
        self.log.append("prepare")
        return lambda: self.log.append("call")

    def flush(self) -> None:
        self.log.append("flush")

    def time_call(self, fn: Callable[[], object]) -> float:
        fn()
        self.calls += 1
        return self.seconds[(self.calls - 1) % len(self.seconds)]

    def close(self) -> None:
        self.log.append("close")


def test_warm_up_calls_go_through_the_clock_then_repeats_follow_a_flush() -> None:
    """Each warm-up call is a timed call (on a GPU: finished before the next is queued); each
    timed call follows a cache flush."""
    backend = FakeBackend([0.02])
    times = time_case(backend, Case("gemm", {"m": 2, "n": 8, "k": 8}), repeats=4)
    assert times == [0.02] * 4
    warm = backend.calls - 4
    assert WARMUP_CALLS <= warm <= WARMUP_MAX
    assert backend.log == ["prepare"] + ["call"] * warm + ["flush", "call"] * 4


@pytest.mark.parametrize(("warm_seconds", "warm"), [(0.0, WARMUP_CALLS), (1e9, WARMUP_MAX)])
def test_warm_up_has_a_floor_and_a_ceiling(
    monkeypatch: pytest.MonkeyPatch, warm_seconds: float, warm: int
) -> None:
    monkeypatch.setattr(run_module, "WARMUP_SECONDS", warm_seconds)
    backend = FakeBackend([1.0])
    time_case(backend, Case("stream", {"bytes": 4096}), repeats=1)
    assert backend.log.count("call") == warm + 1


def test_measure_writes_median_spread_and_fastest_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "WARMUP_SECONDS", 0.0)  # warm-up: WARMUP_CALLS calls
    assert WARMUP_CALLS == 1
    backend = FakeBackend([0.5, 4.0, 1.0, 2.0, 3.0, 5.0])
    case = Case("gemm", {"m": 2, "n": 8, "k": 8})
    steps: list[tuple[int, int]] = []
    (row,) = measure(backend, [case], repeats=5, on_step=lambda d, t, c: steps.append((d, t)))
    assert row.seconds == 3.0 and row.seconds_min == 1.0 and row.repeats == 5
    assert row.spread == pytest.approx((4.0 - 2.0) / 3.0)  # interquartile range over the median
    c = cost("gemm", case.shape, "bf16")  # the same accounting the roofline uses
    assert (row.flops, row.bytes) == (float(c.flops), float(c.bytes))
    assert (row.dtype, row.clock, row.backend) == ("bf16", "cuda_events", "fake")
    assert steps == [(0, 1), (1, 1)]


def test_a_gpu_run_gets_a_local_gpu_base() -> None:
    cases = [Case("gemm", {"m": m, "n": 64, "k": 64}) for m in (2, 8, 32)]
    cases += [Case("stream", {"bytes": b}) for b in (4096, 1 << 20, 64 << 20)]
    rows = measure(FakeBackend([1e-3]), cases, repeats=1)
    assert measured_base(rows).name == "local-gpu"
    cpu_rows = [row.__class__(**{**row.__dict__, "clock": "thread_cpu"}) for row in rows]
    assert measured_base(cpu_rows).name == "local-cpu"
    assert measured_base(rows, name="h100-measured").name == "h100-measured"


def test_decode_steps_are_timed_in_rounds_spread_over_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The held-out steps are prepared and warmed up before anything is timed, then take turns
    (one flushed call each) after every group of micro-kernels, so both see the same machine."""
    monkeypatch.setattr(run_module, "WARMUP_SECONDS", 0.0)
    micro = [Case("gemm", {"m": m, "n": 8, "k": 8}) for m in (2, 3, 4, 6)]
    step_shape = {"batch": 1, "context": 32, "q_heads": 2, "kv_heads": 1, "head_dim": 8}
    steps = [
        Case(
            COMPOSITE,
            {**step_shape, "page_size": 16, "hidden": 16, "intermediate": 32, "attention": "dense"},
        ),
        Case(
            COMPOSITE,
            {**step_shape, "page_size": 16, "hidden": 16, "intermediate": 32, "attention": "dense"},
        ),
    ]
    backend = FakeBackend([1.0])
    rows = measure(backend, micro + steps, repeats=1, composite_repeats=4, rounds=2)
    assert [r.kernel for r in rows] == ["gemm"] * 4 + [COMPOSITE] * 2  # the order of the cases
    assert [r.repeats for r in rows] == [1] * 4 + [4] * 2
    assert [r.line for r in rows] == [1, 2, 3, 4, 5, 6]
    warm = ["prepare", "call"]  # one warm-up call (WARMUP_CALLS)
    micro_case = [*warm, "flush", "call"]
    step_turn = ["flush", "call"] * 2  # one call of each step
    assert backend.log == (
        ["reserve 6", *warm, *warm]
        + micro_case * 2
        + step_turn * 2  # first round: two micro cases, two turns
        + micro_case * 2
        + step_turn * 2  # second round
    )


def test_rounds_never_exceed_the_decode_repeats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_module, "WARMUP_SECONDS", 0.0)
    step = Case(
        COMPOSITE,
        {
            "batch": 1,
            "context": 32,
            "q_heads": 2,
            "kv_heads": 1,
            "head_dim": 8,
            "page_size": 16,
            "hidden": 16,
            "intermediate": 32,
            "attention": "dense",
        },
    )
    (row,) = measure(FakeBackend([2.0]), [step], composite_repeats=3, rounds=5)
    assert row.repeats == 3 and row.seconds == 2.0
