"""`kinetics calibrate [run|fit|check|reference]`: measure kernels, fit the hardware model, check it.

Bare `kinetics calibrate` is the CI pipeline: a quick numpy run on this machine, a fit on the
micro-kernels, a check on the held-out decode steps; exit 1 when their median error is over the
tolerance. Method and file formats: docs/calibration.md.
"""

from __future__ import annotations

from pathlib import Path

import typer

from kinetics_cli.cli.params import FORMAT_OPTION, JSON_OPTION, bounded, quantity
from kinetics_cli.limits import REPEATS

app = typer.Typer(
    help="Measure kernels on this machine, fit efficiencies and overheads to the roofline, and "
    "check the fitted model on kernels it was not fitted on. Without a subcommand: the quick "
    "run-fit-check pipeline CI runs.",
)

BACKEND_HELP = "numpy (any CPU, fp32) or torch (CUDA GPU, bf16; --device cpu to try it on a CPU)."
HARDWARE_FIT_HELP = (
    "Base profile whose peaks the efficiencies are relative to: a catalog name (h100-sxm), a "
    "profile TOML file, or 'measured' (peaks = the file's best gemm and stream rows; also read "
    "as local-cpu or local-gpu, the name such a base is given)."
)


# ---------------------------------------------------------------------------------------------
# kinetics calibrate (the CI pipeline)
# ---------------------------------------------------------------------------------------------


@app.callback(invoke_without_command=True)
def calibrate(
    ctx: typer.Context,
    backend: str = typer.Option("numpy", "--backend", metavar="NAME", help=BACKEND_HELP),
    device: str | None = typer.Option(
        None, "--device", metavar="DEVICE", help="torch device (cuda, cuda:1, cpu)."
    ),
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
        metavar="FRACTION",
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
    output_format: str = FORMAT_OPTION,
) -> None:
    """Quick run, fit on the micro-kernels, check on the held-out decode steps (CI)."""
    if ctx.invoked_subcommand is not None:
        return
    import time

    from kinetics_cli.calibrate.backends import get_backend
    from kinetics_cli.calibrate.run import CI_TOLERANCE, pipeline
    from kinetics_cli.calibrate.workflow import (
        check_outputs,
        resolve_profile,
        resolve_tolerance,
        save_outputs,
    )
    from kinetics_cli.cli import context
    from kinetics_cli.report import calibrate as report
    from kinetics_cli.report.console import emit_json, say
    from kinetics_cli.report.progress import timing_progress

    start = time.perf_counter()
    chosen = get_backend(backend, device=device)
    base = resolve_profile(hardware, context.catalog) if hardware else None
    limit = resolve_tolerance(tolerance, None, default=CI_TOLERANCE)
    if out is not None:  # refuse before timing, not after
        check_outputs(out, base, gpu=chosen.gpu, force=force)
    if not json:
        say(f"calibrating {chosen.describe()} ({'full' if full else 'quick'} run)")
    progress, step = timing_progress()
    with progress:
        result = pipeline(chosen, base=base, quick=not full, tolerance=limit, on_step=step)
    written = save_outputs(out, result, force=force) if out is not None else None
    wall = time.perf_counter() - start
    if json:
        emit_json(report.pipeline_document(chosen, result, wall))
    else:
        report.print_pipeline(result, wall, written)
    if not result.report.passed:
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------
# run / fit / check / reference
# ---------------------------------------------------------------------------------------------


@app.command("run")
def run_command(
    backend: str = typer.Option("numpy", "--backend", metavar="NAME", help=BACKEND_HELP),
    device: str | None = typer.Option(
        None, "--device", metavar="DEVICE", help="torch device (cuda, cuda:1, cpu)."
    ),
    dtype: str | None = typer.Option(
        None,
        "--dtype",
        metavar="DTYPE",
        help="torch dtype: bf16 (GPU default), fp16 or fp32 (CPU default).",
    ),
    quick: bool = typer.Option(False, "--quick", help="The quick set of shapes (CI's)."),
    repeats: int = typer.Option(
        5,
        "--repeats",
        metavar="N",
        parser=bounded(REPEATS, whole=True),
        # run.COMPOSITE_REPEATS and run.ROUNDS (not imported here: numpy and pydantic at start)
        help="Timed calls per micro-kernel (median kept); each held-out decode step is timed "
        "10 times in 5 rounds whatever N is. Bare `kinetics calibrate` times 3 per micro-kernel.",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        metavar="FILE",
        help="Measurement file (default: measurements-BACKEND-DATE.jsonl).",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --out file."),
    json: bool = JSON_OPTION,
) -> None:
    """Time the calibration kernels on this machine and write a measurement file."""
    import time

    from kinetics_cli.calibrate.backends import get_backend
    from kinetics_cli.calibrate.kernels import plan
    from kinetics_cli.calibrate.measurements import write_measurements
    from kinetics_cli.calibrate.run import measure, now_utc
    from kinetics_cli.fsutil import check_writable
    from kinetics_cli.report import calibrate as report
    from kinetics_cli.report.console import emit_json, say
    from kinetics_cli.report.format import duration
    from kinetics_cli.report.progress import timing_progress

    start = time.perf_counter()
    chosen = get_backend(backend, device=device, dtype=dtype)
    target = out or Path(f"measurements-{chosen.name}-{now_utc().replace(':', '')[:15]}.jsonl")
    check_writable(target, force=force)  # before timing, not after
    cases = plan(quick=quick, gpu=chosen.gpu)
    if not json:
        say(f"timing {len(cases)} kernels with {chosen.describe()}")
    progress, step = timing_progress()
    timing = time.perf_counter()
    try:
        with progress:
            rows = measure(chosen, cases, repeats=repeats, on_step=step)
    finally:
        chosen.close()
    measured = time.perf_counter() - timing
    write_measurements(target, rows, force=force)
    if json:
        document = report.run_document(
            chosen,
            target,
            rows,
            quick=quick,
            repeats=repeats,
            measure_seconds=measured,
            wall_seconds=time.perf_counter() - start,
        )
        emit_json(document)
        return
    classes = len({r.kernel for r in rows})
    say(
        f"wrote {len(rows)} rows ({classes} kernel classes, timed in {duration(measured)}) to {target}"
    )


@app.command("fit")
def fit_command(
    file: Path = typer.Argument(..., metavar="FILE", help="Measurement file (JSON Lines)."),
    hardware: str = typer.Option(..., "--hardware", metavar="BASE", help=HARDWARE_FIT_HELP),
    out: Path | None = typer.Option(
        None,
        "--out",
        metavar="PROFILE.toml",
        help="Where to write the profile (default: the user catalog folder, NAME.toml).",
    ),
    name: str | None = typer.Option(
        None, "--name", metavar="NAME", help="Profile name (default: BASE-calibrated)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing profile file."),
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """Fit e_c, e_m and t0 per kernel class and write a calibrated hardware profile."""
    from kinetics_cli.calibrate.workflow import fit_file, write_profile
    from kinetics_cli.cli import context
    from kinetics_cli.cli.models import _PLAIN_NAME
    from kinetics_cli.errors import InputError
    from kinetics_cli.fsutil import check_writable
    from kinetics_cli.report import calibrate as report
    from kinetics_cli.report.console import emit_json

    if name is not None:  # the name is a file name in the catalog folder: keep it there
        name = name.strip()
        if not _PLAIN_NAME.fullmatch(name):
            raise InputError(
                f"--name {name!r}: expected a plain name (letters, digits, '.', '_', '+', '-'), "
                "such as 'my-gpu-calibrated'"
            )
    if out is not None:
        if out.suffix != ".toml":  # the catalog and --hardware FILE read profiles as TOML
            raise InputError(f"--out {out}: use a .toml file name (a hardware profile)")
        check_writable(out, force=force)  # before reading and fitting
    fit = fit_file(file, hardware, context.catalog, name=name)
    _refuse_a_second_file_of_one_name(fit.profile.name, out)
    target = write_profile(fit.profile, out, force=force)
    if json:
        emit_json(report.fit_document(fit, target))
        return
    report.print_fit(fit, file, target)


def _refuse_a_second_file_of_one_name(name: str, out: Path | None) -> None:
    """A catalog folder keeps one file per name (the first in file-name order, the other is
    skipped): writing a profile named like another file of the folder would not be found by its
    name, whatever the closing line says. Refused, as `models import` refuses it."""
    from kinetics_cli.calibrate.workflow import default_profile_path
    from kinetics_cli.cli import context
    from kinetics_cli.errors import InputError

    target = (out or default_profile_path(name)).resolve()
    same = context.catalog().hardware.find(name)
    if (
        same is not None
        and same.name.lower() == name.lower()
        and same.path.resolve().parent == target.parent
        and same.path.resolve() != target
    ):
        raise InputError(
            f"{same.path} already defines a hardware profile named {name!r} in that folder; "
            "pass another --name"
        )


@app.command("check")
def check_command(
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="Measurement file (JSON Lines), or a file of published reference ratios.",
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
        metavar="FRACTION",
        parser=quantity,
        help="Largest median relative error that passes (default: the tolerance in the file's "
        "<stem>.check.toml, else 0.25).",
    ),
    kernel: list[str] = typer.Option(
        [],
        "--kernel",
        metavar="KIND",
        help="Check only rows of this kernel class; repeatable (default: the classes the "
        "file's <stem>.check.toml lists, else every class).",
    ),
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """Predict every row with a profile, print predicted vs measured; exit 1 over tolerance.

    A reference file (published block top-k / dense ratios) is checked as `calibrate reference`
    checks it, so that every shipped file can be checked with this one command.
    """
    from kinetics_cli.calibrate.reference import is_reference_file
    from kinetics_cli.calibrate.workflow import check_file
    from kinetics_cli.cli import context
    from kinetics_cli.errors import InputError
    from kinetics_cli.report import calibrate as report
    from kinetics_cli.report.console import emit_json

    if is_reference_file(file):
        if kernel:
            raise InputError(f"{file} holds reference ratios, not kernel rows: drop --kernel")
        _check_references(file, hardware, None, tolerance, json)
        return
    checked = check_file(
        file, context.catalog, hardware=hardware, tolerance=tolerance, kernels=kernel
    )
    if json:
        emit_json(checked.as_dict())
    else:
        report.print_file_check(checked)
    if not checked.report.passed:
        raise typer.Exit(1)


@app.command("reference")
def reference_command(
    file: Path | None = typer.Argument(
        None,
        metavar="FILE",
        help="Reference rows (default: the shipped paper B200 block top-k file).",
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
        metavar="FRACTION",
        parser=quantity,
        help="Largest median distance from the published range that counts as agreement "
        "(default: the tolerance in the file's <stem>.check.toml, else 0.10); beyond it: exit 1, "
        "outside the published range.",
    ),
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """Compare predicted block top-k / dense throughput ratios with published ones; exit 1 when
    the prediction is outside the published range (the output says why)."""
    from kinetics_cli.calibrate.workflow import shipped_reference_file

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
    from kinetics_cli.calibrate.workflow import check_references
    from kinetics_cli.cli import context
    from kinetics_cli.report import calibrate as report
    from kinetics_cli.report.console import emit_json

    checked = check_references(
        path,
        context.catalog,
        hardware=hardware,
        efficiencies_from=efficiencies_from,
        tolerance=tolerance,
    )
    if json:
        emit_json(checked.as_dict())
    else:
        report.print_references(checked)
    if not checked.passed:
        raise typer.Exit(1)
