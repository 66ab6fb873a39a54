"""report.plan: the plan and frontier documents (the library's, unchanged by the CLI), labels
and costs as the tables write them."""

from __future__ import annotations

import json

from test_planner_fakes import FakeSource
from typer.testing import CliRunner

from kinetics_cli.catalog import load_catalog
from kinetics_cli.cli.main import app
from kinetics_cli.planner.frontier import make_frontier
from kinetics_cli.planner.plan import make_plan
from kinetics_cli.planner.setup import build_setup
from kinetics_cli.report.plan import (
    attention_label,
    describe,
    format_cost,
    frontier_document,
    plan_document,
)


def test_library_documents_match_the_cli(fake: FakeSource) -> None:
    """plan --json and frontier --json are the library's documents, unchanged."""
    from kinetics_cli.planner.deploy import DeployOptions

    setup = build_setup(task="fake", catalog=load_catalog(), hardware="b200")
    deployed = build_setup(
        task="fake", catalog=load_catalog(), hardware="b200", deploy=DeployOptions()
    )
    answer = make_plan(deployed.grid, 1e16, pricing=deployed.pricing, top=2)
    runner = CliRunner()
    cli_plan = runner.invoke(
        app, ["plan", "--task", "fake", "--budget", "1e16", "-k", "2", "--json"]
    )
    assert cli_plan.exit_code == 0, cli_plan.output
    assert json.loads(cli_plan.stdout) == json.loads(json.dumps(plan_document(deployed, answer)))
    frontier = make_frontier(setup.grid, "flops", setup.pricing.intensity)
    cli_frontier = runner.invoke(app, ["frontier", "--task", "fake", "--law", "flops", "--json"])
    assert cli_frontier.exit_code == 0, cli_frontier.output
    expected = json.loads(json.dumps(frontier_document(setup, frontier)))
    assert json.loads(cli_frontier.stdout) == expected
    assert any(c["pareto"] for c in expected["configurations"])


def test_labels_and_costs() -> None:
    assert attention_label("topk") == "topk (oracle)"  # the paper's top-k is an upper bound
    assert attention_label("block-topk") == "block-topk"
    assert format_cost(8.594e15, "eflops") == "8.59e15"
    assert format_cost(252.0, "seconds") == "4.2 min"
    assert format_cost(4.6, "usd") == "$4.60"
    doc = {
        "model": "qwen3-8b",
        "strategy": "best-of-n",
        "trials": 8,
        "gen_len": 16384,
        "attention": "block-topk",
        "kv_budget": 1024.0,
    }
    assert describe(doc) == "qwen3-8b, best-of-8 coverage (oracle), L 16,384, block-topk KV 1,024"


def test_allocation_curves_leave_out_levels_without_a_figure() -> None:
    """Each curve keeps the levels where both its cost and accuracy are known, each at the cost
    it spends there (never at the level: the uniform pick at level 1e16 costs 6e15, and a
    marker at 1e16 would price it at a cost no configuration has)."""
    import numpy as np

    from kinetics_cli.planner.allocation import Allocation
    from kinetics_cli.report.plan import allocation_curves

    nan = float("nan")
    allocation = Allocation(
        unit="eflops",
        per_problem_source="trials",
        problems=4,
        budget=None,
        oracle_cap=None,
        oracle_mean=None,
        uniform=None,
        adaptive=None,
        adaptive_source=None,  # no long-first curve
        levels=np.array([1e14, 1e15, 1e16]),
        oracle_levels=np.array([nan, 0.5, 0.75]),
        oracle_level_cost=np.array([nan, 4e14, 3e15]),
        uniform_levels=np.array([0.25, nan, 0.5]),
        uniform_level_cost=np.array([8e13, nan, 6e15]),
        adaptive_levels=np.array([nan, nan, nan]),
        adaptive_level_cost=np.array([nan, nan, nan]),
    )
    curves = {
        label: (cost.tolist(), acc.tolist()) for label, cost, acc in allocation_curves(allocation)
    }
    assert curves == {
        "oracle per problem (mean cost)": ([4e14, 3e15], [0.5, 0.75]),
        "best uniform, same data": ([8e13, 6e15], [0.25, 0.5]),
    }


def test_a_configuration_no_replica_runs_names_the_tpot_target_under_one() -> None:
    """Under --max-tpot a configuration may be left out for the target, not for memory: the
    text says both; without a target, memory alone."""
    from kinetics_cli.report.plan import unheld

    d = {"hardware": "b200", "batch_rule": "max-tpot"}
    assert unheld(d) == "no replica of b200 holds it or meets the TPOT target"
    assert unheld(d, "") == "no replica of b200 holds or meets the TPOT target"
    assert unheld({**d, "batch_rule": "memory"}) == "no replica of b200 holds it"


def test_energy_line_names_each_accelerators_power_when_they_differ() -> None:
    from types import SimpleNamespace

    from kinetics_cli.report.plan import energy_line

    measured = SimpleNamespace(power_model="measured serving power: 280 W")
    bound = SimpleNamespace(power_model="TDP, an upper bound: 1,000 W")
    assert energy_line([]) is None
    assert (
        energy_line([("a", measured), ("b", measured)]) == "energy: measured serving power: 280 W"
    )  # type: ignore[list-item]
    assert energy_line([("h100-sxm", measured), ("b200", bound)]) == (  # type: ignore[list-item]
        "energy: h100-sxm: measured serving power: 280 W; b200: TDP, an upper bound: 1,000 W"
    )
