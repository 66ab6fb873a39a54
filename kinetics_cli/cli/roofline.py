"""`kinetics roofline MODEL`: one serving step operator by operator on a hardware profile."""

from __future__ import annotations

from pathlib import Path

import typer

from kinetics_cli.cli.params import JSON_OPTION, count, quantity

DEFAULT_CONTEXT = 8192.0


def roofline(
    model: str = typer.Argument(..., help="Model card name or alias, e.g. qwen3-32b."),
    hardware: str = typer.Option("b200", "--hardware", "-H", help="Hardware profile."),
    phase: str = typer.Option("decode", "--phase", help="decode or prefill."),
    batch: int = typer.Option(1, "--batch", "-b", parser=count, help="Sequences in the step."),
    context: float | None = typer.Option(
        None,
        "--context",
        "-c",
        parser=quantity,
        metavar="C",
        help=f"Tokens already cached per sequence (decode default {DEFAULT_CONTEXT:g}, "
        "prefill default 0).",
    ),
    prompt_len: float | None = typer.Option(
        None,
        "--prompt-len",
        parser=quantity,
        metavar="L",
        help=f"Prefill: new prompt tokens per sequence (default {DEFAULT_CONTEXT:g}).",
    ),
    tp: int = typer.Option(1, "--tp", parser=count, help="Tensor-parallel GPUs per replica."),
    attention: str = typer.Option(
        "dense", "--attention", help="dense, topk (oracle top-k) or block-topk."
    ),
    kv_budget: float | None = typer.Option(
        None,
        "--kv-budget",
        parser=quantity,
        metavar="B",
        help="KV tokens each step attends to under sparse attention, local window included.",
    ),
    block_size: float = typer.Option(
        16, "--block-size", parser=quantity, metavar="S", help="Page size of block top-k."
    ),
    dtype: str = typer.Option(
        "bf16",
        "--dtype",
        help="bf16 or fp8: the peak used and the activation width; weights and KV keep the "
        "card's stored width, narrowed to this dtype if it is narrower.",
    ),
    plot: Path | None = typer.Option(
        None, "--plot", metavar="FILE", help="Draw the roofline to FILE (.png or .svg)."
    ),
    json: bool = JSON_OPTION,
) -> None:
    """FLOPs, bytes, roofline time per operator of one step; step time, throughput, memory fit."""
    from kinetics_cli.cli import context as cli_context
    from kinetics_cli.engine.roofline import decode_step
    from kinetics_cli.errors import InputError
    from kinetics_cli.render import console, emit_json, warn

    catalog = cli_context.catalog()
    card = catalog.models.get(model).spec
    profile = catalog.hardware.get(hardware).spec
    new: float | None
    if phase == "prefill":
        cached = 0.0 if context is None else context
        new = DEFAULT_CONTEXT if prompt_len is None else prompt_len
    else:
        cached = DEFAULT_CONTEXT if context is None else context
        new = prompt_len
    if phase == "decode" and attention != "dense" and kv_budget is not None and kv_budget > cached:
        raise InputError(
            f"--kv-budget {kv_budget:g} is larger than the context ({cached:g} tokens); "
            "use dense attention or a smaller budget"
        )
    report = decode_step(
        card,
        profile,
        batch=batch,
        context=cached,
        tp=tp,
        attention=attention,
        kv_budget=kv_budget,
        block_size=block_size,
        dtype=dtype,
        phase=phase,
        prompt_len=new,
    )
    if plot is not None:
        from kinetics_cli.plots import roofline_plot

        roofline_plot(report, plot)
    for note in report.notes:
        warn(note)
    if json:
        doc = report.as_dict()
        doc.update(calibrated=profile.calibration is not None, calibration=profile.calibration_note)
        emit_json(doc)
        return
    _print(report)
    console().print(f"times: {profile.calibration_note}", soft_wrap=True)


def _print(report) -> None:  # type: ignore[no-untyped-def]
    from kinetics_cli.render import console, print_table
    from kinetics_cli.units import format_bytes, format_si

    r = report
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
    setting = r.attention if r.kv_budget is None else f"{r.attention} (KV budget {r.kv_budget:g})"
    shape = (
        f"batch {r.batch}, context {r.context:g}"
        if r.phase == "decode"
        else f"batch {r.batch}, prompt {r.prompt_len:g} (+{r.context:g} cached)"
    )
    print_table(
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
    )
    ridge = (
        f"batch {r.ridge_batch}"
        if r.ridge_batch is not None
        else "never up to 16M sequences (traffic that grows with the batch keeps it memory-bound)"
    )
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
        ("fits", "yes" if r.fits else "NO"),
        ("largest batch that fits", "unbounded" if r.max_batch is None else str(r.max_batch)),
    ]
    print_table("Summary", ["figure", "value"], summary)
    if not r.fits:
        console().print("[bold red]warning:[/] this configuration does not fit in HBM")
