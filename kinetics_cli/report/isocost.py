"""What `isocost` shows: the table of what each model affords within the budget, and the
iso-cost plot (matplotlib imported inside the function that draws)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kinetics_cli.errors import InputError
from kinetics_cli.report.plotting import check_path, new_figure, save_figure

if TYPE_CHECKING:
    from kinetics_cli.engine.isocost import IsoCostRow


MARKER_SHAPES = ("o", "s", "^", "D", "v", "P", "X", "<", ">")  # per attention setting


def setting_label(attention: str, kv_budget: float | None) -> str:
    """'dense' or 'block-topk B=1,024': an attention setting as the table and plot write it."""
    from kinetics_cli.report.format import tokens

    return attention if kv_budget is None else f"{attention} B={tokens(kv_budget)}"


def budget_label(budget: float) -> str:
    """What `isocost --budget X` holds each law to, for titles: '1e+16 per problem, ...'."""
    from kinetics_cli.report.format import flops

    return f"{flops(budget, 4)} per problem, counted by each law"


def match_label(model: str, gen_len: float, trials: float) -> str:
    """What `isocost --match MODEL:L_OUT[:N]` holds each law to, for titles."""
    from kinetics_cli.report.format import tokens

    return f"cost of {model} at L_out {tokens(gen_len)}, N {trials:g} (dense)"


def solved_label(strategy: str, trials: float, gen_len: float) -> str:
    """What the rows solve for, with the variable held fixed: 'largest L_out per trial at N = 8'
    (long-cot) or 'most trials of 4,096 tokens' (best-of-n)."""
    from kinetics_cli.report.format import tokens

    if strategy == "long-cot":
        return f"largest L_out per trial at N = {trials:g}"
    return f"most trials of {tokens(gen_len)} {'token' if gen_len == 1 else 'tokens'}"


def plot_title(label: str, intensity: float, solved: str = "") -> str:
    """The iso-cost plot's title: the budget, the intensity and what is solved for."""
    from kinetics_cli.report.format import intensity as format_intensity

    return f"Iso-cost at {label}, I = {format_intensity(intensity)} FLOPs/byte" + (
        f"; {solved}" if solved else ""
    )


def beyond_context_warning(
    rows: Sequence[IsoCostRow], windows: Mapping[str, int | None], prompt_len: float
) -> str:
    """The warning for models whose affordable L_out plus the prompt is beyond their context
    window ('... qwen3-8b (window 40,960; L_out up to 7,000,000)'), or '' when none is."""
    worst: dict[str, float] = {}
    for r in rows:
        window = windows.get(r.model)
        if window is not None and prompt_len + r.gen_len > window:
            worst[r.model] = max(worst.get(r.model, 0.0), r.gen_len)
    if not worst:
        return ""
    listed = "; ".join(
        f"{m} (window {windows[m]:,}; L_out up to {v:,.0f})" for m, v in worst.items()
    )
    return (
        "the budget affords generations beyond the context window (max_position_embeddings), "
        f"which no deployment can run: {listed}"
    )


def unbound_budget_warning(rows: Sequence[IsoCostRow]) -> str:
    """The warning for long-CoT sparse rows whose KV budget is larger than the prompt plus the
    answer's whole generation ('... qwen3-8b topk B=4,096 (kinetics law) at L_out 343'), or ''.
    There the budget never selects: the law charges what is dense attention as unshared sparse
    reads (and block top-k's page search), so such a row reads as no more than the dense one."""
    unbound = [
        r
        for r in rows
        if r.kv_budget is not None and r.gen_len >= 1 and r.kv_budget > r.prompt_len + r.gen_len
    ]
    if not unbound:
        return ""
    listed = "; ".join(
        f"{r.model} {setting_label(r.attention, r.kv_budget)} ({r.law} law) at L_out "
        f"{r.gen_len:,.0f}"
        for r in unbound
    )
    return (
        "the KV budget holds the prompt and the whole generation, so sparse attention never "
        "selects (the row charges dense attention as unshared sparse reads; read the dense row): "
        f"{listed}"
    )


def out_of_range_warnings(rows: Sequence[IsoCostRow]) -> list[str]:
    """Warnings for rows whose answer is not a solved value: 0 where not even one token (one
    trial) fits the budget, and the search ceiling (isocost.SEARCH_CEILING) where the budget
    affords more than the search looks for, so the figure shown is a floor (and so is a
    flops / kinetics ratio from it)."""
    from kinetics_cli.engine.isocost import SEARCH_CEILING
    from kinetics_cli.report.format import flops

    if not rows:
        return []
    field = "gen_len" if rows[0].strategy == "long-cot" else "trials"
    length = rows[0].gen_len
    unit = (
        "generated token"
        if field == "gen_len"
        else f"trial of {length:,.0f} {'token' if length == 1 else 'tokens'}"
    )

    def names(chosen: list[IsoCostRow]) -> str:
        return "; ".join(
            f"{r.model} {setting_label(r.attention, r.kv_budget)} ({r.law} law)" for r in chosen
        )

    out = []
    none = [r for r in rows if getattr(r, field) < 1]
    if none:
        out.append(
            f"not even one {unit} fits the budget ({', '.join(sorted({flops(r.budget, 4) for r in none}))}), "
            f"so the answer is 0: {names(none)}"
        )
    capped = [r for r in rows if getattr(r, field) >= SEARCH_CEILING]
    if capped:
        what = "tokens" if field == "gen_len" else "trials"
        out.append(
            f"the budget affords more than the search ceiling of {SEARCH_CEILING:,.0f} {what}, "
            f"shown as '>= {SEARCH_CEILING:,.0f}' (a floor, as is a flops / kinetics ratio "
            f"from it): {names(capped)}"
        )
    return out


def print_isocost(
    rows: list[IsoCostRow], label: str, intensity: float, strategy: str, prompt_len: float
) -> None:
    """The human answer to `isocost`: one row per model and attention setting, both laws side by
    side."""
    from kinetics_cli.engine.isocost import SEARCH_CEILING
    from kinetics_cli.report import cells
    from kinetics_cli.report.console import say, show_table
    from kinetics_cli.report.format import flops, tokens
    from kinetics_cli.report.format import intensity as format_intensity

    field = "gen_len" if strategy == "long-cot" else "trials"

    def solved(value: float) -> cells.Cell:
        """The length or trials; in CSV also whether it is the search's ceiling (at least)."""
        capped = value >= SEARCH_CEILING
        return cells.cell((">= " if capped else "") + tokens(round(value)), round(value), capped)

    laws = list(dict.fromkeys(r.law for r in rows))
    grouped: dict[tuple[str, str, float | None], dict[str, IsoCostRow]] = {}
    for r in rows:
        grouped.setdefault((r.model, r.attention, r.kv_budget), {})[r.law] = r
    table = []
    for (model, attention, budget), by_law in grouped.items():
        first = next(iter(by_law.values()))
        row_cells: list[object] = [
            model,
            cells.param_count(first.params),
            cells.cell(setting_label(attention, budget), attention, budget),
        ]
        for name in laws:
            row = by_law.get(name)
            row_cells.append(solved(getattr(row, field)) if row else "-")
            row_cells.append(cells.flop_count(row.cost) if row else "-")
        if len(laws) == 2:
            ratio = first.law_ratio
            capped = [getattr(by_law[n], field) >= SEARCH_CEILING for n in ("flops", "kinetics")]
            if ratio is None or capped[1]:
                row_cells.append("-")  # no figure (nothing affordable) or a ceiling over a ceiling
            else:
                row_cells.append(
                    cells.cell(f"{'>= ' if capped[0] else ''}{ratio:.2f}x", ratio, capped[0])
                )
        table.append(row_cells)
    what = "L_out" if field == "gen_len" else "N"
    columns = ["model", ">active", "attention"]
    costs = []
    csv_columns = {
        "active": ("active (parameters)",),
        "attention": ("attention", "KV budget (tokens)"),
    }
    for name in laws:
        columns += [f">{what} ({name})", f">cost ({name})"]
        costs.append(f"cost ({name})")
        solved_unit = "tokens" if field == "gen_len" else "trials"
        csv_columns[f"{what} ({name})"] = (
            f"{what} ({name}) ({solved_unit})",
            f"{what} ({name}) at the search ceiling",
        )
        csv_columns[f"cost ({name})"] = (
            f"cost ({name}) ({'eFLOPs' if name == 'kinetics' else 'FLOPs'})",
        )
    if len(laws) == 2:
        columns.append(">flops / kinetics")
        csv_columns["flops / kinetics"] = ("flops / kinetics (ratio)", "flops / kinetics at least")
    budgets = {r.law: r.budget for r in rows}
    units = {"kinetics": "eFLOPs (Kinetics law)", "flops": "FLOPs (FLOPs-only law)"}
    budget_text = ", ".join(f"{flops(budgets[name])} {units.get(name, name)}" for name in laws)
    show_table(
        f"Iso-cost: {label}; L_in {tokens(prompt_len)}, "
        # the FLOPs-only law charges no bytes: its rows use I = 0, whatever the profile's
        + (f"I = {format_intensity(intensity)} FLOPs/byte; " if "kinetics" in laws else "")
        + f"budget {budget_text}; "
        + solved_label(strategy, rows[0].trials, rows[0].gen_len)
        + " within it",
        columns,
        table,
        wrap=("attention", *(c.lstrip(">") for c in columns[3:] if "cost" not in c)),
        optional=(tuple(costs), "active"),
        csv_columns=csv_columns,
    )
    if len(laws) == 2:
        say(
            "flops / kinetics > 1: the FLOPs-only law promises that many times more than the "
            "memory-aware law allows."
        )


def isocost_plot(
    rows: Sequence[IsoCostRow],
    path: Path,
    *,
    title: str = "",
    context_windows: Mapping[str, float | None] | None = None,
    force: bool = False,
) -> Path:
    """What each model affords within the budget: one row per model (smallest active parameter
    count at the top, named horizontally), the affordable generation length (long-CoT) or trials
    (best-of-N) on a log axis. Kinetics law filled, FLOPs law hollow, the two joined by a line
    (the gap the FLOPs-only law promises); attention settings by colour and marker. Lengths get a
    black tick at each model's context window where `context_windows` gives one, so a length no
    deployment can generate reads as such."""
    import textwrap

    import numpy as np

    from kinetics_cli.report.format import format_count

    check_path(path, force=force)
    if not rows:
        raise InputError("nothing to plot")
    models = list(dict.fromkeys(r.model for r in sorted(rows, key=lambda r: r.params)))
    params = {r.model: r.params for r in rows}
    settings = list(dict.fromkeys((r.attention, r.kv_budget) for r in rows))
    # at least 3 inches: the y label is set along the axis and must fit beside it
    fig, ax = new_figure(7.5, max(3.0, 1.6 + 0.3 * len(models) * max(1, len(settings)) ** 0.5))
    field = "gen_len" if rows[0].strategy == "long-cot" else "trials"
    style = {
        s: (f"C{n % 10}", MARKER_SHAPES[n % len(MARKER_SHAPES)]) for n, s in enumerate(settings)
    }
    by_point: dict[tuple[str, str, float | None], dict[str, IsoCostRow]] = {}
    for row in rows:
        by_point.setdefault((row.model, row.attention, row.kv_budget), {})[row.law] = row

    def value(row: IsoCostRow) -> float:
        return max(float(getattr(row, field)), 0.5)  # 0 (nothing affordable) at the left edge

    spread = 0.5 / max(1, len(settings))
    offsets = {s: (n - (len(settings) - 1) / 2) * spread for n, s in enumerate(settings)}
    for (model, attention, budget), by_law in by_point.items():
        color, shape = style[(attention, budget)]
        y = models.index(model) + offsets[(attention, budget)]
        if len(by_law) == 2:
            ax.plot(
                [value(by_law["kinetics"]), value(by_law["flops"])],
                [y, y],
                color=color,
                lw=1,
                alpha=0.6,
                zorder=2,
            )
        for law, row in by_law.items():
            ax.scatter(
                [value(row)],
                [y],
                marker=shape,
                s=34,
                facecolor=color if law == "kinetics" else "white",
                edgecolor=color,
                linewidth=1.3,
                zorder=3,
            )
    if field == "gen_len":  # each model's context window, where its card gives one
        marked = False
        for model, window in (context_windows or {}).items():
            if window and model in models:
                y = models.index(model)
                ax.plot(
                    [window, window],
                    [y - 0.42, y + 0.42],
                    color="black",
                    lw=2,
                    zorder=4,
                    label=None if marked else "context window (prompt + generation)",
                )
                marked = True
    for setting, (color, shape) in style.items():
        ax.scatter(
            [], [], marker=shape, facecolor=color, edgecolor=color, label=setting_label(*setting)
        )
    laws = {r.law for r in rows}
    if "kinetics" in laws:
        ax.scatter(
            [], [], marker="o", facecolor="0.3", edgecolor="0.3", label="Kinetics law (filled)"
        )
    if "flops" in laws:
        ax.scatter(
            [], [], marker="o", facecolor="white", edgecolor="0.3", label="FLOPs-only law (hollow)"
        )
    ax.set_yticks(
        np.arange(len(models)),
        labels=[f"{m} ({format_count(params[m])})" for m in models],
        fontsize=7,
    )
    ax.set_ylim(len(models) - 0.5, -0.5)
    ax.set_xscale("log")
    # Left to itself matplotlib labels every minor tick within a decade, and on this narrow axis
    # they overprint one another ('2x10^4 3x10^4 ...'): label 1, 2 and 5 per decade, plainly.
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    # 1, 2 and 5 per decade while they have room (at 7 points, 7- to 9-digit labels overprint
    # one another beyond about 1.2 decades), then 1 and 3, then the decades alone
    low, high = ax.get_xlim()
    decades = float(np.log10(max(high, 1.0) / max(low, 0.5)))
    subs = (1.0, 2.0, 5.0) if decades <= 1.2 else (1.0, 3.0) if decades <= 2.5 else (1.0,)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
    # (below 1 is the left edge where nothing-affordable rows sit, not a value: unlabelled)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}" if x >= 1 else ""))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel(
        "affordable L_out (tokens per trial, log scale)"
        if field == "gen_len"
        else "affordable trials N (log scale)"
    )
    ax.set_ylabel("model (active parameters),\nsmallest first")
    ax.grid(True, axis="x", which="major", alpha=0.3)
    ax.set_title(
        textwrap.fill(title or "Iso-cost: what each model affords within the budget", 90),
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return save_figure(fig, path, force=force)
