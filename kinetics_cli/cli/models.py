"""`kinetics models list|show|import`: the model cards on the catalog search path."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kinetics_cli.cli import context
from kinetics_cli.cli.params import JSON_OPTION, model_argument
from kinetics_cli.errors import InputError

if TYPE_CHECKING:
    from kinetics_cli.catalog import Entry
    from kinetics_cli.specs import ModelCard

app = typer.Typer(
    help="Model cards: architecture, derived parameter counts, KV bytes per token.",
    no_args_is_help=True,
)


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
    return doc


@app.command("list")
def list_models(json: bool = JSON_OPTION) -> None:
    """List model cards with derived parameter counts and KV-cache size."""
    from kinetics_cli.render import emit_json, print_table
    from kinetics_cli.units import format_bytes, format_count

    entries = list(context.catalog().models)
    if json:
        emit_json([model_document(e) for e in entries])
        return
    rows = []
    for e in entries:
        s = e.spec
        rows.append(
            (
                s.name,
                s.family,
                format_count(s.total_params),
                format_count(s.active_params),
                s.architecture.layers,
                s.attention_kind_summary + (" MoE" if s.moe else ""),
                format_bytes(s.kv_bytes_per_token),
                e.origin,
            )
        )
    print_table(
        "Model cards (derived from the architecture; active = matmul weights per token incl. LM head)",
        ["name", "family", ">total", ">active", ">layers", "attention", ">KV/token", "origin"],
        rows,
    )


@app.command("show")
def show_model(
    name: str = model_argument("qwen3-32b, Qwen/Qwen3-32B"),
    json: bool = JSON_OPTION,
) -> None:
    """Every field of one card, derived figures with units, and the file it came from."""
    from kinetics_cli.render import console, emit_json, print_table
    from kinetics_cli.units import format_bytes, format_count

    entry = context.catalog().models.get(name)
    if json:
        emit_json(model_document(entry))
        return
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
        if p.total_params:
            rows.append(("published total", format_count(p.total_params)))
        if p.non_embedding_params:
            rows.append(("published non-embedding", format_count(p.non_embedding_params)))
        if p.active_params:
            counts = "counts" if p.active_counts_embedding else "does not count"
            rows.append(
                (
                    "published active",
                    f"{format_count(p.active_params)} ({counts} the input embedding)",
                )
            )
        rows.append(("published source", p.source))
    rows.append(("file", f"{entry.path} ({entry.origin})"))
    print_table(f"Model card {s.name}", ["field", "value"], rows)
    console().print("sources:")
    for src in s.sources:
        console().print(f"  - {src}", soft_wrap=True)


_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


@app.command("import")
def import_model(
    config: Path = typer.Argument(
        ...,
        metavar="CONFIG.json",
        help="A Hugging Face config.json (Llama, Mistral, Mixtral, Qwen2, Qwen3, Qwen3-MoE, "
        "Qwen3-Next, DeepSeek-V3, gpt-oss).",
    ),
    name: str | None = typer.Option(
        None,
        "--name",
        help="Card name (default: from the config's Hugging Face id or the folder name).",
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Overwrite an existing card of that name, even one of a different architecture.",
    ),
    json: bool = JSON_OPTION,
) -> None:
    """Write a model card from a Hugging Face config.json into the user catalog folder."""
    from kinetics_cli.catalog import MODELS_DIR, Entry, load_spec, user_root
    from kinetics_cli.fsutil import write_atomic
    from kinetics_cli.hf_import import (
        card_from_hf_config,
        card_toml,
        default_name,
        read_config,
        shape_differences,
    )
    from kinetics_cli.render import emit_json, print_table, warn
    from kinetics_cli.specs import ModelCard
    from kinetics_cli.units import format_bytes, format_count

    if name is not None and not _PLAIN_NAME.fullmatch(name.strip()):
        raise InputError(
            f"--name {name!r}: expected a plain name (letters, digits, '.', '_', '+', '-'), "
            "such as 'my-model'"
        )
    data = read_config(config)
    card_name = name.strip() if name is not None else default_name(data, config)
    card = card_from_hf_config(data, name=card_name, source=str(config.resolve()))
    target = user_root() / MODELS_DIR / f"{card_name}.toml"
    same_name = context.catalog().models.find(card_name)
    kept, dropped = [], []
    for alias in card.get("aliases", []):  # an alias another card answers to would take it over
        other = context.catalog().models.find(alias)
        if other is not None and other.spec.name.lower() != card_name.lower():
            dropped.append(
                f"alias {alias!r} left out of the imported card: it already names "
                f"{other.spec.name!r} ({other.origin})"
            )
        else:
            kept.append(alias)
    card["aliases"] = kept
    if (
        same_name is not None
        and same_name.origin == "user"
        and same_name.spec.name.lower() == card_name.lower()
        and same_name.path != target
    ):
        raise InputError(
            f"{same_name.path} already defines a card named {card_name!r}; pass another --name"
        )
    if same_name is not None and same_name.spec.name.lower() == card_name.lower() and not force:
        differences = shape_differences(same_name.spec, ModelCard.model_validate(card))
        if differences:
            shown = ", ".join(differences[:3]) + (", ..." if len(differences) > 3 else "")
            raise InputError(
                f"{card_name!r} is the {same_name.origin} card {same_name.path} with a different "
                f"architecture ({shown}); the import would take over its name and its accuracy "
                "data. Pass another --name, or --force to replace it"
            )
    write_atomic(target, card_toml(card, config.resolve(), config.read_bytes()), force=force)
    entry = Entry(load_spec(target, ModelCard), target, "user")
    for line in dropped:
        warn(line)
    if same_name is not None and same_name.spec.name.lower() == card_name.lower():
        if same_name.origin == "bundled":
            warn(f"the imported card {card_name!r} overrides the bundled card of that name")
        elif same_name.origin != "user":
            warn(
                f"{same_name.path} ({same_name.origin}) comes later on the search path and hides "
                f"the imported card {card_name!r}"
            )
    if json:
        emit_json(model_document(entry))
        return
    s = entry.spec
    print_table(
        f"Imported model card {s.name}",
        ["field", "value"],
        [
            ("file", str(target)),
            ("attention", s.attention_kind_summary + (" MoE" if s.moe else "")),
            ("total parameters (derived)", format_count(s.total_params)),
            ("active parameters per token", format_count(s.active_params)),
            ("KV cache per token", format_bytes(s.kv_bytes_per_token)),
            ("weights", format_bytes(s.weight_bytes)),
        ],
    )
