"""A deployment of a model on an accelerator: memory plan, step times, request and problem costs.

Where the eFLOPs law prices a problem on an idealised accelerator, this prices it on a concrete
deployment: tensor/expert parallelism, data-parallel replicas, a precision per tensor kind, the
memory each GPU holds, the largest batch that fits, per-step overheads and collective latency,
and continuous batching. The operator accounting is engine/operators.py through
engine/roofline.py (the same as the law and calibration). Derivations: docs/serving.md.

API contract (what callers, the planner included, may rely on)
--------------------------------------------------------------
* Units are SI: seconds, bytes, FLOPs, joules, tokens; rates per second. Nothing is formatted.
* A *replica* is one copy of the model on `Deployment.gpus_per_replica` (= tp) GPUs of one node;
  `replicas` copies serve independently. All GPUs of a replica run each step in lockstep.
* **Per GPU**: every figure of `MemoryPlan` (weights, reserve, capacity, KV bytes per token and
  per sequence; with attention data-parallel, per-sequence figures are averaged over the
  replica's GPUs).
* **Per replica**: `batch` (concurrent sequences), `max_sequences`, `max_problems`, step and
  prefill seconds, TTFT/TPOT, `output_tokens_per_s`, `requests_per_s`. Per GPU throughput is
  per replica / gpus_per_replica; a deployment's total is per replica x replicas.
* **GPU-seconds** are replica-seconds x gpus_per_replica; energy is GPU-seconds x the profile's
  `serving_watts`: measured serving power (tdp_watts x serving_power.fraction_of_tdp) where the
  profile has a measurement, else `tdp_watts` (an upper bound, every GPU at full board power).
* Functions broadcast over `batch` and `context` (numpy rules) and return arrays of the
  broadcast shape; `batch` may be fractional in the arithmetic, callers pass whole numbers.
* Every result names its `efficiency_mode`: "datasheet" (100% of peaks, no overheads: the
  roofline's figures), "default" (the profile's [efficiency] table of kernel-level public
  measurements), "calibrated" (the profile's [calibration] fits, collectives from [efficiency]).
* Bad input raises errors.InputError (one line): TP not dividing the attention heads or the
  linear-attention heads, EP not dividing the experts or the TP size, TP beyond one node, an
  unknown format for a tensor kind, a compute dtype the profile has no peak for, a mode the
  profile cannot provide. A deployment whose weights do not fit is not an error here:
  `MemoryPlan.fits` is False and `max_sequences` 0; `serve` raises `DoesNotFit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from kinetics_cli.engine.formats import (
    ACTIVATION_FORMATS,
    COMPUTE_FORMATS,
    KV_FORMATS,
    WEIGHT_FORMATS,
    number_format,
)
from kinetics_cli.engine.kinetics import DEFAULT_BLOCK_SIZE, check_attention, check_context
from kinetics_cli.engine.operators import OpCost
from kinetics_cli.engine.roofline import (
    Links,
    Precision,
    StepSetup,
    _collective,
    _Op,
    check_tensor_parallel,
    embedding_width,
    held_bytes,
    operators_seconds,
    step_operators,
    tensor_parallel_degrees,
)
from kinetics_cli.errors import InputError
from kinetics_cli.specs import Calibration, HardwareProfile, KernelFit, ModelCard
from kinetics_cli.units import format_bytes, format_plain

EfficiencyMode = Literal["datasheet", "default", "calibrated"]
EFFICIENCY_MODES: tuple[str, ...] = ("datasheet", "default", "calibrated")
LIFE_SAMPLES = 16  # midpoints per generation when averaging a step over a request's life
# Concurrent sequences per replica an engine schedules unless told otherwise. vLLM's default
# max_num_seqs is 1,024 on GPUs with at least 70 GiB that are not A100s (H100, H200, B200,
# MI300X) and 256 on smaller ones (vllm/engine/arg_utils.py EngineArgs.get_batch_defaults, for
# both the LLM class and the OpenAI server); TensorRT-LLM's LLM API defaults max_batch_size to
# 2,048 (github.com/NVIDIA/TensorRT-LLM tensorrt_llm/llmapi/llm_args.py, class BaseLlmArgs, the
# base of TorchLlmArgs and TrtLlmArgs: Field(default=2048); max_num_tokens 8,192). The lower,
# vLLM's figure, is the default (`engine_max_batch` gives it per accelerator); None: memory only.
DEFAULT_MAX_BATCH = 1024
SMALL_GPU_MAX_BATCH = 256  # vLLM's max_num_seqs below 70 GiB, and on A100s (same source)
ENGINE_DEFAULT: Literal["engine"] = "engine"  # a cap meaning "the engine's default here"
MaxBatch = int | None | Literal["engine"]


def engine_max_batch(profile: HardwareProfile) -> int:
    """vLLM's default cap on concurrent sequences for `profile`'s accelerator: 1,024 where it has
    at least 70 GiB of memory and is not an A100, else 256 (get_batch_defaults checks the
    device's total memory and whether its name contains "a100", as here the profile's name)."""
    large = profile.hbm_capacity >= 70 * 2**30 and "a100" not in profile.name.lower()
    return DEFAULT_MAX_BATCH if large else SMALL_GPU_MAX_BATCH


def resolve_max_batch(value: MaxBatch, profile: HardwareProfile) -> int | None:
    """A cap as given (None: memory only), or ENGINE_DEFAULT as engine_max_batch(profile)."""
    return engine_max_batch(profile) if isinstance(value, str) else value


# --------------------------------------------------------------------------------------------
# Deployment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """How one model is served: parallelism, a format per tensor kind, engine memory settings.

    tp: GPUs per replica (tensor parallel within a node). ep: expert-parallel groups among those
    GPUs (divides tp and the expert count; experts split over ep groups, each expert over tp/ep
    GPUs). attention_dp: attention, dense MLPs, shared experts and the LM head run data-parallel
    over the tp GPUs (whole weights on each, batch / tp sequences each) while routed experts stay
    split; None means on exactly when ep > 1, as SGLang and TensorRT-LLM serve large MoE models.
    weights: format of every stored weight (None: the card's stored widths, e.g. gpt-oss's MXFP4
    experts). kv: cache format. activations: width of activations and of what collectives send.
    compute: the peak matmuls run at (None: the weight format's peak where the profile lists it,
    else bf16: weight-only quantisation, dequantised in the kernel).
    memory_utilization: fraction of HBM the engine may use (vLLM's gpu_memory_utilization,
    default 0.9). kv_cache_fraction: when set, the cache gets this fraction of the memory left
    after weights and activations instead (TensorRT-LLM's kv_cache_free_gpu_mem_fraction, default
    0.9 there), and memory_utilization is ignored. prefill_chunk_tokens: tokens per prefill pass (vLLM/TensorRT-LLM default
    max_num_batched_tokens / max_num_tokens 8192). max_batch: the engine's cap on concurrent
    sequences (default DEFAULT_MAX_BATCH, vLLM's max_num_seqs on 70 GiB-class GPUs; None: memory
    is the only cap). kv_admission: "full" reserves each sequence's final
    context on admission (TensorRT-LLM's GUARANTEED_NO_EVICT); "average" counts the time-averaged
    context held (engines that admit on current use and preempt, e.g. vLLM).
    cuda_graph_batch_sizes: the batch sizes the engine holds CUDA graphs for, with padding on
    (TensorRT-LLM's cuda_graph_config batch_sizes and enable_padding): a step that carries no
    prompt runs every kernel but attention on the next size up, per scheduler (padding requests
    with an empty cache); None (the default, and what plan prices): no padding.
    """

    tp: int = 1
    ep: int = 1
    replicas: int = 1
    weights: str | None = None
    kv: str = "bf16"
    activations: str = "bf16"
    compute: str | None = None
    attention_dp: bool | None = None
    memory_utilization: float = 0.90
    prefill_chunk_tokens: int = 8192
    max_batch: int | None = DEFAULT_MAX_BATCH
    kv_admission: Literal["full", "average"] = "full"
    kv_cache_fraction: float | None = None
    cuda_graph_batch_sizes: tuple[int, ...] | None = None

    @property
    def gpus_per_replica(self) -> int:
        return self.tp

    @property
    def gpus(self) -> int:
        return self.tp * self.replicas

    def data_parallel_attention(self) -> bool:
        """Whether attention runs data-parallel (the `attention_dp` rule above)."""
        return self.ep > 1 if self.attention_dp is None else bool(self.attention_dp and self.tp > 1)

    def describe(self, formats: str | None = None) -> str:
        """'TP8 EP8 (attention DP), fp8 weights, fp8 KV' style one-liner; `formats` (a
        Precision.describe(): the card's stored widths resolved, the matmul peak named) in place
        of the format names as given."""
        parts = [f"TP{self.tp}"]
        if self.ep > 1:
            parts.append(f"EP{self.ep}")
        if self.data_parallel_attention():
            parts.append("(attention DP)")
        if self.replicas > 1:
            parts.append(f"x{self.replicas} replicas")
        if formats is not None:
            return f"{' '.join(parts)}, {formats}"
        weights = self.weights or "card"
        return f"{' '.join(parts)}, {weights} weights, {self.kv} KV, {self.activations} activations"


_PRECISIONS: dict[tuple[object, ...], tuple[ModelCard, HardwareProfile, Precision]] = {}


def precision(card: ModelCard, profile: HardwareProfile, d: Deployment) -> Precision:
    """Bytes per element of each tensor kind and the compute peak, checked against the profile.
    Kept per card, profile (by identity; each entry holds its objects, so their ids stay theirs)
    and formats: a plan asks the same question about a thousand times."""
    key = (id(card), id(profile), d.weights, d.kv, d.activations, d.compute)
    hit = _PRECISIONS.get(key)
    if hit is not None:
        return hit[2]
    p = _precision(card, profile, d)
    _PRECISIONS[key] = (card, profile, p)
    return p


def _precision(card: ModelCard, profile: HardwareProfile, d: Deployment) -> Precision:
    """precision() without the cache."""
    if d.weights is None:
        weight = card.architecture.weight_bytes
        expert = card.expert_weight_bytes
        embedding = card.architecture.embedding_bytes
        natural = "bf16" if weight >= 2 else ("fp8" if weight >= 1 else "fp4")
    else:
        wf = number_format(d.weights, "weight", WEIGHT_FORMATS)
        weight = expert = wf.bytes
        embedding = embedding_width(card, wf.bytes)
        natural = wf.peak
    kv = number_format(d.kv, "KV-cache", KV_FORMATS).bytes
    act = number_format(d.activations, "activation", ACTIVATION_FORMATS).bytes
    if d.compute is None:
        compute = natural if natural in profile.peak_flops else "bf16"
    else:
        compute = number_format(d.compute, "compute", COMPUTE_FORMATS).peak
        if compute not in profile.peak_flops:
            raise InputError(
                f"{profile.name} has no {compute} peak; it lists "
                f"{', '.join(sorted(profile.peak_flops))}"
            )
    return Precision(
        weight=weight,
        expert=expert,
        kv=kv,
        act=act,
        collective=act,
        compute=compute,
        embedding=embedding,
    )


def step_precision(
    card: ModelCard,
    profile: HardwareProfile,
    dtype: str,
    *,
    weights: str | None = None,
    kv: str | None = None,
) -> Precision:
    """The widths of `kinetics roofline --dtype D [--weights W] [--kv K]`: D's for every tensor
    kind (Precision.from_dtype: the card's widths narrowed to D), with W replacing the weight
    widths and K the cache width where given, each leaving the others as D sets them. The peak
    is D's (fp16's is bf16's); with a bf16 peak, a given W runs at its own peak where the
    profile lists it (as `serve` runs it), else at bf16 (weight-only quantisation)."""
    p = Precision.from_dtype(card, dtype)
    compute = p.compute
    if weights is not None:
        wf = number_format(weights, "weight", WEIGHT_FORMATS)
        p = replace(p, weight=wf.bytes, expert=wf.bytes, embedding=embedding_width(card, wf.bytes))
        if compute == "bf16":
            compute = wf.peak if wf.peak in profile.peak_flops else "bf16"
    if kv is not None:
        p = replace(p, kv=number_format(kv, "KV-cache", KV_FORMATS).bytes)
    return replace(p, compute=compute)


def check_deployment(card: ModelCard, profile: HardwareProfile, d: Deployment) -> None:
    """Raise InputError for a deployment no engine could run (see the module contract)."""
    if d.tp < 1 or d.ep < 1 or d.replicas < 1:
        raise InputError("tp, ep and replicas must be at least 1")
    check_tensor_parallel(card, profile, d.tp)
    if d.ep > 1:
        if card.moe is None:
            raise InputError(f"--ep {d.ep} needs a mixture-of-experts model; {card.name} is dense")
        if card.moe.experts % d.ep:
            raise InputError(
                f"--ep {d.ep} must divide {card.name}'s {card.moe.experts} routed experts"
            )
        if d.tp % d.ep:
            raise InputError(f"--ep {d.ep} must divide --tp {d.tp} (experts live on the TP GPUs)")
    if d.kv_cache_fraction is not None and not 0 < d.kv_cache_fraction <= 1:
        raise InputError(f"KV-cache fraction must be in (0, 1] (got {d.kv_cache_fraction:g})")
    if not 0 < d.memory_utilization <= 1:
        raise InputError(f"memory utilisation must be in (0, 1] (got {d.memory_utilization:g})")
    if d.prefill_chunk_tokens < 1:
        raise InputError("prefill chunk must be at least 1 token")
    if d.max_batch is not None and d.max_batch < 1:
        raise InputError("max batch must be at least 1")
    if d.kv_admission not in ("full", "average"):
        raise InputError(f"unknown KV admission {d.kv_admission!r}; choose full or average")
    precision(card, profile, d)


# --------------------------------------------------------------------------------------------
# Efficiency modes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Efficiency:
    """One efficiency mode resolved for a profile.

    `profile` is the input profile with its calibration table replaced by this mode's kernel
    fits (None for datasheet), so engine.timing prices every operator with them.
    """

    mode: str
    profile: HardwareProfile
    step_overhead_seconds: float
    links: Links
    label: str
    grouped: HardwareProfile | None = None  # the profile that times routed experts, if different
    host_seconds_per_sequence: float = 0.0  # engine CPU time per scheduled sequence, per step
    mla_attention: KernelFit | None = None  # decode attention over an MLA latent cache, if apart


def resolve_efficiency(
    profile: HardwareProfile,
    mode: str = "default",
    compute: str = "bf16",
    *,
    card: ModelCard | None = None,
    tp: int | None = None,
) -> Efficiency:
    """Effective peaks, bandwidths and overheads of `profile` under `mode`, for matmuls whose
    inputs are `compute` (the peak they run at). With `card` (and `tp`, GPUs per replica) the
    label names only the fractions that price that model there: MLA attention for an MLA model,
    grouped experts for a mixture of experts, collectives across more than one GPU."""
    mla_model = card is None or card.mla is not None
    moe_model = card is None or card.moe is not None
    collectives = tp is None or tp > 1
    if mode == "datasheet":
        return Efficiency(
            mode,
            profile.model_copy(update={"calibration": None}),
            0.0,
            Links(),
            f"datasheet: 100% of {profile.name}'s peaks and bandwidths, no overheads",
        )
    e = profile.efficiency
    if mode == "default":
        if e is None:
            raise InputError(
                f"{profile.name} has no [efficiency] table for the default efficiencies; "
                "use --efficiency datasheet or calibrated"
            )
        t0 = e.kernel_overhead_seconds
        gemm = e.gemm_compute_for(compute)
        attention = KernelFit(
            compute_efficiency=e.attention_compute,
            bandwidth_efficiency=e.attention_bandwidth,
            overhead_seconds=t0,
        )
        table = Calibration(
            compute_efficiency=gemm,
            bandwidth_efficiency=e.gemm_bandwidth,
            overhead_seconds=t0,
            kernels={
                "gemm": KernelFit(
                    compute_efficiency=gemm,
                    bandwidth_efficiency=e.gemm_bandwidth,
                    overhead_seconds=t0,
                ),
                "attention_decode_dense": attention,
                "attention_decode_blocktopk": attention,
                "stream": KernelFit(bandwidth_efficiency=e.stream_bandwidth, overhead_seconds=t0),
            },
            source="default efficiencies (kernel-level public measurements)",
        )
        grouped = None
        # The grouped-GEMM compute fraction is measured at fp8 (DeepGEMM); at another dtype it
        # keeps its ratio to the dense fraction (fp4's dense fraction is half fp8's on B200).
        grouped_compute = (
            gemm
            if e.grouped_gemm_compute is None
            else e.grouped_gemm_compute * gemm / e.gemm_compute_for("fp8")
        )
        if e.grouped_gemm_compute is not None or e.grouped_gemm_bandwidth is not None:
            experts = KernelFit(
                compute_efficiency=min(grouped_compute, 1.0),
                bandwidth_efficiency=e.grouped_gemm_bandwidth or e.gemm_bandwidth,
                overhead_seconds=t0,
            )
            kernels = dict(table.kernels)
            kernels["gemm"] = experts
            grouped = profile.model_copy(
                update={"calibration": table.model_copy(update={"kernels": kernels})}
            )
        mla = (
            None
            if e.mla_attention_bandwidth is None
            else attention.model_copy(update={"bandwidth_efficiency": e.mla_attention_bandwidth})
        )
        return Efficiency(
            mode,
            profile.model_copy(update={"calibration": table}),
            e.step_overhead_seconds,
            Links(e.collective_latency_seconds, e.collective_bandwidth),
            f"default: {profile.name} {compute} matmuls at {gemm:.0%} of peak and "
            f"{e.gemm_bandwidth:.0%} of HBM bandwidth, decode attention at "
            f"{e.attention_bandwidth:.0%}"
            + ("" if mla is None or not mla_model else f" (MLA {e.mla_attention_bandwidth:.0%})")
            + f", {t0 * 1e6:.3g} µs per kernel, "
            f"{e.step_overhead_seconds * 1e3:.3g} ms per step, host "
            f"{e.host_seconds_per_sequence * 1e6:.3g} µs per sequence per step (overlapped)"
            + (
                f", collectives {e.collective_latency_seconds * 1e6:.3g} µs + "
                f"{e.collective_bandwidth:.0%} of the link"
                if collectives
                else ""
            )
            + (
                f", MoE experts at {grouped_compute:.0%} of peak and "
                f"{e.grouped_gemm_bandwidth or e.gemm_bandwidth:.0%} of HBM bandwidth"
                if grouped is not None and moe_model
                else ""
            )
            + " (public kernel measurements; sources in the profile)",
            grouped,
            e.host_seconds_per_sequence,
            mla,
        )
    if mode == "calibrated":
        if profile.calibration is None:
            raise InputError(
                f"{profile.name} has no [calibration] table; run `kinetics calibrate` or use "
                "--efficiency default"
            )
        step = profile.calibration.kernels.get("decode_step")
        overhead = step.overhead_seconds if step is not None else 0.0
        links = Links(e.collective_latency_seconds, e.collective_bandwidth) if e else Links()
        return Efficiency(
            mode,
            profile,
            overhead,
            links,
            f"calibrated: {profile.calibration_note}"
            + (
                "; collectives from " + ("the [efficiency] table" if e else "the datasheet")
                if collectives
                else ""
            ),
        )
    raise InputError(
        f"unknown efficiency mode {mode!r}; choose one of {', '.join(EFFICIENCY_MODES)}"
    )


# --------------------------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------------------------


def _setup(
    card: ModelCard,
    profile: HardwareProfile,
    d: Deployment,
    *,
    context: ArrayLike = 0.0,
    attention: str = "dense",
    kv_budget: float | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
    phase: str = "decode",
    prompt_len: float = 0.0,
    efficiency: Efficiency | None = None,
) -> StepSetup:
    p = precision(card, profile, d)
    hardware = efficiency.profile if efficiency else profile
    if efficiency is not None and efficiency.mla_attention is not None and card.mla is not None:
        hardware = _with_mla_attention(hardware, efficiency.mla_attention)
    return StepSetup(
        card=card,
        hardware=hardware,
        phase=phase,
        context=np.asarray(context, dtype=float),
        prompt_len=float(prompt_len),
        tp=d.tp,
        attention=attention,
        kv_budget=None if attention == "dense" or kv_budget is None else float(kv_budget),
        block_size=float(block_size),
        dtype=p.compute,
        precision=p,
        attention_dp=d.data_parallel_attention(),
        ep=d.ep,
        links=efficiency.links if efficiency else Links(),
    )


def _with_mla_attention(hardware: HardwareProfile, fit: KernelFit) -> HardwareProfile:
    """`hardware` with its decode-attention kernels timed by `fit` (an MLA model's latent cache
    is read by MLA kernels, measured apart from paged GQA ones)."""
    table = hardware.calibration
    assert table is not None
    kernels = dict(table.kernels)
    kernels["attention_decode_dense"] = fit
    kernels["attention_decode_blocktopk"] = fit
    return hardware.model_copy(
        update={"calibration": table.model_copy(update={"kernels": kernels})}
    )


def activation_workspace_bytes(card: ModelCard, d: Deployment) -> float:
    """Peak activation memory of one prefill chunk of C tokens per GPU, the largest layer's:
    C x 4 hidden (residual, norm output, attention output, MLP output) plus what the MLP holds,
    x activation bytes. A dense layer holds its gate and up outputs, C x 2 I / T_dense. An MoE
    layer holds the rows its grouped GEMMs run, the routed passes sent to the GPU's experts
    (C k tp / (T_dense ep) of them: every rank's chunk under attention data-parallel), each
    permuted input row (hidden) and its gate and up outputs (2 I_e ep / tp), plus the shared
    experts' gate and up outputs, C x 2 I_s / T_dense. Only the layer kinds the card has count
    (an all-MoE card's intermediate_size is unused). An estimate of what engines measure by a
    profiling run and set aside."""
    a = card.architecture
    act = number_format(d.activations, "activation", ACTIVATION_FORMATS).bytes
    dense_split = 1 if d.data_parallel_attention() else d.tp
    hidden = a.hidden_size
    widths = []  # per chunk token, beyond the 4 hidden every layer holds
    if card.moe is None or card.moe.dense_layers:
        widths.append(2 * a.intermediate_size / dense_split)
    if card.moe is not None and card.moe_layer_count:
        moe = card.moe
        rows = moe.experts_per_token * d.tp / (dense_split * d.ep)  # routed rows per token
        routed = rows * (hidden + 2 * moe.expert_intermediate_size * d.ep / d.tp)
        shared_width = moe.shared_expert_intermediate_size or moe.expert_intermediate_size
        shared = 2 * moe.shared_experts * shared_width / dense_split
        widths.append(routed + shared)
    return d.prefill_chunk_tokens * (4 * hidden + max(widths)) * act


@dataclass(frozen=True)
class MemoryPlan:
    """What one GPU holds, and how many sequences (or problems) a replica can hold at a context.

    capacity_bytes: HBM per GPU (datasheet). reserve_bytes: (1 - memory_utilization) x capacity
    plus the activation workspace of a prefill chunk (or, with kv_cache_fraction f, the workspace
    plus (1 - f) of what weights and workspace leave). weights_bytes: stored weights per GPU.
    kv_capacity_bytes: capacity - reserve - weights (negative when the weights do not fit).
    kv_bytes_per_token: cache one token of one sequence adds per GPU in layers whose cache grows
    with the context (page summaries included). kv_bytes_per_sequence, max_sequences,
    problem_bytes, max_problems: arrays over `context`.
    """

    capacity_bytes: float
    reserve_bytes: float
    weights_bytes: float
    kv_capacity_bytes: float
    kv_bytes_per_token: float
    context: np.ndarray
    kv_bytes_per_sequence: np.ndarray
    max_sequences: np.ndarray  # per replica: floor(kv_capacity / kv_bytes_per_sequence)
    trials: float
    prompt_len: float
    problem_bytes: np.ndarray  # per GPU: one problem's N trials sharing the prompt's cache
    max_problems: np.ndarray  # per replica
    fits: bool  # weights + reserve leave room for at least one sequence at the context
    prompt_bytes: float = 0.0  # per GPU: the prompt's cache, one copy a problem (or a rank)

    def as_dict(self) -> dict[str, object]:
        def plain(x: np.ndarray | float) -> object:
            arr = np.asarray(x)
            return arr.item() if arr.ndim == 0 else arr.tolist()

        return {
            "capacity_bytes": self.capacity_bytes,
            "reserve_bytes": self.reserve_bytes,
            "weights_bytes": self.weights_bytes,
            "kv_capacity_bytes": self.kv_capacity_bytes,
            "kv_bytes_per_token": self.kv_bytes_per_token,
            "kv_bytes_per_sequence": plain(self.kv_bytes_per_sequence),
            "max_sequences": plain(self.max_sequences),
            "fits": self.fits,
        }


def kv_capacity(
    profile: HardwareProfile, deployment: Deployment, weights: float, workspace: float
) -> tuple[float, float]:
    """(reserve, bytes left for the cache) per GPU: the engine's reserve (the unused share of
    memory_utilization, or of what weights and workspace leave under kv_cache_fraction) plus
    the activation workspace, and capacity - reserve - weights."""
    capacity = profile.hbm_capacity
    if deployment.kv_cache_fraction is None:
        reserve = (1.0 - deployment.memory_utilization) * capacity + workspace
    else:
        left = max(capacity - weights - workspace, 0.0)
        reserve = workspace + (1.0 - deployment.kv_cache_fraction) * left
    return reserve, capacity - reserve - weights


def whole_sequences(free: float, per_sequence: np.ndarray, d: Deployment) -> np.ndarray:
    """Sequences of `per_sequence` cache bytes per GPU that one replica holds in `free` bytes per
    GPU: floor(free / per_sequence). Under attention data-parallel `per_sequence` is one GPU's
    share (1 / tp) of a sequence that lives whole on one rank, so each rank holds
    floor(free / (tp x per_sequence)) and the replica tp times that. No bytes: inf."""
    per = np.asarray(per_sequence, dtype=float)
    ranks = d.tp if d.data_parallel_attention() else 1
    room = max(free, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(per > 0, ranks * np.floor(room / (ranks * per)), np.inf)


def whole_problems(
    free: float,
    per_problem: np.ndarray,
    per_sequence: np.ndarray,
    d: Deployment,
    *,
    prompt: np.ndarray | float = 0.0,
    trials: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Problems of N = `trials` trials (`per_problem` cache bytes per GPU, the `prompt` bytes per
    GPU of the prompt's cache shared) one replica holds in `free` bytes per GPU.

    Without attention data-parallel every GPU holds its shard of every sequence, one prompt copy
    a problem: floor(free / per_problem). Under attention data-parallel each trial lives whole on
    one of the R = tp ranks, and a rank keeps a copy of the prompt's cache for every problem it
    holds a trial of: with a = R (per_sequence - prompt) bytes a trial's own and q = R x prompt
    bytes of prompt on a rank of F = free bytes, a rank holding t trials of m problems needs
    t a + m q <= F. The ranks are filled in turn, a problem's trials in order, each rank taking
    as many as fit and the next carrying on where it stops (a problem split over a rank's end
    keeps a prompt on both): a rank starting o trials into a problem ends at
    y = max over m of min(m N, o + floor((F - m q) / a)), m = floor((F + o a) / (N a + q)) or one
    more (m problems touched, ceil(y / N) = m), and the replica holds floor(sum of trials / N)
    problems. A problem of one trial (`per_problem` equal to `per_sequence`) is one sequence:
    whole_sequences' count. No bytes: inf.
    """
    per = np.asarray(per_problem, dtype=float)
    room = max(free, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(per > 0, np.floor(room / per), np.inf)
    if not d.data_parallel_attention():
        return out
    sequence = np.asarray(per_sequence, dtype=float)
    ranks = d.tp
    n = np.asarray(trials, dtype=float)
    q = ranks * np.asarray(prompt, dtype=float)
    a = ranks * sequence - q
    shape = np.broadcast_shapes(per.shape, sequence.shape, n.shape, q.shape)
    n, q, a = (np.broadcast_to(x, shape) for x in (n, q, a))
    placed = np.zeros(shape)  # trials placed on the ranks filled so far
    offset = np.zeros(shape)  # how far into its problem the next rank starts
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        first = np.floor(room / (n * a + q))
        for _ in range(ranks):
            end = offset
            touched = np.floor((room + offset * a) / (n * a + q))
            for m in (touched, touched + 1):
                left = room - m * q
                reach = np.minimum(m * n, offset + np.floor(left / a))
                end = np.where((m >= 1) & (left >= 0), np.maximum(end, reach), end)
            placed = placed + (end - offset)
            offset = np.mod(end, n)
        spread = np.floor(placed / n)
        # a trial of no bytes of its own (a <= 0): a rank holds floor(F / q) problems whole
        spread = np.where(a > 0, spread, ranks * first)
    out = np.where(per > 0, spread, out)
    return np.where(per == sequence, whole_sequences(free, sequence, d), out)


def held_bytes_per_gpu(
    card: ModelCard,
    profile: HardwareProfile,
    deployment: Deployment,
    *,
    context: np.ndarray,
    attention: str = "dense",
    kv_budget: float | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
) -> tuple[float, np.ndarray]:
    """(weight bytes, KV-cache bytes per sequence at each `context`) per GPU: memory_plan's
    weights_bytes and kv_bytes_per_sequence, without the capacities and reference contexts it
    also works out, for callers that need these two alone (the planner, per candidate)."""
    check_deployment(card, profile, deployment)
    check_attention(attention, kv_budget, block_size)
    s0 = _setup(card, profile, deployment, attention=attention, block_size=block_size)
    s = _setup(
        card, profile, deployment, context=context, attention=attention, block_size=block_size
    )
    return float(held_bytes(s0)[0]), np.asarray(held_bytes(s)[1], dtype=float)


def memory_plan(
    card: ModelCard,
    profile: HardwareProfile,
    deployment: Deployment,
    *,
    context: ArrayLike,
    prompt_len: ArrayLike = 0.0,
    trials: float = 1.0,
    attention: str = "dense",
    kv_budget: float | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
) -> MemoryPlan:
    """Per-GPU memory plan at `context` tokens per sequence (array), and the largest number of
    concurrent sequences, and of problems of `trials` sequences that share `prompt_len` tokens
    of prompt cache (prefix caching), one replica holds.

    problem bytes = N kv(C) - (N - 1) (kv(L_in) - kv(0)): the prompt's growing cache once, each
    trial's own tokens and fixed state (recurrent state) N times. Sparse attention keeps every
    token cached (it reads a subset), so the budget changes only block top-k's page summaries.
    """
    check_deployment(card, profile, deployment)
    check_attention(attention, kv_budget, block_size)
    ctx = np.asarray(context, dtype=float)
    prompt = np.asarray(prompt_len, dtype=float)
    if np.any(ctx < 0) or np.any(prompt < 0) or np.any(prompt > ctx):
        raise InputError("contexts must be non-negative and hold the prompt")
    if trials < 1:
        raise InputError(f"trials must be at least 1 (got {trials:g})")

    def kv(c: np.ndarray | float) -> np.ndarray:
        s = _setup(card, profile, deployment, context=c, attention=attention, block_size=block_size)
        return np.asarray(held_bytes(s)[1], dtype=float)

    s0 = _setup(card, profile, deployment, attention=attention, block_size=block_size)
    weights = float(held_bytes(s0)[0])
    fixed = kv(0.0)
    per_token = float(kv(1.0) - fixed)  # sliding layers count until their window fills
    capacity = profile.hbm_capacity
    workspace = activation_workspace_bytes(card, deployment)
    reserve, free = kv_capacity(profile, deployment, weights, workspace)
    per_seq = kv(ctx)
    problem = trials * per_seq - (trials - 1.0) * (kv(prompt) - fixed)
    max_seq = whole_sequences(free, per_seq, deployment)
    shared = kv(prompt) - fixed
    max_prob = whole_problems(free, problem, per_seq, deployment, prompt=shared, trials=trials)
    if deployment.max_batch is not None:
        max_seq = np.minimum(max_seq, deployment.max_batch)
        max_prob = np.minimum(max_prob, np.floor(deployment.max_batch / trials))
    return MemoryPlan(
        capacity_bytes=capacity,
        reserve_bytes=reserve,
        weights_bytes=weights,
        kv_capacity_bytes=free,
        kv_bytes_per_token=per_token,
        context=ctx,
        kv_bytes_per_sequence=per_seq,
        max_sequences=max_seq,
        trials=float(trials),
        prompt_len=float(np.max(prompt)) if prompt.size else 0.0,
        problem_bytes=problem,
        max_problems=max_prob,
        fits=bool(np.all(max_seq >= 1)),
        prompt_bytes=float(np.max(shared)) if shared.size else 0.0,
    )


# --------------------------------------------------------------------------------------------
# Step times
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepTime:
    """Seconds of one step of a replica (all GPUs in lockstep), split by operator kind.

    seconds = linear + attention + communication + other + overhead; arrays broadcast over
    batch and context.
    """

    seconds: np.ndarray
    linear_seconds: np.ndarray
    attention_seconds: np.ndarray
    communication_seconds: np.ndarray
    other_seconds: np.ndarray
    overhead_seconds: float
    tokens: np.ndarray  # tokens the step produces (decode) or processes (prefill)
    # the part of `linear_seconds` spent in routed-expert (grouped) GEMMs: under attention
    # data-parallel the only work every rank shares whatever rank holds the tokens
    routed_seconds: np.ndarray | float = 0.0


def _mix(x: np.ndarray | float, weights: np.ndarray) -> np.ndarray:
    """Reduce the last (context-mix) axis: the weighted mean where an array spans the contexts,
    the single value where it does not depend on them."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        return arr
    if arr.shape[-1] == weights.size:
        return np.asarray(arr @ weights)
    return arr[..., 0]


def moe_routing_operators(s: StepSetup, batch: np.ndarray, eff: Efficiency) -> list[_Op]:
    """The MoE layer's routing kernels the roofline leaves out, charged outside datasheet mode:
    top-k selection and the permutation of each token's row to its k experts before the grouped
    GEMMs (TensorRT-LLM's expandInputRowsKernel), and the weighted un-permute and reduction of the
    k expert outputs after them (finalizeMoeRoutingKernel); vLLM's fused MoE has the same two
    passes (moe_align_block_size / moe_sum). Per MoE layer and GPU, for its T local tokens:
    expand reads T x (hidden + experts) and writes T k hidden activations; finalize reads T k
    hidden and writes T hidden. Streaming kernels, timed at the stream efficiency."""
    card = s.card
    if eff.mode == "datasheet" or card.moe is None:
        return []
    layers = card.moe_layer_count
    if not layers:
        return []
    moe, hidden, act = card.moe, card.architecture.hidden_size, s.act_bytes
    local = batch / s.tp if s.attention_dp else batch
    tokens = np.asarray(local * s.new_tokens, dtype=float)
    k = moe.experts_per_token
    expand = OpCost(np.zeros_like(tokens), tokens * (hidden * (1 + k) + moe.experts) * act)
    finalize = OpCost(np.zeros_like(tokens), tokens * hidden * (k + 1) * act)
    return [
        _Op("moe routing and permute", "other", "stream", layers, expand),
        _Op("moe un-permute and reduce", "other", "stream", layers, finalize),
    ]


def activation_operators(s: StepSetup, batch: np.ndarray, eff: Efficiency) -> list[_Op]:
    """The MLP activation kernel the roofline leaves out, charged outside datasheet mode: engines
    run SwiGLU between the gate/up and down GEMMs as its own kernel (TensorRT-LLM's GatedMLP
    calls flashinfer's silu_and_mul; vLLM's SiluAndMul), reading the 2 I gate and up outputs and
    writing I per token, I the intermediate width per GPU (I in, I out for an ungated MLP). Dense
    MLP layers and shared experts; routed experts' activation is inside the fused MoE kernels.
    A streaming kernel, timed at the stream efficiency plus one kernel overhead per layer."""
    card = s.card
    if eff.mode == "datasheet":
        return []
    a = card.architecture
    hidden, dtp = a.hidden_size, s.dense_tp
    mats = 3 if a.gated_mlp else 2
    local = batch / s.tp if s.attention_dp else batch
    tokens = np.asarray(local * s.new_tokens, dtype=float)
    ops: list[_Op] = []
    moe_layers = card.moe_layer_count
    dense_layers = a.layers - moe_layers
    if dense_layers:
        index = next(i for i in range(a.layers) if not card.is_moe_layer(i))
        width = card.layer_params(index).mlp_active / (mats * hidden) / dtp
        cost = OpCost(np.zeros_like(tokens), tokens * width * mats * s.act_bytes)
        ops.append(_Op("mlp activation", "other", "stream", dense_layers, cost))
    if moe_layers and card.moe is not None:
        moe = card.moe
        lp = card.layer_params(next(i for i in range(a.layers) if card.is_moe_layer(i)))
        expert_params = card._mlp_params(moe.expert_intermediate_size, moe.expert_bias)
        shared = lp.mlp_active - lp.router - moe.experts_per_token * expert_params
        if shared > 0:
            width = shared / (mats * hidden) / dtp
            cost = OpCost(np.zeros_like(tokens), tokens * width * mats * s.act_bytes)
            ops.append(_Op("shared-expert activation", "other", "stream", moe_layers, cost))
    return ops


def engine_operators(s: StepSetup, batch: np.ndarray, eff: Efficiency) -> list[_Op]:
    """Kernels engines run that the roofline's operator list leaves out (none in datasheet
    mode): the MoE routing passes and the MLP activation. Independent of the context."""
    return [*moe_routing_operators(s, batch, eff), *activation_operators(s, batch, eff)]


def _step(
    s: StepSetup,
    batch: np.ndarray,
    eff: Efficiency,
    weights: np.ndarray | None = None,
    padded: np.ndarray | None = None,
    ops: list[_Op] | None = None,
) -> StepTime:
    """Time every operator for `batch` and sum. With `weights`, `batch` has a trailing axis of
    one and the batch is a mix of the contexts on the last axis of `s.context`: FLOPs and bytes
    are averaged over that axis before timing, as one kernel call serves the whole mixed batch.
    With `padded` (a CUDA-graph batch, `graph_batch`), every operator but attention runs on it.
    `ops`: the operators of `s` at `batch` when the caller has them (`_prefill_ops`)."""
    totals: dict[str, np.ndarray | float] = {
        "linear": 0.0,
        "attention": 0.0,
        "communication": 0.0,
        "other": 0.0,
    }
    routed: np.ndarray | float = 0.0
    if ops is None:
        ops = [*step_operators(s, batch), *engine_operators(s, batch, eff)]
    if padded is not None:
        grown = [*step_operators(s, padded), *engine_operators(s, padded, eff)]
        ops = [
            real if real.kind == "attention" else pad for real, pad in zip(ops, grown, strict=True)
        ]
    if weights is not None:
        ops = [
            replace(op, cost=OpCost(_mix(op.cost.flops, weights), _mix(op.cost.bytes, weights)))
            if op.link_seconds is None
            else replace(op, link_seconds=_mix(op.link_seconds, weights))
            for op in ops
        ]
    tokens = batch * s.new_tokens
    if weights is not None:
        tokens = _mix(tokens, weights)
    shape = _time_shape(np.shape(tokens), ops)
    # MoE experts timed at the grouped-GEMM efficiencies where the mode has them
    for op, seconds in zip(ops, operators_seconds(s, ops, eff.grouped, shape), strict=True):
        totals[op.kind] = totals[op.kind] + seconds
        if op.grouped:
            routed = routed + seconds
    parts = {k: _shaped(v, shape) for k, v in totals.items()}
    overhead = eff.step_overhead_seconds
    total = parts["linear"] + parts["attention"] + parts["communication"] + parts["other"]
    return StepTime(
        seconds=np.asarray(total + overhead),
        linear_seconds=parts["linear"],
        attention_seconds=parts["attention"],
        communication_seconds=parts["communication"],
        other_seconds=parts["other"],
        overhead_seconds=overhead,
        tokens=_shaped(tokens, shape),
        routed_seconds=_shaped(routed, shape),
    )


def _time_shape(shape: tuple[int, ...], ops: list[_Op]) -> tuple[int, ...]:
    """`shape` broadcast with every operator_seconds(_, op) of `ops`: a collective's link
    seconds, another operator's FLOPs and bytes."""
    shapes = {shape}
    for op in ops:
        if op.link_seconds is not None:
            shapes.add(np.shape(op.link_seconds))
        else:
            shapes.add(np.shape(op.cost.flops))
            shapes.add(np.shape(op.cost.bytes))
    return shapes.pop() if len(shapes) == 1 else np.broadcast_shapes(*shapes)


def _shaped(x: np.ndarray | float, shape: tuple[int, ...]) -> np.ndarray:
    """`x` as a float array of `shape`: itself where it is one (np.broadcast_to costs more than
    the arithmetic on a prefill pass's three batch sizes), else broadcast."""
    if isinstance(x, np.ndarray) and x.shape == shape and x.dtype == float:
        return x
    return np.broadcast_to(np.asarray(x, dtype=float), shape)


def graph_batch(d: Deployment, batch: ArrayLike) -> np.ndarray:
    """The batch a step without a prompt runs its kernels on under CUDA-graph padding: each
    scheduler's sequences (batch / tp under attention data-parallel) rounded up to the next of
    `d.cuda_graph_batch_sizes`; unchanged past the largest size, where the padded batch would
    exceed the engine's cap (`d.max_batch`), or without graph sizes (TensorRT-LLM's
    CUDAGraphRunner._get_padded_batch)."""
    b = np.asarray(batch, dtype=float)
    if not d.cuda_graph_batch_sizes:
        return b
    ranks = d.tp if d.data_parallel_attention() else 1
    sizes = np.asarray(sorted(d.cuda_graph_batch_sizes), dtype=float)
    local = b / ranks
    index = np.minimum(np.searchsorted(sizes, local, side="left"), sizes.size - 1)
    rounded = np.maximum(sizes[index], local) * ranks
    allowed = local <= sizes[-1]
    if d.max_batch is not None:
        allowed &= rounded <= d.max_batch
    return np.where(allowed, rounded, b)


def _padded(d: Deployment, eff: Efficiency, batch: np.ndarray) -> np.ndarray | None:
    """`graph_batch` where the deployment pads to CUDA-graph sizes, outside datasheet mode (an
    engine behaviour, like the engine kernels: datasheet stays the roofline's step); else None."""
    if not d.cuda_graph_batch_sizes or eff.mode == "datasheet":
        return None
    return graph_batch(d, batch)


def decode_step_seconds(
    card: ModelCard,
    profile: HardwareProfile,
    deployment: Deployment,
    batch: ArrayLike,
    context: ArrayLike,
    *,
    attention: str = "dense",
    kv_budget: float | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
    efficiency: str = "default",
) -> StepTime:
    """One decode step of `batch` sequences (per replica) each holding `context` tokens.

    Per-operator roofline (engine/roofline.py) at the mode's efficiencies, plus the per-step
    overhead and, for each collective, latency + bytes / achieved link bandwidth. Memory fit is
    not checked here (memory_plan does that).
    """
    check_deployment(card, profile, deployment)
    check_attention(attention, kv_budget, block_size)
    eff = resolve_efficiency(profile, efficiency, precision(card, profile, deployment).compute)
    b = np.asarray(batch, dtype=float)
    c = np.asarray(context, dtype=float)
    b, c = np.broadcast_arrays(b, c)
    s = _setup(
        card,
        profile,
        deployment,
        context=c,
        attention=attention,
        kv_budget=kv_budget,
        block_size=block_size,
        efficiency=eff,
    )
    return _step(s, b, eff, padded=_padded(deployment, eff, b))


def prefill_seconds(
    card: ModelCard,
    profile: HardwareProfile,
    deployment: Deployment,
    batch: ArrayLike,
    prompt_len: float,
    *,
    cached: float = 0.0,
    efficiency: str = "default",
) -> StepTime:
    """One prefill pass of `batch` prompts of `prompt_len` new tokens on `cached` ones (one pass,
    not chunked; `request_costs` chunks by Deployment.prefill_chunk_tokens). Always dense."""
    check_deployment(card, profile, deployment)
    if prompt_len <= 0:
        raise InputError("prefill needs a positive prompt length")
    eff = resolve_efficiency(profile, efficiency, precision(card, profile, deployment).compute)
    s = _setup(
        card,
        profile,
        deployment,
        context=cached,
        phase="prefill",
        prompt_len=prompt_len,
        efficiency=eff,
    )
    return _step(s, np.asarray(batch, dtype=float), eff)


def prefill_pass_seconds(
    card: ModelCard,
    profile: HardwareProfile,
    d: Deployment,
    eff: Efficiency,
    batch: ArrayLike,
    new_tokens: ArrayLike,
    cached: ArrayLike = 0.0,
) -> np.ndarray:
    """`prefill_seconds` element by element over arrays of batch, new tokens per sequence and
    cached tokens (broadcast together), at an efficiency already resolved: the roofline's
    operators take the new tokens as an array as they take the context, so one pricing pass
    serves every shape."""
    s = _setup(card, profile, d, context=cached, phase="prefill", prompt_len=1.0, efficiency=eff)
    s = replace(s, prompt_len=np.asarray(new_tokens, dtype=float))  # type: ignore[arg-type]
    return np.asarray(_step(s, np.asarray(batch, dtype=float), eff).seconds)


def chunked_prefill_seconds(
    card: ModelCard,
    profile: HardwareProfile,
    d: Deployment,
    eff: Efficiency,
    tokens: ArrayLike,
    batch: ArrayLike = 1.0,
) -> np.ndarray:
    """Seconds to prefill `batch` sequences of `tokens` tokens each, whole (arrays, broadcast
    together), in passes of at most prefill_chunk_tokens C per sequence: pass j takes tokens
    jC + 1 .. min(T, (j + 1) C) of each sequence on the jC before it, cached, so a sequence
    longer than the chunk takes ceil(T / C) passes (the engine's chunked prefill). Each pass
    takes at least the host's seconds for its sequences (`host_seconds`). The caller keeps the
    batch within the pass's token budget (one sequence where T > C)."""
    t = np.asarray(tokens, dtype=float)
    b = np.asarray(batch, dtype=float)
    if np.any(t <= 0) or np.any(b <= 0):
        raise InputError("a prefill needs positive tokens and sequences")
    chunk = float(d.prefill_chunk_tokens)
    total = np.zeros(np.broadcast_shapes(t.shape, b.shape))
    for j in range(math.ceil(float(t.max()) / chunk)):
        new = np.clip(t - j * chunk, 0.0, chunk)
        live = new > 0
        seconds = prefill_pass_seconds(
            card, profile, d, eff, b, np.where(live, new, chunk), j * chunk
        )
        seconds = np.maximum(seconds, host_seconds(eff, d, b))
        total += np.where(live, seconds, 0.0)
    return total


class PrefillCharge(NamedTuple):
    """Prefill charged per prompt under chunked prefill (`_prefill_per_prompt`)."""

    per_prompt: np.ndarray | float  # replica seconds a prompt, spread evenly over the ranks
    single: np.ndarray | float  # seconds of the pass that holds one prompt (TTFT)
    # replica seconds one more prompt adds outside the routed experts, spread over the ranks
    # (marginal: the pass's weight reads and launches are in per_prompt already)
    local: np.ndarray | float


def _prefill_ops(
    s: StepSetup,
    d: Deployment,
    batch: np.ndarray,
    eff: Efficiency,
    op_cache: dict[tuple[object, ...], list[_Op]] | None,
) -> list[_Op]:
    """The operators of a prefill pass of `s` at `batch`, from `op_cache` where another
    accelerator built them: FLOPs and bytes depend on the card, the deployment, the prompt, the
    precision and whether engine kernels are charged (the key), not on the hardware; only the
    collectives' seconds read the links and interconnect, so they are timed again from their
    bytes (the same expression, so the same bits)."""
    key = (s.card.name, d, s.prompt_len, s.precision, eff.mode == "datasheet")
    cached = None if op_cache is None else op_cache.get(key)
    if cached is None:
        ops = [*step_operators(s, batch), *engine_operators(s, batch, eff)]
        if op_cache is not None:
            op_cache[key] = ops
        return ops
    return [
        op
        if op.link_seconds is None
        else _collective(s, op.name, op.calls, np.asarray(op.cost.bytes, dtype=float))
        for op in cached
    ]


def _prefill_per_prompt(
    card: ModelCard,
    profile: HardwareProfile,
    d: Deployment,
    prompt_len: float,
    eff: Efficiency,
    op_cache: dict[tuple[object, ...], list[_Op]] | None = None,
) -> PrefillCharge:
    """Replica seconds of prefill charged per prompt, the pass holding one prompt, and the
    marginal rank-local seconds of a prompt. A pass packs floor(chunk / L_in) prompts (at least
    one); the marginal is one more prompt on each of the tp GPUs' pass, divided by tp.
    `op_cache`: the passes' operators for other accelerators (`_prefill_ops`)."""
    per_pass = max(1.0, math.floor(d.prefill_chunk_tokens / prompt_len))
    s = _setup(card, profile, d, phase="prefill", prompt_len=prompt_len, efficiency=eff)
    # the batch sizes in one pass (every operator is elementwise over the batch axis)
    batch = np.array([per_pass, 1.0, per_pass + d.tp])
    step = _step(s, batch, eff, ops=_prefill_ops(s, d, batch, eff, op_cache))
    packed, single, grown = (float(x) for x in step.seconds)
    routed = np.asarray(step.routed_seconds, dtype=float)
    local = (grown - float(routed[2]) - (packed - float(routed[0]))) / d.tp
    return PrefillCharge(packed / per_pass, single, local)


def busiest_rank_prompts(prompts_per_step: ArrayLike, ranks: int) -> np.ndarray:
    """Expected prompts the busiest of `ranks` attention-DP ranks prefills in one iteration when
    the replica admits `prompts_per_step` a step on average: K = floor(k) or ceil(k) prompts (mean
    k), spread one rank at a time over the least-loaded ranks, so the busiest holds
    E[ceil(K / ranks)] (k itself for one rank). Derivation: docs/serving.md section 4."""
    k = np.maximum(np.asarray(prompts_per_step, dtype=float), 0.0)
    if ranks <= 1:
        return k
    low = np.floor(k)
    frac = k - low
    return (1.0 - frac) * np.ceil(low / ranks) + frac * np.ceil((low + 1.0) / ranks)


def prefill_step_seconds(
    d: Deployment, prompts_per_step: ArrayLike, charge: PrefillCharge
) -> np.ndarray:
    """Replica seconds of prefill per step when k = `prompts_per_step` prompts arrive a step:
    k x per prompt, the prompts spread evenly; under attention data-parallel the busiest rank's
    own prompts set the step, adding (ranks x E[ceil(K / ranks)] - k) x local (never negative)."""
    k = np.asarray(prompts_per_step, dtype=float)
    balanced = k * charge.per_prompt
    if not d.data_parallel_attention():
        return balanced
    busiest = busiest_rank_prompts(k, d.tp)
    return balanced + np.maximum(d.tp * busiest - k, 0.0) * charge.local


def host_seconds(eff: Efficiency, d: Deployment, sequences: ArrayLike) -> np.ndarray:
    """Engine host (CPU) seconds of one iteration over `sequences` per replica: the mode's
    seconds per scheduled sequence x the sequences one rank's scheduler handles (batch / tp under
    attention data-parallel, where every rank runs its own; the whole batch otherwise). Engines
    overlap it with the GPU (TensorRT-LLM's overlap scheduler), so an iteration takes the longer
    of the two."""
    local = np.asarray(sequences, dtype=float)
    if d.data_parallel_attention():
        local = local / d.tp
    return eff.host_seconds_per_sequence * local


# --------------------------------------------------------------------------------------------
# Requests and problems under continuous batching
# --------------------------------------------------------------------------------------------


def _life_contexts(
    prompt_len: float, gen_lens: np.ndarray, gen_weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Contexts a steady stream of sequences holds, and their weights: LIFE_SAMPLES midpoints of
    each generation, weighted by the probability of its length times the length (a sequence of
    length L occupies a slot for L steps)."""
    k = (np.arange(LIFE_SAMPLES) + 0.5) / LIFE_SAMPLES
    ctx = prompt_len + np.outer(gen_lens, k).ravel()
    w = np.repeat(gen_weights * gen_lens, LIFE_SAMPLES)
    return ctx, w / w.sum()


@dataclass(frozen=True)
class RequestCosts:
    """Steady-state continuous batching of one request shape, per replica, arrays over `batch`.

    decode_step_seconds: a step of `batch` sequences at the mix of contexts their lives cover
    (with CUDA-graph padding, the steps without a prompt padded, `graph_batch`; `step` is the
    unpadded step's breakdown).
    prefill_seconds_per_request: chunked prefill charged to one request, its prompt spread evenly
    over the ranks. prefill_step_seconds: prefill per step, k = batch / mean L_out prompts a step
    (`prefill_step_seconds`: under attention data-parallel the busiest rank's prompts set it).
    tpot_seconds: mean time per output token = max(step + prefill per step, host seconds of the
    iteration) (prefill of the requests that replace finished ones shares the GPUs; the engine's
    CPU work overlaps the GPU's). ttft_seconds: one prefill pass holding the prompt
    plus one decode step, with no queueing; that iteration too takes at least the host's seconds
    (a host-bound engine answers no sooner). output_tokens_per_s = batch / tpot (per replica).
    """

    batch: np.ndarray
    decode_step_seconds: np.ndarray
    prefill_seconds_per_request: float
    tpot_seconds: np.ndarray
    ttft_seconds: np.ndarray
    output_tokens_per_s: np.ndarray
    output_tokens_per_s_per_gpu: np.ndarray
    requests_per_s: np.ndarray
    prefill_share: np.ndarray  # prefill's share of the GPUs' time per step (host time apart)
    step: StepTime
    prefill_step_seconds: np.ndarray  # prefill per step, attention-DP imbalance included
    host_seconds: np.ndarray  # the engine's CPU time per step (overlapped; TPOT when larger)


def request_costs(
    card: ModelCard,
    profile: HardwareProfile,
    deployment: Deployment,
    *,
    prompt_len: float,
    gen_lens: ArrayLike,
    batch: ArrayLike,
    gen_weights: ArrayLike | None = None,
    prompts_per_sequence: float = 1.0,
    attention: str = "dense",
    kv_budget: float | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
    efficiency: str = "default",
) -> RequestCosts:
    """Throughput, TTFT and TPOT of requests of `prompt_len` prompt tokens and generated lengths
    `gen_lens` (a distribution with `gen_weights`; one value for fixed lengths) at `batch`
    concurrent sequences per replica (array). `prompts_per_sequence` < 1 prices prefix sharing:
    1/N when N trials share one prompt (prefilled once). Memory fit is the caller's to check
    with memory_plan."""
    check_deployment(card, profile, deployment)
    check_attention(attention, kv_budget, block_size)
    if prompt_len <= 0:
        raise InputError("prompt length must be positive")
    lens = np.atleast_1d(np.asarray(gen_lens, dtype=float))
    if np.any(lens <= 0):
        raise InputError("generated lengths must be positive")
    probs = (
        np.full(lens.shape, 1.0 / lens.size)
        if gen_weights is None
        else np.atleast_1d(np.asarray(gen_weights, dtype=float))
    )
    if probs.shape != lens.shape or np.any(probs < 0) or probs.sum() <= 0:
        raise InputError("length weights must be non-negative, one per length")
    probs = probs / probs.sum()
    eff = resolve_efficiency(profile, efficiency, precision(card, profile, deployment).compute)
    b = np.asarray(batch, dtype=float)
    if np.any(b <= 0):
        raise InputError("batch must be positive")
    ctx, w = _life_contexts(prompt_len, lens, probs)
    s = _setup(
        card,
        profile,
        deployment,
        context=ctx,
        attention=attention,
        kv_budget=kv_budget,
        block_size=block_size,
        efficiency=eff,
    )
    step = _step(s, b[..., None], eff, weights=w)
    step_s = np.broadcast_to(step.seconds, b.shape)
    charge = _prefill_per_prompt(card, profile, deployment, prompt_len, eff)
    single = charge.single
    per_request = float(charge.per_prompt) * prompts_per_sequence
    mean_len = float(lens @ probs)
    prompts = b * prompts_per_sequence / mean_len  # prompts the replica admits a step
    prefill_s = np.broadcast_to(prefill_step_seconds(deployment, prompts, charge), b.shape)
    grown = _padded(deployment, eff, b)
    if grown is not None:
        # Steps that admit a prompt run without a graph; prompts arrive at b / mean L_out
        # (x prompts per sequence) a step, so at most that share of steps carries one.
        padded = _step(s, b[..., None], eff, weights=w, padded=grown[..., None])
        carrying = np.minimum(1.0, b * prompts_per_sequence / mean_len)
        step_s = carrying * step_s + (1.0 - carrying) * np.broadcast_to(padded.seconds, b.shape)
    gpu_s = step_s + prefill_s
    host_s = np.broadcast_to(host_seconds(eff, deployment, b), b.shape)
    tpot = np.maximum(gpu_s, host_s)
    rate = b / tpot
    return RequestCosts(
        batch=b,
        decode_step_seconds=step_s,
        prefill_seconds_per_request=per_request,
        tpot_seconds=tpot,
        ttft_seconds=np.maximum(single + step_s, host_s),
        output_tokens_per_s=rate,
        output_tokens_per_s_per_gpu=rate / deployment.gpus_per_replica,
        requests_per_s=rate / mean_len,
        prefill_share=prefill_s / gpu_s,
        step=step,
        prefill_step_seconds=prefill_s,
        host_seconds=host_s,
    )


def expected_longest(gen_lens: ArrayLike, gen_weights: ArrayLike | None, trials: float) -> float:
    """E[max of N draws] of a discrete length distribution: sum_j L_j (F(L_j)^N - F(L_j-1)^N)."""
    lens = np.atleast_1d(np.asarray(gen_lens, dtype=float))
    probs = (
        np.full(lens.shape, 1.0 / lens.size)
        if gen_weights is None
        else np.atleast_1d(np.asarray(gen_weights, dtype=float))
    )
    order = np.argsort(lens)
    lens, probs = lens[order], probs[order] / probs.sum()
    cdf = np.cumsum(probs)
    prev = np.concatenate([[0.0], cdf[:-1]])
    return float(lens @ (cdf**trials - prev**trials))


@dataclass(frozen=True)
class ProblemCosts:
    """A problem of N trials (one prompt, prefix-cached) served at `problems` problems in flight
    per replica (array): time, GPU-time and energy per problem.

    gpu_seconds_per_problem = gpus_per_replica x (N mean L_out x TPOT / sequences), where
    sequences = problems x N; wall_seconds: prefill + the longest of the N trials (expected
    maximum of N draws of the length distribution) at TPOT; energy_joules = GPU-seconds x the
    profile's serving_watts (None when the profile has no tdp_watts), power_model names it; usd_per_problem = GPU-seconds x price / 3600 (None
    without a price).
    """

    problems: np.ndarray
    sequences: np.ndarray
    fits: np.ndarray
    tpot_seconds: np.ndarray
    gpu_seconds_per_problem: np.ndarray
    wall_seconds: np.ndarray
    problems_per_gpu_hour: np.ndarray
    energy_joules: np.ndarray | None
    usd_per_problem: np.ndarray | None
    expected_longest_tokens: float
    memory: MemoryPlan
    requests: RequestCosts
    efficiency_mode: str
    power_model: str = ""  # the power behind energy_joules (HardwareProfile.power_model)


def problem_costs(
    card: ModelCard,
    profile: HardwareProfile,
    deployment: Deployment,
    *,
    prompt_len: float,
    gen_lens: ArrayLike,
    trials: float,
    problems: ArrayLike | None = None,
    gen_weights: ArrayLike | None = None,
    attention: str = "dense",
    kv_budget: float | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
    efficiency: str = "default",
) -> ProblemCosts:
    """Price problems of `trials` trials with generated lengths `gen_lens` (weights
    `gen_weights`) on a replica holding `problems` problems at once (default: the most that fit,
    by Deployment.kv_admission). `fits` says where the memory holds them."""
    lens = np.atleast_1d(np.asarray(gen_lens, dtype=float))
    probs = None if gen_weights is None else np.atleast_1d(np.asarray(gen_weights, dtype=float))
    p = np.full(lens.shape, 1 / lens.size) if probs is None else probs / probs.sum()
    if deployment.kv_admission == "full":
        held = prompt_len + float(lens.max())
    else:  # time-averaged context of a slot: L_in + E[L^2] / (2 E[L])
        held = prompt_len + float((lens**2) @ p / (2 * (lens @ p)))
    mem = memory_plan(
        card,
        profile,
        deployment,
        context=held,
        prompt_len=prompt_len,
        trials=trials,
        attention=attention,
        kv_budget=kv_budget,
        block_size=block_size,
    )
    cap = float(mem.max_problems)
    n = np.asarray(max(cap, 1.0) if problems is None else problems, dtype=float)
    fits = n <= cap
    seqs = n * trials
    req = request_costs(
        card,
        profile,
        deployment,
        prompt_len=prompt_len,
        gen_lens=lens,
        gen_weights=probs,
        batch=seqs,
        prompts_per_sequence=1.0 / trials,
        attention=attention,
        kv_budget=kv_budget,
        block_size=block_size,
        efficiency=efficiency,
    )
    mean_len = float(lens @ p)
    replica_s = trials * mean_len * req.tpot_seconds / seqs
    gpu_s = replica_s * deployment.gpus_per_replica
    longest = expected_longest(lens, probs, trials)
    wall = req.ttft_seconds + longest * req.tpot_seconds
    watts = profile.serving_watts
    energy = None if watts is None else gpu_s * watts
    usd = None if profile.price_per_gpu_hour is None else gpu_s * profile.price_per_gpu_hour / 3600
    return ProblemCosts(
        problems=n,
        sequences=seqs,
        fits=fits,
        tpot_seconds=req.tpot_seconds,
        gpu_seconds_per_problem=gpu_s,
        wall_seconds=wall,
        problems_per_gpu_hour=3600.0 / gpu_s,
        energy_joules=energy,
        usd_per_problem=usd,
        expected_longest_tokens=longest,
        memory=mem,
        requests=req,
        efficiency_mode=efficiency,
        power_model=profile.power_model,
    )


# --------------------------------------------------------------------------------------------
# One serving configuration: the batch, and what it yields
# --------------------------------------------------------------------------------------------


class DoesNotFit(InputError):
    """The deployment cannot hold one sequence (weights, reserve and one cache exceed HBM)."""


@dataclass(frozen=True)
class ServeResult:
    """`kinetics serve`'s answer: the batch used and its throughput, latency and memory.

    Throughput and latency are per replica (output_tokens_per_s_per_gpu = / gpus_per_replica);
    memory is per GPU at the batch used.
    """

    model: str
    hardware: str
    deployment: Deployment
    formats: str  # Precision.describe: every tensor kind's format and the matmul peak
    efficiency_mode: str
    efficiency_label: str
    prompt_len: float
    gen_len: float
    batch: int
    batch_rule: str  # "given", "memory", "max-batch", "max-tpot", "max-ttft", "latency"
    # the largest batch allowed (the default): what memory holds at the final context, at most
    # the engine's cap (memory_batch: memory alone)
    max_batch: int
    costs: RequestCosts  # at the batch used (0-d arrays)
    memory: MemoryPlan  # at the final context
    kv_bytes: float  # per GPU, the batch's cache at the final context
    sweep: RequestCosts | None = None  # over `sweep_batches` when asked
    # sequences per prompt: requests come as groups of `trials` sequences sharing one prompt,
    # its cache held once per group and prefilled once (a problem's N trials); batch and
    # max_batch are whole groups
    trials: int = 1
    # the attention priced: dense, topk or block-topk, its KV budget (tokens attended per step)
    # and page size (block top-k only)
    attention: str = "dense"
    kv_budget: float | None = None
    block_size: float | None = None
    # the latency targets given ("--max-tpot", "--max-ttft" or both, joined by " and "); where
    # every batch that fits meets them, memory or the engine's cap sets the batch (batch_rule)
    targets: str = ""

    @property
    def layout(self) -> str:
        """The parallel layout and the formats, 'TP8 EP8 (attention DP), fp8 weights, ...'."""
        return self.deployment.describe(self.formats)

    @property
    def memory_batch(self) -> int:
        """The sequences memory alone holds per replica at the final context (no engine cap):
        whole groups of `trials` (memory_problems x trials) when they share a prompt."""
        if self.trials == 1:
            return memory_sequences(self.memory, self.deployment)
        return memory_problems(self.memory, self.deployment) * self.trials

    @property
    def problems_per_s(self) -> float:
        """Groups (problems of `trials` sequences) finished per second per replica:
        requests_per_s / trials."""
        return float(self.costs.requests_per_s) / self.trials

    def as_dict(self) -> dict[str, object]:
        c = self.costs
        doc: dict[str, object] = {
            "model": self.model,
            "hardware": self.hardware,
            "efficiency_mode": self.efficiency_mode,
            "efficiency": self.efficiency_label,
            "tp": self.deployment.tp,
            "ep": self.deployment.ep,
            "replicas": self.deployment.replicas,
            "attention_dp": self.deployment.data_parallel_attention(),
            "weights": self.deployment.weights or "card",
            "kv": self.deployment.kv,
            "activations": self.deployment.activations,
            "formats": self.formats,
            "gpus_per_replica": self.deployment.gpus_per_replica,
            # whole token counts as JSON integers (1000, not 1000.0); a fractional mean as is
            "isl": int(self.prompt_len) if float(self.prompt_len).is_integer() else self.prompt_len,
            "osl": int(self.gen_len) if float(self.gen_len).is_integer() else self.gen_len,
            "trials": self.trials,
            "attention": self.attention,
            "kv_budget": self.kv_budget,
            "block_size": self.block_size,
            "batch": self.batch,
            "batch_rule": self.batch_rule,
            "max_batch": self.max_batch,
            "memory_batch": self.memory_batch,
            "output_tokens_per_s": float(c.output_tokens_per_s),
            "output_tokens_per_s_per_gpu": float(c.output_tokens_per_s_per_gpu),
            "output_tokens_per_s_total": float(c.output_tokens_per_s) * self.deployment.replicas,
            "requests_per_s": float(c.requests_per_s),
            "problems_per_s": self.problems_per_s,
            "ttft_s": float(c.ttft_seconds),
            "tpot_s": float(c.tpot_seconds),
            "decode_step_s": float(c.decode_step_seconds),
            "prefill_s_per_request": c.prefill_seconds_per_request,
            "prefill_s_per_step": float(c.prefill_step_seconds),
            "prefill_share": float(c.prefill_share),
            "host_s_per_step": float(c.host_seconds),
            "memory": {
                "weights_bytes": self.memory.weights_bytes,
                "kv_bytes": self.kv_bytes,
                "reserve_bytes": self.memory.reserve_bytes,
                "capacity_bytes": self.memory.capacity_bytes,
                "kv_capacity_bytes": self.memory.kv_capacity_bytes,
                "kv_bytes_per_token": self.memory.kv_bytes_per_token,
                "kv_bytes_per_sequence": float(self.memory.kv_bytes_per_sequence),
                "kv_bytes_per_group": float(self.memory.problem_bytes),
            },
        }
        if self.sweep is not None:
            s = self.sweep
            doc["sweep"] = [
                {
                    "batch": int(b),
                    "output_tokens_per_s": float(t),
                    "output_tokens_per_s_per_gpu": float(g),
                    "tpot_s": float(p),
                    "ttft_s": float(f),
                }
                for b, t, g, p, f in zip(
                    s.batch,
                    s.output_tokens_per_s,
                    s.output_tokens_per_s_per_gpu,
                    s.tpot_seconds,
                    s.ttft_seconds,
                    strict=True,
                )
            ]
        return doc


def smallest_fitting_tp(
    card: ModelCard,
    profile: HardwareProfile,
    deployment: Deployment,
    context: float,
    *,
    prompt_len: float = 0.0,
    trials: float = 1.0,
    attention: str = "dense",
    block_size: float = DEFAULT_BLOCK_SIZE,
) -> int | None:
    """The smallest TP (same formats, EP dividing it) whose replica holds one problem of `trials`
    sequences of `context` tokens sharing `prompt_len` tokens of prompt (one sequence by
    default), or None when not even a whole node does."""
    for tp in tensor_parallel_degrees(card, profile):
        if tp % deployment.ep:
            continue
        plan = memory_plan(
            card,
            profile,
            replace(deployment, tp=tp),
            context=context,
            prompt_len=prompt_len,
            trials=trials,
            attention=attention,
            block_size=block_size,
        )
        if float(plan.max_problems) >= 1:
            return tp
    return None


def smallest_fitting_layout(
    card: ModelCard,
    profile: HardwareProfile,
    deployment: Deployment,
    context: float,
    *,
    prompt_len: float = 0.0,
    trials: float = 1.0,
    attention: str = "dense",
    block_size: float = DEFAULT_BLOCK_SIZE,
) -> tuple[int, int] | None:
    """(tp, ep) of the smallest TP that holds one sequence of `context` tokens (one group of
    `trials` sharing `prompt_len` tokens of prompt, smallest_fitting_tp): at the deployment's EP,
    else (an MoE deployment under attention data-parallel, where every GPU holds the non-expert
    weights whole) at EP 1 with attention tensor-parallel, which splits them; None when neither
    fits on a node."""
    layouts = [deployment]
    if deployment.data_parallel_attention():
        layouts.append(replace(deployment, ep=1, attention_dp=False))
    for layout in layouts:
        tp = smallest_fitting_tp(
            card,
            profile,
            layout,
            context,
            prompt_len=prompt_len,
            trials=trials,
            attention=attention,
            block_size=block_size,
        )
        if tp is not None:
            return tp, layout.ep
    return None


def _fit_message(
    card: ModelCard,
    profile: HardwareProfile,
    d: Deployment,
    plan: MemoryPlan,
    context: float,
    suggestion: tuple[int, int] | None,
) -> str:
    gb = 1e9
    # under attention data-parallel one rank holds the whole sequence (per GPU: 1 / tp of it)
    whole = d.data_parallel_attention()
    sequence = float(plan.kv_bytes_per_sequence) * (d.tp if whole else 1)
    need = plan.weights_bytes + plan.reserve_bytes + sequence
    if suggestion is None:
        hint = f"no TP up to {profile.gpus_per_node} on one node fits; try narrower --weights/--kv"
    elif suggestion[1] != d.ep:  # only with the non-expert weights split too
        hint = (
            f"--tp {suggestion[0]} --ep {suggestion[1]} would fit (attention tensor-parallel: "
            f"no TP up to {profile.gpus_per_node} fits at --ep {d.ep}, where every GPU holds the "
            "non-expert weights whole)"
        )
    else:
        hint = f"--tp {suggestion[0]} would fit"
    return (
        f"{card.name} does not fit on {profile.name} at "
        f"{d.describe(precision(card, profile, d).describe())}: per GPU weights "
        f"{plan.weights_bytes / gb:.1f} GB + reserve {plan.reserve_bytes / gb:.1f} GB + one "
        f"sequence of {format_plain(context)} tokens {sequence / gb:.2f} GB"
        + (" (whole on one GPU under attention DP)" if whole else "")
        + f" = {need / gb:.1f} GB > {plan.capacity_bytes / gb:.0f} GB; {hint}"
    )


def memory_sequences(plan: MemoryPlan, d: Deployment) -> int:
    """The sequences memory alone holds per replica at the plan's (one) context, before the
    engine's cap on concurrent sequences (`MemoryPlan.max_sequences` is after it): whole_sequences
    of the KV capacity; at most 2^24."""
    per_seq = np.max(plan.kv_bytes_per_sequence)
    return int(min(float(whole_sequences(plan.kv_capacity_bytes, per_seq, d)), 2**24))


def memory_problems(plan: MemoryPlan, d: Deployment) -> int:
    """The groups of `plan.trials` sequences sharing `plan.prompt_len` tokens of prompt cache
    that memory alone holds per replica at the plan's (one) context, before the engine's cap
    (`MemoryPlan.max_problems` is after it): whole_problems of the KV capacity, as the planner
    counts them; at most 2^24 sequences."""
    held = whole_problems(
        plan.kv_capacity_bytes,
        np.max(plan.problem_bytes),
        np.max(plan.kv_bytes_per_sequence),
        d,
        prompt=plan.prompt_bytes,
        trials=plan.trials,
    )
    return int(min(float(held), (2**24) // plan.trials))


def _group_message(
    card: ModelCard,
    profile: HardwareProfile,
    d: Deployment,
    plan: MemoryPlan,
    context: float,
    suggestion: tuple[int, int] | None,
) -> str:
    """Why one group of `plan.trials` sequences sharing a prompt does not fit, where one
    sequence does: its cache against the KV capacity per GPU, and the smallest layout that holds
    it."""
    n = round(plan.trials)
    group = float(np.max(plan.problem_bytes))
    sequence = float(np.max(plan.kv_bytes_per_sequence))
    if suggestion is None:
        hint = f"no TP up to {profile.gpus_per_node} on one node holds it; try fewer --trials"
    elif suggestion[1] != d.ep:
        hint = f"--tp {suggestion[0]} --ep {suggestion[1]} would hold it"
    else:
        hint = f"--tp {suggestion[0]} would hold it"
    return (
        f"one group of {n} sequences of {format_plain(context)} tokens sharing a "
        f"{format_plain(plan.prompt_len)}-token prompt does not fit on {profile.name} at "
        f"{d.describe(precision(card, profile, d).describe())}: per GPU its KV cache "
        f"{format_bytes(group)} ({n} x {format_bytes(sequence)} less {n - 1} copies of the "
        f"prompt's) > {format_bytes(max(plan.kv_capacity_bytes, 0.0))} for KV; {hint}"
    )


def sweep_batches(max_batch: int, points: int = 24) -> np.ndarray:
    """Batches 1 .. max_batch, geometric, whole and distinct."""
    if max_batch <= 1:
        return np.array([1.0])
    grid = np.unique(np.round(np.geomspace(1, max_batch, points)))
    return grid.astype(float)


def serve(
    card: ModelCard,
    profile: HardwareProfile,
    deployment: Deployment,
    *,
    prompt_len: float,
    gen_len: float,
    batch: int | None = None,
    trials: int = 1,
    max_tpot: float | None = None,
    max_ttft: float | None = None,
    attention: str = "dense",
    kv_budget: float | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
    efficiency: str = "default",
    sweep: bool = False,
) -> ServeResult:
    """Serve requests of `prompt_len` + `gen_len` tokens at one batch per replica: `batch` if
    given (it must fit), else the largest that fits at the final context, lowered to the largest
    meeting `max_tpot` and `max_ttft` (seconds) when given. `trials` N > 1: requests come as
    groups of N sequences sharing one prompt (a problem's N trials), its cache held once per
    group (memory_plan's max_problems, as the planner holds a problem) and prefilled once
    (request_costs' prompts_per_sequence 1 / N); batches are whole groups, N x problems
    sequences. Raises DoesNotFit (with the memory arithmetic and the smallest TP that fits) or
    InputError (targets no batch meets, a batch not a multiple of N)."""
    check_deployment(card, profile, deployment)
    if prompt_len <= 0 or gen_len <= 0:
        raise InputError("--isl and --osl must be positive")
    if trials < 1 or trials != int(trials):
        raise InputError(f"--trials must be a whole number of at least 1 (got {trials:g})")
    trials = int(trials)
    check_context(
        card,
        prompt_len + gen_len,
        f"a request of {prompt_len:,.0f} prompt + {gen_len:,.0f} generated tokens",
    )
    if batch is not None and (max_tpot is not None or max_ttft is not None):
        raise InputError("give --batch or latency targets (--max-tpot, --max-ttft), not both")
    if batch is not None and batch % trials:
        low = batch // trials * trials
        nearest = f"{low:,} or {low + trials:,}" if low else f"{trials:,}"
        raise InputError(
            f"--batch {batch:,} is not a whole number of groups of --trials {trials} sequences "
            f"sharing a prompt: give a multiple of {trials} ({nearest})"
        )
    if deployment.max_batch is not None and deployment.max_batch < trials:
        raise InputError(
            f"one group of --trials {trials} sequences exceeds the engine's cap of "
            f"{deployment.max_batch:,} concurrent sequences per replica (--max-batch); raise "
            "--max-batch, or --max-batch 0 for memory alone"
        )
    final = prompt_len + gen_len
    held = final if deployment.kv_admission == "full" else prompt_len + gen_len / 2
    plan = memory_plan(
        card,
        profile,
        deployment,
        context=held,
        prompt_len=prompt_len,
        trials=trials,
        attention=attention,
        kv_budget=kv_budget,
        block_size=block_size,
    )
    if not plan.fits:
        hint = smallest_fitting_layout(
            card,
            profile,
            deployment,
            held,
            prompt_len=prompt_len,
            trials=trials,
            attention=attention,
            block_size=block_size,
        )
        raise DoesNotFit(_fit_message(card, profile, deployment, plan, held, hint))
    if trials == 1:
        groups = int(min(float(plan.max_sequences), 2**24))
    else:
        groups = int(min(float(plan.max_problems), (2**24) // trials))
        if memory_problems(plan, deployment) < 1:
            hint = smallest_fitting_layout(
                card,
                profile,
                deployment,
                held,
                prompt_len=prompt_len,
                trials=trials,
                attention=attention,
                block_size=block_size,
            )
            raise DoesNotFit(_group_message(card, profile, deployment, plan, held, hint))
    cap = groups * trials  # sequences: whole groups
    widths = precision(card, profile, deployment)
    result_layout = deployment.describe(widths.describe())
    eff = resolve_efficiency(profile, efficiency, widths.compute, card=card, tp=deployment.tp)

    def costs(batches: np.ndarray) -> RequestCosts:
        return request_costs(
            card,
            profile,
            deployment,
            prompt_len=prompt_len,
            gen_lens=gen_len,
            batch=batches,
            prompts_per_sequence=1.0 / trials,
            attention=attention,
            kv_budget=kv_budget,
            block_size=block_size,
            efficiency=efficiency,
        )

    rule = "memory"
    if batch is not None:
        if batch < 1:
            raise InputError("--batch must be at least 1")
        if batch > cap:
            if trials == 1:
                holds = memory_sequences(plan, deployment)
                held_what = f"sequences of {format_plain(held)} tokens"
                per_what = f"{float(plan.kv_bytes_per_sequence) / 1e9:.3g} GB per sequence"
            else:
                holds = memory_problems(plan, deployment) * trials
                held_what = (
                    f"sequences of {format_plain(held)} tokens in groups of {trials} sharing a "
                    f"{format_plain(prompt_len)}-token prompt"
                )
                per_what = f"{float(plan.problem_bytes) / 1e9:.3g} GB per group"
            if holds >= batch:  # memory holds it: only the engine's cap (max_batch) binds
                raise InputError(
                    f"batch {batch:,} exceeds the engine's cap of {deployment.max_batch:,} "
                    f"concurrent sequences per replica (--max-batch; memory holds {holds:,} "
                    f"{held_what}); raise --max-batch, or --max-batch 0 for memory alone"
                )
            raise DoesNotFit(
                f"batch {batch:,} does not fit: {profile.name} holds at most {holds:,} "
                f"{held_what} per replica at {result_layout} (KV {per_what} per GPU, "
                f"{plan.kv_capacity_bytes / 1e9:.1f} GB for KV per GPU)"
            )
        chosen, rule = batch, "given"
    elif max_tpot is None and max_ttft is None:
        chosen = cap
    else:
        # whole groups, 1 .. the most that fit, as sequences
        dense_part = np.arange(1, min(groups, 4096) + 1, dtype=float)
        tail = np.round(np.geomspace(4096, groups, 2000)) if groups > 4096 else np.empty(0)
        grid = np.unique(np.concatenate([dense_part, tail])) * trials
        all_costs = costs(grid)
        ok = np.ones(grid.shape, dtype=bool)
        if max_tpot is not None:
            ok &= all_costs.tpot_seconds <= max_tpot
        if max_ttft is not None:
            ok &= all_costs.ttft_seconds <= max_ttft
        if not ok.any():
            best_tpot = float(all_costs.tpot_seconds[0])
            best_ttft = float(all_costs.ttft_seconds[0])
            from kinetics_cli.units import format_si

            targets = [
                f"{flag} {format_si(value, 's')}"
                for flag, value in (("--max-tpot", max_tpot), ("--max-ttft", max_ttft))
                if value is not None
            ]
            raise InputError(
                f"no batch meets the latency targets ({', '.join(targets)}): at batch "
                f"{trials}{' (one group)' if trials > 1 else ''}, the fastest, TPOT is "
                f"{format_si(best_tpot, 's')} and TTFT {format_si(best_ttft, 's')} "
                f"({eff.mode} efficiencies)"
            )
        chosen = int(grid[ok][-1])
        if chosen < cap:  # the targets bind; where every batch that fits meets them, the cap does
            rule = (
                "max-tpot" if max_ttft is None else ("max-ttft" if max_tpot is None else "latency")
            )
    if (
        rule == "memory"
        and deployment.max_batch is not None
        and cap + trials > deployment.max_batch
    ):
        rule = "max-batch"  # the engine's cap binds before memory does (no group more)
    point = costs(np.asarray(float(chosen)))
    return ServeResult(
        model=card.name,
        hardware=profile.name,
        deployment=deployment,
        formats=widths.describe(),
        efficiency_mode=eff.mode,
        efficiency_label=eff.label,
        prompt_len=float(prompt_len),
        gen_len=float(gen_len),
        batch=int(chosen),
        batch_rule=rule,
        max_batch=cap,
        costs=point,
        memory=plan,
        kv_bytes=float(plan.problem_bytes) * (chosen // trials),
        sweep=costs(sweep_batches(groups) * trials) if sweep else None,
        trials=trials,
        attention=attention,
        kv_budget=None if attention == "dense" else kv_budget,
        block_size=block_size if attention == "block-topk" else None,
        targets=" and ".join(
            flag
            for flag, value in (("--max-tpot", max_tpot), ("--max-ttft", max_ttft))
            if value is not None
        ),
    )
