"""The planner used from Python, without the CLI: grid options, setup, answers, documents."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from test_planner_fakes import FakeSource

from kinetics_cli.catalog import load_catalog
from kinetics_cli.errors import InputError
from kinetics_cli.planner.grid import DEFAULT_LIMITS, DEFAULT_TRIALS, STRATEGIES
from kinetics_cli.planner.plan import make_plan
from kinetics_cli.planner.setup import GridOptions, build_setup, grid_options
from kinetics_cli.report.plan import plan_document


def test_grid_options_defaults() -> None:
    options = grid_options()
    assert options == GridOptions()
    assert options.strategies == STRATEGIES
    assert options.gen_limits == DEFAULT_LIMITS and options.trials == DEFAULT_TRIALS
    assert options.attentions == () and options.kv_budgets == ()


def test_grid_options_take_text_and_numbers() -> None:
    options = grid_options(
        strategy="best-of-n",
        attention=["dense,block-topk"],
        kv_budgets=["1k", 2048],
        gen_limits=["4k,8k", 16384],
        trials=[2, "4"],
    )
    assert options.strategies == ("best-of-n",)
    assert options.attentions == ("dense", "block-topk")
    assert options.kv_budgets == (1024.0, 2048.0)  # token counts: 1k = 1,024 ("32K tokens")
    assert options.gen_limits == (4096.0, 8192.0, 16384.0)
    assert options.trials == (2, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategy": "greedy"}, "unknown strategy 'greedy'"),
        ({"gen_limits": ["1.5"]}, "--gen-limits: generation limits must be whole numbers"),
        ({"gen_limits": [0]}, "--gen-limits: values must be positive (got 0)"),
        ({"trials": [2.5]}, "--trials: trial counts must be whole numbers"),
        ({"kv_budgets": ["-3"]}, "--kv-budgets: a token count must not be negative"),
        ({"kv_budgets": [0]}, "--kv-budgets: values must be positive (got 0)"),
        ({"gen_limits": [""]}, "--gen-limits: no values given"),
        ({"trials": [" , "]}, "--trials: no values given"),
        ({"gen_limits": ["1e12"]}, "beyond any model's context window"),
        ({"trials": ["1e7"]}, "--trials: 1e7 is outside the accepted range 1 to 1,048,576"),
        ({"strategy": "long-cot", "trials": ["8"]}, "--trials applies to best-of-n"),
        ({"strategy": "long-cot", "selection": ["majority"]}, "--selection chooses among the N"),
        ({"attention": ["dense"], "kv_budgets": ["512"]}, "--kv-budgets applies to sparse"),
        ({"kv_budgets": ["8,256"]}, "--kv-budgets 8 is less than one page"),  # block top-k too
        ({"attention": ["block-topk"], "kv_budgets": [8]}, "whole pages of 16 tokens"),
        # 1000 / 16 = 62.5 pages: 62 x 16 = 992 below, 63 x 16 = 1008 above
        (
            {"kv_budgets": ["1024,1000"]},
            "--kv-budgets 1000 is not a whole number of pages (the nearest: 992, 62 pages, or "
            "1008, 63 pages; or --attention topk alone)",
        ),
        ({"attention": ["dense,block-topk"], "kv_budgets": ["1000.5"]}, "992, 62 pages"),
    ],
)
def test_grid_options_refuse(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputError, match=re.escape(message)):
        grid_options(**kwargs)


def test_budgets_below_one_page_are_for_top_k_alone() -> None:
    options = grid_options(attention=["topk"], kv_budgets=["8,256"])
    assert options.kv_budgets == (8.0, 256.0)
    options = grid_options(attention=["topk"], kv_budgets=["1000"])  # top-k selects tokens
    assert options.kv_budgets == (1000.0,)


def test_default_budgets_are_whole_pages() -> None:
    """Every budget the planner searches by default, and every sparse budget of the bundled
    priors, is a whole number of the planner's 16-token pages (so the rule refuses only budgets
    a user gives)."""
    from kinetics_cli.accuracy.priors import available_tasks, load_profile
    from kinetics_cli.engine.kinetics import off_page_budget
    from kinetics_cli.planner.grid import DEFAULT_BLOCK_SIZE, DEFAULT_KV_BUDGETS

    budgets = set(DEFAULT_KV_BUDGETS)
    for task in available_tasks():
        budgets |= set(load_profile(task).sparse_budgets)
    assert budgets and all(off_page_budget(b, DEFAULT_BLOCK_SIZE, "-") == "" for b in budgets)


def test_build_setup_and_plan_without_the_cli(fake: FakeSource) -> None:
    catalog = load_catalog()
    setup = build_setup(
        task="fake",
        catalog=catalog,
        hardware="b200",
        models=["qwen3-8b"],
        options=grid_options(strategy="long-cot", attention=["dense"], gen_limits=[4096, 8192]),
    )
    # one setting (qwen3-8b dense) x one trial count (long-CoT) x two limits
    assert len(setup.grid) == 2
    assert setup.profile.name == "b200"
    assert setup.pricing.intensity == setup.profile.intensity
    assert setup.source_document == {
        "kind": "priors",
        "description": fake.description,
        "confidence": 0.95,
        "settings": [
            {
                "model": "qwen3-8b",
                "attention": "dense",
                "kv_budget": None,
                "source": "priors",
                "gen_cap": None,  # a run's own generation cap: evaluation rows only
            }
        ],
        "gen_cap_note": None,
        "votes": None,  # no vote counted from evaluation rows
    }
    answer = make_plan(setup.grid, 1e18, pricing=setup.pricing)
    doc = plan_document(setup, answer)
    assert doc["best"]["model"] == "qwen3-8b" and doc["best"]["gen_len"] == 8192
    assert doc["configurations"] == 2


def test_limits_beyond_the_context_window_are_left_out_with_one_warning(fake: FakeSource) -> None:
    catalog = load_catalog()  # qwen3-8b: max_position_embeddings 40,960
    setup = build_setup(
        task="fake",
        catalog=catalog,
        hardware="b200",
        models=["qwen3-8b"],
        options=grid_options(strategy="long-cot", attention=["dense"], gen_limits=["32k,40k,64k"]),
    )
    # the fake prompt is 200 tokens: 32,768 + 200 fits in 40,960; 40,960 + 200 and 65,536 do not
    assert sorted(setup.grid.gen_len) == [32768]
    assert setup.grid.beyond_context == (("qwen3-8b", 40960.0, 40960), ("qwen3-8b", 65536.0, 40960))
    (line,) = setup.warnings
    assert "qwen3-8b (window 40,960): 40,960, 65,536" in line
    with pytest.raises(InputError, match="every generation limit"):
        build_setup(
            task="fake",
            catalog=catalog,
            hardware="b200",
            models=["qwen3-8b"],
            options=grid_options(strategy="long-cot", attention=["dense"], gen_limits=["64k"]),
        )


def test_trials_and_kv_budgets_the_evaluations_lack_are_named() -> None:
    """per_problem_mytask.csv has 4 samples per problem and one sparse budget, top-k 512: asking
    for N = 8 or a 1,024-token budget leaves them out (never extrapolated), with one line each,
    rather than answering as if they had been searched."""
    from pathlib import Path

    evals = Path(__file__).parent / "examples" / "per_problem_mytask.csv"
    setup = build_setup(
        task="mytask",
        catalog=load_catalog(),
        hardware="b200",
        evals=[evals],
        options=grid_options(trials=["2,8"], kv_budgets=["512,1k"]),
    )
    assert sorted(set(setup.grid.trials.tolist())) == [1, 2]
    trials_line, budgets_line = setup.warnings
    assert trials_line.startswith("--trials 8 left out")
    assert (
        budgets_line.startswith("--kv-budgets 1,024 left out") and "evaluated: 512" in budgets_line
    )
    # the defaults (N up to 64) are not the user's request: no line for them
    quiet = build_setup(task="mytask", catalog=load_catalog(), hardware="b200", evals=[evals])
    assert quiet.warnings == ()


def test_a_prior_budget_holding_every_limit_is_named_as_dense() -> None:
    """Under the bundled aime25 priors (160 prompt tokens), a 64K budget holds the prompt and
    every limit up to 32K: it is dense attention, left out with one line; 512 stays."""
    setup = build_setup(
        task="aime25",
        catalog=load_catalog(),
        hardware="b200",
        models=["qwen3-8b"],
        options=grid_options(kv_budgets=["512,64k"]),
    )
    budgets = {setup.grid.settings[k].kv_budget for k in set(setup.grid.setting.tolist())}
    assert budgets == {None, 512.0}
    (line,) = setup.warnings
    assert line.startswith("--kv-budgets 65,536 left out") and "dense attention" in line


def test_build_setup_reports_progress_and_checks_intensity(fake: FakeSource) -> None:
    catalog = load_catalog()
    seen: list[tuple[int, int]] = []
    setup = build_setup(
        task="fake",
        catalog=catalog,
        hardware="b200",
        models=["qwen3-*"],
        intensity=100.0,
        on_progress=lambda done, total: seen.append((done, total)),
    )
    settings = len(setup.grid.settings)
    assert seen == [(k, settings) for k in range(1, settings + 1)]
    assert setup.pricing.intensity == 100.0
    with pytest.raises(InputError, match="--intensity must not be negative"):
        build_setup(task="fake", catalog=catalog, hardware="b200", intensity=-1.0)


def test_model_globs_match_aliases_too(fake: FakeSource) -> None:
    """`Qwen/*` names the models by their Hugging Face ids (each Qwen3 card's alias
    Qwen/Qwen3-...), as a plain alias already does; the fake covers qwen3 and llama cards."""
    catalog = load_catalog()
    options = grid_options(strategy="long-cot", attention=["dense"], gen_limits=[4096])
    by_id = build_setup(
        task="fake", catalog=catalog, hardware="b200", models=["Qwen/*"], options=options
    )
    by_name = build_setup(
        task="fake", catalog=catalog, hardware="b200", models=["qwen3-*"], options=options
    )
    models = {s.model for s in by_id.grid.settings}
    assert models == {s.model for s in by_name.grid.settings} and "qwen3-8b" in models


def test_planner_imports_without_typer_or_rich() -> None:
    code = (
        "import sys\n"
        "import kinetics_cli.planner.setup, kinetics_cli.report.plan, "
        "kinetics_cli.planner.frontier\n"
        "assert 'typer' not in sys.modules and 'rich' not in sys.modules, sorted(sys.modules)\n"
        "assert 'matplotlib' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_votes_do_not_ask_the_source_without_a_vote_rule() -> None:
    """Without majority or early stopping there is no census to take, and the source is not
    asked for its rows: a cached source would load itself (its measurements and priors) to
    answer, the whole cost a cached run avoids."""
    from kinetics_cli.planner.setup import _votes

    class Untouchable:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"the source was asked for {name!r}")

    grid = object()  # not read either
    assert _votes(Untouchable(), grid, ["coverage"], []) is None  # type: ignore[arg-type]


def _limit_only_evals(tmp_path, limit: int = 10000):  # type: ignore[no-untyped-def]
    """Per-problem rows with a gen_limit and a mean length but no per-sample lengths: their
    coverage is known at `limit` alone."""
    path = tmp_path / "limit_only.csv"
    header = "task,model,attention,kv_budget,problem,prompt_tokens,samples,correct,gen_limit,"
    lines = [header + "mean_gen_tokens"]
    lines += [f"lim,qwen3-8b,dense,,{p},100,4,{c},{limit},5000" for p, c in (("a", 3), ("b", 1))]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_evaluations_known_only_at_a_limit_not_searched_are_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """10,000 tokens is not a default limit, so the grid is empty: one InputError that names
    the limit to add, not an empty plan (and a frontier's traceback)."""
    evals = [_limit_only_evals(tmp_path)]
    with pytest.raises(InputError) as err:
        build_setup(task="lim", catalog=load_catalog(), hardware="b200", evals=evals)
    assert str(err.value) == (
        "no configuration to evaluate: qwen3-8b dense left out: per-problem rows without "
        "per-sample lengths give coverage only at their gen_limit, 10,000 tokens, which is not "
        "among the generation limits searched (add it: --gen-limits 10000)"
    )
    setup = build_setup(
        task="lim",
        catalog=load_catalog(),
        hardware="b200",
        evals=evals,
        options=grid_options(gen_limits=["8k", 10000]),
    )
    assert set(setup.grid.gen_len.tolist()) == {10000.0} and setup.warnings == ()
    # coverage at 10,000: c / n averaged over the problems, (3/4 + 1/4) / 2 = 1/2
    assert setup.grid.accuracy[setup.grid.trials == 1] == pytest.approx([0.5])


def test_only_trials_beyond_the_samples_is_an_error_naming_them() -> None:
    from pathlib import Path

    evals = Path(__file__).parent / "examples" / "per_problem_mytask.csv"  # 4 samples
    with pytest.raises(InputError, match=r"^no configuration to evaluate: --trials 8 left out"):
        build_setup(
            task="mytask",
            catalog=load_catalog(),
            hardware="b200",
            evals=[evals],
            options=grid_options(strategy="best-of-n", trials=[8]),
        )


def test_a_setting_known_only_at_a_limit_not_searched_is_named_beside_others(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With a second setting that has every sample's length, the grid is not empty: the
    limit-only setting is left out with one warning naming it and its limit."""
    evals = tmp_path / "mixed.csv"
    evals.write_text(
        "task,model,attention,kv_budget,problem,prompt_tokens,samples,correct,gen_limit,"
        "mean_gen_tokens,gen_lengths\n"
        "lim,qwen3-8b,dense,,a,100,4,3,10000,5000,\n"
        "lim,qwen3-8b,dense,,b,100,4,1,10000,5000,\n"
        "lim,qwen3-8b,topk,512,a,100,4,2,,,1000;2000;3000;4000\n"
    )
    setup = build_setup(task="lim", catalog=load_catalog(), hardware="b200", evals=[evals])
    assert {s.label for s in setup.grid.settings} == {"qwen3-8b dense", "qwen3-8b topk@512"}
    assert {setup.grid.settings[k].label for k in set(setup.grid.setting.tolist())} == {
        "qwen3-8b topk@512"
    }
    assert setup.warnings == (
        "qwen3-8b dense left out: per-problem rows without per-sample lengths give coverage only "
        "at their gen_limit, 10,000 tokens, which is not among the generation limits searched "
        "(add it: --gen-limits 10000)",
    )
