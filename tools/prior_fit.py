"""Fitting the accuracy priors to the per-problem AIME24 data: numpy only, shared by
tools/fit_priors.py (writes the TOML files) and tools/validate_priors.py (leave one size out).

The generative model is kinetics_cli/accuracy/priors.py. Per model size, from its dense runs:

* counts: zero-inflated Beta-binomial. A share z of problems is never solved (p = 0); the others
  have p ~ Beta(m k, (1 - m) k). Maximum likelihood of every problem's (n, c), exact.
* lengths: ln len = mu + beta (1 - p_i) + u_i + delta [wrong] + eps, u_i ~ N(0, tau^2),
  eps ~ N(0, sigma^2), lengths >= CAP censored. Which samples were correct is not published: the
  c correct ones are taken as the c shortest (the pairing the measured source uses), p_i is the
  posterior mean (a + c_i) / (k + n_i); u is integrated on Gauss-Hermite nodes.

Across sizes, the sparse-attention effect (success multiplier r and length stretch g at KV
budget B, see priors.SparseEffect): g from the ratio of lower-quartile lengths (sparse over
dense, least squares in ln g), then r by the conditional likelihood of every sparse run's counts
given the same problems' dense counts, with the success of a node reduced by the extra
truncation at the cap that the stretch g causes. The bundled AIME24 priors use the
shared-difficulty fit further down (fit_shared: logit shift, runaway to the cap, stretch).
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kinetics_cli.accuracy.passk import beta_nodes, normal_cdf, normal_nodes  # noqa: E402
from kinetics_cli.accuracy.priors import (  # noqa: E402
    LengthParams,
    ModelPrior,
    SparseEffect,
    keep_share,
    model_accuracy,
)

DATA_FILE = ROOT / "tools" / "data" / "kinetics_aime24_per_problem.csv"
CAP = 30700.0  # the runs stop at 30,719-30,778 generated tokens: >= CAP is censored
PLAN_LIMIT = 32768.0  # a limit every measured sample finishes within
PARAMS = {  # total parameters, as in model_cards/*.toml and the Hugging Face model cards they cite
    "qwen3-0.6b": 0.6e9,
    "qwen3-1.7b": 1.7e9,
    "qwen3-4b": 4.0e9,
    "qwen3-8b": 8.2e9,
    "qwen3-14b": 14.8e9,
    "qwen3-32b": 32.8e9,
}
REFERENCE_PARAMS = 8.2e9
FIT_NODES = 32


# ------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class Run:
    """One (model, attention, budget, page size) of the data: per problem n, c, sorted lengths."""

    model: str
    attention: str
    budget: float | None
    block_size: int | None
    problems: np.ndarray  # (P,) problem ids
    n: np.ndarray  # (P,)
    c: np.ndarray  # (P,)
    lengths: np.ndarray  # (P, n) sorted ascending

    @property
    def label(self) -> str:
        if self.attention == "dense":
            return f"{self.model} dense"
        page = f" page {self.block_size}" if self.block_size else ""
        return f"{self.model} {self.attention}@{self.budget:g}{page}"


def load_runs(path: Path = DATA_FILE) -> list[Run]:
    """Every run of the per-problem CSV (columns as in kinetics_cli/accuracy/data/README.md)."""
    groups: dict[tuple[str, str, str, str], list[dict[str, str]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            groups[(r["model"], r["attention"], r["kv_budget"], r["block_size"])].append(r)
    runs = []
    for (model, attention, budget, block), rows in groups.items():
        rows.sort(key=lambda r: int(r["problem"]))
        lengths = np.array(
            [np.sort(np.array(r["gen_lengths"].split(";"), dtype=float)) for r in rows]
        )
        runs.append(
            Run(
                model=model,
                attention=attention,
                budget=float(budget) if budget else None,
                block_size=int(block) if block else None,
                problems=np.array([int(r["problem"]) for r in rows]),
                n=np.array([int(r["n_samples"]) for r in rows]),
                c=np.array([int(r["n_correct"]) for r in rows]),
                lengths=lengths,
            )
        )
    return sorted(runs, key=lambda r: (PARAMS[r.model], r.attention, r.budget or 0.0))


# ------------------------------------------------------------------------------ optimizer


def nelder_mead(
    f: Callable[[np.ndarray], float],
    x0: Sequence[float],
    step: float = 0.3,
    iterations: int = 600,
    tol: float = 1e-7,
) -> tuple[np.ndarray, float]:
    """Minimize f by the Nelder-Mead simplex (standard coefficients); (argmin, min)."""
    x0 = np.asarray(x0, dtype=float)
    simplex = np.vstack([x0, x0 + step * np.eye(x0.size)])
    values = np.array([f(x) for x in simplex])
    for _ in range(iterations):
        order = np.argsort(values)
        simplex, values = simplex[order], values[order]
        if abs(values[-1] - values[0]) <= tol * (abs(values[0]) + 1e-12):
            break
        centroid = simplex[:-1].mean(axis=0)
        reflected = centroid + (centroid - simplex[-1])
        fr = f(reflected)
        if fr < values[0]:
            expanded = centroid + 2.0 * (centroid - simplex[-1])
            fe = f(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            inside = fr >= values[-1]
            point = simplex[-1] if inside else reflected
            contracted = centroid + 0.5 * (point - centroid)
            fc = f(contracted)
            if fc < min(fr, values[-1]):
                simplex[-1], values[-1] = contracted, fc
            else:
                simplex[1:] = simplex[0] + 0.5 * (simplex[1:] - simplex[0])
                values[1:] = [f(x) for x in simplex[1:]]
    best = int(np.argmin(values))
    return simplex[best], float(values[best])


def bisect(f: Callable[[float], float], lo: float, hi: float, tol: float = 1e-10) -> float:
    """A root of f in [lo, hi] (f(lo), f(hi) of opposite signs)."""
    flo = f(lo)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        fm = f(mid)
        if (fm < 0) == (flo < 0):
            lo, flo = mid, fm
        else:
            hi = mid
        if hi - lo < tol:
            break
    return 0.5 * (lo + hi)


def expit(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


# ------------------------------------------------------------------------------ counts


def _log_rising(x: float, upto: int) -> np.ndarray:
    """[sum_{i<j} ln(x + i) for j = 0..upto]."""
    return np.concatenate([[0.0], np.cumsum(np.log(x + np.arange(upto)))])


def zibb_log_lik(n: np.ndarray, c: np.ndarray, m: float, k: float, z: float) -> float:
    """Log-likelihood of counts (n_i, c_i) under the zero-inflated Beta-binomial (binomial
    coefficients left out: they do not depend on the parameters)."""
    a, b = m * k, (1.0 - m) * k
    top = int(n.max())
    la, lb, lk = _log_rising(a, top), _log_rising(b, top), _log_rising(k, top)
    beta_binomial = np.exp(la[c] + lb[n - c] - lk[n])
    return float(np.sum(np.log((1.0 - z) * beta_binomial + z * (c == 0) + 1e-300)))


def fit_counts(run: Run) -> dict[str, float]:
    """(m, k, z) by maximum likelihood of the dense counts."""

    def nll(x: np.ndarray) -> float:
        return -zibb_log_lik(run.n, run.c, expit(x[0]), float(np.exp(x[1])), expit(x[2]))

    best = None
    for z0 in (-3.0, -1.5):
        x, value = nelder_mead(
            nll, [logit(max(min(run.c.sum() / run.n.sum(), 0.95), 0.05)), 0.0, z0]
        )
        if best is None or value < best[1]:
            best = (x, value)
    assert best is not None
    x = best[0]
    return {"m": expit(x[0]), "k": float(np.exp(x[1])), "z": expit(x[2])}


# ------------------------------------------------------------------------------ lengths


def fit_lengths(run: Run, counts: dict[str, float]) -> dict[str, float]:
    """(mu, beta, delta, tau, sigma): censored lognormal with a per-problem effect; the c correct
    samples of a problem are its c shortest."""
    a = counts["m"] * counts["k"]
    p_hat = (a + run.c) / (counts["k"] + run.n)  # (P,)
    logs = np.log(np.minimum(run.lengths, CAP))  # (P, n)
    capped = run.lengths >= CAP
    wrong = np.arange(run.lengths.shape[1])[None, :] >= run.c[:, None]
    zq, wq = normal_nodes(8)
    np.log(CAP)

    def nll(x: np.ndarray) -> float:
        mu, beta, delta, tau, sigma = x[0], x[1], x[2], np.exp(x[3]), np.exp(x[4])
        mean = mu + beta * (1.0 - p_hat)[:, None] + delta * wrong  # (P, n)
        centre = mean[:, :, None] + tau * zq[None, None, :]  # (P, n, Q)
        zs = (logs[:, :, None] - centre) / sigma
        log_density = -0.5 * zs * zs - np.log(sigma)
        survival = np.clip(1.0 - normal_cdf(zs), 1e-300, 1.0)
        per = np.where(capped[:, :, None], np.log(survival), log_density).sum(axis=1)  # (P, Q)
        top = per.max(axis=1, keepdims=True)
        return -float(np.sum(top[:, 0] + np.log(np.exp(per - top) @ wq)))

    x, _ = nelder_mead(nll, [9.0, 0.8, 0.5, np.log(0.3), np.log(0.3)], iterations=1500)
    return {
        "mu": float(x[0]),
        "beta": float(x[1]),
        "delta": float(x[2]),
        "tau": float(np.exp(x[3])),
        "sigma": float(np.exp(x[4])),
    }


def fit_size(runs: Iterable[Run], model: str) -> dict[str, float]:
    """Counts and length parameters of one size, from its dense run."""
    dense = next(r for r in runs if r.model == model and r.attention == "dense")
    counts = fit_counts(dense)
    return {**counts, **fit_lengths(dense, counts)}


# ------------------------------------------------------------------------------ across sizes

INTERPOLATED = ("k", "z", "mu", "beta", "delta", "tau", "sigma")
LOG_SCALE = {"k", "tau", "sigma"}


def interpolate(fits: dict[str, dict[str, float]], params: float) -> dict[str, float]:
    """Every shape parameter linear in ln(parameters) between the fitted sizes (clamped at the
    ends: no extrapolation); k, tau, sigma in logs (z linear: fits of 0 are common)."""
    names = sorted(fits, key=lambda m: PARAMS[m])
    xs = np.log([PARAMS[m] for m in names])
    out = {}
    for key in INTERPOLATED:
        ys = np.array([fits[m][key] for m in names])
        if key in LOG_SCALE:
            ys = np.log(ys)
        value = float(np.interp(np.log(params), xs, ys))
        out[key] = float(np.exp(value)) if key in LOG_SCALE else value
    return out


def make_prior(
    name: str,
    params: float,
    theta: dict[str, float],
    published_pass1: float,
    published_limit: float,
    basis: str = "",
    sources: Sequence[str] = (),
) -> ModelPrior:
    """A prior with the shape of `theta` and its Beta mean calibrated to the published pass@1."""
    prior = ModelPrior(
        model=name,
        params=params,
        mean=0.5,
        concentration=theta["k"],
        length=LengthParams(
            theta["mu"], theta["beta"], theta["delta"], theta["tau"], theta["sigma"]
        ),
        published_pass1=published_pass1,
        published_limit=published_limit,
        basis=basis,
        sources=tuple(sources),
        unsolved=theta["z"],
    )
    return replace(prior, mean=calibrate_mean(prior, published_pass1, published_limit))


def pass1_at(prior: ModelPrior, limit: float, r: float = 1.0, shift: float = 0.0) -> float:
    return float(model_accuracy(prior, np.array([1.0]), np.array([limit]), r, shift)[0, 0])


def calibrate_mean(prior: ModelPrior, target: float, limit: float) -> float:
    """Beta mean m such that pass@1 at `limit` equals `target` (clamped when out of reach)."""

    def gap(lm: float) -> float:
        return pass1_at(replace(prior, mean=expit(lm)), limit) - target

    if gap(9.0) < 0:
        return expit(9.0)
    if gap(-9.0) > 0:
        return expit(-9.0)
    return expit(bisect(gap, -9.0, 9.0, 1e-9))


# ------------------------------------------------------------------------------ sparse effect


def _pairs(runs: Sequence[Run], models: Iterable[str]) -> list[tuple[Run, Run]]:
    wanted = set(models)
    dense = {r.model: r for r in runs if r.attention == "dense"}
    return [
        (r, dense[r.model])
        for r in runs
        if r.attention != "dense" and r.model in wanted and r.model in dense
    ]


def page_of(run: Run) -> float:
    return float(run.block_size or 16)


def effective_budget(run: Run, penalty: float, page_exponent: float) -> float:
    """Block top-k at B with pages of s tokens behaves like top-k at B / (penalty (s / 16)^e)."""
    assert run.budget is not None
    if run.attention != "block-topk":
        return run.budget
    return run.budget / (penalty * (page_of(run) / 16.0) ** page_exponent)


def fit_stretch(
    pairs: Sequence[tuple[Run, Run]], penalty: float, page_exponent: float = 0.0
) -> tuple[float, float, float]:
    """(B_g, gamma, eta_g) of g = 1 + (B_g (P / P_ref)^-eta_g / B)^gamma, least squares in ln g
    on the ratio of lower-quartile lengths (the quartile is below the cap in every run)."""
    obs = np.array(
        [np.log(np.quantile(s.lengths, 0.25) / np.quantile(d.lengths, 0.25)) for s, d in pairs]
    )
    budget = np.array([effective_budget(s, penalty, page_exponent) for s, _ in pairs])
    size = np.array([PARAMS[s.model] / REFERENCE_PARAMS for s, _ in pairs])

    def loss(x: np.ndarray) -> float:
        scale = np.exp(x[0]) * size ** (-x[2])
        model = np.log1p((scale / budget) ** np.exp(x[1]))
        return float(np.sum((model - np.maximum(obs, 0.0)) ** 2))

    x, _ = nelder_mead(loss, [np.log(40.0), 0.0, 0.0], iterations=800)
    return float(np.exp(x[0])), float(np.exp(x[1])), float(x[2])


def _node_weights(fit: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    a, b = fit["m"] * fit["k"], (1.0 - fit["m"]) * fit["k"]
    p, w = beta_nodes(a, b, FIT_NODES)
    return np.append(p, 0.0), np.append((1.0 - fit["z"]) * w, fit["z"])


def _binomial_log_pmf(c: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """ln of p^c (1 - p)^(n - c) (the binomial coefficient cancels in posteriors and ratios)."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return c * np.log(p) + (n - c) * np.log1p(-p)


def _finished(fit: dict[str, float], p: np.ndarray, log_shift: float) -> np.ndarray:
    """P(correct answer within the cap | p) with lengths stretched by exp(log_shift)."""
    sd = float(np.hypot(fit["tau"], fit["sigma"]))
    mu = fit["mu"] + fit["beta"] * (1.0 - p) + log_shift
    return normal_cdf((np.log(CAP) - mu) / sd)


def stretched_effect(stretch: tuple[float, float, float], **fields: float) -> SparseEffect:
    """A sparse effect with the fitted length stretch (B_g, gamma, eta_g), no success size
    exponent and the reference size; `fields` are the rest of its parameters."""
    return SparseEffect(
        length_budget=stretch[0],
        length_power=stretch[1],
        size_exponent=0.0,
        length_size_exponent=stretch[2],
        reference_params=REFERENCE_PARAMS,
        **fields,
    )


def sparse_from_vector(x: np.ndarray, stretch: tuple[float, float, float]) -> SparseEffect:
    """x = ln of (B_r, rho, block penalty at 16-token pages, B_q, rho_q, kappa), then the page
    exponent; success and solvability do not
    scale with size (size exponents 0): a small model loses more because its problems have a
    lower solve rate p, which kappa turns into a larger loss."""
    return stretched_effect(
        stretch,
        success_budget=float(np.exp(x[0])),
        success_power=float(np.exp(x[1])),
        block_penalty=float(np.exp(x[2])),
        power_size_exponent=0.0,
        keep_budget=float(np.exp(x[3])),
        keep_power=float(np.exp(x[4])),
        keep_slope=float(np.exp(x[5])),
        page_exponent=float(x[6]),
    )


def fit_sparse(
    runs: Sequence[Run], fits: dict[str, dict[str, float]], iterations: int = 500
) -> SparseEffect:
    """The sparse effect from every sparse run of the models in `fits` (see the module doc)."""
    pairs = _pairs(runs, fits)
    prepared = []
    for s, d in pairs:
        fit = fits[s.model]
        p, w = _node_weights(fit)
        dense_keep = _finished(fit, p, 0.0)
        common = np.intersect1d(s.problems, d.problems)
        si, di = np.searchsorted(s.problems, common), np.searchsorted(d.problems, common)
        log_post = np.log(w + 1e-300)[None, :] + _binomial_log_pmf(
            d.c[di, None], d.n[di, None], p[None, :]
        )
        post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
        post /= post.sum(axis=1, keepdims=True)
        prepared.append((s, fit, p, dense_keep, post, s.c[si], s.n[si]))

    def nll(x: np.ndarray) -> float:
        if not (0.0 <= x[2] <= np.log(16.0) and -1.0 <= x[6] <= 3.0):
            return 1e12  # block penalty between 1 and 16 at 16-token pages
        effect = sparse_from_vector(x, stretch)
        total = 0.0
        for s, fit, p, keep, post, c, n in prepared:
            r, log_g = effect.factors(s.attention, s.budget, PARAMS[s.model], page_of(s))
            q = effect.keep(s.attention, s.budget, PARAMS[s.model], page_of(s))
            success = r * p * _finished(fit, p, log_g) / np.maximum(keep, 1e-12)
            lik = np.exp(_binomial_log_pmf(c[:, None], n[:, None], success[None, :]))
            qp = keep_share(q, effect.keep_slope, p)[None, :]
            lik = qp * lik + (1.0 - qp) * (c[:, None] == 0)
            total -= float(np.sum(np.log(np.sum(post * lik, axis=1) + 1e-300)))
        return total

    # start where the pass@1 and pass@32 ratios of the runs put it: half the solvable problems
    # lost near 30 tokens, success per trial x0.7 near 20 tokens, pages costing ~3x
    penalty = 3.0
    stretch = fit_stretch(pairs, penalty)
    x = np.append(np.log([20.0, 1.5, penalty, 30.0, 1.8, 1.0]), 0.5)
    for _ in range(2):  # the stretch depends on the block penalty: refit it once
        x, _ = nelder_mead(nll, x, iterations=iterations)
        stretch = fit_stretch(pairs, float(np.exp(x[2])), float(x[6]))
    x, _ = nelder_mead(nll, x, step=0.1, iterations=iterations)
    return sparse_from_vector(x, stretch)


# ------------------------------------------------------------------------------ prediction


def measured_coverage(run: Run, trials: np.ndarray) -> np.ndarray:
    """Mean over problems of the unbiased pass@N (every sample finishes within PLAN_LIMIT)."""
    from kinetics_cli.accuracy.passk import pass_at_k

    return np.asarray(pass_at_k(run.n[None, :], run.c[None, :], trials[:, None]).mean(axis=1))


def predicted_coverage(
    prior: ModelPrior, effect: SparseEffect, run: Run, trials: np.ndarray
) -> np.ndarray:
    """The prior's pass@N for a run's setting at PLAN_LIMIT (block top-k: the run's budget)."""
    r, log_g = effect.factors(run.attention, run.budget, prior.params, page_of(run))
    q = effect.keep(run.attention, run.budget, prior.params, page_of(run))
    shift = effect.logit_shift(run.attention, run.budget, page_of(run))
    hazard = effect.runaway_hazard(run.attention, run.budget, prior.params, page_of(run))
    limit = np.array([PLAN_LIMIT])
    return model_accuracy(prior, trials, limit, r, log_g, q, effect.keep_slope, shift, hazard)[:, 0]


# ------------------------------------------------------------------------------ shared difficulty
#
# The AIME24 runs are the same 30 problems for every size, so one latent difficulty per problem
# is shared: a problem of difficulty d has, for a model of ability theta at a setting that moves
# solve rates down by D in logit (D = 0 dense, D = (B_s / B_eff)^rho_s sparse), the solve rate
# p = sigmoid(theta - d - D) with unlimited generation; a trial succeeds within the run's cap with
# exp(-H h) p F_c(cap / g | p) (the size's own length fit, stretched by g; exp(-H h) the share of
# trials that do not run away to the cap, H the run's runaway hazard, h the problem's runaway
# sensitivity; the shift and the runaway act through one per-problem z, each with its own
# spread, and z's prior mean tilts with d). Difficulties are integrated
# over a fixed grid under a normal prior N(0, s^2) (empirical Bayes: s, every ability and the
# sparse parameters by maximum marginal likelihood of all runs of the fitted sizes), so a problem
# that no fitted size solved keeps a posterior spread rather than a solve rate of exactly 0.

D_GRID = np.linspace(-14.0, 14.0, 113)
Z_GRID = np.linspace(-2.5, 2.5, 11)  # standard-normal grid of the per-problem sparse sensitivity
ATOMS_PER_PROBLEM = 3  # solve-rate atoms per problem in a size's prior


def runaway_sensitivity(z: np.ndarray, sd: float, threshold: float | None = None) -> np.ndarray:
    """A problem's factor on the runaway hazard, 1 at z = 0: lognormal exp(sd z), or with a
    `threshold` two classes, sigmoid(sd (z - threshold)) / sigmoid(-sd threshold): robust
    problems (z well below it) near 0, fragile ones (above) at most 1 / sigmoid(-sd threshold)."""
    if threshold is None:
        return np.exp(sd * z)
    return (1.0 + np.exp(sd * threshold)) / (1.0 + np.exp(-sd * (z - threshold)))


@dataclass(frozen=True)
class SharedDifficulty:
    """The joint fit: the grid posterior of every problem's (difficulty d, sparse sensitivity z),
    the fitted abilities, the sparse logit shift (B_s, rho_s, block penalty, page exponent) and
    runaway (B_h, rho_h, eta_h); a problem's shift is D exp(sensitivity_sd z), its runaway
    hazard H exp(runaway_sd z)."""

    posterior: np.ndarray  # (problems, D_GRID, Z_GRID) weights, each problem's summing to 1
    abilities: dict[str, float]
    spread: float  # s, the prior sd of d
    sensitivity_sd: float  # 0: every problem takes the same shift
    shift_budget: float
    shift_power: float
    block_penalty: float
    page_exponent: float
    log_likelihood: float  # maximum marginal log-likelihood of the fitted runs
    parameters: int  # free parameters of the fit
    runaway_budget: float = 0.0  # B_h (0: no runaway)
    runaway_power: float = 1.0  # rho_h
    runaway_size_exponent: float = 0.0  # eta_h
    runaway_sd: float = 0.0  # a problem's runaway hazard is H exp(runaway_sd z)
    runaway_end_budget: float = float("inf")  # B_e: H = max(0, (S / B)^rho_h - (S / B_e)^rho_h)
    runaway_threshold: float | None = None  # two classes: see runaway_sensitivity
    sensitivity_slope: float = 0.0  # prior mean of z given d: slope (d / spread)
    sizes: tuple[float, float] = (0.0, float("inf"))  # smallest and largest fitted size

    def atoms(
        self, ability: float, per_problem: int = ATOMS_PER_PROBLEM
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Solve-rate atoms (p, w, shift scale, runaway scale) of a model of this ability on these
        problems: each problem's posterior, ordered by difficulty, cut into `per_problem`
        equal-mass bins, each represented by its mean solve rate and mean factors
        exp(sensitivity_sd z) and exp(runaway_sd z)."""
        d = np.repeat(D_GRID, Z_GRID.size)
        scale = np.exp(self.sensitivity_sd * np.tile(Z_GRID, D_GRID.size))
        run_scale = runaway_sensitivity(
            np.tile(Z_GRID, D_GRID.size), self.runaway_sd, self.runaway_threshold
        )
        p = 1.0 / (1.0 + np.exp(-(ability - d)))
        edges = np.linspace(0.0, 1.0, per_problem + 1)
        out_p, out_w, out_s, out_h = [], [], [], []
        for post in self.posterior.reshape(self.posterior.shape[0], -1):
            order = np.argsort(d - 1e-9 * scale, kind="stable")
            w = post[order]
            cum = np.cumsum(w)
            lo = np.concatenate([[0.0], cum[:-1]])
            overlap = np.clip(
                np.minimum(cum[None, :], edges[1:, None])
                - np.maximum(lo[None, :], edges[:-1, None]),
                0.0,
                None,
            )  # (bins, grid points): each point's mass split over the bins it straddles
            mass = overlap.sum(axis=1)
            out_p.append(overlap @ p[order] / mass)
            out_s.append(overlap @ scale[order] / mass)
            out_h.append(overlap @ run_scale[order] / mass)
            out_w.append(mass / self.posterior.shape[0])
        return (
            np.concatenate(out_p),
            np.concatenate(out_w),
            np.concatenate(out_s),
            np.concatenate(out_h),
        )


def _shift_of(run: Run, x_shift: np.ndarray) -> float:
    """The logit shift of a run under (ln B_s, ln rho_s, ln penalty, page exponent)."""
    if run.attention == "dense":
        return 0.0
    budget = effective_budget(run, float(np.exp(x_shift[2])), float(x_shift[3]))
    return float((np.exp(x_shift[0]) / budget) ** np.exp(x_shift[1]))


def _hazard_of(
    run: Run, x_shift: np.ndarray, x_run: np.ndarray, end_budget: float = float("inf")
) -> float:
    """The runaway hazard H of a run under (ln B_h, ln rho_h, eta_h, ...) (block penalty as the
    shift; the run's own size is always among the fitted ones, so no clamping here); with an
    `end_budget` B_e, H minus its value at B_e, floored at 0: no trial runs away from B_e up."""
    if run.attention == "dense" or x_run.size == 0:
        return 0.0
    budget = effective_budget(run, float(np.exp(x_shift[2])), float(x_shift[3]))
    scale = np.exp(x_run[0]) * (PARAMS[run.model] / REFERENCE_PARAMS) ** x_run[2]
    power = np.exp(x_run[1])
    hazard = float((scale / budget) ** power)
    return max(hazard - float((scale / end_budget) ** power), 0.0)


def _wrong_finished(fit: dict[str, float], p: np.ndarray, log_shift: float) -> np.ndarray:
    """P(a wrong answer ends within the cap | p) with lengths stretched by exp(log_shift)."""
    return _finished({**fit, "mu": fit["mu"] + fit["delta"]}, p, log_shift)


def capped_counts(run: Run) -> np.ndarray:
    """Per problem, the samples that ran to the cap and are not among the c correct ones (a few
    Qwen3-8B samples at the cap were graded correct: they count as correct)."""
    return np.minimum((run.lengths >= CAP).sum(axis=1), run.n - run.c)


@dataclass(frozen=True)
class FitOptions:
    """Which terms the shared-difficulty fit has (the bundled fit: the defaults).

    `sensitivity`: problems differ in how hard sparse attention hits them (one more parameter).
    `runaway`: sparse attention also makes a share 1 - exp(-H s_i) of a problem's trials run to
    the cap (three more parameters); every trial is then correct, wrong within the cap, or at
    the cap, and the likelihood is of those three counts per problem and run (`capped`: fitted
    on those three counts without the runaway term). `shift`: a logit shift of sparse attention.
    `correlated`: a problem's sparse sensitivity tilts with its difficulty (one parameter).
    `runaway_size`: the runaway hazard scales with model size.
    `end`: the runaway hazard is (B_h (P / P_ref)^eta_h)^rho_h (B^-rho_h - B_e^-rho_h), floored
    at 0 (one more parameter, B_e): no trial runs away at or above B_e; `end_budget`: the same
    with B_e fixed, not fitted. `two_class`: a problem's runaway sensitivity is
    bounded, fragile or robust (runaway_sensitivity; one more parameter, the threshold)."""

    sensitivity: bool = True
    runaway: bool = False
    capped: bool = False
    shift: bool = True
    correlated: bool = False
    runaway_size: bool = True
    end: bool = False
    two_class: bool = False
    end_budget: float = float("inf")


def fit_shared(
    runs: Sequence[Run],
    fits: dict[str, dict[str, float]],
    stretch: tuple[float, float, float] | None = None,
    iterations: int = 400,
    options: FitOptions = FitOptions(),
) -> tuple[SharedDifficulty, tuple[float, float, float]]:
    """The shared-difficulty model fitted on every run (dense and sparse) of the sizes in `fits`,
    with the terms `options` names; returns it with the length stretch (fit_stretch, refitted
    with the fitted block penalty)."""
    sensitivity, runaway, capped = options.sensitivity, options.runaway, options.capped
    shift, correlated, runaway_size = options.shift, options.correlated, options.runaway_size
    end, two_class, end_budget = options.end, options.two_class, options.end_budget
    models = sorted(fits, key=lambda m: PARAMS[m])
    chosen = [r for r in runs if r.model in fits]
    problems = np.unique(np.concatenate([r.problems for r in chosen]))
    counts_c = np.zeros((problems.size, len(chosen)))
    counts_w = np.zeros((problems.size, len(chosen)))
    counts_k = np.zeros((problems.size, len(chosen)))
    for j, r in enumerate(chosen):
        idx = np.searchsorted(problems, r.problems)
        counts_c[idx, j] = r.c
        if capped:
            counts_k[idx, j] = capped_counts(r)
        counts_w[idx, j] = r.n - r.c - counts_k[idx, j]
    pairs = _pairs(runs, models)
    if stretch is None:
        stretch = fit_stretch(pairs, 3.0, 0.5)
    n_shift = (5 if sensitivity else 4) + (1 if correlated else 0)

    def unpack(x: np.ndarray) -> tuple[dict[str, float], float, np.ndarray, np.ndarray]:
        rest = x[len(models) + 1 :].copy()
        if runaway and not runaway_size:
            rest[n_shift + 2] = 0.0  # the runaway does not scale with size
        return (
            dict(zip(models, x[: len(models)], strict=True)),
            float(np.exp(x[len(models)])),
            rest[:n_shift],
            rest[n_shift:],
        )

    d_flat = np.repeat(D_GRID, Z_GRID.size)
    z_flat = np.tile(Z_GRID, D_GRID.size)

    def sens_sd(xs: np.ndarray) -> float:
        return float(np.exp(xs[4])) if sensitivity else 0.0

    def ends(xr: np.ndarray) -> float:
        return float(np.exp(xr[0] + xr[4])) if end else end_budget

    def runaway_factor(xr: np.ndarray) -> np.ndarray:
        if not xr.size:
            return np.ones_like(z_flat)
        return runaway_sensitivity(z_flat, float(np.exp(xr[3])), xr[-1] if two_class else None)

    def log_outcomes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        abilities, _, xs, xr = unpack(x)
        factor = np.exp(sens_sd(xs) * z_flat)
        effect = stretched_effect(
            stretch,
            success_budget=0.0,
            success_power=1.0,
            block_penalty=float(np.exp(xs[2])),
            page_exponent=float(xs[3]),
        )
        ls, lw, lk = [], [], []
        for r in chosen:
            logit = abilities[r.model] - d_flat  # dense solve rate's logit
            p_dense = 1.0 / (1.0 + np.exp(-logit))
            _, log_g = effect.factors(r.attention, r.budget, PARAMS[r.model], page_of(r))
            moved = _shift_of(r, xs) * factor if shift else 0.0
            p_moved = 1.0 / (1.0 + np.exp(-(logit - moved)))
            kept = np.exp(-_hazard_of(r, xs, xr, ends(xr)) * runaway_factor(xr))
            fc = _finished(fits[r.model], p_dense, log_g)
            s = np.clip(kept * p_moved * fc, 1e-12, 1.0 - 1e-12)
            ls.append(np.log(s))
            if capped:
                fw = _wrong_finished(fits[r.model], p_dense, log_g)
                w = np.clip(kept * (1.0 - p_moved) * fw, 1e-12, 1.0)
                lw.append(np.log(w))
                lk.append(np.log(np.clip(1.0 - s - w, 1e-12, 1.0)))
            else:
                lw.append(np.log1p(-s))
                lk.append(np.zeros_like(s))
        return np.array(ls), np.array(lw), np.array(lk)  # (runs, grid)

    def log_joint(x: np.ndarray) -> np.ndarray:
        _, spread, xs, _ = unpack(x)
        ls, lw, lk = log_outcomes(x)
        tilt = xs[-1] * d_flat / spread if correlated else 0.0
        log_prior = -0.5 * (d_flat / spread) ** 2 - 0.5 * (z_flat - tilt) ** 2
        log_prior -= np.log(np.exp(log_prior).sum())
        return counts_c @ ls + counts_w @ lw + counts_k @ lk + log_prior[None, :]

    def nll(x: np.ndarray) -> float:
        _, _, xs, xr = unpack(x)
        if not (0.0 <= xs[2] <= np.log(16.0) and -1.0 <= xs[3] <= 3.0):
            return 1e12
        if xr.size and not (-2.0 <= xr[2] <= 2.0):
            return 1e12
        lj = log_joint(x)
        top = lj.max(axis=1, keepdims=True)
        return -float(np.sum(top[:, 0] + np.log(np.exp(lj - top).sum(axis=1))))

    x0 = np.concatenate(
        [
            [logit(max(min(fits[m]["m"] * (1 - fits[m]["z"]), 0.95), 0.05)) for m in models],
            [np.log(3.0), np.log(60.0), np.log(1.5), np.log(3.0), 0.5],
            [np.log(0.5)] if sensitivity else [],
            [0.0] if correlated else [],
            [np.log(40.0), np.log(1.0), 0.3 if runaway_size else 0.0, np.log(1.0)]
            + ([np.log(25.0)] if end else [])
            + ([1.0] if two_class else [])
            if runaway
            else [],
        ]
    )
    x, _ = nelder_mead(nll, x0, step=0.5, iterations=iterations)
    for _ in range(2):  # the stretch depends on the block penalty: refit it, then the rest
        xs = unpack(x)[2]
        stretch = fit_stretch(pairs, float(np.exp(xs[2])), float(xs[3]))
        x, value = nelder_mead(nll, x, step=0.15, iterations=iterations)
    lj = log_joint(x)
    post = np.exp(lj - lj.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    abilities, spread, xs, xr = unpack(x)
    return (
        SharedDifficulty(
            posterior=post.reshape(-1, D_GRID.size, Z_GRID.size),
            abilities=abilities,
            spread=spread,
            sensitivity_sd=sens_sd(xs),
            log_likelihood=-value,
            parameters=x.size + 3,  # and the length stretch's three
            shift_budget=float(np.exp(xs[0])) if shift else 0.0,
            shift_power=float(np.exp(xs[1])),
            block_penalty=float(np.exp(xs[2])),
            page_exponent=float(xs[3]),
            runaway_budget=float(np.exp(xr[0])) if xr.size else 0.0,
            runaway_power=float(np.exp(xr[1])) if xr.size else 1.0,
            runaway_size_exponent=float(xr[2]) if xr.size else 0.0,
            runaway_sd=float(np.exp(xr[3])) if xr.size else 0.0,
            runaway_end_budget=ends(xr) if xr.size else float("inf"),
            runaway_threshold=float(xr[-1]) if two_class and xr.size else None,
            sensitivity_slope=float(xs[-1]) if correlated else 0.0,
            sizes=(min(PARAMS[m] for m in models), max(PARAMS[m] for m in models)),
        ),
        stretch,
    )


def shared_effect(shared: SharedDifficulty, stretch: tuple[float, float, float]) -> SparseEffect:
    """The sparse effect of the shared-difficulty fit: a logit shift and the length stretch."""
    return stretched_effect(
        stretch,
        success_budget=0.0,
        success_power=1.0,
        block_penalty=shared.block_penalty,
        page_exponent=shared.page_exponent,
        shift_budget=shared.shift_budget,
        shift_power=shared.shift_power,
        runaway_budget=shared.runaway_budget,
        runaway_power=shared.runaway_power,
        runaway_size_exponent=shared.runaway_size_exponent,
        runaway_end_budget=shared.runaway_end_budget,
        runaway_min_params=shared.sizes[0],
        runaway_max_params=shared.sizes[1],
    )


def make_shared_prior(
    name: str,
    params: float,
    theta: dict[str, float],
    shared: SharedDifficulty,
    published_pass1: float,
    published_limit: float,
    basis: str = "",
    sources: Sequence[str] = (),
) -> ModelPrior:
    """A prior on the shared problems: lengths from `theta`, solve-rate atoms at the ability that
    reproduces the published pass@1 at its limit."""
    base = make_prior(name, params, theta, published_pass1, published_limit, basis, sources)

    def at(ability: float) -> ModelPrior:
        p, w, scale, run_scale = shared.atoms(ability)
        return replace(
            base,
            mean=float(np.sum(w * p)),
            unsolved=0.0,
            rates=tuple(float(v) for v in p),
            rate_weights=tuple(float(v) for v in w),
            rate_shift_scales=tuple(float(v) for v in scale) if shared.sensitivity_sd else (),
            rate_runaway_scales=(tuple(float(v) for v in run_scale) if shared.runaway_sd else ()),
        )

    ability = bisect(
        lambda a: pass1_at(at(a), published_limit) - published_pass1, -20.0, 20.0, 1e-7
    )
    return at(ability)
