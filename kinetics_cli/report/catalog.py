"""What `hardware` and `models` show: the list tables, every field of one entry, and their JSON
documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kinetics_cli.specs import KERNEL_CLASSES, PUBLISHED_TOLERANCE

if TYPE_CHECKING:
    from kinetics_cli.catalog import Entry
    from kinetics_cli.specs import HardwareProfile, KernelFit, ModelCard


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


def print_hardware_list(entries: list[Entry[HardwareProfile]]) -> None:
    """The `hardware list` table: key figures of every profile."""
    from kinetics_cli.report import cells
    from kinetics_cli.report.console import show_table
    from kinetics_cli.report.format import format_si

    rows = []
    for e in entries:
        s = e.spec
        rows.append(
            (
                s.name,
                s.vendor,
                cells.cell(format_si(s.peak_flops["bf16"], "FLOP/s"), s.peak_flops["bf16"]),
                cells.cell(format_si(s.hbm_bandwidth, "B/s"), s.hbm_bandwidth),
                cells.byte_count(s.hbm_capacity),
                cells.intensity(s.intensity),
                "yes" if s.calibration else "",
                e.origin,
            )
        )
    show_table(
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
        wrap=("vendor", "calibrated"),
        optional=("origin", "vendor"),
        csv_columns={
            "bf16 dense": ("bf16 dense (FLOP/s)",),
            "HBM bandwidth": ("HBM bandwidth (B/s)",),
            "HBM": ("HBM (B)",),
            "intensity": ("intensity (FLOP/B)",),
        },
    )


def print_hardware(entry: Entry[HardwareProfile]) -> None:
    """The `hardware show` table: every field of one profile, then its sources."""
    from kinetics_cli.report.console import show_table
    from kinetics_cli.report.format import duration, format_bytes, format_si, intensity, money

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
        ("intensity (bf16 / HBM)", f"{intensity(s.intensity)} FLOPs/byte"),
        ("interconnect (per GPU, one way)", format_si(s.interconnect_bandwidth, "B/s")),
        ("GPUs per node", str(s.gpus_per_node)),
        ("TDP", f"{s.tdp_watts:g} W" if s.tdp_watts else "n/a"),
        (
            "serving power",
            f"{s.serving_watts:.0f} W = {s.serving_power.fraction_of_tdp:.2f} x TDP, measured "
            f"({s.serving_power.runs} runs, {s.serving_power.low:.2f}-{s.serving_power.high:.2f} "
            "x TDP)"
            if s.serving_power is not None and s.serving_watts is not None
            else ("TDP, an upper bound: no measurement" if s.tdp_watts else "n/a"),
        ),
        (
            "price",
            f"{money(s.price_per_gpu_hour)} per GPU-hour; source: "
            + (s.price_source or "none given (price_source is empty)")
            if s.price_per_gpu_hour
            else "n/a",
        ),
    ]
    if s.calibration:
        c = s.calibration
        what = ", ".join(x for x in (c.backend, c.device, c.date) if x)
        rows.append(
            (
                "calibration",
                (what or "no backend, device or date recorded")
                + (f"; source {c.source}" if c.source else ""),
            )
        )
        timed = [k for k in KERNEL_CLASSES if k != "decode_step"]  # decode_step: held out
        fits: list[tuple[str, KernelFit]] = [(k, c.kernels[k]) for k in timed if k in c.kernels]
        if len(fits) < len(timed):  # the table-wide figures time every other class
            fits.append(("other classes", c.for_kernel("")))
        for kernel, fit in fits:
            rows.append(
                (
                    f"  {kernel}",
                    f"compute {fit.compute_efficiency:.3g}, bandwidth "
                    f"{fit.bandwidth_efficiency:.3g}, overhead {duration(fit.overhead_seconds)}",
                )
            )
    else:
        rows.append(("calibration", "none (datasheet peaks at full efficiency)"))
    e = s.efficiency
    if e is not None:
        rows.append(
            (
                "default serving efficiency",
                f"matmuls {e.gemm_compute:.0%} of peak (fp8 {e.gemm_compute_for('fp8'):.0%}), "
                f"{e.gemm_bandwidth:.0%} of HBM; decode attention {e.attention_bandwidth:.0%}; "
                f"{duration(e.kernel_overhead_seconds)} per kernel; host "
                f"{duration(e.host_seconds_per_sequence)} per sequence per step; collectives "
                f"{duration(e.collective_latency_seconds)} + {e.collective_bandwidth:.0%} "
                "of the link (kinetics serve; sources below)",
            )
        )
    else:
        rows.append(("default serving efficiency", "none (serve with --efficiency datasheet)"))
    if s.notes:
        rows.append(("notes", s.notes))
    rows.append(("file", f"{entry.path} ({entry.origin})"))
    show_table(f"Hardware profile {s.name}", ["field", "value"], rows, wrap=("field", "value"))
    _sources(s.sources)
    if e is not None:
        _sources(e.sources, "serving efficiency sources:")


def model_document(entry: Entry[ModelCard]) -> dict[str, Any]:
    """Every field of a card, flattened architecture keys, and derived figures."""
    spec = entry.spec
    a = spec.architecture
    doc = spec.model_dump(mode="json")
    doc.update(
        layers=a.layers,
        hidden_size=a.hidden_size,
        attention_heads=a.attention_heads,
        kv_heads=a.kv_heads,
        head_dim=a.head_dim,
        total_params=spec.total_params,
        active_params=spec.active_params,
        non_embedding_params=spec.non_embedding_params,
        embedding_params=spec.embedding_params,
        kv_bytes_per_token=spec.kv_bytes_per_token,
        sliding_kv_bytes_per_token=spec.sliding_kv_bytes_per_token,
        state_bytes_per_sequence=spec.state_bytes_per_sequence,
        weight_bytes=spec.weight_bytes,
        attention=spec.attention_kind_summary,
        file=str(entry.path),
        origin=entry.origin,
    )
    # each published count against the derived one (like with like: specs.published_comparison)
    doc["published_check"] = [
        {
            "figure": name,
            "derived": derived,
            "published": stated,
            "relative_difference": derived / stated - 1,
            "within_tolerance": abs(derived / stated - 1) <= PUBLISHED_TOLERANCE,
        }
        for name, derived, stated in spec.published_comparison()
    ]
    doc["published_tolerance"] = PUBLISHED_TOLERANCE
    return doc


def print_model_list(entries: list[Entry[ModelCard]]) -> None:
    """The `models list` table: derived figures of every card."""
    from kinetics_cli.report import cells
    from kinetics_cli.report.console import show_table

    rows = []
    for e in entries:
        s = e.spec
        rows.append(
            (
                s.name,
                s.family,
                cells.param_count(s.total_params),
                cells.param_count(s.active_params),
                s.architecture.layers,
                s.attention_kind_summary + (" MoE" if s.moe else ""),
                cells.byte_count(s.kv_bytes_per_token),
                e.origin,
            )
        )
    show_table(
        "Model cards (derived from the architecture; active = matmul weights per token incl. LM head)",
        ["name", "family", ">total", ">active", ">layers", "attention", ">KV/token", "origin"],
        rows,
        wrap=("attention", "KV/token"),
        optional=("origin", "family"),
        csv_columns={
            "total": ("total (parameters)",),
            "active": ("active (parameters)",),
            "KV/token": ("KV/token (B)",),
        },
    )


def print_model(entry: Entry[ModelCard]) -> None:
    """The `models show` table: every field of one card with derived figures, then its sources."""
    from kinetics_cli.report.console import show_table
    from kinetics_cli.report.format import format_bytes, format_count

    s = entry.spec
    rows: list[tuple[str, str]] = [
        ("name", s.name),
        ("aliases", ", ".join(s.aliases)),
        ("family", s.family),
        ("Hugging Face id", s.hf_id),
        ("description", s.description),
    ]
    for key, value in s.architecture.model_dump().items():
        rows.append((f"architecture.{key}", str(value)))
    for section in ("moe", "mla", "sliding_window", "linear_attention"):
        block = getattr(s, section)
        if block is not None:
            for key, value in block.model_dump().items():
                rows.append((f"{section}.{key}", str(value)))
    rows += [
        ("attention", s.attention_kind_summary),
        ("total parameters (derived)", f"{format_count(s.total_params)} ({s.total_params:,.0f})"),
        (
            "non-embedding parameters",
            f"{format_count(s.non_embedding_params)} ({s.non_embedding_params:,.0f})",
        ),
        (
            "active parameters per token",
            f"{format_count(s.active_params)} ({s.active_params:,.0f}); "
            "matmuls incl. LM head, embedding lookup excluded",
        ),
        (
            "KV cache per token",
            f"{format_bytes(s.kv_bytes_per_token)} ({s.kv_bytes_per_token:,.0f} B)",
        ),
    ]
    if s.sliding_window is not None:
        rows.append(
            (
                "sliding-window KV per token",
                f"{s.sliding_kv_bytes_per_token:,.0f} B "
                f"(held for {s.sliding_window.window} tokens)",
            )
        )
    if s.state_bytes_per_sequence:
        rows.append(
            ("linear-attention state", format_bytes(s.state_bytes_per_sequence) + " per sequence")
        )
    rows.append(("weights", format_bytes(s.weight_bytes)))
    if s.published:
        p = s.published
        check = {name: derived / stated - 1 for name, derived, stated in s.published_comparison()}

        def against(name: str) -> str:
            miss = abs(check[name]) > PUBLISHED_TOLERANCE
            flag = f": more than {PUBLISHED_TOLERANCE:.0%} apart, check the card" if miss else ""
            return f"derived {check[name]:+.1%}{flag}"

        if p.total_params:
            rows.append(
                (
                    "published total",
                    f"{format_count(p.total_params)} ({against('total_params')})",
                )
            )
        if p.non_embedding_params:
            rows.append(
                (
                    "published non-embedding",
                    f"{format_count(p.non_embedding_params)} ({against('non_embedding_params')})",
                )
            )
        if p.active_params:
            counts = "counts" if p.active_counts_embedding else "does not count"
            rows.append(
                (
                    "published active",
                    f"{format_count(p.active_params)} ({counts} the input embedding; "
                    f"{against('active_params')})",
                )
            )
        rows.append(("published source", p.source))
    rows.append(("file", f"{entry.path} ({entry.origin})"))
    show_table(f"Model card {s.name}", ["field", "value"], rows, wrap=("field", "value"))
    _sources(s.sources)


def _sources(sources: list[str], heading: str = "sources:") -> None:
    """The sources of an entry, one per line after a heading line."""
    from kinetics_cli.report.console import say

    say(heading)
    for src in sources:
        say(f"  - {src}")


def print_imported_model(entry: Entry[ModelCard]) -> None:
    """The `models import` table: the file written and the card's key figures."""
    from kinetics_cli.report.console import show_table
    from kinetics_cli.report.format import format_bytes, format_count

    s = entry.spec
    show_table(
        f"Imported model card {s.name}",
        ["field", "value"],
        [
            ("file", str(entry.path)),
            ("attention", s.attention_kind_summary + (" MoE" if s.moe else "")),
            ("total parameters (derived)", format_count(s.total_params)),
            ("active parameters per token", format_count(s.active_params)),
            ("KV cache per token", format_bytes(s.kv_bytes_per_token)),
            ("weights", format_bytes(s.weight_bytes)),
        ],
        wrap=("field", "value"),
    )
