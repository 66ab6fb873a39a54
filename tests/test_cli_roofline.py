"""`kinetics roofline`: JSON contract, operator kinds, fit warning, plots, errors."""

from __future__ import annotations

import json
from pathlib import Path

import engine_catalog
import pytest
from typer.testing import CliRunner

from kinetics_cli.cli.main import app


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return engine_catalog.write_catalog(tmp_path / "catalog")


def run(catalog: Path, *args: str):
    return CliRunner().invoke(app, ["--catalog", str(catalog), "roofline", *args])


def test_json_contract(catalog):
    result = run(
        catalog,
        "tiny-moe",
        "-H",
        "tiny-gpu",
        "--batch",
        "4",
        "--context",
        "100",
        "--tp",
        "2",
        "--attention",
        "block-topk",
        "--kv-budget",
        "48",  # 3 pages of 16 tokens
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    for key in (
        "step_seconds",
        "tokens_per_second",
        "bound",
        "operators",
        "weight_bytes",
        "kv_bytes",
        "fits",
        "max_batch",
    ):
        assert key in doc, key
    assert doc["bound"] in {"compute", "memory", "communication"}
    kinds = {op["kind"] for op in doc["operators"]}
    assert kinds == {"attention", "linear", "communication", "other"}
    for op in doc["operators"]:
        assert {"name", "kind", "flops", "bytes", "seconds", "bound"} <= set(op)
    names = {op["name"] for op in doc["operators"]}
    assert {"block search", "routed experts", "router", "all-reduce", "lm head"} <= names
    search = next(op for op in doc["operators"] if op["name"] == "block search")
    assert search["kind"] == "attention"
    assert sum(op["seconds"] for op in doc["operators"]) == pytest.approx(doc["step_seconds"])


def test_golden_step_matches_the_engine(catalog):
    result = run(catalog, "tiny-gqa", "-H", "tiny-gpu", "--context", "100", "--json")
    doc = json.loads(result.stdout)
    # tests/test_engine_roofline.py::test_tiny_decode_step_by_hand
    assert doc["step_seconds"] == pytest.approx(58_632 / 10)
    assert doc["max_batch"] == 74 and doc["fits"] is True


def test_does_not_fit_is_refused_unless_asked(catalog):
    refused = run(catalog, "tiny-gqa", "-H", "tiny-gpu", "--batch", "100", "--context", "100")
    assert refused.exit_code == 2 and not refused.stdout
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not fit" in lines[0] and "--allow-oversubscribe" in lines[0]
    # 100 sequences of 12,800 B of KV + 49,984 B of weights exceed 1 MB; 74 fit
    assert "tiny-gqa does not fit on tiny-gpu at TP1" in lines[0]
    assert "largest batch that fits: 74" in lines[0]
    # TP2 halves the weights (24,992 B) and the 2 KV heads (6,400 B a sequence):
    # 24,992 + 100 x 6,400 = 664,992 B <= 1 MB
    assert "--tp 2 holds batch 100" in lines[0]
    result = run(
        catalog,
        "tiny-gqa",
        *("-H", "tiny-gpu", "--batch", "100", "--context", "100", "--allow-oversubscribe"),
    )
    assert result.exit_code == 0
    assert "does not fit" in result.stderr
    assert "largest batch that fits" in result.stdout


def test_a_step_no_tp_holds_says_what_is_short(catalog):
    # 400 sequences: TP 4, the most split, holds 49,984 / 4 = 12,496 B of weights and, its 4
    # ranks replicating the 2 KV heads, 400 x 6,400 B of cache: 2.57 MB > 1 MB
    refused = run(catalog, "tiny-gqa", "-H", "tiny-gpu", "--batch", "400", "--context", "100")
    assert refused.exit_code == 2 and not refused.stdout
    line = refused.stderr.strip()
    assert "largest batch that fits: 74" in line
    assert "no TP up to 4 on one node holds batch 400; try a narrower --dtype" in line
    tiny = run(catalog, "tiny-gqa", "-H", "tiny-gpu", "--context", "100", "--tp", "2")
    assert tiny.exit_code == 0


def test_prefill_and_human_table(catalog):
    result = run(
        catalog,
        "tiny-hybrid",
        "-H",
        "tiny-gpu",
        "--phase",
        "prefill",
        "--prompt-len",
        "64",
        "--batch",
        "2",
    )
    assert result.exit_code == 0, result.stderr
    assert "Prefill step" in result.stdout
    assert "ridge point" in result.stdout


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot(catalog, tmp_path, suffix):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"roofline{suffix}"
    result = run(
        catalog,
        "tiny-gqa",
        "-H",
        "tiny-gpu",
        "--batch",
        "8",
        "--context",
        "100",
        "--plot",
        str(path),
    )
    assert result.exit_code == 0, result.stderr
    assert path.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--context", "100", "--attention", "topk", "--kv-budget", "200"],
            "larger than the context",
        ),
        (["--attention", "topk"], "--kv-budget"),
        (["--tp", "3"], "divide"),
        (["--context", "-5"], "context"),
        (["--dtype", "int4"], "dtype"),
        (["--dtype", "fp4"], "tiny-gpu has no fp4 peak"),
        (["--phase", "train"], "phase"),
        (["--plot", "out.pdf"], ".png or .svg"),
        (["--batch", "many"], "--batch"),
        (["--context", "8x"], "--context"),
    ],
)
def test_bad_input_exits_2(catalog, args, message):
    result = run(catalog, "tiny-gqa", "-H", "tiny-gpu", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_kv_budget_with_dense_attention_is_refused(catalog):
    result = run(
        catalog, "tiny-gqa", "-H", "tiny-gpu", "--context", "100", "--kv-budget", "50", "--json"
    )
    assert result.exit_code == 2
    assert "--kv-budget applies to sparse attention" in result.stderr


def test_prompt_len_with_decode_is_refused(catalog):
    result = run(catalog, "tiny-gqa", "-H", "tiny-gpu", "--prompt-len", "64", "--json")
    assert result.exit_code == 2
    assert "--prompt-len applies to --phase prefill" in result.stderr


def test_json_reports_both_ridges(catalog):
    doc = json.loads(
        run(
            catalog,
            *("tiny-gqa", "-H", "tiny-gpu", "--context", "100000", "--allow-oversubscribe"),
            "--json",
        ).stdout
    )
    # tiny-gpu's I = 100 is out of reach of the tiny matmuls (about 20 FLOPs/byte at most, see
    # test_engine_roofline.py::test_ridge_batch_is_where_compute_overtakes_memory): neither turns
    assert doc["ridge_batch"] is None
    assert doc["linear_ridge_batch"] is None


def test_summary_names_the_weight_ridge_when_the_step_has_none(monkeypatch):

    from kinetics_cli.catalog import load_catalog
    from kinetics_cli.errors import CatalogError

    try:
        load_catalog().models.get("qwen3-32b")
        load_catalog().hardware.get("h100-sxm")
    except CatalogError:  # pragma: no cover - bundled catalog trimmed
        pytest.skip("qwen3-32b or h100-sxm not bundled")
    args = ["roofline", "qwen3-32b", "-H", "h100-sxm"]
    doc = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    # 8192 tokens of context: never compute-bound; the weights alone near I = 295 (bf16)
    assert doc["ridge_batch"] is None
    assert 295 <= doc["linear_ridge_batch"] <= 350
    monkeypatch.setenv("COLUMNS", str(200))
    human = CliRunner().invoke(app, args).stdout
    assert f"weight matmuls alone at batch {doc['linear_ridge_batch']:,}" in human
    # a batch of thousands is written with a separator, as every count is
    moe = ["roofline", "qwen3-30b-a3b", "--batch", "32"]
    doc = json.loads(CliRunner().invoke(app, [*moe, "--json"]).stdout)
    assert doc["linear_ridge_batch"] >= 1000
    human = " ".join(CliRunner().invoke(app, moe).stdout.split())
    assert f"alone at batch {doc['linear_ridge_batch']:,}" in human and "," in human


@pytest.mark.parametrize("width", [80, 160])
def test_human_table_keeps_names_and_fits_the_console(catalog, monkeypatch, width):

    monkeypatch.setenv("COLUMNS", str(width))
    result = run(
        catalog, "tiny-moe", "-H", "tiny-gpu", "--batch", "4", "--tp", "2", "--allow-oversubscribe"
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    # operator names with brackets are plain text, not rich markup that would swallow them
    assert "[dense" in result.stdout and "layers]" in result.stdout
    assert "all-reduce" in result.stdout and "lm head" in result.stdout
    # every column survives at 160; the table gives up kind and calls first at 80
    header = next(line for line in lines if "operator" in line)
    assert ("kind" in header) == (width == 160)
    for column in ("FLOPs", "bytes", "FLOP/B", "bound", "time", "share"):
        assert column in header


def test_tp_beyond_one_node_is_an_input_error(catalog):
    result = run(catalog, "tiny-big", "-H", "tiny-gpu", "--tp", "8")
    assert result.exit_code == 2
    assert (
        "--tp 8 exceeds tiny-gpu's 4 GPUs per node; inter-node tensor parallelism is not modelled"
        in (result.stderr)
    )


@pytest.mark.parametrize(
    "apart",
    [["--kv", "fp8"], ["--weights", "fp8"], ["--weights", "fp8", "--kv", "fp8"]],
)
def test_a_format_given_apart_leaves_the_others_as_dtype_sets_them(catalog, apart):
    # --kv sets the cache alone and --weights the weights alone: naming the format --dtype fp8
    # already implies changes nothing (it used to put the weights back to the card's bf16).
    step = ("tiny-gqa", "-H", "tiny-gpu", "--context", "100", "--dtype", "fp8", "--json")
    plain = json.loads(run(catalog, *step).stdout)
    result = run(catalog, *step, *apart)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    # fp8: the blocks' 24,992 - 6,560 = 18,432 matmul weights x 1 B, the embedding and LM head
    # (2 x 100 x 32) and norms (2 x 2 x 32 + 32), 6,560, kept at 2 B: 31,552 B (49,984 in bf16);
    # KV 100 tokens x 2 layers x 2 (K, V) x 2 heads x 8 x 1 B = 6,400 B per sequence
    assert doc["weight_bytes"] == plain["weight_bytes"] == 18_432 + 2 * 6_560
    assert doc["kv_bytes_per_sequence"] == plain["kv_bytes_per_sequence"] == 6_400
    assert doc["step_seconds"] == plain["step_seconds"]


def test_kv_given_apart_keeps_dtypes_weights(catalog):
    doc = json.loads(
        run(
            catalog,
            *("tiny-gqa", "-H", "tiny-gpu", "--context", "100", "--dtype", "fp8"),
            *("--kv", "bf16", "--json"),
        ).stdout
    )
    # weights fp8 as --dtype says (18,432 B, and 6,560 embedding, LM-head and norm weights at
    # 2 B); the cache bf16: 100 x 2 x 2 x 2 x 8 x 2 B = 12,800 B
    assert doc["weight_bytes"] == 18_432 + 2 * 6_560
    assert doc["kv_bytes_per_sequence"] == 12_800


def test_title_and_json_name_every_format_not_only_the_peak(catalog):
    # --weights fp8 on a profile with an fp8 peak: fp8 weights at the fp8 peak, the cache fp8,
    # activations bf16 (--dtype bf16). The title used to say only the peak's dtype.
    args = ("tiny-gqa", "-H", "tiny-gpu", "--context", "100", "--weights", "fp8", "--kv", "fp8")
    doc = json.loads(run(catalog, *args, "--json").stdout)
    # the embedding, LM head and norms stay at the card's 16 bits under a quantised format
    formats = "fp8 weights (bf16 embedding and LM head), fp8 KV, bf16 activations, fp8 matmuls"
    assert doc["formats"] == formats
    title = " ".join(run(catalog, *args).stdout.split("\n\n")[0].split())
    assert formats in title
    # weight-only: fp4 weights where the profile lists no fp4 peak run at bf16
    fp4 = json.loads(run(catalog, *args[:5], "--weights", "fp4", "--json").stdout)
    assert fp4["formats"] == (
        "nvfp4 weights (bf16 embedding and LM head), bf16 KV, bf16 activations, bf16 matmuls"
    )
    assert fp4["dtype"] == "bf16"


def test_fp16_is_priced_as_bf16_and_dtype_names_ignore_case(catalog):
    # fp16 is listed among --dtype's choices; no profile lists an fp16 peak (it runs at bf16's
    # rate, engine/formats.py), so --dtype fp16 used to be refused on every profile
    step = ("tiny-gqa", "-H", "tiny-gpu", "--context", "100", "--json")
    bf16 = json.loads(run(catalog, *step).stdout)
    fp16 = run(catalog, *step, "--dtype", "fp16")
    assert fp16.exit_code == 0, fp16.stderr
    doc = json.loads(fp16.stdout)
    assert doc["step_seconds"] == bf16["step_seconds"] and doc["dtype"] == "bf16"
    upper = run(catalog, *step, "--dtype", "FP8")
    assert upper.exit_code == 0, upper.stderr
    assert json.loads(upper.stdout) == json.loads(run(catalog, *step, "--dtype", "fp8").stdout)


def test_tensor_parallel_refusals_read_as_serve_says_them() -> None:
    """One check (engine.roofline.check_tensor_parallel) for both commands: the same line."""
    for args in (["qwen3-32b", "--tp", "3"], ["qwen3-32b", "--tp", "16"]):
        lines = [CliRunner().invoke(app, [command, *args]) for command in ("roofline", "serve")]
        assert [r.exit_code for r in lines] == [2, 2]
        assert lines[0].stderr == lines[1].stderr
    assert lines[0].stderr == (
        "error: --tp 16 exceeds b200's 8 GPUs per node; inter-node tensor parallelism is not "
        "modelled\n"
    )
    three = CliRunner().invoke(app, ["roofline", "qwen3-32b", "--tp", "3"]).stderr
    assert three == "error: --tp 3 must divide qwen3-32b's 64 attention heads\n"
