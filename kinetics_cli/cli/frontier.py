"""`kinetics frontier`: the accuracy-versus-cost Pareto frontier per model and attention, and overall;
under the paper's law (eFLOPs, the default) or in a deployable unit on one or more accelerators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kinetics_cli.cli.params import (
    FORCE_PLOT_OPTION,
    FORMAT_OPTION,
    JSON_OPTION,
    MAX_BATCH_OPTION,
    choices,
    hardware_option,
    plot_option,
)
from kinetics_cli.cli.plan import (
    ALLOCATION_OPTION,
    ATTENTION_OPTION,
    EFFICIENCY_CHOICES,
    EFFICIENCY_HELP,
    EVALS_OPTION,
    INTENSITY_OPTION,
    KV_BUDGETS_OPTION,
    LIMITS_OPTION,
    MAX_TPOT_OPTION,
    MODELS_OPTION,
    SELECTION_OPTION,
    STRATEGY_OPTION,
    TASK_OPTION,
    TRIALS_OPTION,
    VERIFIER_MODEL_OPTION,
    VERIFIER_PRECISION_OPTION,
    VERIFIER_RECALL_OPTION,
)

# --cost names -> planner units (planner.plan.UNITS)
COST_AXES = {
    "eflops": "eflops",
    "gpu-seconds": "seconds",
    "usd": "usd",
    "latency": "latency",
    "joules": "joules",
}


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
    hardware: str = hardware_option(
        "Hardware profile(s): one, or with a deployable --cost several comma-separated "
        "(b200,h100,h200,mi300x) or all: a frontier on each and one across them.",
        several=True,
    ),
    intensity: float | None = INTENSITY_OPTION,
    law: str = typer.Option(
        "kinetics",
        "--law",
        metavar="LAW",
        autocompletion=choices(source="kinetics_cli.engine.kinetics:LAWS"),
        help="Cost axis: kinetics (eFLOPs) or flops (FLOPs only).",
    ),
    cost: str = typer.Option(
        "eflops",
        "--cost",
        metavar="eflops|gpu-seconds|usd|latency|joules",
        autocompletion=choices(source="kinetics_cli.cli.frontier:COST_AXES"),
        help="Cost axis: the law's eFLOPs (default), or a deployable cost as `plan` prices it on "
        "the smallest replica of --hardware: GPU-seconds, US dollars per 1,000 problems, wall "
        "time (latency) or joules per problem.",
    ),
    efficiency: str | None = typer.Option(
        None,
        "--efficiency",
        metavar="MODE",
        autocompletion=EFFICIENCY_CHOICES,
        help=EFFICIENCY_HELP + " With a deployable --cost (default: default).",
    ),
    max_tpot: float | None = MAX_TPOT_OPTION,
    max_batch: int | None = MAX_BATCH_OPTION,
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
    from kinetics_cli.cli.plan import check_law_and_plot

    if allocation != "uniform":  # the default needs no check, nor the allocation module
        from kinetics_cli.planner.allocation import check_allocation

        check_allocation(allocation)
    if plot is not None and allocation == "oracle-per-problem" and law == "flops":
        from kinetics_cli.errors import InputError

        raise InputError(
            "--allocation oracle-per-problem prices allocations in eFLOPs, which a --law flops "
            "plot does not draw: drop --law flops or --plot"
        )
    check_law_and_plot(law, plot, force, intensity, needs_intensity=False)
    grid_args: dict[str, Any] = dict(
        task=task,
        evals=evals,
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
    unit = cost_unit(cost)
    if unit != "eflops":
        deployable_frontier(
            unit,
            grid_args,
            hardware=hardware,
            law=law,
            allocation=allocation,
            efficiency=efficiency or "default",
            max_tpot=max_tpot,
            max_batch=max_batch,
            full=full,
            plot=plot,
            force=force,
            json=json,
        )
        return
    given = [
        name
        for name, value in (
            ("--efficiency", efficiency),
            ("--max-tpot", max_tpot),
            ("--max-batch", max_batch),
        )
        if value is not None
    ]
    if given:
        from kinetics_cli.errors import InputError

        raise InputError(
            f"{' and '.join(given)} {'price' if len(given) > 1 else 'prices'} deployments; give a deployable --cost (gpu-seconds, "
            "usd, latency or joules) or drop it"
        )
    law_frontier(
        grid_args,
        hardware=hardware,
        law=law,
        allocation=allocation,
        full=full,
        plot=plot,
        force=force,
        json=json,
    )


def cost_unit(cost: str) -> str:
    """The planner unit of a --cost name."""
    from kinetics_cli.errors import InputError

    if cost not in COST_AXES:
        raise InputError(f"unknown cost axis {cost!r}; choose one of {', '.join(COST_AXES)}")
    return COST_AXES[cost]


def law_frontier(
    grid_args: dict[str, Any],
    *,
    hardware: str,
    law: str,
    allocation: str,
    full: bool,
    plot: Path | None,
    force: bool,
    json: bool,
) -> None:
    """The paper's frontier: eFLOPs (or FLOPs) per problem on one hardware profile."""
    import numpy as np

    from kinetics_cli.cli import context
    from kinetics_cli.cli.plan import load_setup
    from kinetics_cli.planner.frontier import make_frontier
    from kinetics_cli.planner.setup import hardware_names
    from kinetics_cli.report.console import emit_json
    from kinetics_cli.report.plan import frontier_document, plot_frontier, print_frontier

    if len(hardware_names(hardware, context.catalog())) > 1:
        from kinetics_cli.errors import InputError

        raise InputError(
            "several accelerators need a deployable --cost (gpu-seconds, usd, latency or "
            "joules): eFLOPs depend on each accelerator's intensity"
        )
    setup = load_setup(hardware=hardware, **grid_args)
    report = None
    if allocation == "oracle-per-problem":
        from kinetics_cli.planner.allocation import allocation_report
        from kinetics_cli.report.plan import cost_columns

        levels = np.array(cost_columns(setup.grid.law_eflops("kinetics", setup.pricing.intensity)))
        report = allocation_report(setup, unit="eflops", levels=levels)
    frontier = make_frontier(setup.grid, law, setup.pricing.intensity)
    if plot is not None:
        plot_frontier(setup, frontier, plot, force=force, allocation=report)
    if json:
        emit_json(frontier_document(setup, frontier, report, records=True))
        return
    print_frontier(setup, frontier, full, report)


def deployable_frontier(
    unit: str,
    grid_args: dict[str, Any],
    *,
    hardware: str,
    law: str,
    allocation: str,
    efficiency: str,
    max_tpot: float | None,
    max_batch: int | None,
    full: bool,
    plot: Path | None,
    force: bool,
    json: bool,
) -> None:
    """The deployable frontier: every configuration priced as `plan` prices it on the smallest
    replica of each accelerator asked for (planner/deploy.py), one frontier each and, with
    several, one across them."""
    from kinetics_cli.cli import context
    from kinetics_cli.cli.params import engine_max_batch
    from kinetics_cli.cli.plan import check_efficiency, check_profile_figures, load_setup
    from kinetics_cli.errors import InputError
    from kinetics_cli.planner.deploy import DeployOptions
    from kinetics_cli.planner.frontier import deployable_frontiers
    from kinetics_cli.planner.setup import hardware_names
    from kinetics_cli.report.console import emit_json
    from kinetics_cli.report.frontier import (
        deployable_frontier_document,
        plot_deployable_frontier,
        print_deployable_frontier,
    )

    if law == "flops":
        raise InputError(
            "--law flops puts the FLOPs-only law on the cost axis, a deployable --cost prices "
            "deployments (Kinetics law): drop one of them"
        )
    if allocation == "oracle-per-problem":
        raise InputError(
            "--allocation oracle-per-problem compares allocations under the Kinetics law; use "
            "--cost eflops"
        )
    check_efficiency(efficiency)
    names = hardware_names(hardware, context.catalog())
    option = {v: k for k, v in COST_AXES.items()}[unit]
    check_profile_figures(
        names,
        unit,
        usd_hint=f"--cost {option} needs one (use --cost gpu-seconds)",
        joules_hint=f"--cost {option} needs one",
    )
    setup = load_setup(
        hardware=",".join(names),
        deploy=DeployOptions(
            efficiency=efficiency, max_tpot=max_tpot, max_batch=engine_max_batch(max_batch)
        ),
        **grid_args,
    )
    frontiers = deployable_frontiers(setup.hardware, unit)
    if plot is not None:
        plot_deployable_frontier(setup, frontiers, plot, force=force)
    if json:
        emit_json(deployable_frontier_document(setup, frontiers, option))
        return
    print_deployable_frontier(setup, frontiers, full)
