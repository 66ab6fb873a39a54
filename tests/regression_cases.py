"""Configurations whose engine and planner results are pinned in tests/data/regression.json.

The values in that file were produced by the engine and planner as they stood before the
performance rework (commit 222bb39): they pin the implementation, not the formulas, so that
restructuring the arithmetic (validating once, averaging over lengths before broadcasting against
trials, chunking) cannot change any result. The formulas themselves are checked with hand-derived
values in test_engine_kinetics.py and test_planner.py.

Each engine case lists its model's shape (P, attention groups, element widths) next to the costs,
so the costs are pinned independently of the bundled cards; the shape itself is checked against
the bundled card separately. The planner case uses a hand-written accuracy source and a
hand-written accelerator for the same reason: bundled accuracy data and profiles may change, the
arithmetic of the grid must not.

Since then, the grid leaves out a prior's sparse settings at the limits their KV budget covers
whole (prompt + limit within the budget: the dense configuration); the 36 such rows of the
mean-prompt planner case were taken out of the pin, its other rows' pinned values kept as they
were and its answers recomputed from those pinned costs.

Regenerate only when a bundled card's data changes (never to absorb a change of the arithmetic):

    PYTHONPATH=. python tests/regression_cases.py
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np

from kinetics_cli.accuracy.base import Setting
from kinetics_cli.accuracy.evals import TrialOutcome
from kinetics_cli.engine.kinetics import CostShape, ProblemCost
from kinetics_cli.specs import AttentionGroup, HardwareProfile

GOLDEN = Path(__file__).parent / "data" / "regression.json"

# One card per attention structure: GQA, MoE, MLA + MoE, sliding window + MoE, linear hybrid.
MODELS = ("qwen3-8b", "qwen3-30b-a3b", "deepseek-v3", "gpt-oss-20b", "qwen3-next-80b-a3b")
TERMS = tuple(f.name for f in fields(ProblemCost) if f.name != "attention_kernel")

# Broadcast axes: prompt (3) x generated length (4) x trials (2); budgets on a leading axis for
# the sparse variants. Budgets below, inside and above gpt-oss's 128-token window; prompt 0 and a
# generated length of 1 are the edges of the attended-token integral.
PROMPTS = [0.0, 160.0, 5000.0]
LENGTHS = [1.0, 900.0, 8192.0, 32768.0]
TRIALS = [1.0, 64.0]
BUDGETS = [64.0, 512.0, 4096.0]
BLOCK_SIZES = [16.0, 64.0]


def engine_grid() -> dict[str, np.ndarray]:
    """The broadcast inputs every engine case is costed on (shape 3 x 3 x 4 x 2)."""
    return {
        "budget": np.array(BUDGETS)[:, None, None, None],
        "prompt_len": np.array(PROMPTS)[None, :, None, None],
        "gen_len": np.array(LENGTHS)[None, None, :, None],
        "trials": np.array(TRIALS)[None, None, None, :],
    }


# Length-averaged cases: per limit (rows), three weighted points of generated length.
POINT_LENGTHS = np.array([[300.0, 700.0, 1000.0], [900.0, 4000.0, 8192.0], [2.0, 16000.0, 30000.0]])
POINT_WEIGHTS = np.array([0.25, 0.15, 0.6])  # expected_problem_cost takes one weight per point


def shape_document(shape: CostShape) -> dict[str, Any]:
    return {
        "params": shape.params,
        "groups": [asdict(g) for g in shape.groups],
        "kv_bytes": shape.kv_bytes,
        "state_bytes": shape.state_bytes,
    }


def shape_from_document(doc: dict[str, Any]) -> CostShape:
    return CostShape(
        params=doc["params"],
        groups=tuple(AttentionGroup(**g) for g in doc["groups"]),
        kv_bytes=doc["kv_bytes"],
        state_bytes=doc["state_bytes"],
    )


# ---- the planner case ---------------------------------------------------------------------------

# A hand-written accelerator (round peaks, distinct per-class efficiencies), so calibrated seconds
# exercise every efficiency the grid uses and no bundled profile is involved.
HARDWARE = HardwareProfile.model_validate(
    {
        "name": "regression-gpu",
        "vendor": "test",
        "peak_flops": {"bf16": 2.0e15},
        "hbm_bandwidth": 8.0e12,
        "hbm_capacity": 192e9,
        "price_per_gpu_hour": 6.0,
        "sources": ["hand-written test profile"],
        "calibration": {
            "compute_efficiency": 0.7,
            "bandwidth_efficiency": 0.8,
            "kernels": {
                "gemm": {"compute_efficiency": 0.6, "bandwidth_efficiency": 0.9},
                "attention_decode_dense": {
                    "compute_efficiency": 0.5,
                    "bandwidth_efficiency": 0.75,
                },
                "attention_decode_blocktopk": {
                    "compute_efficiency": 0.4,
                    "bandwidth_efficiency": 0.65,
                },
            },
        },
    }
)

PLANNER_MODELS = {  # solve rate, mean generated length (FakeSource's parameters)
    "qwen3-0.6b": (0.15, 9000.0),
    "qwen3-8b": (0.55, 7000.0),
    "qwen3-30b-a3b": (0.6, 6500.0),
    "deepseek-v3": (0.8, 5000.0),
    "gpt-oss-20b": (0.5, 6000.0),
    "qwen3-next-80b-a3b": (0.7, 5500.0),
}
PLANNER_BUDGETS = (64.0, 512.0, 2048.0)
PLANNER_TRIALS = (1, 4, 64)
PLANNER_LIMITS = (1024, 3072, 8192, 32768)
GRID_ARRAYS = ("setting", "trials", "gen_len", "accuracy", "compute_flops", "memory_bytes")
GRID_ARRAYS += ("seconds", "compute_seconds")
PLAN_BUDGETS = (1e14, 1e16, 1e18)  # eFLOPs per problem


class PromptPerPointSource:
    """FakeSource whose length points carry their own prompt lengths, as evaluations do."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.task, self.kind, self.description = inner.task, "evaluations", inner.description

    def settings(self) -> list[Setting]:
        return self.inner.settings()  # type: ignore[no-any-return]

    def outcome(self, setting: Setting, trials: np.ndarray, limits: np.ndarray) -> TrialOutcome:
        out = self.inner.outcome(setting, trials, limits)
        prompts = np.linspace(50.0, 900.0, out.gen_lengths.size).reshape(out.gen_lengths.shape)
        return TrialOutcome(
            out.accuracy,
            out.gen_lengths,
            out.gen_weights,
            out.prompt_len,
            point_prompt_lens=prompts,
        )


# ---- computing today's values ----------------------------------------------------------------


def engine_results(shape: CostShape) -> dict[str, Any]:
    """Every term of every attention variant on engine_grid(), plus length-averaged costs."""
    from kinetics_cli.engine.kinetics import expected_problem_cost, problem_cost

    g = engine_grid()
    out: dict[str, Any] = {}
    for attention in ("dense", "topk", "block-topk"):
        for s in BLOCK_SIZES if attention == "block-topk" else BLOCK_SIZES[:1]:
            budget = None if attention == "dense" else g["budget"]
            cost = problem_cost(
                shape, g["prompt_len"], g["gen_len"], g["trials"], attention, budget, s
            )
            out[f"{attention}/S={s:g}"] = {t: getattr(cost, t).tolist() for t in TERMS}
        budget_axis = None if attention == "dense" else np.array(BUDGETS)[:, None, None]
        mean = expected_problem_cost(
            shape,
            160.0,
            POINT_LENGTHS[None, None, :, :],
            np.array(TRIALS)[None, :, None],
            attention,
            budget_axis,
            weights=POINT_WEIGHTS,
        )
        out[f"{attention}/mean"] = {t: getattr(mean, t).tolist() for t in TERMS}
    return out


PRICING_ARGS = (HARDWARE.intensity, HARDWARE.price_per_gpu_hour, HARDWARE.name)


def planner_grids(catalog: Any) -> dict[str, Any]:
    """The evaluated grid of each accuracy source (a mean prompt; a prompt per length point)."""
    from test_planner_fakes import FakeSource

    from kinetics_cli.planner.grid import evaluate_grid, select_settings

    grids = {}
    for label, source in (
        ("mean-prompt", FakeSource(models=dict(PLANNER_MODELS), budgets=PLANNER_BUDGETS)),
        (
            "prompt-per-point",
            PromptPerPointSource(FakeSource(models=dict(PLANNER_MODELS), budgets=(512.0,))),
        ),
    ):
        chosen = select_settings(source)  # type: ignore[arg-type]
        cards = {s.model: catalog.models.get(s.model).spec for s in chosen}
        grids[label] = evaluate_grid(
            source,  # type: ignore[arg-type]
            cards,
            chosen,
            HARDWARE,
            trials=PLANNER_TRIALS,
            limits=PLANNER_LIMITS,
        )
    return grids


def answers(grid: Any) -> dict[str, Any]:
    """The plan's answers at PLAN_BUDGETS (eFLOPs and seconds) and the frontiers of `grid`."""
    from kinetics_cli.planner.frontier import make_frontier
    from kinetics_cli.planner.plan import Pricing, make_plan

    pricing = Pricing(*PRICING_ARGS)
    plans = {}
    for budget in PLAN_BUDGETS:
        for unit, amount in (("eflops", budget), ("seconds", budget / 2e15)):
            answer = make_plan(grid, amount, unit=unit, pricing=pricing)
            plans[f"{unit}/{amount:g}"] = {
                "best": answer.best,
                "alternatives": list(answer.alternatives),
                "picks": answer.picks,
                "cheapest": answer.cheapest,
                "equal_accuracy": answer.equal_accuracy,
                "best_without_oracle": answer.best_without_oracle,
            }
    frontier = make_frontier(grid, "kinetics", pricing.intensity)
    return {
        "plans": plans,
        "frontier": np.flatnonzero(frontier.overall).tolist(),
        "frontier_per_group": np.flatnonzero(frontier.per_group).tolist(),
    }


def planner_results(catalog: Any) -> dict[str, Any]:
    """The grid's arrays per configuration and the answers, for each accuracy source."""
    out: dict[str, Any] = {}
    for label, grid in planner_grids(catalog).items():
        doc: dict[str, Any] = {name: getattr(grid, name).tolist() for name in GRID_ARRAYS}
        doc["params"] = list(grid.params)
        doc.update(answers(grid))
        out[label] = doc
    return out


def compute() -> dict[str, Any]:
    from kinetics_cli.catalog import load_catalog

    catalog = load_catalog()
    engine = {}
    for name in MODELS:
        shape = CostShape.of(catalog.models.get(name).spec)
        engine[name] = {"shape": shape_document(shape), "costs": engine_results(shape)}
    return {"engine": engine, "planner": planner_results(catalog)}


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(compute(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size:,} bytes)")
