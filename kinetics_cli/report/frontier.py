"""How `frontier --cost gpu-seconds|usd|latency|joules` shows deployable frontiers: the JSON
document, the tables (one frontier per accelerator, and one across them) and the plot.

The eFLOPs frontier (the default) stays in report/plan.py beside `plan`, whose grid it shares.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinetics_cli.report.format import plural
from kinetics_cli.report.plan import (
    DEPLOY_COLUMNS,
    attention_label,
    checks_paragraph,
    compact_table,
    deploy_cells,
    deploy_summary,
    energy_line,
    mixed_kinds,
    say_oracle_note,
    source_line,
    source_words,
    verifier_note,
)

if TYPE_CHECKING:
    import numpy as np

    from kinetics_cli.planner.frontier import Frontier, HardwareFrontiers
    from kinetics_cli.planner.setup import HardwareOption, Setup

# The cost axis, as plot labels and JSON `cost_unit` name it.
AXIS_WORDS = {
    "seconds": "GPU-seconds per problem",
    "usd": "US dollars per 1,000 problems",
    "latency": "wall seconds per problem (prefill and longest trial)",
    "joules": "joules per problem (board power)",
}


def _options(setup: Setup, frontiers: HardwareFrontiers) -> list[tuple[HardwareOption, Frontier]]:
    """(accelerator, its frontier) for every accelerator that has one, in the order asked."""
    by_name = {h.profile.name: h for h in setup.hardware}
    return [
        (by_name[name], f) for name, f in zip(frontiers.hardware, frontiers.frontiers, strict=True)
    ]


def _points(frontier: Frontier) -> np.ndarray:
    """Indices of the configurations on the overall or a per-group frontier, cheapest first."""
    import numpy as np

    idx = np.flatnonzero(frontier.overall | frontier.per_group)
    return idx[np.lexsort((idx, -frontier.levels[idx], frontier.cost[idx]))]


def _dropped(option: HardwareOption) -> list[dict[str, Any]]:
    """The configurations no replica of this accelerator holds, named (and why, in summary)."""
    import numpy as np

    grid = option.grid
    out = []
    for i in np.flatnonzero(~option.deploy.fits).tolist():
        kv = grid.kv_budget(i)
        out.append(
            {
                "model": grid.model(i),
                "strategy": grid.strategy(i),
                "trials": int(grid.trials[i]),
                "gen_len": int(grid.gen_len[i]),
                "attention": grid.attention(i),
                "kv_budget": None if kv is None else float(kv),
                "selection": grid.rule(i),
            }
        )
    return out


def _dropped_models(option: HardwareOption) -> str:
    """'qwen3-235b-a22b (270), qwen3-32b (12)': the dropped configurations per model."""
    from collections import Counter

    counts = Counter(d["model"] for d in _dropped(option))
    return ", ".join(f"{m} ({n:,})" for m, n in counts.most_common())


def point_document(option: HardwareOption, frontier: Frontier, i: int) -> dict[str, Any]:
    """One frontier point as JSON writes it: the configuration (with its deployment and
    deployable figures, planner.plan.configuration), its cost on the axis and where it lies."""
    from kinetics_cli.planner.plan import configuration

    doc = configuration(option.grid, i, option.pricing)
    doc.update(
        cost=float(frontier.cost[i]),
        cost_unit=frontier.unit,
        pareto=bool(frontier.overall[i]),
        group_pareto=bool(frontier.per_group[i]),
    )
    return doc


def deployable_frontier_document(
    setup: Setup, frontiers: HardwareFrontiers, cost: str
) -> dict[str, Any]:
    """The `frontier --cost ... --json` document: per accelerator its frontier points with their
    deployments, what it dropped and why; across accelerators the combined frontier."""
    import numpy as np

    from kinetics_cli.accuracy.base import CONFIDENCE

    rows = []
    combined = []
    for (option, frontier), across in zip(
        _options(setup, frontiers), frontiers.combined, strict=True
    ):
        rows.append(
            {
                "hardware": option.profile.name,
                "price_per_gpu_hour": option.profile.price_per_gpu_hour,
                "tdp_watts": option.profile.tdp_watts,
                "intensity": option.pricing.intensity,
                **deploy_summary(option.deploy),
                "dropped_configurations": _dropped(option),
                "points": [point_document(option, frontier, int(i)) for i in _points(frontier)],
            }
        )
        combined += [point_document(option, frontier, int(i)) for i in np.flatnonzero(across)]
    combined.sort(key=lambda d: (d["cost"], -d["accuracy"]))
    return {
        "task": setup.task,
        "cost": cost,
        "cost_unit": frontiers.unit,
        "cost_axis": AXIS_WORDS[frontiers.unit],
        "law": "kinetics",
        "confidence": CONFIDENCE,
        "hardware": [h.profile.name for h in setup.hardware],
        "accuracy_source": setup.source_document,
        "selection_rules": list(setup.grid.rules),
        "configurations": len(setup.grid),
        "left_out": setup.left_out_document,
        "by_hardware": rows,
        "combined": combined,
        "skipped_hardware": [{"hardware": k, "reason": v} for k, v in frontiers.skipped.items()],
    }


DEPLOY_FRONTIER_COLUMNS = DEPLOY_COLUMNS[1:]  # plan's deployable columns, less the label


def _rows(
    option: HardwareOption, frontier: Frontier, indices: Any, priced: bool
) -> list[list[Any]]:
    """Table rows of the configurations `indices` on one accelerator: accuracy with its
    interval, the law's eFLOPs and every deployable figure."""
    mixed = mixed_kinds(option.grid)
    return [deploy_cells(point_document(option, frontier, int(i)), priced, mixed) for i in indices]


def print_deployable_frontier(setup: Setup, frontiers: HardwareFrontiers, full: bool) -> None:
    """The human answer to `frontier --cost ...`, on stdout through rich."""
    import numpy as np

    from kinetics_cli.planner.pareto import frontier_order
    from kinetics_cli.report.console import say

    unit = frontiers.unit
    options = _options(setup, frontiers)
    first = setup.hardware[0].deploy
    where = ", ".join(frontiers.hardware)
    say(
        f"Deployable frontier for {setup.task} on {where}: cost in {AXIS_WORDS[unit]} "
        f"({first.efficiency_mode} efficiencies); {plural(len(setup.grid), 'configuration')}"
    )
    say(source_line(setup))
    say(
        "deployable: each configuration on the smallest replica (TP within a node; EP for MoE "
        "where cheaper) that holds the weights and one problem's trials at the limit, at the "
        "most problems in flight that "
        + ("fit" if first.batch_rule == "memory" else "fit and meet the TPOT target")
        + "; "
        + (
            options[0][0].deploy.efficiency_label
            if len(options) == 1
            else f"each profile's {first.efficiency_mode} efficiencies (their figures in --json)"
        )
    )
    checked = checks_paragraph([(h.profile.name, h.deploy) for h, _ in options])
    if checked:
        say(checked)
    if unit == "joules":
        energy = energy_line([(h.profile.name, h.deploy) for h, _ in options])
        if energy:
            say(energy)
    note = verifier_note(first)
    if note:
        say(note)
    for h in setup.hardware:
        dropped = sum(h.deploy.dropped.values())
        if dropped and h.profile.name not in frontiers.skipped:  # a skip names its own reason
            reasons = "; ".join(f"{n:,}: {why}" for why, n in h.deploy.dropped.items())
            say(
                f"{h.profile.name}: {dropped:,} of {len(h.grid):,} configurations dropped (no "
                f"replica holds them): {reasons}; by model: {_dropped_models(h)}"
            )
    for name, why in frontiers.skipped.items():
        say(f"skipped {name}: {why}")
    priced = unit == "usd"
    columns = DEPLOY_FRONTIER_COLUMNS + ([">$/1k"] if priced else [])
    shown = []
    if len(options) > 1:
        rows = []
        for (option, frontier), across in zip(options, frontiers.combined, strict=True):
            for i in np.flatnonzero(across).tolist():
                rows.append((float(frontier.cost[i]), option.profile.name, option, frontier, i))
        rows.sort(key=lambda r: (r[0], r[1]))
        shown += [r[2].grid.accuracy[r[4]] for r in rows]
        compact_table(
            f"Frontier across accelerators, cheapest first; cost: {AXIS_WORDS[unit]}; "
            "replica: TPn xB, B problems in flight",
            ["hardware", *columns],
            [[name, *_rows(o, f, [i], priced)[0]] for _, name, o, f, i in rows],
        )
    docs: list[dict[str, Any]] = []
    for option, frontier in options:
        order = np.flatnonzero(frontier.overall)
        order = order[np.argsort(frontier.cost[order], kind="stable")]
        docs += [point_document(option, frontier, int(i)) for i in order]
        compact_table(
            f"Frontier on {option.profile.name}, cheapest first; cost: {AXIS_WORDS[unit]}; "
            "replica: TPn xB, B problems in flight",
            columns,
            _rows(option, frontier, order, priced),
        )
        if not full:
            continue
        for label, (model, attention) in enumerate(frontier.keys):
            members = np.flatnonzero((frontier.groups == label) & np.isfinite(frontier.cost))
            if members.size == 0:
                continue
            points = members[frontier_order(frontier.cost[members], frontier.levels[members])]
            compact_table(
                f"Frontier of {model} {attention_label(attention)} on {option.profile.name}",
                columns,
                _rows(option, frontier, points, priced),
            )
    say_oracle_note(docs)


def plot_deployable_frontier(
    setup: Setup, frontiers: HardwareFrontiers, path: Path, *, force: bool = False
) -> None:
    """One accelerator: its frontier per model and attention kind (report.plan.frontier_plot,
    accuracy intervals as bands). Several: one curve per accelerator with its band, and the
    frontier across them underneath."""
    from kinetics_cli.report.plan import frontier_plot

    options = _options(setup, frontiers)
    mode = setup.hardware[0].deploy.efficiency_mode
    axis = AXIS_WORDS[frontiers.unit]
    if len(options) == 1:
        option, frontier = options[0]
        frontier_plot(
            option.grid,
            frontier.cost,
            path,
            title=f"{setup.task}: accuracy against deployable cost on {option.profile.name} "
            f"({source_words(setup)}, {mode} efficiencies)",
            xlabel=f"{axis} on {option.profile.name}",
            force=force,
        )
        return
    hardware_frontier_plot(
        options,
        frontiers.combined,
        path,
        title=f"{setup.task}: accuracy against deployable cost per accelerator "
        f"({source_words(setup)}, {mode} efficiencies)",
        xlabel=axis,
        force=force,
    )


def hardware_frontier_plot(
    options: list[tuple[HardwareOption, Frontier]],
    combined: tuple[np.ndarray, ...],
    path: Path,
    *,
    title: str,
    xlabel: str,
    force: bool = False,
) -> Path:
    """Accuracy (percent) against cost on a log axis: each accelerator's overall frontier as a
    step curve in its own colour with its accuracy interval as a band, and the frontier across
    accelerators as a thick grey band underneath."""
    import numpy as np

    from kinetics_cli.accuracy.base import CONFIDENCE
    from kinetics_cli.planner.pareto import frontier_order
    from kinetics_cli.report.plan import accuracy_axes
    from kinetics_cli.report.plotting import (
        PALETTE,
        check_path,
        new_figure,
        overall_step,
        save_figure,
    )

    check_path(path, force=force)
    fig, ax = new_figure(8.5, 5.0)
    across_cost: list[float] = []
    across_acc: list[float] = []
    for n, ((option, frontier), mask) in enumerate(zip(options, combined, strict=True)):
        grid, cost = option.grid, frontier.cost
        finite = np.flatnonzero(np.isfinite(cost))
        order = finite[frontier_order(cost[finite], frontier.levels[finite])]
        color = PALETTE[n % len(PALETTE)]
        ax.step(
            cost[order],
            100 * grid.accuracy[order],
            where="post",
            color=color,
            lw=1.4,
            zorder=3,
            label=option.profile.name,
        )
        if grid.accuracy_lo.size == grid.accuracy.size:
            ax.fill_between(
                cost[order],
                100 * grid.accuracy_lo[order],
                100 * grid.accuracy_hi[order],
                step="post",
                color=color,
                alpha=0.12,
                lw=0,
                zorder=2,
            )
        across_cost += cost[mask].tolist()
        across_acc += (100 * grid.accuracy[mask]).tolist()
    order_across = np.argsort(across_cost, kind="stable")
    overall_step(
        ax,
        np.asarray(across_cost)[order_across],
        np.asarray(across_acc)[order_across],
        "frontier across accelerators",
    )
    ax.fill_between([], [], [], color="0.5", alpha=0.12, lw=0, label=f"{CONFIDENCE:.0%} interval")
    accuracy_axes(ax, xlabel, title)
    return save_figure(fig, path, force=force)
