"""Allocation across problems: the per-problem oracle against brute force and against a direct
re-computation of the paper notebook's method; the long-first rule against enumeration."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from kinetics_cli.accuracy.base import Setting
from kinetics_cli.accuracy.evals import Trial
from kinetics_cli.accuracy.passk import pass_at_k
from kinetics_cli.accuracy.priors import PriorSource, load_profile
from kinetics_cli.accuracy.selection import prior_rule_outcome
from kinetics_cli.catalog import load_catalog
from kinetics_cli.engine.kinetics import problem_cost
from kinetics_cli.errors import InputError
from kinetics_cli.planner.allocation import (
    Allocation,
    check_allocation,
    load_paper_per_problem,
    long_first_from_prior,
    long_first_from_trials,
    oracle_at_mean_cost,
    oracle_per_problem,
    paper_oracle,
    per_problem_from_counts,
    per_problem_from_trials,
    uniform_best,
)
from kinetics_cli.planner.plan import Pricing


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


def brute_oracle(acc: np.ndarray, cost: np.ndarray, cap: float) -> tuple[float, float]:
    """Every assignment of a configuration (or none) to each problem within the cap: the most
    accurate on average, then the cheapest."""
    k, p = acc.shape
    best = (-1.0, 0.0)
    for choice in itertools.product(range(-1, k), repeat=p):
        if any(c >= 0 and cost[c, j] > cap for j, c in enumerate(choice)):
            continue
        a = np.mean([acc[c, j] if c >= 0 else 0.0 for j, c in enumerate(choice)])
        m = np.mean([cost[c, j] if c >= 0 else 0.0 for j, c in enumerate(choice)])
        if a > best[0] + 1e-12 or (abs(a - best[0]) <= 1e-12 and m < best[1]):
            best = (float(a), float(m))
    return best


def test_oracle_per_problem_matches_brute_force() -> None:
    acc = np.array([[0.2, 0.9, 0.0], [0.5, 0.9, 0.1], [0.8, 1.0, 0.4], [0.8, 0.3, 0.4]])
    cost = np.array([[1.0, 1.0, 1.0], [2.0, 3.0, 2.0], [5.0, 4.0, 6.0], [4.0, 0.5, 3.0]])
    levels = np.array([0.4, 0.5, 1.0, 2.0, 3.0, 4.5, 6.0, 10.0])
    got_a, got_m = oracle_per_problem(acc, cost, levels)
    for level, a, m in zip(levels, got_a, got_m, strict=True):
        want_a, want_m = brute_oracle(acc, cost, level)
        assert a == pytest.approx(max(want_a, 0.0)) and m == pytest.approx(want_m)
    # golden: at cap 2 the problems take 0.5 (cost 2), 0.9 (cost 1) and 0.1 (cost 2)
    assert got_a[3] == pytest.approx((0.5 + 0.9 + 0.1) / 3)
    assert got_m[3] == pytest.approx((2 + 1 + 2) / 3)


def test_uniform_and_mean_cost_oracle() -> None:
    acc = np.array([[0.0, 1.0], [1.0, 1.0]])
    cost = np.array([[1.0, 1.0], [5.0, 5.0]])
    a, _m, i = uniform_best(acc, cost, np.array([1.0, 5.0]))
    assert list(a) == [0.5, 1.0] and list(i) == [0, 1]
    # the oracle spends 5 on the first problem only: mean cost 3, accuracy 1
    got = oracle_at_mean_cost(acc, cost, 3.0)
    assert got[0] == pytest.approx(1.0) and got[1] == pytest.approx(3.0)
    assert oracle_at_mean_cost(acc, cost, 2.9)[0] == pytest.approx(0.5)


def notebook_frontier(rows: list[dict[str, object]], cost_points: np.ndarray) -> np.ndarray:
    """cost_model/best_of_N/frontier_numTrials.ipynb (Infini-AI-Lab/Kinetics), its loops as
    written, on a list of tradeoff rows (group, query_id, trial, coverage, total_cost): per group,
    at each cost, each query's max coverage among rows with total_cost <= cost (else 0),
    averaged over queries; then the best group at each cost (the notebook's frontier)."""
    curves = []
    for group in sorted({r["group"] for r in rows}, key=str):
        df = [r for r in rows if r["group"] == group]
        covs = []
        for cost in cost_points:
            best_covs = []
            for query_id in sorted({r["query_id"] for r in df}, key=str):
                query_df = [r for r in df if r["query_id"] == query_id]
                best_coverage = [r["coverage"] for r in query_df if r["total_cost"] <= cost]
                best_covs.append(max(best_coverage) if best_coverage else 0)
            covs.append(np.mean(best_covs))
        curves.append(covs)
    return np.max(np.array(curves, dtype=float), axis=0)


def test_paper_frontier_matches_the_notebook_on_shared_data(catalog) -> None:  # type: ignore[no-untyped-def]
    records = [
        r
        for r in load_paper_per_problem()
        if r.problem in {"0", "3", "7", "12", "21"}
        and r.setting.model in ("qwen3-0.6b", "qwen3-8b")
        and (r.setting.attention == "dense" or r.setting.kv_budget in (128.0, 256.0))
    ]
    assert {r.setting.attention for r in records} >= {"dense", "topk", "block-topk"}
    cards = {r.setting.model: catalog.models.get(r.setting.model).spec for r in records}
    hw = catalog.hardware.get("b200").spec
    trials = [1, 2, 4, 8, 16, 32]
    grid = per_problem_from_counts(records, cards, hw, trials)
    cost = grid.costs.in_unit("kinetics", "eflops", Pricing(intensity=hw.intensity))
    groups, _keys = grid.group_labels()
    # The notebook's tradeoff rows, built directly: coverage 1 - C(n-c, k) / C(n, k) and the
    # mean over the problem's samples of the cost of k trials of that sample's length.
    rows = []
    for r in records:
        lengths = np.array(r.gen_lengths)
        for k in trials:
            c = problem_cost(
                cards[r.setting.model],
                160.0,
                lengths,
                k,
                r.setting.attention,
                r.setting.kv_budget,
            ).eflops(hw.intensity)
            rows.append(
                {
                    "group": (r.setting.model, r.setting.attention),
                    "query_id": r.problem,
                    "trial": k,
                    "coverage": float(pass_at_k(r.n, r.correct, k)),
                    "total_cost": float(np.mean(c)),
                }
            )
    levels = np.logspace(13, 17, 25)
    want = notebook_frontier(rows, levels)
    got, mean_cost, _ = paper_oracle(grid.accuracy, cost, groups, levels)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.all(mean_cost <= levels * (1 + 1e-12))


def test_paper_table_loads_every_model() -> None:
    records = load_paper_per_problem()
    assert len(records) == 960
    assert {r.setting.model for r in records} == {
        "qwen3-0.6b",
        "qwen3-1.7b",
        "qwen3-8b",
        "qwen3-14b",
        "qwen3-32b",
    }
    assert all(len(r.gen_lengths) == r.n for r in records)


def test_unknown_allocation() -> None:
    assert check_allocation("uniform") == "uniform"
    with pytest.raises(InputError, match="unknown allocation"):
        check_allocation("greedy")


# ---- per-trial rows --------------------------------------------------------------------------


def trial(problem: str, gen: int, correct: bool, answer: str | None) -> Trial:
    return Trial(
        "toy", Setting("qwen3-8b", "dense", None), problem, 100, gen, correct, False, answer
    )


TOY = [
    trial("a", 500, True, "5"),
    trial("a", 3000, True, "5"),
    trial("a", 2500, False, "7"),
    trial("a", 800, False, "7"),
    trial("b", 400, False, "1"),
    trial("b", 3500, True, "3"),
    trial("b", 2000, True, "3"),
    trial("b", 900, False, "2"),
]


def brute_long_first(rows: list[Trial], n_fresh: int, limit: float, cap: float) -> Fraction:
    """First trial uniform over the problem's trials; long -> majority over every n_fresh-subset
    of the others, with answers only for trials finished within the limit."""
    total = Fraction(0)
    problems = sorted({r.problem for r in rows})
    for p in problems:
        group = [r for r in rows if r.problem == p]
        acc = Fraction(0)
        for i, first in enumerate(group):
            if first.gen_tokens <= cap:
                acc += Fraction(int(first.correct))
                continue
            others = [r for j, r in enumerate(group) if j != i]
            credit, count = Fraction(0), 0
            for sub in itertools.combinations(others, n_fresh):
                count += 1
                votes = Counter(
                    "R" if r.correct else r.answer for r in sub if r.gen_tokens <= limit
                )
                if votes:
                    top = max(votes.values())
                    tied = [k for k, v in votes.items() if v == top]
                    if "R" in tied:
                        credit += Fraction(1, len(tied))
            acc += credit / count
        total += acc / len(group)
    return total / len(problems)


def test_long_first_matches_enumeration(catalog) -> None:  # type: ignore[no-untyped-def]
    card = catalog.models.get("qwen3-8b").spec
    hw = catalog.hardware.get("b200").spec
    setting = Setting("qwen3-8b", "dense", None)
    out = long_first_from_trials(
        {setting: TOY}, {"qwen3-8b": card}, hw, [2, 3], [2600, 4000], [1000, 2400], source="toy"
    )
    for k in range(out.accuracy.size):
        n, limit, cap = int(out.trials[k]), out.gen_len[k], out.first_cap[k]
        assert out.accuracy[k] == pytest.approx(float(brute_long_first(TOY, n, limit, cap)))
        # samples: 1 + N x P(first longer than the cap)
        p_long = np.mean([r.gen_tokens > cap for r in TOY])
        assert out.samples[k] == pytest.approx(1 + n * p_long)
    # expected eFLOPs, directly: the first trial costs min(gen, tau); a long one adds the mean
    # over the others of N trials of min(gen, L) tokens
    k = int(np.flatnonzero((out.trials == 2) & (out.gen_len == 4000) & (out.first_cap == 1000))[0])

    def eflops(gen: float, n: int) -> float:
        return float(problem_cost(card, 100, gen, n).eflops(hw.intensity))

    want = 0.0
    for p in ("a", "b"):
        group = [r for r in TOY if r.problem == p]
        for i, first in enumerate(group):
            c = eflops(min(first.gen_tokens, 1000), 1)
            if first.gen_tokens > 1000:
                c += np.mean(
                    [eflops(min(r.gen_tokens, 4000), 2) for j, r in enumerate(group) if j != i]
                )
            want += c / len(group) / 2
    pricing = Pricing(intensity=hw.intensity)
    assert out.costs.in_unit("kinetics", "eflops", pricing)[k] == pytest.approx(want)


def test_long_first_refuses_trials_without_an_answer_field(catalog) -> None:  # type: ignore[no-untyped-def]
    """TOY with b's wrong '2' from a row without the field: left out of the vote it would raise
    the majority of the fresh trials, so the rule is refused for the setting, naming it."""
    card = catalog.models.get("qwen3-8b").spec
    hw = catalog.hardware.get("b200").spec
    setting = Setting("qwen3-8b", "dense", None)
    rows = [*TOY[:-1], trial("b", 900, False, None)]
    with pytest.raises(InputError, match=r"the long-first rule on qwen3-8b dense: 1 of 8 trials"):
        long_first_from_trials(
            {setting: rows}, {"qwen3-8b": card}, hw, [2, 3], [4000], [1000], source="toy"
        )


def test_per_problem_from_trials_is_pass_at_k_and_mean_cost(catalog) -> None:  # type: ignore[no-untyped-def]
    card = catalog.models.get("qwen3-8b").spec
    hw = catalog.hardware.get("b200").spec
    setting = Setting("qwen3-8b", "dense", None)
    grid = per_problem_from_trials(
        {setting: TOY}, {"qwen3-8b": card}, hw, [1, 2], [1000], source="toy"
    )
    # limit 1000: a has 1 right of 4 finished-and-right (500), b has none
    np.testing.assert_allclose(grid.accuracy[:, 0], [0.25, float(pass_at_k(4, 1, 2))])
    np.testing.assert_allclose(grid.accuracy[:, 1], [0.0, 0.0])
    c = grid.costs.in_unit("kinetics", "eflops", Pricing(intensity=hw.intensity))
    want = np.mean(
        [problem_cost(card, 100, min(r.gen_tokens, 1000), 2).eflops(hw.intensity) for r in TOY[:4]]
    )
    assert c[1, 0] == pytest.approx(float(want))


def test_long_first_under_priors(catalog) -> None:  # type: ignore[no-untyped-def]
    source = PriorSource(load_profile("aime24"))
    setting = Setting("qwen3-8b", "dense", None)
    card = catalog.models.get("qwen3-8b").spec
    hw = catalog.hardware.get("b200").spec
    out = long_first_from_prior(
        source, [setting], {"qwen3-8b": card}, hw, [8], [32768], [1.0, 8192.0, 16384.0]
    )
    # a 1-token first cap always falls back: accuracy is majority@8 at 32K (coarser nodes here)
    maj = prior_rule_outcome(source, setting, "majority", np.array([8.0]), np.array([32768.0]))
    tiny = int(np.flatnonzero(out.first_cap == 1.0)[0])
    assert out.accuracy[tiny] == pytest.approx(maj.accuracy[0, 0], abs=5e-3)
    assert out.samples[tiny] == pytest.approx(9.0)
    # a longer first cap answers more problems from the first trial: fewer samples, lower cost
    cost = out.costs.in_unit("kinetics", "eflops", Pricing(intensity=hw.intensity))
    order = np.argsort(out.first_cap)
    assert np.all(np.diff(out.samples[order]) < 0)
    assert np.all(np.diff(cost[order][1:]) < 0)


def test_paper_oracle_takes_the_cheapest_of_tied_groups() -> None:
    """Two groups (models), one problem: both solve it (accuracy 1), group 0 at cost 10,
    group 1 at cost 4. At a cap of 20 the frontier is 100% at mean cost 4, not 10."""
    accuracy = np.array([[1.0], [1.0]])
    cost = np.array([[10.0], [4.0]])
    acc, mean, group = paper_oracle(accuracy, cost, np.array([0, 1]), np.array([20.0]))
    assert acc.tolist() == [1.0] and mean.tolist() == [4.0] and group.tolist() == [1]


def _allocation(
    oracle_mean: tuple[float, float, float], uniform_at: tuple[float, float]
) -> Allocation:
    none = np.zeros(0)
    return Allocation(
        unit="eflops",
        per_problem_source="hand",
        problems=3,
        budget=3e14,
        oracle_cap=None,
        oracle_mean=oracle_mean,
        uniform=(*uniform_at, {}),
        adaptive=None,
        adaptive_source=None,
        levels=none,
        oracle_levels=none,
        oracle_level_cost=none,
        uniform_levels=none,
        uniform_level_cost=none,
        adaptive_levels=none,
        adaptive_level_cost=none,
    )


def test_headroom_over_uniform() -> None:
    """The three-problem case of test_cli_plan: the oracle holding its mean to 3e14 reaches
    (1 + 5/6 + 0) / 3 = 61.1% at a mean 1.110e14; uniform best-of-2 at L 4096 the same 61.1% at
    2.2313e14: 0 points, 2.2313 / 1.110 = 2.01x less cost."""
    same = _allocation((11 / 18, 1.110e14, 3.139e14), (11 / 18, 2.2313e14))
    assert same.headroom == (0.0, pytest.approx(2.2313 / 1.110))
    # an oracle below uniform's accuracy has no equal-accuracy cost ratio
    lower = _allocation((0.5, 1.0e14, 3e14), (11 / 18, 2.2313e14))
    points, ratio = lower.headroom  # type: ignore[misc]
    assert points == pytest.approx(0.5 - 11 / 18) and ratio is None
    assert replace(same, uniform=None).headroom is None


def test_per_trial_allocations_stop_at_the_runs_own_cap(catalog) -> None:  # type: ignore[no-untyped-def]
    """TOY run with a 3,500-token cap (its longest trial): per problem and under the long-first
    rule, a limit of 4,000 is above the cap and gets no accuracy (a trial cut at 3,500 might
    have been right with more room); 2,600 keeps the figures of the uncapped rows."""
    from dataclasses import replace

    card = catalog.models.get("qwen3-8b").spec
    hw = catalog.hardware.get("b200").spec
    setting = Setting("qwen3-8b", "dense", None)
    rows = [replace(r, gen_limit=3500.0) for r in TOY]
    args = ({"qwen3-8b": card}, hw, [1, 2], [2600, 4000])
    capped = per_problem_from_trials({setting: rows}, *args, source="toy")
    plain = per_problem_from_trials({setting: TOY}, *args, source="toy")
    at_cap = capped.gen_len == 2600
    np.testing.assert_array_equal(capped.accuracy[at_cap], plain.accuracy[at_cap])
    assert np.isnan(capped.accuracy[~at_cap]).all() and not np.isnan(plain.accuracy).any()
    first = long_first_from_trials(
        {setting: rows}, *args[:2], [2, 3], [2600, 4000], [1000], source="toy"
    )
    assert set(first.gen_len.tolist()) == {2600.0}
