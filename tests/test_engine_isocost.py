"""Iso-cost solving: inverse of the cost law, both laws at once, rows."""

from __future__ import annotations

import engine_catalog
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinetics_cli.engine.isocost import DEFAULT_PROMPT_LEN, affordable, isocost_rows
from kinetics_cli.engine.kinetics import problem_cost
from kinetics_cli.errors import InputError

GQA = engine_catalog.card("tiny-gqa")
BIG = engine_catalog.card("tiny-big")


def test_long_cot_by_hand():
    # tiny-gqa dense, L_in 100, N 1, I = 0: cost = 2 P L + 4 h (100 L + L^2 / 2)
    #   = 43264 L + 25600 L + 128 L^2 = 68864 L + 128 L^2. At L = 1000: 68.864e6 + 128e6.
    budget = 68_864_000 + 128_000_000
    value, spent = affordable(GQA, budget, prompt_len=100, intensity=0.0)
    assert value == 1000
    assert spent == budget
    value, _ = affordable(GQA, budget - 1, prompt_len=100, intensity=0.0)
    assert value == 999


def test_default_prompt_is_the_measured_aime_prompt():
    # DEFAULT_PROMPT_LEN = 160 (aime24 priors' prompt_tokens). tiny-gqa dense, I = 0:
    # cost = 43264 L + 256 (160 L + L^2 / 2) = 84224 L + 128 L^2; at L = 1000: 84.224e6 + 128e6.
    # (At the former 256 tokens the same L costs 108800 L + 128 L^2 = 236.8e6: 1000 would not fit.)
    assert DEFAULT_PROMPT_LEN == 160
    budget = 84_224_000 + 128_000_000
    value, spent = affordable(GQA, budget, intensity=0.0)
    assert value == 1000
    assert spent == budget


def test_best_of_n_by_hand():
    # L_out 10, L_in 100, I = 100: per trial compute 701440 (see test_engine_kinetics),
    # memory 4 d (1000 + N 50) = 128000 + 6400 N -> eFLOPs = 12.8e6 + 1341440 N
    cost_7 = 12_800_000 + 7 * 1_341_440
    value, spent = affordable(
        GQA, cost_7, strategy="best-of-n", gen_len=10, prompt_len=100, intensity=100.0
    )
    assert value == 7
    assert spent == pytest.approx(cost_7)
    # below the cost of one trial: nothing is affordable
    value, spent = affordable(
        GQA, 1e6, strategy="best-of-n", gen_len=10, prompt_len=100, intensity=100.0
    )
    assert value == 0 and spent == 0


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["tiny-gqa", "tiny-moe", "tiny-mla", "tiny-hybrid"]),
    st.sampled_from([("dense", None), ("topk", 64.0), ("block-topk", 128.0)]),
    st.integers(1, 200_000),
    st.integers(1, 16),
    st.floats(0, 1000),
)
def test_affordable_inverts_the_cost_law(name, setting, length, trials, intensity):
    card = engine_catalog.card(name)
    attention, budget = setting
    exact = problem_cost(card, 160, length, trials, attention, budget).eflops(intensity)
    value, _ = affordable(
        card,
        exact,
        trials=trials,
        attention=attention,
        kv_budget=budget,
        intensity=intensity,
    )
    assert value == length
    below = problem_cost(card, 160, length + 1, trials, attention, budget).eflops(intensity)
    assert below > exact


def test_both_laws_in_one_call_and_the_flops_law_promises_more():
    budget = problem_cost(BIG, 160, 8000).eflops(100)
    values, spent = affordable(GQA, budget, intensity=np.array([100.0, 0.0]))
    kinetics, flops = values
    assert flops > kinetics > 0
    assert np.all(spent <= budget)


def test_rows_and_ratio():
    budgets = {"kinetics": 1e12, "flops": 1e12}
    rows = isocost_rows(
        [GQA, BIG],
        budgets,
        intensity=100.0,
        settings=[("dense", None), ("block-topk", 256.0)],
    )
    assert len(rows) == 2 * 2 * 2
    keys = {"model", "attention", "kv_budget", "law", "gen_len", "trials", "cost", "cost_unit"}
    assert keys <= set(rows[0].as_dict())
    # the solve floors L_out and N: JSON says them as integers, as cost --json says its trials
    assert all(type(r.as_dict()["gen_len"]) is int for r in rows)
    assert all(type(r.as_dict()["trials"]) is int for r in rows)
    by = {(r.model, r.attention, r.law): r for r in rows}
    for model in ("tiny-gqa", "tiny-big"):
        for attention in ("dense", "block-topk"):
            k, f = by[model, attention, "kinetics"], by[model, attention, "flops"]
            assert k.law_ratio == pytest.approx(f.gen_len / k.gen_len)
            assert k.law_ratio > 1
            assert k.trials == 1
    # sparse attention buys a longer generation under the memory-aware law
    assert (
        by["tiny-gqa", "block-topk", "kinetics"].gen_len
        > by["tiny-gqa", "dense", "kinetics"].gen_len
    )


def test_bad_input():
    with pytest.raises(InputError, match="budget"):
        affordable(GQA, -1.0)
    with pytest.raises(InputError, match="gen-len"):
        affordable(GQA, 1e9, strategy="best-of-n")
    with pytest.raises(InputError, match="strategy"):
        affordable(GQA, 1e9, strategy="self-consistency")
    with pytest.raises(InputError, match="kv-budget"):
        affordable(GQA, 1e9, attention="topk")
