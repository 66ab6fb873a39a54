"""A tiny hand-written catalog (two accelerators, six model shapes) for the cost-model tests.

Round numbers so golden values can be derived by hand: the GPU has 1000 FLOP/s of bf16 and
10 bytes/s of HBM (I = 100), the models a handful of layers of small widths.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kinetics_cli.specs import HardwareProfile, ModelCard

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

HARDWARE = {
    "tiny-gpu.toml": """
name = "tiny-gpu"
vendor = "test"
hbm_bandwidth = 10.0
hbm_capacity = 1.0e6
interconnect_bandwidth = 5.0
gpus_per_node = 4
sources = ["hand-written test profile"]

[peak_flops]
bf16 = 1000.0
fp8 = 2000.0
""",
    "tiny-calibrated.toml": """
name = "tiny-calibrated"
vendor = "test"
hbm_bandwidth = 10.0
hbm_capacity = 1.0e6
sources = ["hand-written test profile"]

[peak_flops]
bf16 = 1000.0

[calibration]
compute_efficiency = 0.5
bandwidth_efficiency = 0.8

[calibration.kernels.gemm]
compute_efficiency = 0.25
bandwidth_efficiency = 0.5

[calibration.kernels.attention_decode_dense]
compute_efficiency = 0.5
bandwidth_efficiency = 0.5
""",
}

MODELS = {
    # Plain GQA: 2 layers, 4 query heads / 2 KV heads of dim 8 -> h = 2*4*8 = 64, d = 2*2*8 = 32.
    "tiny-gqa.toml": """
name = "tiny-gqa"
family = "tiny"
sources = ["hand-written test card"]

[architecture]
layers = 2
hidden_size = 32
attention_heads = 4
kv_heads = 2
head_dim = 8
intermediate_size = 64
vocab_size = 100
""",
    "tiny-big.toml": """
name = "tiny-big"
family = "tiny"
sources = ["hand-written test card"]

[architecture]
layers = 4
hidden_size = 64
attention_heads = 8
kv_heads = 2
head_dim = 8
intermediate_size = 256
vocab_size = 100
""",
    "tiny-moe.toml": """
name = "tiny-moe"
family = "tiny"
sources = ["hand-written test card"]

[architecture]
layers = 3
hidden_size = 32
attention_heads = 4
kv_heads = 2
head_dim = 8
intermediate_size = 64
vocab_size = 100

[moe]
experts = 8
experts_per_token = 2
expert_intermediate_size = 16
shared_experts = 1
dense_layers = [0]
""",
    "tiny-mla.toml": """
name = "tiny-mla"
family = "tiny"
sources = ["hand-written test card"]

[architecture]
layers = 2
hidden_size = 32
attention_heads = 4
kv_heads = 4
head_dim = 8
intermediate_size = 64
vocab_size = 100

[mla]
kv_lora_rank = 16
qk_rope_head_dim = 4
qk_nope_head_dim = 8
v_head_dim = 8
""",
    "tiny-hybrid.toml": """
name = "tiny-hybrid"
family = "tiny"
sources = ["hand-written test card"]

[architecture]
layers = 4
hidden_size = 32
attention_heads = 4
kv_heads = 2
head_dim = 8
intermediate_size = 64
vocab_size = 100

[sliding_window]
window = 100
layers = [0]

[linear_attention]
layers = [1, 2]
key_heads = 2
value_heads = 4
key_head_dim = 8
value_head_dim = 8
""",
}


def write_catalog(root: Path) -> Path:
    """Write the tiny catalog under `root` (hardware_profiles/, model_cards/) and return it."""
    for sub, files in (("hardware_profiles", HARDWARE), ("model_cards", MODELS)):
        folder = root / sub
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text.lstrip())
    return root


def card(name: str) -> ModelCard:
    """One tiny model card, parsed from its TOML text."""
    return ModelCard.model_validate(tomllib.loads(MODELS[f"{name}.toml"]))


def hardware(name: str = "tiny-gpu") -> HardwareProfile:
    """One tiny hardware profile, parsed from its TOML text."""
    return HardwareProfile.model_validate(tomllib.loads(HARDWARE[f"{name}.toml"]))


__all__ = ["HARDWARE", "MODELS", "card", "hardware", "write_catalog"]
