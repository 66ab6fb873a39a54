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


def format_cost(value: float, unit: str) -> str:
    """A per-problem cost in its budget unit: eFLOPs ('8.59e15'), a time ('3.82 s') or dollars
    per 1,000 problems ('$3.98'), as report.format writes each."""
    from kinetics_cli.report.format import duration, flops, money

    if unit == "eflops":
        return flops(value)
    if unit == "seconds":
        return duration(value)
    return money(value)


def attention_label(attention: str) -> str:
    """The attention name as tables, lines and plot legends show it: oracle top-k says so (it is
    a bound, not a kernel)."""
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
        strategy = f"long-CoT, L {tokens(doc['gen_len'])}"
    else:
        rule = SELECTION_WORDS.get(doc.get("selection", "coverage"), "coverage (oracle)")
        if doc.get("selection") == "early-stop":
            rule += f" (~{doc['expected_trials']:.1f} trials)"
        strategy = f"best-of-{doc['trials']} {rule}, L {tokens(doc['gen_len'])}"
    attention = attention_label(doc["attention"])
    if doc["kv_budget"] is not None:
        attention += f" KV {tokens(doc['kv_budget'])}"
    return f"{doc['model']}, {strategy}, {attention}"


PLAN_MERGE = "configuration"  # the header of the merged identifying columns on a narrow console


def config_merge() -> Any:
    """How a configuration table narrows: model, strategy, limit and attention become one
    wrapped column ('qwen3-8b BoN-32 L 32,768 topk (oracle) 512'); no identifying cell is lost."""
    from kinetics_cli.report.console import Merge

    return Merge(
        PLAN_MERGE, ("model", "strategy", "limit", "attention, KV"), prefixes={"limit": "L "}
    )


def print_plan(
    setup: Setup, answer: Plan, doc: dict[str, Any], allocation: Allocation | None = None
) -> None:
    """The human answer to `plan`, on stdout."""
    from kinetics_cli.report.console import say, show_table
    from kinetics_cli.report.format import intensity, percent, plural

    unit = answer.unit
    p = setup.pricing
    priced = p.usd_per_hour is not None
    words = (FLOPS_LAW_UNIT_WORDS if answer.law == "flops" else UNIT_WORDS)[unit]
    say(
        f"Plan for {setup.task}: budget {format_cost(answer.budget, unit)} {words} on "
        f"{setup.profile.name} (I = {intensity(p.intensity)} FLOPs/byte), chosen by the "
        f"{answer.law} law"
    )
    say(source_line(setup))
    say(f"times: {setup.profile.calibration_note}")
    if doc["best"] is None:
        cheapest = doc["cheapest"]
        cost = answer.law_cost[answer.cheapest]
        say(
            f"No configuration fits this budget (exit code 1). The cheapest, "
            f"{describe(cheapest)}, costs {format_cost(float(cost), unit)} "
            f"({percent(cheapest['accuracy'])} accuracy)."
        )
        return

    best = doc["best"]
    say(
        f"Best: {describe(best)}: accuracy {percent(best['accuracy'])}, "
        + _costs_text(best, priced)
    )
    if answer.law == "flops":
        verdict = (
            "within the budget"
            if best["within_budget"]
            else f"{best['cost'] / answer.budget:.2f}x the budget"
        )
        say(
            f"The FLOPs-only law counts it at {format_cost(best['flops_law_cost'], unit)}; its "
            f"true (Kinetics) cost, {format_cost(best['cost'], unit)}, is {verdict}."
        )
    if best["accuracy"] < 0.0005:
        say("No configuration within this budget solves a problem (best: 0.0%).")
    deployable = doc["best_without_oracle"]
    if deployable != best:
        text = (
            "nothing fits this budget"
            if deployable is None
            else f"{describe(deployable)}: accuracy {percent(deployable['accuracy'])}, "
            + _costs_text(deployable, priced)
        )
        say(f"Best without oracle top-k: {text}")
    fully = doc["best_deployable"]
    if fully != best:
        text = (
            "nothing fits this budget"
            if fully is None
            else f"{describe(fully)}: accuracy {percent(fully['accuracy'])}, "
            + _costs_text(fully, priced)
        )
        say(
            f"Best deployable (no oracle selection, no oracle attention; rules searched: "
            f"{', '.join(doc['selection_rules'])}): {text}"
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
    show_table(
        "Per problem, Kinetics-law costs; alt = best of another model or attention kind "
        f"({plural(doc['configurations'], 'configuration')})",
        columns,
        [[label, *config_cells(d, d["eflops"], priced)] for label, d in shown],
        wrap=("", "attention, KV"),
        merge=(config_merge(),),
    )
    _print_comparison(answer, doc)
    if allocation is not None:
        print_allocation(allocation)
    if needs_oracle_note([d for _, d in shown]):
        say(ORACLE_NOTE)


def _where(config: dict[str, Any]) -> str:
    kv = "" if config.get("kv_budget") is None else f" KV {tokens(config['kv_budget'])}"
    limit = "" if config.get("gen_len") is None else f", L {tokens(config['gen_len'])}"
    return f"{config['model']}, {attention_label(config['attention'])}{kv}{limit}"


def print_allocation(allocation: Allocation) -> None:
    """The headroom of per-problem allocation at the budget, and the deployable adaptive rule."""
    from kinetics_cli.report.console import say
    from kinetics_cli.report.format import percent

    unit = allocation.unit
    if allocation.oracle_cap is not None:
        acc, mean = allocation.oracle_cap
        line = (
            f"Allocation per problem (oracle: each problem takes its best coverage among the "
            f"configurations it can afford, the paper's frontier; {allocation.problems} problems "
            f"of {allocation.per_problem_source}): an ideal per-problem allocator would reach "
            f"{percent(acc)} with every problem at most this cost (mean {format_cost(mean, unit)})"
        )
        if allocation.oracle_mean is not None:
            m_acc, m_cost, _ = allocation.oracle_mean
            line += f", {percent(m_acc)} holding its mean to it (mean {format_cost(m_cost, unit)})"
        if allocation.uniform is not None:
            u_acc, u_cost, u_conf = allocation.uniform
            line += (
                f"; the best uniform configuration on the same data reaches {percent(u_acc)} "
                f"({_where(u_conf)}, best-of-{u_conf['trials']} coverage, "
                f"{format_cost(u_cost, unit)})."
            )
        else:
            line += "; no uniform configuration of that data fits the budget."
        say(line)
    if allocation.adaptive is not None:
        a_acc, a_cost, conf = allocation.adaptive
        say(
            f"Deployable adaptive rule (long-first: one trial capped at "
            f"{tokens(conf['first_cap'])} tokens; if it has not finished, majority vote over "
            f"{conf['trials']} fresh trials): {_where(conf)}: accuracy {percent(a_acc)} at "
            f"expected cost {format_cost(a_cost, unit)} (~{conf['expected_samples']:.1f} trials), "
            f"from {allocation.adaptive_source}."
        )
    for note in allocation.notes:
        say(f"Not available: {note}.")


def _costs_text(doc: dict[str, Any], priced: bool) -> str:
    text = (
        f"{format_cost(doc['eflops'], 'eflops')} eFLOPs, {format_cost(doc['seconds'], 'seconds')}"
    )
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
    return label if doc["kv_budget"] is None else f"{label} {tokens(doc['kv_budget'])}"


def tokens(value: float) -> str:
    from kinetics_cli.report.format import tokens as format_tokens

    return format_tokens(value)


def config_cells(doc: dict[str, Any], cost: float, priced: bool = False) -> list[str]:
    """One configuration as table cells: model, strategy, limit, attention, accuracy, `cost`
    (eFLOPs or FLOPs), time, and dollars per 1,000 problems when `priced`."""
    from kinetics_cli.report.format import percent

    cells = [
        doc["model"],
        short_strategy(doc),
        tokens(doc["gen_len"]),
        short_attention(doc),
        percent(doc["accuracy"]),
        format_cost(cost, "eflops"),
        format_cost(doc["seconds"], "seconds"),
    ]
    if priced:
        cells.append(format_cost(doc["usd_per_1000"], "usd"))
    return cells


def _print_comparison(answer: Plan, doc: dict[str, Any]) -> None:
    from kinetics_cli.report.console import say
    from kinetics_cli.report.format import percent

    unit = answer.unit
    flops_pick = doc["flops_law_pick"]
    if flops_pick is None:
        say("The FLOPs-only law finds no configuration within this budget either.")
        return
    true_cost = flops_pick["cost"]
    over = true_cost > answer.budget
    status = (
        f"{true_cost / answer.budget:.2f}x the budget: over budget" if over else "within the budget"
    )
    say(
        f"FLOPs-only law (same budget counted without memory traffic) picks {describe(flops_pick)}: "
        f"accuracy {percent(flops_pick['accuracy'])}, true cost {format_cost(true_cost, unit)} "
        f"({status})."
    )
    ratio = answer.cost_ratio
    equal = doc["equal_accuracy_kinetics"]
    if ratio is not None and equal is not None and equal == flops_pick:
        say(
            f"At its accuracy ({percent(flops_pick['accuracy'])}) no configuration is cheaper "
            "under the Kinetics law: cost ratio 1.00."
        )
    elif ratio is not None and equal is not None:
        say(
            f"At equal accuracy ({percent(flops_pick['accuracy'])}) the Kinetics law's cheapest "
            f"choice, {describe(equal)}, costs {format_cost(equal['cost'], unit)}: the FLOPs-law "
            f"pick costs {ratio:.2f}x as much."
        )


def plot_plan(setup: Setup, answer: Plan, path: Path, *, force: bool = False) -> None:
    """The frontier with the budget and the two laws' picks marked, on the axis of the law that
    chose: with --law flops the costs (and the budget) are FLOPs-law costs."""
    marks = []
    if answer.best is not None:
        marks.append((answer.best, f"{answer.law}-law pick"))
    other = answer.picks["flops" if answer.law == "kinetics" else "kinetics"]
    if other is not None and other != answer.best:
        marks.append((other, f"{'flops' if answer.law == 'kinetics' else 'kinetics'}-law pick"))
    if answer.law == "flops":
        xlabel = {
            "eflops": "FLOPs per problem (FLOPs-only law: memory traffic not counted)",
            "seconds": f"compute-only seconds per problem on {setup.profile.name}",
            "usd": "US dollars per 1,000 problems at compute-only time",
        }[answer.unit]
    else:
        xlabel = {
            "eflops": "eFLOPs per problem (Kinetics law)",
            "seconds": f"seconds per problem on {setup.profile.name}",
            "usd": "US dollars per 1,000 problems",
        }[answer.unit]
    frontier_plot(
        setup.grid,
        answer.law_cost,
        path,
        title=f"{setup.task}: accuracy against cost, budget {format_cost(answer.budget, answer.unit)} "
        f"({setup.source.kind}, {answer.law} law)",
        xlabel=xlabel,
        budget=answer.budget,
        marks=marks,
        force=force,
    )


# ---- frontier --------------------------------------------------------------------------------

MAX_COLUMNS = 9  # cost columns of the per-model table


def frontier_document(
    setup: Setup, frontier: Frontier, allocation: Allocation | None = None
) -> dict[str, Any]:
    """The `frontier --json` document."""
    from kinetics_cli.planner.plan import configuration

    grid = setup.grid
    configurations = []
    for i in range(len(grid)):
        doc = configuration(grid, i, setup.pricing)
        doc["pareto"] = bool(frontier.overall[i])
        doc["group_pareto"] = bool(frontier.per_group[i])
        configurations.append(doc)
    return {
        "task": setup.task,
        "law": frontier.law,
        "hardware": setup.profile.name,
        "intensity": setup.pricing.intensity,
        "accuracy_source": setup.source_document,
        "selection_rules": list(grid.rules),
        "configurations": configurations,
        "allocation": allocation_document(allocation),
    }


def cost_columns(cost: Any, most: int = MAX_COLUMNS) -> list[float]:
    """Cost levels (powers of ten) spanning the grid, at most `most` of them."""
    import math

    positive = cost[cost > 0]
    low = math.ceil(math.log10(float(positive.min())))
    high = math.ceil(math.log10(float(positive.max())))
    step = max(1, math.ceil((high - low + 1) / max(1, most)))
    levels = list(range(high, low - 1, -step))[::-1]
    return [10.0**e for e in levels]


def print_frontier(
    setup: Setup, frontier: Frontier, full: bool, allocation: Allocation | None = None
) -> None:
    """The human answer to `frontier`, on stdout."""
    import numpy as np

    from kinetics_cli.planner.pareto import best_within, frontier_order
    from kinetics_cli.planner.plan import ORACLE_ATTENTION, configuration
    from kinetics_cli.report.console import say, show_table, table_fits
    from kinetics_cli.report.format import format_count, intensity, percent, plural

    grid = setup.grid
    law, cost, levels = frontier.law, frontier.cost, frontier.levels
    overall, per_group = frontier.overall, frontier.per_group
    groups, keys = frontier.groups, frontier.keys
    unit = "eFLOPs" if law == "kinetics" else "FLOPs"
    say(
        f"Frontier for {setup.task} on {setup.profile.name}: cost per problem in {unit} "
        f"({law} law, I = {intensity(setup.pricing.intensity)} FLOPs/byte); "
        f"{plural(len(grid), 'configuration')}"
    )
    say(source_line(setup))

    def rows(indices: Any) -> list[list[str]]:
        return [
            config_cells(configuration(grid, int(i), setup.pricing), float(cost[i]))
            for i in indices
        ]

    columns = ["model", "strategy", ">limit", "attention, KV", ">accuracy", f">{unit}", ">time"]
    order = np.flatnonzero(overall)
    order = order[np.argsort(cost[order], kind="stable")]
    show_table(
        "Overall frontier, cheapest first",
        columns,
        rows(order),
        wrap=("attention, KV",),
        merge=(config_merge(),),
    )

    rank = {"dense": 0, "topk": 1, "block-topk": 2}
    model_params = dict(zip((s.model for s in grid.settings), grid.params, strict=True))
    ordered = sorted(
        enumerate(keys), key=lambda item: (model_params[item[1][0]], item[1][0], rank[item[1][1]])
    )
    header = ["model", ">active", "attention", ">frontier", ">on overall"]
    wrap = ("attention", "frontier", "on overall")
    optional = ("active", ("frontier", "on overall"))
    # As many cost columns as the console holds (every one of them in CSV and Markdown).
    for most in range(MAX_COLUMNS, 0, -1):
        cuts = cost_columns(cost, most)
        table = []
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
                cells.append("-" if pick is None else percent(grid.accuracy[members[pick]]))
            table.append(cells)
        cut_header = header + [f">{format_cost(v, 'eflops')}" for v in cuts]
        if table_fits(cut_header, table, wrap=wrap, optional=optional) or most == 1:
            break
    show_table(
        f"Best accuracy of each model and attention kind within a cost per problem ({unit}); "
        "frontier: its Pareto points, on overall: how many are on the overall frontier; "
        f"Best-of-N selection: the best of {', '.join(SELECTION_WORDS[r] for r in grid.rules)}",
        cut_header,
        table,
        wrap=wrap,
        optional=optional,
    )
    if full:
        for label, (model, attention) in ordered:
            members = np.flatnonzero(groups == label)
            points = members[frontier_order(cost[members], levels[members])]
            show_table(
                f"Frontier of {model} {attention_label(attention)}",
                columns,
                rows(points),
                wrap=("attention, KV",),
                merge=(config_merge(),),
            )
    if allocation is not None and allocation.levels.size:
        _print_allocation_levels(allocation)
    if np.any(grid.trials > 1) or any(a == ORACLE_ATTENTION for _, a in keys):
        say(ORACLE_NOTE)


def _print_allocation_levels(allocation: Allocation) -> None:
    """`frontier --allocation`: per-problem oracle, best uniform and long-first accuracy within
    each cost level."""
    from kinetics_cli.report.console import say, show_table

    rows_a = []
    if allocation.per_problem_source is not None:
        rows_a.append(["oracle per problem (cap)", *(_pct(v) for v in allocation.oracle_levels)])
        rows_a.append(
            ["  its mean cost", *(format_cost(v, "eflops") for v in allocation.oracle_level_cost)]
        )
        rows_a.append(["best uniform, same data", *(_pct(v) for v in allocation.uniform_levels)])
    if allocation.adaptive_source is not None:
        rows_a.append(["long-first (deployable)", *(_pct(v) for v in allocation.adaptive_levels)])
    show_table(
        "Allocation within each cost per problem (eFLOPs): the per-problem oracle (the paper's "
        "frontier) against one configuration for all, and the deployable long-first rule",
        ["", *(f">{format_cost(v, 'eflops')}" for v in allocation.levels)],
        rows_a,
        wrap=("",),
    )
    if allocation.per_problem_source is not None:
        say(f"per-problem data: {allocation.per_problem_source}")
    if allocation.adaptive_source is not None:
        say(f"long-first rule: {allocation.adaptive_source}")
    for note in allocation.notes:
        say(f"Not available: {note}.")


def _pct(value: float) -> str:
    from kinetics_cli.report.format import percent

    return "-" if value != value else percent(value)


def plot_frontier(setup: Setup, frontier: Frontier, path: Path, *, force: bool = False) -> None:
    """Accuracy against cost, one curve per model and attention kind."""
    from kinetics_cli.report.format import intensity

    frontier_plot(
        setup.grid,
        frontier.cost,
        path,
        title=f"{setup.task}: accuracy against cost per problem ({setup.source.kind}, "
        f"{frontier.law} law, I = {intensity(setup.pricing.intensity)})",
        xlabel="eFLOPs per problem" if frontier.law == "kinetics" else "FLOPs per problem",
        force=force,
    )


# ---- figures ---------------------------------------------------------------------------------

MARKERS = (  # the picks: (marker, face colour), never a model's colour
    ("*", "white"),
    ("D", "black"),
)
# Models drawn in colour: those on the overall frontier or picked, at most this many (the rest
# thin and grey, as "other models"); more hues than this cannot be told apart at a glance.
MAX_COLORED_MODELS = 8


def frontier_plot(
    grid: Grid,
    cost: np.ndarray,
    path: Path,
    *,
    title: str = "",
    xlabel: str = "cost per problem (eFLOPs)",
    budget: float | None = None,
    marks: Sequence[tuple[int, str]] = (),
    force: bool = False,
) -> Path:
    """Accuracy (percent) against `cost` on a log axis.

    One step curve per (model, attention kind): those with a point on the overall frontier or a
    pick in their model's fixed colour (report.plotting.MODEL_COLORS), attention kind by line
    style, every other curve thin and grey; the overall frontier underneath in black. `marks` are
    (configuration, label) pairs drawn as large black-and-white markers, `budget` as a vertical
    line.
    """
    import numpy as np

    from kinetics_cli.errors import InputError
    from kinetics_cli.planner.pareto import frontier_order
    from kinetics_cli.planner.plan import accuracy_levels
    from kinetics_cli.report.format import format_count
    from kinetics_cli.report.plotting import (
        LINESTYLES,
        check_path,
        model_colors,
        new_figure,
        save_figure,
    )

    check_path(path, force=force)
    if len(grid) == 0:
        raise InputError("nothing to plot")
    fig, ax = new_figure(8.5, 5.0)

    groups, keys = grid.group_labels()
    model_params = {s.model: p for s, p in zip(grid.settings, grid.params, strict=True)}
    levels = accuracy_levels(grid.accuracy)
    positive = cost > 0
    overall = np.flatnonzero(positive)[frontier_order(cost[positive], levels[positive])]
    # In colour: the (model, attention kind) curves with a point on the overall frontier or a
    # pick, for at most MAX_COLORED_MODELS models; every other curve thin and grey.
    featured = [int(groups[i]) for i in [*(m for m, _ in marks), *overall[::-1]]]
    colored = list(dict.fromkeys(keys[g][0] for g in featured))[:MAX_COLORED_MODELS]
    colors = model_colors(colored)
    highlighted = {g for g in featured if keys[g][0] in colors}
    others = False
    for label, (model, attention) in enumerate(keys):
        members = np.flatnonzero((groups == label) & positive)
        if members.size == 0:
            continue
        order = members[frontier_order(cost[members], levels[members])]
        mine = label in highlighted
        others = others or not mine
        ax.step(
            cost[order],
            100 * grid.accuracy[order],
            where="post",
            color=colors[model] if mine else "0.75",
            ls=LINESTYLES.get(attention, "-"),
            lw=1.4 if mine else 0.7,
            alpha=0.95 if mine else 0.8,
            zorder=3 if mine else 2,
        )
    ax.step(
        cost[overall],
        100 * grid.accuracy[overall],
        where="post",
        color="black",
        lw=5,
        alpha=0.15,
        zorder=1,
        label="overall frontier",
    )
    ax.scatter(cost[overall], 100 * grid.accuracy[overall], color="black", s=8, zorder=4)
    if budget is not None:
        ax.axvline(budget, color="0.2", lw=1.2, ls="-.", label="budget", zorder=2)
    for n, (index, text) in enumerate(marks):
        marker, face = MARKERS[n % len(MARKERS)]
        ax.scatter(
            [cost[index]],
            [100 * grid.accuracy[index]],
            marker=marker,
            s=220 if marker == "*" else 90,
            facecolor=face,
            edgecolor="black",
            linewidth=1.2,
            zorder=5,
            label=f"{text}: {grid.model(index)}",
        )
    for model in sorted(colors, key=lambda m: model_params[m]):
        active = format_count(model_params[model])
        ax.plot([], [], color=colors[model], lw=2, label=f"{model} ({active} active)")
    if others:
        ax.plot([], [], color="0.75", lw=1, label="off the overall frontier")
    for attention, style in LINESTYLES.items():
        if any(a == attention for _, a in keys):
            ax.plot([], [], color="black", ls=style, lw=1.4, label=attention_label(attention))
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(title or "Accuracy against cost per problem", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return save_figure(fig, path, force=force)
