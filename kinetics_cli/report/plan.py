"""How `plan` and `frontier` show their answers: JSON documents, rich tables and plots.

The plots are the picture the Kinetics paper's Figure 1 draws: each (model, attention kind)
frontier as a step line (the best accuracy it reaches at each cost), the overall frontier
highlighted underneath, and for a plan the budget and the two laws' picks. rich and matplotlib
are imported inside the functions that draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from kinetics_cli.planner.allocation import Allocation
    from kinetics_cli.planner.frontier import Frontier
    from kinetics_cli.planner.grid import Grid
    from kinetics_cli.planner.plan import Plan
    from kinetics_cli.planner.setup import Setup

# ---- plan ------------------------------------------------------------------------------------

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
    "Oracles, as in the paper: BoN-N coverage counts a problem solved when any of the N answers "
    "is right, as if a perfect verifier chose; topk (oracle) attends the B highest-scoring cached "
    "tokens found at no cost. Both are upper bounds; block-topk charges its page search, as a "
    "deployed kernel does, and majority, verifier and early-stop selections need no oracle "
    "(--selection chooses the rules searched)."
)
SELECTION_WORDS = {
    "coverage": "coverage (oracle)",
    "majority": "majority vote",
    "verifier": "verifier",
    "early-stop": "early-stopped majority",
}


def source_line(setup: Setup) -> str:
    """One line saying where the accuracies come from."""
    if setup.source.kind == "evaluations":
        return f"accuracy: your evaluations: {setup.source.description}"
    return (
        f"accuracy: {setup.source.description}. Not your own evaluations: "
        "pass --evals FILE for those."
    )


def check_plot(path: Path) -> None:
    """Fail early, in one line, on an unusable plot path or when matplotlib is missing."""
    from kinetics_cli.report.plotting import check_path, pyplot

    check_path(path)
    pyplot()


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

    return any(d.get("oracle", d["trials"] > 1) or d["attention"] == ORACLE_ATTENTION for d in docs)


def allocation_document(allocation: Allocation | None) -> dict[str, Any] | None:
    """The allocation comparison as the JSON documents write it (null when not asked for)."""
    if allocation is None:
        return None

    def pair(value: Any, keys: tuple[str, ...]) -> dict[str, Any] | None:
        if value is None:
            return None
        out = dict(zip(keys, value, strict=True))
        return out

    levels = allocation.levels

    def floats(a: Any) -> list[float | None]:
        return [None if v != v else float(v) for v in a]

    return {
        "unit": allocation.unit,
        "per_problem_source": allocation.per_problem_source,
        "problems": allocation.problems,
        "budget": allocation.budget,
        "oracle_per_problem": pair(allocation.oracle_cap, ("accuracy", "mean_cost")),
        "oracle_per_problem_mean_cost": pair(
            allocation.oracle_mean, ("accuracy", "mean_cost", "cap")
        ),
        "uniform": pair(allocation.uniform, ("accuracy", "cost", "configuration")),
        "adaptive": pair(allocation.adaptive, ("accuracy", "expected_cost", "configuration")),
        "adaptive_source": allocation.adaptive_source,
        "oracle": {"oracle_per_problem": True, "uniform": True, "adaptive": False},
        "levels": floats(levels),
        "oracle_levels": floats(allocation.oracle_levels),
        "oracle_level_mean_cost": floats(allocation.oracle_level_cost),
        "uniform_levels": floats(allocation.uniform_levels),
        "adaptive_levels": floats(allocation.adaptive_levels),
        "notes": list(allocation.notes),
    }


def plan_document(
    setup: Setup, answer: Plan, allocation: Allocation | None = None
) -> dict[str, Any]:
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
        "best_deployable": config(answer.best_deployable),
        "cheapest": config(answer.cheapest),
        "configurations": len(grid),
        "selection_rules": list(grid.rules),
        "allocation": allocation_document(allocation),
    }


def describe(doc: dict[str, Any]) -> str:
    """'qwen3-32b, best-of-8, L 16,384, block-topk KV 1024' from a configuration document."""
    if doc["strategy"] == "long-cot":
        strategy = f"long-CoT, L {doc['gen_len']:,}"
    else:
        rule = SELECTION_WORDS.get(doc.get("selection", "coverage"), "coverage (oracle)")
        if doc.get("selection") == "early-stop":
            rule += f" (~{doc['expected_trials']:.1f} trials)"
        strategy = f"best-of-{doc['trials']} {rule}, L {doc['gen_len']:,}"
    attention = attention_label(doc["attention"])
    if doc["kv_budget"] is not None:
        attention += f" KV {doc['kv_budget']:g}"
    return f"{doc['model']}, {strategy}, {attention}"


def print_plan(
    setup: Setup, answer: Plan, doc: dict[str, Any], allocation: Allocation | None = None
) -> None:
    """The human answer to `plan`, on stdout through rich."""
    from kinetics_cli.report.console import console

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
    out.print(source_line(setup), soft_wrap=True)
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
    fully = doc["best_deployable"]
    if fully != best:
        text = (
            "nothing fits this budget"
            if fully is None
            else f"{describe(fully)}: accuracy {fully['accuracy']:.1%}, "
            + _costs_text(fully, priced)
        )
        out.print(
            f"Best deployable (no oracle selection, no oracle attention; rules searched: "
            f"{', '.join(doc['selection_rules'])}): {text}",
            soft_wrap=True,
        )

    shown = [("best", best)] + [(f"alt {n}", alt) for n, alt in enumerate(doc["alternatives"], 1)]
    if deployable is not None and all(deployable != d for _, d in shown):
        shown.append(("no oracle top-k", deployable))
    if fully is not None and all(fully != d for _, d in shown):
        shown.append(("deployable", fully))
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
    if allocation is not None:
        print_allocation(allocation)
    if needs_oracle_note([d for _, d in shown]):
        out.print(ORACLE_NOTE, soft_wrap=True)


def _where(config: dict[str, Any]) -> str:
    kv = "" if config.get("kv_budget") is None else f" KV {config['kv_budget']:g}"
    limit = "" if config.get("gen_len") is None else f", L {config['gen_len']:,}"
    return f"{config['model']}, {attention_label(config['attention'])}{kv}{limit}"


def print_allocation(allocation: Allocation) -> None:
    """The headroom of per-problem allocation at the budget, and the deployable adaptive rule."""
    from kinetics_cli.report.console import console

    out = console()
    unit = allocation.unit
    if allocation.oracle_cap is not None:
        acc, mean = allocation.oracle_cap
        line = (
            f"Allocation per problem (oracle: each problem takes its best coverage among the "
            f"configurations it can afford, the paper's frontier; {allocation.problems} problems "
            f"of {allocation.per_problem_source}): an ideal per-problem allocator would reach "
            f"{acc:.1%} with every problem at most this cost (mean {format_cost(mean, unit)})"
        )
        if allocation.oracle_mean is not None:
            m_acc, m_cost, _ = allocation.oracle_mean
            line += f", {m_acc:.1%} holding its mean to it (mean {format_cost(m_cost, unit)})"
        if allocation.uniform is not None:
            u_acc, u_cost, u_conf = allocation.uniform
            line += (
                f"; the best uniform configuration on the same data reaches {u_acc:.1%} "
                f"({_where(u_conf)}, best-of-{u_conf['trials']} coverage, "
                f"{format_cost(u_cost, unit)})."
            )
        else:
            line += "; no uniform configuration of that data fits the budget."
        out.print(line, soft_wrap=True)
    if allocation.adaptive is not None:
        a_acc, a_cost, conf = allocation.adaptive
        out.print(
            f"Deployable adaptive rule (long-first: one trial capped at {conf['first_cap']:,} "
            f"tokens; if it has not finished, majority vote over {conf['trials']} fresh trials): "
            f"{_where(conf)}: accuracy {a_acc:.1%} at expected cost {format_cost(a_cost, unit)} "
            f"(~{conf['expected_samples']:.1f} trials), from {allocation.adaptive_source}.",
            soft_wrap=True,
        )
    for note in allocation.notes:
        out.print(f"Not available: {note}.", soft_wrap=True)


def compact_table(title: str, columns: list[str], rows: list[list[str]]) -> Any:
    """A rich table with light rules and numeric columns that never wrap."""
    from rich import box

    from kinetics_cli.report.console import make_table

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


SHORT_SELECTION = {
    "coverage": "cov (oracle)",
    "majority": "majority",
    "verifier": "verifier",
    "early-stop": "early-stop",
}


def short_strategy(doc: dict[str, Any]) -> str:
    """'long-CoT' or 'BoN-8 majority': the trials and the selection rule."""
    if doc["strategy"] == "long-cot":
        return "long-CoT"
    rule = SHORT_SELECTION.get(doc.get("selection", "coverage"), "cov (oracle)")
    if doc.get("selection") == "early-stop":
        rule += f" ~{doc['expected_trials']:.1f}"
    return f"BoN-{doc['trials']} {rule}"


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


def _print_comparison(answer: Plan, doc: dict[str, Any]) -> None:
    from kinetics_cli.report.console import console

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


def plot_plan(setup: Setup, answer: Plan, path: Path) -> None:
    """The frontier with the budget and the two laws' picks marked."""

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


# ---- frontier --------------------------------------------------------------------------------

MAX_COLUMNS = 9  # cost columns of the per-model table


def frontier_document(
    setup: Setup, frontier: Frontier, allocation: Allocation | None = None
) -> dict[str, Any]:
    """The `frontier --json` document."""
    from kinetics_cli.planner.plan import configurations as all_configurations

    configurations = all_configurations(setup.grid, setup.pricing)
    for doc, overall, group in zip(
        configurations, frontier.overall.tolist(), frontier.per_group.tolist(), strict=True
    ):
        doc["pareto"], doc["group_pareto"] = overall, group
    return {
        "task": setup.task,
        "law": frontier.law,
        "hardware": setup.profile.name,
        "intensity": setup.pricing.intensity,
        "accuracy_source": setup.source_document,
        "selection_rules": list(setup.grid.rules),
        "configurations": configurations,
        "allocation": allocation_document(allocation),
    }


def cost_columns(cost: Any) -> list[float]:
    """Cost levels (powers of ten) spanning the grid, at most MAX_COLUMNS of them."""
    import math

    positive = cost[cost > 0]
    low = math.ceil(math.log10(float(positive.min())))
    high = math.ceil(math.log10(float(positive.max())))
    step = max(1, math.ceil((high - low + 1) / MAX_COLUMNS))
    levels = list(range(high, low - 1, -step))[::-1]
    return [10.0**e for e in levels]


def print_frontier(
    setup: Setup, frontier: Frontier, full: bool, allocation: Allocation | None = None
) -> None:
    """The human answer to `frontier`, on stdout through rich."""
    import numpy as np

    from kinetics_cli.planner.pareto import best_within, frontier_order
    from kinetics_cli.planner.plan import ORACLE_ATTENTION, configuration
    from kinetics_cli.report.console import console
    from kinetics_cli.units import format_count

    grid = setup.grid
    law, cost, levels = frontier.law, frontier.cost, frontier.levels
    overall, per_group = frontier.overall, frontier.per_group
    groups, keys = frontier.groups, frontier.keys
    unit = "eFLOPs" if law == "kinetics" else "FLOPs"
    out = console()
    out.print(
        f"Frontier for {setup.task} on {setup.profile.name}: cost per problem in {unit} "
        f"({law} law, I = {setup.pricing.intensity:g} FLOPs/byte); {len(grid):,} configurations",
        soft_wrap=True,
    )
    out.print(source_line(setup), soft_wrap=True)

    def rows(indices: Any) -> list[list[str]]:
        return [
            config_cells(configuration(grid, int(i), setup.pricing), float(cost[i]))
            for i in indices
        ]

    columns = ["model", "strategy", ">limit", "attention, KV", ">accuracy", f">{unit}", ">time"]
    order = np.flatnonzero(overall)
    order = order[np.argsort(cost[order], kind="stable")]
    out.print(compact_table("Overall frontier, cheapest first", columns, rows(order)))

    cuts = cost_columns(cost)
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
            "frontier: its Pareto points, on overall: how many are on the overall frontier; "
            f"Best-of-N selection: the best of {', '.join(SELECTION_WORDS[r] for r in grid.rules)}",
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
    if allocation is not None and allocation.levels.size:
        rows_a = []
        if allocation.per_problem_source is not None:
            rows_a.append(
                ["oracle per problem (cap)", *(_pct(v) for v in allocation.oracle_levels)]
            )
            rows_a.append(
                [
                    "  its mean cost",
                    *(format_cost(v, "eflops") for v in allocation.oracle_level_cost),
                ]
            )
            rows_a.append(
                ["best uniform, same data", *(_pct(v) for v in allocation.uniform_levels)]
            )
        if allocation.adaptive_source is not None:
            rows_a.append(
                ["long-first (deployable)", *(_pct(v) for v in allocation.adaptive_levels)]
            )
        out.print(
            compact_table(
                "Allocation within each cost per problem (eFLOPs): the per-problem oracle (the "
                "paper's frontier) against one configuration for all, and the deployable "
                "long-first rule",
                ["", *(f">{format_cost(v, 'eflops')}" for v in allocation.levels)],
                rows_a,
            )
        )
        if allocation.per_problem_source is not None:
            out.print(f"per-problem data: {allocation.per_problem_source}", soft_wrap=True)
        if allocation.adaptive_source is not None:
            out.print(f"long-first rule: {allocation.adaptive_source}", soft_wrap=True)
        for note in allocation.notes:
            out.print(f"Not available: {note}.", soft_wrap=True)
    if np.any(grid.trials > 1) or any(a == ORACLE_ATTENTION for _, a in keys):
        out.print(ORACLE_NOTE, soft_wrap=True)


def _pct(value: float) -> str:
    return "-" if value != value else f"{value:.1%}"


def plot_frontier(setup: Setup, frontier: Frontier, path: Path) -> None:
    """Accuracy against cost, one curve per model and attention kind."""

    frontier_plot(
        setup.grid,
        frontier.cost,
        path,
        title=f"{setup.task}: accuracy against cost per problem ({setup.source.kind}, "
        f"{frontier.law} law, I = {setup.pricing.intensity:g})",
        xlabel="eFLOPs per problem" if frontier.law == "kinetics" else "FLOPs per problem",
    )


# ---- figures ---------------------------------------------------------------------------------

LINESTYLES = {"dense": "-", "topk": "--", "block-topk": ":"}
MARKERS = ("*", "X", "D", "P")
# tab20's ten dark shades, then its ten light ones: distinct colours for up to 20 models.
PALETTE = tuple(range(0, 20, 2)) + tuple(range(1, 20, 2))


def attention_legend(attention: str) -> str:
    """Legend text of an attention kind; oracle top-k says so (it is a bound, not a kernel)."""
    from kinetics_cli.planner.plan import ORACLE_ATTENTION

    return f"{attention} (oracle)" if attention == ORACLE_ATTENTION else attention


def frontier_plot(
    grid: Grid,
    cost: np.ndarray,
    path: Path,
    *,
    title: str = "",
    xlabel: str = "cost per problem (eFLOPs)",
    budget: float | None = None,
    marks: Sequence[tuple[int, str]] = (),
) -> Path:
    """Accuracy (percent) against `cost` on a log axis; `marks` are (configuration, label) pairs
    drawn as large markers (e.g. the two laws' picks), `budget` as a vertical line."""
    import matplotlib
    import numpy as np

    from kinetics_cli.errors import InputError
    from kinetics_cli.planner.pareto import frontier_order
    from kinetics_cli.planner.plan import accuracy_levels
    from kinetics_cli.report.plotting import check_path, new_figure, save_figure
    from kinetics_cli.units import format_count

    check_path(path)
    if len(grid) == 0:
        raise InputError("nothing to plot")
    fig, ax = new_figure(8.5, 5.0)

    groups, keys = grid.group_labels()
    model_params = {s.model: p for s, p in zip(grid.settings, grid.params, strict=True)}
    models = sorted(dict.fromkeys(model for model, _ in keys), key=lambda m: model_params[m])
    cmap = matplotlib.colormaps["tab20"]
    colors = {m: cmap(PALETTE[n % len(PALETTE)]) for n, m in enumerate(models)}
    levels = accuracy_levels(grid.accuracy)
    positive = cost > 0
    for label, (model, attention) in enumerate(keys):
        members = np.flatnonzero((groups == label) & positive)
        if members.size == 0:
            continue
        order = members[frontier_order(cost[members], levels[members])]
        ax.step(
            cost[order],
            100 * grid.accuracy[order],
            where="post",
            color=colors[model],
            ls=LINESTYLES.get(attention, "-"),
            lw=1.2,
            alpha=0.9,
        )
    overall = np.flatnonzero(positive)[frontier_order(cost[positive], levels[positive])]
    ax.step(
        cost[overall],
        100 * grid.accuracy[overall],
        where="post",
        color="black",
        lw=5,
        alpha=0.18,
        zorder=1,
        label="overall frontier",
    )
    ax.scatter(cost[overall], 100 * grid.accuracy[overall], color="black", s=8, zorder=4)
    if budget is not None:
        ax.axvline(budget, color="tab:red", lw=1, ls="-.", label="budget")
    for n, (index, text) in enumerate(marks):
        ax.scatter(
            [cost[index]],
            [100 * grid.accuracy[index]],
            marker=MARKERS[n % len(MARKERS)],
            s=160,
            color="tab:red" if n == 0 else "tab:orange",
            edgecolor="black",
            zorder=5,
            label=text,
        )
    for model in models:
        active = format_count(model_params[model])
        ax.plot([], [], color=colors[model], lw=2, label=f"{model} ({active} active)")
    for attention, style in LINESTYLES.items():
        if any(a == attention for _, a in keys):
            ax.plot([], [], color="black", ls=style, label=attention_legend(attention))
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(title or "Accuracy against cost per problem", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return save_figure(fig, path)
