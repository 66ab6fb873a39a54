"""A small hand-written accuracy source for the planner tests, and checks that it keeps the contract.

Each model solves a trial with probability q F(L): q = its solve rate times r (r = 1 dense,
B / (B + 128) sparse at KV budget B), F(L) = 1 - exp(-L / mean) the chance a correct trial
finishes within the limit L. Best-of-N (oracle verifier): 1 - (1 - q F(L))^N. Generated lengths
are four equal-weight quantiles of that exponential, cut at L.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kinetics_cli.accuracy.base import AccuracySource, Outcome, Setting

QUANTILES = np.array([0.125, 0.375, 0.625, 0.875])


@dataclass
class FakeSource:
    """AccuracySource over hand-set (solve rate, mean length) per model."""

    models: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "qwen3-0.6b": (0.15, 9000.0),
            "qwen3-8b": (0.55, 7000.0),
            "qwen3-32b": (0.75, 6000.0),
        }
    )
    budgets: tuple[float, ...] = (512.0, 2048.0)
    max_trials: float = np.inf  # trial counts above it get NaN accuracy (unsampled)
    task: str = "fake"
    kind: str = "priors"
    description: str = "hand-written fake accuracy source"
    calls: list[Setting] = field(default_factory=list)

    def settings(self) -> list[Setting]:
        out = []
        for model in self.models:
            out.append(Setting(model, "dense", None))
            for attention in ("topk", "block-topk"):
                out.extend(Setting(model, attention, b) for b in self.budgets)  # type: ignore[arg-type]
        return out

    def outcome(self, setting: Setting, trials: np.ndarray, limits: np.ndarray) -> Outcome:
        self.calls.append(setting)
        rate, mean = self.models[setting.model]
        r = 1.0
        if setting.attention != "dense":
            assert setting.kv_budget is not None
            b = setting.kv_budget / (2.0 if setting.attention == "block-topk" else 1.0)
            r = b / (b + 128.0)
        n = np.asarray(trials, dtype=float)[:, None]
        lim = np.asarray(limits, dtype=float)
        finished = 1.0 - np.exp(-lim / mean)
        accuracy = 1.0 - (1.0 - rate * r * finished[None, :]) ** n
        accuracy = np.where(n > self.max_trials, np.nan, accuracy)
        lengths = np.minimum(-mean * np.log1p(-QUANTILES)[None, :], lim[:, None])
        weights = np.full_like(lengths, 1.0 / QUANTILES.size)
        return Outcome(accuracy, lengths, weights, prompt_len=200.0)


def test_fake_keeps_the_contract() -> None:
    source: AccuracySource = FakeSource()  # type: ignore[assignment]
    trials, limits = np.array([1.0, 4.0]), np.array([1000.0, 8000.0, 32000.0])
    for setting in source.settings():
        out = source.outcome(setting, trials, limits)
        assert out.accuracy.shape == (2, 3)
        assert np.all((out.accuracy >= 0) & (out.accuracy <= 1))
        assert np.all(np.diff(out.accuracy, axis=0) >= 0)  # more trials never hurt
        assert np.all(np.diff(out.accuracy, axis=1) >= 0)  # longer limits never hurt
        np.testing.assert_allclose(out.gen_weights.sum(axis=1), 1.0)
        assert np.all(out.gen_lengths <= limits[:, None])


def test_fake_marks_unsampled_trial_counts() -> None:
    source = FakeSource(max_trials=8)
    out = source.outcome(
        Setting("qwen3-8b", "dense", None), np.array([1.0, 8.0, 16.0]), np.array([4096.0])
    )
    assert np.isfinite(out.accuracy[:2]).all() and np.isnan(out.accuracy[2]).all()
