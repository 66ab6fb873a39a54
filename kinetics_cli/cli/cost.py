"""`kinetics cost MODEL`: FLOPs, bytes and eFLOPs of one problem under the Kinetics law."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer

from kinetics_cli.cli.params import (
    JSON_OPTION,
    block_size_option,
    bounded,
    hardware_option,
    intensity_option,
    model_argument,
    tokens,
)
from kinetics_cli.limits import PARAMETERS, TRIALS

if TYPE_CHECKING:
    from rich.table import Table

# Options `kinetics roofline` shares with `kinetics cost` beyond those of cli/params.py, and
# below the budget check and the table layout of the three cost-model commands.
ATTENTION_OPTION = typer.Option(
    "dense", "--attention", metavar="KIND", help="dense, topk (oracle top-k) or block-topk."
)
KV_BUDGET_OPTION = typer.Option(
    None,
    "--kv-budget",
    parser=tokens,
    metavar="B",
    help="KV tokens each step attends to under sparse attention, local window included "
    "(k = 1024 tokens).",
)


def check_kv_budget(attention: str, kv_budget: float | None, context: float, what: str) -> None:
    """Reject a sparse budget beyond the context (`what` describes it), and a budget given with
    dense attention, which would be ignored (an option another option makes meaningless is
    refused, naming both)."""
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


def fitted_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    wrap: Sequence[str] = (),
    optional: Sequence[str | tuple[str, ...]] = (),
) -> Table:
    """A light-ruled table that fits the console: cells are plain text (never rich markup, so
    names such as "mlp [dense layers]" print as they are), the `wrap` columns break between words
    only, every other column stays on one line, and the `optional` columns are left out, in that
    order (a tuple goes as one), while the table is still wider than the console. Column names as
    in render.make_table ('>' for right-aligned)."""
    from rich import box
    from rich.cells import cell_len
    from rich.markup import escape

    from kinetics_cli.render import console, make_table

    names = [c.lstrip(">") for c in columns]
    cells = [[str(row[i]) for row in rows] for i in range(len(columns))]
    widest = [max(cell_len(text) for text in [name, *cells[i]]) for i, name in enumerate(names)]
    narrowest = [  # a wrapped column needs its longest word, any other its longest cell
        max(cell_len(w) for w in " ".join([name, *cells[i]]).split()) if name in wrap else widest[i]
        for i, name in enumerate(names)
    ]
    width = console().width

    def overflow(keep: list[int], widths: list[int]) -> int:
        # SIMPLE_HEAD: a padding space either side of each cell, a separator between cells and
        # an edge character either side.
        return sum(widths[i] + 3 for i in keep) + 1 - width

    keep = list(range(len(columns)))
    give_up = [(group,) if isinstance(group, str) else group for group in optional]
    while give_up and overflow(keep, narrowest) > 0:
        for name in give_up.pop(0):
            keep.remove(names.index(name))
    # Narrow the wrapped columns, the widest first, until the table fits (or cannot shrink).
    widths = list(widest)
    excess = overflow(keep, widths)
    while excess > 0:
        slack = [(widths[i] - narrowest[i], i) for i in keep if widths[i] > narrowest[i]]
        if not slack:
            break
        widths[max(slack)[1]] -= 1
        excess -= 1
    table = make_table(
        escape(title),
        [columns[i] for i in keep],
        [[escape(cells[i][r]) for i in keep] for r in range(len(rows))],
    )
    table.box = box.SIMPLE_HEAD
    for column, i in zip(table.columns, keep, strict=True):
        column.width = widths[i]
        column.no_wrap = names[i] not in wrap
    return table


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
        1, "--trials", "-n", parser=bounded(TRIALS, whole=True), help="Trials per problem (N)."
    ),
    attention: str = ATTENTION_OPTION,
    kv_budget: float | None = KV_BUDGET_OPTION,
    block_size: float = block_size_option(),
    intensity: float | None = intensity_option(),
    law: str = typer.Option("kinetics", "--law", help="kinetics (eFLOPs) or flops (I = 0)."),
    params: float | None = typer.Option(
        None,
        "--params",
        parser=bounded(PARAMETERS),
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
    from kinetics_cli.cli.plan import check_law_intensity
    from kinetics_cli.engine.kinetics import check_context, expected_problem_cost, law_intensity
    from kinetics_cli.errors import InputError
    from kinetics_cli.render import emit_json

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
    )
    doc: dict[str, object] = {
        "model": card.name,
        "hardware": profile.name,
        "law": law,
        "attention": attention,
        "kv_budget": kv_budget if attention != "dense" else None,
        "block_size": block_size,
        "prompt_len": prompt_len,
        "gen_len": gen_len[0] if len(gen_len) == 1 else gen_len,
        "trials": trials,
        "params": card.active_params if params is None else params,
        **{k: float(v) for k, v in result.as_dict(used).items()},
        "hardware_intensity": profile.intensity,
        "seconds": float(result.seconds(profile, calibrated=False)),
        "calibrated_seconds": float(result.seconds(profile, calibrated=True)),
        "calibration": profile.calibration_note,
    }
    if json:
        emit_json(doc)
        return
    _print(doc, profile.calibration is not None)


def _print(doc: dict[str, Any], calibrated: bool) -> None:
    from kinetics_cli.render import console
    from kinetics_cli.units import format_bytes, format_count, format_si

    i = float(doc["intensity"])
    eflops = float(doc["eflops"])

    def share(value: float) -> str:
        return f"{100 * value / eflops:.1f}%" if eflops else "-"

    def compute(name: str, formula: str, key: str) -> tuple[str, str, str, str]:
        value = float(doc[key])
        return name, formula, format_si(value, "FLOP"), share(value)

    def memory(name: str, formula: str, key: str) -> tuple[str, str, str, str]:
        value = float(doc[key])
        return name, formula, format_bytes(value), share(i * value)

    dense = doc["attention"] == "dense"
    rows = [
        compute("linear compute", "2 N P L_out", "linear_flops"),
        compute("attention compute", "4 h A N", "attention_flops"),
        memory("KV memory", "4 d (L_in L_out + N L_out²/2)" if dense else "4 d A N", "kv_bytes"),
    ]
    if doc["attention"] == "block-topk":
        rows += [
            compute("search compute", "2 h (L_in L_out + L_out²/2) N / S", "search_flops"),
            memory("search memory", "2 d (L_in L_out + N L_out²/2) / S", "search_bytes"),
        ]
    rows += [
        compute("compute FLOPs", "sum of the compute terms", "compute_flops"),
        (
            "memory bytes x I",
            f"I = {i:g} FLOPs/byte",
            format_si(i * float(doc["memory_bytes"]), "FLOP"),
            share(i * float(doc["memory_bytes"])),
        ),
        ("eFLOPs", f"law: {doc['law']}", format_si(eflops, "FLOP"), "100%"),
    ]
    setting = doc["attention"]
    if doc["kv_budget"] is not None:
        setting = f"{setting}, KV budget {doc['kv_budget']:g}"
    gen = doc["gen_len"]
    gen_text = (
        f"{gen:g}" if isinstance(gen, float) else "mean of " + ", ".join(f"{g:g}" for g in gen)
    )
    console().print(
        fitted_table(
            f"Cost per problem: {doc['model']}, L_in {doc['prompt_len']:g}, L_out {gen_text}, "
            f"N {doc['trials']}, {setting}",
            ["term", "formula", ">value", ">share of eFLOPs"],
            rows,
            wrap=("term", "formula", "share of eFLOPs"),
        )
    )
    line = (
        f"time on one {doc['hardware']} at full efficiency: {format_si(doc['seconds'], 's')} "
        f"(compute / peak bf16 + memory / HBM)"
    )
    if calibrated:
        line += f"; {doc['calibration']}: {format_si(doc['calibrated_seconds'], 's')}"
    console().print(line, soft_wrap=True)
    console().print(
        f"P = {format_count(doc['params'])} active parameters; {doc['hardware']} intensity "
        f"{doc['hardware_intensity']:g} FLOPs/byte (bf16 peak / HBM)"
    )
