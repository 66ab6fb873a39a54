"""Number formats per tensor kind: bytes per element (block scales included), each with its
definition, and the compute peak a matmul on them runs at."""

from __future__ import annotations

from dataclasses import dataclass

from kinetics_cli.errors import InputError


@dataclass(frozen=True)
class NumberFormat:
    """A storage format: effective bytes per element (block scales included), and the profile
    peak a matmul whose inputs are in this format runs at."""

    name: str
    bytes: float
    peak: str
    source: str


FORMATS: dict[str, NumberFormat] = {
    "bf16": NumberFormat("bf16", 2.0, "bf16", "16-bit brain float"),
    "fp16": NumberFormat("fp16", 2.0, "bf16", "16-bit IEEE half (same tensor-core rate as bf16)"),
    "fp8": NumberFormat(
        "fp8",
        1.0,
        "fp8",
        "E4M3 with per-tensor or per-channel scales (negligible); 128x128 block scales add "
        "1 byte per 16,384 weights",
    ),
    "mxfp4": NumberFormat(
        "mxfp4",
        4.25 / 8,
        "fp4",
        "OCP Microscaling (MX) Formats v1.0: FP4 E2M1 elements, one shared 8-bit E8M0 scale per "
        "block of 32 -> 4 + 8/32 = 4.25 bits per weight",
    ),
    "nvfp4": NumberFormat(
        "nvfp4",
        4.5 / 8,
        "fp4",
        "NVIDIA NVFP4 (developer.nvidia.com/blog/introducing-nvfp4-for-efficient-and-accurate-"
        "low-precision-inference): FP4 E2M1 elements, one FP8 E4M3 scale per block of 16 (plus "
        "one FP32 scale per tensor) -> 4 + 8/16 = 4.5 bits per weight",
    ),
}
FORMAT_ALIASES = {"fp4": "nvfp4", "float8": "fp8", "e4m3": "fp8"}
WEIGHT_FORMATS = ("bf16", "fp16", "fp8", "mxfp4", "nvfp4", "fp4")
KV_FORMATS = ("bf16", "fp16", "fp8")
ACTIVATION_FORMATS = ("bf16", "fp16", "fp8")
COMPUTE_FORMATS = ("bf16", "fp8", "fp4")


def number_format(name: str, part: str, allowed: tuple[str, ...]) -> NumberFormat:
    """The format `name` for tensor kind `part`; InputError naming the choices otherwise."""
    key = FORMAT_ALIASES.get(name.lower(), name.lower())
    if name.lower() not in allowed and key not in allowed:
        raise InputError(f"unknown {part} format {name!r}; choose one of {', '.join(allowed)}")
    return FORMATS[key]
