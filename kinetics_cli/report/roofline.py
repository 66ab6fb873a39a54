"""What `roofline` shows: the operator table and summary of one step, its JSON document, and the
roofline plot (matplotlib imported inside the function that draws)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kinetics_cli.report.plotting import check_path, new_figure, save_figure

if TYPE_CHECKING:
    from kinetics_cli.engine.roofline import StepReport
    from kinetics_cli.specs import HardwareProfile

KIND_COLORS = {
    "attention": "tab:red",
    "linear": "tab:blue",
    "communication": "tab:green",
    "other": "tab:gray",
}


def roofline_document(report: StepReport, profile: HardwareProfile) -> dict[str, Any]:
    """The `roofline --json` document: the step report and whether its times are calibrated."""
    doc = report.as_dict()
    doc.update(calibrated=profile.calibration is not None, calibration=profile.calibration_note)
    return doc


def print_roofline(report: StepReport, profile: HardwareProfile) -> None:
    """The human answer to `roofline`, on stdout through rich."""
    from kinetics_cli.report.console import console

    print_step(report)
    console().print(f"times: {profile.calibration_note}", soft_wrap=True)


def print_step(r: StepReport) -> None:
    """The operator table and the summary of one step, on stdout through rich."""
    from kinetics_cli.report.console import console, fitted_table
    from kinetics_cli.units import format_bytes, format_si

    rows = []
    for op in r.operators:
        share = op.seconds / r.step_seconds if r.step_seconds else 0.0
        rows.append(
            (
                op.name,
                op.kind,
                op.calls,
                format_si(op.flops, "FLOP"),
                format_bytes(op.bytes),
                f"{op.intensity:.3g}",
                op.bound,
                format_si(op.seconds, "s"),
                f"{100 * share:.1f}%",
            )
        )
    shape, setting = describe_step(r)
    console().print(
        fitted_table(
            f"{r.phase.capitalize()} step of {r.model} on {r.hardware} x{r.tp} (TP), {r.dtype}, "
            f"{shape}, {setting}; per GPU",
            [
                "operator",
                "kind",
                ">calls",
                ">FLOPs",
                ">bytes",
                ">FLOP/B",
                "bound",
                ">time",
                ">share",
            ],
            rows,
            wrap=("operator",),
            optional=("kind", "calls"),
        )
    )
    if r.ridge_batch is not None:
        ridge = f"batch {r.ridge_batch}"
    else:
        ridge = "never up to 16M sequences (the KV traffic grows with the batch)"
        if r.linear_ridge_batch is not None:
            ridge += f"; the weight matmuls alone at batch {r.linear_ridge_batch}"
    unit = "tokens" if r.phase == "decode" else "prompt tokens"
    summary = [
        ("step time", format_si(r.step_seconds, "s")),
        (
            "bound",
            f"{r.bound} (compute {format_si(r.compute_seconds, 's')}, "
            f"memory {format_si(r.memory_seconds, 's')} summed over operators)",
        ),
        ("throughput per GPU", f"{r.tokens_per_second:,.1f} {unit}/s"),
        (
            "throughput per node",
            f"{r.tokens_per_second_per_node:,.1f} {unit}/s "
            f"({round(r.tokens_per_second_per_node / r.tokens_per_second)} GPUs)",
        ),
        ("ridge point", ridge),
        (
            "time in attention / parameters",
            f"{100 * r.attention_share:.1f}% / "
            f"{100 * r.linear_share:.1f}% (communication {100 * r.communication_share:.1f}%, "
            f"other {100 * r.other_share:.1f}%)",
        ),
        (
            "bytes read per step",
            f"weights {format_bytes(r.weight_bytes_read)}, KV {format_bytes(r.kv_bytes_read)}",
        ),
        (
            "memory per GPU",
            f"weights {format_bytes(r.weight_bytes)} + KV "
            f"{format_bytes(r.kv_bytes)} ({format_bytes(r.kv_bytes_per_sequence)} per sequence) "
            f"of {format_bytes(r.hbm_capacity)}",
        ),
        ("fits", "yes" if r.fits else "NO (see the warning on stderr)"),
        ("largest batch that fits", "unbounded" if r.max_batch is None else str(r.max_batch)),
    ]
    console().print(fitted_table("Summary", ["figure", "value"], summary, wrap=("value",)))


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
