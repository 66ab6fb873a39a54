"""The `kinetics` command: global options, error handling, and the command groups."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from kinetics_cli import __version__
from kinetics_cli.cli import calibrate as calibrate_cmd
from kinetics_cli.cli import context, hardware, models
from kinetics_cli.cli import cost as cost_cmd
from kinetics_cli.cli import evals as evals_cmd
from kinetics_cli.cli import frontier as frontier_cmd
from kinetics_cli.cli import isocost as isocost_cmd
from kinetics_cli.cli import plan as plan_cmd
from kinetics_cli.cli import roofline as roofline_cmd
from kinetics_cli.errors import KineticsError


class _Group(TyperGroup):
    """Turns library errors into one line on stderr and exit code 2 (traceback with --debug)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KineticsError as exc:
            if context.OPTIONS.debug:
                raise
            sys.stderr.write(f"error: {exc}\n")
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_Group,
    name="kinetics",
    help="Deployment planner for LLM reasoning inference under the Kinetics cost model "
    "(eFLOPs = FLOPs + I x bytes; arXiv 2506.05333).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kinetics {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    catalog: list[Path] = typer.Option(
        [],
        "--catalog",
        metavar="DIR",
        help="Extra catalog folder (with hardware_profiles/ and model_cards/); repeatable, "
        "searched last so its entries override.",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    context.reset(catalog, debug)


app.add_typer(hardware.app, name="hardware")
app.add_typer(models.app, name="models")
app.add_typer(evals_cmd.app, name="evals")
app.add_typer(calibrate_cmd.app, name="calibrate")
app.command("cost")(cost_cmd.cost)
app.command("roofline")(roofline_cmd.roofline)
app.command("isocost")(isocost_cmd.isocost)
app.command("plan")(plan_cmd.plan)
app.command("frontier")(frontier_cmd.frontier)


_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run() -> None:
    """Console-script entry point.

    Outside `calibrate` (which measures this machine as configured), the cost model's linear
    algebra is small (64 x 64 eigen-decompositions, matrix-vector products), where BLAS thread
    pools only cost start-up and contention on a busy machine: run single-threaded unless the user
    set the thread count.
    """
    if "calibrate" not in sys.argv[1:]:
        for name in _BLAS_THREADS:
            os.environ.setdefault(name, "1")
    app()
