"""The budget answer: the most accurate configuration within a per-problem cost, under each law.

Costs are per problem in one of three units: eFLOPs (compute FLOPs + I x bytes; I = 0 for the
FLOPs-only law), accelerator-seconds (the additive roofline time; the FLOPs-only law keeps its
compute terms only) or US dollars per 1,000 problems (seconds x price per hour / 3600 x 1000).
The FLOPs-law pick is the best configuration when the same numeric budget is spent under the
FLOPs-only law; it is then priced under the Kinetics law, where it may exceed the budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from kinetics_cli.accuracy.selection import ORACLE_RULES
from kinetics_cli.engine.kinetics import LAWS
from kinetics_cli.errors import InputError
from kinetics_cli.planner.grid import Grid
from kinetics_cli.planner.pareto import best_within, cheapest_reaching, group_members

# Top-k attention as the paper costs it: the B highest-scoring cached tokens, found at no cost.
# It bounds what sparse attention can reach; block top-k charges its search and can be deployed.
ORACLE_ATTENTION = "topk"

Unit = Literal["eflops", "seconds", "usd"]
UNITS: tuple[str, ...] = ("eflops", "seconds", "usd")
PROBLEMS_PER_PRICE = 1000  # --budget-usd is per 1,000 problems
# Accuracies are compared on a grid of 0.1 percentage point (the precision the CLI prints): a
# configuration 1e-6 more accurate but twice as expensive is a tie, and ties go to the cheaper.
ACCURACY_RESOLUTION = 1e-3


def accuracy_levels(accuracy: np.ndarray, resolution: float = ACCURACY_RESOLUTION) -> np.ndarray:
    """Accuracy rounded to whole multiples of `resolution` (monotone: more stays more or equal)."""
    if resolution <= 0:
        return np.asarray(accuracy, dtype=float)
    return np.round(np.asarray(accuracy, dtype=float) / resolution)


@dataclass(frozen=True)
class Pricing:
    """What turns a configuration's FLOPs and bytes into a cost in each unit."""

    intensity: float  # FLOPs per byte charged by the Kinetics law
    usd_per_hour: float | None = None  # accelerator price; None when the profile has none
    hardware: str = ""

    @property
    def usd_per_second(self) -> float | None:
        """Dollars per accelerator-second, for 1,000 problems."""
        if self.usd_per_hour is None:
            return None
        return self.usd_per_hour / 3600.0 * PROBLEMS_PER_PRICE


def costs(grid: Grid, law: str, unit: str, pricing: Pricing) -> np.ndarray:
    """Per-problem cost of every configuration under `law`, in `unit`."""
    if law not in LAWS:
        raise InputError(f"unknown law {law!r}; choose one of {', '.join(LAWS)}")
    if unit == "eflops":
        return grid.law_eflops(law, pricing.intensity)
    seconds = grid.seconds if law == "kinetics" else grid.compute_seconds
    if unit == "seconds":
        return seconds
    if unit == "usd":
        rate = pricing.usd_per_second
        if rate is None:
            raise InputError(
                f"hardware profile {pricing.hardware!r} has no price_per_gpu_hour; "
                "--budget-usd needs one (use --budget or --budget-seconds)"
            )
        return seconds * rate
    raise InputError(f"unknown budget unit {unit!r}; choose one of {', '.join(UNITS)}")


@dataclass(frozen=True)
class Plan:
    """Indices into the grid for every part of the answer, and the two laws' costs."""

    budget: float
    unit: str
    law: str  # the law that chose `best`
    best: int | None
    alternatives: tuple[int, ...]
    picks: dict[str, int | None]  # law -> best configuration under that law
    cheapest: int | None  # cheapest configuration under `law` (what to say when nothing fits)
    true_cost: np.ndarray  # Kinetics-law cost of every configuration, in `unit`
    law_cost: np.ndarray  # cost under `law`, in `unit`
    flops_cost: np.ndarray  # FLOPs-law cost, in `unit`
    equal_accuracy: (
        int | None
    )  # cheapest configuration (Kinetics cost) as accurate as the FLOPs pick
    # `best` among configurations without oracle top-k (ORACLE_ATTENTION): what a deployed kernel
    # can reach; equal to `best` when that is not oracle top-k.
    best_without_oracle: int | None = None
    # `best` among configurations relying on no oracle at all (neither top-k nor an oracle
    # selection rule such as coverage): what a deployment without a perfect verifier reaches.
    best_deployable: int | None = None

    @property
    def cost_ratio(self) -> float | None:
        """Kinetics cost of the FLOPs-law pick over the Kinetics cost of the cheapest
        configuration reaching at least its accuracy (>= 1; 1 when both laws agree)."""
        f = self.picks.get("flops")
        if f is None or self.equal_accuracy is None:
            return None
        cheapest = float(self.true_cost[self.equal_accuracy])
        return float(self.true_cost[f]) / cheapest if cheapest > 0 else None

    @property
    def flops_pick_over_budget(self) -> bool:
        f = self.picks.get("flops")
        return f is not None and float(self.true_cost[f]) > self.budget


def alternatives(
    grid: Grid,
    cost: np.ndarray,
    budget: float,
    best: int | None,
    top: int,
    levels: np.ndarray | None = None,
) -> tuple[int, ...]:
    """The best configuration within budget of each other (model, attention kind), most accurate
    first (ties: lower cost), at most `top` of them. `levels`: the accuracies to compare."""
    score = grid.accuracy if levels is None else levels
    if best is None or top <= 0:
        return ()
    groups, _ = grid.group_labels()
    chosen: list[int] = []
    for members in group_members(groups):
        if groups[members[0]] == groups[best]:
            continue
        pick = best_within(cost[members], score[members], budget)
        if pick is not None:
            chosen.append(int(members[pick]))
    chosen.sort(key=lambda i: (-score[i], cost[i], i))
    return tuple(chosen[:top])


def make_plan(
    grid: Grid,
    budget: float,
    *,
    unit: str = "eflops",
    law: str = "kinetics",
    pricing: Pricing,
    top: int = 3,
    resolution: float = ACCURACY_RESOLUTION,
) -> Plan:
    """Answer one budget: the best configuration under `law`, `top` alternatives, each law's pick,
    and the configuration the Kinetics law needs to match the FLOPs-law pick's accuracy.
    Accuracies are compared at `resolution` (0: exactly)."""
    if not np.isfinite(budget) or budget <= 0:
        raise InputError(f"the budget must be a positive number (got {budget:g})")
    if law not in LAWS:
        raise InputError(f"unknown law {law!r}; choose one of {', '.join(LAWS)}")
    if top < 0:
        raise InputError("--top must not be negative")
    if len(grid) == 0:
        raise InputError("no configuration to choose from (the accuracy data gave none)")
    levels = accuracy_levels(grid.accuracy, resolution)
    by_law = {name: costs(grid, name, unit, pricing) for name in LAWS}
    picks = {name: best_within(by_law[name], levels, budget) for name in LAWS}
    best = picks[law]
    law_cost = by_law[law]
    f = picks["flops"]
    equal = None if f is None else cheapest_reaching(by_law["kinetics"], levels, float(levels[f]))
    deployable = best
    if best is not None and grid.attention(best) == ORACLE_ATTENTION:
        deployable = best_within(law_cost, levels, budget, where=~oracle_attention(grid))
    deployable_all = ~(grid.oracle_selection() | oracle_attention(grid))
    return Plan(
        budget=float(budget),
        unit=unit,
        law=law,
        best=best,
        alternatives=alternatives(grid, law_cost, budget, best, top, levels),
        picks=picks,
        cheapest=int(np.argmin(law_cost)),
        true_cost=by_law["kinetics"],
        law_cost=law_cost,
        flops_cost=by_law["flops"],
        equal_accuracy=equal,
        best_without_oracle=deployable,
        best_deployable=best_within(law_cost, levels, budget, where=deployable_all),
    )


def oracle_attention(grid: Grid) -> np.ndarray:
    """True where a configuration uses oracle top-k attention."""
    return np.array([s.attention == ORACLE_ATTENTION for s in grid.settings] + [False])[
        grid.setting
    ]


def is_oracle(grid: Grid, i: int) -> bool:
    """Whether configuration i relies on an oracle (selection or attention)."""
    from kinetics_cli.accuracy.selection import is_oracle as oracle_rule

    return oracle_rule(grid.rule(i)) or grid.attention(i) == ORACLE_ATTENTION


def configuration(grid: Grid, i: int, pricing: Pricing) -> dict[str, object]:
    """One configuration as the JSON documents write it; costs are Kinetics-law costs."""
    seconds = float(grid.seconds[i])
    rate = pricing.usd_per_second
    kv = grid.kv_budget(i)
    return {
        "model": grid.model(i),
        "strategy": grid.strategy(i),
        "trials": int(grid.trials[i]),
        "gen_len": int(grid.gen_len[i]),
        "attention": grid.attention(i),
        "kv_budget": None if kv is None else (int(kv) if float(kv).is_integer() else kv),
        "accuracy": float(grid.accuracy[i]),
        "selection": grid.rule(i),
        "selection_oracle": grid.rule(i) in ORACLE_RULES,
        "oracle": is_oracle(grid, i),
        "expected_trials": float(grid.samples[i]) if grid.samples is not None else None,
        "eflops": float(grid.compute_flops[i] + pricing.intensity * grid.memory_bytes[i]),
        "flops": float(grid.compute_flops[i]),
        "seconds": seconds,
        "usd_per_1000": None if rate is None else seconds * rate,
        "active_params": float(grid.params[int(grid.setting[i])]),
    }


def configurations(grid: Grid, pricing: Pricing) -> list[dict[str, object]]:
    """Every configuration as `configuration` writes it, built column by column (one pass per
    field over the grid, not one Python call per configuration)."""
    rate = pricing.usd_per_second
    settings = grid.settings
    kv_budgets: list[object] = [
        None
        if s.attention == "dense" or s.kv_budget is None
        else (int(s.kv_budget) if float(s.kv_budget).is_integer() else s.kv_budget)
        for s in settings
    ]
    rules = [*grid.rules, "single"]  # selection index -1 (one trial) reads the last
    rule_oracle = [r in ORACLE_RULES for r in rules]
    setting = grid.setting.tolist()
    assert grid.selection is not None
    selection = grid.selection.tolist()
    topk = [s.attention == ORACLE_ATTENTION for s in settings]
    columns: dict[str, list[object]] = {
        "model": [settings[k].model for k in setting],
        "strategy": ["long-cot" if t == 1 else "best-of-n" for t in grid.trials.tolist()],
        "trials": grid.trials.astype(int).tolist(),
        "gen_len": grid.gen_len.astype(int).tolist(),
        "attention": [settings[k].attention for k in setting],
        "kv_budget": [kv_budgets[k] for k in setting],
        "accuracy": grid.accuracy.tolist(),
        "selection": [rules[r] for r in selection],
        "selection_oracle": [rule_oracle[r] for r in selection],
        "oracle": [rule_oracle[r] or topk[k] for r, k in zip(selection, setting, strict=True)],
        "expected_trials": (
            [None] * len(grid) if grid.samples is None else grid.samples.astype(float).tolist()
        ),
        "eflops": (grid.compute_flops + pricing.intensity * grid.memory_bytes).tolist(),
        "flops": grid.compute_flops.tolist(),
        "seconds": grid.seconds.tolist(),
        "usd_per_1000": [None] * len(grid) if rate is None else (grid.seconds * rate).tolist(),
        "active_params": [float(grid.params[k]) for k in setting],
    }
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]
