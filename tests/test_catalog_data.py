"""The bundled catalog data: every entry validates, derived figures match the publishers' and the
hand-computed references (arithmetic shown), and names resolve the way users type them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinetics_cli.catalog import HARDWARE_DIR, MODELS_DIR, bundled_root, load_catalog, load_spec
from kinetics_cli.specs import HardwareProfile, ModelCard

HARDWARE_FILES = sorted((bundled_root() / HARDWARE_DIR).glob("*.toml"))
MODEL_FILES = sorted((bundled_root() / MODELS_DIR).glob("*.toml"))


def _card(name: str) -> ModelCard:
    return load_catalog().models.get(name).spec


def _profile(name: str) -> HardwareProfile:
    return load_catalog().hardware.get(name).spec


# ---- every bundled entry validates ------------------------------------------------------------


def test_bundled_catalog_has_the_required_entries() -> None:
    catalog = load_catalog()
    assert not catalog.skipped
    for name in ("b200", "h100-sxm", "h200", "a100-80gb-sxm", "gb200", "mi300x"):
        assert catalog.hardware.find(name) is not None, name
    for name in (
        "qwen3-0.6b",
        "qwen3-1.7b",
        "qwen3-4b",
        "qwen3-8b",
        "qwen3-14b",
        "qwen3-32b",
        "qwen3-30b-a3b",
        "qwen3-235b-a22b",
        "deepseek-r1-distill-qwen-1.5b",
        "deepseek-r1-distill-qwen-7b",
        "deepseek-r1-distill-qwen-14b",
        "deepseek-r1-distill-qwen-32b",
        "llama-3.1-8b",
        "llama-3.1-70b",
        "gpt-oss-20b",
        "gpt-oss-120b",
        "deepseek-v3",
    ):
        assert catalog.models.find(name) is not None, name


@pytest.mark.parametrize("path", HARDWARE_FILES, ids=lambda p: p.stem)
def test_hardware_profile_validates(path: Path) -> None:
    spec = load_spec(path, HardwareProfile)
    assert spec.name == path.stem  # one entry per file, named like its key
    assert spec.sources and all(s.strip() for s in spec.sources)
    assert spec.interconnect_bandwidth > 0 and spec.tdp_watts
    if spec.price_per_gpu_hour is not None:
        assert spec.price_source, "a price needs its source"


@pytest.mark.parametrize("path", HARDWARE_FILES, ids=lambda p: p.stem)
def test_hardware_peaks_are_dense(path: Path) -> None:
    """Dense FP8 is twice dense BF16 on every bundled accelerator (L40S: 733 / 362.05 = 2.02).

    A profile that typed NVIDIA's sparse BF16 headline next to a dense FP8 would show a ratio of 1.
    """
    spec = load_spec(path, HardwareProfile)
    if "fp8" in spec.peak_flops:
        assert 1.9 < spec.peak_flops["fp8"] / spec.peak_flops["bf16"] < 2.1


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
def test_model_card_validates(path: Path) -> None:
    spec = load_spec(path, ModelCard)
    assert spec.name == path.stem
    assert spec.sources and all(s.strip() for s in spec.sources)
    if spec.hf_id:
        assert spec.hf_id in spec.aliases or spec.hf_id.lower() == spec.name.lower()
    assert spec.total_params > spec.non_embedding_params > 0
    assert 0 < spec.active_params <= spec.total_params
    # every bundled card states its context window, with the config it comes from on that line
    assert spec.architecture.max_position_embeddings is not None
    line = next(x for x in path.read_text().splitlines() if x.startswith("max_position_embeddings"))
    assert "config.json" in line


def test_aliases_do_not_collide() -> None:
    """No alias (compared case-insensitively) names two bundled entries."""
    for files, kind in ((HARDWARE_FILES, HardwareProfile), (MODEL_FILES, ModelCard)):
        owner: dict[str, str] = {}
        for path in files:
            spec = load_spec(path, kind)  # type: ignore[type-var]
            for alias in {a.lower() for a in [spec.name, *spec.aliases]}:  # type: ignore[attr-defined]
                assert alias not in owner, f"{alias!r}: {owner.get(alias)} and {path.stem}"
                owner[alias] = path.stem


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("h100", "h100-sxm"),
        ("H100", "h100-sxm"),
        ("h100-sxm5", "h100-sxm"),
        ("h200-sxm", "h200"),
        ("a100", "a100-80gb-sxm"),
        ("a100-80gb", "a100-80gb-sxm"),
        ("GB200", "gb200"),
        ("MI300X", "mi300x"),
    ],
)
def test_hardware_aliases(typed: str, name: str) -> None:
    assert load_catalog().hardware.get(typed).spec.name == name


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Qwen/Qwen3-32B", "qwen3-32b"),
        ("qwen/qwen3-30b-a3b", "qwen3-30b-a3b"),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "deepseek-r1-distill-qwen-14b"),
        ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ("meta-llama/Meta-Llama-3.1-8B", "llama-3.1-8b"),
        ("openai/gpt-oss-20b", "gpt-oss-20b"),
        ("deepseek-ai/DeepSeek-V3", "deepseek-v3"),
        ("deepseek-ai/DeepSeek-R1", "deepseek-v3"),
    ],
)
def test_model_aliases(typed: str, name: str) -> None:
    assert load_catalog().models.get(typed).spec.name == name


# ---- derived parameter counts against the publishers' figures ---------------------------------

PUBLISHED = [p.stem for p in MODEL_FILES if load_spec(p, ModelCard).published is not None]


@pytest.mark.parametrize("name", PUBLISHED)
def test_derived_counts_match_published_within_2_percent(name: str) -> None:
    """Compare like with like.

    Derived `active_params` counts every matmul weight one token passes through, the LM head
    included and the embedding lookup excluded. Most publishers also count the input embedding in
    "activated" (`active_counts_embedding = true`), so it is added before comparing: Qwen3-30B-A3B's
    3.3B ~= 3.04B derived + 0.31B embedding (151936 x 2048) = 3.35B. OpenAI's gpt-oss figures count
    the unembedding but not the embedding (`false`): gpt-oss-20b 3.61B ~= 3.608B derived.
    """
    card = _card(name)
    published = card.published
    assert published is not None
    checked = 0
    if published.total_params:
        assert card.total_params == pytest.approx(published.total_params, rel=0.02)
        checked += 1
    if published.non_embedding_params:
        assert card.non_embedding_params == pytest.approx(published.non_embedding_params, rel=0.02)
        checked += 1
    if published.active_params:
        ours = card.active_params
        if published.active_counts_embedding:
            ours += card.embedding_params
        assert ours == pytest.approx(published.active_params, rel=0.02)
        checked += 1
    assert checked
    assert card.published_mismatches() == []  # what a user card is warned against


def test_every_moe_card_with_a_published_active_count_is_checked() -> None:
    for name in ("qwen3-30b-a3b", "qwen3-235b-a22b", "gpt-oss-20b", "gpt-oss-120b", "deepseek-v3"):
        published = _card(name).published
        assert published is not None and published.active_params, name


def test_qwen2_layout_against_qwq_32b() -> None:
    """The Qwen2 counting rules (bias on q, k, v) against a published Qwen2-layout figure.

    DeepSeek-R1-Distill-Qwen-32B has the architecture of Qwen2.5-32B / QwQ-32B (64 layers, 5120
    hidden, 40/8 heads, MLP 27648, vocab 152064, untied). The QwQ-32B model card states 32.5B
    parameters, 31.0B non-embedding (huggingface.co/Qwen/QwQ-32B, README at commit 7d91199).
    """
    card = _card("deepseek-r1-distill-qwen-32b")
    assert card.total_params == pytest.approx(32.5e9, rel=0.02)
    assert card.non_embedding_params == pytest.approx(31.0e9, rel=0.02)


@pytest.mark.parametrize(
    ("name", "total"),
    [
        # embed V*H + L*[attention + 3*H*I + 2H] + H (+ V*H untied); Qwen2 attention adds q/k/v bias
        ("deepseek-r1-distill-qwen-1.5b", 1.777e9),
        ("deepseek-r1-distill-qwen-7b", 7.616e9),
        ("deepseek-r1-distill-qwen-14b", 14.770e9),
        ("deepseek-r1-distill-qwen-32b", 32.764e9),
        ("llama-3.1-8b", 8.030e9),
        ("llama-3.1-70b", 70.554e9),
    ],
)
def test_totals_without_a_publisher_figure(name: str, total: float) -> None:
    """Totals counted by hand from the architecture (embedding + layers + norms + untied head), to 0.1%.

    E.g. llama-3.1-8b: 128256*4096*2 + 32 x [4096*4096*2 + 2*4096*1024 + 3*4096*14336 + 2*4096]
    + 4096 = 1,050,673,152 + 32 x 218,112,000 + 4096 = 8,030,261,248.
    """
    assert _card(name).total_params == pytest.approx(total, rel=1e-3)


def test_r1_distill_1_5b_counts_its_untied_head() -> None:
    # layers: 28 x [q 1536*1536 + k,v 2*1536*256 + o 1536*1536 + biases 1536+2*256
    #               + MLP 3*1536*8960 + norms 2*1536] = 28 x 46,797,824 = 1,310,339,072
    # embedding 151936*1536 = 233,373,696, counted twice (untied); final norm 1536
    card = _card("deepseek-r1-distill-qwen-1.5b")
    assert card.total_params == 1_310_339_072 + 2 * 233_373_696 + 1536 == 1_777_088_000
    assert card.published is None  # "1.5B" is a size class, not a published count


# ---- KV-cache bytes per token ----------------------------------------------------------------

KV_BYTES = [
    # name, bytes/token, arithmetic: 2 (K, V) x layers x kv_heads x head_dim x 2 bytes (BF16)
    ("qwen3-0.6b", 114_688, 2 * 28 * 8 * 128 * 2),
    ("qwen3-1.7b", 114_688, 2 * 28 * 8 * 128 * 2),
    ("qwen3-4b", 147_456, 2 * 36 * 8 * 128 * 2),
    ("qwen3-8b", 147_456, 2 * 36 * 8 * 128 * 2),
    ("qwen3-14b", 163_840, 2 * 40 * 8 * 128 * 2),
    ("qwen3-32b", 262_144, 2 * 64 * 8 * 128 * 2),
    ("qwen3-30b-a3b", 98_304, 2 * 48 * 4 * 128 * 2),
    ("qwen3-235b-a22b", 192_512, 2 * 94 * 4 * 128 * 2),
    ("deepseek-r1-distill-qwen-1.5b", 28_672, 2 * 28 * 2 * 128 * 2),
    ("deepseek-r1-distill-qwen-7b", 57_344, 2 * 28 * 4 * 128 * 2),
    ("deepseek-r1-distill-qwen-14b", 196_608, 2 * 48 * 8 * 128 * 2),
    ("deepseek-r1-distill-qwen-32b", 262_144, 2 * 64 * 8 * 128 * 2),
    ("llama-3.1-8b", 131_072, 2 * 32 * 8 * 128 * 2),
    ("llama-3.1-70b", 327_680, 2 * 80 * 8 * 128 * 2),
    # MLA: one cached latent of 512 + 64 shared RoPE key per layer, no K/V split: 576 x 61 x 2 B
    ("deepseek-v3", 70_272, 576 * 61 * 2),
    # gpt-oss: only the 12 / 18 full-attention (odd) layers grow with the context
    ("gpt-oss-20b", 24_576, 2 * 12 * 8 * 64 * 2),
    ("gpt-oss-120b", 36_864, 2 * 18 * 8 * 64 * 2),
    # Qwen3-Next: 12 gated full-attention layers x 2 KV heads x 256
    ("qwen3-next-80b-a3b", 24_576, 2 * 12 * 2 * 256 * 2),
]


@pytest.mark.parametrize(("name", "expected", "arithmetic"), KV_BYTES, ids=[k[0] for k in KV_BYTES])
def test_kv_bytes_per_token(name: str, expected: int, arithmetic: int) -> None:
    assert expected == arithmetic
    assert _card(name).kv_bytes_per_token == expected


def test_sliding_window_layers_of_gpt_oss() -> None:
    """Even layers 0, 2, 4, ... are sliding (window 128); their cache stops growing at 128 tokens."""
    card = _card("gpt-oss-20b")
    assert card.sliding_window is not None
    assert card.sliding_window.window == 128
    assert card.sliding_window.layers == list(range(0, 24, 2))
    assert [card.layer_kind(i) for i in (0, 1, 22, 23)] == ["sliding", "full", "sliding", "full"]
    assert card.sliding_kv_bytes_per_token == 2 * 12 * 8 * 64 * 2 == 24_576
    # at 32k tokens: 24,576 x 32,768 (full) + 24,576 x 128 (sliding)
    assert card.kv_cache_bytes(32_768) == 24_576 * 32_768 + 24_576 * 128


def test_qwen3_next_state_is_fixed_per_sequence() -> None:
    """36 Gated DeltaNet layers each hold 32 value heads x 128 x 128 fp32 state (75,497,472 B)
    and the short convolution's last conv_kernel - 1 = 3 inputs of its q, k and v channels,
    2 x 16 x 128 + 32 x 128 = 8,192, in bf16 (1,769,472 B): 77,266,944 B."""
    card = _card("qwen3-next-80b-a3b")
    la = card.linear_attention
    assert la is not None and la.conv_channels == 8192
    recurrent = 36 * 32 * 128 * 128 * 4
    conv = 36 * 3 * 8192 * 2
    assert (recurrent, conv) == (75_497_472, 1_769_472)
    assert card.state_bytes_per_sequence == recurrent + conv == 77_266_944
    assert [card.layer_kind(i) for i in range(4)] == ["linear", "linear", "linear", "full"]


def test_deepseek_v3_structure() -> None:
    card = _card("deepseek-v3")
    assert card.moe is not None and card.moe.dense_layers == [0, 1, 2]
    assert not card.is_moe_layer(2) and card.is_moe_layer(3)
    dense = card.layer_params(0)
    assert dense.mlp_total == 3 * 7168 * 18432  # SwiGLU of width 18432
    moe = card.layer_params(3)
    expert = 3 * 7168 * 2048
    router = 7168 * 256 + 256  # gate weights plus the per-expert score-correction bias
    assert moe.mlp_total == 256 * expert + expert + router  # routed + 1 shared + router
    assert moe.mlp_active == 8 * expert + expert + router
    assert card.architecture.weight_bytes == 1.0  # FP8 checkpoint


# ---- hardware intensities ---------------------------------------------------------------------

INTENSITY = [
    # name, FLOPs/byte, arithmetic: dense bf16 FLOP/s / HBM bytes/s
    ("b200", 281.25, 2.25e15 / 8e12),
    ("gb200", 312.5, 2.5e15 / 8e12),
    ("h100-sxm", 295.34, 989.4e12 / 3.35e12),
    ("h200", 206.13, 989.4e12 / 4.8e12),
    ("h100-pcie", 378.0, 756e12 / 2.0e12),
    ("a100-80gb-sxm", 153.02, 312e12 / 2.039e12),
    ("l40s", 419.04, 362.05e12 / 864e9),
    ("mi300x", 246.68, 1307.4e12 / 5.3e12),
    ("mi325x", 217.9, 1307.4e12 / 6.0e12),
    ("mi355x", 314.58, 2516.6e12 / 8.0e12),
]


@pytest.mark.parametrize(
    ("name", "expected", "arithmetic"), INTENSITY, ids=[i[0] for i in INTENSITY]
)
def test_intensity(name: str, expected: float, arithmetic: float) -> None:
    assert arithmetic == pytest.approx(expected, abs=0.01)
    assert _profile(name).intensity == pytest.approx(arithmetic, rel=1e-12)


def test_b200_intensity_is_dense_not_the_papers_562_5() -> None:
    """The paper's 562.5 = 4.5e15 / 8e12 uses the sparse-BF16 (= dense FP8) peak; dense BF16 gives
    2.25e15 / 8e12 = 281.25. The FP8 peak reproduces the paper's constant."""
    b200 = _profile("b200")
    assert b200.intensity == 281.25
    assert b200.peak("fp8") / b200.hbm_bandwidth == 562.5


@pytest.mark.parametrize(
    ("name", "one_way"),
    [
        ("h100-sxm", 450e9),  # NVLink 4: 18 links x 25 GB/s per direction ("900 GB/s" is both)
        ("h200", 450e9),
        ("a100-80gb-sxm", 300e9),  # NVLink 3: 600 GB/s both directions
        ("b200", 900e9),  # NVLink 5: 1.8 TB/s both directions
        ("gb200", 900e9),
        ("mi300x", 448e9),  # xGMI: 7 links x 64 GB/s per direction
    ],
)
def test_interconnect_is_one_direction_per_gpu(name: str, one_way: float) -> None:
    assert _profile(name).interconnect_bandwidth == one_way


def test_gb200_node_is_the_nvlink_domain() -> None:
    assert _profile("gb200").gpus_per_node == 72


@pytest.mark.parametrize(
    ("name", "window"),
    [  # HF config.json max_position_embeddings (facts: B1, B2)
        ("qwen3-8b", 40_960),
        ("qwen3-235b-a22b", 40_960),
        ("deepseek-r1-distill-qwen-7b", 131_072),
        ("llama-3.1-70b", 131_072),
        ("gpt-oss-120b", 131_072),
        ("deepseek-v3", 163_840),
        ("qwen3-next-80b-a3b", 262_144),
    ],
)
def test_context_windows(name: str, window: int) -> None:
    assert _card(name).architecture.max_position_embeddings == window


def test_every_bundled_host_is_charged_the_same_host_time_per_sequence() -> None:
    """The engine's host work per scheduled sequence is CPU-side: one measurement (TensorRT-LLM,
    45.11 ms per iteration / 1,536 sequences = 29.4 us) is applied to every bundled part's host,
    AMD's included; charging none on some parts made them look up to 3x cheaper at large batches
    for host time alone."""
    charged = {}
    for path in HARDWARE_FILES:
        efficiency = load_spec(path, HardwareProfile).efficiency
        assert efficiency is not None, path.name
        charged[path.stem] = efficiency.host_seconds_per_sequence
    assert charged["mi300x"] == pytest.approx(45.11e-3 / 1536, rel=0.002)
    assert set(charged.values()) == {29.4e-6}, charged
