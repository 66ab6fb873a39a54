"""The `kinetics` command: global options, error handling, and the command groups."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import typer
import typer.main
from typer.core import TyperGroup

from kinetics_cli import __version__
from kinetics_cli.cli import cache as cache_cmd
from kinetics_cli.cli import calibrate as calibrate_cmd
from kinetics_cli.cli import context, hardware, models
from kinetics_cli.cli import cost as cost_cmd
from kinetics_cli.cli import evals as evals_cmd
from kinetics_cli.cli import frontier as frontier_cmd
from kinetics_cli.cli import isocost as isocost_cmd
from kinetics_cli.cli import plan as plan_cmd
from kinetics_cli.cli import roofline as roofline_cmd
from kinetics_cli.cli import serve as serve_cmd
from kinetics_cli.errors import KineticsError

# Click's usage error (bad option value, unknown option, missing argument). typer re-exports only
# its BadParameter subclass, and vendors click in recent releases, so take the base from there.
_UsageError: type[Exception] = next(
    cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "UsageError"
)


def _wrap_help_at_spaces_only() -> None:
    """Help text breaks lines at spaces, never after a hyphen inside a word.

    Click wraps with textwrap's default, which also breaks after hyphens: at 80 columns
    `block-topk`, `best-of-n` and `gpt-oss`, values to type as written, came out split over two
    lines ("block-" then "topk"). Its wrapper class is a subclass of textwrap's, so the split
    pattern is set on that subclass alone.
    """
    import importlib

    package = _UsageError.__module__.rsplit(".", 1)[0]  # click, or typer's vendored copy
    wrapper = importlib.import_module(f"{package}._textwrap").TextWrapper
    wrapper.wordsep_re = wrapper.wordsep_simple_re


_wrap_help_at_spaces_only()


def _fail(message: str) -> NoReturn:
    """One line on stderr, exit code 2."""
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")
    raise typer.Exit(2)


def _usage_line(exc: Any) -> str:
    """A click usage error as one line: what was wrong, then where to read the usage."""
    message = exc.format_message().rstrip(".")
    message = message[:1].lower() + message[1:] if message[1:2].islower() else message
    ctx = getattr(exc, "ctx", None)
    return f"{message} (see '{ctx.command_path} --help')" if ctx is not None else message


def _repeated_option(command: Any, args: Sequence[str]) -> str | None:
    """Why `args` give one of `command`'s single-valued options more than once, or None.

    Click keeps the last value of an option given twice, so `frontier -H h100 -H a100` would
    price the A100 alone without a word; a list option takes its values comma-separated. A
    subcommand of a group is checked against its own options (the first word that is not an
    option names it)."""
    end = list(args).index("--") if "--" in args else len(args)
    words = list(args)[:end]
    by_name: dict[str, Any] = {}
    for param in getattr(command, "params", ()):
        if type(param).__name__.endswith("Option") and not (
            getattr(param, "multiple", False)
            or getattr(param, "is_flag", False)
            or getattr(param, "count", False)
        ):
            for name in param.opts:
                by_name[name] = param
    params = {id(p): p for p in by_name.values()}
    seen: dict[int, list[str]] = {}
    skip = False
    for i, word in enumerate(words):
        if skip:
            skip = False
            continue
        if not word.startswith("-") or word == "-":
            sub = getattr(command, "commands", None)
            if sub is not None and word in sub:  # a group: its subcommand's own options
                return _repeated_option(command.get_command(None, word), words[i + 1 :])
            continue
        name, _, value = word.partition("=")
        if not name.startswith("--") and len(name) > 2:  # -Hvalue
            name, value = name[:2], name[2:]
        param = by_name.get(name)
        if param is None:
            continue
        if not value and i + 1 < len(words):
            value = words[i + 1]
            skip = True
        seen.setdefault(id(param), []).append(value)
    for key, values in seen.items():
        if len(values) > 1:
            param = params[key]
            name = next((o for o in param.opts if o.startswith("--")), param.opts[0])
            listed = "comma" in str(param.help or "") or str(param.metavar or "").endswith(",...")
            # a 400-digit number is not echoed back whole
            values = [f"{v[:12]}... ({len(v):,} characters)" if len(v) > 24 else v for v in values]
            return f"{name} given {len(values)} times ({', '.join(values)}); " + (
                f"give it once, its values comma-separated: {name} {','.join(values)}"
                if listed
                else "it takes one value"
            )
    return None


class _Group(TyperGroup):
    """Turns library, usage and file-system errors into one line on stderr and exit code 2.

    --debug shows the traceback of a library error, and click's usual usage block instead of the
    one line. Its subcommands are built when first looked up (_Commands).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands()

    def main(self, args: Any = None, *rest: Any, **extra: Any) -> Any:
        """Accept the global --debug anywhere before a `--`, e.g. after the subcommand."""
        args = list(sys.argv[1:] if args is None else args)
        end = args.index("--") if "--" in args else len(args)
        if "--debug" in args[1:end]:
            args.remove("--debug")
            args.insert(0, "--debug")
        return super().main(args, *rest, **extra)

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _UsageError as exc:
            if "--debug" in args or type(exc).__name__ == "NoArgsIsHelpError":
                raise
            _fail(_usage_line(exc))

    def resolve_command(self, ctx: Any, args: Any) -> Any:
        """The subcommand, after refusing a single-valued option given twice
        (`_repeated_option`)."""
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            why = _repeated_option(command, rest)
            if why is not None:
                if context.OPTIONS.debug:
                    raise _UsageError(why)
                _fail(why)
        return name, command, rest

    def invoke(self, ctx: Any) -> Any:
        try:
            result = self._invoke(ctx)
        except BaseException:
            context.flush_warnings()
            raise
        context.flush_warnings()
        return result

    def _invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KineticsError as exc:
            context.flush_warnings(str(exc))
            if context.OPTIONS.debug:
                raise
            _fail(str(exc))
        except _UsageError as exc:
            if context.OPTIONS.debug or type(exc).__name__ == "NoArgsIsHelpError":
                raise
            _fail(_usage_line(exc))
        except OSError as exc:
            # A file the user named cannot be read or written (commands should say so themselves;
            # this keeps a missed case to one line). A closed pipe is left to click.
            if context.OPTIONS.debug or isinstance(exc, BrokenPipeError):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}")


app = typer.Typer(
    cls=_Group,
    name="kinetics",
    help="Deployment planner for LLM reasoning inference under the Kinetics cost model "
    "(eFLOPs = FLOPs + I x bytes; arXiv 2506.05333).",
    no_args_is_help=True,
    add_completion=True,
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


# The subcommands, registered as usual on a Typer of their own: the root group (`_Group`) has
# typer build each one when it is looked up (_Commands).
subcommands = typer.Typer()
subcommands.add_typer(hardware.app, name="hardware")
subcommands.add_typer(models.app, name="models")
subcommands.add_typer(evals_cmd.app, name="evals")
subcommands.add_typer(calibrate_cmd.app, name="calibrate")
subcommands.command("cost")(cost_cmd.cost)
subcommands.command("roofline")(roofline_cmd.roofline)
subcommands.command("serve")(serve_cmd.serve)
subcommands.command("isocost")(isocost_cmd.isocost)
subcommands.command("plan")(plan_cmd.plan)
subcommands.command("frontier")(frontier_cmd.frontier)
subcommands.command("cache")(cache_cmd.cache)


class _Commands(MutableMapping[str, Any]):
    """The root group's subcommands by name, each built the first time it is looked up.

    Typer turns every parameter of a command into a click parameter when it builds the command
    (reading the function's type hints); for the whole tree that was about 25 ms of every
    start. Built here on first lookup, a run builds the command it invokes, and `--help` all
    of them. Names come in typer's order (commands, then groups) and each is built by typer's
    own functions with the root app's settings, so the click objects are the ones typer would
    make.
    """

    def __init__(self) -> None:
        self._build: dict[str, Callable[[], Any]] = {}
        short, markup = app.pretty_exceptions_short, app.rich_markup_mode
        for info in subcommands.registered_commands:
            assert info.name is not None
            self._build[info.name] = partial(
                typer.main.get_command_from_info,
                info,
                pretty_exceptions_short=short,
                rich_markup_mode=markup,
            )
        for group in subcommands.registered_groups:
            assert isinstance(group.name, str)
            self._build[group.name] = partial(
                typer.main.get_group_from_info,
                group,
                pretty_exceptions_short=short,
                rich_markup_mode=markup,
                suggest_commands=app.suggest_commands,
            )
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = self._build[name]()  # KeyError for an unknown name
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command
        self._build.setdefault(name, partial(self._built.__getitem__, name))

    def __delitem__(self, name: str) -> None:
        del self._build[name]
        self._built.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._build  # without building it

    def __iter__(self) -> Iterator[str]:
        return iter(self._build)

    def __len__(self) -> int:
        return len(self._build)


_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run() -> None:
    """Console-script entry point.

    Outside `calibrate` (which measures this machine as configured), the cost model's linear
    algebra is small (64 x 64 eigen-decompositions, matrix-vector products), where BLAS thread
    pools only cost start-up and contention on a busy machine: run single-threaded unless the user
    set the thread count.

    The catalog's pydantic models need no pydantic plugins; looking for them scans every
    installed package's entry points at the first model class (about 10 ms of each start), so
    they stay off unless PYDANTIC_DISABLE_PLUGINS is set otherwise.
    """
    if "calibrate" not in sys.argv[1:]:
        for name in _BLAS_THREADS:
            os.environ.setdefault(name, "1")
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # One short run that builds many small objects (models, tables, JSON rows) and frees few
    # cycles: collect the youngest generation every 100,000 allocations instead of 700, and
    # leave what is alive at the end to the process's exit, not to a last full collection.
    gc.set_threshold(100_000, 50, 100)
    try:
        app()
    finally:
        gc.freeze()
