"""`kinetics calibrate [run|fit|check|reference]`: measure kernels, fit the hardware model, check it.

Bare `kinetics calibrate` is the CI pipeline: a quick numpy run on this machine, a fit on the
micro-kernels, a check on the held-out decode steps; exit 1 when their median error is over the
tolerance. Method and file formats: docs/calibration.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kinetics_cli.cli.params import JSON_OPTION, at_least, count, quantity

app = typer.Typer(
    help="Measure kernels on this machine, fit efficiencies and overheads to the roofline, and "
    "check the fitted model on kernels it was not fitted on. Without a subcommand: the quick "
    "run-fit-check pipeline CI runs.",
)

BACKEND_HELP = "numpy (any CPU, fp32) or torch (CUDA GPU, bf16; --device cpu to try it on a CPU)."
HARDWARE_FIT_HELP = (
    "Base profile whose peaks the efficiencies are relative to: a catalog name (h100-sxm), a "
    "profile TOML file, or 'measured' (peaks = the file's best gemm and stream rows)."
)


def _progress_step() -> tuple[Any, Any]:
    """A rich progress bar on stderr and the callback that advances it."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("timing", total=1)

    def step(done: int, total: int, case: Any) -> None:
        progress.update(task, total=total, completed=done, description=f"timing {case.kernel}")

    return progress, step


def _resolve_profile(ref: str, rows: Any = None) -> Any:
    """A catalog name, a TOML file, or 'measured' (from `rows`) into a HardwareProfile."""
    from kinetics_cli.calibrate.fit import MEASURED, measured_base
    from kinetics_cli.catalog import load_spec
    from kinetics_cli.cli import context
    from kinetics_cli.errors import InputError
    from kinetics_cli.specs import HardwareProfile

    if ref == MEASURED:
        if rows is None:
            raise InputError("'measured' needs measurement rows")
        return measured_base(rows)
    path = Path(ref)
    if ref.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise InputError(f"{path}: no such profile file")
        return load_spec(path, HardwareProfile)
    return context.catalog().hardware.get(ref).spec


def _fit_rows(fits: dict[str, Any]) -> list[tuple[str, ...]]:
    from kinetics_cli.units import format_si

    rows: list[tuple[str, ...]] = []
    for kernel, f in fits.items():
        # three significant digits: a CPU run fitted against a GPU datasheet gives e ~ 1e-3
        compute = f"{f.compute_efficiency:.3g}" if f.compute_identified else "n/a"
        if kernel != "stream" and not f.compute_identified:
            compute = f"({f.compute_efficiency:.3g})"
        bandwidth = (
            f"{f.bandwidth_efficiency:.3g}"
            if f.bandwidth_identified
            else f"({f.bandwidth_efficiency:.3g})"
        )
        rows.append(
            (
                kernel,
                compute,
                bandwidth,
                format_si(f.overhead_seconds, "s"),
                f"{f.rms_error:.1%}",
                f"{f.worst_error:.1%}",
                str(f.points),
            )
        )
    return rows


FIT_COLUMNS = ["kernel", ">e_c", ">e_m", ">t0", ">rms err", ">worst", ">rows"]


def _fits_document(fits: dict[str, Any]) -> dict[str, Any]:
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


KERNEL_LABELS = {
    "attention_decode_dense": "attn dense",
    "attention_decode_blocktopk": "attn block top-k",
    "decode_step": "decode step",
}


def _shape_text(shape: dict[str, Any]) -> str:
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
            from kinetics_cli.units import format_bytes

            value = format_bytes(float(value))
        parts.append(f"{label}={value}" if label else str(value))
    return " ".join(parts)


def _print_check(report: Any, title: str) -> None:
    from kinetics_cli.render import print_table
    from kinetics_cli.units import format_si

    rows = [
        (
            str(r.row.line or i + 1),
            KERNEL_LABELS.get(r.row.kernel, r.row.kernel),
            _shape_text(dict(r.row.shape)),
            format_si(r.row.seconds, "s"),
            format_si(r.predicted, "s"),
            f"{r.error:+.1%}",
        )
        for i, r in enumerate(report.rows)
    ]
    print_table(title, ["#", "kernel", "shape", ">measured", ">predicted", ">error"], rows)


def _tolerance(given: float | None, settings: Any) -> float:
    """--tolerance, else the sidecar's, else the default; never silently non-positive."""
    from kinetics_cli.calibrate.check import DEFAULT_TOLERANCE
    from kinetics_cli.errors import InputError

    if given is not None:
        if given <= 0:
            raise InputError(f"--tolerance must be positive (got {given:g})")
        return given
    if settings is not None and settings.tolerance is not None:
        return float(settings.tolerance)
    return DEFAULT_TOLERANCE


def _summary_line(report: Any, what: str) -> str:
    verdict = "pass" if report.passed else "FAIL"
    return (
        f"{what}: median error {report.median_error:.1%}, worst {report.worst_error:.1%} "
        f"({report.worst.row.kernel} line {report.worst.row.line}); tolerance "
        f"{report.tolerance:.0%}: {verdict}"
    )


# ---------------------------------------------------------------------------------------------
# kinetics calibrate (the CI pipeline)
# ---------------------------------------------------------------------------------------------


@app.callback(invoke_without_command=True)
def calibrate(
    ctx: typer.Context,
    backend: str = typer.Option("numpy", "--backend", help=BACKEND_HELP),
    device: str | None = typer.Option(None, "--device", help="torch device (cuda, cuda:1, cpu)."),
    full: bool = typer.Option(
        False, "--full", help="The full set of shapes instead of the quick one."
    ),
    hardware: str | None = typer.Option(
        None,
        "--hardware",
        metavar="BASE",
        help="Base profile for the fit (catalog name or TOML file); default: this machine's "
        "measured peaks.",
    ),
    tolerance: float | None = typer.Option(
        None,
        "--tolerance",
        parser=quantity,
        help="Largest held-out median relative error that passes (default: the figure "
        "docs/calibration.md derives for the quick CPU run).",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        metavar="DIR",
        help="Keep the measurements (measurements.jsonl) and the fitted profile here.",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite files in --out."),
    json: bool = JSON_OPTION,
) -> None:
    """Quick run, fit on the micro-kernels, check on the held-out decode steps (CI)."""
    if ctx.invoked_subcommand is not None:
        return
    import time

    from kinetics_cli.calibrate.backends import get_backend
    from kinetics_cli.calibrate.fit import profile_toml
    from kinetics_cli.calibrate.measurements import write_measurements
    from kinetics_cli.calibrate.run import CI_TOLERANCE, pipeline
    from kinetics_cli.errors import InputError
    from kinetics_cli.fsutil import write_atomic
    from kinetics_cli.render import console, emit_json, print_table

    start = time.perf_counter()
    chosen = get_backend(backend, device=device)
    base = _resolve_profile(hardware) if hardware else None
    limit = CI_TOLERANCE if tolerance is None else _tolerance(tolerance, None)
    if out is not None and not force:  # refuse before timing, not after
        measured = "local-gpu" if chosen.gpu else "local-cpu"  # fit.measured_base's name
        profile_name = f"{base.name if base else measured}-calibrated.toml"
        for existing in (out / "measurements.jsonl", out / profile_name):
            if existing.exists():
                raise InputError(f"{existing} already exists; pass --force to overwrite it")
    if not json:
        console().print(f"calibrating {chosen.describe()} ({'full' if full else 'quick'} run)")
    progress, step = _progress_step()
    with progress:
        result = pipeline(chosen, base=base, quick=not full, tolerance=limit, on_step=step)
    if out is not None:
        rows_path = write_measurements(out / "measurements.jsonl", result.rows, force=force)
        write_atomic(out / f"{result.profile.name}.toml", profile_toml(result.profile), force=force)
    wall = time.perf_counter() - start
    report = result.report
    if json:
        emit_json(
            {
                "device": chosen.device,
                "backend": chosen.name,
                "base": result.base.model_dump(mode="json"),
                "fits": _fits_document(result.fits),
                "held_out": report.as_dict(),
                "rows": len(result.rows),
                "measure_seconds": result.measure_seconds,
                "wall_seconds": wall,
            }
        )
    else:
        b = result.base
        from kinetics_cli.units import format_si

        console().print(
            f"base {b.name}: peak {format_si(max(b.peak_flops.values()), 'FLOP/s')}, "
            f"bandwidth {format_si(b.hbm_bandwidth, 'B/s')}"
        )
        print_table("Fitted per kernel class (fit rows)", FIT_COLUMNS, _fit_rows(result.fits))
        _print_check(report, "Held-out decode steps: measured end to end vs sum of fitted kernels")
        if out is not None:
            console().print(f"wrote {rows_path} and {out / (result.profile.name + '.toml')}")
        console().print(
            _summary_line(report, "held-out")
            + f"; {len(result.rows)} kernels timed in {result.measure_seconds:.1f} s, "
            f"{wall:.1f} s in all"
        )
    if not report.passed:
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------
# run / fit / check / reference
# ---------------------------------------------------------------------------------------------


@app.command("run")
def run_command(
    backend: str = typer.Option("numpy", "--backend", help=BACKEND_HELP),
    device: str | None = typer.Option(None, "--device", help="torch device (cuda, cuda:1, cpu)."),
    dtype: str | None = typer.Option(
        None, "--dtype", help="torch dtype: bf16 (GPU default), fp16 or fp32 (CPU default)."
    ),
    quick: bool = typer.Option(False, "--quick", help="The quick set of shapes (CI's)."),
    repeats: int = typer.Option(
        5,
        "--repeats",
        parser=count,
        callback=at_least(1),
        help="Timed calls per kernel (median kept).",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        metavar="FILE",
        help="Measurement file (default: measurements-BACKEND-DATE.jsonl).",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --out file."),
) -> None:
    """Time the calibration kernels on this machine and write a measurement file."""
    from kinetics_cli.calibrate.backends import get_backend
    from kinetics_cli.calibrate.kernels import plan
    from kinetics_cli.calibrate.measurements import write_measurements
    from kinetics_cli.calibrate.run import measure, now_utc
    from kinetics_cli.errors import InputError
    from kinetics_cli.render import console

    chosen = get_backend(backend, device=device, dtype=dtype)
    target = out or Path(f"measurements-{chosen.name}-{now_utc().replace(':', '')[:15]}.jsonl")
    if target.exists() and not force:
        raise InputError(f"{target} already exists; pass --force to overwrite it")
    cases = plan(quick=quick, gpu=chosen.gpu)
    console().print(f"timing {len(cases)} kernels with {chosen.describe()}")
    progress, step = _progress_step()
    try:
        with progress:
            rows = measure(chosen, cases, repeats=repeats, on_step=step)
    finally:
        chosen.close()
    write_measurements(target, rows, force=force)
    console().print(f"wrote {len(rows)} rows to {target}")


@app.command("fit")
def fit_command(
    file: Path = typer.Argument(..., help="Measurement file (JSON Lines)."),
    hardware: str = typer.Option(..., "--hardware", metavar="BASE", help=HARDWARE_FIT_HELP),
    out: Path | None = typer.Option(
        None,
        "--out",
        metavar="PROFILE.toml",
        help="Where to write the profile (default: the user catalog folder, NAME.toml).",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Profile name (default: BASE-calibrated)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing profile file."),
    json: bool = JSON_OPTION,
) -> None:
    """Fit e_c, e_m and t0 per kernel class and write a calibrated hardware profile."""
    from kinetics_cli.calibrate.fit import fit_profile, profile_toml
    from kinetics_cli.calibrate.kernels import COMPOSITE
    from kinetics_cli.calibrate.measurements import file_checksum, read_measurements
    from kinetics_cli.calibrate.run import now_utc
    from kinetics_cli.catalog import HARDWARE_DIR, user_root
    from kinetics_cli.fsutil import write_atomic
    from kinetics_cli.render import console, emit_json, print_table

    rows = read_measurements(file)
    base = _resolve_profile(hardware, [r for r in rows if r.kernel != COMPOSITE])
    fits, profile = fit_profile(
        rows,
        base,
        name=name or f"{base.name}-calibrated",
        source=file.name,
        checksum=file_checksum(file),
        date=now_utc()[:10],
    )
    target = out or user_root() / HARDWARE_DIR / f"{profile.name}.toml"
    write_atomic(target, profile_toml(profile), force=force)
    if json:
        emit_json({"profile": profile.name, "file": str(target), "fits": _fits_document(fits)})
        return
    print_table(f"Fitted against {base.name} ({file.name})", FIT_COLUMNS, _fit_rows(fits))
    if target.parent.name == HARDWARE_DIR:
        hint = f"commands with this catalog folder find it as --hardware {profile.name}"
    else:
        hint = "move it into a catalog folder's hardware_profiles/ to use it by name"
    console().print(f"wrote {target}; {hint}")


@app.command("check")
def check_command(
    file: Path = typer.Argument(
        ..., help="Measurement file (JSON Lines), or a file of published reference ratios."
    ),
    hardware: str | None = typer.Option(
        None,
        "--hardware",
        metavar="PROFILE",
        help="Calibrated profile (catalog name or TOML file); default: the file's "
        "<stem>.check.toml, else a fit of the file's own micro-kernel rows.",
    ),
    tolerance: float | None = typer.Option(
        None,
        "--tolerance",
        parser=quantity,
        help="Largest median relative error that passes (default 0.25).",
    ),
    kernel: list[str] = typer.Option(
        [], "--kernel", help="Check only rows of this kernel class; repeatable."
    ),
    json: bool = JSON_OPTION,
) -> None:
    """Predict every row with a profile, print predicted vs measured; exit 1 over tolerance.

    A reference file (published block top-k / dense ratios) is checked as `calibrate reference`
    checks it, so that every shipped file can be checked with this one command.
    """
    from kinetics_cli.calibrate.check import check_rows, read_settings
    from kinetics_cli.calibrate.fit import fit_profile, measured_base
    from kinetics_cli.calibrate.kernels import COMPOSITE
    from kinetics_cli.calibrate.measurements import file_checksum, read_measurements
    from kinetics_cli.calibrate.reference import is_reference_file
    from kinetics_cli.errors import InputError
    from kinetics_cli.render import console, emit_json

    if is_reference_file(file):
        if kernel:
            raise InputError(f"{file} holds reference ratios, not kernel rows: drop --kernel")
        _check_references(file, hardware, None, tolerance, json)
        return
    rows = read_measurements(file)
    settings = read_settings(file)
    ref = hardware or (settings.hardware_ref() if settings else None)
    if ref is not None:
        profile = _resolve_profile(ref)
        origin = ref
    else:
        _, profile = fit_profile(
            rows,
            measured_base([r for r in rows if r.kernel != COMPOSITE]),
            name="this-file",
            source=file.name,
            checksum=file_checksum(file),
            date="",
        )
        origin = "a fit of this file's micro-kernel rows on their measured peaks"
    limit = _tolerance(tolerance, settings)
    kernels = tuple(kernel) or (settings.kernels if settings else ())
    report = check_rows(rows, profile, tolerance=limit, kernels=kernels, source=str(file))
    if json:
        emit_json({"file": str(file), "hardware": profile.name, **report.as_dict()})
    else:
        if profile.calibration is None:
            console().print(f"note: {profile.name} is uncalibrated (datasheet peaks, no overheads)")
        _print_check(report, f"{file.name} predicted with {profile.name} ({origin})")
        console().print(_summary_line(report, "check"))
    if not report.passed:
        raise typer.Exit(1)


@app.command("reference")
def reference_command(
    file: Path | None = typer.Argument(
        None, help="Reference rows (default: the shipped paper B200 block top-k file)."
    ),
    hardware: str | None = typer.Option(
        None, "--hardware", metavar="PROFILE", help="Profile to predict with (default: the row's)."
    ),
    efficiencies_from: str | None = typer.Option(
        None,
        "--efficiencies-from",
        metavar="PROFILE",
        help="Apply this calibrated profile's efficiencies (not its overheads) to the hardware.",
    ),
    tolerance: float | None = typer.Option(
        None,
        "--tolerance",
        parser=quantity,
        help="Largest median distance from the reported range that passes.",
    ),
    json: bool = JSON_OPTION,
) -> None:
    """Compare predicted block top-k / dense throughput ratios with published ones."""
    _check_references(
        file or shipped_reference_file(), hardware, efficiencies_from, tolerance, json
    )


def _check_references(
    path: Path,
    hardware: str | None,
    efficiencies_from: str | None,
    tolerance: float | None,
    json: bool,
) -> None:
    """Predicted vs published ratios of a reference file; exit 1 over the tolerance."""
    import statistics

    from kinetics_cli.calibrate.check import read_settings
    from kinetics_cli.calibrate.reference import (
        check_reference,
        read_references,
        with_efficiencies,
    )
    from kinetics_cli.render import console, emit_json, print_table
    from kinetics_cli.units import format_si

    rows = read_references(path)
    settings = read_settings(path)
    donor = _resolve_profile(efficiencies_from) if efficiencies_from else None
    chosen = hardware or (settings.hardware_ref() if settings else None)
    checks = []
    for row in rows:
        profile = _resolve_profile(chosen or row.hardware)
        if donor is not None:
            profile = with_efficiencies(profile, donor)
        checks.append((profile.name, check_reference(row, profile)))
    limit = _tolerance(tolerance, settings)
    median = statistics.median(abs(c.error) for _, c in checks)
    passed = median <= limit
    if json:
        emit_json(
            {
                "file": str(path),
                "rows": [{"hardware": n, **c.as_dict()} for n, c in checks],
                "median_error": median,
                "tolerance": limit,
                "passed": passed,
            }
        )
    else:
        table = [
            (
                str(c.row.line),
                str(c.row.batch),
                str(c.row.context),
                format_si(c.dense_seconds, "s"),
                format_si(c.sparse_seconds, "s"),
                f"{c.predicted:.1f}x",
                f"{c.row.reported_low:g}-{c.row.reported_high:g}x",
                f"{c.error:+.0%}",
            )
            for _, c in checks
        ]

        def joined(values: Any) -> str:
            return ", ".join(dict.fromkeys(str(v) for v in values))

        refs = [c.row for _, c in checks]
        print_table(
            f"{path.name}: block top-k / dense decode throughput of one "
            f"{joined(r.model for r in refs)} layer on {joined(n for n, _ in checks)} "
            f"(tp {joined(r.tp for r in refs)}, KV budget {joined(r.kv_budget for r in refs)})",
            [
                "#",
                ">batch",
                ">context",
                ">dense",
                ">top-k",
                ">predicted",
                ">reported",
                ">error",
            ],
            table,
        )
        verdict = "pass" if passed else "FAIL"
        console().print(
            f"median distance from the reported range {median:.1%}; tolerance {limit:.0%}: {verdict}"
        )
    if not passed:
        raise typer.Exit(1)


def shipped_reference_file() -> Path:
    """The paper's B200 reference rows shipped with the catalog."""
    from kinetics_cli.catalog import HARDWARE_DIR, bundled_root

    return bundled_root() / HARDWARE_DIR / "measurements" / "paper-b200-qwen3-0.6b.jsonl"
