"""`kinetics frontier`: the accuracy-versus-cost Pareto frontier per model and attention, and overall."""

from __future__ import annotations

from pathlib import Path

import typer

from kinetics_cli.cli.params import FORCE_PLOT_OPTION, FORMAT_OPTION, JSON_OPTION, plot_option
from kinetics_cli.cli.plan import (
    ALLOCATION_OPTION,
    ATTENTION_OPTION,
    EVALS_OPTION,
    HARDWARE_OPTION,
    INTENSITY_OPTION,
    KV_BUDGETS_OPTION,
    LIMITS_OPTION,
    MODELS_OPTION,
    SELECTION_OPTION,
    STRATEGY_OPTION,
    TASK_OPTION,
    TRIALS_OPTION,
    VERIFIER_MODEL_OPTION,
    VERIFIER_PRECISION_OPTION,
    VERIFIER_RECALL_OPTION,
)


def frontier(
    task: str = TASK_OPTION,
    evals: list[Path] = EVALS_OPTION,
    models: list[str] = MODELS_OPTION,
    strategy: str = STRATEGY_OPTION,
    attention: list[str] = ATTENTION_OPTION,
    kv_budgets: list[str] = KV_BUDGETS_OPTION,
    gen_limits: list[str] = LIMITS_OPTION,
    trials: list[str] = TRIALS_OPTION,
    selection: list[str] = SELECTION_OPTION,
    verifier_recall: float | None = VERIFIER_RECALL_OPTION,
    verifier_precision: float | None = VERIFIER_PRECISION_OPTION,
    verifier_model: str | None = VERIFIER_MODEL_OPTION,
    allocation: str = ALLOCATION_OPTION,
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
    force: bool = FORCE_PLOT_OPTION,
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """Accuracy against cost per problem: the Pareto frontier of each model and attention kind
    (over strategies, trials, generation limits and KV budgets) and the overall frontier."""
    import numpy as np

    from kinetics_cli.cli.plan import check_law_and_plot, load_setup
    from kinetics_cli.planner.allocation import check_allocation
    from kinetics_cli.planner.frontier import make_frontier
    from kinetics_cli.report.console import emit_json
    from kinetics_cli.report.plan import frontier_document, plot_frontier, print_frontier

    check_law_and_plot(law, plot, force, intensity, needs_intensity=False)
    check_allocation(allocation)
    setup = load_setup(
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
        selection=selection,
        verifier=(verifier_recall, verifier_precision, verifier_model),
    )
    report = None
    if allocation == "oracle-per-problem":
        from kinetics_cli.planner.allocation import allocation_report
        from kinetics_cli.report.plan import cost_columns

        levels = np.array(cost_columns(setup.grid.law_eflops("kinetics", setup.pricing.intensity)))
        report = allocation_report(setup, unit="eflops", levels=levels)
    frontier = make_frontier(setup.grid, law, setup.pricing.intensity)
    if plot is not None:
        plot_frontier(setup, frontier, plot, force=force)
    if json:
        emit_json(frontier_document(setup, frontier, report))
        return
    print_frontier(setup, frontier, full, report)
