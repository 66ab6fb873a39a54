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
    from kinetics_cli.report.console import say

    print_step(report)
    say(f"times: {profile.calibration_note}")


def print_step(r: StepReport) -> None:
    """The operator table and the summary of one step, on stdout through rich."""
    from kinetics_cli.report import cells
    from kinetics_cli.report.cells import FIGURE_COLUMNS, figure
    from kinetics_cli.report.console import show_table
    from kinetics_cli.report.format import duration, format_bytes, plural

    rows = []
    for op in r.operators:
        share = op.seconds / r.step_seconds if r.step_seconds else 0.0
        rows.append(
            (
                op.name,
                op.kind,
                op.calls,
                cells.flop_count(op.flops),
                cells.byte_count(op.bytes),
                cells.intensity(op.intensity),
                op.bound,
                cells.seconds(op.seconds),
                cells.percent(share),
            )
        )
    shape, setting = describe_step(r)
    show_table(
        f"{r.phase.capitalize()} step of {r.model} on {r.hardware} x{r.tp} (TP), {r.formats}; "
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
        csv_columns={
            "bytes": ("bytes (B)",),
            "FLOP/B": ("FLOP/B",),
            "time": ("time (s)",),
            "share": ("share (%)",),
        },
    )
    if r.ridge_batch is not None:
        ridge = f"batch {r.ridge_batch:,}"
    else:
        ridge = "never up to 16M sequences (the KV traffic grows with the batch)"
        if r.linear_ridge_batch is not None:
            ridge += f"; the weight matmuls alone at batch {r.linear_ridge_batch:,}"
    unit = "tokens" if r.phase == "decode" else "prompt tokens"
    summary = [
        ("step time", figure(duration(r.step_seconds), r.step_seconds, "s")),
        (
            "bound",
            figure(
                f"{r.bound} (compute {duration(r.compute_seconds)}, "
                f"memory {duration(r.memory_seconds)} summed over operators)"
            ),
        ),
        (
            "throughput per GPU",
            figure(f"{r.tokens_per_second:,.1f} {unit}/s", r.tokens_per_second, f"{unit}/s"),
        ),
        (
            "throughput per node",
            figure(
                f"{r.tokens_per_second_per_node:,.1f} {unit}/s "
                f"({plural(round(r.tokens_per_second_per_node / r.tokens_per_second), 'GPU')})",
                r.tokens_per_second_per_node,
                f"{unit}/s",
            ),
        ),
        (
            "ridge point",
            figure(ridge) if r.ridge_batch is None else figure(ridge, r.ridge_batch, "sequences"),
        ),
        (
            "time in attention / parameters",
            figure(
                f"{100 * r.attention_share:.1f}% / "
                f"{100 * r.linear_share:.1f}% (communication {100 * r.communication_share:.1f}%, "
                f"other {100 * r.other_share:.1f}%)"
            ),
        ),
        (
            "bytes read per step",
            figure(
                f"weights {format_bytes(r.weight_bytes_read)}, KV {format_bytes(r.kv_bytes_read)}",
                r.weight_bytes_read + r.kv_bytes_read,
                "B",
            ),
        ),
        (
            "memory per GPU",
            figure(
                f"weights {format_bytes(r.weight_bytes)} + KV "
                f"{format_bytes(r.kv_bytes)} ({format_bytes(r.kv_bytes_per_sequence)} per "
                f"sequence) of {format_bytes(r.hbm_capacity)}",
                r.weight_bytes + r.kv_bytes,
                "B",
            ),
        ),
        ("fits", figure("yes" if r.fits else "NO (see the warning on stderr)", r.fits)),
        (
            "largest batch that fits",
            figure("unbounded")
            if r.max_batch is None
            else figure(str(r.max_batch), r.max_batch, "sequences"),
        ),
    ]
    show_table(
        "Summary",
        ["figure", "value"],
        summary,
        wrap=("figure", "value"),
        csv_columns={"value": FIGURE_COLUMNS},
    )


def describe_step(report: StepReport) -> tuple[str, str]:
    """("batch B, context C" or the prefill shape, the attention setting) of a step, as the
    table titles and the plot write them."""
    from kinetics_cli.report.format import tokens

    if report.phase == "decode":
        shape = f"batch {report.batch}, context {tokens(report.context)}"
    else:
        shape = (
            f"batch {report.batch}, prompt {tokens(report.prompt_len)} "
            f"(+{tokens(report.context)} cached)"
        )
    if report.kv_budget is None:
        return shape, report.attention
    return shape, f"{report.attention} (KV budget {tokens(report.kv_budget)})"


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


def roofline_plot(report: StepReport, path: Path, *, force: bool = False) -> Path:
    """Log-log roofline of the profile (peak and HBM slope, ridge marked) with each operator of
    the step and the step as a whole placed on it, beside a bar chart of where the step's time
    goes.

    Left: x = FLOPs per byte moved, y = FLOP/s attained (FLOPs / time); each operator is a
    numbered point (operators at nearly the same point share one label). Right: every operator's
    share of the step time, numbered as on the left, operators that do no FLOPs (norms,
    all-reduce) included: they have no place on log axes, but their time counts.
    """
    import numpy as np

    from kinetics_cli.report.format import format_si, intensity, percent

    check_path(path, force=force)
    plt_fig, _ = new_figure(11.0, 5.2)
    plt_fig.clf()
    grid = plt_fig.add_gridspec(1, 2, width_ratios=(3, 2))
    ax = plt_fig.add_subplot(grid[0, 0])
    bars = plt_fig.add_subplot(grid[0, 1])
    peak, bandwidth = report.peak_flops, report.hbm_bandwidth
    ridge = peak / bandwidth
    ops = [op for op in report.operators if op.seconds > 0]
    placed = [op for op in ops if op.flops > 0 and op.bytes > 0]
    number = {op.name: n for n, op in enumerate(placed, 1)}
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
        f"ridge {intensity(ridge)} FLOPs/byte",
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
    # Numbers, not names, beside the points (names would overlap where operators crowd along
    # the roof): below a point on the compute roof, right of one on the memory slope.
    for group in _clusters(points, 0.12):
        gx, gy, _ = points[group[0]]
        on_roof = gx > ridge
        ax.annotate(
            ",".join(str(number[placed[i].name]) for i in sorted(group)),
            (gx, gy),
            textcoords="offset points",
            xytext=(0, -10) if on_roof else (6, -4),
            ha="center" if on_roof else "left",
            va="top",
            fontsize=7,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(top=peak * 3)
    ax.set_xlabel("arithmetic intensity (FLOPs / byte moved)")
    ax.set_ylabel("attained FLOP/s (operator FLOPs / operator time)")
    ax.legend(fontsize=7, loc="upper left")

    # Where the time goes: every operator, largest share first.
    shown = sorted(ops, key=lambda op: op.seconds, reverse=True)
    shares = [op.seconds / report.step_seconds for op in shown]
    labels = [
        f"{number[op.name]}  {op.name}" if op.name in number else f"{op.name} (no FLOPs)"
        for op in shown
    ]
    ypos = np.arange(len(shown))
    bars.barh(
        ypos,
        [100 * s for s in shares],
        color=[KIND_COLORS.get(op.kind, "tab:gray") for op in shown],
    )
    for y, share in zip(ypos, shares, strict=True):
        bars.annotate(
            percent(share),
            (100 * share, y),
            textcoords="offset points",
            xytext=(3, 0),
            va="center",
            fontsize=7,
        )
    from matplotlib.patches import Patch

    bars.legend(  # what the bar colours mean
        handles=[
            Patch(color=KIND_COLORS.get(kind, "tab:gray"), label=kind)
            for kind in dict.fromkeys(op.kind for op in shown)
        ],
        fontsize=7,
        loc="lower right",
        frameon=False,
    )
    bars.set_yticks(ypos, labels=labels, fontsize=7)
    bars.invert_yaxis()
    bars.set_xlim(0, 100 * max(shares) * 1.25)
    bars.set_xlabel("share of the step time (%)")
    bars.set_title("where the step time goes", fontsize=8)
    shape, setting = describe_step(report)
    plt_fig.suptitle(
        f"{report.model} {report.phase} on {report.hardware}"
        f"{f' x{report.tp} (TP)' if report.tp > 1 else ''}, {report.formats}: {shape}, {setting}",
        fontsize=9,
    )
    return save_figure(plt_fig, path, force=force)
