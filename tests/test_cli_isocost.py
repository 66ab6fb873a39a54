"""`kinetics isocost`: rows per model, setting and law; --match; --law; globs; plots; errors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import engine_catalog
import pytest
from typer.testing import CliRunner

from kinetics_cli.cli.main import app
from kinetics_cli.engine.kinetics import problem_cost


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return engine_catalog.write_catalog(tmp_path / "catalog")


def run(catalog: Path, *args: str):
    return CliRunner().invoke(app, ["--catalog", str(catalog), "isocost", *args])


def rows(catalog: Path, *args: str) -> list[dict]:
    result = run(catalog, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_json_rows_for_models_settings_and_laws(catalog):
    out = rows(
        catalog,
        "--budget",
        "1e12",
        "-m",
        "tiny-gqa,tiny-big",
        "-H",
        "tiny-gpu",
        "--attention",
        "topk",
        "--kv-budget",
        "64",
        "--kv-budget",
        "256",
    )
    assert len(out) == 2 * 3 * 2  # models x (dense + 2 budgets) x laws
    for row in out:
        assert {
            "model",
            "attention",
            "kv_budget",
            "law",
            "gen_len",
            "trials",
            "cost",
            "cost_unit",
        } <= set(row)
        assert row["cost"] <= 1e12
        assert row["trials"] == 1
        # what the row was solved at: the prompt, the law's intensity (0 under the FLOPs-only
        # law) and block top-k's page
        assert row["prompt_len"] == 160.0 and row["block_size"] == 16.0
        assert (row["intensity"] == 0.0) == (row["law"] == "flops")
    (intensity,) = {r["intensity"] for r in out if r["law"] == "kinetics"}  # the profile's one I
    assert intensity == 100.0  # tiny-gpu: the intensity named in the FLOPs-law test below
    dense = [r for r in out if r["attention"] == "dense"]
    assert all(r["kv_budget"] is None for r in dense)


def test_match_prices_the_reference_under_each_law(catalog):
    out = rows(catalog, "--match", "tiny-big:5000", "-m", "tiny-*", "-H", "tiny-gpu")
    ref = [r for r in out if r["model"] == "tiny-big"]
    assert {r["gen_len"] for r in ref} == {5000}
    big = engine_catalog.card("tiny-big")
    cost = problem_cost(big, 160, 5000)  # the default prompt length
    budgets = {r["law"]: r["budget"] for r in ref}
    assert budgets["kinetics"] == pytest.approx(float(cost.eflops(100)))
    assert budgets["flops"] == pytest.approx(float(cost.compute_flops))
    # the FLOPs-only law overestimates what the smaller model affords
    small = {r["law"]: r for r in out if r["model"] == "tiny-gqa"}
    assert small["flops"]["gen_len"] > small["kinetics"]["gen_len"]
    assert small["kinetics"]["law_ratio"] > 1


def test_law_filter_and_best_of_n(catalog):
    out = rows(
        catalog,
        "--budget",
        "1e11",
        "-m",
        "tiny-gqa",
        "-H",
        "tiny-gpu",
        "--strategy",
        "best-of-n",
        "--gen-len",
        "1k",  # 1,024 tokens: k is 1024 for token counts
        "--law",
        "kinetics",
    )
    assert [r["law"] for r in out] == ["kinetics"]
    assert out[0]["gen_len"] == 1024
    assert out[0]["trials"] >= 1


def test_human_table_and_plot(catalog, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "iso.svg"
    result = run(
        catalog,
        "--budget",
        "1e12",
        "-m",
        "tiny-*",
        "-H",
        "tiny-gpu",
        "--attention",
        "block-topk",
        "--kv-budget",
        "128",
        "--plot",
        str(path),
    )
    assert result.exit_code == 0, result.stderr
    assert "flops / kinetics" in result.stdout
    assert path.read_text().startswith("<?xml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "exactly one of --budget"),
        (["--budget", "1e9", "--match", "tiny-gqa:1k"], "exactly one of --budget"),
        (["--budget", "-1"], "budget"),
        (["--budget", "1e9", "--attention", "topk"], "--kv-budget"),
        (["--budget", "1e9", "--strategy", "best-of-n"], "--gen-len"),
        (["--budget", "1e9", "-m", "nothing-*"], "matches no model"),
        (["--match", "tiny-gqa"], "MODEL:L_OUT"),
        (["--match", "tiny-gqa:-5"], "must not be negative"),
        (["--budget", "1e9", "--law", "watts"], "unknown law"),
    ],
)
def test_bad_input_exits_2(catalog, args, message):
    result = (
        run(catalog, "-m", "tiny-gqa", "-H", "tiny-gpu", *args)
        if "-m" not in args
        else run(catalog, "-H", "tiny-gpu", *args)
    )
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("width", [80, 160])
def test_human_table_fits_the_console(catalog, monkeypatch, width):

    monkeypatch.setenv("COLUMNS", str(width))
    result = run(
        catalog,
        "--match",
        "tiny-big:5k",
        "-m",
        "tiny-*",
        "-H",
        "tiny-gpu",
        "--attention",
        "block-topk",
        "--kv-budget",
        "128",
    )
    assert result.exit_code == 0, result.stderr
    assert max(len(line) for line in result.stdout.splitlines()) <= width
    # the budget each law gives is in the title, so the cost columns can go at 80 columns
    assert "(kinetics)" in result.stdout and "budget" in result.stdout
    table = result.stdout.split("not shown at this width:")[0]  # the caption names them
    assert ("cost (kinetics)" in table) == (width == 160)
    for out in rows(catalog, "--match", "tiny-big:5k", "-m", "tiny-*", "-H", "tiny-gpu"):
        if out["model"] == "tiny-gqa" and out["law"] == "kinetics":
            assert f"{out['gen_len']:,.0f}" in result.stdout


def test_kv_budget_without_a_sparse_variant_is_refused(catalog):
    args = ["--budget", "1e12", "-m", "tiny-gqa", "-H", "tiny-gpu", "--kv-budget", "100"]
    result = run(catalog, *args, "--json")
    assert result.exit_code == 2
    assert "--kv-budget applies to sparse attention" in result.stderr
    sparse = run(catalog, *args, "--attention", "topk", "--json")
    assert sparse.exit_code == 0 and "warning" not in sparse.stderr


def test_affordable_length_beyond_the_context_window_warns() -> None:
    # qwen3-8b's window is 40,960 tokens (max_position_embeddings); 1e18 eFLOPs buys far more
    result = CliRunner().invoke(app, ["isocost", "--budget", "1e18", "-m", "qwen3-8b", "--json"])
    assert result.exit_code == 0, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("warning: the budget affords generations beyond the context window")
    assert "qwen3-8b (window 40,960; L_out up to" in line
    small = CliRunner().invoke(app, ["isocost", "--budget", "1e14", "-m", "qwen3-8b", "--json"])
    assert small.exit_code == 0 and small.stderr == ""


@pytest.mark.parametrize("strategy", [[], ["--strategy", "best-of-n", "--gen-len", "1k"]])
def test_a_prompt_beyond_the_context_window_is_refused(strategy) -> None:
    # qwen3-8b's window is 40,960 tokens: a 50k (51,200-token) prompt leaves no generation to
    # solve for under either strategy (long-cot used to answer with a warning only)
    result = CliRunner().invoke(
        app, ["isocost", "--budget", "1e16", "-m", "qwen3-8b", "--prompt-len", "50k", *strategy]
    )
    assert result.exit_code == 2 and not result.stdout
    (line,) = result.stderr.splitlines()
    assert "51,200" in line and "beyond qwen3-8b's context window of 40,960 tokens" in line


def test_dense_named_among_the_variants_is_a_warned_no_op(catalog):
    args = ["--budget", "1e12", "-m", "tiny-gqa", "-H", "tiny-gpu", "--json"]
    plain = run(catalog, *args)
    result = run(catalog, *args, "--attention", "dense")
    assert result.exit_code == 0
    assert (
        result.stderr
        == "warning: --attention dense adds nothing: dense attention is always solved\n"
    )
    assert json.loads(result.stdout) == json.loads(plain.stdout)


def test_title_gives_each_law_its_unit(catalog):
    """The same --budget number is eFLOPs under the Kinetics law and FLOPs under the FLOPs-only
    law; the title says which, and gives I its unit."""
    out = run(catalog, "--budget", "1e12", "-m", "tiny-gqa", "-H", "tiny-gpu")
    assert out.exit_code == 0, out.stderr
    title = " ".join(out.stdout.split("\n\n")[0].split())
    assert "1e12 eFLOPs (Kinetics law), 1e12 FLOPs (FLOPs-only law)" in title
    assert "FLOPs/byte" in title and "1e12 eFLOPs per problem" not in title
    flops_only = run(
        catalog, "--budget", "1e12", "-m", "tiny-gqa", "-H", "tiny-gpu", "--law", "flops"
    )
    flops_title = " ".join(flops_only.stdout.split("\n\n")[0].split())
    assert "eFLOPs" not in flops_title
    # the FLOPs-only rows use I = 0: the profile's intensity (100) is named only beside the
    # Kinetics law, which uses it
    assert "I = 100" in title and "I = " not in flops_title


@pytest.mark.parametrize(
    ("args", "solved"),
    [
        ([], "largest L_out per trial at N = 1 within it"),
        (["-n", "8"], "largest L_out per trial at N = 8 within it"),
        (["--strategy", "best-of-n", "--gen-len", "1k"], "most trials of 1,024 tokens within it"),
    ],
)
def test_title_names_the_variable_held_fixed(catalog, args, solved):
    """The L_out column depends on N (and the N column on L_out): the title says which, so a
    --match reference of N = 8 solved at N = 1 reads as such, not as a broken 1.00x."""
    out = run(catalog, "--match", "tiny-gqa:1k:8", "-m", "tiny-gqa", "-H", "tiny-gpu", *args)
    assert out.exit_code == 0, out.stderr
    assert solved in " ".join(out.stdout.split("\n\n")[0].split())


def test_plot_axis_labels_are_plain_token_counts(tmp_path):
    """The log axis is labelled 1, 2 and 5 per decade as plain numbers (bundled catalog:
    qwen3-8b and qwen3-32b afford 15,268 to 160,121 tokens at 1e16, so 20,000 to 100,000)."""
    pytest.importorskip("matplotlib")
    path = tmp_path / "iso.svg"
    args = ["isocost", "--budget", "1e16", "-m", "qwen3-8b,qwen3-32b", "--plot", str(path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert all(label in text for label in ("20,000", "50,000", "100,000"))
    assert "FLOPs/byte" in text


def test_lists_are_comma_separated_or_repeated(catalog):
    """--attention and --kv-budget take 'a,b' as plan's list options do, or repeats: same rows."""
    base = ["--budget", "1e12", "-m", "tiny-gqa", "-H", "tiny-gpu"]
    commas = rows(catalog, *base, "--attention", "topk,block-topk", "--kv-budget", "64,128")
    repeats = rows(
        catalog,
        *base,
        *("--attention", "topk", "--attention", "block-topk"),
        *("--kv-budget", "64", "--kv-budget", "128"),
    )
    assert commas == repeats
    assert {(r["attention"], r["kv_budget"]) for r in commas} == {
        ("dense", None),
        ("topk", 64),
        ("topk", 128),
        ("block-topk", 64),
        ("block-topk", 128),
    }


def test_nothing_affordable_and_the_search_ceiling_are_said() -> None:
    """qwen3-8b (P = 7.568e9) needs 2P = 1.5e10 FLOPs for one token, so 1e9 buys none: the 0 is
    named on stderr, not left to read as a solved length. 1e30 FLOPs would buy about 3.7e12
    tokens, past the search ceiling of 1e12: the table shows '>= 1,000,000,000,000' and the
    ratio from it as a floor, and a warning says so."""
    none = CliRunner().invoke(app, ["isocost", "--budget", "1e9", "-m", "qwen3-8b"])
    assert none.exit_code == 0, none.output
    (line,) = none.stderr.splitlines()
    assert line.startswith("warning: not even one generated token fits the budget (1e9)")
    assert "qwen3-8b dense (kinetics law); qwen3-8b dense (flops law)" in line
    args = ["isocost", "--budget", "1e13", "-m", "qwen3-8b", "--strategy", "best-of-n"]
    trials = CliRunner().invoke(app, [*args, "--gen-len", "8k", "--json"])
    assert "not even one trial of 8,192 tokens fits" in trials.stderr
    huge = CliRunner().invoke(app, ["isocost", "--budget", "1e30", "-m", "qwen3-8b"])
    assert huge.exit_code == 0, huge.output
    assert ">= 1,000,000,000,000" in huge.stdout and ">= 4.59x" in huge.stdout
    assert "search ceiling of 1,000,000,000,000 tokens" in huge.stderr
    assert "qwen3-8b dense (flops law)" in huge.stderr.splitlines()[0]
    fine = CliRunner().invoke(app, ["isocost", "--budget", "1e14", "-m", "qwen3-8b"])
    assert fine.stderr == "" and ">=" not in fine.stdout


@pytest.mark.parametrize(
    "args",
    [
        # 20,000 to 1.5M tokens: two decades, whose 1-2-5 labels overprinted one another
        ["-m", "qwen3-0.6b,qwen3-8b,deepseek-v3", "--attention", "block-topk", "--kv-budget", "1k"],
        # two models on a short figure, whose y label ran past its top and bottom
        ["-m", "qwen3-8b,deepseek-v3", "--strategy", "best-of-n", "--gen-len", "8k"],
    ],
)
def test_plot_labels_do_not_collide_or_leave_the_figure(tmp_path, monkeypatch, args):
    pytest.importorskip("matplotlib")
    import kinetics_cli.report.isocost as report

    kept = []

    def keep(fig, path, force=False):  # type: ignore[no-untyped-def]
        fig.canvas.draw()
        kept.append(fig)
        return path

    monkeypatch.setattr(report, "save_figure", keep)
    path = tmp_path / "iso.png"
    result = CliRunner().invoke(app, ["isocost", "--budget", "1e16", *args, "--plot", str(path)])
    assert result.exit_code == 0, result.output
    (fig,) = kept
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    boxes = [
        t.get_window_extent(renderer)
        for t in ax.get_xticklabels()
        if t.get_text() and ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]
    ]
    assert len(boxes) >= 2
    boxes.sort(key=lambda b: b.x0)
    assert all(a.x1 < b.x0 for a, b in itertools.pairwise(boxes))
    label = ax.yaxis.label.get_window_extent(renderer)
    assert label.y0 >= 0 and label.y1 <= fig.bbox.height


def test_best_of_n_refuses_a_kv_budget_beyond_the_final_context() -> None:
    """Every best-of-n trial ends at L_in + L_out = 160 + 500 = 660 tokens, so a 4,096-token
    budget never selects: the law would charge dense attention as unshared sparse reads (N x
    the prompt's KV instead of once) and answer with fewer trials than dense (617 against 776 at
    1e16 on qwen3-8b). Refused as `cost` refuses it; a budget of exactly 660 is accepted (by top-k:
    660 tokens are no whole number of block top-k's 16-token pages)."""
    base = ["isocost", "--budget", "1e16", "-m", "qwen3-8b", "--strategy", "best-of-n"]
    base += ["--gen-len", "500", "--attention"]
    args = [*base, "topk,block-topk"]
    result = CliRunner().invoke(app, [*args, "--kv-budget", "256,4096", "--json"])
    assert result.exit_code == 2 and not result.stdout
    (line,) = result.stderr.splitlines()
    assert line == (
        "error: --kv-budget 4096 is larger than the final context (160 + 500 = 660 tokens); "
        "use dense attention or a smaller budget"
    )
    edge = CliRunner().invoke(app, [*base, "topk", "--kv-budget", "256,660", "--json"])
    assert edge.exit_code == 0, edge.output
    assert {r["kv_budget"] for r in json.loads(edge.stdout)} == {None, 256, 660}


def test_long_cot_warns_when_the_kv_budget_holds_the_whole_answer() -> None:
    """qwen3-8b at 1e13 eFLOPs (P = 7,568,106,496, h = 36 x 32 x 128 = 147,456, d = 36 x 8 x 128
    = 36,864, I = 281.25, L_in 160): at L_out 343, A = 160 x 343 + 343^2 / 2 = 113,704.5 and
    2 P 343 + 4 h A + I x 4 d A = 5.192e12 + 6.71e10 + 4.716e12 = 9.97e12 <= 1e13; at 344 it is
    1.001e13. A budget of 4,096 tokens is above 160 + 343 = 503, so the topk row there is dense
    attention (343, as the dense row) and is said to be; B = 256 selects from step 96 on and is
    not named."""
    args = ["isocost", "--budget", "1e13", "-m", "qwen3-8b", "--attention", "topk"]
    result = CliRunner().invoke(app, [*args, "--kv-budget", "256,4096", "--json"])
    assert result.exit_code == 0, result.output
    out = {(r["kv_budget"], r["law"]): r["gen_len"] for r in json.loads(result.stdout)}
    assert out[(None, "kinetics")] == out[(4096, "kinetics")] == 343
    (line,) = result.stderr.splitlines()
    assert line.startswith("warning: the KV budget holds the prompt and the whole generation")
    assert "qwen3-8b topk B=4,096 (kinetics law) at L_out 343" in line
    assert "B=256" not in line
    selecting = CliRunner().invoke(app, [*args, "--kv-budget", "256", "--json"])
    assert selecting.exit_code == 0 and selecting.stderr == ""


def test_a_one_token_trial_is_singular() -> None:
    """qwen3-8b, one trial of one token after a 160-token prompt: 2P = 1.514e10 FLOPs,
    A = 160 + 1/2 = 160.5 attended tokens, 4 h A = 9.47e7 FLOPs and 4 d A = 2.367e7 bytes, x I
    281.25 = 6.66e9: 2.18e10 eFLOPs, over a 2e10 budget, so the answer is 0 (the FLOPs-only law
    affords one). The title and the warning say 'token', not '1 tokens'."""
    args = ["isocost", "--budget", "2e10", "-m", "qwen3-8b", "--strategy", "best-of-n"]
    result = CliRunner().invoke(app, [*args, "--gen-len", "1"])
    assert result.exit_code == 0, result.output
    assert "most trials of 1 token within it" in " ".join(result.stdout.split())
    assert "not even one trial of 1 token fits the budget (2e10)" in result.stderr
    assert "1 tokens" not in result.stdout + result.stderr
