"""What `cost` shows: the JSON document of one problem's cost and the table of its terms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinetics_cli.engine.kinetics import ProblemCost
    from kinetics_cli.specs import HardwareProfile, ModelCard


def cost_document(
    card: ModelCard,
    profile: HardwareProfile,
    result: ProblemCost,
    used: float,
    *,
    law: str,
    attention: str,
    kv_budget: float | None,
    block_size: float,
    prompt_len: float,
    gen_len: Sequence[float],
    trials: int,
    params: float | None,
) -> dict[str, Any]:
    """The `cost --json` document: the setting, every term at intensity `used`, and the times."""
    return {
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


def attention_note(card: ModelCard) -> str:
    """'' for plain GQA, whose terms the table's formulas give as written; else a line saying
    that the attention terms sum the card's attention groups (docs/cost-model.md section 3)."""
    groups = card.attention_groups()
    if card.mla is None and all(g.kind == "full" for g in groups):
        return ""
    parts = []
    for g in groups:
        if g.kind == "linear":
            parts.append(f"{g.layers} linear-attention layers (a fixed state, every step)")
        elif g.kind == "sliding":
            parts.append(f"{g.layers} sliding-window layers (A capped at W = {g.window:,.0f})")
        elif card.mla is not None:
            parts.append(f"{g.layers} MLA layers (one {g.kv_elements_per_token}-wide latent)")
        else:
            parts.append(f"{g.layers} full-attention layers")
    return (
        f"formulas as for plain GQA; {card.name}'s attention and KV terms sum its attention "
        f"groups: {', '.join(parts)} (docs/cost-model.md section 3)"
    )


def print_cost(
    doc: dict[str, Any], calibrated: bool, note: str = "", card_params: float | None = None
) -> None:
    """The human answer to `cost`: the terms of the law with their shares, and the time;
    `note` (attention_note) under the table where the formulas are not the card's own;
    `card_params`: the card's active parameters, named where `--params` replaced them."""
    from kinetics_cli.report.cells import Cell, cell, percent
    from kinetics_cli.report.console import say, show_table
    from kinetics_cli.report.format import duration, flops, format_bytes, format_count, intensity
    from kinetics_cli.report.format import tokens as format_tokens

    i = float(doc["intensity"])
    eflops = float(doc["eflops"])
    total = "eFLOPs" if doc["law"] == "kinetics" else "FLOPs"

    def share(value: float) -> Cell | str:
        return percent(value / eflops) if eflops else "-"

    def compute(name: str, formula: str, key: str, unit: str = "FLOPs") -> tuple[Any, ...]:
        value = float(doc[key])
        return name, formula, cell(flops(value), value, unit), share(value)

    def memory(name: str, formula: str, key: str) -> tuple[Any, ...]:
        value = float(doc[key])
        return name, formula, cell(format_bytes(value), value, "bytes"), share(i * value)

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
            f"I = {intensity(i)} FLOPs/byte",
            cell(flops(i * float(doc["memory_bytes"])), i * float(doc["memory_bytes"]), "eFLOPs"),
            share(i * float(doc["memory_bytes"])),
        ),
        (
            total,
            "Kinetics law" if doc["law"] == "kinetics" else "FLOPs-only law (I = 0)",
            cell(flops(eflops), eflops, total),
            cell("100%", 100.0),
        ),
    ]
    setting = doc["attention"]
    if doc["kv_budget"] is not None:
        setting = f"{setting}, KV budget {format_tokens(doc['kv_budget'])}"
    gen = doc["gen_len"]
    gen_text = (
        format_tokens(gen)
        if isinstance(gen, float)
        else "mean of " + ", ".join(format_tokens(g) for g in gen)
    )
    show_table(
        f"Cost per problem: {doc['model']}, L_in {format_tokens(doc['prompt_len'])}, "
        f"L_out {gen_text}, N {doc['trials']}, {setting}",
        ["term", "formula", ">value", f">share of {total}"],
        rows,
        wrap=("term", "formula", f"share of {total}"),
        csv_columns={"value": ("value", "unit"), f"share of {total}": (f"share of {total} (%)",)},
    )
    if note:
        say(note)
    line = (
        f"time on one {doc['hardware']} at full efficiency: {duration(doc['seconds'])} "
        f"(compute / peak bf16 + memory / HBM)"
    )
    if calibrated:
        line += f"; {doc['calibration']}: {duration(doc['calibrated_seconds'])}"
    say(line)
    p_text = f"P = {format_count(doc['params'])} active parameters"
    if card_params is not None and doc["params"] != card_params:
        p_text += f" (--params; the card's {format_count(card_params)})"
    i_text = (
        f"{doc['hardware']} intensity {intensity(doc['hardware_intensity'])} FLOPs/byte "
        "(bf16 peak / HBM)"
    )
    if doc["law"] == "kinetics" and i != doc["hardware_intensity"]:
        i_text += f"; the law above uses --intensity {intensity(i)}"
    say(f"{p_text}; {i_text}")
