"""`kinetics frontier`: the accuracy-versus-cost Pareto frontier per model and attention, and overall."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kinetics_cli.cli.params import JSON_OPTION, plot_option
from kinetics_cli.cli.plan import (
    ATTENTION_OPTION,
    EVALS_OPTION,
    HARDWARE_OPTION,
    INTENSITY_OPTION,
    KV_BUDGETS_OPTION,
    LIMITS_OPTION,
    MODELS_OPTION,
    STRATEGY_OPTION,
    TASK_OPTION,
    TRIALS_OPTION,
)

MAX_COLUMNS = 9  # cost columns of the per-model table


def frontier(
    task: str = TASK_OPTION,
    evals: list[Path] = EVALS_OPTION,
    models: list[str] = MODELS_OPTION,
    strategy: str = STRATEGY_OPTION,
    attention: list[str] = ATTENTION_OPTION,
    kv_budgets: list[str] = KV_BUDGETS_OPTION,
    gen_limits: list[str] = LIMITS_OPTION,
    trials: list[str] = TRIALS_OPTION,
    hardware: str = HARDWARE_OPTION,
    intensity: float | None = INTENSITY_OPTION,
    law: str = typer.Option(
        "kinetics", "--law", help="Cost axis: kinetics (eFLOPs) or flops (FLOPs only)."
    ),
    full: bool = typer.Option(
        False, "--full", help="Also list every point of each model and attention frontier."
    ),
    plot: Path | None = plot_option(
        "Draw accuracy against cost, one curve per model and attention (.png or .svg)."
    ),
    json: bool = JSON_OPTION,
) -> None:
    """Accuracy against cost per problem: the Pareto frontier of each model and attention kind
    (over strategies, trials, generation limits and KV budgets) and the overall frontier."""
    from kinetics_cli.cli.plan import build_grid, check_law_and_plot
    from kinetics_cli.planner.pareto import grouped_pareto_mask, pareto_mask
    from kinetics_cli.planner.plan import accuracy_levels
    from kinetics_cli.render import emit_json

    check_law_and_plot(law, plot)
    setup = build_grid(
        task=task,
        evals=evals,
        hardware=hardware,
        models=models,
        strategy=strategy,
        attention=attention,
        kv_budgets=kv_budgets,
        gen_limits=gen_limits,
        trials=trials,
        intensity=intensity,
    )
    grid = setup.grid
    cost = grid.law_eflops(law, setup.pricing.intensity)
    levels = accuracy_levels(grid.accuracy)  # compared at 0.1 percentage point
    overall = pareto_mask(cost, levels)
    groups, keys = grid.group_labels()
    per_group = grouped_pareto_mask(cost, levels, groups)
    if plot is not None:
        from kinetics_cli.planner_plots import frontier_plot

        frontier_plot(
            grid,
            cost,
            plot,
            title=f"{setup.task}: accuracy against cost per problem ({setup.source.kind}, "
            f"{law} law, I = {setup.pricing.intensity:g})",
            xlabel="eFLOPs per problem" if law == "kinetics" else "FLOPs per problem",
        )
    if json:
        emit_json(_document(setup, law, overall, per_group))
        return
    _print(setup, law, cost, levels, overall, per_group, groups, keys, full)


def _document(setup: Any, law: str, overall: Any, per_group: Any) -> dict[str, Any]:
    from kinetics_cli.planner.plan import configuration

    grid = setup.grid
    configurations = []
    for i in range(len(grid)):
        doc = configuration(grid, i, setup.pricing)
        doc["pareto"] = bool(overall[i])
        doc["group_pareto"] = bool(per_group[i])
        configurations.append(doc)
    return {
        "task": setup.task,
        "law": law,
        "hardware": setup.profile.name,
        "intensity": setup.pricing.intensity,
        "accuracy_source": setup.source_document,
        "configurations": configurations,
    }


def _columns(cost: Any) -> list[float]:
    """Cost levels (powers of ten) spanning the grid, at most MAX_COLUMNS of them."""
    import math

    positive = cost[cost > 0]
    low = math.ceil(math.log10(float(positive.min())))
    high = math.ceil(math.log10(float(positive.max())))
    step = max(1, math.ceil((high - low + 1) / MAX_COLUMNS))
    levels = list(range(high, low - 1, -step))[::-1]
    return [10.0**e for e in levels]


def _print(
    setup: Any,
    law: str,
    cost: Any,
    levels: Any,
    overall: Any,
    per_group: Any,
    groups: Any,
    keys: list[tuple[str, str]],
    full: bool,
) -> None:
    import numpy as np

    from kinetics_cli.cli.plan import (
        ORACLE_NOTE,
        attention_label,
        compact_table,
        config_cells,
        format_cost,
    )
    from kinetics_cli.planner.pareto import best_within, frontier_order
    from kinetics_cli.planner.plan import ORACLE_ATTENTION, configuration
    from kinetics_cli.render import console
    from kinetics_cli.units import format_count

    grid = setup.grid
    unit = "eFLOPs" if law == "kinetics" else "FLOPs"
    out = console()
    out.print(
        f"Frontier for {setup.task} on {setup.profile.name}: cost per problem in {unit} "
        f"({law} law, I = {setup.pricing.intensity:g} FLOPs/byte); {len(grid):,} configurations",
        soft_wrap=True,
    )
    out.print(setup.source_line, soft_wrap=True)

    def rows(indices: Any) -> list[list[str]]:
        return [
            config_cells(configuration(grid, int(i), setup.pricing), float(cost[i]))
            for i in indices
        ]

    columns = ["model", "strategy", ">limit", "attention, KV", ">accuracy", f">{unit}", ">time"]
    order = np.flatnonzero(overall)
    order = order[np.argsort(cost[order], kind="stable")]
    out.print(compact_table("Overall frontier, cheapest first", columns, rows(order)))

    cuts = _columns(cost)
    table = []
    rank = {"dense": 0, "topk": 1, "block-topk": 2}
    model_params = dict(zip((s.model for s in grid.settings), grid.params, strict=True))
    ordered = sorted(
        enumerate(keys), key=lambda item: (model_params[item[1][0]], item[1][0], rank[item[1][1]])
    )
    for label, (model, attention) in ordered:
        members = np.flatnonzero(groups == label)
        cells = [
            model,
            format_count(model_params[model]),
            attention_label(attention),
            str(int(per_group[members].sum())),
            str(int(overall[members].sum())),
        ]
        for cut in cuts:
            pick = best_within(cost[members], levels[members], cut)
            cells.append("-" if pick is None else f"{grid.accuracy[members[pick]]:.1%}")
        table.append(cells)
    header = ["model", ">active", "attention", ">frontier", ">on overall"]
    header += [f">{format_cost(v, 'eflops')}" for v in cuts]
    out.print(
        compact_table(
            f"Best accuracy of each model and attention kind within a cost per problem ({unit}); "
            "frontier: its Pareto points, on overall: how many are on the overall frontier",
            header,
            table,
        )
    )
    if full:
        for label, (model, attention) in ordered:
            members = np.flatnonzero(groups == label)
            points = members[frontier_order(cost[members], levels[members])]
            out.print(
                compact_table(
                    f"Frontier of {model} {attention_label(attention)}", columns, rows(points)
                )
            )
    if np.any(grid.trials > 1) or any(a == ORACLE_ATTENTION for _, a in keys):
        out.print(ORACLE_NOTE, soft_wrap=True)
