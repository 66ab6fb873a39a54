"""Figures: the roofline of one step, iso-cost curves, and helpers other plots reuse.

matplotlib is an optional extra (`pip install kinetics-cli[plot]`) and is imported only inside
the functions that draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinetics_cli.errors import InputError

if TYPE_CHECKING:
    from kinetics_cli.engine.isocost import IsoCostRow
    from kinetics_cli.engine.roofline import StepReport

FORMATS = (".png", ".svg")
KIND_COLORS = {
    "attention": "tab:red",
    "linear": "tab:blue",
    "communication": "tab:green",
    "other": "tab:gray",
}


def pyplot() -> Any:
    """matplotlib.pyplot on a non-interactive backend, or InputError naming the extra."""
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError("plotting needs matplotlib: pip install 'kinetics-cli[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_path(path: Path) -> Path:
    """The output path, if its suffix is a supported format and its folder exists."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"--plot {path}: use a .png or .svg file name")
    if not path.parent.exists():
        raise InputError(f"--plot {path}: folder {path.parent} does not exist")
    return path


def new_figure(width: float = 7.0, height: float = 4.5) -> tuple[Any, Any]:
    """A figure and one axes of the house size."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def save_figure(fig: Any, path: Path) -> Path:
    """Write `fig` to `path` (png at 150 dpi, or svg) and close it."""
    path = check_path(path)
    fig.savefig(path, dpi=150)
    pyplot().close(fig)
    return path


def describe_step(report: StepReport) -> tuple[str, str]:
    """("batch B, context C" or the prefill shape, the attention setting) of a step, as the
    table titles and the plot write them."""
    if report.phase == "decode":
        shape = f"batch {report.batch}, context {report.context:g}"
    else:
        shape = f"batch {report.batch}, prompt {report.prompt_len:g} (+{report.context:g} cached)"
    if report.kv_budget is None:
        return shape, report.attention
    return shape, f"{report.attention} (KV budget {report.kv_budget:g})"


def _clusters(points: Sequence[tuple[float, float, str]], decades: float) -> list[list[int]]:
    """Indices of points grouped greedily along x: a point joins the current group while it lies
    within `decades` (log10) of the group's first point on both axes."""
    import math

    order = sorted(range(len(points)), key=lambda i: points[i][0])
    groups: list[list[int]] = []
    for i in order:
        x, y, _ = points[i]
        if groups:
            x0, y0, _ = points[groups[-1][0]]
            if abs(math.log10(x / x0)) <= decades and abs(math.log10(y / y0)) <= decades:
                groups[-1].append(i)
                continue
        groups.append([i])
    return groups


def roofline_plot(report: StepReport, path: Path) -> Path:
    """Log-log roofline of the profile (peak and HBM slope, ridge marked) with each operator of
    the step and the step as a whole placed on it.

    x = FLOPs per byte moved, y = FLOP/s attained (FLOPs / time). Operators that do no FLOPs
    (norms, all-reduce) have no place on log axes; a footnote lists them with their time share.
    """
    import textwrap

    import numpy as np

    from kinetics_cli.units import format_si

    check_path(path)
    fig, ax = new_figure(7.5, 5.0)
    peak, bandwidth = report.peak_flops, report.hbm_bandwidth
    ridge = peak / bandwidth
    ops = [op for op in report.operators if op.seconds > 0]
    placed = [op for op in ops if op.flops > 0 and op.bytes > 0]
    off_axes = [op for op in ops if op not in placed]
    step_flops = sum(op.flops for op in placed)
    step_bytes = sum(op.bytes for op in ops if op.kind != "communication")
    points = [(op.intensity, op.flops / op.seconds, op.kind) for op in placed]
    step_point = None
    if step_flops > 0 and step_bytes > 0:
        step_point = (step_flops / step_bytes, step_flops / report.step_seconds)

    xs = [p[0] for p in points] + ([step_point[0]] if step_point else [])
    low = min([*xs, ridge]) / 10
    high = max([*xs, ridge]) * 10
    x = np.geomspace(low, high, 200)
    ax.plot(
        x,
        np.minimum(peak, x * bandwidth),
        color="black",
        lw=1.5,
        label=f"roofline: {format_si(peak, 'FLOP/s')} {report.dtype}, "
        f"{format_si(bandwidth, 'B/s')} HBM",
    )
    ax.axvline(ridge, color="black", ls=":", lw=0.8)
    ax.annotate(
        f"ridge {ridge:.0f} FLOPs/byte",
        (ridge, 0.0),
        xycoords=("data", "axes fraction"),
        textcoords="offset points",
        xytext=(-3, 4),
        rotation=90,
        ha="right",
        va="bottom",
        fontsize=8,
    )
    for kind, color in KIND_COLORS.items():
        mine = [p for p in points if p[2] == kind]
        if mine:
            ax.scatter(
                [p[0] for p in mine],
                [p[1] for p in mine],
                color=color,
                s=30,
                zorder=3,
                label=f"{kind} operators",
            )
    if step_point is not None:
        ax.scatter(
            *step_point,
            marker="*",
            s=160,
            color="gold",
            edgecolor="black",
            zorder=4,
            label="whole step",
        )

    # Operators at nearly the same point (e.g. every projection at batch 1) share one label,
    # written into the empty region under the roofline: right of a memory-bound point, below a
    # compute-bound one, wrapped to the room left before the right edge (leftwards if none).
    names = [op.name for op in placed]
    axes_points = 0.85 * fig.get_figwidth() * 72
    decades = np.log10(high) - np.log10(low)
    char_points = 0.6 * 7  # mean glyph width of a 7 pt label
    for group in _clusters(points, 0.2):
        gx, gy, _ = points[group[0]]
        dx = 0 if gx > ridge else 6
        room = (np.log10(high) - np.log10(gx)) / decades * axes_points - dx - 4
        chars = int(min(34, room / char_points))
        leftwards = chars < 14
        text = textwrap.fill(", ".join(names[i] for i in group), 34 if leftwards else chars)
        ax.annotate(
            text,
            (gx, gy),
            textcoords="offset points",
            xytext=(-dx if leftwards else dx, -8),
            ha="right" if leftwards else "left",
            va="top",
            fontsize=7,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_xlabel("arithmetic intensity (FLOPs / byte moved)")
    ax.set_ylabel("attained FLOP/s (operator FLOPs / operator time)")
    shape, setting = describe_step(report)
    ax.set_title(
        f"{report.model} {report.phase} on {report.hardware}"
        f"{f' x{report.tp} (TP)' if report.tp > 1 else ''}, {report.dtype}: {shape}, {setting}",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="upper left")
    if off_axes:
        note = ", ".join(
            f"{op.name} {100 * op.seconds / report.step_seconds:.1f}%" for op in off_axes
        )
        fig.supxlabel(
            f"Not plotted (no FLOPs; share of step time): {note}", x=0.01, ha="left", fontsize=7
        )
    return save_figure(fig, path)


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
