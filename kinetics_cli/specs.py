"""Typed data model of the catalog: hardware profiles, model cards and calibration tables.

Figures that can be derived (intensity, parameter counts, KV bytes per token) are computed here
from the typed fields and never stored in the files.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from kinetics_cli import limits
from kinetics_cli.errors import InputError
from kinetics_cli.units import format_plain, parse_quantity, quantity_unit


def _parse(value: str, *, unit: bool) -> float:
    """parse_quantity, with its error raised as ValueError so pydantic reports the field."""
    try:
        return parse_quantity(value, unit=unit)
    except InputError as exc:
        raise ValueError(str(exc).removeprefix("value: ")) from None


def _number(value: object, *, text: str | None) -> object:
    """A finite number for a float field: booleans are refused (TOML's `true` is not 1), text only
    where `text` says how to read it ('unit': '2.25P', '80G'; 'count': '8.2G'), integers of any
    size become floats or a clear error rather than an overflow."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, str):
        if text is None:
            raise ValueError("expected a number, got text (write it without quotes)")
        return _parse(value, unit=text == "unit")
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            raise ValueError("expected a number of sensible size") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _whole(value: object) -> object:
    """A whole number for a count field: refuses booleans, text and floats (even 32.0), so that
    `layers = true` or `layers = "32"` cannot pass as a count."""
    if isinstance(value, bool):
        raise ValueError("expected a whole number, got a boolean")
    if isinstance(value, str):
        raise ValueError("expected a whole number, got text (write it without quotes)")
    if isinstance(value, float):
        raise ValueError("expected a whole number (an integer such as 32), got a decimal number")
    return value


def _in_range(low: float, high: float) -> Callable[[Any], Any]:
    """Refuse a value outside [low, high], naming the range (kinetics_cli/limits.py says why)."""

    def check(value: Any) -> Any:
        if not low <= value <= high:
            raise ValueError(
                f"must be between {format_plain(low)} and {format_plain(high)} (plausible "
                "physical range, docs/catalog.md)"
            )
        return value

    return check


def _range(bounds: tuple[float, float]) -> AfterValidator:
    """The range check of one field, as pydantic metadata."""
    return AfterValidator(_in_range(*bounds))


def _quantity(value: object) -> object:
    """Let data files write '2.25P' or '80G' wherever a number is expected."""
    return _number(value, text="unit")


def _count_quantity(value: object) -> object:
    """Counts (parameters) accept SI prefixes but no unit: '8.2G' is fine, '8.2B' is refused."""
    return _number(value, text="count")


def _quantity_in(units: tuple[str, ...], example: str) -> BeforeValidator:
    """`_quantity` for a field of one physical kind: a unit written after the number must be one
    of `units` (they document, they do not convert), so `hbm_bandwidth = "989.4 TFLOP/s"` (a
    peak in the bandwidth's place) is refused instead of read as 989.4e12 B/s."""

    def check(value: object) -> object:
        if isinstance(value, str):
            unit = quantity_unit(value)
            if unit is not None and unit not in units:
                raise ValueError(
                    f"written in {unit!r}, not a unit of this field; expected "
                    f"{' or '.join(repr(u) for u in units if u)} or no unit (e.g. {example})"
                )
        return _quantity(value)

    return BeforeValidator(check)


_AS_QUANTITY = BeforeValidator(_quantity)
_AS_FLOP_RATE = _quantity_in(
    ("", "/s", "FLOP/s", "FLOPs/s", "FLOPS"), '"989.4T" or "989.4 TFLOP/s"'
)
_AS_BYTE_RATE = _quantity_in(("", "/s", "B/s"), '"3.35T" or "3.35 TB/s"')
_AS_BYTES = _quantity_in(("", "B", "bytes"), '"80G" or "80 GB"')
_AS_WATTS = _quantity_in(("", "W"), '"700" or "700W"')
_AS_DOLLARS = _quantity_in(("",), "2.79")
_AS_WHOLE = BeforeValidator(_whole)
_AS_NUMBER = BeforeValidator(lambda v: _number(v, text=None))

Quantity = Annotated[float, _AS_QUANTITY]
PositiveCount = Annotated[float, BeforeValidator(_count_quantity), _range(limits.PARAMETERS)]
PositiveQuantity = Annotated[float, _AS_QUANTITY, Field(gt=0, allow_inf_nan=False)]
Fraction = Annotated[float, _AS_NUMBER, Field(gt=0, le=1.5)]
NonNegative = Annotated[float, _AS_NUMBER, Field(ge=0, allow_inf_nan=False)]
ElementBytes = Annotated[float, _AS_BYTES, _range(limits.ELEMENT_BYTES)]
Tokens = Annotated[int, _AS_WHOLE, _range(limits.CONTEXT_TOKENS)]
LayerIndices = Annotated[list[Annotated[int, _AS_WHOLE]], Field(max_length=limits.LAYERS[1])]


class _Strict(BaseModel):
    """Base for every schema: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------
# Hardware
# --------------------------------------------------------------------------------------------

KernelClass = Literal[
    "gemm", "stream", "attention_decode_dense", "attention_decode_blocktopk", "decode_step"
]
KERNEL_CLASSES: tuple[str, ...] = get_args(KernelClass)  # named in calibrate's docs


class KernelFit(_Strict):
    """Achieved fractions of peak and a fixed per-call overhead for one kernel class."""

    compute_efficiency: Fraction = 1.0
    bandwidth_efficiency: Fraction = 1.0
    overhead_seconds: NonNegative = 0.0
    residual: NonNegative | None = None
    points: Annotated[int, _AS_WHOLE, Field(ge=0)] | None = None


class Calibration(_Strict):
    """Fitted efficiencies: defaults for every kernel class, refined per class where measured."""

    compute_efficiency: Fraction = 1.0
    bandwidth_efficiency: Fraction = 1.0
    overhead_seconds: NonNegative = 0.0
    kernels: dict[KernelClass, KernelFit] = Field(default_factory=dict)
    source: str = ""
    checksum: str = ""
    date: str = ""
    backend: str = ""
    device: str = ""
    note: str = ""

    def for_kernel(self, kernel: str) -> KernelFit:
        """The fit for `kernel`, falling back to the table-wide defaults."""
        if kernel in self.kernels:
            return self.kernels[kernel]  # type: ignore[index]
        return KernelFit(
            compute_efficiency=self.compute_efficiency,
            bandwidth_efficiency=self.bandwidth_efficiency,
            overhead_seconds=self.overhead_seconds,
        )


UNCALIBRATED = KernelFit()


class ServingEfficiency(_Strict):
    """Achieved fractions of the datasheet and fixed costs, from kernel-level public measurements.

    The `default` efficiency mode of the serving model (engine/serving.py). Each figure carries
    its source in a comment of the profile and in `sources`; none is fitted to end-to-end serving
    throughput.
    """

    gemm_compute: Fraction  # achieved bf16 matmul FLOP/s / dense bf16 peak (e.g. MAMF)
    gemm_compute_fp8: Fraction | None = None  # the same at fp8 (None: the bf16 fraction)
    gemm_compute_fp4: Fraction | None = None  # the same at fp4 (None: the fp8 fraction)
    gemm_bandwidth: Fraction  # achieved HBM bandwidth of weight-streaming (small-batch) matmuls
    grouped_gemm_compute: Fraction | None = None  # routed MoE experts (grouped GEMM), of the peak
    grouped_gemm_bandwidth: Fraction | None = None  # the same, of HBM bandwidth (None: gemm's)
    attention_compute: Fraction  # decode attention kernels, FLOP/s / peak
    attention_bandwidth: Fraction  # decode attention kernels (paged GQA), bytes/s / HBM bandwidth
    mla_attention_bandwidth: Fraction | None = None  # MLA decode (latent cache); None: as GQA
    stream_bandwidth: Fraction  # elementwise kernels, bytes/s / HBM bandwidth
    kernel_overhead_seconds: Annotated[float, Field(ge=0)]  # per kernel call (launch gap)
    step_overhead_seconds: Annotated[float, Field(ge=0)] = 0.0  # per step, host side
    # Engine host (CPU) time per scheduled sequence per iteration; overlapped with the GPU, so an
    # iteration takes the longer of the two (engine/serving.py host_seconds).
    host_seconds_per_sequence: Annotated[float, Field(ge=0)] = 0.0
    collective_latency_seconds: Annotated[float, Field(ge=0)]  # per collective call
    collective_bandwidth: Fraction  # achieved bus bandwidth / interconnect_bandwidth
    sources: list[str] = Field(min_length=1)
    note: str = ""

    def gemm_compute_for(self, dtype: str) -> float:
        """Matmul compute fraction at `dtype` (fp4 falls back to fp8, fp8 to bf16)."""
        fp8 = self.gemm_compute_fp8 if self.gemm_compute_fp8 is not None else self.gemm_compute
        if dtype == "fp4":
            return self.gemm_compute_fp4 if self.gemm_compute_fp4 is not None else fp8
        return fp8 if dtype == "fp8" else self.gemm_compute


class CatalogSpec(_Strict):
    """What every catalog entry has: a name (its key) and other names that resolve to it."""

    name: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)


PowerFraction = Annotated[float, _AS_NUMBER, Field(gt=0, le=1)]


class ServingPower(_Strict):
    """Measured average board power per GPU while an engine serves (decode-heavy, continuous
    batching), as a fraction of the profile's tdp_watts; the TDP stays the upper bound.

    `fraction_of_tdp` is what energy figures use; `low` and `high` the measured runs' spread
    (interquartile range) and `held_out_error` the mean |error| of predicting a model's runs with
    the fraction fitted to the other models (benchmarks/bench_power.py prints all three).
    """

    fraction_of_tdp: PowerFraction
    low: PowerFraction
    high: PowerFraction
    held_out_error: Annotated[float, _AS_NUMBER, Field(ge=0, le=10)]
    runs: Annotated[int, _AS_WHOLE, Field(ge=1)]
    measured_on: str = Field(min_length=1)  # the part and setup measured
    sources: list[str] = Field(min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> ServingPower:
        if not self.low <= self.fraction_of_tdp <= self.high:
            raise ValueError(
                f"serving_power needs low <= fraction_of_tdp <= high; got {self.low:g}, "
                f"{self.fraction_of_tdp:g}, {self.high:g}"
            )
        return self


# The keys of `[peak_flops]`: the engine looks a peak up by these exact names (engine/formats.py
# COMPUTE_FORMATS; calibrate's row dtypes, fp32 for numpy), so a peak keyed 'FP8' or 'bfloat16'
# would be listed by `hardware show` and never used.
PEAK_DTYPES = ("bf16", "fp16", "fp8", "fp6", "fp4", "fp32", "tf32", "fp64", "int8")


class HardwareProfile(CatalogSpec):
    """One accelerator: dense peaks per dtype, HBM, scale-up link, power, price, sources."""

    vendor: str
    description: str = ""
    # Ranges: kinetics_cli/limits.py (generous but physical; docs/catalog.md).
    peak_flops: dict[str, Annotated[float, _AS_FLOP_RATE, _range(limits.PEAK_FLOPS)]]
    hbm_bandwidth: Annotated[float, _AS_BYTE_RATE, _range(limits.HBM_BANDWIDTH)]  # bytes/s
    hbm_capacity: Annotated[float, _AS_BYTES, _range(limits.HBM_CAPACITY)]  # bytes
    interconnect_bandwidth: Annotated[
        float, _AS_BYTE_RATE, _range(limits.INTERCONNECT_BANDWIDTH)
    ] = 0.0
    gpus_per_node: Annotated[int, _AS_WHOLE, _range(limits.GPUS_PER_NODE)] = 1
    tdp_watts: Annotated[float, _AS_WATTS, _range(limits.TDP_WATTS)] | None = None
    # USD, on-demand
    price_per_gpu_hour: Annotated[float, _AS_DOLLARS, _range(limits.PRICE_PER_GPU_HOUR)] | None = (
        None
    )
    price_source: str = ""
    sources: list[str] = Field(min_length=1)
    notes: str = ""
    calibration: Calibration | None = None
    efficiency: ServingEfficiency | None = None
    # measured serving power (None: energy at tdp_watts, the upper bound)
    serving_power: ServingPower | None = None

    @field_validator("peak_flops")
    @classmethod
    def _known_dtypes(cls, peaks: dict[str, float]) -> dict[str, float]:
        unknown = [dtype for dtype in peaks if dtype not in PEAK_DTYPES]
        if unknown:
            hints = [
                f"{dtype!r} (write {dtype.lower()!r})"
                if dtype.lower() in PEAK_DTYPES
                else repr(dtype)
                for dtype in unknown
            ]
            raise ValueError(
                f"unknown dtype {', '.join(hints)}; the keys are the lower-case names "
                f"{', '.join(PEAK_DTYPES)} (a peak under another key would never be used)"
            )
        return peaks

    @model_validator(mode="after")
    def _bf16_required(self) -> HardwareProfile:
        if "bf16" not in self.peak_flops:
            raise ValueError("peak_flops must give 'bf16' (dense FLOP/s)")
        return self

    @model_validator(mode="after")
    def _power_needs_tdp(self) -> HardwareProfile:
        if self.serving_power is not None and self.tdp_watts is None:
            raise ValueError("serving_power is a fraction of tdp_watts; give tdp_watts too")
        return self

    @property
    def serving_watts(self) -> float | None:
        """Board power per busy GPU that energy figures use: tdp_watts x the measured
        serving_power.fraction_of_tdp where the profile has one, else tdp_watts (an upper
        bound); None without tdp_watts."""
        if self.tdp_watts is None:
            return None
        if self.serving_power is None:
            return self.tdp_watts
        return self.tdp_watts * self.serving_power.fraction_of_tdp

    @property
    def power_model(self) -> str:
        """The power energy figures use, in words (printed beside them and in --json)."""
        sp = self.serving_power
        if self.tdp_watts is None:
            return f"no board power: hardware profile {self.name!r} has no tdp_watts"
        if sp is None:
            return (
                f"TDP, an upper bound: every GPU of a busy replica draws its tdp_watts "
                f"({self.tdp_watts:,.0f} W, the datasheet figure) for the whole GPU-second; no "
                f"serving-power measurement for {self.name} (measured decode-heavy serving on "
                "H100 and A100 draws 31-51% of TDP, docs/serving.md section 4)"
            )
        watts = self.tdp_watts * sp.fraction_of_tdp
        return (
            f"measured serving power: {sp.fraction_of_tdp:.2f} x tdp_watts {self.tdp_watts:,.0f} W "
            f"= {watts:.0f} W per busy GPU ({sp.measured_on}, {sp.runs} runs; the middle half "
            f"of runs {sp.low:.2f}-{sp.high:.2f} x TDP, held-out error {sp.held_out_error:.0%}); "
            f"TDP is the upper bound"
        )

    @property
    def intensity(self) -> float:
        """Arithmetic intensity I = dense peak bf16 FLOP/s / HBM bytes/s (the Kinetics constant)."""
        return self.peak_flops["bf16"] / self.hbm_bandwidth

    def peak(self, dtype: str = "bf16") -> float:
        """Dense peak FLOP/s for `dtype`; raises KeyError naming what the profile has."""
        if dtype not in self.peak_flops:
            raise KeyError(
                f"{self.name} has no {dtype} peak; it lists {', '.join(sorted(self.peak_flops))}"
            )
        return self.peak_flops[dtype]

    @property
    def calibration_note(self) -> str:
        """One line saying whether times use fitted efficiencies, and from which measurements."""
        c = self.calibration
        if c is None:
            return f"{self.name} uncalibrated: datasheet peaks at full efficiency"
        what = ", ".join(x for x in (c.backend, c.device, c.date) if x)
        source = f"; {c.source}" if c.source else ""
        return f"{self.name} calibrated ({what}{source})"

    def kernel_fit(self, kernel: str) -> KernelFit:
        """Calibrated efficiencies for `kernel`, or full efficiency when uncalibrated."""
        return self.calibration.for_kernel(kernel) if self.calibration else UNCALIBRATED


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------

Count = Annotated[int, _AS_WHOLE, Field(ge=1)]
Layers = Annotated[int, _AS_WHOLE, _range(limits.LAYERS)]
Width = Annotated[int, _AS_WHOLE, _range(limits.HIDDEN_SIZE)]
Heads = Annotated[int, _AS_WHOLE, _range(limits.HEADS)]
HeadDim = Annotated[int, _AS_WHOLE, _range(limits.HEAD_DIM)]
Experts = Annotated[int, _AS_WHOLE, _range(limits.EXPERTS)]
Rank = Annotated[int, _AS_WHOLE, _range(limits.RANK)]
MlpWidth = Annotated[int, _AS_WHOLE, _range(limits.INTERMEDIATE_SIZE)]


class Architecture(_Strict):
    """The dense backbone: what every transformer block has, plus bias and norm details."""

    # Ranges: kinetics_cli/limits.py (generous but physical; docs/catalog.md).
    layers: Layers
    hidden_size: Width
    attention_heads: Heads
    kv_heads: Heads
    head_dim: HeadDim
    intermediate_size: MlpWidth
    vocab_size: Annotated[int, _AS_WHOLE, _range(limits.VOCAB_SIZE)]
    # Longest context the model was trained or extended for (HF max_position_embeddings): prompt
    # plus generation beyond it is refused or flagged. None: unknown, nothing checked.
    max_position_embeddings: Tokens | None = None
    tie_embeddings: bool = False
    qkv_bias: bool = False  # Qwen2-style bias on q, k, v projections
    o_bias: bool = False  # bias on the output projection (gpt-oss)
    qk_norm: bool = False  # per-head RMSNorm on q and k (Qwen3)
    attention_sinks: bool = False  # one learned sink logit per head per layer (gpt-oss)
    attention_output_gate: bool = False  # q_proj also emits a sigmoid gate (Qwen3-Next)
    gated_mlp: bool = True  # SwiGLU (gate, up, down) rather than (up, down)
    weight_bytes: ElementBytes = 2.0
    # Bytes per weight of the token embedding, the LM head and the norms. Quantised checkpoints
    # narrow only the blocks' matmul weights: DeepSeek-V3's FP8 release, Qwen's -FP8 releases and
    # gpt-oss's MXFP4 one keep these in BF16.
    embedding_bytes: ElementBytes = 2.0
    kv_bytes: ElementBytes = 2.0

    @model_validator(mode="after")
    def _heads_divide(self) -> Architecture:
        if self.attention_heads % self.kv_heads:
            raise ValueError(
                f"attention_heads ({self.attention_heads}) must be a multiple of "
                f"kv_heads ({self.kv_heads})"
            )
        return self


class MoE(_Strict):
    """Routed experts replacing the MLP in every layer except `dense_layers`."""

    experts: Experts
    experts_per_token: Experts
    expert_intermediate_size: Annotated[int, _AS_WHOLE, _range((1, limits.INTERMEDIATE_SIZE[1]))]
    shared_experts: Annotated[int, _AS_WHOLE, _range(limits.SHARED_EXPERTS)] = 0
    shared_expert_intermediate_size: MlpWidth | None = None
    shared_expert_gate: bool = False  # a 1-wide sigmoid gate on the shared expert (Qwen3-Next)
    dense_layers: LayerIndices = Field(default_factory=list)
    router_bias: bool = False
    expert_bias: bool = False  # biases inside each expert (gpt-oss)
    # Bytes per routed-expert weight when experts are stored narrower than the rest (gpt-oss keeps
    # experts in MXFP4, 0.53125 B, and attention/embeddings in BF16); None = architecture.weight_bytes.
    expert_weight_bytes: ElementBytes | None = None

    @model_validator(mode="after")
    def _k_le_e(self) -> MoE:
        if self.experts_per_token > self.experts:
            raise ValueError("experts_per_token must not exceed experts")
        return self


class MLA(_Strict):
    """Multi-head latent attention (DeepSeek-V2/V3): low-rank KV latent plus a shared RoPE key."""

    kv_lora_rank: Rank
    q_lora_rank: Rank | None = None
    qk_rope_head_dim: HeadDim
    qk_nope_head_dim: HeadDim
    v_head_dim: HeadDim


class SlidingWindow(_Strict):
    """Layers whose attention sees only the last `window` tokens."""

    window: Tokens
    layers: LayerIndices = Field(min_length=1)


class LinearAttention(_Strict):
    """Linear-attention layers (Gated DeltaNet style) in hybrid models: a fixed-size state."""

    layers: LayerIndices = Field(min_length=1)
    key_heads: Heads
    value_heads: Heads
    key_head_dim: HeadDim
    value_head_dim: HeadDim
    conv_kernel: Annotated[int, _AS_WHOLE, _range(limits.CONV_KERNEL)] = 4
    state_bytes: ElementBytes = 4.0  # bytes per recurrent-state element (fp32 in practice)
    # Bytes per element of the short convolution's state: the last conv_kernel - 1 inputs of each
    # q, k and v channel, kept at the model's activation width (bf16) by vLLM and SGLang.
    conv_state_bytes: ElementBytes = 2.0

    @property
    def conv_channels(self) -> int:
        """Channels the causal convolution runs over: q and k (key heads) and v (value heads)."""
        return 2 * self.key_heads * self.key_head_dim + self.value_heads * self.value_head_dim

    @property
    def conv_state_bytes_per_layer(self) -> float:
        """One sequence's convolution state in one layer: (conv_kernel - 1) x channels x bytes."""
        return (self.conv_kernel - 1) * self.conv_channels * self.conv_state_bytes


# Relative distance within which derived parameter counts agree with a card's [published]
# figures: every bundled card is within it (tests/test_catalog_data.py); publishers round to two
# or three significant figures (Qwen3-8B "8.2B" for 8.191B derived, 0.1%).
PUBLISHED_TOLERANCE = 0.02


class PublishedFigures(_Strict):
    """Figures the model's publisher states, to check the derived counts against."""

    total_params: PositiveCount | None = None
    non_embedding_params: PositiveCount | None = None
    active_params: PositiveCount | None = None
    active_counts_embedding: bool = True  # publishers' "activated" usually includes the embedding
    source: str


AttentionKind = Literal["full", "sliding", "linear"]


@dataclass(frozen=True)
class AttentionGroup:
    """Layers that share one attention shape, in the terms the cost model needs.

    Per layer and per attended token: score compute 2 * q_heads * qk_head_dim, value compute
    2 * q_heads * v_head_dim; the cache holds kv_elements_per_token elements, of which
    key_elements_per_token are keys (what a block summary is built from).
    """

    kind: AttentionKind
    layers: int
    q_heads: int
    kv_heads: int
    qk_head_dim: int
    v_head_dim: int
    kv_elements_per_token: int
    key_elements_per_token: int
    window: float | None = None  # sliding layers: tokens kept
    state_elements: int = 0  # linear layers: recurrent state per sequence
    conv_state_bytes: float = 0.0  # linear layers: short-convolution state per sequence (bytes)
    # Head dims of prefill kernels, where they differ from decode (MLA prefill runs in the
    # non-absorbed form: d_nope + d_rope scores, d_v values); 0 means the decode dims.
    prefill_qk_head_dim: int = 0
    prefill_v_head_dim: int = 0

    def __post_init__(self) -> None:
        if not self.prefill_qk_head_dim:
            object.__setattr__(self, "prefill_qk_head_dim", self.qk_head_dim)
        if not self.prefill_v_head_dim:
            object.__setattr__(self, "prefill_v_head_dim", self.v_head_dim)


@dataclass(frozen=True)
class LayerParams:
    """Parameter counts of one layer, split by the operator that reads them."""

    attention: float  # projections (q, k, v, o, MLA down/up), their biases and sinks
    mlp_total: float  # dense MLP, or every expert (routed and shared) plus router
    mlp_active: float  # what one token reads: dense MLP, or k routed + shared experts + router
    router: float
    norms: float


class ModelCard(CatalogSpec):
    """One model: architecture, variants (MoE, MLA, sliding window, linear attention), sources."""

    family: str
    hf_id: str = ""
    description: str = ""
    sources: list[str] = Field(min_length=1)
    architecture: Architecture
    moe: MoE | None = None
    mla: MLA | None = None
    sliding_window: SlidingWindow | None = None
    linear_attention: LinearAttention | None = None
    published: PublishedFigures | None = None

    @model_validator(mode="after")
    def _layer_indices(self) -> ModelCard:
        n = self.architecture.layers
        for label, layers in (
            ("moe.dense_layers", self.moe.dense_layers if self.moe else []),
            ("sliding_window.layers", self.sliding_window.layers if self.sliding_window else []),
            (
                "linear_attention.layers",
                self.linear_attention.layers if self.linear_attention else [],
            ),
        ):
            bad = [i for i in layers if not 0 <= i < n]
            if bad:
                raise ValueError(f"{label}: layer indices {bad} outside 0..{n - 1}")
            if len(set(layers)) != len(layers):
                raise ValueError(f"{label}: repeated layer indices")
        if self.sliding_window and self.linear_attention:
            both = set(self.sliding_window.layers) & set(self.linear_attention.layers)
            if both:
                raise ValueError(f"layers {sorted(both)} are both sliding-window and linear")
        if self.mla and (self.sliding_window or self.linear_attention):
            raise ValueError("MLA together with sliding-window or linear layers is not modelled")
        return self

    # ---- layer structure -------------------------------------------------------------------

    def layer_kind(self, index: int) -> AttentionKind:
        """'full', 'sliding' or 'linear' for layer `index`."""
        if self.linear_attention and index in self.linear_attention.layers:
            return "linear"
        if self.sliding_window and index in self.sliding_window.layers:
            return "sliding"
        return "full"

    def is_moe_layer(self, index: int) -> bool:
        return self.moe is not None and index not in self.moe.dense_layers

    @cached_property  # frozen model: derived once (the serving model asks per candidate)
    def moe_layer_count(self) -> int:
        """Layers whose MLP is a mixture of experts."""
        return sum(self.is_moe_layer(i) for i in range(self.architecture.layers))

    # ---- parameters --------------------------------------------------------------------------

    def _attention_params(self, kind: AttentionKind) -> float:
        a = self.architecture
        h = a.hidden_size
        if kind == "linear":
            la = self.linear_attention
            assert la is not None
            key_dim = la.key_heads * la.key_head_dim
            value_dim = la.value_heads * la.value_head_dim
            qkvz = h * (2 * key_dim + 2 * value_dim)  # q, k, v and the output gate z
            ba = h * 2 * la.value_heads  # beta and decay gates
            conv = (2 * key_dim + value_dim) * la.conv_kernel
            per_head = 2 * la.value_heads  # A_log and dt_bias
            norm = la.value_head_dim
            out = value_dim * h
            return float(qkvz + ba + conv + per_head + norm + out)
        if self.mla is not None:
            m = self.mla
            qk_dim = m.qk_nope_head_dim + m.qk_rope_head_dim
            heads = a.attention_heads
            if m.q_lora_rank:
                q = h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * heads * qk_dim
            else:
                q = h * heads * qk_dim
            kv_down = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank
            kv_up = m.kv_lora_rank * heads * (m.qk_nope_head_dim + m.v_head_dim)
            o = heads * m.v_head_dim * h
            return float(q + kv_down + kv_up + o)
        q_width = a.attention_heads * a.head_dim * (2 if a.attention_output_gate else 1)
        kv_width = a.kv_heads * a.head_dim
        params = h * q_width + 2 * h * kv_width + a.attention_heads * a.head_dim * h
        if a.qkv_bias:
            params += q_width + 2 * kv_width
        if a.o_bias:
            params += h
        if a.qk_norm:
            params += 2 * a.head_dim
        if a.attention_sinks:
            params += a.attention_heads
        return float(params)

    def _mlp_params(self, width: int, bias: bool = False) -> float:
        h = self.architecture.hidden_size
        mats = 3 if self.architecture.gated_mlp else 2
        params = mats * h * width
        if bias:
            params += (mats - 1) * width + h
        return float(params)

    def layer_params(self, index: int) -> LayerParams:
        """Parameter counts of layer `index`, split by operator (kept per index: the serving
        model asks for the same layers once per candidate deployment)."""
        memo = self._layer_params_memo
        if index not in memo:
            memo[index] = self._layer_params(index)
        return memo[index]

    @cached_property  # frozen model: a per-instance memo of layer_params
    def _layer_params_memo(self) -> dict[int, LayerParams]:
        return {}

    def _layer_params(self, index: int) -> LayerParams:
        a = self.architecture
        attention = self._attention_params(self.layer_kind(index))
        norms = 2.0 * a.hidden_size
        if not self.is_moe_layer(index):
            mlp = self._mlp_params(a.intermediate_size)
            return LayerParams(attention, mlp, mlp, 0.0, norms)
        moe = self.moe
        assert moe is not None
        expert = self._mlp_params(moe.expert_intermediate_size, moe.expert_bias)
        shared_width = moe.shared_expert_intermediate_size or moe.expert_intermediate_size
        shared = moe.shared_experts * self._mlp_params(shared_width)
        if moe.shared_expert_gate:
            shared += a.hidden_size
        router = a.hidden_size * moe.experts + (moe.experts if moe.router_bias else 0)
        total = moe.experts * expert + shared + router
        active = moe.experts_per_token * expert + shared + router
        return LayerParams(attention, float(total), float(active), float(router), norms)

    @property
    def embedding_params(self) -> float:
        """The token-embedding table (vocab x hidden); the LM head has the same shape."""
        return float(self.architecture.vocab_size * self.architecture.hidden_size)

    @cached_property  # frozen model: derived once (cached_property needs pydantic >= 2.6)
    def total_params(self) -> float:
        """Every stored parameter: embeddings, layers, norms, and the LM head unless tied."""
        a = self.architecture
        layers = sum(
            p.attention + p.mlp_total + p.norms
            for p in (self.layer_params(i) for i in range(a.layers))
        )
        head = 0.0 if a.tie_embeddings else self.embedding_params
        return self.embedding_params + layers + a.hidden_size + head

    @property
    def non_embedding_params(self) -> float:
        """Total minus the embedding table and the (untied) LM head, as Qwen's cards count it."""
        head = 0.0 if self.architecture.tie_embeddings else self.embedding_params
        return self.total_params - self.embedding_params - head

    @cached_property  # frozen model: derived once
    def embedding_and_norm_params(self) -> float:
        """The embedding table, the LM head unless tied, and the norms' weights: what quantised
        checkpoints keep at embedding_bytes."""
        a = self.architecture
        head = 0.0 if a.tie_embeddings else self.embedding_params
        norms = sum(self.layer_params(i).norms for i in range(a.layers)) + a.hidden_size
        return self.embedding_params + head + norms

    @cached_property  # frozen model: derived once
    def active_params(self) -> float:
        """Parameters in every matmul one token passes through, LM head included, embedding not."""
        a = self.architecture
        layers = sum(
            p.attention + p.mlp_active for p in (self.layer_params(i) for i in range(a.layers))
        )
        return layers + self.embedding_params

    def published_comparison(self) -> list[tuple[str, float, float]]:
        """(figure, derived, published) for each count the [published] table states, like
        compared with like: a publisher's "activated" count includes the input embedding unless
        `active_counts_embedding = false` (derived active_params leaves it out)."""
        p = self.published
        if p is None:
            return []
        active = self.active_params + (self.embedding_params if p.active_counts_embedding else 0)
        pairs = (
            ("total_params", self.total_params, p.total_params),
            ("non_embedding_params", self.non_embedding_params, p.non_embedding_params),
            ("active_params", active, p.active_params),
        )
        return [(name, derived, float(stated)) for name, derived, stated in pairs if stated]

    def published_mismatches(self, tolerance: float = PUBLISHED_TOLERANCE) -> list[str]:
        """One clause per published count the derived one misses by more than `tolerance`
        (relative): a shape field mistyped, or figures copied from another model."""
        return [
            f"{name} derived {derived:,.0f}, published {stated:,.0f} ({derived / stated - 1:+.1%})"
            for name, derived, stated in self.published_comparison()
            if abs(derived / stated - 1) > tolerance
        ]

    # ---- attention and KV cache ------------------------------------------------------------

    def attention_groups(self) -> list[AttentionGroup]:
        """Layers grouped by attention shape; MLA decode is counted in its absorbed (cached-latent)
        form, MLA prefill in the non-absorbed form (per-head keys and values)."""
        return list(self._attention_groups)

    @cached_property  # frozen model: derived once
    def _attention_groups(self) -> tuple[AttentionGroup, ...]:
        a = self.architecture
        kinds = [self.layer_kind(i) for i in range(a.layers)]
        groups: list[AttentionGroup] = []
        for kind in ("full", "sliding", "linear"):
            count = kinds.count(kind)  # type: ignore[arg-type]
            if not count:
                continue
            if kind == "linear":
                la = self.linear_attention
                assert la is not None
                state = la.value_heads * la.key_head_dim * la.value_head_dim
                groups.append(
                    AttentionGroup(
                        kind="linear",
                        layers=count,
                        q_heads=la.value_heads,
                        kv_heads=la.key_heads,
                        qk_head_dim=la.key_head_dim,
                        v_head_dim=la.value_head_dim,
                        kv_elements_per_token=0,
                        key_elements_per_token=0,
                        state_elements=state,
                        conv_state_bytes=la.conv_state_bytes_per_layer,
                    )
                )
            elif self.mla is not None:
                m = self.mla
                latent = m.kv_lora_rank + m.qk_rope_head_dim
                groups.append(
                    AttentionGroup(
                        kind="full",
                        layers=count,
                        q_heads=a.attention_heads,
                        kv_heads=1,
                        qk_head_dim=latent,
                        v_head_dim=m.kv_lora_rank,
                        kv_elements_per_token=latent,
                        key_elements_per_token=latent,
                        prefill_qk_head_dim=m.qk_nope_head_dim + m.qk_rope_head_dim,
                        prefill_v_head_dim=m.v_head_dim,
                    )
                )
            else:
                window = (
                    float(self.sliding_window.window)
                    if kind == "sliding" and self.sliding_window
                    else None
                )
                groups.append(
                    AttentionGroup(
                        kind=kind,  # type: ignore[arg-type]
                        layers=count,
                        q_heads=a.attention_heads,
                        kv_heads=a.kv_heads,
                        qk_head_dim=a.head_dim,
                        v_head_dim=a.head_dim,
                        kv_elements_per_token=2 * a.kv_heads * a.head_dim,
                        key_elements_per_token=a.kv_heads * a.head_dim,
                        window=window,
                    )
                )
        return tuple(groups)

    @property
    def kv_bytes_per_token(self) -> float:
        """KV-cache bytes each token adds in layers whose cache grows with the context."""
        kv = self.architecture.kv_bytes
        return sum(
            g.layers * g.kv_elements_per_token * kv
            for g in self.attention_groups()
            if g.kind == "full"
        )

    @property
    def sliding_kv_bytes_per_token(self) -> float:
        """KV bytes per token in sliding-window layers (held for at most `window` tokens)."""
        kv = self.architecture.kv_bytes
        return sum(
            g.layers * g.kv_elements_per_token * kv
            for g in self.attention_groups()
            if g.kind == "sliding"
        )

    @property
    def state_bytes_per_sequence(self) -> float:
        """Fixed bytes per sequence in linear-attention layers: the recurrent state and the short
        convolution's state."""
        if self.linear_attention is None:
            return 0.0
        return sum(
            g.layers * (g.state_elements * self.linear_attention.state_bytes + g.conv_state_bytes)
            for g in self.attention_groups()
            if g.kind == "linear"
        )

    def kv_cache_bytes(self, context: float) -> float:
        """Cache bytes of one sequence holding `context` tokens, all layer kinds included."""
        window = self.sliding_window.window if self.sliding_window else 0
        return (
            self.kv_bytes_per_token * context
            + self.sliding_kv_bytes_per_token * min(context, window)
            + self.state_bytes_per_sequence
        )

    @property
    def expert_weight_bytes(self) -> float:
        """Bytes per routed-expert weight (the card's weight width unless experts differ)."""
        if self.moe is not None and self.moe.expert_weight_bytes is not None:
            return self.moe.expert_weight_bytes
        return self.architecture.weight_bytes

    @property
    def routed_expert_params(self) -> float:
        """Parameters of all routed experts (stored at expert_weight_bytes)."""
        moe = self.moe
        if moe is None:
            return 0.0
        expert = self._mlp_params(moe.expert_intermediate_size, moe.expert_bias)
        moe_layers = self.architecture.layers - len(moe.dense_layers)
        return moe_layers * moe.experts * expert

    @property
    def weight_bytes(self) -> float:
        """Bytes of all stored weights: routed experts at their width, embeddings, LM head and
        norms at embedding_bytes, the rest at weight_bytes."""
        a = self.architecture
        experts = self.routed_expert_params
        kept = self.embedding_and_norm_params
        return (
            (self.total_params - experts - kept) * a.weight_bytes
            + kept * a.embedding_bytes
            + experts * self.expert_weight_bytes
        )

    @property
    def attention_kind_summary(self) -> str:
        """'GQA 32/8', 'MLA', 'MHA', 'MQA', with sliding/linear layer counts."""
        a = self.architecture
        if self.mla:
            base = "MLA"
        elif a.kv_heads == a.attention_heads:
            base = "MHA"
        elif a.kv_heads == 1:
            base = "MQA"
        else:
            base = f"GQA {a.attention_heads}/{a.kv_heads}"
        if self.sliding_window:
            base += f" + {len(self.sliding_window.layers)} sliding({self.sliding_window.window})"
        if self.linear_attention:
            base += f" + {len(self.linear_attention.layers)} linear"
        return base
