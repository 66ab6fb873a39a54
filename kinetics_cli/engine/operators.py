"""Operator accounting shared by the eFLOPs law, the roofline and calibration.

Every function returns FLOPs and bytes moved for one operator call and broadcasts over numpy
arrays, so a whole grid of shapes is costed at once. Derivations: docs/cost-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

Array = np.ndarray | float


@dataclass(frozen=True)
class OpCost:
    """FLOPs and bytes moved by one operator (arrays broadcast over a grid)."""

    flops: Array
    bytes: Array

    def __add__(self, other: OpCost) -> OpCost:
        return OpCost(np.add(self.flops, other.flops), np.add(self.bytes, other.bytes))

    def scaled(self, factor: ArrayLike) -> OpCost:
        return OpCost(np.multiply(self.flops, factor), np.multiply(self.bytes, factor))

    @property
    def intensity(self) -> Array:
        """FLOPs per byte moved (inf for an operator that moves nothing)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.divide(self.flops, self.bytes)


ZERO = OpCost(0.0, 0.0)


def matmul(
    tokens: ArrayLike,
    in_features: ArrayLike,
    out_features: ArrayLike,
    *,
    weight_bytes: float = 2.0,
    act_bytes: float = 2.0,
) -> OpCost:
    """Tokens x (in -> out) weight matmul: 2 T K N FLOPs; weights read once, activations in and out.

    bytes = K N w + T (K + N) a. Weights are shared by every token of the call (batching).
    """
    t = np.asarray(tokens, dtype=float)
    if isinstance(in_features, int | float) and isinstance(out_features, int | float):
        # scalar widths (every serving step) in Python floats: the same double operations as
        # on 0-d arrays, without numpy's per-call cost on each
        k, n = float(in_features), float(out_features)
        return OpCost(2.0 * t * k * n, k * n * weight_bytes + t * (k + n) * act_bytes)
    ka = np.asarray(in_features, dtype=float)
    na = np.asarray(out_features, dtype=float)
    return OpCost(2.0 * t * ka * na, ka * na * weight_bytes + t * (ka + na) * act_bytes)


def gemm(m: ArrayLike, n: ArrayLike, k: ArrayLike, *, elem_bytes: float = 2.0) -> OpCost:
    """Plain (m x k) @ (k x n) product: 2 m n k FLOPs; reads A and B, writes C once."""
    m_, n_, k_ = (np.asarray(x, dtype=float) for x in (m, n, k))
    return OpCost(2.0 * m_ * n_ * k_, (m_ * k_ + k_ * n_ + m_ * n_) * elem_bytes)


def stream(nbytes: ArrayLike) -> OpCost:
    """Device copy of `nbytes`: reads and writes each byte once, no arithmetic."""
    b = np.asarray(nbytes, dtype=float)
    return OpCost(np.zeros_like(b), 2.0 * b)


def attention_decode(
    batch: ArrayLike,
    q_heads: int,
    qk_head_dim: int,
    v_head_dim: int,
    kv_elements_per_token: int,
    attended: ArrayLike,
    *,
    kv_bytes: float = 2.0,
    act_bytes: float = 2.0,
) -> OpCost:
    """One decode step of attention for `batch` sequences, each attending to `attended` tokens.

    FLOPs = 2 B H_q T (d_qk + d_v) (scores and weighted values). Bytes = B T e_kv kv_bytes (the
    cache read) + B H_q (d_qk + d_v) act_bytes (query in, output out). Per layer.
    With d_qk = d_v = d this is the paper's 4 h per attended token and 4 d bytes for GQA.
    """
    b = np.asarray(batch, dtype=float)
    t = np.asarray(attended, dtype=float)
    flops = 2.0 * b * q_heads * t * (qk_head_dim + v_head_dim)
    nbytes = (
        b * t * kv_elements_per_token * kv_bytes
        + b * q_heads * (qk_head_dim + v_head_dim) * act_bytes
    )
    return OpCost(flops, nbytes)


def block_search(
    batch: ArrayLike,
    q_heads: int,
    qk_head_dim: int,
    key_elements_per_token: int,
    context: ArrayLike,
    block_size: ArrayLike,
    *,
    kv_bytes: float = 2.0,
) -> OpCost:
    """Block top-k page scoring: every query head scores one K-sized summary per page.

    FLOPs = 2 B H_q d_qk (T / S); bytes = B (T / S) e_k kv_bytes, per layer (continuous T / S,
    no floor, as in the closed-form law).
    """
    b = np.asarray(batch, dtype=float)
    pages = np.asarray(context, dtype=float) / np.asarray(block_size, dtype=float)
    return OpCost(
        2.0 * b * q_heads * qk_head_dim * pages, b * pages * key_elements_per_token * kv_bytes
    )


def linear_attention_decode(
    batch: ArrayLike,
    heads: int,
    key_head_dim: int,
    value_head_dim: int,
    *,
    state_bytes: float = 4.0,
    conv_state_bytes: float = 0.0,
) -> OpCost:
    """One decode step of a linear-attention layer with a d_k x d_v state per head and a short
    convolution holding `conv_state_bytes` per sequence.

    FLOPs = 4 B H d_k d_v (state update and read-out); bytes = 2 B (H d_k d_v state_bytes +
    conv_state_bytes) (read and write both states). Independent of the context length.
    """
    b = np.asarray(batch, dtype=float)
    elems = heads * key_head_dim * value_head_dim
    return OpCost(4.0 * b * elems, 2.0 * b * (elems * state_bytes + conv_state_bytes))


def all_reduce_bytes(message_bytes: ArrayLike, tp: ArrayLike) -> Array:
    """Bytes each GPU sends in a ring all-reduce of `message_bytes` over `tp` GPUs: 2 (T-1)/T M."""
    t = np.asarray(tp, dtype=float)
    return 2.0 * (t - 1.0) / t * np.asarray(message_bytes, dtype=float)


def all_to_all_bytes(message_bytes: ArrayLike, group: ArrayLike) -> Array:
    """Bytes each GPU sends when it scatters `message_bytes` evenly over `group` GPUs: (G-1)/G M."""
    g = np.asarray(group, dtype=float)
    return (g - 1.0) / g * np.asarray(message_bytes, dtype=float)


def attended_tokens(
    prompt_len: ArrayLike, gen_len: ArrayLike, cap: ArrayLike | None = None
) -> np.ndarray:
    """A = integral over t in [0, L_out] of min(cap, L_in + t): KV tokens read over one trial.

    No cap (dense): L_in L_out + L_out^2 / 2. With cap B: B L_out when B <= L_in; the dense value
    when B >= L_in + L_out; else L_in t* + t*^2 / 2 + B (L_out - t*) with t* = B - L_in.
    The same integral counts the keys L new prefill tokens attend after L_in cached ones, with a
    sliding window as the cap.
    """
    c = np.asarray(prompt_len, dtype=float)
    n = np.asarray(gen_len, dtype=float)
    if cap is None:
        return c * n + 0.5 * n * n
    b = np.asarray(cap, dtype=float)
    t_star = np.clip(b - c, 0.0, n)
    return c * t_star + 0.5 * t_star * t_star + b * (n - t_star)


def attention_prefill(
    batch: ArrayLike,
    q_heads: int,
    qk_head_dim: int,
    v_head_dim: int,
    kv_elements_per_token: int,
    new_tokens: ArrayLike,
    cached: ArrayLike = 0.0,
    *,
    window: float | None = None,
    kv_bytes: float = 2.0,
    act_bytes: float = 2.0,
) -> OpCost:
    """Causal attention of `new_tokens` queries per sequence over `cached` + themselves, per layer.

    FLOPs = 2 B H_q (d_qk + d_v) A with A = attended_tokens(C, L, cap=W): L C + L^2 / 2 without a
    window (continuous causal triangle), each query seeing at most W keys with one. Bytes =
    B (min(C, W) + L) e_kv kv_bytes (each key and value in view read once, the ideal of a fused
    kernel) + B L H_q (d_qk + d_v) act_bytes (queries in, outputs out).
    """
    b = np.asarray(batch, dtype=float)
    n = np.asarray(new_tokens, dtype=float)
    c = np.asarray(cached, dtype=float)
    in_view = c if window is None else np.minimum(c, window)
    width = q_heads * (qk_head_dim + v_head_dim)
    flops = 2.0 * b * width * attended_tokens(c, n, window)
    nbytes = b * (in_view + n) * kv_elements_per_token * kv_bytes + b * n * width * act_bytes
    return OpCost(flops, nbytes)


def experts_touched(tokens: ArrayLike, experts: int, experts_per_token: int) -> Array:
    """Expected distinct experts when `tokens` tokens each route to k of E uniformly: E (1 - (1 - k/E)^T)."""
    t = np.asarray(tokens, dtype=float)
    return experts * (1.0 - (1.0 - experts_per_token / experts) ** t)


def routed_experts(
    tokens: ArrayLike,
    experts: int,
    experts_per_token: int,
    expert_params: float,
    in_features: float,
    *,
    tp: int = 1,
    ep: int = 1,
    weight_bytes: float = 2.0,
    act_bytes: float = 2.0,
) -> OpCost:
    """Routed MoE experts for a batch of `tokens` (each passing through k experts), per GPU of
    `tp` whose experts are dealt over `ep` groups of tp / ep GPUs, each expert split over its
    group's GPUs along its width (tp = ep = 1: one GPU holding every expert).

    FLOPs = 2 T k P_e / tp; bytes = experts_touched(T) P_e w / tp (only the experts some token
    picked are read) + (T k / ep) (K + P_e ep / (K tp)) a: a GPU runs the passes routed to its
    group, T k / ep in expectation, each reading its K-wide input row and writing its share of
    the expert's width.
    """
    t = np.asarray(tokens, dtype=float)
    passes = t * experts_per_token
    out_features = expert_params / tp * ep / in_features
    nbytes = (
        experts_touched(t, experts, experts_per_token) * (expert_params / tp) * weight_bytes
        + passes / ep * (in_features + out_features) * act_bytes
    )
    return OpCost(2.0 * passes * (expert_params / tp), nbytes)


def elementwise(
    elements: ArrayLike,
    *,
    inputs: int = 1,
    outputs: int = 1,
    flops_per_element: float = 1.0,
    elem_bytes: float = 2.0,
) -> OpCost:
    """Pointwise operator (norm, activation, residual add) over `elements` values.

    FLOPs = f E; bytes = (inputs + outputs) E elem_bytes: every operand read once, every result
    written once.
    """
    e = np.asarray(elements, dtype=float)
    return OpCost(flops_per_element * e, (inputs + outputs) * e * elem_bytes)
