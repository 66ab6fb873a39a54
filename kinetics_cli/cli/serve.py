"""`kinetics serve MODEL`: throughput, latency and memory of one deployment at one batch."""

from __future__ import annotations

from pathlib import Path

import typer

from kinetics_cli.cli.cost import ATTENTION_OPTION, KV_BUDGET_OPTION, check_kv_budget
from kinetics_cli.cli.params import (
    FORCE_PLOT_OPTION,
    FORMAT_OPTION,
    JSON_OPTION,
    MAX_BATCH_OPTION,
    at_least,
    block_size_option,
    bounded,
    choices,
    duration,
    engine_max_batch,
    hardware_option,
    model_argument,
    page_size,
    plot_option,
    whole_tokens,
)
from kinetics_cli.limits import BATCH, REPLICAS, TENSOR_PARALLEL, TRIALS


def serve(
    model: str = model_argument("qwen3-32b"),
    hardware: str = hardware_option(),
    tp: int = typer.Option(
        1,
        "--tp",
        metavar="T",
        parser=bounded(TENSOR_PARALLEL, whole=True),
        help="Tensor-parallel GPUs per replica.",
    ),
    ep: int = typer.Option(
        1,
        "--ep",
        metavar="E",
        parser=bounded(TENSOR_PARALLEL, whole=True),
        help="Expert-parallel groups among the TP GPUs (MoE; attention runs data-parallel).",
    ),
    replicas: int = typer.Option(
        1,
        "--replicas",
        metavar="R",
        parser=bounded(REPLICAS, whole=True),
        help="Data-parallel replicas.",
    ),
    weights: str | None = typer.Option(
        None,
        "--weights",
        metavar="DTYPE",
        autocompletion=choices(source="kinetics_cli.engine.formats:WEIGHT_FORMATS"),
        help="Weight format: bf16, fp8, mxfp4 (4.25 bits), nvfp4 or fp4 (4.5 bits); default: "
        "as the model card stores them.",
    ),
    kv: str = typer.Option(
        "bf16",
        "--kv",
        metavar="DTYPE",
        help="KV-cache format: bf16 or fp8.",
        autocompletion=choices(source="kinetics_cli.engine.formats:KV_FORMATS"),
    ),
    isl: int = typer.Option(
        1000,
        "--isl",
        metavar="TOKENS",
        parser=whole_tokens,
        callback=at_least(1),
        help="Prompt tokens per request (k = 1024 tokens).",
    ),
    osl: int = typer.Option(
        1000,
        "--osl",
        metavar="TOKENS",
        parser=whole_tokens,
        callback=at_least(1),
        help="Generated tokens per request (k = 1024 tokens).",
    ),
    trials: int = typer.Option(
        1,
        "--trials",
        "-n",
        metavar="N",
        parser=bounded(TRIALS, whole=True),
        help="Sequences per prompt: requests come as groups of N (a problem's Best-of-N trials) "
        "sharing one prompt, its KV cache held once per group and prefilled once.",
    ),
    batch: int | None = typer.Option(
        None,
        "--batch",
        "-b",
        metavar="B",
        parser=bounded(BATCH, whole=True),
        help="Concurrent sequences per replica, a multiple of --trials (default: the largest "
        "that fits, at most --max-batch).",
    ),
    max_tpot: float | None = typer.Option(
        None,
        "--max-tpot",
        parser=duration,
        metavar="TIME",
        help="Largest batch whose time per output token is at most TIME (e.g. 50ms).",
    ),
    max_ttft: float | None = typer.Option(
        None,
        "--max-ttft",
        parser=duration,
        metavar="TIME",
        help="Largest batch whose time to first token is at most TIME (e.g. 2s).",
    ),
    max_batch: int | None = MAX_BATCH_OPTION,
    efficiency: str = typer.Option(
        "default",
        "--efficiency",
        metavar="MODE",
        autocompletion=choices(source="kinetics_cli.cli.plan:EFFICIENCY_MODES"),
        help="default (kernel-level measured efficiencies, sources in the profile), datasheet "
        "(100% of peaks) or calibrated (the profile's [calibration] table).",
    ),
    attention: str = ATTENTION_OPTION,
    kv_budget: float | None = KV_BUDGET_OPTION,
    block_size: float | None = block_size_option(),
    sweep: bool = typer.Option(
        False, "--sweep", help="Also give throughput against latency over batch sizes."
    ),
    plot: Path | None = plot_option("Draw throughput against TPOT over batch sizes to FILE."),
    force: bool = FORCE_PLOT_OPTION,
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """Output tokens/s per replica and per GPU, TTFT, TPOT and the memory plan of a deployment."""
    from kinetics_cli.cli import context as cli_context
    from kinetics_cli.engine.serving import Deployment, resolve_max_batch
    from kinetics_cli.engine.serving import serve as run_serve
    from kinetics_cli.engine.serving_checks import check_for
    from kinetics_cli.report.console import emit_json
    from kinetics_cli.report.plotting import check_plot
    from kinetics_cli.report.serve import print_serve, serve_document, serve_plot

    block_size = page_size(block_size, [attention])
    check_kv_budget(
        attention,
        kv_budget,
        isl + osl,
        f"a request's final context ({isl + osl} tokens)",
        block_size,
    )
    if plot is not None:
        check_plot(plot, force=force)
    catalog = cli_context.catalog()
    card = catalog.models.get(model).spec
    profile = catalog.hardware.get(hardware).spec
    deployment = Deployment(
        tp=tp,
        ep=ep,
        replicas=replicas,
        weights=weights,
        kv=kv,
        max_batch=resolve_max_batch(engine_max_batch(max_batch), profile),
    )
    result = run_serve(
        card,
        profile,
        deployment,
        prompt_len=isl,
        gen_len=osl,
        batch=batch,
        trials=trials,
        max_tpot=max_tpot,
        max_ttft=max_ttft,
        attention=attention,
        kv_budget=kv_budget,
        block_size=block_size,
        efficiency=efficiency,
        sweep=sweep or plot is not None,
    )
    check = check_for(result.efficiency_mode, card.moe is not None, profile.name)
    if plot is not None:
        serve_plot(result, plot, force=force)
    if json:
        emit_json(serve_document(result, check))
        return
    print_serve(result, sweep=sweep, check=check)
