"""Bundled task profiles: a small generative model of per-problem success and response length.

For one (model, attention, KV budget) on a task:

* per-problem solve rate with unlimited generation p ~ Beta(a, b), a = m k, b = (1 - m) k;
* per-problem length effect u ~ N(0, tau^2) (some problems need long reasoning however easy);
* a trial is correct-if-finished with probability r p; its length is lognormal,
  ln len ~ N(mu_c + beta (1 - p) + u + ln g, sigma^2) when correct and shifted by delta when wrong;
* with generation limit L a correct trial counts only if len <= L, and every trial costs min(len, L).

Dense attention has r = g = 1. Sparse attention at KV budget B lowers success and lengthens
generations: r = 1 / (1 + (B_r s_r / B)^rho), g = 1 + (B_g s_g / B)^gamma, s_x = (P / P_ref)^-eta_x for a
model of P parameters; block top-k behaves like top-k at budget B / block_penalty. It also moves
solve rates down in logit and makes a share of trials run away to the generation limit (wrong),
both scaled per problem (SparseEffect.logit_shift, SparseEffect.runaway_hazard). Expectations over
(p, u) use fixed Gauss-Jacobi x Gauss-Hermite nodes. docs/accuracy-priors.md says how every
parameter was fitted (tools/fit_priors.py) and how far to trust it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kinetics_cli.accuracy.base import AttentionName, Outcome, Setting, SourceKind
from kinetics_cli.accuracy.passk import beta_nodes, normal_cdf, normal_nodes
from kinetics_cli.errors import InputError

PRIORS_DIR = Path(__file__).resolve().parent / "priors"
BETA_NODES = 64  # Gauss-Jacobi nodes over p: exact to ~1e-5 for Best-of-N up to N = 1024
NORMAL_NODES = 8  # Gauss-Hermite nodes over the per-problem length effect u
LENGTH_POINTS = 32  # weighted points per limit: 31 equal-probability bins + the atom at L
SMALL_BUDGET = 256.0  # sparse budgets below this get their own (wider) prior interval


@dataclass(frozen=True)
class LengthParams:
    """Lognormal response length, in natural-log tokens."""

    log_correct: float  # mu_c: ln tokens of a correct answer on a problem with p = 1, u = 0
    difficulty_slope: float  # beta: ln-length added per unit of (1 - p)
    wrong_shift: float  # delta: ln-length of a wrong answer minus a correct one, same problem
    problem_sd: float  # tau: sd of the per-problem effect u
    trial_sd: float  # sigma: sd of ln length between trials of one problem


@dataclass(frozen=True)
class ModelPrior:
    """Fitted parameters of one model on one task."""

    model: str
    params: float  # parameter count (total) that scales the sparse-attention effect
    mean: float  # m: mean per-problem solve rate with unlimited generation
    concentration: float  # k = a + b: small k = heterogeneous (U-shaped) difficulty
    length: LengthParams
    published_pass1: float  # the figure the mean was calibrated to
    published_limit: float  # generation limit (tokens) of that figure
    basis: str  # one line: which data fixed the dispersion and lengths
    sources: tuple[str, ...] = ()
    unsolved: float = 0.0  # z: share of problems never solved (p = 0); the Beta covers the rest
    # Per-problem solve-rate atoms (p_j with weights summing to 1): when given they replace the
    # Beta and the never-solved share (AIME24 priors: the task's own problems, shared difficulty)
    rates: tuple[float, ...] = ()
    rate_weights: tuple[float, ...] = ()
    # per atom, how strongly sparse attention's logit shift acts on it (problems differ in how
    # much they need the attention that sparse attention drops); empty: 1 for every atom
    rate_shift_scales: tuple[float, ...] = ()
    # per atom, the mean of 1 - exp(-H s) is approximated by the atom's runaway factor s at
    # each tabulated hazard H: runaway_scales[j] = s_j; empty: the shift scales (or 1)
    rate_runaway_scales: tuple[float, ...] = ()

    @property
    def beta_ab(self) -> tuple[float, float]:
        return self.mean * self.concentration, (1.0 - self.mean) * self.concentration


def solve_nodes(prior: ModelPrior, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(p, w) over the solvable part of the difficulty distribution: the prior's per-problem atoms
    (weights sum to 1) or `count` Gauss-Jacobi nodes of its Beta (weights sum to 1 - unsolved)."""
    if prior.rates:
        return np.asarray(prior.rates, dtype=float), np.asarray(prior.rate_weights, dtype=float)
    a, b = prior.beta_ab
    p, w = beta_nodes(a, b, count)
    return p, (1.0 - prior.unsolved) * w


def shift_scales(prior: ModelPrior, count: int) -> np.ndarray:
    """Per node of solve_nodes(prior, count): the factor on sparse attention's logit shift."""
    if prior.rates and prior.rate_shift_scales:
        return np.asarray(prior.rate_shift_scales, dtype=float)
    return np.ones(len(prior.rates) if prior.rates else count)


def runaway_scales(prior: ModelPrior, count: int) -> np.ndarray:
    """Per node of solve_nodes(prior, count): the factor on sparse attention's runaway hazard."""
    if prior.rates and prior.rate_runaway_scales:
        return np.asarray(prior.rate_runaway_scales, dtype=float)
    return shift_scales(prior, count)


def shifted(p: np.ndarray, shift: float | np.ndarray) -> np.ndarray:
    """Solve rates moved down by `shift` in logit: sigmoid(logit(p) - shift) (0 and 1 stay)."""
    p = np.asarray(p, dtype=float)
    if np.all(np.asarray(shift) == 0.0):
        return p
    odds = p * np.exp(-shift)
    return np.asarray(odds / np.maximum(odds + (1.0 - p), 1e-300))


@dataclass(frozen=True)
class SparseEffect:
    """How sparse attention at a KV budget changes success and length (see the module docstring)."""

    success_budget: float  # B_r
    success_power: float  # rho
    length_budget: float  # B_g
    length_power: float  # gamma
    size_exponent: float  # eta_r: success effect scales as (P / P_ref)^-eta_r
    length_size_exponent: float  # eta_g: length effect scales as (P / P_ref)^-eta_g
    reference_params: float  # P_ref
    block_penalty: float  # block top-k at B behaves like top-k at B / block_penalty
    power_size_exponent: float = 0.0  # rho scales as (P / P_ref)^power_size_exponent
    keep_budget: float = 0.0  # B_q: q = 1 / (1 + (B_q s_r / B)^rho_q); 0: q = 1
    keep_power: float = 1.0  # rho_q
    keep_slope: float = (
        0.0  # kappa: a problem of solve rate p stays solvable w.p. q^(1 + kappa (1 - p))
    )
    page_exponent: float = 0.0  # block penalty at page size s: block_penalty (s / PAGE_TOKENS)^this
    shift_budget: float = (
        0.0  # B_s: solve rates move down in logit by (B_s / B)^shift_power; 0: none
    )
    shift_power: float = 1.0
    # runaway: a trial loops until the generation limit (and is wrong) with probability
    # 1 - exp(-H s_i), H = (B_h (P / P_ref)^eta_h / B)^rho_h, s_i the problem's sensitivity;
    # with an end budget B_e, H = max(0, that - (B_h (P / P_ref)^eta_h / B_e)^rho_h): exactly 0
    # from B = B_e up, for every size (no trial runs away there, whatever the problem)
    runaway_budget: float = 0.0  # B_h; 0: no runaway
    runaway_end_budget: float = float("inf")  # B_e; inf: the hazard never ends
    runaway_power: float = 1.0  # rho_h
    runaway_size_exponent: float = 0.0  # eta_h: larger models run away more when > 0
    # the sizes the runaway was fitted on: P is clamped to them (no extrapolation in size)
    runaway_min_params: float = 0.0
    runaway_max_params: float = float("inf")

    def runaway_hazard(
        self, attention: str, kv_budget: float | None, params: float, page: float = 16.0
    ) -> float:
        """H: the runaway hazard of a problem of sensitivity 1 (share 1 - exp(-H) of its trials
        run to the generation limit); P clamped to the fitted sizes; 0 at and above the end
        budget B_e (no trial runs away there, whatever the problem or size)."""
        if attention == "dense" or kv_budget is None or self.runaway_budget <= 0:
            return 0.0
        budget = self.effective_budget(attention, kv_budget, page)
        size = min(max(params, self.runaway_min_params), self.runaway_max_params)
        scale = self.runaway_budget * (size / self.reference_params) ** self.runaway_size_exponent
        with np.errstate(over="ignore"):
            hazard = float(np.float64(scale / budget) ** self.runaway_power)
        floor = float(np.float64(scale / self.runaway_end_budget) ** self.runaway_power)
        return max(hazard - floor, 0.0)

    def logit_shift(self, attention: str, kv_budget: float | None, page: float = 16.0) -> float:
        """How far sparse attention moves every problem's solve rate down in logit (same for all
        model sizes: a weaker model loses more accuracy because its problems sit lower)."""
        if attention == "dense" or kv_budget is None or self.shift_budget <= 0:
            return 0.0
        budget = self.effective_budget(attention, kv_budget, page)
        with np.errstate(over="ignore"):
            return float(np.float64(self.shift_budget / budget) ** self.shift_power)

    def effective_budget(self, attention: str, kv_budget: float, page: float = 16.0) -> float:
        """The top-k budget a setting acts like: block top-k with pages of `page` tokens at B
        acts like top-k at B / (block_penalty (page / 16)^page_exponent)."""
        if attention != "block-topk":
            return float(kv_budget)
        return float(kv_budget) / (self.block_penalty * (page / 16.0) ** self.page_exponent)

    def keep(
        self, attention: str, kv_budget: float | None, params: float, page: float = 16.0
    ) -> float:
        """q: the share of solvable problems that stay solvable (the rest never are)."""
        if attention == "dense" or kv_budget is None or self.keep_budget <= 0:
            return 1.0
        budget = self.effective_budget(attention, kv_budget, page)
        size = params / self.reference_params
        q_budget = self.keep_budget * size ** (-self.size_exponent)
        with np.errstate(over="ignore"):
            return float(1.0 / (1.0 + np.float64(q_budget / budget) ** self.keep_power))

    def factors(
        self, attention: str, kv_budget: float | None, params: float, page: float = 16.0
    ) -> tuple[float, float]:
        """(r, ln g): success multiplier and ln-length shift for one setting."""
        if attention == "dense" or kv_budget is None:
            return 1.0, 0.0
        budget = self.effective_budget(attention, kv_budget, page)
        size = params / self.reference_params
        r_budget = self.success_budget * size ** (-self.size_exponent)
        g_budget = self.length_budget * size ** (-self.length_size_exponent)
        with np.errstate(over="ignore"):
            rho = self.success_power * size**self.power_size_exponent
            r = 1.0 / (1.0 + np.float64(r_budget / budget) ** rho)
            log_g = np.log1p(np.float64(g_budget / budget) ** self.length_power)
        return float(r), float(log_g)


@dataclass(frozen=True)
class TaskProfile:
    """One bundled task: prompt length, sparse effect, and the per-model priors."""

    task: str
    title: str
    prompt_tokens: float
    sparse_budgets: tuple[float, ...]
    sparse: SparseEffect
    models: dict[str, ModelPrior]
    sources: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)
    # Half-widths of the CONFIDENCE interval around a prior's accuracy, from the leave-one-size-out
    # errors of the fit (tools/validate_priors.py): dense, sparse at budgets >= SMALL_BUDGET, and
    # sparse below it; each for N = 1, N = 2-8 and N >= 9 trials.
    uncertainty: dict[str, tuple[float, ...]] = field(default_factory=dict, compare=False)

    def spread(self, attention: str, kv_budget: float | None, trials: np.ndarray) -> np.ndarray:
        """Half-width of the interval around a prior accuracy, per trial count."""
        if attention == "dense" or kv_budget is None:
            key = "dense"
        else:
            key = "sparse" if kv_budget >= SMALL_BUDGET else "sparse_small"
        widths = self.uncertainty.get(key, (0.0, 0.0, 0.0))
        bucket = np.searchsorted(np.array([1.5, 8.5]), np.asarray(trials, dtype=float))
        return np.asarray(widths, dtype=float)[bucket]


# ---------------------------------------------------------------------------------------------
# The model: accuracy on a (trials x limits) grid and the length distribution under each limit.


@lru_cache(maxsize=64)
def _runaway_nodes(prior: ModelPrior) -> np.ndarray:
    """Per quadrature node of _base_nodes: the factor on the runaway hazard."""
    return np.repeat(runaway_scales(prior, BETA_NODES), NORMAL_NODES)


@lru_cache(maxsize=64)
def _base_nodes(prior: ModelPrior) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Quadrature nodes over (p, u), flattened: weight, p, ln-length of a correct answer, and the
    factor on sparse attention's logit shift."""
    p, wp = solve_nodes(prior, BETA_NODES)
    z, wz = normal_nodes(NORMAL_NODES)
    lp = prior.length
    pp = np.repeat(p, z.size)
    u = np.tile(z, p.size) * lp.problem_sd
    mu_correct = lp.log_correct + lp.difficulty_slope * (1.0 - pp) + u
    # never-solved problems (p = 0) add nothing to accuracy: only the Beta part's weight shrinks
    scale = np.repeat(shift_scales(prior, BETA_NODES), z.size)
    return np.outer(wp, wz).ravel(), pp, mu_correct, scale


def node_grid(
    prior: ModelPrior, r: float, log_shift: float, shift: float = 0.0, runaway: float = 0.0
) -> dict[str, np.ndarray]:
    """Quadrature nodes over (p, u), flattened: weight, dense solve rate p, success prob
    (r exp(-runaway s_h) sigmoid(logit p - shift s), s and s_h the node's sensitivities), the
    share of trials that do not run away (exp(-runaway s_h)), ln-length of correct/wrong."""
    weight, pp, mu, scale = _base_nodes(prior)
    mu_correct = mu + log_shift
    kept = np.exp(-runaway * _runaway_nodes(prior)) if runaway else 1.0
    return {
        "weight": weight,
        "p": pp,
        "success": r * kept * shifted(pp, shift * scale),
        "finish": np.broadcast_to(np.asarray(kept, dtype=float), pp.shape),
        "mu_correct": mu_correct,
        "mu_wrong": mu_correct + prior.length.wrong_shift,
    }


def model_accuracy(
    prior: ModelPrior,
    trials: np.ndarray,
    limits: np.ndarray,
    r: float = 1.0,
    log_shift: float = 0.0,
    keep: float = 1.0,
    keep_slope: float = 0.0,
    shift: float = 0.0,
    runaway: float = 0.0,
) -> np.ndarray:
    """accuracy[t, g] = E_(p,u)[q(p) (1 - (1 - r p F_c(L_g | p, u))^N_t)], F_c the correct-length
    CDF and q(p) = keep^(1 + keep_slope (1 - p)) the chance that sparse attention leaves a
    problem of solve rate p solvable (hard problems are lost first); with a logit `shift` and a
    `runaway` hazard H the success is r exp(-H s) sigmoid(logit p - shift s)."""
    nodes = node_grid(prior, r, log_shift, shift, runaway)
    n = np.asarray(trials, dtype=float)
    log_l = np.log(np.asarray(limits, dtype=float))
    finished = normal_cdf((log_l[:, None] - nodes["mu_correct"][None, :]) / prior.length.trial_sd)
    s = np.clip(nodes["success"][None, :] * finished, 0.0, 1.0 - 1e-15)  # (G, J)
    miss = _miss_powers(s, n)  # (T, G, J)
    hit = np.subtract(1.0, miss, out=miss)  # in place: no second (T, G, J) array
    weight = nodes["weight"] * keep_share(keep, keep_slope, nodes["p"])
    return np.asarray(np.einsum("tgj,j->tg", hit, weight))


def keep_share(keep: float, slope: float, p: np.ndarray) -> np.ndarray:
    """q(p) = keep^(1 + slope (1 - p)): the chance a problem of solve rate p stays solvable."""
    if keep >= 1.0:
        return np.ones_like(p)
    return np.asarray(keep ** (1.0 + slope * (1.0 - p)))


def mean_keep(prior: ModelPrior, keep: float, slope: float) -> float:
    """E[q(p)] over the solvable problems (the length mixture uses this mean share)."""
    if keep >= 1.0:
        return 1.0
    p, w = solve_nodes(prior, _LENGTH_BETA_NODES)
    return float(np.sum(w * keep_share(keep, slope, p)) / max(float(np.sum(w)), 1e-300))


def success_ratio(prior: ModelPrior, shift: float) -> float:
    """E[sigmoid(logit p - shift)] / E[p]: the length mixture splits right and wrong answers
    with one success multiplier, so a logit shift enters it as this mean ratio."""
    if shift == 0.0:
        return 1.0
    p, w = solve_nodes(prior, _LENGTH_BETA_NODES)
    moved = shifted(p, shift * shift_scales(prior, _LENGTH_BETA_NODES))
    return float(np.sum(w * moved) / max(float(np.sum(w * p)), 1e-300))


def runaway_share(prior: ModelPrior, runaway: float) -> float:
    """E[1 - exp(-H s)] over the problems: the share of trials that run to the limit."""
    if runaway <= 0.0:
        return 0.0
    _, w = solve_nodes(prior, _LENGTH_BETA_NODES)
    kept = np.exp(-runaway * runaway_scales(prior, _LENGTH_BETA_NODES))
    return float(1.0 - np.sum(w * kept) / max(float(np.sum(w)), 1e-300))


def _miss_powers(s: np.ndarray, n: np.ndarray) -> np.ndarray:
    """(1 - s)^n[t] for every trial count, stacked on a new first axis.

    Whole counts (the planner's) use repeated squaring, a few multiplications instead of one exp
    per (count, node); other counts use exp(n log1p(-s)).
    """
    counts = np.asarray(n, dtype=float)
    if counts.size == 0 or np.any(counts != np.round(counts)) or counts.max() > 2**20:
        return np.exp(counts[:, None, None] * np.log1p(-s)[None, :, :])
    whole = counts.astype(np.int64).tolist()
    out = np.empty((len(whole), *s.shape))
    out[[t for t, count in enumerate(whole) if count == 0]] = 1.0  # (1 - s)^0
    power = 1.0 - s  # (1 - s)^bit
    bit = 1
    while True:
        for t, count in enumerate(whole):
            if count & bit:
                if count & (bit - 1):
                    out[t] *= power  # a view: multiplied in place, no copy
                else:
                    out[t] = power  # the lowest bit: the product so far is this power alone
        bit <<= 1
        if bit > max(whole):
            return out
        power = power * power


@dataclass(frozen=True)
class _LengthTable:
    """Length-distribution pieces of one model tabulated over y = ln(tokens) - ln(g).

    With success r p per trial, a share z of problems never solved and a share q of the solvable
    ones kept solvable by sparse attention, the length mixture is: correct components (weight
    q w r p, mean m_c), wrong ones (weight q w (1 - r p), mean m_w) and problems without a chance
    (weight 1 - q (1 - z), mean m_w at p = 0). Its CDF is
    q r A + q B + (1 - q (1 - z)) Z - q r C, with A = sum w p Phi((y - m_c) / s),
    B = sum w Phi((y - m_w) / s), C = sum w p Phi((y - m_w) / s) over the Beta nodes (weights w
    summing to 1 - z) and Z = Phi((y - m_w(0)) / s); a length stretch g only shifts y. Partial
    means E[len; len <= x] follow the same split (times g). So the mixture is evaluated once per
    model, and every (r, g, q) is a weighted sum and an interpolation.
    """

    y: np.ndarray
    cdf: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    partial: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    unsolved: float

    def _mix(self, parts: tuple[np.ndarray, ...], r: float, q: float) -> np.ndarray:
        a, b, c, z = parts
        return q * r * a + q * b + (1.0 - q * (1.0 - self.unsolved)) * z - q * r * c

    def on_grid(self, r: float, q: float) -> np.ndarray:
        """The mixture CDF on the table's own y grid (no interpolation)."""
        return self._mix(self.cdf, r, q)

    def cdf_at(self, y: np.ndarray, r: float, q: float = 1.0) -> np.ndarray:
        """The mixture CDF at log-lengths y (the first of `parts`, without the partial means)."""
        return self._mix(tuple(np.interp(y, self.y, t) for t in self.cdf), r, q)

    def parts(self, y: np.ndarray, r: float, q: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(CDF, partial mean without the g factor) of the mixture at log-lengths y."""
        cdf = tuple(np.interp(y, self.y, t) for t in self.cdf)
        partial = tuple(np.interp(y, self.y, t) for t in self.partial)
        return self._mix(cdf, r, q), self._mix(partial, r, q)


_LENGTH_BETA_NODES = 16  # nodes over p for the length mixture (means within 1e-8 of 128 nodes)
_TABLE_POINTS = 1024  # y-grid points: spacing 0.016 in ln tokens, far under the length sd
_Y_MIN, _Y_MAX = -2.0, float(np.log(2.0**22))
_tables: dict[int, tuple[ModelPrior, _LengthTable]] = {}


def _length_table(prior: ModelPrior) -> _LengthTable:
    """The tabulated mixture of `prior`, computed once per process.

    The lengths of one problem's trials are lognormal around mu + u with u ~ N(0, tau^2) shared by
    the problem, so over problems of equal p they are lognormal with mean m = E[mu | p] and
    sd s = sqrt(tau^2 + sigma^2): the u integral is done exactly, only p needs quadrature.
    """
    cached = _tables.get(id(prior))
    if cached is not None and cached[0] is prior:
        return cached[1]
    p, w = solve_nodes(prior, _LENGTH_BETA_NODES)  # never-solved problems: the Z component
    lp = prior.length
    m_c = lp.log_correct + lp.difficulty_slope * (1.0 - p)
    m_w = m_c + lp.wrong_shift
    sd = float(np.hypot(lp.problem_sd, lp.trial_sd))
    y = np.linspace(_Y_MIN, _Y_MAX, _TABLE_POINTS)[:, None]
    # One (y, node) matrix at a time in one buffer, each reduced before the next is made: four
    # live matrices of 1,024 x nodes took fresh pages and ran about 1.6x slower.
    grid = np.empty((y.size, p.size))

    def cdf(mu: np.ndarray, *weights: np.ndarray) -> list[np.ndarray]:
        """Phi((y - mu) / sd) on the (y, node) grid, summed with each of `weights`."""
        np.divide(np.subtract(y, mu, out=grid), sd, out=grid)
        normal_cdf(grid, out=grid)
        return [grid @ v for v in weights]

    def partial(mu: np.ndarray, *weights: np.ndarray) -> list[np.ndarray]:
        """exp(mu + sd^2 / 2) Phi((y - mu - sd^2) / sd): the lognormal's partial mean."""
        np.subtract(np.subtract(y, mu, out=grid), sd * sd, out=grid)
        normal_cdf(np.divide(grid, sd, out=grid), out=grid)
        np.multiply(grid, np.exp(mu + 0.5 * sd * sd), out=grid)
        return [grid @ v for v in weights]

    # The wrong-answer matrices serve two weightings each. Never-solved problems: one column.
    m_zero = np.array([lp.log_correct + lp.difficulty_slope + lp.wrong_shift])
    z_cdf = normal_cdf((y - m_zero) / sd)[:, 0]
    z_partial = (np.exp(m_zero + 0.5 * sd * sd) * normal_cdf((y - m_zero - sd * sd) / sd))[:, 0]
    wp = w * p
    (c_a,), (c_b, c_c) = cdf(m_c, wp), cdf(m_w, w, wp)
    (p_a,), (p_b, p_c) = partial(m_c, wp), partial(m_w, w, wp)
    table = _LengthTable(
        y=y[:, 0],
        cdf=(c_a, c_b, c_c, z_cdf),
        partial=(p_a, p_b, p_c, z_partial),
        unsolved=1.0 - float(np.sum(w)),
    )
    _tables[id(prior)] = (prior, table)
    return table


def model_lengths(
    prior: ModelPrior,
    limits: np.ndarray,
    r: float = 1.0,
    log_shift: float = 0.0,
    points: int = LENGTH_POINTS,
    keep: float = 1.0,
    runaway: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Generated tokens per trial under each limit as weighted points (lengths[g, q], weights[g, q]).

    The finished part (len < L) is cut into points - 1 bins of equal probability, each represented
    by its conditional mean; the last point is the atom at L holding P(len >= L). So the mean of
    min(len, L) is exact up to the tabulation and the spread is resolved to 1 / (points - 1).
    A `runaway` share of trials never finishes: it joins the atom at L (r is then the success
    ratio of the trials that do not run away).
    """
    table = _length_table(prior)
    lim = np.asarray(limits, dtype=float)
    stretch = float(np.exp(log_shift))
    finish = 1.0 - runaway
    f_grid = np.maximum.accumulate(table.on_grid(r, keep))
    x_grid = np.exp(table.y + log_shift)
    f_lim = table.cdf_at(np.log(lim) - log_shift, r, keep)  # (G,)
    levels = f_lim[:, None] * np.linspace(0.0, 1.0, points)[None, :]  # (G, points)
    edges = np.interp(levels, f_grid, x_grid)
    edges[:, -1] = lim
    f_e, pm_e = table.parts(np.log(np.maximum(edges, 1e-300)) - log_shift, r, keep)
    f_e, pm_e = finish * f_e, finish * pm_e
    f_e[:, 0], pm_e[:, 0] = 0.0, 0.0  # the first edge is length 0
    pm_e = pm_e * stretch
    mass = np.diff(f_e, axis=1)
    mids = 0.5 * (edges[:, 1:] + edges[:, :-1])
    means = np.where(mass > 1e-12, np.diff(pm_e, axis=1) / np.maximum(mass, 1e-300), mids)
    lengths = np.concatenate([np.clip(means, 0.0, lim[:, None]), lim[:, None]], axis=1)
    weights = np.concatenate([np.maximum(mass, 0.0), (1.0 - finish * f_lim)[:, None]], axis=1)
    weights /= weights.sum(axis=1, keepdims=True)
    return lengths, weights


# ---------------------------------------------------------------------------------------------
# Loading the bundled TOML files.


def _get(table: dict[str, Any], key: str, path: Path, where: str) -> Any:
    if key not in table:
        raise InputError(f"{path}: {where}: missing field '{key}'")
    return table[key]


def _prior_from_toml(name: str, t: dict[str, Any], path: Path) -> ModelPrior:
    where = f'[models."{name}"]'
    length = LengthParams(
        log_correct=float(_get(t, "log_len_correct", path, where)),
        difficulty_slope=float(_get(t, "difficulty_slope", path, where)),
        wrong_shift=float(_get(t, "wrong_shift", path, where)),
        problem_sd=float(_get(t, "problem_sd", path, where)),
        trial_sd=float(_get(t, "trial_sd", path, where)),
    )
    prior = ModelPrior(
        model=name,
        params=float(_get(t, "params", path, where)),
        mean=float(_get(t, "mean", path, where)),
        concentration=float(_get(t, "concentration", path, where)),
        length=length,
        published_pass1=float(_get(t, "published_pass1", path, where)),
        published_limit=float(_get(t, "published_limit", path, where)),
        basis=str(t.get("basis", "")),
        sources=tuple(t.get("sources", ())),
        unsolved=float(t.get("unsolved", 0.0)),
        rates=tuple(float(x) for x in t.get("solve_rates", ())),
        rate_weights=tuple(float(x) for x in t.get("solve_weights", ())),
        rate_shift_scales=tuple(float(x) for x in t.get("solve_shift_scales", ())),
        rate_runaway_scales=tuple(float(x) for x in t.get("solve_runaway_scales", ())),
    )
    if (
        len(prior.rates) != len(prior.rate_weights)
        or (prior.rate_shift_scales and len(prior.rate_shift_scales) != len(prior.rates))
        or (prior.rate_runaway_scales and len(prior.rate_runaway_scales) != len(prior.rates))
    ):
        raise InputError(
            f"{path}: {where}: solve_rates, solve_weights, solve_shift_scales and "
            "solve_runaway_scales differ in length"
        )
    return prior


def read_profile(path: Path) -> TaskProfile:
    """Parse one task profile TOML file."""
    from kinetics_cli.tomlio import read_toml

    data = read_toml(path)
    sp = _get(data, "sparse", path, "top level")
    sparse = SparseEffect(
        success_budget=float(_get(sp, "success_budget", path, "[sparse]")),
        success_power=float(_get(sp, "success_power", path, "[sparse]")),
        length_budget=float(_get(sp, "length_budget", path, "[sparse]")),
        length_power=float(_get(sp, "length_power", path, "[sparse]")),
        size_exponent=float(_get(sp, "size_exponent", path, "[sparse]")),
        length_size_exponent=float(_get(sp, "length_size_exponent", path, "[sparse]")),
        reference_params=float(_get(sp, "reference_params", path, "[sparse]")),
        block_penalty=float(_get(sp, "block_penalty", path, "[sparse]")),
        power_size_exponent=float(sp.get("power_size_exponent", 0.0)),
        keep_budget=float(sp.get("keep_budget", 0.0)),
        keep_power=float(sp.get("keep_power", 1.0)),
        keep_slope=float(sp.get("keep_slope", 0.0)),
        page_exponent=float(sp.get("page_exponent", 0.0)),
        shift_budget=float(sp.get("shift_budget", 0.0)),
        shift_power=float(sp.get("shift_power", 1.0)),
        runaway_budget=float(sp.get("runaway_budget", 0.0)),
        runaway_end_budget=float(sp.get("runaway_end_budget", float("inf"))),
        runaway_power=float(sp.get("runaway_power", 1.0)),
        runaway_size_exponent=float(sp.get("runaway_size_exponent", 0.0)),
        runaway_min_params=float(sp.get("runaway_min_params", 0.0)),
        runaway_max_params=float(sp.get("runaway_max_params", float("inf"))),
    )
    models = {
        name: _prior_from_toml(name, table, path)
        for name, table in _get(data, "models", path, "top level").items()
    }
    return TaskProfile(
        task=str(_get(data, "task", path, "top level")),
        title=str(data.get("title", "")),
        prompt_tokens=float(_get(data, "prompt_tokens", path, "top level")),
        sparse_budgets=tuple(float(b) for b in data.get("sparse_budgets", ())),
        sparse=sparse,
        models=models,
        sources=tuple(data.get("sources", ())),
        path=path,
        uncertainty={
            k: tuple(float(x) for x in v)
            for k, v in data.get("uncertainty", {}).items()
            if k != "confidence"
        },
    )


def available_tasks() -> list[str]:
    """Names of the bundled task profiles."""
    return sorted(p.stem for p in PRIORS_DIR.glob("*.toml"))


def load_profile(task: str) -> TaskProfile:
    """The bundled profile for `task` (a name, never a path); unknown tasks raise InputError
    listing the known ones."""
    key = task.strip().lower()
    path = PRIORS_DIR / f"{key}.toml"
    if key not in available_tasks():
        raise InputError(
            f"no bundled accuracy priors for task {task!r}; known tasks: {', '.join(available_tasks())} "
            "(or pass --evals FILE with your own evaluation results)"
        )
    return read_profile(path)


# ---------------------------------------------------------------------------------------------
# The accuracy source.


def spread_note(spread: np.ndarray) -> str:
    """'prior, interval from its leave-one-size-out spread, 6 to 7 points either side': how a
    prior's accuracy and interval were made, in one flat phrase (no parentheses) that reads
    inside the reports' own."""
    low, high = (round(100 * float(f(spread))) for f in (np.min, np.max))
    points = f"{low}" if low == high else f"{low} to {high}"
    return f"prior, interval from its leave-one-size-out spread, {points} points either side"


class PriorSource:
    """AccuracySource over a bundled task profile."""

    kind: SourceKind = "priors"
    parametric = True  # any KV budget can be asked for

    def __init__(self, profile: TaskProfile):
        self.profile = profile
        self.task = profile.task
        n_sources = len(
            {*profile.sources, *(s for m in profile.models.values() for s in m.sources)}
        )
        self.description = (
            f"bundled priors for {profile.task} ({profile.title}): {len(profile.models)} models "
            f"fitted to published pass@1, pass@k and per-problem traces from {n_sources} "
            "sources, see docs/accuracy-priors.md"
        )

    def settings(self) -> list[Setting]:
        out: list[Setting] = []
        for name in self.profile.models:
            out.append(Setting(name, "dense", None))
            for attention in ("topk", "block-topk"):
                att: AttentionName = attention  # type: ignore[assignment]
                out.extend(Setting(name, att, b) for b in self.profile.sparse_budgets)
        return out

    def prior(self, model: str) -> ModelPrior:
        try:
            return self.profile.models[model]
        except KeyError:
            raise InputError(
                f"the {self.task} priors have no model {model!r}; known: "
                f"{', '.join(self.profile.models)}"
            ) from None

    def outcome(self, setting: Setting, trials: np.ndarray, limits: np.ndarray) -> Outcome:
        prior = self.prior(setting.model)
        trials = np.asarray(trials, dtype=float)
        limits = np.asarray(limits, dtype=float)
        if np.any(trials < 1) or np.any(limits <= 0):
            raise InputError("trials must be >= 1 and generation limits > 0")
        if setting.attention != "dense" and (setting.kv_budget is None or setting.kv_budget <= 0):
            raise InputError(f"{setting.attention} attention needs a positive KV budget")
        sparse = self.profile.sparse
        r, log_shift = sparse.factors(setting.attention, setting.kv_budget, prior.params)
        keep = sparse.keep(setting.attention, setting.kv_budget, prior.params)
        shift = sparse.logit_shift(setting.attention, setting.kv_budget)
        hazard = sparse.runaway_hazard(setting.attention, setting.kv_budget, prior.params)
        accuracy = model_accuracy(
            prior, trials, limits, r, log_shift, keep, sparse.keep_slope, shift, hazard
        )
        share = mean_keep(prior, keep, sparse.keep_slope)
        lengths, weights = model_lengths(
            prior,
            limits,
            r * success_ratio(prior, shift),
            log_shift,
            keep=share,
            runaway=runaway_share(prior, hazard),
        )
        spread = self.profile.spread(setting.attention, setting.kv_budget, trials)[:, None]
        interval = np.clip(np.stack([accuracy - spread, accuracy + spread]), 0.0, 1.0)
        return Outcome(
            accuracy=accuracy,
            gen_lengths=lengths,
            gen_weights=weights,
            prompt_len=self.profile.prompt_tokens,
            accuracy_ci=interval,
            pairing=f"priors:{self.task}",
            kind="priors",
            note=spread_note(spread),
        )
