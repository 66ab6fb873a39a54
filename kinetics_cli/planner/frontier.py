"""The accuracy-versus-cost frontier of a grid under one law: overall and per model and attention."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kinetics_cli.planner.grid import Grid
from kinetics_cli.planner.pareto import level_pareto_mask
from kinetics_cli.planner.plan import accuracy_levels


@dataclass(frozen=True)
class Frontier:
    """Per-configuration cost under `law` and which configurations are on which frontier."""

    law: str
    cost: np.ndarray  # per problem under `law`: eFLOPs (kinetics) or FLOPs (flops)
    levels: np.ndarray  # accuracies as compared (0.1 percentage point)
    overall: np.ndarray  # on the frontier of the whole grid
    per_group: np.ndarray  # on the frontier of its (model, attention kind)
    groups: np.ndarray  # (model, attention kind) label of each configuration
    keys: list[tuple[str, str]]  # (model, attention kind) of each label


def make_frontier(grid: Grid, law: str, intensity: float) -> Frontier:
    """The overall and per-(model, attention kind) Pareto sets of `grid` under `law` at
    `intensity` FLOPs per byte."""
    cost = grid.law_eflops(law, intensity)
    levels = accuracy_levels(grid.accuracy)
    groups, keys = grid.group_labels()
    return Frontier(
        law=law,
        cost=cost,
        levels=levels,
        overall=level_pareto_mask(cost, levels),
        per_group=level_pareto_mask(cost, levels, groups),
        groups=groups,
        keys=keys,
    )
