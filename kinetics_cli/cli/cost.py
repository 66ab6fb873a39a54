"""`kinetics cost MODEL`: FLOPs, bytes and eFLOPs of one problem under the Kinetics law."""

from __future__ import annotations

import typer

from kinetics_cli.cli.params import (
    JSON_OPTION,
    block_size_option,
    count,
    hardware_option,
    intensity_option,
    model_argument,
    quantity,
)

# Options `kinetics roofline` shares with `kinetics cost` beyond those of cli/params.py, and
# below the budget check of the three cost-model commands.
ATTENTION_OPTION = typer.Option(
    "dense", "--attention", metavar="KIND", help="dense, topk (oracle top-k) or block-topk."
)
KV_BUDGET_OPTION = typer.Option(
    None,
    "--kv-budget",
    parser=quantity,
    metavar="B",
    help="KV tokens each step attends to under sparse attention, local window included.",
)


def check_kv_budget(attention: str, kv_budget: float | None, context: float, what: str) -> None:
    """Reject a sparse budget beyond the context (`what` describes it); warn that a budget given
    with dense attention is ignored."""
    from kinetics_cli.errors import InputError
    from kinetics_cli.report.console import warn

    if kv_budget is None:
        return
    if attention == "dense":
        warn("--kv-budget applies to sparse attention only; dense attention ignores it")
    elif kv_budget > context:
        raise InputError(
            f"--kv-budget {kv_budget:g} is larger than {what}; use dense attention or a smaller "
            "budget"
        )


def cost(
    model: str = model_argument(),
    hardware: str = hardware_option(),
    prompt_len: float = typer.Option(
        ..., "--prompt-len", parser=quantity, metavar="L_IN", help="Prompt tokens (L_in)."
    ),
    gen_len: list[float] = typer.Option(
        ...,
        "--gen-len",
        parser=quantity,
        metavar="L_OUT",
        help="Generated tokens per trial (L_out). Repeat for a distribution of lengths: the cost "
        "is the mean over them, as the paper computes it.",
    ),
    trials: int = typer.Option(1, "--trials", "-n", parser=count, help="Trials per problem (N)."),
    attention: str = ATTENTION_OPTION,
    kv_budget: float | None = KV_BUDGET_OPTION,
    block_size: float = block_size_option(),
    intensity: float | None = intensity_option(),
    law: str = typer.Option("kinetics", "--law", help="kinetics (eFLOPs) or flops (I = 0)."),
    params: float | None = typer.Option(
        None,
        "--params",
        parser=quantity,
        metavar="P",
        help="Override the active parameter count P (e.g. 8.19e9 as in the paper's code).",
    ),
    json: bool = JSON_OPTION,
) -> None:
    """FLOPs, bytes and eFLOPs of one problem (all N trials of one prompt).

    eFLOPs = compute FLOPs + I x memory bytes. seconds = compute / peak bf16 + memory / HBM
    bandwidth on one accelerator at full efficiency (the paper's additive time).
    """
    from kinetics_cli.cli import context
    from kinetics_cli.engine.kinetics import expected_problem_cost, law_intensity
    from kinetics_cli.errors import InputError
    from kinetics_cli.report.console import emit_json
    from kinetics_cli.report.cost import cost_document, print_cost

    catalog = context.catalog()
    card = catalog.models.get(model).spec
    profile = catalog.hardware.get(hardware).spec
    hardware_intensity = profile.intensity if intensity is None else intensity
    if hardware_intensity < 0:
        raise InputError(f"--intensity must not be negative (got {hardware_intensity:g})")
    used = law_intensity(law, hardware_intensity)
    result = expected_problem_cost(
        card,
        prompt_len,
        gen_len,
        trials,
        attention,
        kv_budget,
        block_size,
        params=params,
    )  # validates every input before the budget is compared with the context
    final = prompt_len + max(gen_len)
    check_kv_budget(
        attention,
        kv_budget,
        final,
        f"the final context ({prompt_len:g} + {max(gen_len):g} = {final:g} tokens)",
    )
    doc = cost_document(
        card,
        profile,
        result,
        used,
        law=law,
        attention=attention,
        kv_budget=kv_budget,
        block_size=block_size,
        prompt_len=prompt_len,
        gen_len=gen_len,
        trials=trials,
        params=params,
    )
    if json:
        emit_json(doc)
        return
    print_cost(doc, profile.calibration is not None)
