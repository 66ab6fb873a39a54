"""The Kinetics cost law: FLOPs, bytes and eFLOPs of one problem (all N trials of one prompt).

eFLOPs = compute FLOPs + I x memory bytes (arXiv 2506.05333, Sec. 3). Every function broadcasts
over numpy arrays of prompt lengths, generated lengths, trial counts and KV budgets, so a planner
costs a whole grid in one call. Derivations and where this goes beyond the paper:
docs/cost-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike

from kinetics_cli.engine.operators import (
    OpCost,
    attention_decode,
    block_search,
    linear_attention_decode,
    matmul,
)
from kinetics_cli.engine.operators import attended_tokens as attended_tokens  # public here too
from kinetics_cli.errors import InputError
from kinetics_cli.specs import AttentionGroup, HardwareProfile, ModelCard

AttentionName = Literal["dense", "topk", "block-topk"]
LawName = Literal["kinetics", "flops"]
ATTENTIONS: tuple[str, ...] = get_args(AttentionName)
LAWS: tuple[str, ...] = get_args(LawName)

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
    """

    linear_flops: np.ndarray
    attention_flops: np.ndarray
    search_flops: np.ndarray
    kv_bytes: np.ndarray
    search_bytes: np.ndarray
    attention_kernel: str = "attention_decode_dense"

    @property
    def compute_flops(self) -> np.ndarray:
        return self.linear_flops + self.attention_flops + self.search_flops

    @property
    def memory_bytes(self) -> np.ndarray:
        return self.kv_bytes + self.search_bytes

    def eflops(self, intensity: ArrayLike) -> np.ndarray:
        """compute FLOPs + I x memory bytes (I = 0 gives the FLOPs-only law)."""
        return self.compute_flops + np.asarray(intensity, dtype=float) * self.memory_bytes

    def seconds(self, hardware: HardwareProfile, calibrated: bool = True) -> np.ndarray:
        """The paper's additive time: compute / peak bf16 + memory / HBM bandwidth.

        Calibrated: linear FLOPs at the gemm class's compute efficiency, attention, search and KV
        terms at the attention class's efficiencies; per-call overheads are not charged.
        """
        peak, bandwidth = hardware.peak("bf16"), hardware.hbm_bandwidth
        gemm = hardware.kernel_fit("gemm") if calibrated else None
        attn = hardware.kernel_fit(self.attention_kernel) if calibrated else None
        linear_eff = gemm.compute_efficiency if gemm else 1.0
        attn_eff = attn.compute_efficiency if attn else 1.0
        bw_eff = attn.bandwidth_efficiency if attn else 1.0
        return (
            self.linear_flops / (peak * linear_eff)
            + (self.attention_flops + self.search_flops) / (peak * attn_eff)
            + self.memory_bytes / (bandwidth * bw_eff)
        )

    def mean(
        self, axis: int | tuple[int, ...] = -1, weights: ArrayLike | None = None
    ) -> ProblemCost:
        """Mean over a distribution of generated lengths laid out along `axis` (paper: plain mean)."""
        w = None if weights is None else np.asarray(weights, dtype=float)
        values = {
            f.name: np.average(getattr(self, f.name), axis=axis, weights=w)
            for f in fields(self)
            if f.name != "attention_kernel"
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


def _nonnegative(name: str, value: ArrayLike) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(array)):
        raise InputError(f"{name} must be finite")
    if np.any(array < 0):
        raise InputError(f"{name} must not be negative (got {array.min():g})")
    return array


def _positive(name: str, value: ArrayLike) -> np.ndarray:
    array = _nonnegative(name, value)
    if np.any(array <= 0):
        raise InputError(f"{name} must be positive (got {array.min():g})")
    return array


def check_attention(attention: str, kv_budget: ArrayLike | None, block_size: ArrayLike) -> None:
    """Raise InputError for an unknown variant, a sparse variant without a budget, bad sizes."""
    if attention not in ATTENTIONS:
        raise InputError(f"unknown attention {attention!r}; choose one of {', '.join(ATTENTIONS)}")
    if attention != "dense":
        if kv_budget is None:
            raise InputError(f"--kv-budget is required for {attention} attention")
        _positive("KV budget", kv_budget)
    _positive("block size", block_size)


def _group_cost(
    group: AttentionGroup,
    prompt_len: np.ndarray,
    gen_len: np.ndarray,
    trials: np.ndarray,
    attention: str,
    kv_budget: np.ndarray | None,
    block_size: np.ndarray,
    kv_bytes: float,
    state_bytes: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(attention FLOPs, KV bytes, search FLOPs, search bytes) of one attention group's layers."""
    zero = np.zeros(())
    layers = group.layers
    if group.kind == "linear":
        step = linear_attention_decode(
            trials, group.q_heads, group.qk_head_dim, group.v_head_dim, state_bytes=state_bytes
        )
        return (
            np.multiply(step.flops, gen_len * layers),
            np.multiply(step.bytes, gen_len * layers),
            zero,
            zero,
        )

    def decode(batch: ArrayLike, attended: ArrayLike) -> OpCost:
        return attention_decode(
            batch,
            group.q_heads,
            group.qk_head_dim,
            group.v_head_dim,
            group.kv_elements_per_token,
            attended,
            kv_bytes=kv_bytes,
            act_bytes=0.0,
        )

    window = group.window
    # Tokens in view at each step: the whole context, or the last `window` of it.
    seen_total = attended_tokens(prompt_len, gen_len, window)
    seen_generated = attended_tokens(0.0, gen_len, window)
    if attention == "dense":
        flops = decode(trials, seen_total).flops
        # The prompt's KV is shared by the N trials (read once per step); generated KV is not.
        nbytes = np.add(
            decode(1.0, seen_total - seen_generated).bytes, decode(trials, seen_generated).bytes
        )
        return np.multiply(flops, layers), np.multiply(nbytes, layers), zero, zero

    assert kv_budget is not None
    cap = kv_budget if window is None else np.minimum(kv_budget, window)
    attended = attended_tokens(prompt_len, gen_len, cap)
    step = decode(trials, attended)  # sparse: no prefix sharing assumed
    attn_flops = np.multiply(step.flops, layers)
    kv = np.multiply(step.bytes, layers)
    if attention != "block-topk":
        return attn_flops, kv, zero, zero

    def search(batch: ArrayLike, context: ArrayLike) -> OpCost:
        return block_search(
            batch,
            group.q_heads,
            group.qk_head_dim,
            group.key_elements_per_token,
            context,
            block_size,
            kv_bytes=kv_bytes,
        )

    # Every page in view is scored each step; prompt pages are shared across trials in memory.
    search_flops = search(trials, seen_total).flops
    search_bytes = np.add(
        search(1.0, seen_total - seen_generated).bytes, search(trials, seen_generated).bytes
    )
    if window is not None:  # a window no larger than the budget is attended whole: no search
        needed = np.asarray(window > kv_budget, dtype=float)
        search_flops, search_bytes = search_flops * needed, search_bytes * needed
    return attn_flops, kv, np.multiply(search_flops, layers), np.multiply(search_bytes, layers)


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
        p = card.active_params if params is None else float(_positive("params", params))
        return cls(
            params=p,
            groups=tuple(card.attention_groups()),
            kv_bytes=card.architecture.kv_bytes,
            state_bytes=card.linear_attention.state_bytes if card.linear_attention else 4.0,
        )


def problem_cost(
    card: ModelCard | CostShape,
    prompt_len: ArrayLike,
    gen_len: ArrayLike,
    trials: ArrayLike = 1,
    attention: str = "dense",
    kv_budget: ArrayLike | None = None,
    block_size: ArrayLike = 16,
    *,
    params: float | None = None,
) -> ProblemCost:
    """FLOPs and bytes of one problem: N trials of L_out tokens after an L_in-token prompt.

    Paper notation (GQA): linear 2 N P L_out; attention 4 h A N; KV dense 4 d (L_in L_out + N
    L_out^2 / 2), sparse 4 d A N; block top-k search 2 h (L_in L_out + L_out^2 / 2) / S per trial
    and 2 d (L_in L_out + N L_out^2 / 2) / S bytes. h and d are generalized per attention group
    (MLA, sliding window, linear attention). `params` overrides P (default: active parameters).
    Prompt processing (prefill) is not charged, as in the paper. Pass a CostShape instead of a
    card to skip re-deriving the card's figures in a tight loop.
    """
    check_attention(attention, kv_budget, block_size)
    l_in = _nonnegative("prompt length", prompt_len)
    l_out = _nonnegative("generated length", gen_len)
    n = _positive("trials", trials)
    budget = (
        None if kv_budget is None or attention == "dense" else _positive("KV budget", kv_budget)
    )
    s = _positive("block size", block_size)
    if isinstance(card, CostShape):
        shape = card if params is None else replace(card, params=float(_positive("params", params)))
    else:
        shape = CostShape.of(card, params)
    return shaped_cost(shape, l_in, l_out, n, attention, budget, s)


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
    # One generated token passes through P weights: a (1 x P) matmul, weights free at large batch.
    linear = matmul(n * l_out, shape.params, 1.0, weight_bytes=0.0, act_bytes=0.0).flops
    totals = [np.zeros(()) for _ in range(4)]
    for group in shape.groups:
        for i, term in enumerate(
            _group_cost(
                group, l_in, l_out, n, attention, budget, s, shape.kv_bytes, shape.state_bytes
            )
        ):
            totals[i] = totals[i] + term
    out = np.broadcast_shapes(
        l_in.shape, l_out.shape, n.shape, s.shape, () if budget is None else budget.shape
    )
    attn, kv, search_flops, search_bytes = (np.broadcast_to(t, out) for t in totals)
    return ProblemCost(
        linear_flops=np.broadcast_to(linear, out),
        attention_flops=attn,
        search_flops=search_flops,
        kv_bytes=kv,
        search_bytes=search_bytes,
        attention_kernel=ATTENTION_KERNEL[attention],
    )


def expected_problem_cost(
    card: ModelCard,
    prompt_len: ArrayLike,
    gen_lens: ArrayLike,
    trials: ArrayLike = 1,
    attention: str = "dense",
    kv_budget: ArrayLike | None = None,
    block_size: ArrayLike = 16,
    *,
    params: float | None = None,
    weights: ArrayLike | None = None,
) -> ProblemCost:
    """Mean cost over a distribution of generated lengths on the last axis of `gen_lens`.

    Each length is costed as if every trial generated it, then averaged (the paper's code, cost_model/utils.py expected_cost).
    The other arguments must broadcast against gen_lens.shape[:-1].
    """
    lengths = np.asarray(gen_lens, dtype=float)
    if lengths.ndim == 0:
        lengths = lengths[None]
    if lengths.size == 0:
        raise InputError("at least one generated length is needed")
    cost = problem_cost(
        card,
        np.asarray(prompt_len, dtype=float)[..., None],
        lengths,
        np.asarray(trials, dtype=float)[..., None],
        attention,
        None if kv_budget is None else np.asarray(kv_budget, dtype=float)[..., None],
        np.asarray(block_size, dtype=float)[..., None],
        params=params,
    )
    return cost.mean(axis=-1, weights=weights)
