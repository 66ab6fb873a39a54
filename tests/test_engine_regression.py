"""The engine's results are those it gave before its performance rework (regression_cases.py).

Tolerance: 1e-12 relative, no absolute slack (a zero term stays exactly zero). Every term is a sum
of non-negative products, so reordering the arithmetic (constants folded, shared and per-trial
parts summed before trials multiply, means taken before the trials axis) moves a result by a few
units in the last place (about 1e-16 relative, 1e-14 after a 64-trial multiply); 1e-12 leaves
room for that and for nothing else.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from regression_cases import (
    BLOCK_SIZES,
    BUDGETS,
    GOLDEN,
    MODELS,
    POINT_LENGTHS,
    POINT_WEIGHTS,
    TERMS,
    TRIALS,
    engine_grid,
    shape_document,
    shape_from_document,
)

from kinetics_cli.catalog import load_catalog
from kinetics_cli.engine.kinetics import CostShape, expected_problem_cost, problem_cost

RTOL = 1e-12
PINNED = json.loads(GOLDEN.read_text(encoding="utf-8"))["engine"]


def _check(cost, pinned: dict[str, list]) -> None:  # type: ignore[no-untyped-def]
    for term in TERMS:
        want = np.asarray(pinned[term], dtype=float)
        got = getattr(cost, term)
        assert got.shape == want.shape, term
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0, err_msg=term)


@pytest.mark.parametrize("name", MODELS)
def test_bundled_cards_still_have_the_pinned_shapes(name: str) -> None:
    """P, attention groups and widths as derived from the card (cached figures included); a
    failure here after a deliberate card change means regenerating regression.json."""
    card = load_catalog().models.get(name).spec
    for _ in range(2):  # the second derivation comes from the card's caches
        assert shape_document(CostShape.of(card)) == PINNED[name]["shape"]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("attention", ["dense", "topk", "block-topk"])
def test_engine_terms_are_unchanged(name: str, attention: str) -> None:
    shape = shape_from_document(PINNED[name]["shape"])
    g = engine_grid()
    for s in BLOCK_SIZES if attention == "block-topk" else BLOCK_SIZES[:1]:
        budget = None if attention == "dense" else g["budget"]
        cost = problem_cost(shape, g["prompt_len"], g["gen_len"], g["trials"], attention, budget, s)
        _check(cost, PINNED[name]["costs"][f"{attention}/S={s:g}"])


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("attention", ["dense", "topk", "block-topk"])
def test_length_averaged_terms_are_unchanged(name: str, attention: str) -> None:
    shape = shape_from_document(PINNED[name]["shape"])
    budget = None if attention == "dense" else np.array(BUDGETS)[:, None, None]
    mean = expected_problem_cost(
        shape,  # type: ignore[arg-type]
        160.0,
        POINT_LENGTHS[None, None, :, :],
        np.array(TRIALS)[None, :, None],
        attention,
        budget,
        weights=POINT_WEIGHTS,
    )
    _check(mean, PINNED[name]["costs"][f"{attention}/mean"])
