"""One serving step: hand-derived operator figures, TP, MoE experts touched, fit, ridge, anchors."""

from __future__ import annotations

from dataclasses import replace

import engine_catalog
import pytest
import tomllib
from hypothesis import given, settings
from hypothesis import strategies as st

from kinetics_cli.catalog import load_catalog
from kinetics_cli.engine.roofline import StepReport, decode_step, tensor_parallel_degrees
from kinetics_cli.errors import CatalogError, InputError
from kinetics_cli.specs import ModelCard

GPU = engine_catalog.hardware("tiny-gpu")  # 1000 FLOP/s bf16, 10 B/s HBM (I = 100), 1 MB HBM
GQA = engine_catalog.card("tiny-gqa")


def ops(report: StepReport) -> dict:
    return {op.name: op for op in report.operators}


def test_tiny_decode_step_by_hand():
    r = decode_step(GQA, GPU, batch=1, context=100)
    o = ops(r)
    # qkv: (3072 - o 1024) params = 32 -> 64 matmul: 2*32*64 FLOPs; bytes 32*64*2 + (32+64)*2
    assert o["qkv projection"].flops == 2 * 4096
    assert o["qkv projection"].bytes == 2 * 4288
    # attention over 100 cached tokens: 2*4 heads*100*(8+8); cache 100*32 elements*2 B + q/o 4*16*2
    assert o["attention"].flops == 2 * 12_800
    assert o["attention"].bytes == 2 * 6_528
    assert o["attention"].kind == "attention"
    assert o["attention"].kernel == "attention_decode_dense"
    # output projection 32 -> 32; MLP 6144 params = 32 -> 192; LM head 32 -> 100 once per step
    assert o["output projection"].bytes == 2 * (2048 + 128)
    assert o["mlp"].flops == 2 * 12_288
    assert o["mlp"].bytes == 2 * (12_288 + 448)
    assert o["lm head"].calls == 1
    assert o["lm head"].bytes == 6400 + 264
    assert o["norms and residuals"].kind == "other"
    assert "all-reduce" not in o
    # every operator is memory-bound (intensity < 100): time = bytes / 10 B/s
    total_bytes = 2 * (4288 + 6528 + 2176 + 12_736 + 256) + 6664
    assert r.step_seconds == pytest.approx(total_bytes / 10)
    assert r.bound == "memory"
    assert all(op.bound == "memory" for op in r.operators)
    assert r.tokens_per_second == pytest.approx(10 / total_bytes)
    # weights read once: 2 bytes x active parameters (21632)
    assert r.weight_bytes_read == 2 * 21_632
    assert r.kv_bytes_read == 2 * 6400
    # held: all 24992 parameters in bf16; KV 100 tokens * 32 elements * 2 B * 2 layers per sequence
    assert r.weight_bytes == 2 * 24_992
    assert r.kv_bytes_per_sequence == 12_800
    assert r.max_batch == (1_000_000 - 49_984) // 12_800  # 74
    assert r.fits


def test_operator_time_is_kernel_seconds_with_calibration():
    calibrated = engine_catalog.hardware("tiny-calibrated")
    r = decode_step(GQA, calibrated, batch=1, context=100)
    o = ops(r)
    # gemm class: bandwidth efficiency 0.5 -> 4288 B / 5 B/s per layer
    assert o["qkv projection"].seconds == pytest.approx(2 * 4288 / 5)
    # attention_decode_dense: bandwidth efficiency 0.5
    assert o["attention"].seconds == pytest.approx(2 * 6528 / 5)
    # stream is absent from the table: the table-wide 0.8
    assert o["norms and residuals"].seconds == pytest.approx(2 * 256 / 8)


def test_tensor_parallel_splits_and_adds_all_reduces():
    one = ops(decode_step(GQA, GPU, batch=1, context=100))
    r = decode_step(GQA, GPU, batch=1, context=100, tp=2)
    two = ops(r)
    # weights halve (activation traffic does not)
    assert two["mlp"].flops == one["mlp"].flops / 2
    # each rank holds one of the 2 KV heads: half the cache bytes
    assert two["attention"].flops == one["attention"].flops / 2
    assert r.kv_bytes_per_sequence == 12_800 / 2
    # two all-reduces per layer of 32 activations (64 B): ring sends 2 (T-1)/T * 64 = 64 B
    ar = two["all-reduce"]
    assert ar.calls == 4 and ar.kind == "communication" and ar.bound == "communication"
    assert ar.bytes == 4 * 64
    assert ar.seconds == pytest.approx(4 * 64 / 5.0)  # interconnect 5 B/s
    # per GPU vs per replica vs per node (4 GPUs per node)
    assert r.tokens_per_second == pytest.approx(r.tokens_per_second_per_replica / 2)
    assert r.tokens_per_second_per_node == pytest.approx(r.tokens_per_second * 4)


def test_kv_heads_replicate_when_tp_exceeds_them():
    r = decode_step(GQA, GPU, batch=1, context=100, tp=4)  # 2 KV heads over 4 ranks
    assert r.kv_bytes_per_sequence == 12_800 / 2


def _gqa_with_heads(q_heads: int, kv_heads: int, mlp_width: int = 64) -> ModelCard:
    """tiny-gqa with other head counts (head_dim 8 kept) and MLP width."""
    data = tomllib.loads(engine_catalog.MODELS["tiny-gqa.toml"])
    data["architecture"].update(
        attention_heads=q_heads, kv_heads=kv_heads, intermediate_size=mlp_width
    )
    return ModelCard.model_validate(data)


def test_tp_that_splits_the_kv_heads_unevenly_is_refused():
    # 12 query heads over 3 GPUs is 4 each, but 4 KV heads over 3 leave one rank two and the
    # others one: no engine runs it (vLLM's QKVParallelLinear asserts divide(4, 3))
    card = _gqa_with_heads(12, 4)
    with pytest.raises(InputError, match="--tp 3 must divide tiny-gqa's 4 KV heads or be a mult"):
        decode_step(card, GPU, batch=1, context=10, tp=3)
    assert list(tensor_parallel_degrees(card, GPU)) == [1, 2, 4]
    # 4 KV heads over 2 (split) and over 4 (one each) are whole
    assert decode_step(card, GPU, batch=1, context=100, tp=2).kv_bytes_per_sequence == (
        2 * 100 * 2 * 2 * 8 * 2  # layers x tokens x (K, V) x 2 heads x dim x 2 B
    )
    # 2 KV heads over 4 GPUs: replicated, each on 2 ranks (the rule's other branch)
    assert list(tensor_parallel_degrees(GQA, GPU)) == [1, 2, 4]


def test_tp_that_splits_the_mlp_width_unevenly_is_refused():
    # 12 query heads and 6 KV heads split over 3 GPUs whole, but a 64-wide MLP does not (64 / 3):
    # vLLM's MergedColumnParallelLinear asserts each output size % tp == 0
    card = _gqa_with_heads(12, 6)
    with pytest.raises(InputError, match="--tp 3 must divide tiny-gqa's MLP width of 64"):
        decode_step(card, GPU, batch=1, context=10, tp=3)
    assert list(tensor_parallel_degrees(card, GPU)) == [1, 2]  # TP4: 6 KV heads ragged
    assert list(tensor_parallel_degrees(_gqa_with_heads(12, 6, mlp_width=96), GPU)) == [1, 2, 3]


def test_per_node_counts_the_whole_replicas_a_node_holds():
    # 12 heads / 6 KV heads (MLP 96 wide) at TP3 on a 4-GPU node: one replica of 3 GPUs, the
    # fourth idle; per GPU x 4 would count 1.33 replicas
    card = _gqa_with_heads(12, 6, mlp_width=96)
    r = decode_step(card, GPU, batch=1, context=10, tp=3)
    assert r.tokens_per_second_per_node == pytest.approx(r.tokens_per_second_per_replica * 1)
    assert r.tokens_per_second_per_node == pytest.approx(r.tokens_per_second * 3)
    # TP2 divides the node: 2 replicas, per GPU x 4
    two = decode_step(card, GPU, batch=1, context=10, tp=2)
    assert two.tokens_per_second_per_node == pytest.approx(two.tokens_per_second_per_replica * 2)


def test_moe_reads_only_the_experts_the_batch_touches():
    card = engine_catalog.card("tiny-moe")  # 8 experts, k = 2, expert 3*32*16 = 1536 params
    r = decode_step(card, GPU, batch=4, context=10)
    experts = ops(r)["routed experts"]
    # E (1 - (1 - k/E)^B) = 8 (1 - 0.75^4) = 5.46875 experts; 2 MoE layers (layer 0 is dense)
    touched = 8 * (1 - 0.75**4)
    passes = 4 * 2
    per_layer = touched * 1536 * 2 + passes * (32 + 48) * 2
    assert experts.calls == 2
    assert experts.bytes == pytest.approx(2 * per_layer)
    assert experts.flops == 2 * 2 * passes * 1536
    names = ops(r)
    assert names["mlp [dense layers]"].calls == 1
    assert names["shared experts"].calls == 2
    # batch 1 touches exactly k experts
    single = ops(decode_step(card, GPU, batch=1, context=10))["routed experts"]
    assert single.bytes == pytest.approx(2 * (2 * 1536 * 2 + 2 * 80 * 2))


def test_sparse_attention_and_block_search():
    dense = ops(decode_step(GQA, GPU, batch=8, context=1000))
    topk = ops(decode_step(GQA, GPU, batch=8, context=1000, attention="topk", kv_budget=100))
    block = ops(decode_step(GQA, GPU, batch=8, context=1000, attention="block-topk", kv_budget=100))
    # attended tokens 1000 -> 100
    assert topk["attention"].flops == dense["attention"].flops / 10
    assert topk["attention"].kernel == "attention_decode_blocktopk"
    assert "block search" not in topk
    # search: 1000/16 pages, 4 heads x 8 dims per score, 16 key elements per page (2 B each)
    search = block["block search"]
    assert search.kind == "attention"
    assert search.flops == pytest.approx(2 * 2 * 8 * 4 * 8 * 1000 / 16)
    assert search.bytes == pytest.approx(2 * 8 * 1000 / 16 * 16 * 2)


def test_hybrid_model_groups_layers():
    card = engine_catalog.card("tiny-hybrid")
    r = decode_step(card, GPU, batch=2, context=1000)
    o = ops(r)
    assert o["attention [full]"].calls == 1
    # the sliding layer attends to its 100-token window only
    assert o["attention [sliding]"].flops == o["attention [full]"].flops / 10
    lin = o["linear attention [linear]"]
    assert lin.calls == 2 and lin.kind == "attention"
    # held per sequence: full 1000 tokens + sliding 100 tokens (64 B each) + 2 linear layers,
    # each a recurrent state of 4 heads x 8 x 8 in fp32 (1,024 B) and a convolution state of
    # (kernel 4 - 1) x (q and k 2 x 2 x 8 + v 4 x 8 = 64 channels) in bf16 (384 B)
    assert r.kv_bytes_per_sequence == pytest.approx(1000 * 64 + 100 * 64 + 2 * (1024 + 384))
    assert card.state_bytes_per_sequence == 2 * (1024 + 384)
    # a decode step reads and writes both states of both sequences: 2 x 2 x (1,024 + 384) a layer
    assert lin.bytes == pytest.approx(2 * 2 * 2 * (1024 + 384))
    # at TP2 each rank holds half the heads and half the convolution channels
    half = ops(decode_step(card, GPU, batch=2, context=1000, tp=2))["linear attention [linear]"]
    assert half.bytes == pytest.approx(lin.bytes / 2)


def test_prefill_phase():
    r = decode_step(GQA, GPU, batch=2, context=0, phase="prefill", prompt_len=50)
    o = ops(r)
    # causal attention of 50 new tokens: 2 B H (d_qk + d_v) L^2 / 2 per layer
    assert o["attention"].flops == pytest.approx(2 * 2 * 2 * 4 * 16 * 50**2 / 2)
    assert o["attention"].kernel == "gemm"
    # linear operators see B L tokens; the LM head only the last position of each sequence
    assert o["mlp"].flops == 2 * 2 * 100 * 6144
    assert o["lm head"].flops == 2 * 2 * 32 * 100
    assert r.tokens_per_step == 100
    assert r.kv_bytes_per_sequence == 50 * 32 * 2 * 2  # tokens x elements x bytes x layers


def test_prefill_sliding_layers_see_at_most_the_window():
    # tiny-hybrid: 4 heads, d 8 (width 4 x 16 = 64), window 100; 1000 new tokens after 500 cached.
    card = engine_catalog.card("tiny-hybrid")
    r = decode_step(card, GPU, batch=1, context=500, phase="prefill", prompt_len=1000)
    o = ops(r)
    # full: A = L C + L^2 / 2 = 500000 + 500000 = 1e6 -> 2 x 64 x 1e6 FLOPs
    assert o["attention [full]"].flops == pytest.approx(2 * 64 * 1_000_000)
    # sliding: the cache already fills the window, so every new token sees 100 keys:
    # A = attended_tokens(500, 1000, cap=100) = 100 x 1000 (was 100 L + L^2 / 2 = 600000)
    assert o["attention [sliding]"].flops == pytest.approx(2 * 64 * 100_000)
    # bytes: (min(C, W) + L) x 32 elements x 2 B + L x 64 x 2 B (queries in, outputs out)
    assert o["attention [sliding]"].bytes == pytest.approx((100 + 1000) * 64 + 1000 * 128)
    assert o["attention [full]"].bytes == pytest.approx((500 + 1000) * 64 + 1000 * 128)
    # no cache: A = W^2 / 2 + W (L - W) = 5000 + 90000
    r0 = decode_step(card, GPU, batch=1, context=0, phase="prefill", prompt_len=1000)
    assert ops(r0)["attention [sliding]"].flops == pytest.approx(2 * 64 * 95_000)


def test_prefill_mla_uses_the_non_absorbed_head_dims():
    # tiny-mla: 4 heads; prefill scores nope 8 + rope 4 = 12 wide and sums v 8 wide (width 80),
    # not the absorbed 20 and 16 of decode (width 144). 10 new tokens: A = 50, two layers.
    card = engine_catalog.card("tiny-mla")
    r = decode_step(card, GPU, batch=1, context=0, phase="prefill", prompt_len=10)
    assert ops(r)["attention"].flops == pytest.approx(2 * 2 * 4 * (12 + 8) * 50)  # was 28800
    # decode keeps the absorbed form: 2 x 4 heads x 100 tokens x (20 + 16) per layer
    d = decode_step(card, GPU, batch=1, context=100)
    assert ops(d)["attention"].flops == pytest.approx(2 * 2 * 4 * 100 * (20 + 16))


@pytest.mark.parametrize("name", ["tiny-gqa", "tiny-moe", "tiny-mla", "tiny-hybrid"])
def test_held_cache_matches_the_card_at_tp_1(name):
    card = engine_catalog.card(name)
    r = decode_step(card, GPU, batch=1, context=1000)
    assert r.kv_bytes_per_sequence == pytest.approx(card.kv_cache_bytes(1000))


def test_tp_beyond_one_node_is_refused():
    big = engine_catalog.card("tiny-big")  # 8 heads; tiny-gpu has 4 GPUs per node
    assert decode_step(big, GPU, batch=1, context=10, tp=4).tp == 4
    with pytest.raises(InputError, match="--tp 8 exceeds tiny-gpu's 4 GPUs per node"):
        decode_step(big, GPU, batch=1, context=10, tp=8)


def test_memory_fit_and_warning():
    r = decode_step(GQA, GPU, batch=100, context=100)
    assert not r.fits
    assert r.max_batch == 74
    assert any("does not fit" in note for note in r.notes)
    assert decode_step(GQA, GPU, batch=74, context=100).fits


def test_misfit_note_names_the_weights_and_the_smallest_tp():
    # 40 kB of HBM: the 49,984 B of bf16 weights alone exceed it at TP1; TP2 holds 24,992 B of
    # weights + one sequence's 100 x 64 B = 31,392 B
    small = GPU.model_copy(update={"hbm_capacity": 40_000.0})
    r = decode_step(GQA, small, batch=1, context=100)
    assert not r.fits and r.max_batch == 0
    (note,) = r.notes
    assert note.startswith("tiny-gqa does not fit on tiny-gpu at TP1: weights")
    assert "the weights alone exceed it; --tp 2 holds batch 1" in note
    # room for weights but not one sequence: 55,000 B - 49,984 B = 5,016 B < 12,800 B
    r = decode_step(GQA, GPU.model_copy(update={"hbm_capacity": 55_000.0}), batch=1, context=100)
    assert "no room for one sequence; --tp 2 holds batch 1" in r.notes[0]


def test_ridge_batch_is_where_compute_overtakes_memory():
    # The tiny matmuls top out near 20 FLOPs/byte (activations rival weights), so use a GPU
    # whose ridge is 10 FLOPs/byte.
    slow = GPU.model_copy(update={"peak_flops": {"bf16": 100.0}})
    r = decode_step(GQA, slow, batch=1, context=0)
    ridge = r.ridge_batch
    assert ridge is not None and ridge > 1
    at = decode_step(GQA, slow, batch=ridge, context=0)
    below = decode_step(GQA, slow, batch=ridge - 1, context=0)
    assert at.compute_seconds >= at.memory_seconds
    assert below.compute_seconds < below.memory_seconds
    assert at.bound == "compute" and below.bound == "memory"
    # with a long context the KV traffic grows with the batch: never compute-bound
    long = decode_step(GQA, slow, batch=1, context=100_000)
    assert long.ridge_batch is None
    # ... but the weight matmuls alone still turn compute-bound, at a batch that does not depend
    # on the context, and no later than the whole step does at zero context
    linear = long.linear_ridge_batch
    assert linear is not None
    assert linear == r.linear_ridge_batch <= ridge
    linear_ops = ("qkv projection", "output projection", "mlp", "lm head")
    at = ops(decode_step(GQA, slow, batch=linear, context=0))
    below = ops(decode_step(GQA, slow, batch=linear - 1, context=0))
    assert sum(at[n].compute_seconds - at[n].memory_seconds for n in linear_ops) >= 0
    assert sum(below[n].compute_seconds - below[n].memory_seconds for n in linear_ops) < 0


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4096), st.integers(0, 50_000), st.sampled_from([1, 2, 4]))
def test_step_time_grows_with_batch_and_context(batch, context, tp):
    base = decode_step(GQA, GPU, batch=batch, context=context, tp=tp)
    assert decode_step(GQA, GPU, batch=batch + 1, context=context, tp=tp).step_seconds >= (
        base.step_seconds
    )
    assert decode_step(GQA, GPU, batch=batch, context=context + 64, tp=tp).step_seconds > (
        base.step_seconds
    )
    assert sum(op.seconds for op in base.operators) == pytest.approx(base.step_seconds)
    assert base.attention_share + base.linear_share + base.communication_share + (
        base.other_share
    ) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch": 0}, "batch"),
        ({"context": -1}, "context"),
        ({"tp": 3}, "divide"),
        ({"attention": "topk"}, "--kv-budget"),
        ({"dtype": "int3"}, "dtype"),
        ({"phase": "train"}, "phase"),
        ({"phase": "prefill"}, "prompt length"),
    ],
)
def test_bad_input(kwargs, message):
    args = {"batch": 1, "context": 100, **kwargs}
    with pytest.raises(InputError, match=message):
        decode_step(GQA, GPU, **args)


def test_missing_dtype_peak_and_interconnect():
    calibrated = engine_catalog.hardware("tiny-calibrated")  # bf16 only, no interconnect
    with pytest.raises(InputError, match="fp8"):
        decode_step(GQA, calibrated, batch=1, context=10, dtype="fp8")
    with pytest.raises(InputError, match="interconnect"):
        decode_step(GQA, calibrated, batch=1, context=10, tp=2)


def test_fp8_halves_weight_and_cache_bytes():
    bf16 = decode_step(GQA, GPU, batch=1, context=100)
    fp8 = decode_step(GQA, GPU, batch=1, context=100, dtype="fp8")
    # the LM head (100 x 32 = 3,200 of the 21,632 weights read) stays bf16, as FP8 checkpoints
    # keep it
    assert bf16.weight_bytes_read == 2 * 21_632
    assert fp8.weight_bytes_read == (21_632 - 3_200) * 1 + 3_200 * 2
    assert fp8.kv_bytes_per_sequence == bf16.kv_bytes_per_sequence / 2
    assert fp8.peak_flops == 2000


# --------------------------------------------------------------------------------------------
# anchors on the bundled catalog
# --------------------------------------------------------------------------------------------


def _bundled(model: str, hardware: str):
    catalog = load_catalog()
    try:
        return catalog.models.get(model).spec, catalog.hardware.get(hardware).spec
    except CatalogError:
        pytest.skip(f"{model} or {hardware} not in the bundled catalog")


def test_anchor_qwen3_32b_batch_1_on_h100_reads_64_gb_of_weights():
    card, h100 = _bundled("qwen3-32b", "h100-sxm")
    r = decode_step(card, h100, batch=1, context=1)
    # active parameters (layers + LM head) 31.98e9 x 2 bytes = 63.97 GB; / 3.35 TB/s = 19.1 ms
    assert r.weight_bytes_read == pytest.approx(63.97e9, rel=1e-3)
    assert r.step_seconds == pytest.approx(63.97e9 / 3.35e12, rel=0.01)
    assert r.bound == "memory"


def test_anchor_attention_dominates_at_large_batch_and_long_context():
    card, h100 = _bundled("qwen3-32b", "h100-sxm")
    r = decode_step(card, h100, batch=256, context=32_768, tp=8)
    assert r.attention_share > 0.8
    assert not r.fits


def test_anchor_block_topk_speedup_on_qwen3_0_6b_b200():
    card, b200 = _bundled("qwen3-0.6b", "b200")
    dense = decode_step(card, b200, batch=2048, context=32_768)
    block = decode_step(
        card, b200, batch=2048, context=32_768, attention="block-topk", kv_budget=1040
    )
    # KV traffic 32768 -> 1040 tokens plus page summaries 32768 / 16 / 2 token-equivalents:
    # 32768 / (1040 + 1024) = 15.9x on attention; weights and activations bring it to ~15.6x
    speedup = block.tokens_per_second / dense.tokens_per_second
    assert 14 < speedup < 16
    assert not dense.fits  # 3.76 GB of KV per sequence: 47 sequences fit in 180 GB
    assert dense.max_batch == 47


def test_fp4_where_the_profile_has_the_peak():
    with pytest.raises(InputError, match="tiny-gpu has no fp4 peak"):
        decode_step(GQA, GPU, batch=1, context=100, dtype="fp4")
    fp4_gpu = GPU.model_copy(update={"peak_flops": {**GPU.peak_flops, "fp4": 4000.0}})
    r = decode_step(GQA, fp4_gpu, batch=1, context=100, dtype="fp4")
    # NVFP4 weights: 4 bits + one 8-bit scale per 16 = 4.5 bits, the embedding, LM head and norms
    # (6,560) kept at 2 B; the cache stays fp8 (1 B)
    assert r.weight_bytes == pytest.approx(18_432 * 4.5 / 8 + 6_560 * 2)
    assert r.kv_bytes_per_sequence == 12_800 / 2
    assert r.peak_flops == 4000.0


def test_precision_per_tensor_kind():
    from kinetics_cli.engine.roofline import Precision

    mixed = Precision(weight=1.0, expert=1.0, kv=2.0, act=2.0, collective=2.0, compute="fp8")
    r = decode_step(GQA, GPU, batch=1, context=100, precision=mixed)
    assert r.weight_bytes == 24_992 and r.kv_bytes_per_sequence == 12_800
    assert r.dtype == "fp8" and r.peak_flops == 2000.0


@pytest.mark.parametrize(("hardware", "tp"), [("tiny-calibrated", 1), ("tiny-gpu", 2)])
def test_operator_seconds_is_the_first_figure_of_time_operator(hardware, tp):
    """The seconds-only path prices every operator (communication included) to the same bits."""
    import numpy as np

    from kinetics_cli.engine.roofline import operator_seconds, step_operators, time_operator
    from kinetics_cli.engine.serving import Deployment, _setup

    profile = engine_catalog.hardware(hardware)
    s = _setup(GQA, profile, Deployment(tp=tp), context=np.array([10.0, 100.0, 1000.0]))
    batch = np.array([[1.0], [7.0]])
    operators = step_operators(s, batch)
    assert any(op.link_seconds is not None for op in operators) == (tp > 1)
    for op in operators:
        assert np.array_equal(operator_seconds(s, op), time_operator(s, op)[0]), op.name


@pytest.mark.parametrize(("model", "tp"), [("qwen3-8b", 1), ("qwen3-30b-a3b", 4)])
def test_operators_seconds_stacks_operator_seconds(model: str, tp: int) -> None:
    """The stacked timing of an operator list has each operator's operator_seconds bit for bit:
    collectives, engine kernels and grouped expert GEMMs (timed on their own profile) included,
    every operator broadcast to the common shape."""
    import numpy as np

    from kinetics_cli.engine.roofline import operator_seconds, operators_seconds, step_operators
    from kinetics_cli.engine.serving import (
        Deployment,
        _setup,
        engine_operators,
        resolve_efficiency,
    )

    catalog = load_catalog()
    card = catalog.models.get(model).spec
    profile = catalog.hardware.get("b200").spec
    eff = resolve_efficiency(profile, "default", "bf16")
    s = _setup(
        card, profile, Deployment(tp=tp), context=np.array([[100.0, 5000.0]]), efficiency=eff
    )
    grouped = replace(s, hardware=eff.grouped) if eff.grouped is not None else s
    batch = np.array([[1.0], [7.0], [300.0]])
    ops = [*step_operators(s, batch), *engine_operators(s, batch, eff)]
    assert any(op.link_seconds is not None for op in ops) == (tp > 1)
    assert any(op.grouped for op in ops) == (card.moe is not None)
    table = operators_seconds(s, ops, eff.grouped, (3, 2))
    assert table.shape == (len(ops), 3, 2)
    for op, row in zip(ops, table, strict=True):
        alone = operator_seconds(grouped if op.grouped else s, op)
        assert np.array_equal(row, np.broadcast_to(alone, (3, 2))), op.name


def test_attention_splits_evenly_by_hand() -> None:
    """qwen3-8b: 32 query / 8 KV heads split evenly up to tp 8; deepseek-r1-distill-qwen-1.5b:
    12 / 2 heads split at tp 2, and at tp 4 each rank holds ceil(2 / 4) = 1 KV head, not 2 / 4."""
    from kinetics_cli.engine.roofline import attention_splits_evenly

    catalog = load_catalog()
    qwen = catalog.models.get("qwen3-8b").spec
    assert all(attention_splits_evenly(qwen, tp) for tp in (1, 2, 4, 8))
    assert not attention_splits_evenly(qwen, 16)
    small = catalog.models.get("deepseek-r1-distill-qwen-1.5b").spec
    assert attention_splits_evenly(small, 2)
    assert not attention_splits_evenly(small, 4)
