"""The configuration grid: settings x strategies x generation limits, costed in one pass per setting.

A configuration is (model, attention, KV budget) from the accuracy source, a trial count N and a
generation limit L. N = 1 is long-CoT truncated at L; N >= 2 is Best-of-N with an oracle verifier,
every trial truncated at L. Its cost is the mean, over the source's distribution of generated
lengths under L, of the Kinetics law's per-problem FLOPs and bytes (engine/kinetics.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np

from kinetics_cli.accuracy.base import AccuracySource, Setting
from kinetics_cli.engine.kinetics import (
    CostShape,
    check_nonnegative,
    check_positive,
    law_intensity,
    split_cost,
)
from kinetics_cli.errors import InputError
from kinetics_cli.specs import HardwareProfile, ModelCard

STRATEGIES = ("long-cot", "best-of-n")
ATTENTIONS = ("dense", "topk", "block-topk")
# Generation limits: powers of two from 1K to 32K tokens and the midpoints between them.
DEFAULT_LIMITS = (1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576, 32768)
# Best-of-N trial counts (N = 1 is long-CoT).
DEFAULT_TRIALS = (1, 2, 4, 8, 16, 32, 64)
# KV budgets (tokens attended per step) used where the source is parametric and none are given.
DEFAULT_KV_BUDGETS = (256, 512, 1024, 2048, 4096)
DEFAULT_BLOCK_SIZE = 16


@dataclass(frozen=True)
class Grid:
    """Every evaluated configuration, as parallel arrays (one entry per configuration).

    seconds: the additive roofline time of engine/kinetics.py (compute / peak + bytes / HBM, with
    the profile's calibrated efficiencies); compute_seconds: its compute terms alone, the time the
    FLOPs-only law charges.
    """

    settings: tuple[Setting, ...]
    params: tuple[float, ...]  # active parameters of each setting's model
    setting: np.ndarray  # int index into settings
    trials: np.ndarray
    gen_len: np.ndarray  # generation limit L (tokens per trial)
    accuracy: np.ndarray  # fraction of problems solved, in [0, 1]
    compute_flops: np.ndarray
    memory_bytes: np.ndarray
    seconds: np.ndarray
    compute_seconds: np.ndarray

    def __len__(self) -> int:
        return int(self.setting.size)

    def eflops(self, intensity: float) -> np.ndarray:
        """compute FLOPs + I x memory bytes per problem (I = 0: the FLOPs-only law)."""
        return self.compute_flops + intensity * self.memory_bytes

    def law_eflops(self, law: str, intensity: float) -> np.ndarray:
        return self.eflops(law_intensity(law, intensity))

    def subset(self, mask: np.ndarray) -> Grid:
        """The configurations where `mask` is true (settings kept as they are)."""
        arrays = {
            f.name: getattr(self, f.name)[mask]
            for f in fields(self)
            if f.name not in ("settings", "params")
        }
        return replace(self, **arrays)

    # ---- per-configuration labels -------------------------------------------------------------

    def model(self, i: int) -> str:
        return self.settings[int(self.setting[i])].model

    def attention(self, i: int) -> str:
        return self.settings[int(self.setting[i])].attention

    def kv_budget(self, i: int) -> float | None:
        s = self.settings[int(self.setting[i])]
        return None if s.attention == "dense" else s.kv_budget

    def strategy(self, i: int) -> str:
        return "long-cot" if self.trials[i] == 1 else "best-of-n"

    def active_params(self) -> np.ndarray:
        """Active parameters of each configuration's model."""
        return np.asarray(self.params, dtype=float)[self.setting]

    def group_labels(self) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """An integer label per configuration for its (model, attention kind), and the keys."""
        keys: list[tuple[str, str]] = list(
            dict.fromkeys((s.model, str(s.attention)) for s in self.settings)
        )
        index = {k: n for n, k in enumerate(keys)}
        per_setting = np.array([index[(s.model, s.attention)] for s in self.settings], dtype=int)
        return per_setting[self.setting], keys


def trials_for(strategies: Sequence[str], trials: Sequence[int]) -> np.ndarray:
    """Trial counts the strategies need: N = 1 for long-CoT, N >= 2 from `trials` for Best-of-N."""
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise InputError(f"unknown strategy {unknown[0]!r}; choose long-cot, best-of-n or all")
    values: set[int] = set()
    if "long-cot" in strategies:
        values.add(1)
    if "best-of-n" in strategies:
        values.update(int(t) for t in trials if t >= 2)
    if not values:
        raise InputError("best-of-n needs at least one trial count of 2 or more")
    return np.array(sorted(values), dtype=float)


def select_settings(
    source: AccuracySource,
    *,
    models: Sequence[str] | None = None,
    attentions: Sequence[str] | None = None,
    kv_budgets: Sequence[float] | None = None,
    available_models: Callable[[str], object] | None = None,
) -> list[Setting]:
    """The settings to evaluate: the source's, narrowed to `models` and `attentions`.

    `kv_budgets` replaces the source's sparse budgets where the source is parametric (bundled
    priors model any budget) and filters them where it is not (evaluations cover what was run).
    `available_models` drops models the catalog cannot cost (no model card).
    """
    covered = source.settings()
    if available_models is not None:
        covered = [s for s in covered if available_models(s.model)]
    covered_models = list(dict.fromkeys(s.model for s in covered))
    if not covered:
        raise InputError(f"the accuracy data for {source.task} covers no model of the catalog")
    if models:
        missing = [m for m in models if m not in covered_models]
        if missing:
            raise InputError(
                f"no accuracy data for model {missing[0]!r} on {source.task}; covered: "
                f"{', '.join(covered_models)}"
            )
        wanted = set(models)
        covered = [s for s in covered if s.model in wanted]
    if attentions:
        bad = [a for a in attentions if a not in ATTENTIONS]
        if bad:
            raise InputError(f"unknown attention {bad[0]!r}; choose one of {', '.join(ATTENTIONS)}")
        covered = [s for s in covered if s.attention in attentions]
    if kv_budgets:
        if any(b <= 0 for b in kv_budgets):
            raise InputError("KV budgets must be positive")
        budgets = sorted(set(float(b) for b in kv_budgets))
        dense = [s for s in covered if s.attention == "dense"]
        if source.kind == "priors":
            pairs = list(
                dict.fromkeys((s.model, s.attention) for s in covered if s.attention != "dense")
            )
            sparse = [Setting(m, a, b) for m, a in pairs for b in budgets]  # type: ignore[arg-type]
        else:
            sparse = [
                s
                for s in covered
                if s.attention != "dense" and s.kv_budget is not None and s.kv_budget in budgets
            ]
        covered = dense + sparse
    if not covered:
        raise InputError(
            f"no setting of the {source.task} accuracy data matches the chosen models, attention "
            "and KV budgets"
        )
    return covered


def evaluate_grid(
    source: AccuracySource,
    cards: Mapping[str, ModelCard],
    settings: Sequence[Setting],
    hardware: HardwareProfile,
    *,
    trials: Sequence[float] | np.ndarray = DEFAULT_TRIALS,
    limits: Sequence[float] | np.ndarray = DEFAULT_LIMITS,
    block_size: float = DEFAULT_BLOCK_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
) -> Grid:
    """Accuracy and cost of every (setting, N, L): one accuracy query and one cost evaluation
    per setting. Configurations the source gives no accuracy for (NaN, e.g. more trials than
    were sampled) are left out.

    Every term of the law is f(L) + N g(L) (engine SplitCost), so each setting's costs are
    averaged over its (limit x length point) distribution first and only then combined with the
    trial counts: the same mean as costing every length at every N, at a fraction of the work.
    """
    n = np.asarray(sorted(set(float(t) for t in trials)), dtype=float)
    lim = np.asarray(sorted(set(float(x) for x in limits)), dtype=float)
    if n.size == 0 or lim.size == 0:
        raise InputError("the grid needs at least one trial count and one generation limit")
    if np.any(n < 1) or np.any(n != np.round(n)):
        raise InputError("trial counts must be whole numbers >= 1")
    if np.any(lim <= 0):
        raise InputError("generation limits must be positive")
    check_positive("block size", block_size)
    s = np.asarray(float(block_size))
    shape = (n.size, lim.size)
    trials_axis = n[:, None]
    tt, ll = np.broadcast_to(trials_axis, shape), np.broadcast_to(lim, shape)
    # Card figures once per model, not once per setting.
    shapes = {m: CostShape.of(cards[m]) for m in dict.fromkeys(s.model for s in settings)}
    # Filled setting by setting, trimmed at the end: no second copy of the grid.
    capacity = len(settings) * n.size * lim.size
    out = {name: np.empty(capacity) for name in _COST_ARRAYS}
    setting_index = np.empty(capacity, dtype=int)
    filled = 0
    for k, setting in enumerate(settings):
        outcome = source.outcome(setting, n, lim)
        accuracy = np.asarray(outcome.accuracy, dtype=float)
        if accuracy.shape != shape:
            raise InputError(
                f"accuracy data for {setting.label} has shape {accuracy.shape}, expected {shape}"
            )
        weights = np.asarray(outcome.gen_weights, dtype=float)
        # Per-point prompt lengths where the source has them (evaluations), else the mean prompt.
        prompt = getattr(outcome, "point_prompt_lens", None)
        try:
            lengths = check_nonnegative("generated lengths", outcome.gen_lengths)
            prompt_len = check_nonnegative(
                "prompt lengths", outcome.prompt_len if prompt is None else prompt
            )
            budget = None
            if setting.attention != "dense":
                budget = check_positive(
                    "KV budget", np.nan if setting.kv_budget is None else setting.kv_budget
                )
        except InputError as exc:
            raise InputError(f"{setting.label}: {exc}") from None
        split = split_cost(shapes[setting.model], prompt_len, lengths, setting.attention, budget, s)
        cost = split.mean(weights).at(trials_axis)  # (trials, limits)
        compute_seconds, memory_seconds = cost.split_seconds(hardware)
        values = {
            "trials": tt,
            "gen_len": ll,
            "accuracy": np.clip(accuracy, 0.0, 1.0),
            "compute_flops": cost.compute_flops,
            "memory_bytes": cost.memory_bytes,
            "seconds": compute_seconds + memory_seconds,
            "compute_seconds": compute_seconds,
        }
        keep = np.isfinite(accuracy)
        count = int(keep.sum())
        part = slice(filled, filled + count)
        setting_index[part] = k
        for name, value in values.items():
            full = np.broadcast_to(value, shape)
            out[name][part] = full.ravel() if count == keep.size else full[keep]
        filled += count
        if on_progress is not None:
            on_progress(k + 1, len(settings))
    return Grid(
        settings=tuple(settings),
        params=tuple(shapes[s.model].params for s in settings),
        setting=setting_index[:filled],
        **{name: array[:filled] for name, array in out.items()},
    )


_COST_ARRAYS = (
    "trials",
    "gen_len",
    "accuracy",
    "compute_flops",
    "memory_bytes",
    "seconds",
    "compute_seconds",
)
