"""The kernels calibration times: their shapes, FLOPs and bytes, and the decode layer they compose.

Five kernel classes (specs.KERNEL_CLASSES): `gemm`, `stream` (a device copy), dense and block
top-k decode attention over a paged KV cache, and `decode_step`, one decode step of a small
transformer layer built from the other four and timed end to end. Every FLOP and byte comes from
engine.operators, the accounting the roofline and the eFLOPs law share; the backends implement
the kernels, this module says what they compute and what that costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kinetics_cli.engine.operators import (
    OpCost,
    attention_decode,
    block_search,
    elementwise,
    gemm,
    matmul,
    stream,
)
from kinetics_cli.errors import InputError

DTYPE_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0}
MICRO_KERNELS = ("gemm", "stream", "attention_decode_dense", "attention_decode_blocktopk")
COMPOSITE = "decode_step"
ATTENTION_SHAPE = ("batch", "context", "q_heads", "kv_heads", "head_dim", "page_size")
SHAPE_KEYS: dict[str, tuple[str, ...]] = {
    "gemm": ("m", "n", "k"),
    "stream": ("bytes",),
    "attention_decode_dense": ATTENTION_SHAPE,
    "attention_decode_blocktopk": (*ATTENTION_SHAPE, "top_pages", "window"),
    "decode_step": (*ATTENTION_SHAPE, "hidden", "intermediate", "attention"),
}
DECODE_ATTENTIONS = ("dense", "block-topk")
ShapeValue = int | str
MAX_SHAPE = (
    2**40
)  # the largest shape parameter a row may give (a 1 TiB copy; no real shape nears it)


def show(value: object) -> str:
    """A value as an error message quotes it: short, whatever it is (an integer of hundreds of
    digits is described, not printed)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**18:
        return f"an integer of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Case:
    """One kernel at one shape: what a measurement row times."""

    kernel: str
    shape: Mapping[str, ShapeValue] = field(default_factory=dict)

    def label(self) -> str:
        return f"{self.kernel} " + " ".join(f"{k}={v}" for k, v in self.shape.items())


@dataclass(frozen=True)
class Operator:
    """One kernel call inside a case: its calibration class and its cost."""

    name: str
    kernel: str
    cost: OpCost


def check_shape(kernel: str, shape: Mapping[str, object]) -> str | None:
    """What is wrong with `shape` for `kernel` (None when it is complete and consistent).

    A key the kernel does not take is refused rather than ignored, so a row cannot carry a
    parameter that looks meaningful but changes nothing; the consistency checks only ever read
    keys that were validated first.
    """
    if kernel not in SHAPE_KEYS:
        return f"unknown kernel {kernel!r}; expected one of {', '.join(SHAPE_KEYS)}"
    needed = list(SHAPE_KEYS[kernel])
    optional: list[str] = []
    if kernel == COMPOSITE:
        sparse = shape.get("attention") == "block-topk"
        (needed if sparse else optional).extend(["top_pages", "window"])
    allowed = needed + optional
    for key in shape:
        if key not in allowed:
            return f"shape.{key} is not a parameter of {kernel} (expected {', '.join(allowed)})"
    for key in needed + [k for k in optional if k in shape]:
        if key not in shape:
            return f"shape.{key} is missing"
        value = shape[key]
        if key == "attention":
            if value not in DECODE_ATTENTIONS:
                return f"shape.attention must be one of {', '.join(DECODE_ATTENTIONS)}"
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SHAPE:
            return f"shape.{key} must be a whole number from 0 to 2**40 (got {show(value)})"
        if value == 0 and key != "window":
            return f"shape.{key} must be positive"
    # Every key read below is allowed for this kernel, so it passed the checks above.
    if "q_heads" in shape and shape["q_heads"] % shape["kv_heads"]:  # type: ignore[operator]
        return "shape.q_heads must be a multiple of shape.kv_heads"
    if "page_size" in shape:
        for key in ("context", "window"):
            if key in shape and shape[key] % shape["page_size"]:  # type: ignore[operator]
                return f"shape.{key} must be a multiple of shape.page_size"
    return None


def attended_tokens(shape: Mapping[str, ShapeValue]) -> int:
    """Tokens one query attends to: the whole context, or top pages plus the local window."""
    context = int(shape["context"])
    if not _sparse(shape):
        return context
    return min(context, int(shape["top_pages"]) * int(shape["page_size"]) + int(shape["window"]))


def _sparse(shape: Mapping[str, ShapeValue]) -> bool:
    return "top_pages" in shape and shape.get("attention", "block-topk") == "block-topk"


def searches(shape: Mapping[str, ShapeValue]) -> bool:
    """Block top-k scores page summaries only when the budget is short of the context."""
    return _sparse(shape) and attended_tokens(shape) < int(shape["context"])


def attention_cost(shape: Mapping[str, ShapeValue], elem_bytes: float) -> OpCost:
    """Decode attention of `batch` queries over a paged cache (operators.attention_decode), plus
    the page-summary scoring of block top-k (operators.block_search) when it searches."""
    b, hq, hkv, d = (int(shape[k]) for k in ("batch", "q_heads", "kv_heads", "head_dim"))
    cost = attention_decode(
        b, hq, d, d, 2 * hkv * d, attended_tokens(shape), kv_bytes=elem_bytes, act_bytes=elem_bytes
    )
    if searches(shape):
        cost = cost + block_search(
            b, hq, d, hkv * d, int(shape["context"]), int(shape["page_size"]), kv_bytes=elem_bytes
        )
    return cost


def decode_layer_operators(shape: Mapping[str, ShapeValue], elem_bytes: float) -> list[Operator]:
    """The kernel calls of one decode step of a pre-norm SwiGLU layer, in the order they run.

    x (batch x hidden) -> RMSNorm -> QKV projection -> cache write -> attention -> output
    projection -> residual add -> RMSNorm -> gate/up projection -> SiLU(gate) * up -> down
    projection -> residual add.
    """
    b, h, inter = int(shape["batch"]), int(shape["hidden"]), int(shape["intermediate"])
    hq, hkv, d = int(shape["q_heads"]), int(shape["kv_heads"]), int(shape["head_dim"])
    e = elem_bytes
    attention_class = (
        "attention_decode_blocktopk"
        if shape["attention"] == "block-topk"
        else "attention_decode_dense"
    )
    norm = elementwise(b * h, inputs=1, outputs=1, flops_per_element=4.0, elem_bytes=e)
    residual = elementwise(b * h, inputs=2, outputs=1, elem_bytes=e)
    return [
        Operator("attention norm", "stream", norm),
        Operator(
            "qkv projection", "gemm", matmul(b, h, (hq + 2 * hkv) * d, weight_bytes=e, act_bytes=e)
        ),
        Operator(
            "cache write",
            "stream",
            elementwise(2 * b * hkv * d, flops_per_element=0.0, elem_bytes=e),
        ),
        Operator("attention", attention_class, attention_cost(shape, e)),
        Operator("output projection", "gemm", matmul(b, hq * d, h, weight_bytes=e, act_bytes=e)),
        Operator("attention residual", "stream", residual),
        Operator("mlp norm", "stream", norm),
        Operator(
            "gate/up projection", "gemm", matmul(b, h, 2 * inter, weight_bytes=e, act_bytes=e)
        ),
        Operator(
            "activation",
            "stream",
            elementwise(b * inter, inputs=2, flops_per_element=5.0, elem_bytes=e),
        ),
        Operator("down projection", "gemm", matmul(b, inter, h, weight_bytes=e, act_bytes=e)),
        Operator("mlp residual", "stream", residual),
    ]


def operators(kernel: str, shape: Mapping[str, ShapeValue], dtype: str) -> list[Operator]:
    """The kernel calls one measurement row times, each with its class and cost."""
    problem = check_shape(kernel, shape)
    if problem:
        raise InputError(f"{kernel}: {problem}")
    if dtype not in DTYPE_BYTES:
        raise InputError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPE_BYTES)}")
    e = DTYPE_BYTES[dtype]
    if kernel == "gemm":
        m, n, k = (int(shape[x]) for x in ("m", "n", "k"))
        return [Operator("gemm", "gemm", gemm(m, n, k, elem_bytes=e))]
    if kernel == "stream":
        return [Operator("copy", "stream", stream(int(shape["bytes"])))]
    if kernel == COMPOSITE:
        return decode_layer_operators(shape, e)
    return [Operator("attention", kernel, attention_cost(shape, e))]


def cost(kernel: str, shape: Mapping[str, ShapeValue], dtype: str) -> OpCost:
    """FLOPs and bytes of one row: the sum over its operators."""
    total = OpCost(0.0, 0.0)
    for op in operators(kernel, shape, dtype):
        total = total + op.cost
    return total


# ---------------------------------------------------------------------------------------------
# What a run times
# ---------------------------------------------------------------------------------------------

# The attention and MLP of Qwen3-0.6B (16 query heads, 8 KV heads of 128, hidden 1024, MLP 3072;
# github.com/AI-Hypercomputer/maxtext@e591f30 src/maxtext/configs/models/qwen3-0.6b.yml), the
# model of the paper's block top-k throughput figures; pages of 16 tokens and 64 top pages as in
# the Kinetics benchmark (github.com/Infini-AI-Lab/Kinetics@af7fa57 benchmark/README.md), plus a
# local window of 4 pages.
LAYER: dict[str, ShapeValue] = {"q_heads": 16, "kv_heads": 8, "head_dim": 128, "page_size": 16}
MLP: dict[str, ShapeValue] = {"hidden": 1024, "intermediate": 3072}
BLOCK: dict[str, ShapeValue] = {"top_pages": 64, "window": 64}
# Other GQA groupings, so that attention rows reach higher FLOPs per byte.
WIDE_GROUPS: tuple[dict[str, ShapeValue], ...] = (
    {"q_heads": 32, "kv_heads": 4, "head_dim": 128, "page_size": 16},
    {"q_heads": 64, "kv_heads": 1, "head_dim": 128, "page_size": 16},
)
KIB, MIB = 1 << 10, 1 << 20


def _gemms(every: tuple[int, ...], cycled: tuple[int, ...]) -> list[Case]:
    """m x (k -> n) products over the layer's four projections (n, k): QKV, output, gate/up and
    down; each projection at every m of `every`, then one projection per m of `cycled`."""
    h, i = int(MLP["hidden"]), int(MLP["intermediate"])
    hq, hkv, d = (int(LAYER[k]) for k in ("q_heads", "kv_heads", "head_dim"))
    widths = (((hq + 2 * hkv) * d, h), (h, hq * d), (2 * i, h), (h, i))
    ms = [m for m in every for _ in widths] + list(cycled)
    return [
        Case("gemm", {"m": m, "n": widths[j % 4][0], "k": widths[j % 4][1]})
        for j, m in enumerate(ms)
    ]


def _attention(kernel: str, batch: int, context: int, group: dict[str, ShapeValue]) -> Case:
    shape: dict[str, ShapeValue] = {"batch": batch, "context": context, **group}
    if kernel == "attention_decode_blocktopk":
        shape.update(BLOCK)
    return Case(kernel, shape)


def _decode_steps(configs: tuple[tuple[int, int], ...]) -> list[Case]:
    cases = []
    for batch, context in configs:
        for attention in DECODE_ATTENTIONS:
            shape: dict[str, ShapeValue] = {"batch": batch, "context": context, **LAYER, **MLP}
            shape["attention"] = attention
            if attention == "block-topk":
                shape.update(BLOCK)
            cases.append(Case(COMPOSITE, shape))
    return cases


ATTENTIONS = ("attention_decode_dense", "attention_decode_blocktopk")


def plan(*, quick: bool = True, gpu: bool = False) -> list[Case]:
    """The cases of a run, micro-kernels first, the held-out decode steps last.

    Micro-kernels span both regimes of each class: gemm over the layer's projections from m = 2
    (weight-bound, as in decode) to m = 512 and a square 1024 (compute-bound), plus two small
    ones for the per-call overhead (m = 1 is left out: BLAS routes it to GEMV, another kernel);
    copies from 4 KiB (overhead) to 256 MiB (far beyond any CPU cache); attention over 2 Ki to
    16 Ki tokens at batch 1 to 8, plus two wider GQA groupings. The decode steps (batch 3 and 6,
    6 Ki and 10 Ki tokens) use attention shapes no micro row has. `gpu` adds sizes only a GPU
    times in reasonable time; every CPU shape is timed on a GPU too.
    """
    sizes: tuple[int, ...]
    if quick:
        cases = _gemms((2, 3, 4, 6, 8), (16, 32, 64, 128, 256, 512))
        sizes = (4 * KIB, 64 * KIB, MIB, 8 * MIB, 64 * MIB, 256 * MIB)
        grid = [(1, 2048), (1, 8192), (2, 4096), (2, 16384), (4, 2048), (4, 8192), (8, 4096)]
        grid += [(8, 8192)]
    else:
        cases = _gemms((2, 3, 4, 6, 8, 12, 16), (24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768))
        sizes = tuple(s * KIB for s in (4, 16, 64, 256)) + tuple(
            s * MIB for s in (1, 4, 8, 16, 32, 64, 128, 256)
        )
        grid = [(b, c) for b in (1, 2, 4, 8) for c in (2048, 4096, 8192, 16384)]
    cases += [
        Case("gemm", {"m": 1024, "n": 1024, "k": 1024}),
        Case("gemm", {"m": 2, "n": 256, "k": 256}),
        Case("gemm", {"m": 8, "n": 512, "k": 256}),
    ]
    cases += [Case("stream", {"bytes": s}) for s in sizes]
    for kernel in ATTENTIONS:
        cases += [_attention(kernel, b, c, LAYER) for b, c in grid]
        cases += [_attention(kernel, 4, 4096, group) for group in WIDE_GROUPS]
    cases.append(_attention("attention_decode_dense", 1, 256, LAYER))
    if gpu:
        cases += [Case("gemm", {"m": m, "n": 8192, "k": 8192}) for m in (16, 64, 256, 1024, 4096)]
        cases += [Case("stream", {"bytes": s}) for s in (1 << 30, 4 << 30)]
        for kernel in ATTENTIONS:
            cases += [
                _attention(kernel, b, c, LAYER)
                for b, c in ((16, 16384), (32, 8192), (64, 16384), (128, 8192), (128, 32768))
            ]
    cases += _decode_steps(((3, 6144), (6, 10240)))
    if gpu:
        cases += _decode_steps(((48, 12288), (96, 6144)))
    return cases
