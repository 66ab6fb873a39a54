"""What `isocost` shows: the table of what each model affords within the budget, and the
iso-cost plot (matplotlib imported inside the function that draws)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinetics_cli.errors import InputError
from kinetics_cli.report.plotting import check_path, new_figure, save_figure

if TYPE_CHECKING:
    from kinetics_cli.engine.isocost import IsoCostRow


def print_isocost(
    rows: list[IsoCostRow], label: str, intensity: float, strategy: str, prompt_len: float
) -> None:
    """The human answer to `isocost`: one row per model and attention setting, both laws side by
    side, on stdout through rich."""
    from kinetics_cli.report.console import console, fitted_table
    from kinetics_cli.units import format_count, format_si

    field = "gen_len" if strategy == "long-cot" else "trials"
    laws = list(dict.fromkeys(r.law for r in rows))
    grouped: dict[tuple[str, str, float | None], dict[str, IsoCostRow]] = {}
    for r in rows:
        grouped.setdefault((r.model, r.attention, r.kv_budget), {})[r.law] = r
    table = []
    for (model, attention, budget), by_law in grouped.items():
        first = next(iter(by_law.values()))
        cells: list[object] = [
            model,
            format_count(first.params),
            attention if budget is None else f"{attention} B={budget:g}",
        ]
        for name in laws:
            row = by_law.get(name)
            cells.append(f"{getattr(row, field):,.0f}" if row else "-")
            cells.append(format_si(row.eflops, "FLOP") if row else "-")
        if len(laws) == 2:
            ratio = first.law_ratio
            cells.append("-" if ratio is None else f"{ratio:.2f}x")
        table.append(cells)
    what = "L_out" if field == "gen_len" else "N"
    columns = ["model", ">active", "attention"]
    costs = []
    for name in laws:
        columns += [f">{what} ({name})", f">cost ({name})"]
        costs.append(f"cost ({name})")
    if len(laws) == 2:
        columns.append(">flops / kinetics")
    budgets = {r.law: r.budget for r in rows}
    budget_text = ", ".join(f"{format_si(budgets[name], 'FLOP')} ({name})" for name in laws)
    console().print(
        fitted_table(
            f"Iso-cost: {label}; L_in {prompt_len:g}, I = {intensity:g}; budget {budget_text}; "
            + ("largest L_out per trial" if field == "gen_len" else "most trials")
            + " within it",
            columns,
            table,
            wrap=("attention", *(c.lstrip(">") for c in columns[3:] if "cost" not in c)),
            optional=(tuple(costs), "active"),
        )
    )
    if len(laws) == 2:
        console().print(
            "flops / kinetics > 1: the FLOPs-only law promises that many times more than the "
            "memory-aware law allows."
        )


def isocost_plot(rows: Sequence[IsoCostRow], path: Path, *, title: str = "") -> Path:
    """Affordable generation length (long-CoT) or trials (best-of-N) against active parameters,
    one line per attention setting; solid for the Kinetics law, dashed for the FLOPs law. The
    models are named along the top axis."""
    import textwrap

    check_path(path)
    if not rows:
        raise InputError("nothing to plot")
    longest = max(len(row.model) for row in rows)
    # Room above the axes for the model names, written upright along the top axis.
    fig, ax = new_figure(7.5, 4.2 + 2 * longest * 0.6 * 7 / 72)
    field = "gen_len" if rows[0].strategy == "long-cot" else "trials"
    settings: dict[tuple[str, float | None, str], list[IsoCostRow]] = {}
    for row in rows:
        settings.setdefault((row.attention, row.kv_budget, row.law), []).append(row)
    colors: dict[tuple[str, float | None], str] = {}
    for (attention, budget, law), group in settings.items():
        group = sorted(group, key=lambda r: r.params)
        key = (attention, budget)
        colors.setdefault(key, f"C{len(colors)}")
        label = attention if budget is None else f"{attention} B={budget:g}"
        ax.plot(
            [r.params for r in group],
            [max(getattr(r, field), 0.5) for r in group],
            marker="o",
            color=colors[key],
            ls="-" if law == "kinetics" else "--",
            label=f"{label} ({law} law)",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("active parameters P (log scale)")
    ax.set_ylabel(
        "affordable L_out (tokens per trial)" if field == "gen_len" else "affordable trials N"
    )
    _name_models_on_top(ax, fig, rows)
    ax.set_title(
        textwrap.fill(title or "Iso-cost: what each model affords within the budget", 90),
        fontsize=9,
    )
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def _name_models_on_top(ax: Any, fig: Any, rows: Sequence[IsoCostRow]) -> None:
    """Model names as upright tick labels of a top axis at their active parameter counts; models
    closer than one line of text share a tick ("a / b")."""
    import math

    by_params: dict[float, list[str]] = {}
    for row in rows:
        names = by_params.setdefault(row.params, [])
        if row.model not in names:
            names.append(row.model)
    low, high = ax.get_xlim()
    axes_points = 0.85 * fig.get_figwidth() * 72
    min_gap = 9.0 / axes_points * math.log10(high / low)  # decades per line of 7 pt text
    groups: list[tuple[list[float], list[str]]] = []
    for params in sorted(by_params):
        if groups and math.log10(params / groups[-1][0][-1]) < min_gap:
            groups[-1][0].append(params)
            groups[-1][1].extend(by_params[params])
        else:
            groups.append(([params], list(by_params[params])))
    top = ax.secondary_xaxis("top")
    top.set_xticks(
        [math.sqrt(g[0][0] * g[0][-1]) for g in groups], labels=[" / ".join(g[1]) for g in groups]
    )
    top.minorticks_off()
    top.tick_params(axis="x", labelrotation=90, labelsize=7)
