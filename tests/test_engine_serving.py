"""Serving model: memory plan by hand, formats per tensor kind, modes, requests, problems."""

from __future__ import annotations

import sys
from dataclasses import replace
from functools import partial

import engine_catalog
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinetics_cli.engine import serving
from kinetics_cli.engine.roofline import decode_step
from kinetics_cli.engine.serving import (
    Deployment,
    PrefillCharge,
    busiest_rank_prompts,
    decode_step_seconds,
    expected_longest,
    held_bytes_per_gpu,
    memory_plan,
    precision,
    prefill_seconds,
    prefill_step_seconds,
    problem_costs,
    request_costs,
    resolve_efficiency,
)
from kinetics_cli.errors import InputError
from kinetics_cli.specs import HardwareProfile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

GPU = engine_catalog.hardware("tiny-gpu")  # 1000 FLOP/s bf16, 2000 fp8, 10 B/s, 1 MB, link 5 B/s
GQA = engine_catalog.card("tiny-gqa")  # 24,992 parameters; 128 B of bf16 KV per token
MOE = engine_catalog.card("tiny-moe")
SMALL_CHUNK = Deployment(prefill_chunk_tokens=16)  # workspace 16 x (4*32 + 2*64) x 2 = 8192 B

EFFICIENT = HardwareProfile.model_validate(
    tomllib.loads(
        engine_catalog.HARDWARE["tiny-gpu.toml"]
        + """
[efficiency]
gemm_compute = 0.5
gemm_bandwidth = 0.8
attention_compute = 0.5
attention_bandwidth = 0.5
stream_bandwidth = 0.5
kernel_overhead_seconds = 0.25
step_overhead_seconds = 2.0
collective_latency_seconds = 1.0
collective_bandwidth = 0.5
sources = ["hand-written test figures"]
"""
    )
)


def test_memory_plan_by_hand():
    m = memory_plan(GQA, GPU, SMALL_CHUNK, context=100, prompt_len=60, trials=4)
    assert m.weights_bytes == 2 * 24_992
    # 10% of the 1 MB left to the engine, plus the prefill chunk's activations
    assert m.reserve_bytes == pytest.approx(100_000 + 16 * (4 * 32 + 2 * 64) * 2)
    assert m.kv_capacity_bytes == pytest.approx(1e6 - 108_192 - 49_984)  # 841,824
    # 2 layers x (2 KV heads x 8) x (K, V) x 2 B = 128 B per token; 12,800 at 100 tokens
    assert m.kv_bytes_per_token == 128
    assert float(m.kv_bytes_per_sequence) == 12_800
    assert float(m.max_sequences) == 841_824 // 12_800  # 65
    # 4 trials share the 60-token prompt: 4 x 12,800 - 3 x 60 x 128 = 28,160 B
    assert float(m.problem_bytes) == 28_160
    assert float(m.max_problems) == 841_824 // 28_160  # 29
    assert m.fits


def test_memory_plan_broadcasts_over_context_and_caps_at_max_batch():
    m = memory_plan(GQA, GPU, SMALL_CHUNK, context=np.array([100.0, 200.0, 400.0]))
    assert m.max_sequences.tolist() == [65, 32, 16]
    capped = memory_plan(GQA, GPU, Deployment(prefill_chunk_tokens=16, max_batch=20), context=100)
    assert float(capped.max_sequences) == 20


def test_held_bytes_per_gpu_are_the_memory_plans():
    # the by-hand case above: 2 x 24,992 B of weights, 128 B of KV per token
    weights, per_seq = held_bytes_per_gpu(GQA, GPU, SMALL_CHUNK, context=np.array([0.0, 100.0]))
    assert weights == 2 * 24_992
    assert per_seq.tolist() == [0.0, 12_800.0]
    contexts = np.array([0.0, 7.0, 100.0, 4096.0])
    for card, d, attention, budget in [
        (GQA, SMALL_CHUNK, "dense", None),
        (MOE, ADP, "dense", None),
        (GQA, SMALL_CHUNK, "block-topk", 64.0),
        (GQA, SMALL_CHUNK, "topk", 32.0),
    ]:
        m = memory_plan(
            card, GPU, d, context=contexts, attention=attention, kv_budget=budget, block_size=16
        )
        weights, per_seq = held_bytes_per_gpu(
            card, GPU, d, context=contexts, attention=attention, kv_budget=budget, block_size=16
        )
        assert weights == m.weights_bytes
        np.testing.assert_array_equal(per_seq, m.kv_bytes_per_sequence)


def test_engine_cap_on_sequences_by_default():
    from kinetics_cli.engine.serving import DEFAULT_MAX_BATCH

    # 100 MB of HBM: (0.9 x 1e8 - 8,192 - 49,984) / (10 tokens x 128 B) = 70,267 sequences fit,
    # but the engine schedules at most DEFAULT_MAX_BATCH (vLLM's max_num_seqs, 1,024)
    roomy = GPU.model_copy(update={"hbm_capacity": 1e8})
    assert DEFAULT_MAX_BATCH == 1024
    assert float(memory_plan(GQA, roomy, SMALL_CHUNK, context=10).max_sequences) == 1024
    # 4 trials a problem: floor(1,024 / 4) = 256 problems
    assert float(memory_plan(GQA, roomy, SMALL_CHUNK, context=10, trials=4).max_problems) == 256
    unbounded = Deployment(prefill_chunk_tokens=16, max_batch=None)
    assert float(memory_plan(GQA, roomy, unbounded, context=10).max_sequences) == 70_267


def test_weights_that_do_not_fit_hold_no_sequence():
    small = GPU.model_copy(update={"hbm_capacity": 60_000.0})
    m = memory_plan(GQA, small, SMALL_CHUNK, context=100)
    assert not m.fits and float(m.max_sequences) == 0


def test_formats_per_tensor_kind():
    nv = memory_plan(
        GQA, GPU, Deployment(weights="fp4", kv="fp8", prefill_chunk_tokens=16), context=100
    )
    # NVFP4: 4 bits + one 8-bit scale per 16 weights = 4.5 bits, for the blocks' 18,432 matmul
    # weights; the embedding and LM head (2 x 100 x 32) and norms (2 x 2 x 32 + 32), 6,560,
    # stay at 2 B
    assert nv.weights_bytes == pytest.approx(18_432 * 4.5 / 8 + 6_560 * 2)
    assert nv.kv_bytes_per_token == 64  # fp8 cache: 1 byte per element
    mx = memory_plan(GQA, GPU, Deployment(weights="mxfp4", prefill_chunk_tokens=16), context=100)
    # MXFP4: 4 bits + one 8-bit scale per 32 weights = 4.25 bits
    assert mx.weights_bytes == pytest.approx(18_432 * 4.25 / 8 + 6_560 * 2)
    assert mx.kv_bytes_per_token == 128


def test_attention_dp_ranks_hold_whole_sequences():
    """Under attention data-parallel a sequence lives whole on one rank: tiny-moe caches 3 layers
    x 2 KV heads x 8 x (K, V) x 2 B = 192 B per token, 96 B per GPU as the per-GPU share over
    TP 2. The replica holds 2 x floor(free / whole sequence), not floor(free / share)."""
    d = Deployment(tp=2, ep=2, prefill_chunk_tokens=16, max_batch=None)
    plan = memory_plan(MOE, GPU, d, context=99)
    free = plan.kv_capacity_bytes  # 815,072 B (test_moe_activation_workspace_counts_routed_rows)
    assert float(plan.kv_bytes_per_sequence) == 99 * 96
    assert float(plan.max_sequences) == 2 * (free // (99 * 192))  # 84, where free / 9,504 = 85
    assert float(plan.max_sequences) < free // (99 * 96)
    # 5,000 tokens: 960,000 B whole is more than one GPU's cache room (815,072 B): nothing fits,
    # though the per-GPU share (480,000 B) would fit once
    long = memory_plan(MOE, GPU, d, context=5000)
    assert 5000 * 96 <= long.kv_capacity_bytes < 5000 * 192
    assert not long.fits and float(long.max_sequences) == 0
    with pytest.raises(serving.DoesNotFit, match=r"\(whole on one GPU under attention DP\)"):
        serving.serve(MOE, GPU, d, prompt_len=4000, gen_len=1000)
    # tensor-parallel attention splits the sequence instead: the share is what a GPU holds
    tp = Deployment(tp=2, prefill_chunk_tokens=16, max_batch=None)
    split = memory_plan(MOE, GPU, tp, context=100)
    per_seq = float(split.kv_bytes_per_sequence)
    assert float(split.max_sequences) == split.kv_capacity_bytes // per_seq


def test_attention_dp_spreads_a_problems_trials_over_the_ranks():
    """A problem's trials may sit on different ranks (each whole on one): tiny-moe at TP 2 with
    attention DP, 100-token trials (19,200 B whole, 9,600 B per GPU as the share) and no prompt
    (nothing shared). 64 trials are 614,400 B per GPU as the share, 1,228,800 B whole: more than
    one rank's room, yet the replica holds floor(free / 614,400) = 1 problem; a trial longer
    than one rank's room fits nowhere."""
    d = Deployment(tp=2, ep=2, prefill_chunk_tokens=16, max_batch=None)
    plan = memory_plan(MOE, GPU, d, context=100, prompt_len=0, trials=64)
    free = plan.kv_capacity_bytes
    assert float(plan.problem_bytes) == 64 * 100 * 96
    assert 64 * 100 * 96 <= free < 64 * 100 * 192  # one problem: two ranks' room, not one's
    assert float(plan.max_problems) == free // (64 * 100 * 96) == 1
    long = memory_plan(MOE, GPU, d, context=5000, prompt_len=0, trials=1)
    assert float(long.max_problems) == 0  # 960,000 B whole on one rank > its 816,096 B


def test_attention_dp_keeps_a_prompt_copy_on_every_rank_a_problem_touches():
    """tiny-moe at TP 2 with attention DP (192 B a token whole on one rank, 815,072 B of room a
    rank), problems of N = 3 trials of 1,000 tokens sharing a 200-token prompt: a trial's own
    a = 800 x 192 = 153,600 B, the prompt q = 200 x 192 = 38,400 B, a whole problem on one rank
    3a + q = 499,200 B. Rank 0: one whole problem (815,072 - 499,200 = 315,872 B left), then
    floor((315,872 - 38,400) / 153,600) = 1 trial of the next with its own prompt copy. Rank 1
    starts 1 trial into that problem: its other 2 trials and a prompt (345,600 B), then
    floor((815,072 - 345,600 - 38,400) / 153,600) = 2 trials of a third. 4 + 4 = 8 trials: 2
    whole problems. 3 are no packing: 9 trials over 2 ranks put 5 on one, and 5 trials touch two
    problems (5 x 153,600 + 2 x 38,400 = 844,800 B > 815,072 B), while 4 on each hold only 8.
    Counting the prompt once a problem (floor(815,072 / 249,600), the per-GPU share of 499,200)
    gave 3."""
    d = Deployment(tp=2, ep=2, prefill_chunk_tokens=16, max_batch=None)
    plan = memory_plan(MOE, GPU, d, context=1000, prompt_len=200, trials=3)
    assert plan.kv_capacity_bytes == 815_072
    assert float(plan.problem_bytes) == (3 * 153_600 + 38_400) / 2 == 249_600
    assert plan.prompt_bytes == 200 * 96
    assert float(plan.max_problems) == 2
    assert 815_072 // 249_600 == 3  # the old, optimistic count
    # serve holds the same groups: 2 x 3 sequences in flight, 2 groups from memory alone
    served = serving.serve(
        MOE, GPU, d, prompt_len=200, gen_len=800, trials=3, efficiency="datasheet"
    )
    assert served.batch == 6
    assert serving.memory_problems(plan, d) == 2
    # tensor-parallel attention shards every sequence over both GPUs: one prompt copy a problem
    tp = Deployment(tp=2, prefill_chunk_tokens=16, max_batch=None)
    split = memory_plan(MOE, GPU, tp, context=1000, prompt_len=200, trials=3)
    assert float(split.max_problems) == split.kv_capacity_bytes // float(split.problem_bytes)


def _dp_problems(ranks: int, room: int, own: int, prompt: int, trials: int) -> float:
    """whole_problems under attention DP for ranks of `room` bytes, trials of `own` bytes each
    whole on a rank, and a `prompt` a rank keeps once for each problem it holds a trial of."""
    d = Deployment(tp=ranks, ep=ranks)
    share = (own + prompt) / ranks  # per-GPU share of one whole trial
    problem = (trials * own + prompt) / ranks
    held = serving.whole_problems(
        float(room), np.array(problem), np.array(share), d, prompt=prompt / ranks, trials=trials
    )
    return float(held)


@pytest.mark.parametrize(
    "ranks, room, own, prompt, trials, held",
    [
        # ranks of 9 B, trials of 2 B, prompts of 1 B, N = 5: a whole problem is 11 B, on no
        # rank. Rank 0: 4 trials of the first and its prompt (9 B); rank 1: its 5th and 2 of
        # the second, two prompts (3 x 2 + 2 = 8 B): 7 trials, 1 problem. 2 would be 20 B of
        # trials and 4 prompts (each problem split), 24 B > 18 B.
        (2, 9, 2, 1, 5, 1),
        # a third rank takes the second's last 3 and a prompt (7 B): 10 trials, 2 problems; 3
        # would be 30 B of trials and 6 prompts, 36 B > 27 B
        (3, 9, 2, 1, 5, 2),
        # no prompt: trials pool over the ranks, 4 a rank (8 B): floor(8 / 3) = 2
        (2, 8, 2, 0, 3, 2),
        # ranks of 20 B, N = 3 trials of 2 B, prompts of 4 B: 10 B a problem whole, 2 a rank
        (2, 20, 2, 4, 3, 4),
        # ranks of 23 B: 2 whole (20 B) and 3 B left, short of a trial and its prompt (6 B)
        (2, 23, 2, 4, 3, 4),
        # ranks of 27 B: rank 0 holds 2 whole and 1 trial of a third (7 x 2 + 3 x 4 = 26 B);
        # rank 1 the third's other 2, a fourth whole and 2 of a fifth (26 B): 14 trials, 4
        # problems. 5 would put 8 of their 15 trials on one rank, touching 3 problems
        # (8 x 2 + 3 x 4 = 28 B > 27 B); one prompt a problem would count floor(54 / 10) = 5
        (2, 27, 2, 4, 3, 4),
    ],
)
def test_attention_dp_problem_packing_by_hand(ranks, room, own, prompt, trials, held):
    """whole_problems under attention DP on sizes small enough to pack by hand."""
    assert _dp_problems(ranks, room, own, prompt, trials) == held


def _best_packing(ranks: int, room: int, own: int, prompt: int, trials: int) -> int:
    """The most problems any placement of their trials holds: each problem's N trials split
    over the ranks every way, a rank paying `prompt` for each problem it holds a trial of."""
    from functools import cache
    from itertools import product

    splits = [c for c in product(range(trials + 1), repeat=ranks) if sum(c) == trials]

    @cache
    def most(used: tuple[int, ...]) -> int:
        best = 0
        for split in splits:
            after = tuple(
                u + (n * own + prompt if n else 0) for u, n in zip(used, split, strict=True)
            )
            if max(after) <= room:
                best = max(best, 1 + most(tuple(sorted(after))))
        return best

    return most((0,) * ranks)


def test_attention_dp_problem_count_is_the_best_packing_on_two_and_three_ranks():
    """On 2 and 3 ranks the ranks filled in turn hold as many problems as the best placement,
    found by trying every split of every problem; never more than one prompt a problem allows."""
    for ranks in (2, 3):
        for trials in (2, 3, 4):
            for own, prompt in ((1, 1), (2, 1), (2, 3), (3, 2)):
                for room in range(own + prompt - 1, 16):
                    got = _dp_problems(ranks, room, own, prompt, trials)
                    assert got == _best_packing(ranks, room, own, prompt, trials)
                    assert got <= ranks * room // (trials * own + prompt)


def test_attention_dp_holds_a_one_trial_problem_whole_on_one_rank():
    """A problem of one trial is one sequence, which cannot spread over ranks: tiny-moe at TP 2
    with attention DP, 250 tokens (48,000 B whole, 24,000 B per GPU as the share), 815,072 B of
    room per GPU. Each rank holds floor(815,072 / 48,000) = 16, the replica 32, as serve counts
    sequences; pooling the replica's cache would give floor(815,072 / 24,000) = 33, a sequence
    split over two ranks."""
    d = Deployment(tp=2, ep=2, prefill_chunk_tokens=16, max_batch=None)
    plan = memory_plan(MOE, GPU, d, context=250, prompt_len=50, trials=1)
    assert plan.kv_capacity_bytes == 815_072 and float(plan.kv_bytes_per_sequence) == 24_000
    assert float(plan.max_problems) == float(plan.max_sequences) == 2 * (815_072 // 48_000) == 32
    grouped = memory_plan(MOE, GPU, d, context=250, prompt_len=50, trials=2)
    # two trials share the 50-token prompt: 2 x 24,000 - 50 x 96 = 43,200 B, pooled: 18
    assert float(grouped.max_problems) == 815_072 // 43_200 == 18


def test_step_precision_changes_only_the_kinds_given_apart():
    """`roofline --dtype D --weights W --kv K`: W and K replace their own widths only."""
    fp4_gpu = GPU.model_copy(update={"peak_flops": {**GPU.peak_flops, "fp4": 4000.0}})
    # --dtype fp4: NVFP4 weights (4.5 bits), an fp8 cache and fp8 activations
    alone = serving.step_precision(GQA, fp4_gpu, "fp4")
    assert (alone.weight, alone.kv, alone.act, alone.compute) == (4.5 / 8, 1.0, 1.0, "fp4")
    assert serving.step_precision(GQA, fp4_gpu, "fp4", weights="nvfp4") == alone
    assert serving.step_precision(GQA, fp4_gpu, "fp4", kv="fp8") == alone
    wide_kv = serving.step_precision(GQA, fp4_gpu, "fp4", kv="bf16")
    assert wide_kv == replace(alone, kv=2.0)
    # --dtype bf16 --weights fp8: the weights' own peak where the profile lists it
    w8 = serving.step_precision(GQA, GPU, "bf16", weights="fp8")
    assert (w8.weight, w8.kv, w8.act, w8.compute) == (1.0, 2.0, 2.0, "fp8")


def test_datasheet_step_equals_the_roofline():
    ours = decode_step_seconds(GQA, GPU, Deployment(), batch=3, context=100, efficiency="datasheet")
    theirs = decode_step(GQA, GPU, batch=3, context=100)
    assert float(ours.seconds) == pytest.approx(theirs.step_seconds)
    tp2 = decode_step_seconds(
        GQA, GPU, Deployment(tp=2), batch=3, context=100, efficiency="datasheet"
    )
    assert float(tp2.seconds) == pytest.approx(
        decode_step(GQA, GPU, batch=3, context=100, tp=2).step_seconds
    )


def test_fp8_weights_keep_bf16_collectives():
    fp8 = Deployment(tp=2, weights="fp8")
    s = decode_step_seconds(GQA, GPU, fp8, batch=1, context=100, efficiency="datasheet")
    # two all-reduces per layer of 32 bf16 activations: ring sends 2 (2-1)/2 x 64 B = 64 B each,
    # 4 calls / 5 B/s
    assert float(s.communication_seconds) == pytest.approx(4 * 64 / 5)


def test_default_mode_adds_overheads_and_efficiencies():
    d = Deployment(tp=2)
    sheet = decode_step_seconds(GQA, EFFICIENT, d, batch=1, context=100, efficiency="datasheet")
    default = decode_step_seconds(GQA, EFFICIENT, d, batch=1, context=100, efficiency="default")
    assert default.overhead_seconds == 2.0
    # collectives: 4 calls x (1 s latency + 64 B / (0.5 x 5 B/s))
    assert float(default.communication_seconds) == pytest.approx(4 * (1 + 64 / 2.5))
    # memory-bound attention at half the bandwidth takes twice as long, plus 0.25 s per call in
    # each of the 2 layers
    assert float(default.attention_seconds) == pytest.approx(
        2 * float(sheet.attention_seconds) + 2 * 0.25
    )
    assert resolve_efficiency(EFFICIENT, "default").mode == "default"
    with pytest.raises(InputError, match="no \\[efficiency\\] table"):
        resolve_efficiency(GPU, "default")
    with pytest.raises(InputError, match="no \\[calibration\\] table"):
        resolve_efficiency(GPU, "calibrated")


def test_attention_data_parallel_with_expert_parallel():
    tp = memory_plan(MOE, GPU, Deployment(tp=2, prefill_chunk_tokens=16), context=100)
    dp = memory_plan(MOE, GPU, Deployment(tp=2, ep=2, prefill_chunk_tokens=16), context=100)
    # attention DP: each GPU holds both KV heads of half the sequences: the same bytes per
    # sequence on average as TP splitting the two heads
    assert float(dp.kv_bytes_per_sequence) == pytest.approx(float(tp.kv_bytes_per_sequence))
    # ... but holds the non-expert weights whole: more weight bytes per GPU
    assert dp.weights_bytes > tp.weights_bytes
    s = decode_step_seconds(
        MOE, GPU, Deployment(tp=2, ep=2), batch=4, context=10, efficiency="datasheet"
    )
    assert float(s.communication_seconds) > 0  # all-to-all dispatch and combine


def test_moe_activation_workspace_counts_routed_rows():
    """Workspace = chunk C x (4 hidden + the widest layer's MLP activations) x 2 B, C = 16.
    tiny-moe: hidden 32; dense layer 0 of width 64 (gate and up: 2 x 64 = 128 per token); MoE
    layers route k = 2 passes a token to experts 16 wide (permuted row 32 + gate and up 2 x 16)
    plus a shared expert 16 wide (2 x 16 = 32)."""
    chunk = 16
    workspace = serving.activation_workspace_bytes
    # TP1: dense 128; MoE 2 x (32 + 32) + 32 = 160, the larger
    assert workspace(MOE, Deployment(prefill_chunk_tokens=chunk)) == chunk * (128 + 160) * 2
    # TP2, attention tensor-parallel: dense 128 / 2 = 64; every GPU runs both passes of each
    # token at half the expert width, 2 x (32 + 16), and half the shared expert, 16: 112
    d = Deployment(tp=2, prefill_chunk_tokens=chunk)
    assert workspace(MOE, d) == chunk * (128 + 112) * 2
    # TP2 EP2, attention data-parallel: each rank prefills its own chunk, the dense layer whole
    # (128), and receives from both ranks the passes routed to its 4 whole experts, 2 x 2 / 2 = 2
    # rows a token: 2 x (32 + 32) + 32 = 160 (the 815,072 B of cache room of the test above:
    # 1e6 - 1e5 - 16 x 288 x 2 - 75,712 B of weights)
    d = Deployment(tp=2, ep=2, prefill_chunk_tokens=chunk)
    assert workspace(MOE, d) == chunk * (128 + 160) * 2
    assert memory_plan(MOE, GPU, d, context=99).kv_capacity_bytes == pytest.approx(815_072)
    # every layer MoE: the card's intermediate_size (here 640, 2 x 640 = 1,280) is unused
    all_moe = tomllib.loads(
        engine_catalog.MODELS["tiny-moe.toml"]
        .replace("dense_layers = [0]\n", "")
        .replace("intermediate_size = 64", "intermediate_size = 640")
    )
    card = type(MOE).model_validate(all_moe)
    assert workspace(card, Deployment(prefill_chunk_tokens=chunk)) == chunk * (128 + 160) * 2


def _step_ops(card, d, batch, context=10.0):
    s = serving._setup(card, GPU, d, context=context)
    return {op.name: op for op in serving.step_operators(s, np.asarray(float(batch)))}


def test_expert_parallel_gpu_runs_only_the_passes_routed_to_its_experts():
    # tiny-moe: 8 experts, k = 2, hidden K = 32, expert 3 x 32 x 16 = 1,536 params (3 x 16 = 48
    # wide out of K); 2 MoE layers. Batch 4 at TP4: 8 passes a layer, 8 (1 - 0.75^4) = 5.46875
    # experts touched, each GPU holding 1/4 of every expert's weights in expectation.
    touched = 8 * (1 - 0.75**4)
    weights = touched * 1536 / 4 * 2
    by_ep = {ep: _step_ops(MOE, Deployment(tp=4, ep=ep), 4)["routed experts"] for ep in (1, 2, 4)}
    # EP1: every GPU holds a quarter of each expert's width and runs all 8 passes, each reading
    # its 32-wide input row and writing 48 / 4 = 12: 8 x (32 + 12) x 2 B
    assert float(by_ep[1].cost.bytes) == pytest.approx(weights + 8 * (32 + 12) * 2)
    # EP2: 2 groups of 2 GPUs, half of each expert's width a GPU: 8 / 2 passes x (32 + 24) x 2 B
    assert float(by_ep[2].cost.bytes) == pytest.approx(weights + 4 * (32 + 24) * 2)
    # EP4: 2 whole experts a GPU, 8 / 4 passes x (32 + 48) x 2 B
    assert float(by_ep[4].cost.bytes) == pytest.approx(weights + 2 * (32 + 48) * 2)
    # the FLOPs do not depend on the split: 2 x 8 passes x 1,536 / 4
    for op in by_ep.values():
        assert float(op.cost.flops) == 2 * 8 * 1536 / 4


def test_all_to_all_sends_each_token_to_its_experts_gpus_or_all_of_them():
    # attention DP over 4 GPUs, batch 8: 2 local tokens a GPU, rows of 32 x 2 B = 64 B, sent
    # (4 - 1) / 4 of the time off the GPU, per MoE layer and direction
    link = {
        ep: float(
            _step_ops(MOE, Deployment(tp=4, ep=ep, attention_dp=True), 8)["all-to-all"].cost.bytes
        )
        for ep in (1, 2, 4)
    }
    # EP4: one GPU per expert, a row to each of its k = 2 experts' GPUs: 2 x 2 x 64 x 3 / 4
    assert link[4] == pytest.approx(2 * 2 * 64 * 3 / 4)
    # EP2: each expert on 2 GPUs, 2 x 2 = 4 = every GPU: the all-gather's 2 x 4 x 64 x 3 / 4
    assert link[2] == pytest.approx(2 * 4 * 64 * 3 / 4)
    # EP1: every expert on every GPU: all-gather, not 2 x 4 per-expert copies
    assert link[1] == link[2]


@pytest.mark.parametrize(
    ("card", "deployment", "message"),
    [
        (GQA, Deployment(tp=3), "must divide tiny-gqa's 4 attention heads"),
        (GQA, Deployment(ep=2, tp=2), "needs a mixture-of-experts model"),
        (MOE, Deployment(tp=2, ep=3), "must divide tiny-moe's 8 routed experts"),
        (MOE, Deployment(tp=2, ep=4), "must divide --tp 2"),
        (GQA, Deployment(kv="fp4"), "unknown KV-cache format 'fp4'"),
        (GQA, Deployment(weights="int3"), "unknown weight format 'int3'"),
        (GQA, Deployment(compute="fp4"), "tiny-gpu has no fp4 peak"),
        (engine_catalog.card("tiny-big"), Deployment(tp=8), "exceeds tiny-gpu's 4 GPUs per node"),
    ],
)
def test_bad_deployments(card, deployment, message):
    with pytest.raises(InputError, match=message):
        memory_plan(card, GPU, deployment, context=10)


def test_request_costs_by_hand():
    d = SMALL_CHUNK
    r = request_costs(
        GQA, GPU, d, prompt_len=16, gen_lens=8, batch=np.array([1.0, 4.0]), efficiency="datasheet"
    )
    # a prefill pass packs floor(16 / 16) = 1 prompt; tpot = step + batch / L_out x prefill
    pre = float(prefill_seconds(GQA, GPU, d, 1, 16, efficiency="datasheet").seconds)
    assert r.prefill_seconds_per_request == pytest.approx(pre)
    # the batch is a mix of contexts 16 + 8 (k + 0.5) / 16; attention is linear in the context,
    # so the mix costs the same as its mean, 20 tokens
    mean = decode_step_seconds(GQA, GPU, d, np.array([1.0, 4.0]), 20.0, efficiency="datasheet")
    assert r.decode_step_seconds == pytest.approx(mean.seconds)
    assert r.tpot_seconds == pytest.approx(mean.seconds + np.array([1.0, 4.0]) / 8 * pre)
    assert r.output_tokens_per_s == pytest.approx(np.array([1.0, 4.0]) / r.tpot_seconds)
    assert r.requests_per_s == pytest.approx(r.output_tokens_per_s / 8)


def test_expected_longest_of_n_trials():
    # two lengths, equally likely: max of 2 draws is 1 with probability 1/4
    assert expected_longest([1.0, 2.0], None, 2) == pytest.approx(1 * 0.25 + 2 * 0.75)
    assert expected_longest([5.0], None, 7) == 5.0


def test_problem_costs_by_hand():
    p = problem_costs(
        GQA,
        GPU,
        Deployment(tp=2, prefill_chunk_tokens=16),
        prompt_len=16,
        gen_lens=[8.0, 24.0],
        trials=4,
        problems=np.array([1.0, 2.0]),
        efficiency="datasheet",
    )
    # GPU-seconds = 2 GPUs x N x mean L x tpot / sequences
    assert p.sequences.tolist() == [4.0, 8.0]
    assert p.gpu_seconds_per_problem == pytest.approx(2 * 4 * 16 * p.tpot_seconds / p.sequences)
    assert p.problems_per_gpu_hour == pytest.approx(3600 / p.gpu_seconds_per_problem)
    # the longest of 4 trials: 24 unless all four draw 8 (1/16)
    assert p.expected_longest_tokens == pytest.approx(8 / 16 + 24 * 15 / 16)
    assert p.wall_seconds == pytest.approx(p.requests.ttft_seconds + 23.0 * p.tpot_seconds)
    assert p.energy_joules is None and p.usd_per_problem is None  # the tiny GPU has neither


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 500),
    context=st.floats(0, 1e5),
    tp=st.sampled_from([1, 2, 4]),
    mode=st.sampled_from(["datasheet", "default"]),
)
def test_step_time_grows_with_batch_and_context(batch, context, tp, mode):
    d = Deployment(tp=tp)
    base = decode_step_seconds(GQA, EFFICIENT, d, batch, context, efficiency=mode)
    more = decode_step_seconds(GQA, EFFICIENT, d, batch + 1, context, efficiency=mode)
    longer = decode_step_seconds(GQA, EFFICIENT, d, batch, context + 100, efficiency=mode)
    assert float(more.seconds) >= float(base.seconds)
    assert float(longer.seconds) >= float(base.seconds)
    sheet = decode_step_seconds(GQA, EFFICIENT, d, batch, context, efficiency="datasheet")
    assert float(base.seconds) >= float(sheet.seconds) * (1 - 1e-12)


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 200), prompt=st.integers(1, 2000), gen=st.integers(1, 4000))
def test_tpot_and_throughput_grow_with_batch(batch, prompt, gen):
    r = request_costs(
        GQA,
        EFFICIENT,
        SMALL_CHUNK,
        prompt_len=prompt,
        gen_lens=gen,
        batch=np.array([batch, batch + 1.0]),
    )
    assert r.tpot_seconds[1] >= r.tpot_seconds[0]
    assert r.output_tokens_per_s[1] >= r.output_tokens_per_s[0]


def test_kv_cache_fraction_of_free_memory():
    d = Deployment(prefill_chunk_tokens=16, kv_cache_fraction=0.5)
    m = memory_plan(GQA, GPU, d, context=100)
    # half of what weights (49,984 B) and workspace (8,192 B) leave of 1 MB goes to the cache
    assert m.kv_capacity_bytes == pytest.approx(0.5 * (1e6 - 49_984 - 8_192))
    assert m.reserve_bytes == pytest.approx(8_192 + 0.5 * (1e6 - 49_984 - 8_192))


def test_serve_picks_the_largest_batch_that_fits_and_refuses_what_does_not():
    from kinetics_cli.engine.serving import DoesNotFit, serve

    r = serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=40, efficiency="datasheet")
    # 841,824 B of KV capacity / (100 tokens x 128 B) = 65 sequences
    assert r.batch == r.max_batch == 65 and r.batch_rule == "memory"
    assert r.kv_bytes == 65 * 12_800
    given = serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=40, batch=8, efficiency="datasheet")
    assert given.batch == 8 and float(given.costs.output_tokens_per_s) < float(
        r.costs.output_tokens_per_s
    )
    with pytest.raises(DoesNotFit, match="batch 66 does not fit"):
        serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=40, batch=66, efficiency="datasheet")
    # TP1 needs 49,984 + 0.1 C + 8,192 + 12,800 B <= C (C >= 78,862); TP2 half the weights and KV
    small = GPU.model_copy(update={"hbm_capacity": 60_000.0})
    with pytest.raises(DoesNotFit, match="--tp 2 would fit"):
        serve(GQA, small, SMALL_CHUNK, prompt_len=60, gen_len=40, efficiency="datasheet")


def test_serve_holds_groups_of_trials_sharing_a_prompt():
    """serve --trials 4 at 60 + 40 tokens: a group holds 4 x 100 x 128 - 3 x 60 x 128 = 28,160 B
    of cache (the prompt's once), so 841,824 // 28,160 = 29 groups fit, 116 sequences (65 one
    prompt each); the batch and the sequences it holds are whole groups, and the figures are
    problem_costs' for 29 problems of 4 trials of 40 tokens (one prompt prefilled per group)."""
    from kinetics_cli.engine.serving import DoesNotFit

    serve = partial(serving.serve, efficiency="datasheet")

    r = serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=40, trials=4)
    assert (r.trials, r.batch, r.max_batch, r.batch_rule) == (4, 116, 116, "memory")
    assert r.memory_batch == 116 and r.kv_bytes == 29 * 28_160
    p = problem_costs(
        GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_lens=40.0, trials=4, efficiency="datasheet"
    )
    assert float(p.problems) == 29
    assert float(r.costs.tpot_seconds) == float(p.tpot_seconds)
    # GPU-seconds per problem: 1 GPU x 4 trials x 40 tokens / output tokens/s
    tokens_per_s = float(r.costs.output_tokens_per_s_per_gpu)
    assert 4 * 40 / tokens_per_s == pytest.approx(float(p.gpu_seconds_per_problem), rel=1e-12)
    assert r.problems_per_s == pytest.approx(float(r.costs.requests_per_s) / 4, rel=1e-12)
    assert r.as_dict()["trials"] == 4 and r.as_dict()["problems_per_s"] == r.problems_per_s
    # one prompt prefilled per group: a request's share is a quarter of serve's one each
    alone = serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=40, batch=8)
    grouped = serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=40, batch=8, trials=4)
    assert grouped.costs.prefill_seconds_per_request == pytest.approx(
        alone.costs.prefill_seconds_per_request / 4, rel=1e-12
    )
    assert float(grouped.costs.tpot_seconds) < float(alone.costs.tpot_seconds)
    assert grouped.kv_bytes == 2 * 28_160  # two groups, not 8 x 12,800
    with pytest.raises(InputError, match=r"--batch 117 is not .* multiple of 4 \(116 or 120\)"):
        serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=40, batch=117, trials=4)
    with pytest.raises(
        DoesNotFit, match="holds at most 116 sequences of 100 tokens in groups of 4"
    ):
        serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=40, batch=120, trials=4)


def test_serve_groups_under_the_engine_cap_latency_targets_and_sweep():
    """A cap of 10 sequences holds 2 groups of 4 (8); a cap below one group is refused; the
    latency search and the sweep step in whole groups."""
    serve = partial(serving.serve, efficiency="datasheet")

    capped = replace(SMALL_CHUNK, max_batch=10)
    r = serve(GQA, GPU, capped, prompt_len=60, gen_len=40, trials=4, sweep=True)
    assert (r.batch, r.max_batch, r.batch_rule, r.memory_batch) == (8, 8, "max-batch", 116)
    assert r.sweep is not None and r.sweep.batch.tolist() == [4.0, 8.0]
    with pytest.raises(InputError, match=r"one group of --trials 4 sequences exceeds .* cap of 3"):
        serve(GQA, GPU, replace(SMALL_CHUNK, max_batch=3), prompt_len=60, gen_len=40, trials=4)
    full = serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=40, trials=4, sweep=True)
    assert full.sweep is not None and np.all(full.sweep.batch % 4 == 0)
    assert full.sweep.batch[0] == 4 and full.sweep.batch[-1] == 116
    # TPOT grows with the batch: a target between 12 and 16 sequences' TPOT gives 3 groups
    twelve, sixteen = (
        float(
            serve(
                GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=40, batch=b, trials=4
            ).costs.tpot_seconds
        )
        for b in (12, 16)
    )
    target = (twelve + sixteen) / 2
    met = serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=40, trials=4, max_tpot=target)
    assert (met.batch, met.batch_rule) == (12, "max-tpot")


def test_serve_refuses_a_group_larger_than_memory_and_names_the_tp_that_holds_it():
    """At 60 + 2,000 tokens one sequence (2,060 x 128 = 263,680 B) fits in 841,824 B, a group of
    4 (4 x 263,680 - 3 x 60 x 128 = 1,031,680 B) does not; TP 2 halves the weights and cache."""
    from kinetics_cli.engine.serving import DoesNotFit

    serve = partial(serving.serve, efficiency="datasheet")

    with pytest.raises(DoesNotFit) as caught:
        serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=2000, trials=4)
    message = str(caught.value)
    assert "one group of 4 sequences of 2,060 tokens sharing a 60-token prompt" in message
    assert "1.03 MB (4 x 264 kB less 3 copies of the prompt's) > 842 kB" in message
    assert message.endswith("--tp 2 would hold it")
    assert serve(GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_len=2000).batch == 3


def test_serve_counts_groups_as_the_planner_under_attention_dp():
    """Under attention data-parallel a group's trials may spread over the ranks (whole_problems):
    tiny-moe at TP 2 EP 2, 20 + 80 tokens, groups of 4 hold memory_plan's max_problems x 4
    sequences (24 x 4 = 96), more than the 84 one-prompt sequences whole_sequences holds."""
    serve = partial(serving.serve, efficiency="datasheet")

    d = Deployment(tp=2, ep=2, prefill_chunk_tokens=16, max_batch=None)
    plan = memory_plan(MOE, GPU, d, context=100, prompt_len=20, trials=4)
    grouped = serve(MOE, GPU, d, prompt_len=20, gen_len=80, trials=4)
    assert grouped.batch == 4 * float(plan.max_problems) == 96
    assert serve(MOE, GPU, d, prompt_len=20, gen_len=80).batch == float(plan.max_sequences) == 84


def test_prefix_sharing_holds_more_problems():
    shared = problem_costs(
        GQA, GPU, SMALL_CHUNK, prompt_len=60, gen_lens=40.0, trials=4, efficiency="datasheet"
    )
    # 4 trials x 100 tokens x 128 B - 3 x 60 x 128 = 28,160 B per problem: 29 problems
    assert float(shared.problems) == 29 and float(shared.sequences) == 116
    assert float(shared.requests.batch) == 116
    alone = memory_plan(GQA, GPU, SMALL_CHUNK, context=100)
    assert float(shared.sequences) > float(alone.max_sequences)  # 116 > 65


@settings(max_examples=40, deadline=None)
@given(
    context=st.floats(1, 5e4),
    extra=st.floats(1, 5e4),
    trials=st.integers(1, 64),
    prompt_share=st.floats(0, 1),
)
def test_memory_plan_properties(context, extra, trials, prompt_share):
    d = Deployment(prefill_chunk_tokens=16)
    prompt = prompt_share * context
    m = memory_plan(
        GQA, GPU, d, context=np.array([context, context + extra]), prompt_len=prompt, trials=trials
    )
    # a longer context never holds more sequences
    assert m.max_sequences[1] <= m.max_sequences[0]
    # a problem never holds more than its trials alone, nor less than one trial
    alone = trials * m.kv_bytes_per_sequence[0]
    tol = 1e-9 * alone
    assert m.kv_bytes_per_sequence[0] - tol <= m.problem_bytes[0] <= alone + tol
    # so sharing the prompt fits at least as many trials as independent sequences
    assert m.max_problems[0] * trials >= m.max_sequences[0] - trials + 1


def test_smallest_fitting_tp_for_a_problem():
    from kinetics_cli.engine.serving import smallest_fitting_tp

    # 60 kB of HBM: TP1 cannot hold the 49,984 B of weights with its reserve; TP2 holds one
    # sequence of 100 tokens (6,400 B per GPU) but not 64 trials sharing a 60-token prompt
    # (64 x 6,400 - 63 x 3,840 = 167,680 B per GPU); TP4 neither: its 4 ranks replicate the 2 KV
    # heads, so the cache per GPU is TP2's
    small = GPU.model_copy(update={"hbm_capacity": 60_000.0})
    assert smallest_fitting_tp(GQA, small, SMALL_CHUNK, 100) == 2
    assert smallest_fitting_tp(GQA, small, SMALL_CHUNK, 100, prompt_len=60, trials=64) is None


def test_misfit_under_attention_dp_suggests_attention_tp_where_only_it_fits():
    """tiny-moe under attention DP keeps its 25,568 non-expert weights whole on every GPU, so the
    expert split alone cannot make room; EP 1 splits them too. One sequence of 100 tokens needs
    weights + workspace + its whole cache <= 0.9 C: TP2 EP2 75,712 + 8,192 + 19,200 = 103,104 B,
    TP4 EP2 63,424 + 8,192 + 19,200 = 90,816 B, TP2 EP1 50,144 + 6,144 + 9,600 = 65,888 B."""
    from kinetics_cli.engine.serving import smallest_fitting_layout

    d = Deployment(tp=2, ep=2, prefill_chunk_tokens=16)
    roomy = GPU.model_copy(update={"hbm_capacity": 110_000.0})  # 0.9 C = 99,000 B
    assert smallest_fitting_layout(MOE, roomy, d, 100) == (4, 2)
    tight = GPU.model_copy(update={"hbm_capacity": 90_000.0})  # 0.9 C = 81,000 B
    assert smallest_fitting_layout(MOE, tight, d, 100) == (2, 1)
    with pytest.raises(serving.DoesNotFit, match=r"--tp 2 --ep 1 would fit \(attention tensor"):
        serving.serve(MOE, tight, d, prompt_len=60, gen_len=40)
    # TP4 EP1, the most split layout, needs 25,072 + 5,120 + 9,600 = 39,792 B (its 4 ranks
    # replicate the 2 KV heads): more than 0.9 x 40,000
    small = GPU.model_copy(update={"hbm_capacity": 40_000.0})
    assert smallest_fitting_layout(MOE, small, d, 100) is None


def test_calibrated_mode_uses_the_profile_fits():
    calibrated = engine_catalog.hardware("tiny-calibrated")  # no interconnect: TP 1
    from kinetics_cli.engine.roofline import time_operator
    from kinetics_cli.engine.serving import _setup, engine_operators

    ours = decode_step_seconds(GQA, calibrated, Deployment(), 3, 100, efficiency="calibrated")
    # the roofline prices every operator with the same [calibration] table; the engine's own
    # kernels (the MLP activation here) come on top, timed with the same table
    eff = resolve_efficiency(calibrated, "calibrated")
    s = _setup(GQA, calibrated, Deployment(), context=100.0, efficiency=eff)
    extra = sum(float(time_operator(s, op)[0]) for op in engine_operators(s, np.asarray(3.0), eff))
    assert extra > 0
    assert float(ours.seconds) == pytest.approx(
        decode_step(GQA, calibrated, batch=3, context=100).step_seconds + extra
    )
    sheet = decode_step_seconds(GQA, calibrated, Deployment(), 3, 100, efficiency="datasheet")
    assert float(sheet.seconds) < float(ours.seconds)
    assert resolve_efficiency(calibrated, "calibrated").label.startswith("calibrated:")


def test_host_time_per_sequence_bounds_the_iteration():
    """TPOT = max(GPU step + prefill share, host seconds per sequence x sequences one scheduler
    handles); datasheet mode charges no host time."""
    slow_host = EFFICIENT.model_copy(
        update={
            "efficiency": EFFICIENT.efficiency.model_copy(
                update={"host_seconds_per_sequence": 5000.0}
            )
        }
    )
    batch = np.array([1.0, 4.0, 64.0])
    kwargs = dict(prompt_len=60, gen_lens=40, batch=batch)
    gpu = request_costs(GQA, EFFICIENT, SMALL_CHUNK, **kwargs)
    host = request_costs(GQA, slow_host, SMALL_CHUNK, **kwargs)
    assert host.tpot_seconds == pytest.approx(np.maximum(gpu.tpot_seconds, 5000.0 * batch))
    assert (host.tpot_seconds > gpu.tpot_seconds).tolist() == [
        False,
        True,
        True,
    ]  # 1 sequence: GPU-bound (8,489 s); 4 and 64: host-bound
    assert host.output_tokens_per_s == pytest.approx(batch / host.tpot_seconds)
    assert host.host_seconds == pytest.approx(5000.0 * batch)
    # the first token comes from an iteration too: never sooner than the host's seconds
    assert host.ttft_seconds == pytest.approx(np.maximum(gpu.ttft_seconds, 5000.0 * batch))
    assert (host.ttft_seconds > gpu.ttft_seconds).any()
    # the host's time is not the GPUs': prefill's share is of decode step + prefill, the same
    # whether or not the host is slower (it used to be divided by the host-bound TPOT)
    gpu_time = gpu.decode_step_seconds + gpu.prefill_step_seconds
    assert host.prefill_share == pytest.approx(gpu.prefill_step_seconds / gpu_time)
    assert host.prefill_share == pytest.approx(gpu.prefill_share)
    sheet = request_costs(GQA, slow_host, SMALL_CHUNK, efficiency="datasheet", **kwargs)
    plain = request_costs(GQA, EFFICIENT, SMALL_CHUNK, efficiency="datasheet", **kwargs)
    assert sheet.tpot_seconds == pytest.approx(plain.tpot_seconds)
    # attention data-parallel over 2 GPUs: each rank schedules half the batch
    from kinetics_cli.engine.serving import host_seconds, resolve_efficiency

    eff = resolve_efficiency(slow_host, "default")
    dp = Deployment(tp=2, ep=2)
    assert host_seconds(eff, dp, 64.0) == pytest.approx(5000.0 * 32)
    assert host_seconds(eff, Deployment(tp=2), 64.0) == pytest.approx(5000.0 * 64)


def test_moe_routing_kernels_are_charged_outside_datasheet():
    from kinetics_cli.engine.serving import _setup, moe_routing_operators

    batch = np.asarray(5.0)
    s = _setup(MOE, EFFICIENT, Deployment(), context=10.0)
    sheet = resolve_efficiency(EFFICIENT, "datasheet")
    assert moe_routing_operators(s, batch, sheet) == []
    assert moe_routing_operators(_setup(GQA, EFFICIENT, Deployment()), batch, sheet) == []
    expand, finalize = moe_routing_operators(s, batch, resolve_efficiency(EFFICIENT, "default"))
    # tiny-moe: 2 MoE layers of 8 experts, top-2, hidden 32, bf16 activations; 5 tokens
    assert expand.calls == finalize.calls == 2 and expand.kernel == "stream"
    # expand reads 5 x (32 + 8 logits) and writes 5 x 2 x 32: 5 x (32 x 3 + 8) x 2 B = 1,040 B
    assert float(expand.cost.bytes) == 5 * (32 * 3 + 8) * 2
    # finalize reads 5 x 2 x 32 and writes 5 x 32: 5 x 32 x 3 x 2 B = 960 B
    assert float(finalize.cost.bytes) == 960
    # under attention data-parallel over 2 GPUs each runs them for its half of the tokens
    dp = _setup(MOE, EFFICIENT, Deployment(tp=2, ep=2), context=10.0)
    half = moe_routing_operators(dp, batch, resolve_efficiency(EFFICIENT, "default"))[1]
    assert float(half.cost.bytes) == 480


def test_grouped_gemm_fraction_keeps_its_ratio_to_dense_across_dtypes():
    """The grouped (MoE expert) compute fraction is measured at fp8; at bf16 and fp4 it scales
    with the dense fraction: 0.4 x 0.5 / 0.8 = 0.25 (bf16), 0.4 (fp8), 0.4 x 0.2 / 0.8 = 0.1."""
    table = EFFICIENT.efficiency.model_copy(
        update={
            "gemm_compute_fp8": 0.8,
            "gemm_compute_fp4": 0.2,
            "grouped_gemm_compute": 0.4,
        }
    )
    profile = EFFICIENT.model_copy(update={"efficiency": table})
    for dtype, expected in (("bf16", 0.25), ("fp8", 0.4), ("fp4", 0.1)):
        grouped = resolve_efficiency(profile, "default", dtype).grouped
        assert grouped is not None and grouped.calibration is not None
        fit = grouped.calibration.kernels["gemm"]
        assert fit.compute_efficiency == pytest.approx(expected)


def test_mlp_activation_kernel_is_charged_outside_datasheet():
    from kinetics_cli.engine.serving import _setup, activation_operators, engine_operators

    batch = np.asarray(5.0)
    default = resolve_efficiency(EFFICIENT, "default")
    sheet = resolve_efficiency(EFFICIENT, "datasheet")
    s = _setup(GQA, EFFICIENT, Deployment(), context=10.0)
    assert activation_operators(s, batch, sheet) == []
    (act,) = activation_operators(s, batch, default)
    # tiny-gqa: 2 layers of SwiGLU over intermediate 64; 5 tokens read gate and up (2 x 64) and
    # write 64 bf16 values: 5 x 64 x 3 x 2 B = 1,920 B per layer, one stream kernel per layer
    assert (act.calls, act.kind, act.kernel) == (2, "other", "stream")
    assert float(act.cost.bytes) == 1_920 and float(act.cost.flops) == 0
    # TP 2 halves the intermediate width on each GPU
    (half,) = activation_operators(_setup(GQA, EFFICIENT, Deployment(tp=2)), batch, default)
    assert float(half.cost.bytes) == 960
    # a prefill pass of 5 prompts x 4 tokens: 20 tokens
    pre = _setup(GQA, EFFICIENT, Deployment(), phase="prefill", prompt_len=4.0)
    assert float(activation_operators(pre, batch, default)[0].cost.bytes) == 20 * 64 * 3 * 2
    # tiny-moe: one dense layer (intermediate 64) and 2 MoE layers with one shared expert of
    # width 16: 5 x 16 x 3 x 2 B = 480 B per MoE layer; routed experts' activation is fused
    m = _setup(MOE, EFFICIENT, Deployment(), context=10.0)
    dense, shared = activation_operators(m, batch, default)
    assert (dense.calls, float(dense.cost.bytes)) == (1, 1_920)
    assert (shared.calls, float(shared.cost.bytes)) == (2, 480)
    names = [op.name for op in engine_operators(m, batch, default)]
    assert names == [
        "moe routing and permute",
        "moe un-permute and reduce",
        "mlp activation",
        "shared-expert activation",
    ]
    # the step charges it next to the norms: streams at half of 10 B/s plus 0.25 s per call;
    # the norms copy 2 x 5 x 32 bf16 values in and out, 1,280 B per layer
    step = decode_step_seconds(GQA, EFFICIENT, Deployment(), batch=5, context=10)
    norms = 2 * (1_280 / 5 + 0.25)
    assert float(step.other_seconds) == pytest.approx(norms + 2 * (1_920 / 5 + 0.25))


def test_cuda_graph_padding_rounds_each_schedulers_batch_up():
    from kinetics_cli.engine.serving import graph_batch

    d = Deployment(cuda_graph_batch_sizes=(1, 2, 4, 8))
    # next size up; unchanged past the largest size
    assert graph_batch(d, np.array([3.0, 5.0, 8.0, 9.0])).tolist() == [4, 8, 8, 9]
    assert graph_batch(Deployment(), 3.0) == 3.0  # no graph sizes, no padding
    # attention data-parallel over 2 GPUs: each rank's 3 sequences padded to 4, 8 per replica
    assert graph_batch(Deployment(tp=2, ep=2, cuda_graph_batch_sizes=(4,)), 6.0) == 8.0
    # no padding past the engine's cap on sequences (TensorRT-LLM's max_batch_size)
    assert graph_batch(Deployment(max_batch=6, cuda_graph_batch_sizes=(8,)), 5.0) == 5.0


def test_padded_steps_run_all_but_attention_on_the_graph_batch():
    d = Deployment(cuda_graph_batch_sizes=(4,))
    padded = decode_step_seconds(GQA, EFFICIENT, d, batch=3, context=100)
    at3 = decode_step_seconds(GQA, EFFICIENT, Deployment(), batch=3, context=100)
    at4 = decode_step_seconds(GQA, EFFICIENT, Deployment(), batch=4, context=100)
    assert float(padded.linear_seconds) == float(at4.linear_seconds)
    assert float(padded.other_seconds) == float(at4.other_seconds)
    assert float(padded.attention_seconds) == float(at3.attention_seconds)
    assert float(padded.tokens) == 3  # the padding produces nothing
    # datasheet stays the roofline's step: no padding there
    sheet = decode_step_seconds(GQA, EFFICIENT, d, batch=3, context=100, efficiency="datasheet")
    plain = decode_step_seconds(GQA, EFFICIENT, Deployment(), 3, 100, efficiency="datasheet")
    assert float(sheet.seconds) == float(plain.seconds)


def test_only_steps_without_a_prompt_are_padded():
    d = Deployment(cuda_graph_batch_sizes=(4,))

    def step(dep: Deployment, batch: float, gen: float) -> float:
        r = request_costs(GQA, EFFICIENT, dep, prompt_len=10, gen_lens=gen, batch=batch)
        return float(r.decode_step_seconds)

    # 3 sequences of 30 tokens admit 3 / 30 = 0.1 prompts a step: 90% of steps run padded
    unpadded, padded_share = step(Deployment(), 3, 30), step(d, 3, 30)
    assert unpadded < padded_share < step(Deployment(), 4, 30)
    # 3 sequences of 2 tokens admit 1.5 prompts a step: every step carries one, none padded
    assert step(d, 3, 2) == step(Deployment(), 3, 2)


def test_mla_models_read_their_cache_at_the_mla_fraction():
    from kinetics_cli.engine.serving import _setup

    mla_card = engine_catalog.card("tiny-mla")
    table = (
        engine_catalog.HARDWARE["tiny-gpu.toml"]
        + """
[efficiency]
gemm_compute = 0.5
gemm_bandwidth = 0.8
attention_compute = 0.5
attention_bandwidth = 0.5
mla_attention_bandwidth = 0.25
stream_bandwidth = 0.5
kernel_overhead_seconds = 0.25
collective_latency_seconds = 1.0
collective_bandwidth = 0.5
sources = ["hand-written test figures"]
"""
    )
    profile = HardwareProfile.model_validate(tomllib.loads(table))
    eff = resolve_efficiency(profile, "default")
    assert "MLA 25%" in eff.label
    mla = _setup(mla_card, profile, Deployment(), efficiency=eff).hardware
    gqa = _setup(GQA, profile, Deployment(), efficiency=eff).hardware
    assert mla.kernel_fit("attention_decode_dense").bandwidth_efficiency == 0.25
    assert gqa.kernel_fit("attention_decode_dense").bandwidth_efficiency == 0.5
    # memory-bound decode attention of an MLA model takes twice as long at half the fraction
    at = {
        e: decode_step_seconds(mla_card, p, Deployment(), 1, 1000).attention_seconds
        for e, p in (("mla", profile), ("plain", EFFICIENT))
    }
    layers = 2
    assert float(at["mla"]) - layers * 0.25 == pytest.approx(
        2 * (float(at["plain"]) - layers * 0.25)
    )


# Attention data-parallel: the busiest rank's prompts set the step (docs/serving.md section 4)
ADP = Deployment(tp=2, ep=2, prefill_chunk_tokens=16)


def test_busiest_rank_prompts_by_hand():
    k = np.array([0.0, 0.5, 1.24, 8.0, 8.5, 12.0])
    # K = floor(k) w.p. 1 - frac, ceil(k) w.p. frac; the busiest of 8 holds ceil(K / 8):
    # 0.5: 0.5 x ceil(0/8) + 0.5 x ceil(1/8) = 0.5; 1.24: 0.76 x 1 + 0.24 x 1 = 1;
    # 8: ceil(8/8) = 1; 8.5: 0.5 x 1 + 0.5 x ceil(9/8) = 1.5; 12: ceil(12/8) = 2
    np.testing.assert_allclose(busiest_rank_prompts(k, 8), [0.0, 0.5, 1.0, 1.0, 1.5, 2.0])
    np.testing.assert_array_equal(busiest_rank_prompts(k, 1), k)  # one rank holds them all


def test_prefill_step_seconds_by_hand():
    charge = PrefillCharge(per_prompt=3.0, single=5.0, local=2.0)
    k = np.array([2.0, 6.0, 8.0])
    adp = Deployment(tp=4, ep=4)
    # busiest of 4 ranks: ceil(2/4) = 1, ceil(6/4) = 2, ceil(8/4) = 2 prompts;
    # k x 3 + (4 x busiest - k) x 2 = 6 + 2 x 2 = 10; 18 + 2 x 2 = 22; 24 + 0 x 2 = 24
    np.testing.assert_allclose(prefill_step_seconds(adp, k, charge), [10.0, 22.0, 24.0])
    # attention tensor-parallel (and dense TP): every prompt spread over the GPUs, k x 3
    tp_only = Deployment(tp=4, ep=4, attention_dp=False)
    np.testing.assert_array_equal(prefill_step_seconds(tp_only, k, charge), 3.0 * k)
    np.testing.assert_array_equal(prefill_step_seconds(Deployment(tp=4), k, charge), 3.0 * k)


def test_routed_experts_are_the_shared_part_of_prefill():
    one = prefill_seconds(MOE, GPU, ADP, 1, 16, efficiency="datasheet")
    assert 0 < float(one.routed_seconds) < float(one.linear_seconds)
    dense = prefill_seconds(GQA, GPU, SMALL_CHUNK, 1, 16, efficiency="datasheet")
    assert float(dense.routed_seconds) == 0.0


def test_request_costs_under_attention_data_parallel_by_hand():
    b = np.array([1.0, 4.0, 16.0])
    r = request_costs(MOE, GPU, ADP, prompt_len=16, gen_lens=8, batch=b, efficiency="datasheet")

    def rank_local(batch: float) -> float:
        p = prefill_seconds(MOE, GPU, ADP, batch, 16, efficiency="datasheet")
        return float(p.seconds) - float(p.routed_seconds)

    # a pass packs floor(16 / 16) = 1 prompt; one more prompt on each of the 2 GPUs' pass adds
    # (local(1 + 2) - local(1)) / 2 rank-local seconds per prompt
    per = float(prefill_seconds(MOE, GPU, ADP, 1, 16, efficiency="datasheet").seconds)
    local = (rank_local(3.0) - rank_local(1.0)) / 2
    # k = b / 8 = 0.125, 0.5, 2 prompts a step; busiest of 2 ranks 0.125, 0.5, ceil(2/2) = 1;
    # extra (2 x busiest - k) x local = 0.125, 0.5, 0 x local
    expected = b / 8 * per + np.array([0.125, 0.5, 0.0]) * local
    np.testing.assert_allclose(r.prefill_step_seconds, expected, rtol=1e-12)
    np.testing.assert_allclose(r.tpot_seconds, r.decode_step_seconds + expected, rtol=1e-12)
    assert r.prefill_seconds_per_request == pytest.approx(per)


@settings(max_examples=60, deadline=None)
@given(
    k=st.floats(0.0, 500.0, allow_nan=False),
    ranks=st.integers(1, 16),
)
def test_busiest_rank_holds_between_its_share_and_all(k, ranks):
    busiest = float(busiest_rank_prompts(k, ranks))
    assert k / ranks - 1e-9 <= busiest <= k + 1e-9
    assert float(busiest_rank_prompts(k, 1)) == k


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(1, 300),
    prompt=st.integers(1, 200),
    gen=st.integers(1, 400),
    mode=st.sampled_from(["datasheet", "default"]),
)
def test_rank_imbalance_never_speeds_up(batch, prompt, gen, mode):
    profile = GPU if mode == "datasheet" else EFFICIENT
    kwargs = dict(prompt_len=prompt, gen_lens=gen, batch=float(batch), efficiency=mode)
    adp = request_costs(MOE, profile, ADP, **kwargs)
    # the same deployment with every prompt spread evenly over the ranks (the balanced charge)
    balanced = adp.decode_step_seconds + batch / gen * adp.prefill_seconds_per_request
    assert float(adp.tpot_seconds) >= float(balanced) * (1 - 1e-12)
    # one rank: attention data-parallel is off, and nothing changes
    one = replace(ADP, tp=1, ep=1, attention_dp=True)
    plain = request_costs(MOE, profile, replace(one, attention_dp=None), **kwargs)
    assert float(request_costs(MOE, profile, one, **kwargs).tpot_seconds) == float(
        plain.tpot_seconds
    )


def test_prefill_operators_shared_across_accelerators_keep_their_bits() -> None:
    # _prefill_per_prompt with an operator cache filled on another accelerator gives what it
    # gives alone: a faster link and other peaks change the collectives' and kernels' seconds,
    # which are timed again; the cache is keyed by the card, deployment, prompt and precision.
    from kinetics_cli.engine.serving import _prefill_per_prompt

    other = EFFICIENT.model_copy(
        update={"name": "tiny-other", "interconnect_bandwidth": 40.0, "hbm_bandwidth": 30.0}
    )
    for card in (GQA, MOE):
        for d in (Deployment(tp=1), Deployment(tp=2), SMALL_CHUNK):
            for mode in ("datasheet", "default"):
                cache: dict[tuple[object, ...], list[object]] = {}
                first = resolve_efficiency(EFFICIENT, mode)
                second = resolve_efficiency(other, mode)
                _prefill_per_prompt(card, EFFICIENT, d, 100.0, first, cache)  # type: ignore[arg-type]
                assert len(cache) == 1
                shared = _prefill_per_prompt(card, other, d, 100.0, second, cache)  # type: ignore[arg-type]
                alone = _prefill_per_prompt(card, other, d, 100.0, second)
                assert len(cache) == 1
                assert [float(x) for x in shared] == [float(x) for x in alone]
                if d.tp > 1:  # the link is retimed: the first accelerator's figure differs
                    assert (
                        shared.single
                        != _prefill_per_prompt(card, EFFICIENT, d, 100.0, first).single
                    )


def test_precision_cache_matches_uncached_and_keeps_errors() -> None:
    # tiny-gpu lists bf16 and fp8 peaks only: fp8 weights compute at fp8, an fp4 compute request
    # is refused every time (errors are never cached), and an equal profile read again (another
    # object) gets its own answer, equal to the first.
    for d in (Deployment(), Deployment(weights="fp8", kv="fp8"), Deployment(compute="bf16")):
        assert precision(GQA, GPU, d) == serving._precision(GQA, GPU, d)
        assert precision(GQA, GPU, d) is precision(GQA, GPU, d)
    assert precision(GQA, GPU, Deployment(weights="fp8")).compute == "fp8"
    for _ in range(2):
        with pytest.raises(InputError, match="no fp4 peak"):
            precision(GQA, GPU, Deployment(compute="fp4"))
    twin = HardwareProfile.model_validate(GPU.model_dump())
    assert precision(GQA, twin, Deployment()) == precision(GQA, GPU, Deployment())
    assert precision(GQA, twin, Deployment()) is not precision(GQA, GPU, Deployment())


def test_prefill_pass_seconds_is_prefill_seconds_element_by_element() -> None:
    """New tokens per sequence as an array, with batch and cached tokens, price as one
    prefill_seconds call each (dense, MoE, attention data-parallel)."""
    batch = np.array([[3.0, 1.0], [1.0, 15.0]])
    new = np.array([[10.0, 300.0], [16.0, 7.0]])
    cached = np.array([[0.0, 16.0], [32.0, 0.0]])
    for card, d in ((GQA, SMALL_CHUNK), (MOE, SMALL_CHUNK), (MOE, Deployment(tp=2, ep=2))):
        eff = resolve_efficiency(EFFICIENT, "default", "bf16")
        got = serving.prefill_pass_seconds(card, EFFICIENT, d, eff, batch, new, cached)
        for k in np.ndindex(batch.shape):
            one = prefill_seconds(
                card, EFFICIENT, d, batch[k], new[k], cached=cached[k], efficiency="default"
            )
            assert got[k] == pytest.approx(float(one.seconds), rel=1e-12)


def test_chunked_prefill_takes_a_long_sequence_in_chunks() -> None:
    """Chunks of 16 tokens: 40 tokens take three passes (16 new on 0 cached, 16 on 16, 8 on
    32); 12 tokens one pass, here of 3 sequences together (23,368.25 s on the tiny GPU). Each
    pass no shorter than the host's work: 10,000 s a sequence makes that pass 30,000 s."""
    eff = resolve_efficiency(EFFICIENT, "default", "bf16")

    def one(batch: float, new: float, cached: float = 0.0) -> float:
        step = prefill_seconds(GQA, EFFICIENT, SMALL_CHUNK, batch, new, cached=cached)
        return float(step.seconds)

    got = serving.chunked_prefill_seconds(
        GQA, EFFICIENT, SMALL_CHUNK, eff, np.array([40.0, 12.0]), np.array([1.0, 3.0])
    )
    assert got[0] == pytest.approx(one(1, 16) + one(1, 16, 16) + one(1, 8, 32), rel=1e-12)
    assert got[1] == pytest.approx(one(3, 12), rel=1e-12)
    assert one(3, 12) == 23_368.25
    slow = replace(eff, host_seconds_per_sequence=10_000.0)
    host = serving.chunked_prefill_seconds(GQA, EFFICIENT, SMALL_CHUNK, slow, 12.0, 3.0)
    assert float(host) == 30_000.0
    with pytest.raises(InputError, match="positive"):
        serving.chunked_prefill_seconds(GQA, EFFICIENT, SMALL_CHUNK, eff, 0.0)
