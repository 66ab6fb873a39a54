"""specs: schema validation and figures derived from the architecture."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kinetics_cli.specs import Calibration, HardwareProfile, KernelFit, ModelCard

BASE_ARCH = {
    "layers": 2,
    "hidden_size": 64,
    "attention_heads": 4,
    "kv_heads": 1,
    "head_dim": 32,
    "intermediate_size": 256,
    "vocab_size": 1000,
    "tie_embeddings": True,
}


def card(**overrides: object) -> ModelCard:
    data: dict[str, object] = {
        "name": "tiny",
        "family": "tiny",
        "sources": ["test"],
        "architecture": dict(BASE_ARCH),
    }
    data.update(overrides)
    return ModelCard.model_validate(data)


def test_dense_gqa_counts_by_hand() -> None:
    m = card()
    # attention per layer: q 64*128 + k 64*32 + v 64*32 + o 128*64 = 20480
    # MLP per layer (SwiGLU): 3*64*256 = 49152; norms 2*64 = 128
    # embedding 1000*64 = 64000, tied; final norm 64
    assert m.total_params == 64000 + 2 * (20480 + 49152 + 128) + 64 == 203584
    assert m.non_embedding_params == 203584 - 64000
    # active: matmuls a token passes through, LM head (64000) included, norms excluded
    assert m.active_params == 2 * (20480 + 49152) + 64000
    # KV per token: 2 (K, V) * 2 layers * 1 kv head * 32 dims * 2 bytes = 256
    assert m.kv_bytes_per_token == 256
    assert m.kv_cache_bytes(1000) == 256_000


def test_untied_counts_head_separately() -> None:
    arch = dict(BASE_ARCH, tie_embeddings=False)
    m = card(architecture=arch)
    assert m.total_params == 203584 + 64000
    assert m.non_embedding_params == 203584 - 64000


def test_qkv_bias_and_qk_norm() -> None:
    arch = dict(BASE_ARCH, qkv_bias=True, qk_norm=True)
    m = card(architecture=arch)
    # bias: q 128 + k 32 + v 32 = 192; qk-norm: 2*32 = 64; per layer 256, two layers
    assert m.total_params == 203584 + 2 * 256


def test_moe_counts() -> None:
    moe = {
        "experts": 8,
        "experts_per_token": 2,
        "expert_intermediate_size": 32,
        "dense_layers": [0],
    }
    m = card(moe=moe)
    # layer 1 is MoE: experts 8 * 3*64*32 = 49152, router 64*8 = 512; active 2 * 6144 + 512
    expert = 3 * 64 * 32
    assert m.layer_params(1).mlp_total == 8 * expert + 512
    assert m.layer_params(1).mlp_active == 2 * expert + 512
    assert m.layer_params(0).mlp_total == 49152  # dense layer keeps the dense MLP
    assert m.total_params == 203584 - 49152 + 8 * expert + 512


def test_mla_cache_is_latent_plus_rope() -> None:
    mla = {"kv_lora_rank": 16, "qk_rope_head_dim": 8, "qk_nope_head_dim": 16, "v_head_dim": 16}
    m = card(mla=mla)
    # cached per token per layer: 16 latent + 8 rope = 24 elements * 2 bytes * 2 layers = 96
    assert m.kv_bytes_per_token == 96
    (group,) = m.attention_groups()
    assert (group.q_heads, group.qk_head_dim, group.v_head_dim) == (4, 24, 16)


def test_mla_prefill_head_dims_are_the_non_absorbed_ones() -> None:
    mla = {"kv_lora_rank": 16, "qk_rope_head_dim": 8, "qk_nope_head_dim": 32, "v_head_dim": 8}
    (group,) = card(mla=mla).attention_groups()
    assert (group.qk_head_dim, group.v_head_dim) == (24, 16)  # decode: latent + rope, latent
    assert (group.prefill_qk_head_dim, group.prefill_v_head_dim) == (40, 8)  # nope + rope, v
    (gqa,) = card().attention_groups()  # elsewhere prefill runs at the decode dims
    assert (gqa.prefill_qk_head_dim, gqa.prefill_v_head_dim) == (gqa.qk_head_dim, gqa.v_head_dim)


def test_sliding_window_layers_are_bounded() -> None:
    m = card(sliding_window={"window": 4, "layers": [0]})
    # one full layer: 2*1*32*2 = 128 B/token; one sliding layer holds at most 4 tokens
    assert m.kv_bytes_per_token == 128
    assert m.sliding_kv_bytes_per_token == 128
    assert m.kv_cache_bytes(100) == 128 * 100 + 128 * 4
    kinds = {g.kind: g for g in m.attention_groups()}
    assert kinds["sliding"].window == 4 and kinds["full"].window is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"architecture": dict(BASE_ARCH, kv_heads=3)}, "multiple of"),
        ({"architecture": dict(BASE_ARCH, colour="red")}, "Extra inputs"),
        ({"sliding_window": {"window": 4, "layers": [5]}}, "outside 0..1"),
        ({"sources": []}, "at least 1"),
        ({"moe": {"experts": 2, "experts_per_token": 4, "expert_intermediate_size": 8}}, "exceed"),
    ],
)
def test_invalid_cards(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        card(**overrides)


def hw(**overrides: object) -> HardwareProfile:
    data: dict[str, object] = {
        "name": "x",
        "vendor": "v",
        "peak_flops": {"bf16": "1P"},
        "hbm_bandwidth": "2T",
        "hbm_capacity": "80G",
        "sources": ["test"],
    }
    data.update(overrides)
    return HardwareProfile.model_validate(data)


def test_intensity_is_bf16_over_bandwidth() -> None:
    assert hw().intensity == 1e15 / 2e12 == 500.0


def test_hardware_requires_bf16_and_positive_figures() -> None:
    with pytest.raises(ValidationError, match="bf16"):
        hw(peak_flops={"fp8": 1e15})
    with pytest.raises(ValidationError, match=r"between 1 and 1e15"):
        hw(hbm_bandwidth=0)


def test_calibration_falls_back_to_defaults() -> None:
    cal = Calibration(
        compute_efficiency=0.5,
        bandwidth_efficiency=0.8,
        kernels={"gemm": KernelFit(compute_efficiency=0.9, bandwidth_efficiency=0.7)},
    )
    profile = hw(calibration=cal)
    assert profile.kernel_fit("gemm").compute_efficiency == 0.9
    assert profile.kernel_fit("stream").bandwidth_efficiency == 0.8
    assert hw().kernel_fit("gemm").compute_efficiency == 1.0


def test_unreadable_quantities_are_validation_errors_of_their_field() -> None:
    """Quantities accept SI suffixes; one that does not parse is reported against its field
    (pydantic only collects ValueError), and a count refuses a unit ('8.2B' is not 8.2e9)."""
    with pytest.raises(ValidationError, match=r"hbm_bandwidth\n.*cannot read '3X' as a number"):
        hw(hbm_bandwidth="3X")
    with pytest.raises(ValidationError, match=r"total_params\n.*'8.2B' has a unit"):
        card(published={"total_params": "8.2B", "source": "s"})
    assert hw(hbm_bandwidth="3.35T/s").hbm_bandwidth == 3.35e12
    assert card(published={"total_params": "8.2G", "source": "s"}).published.total_params == 8.2e9  # type: ignore[union-attr]


def test_a_unit_of_another_kind_is_refused_not_ignored() -> None:
    """A unit documents a figure; one of the wrong kind means the figure is in the wrong place
    (a peak written where the bandwidth goes would make the intensity 989.4e12 / 989.4e12 = 1),
    so it is refused naming the field, while each field's own units still read."""
    for field, text in [
        ("hbm_bandwidth", "989.4 TFLOP/s"),
        ("hbm_capacity", "3.35TB/s"),
        ("interconnect_bandwidth", "80GB"),
        ("tdp_watts", "700 B"),
        ("price_per_gpu_hour", "2.79W"),
    ]:
        with pytest.raises(
            ValidationError, match=rf"{field}\n.*written in '[A-Za-z/]+', not a unit"
        ):
            hw(**{field: text})
    with pytest.raises(ValidationError, match=r"peak_flops.bf16\n.*written in 'B/s'"):
        hw(peak_flops={"bf16": "3.35 TB/s"})
    with pytest.raises(ValidationError, match=r"weight_bytes\n.*written in 'W'"):
        card(architecture={**BASE_ARCH, "weight_bytes": "1W"})
    ok = hw(
        peak_flops={"bf16": "989.4 TFLOP/s", "fp8": "1.9789PFLOPS"},
        hbm_bandwidth="3.35 TB/s",
        hbm_capacity="80GiB",
        interconnect_bandwidth="450G/s",
        tdp_watts="700W",
    )
    assert ok.peak_flops == {"bf16": 989.4e12, "fp8": 1.9789e15}
    assert (ok.hbm_bandwidth, ok.interconnect_bandwidth, ok.tdp_watts) == (3.35e12, 450e9, 700.0)
    assert ok.hbm_capacity == 80 * 2**30
    assert card(architecture={**BASE_ARCH, "weight_bytes": "1B"}).architecture.weight_bytes == 1.0


def test_peak_dtypes_are_the_names_the_engine_looks_up() -> None:
    """`serve` looks the fp8 peak up as 'fp8': a peak keyed 'FP8' would be shown and never
    used (an FP8 model would run at the bf16 peak), so an unknown key is refused, with the
    lower-case spelling when that is all that differs."""
    with pytest.raises(ValidationError, match=r"peak_flops\n.*unknown dtype 'FP8' \(write 'fp8'\)"):
        hw(peak_flops={"bf16": "1P", "FP8": "2P"})
    with pytest.raises(ValidationError, match=r"unknown dtype 'bfloat16'; the keys are"):
        hw(peak_flops={"bf16": "1P", "bfloat16": "1P"})
    assert set(hw(peak_flops={"bf16": 1e15, "fp8": 2e15, "fp4": 4e15}).peak_flops) == {
        "bf16",
        "fp8",
        "fp4",
    }


def test_published_figures_are_compared_with_the_derived_counts() -> None:
    """The tiny card derives total 203,584, non-embedding 139,584 (203,584 - 64,000 tied
    embedding) and active 2 x (20,480 + 49,152) + 64,000 = 203,264; a publisher's "activated"
    count includes the embedding unless active_counts_embedding = false (+64,000 = 267,264)."""
    close = card(published={"total_params": 2.0e5, "active_params": 267_000, "source": "s"})
    assert [(n, d, p) for n, d, p in close.published_comparison()] == [
        ("total_params", 203_584, 2.0e5),
        ("active_params", 203_264 + 64_000, 267_000),
    ]
    assert close.published_mismatches() == []  # +1.8% and +0.1%: within 2%
    wrong = card(
        published={
            "total_params": 1.6e5,
            "non_embedding_params": 139_584,
            "active_params": 203_264,
            "active_counts_embedding": False,
            "source": "s",
        }
    )
    # 203,584 / 160,000 - 1 = +27.2%; the other two agree exactly
    assert wrong.published_mismatches() == [
        "total_params derived 203,584, published 160,000 (+27.2%)"
    ]
    assert card().published_comparison() == [] and card().published_mismatches() == []


def test_both_kinds_share_the_catalog_base() -> None:
    """Name and aliases come first in every dump, as the JSON documents show them."""
    from kinetics_cli.specs import CatalogSpec

    assert issubclass(HardwareProfile, CatalogSpec) and issubclass(ModelCard, CatalogSpec)
    assert list(hw().model_dump())[:2] == ["name", "aliases"]
    assert list(card().model_dump())[:2] == ["name", "aliases"]


POWER = {
    "fraction_of_tdp": 0.40,
    "low": 0.31,
    "high": 0.42,
    "held_out_error": 0.19,
    "runs": 157,
    "measured_on": "test part",
    "sources": ["test"],
}


def test_serving_watts_is_the_measured_fraction_of_tdp_else_tdp() -> None:
    measured = hw(tdp_watts=700, serving_power=POWER)
    assert measured.serving_watts == pytest.approx(280.0)  # 0.40 x 700 W
    assert measured.power_model.startswith(
        "measured serving power: 0.40 x tdp_watts 700 W = 280 W per busy GPU (test part, 157 runs"
    )
    assert "TDP is the upper bound" in measured.power_model
    bound = hw(tdp_watts=1000)
    assert bound.serving_watts == 1000.0
    assert bound.power_model.startswith("TDP, an upper bound:") and "1,000 W" in bound.power_model
    assert hw().serving_watts is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"serving_power": POWER}, "give tdp_watts too"),
        ({"tdp_watts": 700, "serving_power": {**POWER, "low": 0.45}}, "low <= fraction_of_tdp"),
        ({"tdp_watts": 700, "serving_power": {**POWER, "fraction_of_tdp": 1.2}}, "less than or"),
        ({"tdp_watts": 700, "serving_power": {**POWER, "sources": []}}, "sources"),
    ],
)
def test_invalid_serving_power(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        hw(**overrides)
