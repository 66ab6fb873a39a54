"""cli/main.py: the root group builds a subcommand when it is first looked up, and the result is
the click object typer builds for the same registration."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from kinetics_cli.cli.main import app, subcommands


def test_subcommands_are_listed_in_typer_order_and_built_on_lookup() -> None:
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    assert list(commands) == [
        *(c.name for c in subcommands.registered_commands),
        *(g.name for g in subcommands.registered_groups),
    ]
    assert list(commands)[:2] == ["cost", "roofline"] and "hardware" in commands
    assert commands._built == {}  # nothing built yet
    plan = group.get_command(None, "plan")  # type: ignore[attr-defined, arg-type]
    assert plan is not None and plan.name == "plan"
    assert list(commands._built) == ["plan"]
    assert group.get_command(None, "plan") is plan  # type: ignore[attr-defined, arg-type]
    assert group.get_command(None, "no-such-command") is None  # type: ignore[attr-defined, arg-type]


def test_lazy_commands_match_an_eagerly_built_tree() -> None:
    """The same parameters, help and group members as typer's own build of the registrations."""
    eager = typer.main.get_group(subcommands)
    lazy = typer.main.get_command(app)
    assert sorted(lazy.commands) == sorted(eager.commands)  # type: ignore[attr-defined]
    for name, built in eager.commands.items():
        command = lazy.commands[name]  # type: ignore[attr-defined]
        assert type(command) is type(built)
        assert command.help == built.help
        assert [p.name for p in command.params] == [p.name for p in built.params]
        assert sorted(getattr(command, "commands", {})) == sorted(getattr(built, "commands", {}))


def test_unknown_command_suggests_the_close_name() -> None:
    result = CliRunner().invoke(app, ["plann"])
    assert result.exit_code == 2
    assert "Did you mean 'plan'?" in result.output


def _command_paths(command: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand of the tree, as the arguments that name it."""
    paths = [path]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        paths += _command_paths(sub, (*path, name))
    return paths


def test_every_help_fits_80_columns_and_keeps_hyphenated_words_whole() -> None:
    """At 80 columns no help line is wider than the terminal, and none ends after a hyphen inside
    a word: values such as block-topk, best-of-n and gpt-oss are typed as written, so they stay
    on one line (click's default wrapping gave "block-" on one line and "topk" on the next)."""
    runner = CliRunner()
    paths = _command_paths(typer.main.get_command(app))
    assert ("plan",) in paths and ("calibrate", "reference") in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
        assert result.exit_code == 0, (path, result.output)
        for line in result.output.splitlines():
            assert len(line) <= 80, (path, line)
            assert not (line.endswith("-") and line[-2:-1].isalnum()), (path, line)
    plan_help = runner.invoke(app, ["plan", "--help"], env={"COLUMNS": "80"}).output
    assert "best-of-n" in plan_help and "block-topk" in plan_help


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # click keeps the last of a repeated single-valued option: the A100 alone would be priced
        (
            ["frontier", "--cost", "joules", "-H", "h100-sxm", "-H", "a100"],
            "error: --hardware given 2 times (h100-sxm, a100); give it once, its values "
            "comma-separated: --hardware h100-sxm,a100",
        ),
        (
            ["plan", "--budget=1e16", "--budget", "2e16"],
            "error: --budget given 2 times (1e16, 2e16); it takes one value",
        ),
        (
            ["serve", "qwen3-8b", "--tp", "1", "--tp=2"],
            "error: --tp given 2 times (1, 2); it takes one value",
        ),
        (
            ["models", "show", "qwen3-8b", "--format", "csv", "--format", "markdown"],
            "error: --format given 2 times (csv, markdown); it takes one value",
        ),
    ],
)
def test_a_single_valued_option_given_twice_is_refused(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and not result.stdout
    assert result.stderr.strip() == message


def test_options_that_collect_values_may_repeat() -> None:
    # --gen-limits collects (a list option): repeating it adds limits, as comma-separating does
    one = CliRunner().invoke(app, ["plan", "--budget", "1e16", "--gen-limits", "4k,8k", "--json"])
    two = CliRunner().invoke(
        app, ["plan", "--budget", "1e16", "--gen-limits", "4k", "--gen-limits", "8k", "--json"]
    )
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout
