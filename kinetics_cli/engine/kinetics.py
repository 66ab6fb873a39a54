"""The Kinetics cost law: FLOPs, bytes and eFLOPs of one problem (all N trials of one prompt).

eFLOPs = compute FLOPs + I x memory bytes (arXiv 2506.05333, Sec. 3). Every function broadcasts
over numpy arrays of prompt lengths, generated lengths, trial counts and KV budgets, so a planner
costs a whole grid in one call. Derivations and where this goes beyond the paper:
docs/cost-model.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import Literal, NamedTuple, get_args

import numpy as np
from numpy.typing import ArrayLike

from kinetics_cli.engine.operators import attended_tokens as attended_tokens  # public here too
from kinetics_cli.engine.operators import (
    attention_decode,
    block_search,
    linear_attention_decode,
    matmul,
)
from kinetics_cli.errors import InputError
from kinetics_cli.specs import AttentionGroup, HardwareProfile, ModelCard

AttentionName = Literal["dense", "topk", "block-topk"]
LawName = Literal["kinetics", "flops"]
ATTENTIONS: tuple[str, ...] = get_args(AttentionName)
LAWS: tuple[str, ...] = get_args(LawName)
# Tokens per block top-k page where none is given: the paper's block top-k setting (pages of 16,
# 64 of them at a 1,024-token budget; its measured AIME24 runs, accuracy/measured.py).
DEFAULT_BLOCK_SIZE = 16

# Calibration class whose efficiencies price the attention and KV terms of each variant.
ATTENTION_KERNEL = {
    "dense": "attention_decode_dense",
    "topk": "attention_decode_blocktopk",
    "block-topk": "attention_decode_blocktopk",
}


def law_intensity(law: str, intensity: float) -> float:
    """The I a law charges per byte: `intensity` for 'kinetics', 0 for the FLOPs-only law."""
    if law == "kinetics":
        return float(intensity)
    if law == "flops":
        return 0.0
    raise InputError(f"unknown law {law!r}; choose one of {', '.join(LAWS)}")


def check_context(card: ModelCard, tokens: float, what: str) -> None:
    """Raise InputError when `tokens` (a prompt plus its generation, described by `what`) is
    beyond the card's context window (max_position_embeddings); unknown windows pass."""
    window = card.architecture.max_position_embeddings
    if window is not None and tokens > window:
        raise InputError(
            f"{what} is beyond {card.name}'s context window of {window:,} tokens "
            "(max_position_embeddings)"
        )


@dataclass(frozen=True)
class ProblemCost:
    """Cost of one problem (N trials of one prompt), each field an array over the grid.

    compute FLOPs = linear + attention + search; memory bytes = KV (or recurrent state) + search.
    A term a variant does not have (search under dense attention) is a broadcast zero, which the
    totals skip.
    """

    linear_flops: np.ndarray
    attention_flops: np.ndarray
    search_flops: np.ndarray
    kv_bytes: np.ndarray
    search_bytes: np.ndarray
    attention_kernel: str = "attention_decode_dense"

    @property
    def compute_flops(self) -> np.ndarray:
        return _total(self.linear_flops, self.attention_flops, self.search_flops)

    @property
    def memory_bytes(self) -> np.ndarray:
        return _total(self.kv_bytes, self.search_bytes)

    def eflops(self, intensity: ArrayLike) -> np.ndarray:
        """compute FLOPs + I x memory bytes (I = 0 gives the FLOPs-only law)."""
        total = np.multiply(np.asarray(intensity, dtype=float), self.memory_bytes)  # a new array
        compute = self.compute_flops
        if total.ndim and total.shape == np.broadcast(total, compute).shape:
            total += compute  # in place: no third array (addition commutes exactly)
            return total
        return total + compute

    def seconds(self, hardware: HardwareProfile, calibrated: bool = True) -> np.ndarray:
        """The paper's additive time: compute / peak bf16 + memory / HBM bandwidth.

        Calibrated: linear FLOPs at the gemm class's compute efficiency, attention, search and KV
        terms at the attention class's efficiencies; per-call overheads are not charged.
        """
        compute, memory = self.split_seconds(hardware, calibrated)
        return compute + memory

    def split_seconds(
        self, hardware: HardwareProfile, calibrated: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """The two parts of `seconds`: compute terms (what the FLOPs-only law charges) and
        memory terms."""
        peak, bandwidth = hardware.peak("bf16"), hardware.hbm_bandwidth
        gemm = hardware.kernel_fit("gemm") if calibrated else None
        attn = hardware.kernel_fit(self.attention_kernel) if calibrated else None
        linear_eff = gemm.compute_efficiency if gemm else 1.0
        attn_eff = attn.compute_efficiency if attn else 1.0
        bw_eff = attn.bandwidth_efficiency if attn else 1.0
        compute = self.linear_flops / (peak * linear_eff) + _total(
            self.attention_flops, self.search_flops
        ) / (peak * attn_eff)
        return compute, self.memory_bytes / (bandwidth * bw_eff)

    def mean(
        self, axis: int | tuple[int, ...] = -1, weights: ArrayLike | None = None
    ) -> ProblemCost:
        """Mean over a distribution of generated lengths laid out along `axis` (paper: plain mean)."""
        w = None if weights is None else np.asarray(weights, dtype=float)
        values = {name: np.average(getattr(self, name), axis=axis, weights=w) for name in TERMS}
        return ProblemCost(**values, attention_kernel=self.attention_kernel)

    def take(self, index: int, shape: tuple[int, ...]) -> ProblemCost:
        """Part `index` along the first axis of a cost whose terms broadcast to `shape` (views;
        a term the variant does not have stays ZERO or a view of it)."""
        values = {
            name: t if t is ZERO else _broadcast(t, shape)[index]
            for name, t in ((name, getattr(self, name)) for name in TERMS)
        }
        return ProblemCost(**values, attention_kernel=self.attention_kernel)

    def as_dict(self, intensity: float) -> dict[str, np.ndarray | float]:
        """Every term plus totals and eFLOPs at `intensity`, as arrays (or scalars)."""
        return {
            "compute_flops": self.compute_flops,
            "memory_bytes": self.memory_bytes,
            "eflops": self.eflops(intensity),
            "intensity": intensity,
            "linear_flops": self.linear_flops,
            "attention_flops": self.attention_flops,
            "kv_bytes": self.kv_bytes,
            "search_flops": self.search_flops,
            "search_bytes": self.search_bytes,
        }


TERMS: tuple[str, ...] = tuple(f.name for f in fields(ProblemCost) if f.name != "attention_kernel")
ZERO = np.zeros(())  # a term a variant does not have


def _is_zero(term: np.ndarray) -> bool:
    """True for a term a variant does not have: ZERO or a broadcast view of it (adding it would be
    a pass over the grid for nothing)."""
    return term is ZERO or getattr(term, "base", None) is ZERO


def _total(*terms: np.ndarray) -> np.ndarray:
    """Sum of the terms, skipping broadcast zeros, with the terms' broadcast shape. A single
    non-zero term comes back as a read-only view, so a caller cannot write into a field."""
    kept = [t for t in terms if not _is_zero(t)] or [terms[0]]
    total = np.asarray(kept[0])
    for term in kept[1:]:
        total = total + term
    if len(kept) == 1:
        total = total.view()
        total.flags.writeable = False
    shape = np.broadcast(*terms).shape
    return total if total.shape == shape else np.broadcast_to(total, shape)


def _broadcast(term: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`term` as an array of `shape` (a view; no copy when it already has that shape)."""
    return term if term.shape == shape else np.broadcast_to(term, shape)


def _weighted_sum(term: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum over the last axis of term x weights (one pass: a matrix-vector product when the
    weights are one vector)."""
    if weights.ndim == 1 and term.shape[-1:] == weights.shape:
        return np.asarray(term @ weights)
    return np.add.reduce(term * weights, axis=-1)  # np.sum without its Python wrapper


def _plus(total: np.ndarray, term: np.ndarray) -> np.ndarray:
    """total + term, where total may still be ZERO (then no pass over the grid)."""
    return term if total is ZERO else total + term


@dataclass(frozen=True)
class SplitCost:
    """One problem's cost as shared + N x per_trial, term by term, before the trials axis.

    Every term of the law is affine in N (docs/cost-model.md 2.1-2.3): the prompt's KV (and its
    page summaries under block top-k) is read once per step for all N trials, everything else is
    paid by each trial. Averaging over generated lengths therefore commutes with the trials axis:
    mean(shared + N per_trial) = mean(shared) + N mean(per_trial). Terms keep the shapes their
    inputs gave them (ZERO where a variant has no such term); `shape` is the broadcast of all
    inputs other than N.
    """

    shared: ProblemCost
    per_trial: ProblemCost
    shape: tuple[int, ...]

    def mean(self, weights: np.ndarray) -> SplitCost:
        """Weighted sum over the last axis (the points of a length distribution; weights that
        sum to one give the mean)."""

        def average(cost: ProblemCost) -> ProblemCost:
            values = {
                name: ZERO if _is_zero(t) else _weighted_sum(t, weights)
                for name, t in ((name, getattr(cost, name)) for name in TERMS)
            }
            return ProblemCost(**values, attention_kernel=cost.attention_kernel)

        shape = np.broadcast_shapes(self.shape, weights.shape)[:-1]
        return SplitCost(average(self.shared), average(self.per_trial), shape)

    def at(self, trials: np.ndarray) -> ProblemCost:
        """The cost of `trials` trials (broadcast against the parts): each term shared + N x
        per_trial, every term of the broadcast shape of all inputs."""
        out = np.broadcast_shapes(trials.shape, self.shape)
        values = {
            name: _broadcast(
                _affine(getattr(self.shared, name), getattr(self.per_trial, name), trials), out
            )
            for name in TERMS
        }
        return ProblemCost(**values, attention_kernel=self.shared.attention_kernel)

    def take(self, index: int) -> SplitCost:
        """Part `index` along the first axis (views), for costs computed stacked."""
        return SplitCost(
            self.shared.take(index, self.shape),
            self.per_trial.take(index, self.shape),
            self.shape[1:],
        )

    def eflops(self, intensity: ArrayLike) -> SplitTotal:
        """eFLOPs (compute FLOPs + I x memory bytes) of each part, before the trials axis: the
        same law as ProblemCost.eflops, summed on the smaller arrays, for callers that need
        only the total."""
        return SplitTotal(_law(self.shared, intensity), _law(self.per_trial, intensity), self.shape)


@dataclass(frozen=True)
class SplitTotal:
    """One total of the law (eFLOPs) as shared + N x per_trial over the inputs other than N:
    SplitCost with its terms already summed, so the trials axis meets one array, not five."""

    shared: np.ndarray
    per_trial: np.ndarray
    shape: tuple[int, ...]

    def mean(self, weights: np.ndarray) -> SplitTotal:
        """Weighted sum over the last axis, as SplitCost.mean."""
        shared, per_trial = (
            ZERO if _is_zero(t) else _weighted_sum(t, weights)
            for t in (self.shared, self.per_trial)
        )
        return SplitTotal(shared, per_trial, np.broadcast_shapes(self.shape, weights.shape)[:-1])

    def at(self, trials: np.ndarray) -> np.ndarray:
        """The total for `trials` trials: shared + N x per_trial, of the broadcast shape of all
        inputs."""
        out = np.broadcast_shapes(trials.shape, self.shape)
        return _broadcast(_affine(self.shared, self.per_trial, trials), out)


def _affine(shared: np.ndarray, per_trial: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """shared + trials x per_trial, skipping a part that is ZERO (one new array at most)."""
    if _is_zero(per_trial):
        return np.asarray(shared)
    if _is_zero(shared):
        return np.asarray(trials * per_trial)
    full = np.broadcast(trials, per_trial, shared).shape
    total = np.multiply(trials, per_trial, out=np.empty(full))  # in place: one array, not two
    total += shared
    return total


def _law(cost: ProblemCost, intensity: ArrayLike) -> np.ndarray:
    """(linear + attention + search FLOPs) + I x (KV + search bytes) of one part, skipping
    terms that are ZERO; ZERO when the part has none."""
    compute = ZERO
    for term in (cost.linear_flops, cost.attention_flops, cost.search_flops):
        compute = compute if _is_zero(term) else _plus(compute, term)
    memory = ZERO
    for term in (cost.kv_bytes, cost.search_bytes):
        memory = memory if _is_zero(term) else _plus(memory, term)
    if _is_zero(memory):
        return compute
    total = np.multiply(intensity, memory)  # a new array
    if _is_zero(compute):
        return total
    if total.ndim and total.shape == np.broadcast(total, compute).shape:
        total += compute  # in place: no third array (addition commutes exactly)
        return total
    return total + compute


def _lowest(name: str, array: np.ndarray) -> float:
    """The smallest element of `array` (inf when empty); InputError unless every element is
    finite and >= 0. Two reductions, or none for a single element."""
    if array.size == 1:
        low = high = float(array.flat[0])
    elif array.size == 0:
        return np.inf
    else:
        low, high = float(array.min()), float(array.max())  # NaN propagates into both
    if not (low >= 0 and high < np.inf):
        if not np.all(np.isfinite(array)):
            raise InputError(f"{name} must be finite")
        raise InputError(f"{name} must not be negative (got {low:g})")
    return low


def check_nonnegative(name: str, value: ArrayLike) -> np.ndarray:
    """`value` as a float array; InputError unless every element is finite and >= 0."""
    array = np.asarray(value, dtype=float)
    _lowest(name, array)
    return array


def check_positive(name: str, value: ArrayLike) -> np.ndarray:
    """`value` as a float array; InputError unless every element is finite and > 0."""
    array = np.asarray(value, dtype=float)
    low = _lowest(name, array)
    if not low > 0:
        raise InputError(f"{name} must be positive (got {low:g})")
    return array


def check_attention(attention: str, kv_budget: ArrayLike | None, block_size: ArrayLike) -> None:
    """Raise InputError for an unknown variant, a sparse variant without a budget, bad sizes."""
    if attention not in ATTENTIONS:
        raise InputError(f"unknown attention {attention!r}; choose one of {', '.join(ATTENTIONS)}")
    if attention != "dense":
        if kv_budget is None:
            raise InputError(f"--kv-budget is required for {attention} attention")
        check_positive("KV budget", kv_budget)
    check_positive("block size", block_size)


def off_page_budget(
    budget: float, block_size: float, what: str, page_option: str = "", other: str = ""
) -> str:
    """Why a block top-k budget of `budget` tokens is no whole number of pages of `block_size`
    tokens ('' when it is one): a kernel selects k whole pages, so B = k S with k >= 1. `what`
    names the budget (an option), `page_option` the option that sets the page, if any, and
    `other` a further way out, closing the parenthesis of alternatives.

    The law itself prices B / S pages continuously (the paper's closed form); the command line
    refuses what no kernel can select, naming the whole-page budgets on either side."""
    if budget > 0 and budget % block_size == 0:
        return ""
    page = f"{_plain(block_size)} tokens" + (f" ({page_option})" if page_option else "")
    head = f"block top-k selects whole pages of {page}: {what} {_plain(budget)}"
    if budget < block_size:
        return f"{head} is less than one page (give at least {_plain(block_size)}{other})"
    below = math.floor(budget / block_size)
    return (
        f"{head} is not a whole number of pages (the nearest: {_plain(below * block_size)}, "
        f"{below} pages, or {_plain((below + 1) * block_size)}, {below + 1} pages{other})"
    )


def _plain(tokens: float) -> str:
    """A token count as it is typed: whole numbers in full, no separators ('1008', '131072')."""
    return f"{tokens:.0f}" if tokens == int(tokens) else f"{tokens:.10g}"


@dataclass(frozen=True)
class GroupRates:
    """What one attention group's layers cost per unit of work, from the shared operator
    accounting (engine/operators.py), all layers of the group together.

    Attended token: attention FLOPs and KV bytes (act_bytes = 0: the law charges the cache only).
    Page: block top-k search FLOPs and summary bytes. Linear-attention groups: per decode step.
    """

    group: AttentionGroup
    flops: float
    bytes: float
    search_flops: float = 0.0
    search_bytes: float = 0.0


def group_rates(group: AttentionGroup, kv_bytes: float, state_bytes: float) -> GroupRates:
    """Per-token (per-page, per-step) costs of one group: the operators at batch 1, one token."""
    if group.kind == "linear":
        step = linear_attention_decode(
            1.0,
            group.q_heads,
            group.qk_head_dim,
            group.v_head_dim,
            state_bytes=state_bytes,
            conv_state_bytes=group.conv_state_bytes,
        ).scaled(group.layers)
        return GroupRates(group, float(step.flops), float(step.bytes))
    token = attention_decode(
        1.0,
        group.q_heads,
        group.qk_head_dim,
        group.v_head_dim,
        group.kv_elements_per_token,
        1.0,
        kv_bytes=kv_bytes,
        act_bytes=0.0,
    ).scaled(group.layers)
    page = block_search(
        1.0,
        group.q_heads,
        group.qk_head_dim,
        group.key_elements_per_token,
        1.0,
        1.0,
        kv_bytes=kv_bytes,
    ).scaled(group.layers)
    return GroupRates(
        group, float(token.flops), float(token.bytes), float(page.flops), float(page.bytes)
    )


@dataclass(frozen=True)
class CostShape:
    """What the law needs from a card, computed once: P, attention groups, element widths."""

    params: float
    groups: tuple[AttentionGroup, ...]
    kv_bytes: float
    state_bytes: float

    @classmethod
    def of(cls, card: ModelCard, params: float | None = None) -> CostShape:
        """The card's shape; `params` overrides P (default: the card's active parameters)."""
        p = card.active_params if params is None else float(check_positive("params", params))
        return cls(
            params=p,
            groups=tuple(card.attention_groups()),
            kv_bytes=card.architecture.kv_bytes,
            state_bytes=card.linear_attention.state_bytes if card.linear_attention else 4.0,
        )

    @cached_property
    def linear_flops_per_token(self) -> float:
        """One generated token through P weights: a (1 x P) matmul, weights free at large batch."""
        return float(matmul(1.0, self.params, 1.0, weight_bytes=0.0, act_bytes=0.0).flops)

    @cached_property
    def rates(self) -> tuple[GroupRates, ...]:
        return tuple(group_rates(g, self.kv_bytes, self.state_bytes) for g in self.groups)


def _shape(card: ModelCard | CostShape, params: float | None) -> CostShape:
    """The card's CostShape (or the given one), with P replaced by `params` when given."""
    if not isinstance(card, CostShape):
        return CostShape.of(card, params)
    if params is None:
        return card
    return replace(card, params=float(check_positive("params", params)))


def problem_cost(
    card: ModelCard | CostShape,
    prompt_len: ArrayLike,
    gen_len: ArrayLike,
    trials: ArrayLike = 1,
    attention: str = "dense",
    kv_budget: ArrayLike | None = None,
    block_size: ArrayLike = DEFAULT_BLOCK_SIZE,
    *,
    params: float | None = None,
) -> ProblemCost:
    """FLOPs and bytes of one problem: N trials of L_out tokens after an L_in-token prompt.

    Paper notation (GQA): linear 2 N P L_out; attention 4 h A N; KV dense 4 d (L_in L_out + N
    L_out^2 / 2), sparse 4 d A N; block top-k search 2 h (L_in L_out + L_out^2 / 2) / S per trial
    and 2 d (L_in L_out + N L_out^2 / 2) / S bytes. h and d are generalized per attention group
    (MLA, sliding window, linear attention). `params` overrides P (default: active parameters).
    Prompt processing (prefill) is not charged, as in the paper. Pass a CostShape instead of a
    card to skip re-deriving the card's figures in a tight loop. Checks every input; shaped_cost
    is the same without the checks.
    """
    split, n = _checked_split(
        card, prompt_len, gen_len, trials, attention, kv_budget, block_size, params
    )
    return split.at(n)


def problem_eflops(
    card: ModelCard | CostShape,
    prompt_len: ArrayLike,
    gen_len: ArrayLike,
    trials: ArrayLike = 1,
    attention: str = "dense",
    kv_budget: ArrayLike | None = None,
    block_size: ArrayLike = DEFAULT_BLOCK_SIZE,
    *,
    intensity: ArrayLike,
    params: float | None = None,
) -> np.ndarray:
    """problem_cost(...).eflops(intensity), for callers that need only eFLOPs: the terms summed
    into shared + N x per-trial eFLOPs (SplitCost.eflops) before N is applied. Same checks;
    equal up to the order of floating-point additions."""
    split, n = _checked_split(
        card, prompt_len, gen_len, trials, attention, kv_budget, block_size, params
    )
    return split.eflops(intensity).at(n)


def _checked_split(
    card: ModelCard | CostShape,
    prompt_len: ArrayLike,
    gen_len: ArrayLike,
    trials: ArrayLike,
    attention: str,
    kv_budget: ArrayLike | None,
    block_size: ArrayLike,
    params: float | None,
) -> tuple[SplitCost, np.ndarray]:
    """problem_cost's inputs checked, as the split over everything but N and the trial counts."""
    check_attention(attention, kv_budget, block_size)
    l_in = check_nonnegative("prompt length", prompt_len)
    l_out = check_nonnegative("generated length", gen_len)
    n = check_positive("trials", trials)
    budget = None if kv_budget is None or attention == "dense" else np.asarray(kv_budget, float)
    s = np.asarray(block_size, dtype=float)
    return split_cost(_shape(card, params), l_in, l_out, attention, budget, s), n


def shaped_cost(
    shape: CostShape,
    l_in: np.ndarray,
    l_out: np.ndarray,
    n: np.ndarray,
    attention: str,
    budget: np.ndarray | None,
    s: np.ndarray,
) -> ProblemCost:
    """problem_cost without input checks, for callers that validated their grid once."""
    return split_cost(shape, l_in, l_out, attention, budget, s).at(n)


def split_cost(
    shape: CostShape,
    l_in: np.ndarray,
    l_out: np.ndarray,
    attention: str,
    budget: np.ndarray | None,
    s: np.ndarray,
) -> SplitCost:
    """Each term of one problem as shared + N x per_trial, over the broadcast of the inputs
    other than N (unchecked; see problem_cost).

    Per group, with A(cap) the attended tokens of docs/cost-model.md 2.2 and the group's rates
    per attended token: dense attention reads the prompt's tokens in view once for all trials
    (shared) and each trial's own generated tokens (per trial); sparse attention reads A(cap) per
    trial; block top-k scores every page in view per trial and reads the prompt's page summaries
    once. Linear-attention layers cost a fixed amount per step and trial.
    """
    attn_flops, kv_shared, kv_trial = ZERO, ZERO, ZERO
    search_flops, search_shared, search_trial = ZERO, ZERO, ZERO
    for rate in shape.rates:
        group = rate.group
        if group.kind == "linear":
            attn_flops = _plus(attn_flops, rate.flops * l_out)
            kv_trial = _plus(kv_trial, rate.bytes * l_out)
            continue
        window = group.window
        if attention != "topk":  # top-k reads only what it attends (below)
            seen_total, seen_prompt, seen_generated = _seen(l_in, l_out, window)
        if attention == "dense":
            attn_flops = _plus(attn_flops, rate.flops * seen_total)
            kv_shared = _plus(kv_shared, rate.bytes * seen_prompt)
            kv_trial = _plus(kv_trial, rate.bytes * seen_generated)
            continue
        assert budget is not None
        cap = budget if window is None else np.minimum(budget, window)
        attended = attended_tokens(l_in, l_out, cap)  # no prefix sharing assumed
        attn_flops = _plus(attn_flops, rate.flops * attended)
        kv_trial = _plus(kv_trial, rate.bytes * attended)
        if attention != "block-topk":
            continue
        # Every page in view is scored each step; prompt pages are shared across trials in memory.
        flops = rate.search_flops * (seen_total / s)
        shared = rate.search_bytes * (seen_prompt / s)
        trial = rate.search_bytes * (seen_generated / s)
        if window is not None:  # a window no larger than the budget is attended whole: no search
            needed = np.asarray(window > budget, dtype=float)
            flops, shared, trial = flops * needed, shared * needed, trial * needed
        search_flops = _plus(search_flops, flops)
        search_shared = _plus(search_shared, shared)
        search_trial = _plus(search_trial, trial)
    kernel = ATTENTION_KERNEL[attention]
    linear = shape.linear_flops_per_token * l_out
    return SplitCost(
        shared=ProblemCost(ZERO, ZERO, ZERO, kv_shared, search_shared, kernel),
        per_trial=ProblemCost(linear, attn_flops, search_flops, kv_trial, search_trial, kernel),
        shape=np.broadcast_shapes(
            l_in.shape, l_out.shape, s.shape, () if budget is None else budget.shape
        ),
    )


def _seen(
    l_in: np.ndarray, l_out: np.ndarray, window: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tokens in view summed over the steps (A without a budget): all of them, those of the
    prompt and those the trial generated itself."""
    if window is None:
        seen_prompt, seen_generated = l_in * l_out, 0.5 * l_out * l_out
        return seen_prompt + seen_generated, seen_prompt, seen_generated
    seen_total = attended_tokens(l_in, l_out, window)
    seen_generated = attended_tokens(0.0, l_out, window)
    return seen_total, seen_total - seen_generated, seen_generated


def expected_problem_cost(
    card: ModelCard | CostShape,
    prompt_len: ArrayLike,
    gen_lens: ArrayLike,
    trials: ArrayLike = 1,
    attention: str = "dense",
    kv_budget: ArrayLike | None = None,
    block_size: ArrayLike = DEFAULT_BLOCK_SIZE,
    *,
    params: float | None = None,
    weights: ArrayLike | None = None,
) -> ProblemCost:
    """Mean cost over a distribution of generated lengths on the last axis of `gen_lens`.

    Each length is costed as if every trial generated it, then averaged (the paper's code, cost_model/utils.py expected_cost).
    The other arguments must broadcast against gen_lens.shape[:-1].
    """
    inputs, w, n = _expected_split(
        card, prompt_len, gen_lens, trials, attention, kv_budget, block_size, params, weights
    )
    return split_mean(*inputs, w).at(n)


def expected_eflops(
    card: ModelCard | CostShape,
    prompt_len: ArrayLike,
    gen_lens: ArrayLike,
    trials: ArrayLike = 1,
    attention: str = "dense",
    kv_budget: ArrayLike | None = None,
    block_size: ArrayLike = DEFAULT_BLOCK_SIZE,
    *,
    intensity: ArrayLike,
    params: float | None = None,
    weights: ArrayLike | None = None,
) -> np.ndarray:
    """expected_problem_cost(...).eflops(intensity), for callers that need only eFLOPs: each
    length's eFLOPs as shared + N x per-trial (SplitCost.eflops), averaged, then N applied once.
    Same checks; equal up to the order of floating-point additions."""
    inputs, w, n = _expected_split(
        card, prompt_len, gen_lens, trials, attention, kv_budget, block_size, params, weights
    )
    return eflops_mean(*inputs, w, intensity).at(n)


def _expected_split(
    card: ModelCard | CostShape,
    prompt_len: ArrayLike,
    gen_lens: ArrayLike,
    trials: ArrayLike,
    attention: str,
    kv_budget: ArrayLike | None,
    block_size: ArrayLike,
    params: float | None,
    weights: ArrayLike | None,
) -> tuple[SplitInputs, np.ndarray, np.ndarray]:
    """The checked inputs of the expected costs: split_cost's arguments over the lengths (last
    axis), the normalized weights and the trial counts."""
    lengths = np.asarray(gen_lens, dtype=float)
    if lengths.ndim == 0:
        lengths = lengths[None]
    if lengths.size == 0:
        raise InputError("at least one generated length is needed")
    if weights is None:
        w = np.full(lengths.shape[-1], 1.0 / lengths.shape[-1])
    else:
        w = np.asarray(weights, dtype=float)
        total = w.sum() if w.shape == lengths.shape[-1:] else 0.0
        if not total > 0 or not (w >= 0).all():
            raise InputError(
                f"weights must be {lengths.shape[-1]} non-negative numbers, one per length, "
                "not all zero"
            )
        w = w / total
    l_in = np.asarray(prompt_len, dtype=float)[..., None]
    budget = None if kv_budget is None else np.asarray(kv_budget, dtype=float)[..., None]
    s = np.asarray(block_size, dtype=float)[..., None]
    n = check_positive("trials", trials)
    # Checks every input as problem_cost does, then averages f(L) and g(L) over the lengths
    # before the trials axis (SplitCost): the same mean, without costing every length N times.
    check_attention(attention, budget, s)
    check_nonnegative("prompt length", l_in)
    check_nonnegative("generated length", lengths)
    if attention == "dense":
        budget = None
    return (_shape(card, params), l_in, lengths, attention, budget, s), w, n


SplitInputs = tuple[CostShape, np.ndarray, np.ndarray, str, "np.ndarray | None", np.ndarray]

# Length-grid elements per pass of split_mean: a pass's temporaries (a dozen arrays) stay in
# cache, and none of them is a fresh grid-sized allocation.
SLAB = 1 << 15


class LengthGrid(NamedTuple):
    """split_cost's array inputs with generated lengths on the last axis, and their weights."""

    l_in: np.ndarray
    l_out: np.ndarray
    budget: np.ndarray | None
    s: np.ndarray
    weights: np.ndarray


def split_mean(
    shape: CostShape,
    l_in: np.ndarray,
    l_out: np.ndarray,
    attention: str,
    budget: np.ndarray | None,
    s: np.ndarray,
    weights: np.ndarray,
) -> SplitCost:
    """split_cost(...).mean(weights) (lengths on the last axis), a slab of the length grid at a
    time: the same operations on the same numbers, so the same values (with one weight vector
    the sums are BLAS matrix-vector products; slabs of whole 64-row blocks keep their results
    as in one call in our checks, and the law's regression tests allow the last bit)."""

    grid = LengthGrid(l_in, l_out, budget, s, weights)
    if _one_pass(grid):
        return split_cost(shape, l_in, l_out, attention, budget, s).mean(weights)

    def terms(g: LengthGrid) -> dict[str, np.ndarray]:
        mean = split_cost(shape, g.l_in, g.l_out, attention, g.budget, g.s).mean(g.weights)
        return {
            f"{part}.{t}": getattr(cost, t)
            for part, cost in (("shared", mean.shared), ("per_trial", mean.per_trial))
            for t in TERMS
        }

    parts, out = _by_slabs(terms, grid)
    kernel = ATTENTION_KERNEL[attention]
    return SplitCost(
        ProblemCost(**{t: parts[f"shared.{t}"] for t in TERMS}, attention_kernel=kernel),
        ProblemCost(**{t: parts[f"per_trial.{t}"] for t in TERMS}, attention_kernel=kernel),
        out,
    )


def eflops_mean(
    shape: CostShape,
    l_in: np.ndarray,
    l_out: np.ndarray,
    attention: str,
    budget: np.ndarray | None,
    s: np.ndarray,
    weights: np.ndarray,
    intensity: ArrayLike,
) -> SplitTotal:
    """split_cost(...).eflops(intensity).mean(weights), a slab of the length grid at a time
    (the same values, as split_mean; in one pass when the intensity is an array)."""

    grid = LengthGrid(l_in, l_out, budget, s, weights)
    if np.ndim(intensity) > 0 or _one_pass(grid):
        return split_eflops(shape, l_in, l_out, attention, budget, s, intensity).mean(weights)

    def total(g: LengthGrid) -> dict[str, np.ndarray]:
        split = split_eflops(shape, g.l_in, g.l_out, attention, g.budget, g.s, intensity)
        mean = split.mean(g.weights)
        return {"shared": mean.shared, "per_trial": mean.per_trial}

    parts, out = _by_slabs(total, grid)
    return SplitTotal(parts["shared"], parts["per_trial"], out)


def split_eflops(
    shape: CostShape,
    l_in: np.ndarray,
    l_out: np.ndarray,
    attention: str,
    budget: np.ndarray | None,
    s: np.ndarray,
    intensity: ArrayLike,
) -> SplitTotal:
    """split_cost(...).eflops(intensity), with dense or top-k attention over one full-attention
    group (plain GQA or MLA cards) in fewer arrays (_dense_eflops, _topk_eflops)."""
    rates = shape.rates
    plain = (
        len(rates) == 1
        and rates[0].group.kind != "linear"
        and rates[0].group.window is None
        and np.ndim(intensity) == 0
    )
    if plain and attention == "dense":
        full = np.broadcast_shapes(
            l_in.shape, l_out.shape, s.shape, () if budget is None else budget.shape
        )
        if l_out.shape == full:
            return _dense_eflops(shape.linear_flops_per_token, rates[0], l_in, l_out, intensity)
    if plain and attention == "topk" and budget is not None:
        full = np.broadcast_shapes(l_in.shape, l_out.shape, s.shape, budget.shape)
        return _topk_eflops(
            shape.linear_flops_per_token, rates[0], l_in, l_out, budget, full, intensity
        )
    return split_cost(shape, l_in, l_out, attention, budget, s).eflops(intensity)


def _dense_eflops(
    linear_rate: float, rate: GroupRates, l_in: np.ndarray, l_out: np.ndarray, intensity: ArrayLike
) -> SplitTotal:
    """Dense attention's eFLOPs as split_cost and _law compute them, the same products and sums
    in place (so the same values): shared I x bytes x L_in L_out; per trial
    I x bytes x L_out^2 / 2 + (P-rate x L_out + flops x (L_in L_out + L_out^2 / 2))."""
    attention, prompt, generated = _seen(l_in, l_out, None)  # new arrays: updated in place
    attention *= rate.flops
    prompt *= rate.bytes
    prompt *= intensity  # shared: the prompt's KV, read once for all trials
    compute = np.multiply(linear_rate, l_out)
    compute += attention
    generated *= rate.bytes
    generated *= intensity
    generated += compute  # per trial: its own KV, then its FLOPs
    return SplitTotal(prompt, generated, l_out.shape)


def _topk_eflops(
    linear_rate: float,
    rate: GroupRates,
    l_in: np.ndarray,
    l_out: np.ndarray,
    budget: np.ndarray,
    full: tuple[int, ...],
    intensity: ArrayLike,
) -> SplitTotal:
    """Top-k attention's eFLOPs as split_cost and _law compute them, in place (the same
    values): nothing shared; per trial I x bytes x A + (P-rate x L_out + flops x A), with A the
    attended tokens under the budget."""
    attended = np.asarray(attended_tokens(l_in, l_out, budget), dtype=float)
    compute = np.multiply(rate.flops, attended)
    compute += np.multiply(linear_rate, l_out)  # linear + attention (addition commutes)
    attended *= rate.bytes  # a new array from attended_tokens: now the KV bytes
    attended *= intensity
    attended += compute
    return SplitTotal(ZERO, attended, full)


def _one_pass(grid: LengthGrid) -> bool:
    """Whether the length grid is small enough (or too flat) to cost in one pass."""
    full = np.broadcast(*(a for a in grid if a is not None)).shape
    return len(full) < 2 or math.prod(full) <= 2 * SLAB


def _by_slabs(
    mean_of: Callable[[LengthGrid], dict[str, np.ndarray]], grid: LengthGrid
) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
    """mean_of(grid) (arrays over the grid without its last axis, or ZERO) and that shape,
    computed on slabs of about SLAB elements cut along the largest other axis (whole blocks of
    64 rows), each result written into its place."""
    full = np.broadcast(*(a for a in grid if a is not None)).shape
    axis = int(np.argmax(full[:-1]))
    step = -(-SLAB * full[axis] // math.prod(full) // 64) * 64
    out: dict[str, np.ndarray] = {}
    for start in range(0, full[axis], step):
        piece = slice(start, start + step)

        def part(a: np.ndarray) -> np.ndarray:
            return _cut(a, full, axis, piece)  # noqa: B023 (used within this iteration)

        budget = None if grid.budget is None else part(grid.budget)
        cut = LengthGrid(
            part(grid.l_in), part(grid.l_out), budget, part(grid.s), part(grid.weights)
        )
        for name, value in mean_of(cut).items():
            if _is_zero(value):
                out[name] = ZERO
                continue
            if name not in out:
                out[name] = np.empty(full[:-1])
            out[name][(slice(None),) * axis + (piece,)] = value
    return out, full[:-1]


def _cut(array: np.ndarray, full: tuple[int, ...], axis: int, piece: slice) -> np.ndarray:
    """The part of `array` (broadcast against `full`) that one piece of `full`'s `axis` uses:
    itself where it does not vary along that axis."""
    own = axis - (len(full) - array.ndim)
    if own < 0 or array.shape[own] == 1:
        return array
    return array[(slice(None),) * own + (piece,)]
