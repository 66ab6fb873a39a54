"""`kinetics hardware list|show`: the accelerator profiles on the catalog search path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from kinetics_cli.cli import context
from kinetics_cli.cli.params import JSON_OPTION, hardware_argument

if TYPE_CHECKING:
    from kinetics_cli.catalog import Entry
    from kinetics_cli.specs import HardwareProfile

app = typer.Typer(
    help="Accelerator profiles: dense peaks, HBM, interconnect, calibration.", no_args_is_help=True
)


def hardware_document(entry: Entry[HardwareProfile]) -> dict[str, Any]:
    """Every field of a profile plus derived figures, as `hardware show --json` writes it."""
    spec = entry.spec
    doc = spec.model_dump(mode="json")
    doc.update(
        intensity=spec.intensity,
        calibrated=spec.calibration is not None,
        file=str(entry.path),
        origin=entry.origin,
    )
    return doc


@app.command("list")
def list_hardware(json: bool = JSON_OPTION) -> None:
    """List hardware profiles with their key figures."""
    from kinetics_cli.render import emit_json, print_table
    from kinetics_cli.units import format_bytes, format_si

    entries = list(context.catalog().hardware)
    if json:
        emit_json([hardware_document(e) for e in entries])
        return
    rows = []
    for e in entries:
        s = e.spec
        rows.append(
            (
                s.name,
                s.vendor,
                format_si(s.peak_flops["bf16"], "FLOP/s"),
                format_si(s.hbm_bandwidth, "B/s"),
                format_bytes(s.hbm_capacity),
                f"{s.intensity:.1f}",
                "yes" if s.calibration else "",
                e.origin,
            )
        )
    print_table(
        "Hardware profiles (dense peaks; intensity = bf16 FLOP/s / HBM B/s)",
        [
            "name",
            "vendor",
            ">bf16 dense",
            ">HBM bandwidth",
            ">HBM",
            ">intensity",
            "calibrated",
            "origin",
        ],
        rows,
    )


@app.command("show")
def show_hardware(
    name: str = hardware_argument(),
    json: bool = JSON_OPTION,
) -> None:
    """Every field of one profile, derived figures, and the file it came from."""
    from kinetics_cli.render import console, emit_json, print_table
    from kinetics_cli.units import format_bytes, format_si

    entry = context.catalog().hardware.get(name)
    if json:
        emit_json(hardware_document(entry))
        return
    s = entry.spec
    rows: list[tuple[str, str]] = [
        ("name", s.name),
        ("aliases", ", ".join(s.aliases)),
        ("vendor", s.vendor),
        ("description", s.description),
    ]
    rows += [(f"peak {dtype} (dense)", format_si(v, "FLOP/s")) for dtype, v in s.peak_flops.items()]
    rows += [
        ("HBM bandwidth", format_si(s.hbm_bandwidth, "B/s")),
        ("HBM capacity", format_bytes(s.hbm_capacity)),
        ("intensity (bf16 / HBM)", f"{s.intensity:.2f} FLOPs/byte"),
        ("interconnect (per GPU, one way)", format_si(s.interconnect_bandwidth, "B/s")),
        ("GPUs per node", str(s.gpus_per_node)),
        ("TDP", f"{s.tdp_watts:g} W" if s.tdp_watts else "n/a"),
        (
            "price",
            f"${s.price_per_gpu_hour:g} per GPU-hour ({s.price_source})"
            if s.price_per_gpu_hour
            else "n/a",
        ),
    ]
    if s.calibration:
        c = s.calibration
        rows.append(("calibration", f"{c.backend} on {c.device}, {c.date} ({c.source})"))
        for kernel, fit in c.kernels.items():
            rows.append(
                (
                    f"  {kernel}",
                    f"compute {fit.compute_efficiency:.3g}, bandwidth "
                    f"{fit.bandwidth_efficiency:.3g}, overhead {format_si(fit.overhead_seconds, 's')}",
                )
            )
    else:
        rows.append(("calibration", "none (datasheet peaks at full efficiency)"))
    if s.notes:
        rows.append(("notes", s.notes))
    rows.append(("file", f"{entry.path} ({entry.origin})"))
    print_table(f"Hardware profile {s.name}", ["field", "value"], rows)
    console().print("sources:")
    for src in s.sources:
        console().print(f"  - {src}", soft_wrap=True)
