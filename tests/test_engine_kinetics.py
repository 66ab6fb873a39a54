"""The Kinetics law: hand-derived golden values, the paper code's arithmetic, properties, errors."""

from __future__ import annotations

import engine_catalog
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinetics_cli.catalog import load_catalog
from kinetics_cli.engine.kinetics import (
    TERMS,
    CostShape,
    ProblemCost,
    attended_tokens,
    expected_eflops,
    expected_problem_cost,
    law_intensity,
    off_page_budget,
    problem_cost,
    problem_eflops,
    split_cost,
)
from kinetics_cli.errors import InputError

GQA = engine_catalog.card("tiny-gqa")
# tiny-gqa: 2 layers, 4 query heads, 2 KV heads, head dim 8, hidden 32, MLP 64, vocab 100, untied.
#   attention params per layer: q 32*32 + k,v 2*32*16 + o 32*32 = 3072; MLP 3*32*64 = 6144
#   P (active) = 2 * (3072 + 6144) + LM head 100*32 = 21632
#   h = layers * heads * head_dim = 2*4*8 = 64; d = layers * kv_heads * head_dim = 2*2*8 = 32
P, H, D = 21632, 64, 32


def test_tiny_card_shapes_match_the_hand_figures():
    assert GQA.active_params == P


# --------------------------------------------------------------------------------------------
# attended tokens
# --------------------------------------------------------------------------------------------


def test_attended_tokens_closed_forms():
    # dense: L_in L_out + L_out^2 / 2 = 100*10 + 50
    assert attended_tokens(100, 10) == 1050
    # B <= L_in: B L_out
    assert attended_tokens(100, 1000, 50) == 50 * 1000
    # B >= L_in + L_out: the dense value
    assert attended_tokens(100, 1000, 5000) == 100 * 1000 + 1000**2 / 2
    # in between, t* = B - L_in = 200: L_in t* + t*^2/2 + B (L_out - t*) = 20000 + 20000 + 240000
    assert attended_tokens(100, 1000, 300) == 280_000


@given(st.integers(0, 3000), st.integers(0, 3000), st.floats(1, 8000, allow_nan=False))
def test_attended_tokens_is_the_integral_of_min(l_in, l_out, budget):
    t = np.linspace(0.0, l_out, 20_001)
    y = np.minimum(budget, l_in + t)
    integral = float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(t)))
    assert attended_tokens(l_in, l_out, budget) == pytest.approx(integral, rel=1e-6, abs=1e-6)


# --------------------------------------------------------------------------------------------
# golden values on the tiny catalog
# --------------------------------------------------------------------------------------------


def test_dense_golden_values():
    cost = problem_cost(GQA, prompt_len=100, gen_len=10, trials=4)
    # linear: 2 N P L_out = 2*4*21632*10
    assert cost.linear_flops == 1_730_560
    # attention: 4 h A N, A = 100*10 + 10^2/2 = 1050 -> 4*64*1050*4
    assert cost.attention_flops == 1_075_200
    # KV: 4 d (L_in L_out + N L_out^2 / 2) = 4*32*(1000 + 4*50) = 128*1200
    assert cost.kv_bytes == 153_600
    assert cost.search_flops == 0 and cost.search_bytes == 0
    assert cost.compute_flops == 2_805_760
    assert cost.memory_bytes == 153_600
    # eFLOPs at I = 100: 2_805_760 + 100 * 153_600
    assert cost.eflops(100) == 2_805_760 + 15_360_000


def test_topk_golden_values():
    cost = problem_cost(GQA, 100, 1000, 1, "topk", kv_budget=50)
    # A = B L_out = 50*1000 (B <= L_in); attention 4*64*50000; no sharing: KV 4*32*50000
    assert cost.attention_flops == 12_800_000
    assert cost.kv_bytes == 6_400_000
    assert cost.linear_flops == 2 * P * 1000
    assert cost.search_flops == 0


def test_block_topk_golden_values():
    cost = problem_cost(GQA, 100, 1000, 2, "block-topk", kv_budget=50, block_size=16)
    # attention and KV as top-k, times N = 2
    assert cost.attention_flops == 2 * 12_800_000
    assert cost.kv_bytes == 2 * 6_400_000
    # search compute 2 h (L_in L_out + L_out^2/2) / S * N = 2*64*(100000 + 500000)/16*2
    assert cost.search_flops == 9_600_000
    # search memory 2 d (L_in L_out + N L_out^2/2) / S = 2*32*(100000 + 1000000)/16
    assert cost.search_bytes == 4_400_000


def test_budget_between_prompt_and_final_context():
    cost = problem_cost(GQA, 100, 1000, 1, "topk", kv_budget=300)
    # A = 280000 (see test_attended_tokens_closed_forms)
    assert cost.attention_flops == 4 * H * 280_000
    assert cost.kv_bytes == 4 * D * 280_000


def test_mla_uses_the_absorbed_latent():
    card = engine_catalog.card("tiny-mla")
    # per layer: query heads 4, score dim = latent 16 + rope 4 = 20, value dim = latent 16;
    # cached per token: 20 elements. 2 layers, 2 bytes per element.
    # FLOPs per attended token = 2 layers * 2*4*(20+16) = 576; KV bytes = 2 layers * 20 * 2 = 80
    cost = problem_cost(card, 100, 10, 1)
    assert cost.attention_flops == 576 * 1050
    assert cost.kv_bytes == 80 * 1050


def test_hybrid_sliding_and_linear_layers():
    card = engine_catalog.card("tiny-hybrid")
    # layer 0 sliding (window 100), layers 1-2 linear attention, layer 3 full; heads 4/2 of dim 8.
    cost = problem_cost(card, prompt_len=50, gen_len=200, trials=2)
    # full layer: h = 32, d = 16; A = 50*200 + 200^2/2 = 30000
    full_flops = 4 * 32 * 30_000 * 2
    full_bytes = 4 * 16 * (50 * 200 + 2 * 200**2 / 2)
    # sliding layer: tokens in view min(100, 50 + t): t* = 50 -> 2500 + 1250 + 100*150 = 18750;
    # generated tokens in view min(100, t): 5000 + 100*100 = 15000; shared prompt part 3750
    sliding_flops = 4 * 32 * 18_750 * 2
    sliding_bytes = 4 * 16 * (3_750 + 2 * 15_000)
    # linear layers: 4 value heads with an 8x8 state each: 4*4*64 FLOPs and 2*4*64*4 bytes per
    # step and trial, plus the convolution state read and written, 2 x (4 - 1) x (2*2*8 + 4*8)
    # channels x 2 B = 2 x 384; x L_out 200, N 2, 2 layers
    linear_flops = 4 * 4 * 64 * 200 * 2 * 2
    linear_bytes = 2 * (4 * 64 * 4 + 384) * 200 * 2 * 2
    assert cost.attention_flops == pytest.approx(full_flops + sliding_flops + linear_flops)
    assert cost.kv_bytes == pytest.approx(full_bytes + sliding_bytes + linear_bytes)
    assert cost.linear_flops == 2 * 2 * card.active_params * 200


def test_window_wider_than_the_context_equals_full_attention():
    data = engine_catalog.tomllib.loads(engine_catalog.MODELS["tiny-gqa.toml"])
    data["sliding_window"] = {"window": 10_000, "layers": [0, 1]}
    windowed = type(GQA).model_validate(data)
    for attention, budget in (("dense", None), ("block-topk", 64)):
        a = problem_cost(windowed, 300, 2000, 3, attention, budget)
        b = problem_cost(GQA, 300, 2000, 3, attention, budget)
        assert a.compute_flops == pytest.approx(b.compute_flops)
        assert a.memory_bytes == pytest.approx(b.memory_bytes)


# --------------------------------------------------------------------------------------------
# the paper's code (github.com/Infini-AI-Lab/Kinetics@af7fa57 cost_model/utils.py), reproduced with its own constants
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def qwen3_8b():
    return load_catalog().models.get("qwen3-8b").spec


def test_reproduces_kin_code_dense_cost(qwen3_8b):
    # dense_cost(nparams=8.19e9, heads 32, kv 8, head_dim = 128 * 36 layers, E_flops = 562.5)
    p, heads, kv, head_dim = 8.19e9, 32, 8, 128 * 36
    l_in, l_out, n = 128, 4096, 8
    compute = (2 * p * l_out + 2 * (2 * l_in + l_out) * l_out * heads * head_dim) * n
    memory = 2 * (2 * l_in + l_out * n) * l_out * kv * head_dim
    cost = problem_cost(qwen3_8b, l_in, l_out, n, params=p)
    assert cost.compute_flops == pytest.approx(compute, rel=1e-12)
    assert cost.memory_bytes == pytest.approx(memory, rel=1e-12)
    assert cost.eflops(562.5) == pytest.approx(compute + 562.5 * memory, rel=1e-12)


def test_reproduces_kin_code_sparse_costs(qwen3_8b):
    # Budgets at or below the prompt, and page counts that divide exactly, so the paper code's
    # `+ 0.5 max(0, B - L_in)^2` and `//` do not come into play.
    p, heads, kv, head_dim = 8.19e9, 32, 8, 128 * 36
    l_in, l_out, n, s, topk = 128, 4096, 8, 16, 4
    budget = s * topk  # local 0 + block_size * block_topk = 64
    kv_scaling = budget * l_out
    # zero_overhead_sparse_cost
    compute = (2 * p * l_out + 2 * 2 * kv_scaling * heads * head_dim) * n
    memory = 2 * 2 * kv_scaling * kv * head_dim * n
    cost = problem_cost(qwen3_8b, l_in, l_out, n, "topk", budget, params=p)
    assert cost.compute_flops == pytest.approx(compute, rel=1e-12)
    assert cost.memory_bytes == pytest.approx(memory, rel=1e-12)
    # block_sparse_cost: adds (2 L_in + L_out) // S * L_out * heads * head_dim per trial and
    # (2 L_in + N L_out) // S * L_out * kv * head_dim bytes
    search_compute = (2 * l_in + l_out) // s * l_out * heads * head_dim
    search_memory = (2 * l_in + l_out * n) // s * l_out * kv * head_dim
    cost = problem_cost(qwen3_8b, l_in, l_out, n, "block-topk", budget, s, params=p)
    assert cost.compute_flops == pytest.approx(compute + search_compute * n, rel=1e-12)
    assert cost.memory_bytes == pytest.approx(memory + search_memory, rel=1e-12)


def test_mean_over_lengths_matches_the_paper_code():
    # expected_cost: the plain mean of the cost at each generated length
    lengths = [1000, 3000, 8000]
    mean = expected_problem_cost(GQA, 100, lengths, 4)
    each = [problem_cost(GQA, 100, length, 4).eflops(100) for length in lengths]
    assert mean.eflops(100) == pytest.approx(np.mean(each))
    weighted = problem_cost(GQA, 100, np.array(lengths), 4).mean(weights=[0.5, 0.25, 0.25])
    assert weighted.eflops(100) == pytest.approx(0.5 * each[0] + 0.25 * (each[1] + each[2]))


# --------------------------------------------------------------------------------------------
# seconds, laws, broadcasting
# --------------------------------------------------------------------------------------------


def test_seconds_is_additive_with_and_without_calibration():
    cost = problem_cost(GQA, 100, 10, 4)
    # tiny-gpu: 1000 FLOP/s, 10 B/s
    plain = engine_catalog.hardware("tiny-gpu")
    assert cost.seconds(plain) == pytest.approx(2_805_760 / 1000 + 153_600 / 10)
    # tiny-calibrated: gemm compute 0.25; attention_decode_dense compute 0.5, bandwidth 0.5
    calibrated = engine_catalog.hardware("tiny-calibrated")
    expected = 1_730_560 / 250 + 1_075_200 / 500 + 153_600 / 5
    assert cost.seconds(calibrated) == pytest.approx(expected)
    assert cost.seconds(calibrated, calibrated=False) == pytest.approx(cost.seconds(plain))
    # sparse variants use attention_decode_blocktopk: absent, so the table-wide 0.5 / 0.8
    sparse = problem_cost(GQA, 100, 1000, 1, "topk", 50)
    expected = sparse.linear_flops / 250 + sparse.attention_flops / 500 + sparse.kv_bytes / 8
    assert sparse.seconds(calibrated) == pytest.approx(expected)


def test_law_intensity():
    assert law_intensity("kinetics", 562.5) == 562.5
    assert law_intensity("flops", 562.5) == 0.0
    with pytest.raises(InputError):
        law_intensity("bytes", 1.0)


def test_broadcasts_over_a_planner_grid():
    gen = np.array([[100.0, 200.0, 300.0], [1000.0, 2000.0, 3000.0]])  # (G, Q)
    trials = np.array([1.0, 4.0, 16.0, 64.0])[:, None, None]  # (T, 1, 1)
    budgets = np.array([64.0, 256.0])[:, None, None, None]  # (K, 1, 1, 1)
    grid = problem_cost(GQA, 500, gen, trials, "block-topk", budgets)
    assert grid.compute_flops.shape == (2, 4, 2, 3)
    assert grid.search_bytes.shape == (2, 4, 2, 3)
    single = problem_cost(GQA, 500, 2000.0, 16.0, "block-topk", 256.0)
    assert grid.eflops(100)[1, 2, 1, 1] == pytest.approx(single.eflops(100))
    assert isinstance(grid, ProblemCost)


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

lengths = st.integers(0, 40_000)
trial_counts = st.integers(1, 256)
budgets_st = st.integers(1, 20_000)
attentions = st.sampled_from(["dense", "topk", "block-topk"])
cards = st.sampled_from(["tiny-gqa", "tiny-moe", "tiny-mla", "tiny-hybrid"])


@settings(max_examples=200)
@given(cards, attentions, lengths, lengths, st.integers(1, 20_000), trial_counts, budgets_st)
def test_cost_rises_with_length_and_trials(name, attention, l_in, l_out, extra, n, budget):
    card = engine_catalog.card(name)
    b = None if attention == "dense" else budget
    base = problem_cost(card, l_in, l_out, n, attention, b).eflops(100)
    longer = problem_cost(card, l_in, l_out + extra, n, attention, b).eflops(100)
    more = problem_cost(card, l_in, l_out, n + 1, attention, b).eflops(100)
    assert longer >= base
    assert more >= base
    if l_out:
        assert longer > base and more > base


@settings(max_examples=200)
@given(cards, lengths, st.integers(1, 40_000), trial_counts, budgets_st)
def test_topk_never_costs_more_than_dense_within_the_context(name, l_in, l_out, n, budget):
    card = engine_catalog.card(name)
    budget = min(budget, l_in + l_out)
    dense = problem_cost(card, l_in, l_out, n)
    sparse = problem_cost(card, l_in, l_out, n, "topk", budget)
    assert sparse.compute_flops <= dense.compute_flops * (1 + 1e-12)
    # Memory: sparse variants assume no prefix sharing, so the claim holds per trial (N = 1).
    one_dense = problem_cost(card, l_in, l_out, 1)
    one_sparse = problem_cost(card, l_in, l_out, 1, "topk", budget)
    assert one_sparse.memory_bytes <= one_dense.memory_bytes * (1 + 1e-12)


@settings(max_examples=200)
@given(cards, st.integers(1, 40_000), st.integers(1, 40_000), st.sampled_from([8, 16, 32, 64]))
def test_block_topk_below_dense_once_the_context_is_twice_the_budget(name, l_in, l_out, s):
    card = engine_catalog.card(name)
    budget = max(1, l_in // 2)  # every step's context is at least twice the budget
    dense = problem_cost(card, l_in, l_out, 1).eflops(100)
    block = problem_cost(card, l_in, l_out, 1, "block-topk", budget, s).eflops(100)
    assert block <= dense * (1 + 1e-12)


@settings(max_examples=200)
@given(cards, lengths, lengths, trial_counts, budgets_st, st.sampled_from([8, 16, 64]))
def test_block_topk_costs_at_least_topk(name, l_in, l_out, n, budget, s):
    card = engine_catalog.card(name)
    topk = problem_cost(card, l_in, l_out, n, "topk", budget)
    block = problem_cost(card, l_in, l_out, n, "block-topk", budget, s)
    assert block.compute_flops >= topk.compute_flops
    assert block.memory_bytes >= topk.memory_bytes


@given(cards, attentions, lengths, lengths, trial_counts, budgets_st, st.floats(0, 2000))
def test_flops_law_is_kinetics_with_zero_intensity(name, attention, l_in, l_out, n, budget, i):
    card = engine_catalog.card(name)
    cost = problem_cost(card, l_in, l_out, n, attention, None if attention == "dense" else budget)
    assert cost.eflops(law_intensity("flops", i)) == cost.compute_flops
    assert cost.eflops(law_intensity("kinetics", 0.0)) == cost.compute_flops
    assert cost.eflops(law_intensity("kinetics", i)) == pytest.approx(
        cost.compute_flops + i * cost.memory_bytes
    )


@settings(max_examples=100)
@given(
    cards,
    attentions,
    lengths,
    st.lists(lengths, min_size=1, max_size=4),
    st.lists(trial_counts, min_size=1, max_size=3),
    budgets_st,
    st.sampled_from([8, 16, 64]),
    st.sampled_from([0.0, 1.0, 281.25]),
)
def test_problem_eflops_is_the_eflops_of_the_problem_cost(
    name, attention, l_in, gen_lens, n, budget, s, i
):
    # Terms summed per part (shared, per trial) before N: the same law, other addition order.
    card = engine_catalog.card(name)
    b = None if attention == "dense" else budget
    l_out = np.array(gen_lens, dtype=float)[None, :]  # (1, L) against (N, 1) trial counts
    trials = np.array(n, dtype=float)[:, None]
    want = problem_cost(card, l_in, l_out, trials, attention, b, s).eflops(i)
    got = problem_eflops(card, l_in, l_out, trials, attention, b, s, intensity=i)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_eflops_only_paths_check_their_inputs():
    with pytest.raises(InputError, match="trials"):
        problem_eflops(GQA, 100, 10, 0, intensity=1.0)
    with pytest.raises(InputError, match="generated length"):
        expected_eflops(GQA, 100, [10, -1], 2, intensity=1.0)
    with pytest.raises(InputError, match="--kv-budget is required"):
        expected_eflops(GQA, 100, [10], 2, "topk", intensity=1.0)


@settings(max_examples=100)
@given(
    cards,
    attentions,
    lengths,
    st.lists(lengths, min_size=1, max_size=5),
    st.lists(trial_counts, min_size=1, max_size=3),
    budgets_st,
    st.sampled_from([8, 16, 64]),
    st.sampled_from([0.0, 1.0, 281.25]),
)
def test_expected_eflops_is_the_eflops_of_the_expected_cost(
    name, attention, l_in, gen_lens, n, budget, s, i
):
    # SplitCost.eflops sums the terms before the trials axis: the same law, other addition order.
    card = engine_catalog.card(name)
    b = None if attention == "dense" else budget
    trials = np.array(n, dtype=float)[:, None]  # (N, 1) against one row of lengths
    weights = np.arange(1.0, len(gen_lens) + 1.0)
    cost = expected_problem_cost(card, l_in, gen_lens, trials, attention, b, s, weights=weights)
    got = expected_eflops(
        card, l_in, gen_lens, trials, attention, b, s, intensity=i, weights=weights
    )
    want = cost.eflops(i)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompt_len": -1}, "prompt length"),
        ({"gen_len": -5}, "generated length"),
        ({"gen_len": np.array([10.0, -1.0])}, "generated length"),
        ({"trials": 0}, "trials"),
        ({"gen_len": float("nan")}, "finite"),
        ({"attention": "topk"}, "--kv-budget is required"),
        ({"attention": "block-topk"}, "--kv-budget is required"),
        ({"attention": "topk", "kv_budget": 0}, "KV budget"),
        ({"attention": "block-topk", "kv_budget": 64, "block_size": 0}, "block size"),
        ({"attention": "sparse"}, "unknown attention"),
        ({"params": -3.0}, "params"),
    ],
)
def test_bad_input_raises_input_error(kwargs, message):
    args = {"prompt_len": 100, "gen_len": 10, **kwargs}
    with pytest.raises(InputError, match=message):
        problem_cost(GQA, **args)


@pytest.mark.parametrize(
    ("budget", "block_size", "reason"),
    [
        (1024, 16, ""),  # 64 pages
        (16, 16, ""),  # one page
        (960, 64, ""),  # 15 pages
        # 1000 / 64 = 15.625 pages: 15 x 64 = 960 below, 16 x 64 = 1024 above
        (1000, 64, "--kv-budget 1000 is not a whole number of pages (the nearest: 960, 15 pages, "),
        (1000, 64, "or 1024, 16 pages)"),
        (1000.5, 16, "the nearest: 992, 62 pages, or 1008, 63 pages)"),  # 62.53 pages
        (8, 16, "--kv-budget 8 is less than one page (give at least 16)"),
        (2**27 - 1, 2**16, "the nearest: 134152192, 2047 pages, or 134217728, 2048 pages"),
    ],
)
def test_block_topk_budgets_are_whole_pages(budget, block_size, reason):
    """The rule the command line applies (the law itself prices B / S pages continuously): the
    budgets either side are written as they are typed, without separators."""
    got = off_page_budget(budget, block_size, "--kv-budget")
    assert (reason in got) if reason else got == ""
    if reason:
        assert got.startswith(f"block top-k selects whole pages of {block_size} tokens: ")


def test_off_page_budgets_name_the_page_option_and_other_ways_out():
    got = off_page_budget(1000, 16, "--kv-budgets", "--block-size", "; or --attention topk")
    assert got == (
        "block top-k selects whole pages of 16 tokens (--block-size): --kv-budgets 1000 is not "
        "a whole number of pages (the nearest: 992, 62 pages, or 1008, 63 pages; or --attention "
        "topk)"
    )


def test_the_law_prices_a_fraction_of_a_page():
    """problem_cost keeps the paper's closed form: 1000 tokens in 64-token pages is priced, and
    its attention terms are 1000 / 1024 of 16 whole pages' (the search does not depend on B)."""
    part = problem_cost(GQA, 2000, 1000, 1, "block-topk", kv_budget=1000, block_size=64)
    whole = problem_cost(GQA, 2000, 1000, 1, "block-topk", kv_budget=1024, block_size=64)
    assert part.kv_bytes == pytest.approx(whole.kv_bytes * 1000 / 1024)
    assert part.search_flops == whole.search_flops


def test_budget_larger_than_the_context_is_capped_in_the_library():
    capped = problem_cost(GQA, 100, 10, 1, "topk", 10_000)
    dense = problem_cost(GQA, 100, 10, 1)
    assert capped.compute_flops == dense.compute_flops


@pytest.mark.parametrize("attention", ["dense", "topk", "block-topk"])
@pytest.mark.parametrize("model", ["qwen3-8b", "gpt-oss-20b", "qwen3-next-80b-a3b"])
def test_split_mean_by_slabs_is_the_one_pass_mean(
    monkeypatch: pytest.MonkeyPatch, attention: str, model: str
) -> None:
    """split_mean and eflops_mean cut the length grid into slabs (here of 64 elements, so a small
    grid is cut many times, along an axis some inputs broadcast over) and give exactly the
    one-pass split_cost(...).mean(weights): per-point weights (as the planner's), and one weight
    vector."""
    from kinetics_cli.engine import kinetics

    card = load_catalog().models.get(model).spec
    shape = CostShape.of(card)
    rng = np.random.default_rng(7)
    lengths = rng.uniform(0.0, 40000.0, size=(3, 200, 16))
    budget = None if attention == "dense" else np.array([256.0, 2048.0, 1e5])[:, None, None]
    l_in, s = np.asarray([[[160.0]]]), np.asarray(16.0)
    for weights in (rng.random((3, 200, 16)), rng.random(16)):
        whole = split_cost(shape, l_in, lengths, attention, budget, s).mean(weights)
        total = split_cost(shape, l_in, lengths, attention, budget, s).eflops(281.25)
        monkeypatch.setattr(kinetics, "SLAB", 64)
        slabs = kinetics.split_mean(shape, l_in, lengths, attention, budget, s, weights)
        eflops = kinetics.eflops_mean(shape, l_in, lengths, attention, budget, s, weights, 281.25)
        monkeypatch.undo()
        assert slabs.shape == whole.shape == (3, 200)
        for part in ("shared", "per_trial"):
            for term in TERMS:
                want = np.broadcast_to(getattr(getattr(whole, part), term), whole.shape)
                got = np.broadcast_to(getattr(getattr(slabs, part), term), whole.shape)
                assert np.array_equal(got, want), (part, term)
        mean = total.mean(weights)
        for got, want in ((eflops.shared, mean.shared), (eflops.per_trial, mean.per_trial)):
            assert np.array_equal(*np.broadcast_arrays(got, want, np.empty(whole.shape))[:2])


@pytest.mark.parametrize("model", ["qwen3-8b", "deepseek-v3", "gpt-oss-20b", "qwen3-next-80b-a3b"])
@pytest.mark.parametrize("prompt_shape", [(1, 1, 1), (2, 50, 16)])
@pytest.mark.parametrize("attention", ["dense", "topk", "block-topk"])
def test_split_eflops_is_split_cost_eflops_exactly(
    model: str, prompt_shape: tuple, attention: str
) -> None:
    """split_eflops (dense and top-k attention over one full-attention group in place: GQA
    qwen3-8b, MLA deepseek-v3; the other cards and block top-k take split_cost), with one prompt
    length or one per length point, budgets on their own axis, gives split_cost(...).eflops bit
    for bit."""
    from kinetics_cli.engine.kinetics import split_eflops

    shape = CostShape.of(load_catalog().models.get(model).spec)
    rng = np.random.default_rng(3)
    lengths = rng.uniform(0.0, 40000.0, size=(2, 50, 16))
    l_in = np.full(prompt_shape, 160.0) + np.arange(prompt_shape[-1])
    s = np.asarray(16.0)
    budget = None if attention == "dense" else np.array([256.0, 4096.0, 1e5])[:, None, None, None]
    for intensity in (281.25, 0.0):
        want = split_cost(shape, l_in, lengths, attention, budget, s).eflops(intensity)
        got = split_eflops(shape, l_in, lengths, attention, budget, s, intensity)
        assert got.shape == want.shape
        for g, w in ((got.shared, want.shared), (got.per_trial, want.per_trial)):
            assert np.array_equal(*np.broadcast_arrays(g, w, np.empty(want.shape))[:2])
