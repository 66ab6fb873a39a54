"""The accuracy-versus-cost frontier of a grid: under one law (eFLOPs or FLOPs), or in a
deployable unit on each accelerator and across them (planner/deploy.py prices the deployments)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kinetics_cli.errors import InputError
from kinetics_cli.planner.grid import Grid
from kinetics_cli.planner.pareto import level_pareto_mask, pareto_mask
from kinetics_cli.planner.plan import ACCURACY_RESOLUTION, Pricing, costs

if TYPE_CHECKING:
    from kinetics_cli.planner.setup import HardwareOption


@dataclass(frozen=True)
class Frontier:
    """Per-configuration cost under `law` and which configurations are on which frontier."""

    law: str
    cost: np.ndarray  # per problem: eFLOPs (kinetics), FLOPs (flops) or `unit` on a deployment
    levels: np.ndarray  # accuracies as compared (0.1 percentage point)
    overall: np.ndarray  # on the frontier of the whole grid
    per_group: np.ndarray  # on the frontier of its (model, attention kind)
    groups: np.ndarray  # (model, attention kind) label of each configuration
    keys: list[tuple[str, str]]  # (model, attention kind) of each label
    unit: str = "eflops"  # planner.plan.UNITS; a deployable one prices the deployments


def frontier_of(grid: Grid, law: str, cost: np.ndarray, unit: str = "eflops") -> Frontier:
    """The overall and per-(model, attention kind) Pareto sets of `grid` at `cost` per
    configuration (infinite or NaN costs: never on a frontier)."""
    levels = grid.levels(ACCURACY_RESOLUTION)
    groups, keys = grid.group_labels()
    return Frontier(
        law=law,
        cost=cost,
        levels=levels,
        overall=level_pareto_mask(cost, levels),
        per_group=level_pareto_mask(cost, levels, groups),
        groups=groups,
        keys=keys,
        unit=unit,
    )


def make_frontier(grid: Grid, law: str, intensity: float) -> Frontier:
    """The overall and per-(model, attention kind) Pareto sets of `grid` under `law` at
    `intensity` FLOPs per byte."""
    return frontier_of(grid, law, grid.law_eflops(law, intensity))


def deployable_frontier(grid: Grid, pricing: Pricing, unit: str) -> Frontier:
    """The frontier of `grid` in a deployable `unit` (seconds, usd, latency, joules): each
    configuration at the cost `plan` charges it (planner.plan.costs under the Kinetics law, on
    the smallest replica that holds it); configurations no replica holds cost inf."""
    if pricing.deploy is None:
        raise InputError(f"a {unit} frontier needs deployable costs (planner/deploy.py)")
    return frontier_of(grid, "kinetics", costs(grid, "kinetics", unit, pricing), unit)


@dataclass(frozen=True)
class HardwareFrontiers:
    """Deployable frontiers on several accelerators: one per accelerator priced in `unit`, and
    the combined frontier, whose points are (accelerator, configuration) pairs. `skipped` names
    the accelerators that cannot be priced in `unit` and why."""

    unit: str
    hardware: tuple[str, ...]  # accelerators with a frontier, in the order asked
    frontiers: tuple[Frontier, ...]  # parallel to `hardware`
    combined: tuple[np.ndarray, ...]  # per accelerator: on the frontier of all of them together
    skipped: dict[str, str]


def combined_mask(cost: Sequence[np.ndarray], levels: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The Pareto set of the union of several point sets (one cost and level array each), split
    back per set: among exact duplicates across sets the earlier set's point is kept."""
    sizes = [c.size for c in cost]
    if not sizes:
        return []
    mask = pareto_mask(np.concatenate(cost), np.concatenate(levels))
    return np.split(mask, np.cumsum(sizes)[:-1])


def deployable_frontiers(options: Sequence[HardwareOption], unit: str) -> HardwareFrontiers:
    """The deployable frontier of each accelerator of `options` in `unit`, and across them.
    Accelerators without a price (usd) or board power (joules), or on which no configuration
    fits, are skipped and named; none left is an InputError."""
    from kinetics_cli.planner.deploy import DEPLOYABLE_UNITS

    if unit not in DEPLOYABLE_UNITS:
        raise InputError(
            f"{unit!r} is not a deployable unit; choose one of {', '.join(DEPLOYABLE_UNITS)}"
        )
    skipped: dict[str, str] = {}
    names: list[str] = []
    frontiers: list[Frontier] = []
    for option in options:
        deploy, name = option.deploy, option.profile.name
        if unit == "usd" and deploy.price_per_gpu_hour is None:
            skipped[name] = "no price_per_gpu_hour in its profile"
        elif unit == "joules" and deploy.tdp_watts is None:
            skipped[name] = "no tdp_watts in its profile"
        elif deploy.none_fit() is not None:
            skipped[name] = str(deploy.none_fit())
        else:
            names.append(name)
            frontiers.append(deployable_frontier(option.grid, option.pricing, unit))
    if not frontiers:
        raise InputError(
            f"no accelerator has a frontier in {unit}: "
            + "; ".join(f"{k}: {v}" for k, v in skipped.items())
        )
    combined = combined_mask([f.cost for f in frontiers], [f.levels for f in frontiers])
    return HardwareFrontiers(unit, tuple(names), tuple(frontiers), tuple(combined), skipped)
