"""`kinetics serve`: JSON contract, batch rules, fit errors with their arithmetic, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinetics_cli.cli.main import app
from kinetics_cli.report.format import rate

FP8_8B = ["llama-3.1-8b", "-H", "h100", "--weights", "fp8", "--kv", "fp8"]


def run(*args: str):
    return CliRunner().invoke(app, ["serve", *args])


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.stdout
    assert not result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_json_keys_and_memory_arithmetic():
    result = run(*FP8_8B, "--isl", "1000", "--osl", "1000", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    for key in (
        "output_tokens_per_s",
        "output_tokens_per_s_per_gpu",
        "batch",
        "gpus_per_replica",
        "ttft_s",
        "tpot_s",
        "efficiency_mode",
        "memory",
    ):
        assert key in doc
    assert doc["efficiency_mode"] == "default"
    assert doc["gpus_per_replica"] == 1
    mem = doc["memory"]
    # Llama-3.1-8B: 8,030,261,248 parameters, the blocks' matmul weights at 1 byte and the
    # embedding, LM head (2 x 128,256 x 4,096) and norms (32 x 2 x 4,096 + 4,096),
    # 1,050,939,392, at 2 (FP8 checkpoints keep them in bf16); KV 32 layers x 8 heads x 128 x
    # (K, V) x 1 B
    kept = 2 * 128_256 * 4096 + 33 * 2 * 4096 - 4096
    assert kept == 1_050_939_392
    assert mem["weights_bytes"] == (8_030_261_248 - kept) * 1 + kept * 2  # 9.08 GB
    assert mem["kv_bytes_per_token"] == 32 * 8 * 128 * 2
    assert mem["capacity_bytes"] == 80e9
    # the largest batch that fits: KV capacity / (2,000 tokens x 65,536 B)
    free = mem["capacity_bytes"] - mem["reserve_bytes"] - mem["weights_bytes"]
    assert doc["batch"] == doc["max_batch"] == int(free // (2000 * 65_536))
    assert mem["kv_bytes"] == pytest.approx(doc["batch"] * 2000 * 65_536)
    assert doc["output_tokens_per_s"] == pytest.approx(doc["batch"] / doc["tpot_s"])
    assert doc["requests_per_s"] == pytest.approx(doc["output_tokens_per_s"] / 1000)


def test_max_batch_caps_sequences_and_zero_leaves_memory_only():
    short = [*FP8_8B, "--isl", "128", "--osl", "128", "--json"]
    default = json.loads(run(*short).stdout)
    assert default["batch"] == default["max_batch"] == 1024  # vLLM's max_num_seqs default
    assert default["batch_rule"] == "max-batch"
    assert "memory holds 3," in run(*short[:-1]).stdout  # the human table says what binds
    assert json.loads(run(*short, "--max-batch", "64").stdout)["batch"] == 64
    memory_only = json.loads(run(*short, "--max-batch", "0").stdout)
    assert memory_only["batch"] > 1024  # ~52 GB of KV / (256 tokens x 64 KiB) ~ 3,100


def test_max_batch_is_memory_within_the_engine_cap_and_memory_batch_memory_alone():
    """max_batch is the largest batch allowed, the default: what memory holds at the final
    context, at most the engine's cap; memory_batch what memory alone holds (the human batch
    row's "memory holds"). Llama-3.1-8B in FP8 at 128 + 128 tokens on an H100: (80 GB - reserve
    - 9.08 GB of weights) / (256 tokens x 65,536 B) = 3,706 sequences, capped at vLLM's 1,024;
    at 1,000 + 1,000 tokens memory binds first, 474 both."""
    short = json.loads(run(*FP8_8B, "--isl", "128", "--osl", "128", "--json").stdout)
    mem = short["memory"]
    free = mem["capacity_bytes"] - mem["reserve_bytes"] - mem["weights_bytes"]
    assert short["memory_batch"] == int(free // (256 * 65_536)) == 3706
    assert (short["max_batch"], short["batch_rule"]) == (1024, "max-batch")
    capped = json.loads(
        run(*FP8_8B, "--isl", "128", "--osl", "128", "--max-batch", "64", "--json").stdout
    )
    assert (capped["max_batch"], capped["memory_batch"]) == (64, 3706)
    long = json.loads(run(*FP8_8B, "--isl", "1000", "--osl", "1000", "--json").stdout)
    assert long["max_batch"] == long["memory_batch"] == 474 and long["batch_rule"] == "memory"
    # the default batch is within the cap, and --help says so
    said = "(default: the largest that fits, at most --max-batch)"
    assert "".join(said.split()) in "".join(run("--help").stdout.split())  # wrapped anywhere


def test_the_default_cap_is_vllms_for_the_accelerator():
    """vLLM's max_num_seqs: 1,024 on GPUs of at least 70 GiB that are not A100s, else 256
    (EngineArgs.get_batch_defaults). Llama-3.1-8B in FP8 at 128/128 fills either cap."""
    short = ["llama-3.1-8b", "--weights", "fp8", "--kv", "fp8", "--isl", "128", "--osl", "128"]
    caps = {
        hw: json.loads(run(*short, "-H", hw, "--json").stdout)["max_batch"]
        for hw in ("h100", "b200", "mi300x", "a100-80gb-sxm", "l40s")
    }
    assert caps == {"h100": 1024, "b200": 1024, "mi300x": 1024, "a100-80gb-sxm": 256, "l40s": 256}
    # 48 GB L40S (44.7 GiB) and an A100 of 80 GB alike; memory alone would hold more on both
    assert json.loads(run(*short, "-H", "l40s", "--max-batch", "0", "--json").stdout)["batch"] > 256


def test_kv_per_token_says_when_it_is_the_first_tokens():
    """gpt-oss-120b's sliding layers stop growing at their 128-token window, so its first token's
    KV times 2,000 tokens is not its sequence's; the label says so. Qwen3-8B grows linearly."""
    sliding = " ".join(run("gpt-oss-120b", "-H", "h100").stdout.split())
    assert "KV per token (the first; windowed and linear layers stop growing)" in sliding
    plain = " ".join(run("qwen3-8b", "-H", "h100").stdout.split())
    assert "KV per token 147 kB" in plain  # 36 layers x 8 heads x 128 x (K, V) x 2 B = 147,456


def test_the_deployment_names_the_formats_the_card_stores_and_the_matmul_peak():
    """gpt-oss-120b's card stores bf16 weights with MXFP4 experts; on an H100 (no fp4 peak) they
    run at the bf16 peak. 'card weights' said neither."""
    line = " ".join(run("gpt-oss-120b", "-H", "h100", "--efficiency", "datasheet").stdout.split())
    assert "TP1, bf16 weights (mxfp4 experts), bf16 KV, bf16 activations, bf16 matmuls" in line
    doc = json.loads(run(*FP8_8B, "--json").stdout)
    assert doc["weights"] == "fp8"
    assert (
        doc["formats"]
        == "fp8 weights (bf16 embedding and LM head), fp8 KV, bf16 activations, fp8 matmuls"
    )
    error = one_line_error(run("llama-3.1-70b", "-H", "h100"))
    assert "at TP1, bf16 weights, bf16 KV, bf16 activations, bf16 matmuls:" in error


def test_the_request_names_the_attention_it_was_priced_at():
    """A sparse request is priced at its KV budget; the output said '1,000 prompt + 1,000
    generated tokens' and the JSON had no attention key, so a block top-k figure read as dense.
    Oracle top-k is labelled as plan labels it."""
    block = " ".join(
        run(
            "qwen3-8b", "-H", "b200", "--attention", "block-topk", "--kv-budget", "1024"
        ).stdout.split()
    )
    assert (
        "1,000 prompt + 1,000 generated tokens; block-topk attention, KV budget 1,024 tokens "
        "(pages of 16)" in block
    )
    topk = " ".join(
        run("qwen3-8b", "-H", "b200", "--attention", "topk", "--kv-budget", "512").stdout.split()
    )
    assert "generated tokens; topk (oracle) attention, KV budget 512 tokens" in topk
    dense = " ".join(run("qwen3-8b", "-H", "b200").stdout.split())
    assert "1,000 prompt + 1,000 generated tokens batch" in dense  # nothing added for dense
    doc = json.loads(
        run(
            "qwen3-8b", "-H", "b200", "--attention", "block-topk", "--kv-budget", "1024", "--json"
        ).stdout
    )
    assert (doc["attention"], doc["kv_budget"], doc["block_size"]) == ("block-topk", 1024, 16)
    doc = json.loads(
        run("qwen3-8b", "-H", "b200", "--attention", "topk", "--kv-budget", "512", "--json").stdout
    )
    assert (doc["attention"], doc["kv_budget"], doc["block_size"]) == ("topk", 512, None)
    doc = json.loads(run("qwen3-8b", "-H", "b200", "--json").stdout)
    assert (doc["attention"], doc["kv_budget"], doc["block_size"]) == ("dense", None, None)


def test_a_batch_refused_by_the_engine_cap_is_not_called_a_memory_misfit():
    short = [*FP8_8B, "--isl", "128", "--osl", "128"]
    memory_only = json.loads(run(*short, "--max-batch", "0", "--json").stdout)["batch"]
    # Between the cap (1,024) and what memory holds (about 3,768 at 256 tokens): the cap binds
    line = one_line_error(run(*short, "--batch", "2000"))
    assert "batch 2,000 exceeds the engine's cap of 1,024 concurrent sequences" in line
    assert f"memory holds {memory_only:,} sequences of 256 tokens" in line
    assert "does not fit" not in line
    # Beyond memory: a misfit, with what memory holds (not the cap) as the limit
    line = one_line_error(run(*short, "--batch", str(memory_only + 1)))
    assert f"does not fit: h100-sxm holds at most {memory_only:,} sequences" in line


def test_a_batch_that_does_not_fit_is_written_with_separators():
    """Counts in the refusal carry thousands separators, as the rest of the tool writes them:
    the batch asked for, the sequences memory holds and their tokens (1,000 + 1,000)."""
    line = one_line_error(run("qwen3-32b", "-H", "b200", "--batch", "1000000"))
    assert "batch 1,000,000 does not fit: b200 holds at most 181 sequences of 2,000 tokens" in (
        line
    )
    error = one_line_error(run("llama-3.1-70b", "-H", "h100"))
    assert "one sequence of 2,000 tokens" in error


def test_latency_rule_says_when_the_engine_cap_limits_the_batch():
    """A target every batch that fits meets does not set the batch: batch_rule names what did
    (the engine's cap, or memory), and the batch line says the target is met there."""
    args = (*FP8_8B, "--isl", "128", "--osl", "128", "--max-tpot", "1s")
    flat = " ".join(run(*args).stdout.split())
    assert "(the engine's cap on concurrent sequences, --max-batch; memory holds 3," in flat
    assert "--max-tpot met at it)" in flat and "the largest meeting" not in flat
    assert json.loads(run(*args, "--json").stdout)["batch_rule"] == "max-batch"
    # where memory binds first: (80 GB - 8.74 GB reserve - 9.08 GB of weights) / (2,000 tokens
    # x 65,536 B) = 474.4 (482 when the embedding and LM head were counted at 1 B, 1.05 GB less)
    args = (*FP8_8B, "--isl", "1000", "--osl", "1000", "--max-tpot", "1s", "--max-ttft", "1s")
    flat = " ".join(run(*args).stdout.split())
    assert "(the largest that fits at the final context; at most 474 fit; --max-tpot and " in flat
    doc = json.loads(run(*args, "--json").stdout)
    assert (doc["batch"], doc["batch_rule"]) == (474, "memory")
    # a target that binds sets the batch, below what fits
    args = (*FP8_8B, "--isl", "1000", "--osl", "1000", "--max-tpot", "25ms")
    doc = json.loads(run(*args, "--json").stdout)
    assert doc["batch_rule"] == "max-tpot" and doc["batch"] < doc["max_batch"] == 474
    assert doc["tpot_s"] <= 0.025
    assert "(the largest meeting --max-tpot; at most 474 fit)" in " ".join(
        run(*args).stdout.split()
    )


def test_host_bound_tpot_is_labelled_as_such():
    # Llama-3.1-8B FP8 on 8 H100s, memory the only cap: 4,000-odd sequences x 29.4 us of host
    # time per sequence outlast the GPUs' decode step + prefill
    args = [*FP8_8B, "--tp", "8", "--max-batch", "0"]
    doc = json.loads(run(*args, "--json").stdout)
    gpu = doc["decode_step_s"] + doc["prefill_s_per_step"]
    assert doc["host_s_per_step"] == pytest.approx(doc["batch"] * 29.4e-6)
    assert doc["tpot_s"] == doc["host_s_per_step"] > gpu
    assert doc["prefill_share"] == pytest.approx(doc["prefill_s_per_step"] / gpu)
    flat = " ".join(run(*args).stdout.split())
    assert "(host-bound: the engine's CPU work per step outlasts the GPUs'" in flat
    assert f"prefill share of GPU time {100 * doc['prefill_share']:.1f}%" in flat
    # GPU-bound: TPOT is the decode step + prefill, as the line says
    gpu_bound = json.loads(run(*FP8_8B, "--json").stdout)
    assert gpu_bound["tpot_s"] == pytest.approx(
        gpu_bound["decode_step_s"] + gpu_bound["prefill_s_per_step"]
    )
    assert "host-bound" not in run(*FP8_8B).stdout


def test_modes_are_labelled_and_datasheet_is_faster():
    docs = {
        mode: json.loads(run(*FP8_8B, "--efficiency", mode, "--json").stdout)
        for mode in ("datasheet", "default")
    }
    assert docs["datasheet"]["efficiency_mode"] == "datasheet"
    assert docs["datasheet"]["output_tokens_per_s"] > docs["default"]["output_tokens_per_s"]
    human = run(*FP8_8B)
    assert human.exit_code == 0
    assert "(default efficiencies)" in human.stdout and "efficiency: default" in human.stdout
    calibrated = one_line_error(run(*FP8_8B, "--efficiency", "calibrated"))
    assert "no [calibration] table" in calibrated


def test_max_tpot_picks_the_largest_batch_meeting_it():
    doc = json.loads(run(*FP8_8B, "--max-tpot", "10ms", "--json").stdout)
    assert doc["batch_rule"] == "max-tpot" and doc["tpot_s"] <= 0.010
    above = json.loads(run(*FP8_8B, "--batch", str(doc["batch"] + 1), "--json").stdout)
    assert above["tpot_s"] > 0.010
    assert doc["batch"] < doc["max_batch"]


def test_replicas_and_tensor_parallel_per_gpu():
    doc = json.loads(
        run("llama-3.1-70b", "-H", "h100", "--tp", "4", "--replicas", "2", "--json").stdout
    )
    assert doc["gpus_per_replica"] == 4
    assert doc["output_tokens_per_s_per_gpu"] == pytest.approx(doc["output_tokens_per_s"] / 4)
    assert doc["output_tokens_per_s_total"] == pytest.approx(2 * doc["output_tokens_per_s"])


def test_does_not_fit_names_the_arithmetic_and_the_smallest_tp():
    line = one_line_error(run("llama-3.1-70b", "-H", "h100"))
    # 70.6e9 parameters x 2 B = 141.1 GB on one 80 GB GPU
    assert "does not fit" in line and "weights 141.1 GB" in line and "> 80 GB" in line
    assert "--tp 2 would fit" in line
    line = one_line_error(run("deepseek-v3", "-H", "h100", "--tp", "8"))
    assert "no TP up to 8" in line
    line = one_line_error(run(*FP8_8B, "--batch", "100000"))
    assert "batch 100,000 does not fit" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["llama-3.1-8b", "-H", "h100", "--tp", "3"], "must divide llama-3.1-8b's 32 attention"),
        (["qwen3-30b-a3b", "-H", "h100", "--tp", "2", "--ep", "4"], "must divide --tp 2"),
        (["qwen3-30b-a3b", "-H", "h100", "--tp", "3", "--ep", "3"], "must divide qwen3-30b"),
        (["llama-3.1-8b", "-H", "h100", "--ep", "2", "--tp", "2"], "needs a mixture-of-experts"),
        (["llama-3.1-8b", "-H", "h100", "--kv", "fp4"], "unknown KV-cache format 'fp4'"),
        (["llama-3.1-8b", "-H", "h100", "--weights", "int3"], "unknown weight format"),
        ([*FP8_8B, "--max-tpot", "1ms"], "no batch meets the latency targets"),
        ([*FP8_8B, "--max-tpot", "1s", "--batch", "4"], "not both"),
        ([*FP8_8B, "--efficiency", "best"], "unknown efficiency mode"),
        ([*FP8_8B, "--max-ttft", "fast"], "--max-ttft"),
        ([*FP8_8B, "--trials", "4", "--batch", "6"], "give a multiple of 4 (4 or 8)"),
        ([*FP8_8B, "--trials", "0"], "--trials"),
        ([*FP8_8B, "--trials", "2", "--max-batch", "1"], "one group of --trials 2 sequences"),
        ([*FP8_8B, "--trials", "2", "--max-tpot", "1ms"], "at batch 2 (one group), the fastest"),
    ],
)
def test_bad_input_is_one_line(args, message):
    assert message in one_line_error(run(*args))


def test_unmet_latency_targets_give_both_times_in_si_units():
    line = one_line_error(
        run("qwen3-32b", "-H", "h100", "--isl", "1000", "--osl", "1000", "--max-ttft", "1ns")
    )
    # TPOT and TTFT at batch 1 are both under a second: written alike, in ms (no '0.111 s')
    assert re.search(r"TPOT is [\d.]+ ms and TTFT [\d.]+ ms \(default efficiencies\)", line), line
    assert "the latency targets (--max-ttft 1 ns): at batch 1, the fastest," in line
    both = one_line_error(run(*FP8_8B, "--max-tpot", "1ms", "--max-ttft", "2s"))
    assert "(--max-tpot 1 ms, --max-ttft 2 s)" in both


def test_a_negative_duration_is_called_negative_not_unreadable():
    line = one_line_error(run(*FP8_8B, "--max-tpot", "-5ms"))
    assert "'--max-tpot': must be positive (got '-5ms')" in line


def test_efficiency_note_writes_microseconds_as_the_tables_do():
    note = json.loads(run(*FP8_8B, "--json").stdout)["efficiency"]
    assert "µs per kernel" in note and "µs per sequence" in note
    assert not re.search(r"\d us\b", note), note


def test_fp4_weights_where_the_profile_has_a_peak():
    doc = json.loads(run("llama-3.1-70b", "-H", "b200", "--weights", "nvfp4", "--json").stdout)
    # 70,553,706,496 parameters: the blocks' matmul weights x 4.5 bits, the embedding, LM head
    # (2 x 128,256 x 8,192) and norms (80 x 2 x 8,192 + 8,192), 2,102,665,216, x 2 B
    kept = 2 * 128_256 * 8192 + 161 * 8192
    assert doc["memory"]["weights_bytes"] == (70_553_706_496 - kept) * 4.5 / 8 + kept * 2
    assert "fp4 matmuls" in doc["efficiency"]
    h100 = json.loads(run("llama-3.1-70b", "-H", "h100", "--weights", "fp4", "--json").stdout)
    assert "bf16 matmuls" in h100["efficiency"]  # no fp4 peak: weight-only, dequantised


def test_sweep_and_plot(tmp_path: Path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "serve.png"
    result = run(*FP8_8B, "--sweep", "--plot", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    sweep = json.loads(result.stdout)["sweep"]
    assert sweep[0]["batch"] == 1 and len(sweep) > 5
    tpots = [p["tpot_s"] for p in sweep]
    assert tpots == sorted(tpots)
    assert path.stat().st_size > 0
    human = run(*FP8_8B, "--sweep")
    assert "Throughput against latency" in human.stdout


def test_roofline_takes_formats_per_tensor_kind():
    args = ["roofline", "llama-3.1-70b", "-H", "b200", "--batch", "8", "--context", "4k"]
    doc = json.loads(
        CliRunner().invoke(app, [*args, "--weights", "nvfp4", "--kv", "fp8", "--json"]).stdout
    )
    assert doc["dtype"] == "fp4"  # the fp4 peak, which B200 lists
    kept = 2 * 128_256 * 8192 + 161 * 8192  # embedding, LM head, norms: bf16
    assert doc["weight_bytes"] == (70_553_706_496 - kept) * 4.5 / 8 + kept * 2
    # 80 layers x 8 KV heads x 128 x (K, V) x 1 B x 4,096 tokens (token counts: k = 1024)
    assert doc["kv_bytes_per_sequence"] == 80 * 8 * 128 * 2 * 4096
    refused = CliRunner().invoke(app, [*args[:3], "h100", *args[4:], "--dtype", "fp4"])
    assert refused.exit_code == 2 and "h100-sxm has no fp4 peak" in refused.stderr


def test_hardware_show_names_the_default_serving_efficiency():
    result = CliRunner().invoke(app, ["hardware", "show", "h100"])
    assert result.exit_code == 0
    assert "default serving efficiency" in result.stdout
    assert "serving efficiency sources:" in result.stdout and "DeepGEMM" in result.stdout


def test_the_efficiency_line_names_only_the_fractions_that_price_the_model():
    """A dense GQA model on one GPU is priced by no MLA kernel, no grouped experts and no
    collective: its line leaves them out, and says the rest (matmuls, attention, overheads)."""
    dense = json.loads(run("qwen3-32b", "-H", "b200", "--json").stdout)["efficiency"]
    assert "matmuls at 78% of peak" in dense and "decode attention at 73%," in dense
    assert "MLA" not in dense and "MoE" not in dense and "collectives" not in dense
    table = " ".join(run("qwen3-32b", "-H", "b200").stdout.split())
    assert f"efficiency: {dense}" in table
    moe = json.loads(run("qwen3-30b-a3b", "-H", "b200", "--tp", "2", "--ep", "2", "--json").stdout)
    assert "MoE experts at 48% of peak" in moe["efficiency"] and "collectives" in moe["efficiency"]
    assert "MLA" not in moe["efficiency"]
    mla = json.loads(run("deepseek-v3", "-H", "b200", "--tp", "8", "--json").stdout)
    assert "(MLA 90%)" in mla["efficiency"] and "MoE experts" in mla["efficiency"]


def test_slow_request_rates_keep_three_significant_figures():
    """8 trials of 30,000 tokens at batch 8: 8 / (30,000 x 18.1 ms TPOT) = 0.0147 requests/s
    and a problem every 9 minutes, 0.00184/s; two decimals printed them as 0.01 and 0.00."""
    args = ["qwen3-32b", "-H", "b200", "--isl", "100", "--osl", "30000", "--trials", "8"]
    doc = json.loads(run(*args, "--batch", "8", "--json").stdout)
    assert 0 < doc["problems_per_s"] < 0.005  # what two decimals round to 0.00
    out = " ".join(run(*args, "--batch", "8").stdout.split())
    requests = re.search(r"requests/s per replica ([0-9.]+) ", out)
    problems = re.search(r"problems/s per replica ([0-9.]+) ", out)
    assert requests and problems
    assert float(requests[1]) == pytest.approx(doc["requests_per_s"], rel=5e-3)
    assert float(problems[1]) == pytest.approx(doc["problems_per_s"], rel=5e-3)


def test_trials_hold_a_groups_prompt_once_and_say_problems_per_second():
    """qwen3-32b on a B200 at 500 + 2,000 tokens (bf16): 95.3 GB for KV per GPU; a sequence
    holds 2,500 x 262,144 B = 655 MB, so one prompt each 145 fit; best-of-2 groups hold the
    prompt once, 2 x 655.36 - 500 x 0.262144 = 1,179.6 MB, so 80 groups, 160 sequences (the
    plan's count for the same problems). Problems/s = requests/s / 2; --json says trials."""
    args = ["qwen3-32b", "-H", "b200", "--isl", "500", "--osl", "2000"]
    alone = json.loads(run(*args, "--json").stdout)
    doc = json.loads(run(*args, "--trials", "2", "--json").stdout)
    per_token = 64 * 8 * 128 * 2 * 2  # 64 layers x 8 KV heads x 128 x (K, V) x 2 B
    assert doc["memory"]["kv_bytes_per_token"] == per_token == 262_144
    group = 2 * 2500 * per_token - 500 * per_token
    assert doc["memory"]["kv_bytes_per_group"] == group == 1_179_648_000
    free = doc["memory"]["kv_capacity_bytes"]
    assert (alone["trials"], alone["batch"]) == (1, int(free // (2500 * per_token))) == (1, 145)
    assert (doc["trials"], doc["batch"]) == (2, 2 * int(free // group)) == (2, 160)
    assert doc["memory"]["kv_bytes"] == pytest.approx(80 * group)
    assert doc["problems_per_s"] == pytest.approx(doc["requests_per_s"] / 2, rel=1e-12)
    assert alone["problems_per_s"] == alone["requests_per_s"]
    assert run(*args, "--trials", "2", "--batch", "160").exit_code == 0
    out = " ".join(run(*args, "--trials", "2").stdout.split())
    assert "groups of 2 sequences sharing the prompt (its KV cache held once per group" in out
    assert "160 sequences per replica, 80 groups of 2 (the largest that fits" in out
    assert f"problems/s per replica {rate(doc['problems_per_s'])} (groups of 2" in out
    assert "KV per group of 2 at the final context (prompt held once) 1.18 GB" in out
    single = " ".join(run(*args).stdout.split())
    assert "problems/s" not in single and "group" not in single
    refused = one_line_error(run(*args, "--batch", "160"))
    assert "holds at most 145 sequences of 2,500 tokens" in refused


def test_the_answer_says_how_published_runs_of_its_kind_compared():
    from kinetics_cli.engine.serving_checks import check_for

    doc = json.loads(run(*FP8_8B, "--json").stdout)
    expected = check_for("default", False, "h100-sxm")
    assert expected is not None and doc["checked"] == expected.document()
    text = run("qwen3-30b-a3b", "-H", "mi300x")
    assert text.exit_code == 0, text.stderr
    flat = " ".join(text.stdout.split())
    assert "(none run on mi300x): MoE models" in flat
    assert "tokens/s and requests/s here are high by that factor" in flat


def test_a_host_bound_tpot_never_prints_the_same_as_the_gpus_shorter_time():
    # Llama-3.1-8B FP8 on one H100, 1,024 sequences of 128/128: host 1,024 x 29.4 us = 30.11 ms
    # against the GPUs' 30.08 ms, both "30.1 ms" at three digits; one more digit tells them apart
    args = [*FP8_8B, "--isl", "128", "--osl", "128", "--batch", "1024", "--max-batch", "0"]
    doc = json.loads(run(*args, "--json").stdout)
    assert doc["tpot_s"] == pytest.approx(1024 * 29.4e-6)
    assert doc["decode_step_s"] + doc["prefill_s_per_step"] == pytest.approx(30.08e-3, abs=5e-6)
    flat = " ".join(run(*args).stdout.split())
    assert (
        "30.11 ms (host-bound: the engine's CPU work per step outlasts the GPUs' 30.08 ms" in flat
    )
