"""Shared option parsers and option definitions for every command.

Every numeric CLI value goes through units.parse_kind (`quantity`, `bounded` for a plausible
physical range from kinetics_cli/limits.py: each option names its kind, energy, money, seconds,
FLOPs..., and a unit of another kind is refused), units.parse_quantity (`count`, no unit) or,
for token counts, units.parse_tokens (`tokens`, `whole_tokens`: k, M and G are powers of 1024
there, 32k = 32,768). The option
factories below give the same flag, metavar and default wherever a command takes a model, a
hardware profile, an intensity, a block size or a plot file; pass `help=` where a command needs
its own wording.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from kinetics_cli.limits import MAX_BATCH

if TYPE_CHECKING:
    from kinetics_cli.engine.serving import MaxBatch

DEFAULT_HARDWARE = "b200"


def quantity(text: str, kind: str = "plain") -> float:
    """Typer parser for a number of one kind of units.KINDS ('2.5e15', '2.5P', '5kWh', '$5'); a
    unit of another kind ('--budget-joules 5kW') is a usage error listing the forms accepted."""
    from kinetics_cli.errors import InputError
    from kinetics_cli.units import parse_kind

    try:
        return parse_kind(text, kind)
    except InputError as exc:
        raise typer.BadParameter(str(exc).split(": ", 1)[-1]) from None


def count(text: str) -> int:
    """Typer parser for whole counts that may use SI prefixes ('32k' -> 32000), no unit."""
    from kinetics_cli.errors import InputError
    from kinetics_cli.units import parse_quantity

    try:
        value = parse_quantity(text, unit=False)
    except InputError as exc:
        raise typer.BadParameter(str(exc).split(": ", 1)[-1]) from None
    if value != int(value):
        raise typer.BadParameter(f"expected a whole number, got {text!r}")
    return int(value)


def duration(text: str) -> float:
    """Typer parser for durations in seconds: '50ms', '2s', '1.5', '200us', '3min', '1h' (the
    units the output writes; no bare 'm', which could be milli or minutes)."""

    value = _seconds(text)
    if value <= 0:
        raise typer.BadParameter(f"must be positive (got {text!r})")
    return value


def _seconds(text: str) -> float:
    """A finite time in seconds from a number and one of the time units (no SI prefix: '1Ms'
    would read as a typo of '1ms')."""
    import math
    import re

    from kinetics_cli.units import KINDS

    seconds_per_unit, accepted = KINDS["seconds"]  # the one table of time units
    hint = f"cannot read {text!r} as a duration; it takes {accepted}, e.g. 50ms, 3min"
    pattern = r"\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*(ns|us|µs|ms|s|min|h)?\s*"
    match = re.fullmatch(pattern, text)
    if match is None:
        raise typer.BadParameter(hint)
    if match.group(1).startswith("-"):  # a duration read, but below zero
        raise typer.BadParameter(f"must be positive (got {text!r})")
    try:
        value = float(match.group(1)) * seconds_per_unit[match.group(2) or ""]
    except ValueError:
        raise typer.BadParameter(hint) from None
    if not math.isfinite(value):
        raise typer.BadParameter(f"expected a finite duration, got {text!r}")
    return value


def bounded(
    limits: tuple[float, float], *, whole: bool = False, kind: str = "plain"
) -> Callable[[str], Any]:
    """Typer parser for a quantity of `kind` (units.KINDS; or, `whole`, a count) within `limits`
    (kinetics_cli/limits.py), refusing anything outside as a usage error naming the range."""

    def parse(text: str) -> Any:
        from kinetics_cli.errors import InputError
        from kinetics_cli.units import check_range

        value: float
        if whole:
            value = count(text)
        elif kind == "seconds":  # as every time option: no SI prefix ('1Ms' is not '1ms')
            value = _seconds(text)
        else:
            value = quantity(text, kind)
        try:
            check_range(value, *limits, what="value")
        except InputError as exc:
            raise typer.BadParameter(str(exc).split(": ", 1)[-1]) from None
        return value

    parse.__name__ = "count" if whole else "quantity"
    return parse


def fraction(text: str) -> float:
    """Typer parser for a share in (0, 1] (a verifier's recall or precision): a plain number,
    refused with the range named when it does not read as one or lies outside."""
    import math

    try:
        value = float(text.strip())
    except ValueError:
        raise typer.BadParameter(f"expected a number in (0, 1], e.g. 0.9 (got {text!r})") from None
    if not (math.isfinite(value) and 0.0 < value <= 1.0):
        raise typer.BadParameter(f"must lie in (0, 1] (got {text!r})")
    return value


def tokens(text: str) -> float:
    """Typer parser for token counts: k, M, G are powers of 1024 ('32k' -> 32768), at most 2**27."""
    from kinetics_cli.errors import InputError
    from kinetics_cli.units import parse_tokens

    try:
        return parse_tokens(text)
    except InputError as exc:
        raise typer.BadParameter(str(exc).split(": ", 1)[-1]) from None


def positive_tokens(text: str) -> float:
    """Typer parser for a KV budget: a token count above zero (a sparse step attends to at least
    one token)."""
    value = tokens(text)
    if not value > 0:
        raise typer.BadParameter(
            f"must be positive (got {text!r}): a sparse step attends to at least one token"
        )
    return value


def whole_tokens(text: str) -> int:
    """Typer parser for whole token counts ('32k' -> 32768)."""
    value = tokens(text)
    if value != int(value):
        raise typer.BadParameter(f"expected a whole number of tokens, got {text!r}")
    return int(value)


def at_least(lowest: float) -> Callable[[Any], Any]:
    """Option callback refusing a value below `lowest` as a usage error (typer ignores `min=` on
    an option with a `parser=`); None (option not given) passes."""

    def check(value: Any) -> Any:
        if value is not None and value < lowest:
            raise typer.BadParameter(f"must be at least {lowest:g} (got {value:g})")
        return value

    return check


JSON_OPTION = typer.Option(False, "--json", help="Write one JSON document to stdout.")
MAX_BATCH_OPTION = typer.Option(
    None,
    "--max-batch",
    parser=bounded(MAX_BATCH, whole=True),
    metavar="N",
    help="The engine's cap on concurrent sequences per replica (default: vLLM's max_num_seqs "
    "for the accelerator, 1,024 on GPUs of 70 GiB or more that are not A100s, else 256; "
    "TensorRT-LLM's max_batch_size is 2,048); 0: memory only.",
)


def engine_max_batch(value: int | None) -> MaxBatch:
    """The Deployment cap for a --max-batch value: serving.ENGINE_DEFAULT (the engine's default
    for each accelerator, serving.engine_max_batch) when not given, None (memory only) for 0."""
    if value is None:
        from kinetics_cli.engine.serving import ENGINE_DEFAULT

        return ENGINE_DEFAULT
    return None if value == 0 else value


def _set_format(value: str) -> str:
    """--format callback: choose how report.console writes tables for this invocation."""
    from kinetics_cli.errors import InputError
    from kinetics_cli.report.console import reset

    try:
        reset(value)
    except InputError as exc:
        raise typer.BadParameter(str(exc).split("; ", 1)[-1]) from None
    return value


def _matching(values: Sequence[str], incomplete: str) -> list[str]:
    """The values that complete `incomplete`; in a comma-separated list ('b200,h1'), those that
    complete its last item, after the items already given."""
    head, comma, last = incomplete.rpartition(",")
    return [f"{head}{comma}{v}" for v in values if v.startswith(last.strip().lower())]


def choices(*values: str, source: str | None = None) -> Callable[..., list[str]]:
    """Shell completion (`kinetics --install-completion`) of an option with fixed values:
    `values`, after those of `source`, "module:NAME", the library's own tuple (or a mapping's
    keys) of what the option accepts, imported only when a shell asks, so completion follows
    the library and start-up imports nothing more."""

    def complete(incomplete: str) -> list[str]:
        known: tuple[str, ...] = ()
        if source is not None:
            import importlib

            module, _, name = source.partition(":")
            known = tuple(getattr(importlib.import_module(module), name))
        return _matching([*known, *values], incomplete)

    return complete


def catalog_names(kind: str, extra: Sequence[str] = ()) -> Callable[..., list[str]]:
    """Shell completion of a hardware profile (`kind` "hardware") or model card ("models") name:
    every entry on the search path, the --catalog folders given before it included."""

    def complete(ctx: typer.Context, incomplete: str) -> list[str]:
        from pathlib import Path

        from kinetics_cli.catalog import load_catalog
        from kinetics_cli.errors import KineticsError

        folders = ctx.find_root().params.get("catalog") or []
        try:  # a catalog that does not load completes nothing; the command will say why
            names = getattr(load_catalog([Path(f) for f in folders]), kind).names()
        except (KineticsError, OSError):
            names = []
        return _matching([*names, *extra], incomplete)

    return complete


def bundled_tasks(incomplete: str) -> list[str]:
    """Shell completion of --task: the tasks with bundled accuracy data."""
    from kinetics_cli.accuracy import available_tasks

    return _matching(available_tasks(), incomplete)


FORMAT_OPTION = typer.Option(
    "table",
    "--format",
    metavar="table|csv|markdown",
    callback=_set_format,
    autocompletion=choices(source="kinetics_cli.report.console:FORMATS"),
    help="Tables as a terminal table (default), CSV (tables only on stdout, plain numbers with "
    "the unit in each header; titles and notes on stderr) or Markdown (for reports). --json "
    "gives every figure unformatted.",
)
FORCE_PLOT_OPTION = typer.Option(False, "--force", help="Overwrite the --plot file if it exists.")


def model_argument(example: str = "qwen3-8b") -> Any:
    """The MODEL argument: a model card name or alias."""
    return typer.Argument(
        ...,
        metavar="MODEL",
        help=f"Model card name or alias, e.g. {example}.",
        autocompletion=catalog_names("models"),
    )


def hardware_argument(example: str = "b200, h100") -> Any:
    """The NAME argument of a command about one hardware profile."""
    return typer.Argument(
        ...,
        metavar="NAME",
        help=f"Hardware profile name or alias, e.g. {example}.",
        autocompletion=catalog_names("hardware"),
    )


def hardware_option(help: str = "Hardware profile (name or alias).", several: bool = False) -> Any:
    """--hardware / -H NAME, default b200; `several`: comma-separated names or `all`."""
    return typer.Option(
        DEFAULT_HARDWARE,
        "--hardware",
        "-H",
        metavar="NAME",
        help=help,
        autocompletion=catalog_names("hardware", ("all",) if several else ()),
    )


def intensity_option(
    help: str = "FLOPs per byte (default: the profile's bf16 FLOP/s / HBM B/s; 562.5 reproduces "
    "the paper's B200 figures).",
) -> Any:
    """--intensity I, a quantity; None means the hardware profile's derived intensity."""
    from kinetics_cli.limits import INTENSITY

    return typer.Option(
        None, "--intensity", parser=bounded(INTENSITY, kind="intensity"), metavar="I", help=help
    )


def block_size_option(help: str = "Page size of block top-k (tokens; default 16).") -> Any:
    """--block-size S (tokens per KV page); None when not given (page_size resolves it). A whole
    number of tokens within limits.BLOCK_SIZE, read as every token count is ('1k' is 1,024)."""

    def parse(text: str) -> float:
        from kinetics_cli.errors import InputError
        from kinetics_cli.limits import BLOCK_SIZE
        from kinetics_cli.units import check_range

        value = tokens(text)
        try:
            check_range(value, *BLOCK_SIZE, what="value")
        except InputError as exc:
            raise typer.BadParameter(str(exc).split(": ", 1)[-1]) from None
        if value != int(value):
            raise typer.BadParameter(f"expected a whole number of tokens per page, got {text!r}")
        return value

    return typer.Option(
        None,
        "--block-size",
        parser=parse,
        metavar="S",
        help=help,
        show_default=False,
    )


def page_size(block_size: float | None, attentions: list[str]) -> float:
    """The --block-size to use: engine.kinetics.DEFAULT_BLOCK_SIZE when not given; refused when
    given without block top-k among `attentions` (it would change nothing: an option another
    option makes meaningless is refused, naming both)."""
    from kinetics_cli.errors import InputError

    if block_size is None:
        from kinetics_cli.engine.kinetics import DEFAULT_BLOCK_SIZE

        return float(DEFAULT_BLOCK_SIZE)
    if "block-topk" not in attentions:
        raise InputError(
            "--block-size applies to block-topk attention (the page it selects); "
            f"{' and '.join(sorted(set(attentions))) or 'dense'} attention has no pages (add "
            "--attention block-topk, or drop --block-size)"
        )
    return float(block_size)


def plot_option(help: str = "Draw the figure to FILE (.png or .svg).") -> Any:
    """--plot FILE; None means no plot."""
    return typer.Option(None, "--plot", metavar="FILE", help=help)


def check_pages(
    attention: str, kv_budgets: list[float], block_size: float, option: str = "--kv-budget"
) -> None:
    """Block top-k selects whole pages: refuse a KV budget that is not a whole number of pages
    of `block_size` (engine.kinetics.off_page_budget: the law's closed form would price a
    fraction of a page that no kernel can select), naming the whole-page budgets either side."""
    from kinetics_cli.engine.kinetics import off_page_budget
    from kinetics_cli.errors import InputError

    if attention != "block-topk":
        return
    for budget in kv_budgets:
        reason = off_page_budget(budget, block_size, option, "--block-size")
        if reason:
            raise InputError(reason)
