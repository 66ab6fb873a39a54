"""Iso-cost: the longest generation, or the most trials, a model affords within a per-problem budget.

Cost rises monotonically with L_out and with N, so the largest affordable value is found by a
vectorized bisection on the continuous law, then rounded down to a whole number of tokens or trials.
Both laws are solved in one pass (intensity is an array axis). Derivations: docs/cost-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from kinetics_cli.engine.kinetics import (
    DEFAULT_BLOCK_SIZE,
    CostShape,
    law_intensity,
    problem_cost,
    shaped_cost,
)
from kinetics_cli.errors import InputError
from kinetics_cli.specs import ModelCard

Strategy = Literal["long-cot", "best-of-n"]
STRATEGIES = ("long-cot", "best-of-n")
# Tokens: the mean AIME prompt with its chat template, as measured for the bundled aime24 priors
# (Qwen3 159, R1-Distill 164; accuracy/priors/aime24.toml prompt_tokens, docs/accuracy-priors.md).
DEFAULT_PROMPT_LEN = 160.0
_ITERATIONS = 64
# search ceiling for L_out or N (a budget beyond it reports this ceiling)
SEARCH_CEILING = _MAX_VALUE = 1e12


def _cost(
    shape: CostShape,
    value: np.ndarray,
    strategy: str,
    prompt_len: np.ndarray,
    gen_len: np.ndarray,
    trials: np.ndarray,
    attention: str,
    kv_budget: np.ndarray | None,
    block_size: np.ndarray,
    intensity: np.ndarray,
) -> np.ndarray:
    """eFLOPs at the free variable `value` (L_out for long-CoT, N for best-of-N)."""
    if strategy == "long-cot":
        cost = shaped_cost(shape, prompt_len, value, trials, attention, kv_budget, block_size)
    else:
        cost = shaped_cost(shape, prompt_len, gen_len, value, attention, kv_budget, block_size)
    return cost.eflops(intensity)


def affordable(
    card: ModelCard | CostShape,
    budget: ArrayLike,
    *,
    strategy: str = "long-cot",
    prompt_len: float = DEFAULT_PROMPT_LEN,
    gen_len: float | None = None,
    trials: float = 1,
    attention: str = "dense",
    kv_budget: ArrayLike | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
    intensity: ArrayLike = 0.0,
    params: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Largest whole L_out (long-CoT, N = `trials`) or N (best-of-N, L_out = `gen_len`) whose
    eFLOPs at `intensity` stay within `budget`, and the eFLOPs it costs.

    `budget`, `intensity` and `kv_budget` broadcast (e.g. intensity [I, 0] solves both laws at
    once, KV budgets of shape (K, 1) every budget). Returns 0 where not even one token (one trial)
    fits. A sparse budget beyond the context is capped at the context.
    """
    if strategy not in STRATEGIES:
        raise InputError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if strategy == "best-of-n" and (gen_len is None or gen_len <= 0):
        raise InputError("best-of-n needs a positive generated length per trial (--gen-len)")
    b = np.asarray(budget, dtype=float)
    i = np.asarray(intensity, dtype=float)
    if np.any(~np.isfinite(b)) or np.any(b <= 0):
        raise InputError("the budget must be a positive number of eFLOPs")
    # Check every input once through the public entry point, then iterate on the bare law.
    problem_cost(
        card, prompt_len, gen_len or 1.0, trials, attention, kv_budget, block_size, params=params
    )
    if isinstance(card, CostShape):
        shape_ = card if params is None else replace(card, params=float(params))
    else:
        shape_ = CostShape.of(card, params)
    kv = None if attention == "dense" or kv_budget is None else np.asarray(kv_budget, dtype=float)
    shape = np.broadcast_shapes(b.shape, i.shape, () if kv is None else kv.shape)
    b, i = np.broadcast_to(b, shape), np.broadcast_to(i, shape)
    args = (
        strategy,
        np.asarray(float(prompt_len)),
        np.asarray(float(gen_len or 0.0)),
        np.asarray(float(trials)),
        attention,
        kv,
        np.asarray(float(block_size)),
        i,
    )

    def cost(value: np.ndarray) -> np.ndarray:
        return np.broadcast_to(_cost(shape_, value, *args), shape)

    # Bracket: the lower end is always affordable or the answer is 0; grow the upper end.
    low = np.zeros(shape) if strategy == "long-cot" else np.full(shape, 1e-9)
    high = np.ones(shape)
    for _ in range(48):
        over = cost(high) > b
        if over.all() or np.all(high >= _MAX_VALUE):
            break
        high = np.where(over, high, np.minimum(high * 16.0, _MAX_VALUE))
    for _ in range(_ITERATIONS):
        mid = 0.5 * (low + high)
        ok = cost(mid) <= b
        low = np.where(ok, mid, low)
        high = np.where(ok, high, mid)
    # Round down, and step back one when the rounding of the continuous answer went over.
    value = np.floor(high)
    over = cost(np.maximum(value, 1.0)) > b
    value = np.clip(np.where(over, value - 1.0, value), 0.0, _MAX_VALUE)
    spent = np.where(value >= 1.0, cost(np.maximum(value, 1.0)), 0.0)
    return value, spent


LAW_UNITS = {"kinetics": "eflops", "flops": "flops"}  # what each law's budget and cost count


@dataclass(frozen=True)
class IsoCostRow:
    """What one model affords under one law and attention setting."""

    model: str
    attention: str
    kv_budget: float | None
    law: str
    strategy: str
    gen_len: float
    trials: float
    cost: float  # what the law counts: eFLOPs (kinetics) or FLOPs (flops), as cost_unit says
    cost_unit: str
    budget: float
    params: float
    law_ratio: float | None  # FLOPs-law value / Kinetics-law value of the free variable
    prompt_len: float = DEFAULT_PROMPT_LEN  # L_in the row is solved at
    intensity: float = 0.0  # the law's I (FLOPs per byte): 0 under the FLOPs-only law
    block_size: float = DEFAULT_BLOCK_SIZE  # block top-k's page, tokens

    def as_dict(self) -> dict[str, object]:
        """The row's fields; token and trial counts as integers where whole (the solve floors
        them), as `cost --json` writes its trials."""
        out: dict[str, object] = dict(self.__dict__)
        for name in ("gen_len", "trials"):
            value = float(getattr(self, name))
            out[name] = int(value) if value.is_integer() else value
        return out


def isocost_rows(
    cards: list[ModelCard],
    budget: dict[str, float],
    *,
    intensity: float,
    strategy: str = "long-cot",
    prompt_len: float = DEFAULT_PROMPT_LEN,
    gen_len: float | None = None,
    trials: float = 1,
    settings: list[tuple[str, float | None]] | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
) -> list[IsoCostRow]:
    """Rows for every card x attention setting x law; `budget` maps each law to its budget."""
    laws = list(budget)
    intensities = np.array([law_intensity(law, intensity) for law in laws])
    budgets = np.array([budget[law] for law in laws])
    # One solve per card and attention variant: KV budgets on axis 0, laws on axis 1.
    by_attention: dict[str, list[float | None]] = {}
    for attention, kv_budget in settings or [("dense", None)]:
        by_attention.setdefault(attention, []).append(kv_budget)
    rows: list[IsoCostRow] = []
    long_cot = strategy == "long-cot"
    for card in cards:
        shape = CostShape.of(card)
        for attention, kv_budgets in by_attention.items():
            kv = None if attention == "dense" else np.array(kv_budgets, dtype=float)[:, None]
            values, spent = affordable(
                shape,
                budgets[None, :],
                strategy=strategy,
                prompt_len=prompt_len,
                gen_len=gen_len,
                trials=trials,
                attention=attention,
                kv_budget=kv,
                block_size=block_size,
                intensity=intensities[None, :],
            )
            for j, kv_budget in enumerate(kv_budgets if attention != "dense" else [None]):
                by_law = dict(zip(laws, values[j], strict=True))
                ratio = None
                if "flops" in by_law and "kinetics" in by_law and by_law["kinetics"] > 0:
                    ratio = float(by_law["flops"] / by_law["kinetics"])
                for k, law in enumerate(laws):
                    rows.append(
                        IsoCostRow(
                            model=card.name,
                            attention=attention,
                            kv_budget=kv_budget,
                            law=law,
                            strategy=strategy,
                            gen_len=float(values[j, k]) if long_cot else float(gen_len or 0.0),
                            trials=float(trials) if long_cot else float(values[j, k]),
                            cost=float(spent[j, k]),
                            cost_unit=LAW_UNITS[law],
                            budget=float(budgets[k]),
                            params=shape.params,
                            law_ratio=ratio,
                            prompt_len=float(prompt_len),
                            intensity=float(intensities[k]),
                            block_size=float(block_size),
                        )
                    )
    return rows
