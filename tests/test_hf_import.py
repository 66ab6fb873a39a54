"""`kinetics models import` and kinetics_cli.hf_import: Hugging Face config.json -> model card.

The config fixtures are written by hand from the published config.json values (the fields the
importer reads; unrelated ones such as rope settings are kept where they test that they are ignored).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hf_configs import QWEN3_8B
from typer.testing import CliRunner

from kinetics_cli.catalog import load_catalog
from kinetics_cli.cli.main import app
from kinetics_cli.errors import InputError
from kinetics_cli.hf_import import card_from_hf_config, default_name, weight_bytes_from_config
from kinetics_cli.specs import ModelCard

runner = CliRunner()

# huggingface.co/Qwen/Qwen3-30B-A3B config.json
QWEN3_30B_A3B: dict[str, Any] = {
    "architectures": ["Qwen3MoeForCausalLM"],
    "model_type": "qwen3_moe",
    "hidden_size": 2048,
    "num_hidden_layers": 48,
    "num_attention_heads": 32,
    "num_key_value_heads": 4,
    "head_dim": 128,
    "intermediate_size": 6144,
    "moe_intermediate_size": 768,
    "num_experts": 128,
    "num_experts_per_tok": 8,
    "decoder_sparse_step": 1,
    "mlp_only_layers": [],
    "norm_topk_prob": True,
    "vocab_size": 151936,
    "attention_bias": False,
    "use_sliding_window": False,
    "sliding_window": None,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}

# huggingface.co/deepseek-ai/DeepSeek-V3 config.json (FP8 checkpoint)
DEEPSEEK_V3: dict[str, Any] = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "deepseek_v3",
    "hidden_size": 7168,
    "num_hidden_layers": 61,
    "num_attention_heads": 128,
    "num_key_value_heads": 128,
    "intermediate_size": 18432,
    "moe_intermediate_size": 2048,
    "first_k_dense_replace": 3,
    "moe_layer_freq": 1,
    "n_routed_experts": 256,
    "n_shared_experts": 1,
    "num_experts_per_tok": 8,
    "n_group": 8,
    "topk_group": 4,
    "topk_method": "noaux_tc",
    "kv_lora_rank": 512,
    "q_lora_rank": 1536,
    "qk_rope_head_dim": 64,
    "qk_nope_head_dim": 128,
    "v_head_dim": 128,
    "num_nextn_predict_layers": 1,
    "vocab_size": 129280,
    "attention_bias": False,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "quantization_config": {
        "activation_scheme": "dynamic",
        "fmt": "e4m3",
        "quant_method": "fp8",
        "weight_block_size": [128, 128],
    },
}

# huggingface.co/openai/gpt-oss-20b config.json
GPT_OSS_20B: dict[str, Any] = {
    "architectures": ["GptOssForCausalLM"],
    "model_type": "gpt_oss",
    "hidden_size": 2880,
    "num_hidden_layers": 24,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "head_dim": 64,
    "intermediate_size": 2880,
    "num_local_experts": 32,
    "num_experts_per_tok": 4,
    "experts_per_token": 4,
    "layer_types": ["sliding_attention", "full_attention"] * 12,
    "sliding_window": 128,
    "attention_bias": True,
    "swiglu_limit": 7.0,
    "rope_theta": 150000,
    "vocab_size": 201088,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "quantization_config": {
        "modules_to_not_convert": [
            "model.layers.*.self_attn",
            "model.layers.*.mlp.router",
            "model.embed_tokens",
            "lm_head",
        ],
        "quant_method": "mxfp4",
    },
}

# huggingface.co/meta-llama/Llama-3.1-8B-Instruct config.json (older copies have no head_dim)
LLAMA_31_8B: dict[str, Any] = {
    "_name_or_path": "meta-llama/Llama-3.1-8B-Instruct",
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 14336,
    "vocab_size": 128256,
    "attention_bias": False,
    "mlp_bias": False,
    "rope_theta": 500000.0,
    "rope_scaling": {
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192,
        "rope_type": "llama3",
    },
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}

# huggingface.co/mistralai/Mixtral-8x7B-v0.1 config.json
MIXTRAL_8X7B: dict[str, Any] = {
    "_name_or_path": "mistralai/Mixtral-8x7B-v0.1",
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 14336,
    "num_local_experts": 8,
    "num_experts_per_tok": 2,
    "vocab_size": 32000,
    "sliding_window": None,
    "rope_theta": 1e6,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}

# Qwen/Qwen3-Next-80B-A3B-Thinking config.json (hybrid linear / full attention)
QWEN3_NEXT: dict[str, Any] = {
    "architectures": ["Qwen3NextForCausalLM"],
    "model_type": "qwen3_next",
    "hidden_size": 2048,
    "num_hidden_layers": 48,
    "num_attention_heads": 16,
    "num_key_value_heads": 2,
    "head_dim": 256,
    "intermediate_size": 5120,
    "moe_intermediate_size": 512,
    "shared_expert_intermediate_size": 512,
    "num_experts": 512,
    "num_experts_per_tok": 10,
    "decoder_sparse_step": 1,
    "mlp_only_layers": [],
    "full_attention_interval": 4,
    "linear_num_key_heads": 16,
    "linear_num_value_heads": 32,
    "linear_key_head_dim": 128,
    "linear_value_head_dim": 128,
    "linear_conv_kernel_dim": 4,
    "vocab_size": 151936,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}

# huggingface.co/Qwen/Qwen3-0.6B config.json: the tied dense size
QWEN3_0_6B: dict[str, Any] = dict(
    QWEN3_8B,
    _name_or_path="Qwen/Qwen3-0.6B",
    hidden_size=1024,
    num_hidden_layers=28,
    num_attention_heads=16,
    num_key_value_heads=8,
    intermediate_size=3072,
    max_window_layers=28,
    tie_word_embeddings=True,
)

# huggingface.co/Qwen/Qwen3-235B-A22B config.json
QWEN3_235B_A22B: dict[str, Any] = dict(
    QWEN3_30B_A3B,
    hidden_size=4096,
    num_hidden_layers=94,
    num_attention_heads=64,
    num_key_value_heads=4,
    intermediate_size=12288,
    moe_intermediate_size=1536,
    max_position_embeddings=40960,
)

# huggingface.co/deepseek-ai/DeepSeek-R1-Distill-Qwen-7B config.json (Qwen2 layout: q/k/v bias; the
# sliding_window value is inert while use_sliding_window is false)
R1_DISTILL_QWEN_7B: dict[str, Any] = {
    "_name_or_path": "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
    "architectures": ["Qwen2ForCausalLM"],
    "model_type": "qwen2",
    "hidden_size": 3584,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "intermediate_size": 18944,
    "vocab_size": 152064,
    "max_position_embeddings": 131072,
    "rope_theta": 10000,
    "sliding_window": 4096,
    "use_sliding_window": False,
    "max_window_layers": 28,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}

# (fixture, imported name, bundled card it must reproduce)
ROUND_TRIPS = [
    (QWEN3_0_6B, "qwen3-0.6b", "qwen3-0.6b"),
    (QWEN3_235B_A22B, "qwen3-235b-a22b", "qwen3-235b-a22b"),
    (R1_DISTILL_QWEN_7B, "r1-distill-qwen-7b", "deepseek-r1-distill-qwen-7b"),
    (
        dict(
            GPT_OSS_20B,
            num_hidden_layers=36,
            num_local_experts=128,
            layer_types=["sliding_attention", "full_attention"] * 18,
        ),
        "gpt-oss-120b",
        "gpt-oss-120b",
    ),
    (QWEN3_8B, "qwen3-8b", "qwen3-8b"),
    (QWEN3_30B_A3B, "qwen3-30b-a3b", "qwen3-30b-a3b"),
    (DEEPSEEK_V3, "deepseek-v3", "deepseek-v3"),
    (GPT_OSS_20B, "gpt-oss-20b", "gpt-oss-20b"),
    (LLAMA_31_8B, "llama-3.1-8b", "llama-3.1-8b"),
    (QWEN3_NEXT, "qwen3-next-80b-a3b", "qwen3-next-80b-a3b"),
]


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user catalog folder for this test."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def write_config(folder: Path, config: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def one_error_line(result) -> str:  # type: ignore[no-untyped-def]
    """Exit code 2 and exactly one line on stderr, nothing on stdout."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.stdout == ""
    return lines[0]


# ---- round trips through the CLI and the catalog ----------------------------------------------


@pytest.mark.parametrize(
    ("config", "stem", "bundled"), ROUND_TRIPS, ids=[r[1] for r in ROUND_TRIPS]
)
def test_import_reproduces_the_bundled_card(
    config: dict[str, Any], stem: str, bundled: str, config_home: Path, tmp_path: Path
) -> None:
    path = write_config(tmp_path / stem, config)
    name = f"{stem}-imported"
    result = invoke("models", "import", str(path), "--name", name)
    assert result.exit_code == 0, result.output

    written = config_home / "kinetics" / "model_cards" / f"{name}.toml"
    assert written.is_file()
    assert str(path.resolve()) in written.read_text().splitlines()[1]  # header names the source

    catalog = load_catalog()
    imported = catalog.models.get(name)
    assert imported.origin == "user" and imported.path == written
    ours, theirs = imported.spec, catalog.models.get(bundled).spec
    assert theirs.name == bundled
    assert ours.total_params == theirs.total_params
    assert ours.non_embedding_params == theirs.non_embedding_params
    assert ours.active_params == theirs.active_params
    assert ours.kv_bytes_per_token == theirs.kv_bytes_per_token
    assert ours.sliding_kv_bytes_per_token == theirs.sliding_kv_bytes_per_token
    assert ours.state_bytes_per_sequence == theirs.state_bytes_per_sequence
    assert ours.weight_bytes == theirs.weight_bytes
    assert ours.attention_kind_summary == theirs.attention_kind_summary


def test_mixtral_against_mistral_published_counts(config_home: Path, tmp_path: Path) -> None:
    """No bundled Mixtral card: compare with Mistral AI's figures, 46.7B total and 12.9B per token
    (mistral.ai 'Mixtral of experts', Dec 2023; arXiv 2401.04088 rounds to 47B / 13B).

    Per layer: attention 4096*4096*2 + 2*4096*1024 = 41,943,040; expert 3*4096*14336 = 176,160,768;
    router 4096*8. The 12.9B counts the input embedding (32000*4096 = 131,072,000) as well.
    """
    path = write_config(tmp_path / "mixtral", MIXTRAL_8X7B)
    result = invoke("models", "import", str(path))
    assert result.exit_code == 0, result.output
    card = load_catalog().models.get("mistralai/Mixtral-8x7B-v0.1").spec
    assert card.name == "mixtral-8x7b-v0.1"  # from _name_or_path
    assert card.moe is not None and card.moe.experts == 8 and card.moe.experts_per_token == 2
    layer = 41_943_040 + 2 * 176_160_768 + 4096 * 8
    assert card.active_params == 32 * layer + 131_072_000  # LM head, no embedding
    assert card.total_params == pytest.approx(46.7e9, rel=0.02)
    assert card.active_params + card.embedding_params == pytest.approx(12.9e9, rel=0.02)


def test_import_json_prints_the_written_card(config_home: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "q", QWEN3_8B)
    result = invoke("models", "import", str(path), "--name", "q8", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["name"] == "q8" and doc["origin"] == "user"
    assert doc["file"] == str(config_home / "kinetics" / "model_cards" / "q8.toml")
    # the Hugging Face id already names the bundled qwen3-8b: it is not taken over, and says so
    assert doc["hf_id"] == "Qwen/Qwen3-8B" and doc["aliases"] == []
    assert result.stderr == (
        "warning: alias 'Qwen/Qwen3-8B' left out of the imported card: it already names "
        "'qwen3-8b' (bundled)\n"
    )
    # 2 (K, V) x 36 layers x 8 KV heads x 128 x 2 bytes
    assert doc["kv_bytes_per_token"] == 147_456
    assert doc["total_params"] == load_catalog().models.get("qwen3-8b").spec.total_params


def test_default_name_overrides_the_bundled_card(config_home: Path, tmp_path: Path) -> None:
    """Without --name the card is named after the Hugging Face id; the user folder comes later on
    the search path, so `qwen3-8b` now resolves to the imported card."""
    path = write_config(tmp_path / "anything", QWEN3_8B)
    result = invoke("models", "import", str(path))
    assert result.exit_code == 0, result.output
    assert (config_home / "kinetics" / "model_cards" / "qwen3-8b.toml").is_file()
    assert load_catalog().models.get("qwen3-8b").origin == "user"


def test_refuses_to_overwrite_without_force(config_home: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "q", QWEN3_8B)
    assert invoke("models", "import", str(path), "--name", "q8").exit_code == 0
    target = config_home / "kinetics" / "model_cards" / "q8.toml"
    before = target.read_text()

    line = one_error_line(invoke("models", "import", str(path), "--name", "q8"))
    assert "already exists" in line and "--force" in line
    assert target.read_text() == before

    changed = dict(QWEN3_8B, num_hidden_layers=40)
    write_config(tmp_path / "q", changed)
    result = invoke("models", "import", str(path), "--name", "q8", "--force")
    assert result.exit_code == 0, result.output
    assert load_catalog().models.get("q8").spec.architecture.layers == 40
    assert [p.name for p in target.parent.iterdir()] == ["q8.toml"]  # no temporary left behind


# ---- bad input: one line on stderr, exit code 2 -----------------------------------------------


def test_a_card_written_meanwhile_is_not_replaced(
    config_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two imports of one name started together both find no card; the later to finish is
    refused, as if the card had been there from the start, and the first's card stays."""
    import os

    path = write_config(tmp_path / "q", QWEN3_8B)
    target = config_home / "kinetics" / "model_cards" / "q8.toml"
    link = os.link

    def other_run_first(src: str, dst: str) -> None:
        Path(dst).write_text("the other run's card\n")
        link(src, dst)

    monkeypatch.setattr(os, "link", other_run_first)
    line = one_error_line(invoke("models", "import", str(path), "--name", "q8"))
    assert line == f"error: {target} already exists; pass --force to overwrite it"
    assert target.read_text() == "the other run's card\n"
    assert [p.name for p in target.parent.iterdir()] == ["q8.toml"]


def test_missing_field(config_home: Path, tmp_path: Path) -> None:
    broken = {k: v for k, v in QWEN3_8B.items() if k != "num_hidden_layers"}
    line = one_error_line(invoke("models", "import", str(write_config(tmp_path / "b", broken))))
    assert "num_hidden_layers" in line
    assert not (config_home / "kinetics" / "model_cards").exists()


def test_not_json(config_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"model_type": "qwen3",')
    line = one_error_line(invoke("models", "import", str(path)))
    assert "not valid JSON" in line and "line 1" in line


def test_unknown_model_type(config_home: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "m", dict(QWEN3_8B, model_type="mamba"))
    line = one_error_line(invoke("models", "import", str(path)))
    assert "unsupported model_type 'mamba'" in line and "qwen3" in line


def test_missing_file(config_home: Path, tmp_path: Path) -> None:
    line = one_error_line(invoke("models", "import", str(tmp_path / "nope.json")))
    assert "cannot read" in line


def test_json_that_is_not_an_object(config_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("[1, 2]")
    assert "expected a JSON object" in one_error_line(invoke("models", "import", str(path)))


def test_bad_name(config_home: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "q", QWEN3_8B)
    line = one_error_line(invoke("models", "import", str(path), "--name", "../escape"))
    assert "--name" in line


# ---- the pure function ------------------------------------------------------------------------


def test_qwen2_has_qkv_bias_and_no_qk_norm() -> None:
    # DeepSeek-R1-Distill-Qwen-14B config.json (Qwen2ForCausalLM); head_dim = 5120 / 40 = 128
    config = {
        "model_type": "qwen2",
        "hidden_size": 5120,
        "num_hidden_layers": 48,
        "num_attention_heads": 40,
        "num_key_value_heads": 8,
        "intermediate_size": 13824,
        "vocab_size": 152064,
        "sliding_window": 131072,  # present but off: use_sliding_window is false
        "use_sliding_window": False,
        "max_window_layers": 48,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
    }
    card = ModelCard.model_validate(card_from_hf_config(config, name="r1-14b"))
    a = card.architecture
    assert a.qkv_bias and not a.o_bias and not a.qk_norm and a.head_dim == 128
    assert card.sliding_window is None
    bundled = load_catalog().models.get("deepseek-r1-distill-qwen-14b").spec
    assert card.total_params == bundled.total_params


def test_mistral_v0_1_window_applies_to_every_layer() -> None:
    config = {
        "model_type": "mistral",
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 14336,
        "vocab_size": 32000,
        "sliding_window": 4096,
    }
    card = ModelCard.model_validate(card_from_hf_config(config, name="mistral-7b-v0.1"))
    assert card.sliding_window is not None
    assert card.sliding_window.layers == list(range(32)) and card.sliding_window.window == 4096
    assert card.kv_bytes_per_token == 0  # nothing grows past the window
    assert card.sliding_kv_bytes_per_token == 2 * 32 * 8 * 128 * 2


def test_deepseek_structure_from_config() -> None:
    card = card_from_hf_config(DEEPSEEK_V3, name="dsv3")
    assert card["moe"]["dense_layers"] == [0, 1, 2]
    assert card["moe"]["shared_experts"] == 1 and card["moe"]["router_bias"]
    assert card["mla"]["kv_lora_rank"] == 512 and card["architecture"]["weight_bytes"] == 1.0
    no_q_lora = card_from_hf_config(dict(DEEPSEEK_V3, q_lora_rank=None), name="dsv2-like")
    assert no_q_lora["mla"]["q_lora_rank"] is None


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"torch_dtype": "bfloat16"}, 2.0),
        ({"torch_dtype": "float32"}, 4.0),
        ({"dtype": "float16"}, 2.0),
        ({}, 2.0),
        ({"quantization_config": {"quant_method": "fp8"}}, 1.0),
        ({"quantization_config": {"quant_method": "mxfp4"}}, 0.53125),  # 4 bits + 8-bit scale / 32
        ({"quantization_config": {"quant_method": "gptq", "bits": 4}}, 0.5),
        # one FP16 scale and one 4-bit zero point per 128 weights: (4 + 20/128) / 8
        (
            {"quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128}},
            0.51953125,
        ),
        ({"quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 64}}, 0.5390625),
        ({"quantization_config": {"quant_method": "gptq", "bits": 8, "group_size": -1}}, 1.0),
    ],
)
def test_weight_bytes(patch: dict[str, Any], expected: float) -> None:
    assert weight_bytes_from_config(patch) == expected


def test_unknown_quantization_and_dtype_are_refused() -> None:
    with pytest.raises(InputError, match="quant_method 'mystery'"):
        weight_bytes_from_config({"quantization_config": {"quant_method": "mystery"}})
    with pytest.raises(InputError, match="torch_dtype 'int3'"):
        weight_bytes_from_config({"torch_dtype": "int3"})


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"num_attention_heads": 32, "num_key_value_heads": 5}, "multiple of num_key_value_heads"),
        ({"hidden_size": "4096"}, "'hidden_size': expected a whole number"),
        ({"mlp_bias": True}, "mlp_bias"),
        ({"layer_types": ["full_attention"] * 3}, "3 entries for 32 hidden layers"),
        # Llama builds no sliding-window layer, whatever layer_types says
        (
            {"layer_types": ["sliding_attention"] * 32},
            "sliding_attention are not supported for model_type 'llama'",
        ),
        ({"model_type": None}, "no 'model_type'"),
        ({"model_type": ["llama"]}, "'model_type': expected a string"),
        ({"is_encoder_decoder": True}, "only decoder-only models"),
        # a layer type Llama does not build would otherwise be priced as full attention
        (
            {"layer_types": ["linear_attention", "full_attention"] * 16},
            "linear_attention are not supported for model_type 'llama'",
        ),
    ],
)
def test_invalid_configs(patch: dict[str, Any], message: str) -> None:
    config = copy.deepcopy(LLAMA_31_8B)
    config.update(patch)
    with pytest.raises(InputError, match=message):
        card_from_hf_config(config, name="x")


def test_default_name(tmp_path: Path) -> None:
    assert default_name(QWEN3_8B, tmp_path / "config.json") == "qwen3-8b"
    assert default_name(
        {"_name_or_path": "/local/ckpt"}, tmp_path / "My Model" / "config.json"
    ) == ("my-model")
    assert default_name({}, tmp_path / "Llama_3.json") == "llama_3"


def test_entry_point_subprocess(tmp_path: Path) -> None:
    """One real run of the package entry point, writing into a fresh user folder."""
    path = write_config(tmp_path / "gpt", GPT_OSS_20B)
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    env.pop("KINETICS_PATH", None)
    done = subprocess.run(
        [sys.executable, "-m", "kinetics_cli", "models", "import", str(path), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["name"] == "gpt" and doc["sliding_window"]["window"] == 128
    assert (tmp_path / "xdg" / "kinetics" / "model_cards" / "gpt.toml").is_file()


# ---- where errors point, names, and what the card records --------------------------------------


def test_config_errors_name_the_config_file(config_home: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "m", dict(QWEN3_8B, num_key_value_heads=5))
    line = one_error_line(invoke("models", "import", str(path)))
    assert line.startswith(f"error: {path.resolve()}: num_attention_heads (32) is not a multiple")
    assert not (config_home / "kinetics" / "model_cards").exists()  # nothing half-written


@pytest.mark.parametrize("name", ["", " ", "../escape", ".hidden", "a b"])
def test_names_must_be_plain(config_home: Path, tmp_path: Path, name: str) -> None:
    path = write_config(tmp_path / "q", QWEN3_8B)
    line = one_error_line(invoke("models", "import", str(path), "--name", name))
    assert f"--name {name!r}: expected a plain name" in line
    assert not (config_home / "kinetics").exists()


def test_overriding_a_bundled_card_is_said(config_home: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "q", QWEN3_8B)
    result = invoke("models", "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["origin"] == "user"
    assert result.stderr == (
        "warning: the imported card 'qwen3-8b' overrides the bundled card of that name\n"
    )


def test_a_name_taken_by_another_user_file_is_refused(config_home: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "q", QWEN3_8B)
    assert invoke("models", "import", str(path), "--name", "q8").exit_code == 0
    folder = config_home / "kinetics" / "model_cards"
    (folder / "q8.toml").rename(folder / "renamed.toml")  # same card name, another file
    line = one_error_line(invoke("models", "import", str(path), "--name", "q8", "--force"))
    assert f"{folder / 'renamed.toml'} already defines a card named 'q8'" in line
    assert sorted(p.name for p in folder.iterdir()) == ["renamed.toml"]


def test_card_records_its_origin(config_home: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path / "q", QWEN3_8B)
    card = card_from_hf_config(QWEN3_8B, name="q8", source=str(path))
    assert card["sources"] == [
        f"huggingface.co/Qwen/Qwen3-8B config.json, read from {path} "
        "(imported with 'kinetics models import')"
    ]
    local = {k: v for k, v in QWEN3_8B.items() if k != "_name_or_path"}
    assert card_from_hf_config(local, name="q8", source=str(path))["sources"] == [
        f"{path} (imported with 'kinetics models import')"
    ]


def test_config_that_is_not_utf8(config_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b'{"model_type": "\xff"}')
    line = one_error_line(invoke("models", "import", str(path)))
    assert line == f"error: {path}: not valid JSON: not UTF-8 text (byte 16)"


# ---- absurd values: refused before any per-layer list is built ---------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"num_hidden_layers": 10**30}, "an integer of 31 digits is beyond the plausible range"),
        ({"num_hidden_layers": 1e20}, "expected a whole number >= 1"),
        ({"num_hidden_layers": 1_000_000}, "1,000,000 is beyond the plausible range 1 to 1,000"),
        (
            {"num_hidden_layers": 300_000_000, "use_sliding_window": True, "sliding_window": 4096},
            "beyond the plausible range",
        ),
        ({"quantization_config": {"bits": 1e999}}, "quantization_config.bits': expected 0.5 to 64"),
        ({"quantization_config": {"bits": 10**400}}, "quantization_config.bits'"),
        ({"max_position_embeddings": 10**20}, "'max_position_embeddings'"),
        ({"vocab_size": 10**12}, "vocab_size"),
    ],
)
def test_absurd_config_values_are_one_line(
    config_home: Path, tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    text = json.dumps(dict(QWEN3_8B, **changes)).replace("Infinity", "1e999")
    path = tmp_path / "config.json"
    path.write_text(text)
    line = one_error_line(invoke("models", "import", str(path), "--name", "big"))
    assert message in line
    assert len(line) < 400
    assert not (config_home / "kinetics" / "model_cards").exists()


def test_integer_beyond_python_digit_limit_is_one_line(config_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(QWEN3_8B).replace('"vocab_size": 151936', '"vocab_size": ' + "9" * 5000)
    )
    line = one_error_line(invoke("models", "import", str(path)))
    assert "not a config this tool can read" in line


def test_written_toml_integers_fit_in_64_bits() -> None:
    from kinetics_cli.tomlio import dumps_toml

    assert dumps_toml({"a": 2**63 - 1}) == f"a = {2**63 - 1}\n"
    with pytest.raises(ValueError, match="beyond 64 bits"):
        dumps_toml({"a": 2**63})


def test_importing_another_architecture_under_a_bundled_name_needs_force(
    config_home: Path, tmp_path: Path
) -> None:
    """qwen3-8b's accuracy data would silently apply to a different model."""
    path = write_config(tmp_path / "q", dict(QWEN3_8B, num_hidden_layers=40))
    line = one_error_line(invoke("models", "import", str(path), "--name", "qwen3-8b"))
    assert "'qwen3-8b' is the bundled card" in line
    assert "architecture.layers 36 -> 40" in line and "--force" in line
    assert not (config_home / "kinetics" / "model_cards").exists()
    forced = invoke("models", "import", str(path), "--name", "qwen3-8b", "--force")
    assert forced.exit_code == 0, forced.output
    assert "overrides the bundled card" in forced.stderr
    same = write_config(tmp_path / "same", QWEN3_8B)  # the same shape: no question asked
    assert invoke("models", "import", str(same), "--name", "qwen3-8b", "--force").exit_code == 0


def test_tied_dense_golden_counts() -> None:
    """Qwen3-0.6B, tied: embedding 151936 * 1024 = 155,582,464 counted once. Per layer: q 1024*2048
    + k, v 2*1024*1024 + o 2048*1024 = 6,291,456; MLP 3*1024*3072 = 9,437,184; norms 2*1024 +
    QK-norm 2*128 = 2,304; 15,730,944 * 28 = 440,466,432, + final norm 1,024 = 440,467,456
    non-embedding (the card: 0.44B); total 596,049,920. KV: 2 * 28 * 8 * 128 * 2 = 114,688 B."""
    spec = ModelCard.model_validate(card_from_hf_config(QWEN3_0_6B, name="q"))
    assert spec.non_embedding_params == 440_467_456
    assert spec.total_params == 596_049_920
    assert spec.kv_bytes_per_token == 114_688
    assert spec.weight_bytes == 596_049_920 * 2


def test_float32_checkpoint_keeps_embedding_at_float32() -> None:
    """An FP32 checkpoint stores every tensor at 4 bytes: Qwen3-8B's 8,190,735,360 weights are
    32,762,941,440 bytes (the embedding and LM head at 2 bytes would give 30.27e9)."""
    spec = ModelCard.model_validate(
        card_from_hf_config(dict(QWEN3_8B, torch_dtype="float32"), name="q")
    )
    assert spec.total_params == 8_190_735_360
    assert spec.weight_bytes == 8_190_735_360 * 4
    fp8 = card_from_hf_config(dict(QWEN3_8B, quantization_config={"quant_method": "fp8"}), name="q")
    assert fp8["architecture"]["embedding_bytes"] == 2.0  # only the matmuls are quantized


def test_multimodal_config_is_named(config_home: Path, tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "vl", {"model_type": "qwen2_5_vl", "text_config": {"model_type": "qwen2"}}
    )
    line = one_error_line(invoke("models", "import", str(path)))
    assert str(path.resolve()) in line and "'qwen2_5_vl'" in line and "text_config" in line


def test_multi_token_prediction_layers_are_said(config_home: Path, tmp_path: Path) -> None:
    """DeepSeek-V3's config has one MTP layer, which the card (671B, as published) leaves out."""
    path = write_config(tmp_path / "dsv3", DEEPSEEK_V3)
    result = invoke("models", "import", str(path), "--name", "dsv3")
    assert result.exit_code == 0, result.output
    assert "num_nextn_predict_layers = 1" in result.stderr and "not modelled" in result.stderr
    quiet = invoke("models", "import", str(write_config(tmp_path / "q", QWEN3_8B)), "--name", "q")
    assert "not modelled" not in quiet.stderr


def test_a_config_without_head_dim_gets_its_model_types_default() -> None:
    """transformers builds Qwen3 with head_dim 128, Qwen3-Next with 256 and gpt-oss with 64 when
    the config leaves head_dim out (their config classes' defaults), not hidden / heads: without
    the field, Qwen3-0.6B (hidden 1024, 16 heads) is still 596,049,920 parameters and 114,688 KV
    bytes per token (test_tied_dense_golden_counts), not 508M and 57,344 B at head_dim 64."""
    trimmed = {k: v for k, v in QWEN3_0_6B.items() if k != "head_dim"}
    spec = ModelCard.model_validate(card_from_hf_config(trimmed, name="q"))
    assert spec.architecture.head_dim == 128
    assert spec.total_params == 596_049_920
    assert spec.kv_bytes_per_token == 114_688
    next_arch = card_from_hf_config(
        {k: v for k, v in QWEN3_NEXT.items() if k != "head_dim"}, name="n"
    )["architecture"]
    assert next_arch["head_dim"] == 256  # 2048 / 16 = 128 would halve its full layers' cache
    oss = {k: v for k, v in GPT_OSS_20B.items() if k not in ("head_dim", "attention_bias")}
    oss_arch = card_from_hf_config(oss, name="o")["architecture"]
    assert oss_arch["head_dim"] == 64  # 2880 / 64 = 45
    assert oss_arch["qkv_bias"] and oss_arch["o_bias"]  # GptOssConfig: attention_bias = True
    llama = card_from_hf_config(
        {k: v for k, v in QWEN3_8B.items() if k != "head_dim"} | {"model_type": "llama"}, name="l"
    )
    assert llama["architecture"]["head_dim"] == 4096 // 32  # Llama: hidden / heads


# ---- fields a config leaves out: transformers' config-class defaults ----------------------------


def _without(config: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in keys}


def _spec(config: dict[str, Any]) -> ModelCard:
    return ModelCard.model_validate(card_from_hf_config(config, name="x"))


def test_gpt_oss_without_layer_types_alternates_sliding_and_full() -> None:
    """GptOssConfig fills layer_types with sliding where (i + 1) % 2 (layers 0, 2, ..., 22) and
    sliding_window with 128. gpt-oss-20b: 12 full layers grow the cache by 12 * 2 (K, V) * 8 KV
    heads * 64 * 2 bytes = 24,576 B per token; the 12 sliding ones hold as much per token, up to
    128 tokens. Without the default every layer was full: 49,152 B per token, no window."""
    spec = _spec(_without(GPT_OSS_20B, "layer_types"))
    assert spec.sliding_window is not None and spec.sliding_window.window == 128
    assert spec.sliding_window.layers == list(range(0, 24, 2))
    assert spec.kv_bytes_per_token == 12 * 2 * 8 * 64 * 2 == 24_576
    assert spec.sliding_kv_bytes_per_token == 24_576
    assert _spec(_without(GPT_OSS_20B, "layer_types", "sliding_window")) == spec
    assert _spec(GPT_OSS_20B).kv_bytes_per_token == 24_576  # as the published config spells it
    assert _spec(dict(GPT_OSS_20B, sliding_window=None)).sliding_window is None  # null: no window


def test_qwen3_sliding_window_defaults() -> None:
    """Qwen3Config: max_window_layers 28 and sliding_window 4096 when left out, used only with
    use_sliding_window. Qwen3-8B (36 layers) with it on: layers 28..35 slide at 4096, the other
    28 grow by 28 * 2 * 8 KV heads * 128 * 2 B = 114,688 B per token (not 36 layers' 147,456)."""
    on = dict(_without(QWEN3_8B, "max_window_layers", "sliding_window"), use_sliding_window=True)
    spec = _spec(on)
    assert spec.sliding_window is not None
    assert spec.sliding_window.window == 4096 and spec.sliding_window.layers == list(range(28, 36))
    assert spec.kv_bytes_per_token == 28 * 2 * 8 * 128 * 2 == 114_688
    assert spec.sliding_kv_bytes_per_token == 8 * 2 * 8 * 128 * 2 == 32_768
    # use_sliding_window false nulls sliding_window, so no layer slides, whatever else is set
    off = dict(QWEN3_8B, sliding_window=4096, layer_types=["sliding_attention"] * 36)
    assert _spec(off).sliding_window is None
    assert _spec(off).kv_bytes_per_token == 36 * 2 * 8 * 128 * 2 == 147_456
    assert _spec(dict(on, sliding_window=None)).sliding_window is None


def test_qwen3_moe_expert_count_under_either_name() -> None:
    """Qwen3MoeConfig's attribute_map makes num_experts an alias of num_local_experts, and a
    config saved by a newer transformers carries only the latter: the same card either way."""
    renamed = dict(_without(QWEN3_30B_A3B, "num_experts"), num_local_experts=128)
    assert _spec(renamed) == _spec(QWEN3_30B_A3B)
    both = dict(QWEN3_30B_A3B, num_local_experts=64)
    with pytest.raises(InputError, match=r"'num_experts' \(128\) and 'num_local_experts' \(64\)"):
        card_from_hf_config(both, name="x")
    with pytest.raises(InputError, match="no 'num_experts' or 'num_local_experts'"):
        card_from_hf_config(_without(QWEN3_30B_A3B, "num_experts"), name="x")
    mixtral = dict(_without(MIXTRAL_8X7B, "num_local_experts"), num_experts=8)
    assert _spec(mixtral) == _spec(MIXTRAL_8X7B)


def test_qwen3_moe_sliding_window_is_every_layer() -> None:
    """Qwen3-MoE's attention takes config.sliding_window on every layer (its config class has no
    max_window_layers): all 48 layers of Qwen3-30B-A3B slide at the default 4096, and nothing
    grows past the window."""
    spec = _spec(dict(_without(QWEN3_30B_A3B, "sliding_window"), use_sliding_window=True))
    assert spec.sliding_window is not None
    assert spec.sliding_window.window == 4096 and spec.sliding_window.layers == list(range(48))
    assert spec.kv_bytes_per_token == 0
    assert spec.sliding_kv_bytes_per_token == 48 * 2 * 4 * 128 * 2 == 98_304


def test_missing_kv_heads_take_the_config_class_default() -> None:
    """MixtralConfig defaults num_key_value_heads to 8, not to num_attention_heads (32): Mixtral
    8x7B stays 46,702,792,704 parameters and 2 * 32 * 8 * 128 * 2 = 131,072 KV bytes per token
    (at 32 KV heads: 47,508,099,072 and 524,288). An explicit null is num_attention_heads."""
    mixtral = _spec(_without(MIXTRAL_8X7B, "num_key_value_heads"))
    assert mixtral.architecture.kv_heads == 8
    assert mixtral == _spec(MIXTRAL_8X7B)
    assert mixtral.kv_bytes_per_token == 2 * 32 * 8 * 128 * 2 == 131_072
    # 32 layers * (attention 41,943,040 + 8 experts * 176,160,768 + router 4096 * 8 + norms 8192)
    # + final norm 4096 + embedding and LM head 2 * 32000 * 4096
    assert mixtral.total_params == 32 * (41_943_040 + 8 * 176_160_768 + 32_768 + 8_192) + (
        4_096 + 2 * 32_000 * 4_096
    )
    assert _spec(dict(MIXTRAL_8X7B, num_key_value_heads=None)).architecture.kv_heads == 32
    # Qwen3Config's default is 32: a 16-head Qwen3 config without the field is not buildable
    with pytest.raises(InputError, match="transformers' qwen3 default is 32"):
        card_from_hf_config(_without(QWEN3_0_6B, "num_key_value_heads"), name="x")
    llama = _spec(_without(LLAMA_31_8B, "num_key_value_heads"))
    assert llama.architecture.kv_heads == 32  # LlamaConfig: num_attention_heads


def test_mistral_defaults_window_and_ignores_attention_bias() -> None:
    """MistralConfig's sliding_window defaults to 4096 and its attention is built with
    bias=False: a Mistral-7B-v0.1 config without sliding_window windows all 32 layers at 4096
    (2 * 32 * 8 * 128 * 2 = 131,072 B per token, none growing past the window)."""
    base = {
        "model_type": "mistral",
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 14336,
        "vocab_size": 32000,
    }
    spec = _spec(base)
    assert spec.sliding_window is not None
    assert spec.sliding_window.window == 4096 and spec.sliding_window.layers == list(range(32))
    assert spec.kv_bytes_per_token == 0
    assert spec.sliding_kv_bytes_per_token == 131_072
    assert _spec(dict(base, sliding_window=None)).sliding_window is None  # Mistral-7B-v0.3
    biased = _spec(dict(base, attention_bias=True, mlp_bias=True))
    assert not biased.architecture.qkv_bias and not biased.architecture.o_bias
    assert biased.total_params == spec.total_params
    with pytest.raises(InputError, match="not supported for model_type 'mistral'"):
        card_from_hf_config(
            dict(base, layer_types=["sliding_attention", "full_attention"] * 16), name="x"
        )


def test_deepseek_defaults_shared_expert_and_q_lora() -> None:
    """DeepseekV3Config defaults n_shared_experts to 1 and q_lora_rank to 1536, DeepSeek-V3's own
    values: the card is the published config's (671,026,419,200 parameters). A null means none,
    as DeepSeek's own modelling code has it: 676,243,515,392, i.e. + 61 layers * (q 7168 * 128 *
    192 - (7168 * 1536 + norm 1536 + 1536 * 128 * 192)) = 7,771,427,328 for the uncompressed
    query, - 58 MoE layers * 3 * 7168 * 2048 = 2,554,331,136 for the shared expert."""
    spec = _spec(_without(DEEPSEEK_V3, "n_shared_experts", "q_lora_rank"))
    assert spec == _spec(DEEPSEEK_V3)
    assert spec.total_params == 671_026_419_200
    nulls = _spec(dict(DEEPSEEK_V3, n_shared_experts=None, q_lora_rank=None))
    assert nulls.moe is not None and nulls.moe.shared_experts == 0
    assert nulls.mla is not None and nulls.mla.q_lora_rank is None
    q_full = 7168 * 128 * 192
    q_lora = 7168 * 1536 + 1536 + 1536 * 128 * 192  # down, its norm, up
    assert nulls.total_params - spec.total_params == 61 * (q_full - q_lora) - 58 * 3 * 7168 * 2048
    assert nulls.total_params == 676_243_515_392


def test_qwen3_next_defaults_shared_expert_and_interval() -> None:
    """Qwen3NextConfig: shared_expert_intermediate_size 512 (its sparse block always builds the
    shared expert) and full_attention_interval 4 when left out: the published card."""
    trimmed = _without(QWEN3_NEXT, "shared_expert_intermediate_size", "full_attention_interval")
    spec = _spec(trimmed)
    assert spec == _spec(QWEN3_NEXT)
    assert spec.moe is not None and spec.moe.shared_experts == 1
    assert spec.linear_attention is not None
    assert spec.linear_attention.layers == [i for i in range(48) if (i + 1) % 4]
    no_shared = _spec(dict(QWEN3_NEXT, shared_expert_intermediate_size=0))
    assert no_shared.moe is not None and no_shared.moe.shared_experts == 0


def test_mlp_bias_is_read_for_llama_only() -> None:
    """Only LlamaMLP reads mlp_bias; Qwen3 builds its MLP with bias=False whatever the config."""
    assert _spec(dict(QWEN3_8B, mlp_bias=True)) == _spec(QWEN3_8B)
    with pytest.raises(InputError, match="mlp_bias"):
        card_from_hf_config(dict(LLAMA_31_8B, mlp_bias=True), name="x")


def test_gpt_oss_routes_by_num_experts_per_tok() -> None:
    """transformers' gpt-oss router reads num_experts_per_tok (default 4), not OpenAI's
    experts_per_token: without the former the card routes 4 experts per token, and an
    experts_per_token that says otherwise is refused rather than silently used or dropped."""
    only_own = _without(GPT_OSS_20B, "num_experts_per_tok")
    moe = _spec(only_own).moe
    assert moe is not None and moe.experts_per_token == 4
    assert _spec(only_own) == _spec(GPT_OSS_20B)
    with pytest.raises(
        InputError,
        match=r"'num_experts_per_tok' \(4, transformers' default\) and 'experts_per_token' \(2\)",
    ):
        card_from_hf_config(dict(only_own, experts_per_token=2), name="x")
    with pytest.raises(InputError, match=r"'num_experts_per_tok' \(8\) and 'experts_per_token'"):
        card_from_hf_config(dict(GPT_OSS_20B, num_experts_per_tok=8), name="x")
