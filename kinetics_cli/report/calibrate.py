"""What the calibrate commands print: fit and check tables, summary lines, JSON documents.

Tables go through kinetics_cli.report.console (rich), imported inside the functions that print.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinetics_cli.calibrate.backends import Backend
    from kinetics_cli.calibrate.check import CheckReport
    from kinetics_cli.calibrate.fit import ClassFit
    from kinetics_cli.calibrate.measurements import Measurement
    from kinetics_cli.calibrate.run import PipelineResult
    from kinetics_cli.calibrate.workflow import FileCheck, FileFit, ReferenceReport
    from kinetics_cli.specs import HardwareProfile

FIT_COLUMNS = ["kernel", ">e_c", ">e_m", ">t0", ">rms err", ">worst", ">rows"]
CHECK_COLUMNS = ["#", "kernel", "shape", ">measured", ">predicted", ">error"]
REFERENCE_COLUMNS = [
    "#",
    ">batch",
    ">context",
    ">dense",
    ">top-k",
    ">predicted",
    ">reported",
    ">error",
]
KERNEL_LABELS = {
    "attention_decode_dense": "attn dense",
    "attention_decode_blocktopk": "attn block top-k",
    "decode_step": "decode step",
}


# ---------------------------------------------------------------------------------------------
# JSON documents
# ---------------------------------------------------------------------------------------------


def fits_document(fits: Mapping[str, ClassFit]) -> dict[str, Any]:
    """Every fitted figure of every kernel class."""
    return {
        k: {
            "compute_efficiency": f.compute_efficiency,
            "bandwidth_efficiency": f.bandwidth_efficiency,
            "overhead_seconds": f.overhead_seconds,
            "compute_identified": f.compute_identified,
            "bandwidth_identified": f.bandwidth_identified,
            "rms_error": f.rms_error,
            "median_error": f.median_error,
            "worst_error": f.worst_error,
            "points": f.points,
        }
        for k, f in fits.items()
    }


def fit_document(fit: FileFit, target: Path) -> dict[str, Any]:
    """`calibrate fit --json`: the profile written, where, and the fits."""
    return {"profile": fit.profile.name, "file": str(target), "fits": fits_document(fit.fits)}


def run_document(
    backend: Backend,
    target: Path,
    rows: Sequence[Measurement],
    *,
    quick: bool,
    repeats: int,
    measure_seconds: float,
    wall_seconds: float,
) -> dict[str, Any]:
    """`calibrate run --json`: the file written, what timed it, and per kernel class the rows and
    the spread of their median times (seconds per call, the median of each row's timed calls)."""
    kernels: dict[str, dict[str, Any]] = {}
    for kernel in dict.fromkeys(r.kernel for r in rows):
        seconds = sorted(r.seconds for r in rows if r.kernel == kernel)
        spreads = sorted(r.spread for r in rows if r.kernel == kernel)
        kernels[kernel] = {
            "rows": len(seconds),
            "seconds_min": seconds[0],
            "seconds_median": _median(seconds),
            "seconds_max": seconds[-1],
            "spread_median": _median(spreads),
        }
    return {
        "file": str(target),
        "rows": len(rows),
        "backend": backend.name,
        "device": backend.device,
        "dtype": backend.dtype,
        # what timed the rows (the backend's clock may change once it is closed: BLAS unpinned)
        "clock": ", ".join(sorted({r.clock for r in rows})) or backend.clock,
        "shapes": "quick" if quick else "full",
        "repeats": repeats,
        "kernels": kernels,
        "measure_seconds": measure_seconds,
        "wall_seconds": wall_seconds,
    }


def _median(values: Sequence[float]) -> float:
    """The median of sorted `values` (the mean of the middle two for an even count)."""
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def pipeline_document(
    backend: Backend, result: PipelineResult, wall_seconds: float
) -> dict[str, Any]:
    """`kinetics calibrate --json`: the device, the base, the fits and the held-out check."""
    return {
        "device": backend.device,
        "backend": backend.name,
        "base": result.base.model_dump(mode="json"),
        "fits": fits_document(result.fits),
        "held_out": result.report.as_dict(),
        "rows": len(result.rows),
        "measure_seconds": result.measure_seconds,
        "wall_seconds": wall_seconds,
    }


# ---------------------------------------------------------------------------------------------
# text
# ---------------------------------------------------------------------------------------------


# The CSV columns of the fits table: an efficiency, and whether the rows identified it (the
# table shows an unidentified one in parentheses, 'n/a' where the class has none).
FIT_CSV_COLUMNS = {
    "e_c": ("e_c", "e_c identified"),
    "e_m": ("e_m", "e_m identified"),
    "t0": ("t0 (s)",),
    "rms err": ("rms err (%)",),
    "worst": ("worst (%)",),
}


def fit_rows(fits: Mapping[str, ClassFit]) -> list[tuple[Any, ...]]:
    """One table row per kernel class; a figure the rows did not identify is in parentheses."""
    from kinetics_cli.report.cells import Cell, percent, seconds

    rows: list[tuple[Any, ...]] = []
    for kernel, f in fits.items():
        # three significant digits: a CPU run fitted against a GPU datasheet gives e ~ 1e-3
        e_c, e_m = f.compute_efficiency, f.bandwidth_efficiency
        compute = Cell(f"{e_c:.3g}", (e_c, True))
        if not f.compute_identified:
            compute = (
                Cell("n/a", (None, False))
                if kernel == "stream"
                else Cell(f"({e_c:.3g})", (e_c, False))
            )
        bandwidth = (
            Cell(f"{e_m:.3g}", (e_m, True))
            if f.bandwidth_identified
            else Cell(f"({e_m:.3g})", (e_m, False))
        )
        rows.append(
            (
                kernel,
                compute,
                bandwidth,
                seconds(f.overhead_seconds),
                percent(f.rms_error),
                percent(f.worst_error),
                f.points,
            )
        )
    return rows


def shape_text(shape: Mapping[str, Any]) -> str:
    """A row's shape in a table cell: heads as q/kv, the per-model constants left out."""
    from kinetics_cli.units import format_bytes

    short = {"batch": "b", "context": "ctx", "attention": "", "top_pages": "top", "bytes": ""}
    skip = {"q_heads", "kv_heads", "head_dim", "page_size", "hidden", "intermediate", "window"}
    parts = []
    if "q_heads" in shape:
        parts.append(f"heads={shape['q_heads']}/{shape['kv_heads']}")
    for key, value in shape.items():
        if key in skip:
            continue
        label = short.get(key, key)
        if key == "bytes":
            value = format_bytes(float(value))
        parts.append(f"{label}={value}" if label else str(value))
    return " ".join(parts)


def summary_line(report: CheckReport, what: str) -> str:
    """Median and worst error, the tolerance and the verdict in one line."""
    verdict = "pass" if report.passed else "FAIL"
    return (
        f"{what}: median error {report.median_error:.1%}, worst {report.worst_error:.1%} "
        f"({report.worst.row.kernel} line {report.worst.row.line}); tolerance "
        f"{report.tolerance:.0%}: {verdict}"
    )


def base_name(base: HardwareProfile) -> str:
    """How the output names a base: a measured one as 'measured (local-cpu)', the value
    --hardware takes first, then the profile name it gets (which --hardware also reads)."""
    return f"measured ({base.name})" if base.vendor == "measured" else base.name


def base_line(base: HardwareProfile) -> str:
    """The base profile's name, peak and bandwidth, and what they are: the best this machine
    reached in the run (fit.measured_base, vendor 'measured') or the profile's figures."""
    from kinetics_cli.units import format_si

    what = (
        "measured: the best gemm and stream rows of this run"
        if base.vendor == "measured"
        else "the profile's datasheet figures"
    )
    dtype, peak = max(base.peak_flops.items(), key=lambda item: item[1])
    return (
        f"base {base_name(base)}: peak {format_si(peak, 'FLOP/s')} {dtype}, "
        f"bandwidth {format_si(base.hbm_bandwidth, 'B/s')} ({what}; efficiencies are relative "
        "to these)"
    )


def fit_written_line(target: Path, profile_name: str) -> str:
    """Where a fitted profile went and how commands find it."""
    from kinetics_cli.catalog import HARDWARE_DIR

    if target.parent.name == HARDWARE_DIR:
        hint = f"commands with this catalog folder find it as --hardware {profile_name}"
    else:
        hint = "move it into a catalog folder's hardware_profiles/ to use it by name"
    return f"wrote {target}; {hint}"


def reference_summary_line(report: ReferenceReport) -> str:
    """The median distance from the published ranges and the verdict: agreement, or outside."""
    distance = (
        f"median distance from the published range {report.median_error:.1%}; tolerance "
        f"{report.tolerance:.0%}"
    )
    if report.passed:
        return f"{distance}: agrees"
    return f"outside the published range: {distance}"


def reference_reason_lines(report: ReferenceReport) -> list[str]:
    """What separates a disagreeing prediction from the published range, and how the gap
    compares with the one the file's sidecar records."""
    if report.passed:
        return []
    lines = [f"why: {reason}" for reason in report.reasons]
    if report.known_gap is not None:
        state = "within" if report.within_known_gap else "WIDER than"
        lines.append(
            f"the gap is {state} the {report.known_gap:.0%} recorded for this file"
            + (f": {report.known_reason}" if report.known_reason else "")
        )
    return lines


# ---------------------------------------------------------------------------------------------
# tables on stdout
# ---------------------------------------------------------------------------------------------


def print_fits(title: str, fits: Mapping[str, ClassFit]) -> None:
    from kinetics_cli.report.console import show_table

    show_table(title, FIT_COLUMNS, fit_rows(fits), wrap=("kernel",), csv_columns=FIT_CSV_COLUMNS)


def print_check(report: CheckReport, title: str) -> None:
    """Measured vs predicted seconds and the signed error, one row per checked row."""
    from kinetics_cli.report.cells import cell, seconds
    from kinetics_cli.report.console import show_table

    rows = [
        (
            str(r.row.line or i + 1),
            KERNEL_LABELS.get(r.row.kernel, r.row.kernel),
            shape_text(dict(r.row.shape)),
            seconds(r.row.seconds),
            seconds(r.predicted),
            cell(f"{r.error:+.1%}", 100 * r.error),
        )
        for i, r in enumerate(report.rows)
    ]
    show_table(
        title,
        CHECK_COLUMNS,
        rows,
        wrap=("kernel", "shape"),
        csv_columns={
            "measured": ("measured (s)",),
            "predicted": ("predicted (s)",),
            "error": ("error (%)",),
        },
    )


def print_fit(fit: FileFit, file: Path, target: Path) -> None:
    """`calibrate fit`: the fits table and where the profile went."""
    from kinetics_cli.report.console import say

    print_fits(f"Fitted against {base_name(fit.base)}: rows of {file.name}", fit.fits)
    say(fit_written_line(target, fit.profile.name))


def print_file_check(check: FileCheck) -> None:
    """`calibrate check`: a note on an uncalibrated profile, the table, the summary line."""
    from kinetics_cli.report.console import say

    profile = check.profile
    if profile.calibration is None:
        say(f"note: {profile.name} is uncalibrated (datasheet peaks, no overheads)")
    print_check(check.report, f"{check.file.name} predicted with {profile.name} ({check.origin})")
    say(summary_line(check.report, "check"))


def print_pipeline(
    result: PipelineResult, wall_seconds: float, written: tuple[Path, Path] | None
) -> None:
    """Bare `kinetics calibrate`: the base, the fits, the held-out check, the timings."""
    from kinetics_cli.report.console import say

    say(base_line(result.base))
    print_fits("Fitted per kernel class (fit rows)", result.fits)
    print_check(
        result.report, "Held-out decode steps: measured end to end vs sum of fitted kernels"
    )
    if written is not None:
        say(f"wrote {written[0]} and {written[1]}")
    say(
        summary_line(result.report, "held-out")
        + f"; {len(result.rows)} kernels timed in {result.measure_seconds:.1f} s, "
        f"{wall_seconds:.1f} s in all"
    )


def print_references(report: ReferenceReport) -> None:
    """Predicted vs reported ratio per reference row, then the median distance and verdict."""
    from kinetics_cli.report.cells import cell, seconds
    from kinetics_cli.report.console import say, show_table

    checks = report.checks
    table = [
        (
            str(c.row.line),
            c.row.batch,
            c.row.context,
            seconds(c.dense_seconds),
            seconds(c.sparse_seconds),
            cell(f"{c.predicted:.1f}x", c.predicted),
            cell(
                f"{c.row.reported_low:g}-{c.row.reported_high:g}x",
                c.row.reported_low,
                c.row.reported_high,
            ),
            cell(f"{c.error:+.0%}", 100 * c.error),
        )
        for _, c in checks
    ]

    def joined(values: Any) -> str:
        return ", ".join(dict.fromkeys(str(v) for v in values))

    refs = [c.row for _, c in checks]
    show_table(
        f"{report.file.name}: block top-k / dense decode throughput of one "
        f"{joined(r.model for r in refs)} layer on {joined(n for n, _ in checks)} "
        f"(tp {joined(r.tp for r in refs)}, KV budget {joined(r.kv_budget for r in refs)})",
        REFERENCE_COLUMNS,
        table,
        csv_columns={
            "batch": ("batch (sequences)",),
            "context": ("context (tokens)",),
            "dense": ("dense (s)",),
            "top-k": ("top-k (s)",),
            "predicted": ("predicted (ratio)",),
            "reported": ("reported low (ratio)", "reported high (ratio)"),
            "error": ("error (%)",),
        },
    )
    say(reference_summary_line(report))
    for line in reference_reason_lines(report):
        say(line)
