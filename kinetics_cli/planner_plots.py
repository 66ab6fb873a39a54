"""Figures of the planner: accuracy against cost, one frontier per model and attention kind.

The picture the Kinetics paper's Figure 1 draws: each (model, attention kind) frontier as a step
line (the best accuracy it reaches at each cost), the overall frontier highlighted underneath, and
for a plan the budget and the two laws' picks. matplotlib is imported only when drawing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kinetics_cli.errors import InputError
from kinetics_cli.planner.grid import Grid
from kinetics_cli.planner.pareto import frontier_order
from kinetics_cli.planner.plan import ORACLE_ATTENTION, accuracy_levels
from kinetics_cli.plots import check_path, new_figure, save_figure
from kinetics_cli.units import format_count

LINESTYLES = {"dense": "-", "topk": "--", "block-topk": ":"}
MARKERS = ("*", "X", "D", "P")
# tab20's ten dark shades, then its ten light ones: distinct colours for up to 20 models.
PALETTE = tuple(range(0, 20, 2)) + tuple(range(1, 20, 2))


def attention_legend(attention: str) -> str:
    """Legend text of an attention kind; oracle top-k says so (it is a bound, not a kernel)."""
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
    check_path(path)
    if len(grid) == 0:
        raise InputError("nothing to plot")
    fig, ax = new_figure(8.5, 5.0)
    import matplotlib

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
