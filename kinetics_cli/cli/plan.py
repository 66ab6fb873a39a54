"""`kinetics plan --budget X`: the most accurate deployment within a per-problem cost, under both laws."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kinetics_cli.cli.params import (
    JSON_OPTION,
    count,
    hardware_option,
    intensity_option,
    plot_option,
    quantity,
)

# ---- options shared with `kinetics frontier` ---------------------------------------------------

TASK_OPTION = typer.Option(
    "aime24",
    "--task",
    "-t",
    help="Task whose accuracy data to use (bundled priors: aime24, aime25, livecodebench).",
)
EVALS_OPTION = typer.Option(
    [],
    "--evals",
    metavar="FILE",
    help="Your own evaluation results (JSONL or CSV; repeatable). Without it, bundled priors.",
)
MODELS_OPTION = typer.Option(
    [],
    "--models",
    "-m",
    help="Models to consider: names, aliases or globs, comma-separated or repeated "
    "(default: every catalog model with accuracy data for the task).",
)
STRATEGY_OPTION = typer.Option(
    "all",
    "--strategy",
    help="long-cot (one trial, generation limits), best-of-n (N >= 2 trials at each limit) or all.",
)
ATTENTION_OPTION = typer.Option(
    [],
    "--attention",
    help="Attention variants: dense, topk (the paper's oracle top-k, an upper bound), block-topk; "
    "comma-separated or repeated (default: all).",
)
KV_BUDGETS_OPTION = typer.Option(
    [],
    "--kv-budgets",
    metavar="B,...",
    help="KV budgets (tokens attended per step) for sparse attention, e.g. 512,1k,2k "
    "(default: 256,512,1024,2048,4096 with bundled priors; the evaluated ones with --evals).",
)
LIMITS_OPTION = typer.Option(
    [],
    "--gen-limits",
    metavar="L,...",
    help="Generation limits (tokens per trial), e.g. 4k,8k,16k (default: 1K to 32K, powers of "
    "two and their midpoints).",
)
TRIALS_OPTION = typer.Option(
    [],
    "--trials",
    metavar="N,...",
    help="Best-of-N trial counts, e.g. 2,4,8 (default: 2 to 64, powers of two).",
)
HARDWARE_OPTION = hardware_option("Hardware profile: intensity I, seconds, price.")
INTENSITY_OPTION = intensity_option()
LAW_OPTION = typer.Option(
    "kinetics",
    "--law",
    help="Law that picks: kinetics (eFLOPs) or flops (FLOPs only; the budget then counts no "
    "memory traffic).",
)


def plan(
    budget: float | None = typer.Option(
        None,
        "--budget",
        "-b",
        parser=quantity,
        metavar="X",
        help="eFLOPs per problem, e.g. 1e18 or 2.5E.",
    ),
    budget_seconds: float | None = typer.Option(
        None,
        "--budget-seconds",
        parser=quantity,
        metavar="S",
        help="Accelerator-seconds per problem on --hardware (its calibration when present).",
    ),
    budget_usd: float | None = typer.Option(
        None,
        "--budget-usd",
        parser=quantity,
        metavar="USD",
        help="US dollars per 1,000 problems, from the profile's price per GPU-hour.",
    ),
    task: str = TASK_OPTION,
    evals: list[Path] = EVALS_OPTION,
    hardware: str = HARDWARE_OPTION,
    law: str = LAW_OPTION,
    top: int = typer.Option(3, "--top", "-k", parser=count, help="Alternatives to show."),
    models: list[str] = MODELS_OPTION,
    strategy: str = STRATEGY_OPTION,
    attention: list[str] = ATTENTION_OPTION,
    kv_budgets: list[str] = KV_BUDGETS_OPTION,
    gen_limits: list[str] = LIMITS_OPTION,
    trials: list[str] = TRIALS_OPTION,
    intensity: float | None = INTENSITY_OPTION,
    plot: Path | None = plot_option("Draw the frontier, budget and picks (.png or .svg)."),
    json: bool = JSON_OPTION,
) -> None:
    """Best model, strategy, trials, generation limit and attention within a per-problem budget.

    Also shows the next alternatives and what the FLOPs-only law would pick under the same
    budget, with its true (Kinetics) cost and the cost ratio at equal accuracy.
    """
    from kinetics_cli.errors import InputError
    from kinetics_cli.planner.plan import make_plan
    from kinetics_cli.render import emit_json

    given = [
        (name, value)
        for name, value in (
            ("eflops", budget),
            ("seconds", budget_seconds),
            ("usd", budget_usd),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise InputError("give exactly one of --budget X, --budget-seconds S or --budget-usd USD")
    unit, amount = given[0]
    assert amount is not None
    if amount <= 0:
        raise InputError(f"the budget must be positive (got {amount:g})")
    check_law_and_plot(law, plot)
    if unit == "usd":
        from kinetics_cli.cli import context

        profile = context.catalog().hardware.get(hardware).spec
        if profile.price_per_gpu_hour is None:
            raise InputError(
                f"hardware profile {profile.name!r} has no price_per_gpu_hour; "
                "--budget-usd needs one (use --budget or --budget-seconds)"
            )
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
    answer = make_plan(setup.grid, amount, unit=unit, law=law, pricing=setup.pricing, top=top)
    doc = plan_document(setup, answer)
    if plot is not None:
        _plot(setup, answer, plot)
    if json:
        emit_json(doc)
        return
    _print(setup, answer, doc)


# ---- the shared setup -----------------------------------------------------------------------


def check_law_and_plot(law: str, plot: Path | None) -> None:
    """Fail early, before any work, on an unknown --law or an unusable --plot path."""
    from kinetics_cli.engine.kinetics import LAWS
    from kinetics_cli.errors import InputError

    if law not in LAWS:
        raise InputError(f"unknown law {law!r}; choose one of {', '.join(LAWS)}")
    if plot is not None:
        _check_plot(plot)


class Setup:
    """What `plan` and `frontier` share: the source, the hardware, the evaluated grid."""

    def __init__(self, task: str, source: Any, profile: Any, grid: Any, pricing: Any):
        self.task = task
        self.source = source
        self.profile = profile
        self.grid = grid
        self.pricing = pricing

    @property
    def source_document(self) -> dict[str, str]:
        return {"kind": self.source.kind, "description": self.source.description}

    @property
    def source_line(self) -> str:
        """One line saying where the accuracies come from."""
        if self.source.kind == "evaluations":
            return f"accuracy: your evaluations: {self.source.description}"
        return (
            f"accuracy: {self.source.description}. Not your own evaluations: "
            "pass --evals FILE for those."
        )


def _split(values: list[str]) -> list[str]:
    return [p.strip() for text in values for p in text.split(",") if p.strip()]


def _numbers(values: list[str], option: str) -> list[float]:
    from kinetics_cli.units import parse_quantity

    out = [parse_quantity(v, what=option) for v in _split(values)]
    bad = [v for v in out if v <= 0]
    if bad:
        from kinetics_cli.errors import InputError

        raise InputError(f"{option}: values must be positive (got {bad[0]:g})")
    return out


def _load_source(task: str, evals: list[Path], resolve: Any) -> Any:
    """The accuracy source: the user's evaluations when given, else the bundled priors."""
    from kinetics_cli.accuracy import load_accuracy

    return load_accuracy(task, list(evals) or None, resolve)


def _pick_models(patterns: list[str], covered: list[str], catalog: Any, task: str) -> list[str]:
    """Catalog names for `patterns` (names, aliases, globs over the covered models)."""
    import fnmatch

    from kinetics_cli.errors import InputError

    chosen: dict[str, None] = {}
    for pattern in _split(patterns):
        if any(ch in pattern for ch in "*?["):
            hits = [m for m in covered if fnmatch.fnmatch(m.lower(), pattern.lower())]
            if not hits:
                raise InputError(
                    f"--models {pattern!r} matches no model with accuracy data for {task}; "
                    f"covered: {', '.join(covered)}"
                )
        else:
            hits = [catalog.models.get(pattern).spec.name]
        chosen.update(dict.fromkeys(hits))
    return list(chosen)


def build_grid(
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
) -> Setup:
    """Parse the shared options, load the accuracy source and evaluate the grid."""
    from kinetics_cli.cli import context
    from kinetics_cli.errors import InputError
    from kinetics_cli.planner.grid import (
        DEFAULT_KV_BUDGETS,
        DEFAULT_LIMITS,
        DEFAULT_TRIALS,
        STRATEGIES,
        evaluate_grid,
        select_settings,
        trials_for,
    )
    from kinetics_cli.planner.plan import Pricing

    if strategy == "all":
        strategies: tuple[str, ...] = STRATEGIES
    elif strategy in STRATEGIES:
        strategies = (strategy,)
    else:
        raise InputError(f"unknown strategy {strategy!r}; choose long-cot, best-of-n or all")
    limits = _numbers(gen_limits, "--gen-limits") or list(DEFAULT_LIMITS)
    if any(v != int(v) for v in limits):
        raise InputError("--gen-limits: generation limits must be whole numbers of tokens")
    trial_values = _numbers(trials, "--trials") or list(DEFAULT_TRIALS)
    if any(t != int(t) for t in trial_values):
        raise InputError("--trials: trial counts must be whole numbers")
    budgets = _numbers(kv_budgets, "--kv-budgets")
    attentions = _split(attention)

    catalog = context.catalog()
    profile = catalog.hardware.get(hardware).spec
    i = profile.intensity if intensity is None else intensity
    if i < 0:
        raise InputError(f"--intensity must not be negative (got {i:g})")

    def resolve(name: str) -> str:
        return str(catalog.models.get(name).spec.name)

    source = _load_source(task, evals, resolve)

    def has_card(name: str) -> bool:
        return catalog.models.find(name) is not None

    covered = list(dict.fromkeys(s.model for s in source.settings() if has_card(s.model)))
    wanted = _pick_models(models, covered, catalog, source.task) if models else None
    if not budgets and source.kind == "priors":
        budgets = list(DEFAULT_KV_BUDGETS)
    settings = select_settings(
        source,
        models=wanted,
        attentions=attentions or None,
        kv_budgets=budgets or None,
        available_models=has_card,
    )
    cards = {s.model: catalog.models.get(s.model).spec for s in settings}
    with _Progress() as progress:
        grid = evaluate_grid(
            source,
            cards,
            settings,
            profile,
            trials=trials_for(strategies, [int(t) for t in trial_values]),
            limits=limits,
            on_progress=progress.update,
        )
    pricing = Pricing(intensity=i, usd_per_hour=profile.price_per_gpu_hour, hardware=profile.name)
    return Setup(source.task, source, profile, grid, pricing)


class _Progress:
    """A rich progress bar on stderr, shown only once the work has taken more than a second
    and only on a terminal."""

    DELAY_S = 1.0

    def __init__(self) -> None:
        import sys
        import time

        self._clock = time.perf_counter
        self._start = self._clock()
        self._enabled = sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        return self

    def update(self, done: int, total: int) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            if self._clock() - self._start < self.DELAY_S or done >= total:
                return
            from rich.console import Console
            from rich.progress import Progress

            self._bar = Progress(console=Console(stderr=True), transient=True)
            self._bar.start()
            self._task = self._bar.add_task("evaluating settings", total=total)
        self._bar.update(self._task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


# ---- output ---------------------------------------------------------------------------------


def _check_plot(path: Path) -> None:
    from kinetics_cli.plots import check_path, pyplot

    check_path(path)
    pyplot()  # fails early, in one line, when matplotlib is missing


UNIT_WORDS = {
    "eflops": "eFLOPs per problem",
    "seconds": "of accelerator time per problem",
    "usd": "per 1,000 problems",
}
# The same budget as the FLOPs-only law reads it (memory traffic not counted).
FLOPS_LAW_UNIT_WORDS = {
    "eflops": "FLOPs per problem (memory traffic not counted)",
    "seconds": "of compute-only accelerator time per problem",
    "usd": "per 1,000 problems at compute-only time",
}
ORACLE_NOTE = (
    "Oracles, as in the paper: BoN-N accuracy is coverage (solved when any of the N answers is "
    "right, as if a perfect verifier chose); topk (oracle) attends the B highest-scoring cached "
    "tokens found at no cost. Both are upper bounds; block-topk charges its page search, as a "
    "deployed kernel does."
)


def format_cost(value: float, unit: str) -> str:
    from kinetics_cli.units import format_si

    if unit == "eflops":
        return f"{value:.3g}".replace("e+", "e")
    if unit == "seconds":
        return format_si(value, "s")
    return f"${value:,.3g}" if value < 1000 else f"${value:,.0f}"


def attention_label(attention: str) -> str:
    """The attention name as human output shows it: oracle top-k says so."""
    from kinetics_cli.planner.plan import ORACLE_ATTENTION

    return f"{attention} (oracle)" if attention == ORACLE_ATTENTION else attention


def needs_oracle_note(docs: list[dict[str, Any]]) -> bool:
    """Whether any shown configuration relies on an oracle (Best-of-N coverage, top-k)."""
    from kinetics_cli.planner.plan import ORACLE_ATTENTION

    return any(d["trials"] > 1 or d["attention"] == ORACLE_ATTENTION for d in docs)


def plan_document(setup: Setup, answer: Any) -> dict[str, Any]:
    """The `plan --json` document."""
    from kinetics_cli.planner.plan import configuration

    grid, pricing = setup.grid, setup.pricing

    def config(i: int | None, **extra: Any) -> dict[str, Any] | None:
        if i is None:
            return None
        doc = configuration(grid, i, pricing)
        doc.update(
            cost=float(answer.true_cost[i]),
            flops_law_cost=float(answer.flops_cost[i]),
            within_budget=bool(answer.true_cost[i] <= answer.budget),
        )
        doc.update(extra)
        return doc

    return {
        "task": setup.task,
        "budget": answer.budget,
        "budget_unit": answer.unit,
        "law": answer.law,
        "hardware": setup.profile.name,
        "intensity": pricing.intensity,
        "price_per_gpu_hour": pricing.usd_per_hour,
        "calibration": setup.profile.calibration_note,
        "accuracy_source": setup.source_document,
        "best": config(answer.best),
        "alternatives": [config(i) for i in answer.alternatives],
        "flops_law_pick": config(answer.picks["flops"]),
        "kinetics_law_pick": config(answer.picks["kinetics"]),
        "equal_accuracy_kinetics": config(answer.equal_accuracy),
        "cost_ratio": answer.cost_ratio,
        "best_without_oracle": config(answer.best_without_oracle),
        "cheapest": config(answer.cheapest),
        "configurations": len(grid),
    }


def describe(doc: dict[str, Any]) -> str:
    """'qwen3-32b, best-of-8, L 16,384, block-topk KV 1024' from a configuration document."""
    if doc["strategy"] == "long-cot":
        strategy = f"long-CoT, L {doc['gen_len']:,}"
    else:
        strategy = f"best-of-{doc['trials']}, L {doc['gen_len']:,}"
    attention = attention_label(doc["attention"])
    if doc["kv_budget"] is not None:
        attention += f" KV {doc['kv_budget']:g}"
    return f"{doc['model']}, {strategy}, {attention}"


def _print(setup: Setup, answer: Any, doc: dict[str, Any]) -> None:
    from kinetics_cli.render import console

    out = console()
    unit = answer.unit
    p = setup.pricing
    priced = p.usd_per_hour is not None
    words = (FLOPS_LAW_UNIT_WORDS if answer.law == "flops" else UNIT_WORDS)[unit]
    out.print(
        f"Plan for {setup.task}: budget {format_cost(answer.budget, unit)} {words} on "
        f"{setup.profile.name} (I = {p.intensity:g} FLOPs/byte), chosen by the {answer.law} law",
        soft_wrap=True,
    )
    out.print(setup.source_line, soft_wrap=True)
    out.print(f"times: {setup.profile.calibration_note}", soft_wrap=True)
    if doc["best"] is None:
        cheapest = doc["cheapest"]
        cost = answer.law_cost[answer.cheapest]
        out.print(
            f"No configuration fits this budget. The cheapest, {describe(cheapest)}, costs "
            f"{format_cost(float(cost), unit)} ({cheapest['accuracy']:.1%} accuracy).",
            soft_wrap=True,
        )
        return

    best = doc["best"]
    out.print(
        f"Best: {describe(best)}: accuracy {best['accuracy']:.1%}, " + _costs_text(best, priced),
        soft_wrap=True,
    )
    if answer.law == "flops":
        verdict = (
            "within the budget"
            if best["within_budget"]
            else f"{best['cost'] / answer.budget:.2f}x the budget"
        )
        out.print(
            f"The FLOPs-only law counts it at {format_cost(best['flops_law_cost'], unit)}; its "
            f"true (Kinetics) cost, {format_cost(best['cost'], unit)}, is {verdict}.",
            soft_wrap=True,
        )
    if best["accuracy"] < 0.0005:
        out.print("No configuration within this budget solves a problem (best: 0.0%).")
    deployable = doc["best_without_oracle"]
    if deployable != best:
        text = (
            "nothing fits this budget"
            if deployable is None
            else f"{describe(deployable)}: accuracy {deployable['accuracy']:.1%}, "
            + _costs_text(deployable, priced)
        )
        out.print(f"Best without oracle top-k: {text}", soft_wrap=True)

    shown = [("best", best)] + [(f"alt {n}", alt) for n, alt in enumerate(doc["alternatives"], 1)]
    if deployable is not None and all(deployable != d for _, d in shown):
        shown.append(("no oracle", deployable))
    flops_pick = doc["flops_law_pick"]
    if flops_pick is not None and answer.law != "flops":
        shown.append(("FLOPs law", flops_pick))
    kinetics_pick = doc["kinetics_law_pick"]
    if kinetics_pick is not None and answer.law != "kinetics":
        shown.append(("Kinetics law", kinetics_pick))
    equal = doc["equal_accuracy_kinetics"]
    if equal is not None and flops_pick is not None and equal not in (kinetics_pick, flops_pick):
        shown.append(("same accuracy", equal))
    columns = ["", "model", "strategy", ">limit", "attention, KV", ">accuracy", ">eFLOPs", ">time"]
    if priced:
        columns.append(">$/1k")
    out.print(
        compact_table(
            f"Per problem, Kinetics-law costs; alt = best of another model or attention kind "
            f"({doc['configurations']:,} configurations)",
            columns,
            [[label, *config_cells(d, d["eflops"], priced)] for label, d in shown],
        )
    )
    _print_comparison(answer, doc)
    if needs_oracle_note([d for _, d in shown]):
        out.print(ORACLE_NOTE, soft_wrap=True)


def compact_table(title: str, columns: list[str], rows: list[list[str]]) -> Any:
    """A rich table with light rules and numeric columns that never wrap."""
    from rich import box

    from kinetics_cli.render import make_table

    table = make_table(title, columns, rows)
    table.box = box.SIMPLE_HEAD
    for column, name in zip(table.columns, columns, strict=True):
        column.no_wrap = name not in ("model", "attention, KV")
    return table


def _costs_text(doc: dict[str, Any], priced: bool) -> str:
    from kinetics_cli.units import format_si

    text = f"{format_cost(doc['eflops'], 'eflops')} eFLOPs, {format_si(doc['seconds'], 's')}"
    if priced and doc["usd_per_1000"] is not None:
        text += f" per problem, {format_cost(doc['usd_per_1000'], 'usd')} per 1,000 problems"
        return text
    return text + " per problem"


def short_strategy(doc: dict[str, Any]) -> str:
    return "long-CoT" if doc["strategy"] == "long-cot" else f"BoN-{doc['trials']}"


def short_attention(doc: dict[str, Any]) -> str:
    label = attention_label(doc["attention"])
    return label if doc["kv_budget"] is None else f"{label} {doc['kv_budget']:g}"


def config_cells(doc: dict[str, Any], cost: float, priced: bool = False) -> list[str]:
    """One configuration as table cells: model, strategy, limit, attention, accuracy, `cost`
    (eFLOPs or FLOPs), time, and dollars per 1,000 problems when `priced`."""
    from kinetics_cli.units import format_si

    cells = [
        doc["model"],
        short_strategy(doc),
        f"{doc['gen_len']:,}",
        short_attention(doc),
        f"{doc['accuracy']:.1%}",
        format_cost(cost, "eflops"),
        format_si(doc["seconds"], "s"),
    ]
    if priced:
        cells.append(format_cost(doc["usd_per_1000"], "usd"))
    return cells


def _print_comparison(answer: Any, doc: dict[str, Any]) -> None:
    from kinetics_cli.render import console

    out = console()
    unit = answer.unit
    flops_pick = doc["flops_law_pick"]
    if flops_pick is None:
        out.print("The FLOPs-only law finds no configuration within this budget either.")
        return
    true_cost = flops_pick["cost"]
    over = true_cost > answer.budget
    status = (
        f"{true_cost / answer.budget:.2f}x the budget: over budget" if over else "within the budget"
    )
    out.print(
        f"FLOPs-only law (same budget counted without memory traffic) picks {describe(flops_pick)}: "
        f"accuracy {flops_pick['accuracy']:.1%}, true cost {format_cost(true_cost, unit)} "
        f"({status}).",
        soft_wrap=True,
    )
    ratio = answer.cost_ratio
    equal = doc["equal_accuracy_kinetics"]
    if ratio is not None and equal is not None and equal == flops_pick:
        out.print(
            f"At its accuracy ({flops_pick['accuracy']:.1%}) no configuration is cheaper under the "
            "Kinetics law: cost ratio 1.00.",
            soft_wrap=True,
        )
    elif ratio is not None and equal is not None:
        out.print(
            f"At equal accuracy ({flops_pick['accuracy']:.1%}) the Kinetics law's cheapest choice, "
            f"{describe(equal)}, costs {format_cost(equal['cost'], unit)}: the FLOPs-law pick costs "
            f"{ratio:.2f}x as much.",
            soft_wrap=True,
        )


def _plot(setup: Setup, answer: Any, path: Path) -> None:
    from kinetics_cli.planner_plots import frontier_plot

    marks = []
    if answer.best is not None:
        marks.append((answer.best, f"{answer.law}-law pick"))
    other = answer.picks["flops" if answer.law == "kinetics" else "kinetics"]
    if other is not None and other != answer.best:
        marks.append((other, f"{'flops' if answer.law == 'kinetics' else 'kinetics'}-law pick"))
    xlabel = {
        "eflops": "eFLOPs per problem (Kinetics law)",
        "seconds": f"seconds per problem on {setup.profile.name}",
        "usd": "US dollars per 1,000 problems",
    }[answer.unit]
    frontier_plot(
        setup.grid,
        answer.true_cost,
        path,
        title=f"{setup.task}: accuracy against cost, budget {format_cost(answer.budget, answer.unit)} "
        f"({setup.source.kind})",
        xlabel=xlabel,
        budget=answer.budget,
        marks=marks,
    )
