"""`kinetics cost MODEL`: FLOPs, bytes and eFLOPs of one problem under the Kinetics law."""

from __future__ import annotations

import typer

from kinetics_cli.cli.params import (
    FORMAT_OPTION,
    JSON_OPTION,
    block_size_option,
    bounded,
    choices,
    hardware_option,
    intensity_option,
    model_argument,
    page_size,
    positive_tokens,
    tokens,
)
from kinetics_cli.limits import PARAMETERS, TRIALS

# Options `kinetics roofline` shares with `kinetics cost` beyond those of cli/params.py, and
# below the budget check of the three cost-model commands.
ATTENTION_OPTION = typer.Option(
    "dense",
    "--attention",
    metavar="KIND",
    help="dense, topk (oracle top-k) or block-topk.",
    autocompletion=choices(source="kinetics_cli.engine.kinetics:ATTENTIONS"),
)
KV_BUDGET_OPTION = typer.Option(
    None,
    "--kv-budget",
    parser=positive_tokens,
    metavar="B",
    help="KV tokens each step attends to under sparse attention, local window included "
    "(k = 1024 tokens; block-topk: whole pages of --block-size).",
)


def check_kv_budget(
    attention: str, kv_budget: float | None, context: float, what: str, block_size: float = 0.0
) -> None:
    """Reject a sparse budget beyond the context (`what` describes it), a budget given with
    dense attention, which would be ignored (an option another option makes meaningless is
    refused, naming both), and a block top-k budget that is not a whole number of pages of
    `block_size` (params.check_pages; after the context, so that the whole-page budgets it
    names are not beyond it for want of the other message)."""
    from kinetics_cli.cli.params import check_pages
    from kinetics_cli.errors import InputError

    if kv_budget is None:
        return
    if attention == "dense":
        raise InputError(
            "--kv-budget applies to sparse attention; dense attention attends to the whole "
            "context (add --attention topk or block-topk, or drop --kv-budget)"
        )
    if kv_budget > context:
        raise InputError(
            f"--kv-budget {kv_budget:g} is larger than {what}; use dense attention or a smaller "
            "budget"
        )
    check_pages(attention, [kv_budget], block_size)


def cost(
    model: str = model_argument(),
    hardware: str = hardware_option(),
    prompt_len: float = typer.Option(
        ...,
        "--prompt-len",
        parser=tokens,
        metavar="L_IN",
        help="Prompt tokens (L_in; k = 1024 tokens, as in '32k context').",
    ),
    gen_len: list[float] = typer.Option(
        ...,
        "--gen-len",
        parser=tokens,
        metavar="L_OUT",
        help="Generated tokens per trial (L_out; k = 1024 tokens). Repeat for a distribution of "
        "lengths: the cost is the mean over them, as the paper computes it. L_in + L_out must "
        "fit the model's context window.",
    ),
    trials: int = typer.Option(
        1,
        "--trials",
        "-n",
        metavar="N",
        parser=bounded(TRIALS, whole=True),
        help="Trials per problem (N).",
    ),
    attention: str = ATTENTION_OPTION,
    kv_budget: float | None = KV_BUDGET_OPTION,
    block_size: float | None = block_size_option(),
    intensity: float | None = intensity_option(),
    law: str = typer.Option(
        "kinetics",
        "--law",
        metavar="LAW",
        help="kinetics (eFLOPs) or flops (I = 0).",
        autocompletion=choices(source="kinetics_cli.engine.kinetics:LAWS"),
    ),
    params: float | None = typer.Option(
        None,
        "--params",
        parser=bounded(PARAMETERS),
        metavar="P",
        help="Override the active parameter count P (e.g. 8.19e9 as in the paper's code).",
    ),
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """FLOPs, bytes and eFLOPs of one problem (all N trials of one prompt).

    eFLOPs = compute FLOPs + I x memory bytes. seconds = compute / peak bf16 + memory / HBM
    bandwidth on one accelerator at full efficiency (the paper's additive time).
    """
    from kinetics_cli.cli import context
    from kinetics_cli.cli.plan import check_law_intensity
    from kinetics_cli.engine.kinetics import check_context, expected_problem_cost, law_intensity
    from kinetics_cli.errors import InputError
    from kinetics_cli.report.console import emit_json
    from kinetics_cli.report.cost import attention_note, cost_document, print_cost

    block_size = page_size(block_size, [attention])
    check_law_intensity(law, intensity, needs_intensity=False)
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
    check_context(
        card, final, f"--prompt-len + --gen-len ({prompt_len:,.0f} + {max(gen_len):,.0f} tokens)"
    )
    check_kv_budget(
        attention,
        kv_budget,
        final,
        f"the final context ({prompt_len:g} + {max(gen_len):g} = {final:g} tokens)",
        block_size,
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
    print_cost(doc, profile.calibration is not None, attention_note(card), card.active_params)
