"""The planner: the configuration grid, its accuracy-versus-cost Pareto set, and budget answers.

grid.py evaluates every (model, attention, KV budget, trials, generation limit) with the
accuracy source and the Kinetics cost law; pareto.py keeps the non-dominated points; plan.py
answers one per-problem budget under both laws; allocation.py compares one configuration for all
problems with the paper's per-problem oracle and a deployable adaptive rule. docs/planning.md
describes the assumptions.
"""

from kinetics_cli.planner.grid import Grid, evaluate_grid, select_settings
from kinetics_cli.planner.pareto import best_within, pareto_mask
from kinetics_cli.planner.plan import Plan, Pricing, make_plan

__all__ = [
    "Grid",
    "Plan",
    "Pricing",
    "best_within",
    "evaluate_grid",
    "make_plan",
    "pareto_mask",
    "select_settings",
]
