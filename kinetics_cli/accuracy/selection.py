"""Selection rules for Best-of-N: which of N sampled answers a deployment returns, and at what cost.

* ``coverage``: solved when any of the N answers is right, as if a perfect verifier chose. An
  oracle (the paper's Best-of-N); an upper bound for every rule below.
* ``majority`` (self-consistency): the most frequent final answer wins, ties broken uniformly at
  random; truncated trials and trials with an empty answer (no final answer) do not vote.
* ``verifier``: an imperfect verifier (recall R, false-positive rate F) scores every candidate;
  one accepted candidate is returned at random, or a random candidate when none is accepted.
  Its scoring pass is a prefill of every candidate through the verifier model (costed by the
  planner).
* ``early-stop``: majority vote that stops sampling once the leader cannot be overtaken by the
  samples left; it returns exactly the majority@N answer, with fewer samples on average.

From evaluations (per-trial rows with the extracted final ``answer``) the estimators are exact
expectations over which N of a problem's n samples are drawn (without replacement): no random
draw. For the bundled priors a small answer model (wrong answers: one dominant wrong value and
scattered singletons) gives the same rules under the prior's per-problem solve rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from kinetics_cli.accuracy.bootstrap import percentile_interval, problem_draws
from kinetics_cli.errors import InputError

if TYPE_CHECKING:
    from kinetics_cli.accuracy.base import Setting
    from kinetics_cli.accuracy.priors import PriorSource

RULES = ("coverage", "majority", "verifier", "early-stop")
ORACLE_RULES = frozenset({"coverage"})
DEFAULT_RULES = ("coverage",)
MAX_SAMPLES = 1000  # binomials of larger counts overflow float64 (C(1030, 515) > 1.8e308)


def check_rules(rules: Sequence[str]) -> tuple[str, ...]:
    """The rules asked for, deduplicated in order; unknown names raise InputError."""
    chosen = tuple(dict.fromkeys(r.strip() for r in rules if r.strip()))
    bad = [r for r in chosen if r not in RULES]
    if bad:
        raise InputError(f"unknown selection rule {bad[0]!r}; choose from {', '.join(RULES)}")
    if not chosen:
        raise InputError(f"--selection needs at least one rule ({', '.join(RULES)})")
    return chosen


def is_oracle(rule: str) -> bool:
    """Whether a selection rule needs knowledge a deployment does not have (the right answer)."""
    return rule in ORACLE_RULES


@lru_cache(maxsize=8)
def _binomials(n_max: int) -> np.ndarray:
    """C[n, k] for 0 <= k <= n <= n_max as floats (Pascal's rule; exact below 2^53)."""
    c = np.zeros((n_max + 1, n_max + 1))
    c[:, 0] = 1.0
    for n in range(1, n_max + 1):
        c[n, 1 : n + 1] = c[n - 1, 1 : n + 1] + c[n - 1, 0:n]
    c.setflags(write=False)
    return c


# ------------------------------------------------------------------------------ answer counts


@dataclass(frozen=True)
class AnswerCounts:
    """One problem's samples grouped by final answer: the right one, each wrong value, none."""

    correct: int  # samples with the right final answer (finished within the limit)
    wrong: tuple[int, ...]  # samples per distinct wrong answer, largest first
    abstain: int = 0  # samples without a final answer (truncated or unparsable): they never vote

    @property
    def n(self) -> int:
        return self.correct + sum(self.wrong) + self.abstain

    @classmethod
    def of(
        cls,
        answers: Sequence[str | None],
        correct: Sequence[bool],
        finished: Sequence[bool] | None = None,
    ) -> AnswerCounts:
        """Group samples: a correct finished sample votes for the right answer; a wrong
        finished one for its own answer text; unfinished or empty answers abstain. Two samples
        marked correct always agree, whatever their text."""
        done = [True] * len(answers) if finished is None else list(finished)
        right = 0
        none = 0
        votes: dict[str, int] = {}
        for answer, ok, fin in zip(answers, correct, done, strict=True):
            text = "" if answer is None else str(answer).strip()
            if not fin:
                none += 1
            elif ok:
                right += 1
            elif not text:
                none += 1
            else:
                votes[text] = votes.get(text, 0) + 1
        return cls(right, tuple(sorted(votes.values(), reverse=True)), none)


def _check_counts(counts: AnswerCounts) -> None:
    if counts.correct < 0 or counts.abstain < 0 or any(w <= 0 for w in counts.wrong):
        raise InputError("answer counts must be non-negative (and wrong classes non-empty)")
    if counts.n < 1:
        raise InputError("a problem needs at least one sample")
    if counts.n > MAX_SAMPLES:
        raise InputError(
            f"majority-vote estimators take at most {MAX_SAMPLES} samples per problem "
            f"(got {counts.n})"
        )


def _trial_counts(trials: np.ndarray | Sequence[float] | int) -> np.ndarray:
    n = np.atleast_1d(np.asarray(trials, dtype=float))
    if np.any(n < 1) or np.any(n != np.round(n)):
        raise InputError("trial counts must be whole numbers >= 1")
    return n


# ------------------------------------------------------------------------------ majority vote


def _majority_core(
    correct: int,
    wrong: Sequence[int],
    abstain: int,
    draws: int,
    correct_offset: int = 0,
    wrong_offsets: Sequence[int] | None = None,
) -> np.ndarray:
    """Expected majority credit for every number of draws 0..`draws` (index = draws).

    Votes are offset + drawn; draws are without replacement from the correct, wrong and
    abstaining samples. Credit is 1 / (classes tied at the top) when the right answer is among
    them. Generating function per wrong class j, given the right answer's x votes:
    sum_{k: o_j + k < x} C(w_j, k) z^k + u C(w_j, x - o_j) z^(x - o_j); the tie credit
    1 / (1 + T) = int_0^1 u^T du is integrated exactly by Gauss-Legendre in u.
    """
    offsets = [0] * len(wrong) if wrong_offsets is None else list(wrong_offsets)
    z_max = draws
    n_all = correct + sum(wrong) + abstain
    comb = _binomials(max(n_all, z_max, 1))
    xs = np.arange(correct_offset, correct_offset + min(correct, draws) + 1)  # right's votes
    x_col = xs[:, None, None]
    m = len(wrong)
    nodes = m // 2 + 1
    from numpy.polynomial.legendre import leggauss

    t, wt = leggauss(nodes)
    u = 0.5 * (t + 1.0)
    wu = 0.5 * wt
    u_row = u[None, :, None]
    z = np.arange(z_max + 1)
    poly = np.zeros((xs.size, nodes, z_max + 1))
    ab = comb[abstain, : min(abstain, z_max) + 1]
    poly[:, :, : ab.size] = ab
    for w_j, o_j in zip(wrong, offsets, strict=True):
        new = np.zeros_like(poly)
        for k in range(min(w_j, z_max) + 1):
            votes = o_j + k
            coef = comb[w_j, k] * np.where(votes < x_col, 1.0, np.where(votes == x_col, u_row, 0.0))
            if not np.any(coef):
                continue
            new[:, :, k:] += coef * poly[:, :, : z_max + 1 - k]
        poly = new
    g = np.einsum("xuz,u->xz", poly, wu)  # (X, Z): tie-weighted ways for the others' z draws
    out = np.zeros(z_max + 1)
    for i, x in enumerate(xs):
        drawn = x - correct_offset
        if x <= 0:
            continue  # no vote for the right answer: it cannot win
        ways = comb[correct, drawn]
        total = z + drawn  # draws of this configuration
        keep = total <= z_max
        np.add.at(out, total[keep], ways * g[i, z[keep]])
    return out


def majority_accuracy(
    counts: AnswerCounts, trials: np.ndarray | Sequence[float] | int
) -> np.ndarray:
    """Exact expected accuracy of a majority vote over N samples drawn without replacement from
    the problem's n samples, ties broken uniformly at random, for each N in `trials` (NaN where
    N > n). Sum over the right answer's votes x of C(c, x) times the ways the other classes
    stay at most x (tie-weighted), over C(n, N)."""
    _check_counts(counts)
    n = _trial_counts(trials)
    usable = n[n <= counts.n]
    out = np.full(n.shape, np.nan)
    if usable.size == 0:
        return out
    top = int(usable.max())
    credit = _cached_majority(counts, top)
    comb = _binomials(counts.n)
    idx = n <= counts.n
    k = n[idx].astype(int)
    out[idx] = credit[k] / comb[counts.n, k]
    return out


@lru_cache(maxsize=4096)
def _cached_majority(counts: AnswerCounts, top: int) -> np.ndarray:
    return _majority_core(counts.correct, counts.wrong, counts.abstain, top)


def majority_accuracy_without(
    counts: AnswerCounts, removed: str, trials: np.ndarray | Sequence[float] | int
) -> np.ndarray:
    """majority_accuracy after one sample of class `removed` ('correct', 'abstain' or
    'wrong:<i>') is taken out of the pool (the adaptive rule's fresh draws exclude the first)."""
    c, wrong, a = counts.correct, list(counts.wrong), counts.abstain
    if removed == "correct":
        c -= 1
    elif removed == "abstain":
        a -= 1
    else:
        i = int(removed.split(":", 1)[1])
        wrong[i] -= 1
    reduced = AnswerCounts(c, tuple(sorted((w for w in wrong if w > 0), reverse=True)), a)
    if reduced.n < 1:
        return np.full(np.atleast_1d(np.asarray(trials, dtype=float)).shape, np.nan)
    return majority_accuracy(reduced, trials)


# ------------------------------------------------------------------------------ early stopping


def early_stop_samples(
    counts: AnswerCounts, trials: np.ndarray | Sequence[float] | int
) -> np.ndarray:
    """Exact expected number of samples drawn by early-stopped majority vote with at most N
    samples, for each N in `trials` (NaN where N > n).

    Samples come in a uniformly random order (without replacement); after k samples the vote
    stops once the leader is ahead of every other answer by more than N - k, so the answer is
    the majority@N one (same accuracy). Being stopped by k is monotone in k, so
    E[K] = sum_{k<N} P(lead after k samples <= N - k), and P(lead > d) sums, over the leading
    class i and its count x, C(n_i, x) [z^(k-x)] prod_{j != i} (sum_{m < x - d} C(n_j, m) z^m)
    times the abstainers' (1 + z)^a, over C(n, k).
    """
    _check_counts(counts)
    n = _trial_counts(trials)
    out = np.full(n.shape, np.nan)
    idx = n <= counts.n
    if not np.any(idx):
        return out
    top = int(n[idx].max())
    table = _early_stop_table(counts, top)
    out[idx] = table[n[idx].astype(int)]
    return out


@lru_cache(maxsize=4096)
def _early_stop_table(counts: AnswerCounts, top: int) -> np.ndarray:
    """E[K] for every N in 0..top (index N)."""
    classes = [counts.correct, *counts.wrong]
    classes = [s for s in classes if s > 0]
    comb = _binomials(max(counts.n, top, 1))
    z_max = top
    t_max = top
    # H[size][t, z]: prod over the other classes of their polynomial truncated below t, times
    # the abstainers' polynomial; one table per distinct leading-class size.
    sizes = sorted(set(classes))
    mult = {s: classes.count(s) for s in sizes}
    ab = np.zeros(z_max + 1)
    ab[: min(counts.abstain, z_max) + 1] = comb[counts.abstain, : min(counts.abstain, z_max) + 1]
    t_col = np.arange(t_max + 1)[:, None]
    tables: dict[int, np.ndarray] = {}
    for lead in sizes:
        others = list(classes)
        others.remove(lead)
        h = np.tile(ab, (t_max + 1, 1))
        for size in others:
            new = np.zeros_like(h)
            for m in range(min(size, z_max) + 1):
                coef = np.where(m < t_col, comb[size, m], 0.0)
                new[:, m:] += coef * h[:, : z_max + 1 - m]
            h = new
        tables[lead] = h
    result = np.zeros(top + 1)
    for big_n in range(1, top + 1):
        k = np.arange(big_n)  # samples drawn so far
        d = big_n - k  # samples left
        p_lead = np.zeros(big_n)
        for lead in sizes:
            x = np.arange(1, min(lead, top) + 1)
            t = x[None, :] - d[:, None]
            zz = k[:, None] - x[None, :]
            ok = (t >= 1) & (zz >= 0)
            vals = np.where(ok, tables[lead][np.clip(t, 0, t_max), np.clip(zz, 0, z_max)], 0.0)
            p_lead += mult[lead] * (vals * comb[lead, x][None, :]).sum(axis=1)
        p_lead /= comb[counts.n, k]
        result[big_n] = float(np.sum(1.0 - p_lead))
    return result


# ------------------------------------------------------------------------------ verifier


@dataclass(frozen=True)
class Verifier:
    """An imperfect verifier: it accepts a right candidate with probability `recall` and a wrong
    one with probability `false_positive_rate`; `model` (a catalog name) prices its scoring
    pass. From a stated precision P at base rate b (the candidates' pass@1):
    F = R b (1 - P) / (P (1 - b))."""

    recall: float
    false_positive_rate: float
    model: str = ""
    precision: float | None = None  # as stated, when built from precision and recall

    def __post_init__(self) -> None:
        if not (0.0 <= self.recall <= 1.0 and 0.0 <= self.false_positive_rate <= 1.0):
            raise InputError("verifier recall and false-positive rate must lie in [0, 1]")

    @classmethod
    def from_precision(
        cls, recall: float, precision: float, base_rate: float, model: str = ""
    ) -> Verifier:
        if not (0.0 < precision <= 1.0 and 0.0 < recall <= 1.0):
            raise InputError("verifier precision and recall must lie in (0, 1]")
        b = float(np.clip(base_rate, 1e-9, 1.0 - 1e-9))
        fpr = recall * b * (1.0 - precision) / (precision * (1.0 - b))
        return cls(recall, float(min(fpr, 1.0)), model, precision)


@lru_cache(maxsize=256)
def _verifier_table(top: int, recall: float, fpr: float) -> np.ndarray:
    """V[N, x]: chance the verifier's pick is right among N candidates of which x are right.

    Accepted right A ~ Bin(x, R), accepted wrong B ~ Bin(N - x, F); the pick is uniform among
    the accepted (right with chance A / (A + B)), or uniform among all N when none is (x / N).
    """
    comb = _binomials(max(top, 1))
    v = np.zeros((top + 1, top + 1))
    a = np.arange(top + 1)
    ratio = np.where(
        (a[:, None] + a[None, :]) > 0, a[:, None] / np.maximum(a[:, None] + a[None, :], 1), 0.0
    )
    for big_n in range(1, top + 1):
        for x in range(big_n + 1):
            pa = comb[x, : x + 1] * recall ** a[: x + 1] * (1 - recall) ** (x - a[: x + 1])
            y = big_n - x
            pb = comb[y, : y + 1] * fpr ** a[: y + 1] * (1 - fpr) ** (y - a[: y + 1])
            picked = pa @ ratio[: x + 1, : y + 1] @ pb
            none = pa[0] * pb[0]
            v[big_n, x] = picked + none * x / big_n
    return v


def verifier_accuracy(
    n: int, c: int, trials: np.ndarray | Sequence[float] | int, verifier: Verifier
) -> np.ndarray:
    """Exact expected accuracy of verifier selection over N of a problem's n samples (c right),
    drawn without replacement: sum_x Hyp(x; n, c, N) V[N, x]. NaN where N > n."""
    if n < 1 or not 0 <= c <= n or n > MAX_SAMPLES:
        raise InputError(f"verifier estimate needs 1 <= n <= {MAX_SAMPLES} and 0 <= c <= n")
    big = _trial_counts(trials)
    out = np.full(big.shape, np.nan)
    comb = _binomials(n)
    idx = np.flatnonzero(big <= n)
    if idx.size == 0:
        return out
    v = _verifier_table(int(big[idx].max()), verifier.recall, verifier.false_positive_rate)
    for i in idx:
        k = int(big[i])
        x = np.arange(min(c, k) + 1)
        hyp = comb[c, x] * comb[n - c, k - x] / comb[n, k]
        hyp = np.where(k - x <= n - c, hyp, 0.0)
        out[i] = float(hyp @ v[k, x])
    return out


def verifier_accuracy_iid(
    p_right: np.ndarray, trials: np.ndarray, verifier: Verifier
) -> np.ndarray:
    """Verifier accuracy when each of N candidates is right independently with probability p
    (the priors): with alpha = p R + (1 - p) F accepted per candidate,
    (1 - (1 - alpha)^N) p R / alpha + (1 - alpha)^N p (1 - R) / (1 - alpha). Shape (T, *p)."""
    p = np.asarray(p_right, dtype=float)
    n = np.asarray(trials, dtype=float).reshape((-1,) + (1,) * p.ndim)
    r, f = verifier.recall, verifier.false_positive_rate
    alpha = p * r + (1.0 - p) * f
    none = (1.0 - alpha) ** n
    accepted = np.where(alpha > 0, p * r / np.maximum(alpha, 1e-300), 0.0)
    fallback = np.where(alpha < 1, p * (1.0 - r) / np.maximum(1.0 - alpha, 1e-300), 0.0)
    return np.asarray((1.0 - none) * accepted + none * fallback)


# ------------------------------------------------------------------------------ answer model


@dataclass(frozen=True)
class AnswerModel:
    """How wrong answers spread, for majority vote under the priors.

    A finished wrong sample gives the problem's dominant wrong value with probability
    `dominant_share` (q) and otherwise a value no other sample shares. Fitted to published
    (pass@1, cons@64) pairs (tools/fit_answer_model.py; docs/planning.md); a prior, not a
    measurement.
    """

    dominant_share: float
    source: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.dominant_share <= 1.0:
            raise InputError("the dominant wrong-answer share must lie in [0, 1]")


_THETA_POINTS = 513
_VOTE_POINTS = 257


@lru_cache(maxsize=16)
def _majority_table(trials: tuple[int, ...]) -> np.ndarray:
    """M[t, v, theta]: chance the right answer wins with x_right >= 2 votes under N = trials[t]
    iid samples, right + dominant-wrong rate v and right share theta of them:
    sum_s Bin(s; N, v) T_s(theta), T_s = P(Bin(s, theta) > s/2, >= 2) + P(= s/2 >= 2) / 2."""
    top = max(trials)
    theta = np.linspace(0.0, 1.0, _THETA_POINTS)
    v = np.linspace(0.0, 1.0, _VOTE_POINTS)
    comb = _binomials(max(top, 1))
    x = np.arange(top + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_t = np.log(theta)
        log_1t = np.log1p(-theta)
    tcol = np.zeros((top + 1, theta.size))
    for s in range(top + 1):
        xs = x[: s + 1]
        with np.errstate(invalid="ignore"):
            logp = xs[:, None] * log_t[None, :] + (s - xs)[:, None] * log_1t[None, :]
        pmf = comb[s, xs][:, None] * np.nan_to_num(np.exp(logp), nan=0.0)
        pmf[:, 0] = (xs == 0).astype(float)
        pmf[:, -1] = (xs == s).astype(float)
        weight = np.where(2 * xs > s, 1.0, np.where(2 * xs == s, 0.5, 0.0)) * (xs >= 2)
        tcol[s] = weight @ pmf
    out = np.zeros((len(trials), v.size, theta.size))
    for i, big_n in enumerate(trials):
        sv = np.arange(big_n + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            logb = sv[None, :] * np.log(v)[:, None] + (big_n - sv)[None, :] * np.log1p(-v)[:, None]
        b = comb[big_n, sv][None, :] * np.nan_to_num(np.exp(logb), nan=0.0)
        b[0] = (sv == 0).astype(float)
        b[-1] = (sv == big_n).astype(float)
        out[i] = b @ tcol[: big_n + 1]
    out.setflags(write=False)
    return out


def _bilinear(table: np.ndarray, v: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """table[..., v, theta] read at fractional (v, theta) in [0, 1]^2, leading axis kept."""
    fv = np.clip(v, 0.0, 1.0) * (table.shape[-2] - 1)
    ft = np.clip(theta, 0.0, 1.0) * (table.shape[-1] - 1)
    iv = np.minimum(fv.astype(int), table.shape[-2] - 2)
    it = np.minimum(ft.astype(int), table.shape[-1] - 2)
    dv, dt = fv - iv, ft - it
    width = table.shape[-1]
    flat = table.reshape(table.shape[0], -1)
    base = iv * width + it
    a = np.take(flat, base, axis=1)
    b = np.take(flat, base + width, axis=1)
    c = np.take(flat, base + 1, axis=1)
    d = np.take(flat, base + width + 1, axis=1)
    return np.asarray(a * (1 - dv) * (1 - dt) + b * dv * (1 - dt) + c * (1 - dv) * dt + d * dv * dt)


def _inverse_mean(m: np.ndarray, pi: np.ndarray, shift: int) -> np.ndarray:
    """E[1 / (shift + X)] for X ~ Bin(m, pi), shift 1 or 2 (closed forms; Taylor for tiny pi)."""
    pi = np.clip(pi, 0.0, 1.0 - 1e-12)
    small = pi < 1e-4
    safe = np.where(small, 0.5, pi)
    if shift == 1:
        exact = -np.expm1((m + 1) * np.log1p(-safe)) / ((m + 1) * safe)
        series = 1.0 - m * pi / 2.0
    else:
        q2 = -np.expm1((m + 2) * np.log1p(-safe))
        exact = 1.0 / ((m + 1) * safe) - q2 / ((m + 1) * (m + 2) * safe**2)
        exact = np.where(np.isfinite(exact), exact, 0.5)
        series = 0.5 - m * pi / 6.0
    return np.asarray(np.where(small, series, exact))


def majority_accuracy_iid(
    right: np.ndarray, wrong: np.ndarray, model: AnswerModel, trials: Sequence[int]
) -> np.ndarray:
    """Majority accuracy when each of N samples is independently right (prob `right`), a
    finished wrong answer (prob `wrong`) or unfinished (the rest, no vote); shape (T, *right).

    The dominant wrong value takes w = q x wrong, scattered singletons o = (1 - q) x wrong.
    x_right >= 2 wins when x_right > x_dominant (half on a tie): read from a table over
    (v = right + w, theta = right / v); x_right = 1 ties with every singleton (and the dominant
    value if it has one vote): N c (1-c-w)^(N-1) E[1/(1+X)] + N (N-1) c w (1-c-w)^(N-2) E[1/(2+X)],
    X ~ Bin(N-1 (or N-2), o / (1-c-w)) singletons.
    """
    c = np.clip(np.asarray(right, dtype=float), 0.0, 1.0)
    wr = np.clip(np.asarray(wrong, dtype=float), 0.0, 1.0 - c)
    w = model.dominant_share * wr
    o = wr - w
    counts = tuple(int(t) for t in trials)
    if any(t < 1 for t in counts):
        raise InputError("trial counts must be whole numbers >= 1")
    table = _majority_table(counts)
    v = c + w
    theta = np.where(v > 0, c / np.maximum(v, 1e-300), 0.0)
    main = _bilinear(table, v.ravel(), theta.ravel()).reshape((len(counts), *c.shape))
    rest = np.clip(1.0 - c - w, 0.0, 1.0)
    pi = np.where(rest > 0, o / np.maximum(rest, 1e-300), 0.0)
    out = np.empty_like(main)
    for i, n in enumerate(counts):
        one_alone = n * c * rest ** (n - 1) * _inverse_mean(np.asarray(n - 1.0), pi, 1)
        one_tied = (
            n * (n - 1) * c * w * rest ** max(n - 2, 0) * _inverse_mean(np.asarray(n - 2.0), pi, 2)
            if n >= 2
            else 0.0
        )
        out[i] = main[i] + one_alone + one_tied
    return np.clip(out, 0.0, 1.0)


def beta_cons_at_k(
    pass1: float, concentration: float, model: AnswerModel, k: int, nodes: int = 64
) -> float:
    """Majority@k under p ~ Beta(mean pass1, concentration) and `model`, no truncation: the
    published cons@k this answer model is fitted to."""
    from kinetics_cli.accuracy.passk import beta_nodes

    a, b = pass1 * concentration, (1.0 - pass1) * concentration
    p, w = beta_nodes(a, b, nodes)
    return float(majority_accuracy_iid(p, 1.0 - p, model, (k,))[0] @ w)


ANSWER_MODEL_PATH = Path(__file__).resolve().parent / "answer_model.toml"


@lru_cache(maxsize=1)
def load_answer_model() -> AnswerModel:
    """The bundled answer model (answer_model.toml, written by tools/fit_answer_model.py)."""
    from kinetics_cli.tomlio import read_toml

    data = read_toml(ANSWER_MODEL_PATH)
    return AnswerModel(
        dominant_share=float(data["dominant_share"]),
        source=(
            f"prior: dominant wrong-answer share {float(data['dominant_share']):.3f} fitted to "
            f"{int(data['pairs'])} published (pass@1, cons@64) pairs, leave-one-out RMSE "
            f"{float(data['loo_rmse']):.3f}"
        ),
    )


# ------------------------------------------------------------------------------ per setting


@dataclass(frozen=True)
class RuleOutcome:
    """What one selection rule reaches on a (trials x limits) grid of one setting.

    accuracy[t, g]: fraction of problems answered right; samples[t, g]: expected samples drawn
    per problem (N, or fewer with early stopping; NaN where not estimable). accuracy_ci[0 | 1,
    t, g]: the interval at the reported confidence, and replicates[b, t, g] the bootstrap
    replicates behind it, where the source gives them (None otherwise).
    """

    rule: str
    accuracy: np.ndarray
    samples: np.ndarray
    accuracy_ci: np.ndarray | None = None
    replicates: np.ndarray | None = None


class TrialRow(Protocol):
    """What the estimators read from an evaluation row (evals.Trial has it)."""

    @property
    def problem(self) -> str: ...
    @property
    def gen_tokens(self) -> float: ...
    @property
    def correct(self) -> bool: ...
    @property
    def answer(self) -> str | None: ...


def _needs_answers(rule: str) -> bool:
    return rule in VOTE_RULES


VOTE_RULES = ("majority", "early-stop")


@dataclass(frozen=True)
class AnswerCensus:
    """What one setting's rows say about final answers, for the rules that count votes.

    missing: trials whose row has no 'answer' at all (a file or row without the field, a
    per-problem row): what they voted is unknown. silent: trials marked wrong whose answer is
    empty (recorded, but no final answer was extracted): they never vote, as a truncated trial
    does not, so their wrong answers do not count against the right one."""

    trials: int
    missing: int
    silent: int
    answered: int  # trials with a non-empty answer
    first_missing: str = ""  # problem id of the first trial without the field


def answer_census(rows: Sequence[TrialRow]) -> AnswerCensus:
    missing = [r for r in rows if r.answer is None]
    silent = sum(1 for r in rows if r.answer is not None and not r.correct and not r.answer.strip())
    answered = sum(1 for r in rows if r.answer is not None and r.answer.strip())
    first = str(missing[0].problem) if missing else ""
    return AnswerCensus(len(rows), len(missing), silent, answered, first)


def check_vote_answers(rows: Sequence[TrialRow], what: str, label: str = "") -> AnswerCensus:
    """The census of `rows`, or an InputError when a vote cannot be counted from them: no trial
    has a final answer, or some trials have no 'answer' field. Left out of the vote, trials of
    unknown answer would drop their wrong answers while the right ones (marked correct) still
    counted: the vote would be overstated, not estimated. `what` names the rule."""
    census = answer_census(rows)
    on = f" on {label}" if label else ""
    if census.answered == 0:
        raise InputError(
            f"{what}{on} needs the final answer of every trial: add an 'answer' column to the "
            "evaluation rows (coverage and verifier do without it)"
        )
    if census.missing:
        raise InputError(
            f"{what}{on}: {census.missing:,} of {census.trials:,} trials have no 'answer' field "
            f"(the first: problem {census.first_missing!r}); left out of the vote, their wrong "
            "answers would not count against the right ones and the vote would be overstated. "
            "Give every per-trial row an answer (empty for a trial without a final answer), or "
            "drop majority and early-stop from --selection (coverage and verifier do without "
            "answers)"
        )
    return census


def silent_note(census: AnswerCensus, label: str) -> str:
    """One line for a setting whose wrong trials include some without a final answer, or ''."""
    if not census.silent:
        return ""
    return (
        f"{label}: {census.silent:,} of {census.trials:,} trials are wrong with an empty "
        "'answer' (no final answer extracted): majority vote and early stopping leave them out "
        "of the vote, as they do truncated trials; counted as wrong answers they could only "
        "lower its accuracy"
    )


def evaluation_rule_outcome(
    rows: Sequence[TrialRow],
    rule: str,
    trials: np.ndarray,
    limits: np.ndarray,
    verifier: Verifier | None = None,
    pairing: str | None = None,
    label: str = "",
) -> RuleOutcome:
    """A rule's exact expectations from one setting's per-trial evaluation rows (objects with
    problem, gen_tokens, correct and answer): per problem and limit L, trials longer than L
    have no answer; averaged over problems. NaN where N exceeds some problem's trials.

    With a `pairing` key, the interval is a bootstrap over problems: the same problem draws
    (problems in sorted id order) as the coverage bootstrap of that key, so a rule and coverage
    on the same problems compare replicate by replicate. The estimator is already the exact
    expectation over which N samples are drawn, so samples are not resampled within a problem:
    the interval covers which problems were asked, not how many samples each had.

    Majority and early stopping need every row's `answer` (None: the row has none) and at least
    one non-empty one (check_vote_answers); `label` names the setting in that error."""
    trials = _trial_counts(trials)
    limits = np.atleast_1d(np.asarray(limits, dtype=float))
    by_problem: dict[str, list[TrialRow]] = {}
    for r in rows:
        by_problem.setdefault(str(r.problem), []).append(r)
    if _needs_answers(rule):
        check_vote_answers(rows, f"selection rule {rule!r}", label)
    by_problem = {key: by_problem[key] for key in sorted(by_problem)}
    acc = np.zeros((len(by_problem), trials.size, limits.size))
    samples = np.zeros((trials.size, limits.size))
    verifiers: list[Verifier | None] = [verifier] * limits.size
    if rule == "verifier" and verifier is not None and verifier.precision is not None:
        # a stated precision holds at the candidates' pass@1 under each limit
        for g, limit in enumerate(limits):
            base = np.mean(
                [
                    np.mean([r.correct and r.gen_tokens <= limit for r in v])
                    for v in by_problem.values()
                ]
            )
            verifiers[g] = Verifier.from_precision(
                verifier.recall, verifier.precision, float(base), verifier.model
            )
    for p, group in enumerate(by_problem.values()):
        gen = np.array([float(r.gen_tokens) for r in group])
        ok = [bool(r.correct) for r in group]
        answers = [r.answer for r in group]
        for g, limit in enumerate(limits):
            finished = list(gen <= limit)
            counts = AnswerCounts.of(answers, ok, finished)
            if rule == "coverage":
                from kinetics_cli.accuracy.passk import pass_at_k

                a = pass_at_k(counts.n, counts.correct, trials)
                s = np.where(np.isnan(a), np.nan, trials)
            elif rule == "verifier":
                v = verifiers[g]
                if v is None:
                    raise InputError("the verifier rule needs a Verifier")
                a = verifier_accuracy(counts.n, counts.correct, trials, v)
                s = np.where(np.isnan(a), np.nan, trials)
            elif rule in ("majority", "early-stop"):
                a = majority_accuracy(counts, trials)
                s = (
                    early_stop_samples(counts, trials)
                    if rule == "early-stop"
                    else np.where(np.isnan(a), np.nan, trials)
                )
            else:
                raise InputError(f"unknown selection rule {rule!r}")
            acc[p, :, g] = a
            samples[:, g] += s
    n_problems = len(by_problem)
    mean = acc.mean(axis=0)
    if pairing is None or n_problems == 0:
        return RuleOutcome(rule, mean, samples / max(n_problems, 1))
    replicates = problem_replicates(acc, pairing)
    return RuleOutcome(
        rule,
        mean,
        samples / n_problems,
        accuracy_ci=percentile_interval(replicates),
        replicates=replicates,
    )


def problem_replicates(per_problem: np.ndarray, pairing: str) -> np.ndarray:
    """Bootstrap replicates (B, ...) of the mean over the first axis of `per_problem` (P, ...):
    problems resampled with the draws of `pairing` (bootstrap.problem_draws), as a (B, P) matrix
    of draw counts times the per-problem values, so memory stays O(B P + B x rest)."""
    n_problems = per_problem.shape[0]
    draws = problem_draws(n_problems, pairing)
    weights = np.zeros((draws.shape[0], n_problems))
    np.add.at(weights, (np.arange(draws.shape[0])[:, None], draws), 1.0 / n_problems)
    flat = per_problem.reshape(n_problems, -1)
    return (weights @ flat).reshape(draws.shape[0], *per_problem.shape[1:])


def _prior_nodes(
    source: PriorSource, setting: Setting, limits: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weight[J], right[G, J], wrong_finished[G, J]) per (p, u) node of a prior setting."""
    from kinetics_cli.accuracy import priors as pr
    from kinetics_cli.accuracy.passk import normal_cdf

    prior = source.prior(setting.model)
    sparse = source.profile.sparse
    r, log_shift = sparse.factors(setting.attention, setting.kv_budget, prior.params)
    shift = sparse.logit_shift(setting.attention, setting.kv_budget)
    hazard = sparse.runaway_hazard(setting.attention, setting.kv_budget, prior.params)
    nodes = pr.node_grid(prior, r, log_shift, shift, hazard)
    log_l = np.log(np.asarray(limits, dtype=float))[:, None]
    sd = prior.length.trial_sd
    success = nodes["success"][None, :]
    right = success * normal_cdf((log_l - nodes["mu_correct"][None, :]) / sd)
    # trials that run away never finish: only the others can end wrong within a limit
    wrong = (nodes["finish"][None, :] - success) * normal_cdf(
        (log_l - nodes["mu_wrong"][None, :]) / sd
    )
    # problems without a chance (the never-solved share, and those sparse attention leaves
    # unsolvable, priors.keep_share): one node with wrong answers only, at p = 0
    keep = sparse.keep(setting.attention, setting.kv_budget, prior.params)
    weight = nodes["weight"] * pr.keep_share(keep, sparse.keep_slope, nodes["p"])
    lp = prior.length
    mu_lost = lp.log_correct + lp.difficulty_slope + lp.wrong_shift + log_shift
    lost = normal_cdf((log_l - mu_lost) / float(np.hypot(lp.problem_sd, lp.trial_sd)))
    right = np.concatenate([right, np.zeros_like(lost)], axis=1)
    wrong = np.concatenate([wrong, lost], axis=1)
    return np.append(weight, max(0.0, 1.0 - float(weight.sum()))), right, wrong


def iid_early_stop_samples(
    right: np.ndarray, wrong: np.ndarray, model: AnswerModel, trials: Sequence[int]
) -> np.ndarray:
    """Expected samples of early-stopped majority under the iid answer model, for each N
    (shape (T, *right)). The joint (right votes, dominant-wrong votes) distribution after k
    samples is built by recursion; the margin over the runner-up (a scattered singleton counts
    1 when present, with probability 1 - (1 - pi)^rest) must exceed N - k to stop."""
    c = np.clip(np.asarray(right, dtype=float).ravel(), 0.0, 1.0)
    wr = np.clip(np.asarray(wrong, dtype=float).ravel(), 0.0, 1.0 - c)
    w = model.dominant_share * wr
    o = wr - w
    rest = np.clip(1.0 - c - w, 0.0, 1.0)
    counts = [int(t) for t in trials]
    top = max(counts)
    out = np.zeros((len(counts), c.size))
    a = np.clip(rest - o, 0.0, 1.0)  # no answer
    rows = c.size
    # state[s][x_right, x_dominant, row]: s = whether a scattered singleton has been drawn yet
    # (rows last, so every slice below is contiguous)
    none = np.zeros((top + 1, top + 1, rows))
    some = np.zeros_like(none)
    none[0, 0] = 1.0
    x = np.arange(top + 1)
    column = np.arange(rows)[None, :]
    for k in range(top):
        needed = [i for i, big_n in enumerate(counts) if big_n > k and 2 * k > big_n]
        for i, big_n in enumerate(counts):
            if big_n > k and 2 * k <= big_n:
                out[i] += 1.0  # the lead (at most k) cannot exceed the N - k trials left
        if needed:
            xc = x[: k + 1, None]
            xw = x[None, : k + 1]
            lead0 = np.abs(xc - xw)
            lead1 = np.maximum(np.maximum(xc, xw) - np.maximum(np.minimum(xc, xw), 1), 0)
            # the lead's distribution per row, by one weighted bincount per singleton state
            tail = np.zeros((k + 2, rows))
            for state, lead in ((none, lead0), (some, lead1)):
                flat = (lead.reshape(-1, 1) * rows + column).ravel()
                weights = state[: k + 1, : k + 1].reshape(-1)
                hist = np.bincount(flat, weights=weights, minlength=(k + 2) * rows)
                tail += hist.reshape(k + 2, rows)[::-1].cumsum(axis=0)[::-1]
            for i in needed:
                d = counts[i] - k
                out[i] += 1.0 - tail[d + 1]  # P(lead > d) = P(lead >= d + 1)
        if k + 1 >= top:
            break
        old_none = none[: k + 1, : k + 1].copy()
        for state, stay in ((some, a + o), (none, a)):
            cur = state[: k + 1, : k + 1].copy()
            state[: k + 1, : k + 1] = cur * stay
            state[k + 1, : k + 2] = 0.0
            state[: k + 1, k + 1] = 0.0
            state[1 : k + 2, : k + 1] += cur * c
            state[: k + 1, 1 : k + 2] += cur * w
        some[: k + 1, : k + 1] += old_none * o  # a singleton drawn from the no-singleton state
    return out.reshape((len(counts), *np.shape(right)))


EARLY_STOP_POINTS = 17  # grid over (right rate, wrong share of the rest) for E[trials] under priors


@lru_cache(maxsize=8)
def _early_stop_grid(dominant_share: float, trials: tuple[int, ...]) -> np.ndarray:
    """E[trials] of early-stopped majority on a grid over right rate c and f = wrong / (1 - c),
    shape (T, points, points); read bilinearly (within 0.7% of N of the exact value, 0.06% on
    average, on random rates for N up to 64)."""
    g = np.linspace(0.0, 1.0, EARLY_STOP_POINTS)
    cc, ff = np.meshgrid(g, g, indexing="ij")
    table = iid_early_stop_samples(
        cc.ravel(), (ff * (1.0 - cc)).ravel(), AnswerModel(dominant_share), trials
    ).reshape(len(trials), g.size, g.size)
    table.setflags(write=False)
    return table


def prior_rule_outcome(
    source: PriorSource,
    setting: Setting,
    rule: str,
    trials: np.ndarray,
    limits: np.ndarray,
    *,
    model: AnswerModel | None = None,
    verifier: Verifier | None = None,
) -> RuleOutcome:
    """A rule under a bundled prior: expectations over the prior's (p, u) nodes of the iid
    per-sample rates right = r p F_c(L), wrong-finished = (1 - r p) F_w(L); unfinished samples
    have no answer. Coverage is the prior's own pass@N."""
    trials = _trial_counts(trials)
    limits = np.atleast_1d(np.asarray(limits, dtype=float))
    out = _prior_rule(source, setting, rule, trials, limits, model, verifier)
    # The prior's interval: its leave-one-size-out pass@N spread at the same N, around the rule's
    # accuracy (the fit's error on the per-sample rates it shares with coverage; docs say so).
    spread = source.profile.spread(setting.attention, setting.kv_budget, trials)[:, None]
    interval = np.clip(np.stack([out.accuracy - spread, out.accuracy + spread]), 0.0, 1.0)
    return RuleOutcome(rule, out.accuracy, out.samples, accuracy_ci=interval)


def _prior_rule(
    source: PriorSource,
    setting: Setting,
    rule: str,
    trials: np.ndarray,
    limits: np.ndarray,
    model: AnswerModel | None,
    verifier: Verifier | None,
) -> RuleOutcome:
    """prior_rule_outcome's accuracy and samples, without the interval."""
    weight, right, wrong = _prior_nodes(source, setting, limits)
    whole = tuple(int(t) for t in trials)
    full = np.broadcast_to(trials[:, None], (trials.size, limits.size)).astype(float)
    if rule == "coverage":
        miss = (1.0 - right[None, :, :]) ** trials[:, None, None]
        return RuleOutcome(rule, np.einsum("tgj,j->tg", 1.0 - miss, weight), full)
    if rule == "verifier":
        if verifier is None:
            raise InputError("the verifier rule needs a Verifier")
        acc = np.zeros((trials.size, limits.size))
        for g in range(limits.size):
            base = float(right[g] @ weight)
            v = verifier
            if verifier.precision is not None:
                v = Verifier.from_precision(
                    verifier.recall, verifier.precision, base, verifier.model
                )
            acc[:, g] = verifier_accuracy_iid(right[g], trials, v) @ weight
        return RuleOutcome(rule, acc, full)
    answer_model = load_answer_model() if model is None else model
    if rule in ("majority", "early-stop"):
        acc = np.einsum(
            "tgj,j->tg", majority_accuracy_iid(right, wrong, answer_model, whole), weight
        )
        if rule == "majority":
            return RuleOutcome(rule, acc, full)
        table = _early_stop_grid(answer_model.dominant_share, whole)
        share = np.where(right < 1, wrong / np.maximum(1.0 - right, 1e-300), 0.0)
        per_node = _bilinear(table, right.ravel(), share.ravel()).reshape(len(whole), *right.shape)
        samples = per_node @ weight
        return RuleOutcome(rule, acc, samples)
    raise InputError(f"unknown selection rule {rule!r}")
