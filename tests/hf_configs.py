"""Hugging Face config.json documents shared by the import tests (the fields the importer reads
and their neighbours, copied from the published files)."""

from __future__ import annotations

from typing import Any

# huggingface.co/Qwen/Qwen3-8B config.json
QWEN3_8B: dict[str, Any] = {
    "_name_or_path": "Qwen/Qwen3-8B",
    "architectures": ["Qwen3ForCausalLM"],
    "model_type": "qwen3",
    "hidden_size": 4096,
    "num_hidden_layers": 36,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "intermediate_size": 12288,
    "vocab_size": 151936,
    "max_position_embeddings": 40960,
    "rope_theta": 1000000,
    "attention_bias": False,
    "sliding_window": None,
    "use_sliding_window": False,
    "max_window_layers": 36,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}
