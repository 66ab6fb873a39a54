"""Allocation of test-time compute across problems: uniform, per-problem oracle, adaptive.

* ``uniform`` (what ``plan`` answers): one configuration for every problem; its cost is the mean
  over problems.
* ``oracle-per-problem`` (the paper's frontier, cost_model/best_of_N/frontier_numTrials.ipynb of
  github.com/Infini-AI-Lab/Kinetics): at a cost level c every problem takes its best coverage
  among the configurations whose cost *for that problem* is at most c (0 when none is), and the
  accuracies are averaged over problems. The notebook does this per model and attention kind,
  then takes the best model at each c. It knows each problem's coverage in advance: an oracle.
* ``long-first`` (deployable, adaptive): sample one trial with a generation cap tau; when it
  finishes within tau its answer is returned, otherwise N fresh trials at limit L are sampled and
  majority-voted. It uses only what is observable while generating (the first trial's length).

The gap between the oracle and the best uniform configuration is the headroom of adaptive
allocation. Per-problem data comes from per-trial evaluations or from the paper's per-problem
AIME24 table (load_paper_per_problem; the file the measured source ships, accuracy/data/).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kinetics_cli.accuracy.base import AttentionName, Setting
from kinetics_cli.engine.kinetics import DEFAULT_BLOCK_SIZE
from kinetics_cli.errors import InputError

if TYPE_CHECKING:
    from kinetics_cli.accuracy.evals import Trial
    from kinetics_cli.accuracy.priors import PriorSource
    from kinetics_cli.accuracy.selection import AnswerModel
    from kinetics_cli.engine.kinetics import ProblemCost
    from kinetics_cli.planner.plan import Pricing
    from kinetics_cli.specs import HardwareProfile, ModelCard

ALLOCATIONS = ("uniform", "oracle-per-problem")
PAPER_PER_PROBLEM_SOURCE = (
    "Kinetics paper per-problem AIME24 results (github.com/Infini-AI-Lab/Kinetics@e7765597 "
    "cost_model/aime24/*/*_tradeoff.csv; Qwen3 0.6B-32B, 30 problems, 8-32 samples each)"
)
PAPER_TASK = "aime24"
PAPER_PROMPT_TOKENS = 160.0  # mean prompt tokens, as the bundled aime24 priors (prompt_tokens)


def _weighted_sum(a: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.asarray(np.sum(a * weights, axis=-1))


def _inf_where(a: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, np.inf, a)


def _average_rows(a: np.ndarray, shape: tuple[int, ...], matrix: np.ndarray) -> np.ndarray:
    return np.asarray(np.broadcast_to(a, shape) @ matrix)


def _masked(a: np.ndarray, mask: np.ndarray, scale: float = 1.0) -> np.ndarray:
    return np.asarray(a[mask] / scale)


def check_allocation(name: str) -> str:
    if name not in ALLOCATIONS:
        raise InputError(f"unknown allocation {name!r}; choose {' or '.join(ALLOCATIONS)}")
    return name


# ------------------------------------------------------------------------------ costs


@dataclass(frozen=True)
class Costs:
    """Cost terms per configuration (and per problem): what `plan.costs` turns into a unit."""

    compute_flops: np.ndarray
    memory_bytes: np.ndarray
    seconds: np.ndarray
    compute_seconds: np.ndarray

    @classmethod
    def of(cls, cost: ProblemCost, hardware: HardwareProfile) -> Costs:
        from dataclasses import replace

        memoryless = replace(
            cost, kv_bytes=np.zeros_like(cost.kv_bytes), search_bytes=np.zeros_like(cost.kv_bytes)
        )
        return cls(
            np.asarray(cost.compute_flops, dtype=float),
            np.asarray(cost.memory_bytes, dtype=float),
            np.asarray(cost.seconds(hardware), dtype=float),
            np.asarray(memoryless.seconds(hardware), dtype=float),
        )

    def map(self, fn: Callable[[np.ndarray], np.ndarray]) -> Costs:
        return Costs(*(fn(getattr(self, f.name)) for f in fields(self)))

    def combine(self, other: Costs, fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Costs:
        return Costs(*(fn(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)))

    def in_unit(self, law: str, unit: str, pricing: Pricing) -> np.ndarray:
        """Cost under `law` in `unit` (eflops, seconds or usd), as plan.costs prices a grid."""
        from kinetics_cli.engine.kinetics import law_intensity

        if unit == "eflops":
            return self.compute_flops + law_intensity(law, pricing.intensity) * self.memory_bytes
        seconds = self.seconds if law == "kinetics" else self.compute_seconds
        if unit == "seconds":
            return seconds
        rate = pricing.usd_per_second
        if rate is None:
            raise InputError(f"hardware profile {pricing.hardware!r} has no price_per_gpu_hour")
        return seconds * rate


# ------------------------------------------------------------------------------ per-problem data


@dataclass(frozen=True)
class ProblemSamples:
    """One problem of one setting, as the paper's per-problem table has it: n samples, c right,
    every sample's generated length (which samples were right is not known)."""

    setting: Setting
    problem: str
    n: int
    correct: int
    gen_lengths: tuple[float, ...]


def load_paper_per_problem(
    path: Path | None = None, resolve_model: Callable[[str], str] | None = None
) -> list[ProblemSamples]:
    """Rows of the paper's per-problem table (columns model, attention, kv_budget, problem,
    n_samples, n_correct, gen_lengths with ';' between lengths). The bundled copy by default;
    the loader is the only place that knows the file, so another per-problem source can
    replace it."""
    if path is None:
        from kinetics_cli.accuracy.measured import MEASURED_FILE  # the one bundled copy

        path = MEASURED_FILE
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    out: list[ProblemSamples] = []
    with handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                attention: AttentionName = row["attention"]  # type: ignore[assignment]
                budget = None if attention == "dense" else float(row["kv_budget"])
                model = row["model"] if resolve_model is None else resolve_model(row["model"])
                lengths = tuple(float(x) for x in row["gen_lengths"].split(";"))
                n = int(row["n_samples"])
                c = int(row["n_correct"])
            except (KeyError, ValueError) as exc:
                raise InputError(f"{path}:{line}: unreadable per-problem row ({exc})") from None
            if len(lengths) != n or not 0 <= c <= n:
                raise InputError(f"{path}:{line}: {n} samples but {len(lengths)} lengths")
            out.append(
                ProblemSamples(Setting(model, attention, budget), row["problem"], n, c, lengths)
            )
    if not out:
        raise InputError(f"{path}: no per-problem rows")
    return out


@dataclass(frozen=True)
class PerProblemGrid:
    """Accuracy and cost of every configuration on every problem: arrays (K configurations,
    P problems); NaN accuracy where a configuration cannot be estimated for a problem."""

    settings: tuple[Setting, ...]
    problems: tuple[str, ...]
    setting: np.ndarray  # (K,) index into settings
    trials: np.ndarray  # (K,)
    gen_len: np.ndarray  # (K,) limit; inf where the data's own cap applies
    accuracy: np.ndarray  # (K, P)
    costs: Costs  # each (K, P)
    source: str

    def __len__(self) -> int:
        return int(self.setting.size)

    def group_labels(self) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """An integer label per configuration for its (model, attention kind), and the keys."""
        keys = list(dict.fromkeys((s.model, str(s.attention)) for s in self.settings))
        index = {k: i for i, k in enumerate(keys)}
        per = np.array([index[(s.model, s.attention)] for s in self.settings], dtype=int)
        return per[self.setting], keys

    def describe(self, k: int) -> dict[str, Any]:
        s = self.settings[int(self.setting[k])]
        limit = float(self.gen_len[k])
        return {
            "model": s.model,
            "attention": s.attention,
            "kv_budget": None if s.kv_budget is None else float(s.kv_budget),
            "trials": int(self.trials[k]),
            "gen_len": None if not np.isfinite(limit) else int(limit),
        }


def _shapes(cards: Mapping[str, ModelCard], settings: Sequence[Setting]) -> dict[str, Any]:
    from kinetics_cli.engine.kinetics import CostShape

    return {s.model: CostShape.of(cards[s.model]) for s in settings}


def per_problem_from_counts(
    records: Sequence[ProblemSamples],
    cards: Mapping[str, ModelCard],
    hardware: HardwareProfile,
    trials: Sequence[float],
    *,
    prompt_tokens: float = PAPER_PROMPT_TOKENS,
    source: str = PAPER_PER_PROBLEM_SOURCE,
    block_size: float = DEFAULT_BLOCK_SIZE,
) -> PerProblemGrid:
    """Per-problem grid from count records (the paper's table): coverage pass@N per problem, and
    per problem the mean over its samples of the cost of N trials of that sample's length (the
    paper's expected_cost). Settings whose model has no card are left out."""
    from kinetics_cli.accuracy.passk import pass_at_k
    from kinetics_cli.engine.kinetics import problem_cost

    by_setting: dict[Setting, dict[str, ProblemSamples]] = {}
    for r in records:
        if r.setting.model in cards:
            by_setting.setdefault(r.setting, {})[r.problem] = r
    if not by_setting:
        raise InputError("no per-problem record has a model card in the catalog")
    problems = tuple(dict.fromkeys(p for rows in by_setting.values() for p in rows))
    n_trials = np.asarray(sorted(set(float(t) for t in trials)), dtype=float)
    settings = tuple(by_setting)
    shapes = _shapes(cards, settings)
    acc_parts, cost_parts, setting_idx, trial_parts = [], [], [], []
    for k, setting in enumerate(settings):
        rows = by_setting[setting]
        width = max(r.n for r in rows.values())
        lengths = np.full((len(problems), width), np.nan)
        n = np.zeros(len(problems))
        c = np.zeros(len(problems))
        for i, p in enumerate(problems):
            if p in rows:
                r = rows[p]
                lengths[i, : r.n] = r.gen_lengths
                n[i], c[i] = r.n, r.correct
        have = n > 0
        weights = np.where(np.isfinite(lengths), 1.0, 0.0)
        weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
        cost = problem_cost(
            shapes[setting.model],
            prompt_tokens,
            np.nan_to_num(lengths)[None, :, :],
            n_trials[:, None, None],
            setting.attention,
            None if setting.attention == "dense" else setting.kv_budget,
            block_size,
        )
        terms = Costs.of(cost, hardware).map(partial(_weighted_sum, weights=weights[None]))
        acc = np.full((n_trials.size, len(problems)), np.nan)
        acc[:, have] = pass_at_k(n[have][None, :], c[have][None, :], n_trials[:, None])
        terms = terms.map(partial(_inf_where, mask=np.isnan(acc)))
        acc_parts.append(acc)
        cost_parts.append(terms)
        setting_idx.append(np.full(n_trials.size, k))
        trial_parts.append(n_trials)
    costs = Costs(
        *(np.concatenate([getattr(c, f.name) for c in cost_parts]) for f in fields(Costs))
    )
    return PerProblemGrid(
        settings=settings,
        problems=problems,
        setting=np.concatenate(setting_idx),
        trials=np.concatenate(trial_parts),
        gen_len=np.full(sum(len(t) for t in trial_parts), np.inf),
        accuracy=np.concatenate(acc_parts),
        costs=costs,
        source=source,
    )


def per_problem_from_trials(
    trials_by_setting: Mapping[Setting, Sequence[Trial]],
    cards: Mapping[str, ModelCard],
    hardware: HardwareProfile,
    trials: Sequence[float],
    limits: Sequence[float],
    *,
    source: str,
    block_size: float = DEFAULT_BLOCK_SIZE,
) -> PerProblemGrid:
    """Per-problem grid from per-trial evaluation rows: coverage pass@N of the trials right and
    finished within L, and the mean over the problem's trials of the cost of N trials of
    min(gen, L) tokens after that trial's prompt. NaN at a limit above the setting's own
    generation cap (evals.gen_cap): a trial cut there might have been right with more room."""
    from kinetics_cli.accuracy.evals import gen_cap
    from kinetics_cli.accuracy.passk import pass_at_k
    from kinetics_cli.engine.kinetics import problem_cost

    settings = tuple(s for s in trials_by_setting if s.model in cards)
    if not settings:
        raise InputError("no evaluated setting has a model card in the catalog")
    problems = tuple(dict.fromkeys(t.problem for s in settings for t in trials_by_setting[s]))
    index = {p: i for i, p in enumerate(problems)}
    n_trials = np.asarray(sorted(set(float(t) for t in trials)), dtype=float)
    lim = np.asarray(sorted(set(float(x) for x in limits)), dtype=float)
    tt, ll = np.meshgrid(n_trials, lim, indexing="ij")
    shapes = _shapes(cards, settings)
    acc_parts, cost_parts, setting_idx = [], [], []
    for k, setting in enumerate(settings):
        rows = trials_by_setting[setting]
        prob = np.array([index[t.problem] for t in rows])
        gen = np.array([t.gen_tokens for t in rows], dtype=float)
        prompt = np.array([t.prompt_tokens for t in rows], dtype=float)
        ok = np.array([t.correct for t in rows], dtype=bool)
        n = np.bincount(prob, minlength=len(problems)).astype(float)
        have = n > 0
        right = ok[None, :] & (gen[None, :] <= lim[:, None])  # (G, R)
        c = np.stack([np.bincount(prob, weights=r, minlength=len(problems)) for r in right])
        acc = np.full((n_trials.size, lim.size, len(problems)), np.nan)
        acc[:, :, have] = pass_at_k(n[None, None, have], c[None, :, have], n_trials[:, None, None])
        cap = gen_cap(rows)
        if cap is not None:
            acc[:, lim > cap, :] = np.nan
        cost = problem_cost(
            shapes[setting.model],
            prompt[None, None, :],
            np.minimum(gen[None, None, :], lim[None, :, None]),
            n_trials[:, None, None],
            setting.attention,
            None if setting.attention == "dense" else setting.kv_budget,
            block_size,
        )
        # mean over each problem's trials: a (R, P) averaging matrix
        avg = np.zeros((gen.size, len(problems)))
        avg[np.arange(gen.size), prob] = 1.0 / n[prob]
        terms = Costs.of(cost, hardware).map(
            partial(_average_rows, shape=(*tt.shape, gen.size), matrix=avg)
        )
        terms = terms.map(partial(_inf_where, mask=np.isnan(acc)))
        acc_parts.append(acc.reshape(-1, len(problems)))
        cost_parts.append(terms.map(partial(np.reshape, shape=(-1, len(problems)))))
        setting_idx.append(np.full(tt.size, k))
    costs = Costs(
        *(np.concatenate([getattr(c, f.name) for c in cost_parts]) for f in fields(Costs))
    )
    return PerProblemGrid(
        settings=settings,
        problems=problems,
        setting=np.concatenate(setting_idx),
        trials=np.tile(tt.ravel(), len(settings)),
        gen_len=np.tile(ll.ravel(), len(settings)),
        accuracy=np.concatenate(acc_parts),
        costs=costs,
        source=source,
    )


# ------------------------------------------------------------------------------ allocations


def oracle_per_problem(
    accuracy: np.ndarray, cost: np.ndarray, levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(accuracy, mean cost) at each cost level c: every problem takes its most accurate
    configuration among those costing it at most c (the cheapest such when several tie), or
    nothing (accuracy 0, cost 0) when none fits or none solves it; both averaged over problems.

    accuracy, cost: (K configurations, P problems); NaN accuracy never fits.
    """
    acc = np.asarray(accuracy, dtype=float)
    c = np.where(np.isnan(acc), np.inf, np.asarray(cost, dtype=float))
    acc = np.nan_to_num(acc, nan=-np.inf)
    lv = np.atleast_1d(np.asarray(levels, dtype=float))
    k, p = acc.shape
    order = np.lexsort((-acc, c), axis=0)  # per problem: by cost, then most accurate first
    cs = np.take_along_axis(c, order, axis=0)
    ac = np.take_along_axis(acc, order, axis=0)
    run = np.maximum.accumulate(np.maximum(ac, 0.0), axis=0)
    # spending nothing is accuracy 0 at cost 0: a configuration is worth taking only above that
    prev = np.vstack([np.zeros((1, p)), run[:-1]])
    record = np.where(ac > prev, np.arange(k)[:, None], -1)
    first = np.maximum.accumulate(record, axis=0)  # position of the cheapest record so far
    best_acc = np.zeros((lv.size, p))
    best_cost = np.zeros((lv.size, p))
    for j in range(p):
        pos = np.searchsorted(cs[:, j], lv, side="right") - 1
        idx = np.clip(pos, 0, k - 1)
        chosen = np.where(pos >= 0, first[idx, j], -1)
        best_acc[:, j] = np.where(pos >= 0, run[idx, j], 0.0)
        best_cost[:, j] = np.where(chosen >= 0, cs[np.maximum(chosen, 0), j], 0.0)
    return best_acc.mean(axis=1), best_cost.mean(axis=1)


def paper_oracle(
    accuracy: np.ndarray, cost: np.ndarray, groups: np.ndarray, levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The notebook's frontier: the per-problem oracle within each group (model and attention
    kind), then at each level the group with the highest accuracy, the cheapest (lowest mean
    cost) of the groups that tie on it. Returns (accuracy, mean cost, group) per level (no
    smoothing; the notebook draws a 3-point moving average)."""
    labels = np.unique(groups)
    per = [oracle_per_problem(accuracy[groups == g], cost[groups == g], levels) for g in labels]
    accs = np.stack([a for a, _ in per])
    means = np.stack([m for _, m in per])
    # accuracies are means of pass@N fractions: equal ones may differ in the last bits
    tied = accs >= accs.max(axis=0, keepdims=True) - 1e-12
    best = np.argmin(np.where(tied, means, np.inf), axis=0)
    cols = np.arange(accs.shape[1])
    return accs[best, cols], means[best, cols], labels[best]


def uniform_best(
    accuracy: np.ndarray, cost: np.ndarray, levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One configuration for all problems: at each level the most accurate configuration whose
    mean cost over problems is at most the level. Returns (accuracy, mean cost, index; -1
    where nothing fits)."""
    from kinetics_cli.planner.pareto import best_within

    acc = np.asarray(accuracy, dtype=float).mean(axis=1)
    mean_cost = np.where(np.isfinite(acc), np.asarray(cost, dtype=float).mean(axis=1), np.inf)
    lv = np.atleast_1d(np.asarray(levels, dtype=float))
    out_a, out_c, out_i = np.zeros(lv.size), np.zeros(lv.size), np.full(lv.size, -1)
    for j, level in enumerate(lv):
        i = best_within(mean_cost, acc, float(level))
        if i is not None:
            out_a[j], out_c[j], out_i[j] = acc[i], mean_cost[i], i
    return out_a, out_c, out_i


def oracle_at_mean_cost(
    accuracy: np.ndarray, cost: np.ndarray, budget: float, groups: np.ndarray | None = None
) -> tuple[float, float, float]:
    """The per-problem oracle held to a *mean* cost: the highest cap c whose allocation's mean
    cost is at most `budget`. Returns (accuracy, mean cost, cap)."""
    c = np.asarray(cost, dtype=float)
    finite = c[np.isfinite(c)]
    caps = np.unique(finite[finite <= budget * c.shape[1]])  # mean <= budget bounds every cap
    if caps.size == 0:
        return 0.0, 0.0, 0.0
    if groups is None:
        acc, mean = oracle_per_problem(accuracy, cost, caps)
    else:
        acc, mean, _ = paper_oracle(accuracy, cost, groups, caps)
    ok = np.flatnonzero(mean <= budget * (1 + 1e-12))
    if ok.size == 0:
        return 0.0, 0.0, 0.0
    i = ok[np.argmax(acc[ok])]
    return float(acc[i]), float(mean[i]), float(caps[i])


# ------------------------------------------------------------------------------ adaptive rule


@dataclass(frozen=True)
class AdaptiveGrid:
    """The long-first rule on a (trials N x limits L x first caps tau) grid of each setting,
    flattened: accuracy and expected cost (mean over problems) per configuration."""

    settings: tuple[Setting, ...]
    setting: np.ndarray
    trials: np.ndarray
    gen_len: np.ndarray
    first_cap: np.ndarray
    accuracy: np.ndarray
    samples: np.ndarray  # expected trials sampled per problem
    costs: Costs
    source: str

    def describe(self, k: int) -> dict[str, Any]:
        s = self.settings[int(self.setting[k])]
        return {
            "rule": "long-first",
            "model": s.model,
            "attention": s.attention,
            "kv_budget": None if s.kv_budget is None else float(s.kv_budget),
            "first_cap": int(self.first_cap[k]),
            "trials": int(self.trials[k]),
            "gen_len": int(self.gen_len[k]),
            "expected_samples": float(self.samples[k]),
        }


def _first_and_batch(
    shape: Any,
    setting: Setting,
    prompt: np.ndarray,
    lengths: np.ndarray,
    caps: np.ndarray,
    limits: np.ndarray,
    n_trials: np.ndarray,
    hardware: HardwareProfile,
    block_size: float,
) -> tuple[Costs, Costs]:
    """Cost of one trial capped at each tau (C, *L) and of N trials capped at each limit
    (T, G, *L), for every length in `lengths` (any trailing shape)."""
    from kinetics_cli.engine.kinetics import problem_cost

    budget = None if setting.attention == "dense" else setting.kv_budget
    ext = (slice(None),) + (None,) * lengths.ndim
    batch_index = (None, *ext)
    first = problem_cost(
        shape,
        prompt,
        np.minimum(lengths[None], caps[ext]),
        1.0,
        setting.attention,
        budget,
        block_size,
    )
    batch = problem_cost(
        shape,
        prompt,
        np.minimum(lengths[None, None], limits[batch_index]),
        n_trials[(slice(None), None) + (None,) * lengths.ndim],
        setting.attention,
        budget,
        block_size,
    )
    return Costs.of(first, hardware), Costs.of(batch, hardware)


def _flatten(
    settings: list[Setting],
    parts: list[dict[str, np.ndarray]],
    cost_parts: list[Costs],
    source: str,
) -> AdaptiveGrid:
    keys = ("setting", "trials", "gen_len", "first_cap", "accuracy", "samples")
    arrays = {k: np.concatenate([p[k] for p in parts]) for k in keys}
    costs = Costs(
        *(np.concatenate([getattr(c, f.name) for c in cost_parts]) for f in fields(Costs))
    )
    return AdaptiveGrid(settings=tuple(settings), costs=costs, source=source, **arrays)


def _keep(n_trials: np.ndarray, limits: np.ndarray, caps: np.ndarray) -> tuple[np.ndarray, ...]:
    """(T, G, C) index grids and the mask tau < L (a first cap at L would be plain long-CoT)."""
    t, g, c = np.meshgrid(n_trials, limits, caps, indexing="ij")
    return t, g, c, c < g


def _part(
    setting: int,
    keep: np.ndarray,
    grids: tuple[np.ndarray, np.ndarray, np.ndarray],
    accuracy: np.ndarray,
    samples: np.ndarray,
) -> dict[str, np.ndarray]:
    """One setting's kept (trials, limit, first cap) points as columns of an adaptive grid."""
    t_grid, g_grid, c_grid = grids
    return {
        "setting": np.full(int(keep.sum()), setting),
        "trials": t_grid[keep],
        "gen_len": g_grid[keep],
        "first_cap": c_grid[keep],
        "accuracy": accuracy[keep],
        "samples": samples[keep],
    }


def long_first_from_trials(
    trials_by_setting: Mapping[Setting, Sequence[Trial]],
    cards: Mapping[str, ModelCard],
    hardware: HardwareProfile,
    trials: Sequence[float],
    limits: Sequence[float],
    caps: Sequence[float],
    *,
    source: str,
    block_size: float = DEFAULT_BLOCK_SIZE,
) -> AdaptiveGrid:
    """The long-first rule evaluated exactly on per-trial rows (which carry length, correctness
    and the final answer). Per problem, the first trial i is any of its n with chance 1/n: when
    it finishes within tau its answer counts; otherwise N fresh trials come from the other n - 1
    (majority vote, exact), costing the mean over j != i of N trials of min(gen_j, L) tokens.
    Limits above a setting's own generation cap (evals.gen_cap) are left out."""
    from kinetics_cli.accuracy.evals import gen_cap
    from kinetics_cli.accuracy.selection import (
        AnswerCounts,
        answer_census,
        check_vote_answers,
        majority_accuracy_without,
    )

    n_trials = np.asarray(sorted(set(float(t) for t in trials if t >= 2)), dtype=float)
    lim = np.asarray(sorted(set(float(x) for x in limits)), dtype=float)
    cap = np.asarray(sorted(set(float(x) for x in caps)), dtype=float)
    if n_trials.size == 0:
        raise InputError("the long-first rule needs trial counts of 2 or more")
    t_grid, g_grid, c_grid, keep = _keep(n_trials, lim, cap)
    from kinetics_cli.engine.kinetics import CostShape

    parts: list[dict[str, np.ndarray]] = []
    cost_parts: list[Costs] = []
    settings: list[Setting] = []
    for setting, rows in trials_by_setting.items():
        if setting.model not in cards:
            continue
        if answer_census(rows).answered == 0:
            continue  # no final answers: majority vote cannot be counted
        check_vote_answers(rows, "the long-first rule", setting.label)  # some rows lack them
        by_problem: dict[str, list[Trial]] = {}
        for r in rows:
            by_problem.setdefault(r.problem, []).append(r)
        if min(len(v) for v in by_problem.values()) < 2:
            continue
        shape = CostShape.of(cards[setting.model])
        acc = np.zeros(t_grid.shape)
        samples = np.zeros(t_grid.shape)
        total: Costs | None = None
        for group in by_problem.values():
            n = len(group)
            gen = np.array([float(r.gen_tokens) for r in group])
            prompt = np.array([float(r.prompt_tokens) for r in group])
            ok = [bool(r.correct) for r in group]
            answers = [r.answer for r in group]
            first, batch = _first_and_batch(
                shape, setting, prompt, gen, cap, lim, n_trials, hardware, block_size
            )
            short = gen[None, :] <= cap[:, None]  # (C, n)
            right_first = (short & np.array(ok)[None, :]).mean(axis=1)  # (C,)
            # majority over N fresh trials from the others, per limit and per first trial
            maj = np.zeros((n_trials.size, lim.size, n))
            for g, limit in enumerate(lim):
                finished = list(gen <= limit)
                counts = AnswerCounts.of(answers, ok, finished)
                labels = _class_labels(answers, ok, finished)
                cache: dict[str, np.ndarray] = {}
                for i, label in enumerate(labels):
                    if label not in cache:
                        cache[label] = majority_accuracy_without(counts, label, n_trials)
                    maj[:, g, i] = cache[label]
            long_i = (~short).astype(float)  # (C, n)
            acc += right_first[None, None, :] + np.einsum("tgi,ci->tgc", maj, long_i) / n
            samples += 1.0 + n_trials[:, None, None] * long_i.mean(axis=1)[None, None, :]

            def expected(
                f: np.ndarray, b: np.ndarray, long_i: np.ndarray = long_i, n: int = n
            ) -> np.ndarray:
                # E over first i: f[c, i] + long[c, i] * mean_{j != i} b[t, g, j]
                others = (b.sum(axis=-1, keepdims=True) - b) / (n - 1)  # (T, G, n)
                return f.mean(axis=1)[None, None, :] + np.einsum("tgi,ci->tgc", others, long_i) / n

            term = first.combine(batch, expected)
            total = term if total is None else total.combine(term, np.add)
        if total is None:
            continue
        p = len(by_problem)
        k = len(settings)
        settings.append(setting)
        run_cap = gen_cap(rows)  # the run's own cap (`cap` above: the first trial's)
        kept = keep if run_cap is None else keep & (g_grid <= run_cap)
        parts.append(_part(k, kept, (t_grid, g_grid, c_grid), acc / p, samples / p))
        cost_parts.append(total.map(partial(_masked, mask=kept, scale=float(p))))
    if not settings:
        raise InputError(
            "the long-first rule needs evaluation rows with a final 'answer' and at least two "
            "trials per problem"
        )
    return _flatten(settings, parts, cost_parts, source)


def _class_labels(
    answers: Sequence[str | None], correct: Sequence[bool], finished: Sequence[bool]
) -> list[str]:
    """Each sample's class as selection.majority_accuracy_without names it."""
    votes: dict[str, int] = {}
    for a, ok, fin in zip(answers, correct, finished, strict=True):
        text = "" if a is None else str(a).strip()
        if fin and not ok and text:
            votes[text] = votes.get(text, 0) + 1
    ranked = sorted(votes, key=lambda v: -votes[v])  # AnswerCounts sorts counts the same way
    position = {v: i for i, v in enumerate(ranked)}
    out = []
    for a, ok, fin in zip(answers, correct, finished, strict=True):
        text = "" if a is None else str(a).strip()
        if not fin or (not ok and not text):
            out.append("abstain")
        elif ok:
            out.append("correct")
        else:
            out.append(f"wrong:{position[text]}")
    return out


ADAPTIVE_BETA_NODES = 16  # nodes over p (x 4 over u) for the long-first rule under priors
ADAPTIVE_LENGTH_NODES = 6  # Gauss-Hermite points per lognormal length component


def long_first_from_prior(
    source: PriorSource,
    settings: Sequence[Setting],
    cards: Mapping[str, ModelCard],
    hardware: HardwareProfile,
    trials: Sequence[float],
    limits: Sequence[float],
    caps: Sequence[float],
    *,
    model: AnswerModel | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
) -> AdaptiveGrid:
    """The long-first rule under a bundled prior's joint model of length and correctness: per
    (p, u) node the first trial is right-and-within-tau with r p F_c(tau), finished within tau
    with that plus (1 - r p) F_w(tau); the N fresh trials vote as in selection (iid). Costs are
    per node (the node's own lognormal lengths), so long first answers bring long batches."""
    from kinetics_cli.accuracy.passk import normal_cdf, normal_nodes
    from kinetics_cli.accuracy.priors import (
        keep_share,
        runaway_scales,
        shift_scales,
        shifted,
        solve_nodes,
    )
    from kinetics_cli.accuracy.selection import load_answer_model, majority_accuracy_iid
    from kinetics_cli.engine.kinetics import CostShape

    answer_model = load_answer_model() if model is None else model
    n_trials = np.asarray(sorted(set(float(t) for t in trials if t >= 2)), dtype=float)
    lim = np.asarray(sorted(set(float(x) for x in limits)), dtype=float)
    cap = np.asarray(sorted(set(float(x) for x in caps)), dtype=float)
    if n_trials.size == 0:
        raise InputError("the long-first rule needs trial counts of 2 or more")
    t_grid, g_grid, c_grid, keep = _keep(n_trials, lim, cap)
    zl, wl = normal_nodes(ADAPTIVE_LENGTH_NODES)
    parts: list[dict[str, np.ndarray]] = []
    cost_parts: list[Costs] = []
    kept: list[Setting] = []
    for setting in settings:
        if setting.model not in cards:
            continue
        prior = source.prior(setting.model)
        r, log_shift = source.profile.sparse.factors(
            setting.attention, setting.kv_budget, prior.params
        )
        p, wp = solve_nodes(prior, ADAPTIVE_BETA_NODES)  # weights sum to 1 - never-solved share
        zu, wu = normal_nodes(4)
        lp = prior.length
        pp = np.repeat(p, zu.size)
        weight = np.outer(wp, wu).ravel()  # (J,)
        mu_c = (
            lp.log_correct + lp.difficulty_slope * (1.0 - pp) + np.tile(zu, p.size) * lp.problem_sd
        )
        mu_c = mu_c + log_shift
        mu_w = mu_c + lp.wrong_shift
        sd = lp.trial_sd
        shift = source.profile.sparse.logit_shift(setting.attention, setting.kv_budget)
        hazard = source.profile.sparse.runaway_hazard(
            setting.attention, setting.kv_budget, prior.params
        )
        finish = np.exp(-hazard * np.repeat(runaway_scales(prior, p.size), zu.size))
        success = r * finish * shifted(pp, shift * np.repeat(shift_scales(prior, p.size), zu.size))
        # problems without a chance (never solved, or left unsolvable by sparse attention;
        # priors.keep_share): one more node with wrong answers only, at p = 0

        sparse = source.profile.sparse
        solvable = sparse.keep(setting.attention, setting.kv_budget, prior.params)
        weight = weight * keep_share(solvable, sparse.keep_slope, pp)
        weight = np.append(weight, max(0.0, 1.0 - float(weight.sum())))
        lost_mu = lp.log_correct + lp.difficulty_slope + log_shift
        mu_c = np.append(mu_c, lost_mu)
        mu_w = np.append(mu_w, lost_mu + lp.wrong_shift)
        success = np.append(success, 0.0)
        finish = np.append(finish, 1.0)

        lc, ll = np.log(cap)[:, None], np.log(lim)[:, None]
        right_c = success[None, :] * normal_cdf((lc - mu_c[None, :]) / sd)  # (C, J)
        # trials that run away (1 - finish) never finish: wrong and at the cap
        wrong_c = (finish - success)[None, :] * normal_cdf((lc - mu_w[None, :]) / sd)
        right_l = success[None, :] * normal_cdf((ll - mu_c[None, :]) / sd)  # (G, J)
        wrong_l = (finish - success)[None, :] * normal_cdf((ll - mu_w[None, :]) / sd)
        maj = majority_accuracy_iid(
            right_l, wrong_l, answer_model, tuple(int(t) for t in n_trials)
        )  # (T, G, J)
        long_c = 1.0 - right_c - wrong_c  # (C, J)
        acc = np.einsum("cj,j->c", right_c, weight)[None, None, :] + np.einsum(
            "tgj,cj,j->tgc", maj, long_c, weight
        )
        samples = np.broadcast_to(
            1.0 + n_trials[:, None, None] * (long_c @ weight)[None, None, :], t_grid.shape
        )
        # lengths per node: correct and wrong lognormal components at Gauss-Hermite points
        # and trials that run away, which every cap and limit cuts (length 2^40 tokens)
        runaway_mu = np.full_like(mu_c, 40.0 * np.log(2.0))
        lengths = np.exp(
            np.stack([mu_c, mu_w, runaway_mu], axis=1)[:, :, None] + sd * zl[None, None, :]
        )  # (J, 3, Q)
        mix = (
            np.stack([success, finish - success, 1.0 - finish], axis=1)[:, :, None]
            * wl[None, None, :]
        )
        first, batch = _first_and_batch(
            CostShape.of(cards[setting.model]),
            setting,
            np.asarray(source.profile.prompt_tokens),
            lengths,
            cap,
            lim,
            n_trials,
            hardware,
            block_size,
        )

        def expected(
            f: np.ndarray,
            bt: np.ndarray,
            mix: np.ndarray = mix,
            long_c: np.ndarray = long_c,
            weight: np.ndarray = weight,
        ) -> np.ndarray:
            f_node = np.sum(f * mix[None], axis=(-2, -1))  # (C, J)
            b_node = np.sum(bt * mix[None, None], axis=(-2, -1))  # (T, G, J)
            return (f_node @ weight)[None, None, :] + np.einsum(
                "tgj,cj,j->tgc", b_node, long_c, weight
            )

        total = first.combine(batch, expected)
        k = len(kept)
        kept.append(setting)
        parts.append(_part(k, keep, (t_grid, g_grid, c_grid), acc, samples))
        cost_parts.append(total.map(partial(_masked, mask=keep)))
    if not kept:
        raise InputError("no setting with a model card for the long-first rule")
    return _flatten(
        kept, parts, cost_parts, f"{source.description}; answer model: {answer_model.source}"
    )


# ------------------------------------------------------------------------------ the report


@dataclass(frozen=True)
class Allocation:
    """Uniform against per-problem allocation on one per-problem data set, plus the deployable
    long-first rule, at a budget (and at cost levels for a frontier). Costs: Kinetics law, in
    `unit`. `None` fields say what could not be computed and `notes` why."""

    unit: str
    per_problem_source: str | None
    problems: int
    budget: float | None
    oracle_cap: tuple[float, float] | None  # (accuracy, mean cost) with every problem <= budget
    oracle_mean: tuple[float, float, float] | None  # (accuracy, mean cost, cap): mean <= budget
    uniform: tuple[float, float, dict[str, Any]] | None  # best single configuration, same data
    adaptive: tuple[float, float, dict[str, Any]] | None  # long-first within the budget
    adaptive_source: str | None
    levels: np.ndarray
    oracle_levels: np.ndarray  # oracle accuracy at each level (cap)
    oracle_level_cost: np.ndarray  # its mean cost
    uniform_levels: np.ndarray
    uniform_level_cost: np.ndarray  # its mean cost (the configuration's, at most the level)
    adaptive_levels: np.ndarray
    adaptive_level_cost: np.ndarray  # its expected cost
    notes: tuple[str, ...] = ()

    @property
    def headroom(self) -> tuple[float, float | None] | None:
        """Per-problem allocation over uniform at the budget, both on the same data: (accuracy
        points the oracle holding its mean cost to the budget gains over the best uniform
        configuration, uniform's cost / the oracle's mean cost where the oracle is at least as
        accurate, else None). None without both figures."""
        if self.oracle_mean is None or self.uniform is None:
            return None
        m_acc, m_cost, _ = self.oracle_mean
        u_acc, u_cost, _ = self.uniform
        ratio = u_cost / m_cost if m_acc >= u_acc and m_cost > 0 else None
        return m_acc - u_acc, ratio


def _per_problem(setup: Any) -> tuple[PerProblemGrid | None, str]:
    """The per-problem data for a setup: the user's trials, or the paper's AIME24 table."""
    grid = setup.grid
    trials = sorted(set(float(t) for t in grid.trials))
    limits = sorted(set(float(x) for x in grid.gen_len))
    wanted = set(grid.settings)
    if setup.source.kind == "evaluations":
        rows = {s: r for s, r in setup.source.trials_by_setting.items() if s in wanted}
        if not rows:
            return None, "no evaluated setting in the grid"
        pp = per_problem_from_trials(
            rows, setup.cards, setup.profile, trials, limits, source=setup.source.description
        )
        return pp, ""
    if setup.task.lower() != PAPER_TASK:
        return None, f"no per-problem data for {setup.task} (the paper's table covers aime24)"
    models = {s.model for s in grid.settings}
    records = [r for r in load_paper_per_problem() if r.setting.model in models]
    if not records:
        return None, "the paper's per-problem table covers none of the chosen models"
    cards = {m: setup.cards[m] for m in {r.setting.model for r in records}}
    paper_trials = [t for t in trials if t <= 32] or [1.0]
    return per_problem_from_counts(records, cards, setup.profile, paper_trials), ""


def _adaptive(setup: Any) -> tuple[AdaptiveGrid | None, str]:
    grid = setup.grid
    trials = sorted(set(float(t) for t in grid.trials if t >= 2))
    limits = sorted(set(float(x) for x in grid.gen_len))
    if not trials:
        return None, "the long-first rule needs Best-of-N trial counts (N >= 2) in the grid"
    from kinetics_cli.planner.grid import DEFAULT_LIMITS
    from kinetics_cli.planner.plan import ORACLE_ATTENTION

    # first-trial caps: the grid's limits and the default ones below the longest limit
    caps = sorted({*limits, *(float(x) for x in DEFAULT_LIMITS if x < max(limits))})
    settings = [s for s in grid.settings if s.attention != ORACLE_ATTENTION]
    if not settings:
        return None, "the long-first rule is deployable only without oracle top-k attention"
    try:
        if setup.source.kind == "evaluations":
            rows = {s: setup.source.trials_by_setting[s] for s in settings}
            out = long_first_from_trials(
                rows,
                setup.cards,
                setup.profile,
                trials,
                limits,
                caps,
                source=setup.source.description,
            )
        else:
            out = long_first_from_prior(
                setup.source, settings, setup.cards, setup.profile, trials, limits, caps
            )
    except InputError as exc:
        return None, str(exc)
    return out, ""


def allocation_report(
    setup: Any,
    *,
    budget: float | None = None,
    unit: str = "eflops",
    levels: np.ndarray | None = None,
) -> Allocation:
    """Compare allocations for a planner Setup at `budget` (in `unit`, Kinetics law) and at
    cost `levels`: the paper's per-problem oracle (per model and attention kind, the best at
    each cap), held to a cap and to a mean cost, against the best uniform configuration on
    the same per-problem data, and the long-first rule (deployable) on the setup's source."""
    from kinetics_cli.planner.pareto import best_within
    from kinetics_cli.planner.plan import accuracy_levels

    notes: list[str] = []
    lv = np.zeros(0) if levels is None else np.asarray(levels, dtype=float)
    pp, why = _per_problem(setup)
    empty = np.full(lv.size, np.nan)
    oracle_cap = oracle_mean = uniform = None
    o_levels, o_cost, u_levels, u_cost = empty, empty, empty, empty
    if pp is None:
        notes.append(f"per-problem allocation: {why}")
    else:
        cost = pp.costs.in_unit("kinetics", unit, setup.pricing)
        groups, _ = pp.group_labels()
        if budget is not None:
            a, m, _ = paper_oracle(pp.accuracy, cost, groups, np.array([budget]))
            oracle_cap = (float(a[0]), float(m[0]))
            oracle_mean = oracle_at_mean_cost(pp.accuracy, cost, budget, groups)
            ua, uc, ui = uniform_best(pp.accuracy, cost, np.array([budget]))
            if ui[0] >= 0:
                uniform = (float(ua[0]), float(uc[0]), pp.describe(int(ui[0])))
        if lv.size:
            o_levels, o_cost, _ = paper_oracle(pp.accuracy, cost, groups, lv)
            u_levels, u_cost, ui = uniform_best(pp.accuracy, cost, lv)
            u_levels = np.where(ui >= 0, u_levels, np.nan)
            u_cost = np.where(ui >= 0, u_cost, np.nan)
    adaptive_grid, why = _adaptive(setup)
    adaptive = None
    a_levels, a_level_cost = empty, empty
    if adaptive_grid is None:
        notes.append(f"long-first rule: {why}")
    else:
        a_cost = adaptive_grid.costs.in_unit("kinetics", unit, setup.pricing)
        score = accuracy_levels(adaptive_grid.accuracy)
        if budget is not None:
            i = best_within(a_cost, score, budget)
            if i is None:
                notes.append("long-first rule: no configuration of it fits the budget")
            else:
                adaptive = (
                    float(adaptive_grid.accuracy[i]),
                    float(a_cost[i]),
                    adaptive_grid.describe(i),
                )
        if lv.size:
            picks = [best_within(a_cost, score, float(c)) for c in lv]
            a_levels = np.array([np.nan if i is None else adaptive_grid.accuracy[i] for i in picks])
            a_level_cost = np.array([np.nan if i is None else a_cost[i] for i in picks])
    return Allocation(
        unit=unit,
        per_problem_source=None if pp is None else pp.source,
        problems=0 if pp is None else len(pp.problems),
        budget=budget,
        oracle_cap=oracle_cap,
        oracle_mean=oracle_mean,
        uniform=uniform,
        adaptive=adaptive,
        adaptive_source=None if adaptive_grid is None else adaptive_grid.source,
        levels=lv,
        oracle_levels=o_levels,
        oracle_level_cost=o_cost,
        uniform_levels=u_levels,
        uniform_level_cost=u_cost,
        adaptive_levels=a_levels,
        adaptive_level_cost=a_level_cost,
        notes=tuple(notes),
    )
