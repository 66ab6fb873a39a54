"""`kinetics frontier --cost ...`: deployable frontiers through the CLI. The default (eFLOPs)
output is the one `frontier` always wrote; the deployable points cost what `plan` and `serve`
say for the same configuration on the same deployment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_cli_plan import fixed_length_evals, run
from test_planner_fakes import FakeSource

# JSON keys of each deployable figure, by --cost
FIGURE = {"gpu-seconds": "gpu_seconds", "usd": "usd_per_1000", "latency": "latency_s"}
FIGURE["joules"] = "joules"


def frontier_json(*args: str) -> dict:  # type: ignore[type-arg]
    result = run("frontier", "--task", "fake", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_default_output_is_the_law_frontier(fake: FakeSource) -> None:
    """No --cost is --cost eflops, byte for byte, and its JSON has no deployable keys."""
    for extra in ([], ["--json"], ["--format", "csv"], ["--law", "flops", "--full"]):
        plain = run("frontier", "--task", "fake", *extra)
        eflops = run("frontier", "--task", "fake", "--cost", "eflops", *extra)
        assert plain.exit_code == eflops.exit_code == 0, plain.output
        assert plain.stdout == eflops.stdout
    doc = frontier_json()
    assert set(doc) == {
        "task",
        "law",
        "hardware",
        "intensity",
        "accuracy_source",
        "selection_rules",
        "configurations",
        "left_out",
        "allocation",
    }
    assert not any("deployment" in c for c in doc["configurations"])


@pytest.mark.parametrize("cost", ["gpu-seconds", "usd", "latency", "joules"])
def test_points_carry_deployments_units_and_intervals(fake: FakeSource, cost: str) -> None:
    doc = frontier_json("--cost", cost, "--efficiency", "datasheet")
    assert doc["cost"] == cost and doc["hardware"] == ["b200"]
    (row,) = doc["by_hardware"]
    assert row["efficiency_mode"] == "datasheet" and row["dropped_configurations"] == []
    points = row["points"]
    assert points and any(p["pareto"] for p in points)
    for p in points:
        d = p["deployment"]
        assert d["tp"] >= 1 and d["batch"] >= 1 and d["efficiency_mode"] == "datasheet"
        assert p["cost"] == p["deployable"][FIGURE[cost]]
        assert p["cost_unit"] == doc["cost_unit"]
        lo, hi = p["accuracy_ci"]
        assert lo <= p["accuracy"] <= hi
    # one accelerator: the frontier across accelerators is its own overall frontier
    assert [c["cost"] for c in doc["combined"]] == [p["cost"] for p in points if p["pareto"]]


def test_points_cost_what_plan_charges(fake: FakeSource) -> None:
    """Each overall frontier point, planned alone (the grid cut to its configuration) with a
    budget of its own cost, is the plan's pick at the same cost (to 1e-9) and deployment."""
    doc = frontier_json(
        "--cost", "usd", "-m", "qwen3-8b", "--trials", "4", "--gen-limits", "8k,32k"
    )
    points = [p for p in doc["by_hardware"][0]["points"] if p["pareto"]]
    for p in points[:: max(1, len(points) // 4)]:
        only = ["-m", p["model"], "--gen-limits", str(p["gen_len"]), "--attention", p["attention"]]
        only += ["--strategy", p["strategy"]]
        if p["kv_budget"] is not None:
            only += ["--kv-budgets", str(p["kv_budget"])]
        if p["strategy"] == "best-of-n":
            only += ["--trials", str(p["trials"])]
        result = run("plan", "--task", "fake", "--budget-usd", repr(p["cost"]), *only, "--json")
        assert result.exit_code == 0, result.output
        best = json.loads(result.stdout)["best"]
        assert best["cost"] == pytest.approx(p["cost"], rel=1e-9)
        assert best["deployment"] == p["deployment"]


@pytest.mark.parametrize("hardware", ["b200", "h100-sxm"])
def test_points_cost_what_serve_says(tmp_path: Path, hardware: str) -> None:
    """Long-CoT on fixed-length requests: GPU-seconds per problem = TP x osl / (output tokens/s
    of `serve` at the point's TP and batch), to 1e-9."""
    path = fixed_length_evals(tmp_path)
    args = ["frontier", "--task", "fixed", "--evals", str(path), "--strategy", "long-cot"]
    result = run(*args, "--gen-limits", "4096", "-H", hardware, "--cost", "gpu-seconds", "--json")
    assert result.exit_code == 0, result.output
    points = json.loads(result.stdout)["by_hardware"][0]["points"]
    assert points
    for p in points:
        d = p["deployment"]
        served = run(
            "serve", p["model"], "-H", hardware, "--tp", str(d["tp"]),
            "--batch", str(d["batch"]), "--isl", "500", "--osl", "2000", "--json",
        )  # fmt: skip
        assert served.exit_code == 0, served.output
        s = json.loads(served.stdout)
        assert p["cost"] == pytest.approx(d["tp"] * 2000 / s["output_tokens_per_s"], rel=1e-9)


def test_across_accelerators_skips_and_names(fake: FakeSource) -> None:
    fake.models["qwen3-235b-a22b"] = (0.95, 5000.0)
    args = ["--cost", "usd", "-H", "b200,l40s,a100-80gb-sxm", "-m", "qwen3-235b-a22b,qwen3-8b"]
    doc = frontier_json(*args)
    assert doc["skipped_hardware"] == [
        {"hardware": "a100-80gb-sxm", "reason": "no price_per_gpu_hour in its profile"}
    ]
    b200, l40s = doc["by_hardware"]
    assert b200["dropped_configurations"] == []
    named = {d["model"] for d in l40s["dropped_configurations"]}
    assert named == {"qwen3-235b-a22b"}
    assert len(l40s["dropped_configurations"]) == sum(d["configurations"] for d in l40s["dropped"])
    assert all(p["model"] == "qwen3-8b" for p in l40s["points"])
    # the combined frontier: cheapest first, accuracy rising, every point from one accelerator
    combined = doc["combined"]
    cost = [c["cost"] for c in combined]
    assert cost == sorted(cost) and len({c["deployment"]["hardware"] for c in combined}) >= 1
    acc = np.round(np.array([c["accuracy"] for c in combined]) * 1000)
    assert np.all(np.diff(acc) > 0)
    everything = [
        (p["cost"], round(p["accuracy"] * 1000)) for r in doc["by_hardware"] for p in r["points"]
    ]
    for c in combined:  # no point of any accelerator dominates a combined one
        here = (c["cost"], round(c["accuracy"] * 1000))
        assert not any(q[0] <= here[0] and q[1] >= here[1] and q != here for q in everything)
    out = run("frontier", "--task", "fake", *args).stdout
    assert "Frontier across accelerators" in out and "Frontier on l40s" in out
    assert "by model: qwen3-235b-a22b" in out and "skipped a100-80gb-sxm" in out


def test_formats(fake: FakeSource) -> None:
    csv = run(
        "frontier", "--task", "fake", "--cost", "latency", "-H", "b200,h100", "--format", "csv"
    )
    assert csv.exit_code == 0, csv.output
    header = csv.stdout.splitlines()[0]
    assert header.startswith(
        "hardware,model,strategy,trials,selection,expected trials,limit (tokens),attention,"
        "KV budget (tokens),accuracy rests on,accuracy (%),accuracy_low (%),accuracy_high (%),"
        "eFLOPs,tp,ep,problems in flight,GPU-s (s),latency (s),energy (J)"
    )
    md = run("frontier", "--task", "fake", "--cost", "joules", "--format", "markdown", "--full")
    assert md.exit_code == 0, md.output
    assert "| model |" in md.stdout and "Frontier of qwen3-8b dense on b200" in md.stdout


def test_plots_draw_interval_bands(fake: FakeSource, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    one = tmp_path / "one.svg"
    result = run("frontier", "--task", "fake", "--cost", "usd", "--plot", str(one))
    assert result.exit_code == 0, result.output
    text = one.read_text()
    assert "95% accuracy interval" in text and "US dollars per 1,000 problems on b200" in text
    several = tmp_path / "several.svg"
    args = ["--cost", "gpu-seconds", "-H", "b200,h100", "--plot", str(several)]
    result = run("frontier", "--task", "fake", *args)
    assert result.exit_code == 0, result.output
    text = several.read_text()
    assert "95% interval" in text and "frontier across accelerators" in text
    assert "h100-sxm" in text


def test_unmet_tpot_target_names_it_in_si_units(fake: FakeSource) -> None:
    """A --max-tpot no replica meets is refused naming the target as given (1 us, not 0.001 ms)."""
    result = run("frontier", "--task", "fake", "--cost", "latency", "--max-tpot", "1us")
    assert result.exit_code == 2
    assert "meets TPOT 1 µs at one problem in flight" in result.stderr


def test_law_frontier_says_what_its_time_column_is(fake: FakeSource) -> None:
    """The eFLOPs frontier's time column is the law's time at the profile's peaks, not a
    deployment's: the output says so, and whether the profile is calibrated."""
    out = " ".join(run("frontier", "--task", "fake").stdout.split())
    assert "time: the law's accelerator time per problem" in out
    assert "b200 uncalibrated: datasheet peaks at full efficiency" in out
    assert "(Kinetics law, I = 281.25 FLOPs/byte)" in out  # named as plan's sentences name it
    flops = " ".join(run("frontier", "--task", "fake", "--law", "flops").stdout.split())
    assert "cost per problem in FLOPs (FLOPs-only law, I = " in flops


def test_plot_titles_name_the_accuracy_source_in_words(tmp_path: Path) -> None:
    """Bundled data: the paper's measurements where they cover a setting, priors elsewhere; the
    plot's title says that, not the source's internal kind ('composite')."""
    pytest.importorskip("matplotlib")
    for extra in ([], ["--cost", "usd"]):
        path = tmp_path / f"frontier{len(extra)}.svg"
        args = ["frontier", "-m", "qwen3-8b", "--strategy", "long-cot", *extra]
        result = run(*args, "--plot", str(path))
        assert result.exit_code == 0, result.output
        text = path.read_text()
        # the title wraps at 80 characters, so the phrase may span two lines
        assert "measured where covered" in text and "composite" not in text


def test_a_skipped_accelerator_is_named_once() -> None:
    """As in plan -H: the unpriced a100-80gb-sxm is skipped in one line, with no line about the
    configurations it would have dropped."""
    args = ["frontier", "--cost", "usd", "-H", "b200,a100-80gb-sxm"]
    out = run(*args, "-m", "qwen3-235b-a22b,qwen3-8b").stdout
    assert "skipped a100-80gb-sxm: no price_per_gpu_hour in its profile" in out
    assert "a100-80gb-sxm: " not in out.replace("skipped a100-80gb-sxm: ", "")


def test_by_model_matrix_shows_intervals_as_the_other_tables(tmp_path: Path) -> None:
    """Each cell of the per-model matrix is the accuracy of one configuration of that model and
    attention written as the JSON has it: accuracy and interval in percent, three columns each
    cost level, empty where nothing is affordable."""
    import csv
    import io

    args = ["frontier", "--task", "fixed", "--evals", str(fixed_length_evals(tmp_path))]
    result = run(*args, "--format", "csv")
    assert result.exit_code == 0, result.output
    tables = [t for t in result.stdout.split("\n\n") if t.strip()]
    (matrix,) = [t for t in tables if t.startswith("model,active (parameters),")]
    header, *rows = list(csv.reader(io.StringIO(matrix)))
    first_cost = header.index("on overall") + 1
    assert header[first_cost].startswith("accuracy within ") and header[first_cost].endswith(
        " eFLOPs (%)"
    )
    assert header[first_cost + 1].startswith("accuracy_low within ")
    doc = json.loads(run(*args, "--json").stdout)
    written: dict[tuple[str, str], set[tuple[float, float, float]]] = {}
    for c in doc["configurations"]:
        low, high = c["accuracy_ci"]
        figures = (100 * c["accuracy"], 100 * low, 100 * high)
        written.setdefault((c["model"], c["attention"]), set()).add(figures)
    cells = [
        (row[0], row[2], tuple(map(float, row[i : i + 3])))
        for row in rows
        for i in range(first_cost, len(header), 3)
        if row[i] != ""
    ]
    assert any(low < high for _, _, (_, low, high) in cells)
    for model, attention, figures in cells:
        assert figures in written[(model, attention.removesuffix(" (oracle)"))], (model, figures)


def test_allocation_plot_draws_the_allocation_curves(tmp_path: Path) -> None:
    """--allocation oracle-per-problem --plot draws the allocation beside the frontier; without
    --allocation the figure has none of its curves."""
    pytest.importorskip("matplotlib")
    args = ["frontier", "--task", "fixed", "--evals", str(fixed_length_evals(tmp_path))]
    with_allocation, without = tmp_path / "with.svg", tmp_path / "without.svg"
    result = run(*args, "--allocation", "oracle-per-problem", "--plot", str(with_allocation))
    assert result.exit_code == 0, result.output
    assert run(*args, "--plot", str(without)).exit_code == 0
    labels = ("oracle per problem (mean cost)", "best uniform, same data")
    assert all(label in with_allocation.read_text() for label in labels)
    assert not any(label in without.read_text() for label in labels)


def test_allocation_plot_refuses_the_flops_axis(fake: FakeSource, tmp_path: Path) -> None:
    plot = tmp_path / "f.svg"
    args = ["--allocation", "oracle-per-problem", "--law", "flops", "--plot", str(plot)]
    result = run("frontier", "--task", "fake", *args)
    assert result.exit_code == 2 and "drop --law flops or --plot" in result.stderr
    assert not plot.exists()


def test_a_grid_left_empty_is_one_error_line(tmp_path: Path) -> None:
    """Best-of-8 on evaluations with 4 samples per problem leaves nothing to draw: frontier
    (every --cost, --json too) and plan say why in one line, exit 2, no traceback."""
    evals = str(Path(__file__).parent / "examples" / "per_problem_mytask.csv")
    args = ["--task", "mytask", "--evals", evals, "--strategy", "best-of-n", "--trials", "8"]
    for extra in ([], ["--json"], ["--cost", "usd"], ["--format", "csv"]):
        result = run("frontier", *args, *extra)
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert result.stderr == (
            "error: no configuration to evaluate: --trials 8 left out: the accuracy data of the "
            "chosen settings has fewer samples per problem (never extrapolated)\n"
        )
    planned = run("plan", *args, "--budget", "1e16")
    assert planned.exit_code == 2 and "--trials 8 left out" in planned.stderr
