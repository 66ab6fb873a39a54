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


def roofline_plot(report: StepReport, path: Path) -> Path:
    """Log-log roofline of the profile (peak and HBM slope) with each operator placed on it.

    x = operator FLOPs per byte, y = FLOP/s it attains (FLOPs / time); memory-only operators
    sit at the left edge.
    """
    import numpy as np

    check_path(path)
    fig, ax = new_figure()
    peak, bandwidth = report.peak_flops, report.hbm_bandwidth
    ridge = peak / bandwidth
    ops = [op for op in report.operators if op.kind != "communication" and op.seconds > 0]
    finite = [op.intensity for op in ops if op.flops > 0 and np.isfinite(op.intensity)]
    low = min([*finite, ridge]) / 10 if finite else ridge / 1e3
    high = max([*finite, ridge]) * 10
    x = np.geomspace(low, high, 200)
    ax.plot(x, np.minimum(peak, x * bandwidth), color="black", lw=1.5, label="roofline")
    ax.axvline(ridge, color="black", ls=":", lw=0.8)
    ax.annotate(
        f"ridge {ridge:.0f} FLOP/B",
        (ridge, peak),
        textcoords="offset points",
        xytext=(4, -12),
        fontsize=8,
    )
    # Operators at the same point (same shapes, e.g. every projection at batch 1) share a label.
    placed: dict[tuple[float, float], list[str]] = {}
    kinds: dict[tuple[float, float], str] = {}
    for op in ops:
        if op.flops <= 0:
            continue
        point = (op.intensity, op.flops / op.seconds)
        key = (round(float(np.log10(point[0])), 1), round(float(np.log10(point[1])), 1))
        placed.setdefault(key, []).append(op.name)
        kinds.setdefault(key, op.kind)
        ax.scatter(*point, color=KIND_COLORS[op.kind], s=30, zorder=3)
    for (lx, ly), names in placed.items():
        ax.annotate(
            ", ".join(names),
            (10**lx, 10**ly),
            textcoords="offset points",
            xytext=(5, -10),
            fontsize=7,
        )
    for kind, color in KIND_COLORS.items():
        if kind in kinds.values():
            ax.scatter([], [], color=color, label=kind)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOPs / byte)")
    ax.set_ylabel("attained FLOP/s")
    ax.set_title(
        f"{report.model} {report.phase} on {report.hardware}: batch {report.batch}, "
        f"context {report.context:g}",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, path)


def isocost_plot(rows: Sequence[IsoCostRow], path: Path, *, title: str = "") -> Path:
    """Affordable generation length (long-CoT) or trials (best-of-N) against active parameters,
    one line per attention setting; solid for the Kinetics law, dashed for the FLOPs law."""
    check_path(path)
    fig, ax = new_figure()
    if not rows:
        raise InputError("nothing to plot")
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
    ax.set_xlabel("active parameters")
    ax.set_ylabel("affordable tokens per trial" if field == "gen_len" else "affordable trials")
    ax.set_title(title or "Iso-cost: what each model affords within the budget", fontsize=10)
    ax.legend(fontsize=7)
    return save_figure(fig, path)
