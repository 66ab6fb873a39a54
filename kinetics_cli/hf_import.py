"""Turn a Hugging Face `config.json` into a model card.

`card_from_hf_config` maps the config fields of the supported model families onto the ModelCard
schema (architecture, MoE, MLA, sliding-window and linear-attention tables) and validates the result.
Nothing is downloaded and no parameter count is copied: the catalog derives every figure from the
shape, exactly as for a bundled card.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kinetics_cli import limits
from kinetics_cli.errors import InputError
from kinetics_cli.specs import ModelCard
from kinetics_cli.tomlio import dumps_toml

# model_type -> family traits the config does not spell out.
_DENSE = ("llama", "mistral", "qwen2", "qwen3")
_MOE = ("qwen3_moe", "mixtral", "deepseek_v3", "gpt_oss", "qwen3_next")
SUPPORTED_MODEL_TYPES = _DENSE + _MOE

_QK_NORM = {"qwen3", "qwen3_moe", "qwen3_next"}

# head_dim when a config leaves it out, as transformers builds the model: its config classes give
# these model types a fixed default rather than hidden_size / num_attention_heads
# (github.com/huggingface/transformers@008e574 models/qwen3/configuration_qwen3.py `head_dim: int
# = 128`, models/qwen3_next/configuration_qwen3_next.py `head_dim: int = 256`; @02b8f42
# models/gpt_oss/configuration_gpt_oss.py `head_dim: int = 64`). Qwen3-0.6B (hidden 1024, 16
# heads) has 128, not 64. Other types use hidden_size / num_attention_heads.
_DEFAULT_HEAD_DIM = {"qwen3": 128, "qwen3_next": 256, "gpt_oss": 64}
# attention_bias when a config leaves it out: gpt-oss's config class defaults it to true (the same
# file, `attention_bias: bool = True`); every other type here defaults it to false.
_DEFAULT_ATTENTION_BIAS = {"gpt_oss": True}

# Where a config leaves out one of the fields below, transformers builds the model from its config
# class's default, so the card must too. Sources, github.com/huggingface/transformers:
#   @008e574 models/{llama,qwen2,qwen3,qwen3_moe,qwen3_next,mixtral}/configuration_*.py
#   @02b8f42 models/gpt_oss/configuration_gpt_oss.py
#   @001f85b models/mistral/configuration_mistral.py, models/deepseek_v3/configuration_deepseek_v3.py
#   @16b6c53 models/qwen3_moe/modeling_qwen3_moe.py (Qwen3MoeAttention: `self.sliding_window =
#            getattr(config, "sliding_window", None)` on every layer; no max_window_layers)
#   @005a187 models/mistral/modeling_mistral.py (q, k, v and o built with `bias=False`; the window
#            passed on every layer)
#
# num_key_value_heads: a config without the field gets the class's default, which is not
# num_attention_heads for most types (Qwen3Config `num_key_value_heads: int | None = 32`,
# Qwen3MoeConfig `= 4`, Qwen3NextConfig `= 2`, GptOssConfig `= 8`, MixtralConfig `= 8`,
# MistralConfig `num_key_value_heads: int | None = 8`, Qwen2Config `= 32`); an explicit null is
# num_attention_heads (`if self.num_key_value_heads is None: ... = self.num_attention_heads`).
# LlamaConfig defaults to None, i.e. num_attention_heads. DeepSeek-V3 (default 128, its own head
# count) is left at num_attention_heads: MLA does not read the field.
_DEFAULT_KV_HEADS = {
    "mistral": 8,
    "mixtral": 8,
    "qwen2": 32,
    "qwen3": 32,
    "qwen3_moe": 4,
    "qwen3_next": 2,
    "gpt_oss": 8,
}
# sliding_window when a config leaves it out: GptOssConfig `sliding_window: int | None = 128`,
# MistralConfig `sliding_window: int | None = 4096`, Qwen2Config / Qwen3Config / Qwen3MoeConfig
# `sliding_window: int | None = 4096` (used only with use_sliding_window), MixtralConfig `= None`.
# An explicit null means no window.
_DEFAULT_SLIDING_WINDOW = {
    "gpt_oss": 128,
    "mistral": 4096,
    "qwen2": 4096,
    "qwen3": 4096,
    "qwen3_moe": 4096,
}
# max_window_layers when a Qwen2 / Qwen3 config leaves it out: `max_window_layers: int = 28`; with
# use_sliding_window, layers i >= max_window_layers are sliding (`__post_init__`'s layer_types).
_DEFAULT_MAX_WINDOW_LAYERS = 28
# The expert count's names: the config classes' attribute_map makes one an alias of the other
# (Qwen3MoeConfig and MixtralConfig and GptOssConfig `{"num_experts": "num_local_experts"}`,
# DeepseekV3Config `{"num_local_experts": "n_routed_experts"}`), so a config saved by a newer
# transformers names a Qwen3-MoE model's experts `num_local_experts`.
_EXPERT_KEYS = {
    "qwen3_moe": ("num_experts", "num_local_experts"),
    "qwen3_next": ("num_experts",),
    "mixtral": ("num_local_experts", "num_experts"),
    "gpt_oss": ("num_local_experts", "num_experts"),
    "deepseek_v3": ("n_routed_experts", "num_local_experts"),
}
# DeepSeek-V3 when the config leaves these out: DeepseekV3Config `n_shared_experts = 1`,
# `q_lora_rank = 1536` (an explicit null: no shared expert, as DeepSeek's own modelling code has it,
# and no query compression).
_DEEPSEEK_DEFAULTS = {"n_shared_experts": 1, "q_lora_rank": 1536}
# gpt-oss's experts per token when num_experts_per_tok is left out: GptOssConfig
# `num_experts_per_tok: int = 4` (its router's top_k reads nothing else).
_GPT_OSS_TOP_K = 4
# Qwen3-Next when the config leaves these out: Qwen3NextConfig `shared_expert_intermediate_size:
# int = 512` (its sparse block always builds the shared expert) and `full_attention_interval` 4
# (`kwargs.pop("full_attention_interval", 4)` when there is no layer_types).
_QWEN3_NEXT_DEFAULTS = {"shared_expert_intermediate_size": 512, "full_attention_interval": 4}

# Bytes per stored weight, from torch_dtype (or `dtype` in newer configs).
_DTYPE_BYTES = {
    "bfloat16": 2.0,
    "float16": 2.0,
    "half": 2.0,
    "float32": 4.0,
    "float": 4.0,
    "float8_e4m3fn": 1.0,
    "float8_e5m2": 1.0,
}
# Bytes per weight for quantized checkpoints, by quantization_config.quant_method. MXFP4 is 4-bit
# values plus one 8-bit shared scale per 32 values: 4.25 bits.
_QUANT_BYTES = {"fp8": 1.0, "mxfp4": 4.25 / 8}
# Integer formats that store, per group of `group_size` input weights of each output column, one
# FP16 scale and one `bits`-wide zero point (AutoGPTQ / AutoAWQ `scales` and `qzeros`): 4-bit with
# group 128 is 4 + 20/128 = 4.15625 bits.
_GROUPED_INT = ("gptq", "awq")


def _get(config: Mapping[str, Any], key: str, model_type: str) -> Any:
    if key not in config or config[key] is None:
        raise InputError(f"config has no {key!r}, which a {model_type!r} config needs")
    return config[key]


# Largest value any count field of a config may hold before the card's own ranges apply: checked
# here first so that no per-layer list is ever built for an absurd layer count.
_COUNT_CEILING = {
    "num_hidden_layers": limits.LAYERS[1],
    "max_position_embeddings": limits.CONTEXT_TOKENS[1],
    "sliding_window": limits.CONTEXT_TOKENS[1],
}
_ANY_COUNT_CEILING = 2**31


def _count(config: Mapping[str, Any], key: str, model_type: str, *, minimum: int = 1) -> int:
    value = _get(config, key, model_type)
    ceiling = _COUNT_CEILING.get(key, _ANY_COUNT_CEILING)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        shown = value if not isinstance(value, int) or abs(value) < 10**30 else "a huge integer"
        raise InputError(
            f"config field {key!r}: expected a whole number >= {minimum}, got {shown!r}"
        )
    if value > ceiling:
        shown = f"{value:,}" if value < 10**30 else f"an integer of {len(str(value)):,} digits"
        raise InputError(
            f"config field {key!r}: {shown} is beyond the plausible range {minimum} to "
            f"{ceiling:,} (docs/catalog.md)"
        )
    return value


def _optional_count(config: Mapping[str, Any], key: str, model_type: str) -> int | None:
    if config.get(key) is None:
        return None
    return _count(config, key, model_type)


def _defaulted_count(
    config: Mapping[str, Any], key: str, model_type: str, default: int | None, *, minimum: int = 1
) -> int | None:
    """A count transformers defaults when the config leaves it out: `default` when the key is
    absent, None when it is null, else the value."""
    if key not in config:
        return default
    if config[key] is None:
        return None
    return _count(config, key, model_type, minimum=minimum)


def _flag(config: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = config.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InputError(f"config field {key!r}: expected true or false, got {value!r}")
    return value


def _index_list(config: Mapping[str, Any], key: str, layers: int) -> list[int]:
    value = config.get(key) or []
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < layers for i in value
    ):
        raise InputError(f"config field {key!r}: expected layer indices in 0..{layers - 1}")
    return sorted(set(value))


# The layer types each model type's modelling code builds; any other entry of `layer_types` would be
# read as something the model does not have (a Qwen3 layer marked linear is still full attention).
# Llama, Mistral, Mixtral, Qwen3-MoE and DeepSeek-V3 read no layer_types: their layers are alike
# (Mistral, Mixtral and Qwen3-MoE window every layer or none), so only full_attention entries fit.
_LAYER_TYPES = {
    "qwen3_next": ("full_attention", "linear_attention"),
    "qwen2": ("full_attention", "sliding_attention"),
    "qwen3": ("full_attention", "sliding_attention"),
    "gpt_oss": ("full_attention", "sliding_attention"),
}
_DEFAULT_LAYER_TYPES = ("full_attention",)


def _layer_types(config: Mapping[str, Any], layers: int) -> list[str] | None:
    model_type = str(config.get("model_type"))
    types = config.get("layer_types")
    if types is None:
        return None
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise InputError("config field 'layer_types': expected a list of strings")
    if len(types) != layers:
        raise InputError(
            f"config field 'layer_types' has {len(types)} entries for {layers} hidden layers"
        )
    known = _LAYER_TYPES.get(model_type, _DEFAULT_LAYER_TYPES)
    unknown = sorted(set(types) - set(known))
    if unknown:
        unread = "; its layers are built alike, from no layer_types" if len(known) == 1 else ""
        raise InputError(
            f"config field 'layer_types': layer type(s) {', '.join(unknown)} are not supported "
            f"for model_type {model_type!r} (expected: {', '.join(known)}{unread})"
        )
    return types


def weight_bytes_from_config(config: Mapping[str, Any]) -> float:
    """Bytes per stored weight: the quantization format if the checkpoint has one, else torch_dtype."""
    quant = config.get("quantization_config")
    if quant:
        if not isinstance(quant, Mapping):
            raise InputError("config field 'quantization_config': expected an object")
        method = str(quant.get("quant_method", "")).lower()
        if method in _QUANT_BYTES:
            return _QUANT_BYTES[method]
        bits = quant.get("bits")
        if isinstance(bits, (int, float)) and not isinstance(bits, bool):
            low, high = (8 * b for b in limits.ELEMENT_BYTES)
            if (isinstance(bits, int) and abs(bits) > 10**6) or not low <= float(bits) <= high:
                raise InputError(
                    f"config field 'quantization_config.bits': expected {low:g} to {high:g} bits "
                    "per weight"
                )
            group = quant.get("group_size")
            if (
                method in _GROUPED_INT
                and isinstance(group, int)
                and not isinstance(group, bool)
                and group > 0  # -1: one scale per output column, negligible
            ):
                return (float(bits) + (16 + float(bits)) / group) / 8
            return float(bits) / 8
        raise InputError(
            f"unsupported quantization_config.quant_method {method or '(none)'!r}; known: "
            f"{', '.join(sorted(_QUANT_BYTES))} or a 'bits' field. Remove the quantization_config "
            "block to import the model at its torch_dtype width"
        )
    return dtype_bytes_from_config(config)


def dtype_bytes_from_config(config: Mapping[str, Any]) -> float:
    """Bytes per weight of the checkpoint's unquantized tensors: torch_dtype (or `dtype`),
    default bfloat16."""
    dtype = config.get("torch_dtype", config.get("dtype")) or "bfloat16"
    dtype = str(dtype).removeprefix("torch.")
    if dtype not in _DTYPE_BYTES:
        raise InputError(
            f"unsupported torch_dtype {dtype!r}; known: {', '.join(sorted(_DTYPE_BYTES))}"
        )
    return _DTYPE_BYTES[dtype]


def _architecture(config: Mapping[str, Any], model_type: str) -> dict[str, Any]:
    layers = _count(config, "num_hidden_layers", model_type)
    hidden = _count(config, "hidden_size", model_type)
    heads = _count(config, "num_attention_heads", model_type)
    if "num_key_value_heads" in config:
        kv_heads = _optional_count(config, "num_key_value_heads", model_type) or heads
        kv_origin = ""
    else:
        kv_heads = _DEFAULT_KV_HEADS.get(model_type, heads)
        kv_origin = (
            f"; the config has no 'num_key_value_heads' and transformers' {model_type} default "
            f"is {kv_heads}"
            if model_type in _DEFAULT_KV_HEADS
            else ""
        )
    if model_type == "deepseek_v3":
        # Under MLA the backbone head_dim is not used; keep the q/k width for display.
        head_dim = _count(config, "qk_nope_head_dim", model_type) + _count(
            config, "qk_rope_head_dim", model_type
        )
    else:
        head_dim = _optional_count(config, "head_dim", model_type) or _DEFAULT_HEAD_DIM.get(
            model_type, 0
        )
        if not head_dim:
            if hidden % heads:
                raise InputError(
                    f"config has no 'head_dim' and hidden_size {hidden} is not a multiple of "
                    f"num_attention_heads {heads}"
                )
            head_dim = hidden // heads
    if heads % kv_heads:
        raise InputError(
            f"num_attention_heads ({heads}) is not a multiple of num_key_value_heads "
            f"({kv_heads}){kv_origin}"
        )
    if model_type == "qwen3_next" and config.get("intermediate_size") is None:
        intermediate = 0  # every layer is MoE; the dense width is unused
    else:
        intermediate = _count(config, "intermediate_size", model_type)

    # Only Llama's MLP reads mlp_bias; the other types build their MLPs with bias=False whatever
    # the config says (gpt-oss's expert biases are modelled in [moe]).
    if model_type == "llama" and _flag(config, "mlp_bias"):
        raise InputError("config has mlp_bias = true; biases in a dense MLP are not modelled")
    attention_bias = _flag(config, "attention_bias", _DEFAULT_ATTENTION_BIAS.get(model_type, False))
    if model_type == "qwen2":
        qkv_bias, o_bias = True, False  # Qwen2 hard-codes bias on q, k, v only
    elif model_type == "deepseek_v3":
        if attention_bias:
            raise InputError("deepseek_v3 with attention_bias = true is not modelled")
        qkv_bias = o_bias = False
    elif model_type in ("mistral", "mixtral"):
        qkv_bias = o_bias = False  # built with bias=False; attention_bias is not read
    else:  # llama, qwen3, qwen3_moe, qwen3_next, gpt_oss: one flag for q, k, v and o
        qkv_bias = o_bias = attention_bias

    return {
        "layers": layers,
        "hidden_size": hidden,
        "attention_heads": heads,
        "kv_heads": kv_heads,
        "head_dim": head_dim,
        "intermediate_size": intermediate,
        "vocab_size": _count(config, "vocab_size", model_type),
        "max_position_embeddings": _optional_count(config, "max_position_embeddings", model_type),
        "tie_embeddings": _flag(config, "tie_word_embeddings"),
        "qkv_bias": qkv_bias,
        "o_bias": o_bias,
        "qk_norm": model_type in _QK_NORM,
        "attention_sinks": model_type == "gpt_oss",
        "attention_output_gate": model_type == "qwen3_next",
        "gated_mlp": True,
        "weight_bytes": weight_bytes_from_config(config),
        # Quantization narrows the blocks' matmuls only: the embedding, LM head and norms stay at
        # the checkpoint's torch_dtype (FP32 ones included).
        "embedding_bytes": dtype_bytes_from_config(config),
    }


def _experts(config: Mapping[str, Any], model_type: str) -> int:
    """The routed-expert count under any of the names transformers accepts for the type."""
    keys = _EXPERT_KEYS[model_type]
    values = {key: _count(config, key, model_type) for key in keys if config.get(key) is not None}
    if not values:
        names = " or ".join(repr(key) for key in keys)
        raise InputError(f"config has no {names}, which a {model_type!r} config needs")
    if len(set(values.values())) > 1:
        shown = " and ".join(f"{key!r} ({value})" for key, value in values.items())
        raise InputError(f"config fields {shown} disagree: they name the same expert count")
    return next(iter(values.values()))


def _gpt_oss_top_k(config: Mapping[str, Any]) -> int:
    """Experts per token as transformers routes gpt-oss: num_experts_per_tok, default 4
    (GptOssConfig `num_experts_per_tok: int = 4`). OpenAI's configs also carry
    experts_per_token, which transformers does not read: one that disagrees is refused."""
    top_k = _defaulted_count(config, "num_experts_per_tok", "gpt_oss", _GPT_OSS_TOP_K)
    if top_k is None:
        raise InputError("config field 'num_experts_per_tok': expected a whole number >= 1")
    if config.get("experts_per_token") is not None:
        own = _count(config, "experts_per_token", "gpt_oss")
        if own != top_k:
            origin = "" if "num_experts_per_tok" in config else ", transformers' default"
            raise InputError(
                f"config fields 'num_experts_per_tok' ({top_k}{origin}) and 'experts_per_token' "
                f"({own}) disagree: transformers routes by num_experts_per_tok"
            )
    return top_k


def _moe(config: Mapping[str, Any], model_type: str, layers: int) -> dict[str, Any] | None:
    if model_type in _DENSE:
        return None
    if model_type == "mixtral":
        return {
            "experts": _experts(config, model_type),
            "experts_per_token": _count(config, "num_experts_per_tok", model_type),
            "expert_intermediate_size": _count(config, "intermediate_size", model_type),
        }
    if model_type == "gpt_oss":
        return {
            "experts": _experts(config, model_type),
            "experts_per_token": _gpt_oss_top_k(config),
            "expert_intermediate_size": _count(config, "intermediate_size", model_type),
            "router_bias": True,
            "expert_bias": True,
        }
    if model_type == "deepseek_v3":
        first_dense = _count(config, "first_k_dense_replace", model_type, minimum=0)
        freq = _optional_count(config, "moe_layer_freq", model_type) or 1
        dense = [i for i in range(layers) if i < first_dense or i % freq]
        return {
            "experts": _experts(config, model_type),
            "experts_per_token": _count(config, "num_experts_per_tok", model_type),
            "expert_intermediate_size": _count(config, "moe_intermediate_size", model_type),
            "shared_experts": _defaulted_count(
                config,
                "n_shared_experts",
                model_type,
                _DEEPSEEK_DEFAULTS["n_shared_experts"],
                minimum=0,
            )
            or 0,
            "dense_layers": dense,
            "router_bias": True,  # e_score_correction_bias, one per routed expert
        }
    # qwen3_moe, qwen3_next: MoE where (i + 1) % decoder_sparse_step == 0 and i not in mlp_only_layers
    step = _optional_count(config, "decoder_sparse_step", model_type) or 1
    mlp_only = set(_index_list(config, "mlp_only_layers", layers))
    dense = [i for i in range(layers) if i in mlp_only or (i + 1) % step]
    moe: dict[str, Any] = {
        "experts": _experts(config, model_type),
        "experts_per_token": _count(config, "num_experts_per_tok", model_type),
        "expert_intermediate_size": _count(config, "moe_intermediate_size", model_type),
        "dense_layers": dense,
    }
    if model_type == "qwen3_next":
        shared = _defaulted_count(
            config,
            "shared_expert_intermediate_size",
            model_type,
            _QWEN3_NEXT_DEFAULTS["shared_expert_intermediate_size"],
            minimum=0,
        )
        if shared:
            moe.update(
                shared_experts=1, shared_expert_intermediate_size=shared, shared_expert_gate=True
            )
    if dense:
        _count(config, "intermediate_size", model_type)  # the dense layers need their width
    return moe


def _mla(config: Mapping[str, Any], model_type: str) -> dict[str, Any] | None:
    if model_type != "deepseek_v3":
        return None
    return {
        "kv_lora_rank": _count(config, "kv_lora_rank", model_type),
        "q_lora_rank": _defaulted_count(
            config, "q_lora_rank", model_type, _DEEPSEEK_DEFAULTS["q_lora_rank"]
        ),
        "qk_rope_head_dim": _count(config, "qk_rope_head_dim", model_type),
        "qk_nope_head_dim": _count(config, "qk_nope_head_dim", model_type),
        "v_head_dim": _count(config, "v_head_dim", model_type),
    }


def _sliding_layers(config: Mapping[str, Any], model_type: str, layers: int) -> list[int]:
    """The layers transformers builds with the sliding window (before the window's own value)."""
    types = _layer_types(config, layers)
    if model_type == "gpt_oss":
        if types is None:  # GptOssConfig: sliding where (i + 1) % 2, i.e. layers 0, 2, 4, ...
            types = [
                "sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(layers)
            ]
        return [i for i, t in enumerate(types) if t == "sliding_attention"]
    if model_type in ("qwen2", "qwen3"):
        # Their config classes null sliding_window unless use_sliding_window, whatever layer_types
        # says; without layer_types the layers from max_window_layers on are sliding.
        if not _flag(config, "use_sliding_window"):
            return []
        if types is not None:
            return [i for i, t in enumerate(types) if t == "sliding_attention"]
        first = config.get("max_window_layers", _DEFAULT_MAX_WINDOW_LAYERS)
        if not isinstance(first, int) or isinstance(first, bool):
            raise InputError("config field 'max_window_layers': expected a whole number")
        return list(range(max(first, 0), layers))
    if model_type == "qwen3_moe":  # every layer when use_sliding_window; no max_window_layers
        return list(range(layers)) if _flag(config, "use_sliding_window") else []
    if model_type in ("mistral", "mixtral"):
        return list(range(layers))  # Mistral-7B-v0.1 style: every layer windowed, if any window
    return []


def _sliding_window(
    config: Mapping[str, Any], model_type: str, layers: int
) -> dict[str, Any] | None:
    sliding = _sliding_layers(config, model_type, layers)
    if not sliding:
        return None
    window = _defaulted_count(
        config, "sliding_window", model_type, _DEFAULT_SLIDING_WINDOW.get(model_type), minimum=0
    )
    if not window:  # null (or 0): the layers attend to the whole context
        return None
    return {"window": window, "layers": sliding}


def _linear_attention(
    config: Mapping[str, Any], model_type: str, layers: int
) -> dict[str, Any] | None:
    if model_type != "qwen3_next":
        return None
    types = _layer_types(config, layers)
    if types is not None:
        linear = [i for i, t in enumerate(types) if t == "linear_attention"]
    else:
        interval = _defaulted_count(
            config,
            "full_attention_interval",
            model_type,
            _QWEN3_NEXT_DEFAULTS["full_attention_interval"],
        )
        if interval is None:
            raise InputError("config field 'full_attention_interval': expected a whole number >= 1")
        linear = [i for i in range(layers) if (i + 1) % interval]
    if not linear:
        return None
    return {
        "layers": linear,
        "key_heads": _count(config, "linear_num_key_heads", model_type),
        "value_heads": _count(config, "linear_num_value_heads", model_type),
        "key_head_dim": _count(config, "linear_key_head_dim", model_type),
        "value_head_dim": _count(config, "linear_value_head_dim", model_type),
        "conv_kernel": _count(config, "linear_conv_kernel_dim", model_type, minimum=0),
    }


def import_notes(config: Mapping[str, Any]) -> list[str]:
    """What the config describes that the card leaves out, one line each (the import prints them)."""
    notes = []
    mtp = config.get("num_nextn_predict_layers")
    if isinstance(mtp, int) and not isinstance(mtp, bool) and mtp > 0:
        notes.append(
            f"num_nextn_predict_layers = {mtp}: the multi-token-prediction layer"
            f"{'s are' if mtp > 1 else ' is'} not modelled and not counted in the parameters or "
            "weights (docs/catalog.md, Known simplifications)"
        )
    return notes


def hf_id_of(config: Mapping[str, Any]) -> str:
    """The `owner/name` Hugging Face id in `_name_or_path`, or '' when it is a local path."""
    value = config.get("_name_or_path")
    if not isinstance(value, str):
        return ""
    if re.fullmatch(r"[A-Za-z0-9][\w.-]*/[\w.-]+", value):
        return value
    return ""


def default_name(config: Mapping[str, Any], path: Path) -> str:
    """A card name from the config's Hugging Face id, else from the folder or file name."""
    hf_id = hf_id_of(config)
    if hf_id:
        base = hf_id.split("/")[-1]
    elif path.name == "config.json" and path.resolve().parent.name:
        base = path.resolve().parent.name
    else:
        base = path.stem
    name = re.sub(r"[^a-z0-9._-]+", "-", base.lower()).strip("-.")
    if not name:
        raise InputError(f"cannot make a card name from {path}; pass --name")
    return name


def _split_expert_width(config: Mapping[str, Any], card: dict[str, Any]) -> None:
    """MXFP4 checkpoints (gpt-oss) quantize only the routed experts: the rest keeps torch_dtype."""
    quant = config.get("quantization_config")
    method = str(quant.get("quant_method", "")).lower() if isinstance(quant, Mapping) else ""
    if method != "mxfp4" or card.get("moe") is None:
        return
    card["moe"]["expert_weight_bytes"] = _QUANT_BYTES["mxfp4"]
    card["architecture"]["weight_bytes"] = dtype_bytes_from_config(config)


def card_from_hf_config(
    config: Mapping[str, Any], *, name: str, source: str = "config.json"
) -> dict[str, Any]:
    """A validated ModelCard-shaped dict for the model described by a Hugging Face config.

    Raises InputError, starting with `source` and naming the field, when the config is missing
    something, has an unsupported model_type, or describes a shape the schema cannot hold.
    """
    try:
        card = _card(config, name, source)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from exc
    try:
        ModelCard.model_validate(card)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise InputError(f"{source}: the imported card is not valid: {problems}") from exc
    return card


def _card(config: Mapping[str, Any], name: str, source: str) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        raise InputError("config.json must hold a JSON object")
    model_type = config.get("model_type")
    if not model_type:
        raise InputError(
            "config has no 'model_type'; supported: " + ", ".join(SUPPORTED_MODEL_TYPES)
        )
    if not isinstance(model_type, str):
        raise InputError(
            f"config field 'model_type': expected a string such as 'qwen3', got {model_type!r}"
        )
    if model_type not in SUPPORTED_MODEL_TYPES:
        hint = ""
        if isinstance(config.get("text_config"), Mapping):
            hint = (
                "; this config wraps its language model in 'text_config' (a multimodal model): "
                "only decoder-only text models are supported"
            )
        raise InputError(
            f"unsupported model_type {model_type!r}; supported: "
            f"{', '.join(SUPPORTED_MODEL_TYPES)}{hint}"
        )
    if _flag(config, "is_encoder_decoder"):
        raise InputError(
            "config field 'is_encoder_decoder' is true: only decoder-only models are supported"
        )
    architecture = _architecture(config, model_type)
    layers = architecture["layers"]
    hf_id = hf_id_of(config)
    origin = f"huggingface.co/{hf_id} config.json, read from {source}" if hf_id else source
    card: dict[str, Any] = {
        "name": name,
        "aliases": [hf_id] if hf_id and hf_id.lower() != name.lower() else [],
        "family": model_type,
        "hf_id": hf_id,
        "description": f"Imported from {source}",
        "sources": [f"{origin} (imported with 'kinetics models import')"],
        "architecture": architecture,
        "moe": _moe(config, model_type, layers),
        "mla": _mla(config, model_type),
        "sliding_window": _sliding_window(config, model_type, layers),
        "linear_attention": _linear_attention(config, model_type, layers),
    }
    _split_expert_width(config, card)
    return {key: value for key, value in card.items() if value is not None}


def read_config(path: Path) -> dict[str, Any]:
    """Parse a config.json; unreadable files and bad JSON become InputError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: not UTF-8 text (byte {exc.start})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise InputError(f"{path}: not a config this tool can read: {exc}") from exc
    except RecursionError as exc:
        raise InputError(f"{path}: not a config this tool can read: nested too deeply") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


# Fields that do not change what a model is (storage width, context extension): an import that
# differs from a card only there is the same model.
_NOT_SHAPE = {"weight_bytes", "kv_bytes", "max_position_embeddings", "expert_weight_bytes"}


def shape_differences(old: ModelCard, new: ModelCard) -> list[str]:
    """'architecture.layers 36 -> 48' for every shape field where two cards differ (storage
    widths and context windows aside): a non-empty answer means a different model."""
    out = []
    for section in ("architecture", "moe", "mla", "sliding_window", "linear_attention"):
        a, b = getattr(old, section), getattr(new, section)
        if a is None or b is None:
            if (a is None) != (b is None):
                out.append(
                    f"{section} {'absent' if a is None else 'present'} -> "
                    f"{'absent' if b is None else 'present'}"
                )
            continue
        da, db = a.model_dump(), b.model_dump()
        out += [
            f"{section}.{key} {da[key]} -> {db[key]}"
            for key in da
            if key not in _NOT_SHAPE and da[key] != db[key]
        ]
    return out


def card_toml(card: Mapping[str, Any], config_path: Path, config_text: bytes) -> str:
    """The card as TOML, with a header naming the config it came from."""
    digest = hashlib.sha256(config_text).hexdigest()[:16]
    header = (
        f"{card['name']}: model card imported with 'kinetics models import'\n"
        f"from {config_path} (sha256 {digest}...).\n"
        "Parameter counts and KV bytes are derived from these fields when the card is loaded.\n"
        "Add sources and a [published] table with the publisher's figures to check them."
    )
    return dumps_toml(card, header=header)
