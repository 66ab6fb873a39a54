"""`kinetics cost MODEL`: FLOPs, bytes and eFLOPs of one problem under the Kinetics law."""

from __future__ import annotations

import typer

from kinetics_cli.cli.params import JSON_OPTION, count, quantity


def cost(
    model: str = typer.Argument(..., help="Model card name or alias, e.g. qwen3-8b."),
    hardware: str = typer.Option("b200", "--hardware", "-H", help="Hardware profile."),
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
    intensity: float | None = typer.Option(
        None,
        "--intensity",
        parser=quantity,
        metavar="I",
        help="FLOPs per byte (default: the profile's bf16 FLOP/s / HBM B/s; 562.5 reproduces "
        "the paper's B200 figures).",
    ),
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
    from kinetics_cli.render import emit_json

    catalog = context.catalog()
    card = catalog.models.get(model).spec
    profile = catalog.hardware.get(hardware).spec
    if attention != "dense" and kv_budget is not None:
        context_len = prompt_len + max(gen_len)
        if kv_budget > context_len:
            raise InputError(
                f"--kv-budget {kv_budget:g} is larger than the final context "
                f"({prompt_len:g} + {max(gen_len):g} = {context_len:g} tokens); "
                "use dense attention or a smaller budget"
            )
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


def _print(doc: dict, calibrated: bool) -> None:  # type: ignore[type-arg]
    from kinetics_cli.render import console, print_table
    from kinetics_cli.units import format_bytes, format_si

    i = float(doc["intensity"])
    eflops = float(doc["eflops"])

    def share(value: float) -> str:
        return f"{100 * value / eflops:.1f}%" if eflops else "-"

    dense = doc["attention"] == "dense"
    rows = [
        ("linear compute", "2 N P L_out", format_si(doc["linear_flops"], "FLOP"), ""),
        ("attention compute", "4 h A N", format_si(doc["attention_flops"], "FLOP"), ""),
        (
            "KV memory",
            "4 d (L_in L_out + N L_out²/2)" if dense else "4 d A N",
            format_bytes(doc["kv_bytes"]),
            "",
        ),
    ]
    if doc["attention"] == "block-topk":
        rows += [
            (
                "search compute",
                "2 h (L_in L_out + L_out²/2) N / S",
                format_si(doc["search_flops"], "FLOP"),
                "",
            ),
            (
                "search memory",
                "2 d (L_in L_out + N L_out²/2) / S",
                format_bytes(doc["search_bytes"]),
                "",
            ),
        ]
    rows += [
        (
            "compute FLOPs",
            "",
            format_si(doc["compute_flops"], "FLOP"),
            share(float(doc["compute_flops"])),
        ),
        (
            "memory bytes x I",
            f"I = {i:g}",
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
    print_table(
        f"Cost per problem: {doc['model']}, L_in {doc['prompt_len']:g}, L_out {gen_text}, "
        f"N {doc['trials']}, {setting}",
        ["term", "formula", ">value", ">share of eFLOPs"],
        rows,
    )
    line = (
        f"time on one {doc['hardware']} at full efficiency: {format_si(doc['seconds'], 's')} "
        f"(compute / peak bf16 + memory / HBM)"
    )
    if calibrated:
        line += f"; {doc['calibration']}: {format_si(doc['calibrated_seconds'], 's')}"
    console().print(line, soft_wrap=True)
    console().print(
        f"P = {doc['params']:.4g} active parameters; {doc['hardware']} intensity "
        f"{doc['hardware_intensity']:g} FLOPs/byte (bf16 peak / HBM)"
    )
