"""`kinetics roofline MODEL`: one serving step operator by operator on a hardware profile."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from kinetics_cli.cli.cost import ATTENTION_OPTION, KV_BUDGET_OPTION, check_kv_budget, fitted_table
from kinetics_cli.cli.params import (
    JSON_OPTION,
    block_size_option,
    bounded,
    hardware_option,
    model_argument,
    plot_option,
    tokens,
    whole_tokens,
)
from kinetics_cli.limits import BATCH, TENSOR_PARALLEL

if TYPE_CHECKING:
    from kinetics_cli.engine.roofline import StepReport

DEFAULT_CONTEXT = 8192.0


def roofline(
    model: str = model_argument("qwen3-32b"),
    hardware: str = hardware_option(),
    phase: str = typer.Option("decode", "--phase", help="decode or prefill."),
    batch: int = typer.Option(
        1, "--batch", "-b", parser=bounded(BATCH, whole=True), help="Sequences in the step."
    ),
    context: int | None = typer.Option(
        None,
        "--context",
        "-c",
        parser=whole_tokens,
        metavar="C",
        help=f"Tokens already cached per sequence (decode default {DEFAULT_CONTEXT:g}, "
        "prefill default 0; k = 1024 tokens: 32k is 32768; at most the model's context window).",
    ),
    prompt_len: float | None = typer.Option(
        None,
        "--prompt-len",
        parser=tokens,
        metavar="L",
        help=f"Prefill: new prompt tokens per sequence (default {DEFAULT_CONTEXT:g}).",
    ),
    tp: int = typer.Option(
        1,
        "--tp",
        parser=bounded(TENSOR_PARALLEL, whole=True),
        help="Tensor-parallel GPUs per replica.",
    ),
    attention: str = ATTENTION_OPTION,
    kv_budget: float | None = KV_BUDGET_OPTION,
    block_size: float = block_size_option(),
    dtype: str = typer.Option(
        "bf16",
        "--dtype",
        help="bf16 or fp8: the peak used and the activation width; weights and KV keep the "
        "card's stored width, narrowed to this dtype if it is narrower.",
    ),
    plot: Path | None = plot_option("Draw the roofline to FILE (.png or .svg)."),
    json: bool = JSON_OPTION,
) -> None:
    """FLOPs, bytes, roofline time per operator of one step; step time, throughput, memory fit."""
    from kinetics_cli.cli import context as cli_context
    from kinetics_cli.engine.kinetics import check_context
    from kinetics_cli.engine.roofline import decode_step
    from kinetics_cli.errors import InputError
    from kinetics_cli.render import console, emit_json, warn

    if phase == "decode" and prompt_len is not None:
        raise InputError(
            "--prompt-len applies to --phase prefill; a decode step adds one token per sequence "
            "(use --context for the tokens already cached)"
        )
    catalog = cli_context.catalog()
    card = catalog.models.get(model).spec
    profile = catalog.hardware.get(hardware).spec
    new: float | None
    cached: float
    if phase == "prefill":
        cached = 0.0 if context is None else context
        new = DEFAULT_CONTEXT if prompt_len is None else prompt_len
    else:
        cached = DEFAULT_CONTEXT if context is None else context
        new = prompt_len
    check_context(
        card,
        cached + (new if phase == "prefill" and new is not None else 1.0),
        f"the context of this step ({cached:,.0f} cached + "
        + (f"{new:,.0f} new" if phase == "prefill" and new is not None else "1 new")
        + " tokens)",
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
    )  # validates every input before the budget is compared with the context
    if phase == "decode" or attention == "dense":  # (prefill notes that it attends densely)
        check_kv_budget(attention, kv_budget, cached, f"the context ({cached:g} tokens)")
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


def _print(r: StepReport) -> None:
    from kinetics_cli.plots import describe_step
    from kinetics_cli.render import console
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
