"""Deployable costs of a planner grid: every configuration priced on a deployment that holds it.

The Kinetics law prices a problem on an idealised accelerator. Here each configuration (model,
attention, KV budget, N trials, limit L) gets the smallest replica of `hardware` whose per-GPU
memory holds the weights and one problem's N trials at L (prompt cache shared), the largest batch
of problems that fits (or meets a TPOT target), and from the serving model (engine/serving.py):
GPU-seconds, dollars, problems per GPU-hour, wall time and energy per problem. The arithmetic is
engine/serving.py's `problem_costs`, broadcast over settings x trials x limits (a test holds the
two equal); docs/planning.md section 11 describes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from itertools import pairwise
from operator import attrgetter

import numpy as np

from kinetics_cli.accuracy.base import Outcome, Setting
from kinetics_cli.arrays import keep_freed_temporaries
from kinetics_cli.engine.formats import WEIGHT_FORMATS
from kinetics_cli.engine.kinetics import DEFAULT_BLOCK_SIZE
from kinetics_cli.engine.operators import OpCost
from kinetics_cli.engine.roofline import (
    StepSetup,
    _Op,
    attention_splits_evenly,
    operator_seconds,
    operators_seconds,
    step_operators,
    tensor_parallel_degrees,
)
from kinetics_cli.engine.serving import (
    ENGINE_DEFAULT,
    LIFE_SAMPLES,
    Deployment,
    Efficiency,
    MaxBatch,
    PrefillCharge,
    _prefill_per_prompt,
    _setup,
    activation_workspace_bytes,
    check_deployment,
    chunked_prefill_seconds,
    engine_operators,
    held_bytes_per_gpu,
    host_seconds,
    kv_capacity,
    precision,
    prefill_step_seconds,
    resolve_efficiency,
    resolve_max_batch,
    whole_problems,
    whole_sequences,
)
from kinetics_cli.engine.serving_checks import ServingCheck, check_for
from kinetics_cli.errors import InputError
from kinetics_cli.planner.grid import Grid
from kinetics_cli.planner.plan import Plan, Pricing, TieAnswer
from kinetics_cli.specs import HardwareProfile, ModelCard

MAX_SEQUENCES = 2**24  # per replica, as `serve` caps the batch
# what set a configuration's batch, as `kinetics serve`'s batch_rule names it (DeployCosts.rule)
BATCH_RULES = ("memory", "max-batch", "max-tpot")
MAX_BATCH_RULE, MAX_TPOT_RULE = 1, 2
DEPLOYABLE_UNITS = ("seconds", "usd", "latency", "joules")


@dataclass(frozen=True)
class DeployOptions:
    """How `plan` deploys: the efficiency mode (as in `serve`), an optional TPOT target and the
    engine's cap on concurrent sequences; formats are the card's weights and a bf16 cache."""

    efficiency: str = "default"
    max_tpot: float | None = None
    # per replica, as `serve`: a number, None (memory only), or ENGINE_DEFAULT (vLLM's default
    # for each accelerator, serving.engine_max_batch)
    max_batch: MaxBatch = ENGINE_DEFAULT

    def max_batch_on(self, profile: HardwareProfile) -> int | None:
        """The cap on `profile`'s accelerator."""
        return resolve_max_batch(self.max_batch, profile)


@dataclass(frozen=True)
class VerifierCosts:
    """What scoring the candidates adds to the verifier rule's configurations, as parallel
    arrays over the grid: the verifier model on its own replica of the accelerator (the
    smallest that holds its weights and a scoring pass; `price_verifier`), each of the N
    candidates scored as a prefill of the prompt and that candidate's generated tokens.

    `rows` marks the verifier rule's configurations; elsewhere every figure is 0 (tp 0), and
    where no replica holds the verifier, fits is False and the figures are infinite.
    gpu_seconds: replica GPUs x the replica's seconds of prefill per problem (N candidates,
    passes packed as a steady stream packs them), latency_s: the N candidates' own passes,
    after the longest trial has finished, each the expectation over the candidates' length
    distribution; tokens: per candidate, prompt + mean generated (the mean of that distribution).
    """

    model: str
    rows: np.ndarray
    fits: np.ndarray
    tp: np.ndarray
    ep: np.ndarray
    tokens: np.ndarray
    gpu_seconds: np.ndarray
    latency_s: np.ndarray


@dataclass(frozen=True)
class DeployCosts:
    """Deployable figures of every configuration of a Grid on one profile (parallel arrays).

    Configurations no replica of the profile can hold have fits False, tp 0 and infinite costs.
    Batches are problems in flight per replica (batch x trials sequences). usd_per_1000 is NaN
    without a price, joules NaN without board power. Joules are GPU-seconds x `watts`, the
    profile's serving_watts (measured serving power where it has one, else tdp_watts).
    """

    hardware: str
    efficiency_mode: str
    efficiency_label: str
    price_per_gpu_hour: float | None
    tdp_watts: float | None
    watts: float | None  # board power per busy GPU behind joules (HardwareProfile.serving_watts)
    power_model: str  # that power in words (HardwareProfile.power_model)
    fits: np.ndarray
    tp: np.ndarray
    ep: np.ndarray
    attention_dp: np.ndarray
    batch: np.ndarray
    tpot_s: np.ndarray
    gpu_seconds: np.ndarray
    latency_s: np.ndarray
    usd_per_1000: np.ndarray
    joules: np.ndarray
    # the request shapes the figures rest on: prompt tokens, mean generated tokens per trial
    # under the limit (which sets GPU time) and the expected longest of the N trials (latency)
    prompt_tokens: np.ndarray
    mean_generated_tokens: np.ndarray
    expected_longest_tokens: np.ndarray
    dropped: dict[str, int] = field(default_factory=dict)  # reason -> configurations
    # the rule of the whole pricing: "memory", or "max-tpot" under a TPOT target
    batch_rule: str = "memory"
    # per configuration, what set its batch as `kinetics serve` names it: codes into
    # BATCH_RULES ("memory", "max-batch": the engine's cap, "max-tpot": the target held it below
    # what fits); where no replica holds it, the pricing's rule (None: batch_rule everywhere)
    batch_rules: np.ndarray | None = None
    max_batch: int | None = None  # the engine's cap on sequences per replica, if any
    # `kinetics serve` options of this pricing that are not its defaults (efficiency mode,
    # engine cap), and per model the --weights name that stores it as its card does (None:
    # no single name does; serve's default, the card's widths, is then the one)
    serve_options: tuple[str, ...] = ()
    weight_formats: Mapping[str, str | None] = field(default_factory=dict)
    # the verifier rule's scoring pass, included in the figures above (None without the rule)
    verifier: VerifierCosts | None = None
    # per model, how this efficiency mode's predictions compared with published runs of its
    # kind (dense or MoE) on this accelerator (engine/serving_checks.py; None: not checked)
    checks: Mapping[str, ServingCheck | None] = field(default_factory=dict)

    @property
    def problems_per_gpu_hour(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.where(self.fits, 3600.0 / self.gpu_seconds, 0.0)

    def none_fit(self) -> str | None:
        """Why no replica holds any configuration (the dropped reasons), or None where one
        does."""
        if self.fits.any():
            return None
        return "no replica holds any configuration (" + "; ".join(self.dropped) + ")"

    def cost(self, unit: str) -> np.ndarray:
        """Per-problem cost in a deployable unit (inf where nothing holds the configuration);
        an InputError where no replica holds any, since nothing can then be priced."""
        if unit == "seconds":
            cost = self.gpu_seconds
        elif unit == "latency":
            cost = self.latency_s
        elif unit == "usd":
            if self.price_per_gpu_hour is None:
                raise InputError(
                    f"hardware profile {self.hardware!r} has no price_per_gpu_hour; "
                    "--budget-usd needs one"
                )
            cost = self.usd_per_1000
        elif unit == "joules":
            if self.tdp_watts is None:
                raise InputError(
                    f"hardware profile {self.hardware!r} has no tdp_watts; --budget-joules "
                    "needs one"
                )
            cost = self.joules
        else:
            raise InputError(f"{unit!r} is not a deployable unit")
        why = self.none_fit()
        if why is not None:
            raise InputError(f"nothing to price on {self.hardware}: {why}")
        return cost

    def rule(self, i: int) -> str:
        """What set configuration `i`'s batch: "memory" (the most problems that fit),
        "max-batch" (the engine's cap) or "max-tpot" (the TPOT target held it below those), as
        `kinetics serve` names it; where no replica holds it, the pricing's rule."""
        if self.batch_rules is None or not self.fits[i]:
            return self.batch_rule
        return BATCH_RULES[int(self.batch_rules[i])]

    def deployment(self, i: int) -> Deployment:
        """The Deployment configuration `i` is priced on (replicas: 1)."""
        return Deployment(
            tp=int(self.tp[i]),
            ep=int(self.ep[i]),
            attention_dp=bool(self.attention_dp[i]),
            max_batch=self.max_batch,
        )

    def document(self, i: int) -> dict[str, dict[str, object]]:
        """The deployment and deployable figures of configuration `i`, as JSON writes them."""
        ok = bool(self.fits[i])

        def value(x: np.ndarray) -> float | None:
            v = float(x[i])
            return v if ok and np.isfinite(v) else None

        out: dict[str, dict[str, object]] = {
            "deployment": {
                "hardware": self.hardware,
                "tp": int(self.tp[i]) if ok else None,
                "ep": int(self.ep[i]) if ok else None,
                "attention_dp": bool(self.attention_dp[i]) if ok else None,
                "replicas": 1,
                "gpus_per_replica": int(self.tp[i]) if ok else None,
                "batch": int(self.batch[i]) if ok else None,
                "batch_rule": self.rule(i),
                "efficiency_mode": self.efficiency_mode,
            },
            "deployable": {
                "fits": ok,
                "gpu_seconds": value(self.gpu_seconds),
                "usd_per_1000": value(self.usd_per_1000),
                "problems_per_gpu_hour": value(self.problems_per_gpu_hour),
                "latency_s": value(self.latency_s),
                "tpot_s": value(self.tpot_s),
                "joules": value(self.joules),
                "prompt_tokens": float(self.prompt_tokens[i]),
                "mean_generated_tokens": float(self.mean_generated_tokens[i]),
                "expected_longest_tokens": float(self.expected_longest_tokens[i]),
            },
        }
        v = self.verifier
        if v is not None and v.rows[i]:
            out["deployable"]["verifier"] = self.verifier_document(i)
        return out

    def family_checks(self) -> tuple[ServingCheck, ...]:
        """The checks of the priced models' kinds, dense before MoE, each once."""
        found = {c.family: c for c in self.checks.values() if c is not None}
        return tuple(found[f] for f in ("dense", "moe") if f in found)

    def check_document(self, model: str) -> dict[str, object] | None:
        """How this pricing's predictions for `model`'s kind fared against published runs
        (ServingCheck.document), or None where none was checked."""
        check = self.checks.get(model)
        return None if check is None else check.document()

    def verifier_document(self, i: int) -> dict[str, object]:
        """What the verifier's scoring pass adds to configuration `i` (a verifier-rule row):
        its model and replica, the tokens it prefills per candidate, and its GPU-seconds,
        latency, dollars per 1,000 problems and joules per problem (included in the
        configuration's figures); null where no replica holds it."""
        v = self.verifier
        assert v is not None
        ok = bool(v.fits[i])
        gpu_s = float(v.gpu_seconds[i])
        price, watts = self.price_per_gpu_hour, self.watts
        return {
            "model": v.model,
            "hardware": self.hardware,
            "fits": ok,
            "tp": int(v.tp[i]) if ok else None,
            "ep": int(v.ep[i]) if ok else None,
            "tokens_per_candidate": float(v.tokens[i]),
            "gpu_seconds": gpu_s if ok else None,
            "latency_s": float(v.latency_s[i]) if ok else None,
            "usd_per_1000": gpu_s * price / 3600.0 * 1000.0 if ok and price is not None else None,
            "joules": gpu_s * watts if ok and watts is not None else None,
        }

    def serve_command(
        self, i: int, model: str, attention: str, kv_budget: float | None, trials: int
    ) -> str | None:
        """The `kinetics serve` command that prices configuration `i` as a steady stream of
        its problems (None where no replica holds it): its deployment and formats, --isl the
        prompt, --osl the mean generated tokens per trial, --trials N (groups of N sequences
        sharing the prompt, held and prefilled once, as here; left out for one), --batch its
        sequences (problems in flight x N). Its output tokens/s per GPU gives the GPU-seconds
        per problem, N x --osl / tokens/s, within the length-distribution effect: serve runs
        every request at --osl tokens, where the plan mixes the lengths. A sparse budget beyond
        --isl + --osl is given as --isl + --osl (serve refuses more): every context of serve's
        requests is within it, so the same tokens are attended."""
        if not self.fits[i]:
            return None
        isl = round(float(self.prompt_tokens[i]))
        osl = max(round(float(self.mean_generated_tokens[i])), 1)
        parts = ["kinetics", "serve", model, "-H", self.hardware, "--tp", str(int(self.tp[i]))]
        if self.ep[i] > 1:
            parts += ["--ep", str(int(self.ep[i]))]
        weights = self.weight_formats.get(model)
        if weights is not None:
            parts += ["--weights", weights]
        parts += ["--kv", "bf16"]
        if attention != "dense" and kv_budget is not None:
            parts += ["--attention", attention, "--kv-budget", f"{min(kv_budget, isl + osl):g}"]
        parts += ["--isl", str(isl), "--osl", str(osl)]
        if trials > 1:
            parts += ["--trials", str(trials)]
        parts += ["--batch", str(int(self.batch[i]) * trials), *self.serve_options]
        return " ".join(parts)


# --------------------------------------------------------------------------------------------
# Candidate deployments of one model
# --------------------------------------------------------------------------------------------


def candidate_deployments(
    card: ModelCard, profile: HardwareProfile, max_batch: int | None = None
) -> list[list[Deployment]]:
    """Deployments to try, grouped by replica size (ascending): TP 1, 2, 4, ... within a node
    where TP divides the heads; for MoE models with TP > 1 also EP = TP with attention data-
    parallel where EP divides the experts."""
    out: list[list[Deployment]] = []
    for tp in tensor_parallel_degrees(card, profile):
        if tp & (tp - 1):  # powers of two only
            continue
        group = [Deployment(tp=tp, max_batch=max_batch)]
        if card.moe is not None and tp > 1 and card.moe.experts % tp == 0:
            group.append(Deployment(tp=tp, ep=tp, max_batch=max_batch))
        out.append(group)
    return out


def verifier_deployments(
    card: ModelCard, profile: HardwareProfile, max_batch: int | None = None
) -> list[list[Deployment]]:
    """candidate_deployments for the verifier's scoring replica, with attention tensor-parallel
    (EP = TP keeps its experts split): a scoring pass holds a few long candidates, which
    attention data-parallel would leave on one rank while the others wait."""
    return [
        [replace(d, attention_dp=False) for d in group]
        for group in candidate_deployments(card, profile, max_batch)
    ]


def price_verifier(
    card: ModelCard,
    profile: HardwareProfile,
    tokens: np.ndarray,
    trials: np.ndarray,
    options: DeployOptions,
    *,
    weights: np.ndarray | None = None,
    longest: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The verifier's scoring pass per problem, as tables over the candidates' lengths `tokens`
    (per candidate: prompt + generated) broadcast with `trials` (N candidates per problem).

    Without `weights` each entry of `tokens` is one length, every candidate of that length.
    With `weights`, the last axis of `tokens` holds the points of a length distribution and
    `weights` (the same shape, summing to 1 along it) their probabilities; the figures are
    expectations over the points (the pass is not linear in T: packing, passes per candidate
    and attention's quadratic term), `trials` broadcast with the other axes. `longest`: the
    longest candidate the replica must hold (by default the longest point).

    The verifier model runs on its own replica of `profile`: the smallest (TP 1, 2, 4, ...
    within a node, `verifier_deployments`) whose per-GPU memory holds its weights, the reserve
    (a prefill chunk's activations included) and the cache of one candidate of the longest
    length; of the deployments of that size, the one with fewer expected GPU-seconds. A
    candidate is a prefill of T tokens (serving.chunked_prefill_seconds): a pass packs k =
    min(floor(C / T), the candidates of T the memory holds, the engine's cap) of them (at least
    one; C the prefill chunk), and one longer than C takes ceil(T / C) passes.

    gpu_seconds = TP x N x sum_q w_q pass(k_q) / k_q at T_q: a steady stream of problems fills
    every pass with candidates of one length, as the serving model charges a prompt's prefill.
    latency = sum_q w_q x the N candidates' own passes one after another at T_q, ceil(N / k) - 1
    of k and the last of the rest, no queueing: the expected passes of N candidates drawn from
    the distribution, exact where each candidate takes its own passes (k = 1, T > C / 2) and
    packing candidates of one length together where several share a pass. Keys: fits,
    weights_fit (the weights and reserve leave room for a cache on some replica), tp, ep,
    gpu_seconds, latency (inf where nothing holds it)."""
    t = np.asarray(tokens, dtype=float)
    if weights is None:
        t = t[..., None]
        w = np.ones(t.shape)
    else:
        w = np.asarray(weights, dtype=float)
        t, w = np.broadcast_arrays(t, w)
    top = t.max(axis=-1) if longest is None else np.asarray(longest, dtype=float)
    n = np.asarray(trials, dtype=float)
    shape = np.broadcast_shapes(t.shape[:-1], top.shape, n.shape)
    n_q = n[..., None]
    out = {
        "fits": np.zeros(shape, dtype=bool),
        "weights_fit": np.zeros(shape, dtype=bool),
        "tp": np.zeros(shape, dtype=int),
        "ep": np.zeros(shape, dtype=int),
        "gpu_seconds": np.full(shape, np.inf),
        "latency": np.full(shape, np.inf),
    }
    # the cache at every point (how many a pass holds) and at the longest (whether one fits)
    contexts = np.concatenate([t.ravel(), top.ravel()])
    live = w > 0
    open_ = np.ones(shape, dtype=bool)
    for group in verifier_deployments(card, profile, options.max_batch_on(profile)):
        chosen = np.zeros(shape, dtype=bool)
        for d in group:
            compute = precision(card, profile, d).compute
            eff = resolve_efficiency(profile, options.efficiency, compute)
            weight_bytes, per_sequence = held_bytes_per_gpu(card, profile, d, context=contexts)
            free = kv_capacity(profile, d, weight_bytes, activation_workspace_bytes(card, d))[1]
            out["weights_fit"] |= free > 0
            held = whole_sequences(free, per_sequence[: t.size].reshape(t.shape), d)
            fits = whole_sequences(free, per_sequence[t.size :].reshape(top.shape), d) >= 1
            pack = np.maximum(np.floor(d.prefill_chunk_tokens / t), 1.0)
            if d.max_batch is not None:
                pack = np.minimum(pack, d.max_batch)
            # a point no longer than the longest holds at least as many as it (at least one)
            pack = np.where(fits[..., None], np.maximum(np.minimum(pack, held), 1.0), 1.0)
            # a pass at each point of positive weight (the others, padding, weigh nothing)
            full = np.zeros(t.shape)
            full[live] = chunked_prefill_seconds(card, profile, d, eff, t[live], pack[live])
            gpu_s = np.sum(w * (d.tp * n_q * full / pack), axis=-1)
            passes = np.ceil(n_q / pack)
            rest = n_q - (passes - 1.0) * pack
            # the last pass: a full one where the rest is a whole pass (always where a pass
            # holds one), else priced for the rest alone (short candidates, one chunk each)
            last = np.array(np.broadcast_to(full, rest.shape))
            part = (rest < pack) & live
            if part.any():
                last[part] = chunked_prefill_seconds(
                    card, profile, d, eff, np.broadcast_to(t, rest.shape)[part], rest[part]
                )
            latency = np.sum(w * ((passes - 1.0) * full + last), axis=-1)
            take = _cheaper(open_, fits, chosen, gpu_s, out["gpu_seconds"])
            if not take.any():
                continue
            chosen |= take
            for key, value in (
                ("tp", d.tp),
                ("ep", d.ep),
                ("gpu_seconds", gpu_s),
                ("latency", latency),
            ):
                np.copyto(out[key], value, where=take)
            out["fits"] |= take
        open_ &= ~chosen
        if not open_.any():
            break
    return out


def _cheaper(
    open_: np.ndarray,
    fits: np.ndarray,
    chosen: np.ndarray,
    gpu_seconds: np.ndarray,
    kept: np.ndarray,
) -> np.ndarray:
    """Where a deployment of the replica size being tried is kept: rows still open (no smaller
    replica holds them) that it fits, not chosen at this size yet or cheaper in GPU-seconds
    than the one chosen (`kept`). The rule of price_settings and price_verifier alike."""
    return open_ & fits & (~chosen | (gpu_seconds < kept))


# --------------------------------------------------------------------------------------------
# The serving model broadcast over (settings, trials, limits)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shapes:
    """Request shapes of the settings of one (model, attention kind): arrays [S, L, Q]."""

    settings: list[int]  # indices into the grid's settings
    budgets: np.ndarray  # [S] KV budgets (nan for dense)
    prompt: np.ndarray  # [S]
    lens: np.ndarray  # [S, L, Q]
    probs: np.ndarray  # [S, L, Q], rows sum to 1
    held: np.ndarray  # [S, L] context each sequence holds under the deployment's admission
    mean_len: np.ndarray  # [S, L]
    longest: np.ndarray  # [S, N, L] expected longest of N trials

    # The life contexts are computed where they are used (the one-sequence costs of a step
    # shape, once or twice per chunk), not kept: [S, L, Q x 16] each, tens of MB over a plan's
    # chunks that a cold process would take as fresh pages.
    def life(self) -> tuple[np.ndarray, np.ndarray]:
        """The contexts a stream of such sequences holds and their weights, [S, L, Q x 16]."""
        return _life(self.prompt, self.lens, self.probs)

    @property
    def life_contexts(self) -> np.ndarray:
        """life()'s contexts (computed again at each use)."""
        return self.life()[0]

    @property
    def life_weights(self) -> np.ndarray:
        """life()'s weights (computed again at each use)."""
        return self.life()[1]


def expected_longest_grid(lens: np.ndarray, probs: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """E[max of N draws] for every row of a length distribution: [S, L, Q] x [N] -> [S, N, L].
    serving.expected_longest row by row: sum_j L_j (F(L_j)^N - F(L_j-1)^N)."""
    order = np.argsort(lens, axis=-1)
    lo = np.take_along_axis(lens, order, -1)
    p = np.take_along_axis(probs, order, -1)
    cdf = np.cumsum(p, axis=-1)
    n = trials[None, :, None, None]
    # F(L_j - 1) is F(L_{j-1}) (0 before the first), so F(L_j - 1)^N is the power one place
    # back: each power is taken once and shifted, the same values as powering both
    power = cdf[:, None] ** n
    step = np.empty_like(power)
    np.subtract(power[..., :1], np.zeros_like(cdf[:, None, ..., :1]) ** n, out=step[..., :1])
    np.subtract(power[..., 1:], power[..., :-1], out=step[..., 1:])
    return np.sum(np.multiply(lo[:, None], step, out=step), axis=-1)


def _life(prompt: np.ndarray, lens: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """serving._life_contexts for every (setting, limit): contexts and weights [S, L, Q x 16]."""
    k = (np.arange(LIFE_SAMPLES) + 0.5) / LIFE_SAMPLES
    s, lim, q = lens.shape
    # prompt + lens k and w / sum(w), each computed in its own array (the same sums and
    # quotients, two fresh arrays fewer)
    ctx = lens[..., None] * k
    np.add(ctx, prompt[:, None, None, None], out=ctx)
    w = np.repeat((probs * lens)[..., None], LIFE_SAMPLES, axis=-1)
    w = w.reshape(s, lim, q * LIFE_SAMPLES)
    np.divide(w, w.sum(axis=-1, keepdims=True), out=w)
    return ctx.reshape(s, lim, q * LIFE_SAMPLES), w


def _step_model(
    card: ModelCard,
    profile: HardwareProfile,
    d: Deployment,
    eff: Efficiency,
    parts: Sequence[tuple[str, _Shapes]],
    block_size: float,
    unit_cache: dict[tuple[object, ...], _Units] | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """Decode step seconds of a replica as a function of its sequences [S, N, L], the rows of
    `parts` (attention kind, shapes) stacked in order, each sequence holding its row's mix of
    life contexts: serving._step with one weight row per (setting, limit). Operators that depend
    on the context cost (sequences x their cost for one sequence), so their mixed FLOPs and bytes
    are computed once per part for one sequence and scaled; the others do not depend on the
    attention kind and are timed once for all parts (step_operators is Python per operator, so
    one call serves the parts' rows together). Each row sums its operators in step_operators'
    order, as serving._step does; the equality with serving.problem_costs is held by tests.
    `unit_cache` keeps the one-sequence costs for other accelerators: they are counts of FLOPs
    and bytes, which depend on the step's shapes and widths (the key), not on the hardware."""
    setups, units = [], []
    for attention, shapes in parts:
        kv = None if attention == "dense" else float(shapes.budgets[0])
        s0 = _setup(
            card,
            profile,
            d,
            context=0.0,
            attention=attention,
            kv_budget=kv,
            block_size=block_size,
            efficiency=eff,
        )
        setups.append(s0)
        units.append(_one_sequence(s0, attention, shapes, unit_cache))
    rows = np.cumsum([0, *(shapes.budgets.size for _, shapes in parts)])
    # MoE experts timed at the grouped-GEMM efficiencies where the mode has them (serving._step)
    grouped = eff.grouped

    def step(sequences: np.ndarray) -> np.ndarray:
        # the attention kernels read the context: priced per part (per_sequence or own_ops)
        shared_ops = step_operators(setups[0], sequences, attention=False)
        engine_ops = engine_operators(setups[0], sequences, eff)
        # seconds of the context-free operators, all rows, timed in one pass
        shared = operators_seconds(setups[0], [*shared_ops, *engine_ops], grouped, sequences.shape)
        index = {op.name: i for i, op in enumerate(shared_ops)}
        out = np.zeros(sequences.shape)
        for j, (s0, (per_sequence, names)) in enumerate(zip(setups, units, strict=True)):
            a, b = rows[j], rows[j + 1]
            own, total = sequences[a:b], out[a:b]
            own_ops: dict[str, _Op] | None = None  # this part's operators, if one is not shared
            for i, name in enumerate(names):
                if i in per_sequence:
                    op = per_sequence[i]
                    cost = OpCost(op.cost.flops * own, op.cost.bytes * own)
                    # built directly: dataclasses.replace costs more than the arithmetic here
                    op = _Op(op.name, op.kind, op.kernel, op.calls, cost, None, op.grouped)
                    seconds = _seconds(s0, op, grouped)
                elif name in index:
                    seconds = shared[index[name], a:b]
                else:
                    if own_ops is None:
                        own_ops = {op.name: op for op in step_operators(s0, own)}
                    seconds = _seconds(s0, own_ops[name], grouped)
                np.add(total, seconds, out=total)
            for seconds in shared[len(shared_ops) :]:
                np.add(total, seconds[a:b], out=total)
        return np.add(out, eff.step_overhead_seconds, out=out)

    return step


def _seconds(s: StepSetup, op: _Op, grouped: HardwareProfile | None) -> np.ndarray:
    """operator_seconds of one operator, a grouped GEMM on the `grouped` hardware if any (one
    or two per part: fewer array calls than operators_seconds' stacking)."""
    if op.grouped and grouped is not None:
        s = replace(s, hardware=grouped)
    return operator_seconds(s, op)


def _one_sequence(
    s0: StepSetup,
    attention: str,
    shapes: _Shapes,
    unit_cache: dict[tuple[object, ...], _Units] | None,
) -> _Units:
    """_per_sequence's costs of `s0` for the life contexts of `shapes`, from `unit_cache` where
    it has them (they are counts of FLOPs and bytes, which depend on the step's shapes and widths,
    the key, not on the hardware). Where the attention heads split evenly over s0.tp (a power of
    two), they are the costs on one GPU divided by tp: every term of the attention kernels carries
    one factor of heads per rank (or of sequences per rank, with attention data-parallel), and a
    division by a power of two is exact in floating point, so the figures keep their bits (a test
    holds them to the ones computed at tp). The attention kernels do not read how the routed
    experts are dealt (ep), nor does any operator's name: the costs are those at ep = 1, which a
    deployment with expert parallelism shares with the one without."""
    # everything the operators' FLOPs and bytes read, apart from the hardware and the links
    # (the shapes by identity: the caller keeps them for as long as the cache)
    key = (s0.card.name, id(shapes), shapes.budgets.tobytes(), *_COUNT_FIELDS(s0))
    if unit_cache is not None and key in unit_cache:
        return unit_cache[key]
    if s0.ep != 1:
        s0 = replace(s0, ep=1)
    tp = s0.tp
    units: _Units | None = None
    powers_of_two = tp > 1 and tp & (tp - 1) == 0
    if unit_cache is not None and powers_of_two and attention_splits_evenly(s0.card, tp):
        one_gpu = replace(s0, tp=1, attention_dp=False)
        whole, whole_names = _one_sequence(one_gpu, attention, shapes, unit_cache)
        # the operators' names and order depend on tp only through tp > 1 (the collectives)
        names_key = ("names", s0.card.name, s0.phase, attention, s0.kv_budget, s0.attention_dp)
        if names_key not in unit_cache:
            unit_cache[names_key] = ({}, tuple(op.name for op in step_operators(s0, np.ones(1))))
        names = unit_cache[names_key][1]
        if all(op.kind == "attention" and names[i] == whole_names[i] for i, op in whole.items()):
            units = (
                {
                    i: _Op(
                        op.name,
                        op.kind,
                        op.kernel,
                        op.calls,
                        OpCost(op.cost.flops / tp, op.cost.bytes / tp),
                        None,
                        op.grouped,
                    )
                    for i, op in whole.items()
                },
                names,
            )
    if units is None:
        units = _per_sequence(s0, attention, shapes.budgets, *shapes.life())
    if unit_cache is not None:
        unit_cache[key] = units
    return units


# StepSetup fields that change the time of an operator but not its FLOPs or bytes (or, for
# card and context, stand in the cache key otherwise: by name, and by the shapes' identity),
# and ep, which changes neither for the attention kernels
_HARDWARE_FIELDS = ("hardware", "links", "card", "context", "ep")
# the other fields, read in one call (the key is built for every candidate and attention kind)
_COUNT_FIELDS = attrgetter(*(f.name for f in fields(StepSetup) if f.name not in _HARDWARE_FIELDS))

# One part's step operators: the context-dependent ones by position, each holding its mixed
# cost for one sequence (not the per-context arrays it came from, which the cache would keep
# alive), and every operator's name in step_operators' order.
_Units = tuple[dict[int, _Op], tuple[str, ...]]


def _per_sequence(
    s0: StepSetup,
    attention: str,
    budgets: np.ndarray,
    contexts: np.ndarray,
    weights: np.ndarray,
) -> _Units:
    """FLOPs and bytes for one sequence, mixed over `contexts` with `weights` [S, L, K], of the
    operators (by position in step_operators) whose cost depends on the context, and the names
    of all the step's operators in order."""
    mixed_setup = replace(s0, context=contexts[:, None])
    if attention != "dense" and budgets.size > 1:
        mixed_setup = replace(mixed_setup, kv_budget=budgets[:, None, None, None])  # type: ignore[arg-type]
    k = contexts.shape[-1]
    w = weights[:, None]
    settings, limits = contexts.shape[0], contexts.shape[1]
    one = np.ones((settings, 1, limits, 1))
    full = (settings, 1, limits, k)
    per_sequence: dict[int, _Op] = {}
    ops = step_operators(mixed_setup, one)
    product = np.empty(full)  # one buffer for every weighted product (fewer fresh pages)

    def mixed(x: np.ndarray) -> np.ndarray:
        return np.sum(np.multiply(x, w, out=product), axis=-1)

    for j, op in enumerate(ops):
        flops, nbytes = np.asarray(op.cost.flops), np.asarray(op.cost.bytes)
        if op.link_seconds is None and (flops.shape[-1:] == (k,) or nbytes.shape[-1:] == (k,)):
            unit = OpCost(mixed(flops), mixed(nbytes))
            per_sequence[j] = _Op(op.name, op.kind, op.kernel, op.calls, unit, None, op.grouped)
    return per_sequence, tuple(op.name for op in ops)


@dataclass(frozen=True)
class _Priced:
    """One candidate deployment's figures over [S, N, L]."""

    fits: np.ndarray
    batch: np.ndarray
    rule: np.ndarray  # what set the batch, codes into BATCH_RULES
    tpot: np.ndarray
    gpu_seconds: np.ndarray
    latency: np.ndarray

    def rows(self, start: int, stop: int) -> _Priced:
        """The figures of rows start..stop (views): one part of parts priced together."""
        return _Priced(*(x[start:stop] for x in _PRICED_FIELDS(self)))


_PRICED_FIELDS = attrgetter(*(f.name for f in fields(_Priced)))

# weight, workspace and cache bytes per GPU, and per trial list (its bytes) each chunk's bytes
# per problem, where those are positive, and the sequence caps: see _problem_caps
_HeldBytes = dict[
    tuple[object, ...],
    tuple[
        float,
        float,
        np.ndarray,
        dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    ],
]


def _problem_caps(
    card: ModelCard,
    profile: HardwareProfile,
    d: Deployment,
    attention: str,
    chunks: list[_Shapes],
    trials: np.ndarray,
    block_size: float,
    bytes_cache: _HeldBytes | None = None,
) -> tuple[list[np.ndarray], bool]:
    """Most problems of N trials (prompt cache shared) one replica holds, [S, N, L] per chunk
    (serving.memory_plan's max_problems, one set of held bytes for all chunks), and whether the
    weights leave room for any cache. `bytes_cache` keeps the weight, workspace and cache bytes
    per GPU for other accelerators: they depend on the card, the deployment and the shapes
    (keyed by identity), not on the hardware, whose capacity alone sets the room left."""
    key = (card.name, d, attention, block_size, *(id(c) for c in chunks))
    cached = None if bytes_cache is None else bytes_cache.get(key)
    if cached is not None:
        check_deployment(card, profile, d)
        weights, workspace, per_seq, per_trials = cached
        kv_capacity_bytes = kv_capacity(profile, d, weights, workspace)[1]
    else:
        prompts = [c.prompt for c in chunks]
        helds = [c.held.ravel() for c in chunks]
        contexts = np.concatenate([[0.0], *prompts, *helds])
        budget = next((float(b) for c in chunks for b in c.budgets if np.isfinite(b)), 256.0)
        weights, per_seq = held_bytes_per_gpu(  # the KV budget changes no memory (all cached)
            card,
            profile,
            d,
            context=contexts,
            attention=attention,
            kv_budget=None if attention == "dense" else budget,
            block_size=block_size,
        )
        workspace = activation_workspace_bytes(card, d)
        kv_capacity_bytes = kv_capacity(profile, d, weights, workspace)[1]
        per_trials = {}
        if bytes_cache is not None:
            bytes_cache[key] = (weights, workspace, per_seq, per_trials)
    free = max(kv_capacity_bytes, 0.0)
    trial_key = trials.tobytes()
    shaped = per_trials.get(trial_key)
    if shaped is None:
        shaped = _problem_bytes(chunks, per_seq, trials, d.max_batch)
        per_trials[trial_key] = shaped
    problem, most, sequence, prompt = shaped
    # every chunk's rows in one call (whole_problems is element by element), then each chunk's
    caps = np.minimum(
        whole_problems(free, problem, sequence, d, prompt=prompt, trials=trials[None, :, None]),
        most,
    )
    bounds = np.cumsum([0, *(c.prompt.size for c in chunks)]).tolist()
    return [caps[a:b] for a, b in pairwise(bounds)], kv_capacity_bytes > 0


def _problem_bytes(
    chunks: list[_Shapes], per_seq: np.ndarray, trials: np.ndarray, max_batch: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cache bytes of one problem of N trials (prompt cache shared), [S, N, L] with the chunks'
    rows stacked in order, the sequence caps per N, one trial's bytes at the limit, [S, 1, L],
    and the prompt's shared bytes, [S, 1, 1]: what _problem_caps hands serving.whole_problems,
    the same on every accelerator (only the free bytes differ). `per_seq` holds the bytes at no
    context, at each chunk's prompts, then at each chunk's held contexts ([S, L] each)."""
    fixed = per_seq[0]
    n = trials[None, :, None]
    shared = n - 1.0
    # the engine's cap and MAX_SEQUENCES, per trial count, folded into one bound (min is exact)
    most = np.floor(MAX_SEQUENCES / n)
    if max_batch is not None:
        most = np.minimum(np.floor(max_batch / n), most)
    rows = sum(c.prompt.size for c in chunks)
    kv_prompt = per_seq[1 : 1 + rows]
    kv_held = per_seq[1 + rows :].reshape(rows, -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        problem = n * kv_held[:, None, :] - shared * (kv_prompt - fixed)[:, None, None]
    return problem, most, kv_held[:, None, :], (kv_prompt - fixed)[:, None, None]


def _price_rows(
    card: ModelCard,
    profile: HardwareProfile,
    d: Deployment,
    parts: Sequence[tuple[str, _Shapes]],
    caps: Sequence[np.ndarray],
    trials: np.ndarray,
    block_size: float,
    options: DeployOptions,
    prefill: dict[float, PrefillCharge],
    efficiencies: dict[str, Efficiency],
    unit_cache: dict[tuple[object, ...], _Units] | None = None,
    prefill_ops: dict[tuple[object, ...], list[_Op]] | None = None,
) -> _Priced:
    """serving.problem_costs on `d` for every (setting, N, L) of each part's shapes (attention
    kind, shapes), at the most problems that fit (`caps`, one per part) or, with a TPOT target,
    the most that meet it; the parts' rows stacked in order and priced together, element by
    element as each alone (`unit_cache`: _step_model's; `prefill_ops`:
    serving._prefill_per_prompt's)."""
    n = trials[None, :, None]
    cap = np.concatenate(caps)
    fits = cap >= 1
    compute = precision(card, profile, d).compute
    if compute not in efficiencies:
        efficiencies[compute] = resolve_efficiency(profile, options.efficiency, compute)
    eff = efficiencies[compute]
    prompt = np.concatenate([shapes.prompt for _, shapes in parts])
    mean_len = np.concatenate([shapes.mean_len for _, shapes in parts])
    longest = np.concatenate([shapes.longest for _, shapes in parts])
    prompts = prompt.tolist()
    for p in dict.fromkeys(prompts):
        if p not in prefill:
            prefill[p] = _prefill_per_prompt(card, profile, d, p, eff, prefill_ops)
    charge = PrefillCharge(
        *(
            np.array(column)[:, None, None]
            for column in zip(*(prefill[p] for p in prompts), strict=True)
        )
    )
    single = charge.single
    step_of = _step_model(card, profile, d, eff, parts, block_size, unit_cache)

    def tpot_at(problems: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seqs = problems * n
        step = step_of(seqs)
        gpu = step + prefill_step_seconds(d, seqs / mean_len[:, None, :] / n, charge)
        return step, np.maximum(gpu, host_seconds(eff, d, seqs))

    batch = np.where(fits, cap, 1.0)
    # the engine's cap sets the batch where it holds no more problems than memory does (serve's
    # rule: one more group would exceed it)
    rule = np.zeros(cap.shape, dtype=np.int8)
    if d.max_batch is not None:
        rule[cap >= np.floor(d.max_batch / n)] = MAX_BATCH_RULE
    step, tpot = tpot_at(batch)
    if options.max_tpot is not None:
        # Largest whole number of problems meeting the target (TPOT grows with the batch). Once
        # a row's search has closed (lo = hi) more rounds leave it: the rows share the count.
        target = options.max_tpot
        ok = tpot <= target
        lo, hi = np.ones_like(batch), batch.copy()
        meets = tpot_at(lo)[1] <= target
        for _ in range(int(np.ceil(np.log2(max(float(hi.max()), 2.0)))) + 1):
            mid = np.floor((lo + hi + 1) / 2)
            good = tpot_at(mid)[1] <= target
            lo = np.where(good, mid, lo)
            hi = np.where(good, hi, mid - 1)
        batch = np.where(ok, batch, lo)
        rule[batch < cap] = MAX_TPOT_RULE
        fits = fits & meets
        step, tpot = tpot_at(batch)
    seqs = batch * n
    gpu_s = d.gpus_per_replica * n * mean_len[:, None, :] * tpot / seqs
    # the first token as serve's TTFT: a prefill pass and a step, no sooner than the host's work
    latency = np.maximum(single + step, host_seconds(eff, d, seqs)) + longest * tpot
    return _Priced(
        fits,
        batch,
        rule,
        np.where(fits, tpot, np.inf),
        np.where(fits, gpu_s, np.inf),
        np.where(fits, latency, np.inf),
    )


def _budget(setting: Setting) -> float:
    return np.nan if setting.kv_budget is None else float(setting.kv_budget)


def _shapes(
    indices: list[int],
    outcomes: Mapping[int, Outcome],
    settings: Sequence[Setting],
    trials: np.ndarray,
) -> _Shapes:
    """The request shapes of `indices`; distributions with fewer points are padded with
    zero-weight copies of their longest length (which changes none of the figures)."""
    return _chunk_shapes([indices], outcomes, settings, trials)[0]


def _chunk_shapes(
    chunks: Sequence[list[int]],
    outcomes: Mapping[int, Outcome],
    settings: Sequence[Setting],
    trials: np.ndarray,
) -> list[_Shapes]:
    """_shapes of each chunk of setting indices. Chunks whose distributions have as many points
    (after each chunk's own padding) are stacked and computed together: every figure is a row's
    own (element-wise, or reduced along the points of its row), so each chunk's are those it has
    alone, in a few array passes instead of a few per chunk. Each chunk's arrays are views of
    the stacked ones."""
    padded: list[tuple[np.ndarray, np.ndarray]] = []
    for indices in chunks:
        lens_list = [np.asarray(outcomes[i].gen_lengths, dtype=float) for i in indices]
        probs_list = [np.asarray(outcomes[i].gen_weights, dtype=float) for i in indices]
        q = max(x.shape[-1] for x in lens_list)
        for j, (x, p) in enumerate(zip(lens_list, probs_list, strict=True)):
            if x.shape[-1] < q:
                pad = q - x.shape[-1]
                top = x.max(axis=-1, keepdims=True)
                lens_list[j] = np.concatenate([x, np.repeat(top, pad, axis=-1)], axis=-1)
                probs_list[j] = np.concatenate([p, np.zeros((p.shape[0], pad))], axis=-1)
        padded.append((np.stack(lens_list), np.stack(probs_list)))
    by_points: dict[int, list[int]] = {}
    for j, (lens, _) in enumerate(padded):
        by_points.setdefault(lens.shape[-1], []).append(j)
    out: list[_Shapes | None] = [None] * len(chunks)
    for members in by_points.values():
        lens = np.concatenate([padded[j][0] for j in members])
        raw = np.concatenate([padded[j][1] for j in members])
        probs = raw / raw.sum(axis=-1, keepdims=True)
        order = [i for j in members for i in chunks[j]]
        prompt = np.array([float(outcomes[i].prompt_len) for i in order])
        budgets = np.array([_budget(settings[i]) for i in order])
        held = prompt[:, None] + lens.max(axis=-1)
        mean_len = np.sum(lens * probs, axis=-1)
        longest = expected_longest_grid(lens, probs, trials)
        bounds = np.cumsum([0, *(len(chunks[j]) for j in members)]).tolist()
        for j, (a, b) in zip(members, pairwise(bounds), strict=True):
            out[j] = _Shapes(
                settings=chunks[j],
                budgets=budgets[a:b],
                prompt=prompt[a:b],
                lens=lens[a:b],
                probs=probs[a:b],
                held=held[a:b],
                mean_len=mean_len[a:b],
                longest=longest[a:b],
            )
    return out  # type: ignore[return-value]


def price_settings(
    outcomes: Mapping[int, Outcome],
    settings: Sequence[Setting],
    cards: Mapping[str, ModelCard],
    profile: HardwareProfile,
    trials: np.ndarray,
    limits: np.ndarray,
    *,
    options: DeployOptions | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
    shapes_cache: dict[tuple[int, ...], _Shapes] | None = None,
    unit_cache: dict[tuple[object, ...], _Units] | None = None,
    bytes_cache: _HeldBytes | None = None,
    prefill_ops: dict[tuple[object, ...], list[_Op]] | None = None,
) -> dict[str, np.ndarray]:
    """Deployable figures as tables [setting, N, L]. `shapes_cache`, `unit_cache` and
    `bytes_cache` carry the request shapes, the one-sequence operator costs and the memory
    bytes per GPU (which the last two key by the shapes' identity: pass them with
    `shapes_cache` or not at all) from one accelerator to the next; `prefill_ops` the prefill
    passes' operators (keyed by value).

    Per model, a loop over its few replica sizes (smallest first; at each, the deployments of
    that size, the cheapest kept): one memory plan per (size, cache layout) and one broadcast
    pricing per (size, attention kind); none over configurations.
    """
    options = DeployOptions() if options is None else options
    shape = (len(settings), trials.size, limits.size)
    out = {
        "fits": np.zeros(shape, dtype=bool),
        "weights_fit": np.zeros(shape, dtype=bool),
        "tp": np.zeros(shape, dtype=int),
        "ep": np.zeros(shape, dtype=int),
        "attention_dp": np.zeros(shape, dtype=bool),
        "batch": np.zeros(shape),
        "batch_rule": np.zeros(shape, dtype=np.int8),
        "tpot": np.full(shape, np.inf),
        "gpu_seconds": np.full(shape, np.inf),
        "latency": np.full(shape, np.inf),
        # the request shapes priced, whatever the deployment
        "prompt_tokens": np.zeros(shape),
        "mean_generated_tokens": np.zeros(shape),
        "expected_longest_tokens": np.zeros(shape),
    }
    efficiencies: dict[str, Efficiency] = {}  # per compute dtype
    by_model: dict[str, dict[str, list[int]]] = {}
    for i, s in enumerate(settings):
        by_model.setdefault(s.model, {}).setdefault(s.attention, []).append(i)
    # Per model, its chunks: budgets broadcast as an array except where sliding windows compare
    # against one.
    model_chunks = {
        model: [
            (attention, chunk)
            for attention, members in kinds.items()
            for chunk in (
                [members] if cards[model].sliding_window is None else [[i] for i in members]
            )
        ]
        for model, kinds in by_model.items()
    }
    # request shapes depend on the accuracy source only: every chunk's at once
    cache = {} if shapes_cache is None else shapes_cache
    missing = list({tuple(c): c for chunks in model_chunks.values() for _, c in chunks}.values())
    missing = [c for c in missing if tuple(c) not in cache]
    for chunk, chunk_shapes in zip(
        missing, _chunk_shapes(missing, outcomes, settings, trials), strict=True
    ):
        cache[tuple(chunk)] = chunk_shapes
    for model, chunks in model_chunks.items():
        card = cards[model]
        shapes = [cache[tuple(chunk)] for _, chunk in chunks]
        # The model's chunks stacked in order on the first axis: chunk j holds rows spans[j].
        bounds = [0, *np.cumsum([len(c) for _, c in chunks]).tolist()]
        spans = [slice(a, b) for a, b in pairwise(bounds)]
        # the model's tables: views of its rows of `out` where they are consecutive (as a source
        # lists its settings), else copies written into `out` once at the end
        rows = _rows([i for _, c in chunks for i in c])
        tables = {key: table[rows] for key, table in out.items()}
        for span, chunk_shapes in zip(spans, shapes, strict=True):
            tables["prompt_tokens"][span] = chunk_shapes.prompt[:, None, None]
            tables["mean_generated_tokens"][span] = chunk_shapes.mean_len[:, None, :]
            tables["expected_longest_tokens"][span] = chunk_shapes.longest
        open_ = np.ones((bounds[-1], trials.size, limits.size), dtype=bool)
        weights_fit = [False] * len(chunks)
        for group in candidate_deployments(card, profile, options.max_batch_on(profile)):
            chosen = np.zeros_like(open_)
            for d in group:
                prefill: dict[float, PrefillCharge] = {}
                # One memory plan per cache layout: block top-k adds page summaries.
                caps: list[np.ndarray | None] = [None] * len(chunks)
                for layout in ("block-topk", "dense"):
                    which = [
                        j
                        for j, (a, _) in enumerate(chunks)
                        if (a == "block-topk") == (layout == "block-topk") and open_[spans[j]].any()
                    ]
                    if not which:
                        continue
                    attention = chunks[which[0]][0]
                    got, room = _problem_caps(
                        card,
                        profile,
                        d,
                        attention,
                        [shapes[j] for j in which],
                        trials,
                        block_size,
                        bytes_cache if shapes_cache is not None else None,
                    )
                    for j, held in zip(which, got, strict=True):
                        caps[j] = held
                        weights_fit[j] |= room
                # Every chunk some problem of which fits, priced in one pass.
                live = [
                    j
                    for j, cap in enumerate(caps)
                    if cap is not None and (open_[spans[j]] & (cap >= 1)).any()
                ]
                if not live:
                    continue
                priced = _price_rows(
                    card,
                    profile,
                    d,
                    [(chunks[j][0], shapes[j]) for j in live],
                    [caps[j] for j in live],  # type: ignore[misc]
                    trials,
                    block_size,
                    options,
                    prefill,
                    efficiencies,
                    unit_cache if shapes_cache is not None else None,
                    prefill_ops,
                )
                at = 0  # the live chunks' rows, a run of consecutive chunks at a time
                for first, last in _runs(live):
                    model_rows = slice(bounds[first], bounds[last + 1])
                    size = bounds[last + 1] - bounds[first]
                    _choose(
                        {key: table[model_rows] for key, table in tables.items()},
                        open_[model_rows],
                        chosen[model_rows],
                        priced.rows(at, at + size),
                        d,
                    )
                    at += size
            open_ &= ~chosen
            if not open_.any():
                break
        for span, room in zip(spans, weights_fit, strict=True):
            tables["weights_fit"][span] |= room
        if not isinstance(rows, slice):
            for key, table in tables.items():
                out[key][rows] = table
    return out


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """Ascending `indices` as runs of consecutive ones, (first, last) each."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _choose(
    tables: dict[str, np.ndarray],
    open_: np.ndarray,
    chosen: np.ndarray,
    priced: _Priced,
    d: Deployment,
) -> None:
    """Keep `d` in `tables` where it is the cheapest fitting deployment so far of the smallest
    replica size that fits: rows still open that it fits, not chosen at this size yet or
    cheaper than the one chosen (`chosen` records them). Arrays are the same rows, in place."""
    take = _cheaper(open_, priced.fits, chosen, priced.gpu_seconds, tables["gpu_seconds"])
    if not take.any():
        return
    chosen |= take
    for key, value in (
        ("tp", d.tp),
        ("ep", d.ep),
        ("attention_dp", d.data_parallel_attention()),
        ("batch", priced.batch),
        ("batch_rule", priced.rule),
        ("tpot", priced.tpot),
        ("gpu_seconds", priced.gpu_seconds),
        ("latency", priced.latency),
    ):
        np.copyto(tables[key], value, where=take)
    tables["fits"] |= take


def _rows(indices: list[int]) -> slice | list[int]:
    """The rows `indices` of a table: a slice (read and written in place) where they are
    consecutive, else the list (a copy)."""
    first = indices[0]
    if indices == list(range(first, first + len(indices))):
        return slice(first, first + len(indices))
    return indices


def deploy_costs(
    tables: dict[str, np.ndarray],
    profile: HardwareProfile,
    options: DeployOptions,
    setting: np.ndarray,
    trial_index: np.ndarray,
    limit_index: np.ndarray,
    sampled: np.ndarray | None = None,
    trials: np.ndarray | None = None,
    weight_formats: Mapping[str, str | None] | None = None,
    verifier: tuple[str, dict[str, np.ndarray], np.ndarray, np.ndarray] | None = None,
    checks: Mapping[str, ServingCheck | None] | None = None,
) -> DeployCosts:
    """Gather the [setting, N, L] tables onto a grid's configurations and add dollars, energy
    and the count of configurations no replica holds, by reason. `sampled`: the fraction of
    the N trials a configuration runs on average (early stopping; 1 otherwise), which scales
    its GPU time; memory, batch and latency stay those of N trials. `trials`: each
    configuration's N, which names the engine's cap on sequences as the reason where a
    problem's N trials exceed it (whatever the replica, since the cap is per replica).
    `weight_formats`: per model, weights_option on `profile` (for serve_command). `verifier`:
    the verifier model's name, its price_verifier tables [setting, N, L], the tokens it
    prefills per candidate [setting, N, L] and which configurations are the verifier rule's:
    their GPU-seconds and latency gain the scoring pass (dollars and joules follow from the
    GPU-seconds), and they are dropped where no replica holds the verifier. `checks`: per
    model, its ServingCheck on `profile` (carried for the reports)."""
    at = (setting, trial_index, limit_index)
    fits = tables["fits"][at]
    gpu_s = tables["gpu_seconds"][at]
    latency = tables["latency"][at]
    if sampled is not None:
        gpu_s = gpu_s * sampled
    scoring = None
    if verifier is not None:
        name, scored, tokens, rows = verifier
        v_fits = np.where(rows, scored["fits"][at], False)
        v_gpu = np.where(rows, scored["gpu_seconds"][at], 0.0)
        v_latency = np.where(rows, scored["latency"][at], 0.0)
        scoring = VerifierCosts(
            model=name,
            rows=rows,
            fits=v_fits,
            tp=np.where(v_fits, scored["tp"][at], 0),
            ep=np.where(v_fits, scored["ep"][at], 0),
            tokens=np.where(rows, tokens[at], 0.0),
            gpu_seconds=v_gpu,
            latency_s=v_latency,
        )
        gpu_s = np.where(rows, gpu_s + v_gpu, gpu_s)
        latency = np.where(rows, latency + v_latency, latency)
    weights_fit = tables["weights_fit"][at]
    dropped: dict[str, int] = {}
    no_weights = int(np.sum(~fits & ~weights_fit))
    cap = options.max_batch_on(profile)
    if trials is not None and cap is not None:
        over_cap = ~fits & weights_fit & (np.asarray(trials) > cap)
        if over_cap.any():
            dropped[
                f"a problem's N trials exceed the engine's cap of {cap:,} concurrent sequences "
                "per replica (--max-batch)"
            ] = int(over_cap.sum())
        weights_fit = weights_fit & ~over_cap
    no_kv = int(np.sum(~fits & weights_fit))
    if options.max_tpot is not None:
        from kinetics_cli.units import format_si

        reason = (
            f"no replica up to a whole {profile.name} node meets TPOT "
            f"{format_si(options.max_tpot, 's')} at one problem in flight, or holds the problem"
        )
        if no_kv:
            dropped[reason] = no_kv
    elif no_kv:
        dropped[
            f"one problem's trials at the generation limit need more KV cache than a whole "
            f"{profile.name} node leaves after weights and reserve"
        ] = no_kv
    if no_weights:
        dropped[
            f"the weights and reserve exceed a whole {profile.name} node "
            f"({profile.gpus_per_node} x {profile.hbm_capacity / 1e9:.0f} GB)"
        ] = no_weights
    if verifier is not None and scoring is not None:
        # configurations the generating model fits but no replica holds the verifier for
        unscored = fits & scoring.rows & ~scoring.fits
        no_room = verifier[1]["weights_fit"][at]
        for count, why in (
            (
                int(np.sum(unscored & ~no_room)),
                f"the verifier {scoring.model}'s weights and reserve exceed a whole "
                f"{profile.name} node",
            ),
            (
                int(np.sum(unscored & no_room)),
                f"one candidate's prefill (prompt + answer) through the verifier "
                f"{scoring.model} needs more KV cache than a whole {profile.name} node leaves "
                "after its weights and reserve",
            ),
        ):
            if count:
                dropped[why] = count
        fits = fits & ~unscored
        gpu_s = np.where(fits, gpu_s, np.inf)
        latency = np.where(fits, latency, np.inf)
    price, watts = profile.price_per_gpu_hour, profile.serving_watts
    usd = gpu_s * price / 3600.0 * 1000.0 if price is not None else np.full(gpu_s.shape, np.nan)
    joules = gpu_s * watts if watts is not None else np.full(gpu_s.shape, np.nan)
    eff = resolve_efficiency(profile, options.efficiency, "bf16")
    return DeployCosts(
        hardware=profile.name,
        efficiency_mode=eff.mode,
        efficiency_label=eff.label,
        price_per_gpu_hour=price,
        tdp_watts=profile.tdp_watts,
        watts=watts,
        power_model=profile.power_model,
        fits=fits,
        tp=tables["tp"][at],
        ep=tables["ep"][at],
        attention_dp=tables["attention_dp"][at],
        batch=tables["batch"][at],
        tpot_s=tables["tpot"][at],
        gpu_seconds=gpu_s,
        latency_s=latency,
        usd_per_1000=usd,
        joules=joules,
        prompt_tokens=tables["prompt_tokens"][at],
        mean_generated_tokens=tables["mean_generated_tokens"][at],
        expected_longest_tokens=tables["expected_longest_tokens"][at],
        dropped=dropped,
        batch_rule="memory" if options.max_tpot is None else "max-tpot",
        batch_rules=tables["batch_rule"][at],
        max_batch=cap,
        serve_options=_serve_options(profile, eff.mode, cap),
        weight_formats=weight_formats or {},
        checks=checks or {},
        verifier=scoring,
    )


def _serve_options(profile: HardwareProfile, mode: str, cap: int | None) -> tuple[str, ...]:
    """The `kinetics serve` options that price as this plan does where serve's defaults do
    not: the efficiency mode, and the engine's cap on sequences (0: memory only)."""
    out: tuple[str, ...] = () if mode == "default" else ("--efficiency", mode)
    if cap != resolve_max_batch(ENGINE_DEFAULT, profile):
        out += ("--max-batch", str(0 if cap is None else cap))
    return out


def weights_option(card: ModelCard, profile: HardwareProfile) -> str | None:
    """The `--weights` name that stores `card` on `profile` exactly as its card does (every
    width and the matmul peak), or None where none does (mixed widths: gpt-oss's MXFP4 experts
    beside bf16 attention)."""
    stored = precision(card, profile, Deployment())
    for name in WEIGHT_FORMATS:
        try:
            if precision(card, profile, Deployment(weights=name)) == stored:
                return name
        except InputError:  # a format this accelerator has no peak for
            continue
    return None


@dataclass
class OutcomeLog:
    """Keeps what the accuracy source said for each setting while the grid is evaluated, so the
    deployable costs reuse the length distributions without asking again."""

    outcomes: dict[int, Outcome] = field(default_factory=dict)
    trials: np.ndarray = field(default_factory=lambda: np.zeros(0))
    limits: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __call__(self, k: int, outcome: Outcome, trials: np.ndarray, limits: np.ndarray) -> None:
        self.outcomes[k] = outcome
        self.trials, self.limits = trials, limits


def usable_mode(profile: HardwareProfile, mode: str) -> str:
    """`mode`, or datasheet where `default` is asked of a profile without an [efficiency] table
    (a user's profile, say): the plan still gets deployable figures, labelled as what they are."""
    if mode == "default" and profile.efficiency is None:
        return "datasheet"
    return mode


def price_grid(
    log: OutcomeLog,
    grid_setting: np.ndarray,
    grid_trials: np.ndarray,
    grid_limits: np.ndarray,
    settings: Sequence[Setting],
    cards: Mapping[str, ModelCard],
    profiles: Sequence[HardwareProfile],
    options: DeployOptions,
    *,
    grid_samples: np.ndarray | None = None,
    block_size: float = DEFAULT_BLOCK_SIZE,
    on_progress: Callable[[int, int], None] | None = None,
    verifier_card: ModelCard | None = None,
    grid_verifier: np.ndarray | None = None,
) -> tuple[DeployCosts, ...]:
    """Deployable costs of a grid's configurations on each profile. `grid_samples`: expected
    trials sampled per configuration (Grid.samples; fewer than N with early stopping).
    `verifier_card` and `grid_verifier` (which configurations are the verifier rule's): those
    configurations gain the verifier's scoring pass (price_verifier, its expectation over each
    setting and limit's candidates, prompt + each point of the generated-length distribution,
    on a replica of the same accelerator that holds the longest). Its
    temporaries (life contexts of a few hundred KB) are kept for reuse once freed
    (arrays.keep_freed_temporaries) rather than faulted in again call after call."""
    keep_freed_temporaries()
    sampled = None if grid_samples is None else np.asarray(grid_samples) / grid_trials
    ti = np.searchsorted(log.trials, grid_trials)
    li = np.searchsorted(log.limits, grid_limits)
    out = []
    shapes: dict[tuple[int, ...], _Shapes] = {}
    units: dict[tuple[object, ...], _Units] = {}
    memory: _HeldBytes = {}
    prefill_ops: dict[tuple[object, ...], list[_Op]] = {}
    points: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # the verifier's candidates
    for n, profile in enumerate(profiles):
        mode = usable_mode(profile, options.efficiency)
        chosen = replace(options, efficiency=mode)
        tables = price_settings(
            log.outcomes,
            settings,
            cards,
            profile,
            log.trials,
            log.limits,
            options=chosen,
            block_size=block_size,
            shapes_cache=shapes,
            unit_cache=units,
            bytes_cache=memory,
            prefill_ops=prefill_ops,
        )
        formats = {model: weights_option(card, profile) for model, card in cards.items()}
        checks = {
            model: check_for(mode, card.moe is not None, profile.name)
            for model, card in cards.items()
        }
        scored = None
        if verifier_card is not None and grid_verifier is not None and grid_verifier.any():
            # the verifier reads each candidate whole, prompt + generated tokens, priced over
            # the length distribution (the points [S, 1, L, Q]); the replica holds the longest
            if points is None:
                points = _length_points(shapes, len(settings))
            lengths, weights, longest = points
            scored = (
                verifier_card.name,
                price_verifier(
                    verifier_card,
                    profile,
                    lengths[:, None],
                    log.trials[None, :, None],
                    chosen,
                    weights=weights[:, None],
                    longest=longest[:, None],
                ),
                tables["prompt_tokens"] + tables["mean_generated_tokens"],
                np.asarray(grid_verifier, dtype=bool),
            )
        out.append(
            deploy_costs(
                tables,
                profile,
                chosen,
                grid_setting,
                ti,
                li,
                sampled,
                grid_trials,
                formats,
                scored,
                checks,
            )
        )
        if on_progress is not None:
            on_progress(n + 1, len(profiles))
    return tuple(out)


def _length_points(
    shapes: Mapping[tuple[int, ...], _Shapes], count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidates of every setting as price_settings' request shapes give them: prompt +
    each generated-length point and its weight, [setting, L, Q] (chunks with fewer points
    padded with zero-weight copies of their longest, which change no expectation), and prompt +
    the longest point, [setting, L] (the limit, wherever the distribution reaches it: the
    context the generating model's memory rule holds, `_Shapes.held`)."""
    parts = [s for s in shapes.values() if s.settings]
    q = max(s.lens.shape[-1] for s in parts)
    limits = parts[0].lens.shape[1]
    lengths = np.zeros((count, limits, q))
    weights = np.zeros((count, limits, q))
    longest = np.zeros((count, limits))
    seen = np.zeros(count, dtype=bool)
    for s in parts:
        pad = q - s.lens.shape[-1]
        lens = s.lens
        if pad:
            lens = np.concatenate([lens, np.repeat(lens.max(-1, keepdims=True), pad, -1)], -1)
        lengths[s.settings] = s.prompt[:, None, None] + lens
        weights[s.settings, :, : s.probs.shape[-1]] = s.probs
        longest[s.settings] = s.held
        seen[s.settings] = True
    assert seen.all(), "every setting has its request shapes"
    return lengths, weights, longest


def law_grid_on(grid: Grid, profile: HardwareProfile, other: HardwareProfile) -> Grid:
    """`grid` with its law seconds moved from `profile` to `other`: compute seconds scaled by
    the bf16 peaks, memory seconds by the HBM bandwidths (exact for uncalibrated profiles; the
    calibrated efficiencies of `profile` carry over otherwise). eFLOPs need no change."""
    compute = grid.compute_seconds * (profile.peak("bf16") / other.peak("bf16"))
    memory = (grid.seconds - grid.compute_seconds) * (profile.hbm_bandwidth / other.hbm_bandwidth)
    return replace(grid, seconds=compute + memory, compute_seconds=compute)


# --------------------------------------------------------------------------------------------
# Several accelerators: the best of each, and how far apart they are
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HardwarePick:
    """The answer on one accelerator, compared with the overall best."""

    hardware: str
    plan: Plan
    best: int | None
    accuracy_points: float  # best accuracy here minus the overall best's, in percentage points
    cost_ratio: float | None  # this pick's cost over the overall best's cost
    # cheapest configuration here reaching the overall best's accuracy, and its cost ratio
    equal_accuracy: int | None
    equal_accuracy_ratio: float | None
    # whether `best` is one of the statistically best configurations across accelerators (else
    # this accelerator affords none of them and `best` is its own plan's pick)
    in_best_set: bool = False


@dataclass(frozen=True)
class HardwareComparison:
    """Plans on several accelerators under one deployable budget. `picks[0]` is the overall
    best: the cheapest, on any accelerator, of the configurations that cannot be told apart from
    the most accurate one any accelerator affords (`plan`'s rule, across accelerators). The
    accelerators that afford one of those follow by its cost there; the others follow with
    their own plan's pick, by accuracy. `skipped` names profiles not priced in the unit."""

    unit: str
    budget: float
    picks: tuple[HardwarePick, ...]
    skipped: dict[str, str]
    # the most accurate configuration any accelerator affords, where it is cheapest, and how
    # many others within budget (on any accelerator) could not be told apart from it
    most_accurate: int | None = None
    most_accurate_hardware: str | None = None
    ties: int = 0
    # of those, how many the tests themselves could not tell apart from it, and the least
    # accurate of them, with the accelerator where it is cheapest (cheapest_tie's TieAnswer)
    ties_tested: int = 0
    tie_floor: int | None = None
    tie_floor_hardware: str | None = None


def _statistically_best_per_accelerator(
    plans: Sequence[tuple[str, Grid, Plan]], budget: float
) -> tuple[list[int | None], int | None, int | None, TieAnswer]:
    """Per accelerator, the cheapest there of the statistically best configurations across all
    of them (None where it reaches none within the budget).

    The grids share their configurations and accuracies (only costs differ), so a configuration
    costs the least any accelerator asks for it; `cheapest_tie` over those costs gives the set
    that cannot be told apart from the most accurate configuration any accelerator affords, as
    `plan` does on one. Each accelerator then runs the cheapest member it affords (higher level,
    then lower index, on equal cost), and the overall best is the cheapest of those: the
    cheapest tie across accelerators, never beaten on both accuracy and cost by another row.
    Also returns the most accurate configuration, the accelerator (position in `plans`) where it
    is cheapest, and the tie answer across accelerators (the others it could not be told apart
    from, how many by the tests themselves, the least accurate of those)."""
    from kinetics_cli.planner.plan import accuracy_levels, cheapest_tie

    grid = plans[0][1]
    stacked = np.stack([plan.law_cost for _, _, plan in plans])
    answer = cheapest_tie(grid, stacked.min(axis=0), accuracy_levels(grid.accuracy), budget)
    pick, top, ties = answer.pick, answer.top, answer.ties
    if pick is None or top is None:
        return [None] * len(plans), None, None, answer
    members = np.array([pick, *ties], dtype=int)
    levels = accuracy_levels(grid.accuracy)[members]
    out: list[int | None] = []
    for row in stacked:
        cost = row[members]
        inside = cost <= budget
        if not inside.any():
            out.append(None)
            continue
        order = np.lexsort((members, -levels, np.where(inside, cost, np.inf)))
        out.append(int(members[order[0]]))
    return out, top, int(np.argmin(stacked[:, top])), answer


def _rank_key(item: tuple[str, Grid, Plan], best: int | None) -> tuple[float, float]:
    """Rows that reach the best set: by cost; the others: by accuracy, then cost."""
    from kinetics_cli.planner.plan import accuracy_levels

    _, grid, plan = item
    if best is not None:
        return (float(plan.law_cost[best]), 0.0)
    if plan.best is None:
        return (np.inf, np.inf)
    level = float(accuracy_levels(grid.accuracy[[plan.best]])[0])
    return (-level, float(plan.law_cost[plan.best]))


def compare_hardware(
    options: Sequence[tuple[str, Grid, Pricing]],
    budget: float,
    *,
    unit: str,
    law: str = "kinetics",
    top: int = 3,
) -> HardwareComparison:
    """Answer one budget on each accelerator (a plan each) and rank the accelerators."""
    from kinetics_cli.planner.pareto import cheapest_reaching
    from kinetics_cli.planner.plan import accuracy_levels, make_plan

    if unit not in DEPLOYABLE_UNITS:
        raise InputError(
            "several accelerators compare under a deployable budget: --budget-usd, "
            "--budget-seconds, --budget-latency or --budget-joules (eFLOPs depend on the "
            "accelerator's intensity)"
        )
    skipped: dict[str, str] = {}
    plans: list[tuple[str, Grid, Plan]] = []
    for name, grid, pricing in options:
        deploy = pricing.deploy
        assert deploy is not None
        if unit == "usd" and deploy.price_per_gpu_hour is None:
            skipped[name] = "no price_per_gpu_hour in its profile"
            continue
        if unit == "joules" and deploy.tdp_watts is None:
            skipped[name] = "no tdp_watts in its profile"
            continue
        why = deploy.none_fit()
        if why is not None:
            skipped[name] = why
            continue
        plans.append(
            (name, grid, make_plan(grid, budget, unit=unit, law=law, pricing=pricing, top=top))
        )
    if not plans:
        raise InputError(
            "no accelerator can be priced in this unit: "
            + "; ".join(f"{k}: {v}" for k, v in skipped.items())
        )

    best_on, most_accurate, where, tie = _statistically_best_per_accelerator(plans, budget)
    most_accurate_on = None if where is None else plans[where][0]
    floor_on = (
        None
        if tie.floor is None
        else plans[int(np.argmin([plan.law_cost[tie.floor] for _, _, plan in plans]))][0]
    )
    order = sorted(
        range(len(plans)),
        key=lambda k: (
            best_on[k] is None,  # accelerators that reach the best set first
            *_rank_key(plans[k], best_on[k]),
        ),
    )
    plans = [plans[k] for k in order]
    reaches = [best_on[k] is not None for k in order]
    bests = [
        best_on[k] if best_on[k] is not None else plans[n][2].best for n, k in enumerate(order)
    ]
    _, top_grid, top_plan = plans[0]
    first = bests[0]
    picks = []
    for (name, grid, plan), best, reached in zip(plans, bests, reaches, strict=True):
        if best is None or first is None:
            picks.append(HardwarePick(name, plan, best, np.nan, None, None, None))
            continue
        best_cost = float(top_plan.law_cost[first])
        target = float(accuracy_levels(top_grid.accuracy[[first]])[0])
        equal = cheapest_reaching(plan.law_cost, accuracy_levels(grid.accuracy), target)
        picks.append(
            HardwarePick(
                name,
                plan,
                best,
                100.0 * float(grid.accuracy[best] - top_grid.accuracy[first]),
                float(plan.law_cost[best]) / best_cost if best_cost > 0 else None,
                equal,
                None
                if equal is None or best_cost <= 0
                else float(plan.law_cost[equal]) / best_cost,
                reached,
            )
        )
    return HardwareComparison(
        unit,
        float(budget),
        tuple(picks),
        skipped,
        most_accurate,
        most_accurate_on,
        len(tie.ties),
        tie.tested,
        tie.floor,
        floor_on,
    )
