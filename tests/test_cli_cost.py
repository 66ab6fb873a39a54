"""`kinetics cost`: JSON contract, values, laws, length distributions, errors (exit code 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import engine_catalog
import pytest
from typer.testing import CliRunner

from kinetics_cli.cli.main import app

KEYS = {
    "compute_flops",
    "memory_bytes",
    "eflops",
    "intensity",
    "linear_flops",
    "attention_flops",
    "kv_bytes",
    "search_flops",
    "search_bytes",
    "seconds",
}


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return engine_catalog.write_catalog(tmp_path / "catalog")


def run(catalog: Path, *args: str):
    return CliRunner().invoke(app, ["--catalog", str(catalog), "cost", *args])


def cost_json(catalog: Path, *args: str) -> dict:
    result = run(catalog, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_json_contract_and_golden_values(catalog):
    doc = cost_json(
        catalog,
        "tiny-gqa",
        "--hardware",
        "tiny-gpu",
        "--prompt-len",
        "100",
        "--gen-len",
        "10",
        "-n",
        "4",
    )
    assert set(doc) >= KEYS
    for key in KEYS:
        assert isinstance(doc[key], (int, float)), key
    # see tests/test_engine_kinetics.py::test_dense_golden_values; I = 1000 / 10 = 100
    assert doc["compute_flops"] == 2_805_760
    assert doc["memory_bytes"] == 153_600
    assert doc["intensity"] == 100
    assert doc["eflops"] == 2_805_760 + 100 * 153_600
    # seconds: compute / 1000 FLOP/s + memory / 10 B/s
    assert doc["seconds"] == pytest.approx(2_805.76 + 15_360)


def test_intensity_override_and_flops_law(catalog):
    base = ["tiny-gqa", "--hardware", "tiny-gpu", "--prompt-len", "100", "--gen-len", "10"]
    doc = cost_json(catalog, *base, "--intensity", "562.5")
    assert doc["intensity"] == 562.5
    assert doc["eflops"] == pytest.approx(doc["compute_flops"] + 562.5 * doc["memory_bytes"])
    flops = cost_json(catalog, *base, "--law", "flops")
    assert flops["intensity"] == 0
    assert flops["eflops"] == flops["compute_flops"]
    # the FLOPs law is the kinetics law with I = 0
    zero = cost_json(catalog, *base, "--intensity", "0")
    assert zero["eflops"] == flops["eflops"]
    # the table names what it sums: FLOPs under the FLOPs-only law, eFLOPs under the Kinetics law
    text = run(catalog, *base, "--law", "flops").stdout
    assert "share of FLOPs" in text and "FLOPs-only law (I = 0)" in text and "eFLOPs" not in text
    text = run(catalog, *base).stdout
    assert "share of eFLOPs" in text and "Kinetics law" in text


def test_sparse_variants_and_si_suffixes(catalog):
    doc = cost_json(
        catalog,
        "tiny-gqa",
        "--hardware",
        "tiny-gpu",
        "--prompt-len",
        "100",
        "--gen-len",
        "1000",
        "-n",
        "2",
        "--attention",
        "block-topk",
        "--kv-budget",
        "50",
        "--block-size",
        "10",
    )
    # tests/test_engine_kinetics.py::test_block_topk_golden_values with 5 pages of 10 tokens
    # (the command line takes whole pages only): search 2 h (L_in L_out + L_out^2/2) / S * N
    # = 2*64*(100000 + 500000)/10*2 and 2 d (L_in L_out + N L_out^2/2) / S
    # = 2*32*(100000 + 1000000)/10; the budget's KV bytes as there
    assert doc["search_flops"] == 15_360_000
    assert doc["search_bytes"] == 7_040_000
    assert doc["kv_bytes"] == 12_800_000
    assert doc["kv_budget"] == 50


def test_distribution_of_lengths_is_the_mean(catalog):
    base = ["tiny-gqa", "--hardware", "tiny-gpu", "--prompt-len", "100"]
    a = cost_json(catalog, *base, "--gen-len", "1000")
    b = cost_json(catalog, *base, "--gen-len", "3000")
    both = cost_json(catalog, *base, "--gen-len", "1000", "--gen-len", "3000")
    assert both["eflops"] == pytest.approx((a["eflops"] + b["eflops"]) / 2)
    assert both["gen_len"] == [1000, 3000]


def test_params_override(catalog):
    doc = cost_json(
        catalog,
        "tiny-gqa",
        "--prompt-len",
        "0",
        "--gen-len",
        "1",
        "--params",
        "1M",
        "--law",
        "flops",
    )
    # 2 P L_out + 4 h (0 + 1/2) = 2e6 + 128
    assert doc["linear_flops"] == 2e6
    assert doc["params"] == 1e6


def test_human_output(catalog):
    result = run(
        catalog,
        "tiny-gqa",
        "--hardware",
        "tiny-gpu",
        "--prompt-len",
        "100",
        "--gen-len",
        "1000",
        "--attention",
        "block-topk",
        "--kv-budget",
        "64",
    )
    assert result.exit_code == 0, result.stderr
    for text in ("eFLOPs", "KV memory", "search memory", "time on one tiny-gpu"):
        assert text in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prompt-len", "-1", "--gen-len", "10"], "--prompt-len"),
        (["--prompt-len", "10", "--gen-len", "-10"], "--gen-len"),
        (["--prompt-len", "10", "--gen-len", "10", "--attention", "topk"], "--kv-budget"),
        (
            [
                "--prompt-len",
                "10",
                "--gen-len",
                "10",
                "--attention",
                "block-topk",
                "--kv-budget",
                "100",
            ],
            "larger than the final context",
        ),
        (["--prompt-len", "10", "--gen-len", "10", "--attention", "full"], "unknown attention"),
        (["--prompt-len", "10", "--gen-len", "10", "--law", "joules"], "unknown law"),
        (["--prompt-len", "10", "--gen-len", "10", "-n", "0"], "trials"),
        (["--prompt-len", "10", "--gen-len", "10", "--intensity", "-1"], "intensity"),
        (["--prompt-len", "abc", "--gen-len", "10"], "--prompt-len"),
        (["--prompt-len", "10", "--gen-len", "1e"], "--gen-len"),
        (["--prompt-len", "10", "--gen-len", "10", "-n", "1.5"], "whole number"),
    ],
)
def test_bad_input_exits_2_with_one_line(catalog, args, message):
    result = run(catalog, "tiny-gqa", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ")


def test_budget_is_checked_after_the_lengths(catalog):
    # a negative prompt makes the "final context" negative too: the length is what is wrong
    result = run(
        catalog,
        "tiny-gqa",
        "--prompt-len",
        "-50",
        "--gen-len",
        "10",
        "--attention",
        "topk",
        "--kv-budget",
        "20",
    )
    assert result.exit_code == 2
    assert "--prompt-len" in result.stderr and "negative" in result.stderr


def test_budget_equal_to_the_final_context_is_accepted(catalog):
    doc = cost_json(
        catalog,
        "tiny-gqa",
        "-H",
        "tiny-gpu",
        "--prompt-len",
        "100",
        "--gen-len",
        "10",
        "--attention",
        "topk",
        "--kv-budget",
        "110",
    )
    # the budget never binds: top-k attends to what dense attends to (A = 1050)
    assert doc["attention_flops"] == 4 * 64 * 1050


def test_kv_budget_with_dense_attention_is_refused(catalog):
    # an option another option makes meaningless is refused, naming both (docs/catalog.md)
    base = ["tiny-gqa", "-H", "tiny-gpu", "--prompt-len", "100", "--gen-len", "10", "--json"]
    result = run(catalog, *base, "--kv-budget", "50")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--kv-budget applies to sparse attention" in result.stderr


def test_k_means_1024_tokens(catalog):
    # "32K tokens" is 32,768 in this field: token options read k as 1024
    base = ["tiny-gqa", "-H", "tiny-gpu", "--prompt-len", "100", "--json"]
    with_k = json.loads(run(catalog, *base, "--gen-len", "1k").stdout)
    plain = json.loads(run(catalog, *base, "--gen-len", "1024").stdout)
    assert with_k["gen_len"] == 1024
    assert with_k["eflops"] == plain["eflops"]


def test_human_table_fits_80_columns_with_every_share(catalog, monkeypatch):

    monkeypatch.setenv("COLUMNS", str(80))
    result = run(
        catalog,
        "tiny-gqa",
        "-H",
        "tiny-gpu",
        "--prompt-len",
        "100",
        "--gen-len",
        "1000",
        "-n",
        "2",
        "--attention",
        "block-topk",
        "--kv-budget",
        "50",
        "--block-size",
        "10",
    )
    assert result.exit_code == 0, result.stderr
    table = result.stdout.split("time on one")[0]
    assert max(len(line) for line in table.splitlines()) <= 80
    # test_sparse_variants_and_si_suffixes' terms (5 pages of 10 tokens) at I = 100:
    # eFLOPs = compute 2*2*21632*1000 + 25.6e6 + 15.36e6 + 100 * (12.8e6 + 7.04e6)
    eflops = 2 * 2 * 21632 * 1000 + 25_600_000 + 15_360_000 + 100 * (12_800_000 + 7_040_000)
    kv_line = next(line for line in table.splitlines() if "KV memory" in line)
    assert f"{100 * 100 * 12_800_000 / eflops:.1f}%" in kv_line


def test_unknown_model_exits_2(catalog):
    result = run(catalog, "tiny-gq", "--prompt-len", "1", "--gen-len", "1")
    assert result.exit_code == 2
    assert "tiny-gqa" in result.stderr  # the closest name is suggested


def test_installed_entry_point(catalog):
    exe = Path(sys.executable).with_name("kinetics")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "kinetics_cli"]
    out = subprocess.run(
        [
            *command,
            "--catalog",
            str(catalog),
            "cost",
            "tiny-gqa",
            "--hardware",
            "tiny-gpu",
            "--prompt-len",
            "100",
            "--gen-len",
            "10",
            "-n",
            "4",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["eflops"] == 2_805_760 + 100 * 153_600


@pytest.mark.parametrize(
    ("model", "groups"),
    [
        ("tiny-gqa", None),  # plain GQA: the formulas are the card's own
        ("tiny-mla", "2 MLA layers (one 20-wide latent)"),  # rank 16 + rope 4
        (
            "tiny-hybrid",  # layer 0 sliding (window 100), 1 and 2 linear, 3 full
            "1 full-attention layers, 1 sliding-window layers (A capped at W = 100), "
            "2 linear-attention layers (a fixed state, every step)",
        ),
    ],
)
def test_formulas_say_when_the_card_is_not_plain_gqa(catalog, model, groups):
    """The table writes the GQA formulas (4 h A N, 4 d (...)); an MLA, sliding-window or
    linear-attention card sums its attention groups instead, and the output says so."""
    args = ("--hardware", "tiny-gpu", "--prompt-len", "100", "--gen-len", "1000")
    flat = " ".join(run(catalog, model, *args).stdout.split())
    if groups is None:
        assert "formulas as for plain GQA" not in flat
    else:
        assert f"{model}'s attention and KV terms sum its attention groups: {groups}" in flat


def test_block_size_is_block_top_ks_page() -> None:
    """--block-size changes a block top-k cost (pages of 64 tokens: fewer summaries to search
    than pages of 16) and is refused where there are no pages."""
    from typer.testing import CliRunner

    from kinetics_cli.cli.main import app

    base = ["cost", "qwen3-8b", "--prompt-len", "1k", "--gen-len", "8k", "--json"]
    block = [*base, "--attention", "block-topk", "--kv-budget", "512"]

    def eflops(*extra: str) -> float:
        result = CliRunner().invoke(app, [*block, *extra])
        assert result.exit_code == 0, result.output
        return float(json.loads(result.stdout)["eflops"])

    assert eflops("--block-size", "64") < eflops()  # the default: 16-token pages
    dense = CliRunner().invoke(app, [*base, "--block-size", "64"])
    assert dense.exit_code == 2 and "--block-size applies to block-topk" in dense.stderr


def test_footer_names_the_overridden_params_and_intensity() -> None:
    """With --params and --intensity the footer says which figures the law used: the profile's
    intensity alone beside eFLOPs counted at 562.5 read as if 281.25 had priced them."""
    args = ["cost", "qwen3-8b", "--prompt-len", "1000", "--gen-len", "8192"]
    plain = CliRunner().invoke(app, args)
    assert plain.exit_code == 0, plain.output
    assert "--params" not in plain.stdout and "--intensity" not in plain.stdout
    paper = CliRunner().invoke(app, [*args, "--params", "8.19e9", "--intensity", "562.5"])
    assert paper.exit_code == 0, paper.output
    footer = " ".join(paper.stdout.split("time on one b200")[1].split())
    assert "P = 8.19B active parameters (--params; the card's 7.568B)" in footer
    assert "b200 intensity 281.25 FLOPs/byte" in footer
    assert "the law above uses --intensity 562.5" in footer
    flops_law = CliRunner().invoke(app, [*args, "--law", "flops"])  # I = 0: no intensity used
    assert "--intensity" not in flops_law.stdout


def test_linear_attention_state_includes_the_convolution() -> None:
    """qwen3-next-80b-a3b at L_in 1,000, L_out 8,192, N 4 (docs/cost-model.md section 3): the 12
    full layers cache 24,576 bytes a token, 24,576 x (1,000 x 8,192 + 4 x 8,192^2 / 2) =
    3,499,861,475,328; each of the 36 Gated DeltaNet layers reads and writes its 32 x 128 x 128
    fp32 state (2,097,152 bytes) and its convolution's 3 x (2 x 16 x 128 + 32 x 128) bf16 inputs
    (49,152 bytes) every step: 36 x 2 x 2,146,304 x 8,192 x 4 = 5,063,766,441,984."""
    args = ["cost", "qwen3-next-80b-a3b", "--prompt-len", "1000", "--gen-len", "8192"]
    result = CliRunner().invoke(app, [*args, "-n", "4", "--json"])
    assert result.exit_code == 0, result.output
    full = 24_576 * (1_000 * 8_192 + 4 * 8_192**2 / 2)
    state = 36 * 2 * (32 * 128 * 128 * 4 + 3 * (2 * 16 * 128 + 32 * 128) * 2) * 8_192 * 4
    assert json.loads(result.stdout)["kv_bytes"] == pytest.approx(full + state, rel=1e-12)


def test_block_topk_budget_in_whole_pages() -> None:
    """A kernel selects k whole pages of S tokens: 1000 tokens in pages of 64 are 15.625 pages,
    refused, naming the whole-page budgets either side (15 x 64 = 960, 16 x 64 = 1024); 1024
    itself is priced. The law would have priced 15.625 pages."""
    base = ["cost", "qwen3-8b", "--prompt-len", "1000", "--gen-len", "8k"]
    base += ["--attention", "block-topk", "--block-size", "64", "--kv-budget"]
    refused = CliRunner().invoke(app, [*base, "1000"])
    assert refused.exit_code == 2 and not refused.stdout
    assert refused.stderr.splitlines() == [
        "error: block top-k selects whole pages of 64 tokens (--block-size): --kv-budget 1000 "
        "is not a whole number of pages (the nearest: 960, 15 pages, or 1024, 16 pages)"
    ]
    assert CliRunner().invoke(app, [*base, "1024"]).exit_code == 0
    assert CliRunner().invoke(app, [*base, "960"]).exit_code == 0


def test_block_size_reads_k_as_1024_tokens() -> None:
    """--block-size is a token count as --kv-budget is: '1k' is 1,024 tokens, so a 1k budget is
    one page of it (it was read as 1,000, which made '--kv-budget 1k --block-size 1k' 1.024
    pages)."""
    args = ["cost", "qwen3-8b", "--prompt-len", "1000", "--gen-len", "8k", "--attention"]
    args += ["block-topk", "--kv-budget", "1k", "--block-size", "1k", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["kv_budget"], doc["block_size"]) == (1024, 1024)
