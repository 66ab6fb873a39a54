"""The contract between accuracy data and the planner.

An accuracy source covers some settings (model, attention, KV budget) of one task and says, for a
grid of trial counts N and generation limits L, the accuracy reached and the distribution of
generated lengths that the cost model must be averaged over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

AttentionName = Literal["dense", "topk", "block-topk"]
SourceKind = Literal["evaluations", "priors", "measured", "composite"]
# Two-sided confidence level of every accuracy interval the planner reports (accuracy_ci).
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Setting:
    """One (model, attention, KV budget) combination that accuracy data covers."""

    model: str  # catalog name of the model card
    attention: AttentionName
    kv_budget: float | None  # None for dense

    @property
    def label(self) -> str:
        if self.attention == "dense" or self.kv_budget is None:
            return f"{self.model} dense"
        return f"{self.model} {self.attention}@{self.kv_budget:g}"


@dataclass(frozen=True)
class Outcome:
    """What one setting achieves on a (trials x limits) grid.

    accuracy[t, g]: fraction of problems solved with trials[t] samples capped at limits[g]
    (Best-of-N with an oracle verifier; N = 1 is long-CoT at that limit).
    gen_lengths[g, q], gen_weights[g, q]: generated tokens per trial under limit g, as weighted
    points (weights sum to 1 over q); costs are the weighted mean over these points.
    prompt_len: mean prompt tokens per problem.
    accuracy_ci[0 | 1, t, g]: lower and upper bound of the CONFIDENCE interval of accuracy[t, g]
    (None: the source has no uncertainty to report).
    replicates[b, t, g]: bootstrap replicates of accuracy; sources that resample the same problems
    in the same way give the same `pairing` key, so replicate b of two settings with one key can be
    subtracted (a paired comparison). None where the source has no replicates.
    kind: what the accuracy is ("measured", "evaluations", "priors"); note: one line saying so,
    with sample counts (e.g. "measured: 30 problems x 32 samples").
    """

    accuracy: np.ndarray
    gen_lengths: np.ndarray
    gen_weights: np.ndarray
    prompt_len: float
    accuracy_ci: np.ndarray | None = None
    replicates: np.ndarray | None = None
    pairing: str | None = None
    kind: str = ""
    note: str = ""


class AccuracySource(Protocol):
    """Evaluations a user brings, or bundled measurements and priors, for one task."""

    task: str
    kind: SourceKind
    description: str  # one line shown by `plan`, naming files or the priors and their sources

    def settings(self) -> list[Setting]: ...

    def outcome(self, setting: Setting, trials: np.ndarray, limits: np.ndarray) -> Outcome: ...
