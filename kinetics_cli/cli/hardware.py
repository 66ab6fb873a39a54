"""`kinetics hardware list|show`: the accelerator profiles on the catalog search path."""

from __future__ import annotations

import typer

from kinetics_cli.cli import context
from kinetics_cli.cli.params import FORMAT_OPTION, JSON_OPTION, hardware_argument

app = typer.Typer(
    help="Accelerator profiles: dense peaks, HBM, interconnect, calibration.", no_args_is_help=True
)


@app.command("list")
def list_hardware(json: bool = JSON_OPTION, output_format: str = FORMAT_OPTION) -> None:
    """List hardware profiles with their key figures."""
    from kinetics_cli.report.catalog import hardware_document, print_hardware_list
    from kinetics_cli.report.console import emit_json

    entries = list(context.catalog().hardware)
    if json:
        emit_json([hardware_document(e) for e in entries])
        return
    print_hardware_list(entries)


@app.command("show")
def show_hardware(
    name: str = hardware_argument(),
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """Every field of one profile, derived figures, and the file it came from."""
    from kinetics_cli.report.catalog import hardware_document, print_hardware
    from kinetics_cli.report.console import emit_json

    entry = context.catalog().hardware.get(name)
    if json:
        emit_json(hardware_document(entry))
        return
    print_hardware(entry)
