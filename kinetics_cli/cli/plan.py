"""`kinetics plan --budget X`: the most accurate deployment within a per-problem cost, under both laws."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from kinetics_cli.cli.params import (
    FORCE_PLOT_OPTION,
    FORMAT_OPTION,
    JSON_OPTION,
    MAX_BATCH_OPTION,
    bounded,
    bundled_tasks,
    catalog_names,
    choices,
    duration,
    engine_max_batch,
    fraction,
    hardware_option,
    intensity_option,
    plot_option,
)
from kinetics_cli.limits import EFLOPS_BUDGET, JOULES_BUDGET, SECONDS_BUDGET, TOP, USD_BUDGET

if TYPE_CHECKING:
    from kinetics_cli.planner.deploy import DeployOptions
    from kinetics_cli.planner.setup import Setup

NO_ANSWER_EXIT = 1  # nothing fits the budget (bad input is 2)

# ---- options shared with `kinetics frontier` ---------------------------------------------------

TASK_OPTION = typer.Option(
    "aime24",
    "--task",
    "-t",
    metavar="TASK",
    autocompletion=bundled_tasks,
    help="Task whose accuracy data to use (bundled: aime24, measured results and priors; aime25 "
    "and livecodebench, priors).",
)
EVALS_OPTION = typer.Option(
    [],
    "--evals",
    metavar="FILE",
    help="Your own evaluation results (JSONL or CSV; repeatable). Without it, the bundled data.",
)
MODELS_OPTION = typer.Option(
    [],
    "--models",
    "-m",
    metavar="NAMES",
    autocompletion=catalog_names("models"),
    help="Models to consider: names, aliases or globs, comma-separated or repeated "
    "(default: every catalog model with accuracy data for the task).",
)
STRATEGY_OPTION = typer.Option(
    "all",
    "--strategy",
    metavar="STRATEGY",
    autocompletion=choices("all", source="kinetics_cli.planner.grid:STRATEGIES"),
    help="long-cot (one trial, generation limits), best-of-n (N >= 2 trials at each limit) or all.",
)
ATTENTION_OPTION = typer.Option(
    [],
    "--attention",
    metavar="KINDS",
    autocompletion=choices(source="kinetics_cli.engine.kinetics:ATTENTIONS"),
    help="Attention variants: dense, topk (the paper's oracle top-k, an upper bound), block-topk; "
    "comma-separated or repeated (default: all).",
)
KV_BUDGETS_OPTION = typer.Option(
    [],
    "--kv-budgets",
    metavar="B,...",
    help="KV budgets (tokens attended per step) for sparse attention, e.g. 512,1024,2048 "
    "(k = 1024 tokens: 2k is 2048; default: 256,512,1024,2048,4096 with the bundled data; "
    "the evaluated ones with --evals).",
)
LIMITS_OPTION = typer.Option(
    [],
    "--gen-limits",
    metavar="L,...",
    help="Generation limits (tokens per trial), e.g. 4096,8192,32768 (k = 1024 tokens: "
    "32k is 32768; default: 1024 to 32768, powers of two and their midpoints).",
)
TRIALS_OPTION = typer.Option(
    [],
    "--trials",
    metavar="N,...",
    help="Best-of-N trial counts, e.g. 2,4,8 (default: 2 to 64, powers of two).",
)
SELECTION_OPTION = typer.Option(
    [],
    "--selection",
    metavar="RULE,...",
    autocompletion=choices(source="kinetics_cli.accuracy.selection:RULES"),
    help="Best-of-N selection rules searched: coverage (an oracle: any right answer counts), "
    "majority, verifier, early-stop; comma-separated or repeated (default: coverage). "
    "majority and early-stop need an 'answer' column in --evals rows.",
)
VERIFIER_RECALL_OPTION = typer.Option(
    None,
    "--verifier-recall",
    metavar="R",
    parser=fraction,
    help="The verifier's stated recall (share of right candidates it accepts), for --selection verifier.",
)
VERIFIER_PRECISION_OPTION = typer.Option(
    None,
    "--verifier-precision",
    metavar="P",
    parser=fraction,
    help="The verifier's stated precision on the candidates it scores, for --selection verifier.",
)
VERIFIER_MODEL_OPTION = typer.Option(
    None,
    "--verifier-model",
    metavar="MODEL",
    autocompletion=catalog_names("models"),
    help="Catalog model whose prefill of every candidate prices the verifier's scoring pass.",
)
ALLOCATION_OPTION = typer.Option(
    "uniform",
    "--allocation",
    metavar="NAME",
    autocompletion=choices(source="kinetics_cli.planner.allocation:ALLOCATIONS"),
    help="uniform (one configuration for every problem) or oracle-per-problem (also report the "
    "paper's per-problem oracle frontier, its headroom over uniform and a deployable adaptive rule).",
)
EFFICIENCY_CHOICES = choices(source="kinetics_cli.cli.plan:EFFICIENCY_MODES")
EFFICIENCY_HELP = (
    "Deployable figures at default (kernel-level measured efficiencies), datasheet "
    "(100% of peaks) or calibrated (the profile's [calibration] table) efficiencies."
)
MAX_TPOT_OPTION = typer.Option(
    None,
    "--max-tpot",
    parser=duration,
    metavar="TIME",
    help="Deploy at the most problems in flight whose time per output token is at most TIME.",
)
HARDWARE_OPTION = hardware_option("Hardware profile: intensity I, seconds, price.")
INTENSITY_OPTION = intensity_option()
LAW_OPTION = typer.Option(
    "kinetics",
    "--law",
    metavar="LAW",
    autocompletion=choices(source="kinetics_cli.engine.kinetics:LAWS"),
    help="Law that picks: kinetics (eFLOPs) or flops (FLOPs only; the budget then counts no "
    "memory traffic).",
)


def plan(
    budget: float | None = typer.Option(
        None,
        "--budget",
        "-b",
        parser=bounded(EFLOPS_BUDGET, kind="flops"),
        metavar="X",
        help="eFLOPs per problem, e.g. 1e18 or 2.5E.",
    ),
    budget_seconds: float | None = typer.Option(
        None,
        "--budget-seconds",
        parser=bounded(SECONDS_BUDGET, kind="seconds"),
        metavar="S",
        help="GPU-seconds per problem on a deployment of --hardware (deployable), e.g. 20, "
        "500ms, 3min.",
    ),
    budget_usd: float | None = typer.Option(
        None,
        "--budget-usd",
        parser=bounded(USD_BUDGET, kind="money"),
        metavar="USD",
        help="US dollars per 1,000 problems on a deployment (GPU-seconds x price per GPU-hour), "
        "e.g. 5 or $5.",
    ),
    budget_latency: float | None = typer.Option(
        None,
        "--budget-latency",
        parser=duration,
        metavar="TIME",
        help="Wall time per problem on a deployment: prefill plus its longest trial (e.g. 90s).",
    ),
    budget_joules: float | None = typer.Option(
        None,
        "--budget-joules",
        parser=bounded(JOULES_BUDGET, kind="energy"),
        metavar="J",
        help="Energy per problem on a deployment (GPU-seconds x board power): joules, or "
        "e.g. 50kJ, 0.01kWh.",
    ),
    task: str = TASK_OPTION,
    evals: list[Path] = EVALS_OPTION,
    hardware: str = hardware_option(
        "Hardware profile(s): one, several comma-separated (b200,h100,h200,mi300x) or all; with "
        "several, a deployable budget picks the accelerator too.",
        several=True,
    ),
    efficiency: str = typer.Option(
        "default",
        "--efficiency",
        metavar="MODE",
        help=EFFICIENCY_HELP,
        autocompletion=EFFICIENCY_CHOICES,
    ),
    max_tpot: float | None = MAX_TPOT_OPTION,
    max_batch: int | None = MAX_BATCH_OPTION,
    law: str = LAW_OPTION,
    top: int = typer.Option(
        3,
        "--top",
        "-k",
        metavar="K",
        parser=bounded(TOP, whole=True),
        help="Alternatives to show (0: the picks alone).",
    ),
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
    intensity: float | None = INTENSITY_OPTION,
    plot: Path | None = plot_option("Draw the frontier, budget and picks (.png or .svg)."),
    force: bool = FORCE_PLOT_OPTION,
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """Best model, strategy, trials, generation limit and attention within a per-problem budget.

    Also shows the next alternatives and what the FLOPs-only law would pick under the same
    budget, with its true (Kinetics) cost and the cost ratio at equal accuracy.

    Exit codes: 0 an answer; 1 no configuration fits the budget (the output, --json included,
    still names the cheapest); 2 bad input.
    """
    from kinetics_cli.cli import context
    from kinetics_cli.errors import InputError
    from kinetics_cli.planner.deploy import DeployOptions, compare_hardware
    from kinetics_cli.planner.plan import make_plan
    from kinetics_cli.planner.setup import hardware_names
    from kinetics_cli.report.console import emit_json
    from kinetics_cli.report.plan import (
        comparison_document,
        plan_document,
        plot_plan,
        print_comparison,
        print_plan,
    )

    given = [
        (name, value)
        for name, value in (
            ("eflops", budget),
            ("seconds", budget_seconds),
            ("usd", budget_usd),
            ("latency", budget_latency),
            ("joules", budget_joules),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise InputError(
            "give exactly one of --budget X, --budget-seconds S, --budget-usd USD, "
            "--budget-latency TIME or --budget-joules J"
        )
    unit, amount = given[0]
    assert amount is not None  # each budget parser refuses zero and negatives
    check_law_and_plot(law, plot, force)
    if allocation != "uniform":  # the default needs no check, nor the allocation module
        from kinetics_cli.planner.allocation import check_allocation

        check_allocation(allocation)
    if allocation == "oracle-per-problem" and unit != "eflops":
        raise InputError(
            "--allocation oracle-per-problem compares allocations under the Kinetics law; give "
            "the budget in eFLOPs (--budget X)"
        )
    check_efficiency(efficiency)
    names = hardware_names(hardware, context.catalog())
    several = len(names) > 1
    if several and unit == "eflops":
        raise InputError(
            "several accelerators compare under a deployable budget (--budget-usd, "
            "--budget-seconds, --budget-latency or --budget-joules): eFLOPs depend on each "
            "accelerator's intensity"
        )
    if several and plot is not None:
        raise InputError("--plot draws one accelerator's frontier; give one --hardware")
    check_profile_figures(
        names,
        unit,
        usd_hint="--budget-usd needs one (use --budget or --budget-seconds)",
        joules_hint="--budget-joules needs one",
    )
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
        deploy=DeployOptions(
            efficiency=efficiency, max_tpot=max_tpot, max_batch=engine_max_batch(max_batch)
        ),
        selection=selection,
        verifier=(verifier_recall, verifier_precision, verifier_model),
    )
    if several:
        comparison = compare_hardware(
            [(h.profile.name, h.grid, h.pricing) for h in setup.hardware],
            amount,
            unit=unit,
            law=law,
            top=top,
        )
        document = comparison_document(setup, comparison)
        if json:
            emit_json(document)
        else:
            print_comparison(setup, comparison, document)
        if document["best"] is None:
            raise typer.Exit(NO_ANSWER_EXIT)
        return
    answer = make_plan(setup.grid, amount, unit=unit, law=law, pricing=setup.pricing, top=top)
    report = None
    if allocation == "oracle-per-problem":
        from kinetics_cli.planner.allocation import allocation_report

        report = allocation_report(setup, budget=amount, unit=unit)
    doc = plan_document(setup, answer, report)
    if plot is not None:
        plot_plan(setup, answer, plot, force=force)
    if json:
        emit_json(doc)
    else:
        print_plan(setup, answer, doc, report)
    if answer.best is None:
        raise typer.Exit(NO_ANSWER_EXIT)


# ---- shared with `kinetics frontier` --------------------------------------------------------


EFFICIENCY_MODES = ("default", "datasheet", "calibrated")


def check_efficiency(efficiency: str) -> None:
    """Refuse an --efficiency mode the serving model does not have."""
    from kinetics_cli.errors import InputError

    if efficiency not in EFFICIENCY_MODES:
        raise InputError(
            f"unknown efficiency mode {efficiency!r}; choose default, datasheet or calibrated"
        )


def check_profile_figures(names: list[str], unit: str, *, usd_hint: str, joules_hint: str) -> None:
    """With one accelerator, refuse a dollar cost on a profile without a price, and an energy
    cost on one without board power, before any work (with several, those are skipped and
    named). The hints end the message: which option needs the figure, what to use instead."""
    from kinetics_cli.cli import context
    from kinetics_cli.errors import InputError

    if len(names) != 1:
        return
    profile = context.catalog().hardware.get(names[0]).spec
    if unit == "usd" and profile.price_per_gpu_hour is None:
        raise InputError(f"hardware profile {profile.name!r} has no price_per_gpu_hour; {usd_hint}")
    if unit == "joules" and profile.tdp_watts is None:
        raise InputError(f"hardware profile {profile.name!r} has no tdp_watts; {joules_hint}")


def check_law_intensity(law: str | None, intensity: float | None, *, needs_intensity: bool) -> None:
    """Refuse --intensity with --law flops where nothing else uses it: the FLOPs-only law charges
    no memory traffic, so the value would be silently ignored."""
    from kinetics_cli.errors import InputError

    if law == "flops" and intensity is not None and not needs_intensity:
        raise InputError(
            "--intensity has no effect with --law flops (the FLOPs-only law charges no memory "
            "traffic); drop one of them"
        )


def check_law_and_plot(
    law: str,
    plot: Path | None,
    force: bool = False,
    intensity: float | None = None,
    *,
    needs_intensity: bool = True,
) -> None:
    """Fail early, before any work, on an unknown --law, an unusable --plot path (an existing file
    without --force included), or an --intensity the FLOPs-only law would ignore
    (`needs_intensity` False: nothing else uses it)."""
    from kinetics_cli.engine.kinetics import LAWS
    from kinetics_cli.errors import InputError
    from kinetics_cli.report.plotting import check_plot

    if law not in LAWS:
        raise InputError(f"unknown law {law!r}; choose one of {', '.join(LAWS)}")
    check_law_intensity(law, intensity, needs_intensity=needs_intensity)
    if plot is not None:
        check_plot(plot, force=force)


def load_setup(
    *,
    task: str,
    evals: list[Path],
    hardware: str,
    models: list[str],
    strategy: str,
    attention: list[str],
    kv_budgets: list[str],
    gen_limits: list[str],
    trials: list[str],
    intensity: float | None,
    selection: list[str] | None = None,
    verifier: tuple[float | None, float | None, str | None] = (None, None, None),
    deploy: DeployOptions | None = None,
) -> Setup:
    """Check the grid options, then load the catalog and evaluate the grid (a planner Setup),
    with a progress bar on a terminal; with `deploy`, price every configuration on a
    deployment of each accelerator named (a second bar across accelerators)."""
    from kinetics_cli.cli import context
    from kinetics_cli.planner.setup import build_setup, grid_options
    from kinetics_cli.report.console import warn
    from kinetics_cli.report.progress import ProgressBar

    options = grid_options(
        strategy=strategy,
        attention=attention,
        kv_budgets=kv_budgets,
        gen_limits=gen_limits,
        trials=trials,
        selection=selection or (),
        verifier_recall=verifier[0],
        verifier_precision=verifier[1],
        verifier_model=verifier[2],
    )
    catalog = context.catalog()
    with ProgressBar() as progress, ProgressBar("pricing deployments") as accelerators:
        setup = build_setup(
            task=task,
            catalog=catalog,
            hardware=hardware,
            evals=evals,
            models=models,
            options=options,
            intensity=intensity,
            on_progress=progress.update,
            deploy=deploy,
            on_deploy_progress=accelerators.update,
        )
    for line in setup.warnings:
        warn(line)
    return setup
