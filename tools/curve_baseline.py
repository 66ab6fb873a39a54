"""Non-parametric baselines for the leave-one-size-out check, and what any predictor can attain.

Shared by tools/validate_priors.py (`--baseline`, `--oracle`, `--compare`). No fit, no prior:

* **curve interpolation.** The held-out size's measured pass@N at a setting (attention, budget,
  page) is predicted from the other sizes' measured pass@N curves, in logit and in
  ln(parameters): logit pass@N = dense(N) + delta_s(N), dense from the other sizes' dense curves,
  delta_s (setting minus dense, same size) from the other sizes that ran the setting. Two rules:
  `neighbours` (linear between the two bracketing sizes, the nearest size's value past either
  end) and `smooth` (a least-squares line over every size; a constant where one size ran the
  setting). Variants: `-pass1` anchors the dense curve at the held-out size's published pass@1
  (the one figure the priors take from outside this data); `pass1-axis` places the sizes at the
  logit of their published pass@1 instead of ln(parameters); `ratio-pass1` interpolates delta_s
  in ln pass@N (the share of pass@N a setting keeps) instead of logit. A curve measured with
  fewer samples than N (32B: 8, 14B dense: 16) is carried on past its last N by the logit
  increments of the nearest size that ran the same setting with 32. A setting no other size ran
  (Qwen3-1.7B block top-k with one 128-token page) is not predicted.
* **an oracle.** A predictor that knew the held-out size's true solve rate p_i on each of the 30
  problems would predict mean_i 1 - (1 - p_i)^N, the expectation of the measured unbiased pass@N;
  its error is the sampling noise of the measured curve alone. Simulated: p_i drawn from each
  run's posterior (zero-inflated Beta-binomial fitted to that run's counts, or the plug-in c / n),
  counts redrawn, the error table formed as for a real predictor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from prior_fit import PARAMS, Run, fit_counts, measured_coverage

MAX_TRIALS = 32
EPS = 1e-3  # logit clip: pass@N within [0.001, 0.999]
# name: (rule, axis, anchored at the published pass@1, sparse minus dense in ln pass@N rather
# than logit). The axis is where sizes sit: ln(parameters), or the logit of their published
# pass@1 (which implies the anchor).
BASELINES = {
    "neighbours": ("neighbours", "params", False, False),
    "smooth": ("smooth", "params", False, False),
    "neighbours-pass1": ("neighbours", "params", True, False),
    "smooth-pass1": ("smooth", "params", True, False),
    "pass1-axis": ("neighbours", "pass1", True, False),
    "ratio-pass1": ("neighbours", "params", True, True),
}

Setting = tuple[str, float | None, int | None]


def setting_of(run: Run) -> Setting:
    return (run.attention, run.budget, run.block_size)


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, EPS, 1.0 - EPS)
    return np.asarray(np.log(q / (1.0 - q)))


def expit(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def curve(run: Run) -> np.ndarray:
    """Logit of the measured pass@N, N = 1..min(32, samples)."""
    trials = np.arange(1, min(MAX_TRIALS, int(run.n.min())) + 1, dtype=float)
    return logit(measured_coverage(run, trials))


def extended(curves: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every curve carried to N = 32: past its last N, by the logit increments of the nearest
    size (ln parameters) whose curve reaches 32; curves with no such size are left short."""
    long = [m for m, y in curves.items() if y.size == MAX_TRIALS]
    out = {}
    for m, y in curves.items():
        if y.size == MAX_TRIALS or not long:
            out[m] = y
            continue
        near = min(long, key=lambda o: abs(np.log(PARAMS[o] / PARAMS[m])))
        ref = curves[near]
        out[m] = np.concatenate([y, y[-1] + ref[y.size :] - ref[y.size - 1]])
    return out


def _neighbours(xs: np.ndarray, ys: np.ndarray, x: float) -> np.ndarray:
    """Linear between the bracketing points, the nearest point's value past either end (ys: (S, N))."""
    order = np.argsort(xs)
    xs, ys = xs[order], ys[order]
    return np.array([np.interp(x, xs, ys[:, j]) for j in range(ys.shape[1])])


def _smooth(xs: np.ndarray, ys: np.ndarray, x: float) -> np.ndarray:
    """Least-squares line in x through every point (one point: its value)."""
    if xs.size == 1:
        return np.asarray(ys[0])
    coeffs = np.polyfit(xs, ys, 1)  # (2, N)
    return np.asarray(np.polyval(coeffs, x))


def position(model: str, axis: str, pass1: dict[str, float]) -> float:
    """Where a size sits for interpolation: ln(parameters), or logit of its published pass@1."""
    if axis == "params":
        return float(np.log(PARAMS[model]))
    return float(logit(np.array(pass1[model])))


def _across(
    rule: str, curves: dict[str, np.ndarray], x: float, where: Callable[[str], float]
) -> np.ndarray:
    xs = np.array([where(m) for m in curves])
    ys = np.vstack(list(curves.values()))
    return _neighbours(xs, ys, x) if rule == "neighbours" else _smooth(xs, ys, x)


def predict(
    runs: Sequence[Run],
    held: Run,
    rule: str,
    axis: str = "params",
    pass1: dict[str, float] | None = None,
    ratio: bool = False,
) -> np.ndarray | None:
    """The held-out run's pass@N (N = 1..min(32, its samples)) from the other sizes' curves by
    `rule` along `axis`, or None when no other size ran its setting. With `pass1` (published
    pass@1 per size) the dense curve is anchored: logit pass@N = logit pass1 + the interpolated
    growth logit pass@N - logit pass@1, as the priors calibrate each size's ability to it. With
    `ratio` a sparse setting keeps the interpolated share sparse / dense of pass@N (delta_s in
    ln pass@N instead of logit)."""
    others = [r for r in runs if r.model != held.model]
    dense = extended({r.model: curve(r) for r in others if r.attention == "dense"})
    same = extended({r.model: curve(r) for r in others if setting_of(r) == setting_of(held)})
    if not same:
        return None
    if axis == "pass1" and pass1 is None:
        raise ValueError("the pass1 axis needs the published pass@1 of every size")
    published = pass1 or {}

    def where(m: str) -> float:
        return position(m, axis, published)

    x = where(held.model)
    if pass1 is None:
        base = _across(rule, dense, x, where)
    else:
        growth = {m: y - y[0] for m, y in dense.items()}
        base = float(logit(np.array(pass1[held.model]))) + _across(rule, growth, x, where)
    if held.attention == "dense":
        p = expit(base)
    elif ratio:
        share = {m: np.log(expit(y) / expit(dense[m])) for m, y in same.items() if m in dense}
        p = np.minimum(expit(base) * np.exp(_across(rule, share, x, where)), 1.0 - EPS)
    else:
        delta = {m: y - dense[m] for m, y in same.items() if m in dense}
        p = expit(base + _across(rule, delta, x, where))
    return p[: min(MAX_TRIALS, int(held.n.min()))]


def baseline_errors(
    runs: Sequence[Run],
    held_out: Sequence[str],
    kind_of: Callable[[Run], str],
    name: str,
    pass1: dict[str, float],
) -> tuple[list[tuple[str, str, str, np.ndarray]], list[str]]:
    """(held-out size, run label, kind, errors in points over N) of the baseline `name`
    (BASELINES) as validate_priors.leave_one_out gives them, and the labels of the runs it cannot
    predict (no other size ran their setting)."""
    rule, axis, anchored, ratio = BASELINES[name]
    published = pass1 if anchored else None
    out, missing = [], []
    for h in held_out:
        for run in (r for r in runs if r.model == h):
            pred = predict(runs, run, rule, axis, published, ratio)
            if pred is None:
                missing.append(run.label)
                continue
            trials = np.arange(1, pred.size + 1, dtype=float)
            out.append(
                (h, run.label, kind_of(run), 100.0 * (pred - measured_coverage(run, trials)))
            )
    return out, missing


# ------------------------------------------------------------------------------ the oracle


def posterior_draws(
    run: Run, rng: np.random.Generator, replicates: int, plug_in: bool
) -> np.ndarray:
    """(replicates, P) solve rates: c / n (plug_in) or draws from the per-problem posterior under
    the zero-inflated Beta-binomial fitted to the run's own counts (prior_fit.fit_counts)."""
    if plug_in:
        return np.tile(run.c / run.n, (replicates, 1))
    fit = fit_counts(run)
    a, b = fit["m"] * fit["k"], (1.0 - fit["m"]) * fit["k"]
    # P(zero class | c = 0) = z / (z + (1 - z) BB(0 | n)); BB(0 | n) = B(a, b + n) / B(a, b)
    log_bb0 = np.array(
        [np.sum(np.log(b + np.arange(n)) - np.log(a + b + np.arange(n))) for n in run.n]
    )
    zero = fit["z"] / (fit["z"] + (1.0 - fit["z"]) * np.exp(log_bb0))
    p = rng.beta(a + run.c, b + run.n - run.c, size=(replicates, run.n.size))
    is_zero = (run.c == 0)[None, :] & (rng.random((replicates, run.n.size)) < zero[None, :])
    return np.where(is_zero, 0.0, p)


def oracle_errors(
    runs: Sequence[Run], replicates: int, plug_in: bool, seed: int = 2024
) -> dict[str, np.ndarray]:
    """Per run label, (replicates, N) errors in points of the oracle: measured pass@N of counts
    redrawn from p minus the oracle's mean_i 1 - (1 - p_i)^N."""
    from kinetics_cli.accuracy.passk import pass_at_k

    out = {}
    for i, run in enumerate(runs):
        rng = np.random.default_rng(seed + i)
        trials = np.arange(1, min(MAX_TRIALS, int(run.n.min())) + 1, dtype=float)
        p = posterior_draws(run, rng, replicates, plug_in)  # (R, P)
        c = rng.binomial(run.n[None, :], p)
        measured = pass_at_k(run.n[None, :, None], c[:, :, None], trials).mean(axis=1)  # (R, N)
        expected = (1.0 - (1.0 - p[:, :, None]) ** trials).mean(axis=1)
        out[run.label] = 100.0 * (measured - expected)
    return out


def oracle_summary(errors: Sequence[np.ndarray]) -> dict[str, float]:
    """Over replicates: quantiles of the mean and worst |error| of one error table, and how
    often the table meets mean <= 2 and worst <= 5 points."""
    table = np.concatenate([np.abs(e) for e in errors], axis=1)  # (R, points)
    mean, worst = table.mean(axis=1), table.max(axis=1)
    return {
        "mean_median": float(np.median(mean)),
        "mean_p95": float(np.quantile(mean, 0.95)),
        "worst_p05": float(np.quantile(worst, 0.05)),
        "worst_median": float(np.median(worst)),
        "worst_p95": float(np.quantile(worst, 0.95)),
        "p_mean": float(np.mean(mean <= 2.0)),
        "p_worst": float(np.mean(worst <= 5.0)),
        "p_both": float(np.mean((mean <= 2.0) & (worst <= 5.0))),
    }
