"""The budget answer: the most accurate configuration within a per-problem cost, under each law.

Costs are per problem in one of three units: eFLOPs (compute FLOPs + I x bytes; I = 0 for the
FLOPs-only law), accelerator-seconds (the additive roofline time; the FLOPs-only law keeps its
compute terms only) or US dollars per 1,000 problems (seconds x price per hour / 3600 x 1000).
The FLOPs-law pick is the best configuration when the same numeric budget is spent under the
FLOPs-only law; it is then priced under the Kinetics law, where it may exceed the budget.

Ties: configurations within budget whose accuracy cannot be told apart from the most accurate one
at the reported confidence (accuracy.base.CONFIDENCE) are ties, and the cheapest of them is the
pick (`indistinguishable` says when two accuracies are). docs/planning.md has the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

from kinetics_cli.accuracy.selection import ORACLE_RULES
from kinetics_cli.arrays import quantile_pair
from kinetics_cli.engine.kinetics import LAWS
from kinetics_cli.errors import InputError
from kinetics_cli.planner.grid import Grid
from kinetics_cli.planner.pareto import best_within, cheapest_reaching, group_members

if TYPE_CHECKING:
    from kinetics_cli.planner.deploy import DeployCosts

# Top-k attention as the paper costs it: the B highest-scoring cached tokens, found at no cost.
# It bounds what sparse attention can reach; block top-k charges its search and can be deployed.
ORACLE_ATTENTION = "topk"

Unit = Literal["eflops", "seconds", "usd", "latency", "joules"]
UNITS: tuple[str, ...] = ("eflops", "seconds", "usd", "latency", "joules")
PROBLEMS_PER_PRICE = 1000  # --budget-usd is per 1,000 problems
# Accuracies are compared on a grid of 0.1 percentage point (the precision the CLI prints): a
# configuration 1e-6 more accurate but twice as expensive is a tie, and ties go to the cheaper.
ACCURACY_RESOLUTION = 1e-3


def accuracy_levels(accuracy: np.ndarray, resolution: float = ACCURACY_RESOLUTION) -> np.ndarray:
    """Accuracy rounded to whole multiples of `resolution` (monotone: more stays more or equal)."""
    if resolution <= 0:
        return np.asarray(accuracy, dtype=float)
    a = np.asarray(accuracy, dtype=float)
    levels = np.divide(a, resolution, out=np.empty(a.shape))
    return np.round(levels, out=levels)  # in place: no second array


@dataclass(frozen=True)
class Pricing:
    """What turns a configuration's FLOPs and bytes into a cost in each unit."""

    intensity: float  # FLOPs per byte charged by the Kinetics law
    usd_per_hour: float | None = None  # accelerator price; None when the profile has none
    hardware: str = ""
    # Deployable costs (planner/deploy.py): when present, seconds, dollars, latency and joules
    # are those of a deployment; eFLOPs stay the law's.
    deploy: DeployCosts | None = None

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
    if pricing.deploy is not None:
        return _deployable_costs(grid, law, unit, pricing, pricing.deploy)
    if unit in ("latency", "joules"):
        raise InputError(f"a {unit} budget needs deployable costs (planner/deploy.py)")
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


def _deployable_costs(
    grid: Grid, law: str, unit: str, pricing: Pricing, deploy: DeployCosts
) -> np.ndarray:
    """Deployable cost in `unit` (Kinetics law), or the FLOPs-law counterfactual: the law's
    compute-only seconds per problem in the same unit (x price, x the deployable figures' board
    power)."""
    if law == "kinetics":
        return deploy.cost(unit)
    seconds = grid.compute_seconds
    if unit in ("seconds", "latency"):
        return seconds
    if unit == "usd":
        deploy.cost(unit)  # the same error as the Kinetics side when there is no price
        rate = pricing.usd_per_second
        assert rate is not None
        return seconds * rate
    deploy.cost(unit)
    assert deploy.watts is not None
    return seconds * deploy.watts


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
    # The most accurate configuration within budget (before ties went to the cheapest) and the
    # configurations within budget that could not be told apart from it, most accurate first.
    most_accurate: int | None = None
    ties: tuple[int, ...] = ()
    # how many of the ties passed the tests themselves, and the least accurate of those: the
    # others joined as at least as accurate as it (cheapest_tie's upward closure)
    ties_tested: int = 0
    tie_floor: int | None = None
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


def pairing_codes(grid: Grid) -> np.ndarray | None:
    """An integer per configuration for its source's pairing key (None: the grid has none)."""
    if not grid.pairings:
        return None
    _, codes = np.unique(np.array(grid.pairings, dtype=object), return_inverse=True)
    small = np.asarray(codes).astype(np.min_scalar_type(len(grid.pairings)))  # a quarter of int64
    return small[grid.setting]


@dataclass(frozen=True)
class ReplicateSummary:
    """Per configuration of a grid (filled where `known`): whether all its bootstrap replicates
    are finite, and their largest and smallest value; computed once for many tie checks."""

    known: np.ndarray
    finite: np.ndarray
    top: np.ndarray
    bottom: np.ndarray

    @classmethod
    def of(cls, grid: Grid, where: np.ndarray) -> ReplicateSummary:
        """The summary of the configurations `where` (indices or a mask over the grid)."""
        reps = grid.replicates
        n = grid.accuracy.size
        where = np.asarray(where)
        if where.dtype == bool:
            known = where
        else:
            known = np.zeros(n, dtype=bool)
            known[where] = True
        finite = np.zeros(n, dtype=bool)
        if reps.shape[0] == n and reps.shape[1] > 0 and where.dtype == bool:
            where = np.flatnonzero(where)  # indices only where there are replicates to read
        if not (reps.shape[0] == n and reps.shape[1] > 0 and where.size):
            nan = np.broadcast_to(np.nan, n)  # nothing to compare: no grid-sized fill
            return cls(known, finite, nan, nan)
        top, bottom = np.full(n, np.nan), np.full(n, np.nan)
        block = reps[where]
        ok = np.isfinite(block).all(axis=1)
        finite[where] = ok
        top[where[ok]] = block[ok].max(axis=1)  # only finite rows are compared
        bottom[where[ok]] = block[ok].min(axis=1)
        return cls(known, finite, top, bottom)


def _paired_ties(reference: np.ndarray, others: np.ndarray, tail: float) -> np.ndarray:
    """Whether the two-sided interval (tails `tail`) of each row of reference - others contains
    0, as np.quantile's (linear) bounds would say. Most rows are decided by counting the
    differences below and above 0 (an order statistic's sign fixes the bound's); np.quantile
    runs only on rows where the bound falls between differences of opposite signs."""
    diff = reference[None, :] - others
    b = diff.shape[1]
    h_low, h_high = tail * (b - 1), (1.0 - tail) * (b - 1)
    at_most = (diff <= 0.0).sum(axis=1)  # x[k] <= 0 for k < at_most (ascending)
    below = (diff < 0.0).sum(axis=1)  # x[k] < 0 for k < below
    # the order statistics either side of each bound (widened by a hair, so that rounding in
    # np.quantile's own index can only send a row to the exact path)
    lo_a, lo_b = int(np.floor(h_low - 1e-6)), int(np.ceil(h_low + 1e-6))
    hi_a, hi_b = int(np.floor(h_high - 1e-6)), int(np.ceil(h_high + 1e-6))
    low_ok = at_most >= lo_b + 1  # x[lo_a], x[lo_b] <= 0: the low bound <= 0
    low_no = at_most <= lo_a  # both > 0
    high_ok = below <= hi_a  # x[hi_a], x[hi_b] >= 0: the high bound >= 0
    high_no = below >= hi_b + 1  # both < 0
    tie = low_ok & high_ok
    open_ = ~(low_no | high_no | tie)
    if open_.any():
        low, high = quantile_pair(diff[open_], tail, 1.0 - tail, axis=1)  # np.quantile's bits
        tie[open_] = (low <= 0.0) & (high >= 0.0)
    return tie


def indistinguishable(
    grid: Grid,
    i: int,
    others: np.ndarray,
    levels: np.ndarray | None = None,
    pairing: np.ndarray | None = None,
    summary: ReplicateSummary | None = None,
) -> np.ndarray:
    """Whether each of `others` has an accuracy statistically indistinguishable from that of `i`
    at the reported confidence. `pairing`: pairing_codes(grid), `summary`: the replicate
    summary of `i` and `others`, when the caller has them already.

    * Same pairing key with bootstrap replicates on both sides (one source, the same problems
      resampled the same way): paired bootstrap; a tie when the interval of the replicate
      differences contains 0.
    * Same pairing key without replicates (the bundled priors of one task: one fit, whose error
      the interval states for the absolute level, while its ranking of two configurations is the
      fit's best guess): a tie only when the accuracies are equal at the reporting resolution.
    * Otherwise (independent sources): a tie when the difference is within the two interval
      half-widths combined in quadrature (normal approximation; plain interval overlap would be a
      test at a far higher confidence than the intervals').
    """
    from kinetics_cli.accuracy.base import CONFIDENCE

    others = np.asarray(others, dtype=int)
    acc = grid.accuracy
    score = accuracy_levels(acc) if levels is None else levels
    if others.size == 0:
        return np.zeros(0, dtype=bool)
    if pairing is None:  # the callers' codes, or computed here (integers, not strings per row)
        pairing = pairing_codes(grid)
    same = np.zeros(others.size, dtype=bool) if pairing is None else pairing[others] == pairing[i]
    reps = grid.replicates
    if summary is None:
        summary = ReplicateSummary.of(grid, np.append(others, i))
    rep_ok = summary.finite[others] & bool(summary.finite[i])
    tie = np.zeros(others.size, dtype=bool)
    paired = same & rep_ok
    if paired.any():
        # no replicate of `others` reaching the lowest replicate of i: apart without quantiles
        paired &= summary.top[others] >= summary.bottom[i]
    if paired.any():
        tie[paired] = _paired_ties(reps[i], reps[others[paired]], (1.0 - CONFIDENCE) / 2.0)
    shared = same & ~rep_ok
    tie[shared] = score[others[shared]] == score[i]
    apart = ~same
    if apart.any():
        lo, hi = grid.accuracy_lo, grid.accuracy_hi
        if lo.size != acc.size:
            tie[apart] = score[others[apart]] == score[i]
        else:
            j = others[apart]
            above = acc[i] >= acc[j]
            half_i = np.where(above, acc[i] - lo[i], hi[i] - acc[i])
            half_j = np.where(above, hi[j] - acc[j], acc[j] - lo[j])
            tie[apart] = np.abs(acc[i] - acc[j]) <= np.hypot(half_i, half_j) + 1e-12
    return tie


REFERENCES_PER_SOURCE = 10  # strongest configurations per pairing key that a tie must match
# Slack of could_tie's interval test against rounding in indistinguishable's (the exact test
# then decides): far above float64 rounding of accuracies in [0, 1], far below their resolution.
_OVERLAP_SLACK = 1e-9


@dataclass(frozen=True)
class IntervalReach:
    """Per configuration: accuracy minus and plus the larger of its interval's half-widths (NaN
    where it has no interval, or the grid has none); computed once for many could_tie filters."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, grid: Grid) -> IntervalReach:
        lo, hi, acc = grid.accuracy_lo, grid.accuracy_hi, grid.accuracy
        if lo.size != acc.size:
            return cls(np.zeros(0), np.zeros(0))
        # the larger half-width (NaN only where both are NaN), in place: two grid-sized arrays,
        # the upper half-width held in what becomes `low`
        wide = np.subtract(acc, lo)
        np.abs(wide, out=wide)
        low = np.subtract(hi, acc)
        np.abs(low, out=low)
        np.fmax(wide, low, out=wide)
        np.subtract(acc, wide, out=low)
        wide += acc  # acc + wide (addition commutes exactly)
        return cls(low, wide)


def could_tie(
    grid: Grid, i: int, levels: np.ndarray, summary: ReplicateSummary, reach: IntervalReach
) -> np.ndarray:
    """True for every configuration `indistinguishable` might tie with `i` (a superset: false only
    where each of its tests says apart), over the whole grid in a few passes, so the exact tests
    run on few rows. A tie needs the same accuracy level (priors of one source, sources without
    intervals), or some replicate of the other reaching the lowest of i's (paired bootstrap), or
    |a_i - a_j| within the two half-widths combined in quadrature, hence within their sum (the
    intervals widened to the larger half-width overlap)."""
    could = levels == levels[i]
    if summary.finite[i]:
        could |= summary.top >= summary.bottom[i]  # NaN (no replicates): False
    if reach.low.size:
        wide_i = float(reach.high[i] - grid.accuracy[i])
        if np.isinf(wide_i):  # hypot(inf, anything) is inf: anything may tie
            could[:] = True
        elif np.isnan(wide_i):  # i has no interval: only an infinite half-width gives a tie
            could |= np.isinf(reach.high)
        else:  # NaN (no interval on j's side) compares False, as hypot(finite, NaN) is NaN
            a_i = float(grid.accuracy[i])
            overlap = reach.low <= a_i + wide_i + _OVERLAP_SLACK
            overlap &= reach.high >= a_i - wide_i - _OVERLAP_SLACK
            could |= overlap
    return could


@dataclass(frozen=True)
class TieContext:
    """What every tie check of one plan shares, computed once: the pairing codes, the replicate
    summary of the configurations some law affords, and the widened intervals."""

    codes: np.ndarray | None
    summary: ReplicateSummary
    reach: IntervalReach

    @classmethod
    def of(cls, grid: Grid, where: np.ndarray) -> TieContext:
        """For tie checks among the configurations `where` (indices or a mask)."""
        return cls(pairing_codes(grid), ReplicateSummary.of(grid, where), IntervalReach.of(grid))


class TieAnswer(NamedTuple):
    """cheapest_tie's answer: the pick, the most accurate configuration, the other ties (most
    accurate first), and how the ties were found: `tested` of them by the tests themselves, the
    least accurate of those `floor` (None when no other configuration passed them); the rest
    joined by the upward closure (at least as accurate as `floor`)."""

    pick: int | None
    top: int | None
    ties: tuple[int, ...]
    tested: int = 0
    floor: int | None = None


def cheapest_tie(
    grid: Grid,
    cost: np.ndarray,
    levels: np.ndarray,
    budget: float,
    candidates: np.ndarray | None = None,
    context: TieContext | None = None,
) -> TieAnswer:
    """(pick, most accurate, ties, ...) among `candidates` (indices or a mask; default: all)
    within `budget` (TieAnswer). `context`: as the caller computed it for several calls.

    The ties are the configurations within budget that cannot be told apart from the most
    accurate one and are not significantly worse than any of the strongest configurations of
    each source (the REFERENCES_PER_SOURCE most accurate per pairing key): the set of
    statistically best configurations, closed upwards (anything at least as accurate as a member
    joins). The pick is the cheapest of them; ties lists the others, most accurate first.

    Exact tests (`indistinguishable`) run only where `could_tie` lets them, and against only
    the references more accurate than some member (the others cannot remove one).
    """
    fit = (cost <= budget) & np.isfinite(grid.accuracy)
    if candidates is not None and np.asarray(candidates).dtype == bool:
        fit &= candidates
    elif candidates is not None:
        allowed = np.zeros(cost.size, dtype=bool)
        allowed[np.asarray(candidates, dtype=int)] = True
        fit &= allowed
    pick = best_within(cost, levels, budget, where=fit)
    if pick is None:
        return TieAnswer(None, None, ())
    top = int(pick)
    if context is None or (fit & ~context.summary.known).any():
        context = TieContext.of(grid, fit)
    codes, summary = context.codes, context.summary
    maybe = fit & could_tie(grid, top, levels, summary, context.reach)
    maybe[top] = False
    others = np.flatnonzero(maybe)
    group = np.append(others[indistinguishable(grid, top, others, levels, codes, summary)], top)
    # A reference removes members less accurate than itself only, so only references above the
    # least accurate member count; each source's strongest configurations above that level are
    # the first of its members in the order (-level, cost, index).
    floor = levels[group].min()
    strong = np.flatnonzero(fit & (levels > floor))
    references: list[int] = []
    keys = None if codes is None else codes[strong]
    # each source's members from one sort of the keys, not one scan of the grid per source
    for members in [strong] if keys is None else [strong[m] for m in group_members(keys)]:
        order = members[np.lexsort((cost[members], -levels[members]))]  # members ascend
        references.extend(order[:REFERENCES_PER_SOURCE].tolist())
    keep = np.ones(group.size, dtype=bool)
    for ref in references:
        below = levels[group] < levels[ref]
        if below.any():
            apart = ~indistinguishable(grid, ref, group[below], levels, codes, summary)
            keep[np.flatnonzero(below)[apart]] = False
    keep[group == top] = True
    tested = group[keep]
    lowest = tested[levels[tested] == levels[tested].min()]
    floor = None if tested.size == 1 else int(lowest[np.argmin(cost[lowest])])
    # Upward closed: comparisons across sources are not transitive (a prior's ranking stands
    # against another prior, a wide interval ties with a measurement), so a configuration at
    # least as accurate as a member is a member too. The pick is then never dominated.
    group = np.flatnonzero(fit & (levels >= levels[tested].min()))  # ascending
    # the pick: lowest cost, then highest level, then lowest index (linear passes, no sort)
    cheapest = cost[group] == cost[group].min()
    chosen = int(group[cheapest][np.argmax(levels[group[cheapest]])])
    rest = group[group != chosen]
    rest = rest[np.lexsort((cost[rest], -levels[rest]))]  # stable: equal keys keep index order
    return TieAnswer(chosen, top, tuple(rest.tolist()), int(tested.size) - 1, floor)


# Grid elements per slab of `alternatives`' passes: a slab's temporaries stay in the process's
# heap between slabs instead of each pass taking fresh grid-sized arrays from the kernel.
_SLAB = 1 << 20


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
    # best_within in every group at once, setting by setting (grouped maxima and minima over
    # the grid's setting index, no sort): the best level among the fitting members of each
    # group, the lowest cost at it, the first index
    # group, slab by slab of the grid (each slab's temporaries reused, not grid-sized arrays)
    labels, _ = grid.group_labels_per_setting()
    setting = grid.setting
    other = labels != labels[setting[best]]  # per setting: in another group than the best

    def fitting(part: slice) -> np.ndarray:
        fits = (cost[part] <= budget) & np.isfinite(score[part])
        fits &= other[setting[part]]
        return fits

    slabs = [slice(a, a + _SLAB) for a in range(0, setting.size, _SLAB)]
    per_setting = np.full(labels.size, -np.inf)
    for part in slabs:
        np.maximum.at(per_setting, setting[part], np.where(fitting(part), score[part], -np.inf))
    level = np.full(int(labels.max()) + 1, -np.inf)
    np.maximum.at(level, labels, per_setting)
    best_level = level[labels]  # per setting: its group's best level
    per_setting[:] = np.inf  # now the lowest cost at that level
    for part in slabs:
        at_level = fitting(part) & (score[part] == best_level[setting[part]])
        np.minimum.at(per_setting, setting[part], np.where(at_level, cost[part], np.inf))
    lowest = np.full(level.size, np.inf)
    np.minimum.at(lowest, labels, per_setting)
    lowest_cost = lowest[labels]
    found = []
    for part in slabs:
        fits = fitting(part) & (score[part] == best_level[setting[part]])
        fits &= cost[part] == lowest_cost[setting[part]]
        found.append(np.flatnonzero(fits) + part.start)
    idx = np.concatenate(found) if found else np.zeros(0, dtype=int)
    _, first = np.unique(labels[setting[idx]], return_index=True)
    chosen = idx[first].tolist()
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
    levels = grid.levels(resolution)
    by_law = {name: costs(grid, name, unit, pricing) for name in LAWS}
    # one replicate summary for every tie check below: what any law affords
    affordable = by_law[LAWS[0]] <= budget
    for name in LAWS[1:]:
        affordable |= by_law[name] <= budget
    context = TieContext.of(grid, affordable)
    answers = {
        name: cheapest_tie(grid, by_law[name], levels, budget, None, context) for name in LAWS
    }
    picks = {name: answers[name].pick for name in LAWS}
    best, most_accurate, ties = answers[law].pick, answers[law].top, answers[law].ties
    law_cost = by_law[law]
    f = picks["flops"]
    equal = None if f is None else cheapest_reaching(by_law["kinetics"], levels, float(levels[f]))
    deployable = best
    if best is not None and grid.attention(best) == ORACLE_ATTENTION:
        oracle = np.array([s.attention == ORACLE_ATTENTION for s in grid.settings])[grid.setting]
        deployable = cheapest_tie(grid, law_cost, levels, budget, ~oracle, context).pick
    deployable_all = ~(grid.oracle_selection() | oracle_attention(grid))
    pick = None
    if deployable_all.any():
        pick = cheapest_tie(grid, law_cost, levels, budget, deployable_all, context).pick
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
        most_accurate=most_accurate,
        ties=ties,
        ties_tested=answers[law].tested,
        tie_floor=answers[law].floor,
        best_deployable=pick,
    )


def accuracy_interval(grid: Grid, i: int) -> list[float] | None:
    """[lower, upper] accuracy bounds of configuration i at the reported confidence, or None."""
    if grid.accuracy_lo.size != grid.accuracy.size:
        return None
    lo, hi = float(grid.accuracy_lo[i]), float(grid.accuracy_hi[i])
    return [lo, hi] if np.isfinite(lo) and np.isfinite(hi) else None


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
    deployed: dict[str, dict[str, object]] = {}
    if pricing.deploy is not None:
        deployed = pricing.deploy.document(i)
        deployed["deployable"]["serve_command"] = pricing.deploy.serve_command(
            i, grid.model(i), grid.attention(i), kv, int(grid.trials[i])
        )
        deployed["deployable"]["checked"] = pricing.deploy.check_document(grid.model(i))
    return {
        "model": grid.model(i),
        "strategy": grid.strategy(i),
        "trials": int(grid.trials[i]),
        "gen_len": int(grid.gen_len[i]),
        "attention": grid.attention(i),
        "kv_budget": None if kv is None else (int(kv) if float(kv).is_integer() else kv),
        "accuracy": float(grid.accuracy[i]),
        "accuracy_ci": accuracy_interval(grid, i),
        "accuracy_source": grid.notes[int(grid.setting[i])] if grid.notes else "",
        "accuracy_kind": grid.kinds[int(grid.setting[i])] if grid.kinds else "",
        "selection": grid.rule(i),
        "selection_oracle": grid.rule(i) in ORACLE_RULES,
        "oracle": is_oracle(grid, i),
        "expected_trials": float(grid.samples[i]) if grid.samples is not None else None,
        "eflops": float(grid.compute_flops[i] + pricing.intensity * grid.memory_bytes[i]),
        "flops": float(grid.compute_flops[i]),
        "seconds": seconds,
        "usd_per_1000": None if rate is None else seconds * rate,
        "active_params": float(grid.params[int(grid.setting[i])]),
        **deployed,
    }


def _intervals(grid: Grid) -> list[object]:
    """accuracy_interval of every configuration, column by column."""
    if grid.accuracy_lo.size != grid.accuracy.size:
        return [None] * len(grid)
    lo, hi = grid.accuracy_lo.tolist(), grid.accuracy_hi.tolist()
    finite = (np.isfinite(grid.accuracy_lo) & np.isfinite(grid.accuracy_hi)).tolist()
    return [[a, b] if ok else None for a, b, ok in zip(lo, hi, finite, strict=True)]


def configurations(grid: Grid, pricing: Pricing) -> list[dict[str, object]]:
    """Every configuration as `configuration` writes it (`configuration_columns`, one dict per
    configuration)."""
    columns = configuration_columns(grid, pricing)
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def configuration_columns(grid: Grid, pricing: Pricing) -> dict[str, list[object]]:
    """Every configuration as `configuration` writes it, field by field: each key's values for
    every configuration, in the grid's order (one pass per field over the grid, not one Python
    call per configuration)."""
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
        "accuracy_ci": _intervals(grid),
        "accuracy_source": [grid.notes[k] if grid.notes else "" for k in setting],
        "accuracy_kind": [grid.kinds[k] if grid.kinds else "" for k in setting],
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
    return columns
