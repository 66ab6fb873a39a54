"""One serving step, operator by operator: FLOPs, bytes, roofline time, memory fit.

Where the eFLOPs law assumes weights are free (huge batches), this models a real step: weights
read once per step and shared by the batch, MoE experts the batch touches, KV traffic of every
sequence, tensor parallelism and its all-reduces. Operator time is engine.timing.kernel_seconds
(calibrated roofline plus per-call overhead). Derivations: docs/cost-model.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from kinetics_cli.arrays import sorted_unique
from kinetics_cli.engine.formats import FORMAT_ALIASES, FORMATS
from kinetics_cli.engine.kinetics import ATTENTION_KERNEL, DEFAULT_BLOCK_SIZE, check_attention
from kinetics_cli.engine.operators import (
    OpCost,
    all_reduce_bytes,
    all_to_all_bytes,
    attention_decode,
    attention_prefill,
    block_search,
    linear_attention_decode,
    matmul,
    routed_experts,
    stream,
)
from kinetics_cli.engine.timing import roofline_terms
from kinetics_cli.errors import InputError
from kinetics_cli.specs import AttentionGroup, HardwareProfile, ModelCard
from kinetics_cli.units import format_bytes

OperatorKind = Literal["attention", "linear", "communication", "other"]
Phase = Literal["decode", "prefill"]
# Bytes per element of each `--dtype` (fp4: NVFP4, 4.5 bits), from the formats' definitions.
DTYPE_BYTES = {
    name: FORMATS[FORMAT_ALIASES.get(name, name)].bytes for name in ("bf16", "fp16", "fp8", "fp4")
}
INTERCONNECT = "interconnect"  # kernel label of communication operators (not a calibration class)
_RIDGE_BATCHES = sorted_unique(
    np.concatenate([np.arange(1, 8193), np.round(np.geomspace(8193, 2**24, 4000))])
)


@dataclass(frozen=True)
class OperatorTime:
    """One operator of the step, summed over its `calls` (layers) and given per GPU."""

    name: str
    kind: OperatorKind
    kernel: str
    calls: int
    flops: float
    bytes: float
    seconds: float
    compute_seconds: float
    memory_seconds: float
    bound: str  # compute | memory | communication

    @property
    def intensity(self) -> float:
        """FLOPs per byte moved (inf for an operator that moves nothing)."""
        return self.flops / self.bytes if self.bytes else math.inf

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "kernel": self.kernel,
            "calls": self.calls,
            "flops": self.flops,
            "bytes": self.bytes,
            "intensity": self.intensity,
            "seconds": self.seconds,
            "compute_seconds": self.compute_seconds,
            "memory_seconds": self.memory_seconds,
            "bound": self.bound,
        }


@dataclass(frozen=True)
class StepReport:
    """One serving step of `batch` sequences on a tensor-parallel group of `tp` GPUs.

    Figures are per GPU unless named otherwise; tokens_per_second is per GPU.
    """

    model: str
    hardware: str
    phase: str
    batch: int
    context: float
    prompt_len: float
    tp: int
    attention: str
    kv_budget: float | None
    block_size: float
    dtype: str  # the peak the matmuls run at
    formats: str  # every tensor kind's format and the peak (Precision.describe)
    operators: list[OperatorTime]
    step_seconds: float
    tokens_per_step: float
    tokens_per_second: float
    tokens_per_second_per_replica: float
    tokens_per_second_per_node: float
    bound: str
    compute_seconds: float
    memory_seconds: float
    ridge_batch: int | None
    linear_ridge_batch: int | None  # where the weight matmuls alone turn compute-bound
    attention_share: float
    linear_share: float
    communication_share: float
    other_share: float
    weight_bytes: float  # held per GPU
    kv_bytes: float  # held per GPU for the batch (cache, page summaries, recurrent state)
    kv_bytes_per_sequence: float
    hbm_capacity: float
    fits: bool
    max_batch: int | None
    weight_bytes_read: float  # per step, per GPU
    kv_bytes_read: float  # per step, per GPU (attention operators)
    peak_flops: float
    hbm_bandwidth: float
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        doc: dict[str, object] = {
            k: v for k, v in self.__dict__.items() if k not in ("operators", "notes")
        }
        doc["operators"] = [op.as_dict() for op in self.operators]
        doc["notes"] = list(self.notes)
        return doc


@dataclass(frozen=True)
class _Op:
    """An operator before timing: per-call cost (arrays over batch), calls per step."""

    name: str
    kind: OperatorKind
    kernel: str
    calls: int
    cost: OpCost
    link_seconds: np.ndarray | None = None  # communication: time on the interconnect
    grouped: bool = False  # a grouped (per-expert) matmul: routed MoE experts


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def width_name(nbytes: float) -> str:
    """The format of `nbytes` per element ('bf16', 'fp8', 'nvfp4', 'mxfp4'), or its bits."""
    for f in FORMATS.values():
        if f.bytes == nbytes:
            return f.name
    return f"{8 * nbytes:g}-bit"


def embedding_width(card: ModelCard, width: float) -> float:
    """Bytes per embedding, LM-head and norm weight under a weight format of `width` bytes: the
    card's, narrowed by a 16-bit format only. Quantised formats (fp8, fp4) apply to the blocks'
    matmul weights, as FP8 and MXFP4 checkpoints keep these in BF16."""
    return min(card.architecture.embedding_bytes, max(width, 2.0))


@dataclass(frozen=True)
class Precision:
    """Bytes per element of each tensor kind and the dtype whose peak the matmuls run at.

    `weight` covers the blocks' matmul weights except routed experts (`expert`); `embedding`
    the embedding table, the LM head and the norms (None: `weight`); `kv` the cache; `act`
    activations read and written by operators; `collective` what collectives send.
    """

    weight: float
    expert: float
    kv: float
    act: float
    collective: float
    compute: str
    embedding: float | None = None

    @property
    def embedding_bytes(self) -> float:
        return self.weight if self.embedding is None else self.embedding

    def describe(self) -> str:
        """'nvfp4 weights, fp8 KV, bf16 activations, bf16 matmuls': each width by its format's
        name (routed experts, and the embedding, LM head and norms, named apart where they
        differ), and the peak the matmuls run at."""
        weights = f"{width_name(self.weight)} weights"
        apart = []
        if self.expert != self.weight:
            apart.append(f"{width_name(self.expert)} experts")
        if self.embedding_bytes != self.weight:
            apart.append(f"{width_name(self.embedding_bytes)} embedding and LM head")
        if apart:
            weights += f" ({', '.join(apart)})"
        return (
            f"{weights}, {width_name(self.kv)} KV, {width_name(self.act)} activations, "
            f"{self.compute} matmuls"
        )

    @classmethod
    def from_dtype(cls, card: ModelCard, dtype: str) -> Precision:
        """One dtype for everything (`kinetics roofline --dtype`): the card's stored widths,
        narrowed to the dtype where it is narrower, at the dtype's peak (fp16's is bf16's)."""
        width = DTYPE_BYTES[dtype]
        act = max(width, DTYPE_BYTES["fp8"])  # no engine keeps activations or a cache in fp4
        return cls(
            weight=min(card.architecture.weight_bytes, width),
            expert=min(card.expert_weight_bytes, width),
            embedding=embedding_width(card, width),
            kv=min(card.architecture.kv_bytes, act),
            act=act,
            collective=act,
            compute=FORMATS[FORMAT_ALIASES.get(dtype, dtype)].peak,
        )


@dataclass(frozen=True)
class Links:
    """Collective cost: time = calls x (latency + bytes / (efficiency x interconnect bandwidth))."""

    latency_seconds: float = 0.0
    bandwidth_efficiency: float = 1.0


@dataclass(frozen=True)
class StepSetup:
    """Everything about a step except the batch, which the operators broadcast over.

    `context` may be an array that broadcasts against the batch. With `attention_dp` the
    attention, dense MLP, shared experts and LM head run data-parallel over the `tp` GPUs (each
    holds them whole and serves batch / tp sequences) and only routed experts are split; the
    tokens reach their experts by all-to-all instead of all-reduce. `ep`: the routed experts are
    dealt over ep groups of tp / ep GPUs (each expert split over its group), so a GPU runs the
    passes routed to its group only.
    """

    card: ModelCard
    hardware: HardwareProfile
    phase: str
    context: float | np.ndarray
    prompt_len: float
    tp: int
    attention: str
    kv_budget: float | None
    block_size: float
    dtype: str
    precision: Precision
    attention_dp: bool = False
    ep: int = 1  # expert-parallel groups the routed experts are dealt over (divides tp)
    links: Links = Links()
    activations: bool = True  # False: count weight and cache traffic only

    @property
    def weight_bytes(self) -> float:
        """Bytes per stored weight outside the routed experts."""
        return self.precision.weight

    @property
    def expert_bytes(self) -> float:
        """Bytes per routed-expert weight (MXFP4 experts stay at 0.53 B under bf16 compute)."""
        return self.precision.expert

    @property
    def kv_elem_bytes(self) -> float:
        """Bytes per cached element."""
        return self.precision.kv

    @property
    def act_bytes(self) -> float:
        return self.precision.act if self.activations else 0.0

    @property
    def collective_bytes(self) -> float:
        return self.precision.collective if self.activations else 0.0

    @property
    def dense_tp(self) -> int:
        """GPUs the non-expert weights and the attention heads are split over."""
        return 1 if self.attention_dp else self.tp

    @property
    def new_tokens(self) -> float:
        """Tokens each sequence adds in this step."""
        return self.prompt_len if self.phase == "prefill" else 1.0

    @property
    def held_context(self) -> float | np.ndarray:
        """Tokens each sequence holds in its cache at the end of the step."""
        return self.context + (self.prompt_len if self.phase == "prefill" else 0.0)


def _layer_index(card: ModelCard, predicate: Callable[[int], bool]) -> int:
    return next(i for i in range(card.architecture.layers) if predicate(i))


def _attention_shapes(card: ModelCard, kind: str) -> tuple[float, float]:
    """(input-projection parameters, output-projection input width) of one layer of `kind`."""
    a = card.architecture
    params = card.layer_params(_layer_index(card, lambda i: card.layer_kind(i) == kind)).attention
    if kind == "linear" and card.linear_attention is not None:
        o_in = card.linear_attention.value_heads * card.linear_attention.value_head_dim
    elif card.mla is not None:
        o_in = a.attention_heads * card.mla.v_head_dim
    else:
        o_in = a.attention_heads * a.head_dim
    o_params = o_in * a.hidden_size + (a.hidden_size if a.o_bias else 0)
    return params - o_params, float(o_in)


def _per_rank(group: AttentionGroup, tp: int) -> tuple[int, int, int]:
    """(query heads, KV elements per token, key elements per token) on one rank.

    Query heads split over the group; KV heads split too, replicated once tp exceeds them.
    """
    q = group.q_heads // tp
    kv_rank = _ceil_div(group.kv_heads, tp)
    e = group.kv_elements_per_token * kv_rank // group.kv_heads
    k = group.key_elements_per_token * kv_rank // group.kv_heads
    return q, e, k


def attention_splits_evenly(card: ModelCard, tp: int) -> bool:
    """Whether every softmax-attention group's per-rank query heads, KV and key elements at `tp`
    are its whole ones divided by `tp` (no KV head replicated, no remainder): then each attention
    kernel's FLOPs and bytes on a rank are those of one GPU divided by `tp`."""
    for group in card.attention_groups():
        if group.kind == "linear":
            continue
        whole = _per_rank(group, 1)
        if any(x % tp or x // tp != y for x, y in zip(whole, _per_rank(group, tp), strict=True)):
            return False
    return True


def _attention_ops(s: StepSetup, group: AttentionGroup, batch: np.ndarray) -> list[_Op]:
    """Work over the cache (or recurrent state) in one layer of `group`, per rank, for `batch`
    sequences on that rank."""
    kvb, act = s.kv_elem_bytes, s.act_bytes
    card, tp = s.card, s.dense_tp
    if group.kind == "linear":
        la = card.linear_attention
        assert la is not None
        heads = group.q_heads // tp
        step = linear_attention_decode(
            batch,
            heads,
            group.qk_head_dim,
            group.v_head_dim,
            state_bytes=la.state_bytes,
            conv_state_bytes=group.conv_state_bytes / tp,  # channels split with the heads
        )
        if s.phase == "prefill":  # chunked scan: per-token work, state read and written once
            step = OpCost(np.multiply(step.flops, s.prompt_len), step.bytes)
        return [_Op("linear attention", "attention", "stream", group.layers, step)]

    q, e, k = _per_rank(group, tp)
    window = group.window
    if s.phase == "prefill":  # sliding layers: each new token sees at most `window` keys
        cost = attention_prefill(
            batch,
            q,
            group.prefill_qk_head_dim,
            group.prefill_v_head_dim,
            e,
            s.prompt_len,
            s.context,
            window=window,
            kv_bytes=kvb,
            act_bytes=act,
        )
        return [_Op("attention", "attention", "gemm", group.layers, cost)]

    in_view = s.context if window is None else np.minimum(s.context, window)
    attended = in_view
    if s.attention != "dense" and s.kv_budget is not None:
        attended = np.minimum(in_view, s.kv_budget)
    cost = attention_decode(
        batch, q, group.qk_head_dim, group.v_head_dim, e, attended, kv_bytes=kvb, act_bytes=act
    )
    kernel = ATTENTION_KERNEL[s.attention]
    ops = [_Op("attention", "attention", kernel, group.layers, cost)]
    searching = s.attention == "block-topk" and (window is None or window > (s.kv_budget or 0))
    if searching:
        search = block_search(batch, q, group.qk_head_dim, k, in_view, s.block_size, kv_bytes=kvb)
        ops.append(_Op("block search", "attention", kernel, group.layers, search))
    return ops


def _collective(s: StepSetup, name: str, calls: int, link_bytes: np.ndarray) -> _Op:
    """A collective sending `link_bytes` per GPU per call: latency + bytes / achieved bandwidth."""
    seconds = np.asarray(
        s.links.latency_seconds
        + link_bytes / (s.hardware.interconnect_bandwidth * s.links.bandwidth_efficiency),
        dtype=float,
    )
    return _Op(
        name,
        "communication",
        INTERCONNECT,
        calls,
        OpCost(np.zeros_like(seconds), link_bytes),
        link_seconds=seconds,
    )


def step_operators(s: StepSetup, batch: np.ndarray, attention: bool = True) -> list[_Op]:
    """Every operator of one step for each batch size in `batch` (sequences per replica), grouped
    by layer shape; per GPU. `attention` False leaves out the attention kernels (the operators
    that read the context), for callers that price those apart."""
    card, tp = s.card, s.tp
    dtp = s.dense_tp
    a = card.architecture
    hidden = a.hidden_size
    w, act = s.weight_bytes, s.act_bytes
    local = batch / tp if s.attention_dp else batch  # sequences whose attention one GPU runs
    tokens = batch * s.new_tokens
    local_tokens = local * s.new_tokens
    groups = card.attention_groups()
    multi = len(groups) > 1
    ops: list[_Op] = []

    for group in groups:
        suffix = f" [{group.kind}]" if multi else ""
        in_params, o_in = _attention_shapes(card, group.kind)
        qkv = matmul(local_tokens, hidden, in_params / hidden / dtp, weight_bytes=w, act_bytes=act)
        ops.append(_Op("qkv projection" + suffix, "linear", "gemm", group.layers, qkv))
        for op in _attention_ops(s, group, local) if attention else ():
            ops.append(_Op(op.name + suffix, op.kind, op.kernel, op.calls, op.cost))
        o_proj = matmul(local_tokens, o_in / dtp, hidden, weight_bytes=w, act_bytes=act)
        ops.append(_Op("output projection" + suffix, "linear", "gemm", group.layers, o_proj))

    moe_layers = card.moe_layer_count
    dense_layers = a.layers - moe_layers
    if dense_layers:
        index = _layer_index(card, lambda i: not card.is_moe_layer(i))
        mlp_params = card.layer_params(index).mlp_active
        name = "mlp [dense layers]" if moe_layers else "mlp"
        mlp = matmul(local_tokens, hidden, mlp_params / hidden / dtp, weight_bytes=w, act_bytes=act)
        ops.append(_Op(name, "linear", "gemm", dense_layers, mlp))
    if moe_layers and card.moe is not None:
        moe = card.moe
        lp = card.layer_params(_layer_index(card, card.is_moe_layer))
        router = matmul(local_tokens, hidden, moe.experts, weight_bytes=w, act_bytes=act)
        ops.append(_Op("router", "linear", "gemm", moe_layers, router))
        expert_params = card._mlp_params(moe.expert_intermediate_size, moe.expert_bias)
        shared_params = lp.mlp_active - lp.router - moe.experts_per_token * expert_params
        # Every token of the replica reaches its k experts; one GPU holds 1/tp of every expert's
        # weights in expectation (experts split over EP groups, each split over tp/ep GPUs), so
        # it does 1/tp of the expert FLOPs and reads 1/tp of the touched experts' bytes, and
        # runs only the passes routed to its group: 1/ep of them.
        experts = routed_experts(
            tokens,
            moe.experts,
            moe.experts_per_token,
            expert_params,
            hidden,
            tp=tp,
            ep=s.ep,
            weight_bytes=s.expert_bytes,
            act_bytes=act,
        )
        ops.append(_Op("routed experts", "linear", "gemm", moe_layers, experts, grouped=True))
        if shared_params > 0:
            shared = matmul(
                local_tokens, hidden, shared_params / hidden / dtp, weight_bytes=w, act_bytes=act
            )
            ops.append(_Op("shared experts", "linear", "gemm", moe_layers, shared))

    # Two RMSNorms and two residual adds per layer: activations streamed in and out.
    ops.append(
        _Op(
            "norms and residuals",
            "other",
            "stream",
            a.layers,
            stream(2 * local_tokens * hidden * act),
        )
    )
    if tp > 1 and not s.attention_dp:  # after attention and after the MLP, every layer
        link = all_reduce_bytes(tokens * hidden * s.collective_bytes, tp)
        ops.append(_collective(s, "all-reduce", 2 * a.layers, np.asarray(link, dtype=float)))
    elif tp > 1 and moe_layers and card.moe is not None:  # dispatch and combine, MoE layers
        # each token's row goes to the tp / ep GPUs of each of its k experts (per-expert sends,
        # DeepEP's low-latency dispatch), or to every other GPU where that sends less (the
        # all-gather and reduce-scatter TensorRT-LLM runs on one node): docs/serving.md section 2
        ranks = min(card.moe.experts_per_token * (tp // s.ep), tp)
        message = local_tokens * ranks * hidden * s.collective_bytes
        link = all_to_all_bytes(message, tp)
        ops.append(_collective(s, "all-to-all", 2 * moe_layers, np.asarray(link, dtype=float)))
    # The LM head runs once per step, on the last position of each sequence only.
    head = matmul(
        local, hidden, a.vocab_size / dtp, weight_bytes=s.precision.embedding_bytes, act_bytes=act
    )
    ops.append(_Op("lm head", "linear", "gemm", 1, head))
    return ops


def operator_seconds(s: StepSetup, op: _Op) -> np.ndarray:
    """Seconds per step of `op` over the batch axis: time_operator's first figure alone, for
    callers that price many deployments and need no split."""
    if op.link_seconds is not None:
        return op.link_seconds * op.calls
    compute, memory, overhead = roofline_terms(
        op.cost.flops, op.cost.bytes, s.hardware, op.kernel, dtype=s.precision.compute
    )
    return (np.maximum(compute, memory) + overhead) * op.calls


def operators_seconds(
    s: StepSetup, ops: list[_Op], grouped: HardwareProfile | None, shape: tuple[int, ...]
) -> np.ndarray:
    """operator_seconds of every operator of `ops`, [len(ops), *shape] (every operator's arrays
    broadcast to `shape`; `grouped`: the hardware that times grouped GEMMs, s.hardware without
    one). The same element-wise expression with each operator's constants as a column, so the
    same bits, in a few array passes instead of a few per operator."""
    flops = np.zeros((len(ops), *shape))
    nbytes = np.zeros_like(flops)
    # per operator: compute and memory denominators, overhead, calls (1, 1, 0, 1 for links)
    compute, memory, overhead, calls = [], [], [], []
    links: list[tuple[int, np.ndarray, int]] = []
    for i, op in enumerate(ops):
        if op.link_seconds is not None:
            links.append((i, op.link_seconds, op.calls))
            compute.append(1.0)
            memory.append(1.0)
            overhead.append(0.0)
            calls.append(1.0)
            continue
        hw = (grouped or s.hardware) if op.grouped else s.hardware
        fit = hw.kernel_fit(op.kernel)
        compute.append(hw.peak(s.precision.compute) * fit.compute_efficiency)
        memory.append(hw.hbm_bandwidth * fit.bandwidth_efficiency)
        overhead.append(fit.overhead_seconds)
        calls.append(op.calls)
        flops[i] = op.cost.flops
        nbytes[i] = op.cost.bytes
    column = np.array([compute, memory, overhead, calls], dtype=float)
    column = column.reshape(4, len(ops), *(1,) * len(shape))
    np.divide(flops, column[0], out=flops)
    np.divide(nbytes, column[1], out=nbytes)
    np.maximum(flops, nbytes, out=flops)
    np.add(flops, column[2], out=flops)
    np.multiply(flops, column[3], out=flops)
    for i, link_seconds, calls_of in links:
        flops[i] = link_seconds * calls_of
    return flops


def time_operator(s: StepSetup, op: _Op) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(seconds, compute seconds, memory seconds, compute-bound) per step, over the batch axis."""
    hw = s.hardware
    if op.link_seconds is not None:
        zero = np.zeros_like(op.link_seconds)
        return op.link_seconds * op.calls, zero, zero, np.zeros(zero.shape, dtype=bool)
    compute, memory, overhead = roofline_terms(
        op.cost.flops, op.cost.bytes, hw, op.kernel, dtype=s.precision.compute
    )
    per_call = np.maximum(compute, memory) + overhead  # engine.timing.kernel_seconds
    return per_call * op.calls, compute * op.calls, memory * op.calls, compute > memory


def held_bytes(s: StepSetup) -> tuple[float, float | np.ndarray]:
    """(weight bytes, cache bytes per sequence of the replica's batch) held on one GPU.

    At TP 1, the card's KV width and no page summaries the cache equals card.kv_cache_bytes (a
    test holds them together); kept apart because a rank holds ceil(kv_heads / tp) KV heads (KV
    replicated past the head count) at the dtype-narrowed width, which the card does not know.
    With attention data-parallel every GPU holds the non-expert weights whole and the whole cache
    of 1/tp of the sequences: per sequence of the batch, 1/tp of a whole cache on average.
    """
    card, tp, dtp = s.card, s.tp, s.dense_tp
    experts = card.routed_expert_params
    kept = card.embedding_and_norm_params  # at the embedding width
    weights = (
        (card.total_params - experts - kept) * s.weight_bytes / dtp
        + kept * s.precision.embedding_bytes / dtp
        + experts * s.expert_bytes / tp
    )
    ctx = s.held_context
    per_seq: float | np.ndarray = 0.0
    for group in card.attention_groups():
        if group.kind == "linear":
            la = card.linear_attention
            assert la is not None
            state = group.state_elements * la.state_bytes + group.conv_state_bytes
            per_seq = per_seq + group.layers * state / dtp
            continue
        _, e, k = _per_rank(group, dtp)
        held = ctx if group.window is None else np.minimum(ctx, group.window)
        per_seq = per_seq + group.layers * held * e * s.kv_elem_bytes
        if s.attention == "block-topk":  # one key-sized summary per page
            per_seq = per_seq + group.layers * held / s.block_size * k * s.kv_elem_bytes
    if s.attention_dp:
        per_seq = per_seq / tp
    return weights, per_seq


def _ridges(s: StepSetup) -> tuple[int | None, int | None]:
    """Smallest batch at which the step, and the weight matmuls alone, spend longer on FLOPs than
    on bytes (None where no batch up to 2^24 does)."""
    step = np.zeros((2, _RIDGE_BATCHES.size))  # rows: compute, memory
    linear = np.zeros((2, _RIDGE_BATCHES.size))
    for op in step_operators(s, _RIDGE_BATCHES):
        _, c, m, _ = time_operator(s, op)
        step += (c, m)
        if op.kind == "linear":
            linear += (c, m)

    def first(terms: np.ndarray) -> int | None:
        hits = np.nonzero(terms[0] >= terms[1])[0]
        return int(_RIDGE_BATCHES[hits[0]]) if hits.size else None

    return first(step), first(linear)


def tensor_parallel_degrees(card: ModelCard, hardware: HardwareProfile) -> Iterator[int]:
    """The TP degrees that split `card` on one node of `hardware`, ascending: each divides the
    attention heads (and linear-attention heads) and splits or replicates the KV heads whole;
    past 1 only with an interconnect. The rule check_tensor_parallel states as errors."""
    linear = card.linear_attention
    for tp in range(1, hardware.gpus_per_node + 1):
        if tp > 1 and hardware.interconnect_bandwidth <= 0:
            return
        if card.architecture.attention_heads % tp or (linear and linear.value_heads % tp):
            continue
        if _ragged_kv_heads(card, tp) is not None or _ragged_mlp_width(card, tp) is not None:
            continue
        yield tp


def _ragged_kv_heads(card: ModelCard, tp: int) -> int | None:
    """The KV-head count `tp` GPUs cannot share out whole, or None. Engines split the KV heads
    over the TP ranks or, past their count, replicate each on tp / kv_heads ranks; either must
    come out even (vLLM's QKVParallelLinear: divide(kv_heads, tp), else divide(tp, kv_heads),
    an assertion; `vllm/model_executor/layers/linear.py`). An MLA latent is one head,
    replicated on every rank."""
    for group in card.attention_groups():
        heads = group.kv_heads
        if heads % tp and tp % heads:
            return heads
    return None


def _ragged_mlp_width(card: ModelCard, tp: int) -> tuple[str, int] | None:
    """(what, width) of a tensor-parallel MLP whose width `tp` does not divide, or None. The
    dense MLP (and a mixture's dense layers and shared experts) is column-parallel: vLLM's
    MergedColumnParallelLinear asserts every output size % tp == 0
    (`vllm/model_executor/layers/linear.py` at 0036d38). Routed experts are left to their own
    layout (expert parallelism, or engines' padding)."""
    moe = card.moe
    if moe is None or moe.dense_layers:
        width = card.architecture.intermediate_size
        if width % tp:
            return "MLP width", width
    if moe is not None and moe.shared_experts:
        shared = moe.shared_experts * (
            moe.shared_expert_intermediate_size or moe.expert_intermediate_size
        )
        if shared % tp:
            return "shared-expert width", shared
    return None


def check_tensor_parallel(card: ModelCard, hardware: HardwareProfile, tp: int) -> None:
    """Raise InputError where `tp` GPUs cannot split `card` on `hardware`: the attention heads
    (and linear-attention heads) must divide evenly, the KV heads split or replicate whole
    (`_ragged_kv_heads`), the dense MLP's width divide evenly (`_ragged_mlp_width`), more than
    one GPU needs an interconnect,
    and the GPUs sit in one node. `roofline` and `serve` both say it this way."""
    if tp < 1:
        raise InputError(f"--tp must be at least 1 (got {tp})")
    heads = card.architecture.attention_heads
    if heads % tp:
        raise InputError(f"--tp {tp} must divide {card.name}'s {heads} attention heads")
    if card.linear_attention and card.linear_attention.value_heads % tp:
        raise InputError(
            f"--tp {tp} must divide {card.name}'s {card.linear_attention.value_heads} "
            "linear-attention heads"
        )
    ragged = _ragged_kv_heads(card, tp)
    if ragged is not None:
        raise InputError(
            f"--tp {tp} must divide {card.name}'s {ragged} KV heads or be a multiple of them "
            "(each rank holds whole KV heads: split, or replicated past their count)"
        )
    mlp = _ragged_mlp_width(card, tp)
    if mlp is not None:
        raise InputError(
            f"--tp {tp} must divide {card.name}'s {mlp[0]} of {mlp[1]:,} (each rank holds an "
            "equal slice of the column-parallel MLP)"
        )
    if tp > 1 and hardware.interconnect_bandwidth <= 0:
        raise InputError(f"{hardware.name} has no interconnect bandwidth; use --tp 1")
    if tp > hardware.gpus_per_node:
        raise InputError(
            f"--tp {tp} exceeds {hardware.name}'s {hardware.gpus_per_node} GPUs per node; "
            "inter-node tensor parallelism is not modelled"
        )


def _validate(
    card: ModelCard,
    hardware: HardwareProfile,
    batch: float,
    context: float,
    tp: int,
    attention: str,
    kv_budget: float | None,
    block_size: float,
    dtype: str,
    phase: str,
    prompt_len: float | None,
) -> None:
    if phase not in ("decode", "prefill"):
        raise InputError(f"unknown phase {phase!r}; choose decode or prefill")
    check_attention(attention, kv_budget, block_size)
    if batch < 1 or batch != int(batch):
        raise InputError(f"batch must be a whole number of at least 1 (got {batch:g})")
    if context < 0:
        raise InputError(f"context must not be negative (got {context:g})")
    if phase == "prefill" and (prompt_len is None or prompt_len <= 0):
        raise InputError("prefill needs a positive prompt length")
    check_tensor_parallel(card, hardware, tp)
    if dtype not in DTYPE_BYTES:
        raise InputError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPE_BYTES)}")
    if dtype not in hardware.peak_flops:
        raise InputError(
            f"{hardware.name} has no {dtype} peak; it lists {', '.join(sorted(hardware.peak_flops))}"
        )


def decode_step(
    card: ModelCard,
    hardware: HardwareProfile,
    *,
    batch: int,
    context: float,
    tp: int = 1,
    attention: str = "dense",
    kv_budget: float | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
    dtype: str = "bf16",
    phase: str = "decode",
    prompt_len: float | None = None,
    precision: Precision | None = None,
) -> StepReport:
    """Roofline of one step: decode (one token for each of `batch` sequences holding `context`
    tokens) or prefill (`prompt_len` new tokens per sequence on top of `context` cached ones).

    `dtype` sets every width and the peak (the card's widths narrowed to it); `precision`, when
    given, sets each tensor kind's width and the peak instead (engine.serving.precision builds
    one from formats such as nvfp4 weights with an fp8 cache).

    Operator time = max(F / (e_c peak), B / (e_m bandwidth)) + t0 (engine.timing); weights read
    once per step; tensor parallelism `tp` splits weights, heads and KV and adds two all-reduces
    per layer. A sparse budget larger than the context is capped at the context.
    """
    if precision is None and dtype in DTYPE_BYTES:
        precision = Precision.from_dtype(card, dtype)  # (an unknown dtype: _validate says so)
    if precision is not None:
        dtype = precision.compute
    _validate(
        card,
        hardware,
        batch,
        context,
        tp,
        attention,
        kv_budget,
        block_size,
        dtype,
        phase,
        prompt_len,
    )
    s = StepSetup(
        card=card,
        hardware=hardware,
        phase=phase,
        context=float(context),
        prompt_len=float(prompt_len or 0.0) if phase == "prefill" else 0.0,
        tp=int(tp),
        attention=attention,
        kv_budget=None if attention == "dense" or kv_budget is None else float(kv_budget),
        block_size=float(block_size),
        dtype=dtype,
        precision=precision or Precision.from_dtype(card, dtype),
    )
    b = np.asarray(float(batch))
    timed: list[OperatorTime] = []
    for op in step_operators(s, b):
        seconds, comp, mem, bound = time_operator(s, op)
        flops = float(np.asarray(op.cost.flops)) * op.calls
        nbytes = float(np.asarray(op.cost.bytes)) * op.calls
        if op.kind == "communication":
            label = "communication"
        else:
            label = "compute" if bool(bound) else "memory"
        timed.append(
            OperatorTime(
                name=op.name,
                kind=op.kind,
                kernel=op.kernel,
                calls=op.calls,
                flops=flops,
                bytes=nbytes,
                seconds=float(seconds),
                compute_seconds=float(comp),
                memory_seconds=float(mem),
                bound=label,
            )
        )
    weight_read, kv_read = _bytes_without_activations(s, float(batch))
    ridge, linear_ridge = _ridges(s)

    step = sum(op.seconds for op in timed)
    by_kind = {"attention": 0.0, "linear": 0.0, "communication": 0.0, "other": 0.0}
    for timed_op in timed:
        by_kind[timed_op.kind] += timed_op.seconds
    # The step is bound by whichever total is largest: FLOPs at achievable peak, bytes at
    # achievable bandwidth, or time on the interconnect (the same test the ridge point uses).
    compute_total = sum(op.compute_seconds for op in timed)
    memory_total = sum(op.memory_seconds for op in timed)
    totals = {
        "compute": compute_total,
        "memory": memory_total,
        "communication": by_kind["communication"],
    }
    weights, per_seq_any = held_bytes(s)
    per_seq = float(per_seq_any)
    kv_held = per_seq * batch
    free = hardware.hbm_capacity - weights
    max_batch = None if per_seq <= 0 else max(0, math.floor(free / per_seq))
    fits = weights + kv_held <= hardware.hbm_capacity
    notes: list[str] = []
    if not fits:
        notes.append(_misfit_note(s, int(batch), weights, kv_held, max_batch))
    if phase == "prefill" and attention != "dense":
        notes.append("prefill attends densely; the sparse setting applies to decode steps only")
    if (
        attention != "dense"
        and s.kv_budget is not None
        and phase == "decode"
        and s.kv_budget >= context
    ):
        notes.append("KV budget covers the whole context: sparse attention reads every token")
    tokens = batch * s.new_tokens
    per_replica = tokens / step
    return StepReport(
        model=card.name,
        hardware=hardware.name,
        phase=phase,
        batch=int(batch),
        context=float(context),
        prompt_len=s.prompt_len,
        tp=s.tp,
        attention=attention,
        kv_budget=s.kv_budget,
        block_size=s.block_size,
        dtype=dtype,
        formats=s.precision.describe(),
        operators=timed,
        step_seconds=step,
        tokens_per_step=tokens,
        tokens_per_second=per_replica / s.tp,
        tokens_per_second_per_replica=per_replica,
        # the whole replicas one node holds: TP16 on a 72-GPU NVL72 domain is 4 (64 GPUs)
        tokens_per_second_per_node=per_replica * (hardware.gpus_per_node // s.tp),
        bound=max(totals, key=lambda k: totals[k]),
        compute_seconds=compute_total,
        memory_seconds=memory_total,
        ridge_batch=ridge,
        linear_ridge_batch=linear_ridge,
        attention_share=by_kind["attention"] / step,
        linear_share=by_kind["linear"] / step,
        communication_share=by_kind["communication"] / step,
        other_share=by_kind["other"] / step,
        weight_bytes=weights,
        kv_bytes=kv_held,
        kv_bytes_per_sequence=per_seq,
        hbm_capacity=hardware.hbm_capacity,
        fits=fits,
        max_batch=max_batch,
        weight_bytes_read=weight_read,
        kv_bytes_read=kv_read,
        peak_flops=hardware.peak(dtype),
        hbm_bandwidth=hardware.hbm_bandwidth,
        notes=notes,
    )


def smallest_tp_holding(s: StepSetup, batch: int) -> int | None:
    """The smallest TP up to one node (dividing the attention and linear-attention heads) whose
    GPUs each hold the weights and the cache of `batch` sequences of `s` (held_bytes), or None."""
    for tp in tensor_parallel_degrees(s.card, s.hardware):
        weights, per_seq = held_bytes(replace(s, tp=tp))
        if weights + float(per_seq) * batch <= s.hardware.hbm_capacity:
            return tp
    return None


def _misfit_note(
    s: StepSetup, batch: int, weights: float, kv_held: float, max_batch: int | None
) -> str:
    """Why a step does not fit on one GPU, the largest batch that does, and the smallest TP that
    holds this batch."""
    capacity = s.hardware.hbm_capacity
    where = f"{s.card.name} does not fit on {s.hardware.name} at TP{s.tp}"
    arithmetic = (
        f"weights {format_bytes(weights)} + KV {format_bytes(kv_held)} ({batch:,} x "
        f"{format_bytes(kv_held / batch)}) per GPU exceed {format_bytes(capacity)} of device memory"
    )
    if weights > capacity:
        room = "the weights alone exceed it"
    elif max_batch == 0:
        room = "no room for one sequence"
    else:
        room = f"largest batch that fits: {max_batch:,}"
    tp = smallest_tp_holding(s, batch)
    hint = (
        f"--tp {tp} holds batch {batch:,}"
        if tp is not None
        else f"no TP up to {s.hardware.gpus_per_node} on one node holds batch {batch:,}; try a "
        "narrower --dtype, --weights or --kv"
    )
    return f"{where}: {arithmetic}; {room}; {hint}"


def _bytes_without_activations(s: StepSetup, batch: float) -> tuple[float, float]:
    """(weight bytes, cache bytes) one GPU reads in a step: the operators with activations of
    zero width, summed over the linear and the attention operators."""
    bare = replace(s, activations=False)
    weights = cache = 0.0
    for op in step_operators(bare, np.asarray(batch)):
        nbytes = float(np.asarray(op.cost.bytes)) * op.calls
        if op.kind == "linear":
            weights += nbytes
        elif op.kind == "attention":
            cache += nbytes
    return weights, cache
