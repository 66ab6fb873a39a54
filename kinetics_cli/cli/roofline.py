"""`kinetics roofline MODEL`: one serving step operator by operator on a hardware profile."""

from __future__ import annotations

from pathlib import Path

import typer

from kinetics_cli.cli.cost import ATTENTION_OPTION, KV_BUDGET_OPTION, check_kv_budget
from kinetics_cli.cli.params import (
    FORCE_PLOT_OPTION,
    FORMAT_OPTION,
    JSON_OPTION,
    block_size_option,
    bounded,
    check_pages,
    choices,
    hardware_option,
    model_argument,
    page_size,
    plot_option,
    tokens,
    whole_tokens,
)
from kinetics_cli.limits import BATCH, TENSOR_PARALLEL

DEFAULT_CONTEXT = 8192.0


def roofline(
    model: str = model_argument("qwen3-32b"),
    hardware: str = hardware_option(),
    phase: str = typer.Option(
        "decode",
        "--phase",
        metavar="PHASE",
        help="decode or prefill.",
        autocompletion=choices("decode", "prefill"),
    ),
    batch: int = typer.Option(
        1,
        "--batch",
        "-b",
        metavar="B",
        parser=bounded(BATCH, whole=True),
        help="Sequences in the step.",
    ),
    context: int | None = typer.Option(
        None,
        "--context",
        "-c",
        parser=whole_tokens,
        metavar="C",
        help=f"Tokens already cached per sequence (decode default {DEFAULT_CONTEXT:g}, "
        "prefill default 0; k = 1024 tokens: 32k is 32768; with the step's new tokens at most "
        "the model's context window: window - 1 for a decode step).",
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
        metavar="T",
        parser=bounded(TENSOR_PARALLEL, whole=True),
        help="Tensor-parallel GPUs per replica.",
    ),
    attention: str = ATTENTION_OPTION,
    kv_budget: float | None = KV_BUDGET_OPTION,
    block_size: float | None = block_size_option(),
    dtype: str = typer.Option(
        "bf16",
        "--dtype",
        metavar="DTYPE",
        autocompletion=choices(source="kinetics_cli.engine.formats:COMPUTE_FORMATS"),
        help="bf16, fp8 or fp4 (where the profile has the peak): the peak used and the width of "
        "weights, cache and activations (weights and KV keep the card's width if narrower; fp4 "
        "means NVFP4 weights at 4.5 bits with an fp8 cache and activations).",
    ),
    weights: str | None = typer.Option(
        None,
        "--weights",
        metavar="DTYPE",
        autocompletion=choices(source="kinetics_cli.engine.formats:WEIGHT_FORMATS"),
        help="Weight format (bf16, fp8, mxfp4, nvfp4 or fp4), overriding --dtype for weights; "
        "the peak follows the format where the profile lists it.",
    ),
    kv: str | None = typer.Option(
        None,
        "--kv",
        metavar="DTYPE",
        autocompletion=choices(source="kinetics_cli.engine.formats:KV_FORMATS"),
        help="KV-cache format (bf16 or fp8), overriding --dtype for the cache.",
    ),
    plot: Path | None = plot_option("Draw the roofline to FILE (.png or .svg)."),
    allow_oversubscribe: bool = typer.Option(
        False,
        "--allow-oversubscribe",
        help="Time a step whose weights and KV exceed the GPU's memory (refused otherwise).",
    ),
    force: bool = FORCE_PLOT_OPTION,
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """FLOPs, bytes, roofline time per operator of one step; step time, throughput, memory fit."""
    from kinetics_cli.cli import context as cli_context
    from kinetics_cli.engine.kinetics import check_context
    from kinetics_cli.engine.roofline import decode_step
    from kinetics_cli.errors import InputError
    from kinetics_cli.report.console import emit_json, warn
    from kinetics_cli.report.roofline import print_roofline, roofline_document

    block_size = page_size(block_size, [attention])
    dtype = dtype.lower()  # as --weights and --kv read their formats
    if phase == "decode" and prompt_len is not None:
        raise InputError(
            "--prompt-len applies to --phase prefill; a decode step adds one token per sequence "
            "(use --context for the tokens already cached)"
        )
    if plot is not None:
        from kinetics_cli.report.plotting import check_plot

        check_plot(plot, force=force)
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
    precision = None
    if weights is not None or kv is not None:
        from kinetics_cli.engine.serving import step_precision

        precision = step_precision(card, profile, dtype, weights=weights, kv=kv)
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
        precision=precision,
    )  # validates every input before the budget is compared with the context
    if phase == "decode" or attention == "dense":  # (prefill notes that it attends densely)
        check_kv_budget(
            attention, kv_budget, cached, f"the context ({cached:g} tokens)", block_size
        )
    elif kv_budget is not None:  # the setting the header states is still a kernel's: whole pages
        check_pages(attention, [kv_budget], block_size)
    if not report.fits and not allow_oversubscribe:
        raise InputError(f"{report.notes[0]}; pass --allow-oversubscribe to time it anyway")
    if plot is not None:
        from kinetics_cli.report.roofline import roofline_plot

        roofline_plot(report, plot, force=force)
    for note in report.notes:
        warn(note)
    if json:
        emit_json(roofline_document(report, profile))
        return
    print_roofline(report, profile)
