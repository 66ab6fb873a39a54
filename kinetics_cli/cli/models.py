"""`kinetics models list|show|import`: the model cards on the catalog search path."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from kinetics_cli.cli import context
from kinetics_cli.cli.params import FORMAT_OPTION, JSON_OPTION, model_argument
from kinetics_cli.errors import InputError

app = typer.Typer(
    help="Model cards: architecture, derived parameter counts, KV bytes per token.",
    no_args_is_help=True,
)


@app.command("list")
def list_models(json: bool = JSON_OPTION, output_format: str = FORMAT_OPTION) -> None:
    """List model cards with derived parameter counts and KV-cache size."""
    from kinetics_cli.report.catalog import model_document, print_model_list
    from kinetics_cli.report.console import emit_json

    entries = list(context.catalog().models)
    if json:
        emit_json([model_document(e) for e in entries])
        return
    print_model_list(entries)


@app.command("show")
def show_model(
    name: str = model_argument("qwen3-32b, Qwen/Qwen3-32B"),
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """Every field of one card, derived figures with units, and the file it came from."""
    from kinetics_cli.report.catalog import model_document, print_model
    from kinetics_cli.report.console import emit_json

    entry = context.catalog().models.get(name)
    if json:
        emit_json(model_document(entry))
        return
    print_model(entry)


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
        metavar="NAME",
        help="Card name (default: from the config's Hugging Face id or the folder name).",
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Overwrite an existing card of that name, even one of a different architecture.",
    ),
    json: bool = JSON_OPTION,
    output_format: str = FORMAT_OPTION,
) -> None:
    """Write a model card from a Hugging Face config.json into the user catalog folder."""
    from kinetics_cli.catalog import MODELS_DIR, Entry, load_spec, user_root
    from kinetics_cli.fsutil import write_atomic
    from kinetics_cli.hf_import import (
        card_from_hf_config,
        card_toml,
        default_name,
        import_notes,
        read_config,
        shape_differences,
    )
    from kinetics_cli.report.catalog import model_document, print_imported_model
    from kinetics_cli.report.console import emit_json, warn
    from kinetics_cli.specs import ModelCard

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
    for line in dropped + import_notes(data):
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
    print_imported_model(entry)
