"""report.plotting and every --plot: fixed colours per model, and one rule for the files
written (checked before any work, never replaced without --force, written atomically)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kinetics_cli.cli.main import app
from kinetics_cli.errors import InputError
from kinetics_cli.report.plotting import MODEL_COLORS, PALETTE, check_path, model_colors

# One small run of each command that draws.
PLOTTING = {
    "plan": ["plan", "--budget", "1e16", "--models", "qwen3-8b", "--attention", "dense"],
    "frontier": ["frontier", "--models", "qwen3-8b", "--attention", "dense"],
    "roofline": ["roofline", "qwen3-8b"],
    "isocost": ["isocost", "--budget", "1e16", "--models", "qwen3-8b,qwen3-32b"],
    "serve": ["serve", "qwen3-8b", "-H", "h100", "--isl", "1k", "--osl", "1k"],
}


def test_bundled_models_keep_their_colour_whatever_else_is_drawn() -> None:
    alone = model_colors(["qwen3-8b"])
    crowd = model_colors(["qwen3-32b", "qwen3-8b", "qwen3-0.6b", "my-model"])
    assert alone["qwen3-8b"] == crowd["qwen3-8b"] == PALETTE[MODEL_COLORS["qwen3-8b"]]


def test_colours_are_distinct_and_stable_up_to_the_palette_size() -> None:
    names = ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b"]
    names += ["my-model", "another-model", "deepseek-r1-distill-qwen-32b", "gpt-oss-20b"]
    colors = model_colors(names)
    assert len(set(colors.values())) == len(names) == len(PALETTE)
    assert model_colors(reversed(names)) == colors  # order of appearance does not matter
    # the Qwen3 family, compared in every frontier plot, in ten different hues
    qwen = [m for m in MODEL_COLORS if m.startswith("qwen3")]
    assert len({MODEL_COLORS[m] for m in qwen}) == len(qwen)


def test_check_path_refuses_before_any_work(tmp_path: Path) -> None:
    existing = tmp_path / "a.png"
    existing.write_bytes(b"old")
    with pytest.raises(InputError, match=r"--plot .*a\.png already exists; pass --force"):
        check_path(existing)
    assert check_path(existing, force=True) == existing
    with pytest.raises(InputError, match=r"\.png or \.svg"):
        check_path(tmp_path / "a.pdf")
    with pytest.raises(InputError, match="does not exist"):
        check_path(tmp_path / "missing" / "a.png")


@pytest.mark.parametrize("args", list(PLOTTING.values()), ids=list(PLOTTING))
def test_existing_plot_needs_force(args: list[str], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / "figure.png"
    target.write_bytes(b"old")
    result = CliRunner().invoke(app, [*args, "--plot", str(target)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "pass --force" in result.stderr
    assert target.read_bytes() == b"old"
    result = CliRunner().invoke(app, [*args, "--plot", str(target), "--force"])
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png"]  # no temporary left


def test_interrupted_plot_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed while saving leaves the old figure (or none), never a part of one."""
    pytest.importorskip("matplotlib")
    target = tmp_path / "figure.svg"
    target.write_text("old")

    def killed(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    result = CliRunner().invoke(app, [*PLOTTING["roofline"], "--plot", str(target), "--force"])
    assert result.exit_code == 130  # click turns the interrupt into the shell's 128 + SIGINT
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["figure.svg"]


def test_flops_law_plan_is_drawn_on_the_flops_axis(monkeypatch: pytest.MonkeyPatch) -> None:
    """With --law flops the budget counts FLOPs only, so the costs drawn are FLOPs-law costs."""
    from kinetics_cli.catalog import load_catalog
    from kinetics_cli.planner.plan import make_plan
    from kinetics_cli.planner.setup import build_setup, grid_options
    from kinetics_cli.report import plan as report_plan

    setup = build_setup(
        task="aime24",
        catalog=load_catalog(),
        hardware="b200",
        models=["qwen3-8b"],
        options=grid_options(strategy="long-cot", attention=["dense"]),
    )
    answer = make_plan(setup.grid, 1e15, law="flops", pricing=setup.pricing)
    drawn = {}
    monkeypatch.setattr(
        report_plan, "frontier_plot", lambda grid, cost, path, **kw: drawn.update(cost=cost, **kw)
    )
    report_plan.plot_plan(setup, answer, Path("unused.png"))
    assert (drawn["cost"] == answer.flops_cost).all() and drawn["budget"] == 1e15
    assert "FLOPs-only law" in drawn["xlabel"]
