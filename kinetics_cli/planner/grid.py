"""The configuration grid: settings x strategies x generation limits, costed in one pass per setting.

A configuration is (model, attention, KV budget) from the accuracy source, a trial count N, a
generation limit L and, for N >= 2, a selection rule (accuracy/selection.py: coverage, the
paper's oracle verifier, by default; majority vote, a verifier, early-stopped majority on
request). N = 1 is long-CoT truncated at L; every trial is truncated at L. Its cost is the mean, over the source's distribution of generated
lengths under L, of the Kinetics law's per-problem FLOPs and bytes (engine/kinetics.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np

from kinetics_cli.accuracy.base import AccuracySource, Outcome, Setting
from kinetics_cli.accuracy.selection import DEFAULT_RULES, ORACLE_RULES, RuleOutcome, Verifier
from kinetics_cli.engine.kinetics import (
    DEFAULT_BLOCK_SIZE,
    CostShape,
    ProblemCost,
    SplitCost,
    check_nonnegative,
    check_positive,
    law_intensity,
    split_cost,
    split_mean,
)
from kinetics_cli.errors import InputError
from kinetics_cli.specs import HardwareProfile, ModelCard

STRATEGIES = ("long-cot", "best-of-n")
ATTENTIONS = ("dense", "topk", "block-topk")
# Generation limits: powers of two from 1K to 32K tokens and the midpoints between them.
DEFAULT_LIMITS = (1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576, 32768)
# Best-of-N trial counts (N = 1 is long-CoT).
DEFAULT_TRIALS = (1, 2, 4, 8, 16, 32, 64)
# KV budgets (tokens attended per step) used where the source is parametric and none are given.
DEFAULT_KV_BUDGETS = (256, 512, 1024, 2048, 4096)


@dataclass(frozen=True)
class BeyondWindow:
    """Configurations left out at one generation limit because the mean prompt plus the limit is
    beyond a model's context window (max_position_embeddings): the generating model's (`role`
    "generation", every rule) or the verifier's (`role` "verifier", the verifier rule's, whose
    scoring pass prefills each candidate whole)."""

    role: str
    model: str
    window: int
    gen_len: float
    configurations: int

    @property
    def reason(self) -> str:
        if self.role == "verifier":
            return (
                f"prompt + generation limit beyond the verifier {self.model}'s context window "
                f"of {self.window:,} tokens (max_position_embeddings)"
            )
        return (
            f"prompt + generation limit beyond {self.model}'s context window of "
            f"{self.window:,} tokens (max_position_embeddings)"
        )

    @property
    def gen_cap(self) -> None:
        """No evaluation cap: the window leaves these out (BeyondCap has one)."""
        return None


@dataclass(frozen=True)
class BeyondCap:
    """Configurations of evaluated settings left out at one generation limit because it is above
    the generation cap the evaluation run itself used (the rows' gen_limit): a trial cut at the
    cap might have been right with more room, so coverage there is not known."""

    model: str
    gen_cap: float
    gen_len: float
    configurations: int
    role: str = "evaluations"
    window: None = None

    @property
    def reason(self) -> str:
        return (
            f"generation limit above the evaluation run's own generation cap of "
            f"{self.gen_cap:,.0f} tokens (gen_limit): a trial cut there might have been right "
            "with more room"
        )


@dataclass(frozen=True)
class Grid:
    """Every evaluated configuration, as parallel arrays (one entry per configuration).

    seconds: the additive roofline time of engine/kinetics.py (compute / peak + bytes / HBM, with
    the profile's calibrated efficiencies); compute_seconds: its compute terms alone, the time the
    FLOPs-only law charges.
    """

    settings: tuple[Setting, ...]
    params: tuple[float, ...]  # active parameters of each setting's model
    setting: np.ndarray  # int index into settings
    trials: np.ndarray
    gen_len: np.ndarray  # generation limit L (tokens per trial)
    accuracy: np.ndarray  # fraction of problems solved, in [0, 1]
    compute_flops: np.ndarray
    memory_bytes: np.ndarray
    seconds: np.ndarray
    compute_seconds: np.ndarray
    # Accuracy intervals (base.CONFIDENCE) and bootstrap replicates (configuration, replicate);
    # NaN where the source has none. Per setting: the source's pairing key and its note
    # ("measured: 30 problems x 32 samples", "prior (fit spread ...)").
    accuracy_lo: np.ndarray = field(default_factory=lambda: np.zeros(0))
    accuracy_hi: np.ndarray = field(default_factory=lambda: np.zeros(0))
    replicates: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    pairings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # per setting, what its accuracy is: "measured", "evaluations" or "priors" (Outcome.kind)
    kinds: tuple[str, ...] = ()
    # selection rule of each configuration: index into `rules`, -1 for one trial (no selection)
    selection: np.ndarray | None = None
    rules: tuple[str, ...] = ("coverage",)
    # expected trials sampled per problem (fewer than `trials` with early stopping)
    samples: np.ndarray | None = None
    # (model, generation limit, context window) left out because the mean prompt plus the limit
    # is beyond the model's context window (max_position_embeddings).
    beyond_context: tuple[tuple[str, float, int], ...] = ()
    # Every configuration so left out, counted per (model, window, limit): the generating model's
    # window (above) and, for the verifier rule, the verifier's, which reads each candidate whole.
    # Configurations of evaluated settings at a limit above the run's own generation cap
    # (BeyondCap) are counted there too.
    left_out: tuple[BeyondWindow | BeyondCap, ...] = ()
    # Grid-sized arrays derived once per grid (eFLOPs per intensity, accuracy levels per
    # resolution), read-only: the budget answer and the frontiers of one grid share them.
    _derived: dict[tuple[str, float], np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.selection is None:
            one = np.asarray(self.trials) == 1
            object.__setattr__(self, "selection", np.where(one, -1, 0))
        if self.samples is None:
            object.__setattr__(self, "samples", np.asarray(self.trials, dtype=float))

    def __len__(self) -> int:
        return int(self.setting.size)

    def eflops(self, intensity: float) -> np.ndarray:
        """compute FLOPs + I x memory bytes per problem, read-only and computed once per
        intensity (I = 0: the FLOPs-only law, which is the compute FLOPs exactly, as a view)."""
        if intensity == 0:
            flops = self.compute_flops.view()
            flops.flags.writeable = False
            return flops

        def total() -> np.ndarray:
            out = intensity * self.memory_bytes
            out += self.compute_flops  # in place: one grid-sized array (addition commutes)
            return out

        return self._once(("eflops", float(intensity)), total)

    def levels(self, resolution: float) -> np.ndarray:
        """planner.plan.accuracy_levels of the accuracies, read-only, computed once per
        resolution."""
        from kinetics_cli.planner.plan import accuracy_levels

        return self._once(
            ("levels", float(resolution)), lambda: accuracy_levels(self.accuracy, resolution)
        )

    def _once(self, key: tuple[str, float], make: Callable[[], np.ndarray]) -> np.ndarray:
        """The derived array `key`, made by `make` on first use and then kept (read-only)."""
        array = self._derived.get(key)
        if array is None:
            array = make().view()  # a view: `make` may hand back a field (levels at resolution 0)
            array.flags.writeable = False
            self._derived[key] = array
        return array

    def law_eflops(self, law: str, intensity: float) -> np.ndarray:
        return self.eflops(law_intensity(law, intensity))

    def subset(self, mask: np.ndarray) -> Grid:
        """The configurations where `mask` is true (settings kept as they are)."""
        arrays = {
            f.name: getattr(self, f.name)[mask]
            for f in fields(self)
            if f.init
            and f.name
            not in (
                "settings",
                "params",
                "pairings",
                "notes",
                "kinds",
                "rules",
                "beyond_context",
                "left_out",
            )
        }
        return replace(self, **arrays)

    # ---- per-configuration labels -------------------------------------------------------------

    def model(self, i: int) -> str:
        return self.settings[int(self.setting[i])].model

    def attention(self, i: int) -> str:
        return self.settings[int(self.setting[i])].attention

    def kv_budget(self, i: int) -> float | None:
        s = self.settings[int(self.setting[i])]
        return None if s.attention == "dense" else s.kv_budget

    def strategy(self, i: int) -> str:
        return "long-cot" if self.trials[i] == 1 else "best-of-n"

    def rule(self, i: int) -> str:
        """The selection rule of configuration i ('single' for one trial: nothing to select)."""
        assert self.selection is not None
        k = int(self.selection[i])
        return "single" if k < 0 else self.rules[k]

    def rule_rows(self, rule: str) -> np.ndarray | None:
        """True where configurations use the selection rule `rule` (None where the grid does
        not search it)."""
        assert self.selection is not None
        if rule not in self.rules:
            return None
        return np.asarray(self.selection == self.rules.index(rule))

    def oracle_selection(self) -> np.ndarray:
        """True where the accuracy assumes an oracle selection rule (coverage, N >= 2)."""
        assert self.selection is not None
        oracle = np.array([r in ORACLE_RULES for r in self.rules] + [False])
        return oracle[self.selection]  # index -1 reads the trailing False

    def active_params(self) -> np.ndarray:
        """Active parameters of each configuration's model."""
        return np.asarray(self.params, dtype=float)[self.setting]

    def group_labels(self) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """An integer label per configuration for its (model, attention kind), and the keys."""
        per_setting, keys = self.group_labels_per_setting()
        return per_setting[self.setting], keys

    def group_labels_per_setting(self) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """group_labels per setting (index with `setting` for each configuration's)."""
        keys: list[tuple[str, str]] = list(
            dict.fromkeys((s.model, str(s.attention)) for s in self.settings)
        )
        index = {k: n for n, k in enumerate(keys)}
        per_setting = np.array([index[(s.model, s.attention)] for s in self.settings], dtype=int)
        return per_setting, keys


def trials_for(strategies: Sequence[str], trials: Sequence[int]) -> np.ndarray:
    """Trial counts the strategies need: N = 1 for long-CoT, N >= 2 from `trials` for Best-of-N."""
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise InputError(f"unknown strategy {unknown[0]!r}; choose long-cot, best-of-n or all")
    values: set[int] = set()
    if "long-cot" in strategies:
        values.add(1)
    if "best-of-n" in strategies:
        values.update(int(t) for t in trials if t >= 2)
    if not values:
        raise InputError("best-of-n needs at least one trial count of 2 or more")
    return np.array(sorted(values), dtype=float)


def select_settings(
    source: AccuracySource,
    *,
    models: Sequence[str] | None = None,
    attentions: Sequence[str] | None = None,
    kv_budgets: Sequence[float] | None = None,
    available_models: Callable[[str], object] | None = None,
) -> list[Setting]:
    """The settings to evaluate: the source's, narrowed to `models` and `attentions`.

    `kv_budgets` replaces the source's sparse budgets where the source is parametric (bundled
    priors model any budget) and filters them where it is not (evaluations cover what was run).
    `available_models` drops models the catalog cannot cost (no model card).
    """
    covered = source.settings()
    if available_models is not None:
        covered = [s for s in covered if available_models(s.model)]
    covered_models = list(dict.fromkeys(s.model for s in covered))
    if not covered:
        raise InputError(f"the accuracy data for {source.task} covers no model of the catalog")
    if models:
        missing = [m for m in models if m not in covered_models]
        if missing:
            raise InputError(
                f"no accuracy data for model {missing[0]!r} on {source.task}; covered: "
                f"{', '.join(covered_models)}"
            )
        wanted = set(models)
        covered = [s for s in covered if s.model in wanted]
    if attentions:
        bad = [a for a in attentions if a not in ATTENTIONS]
        if bad:
            raise InputError(f"unknown attention {bad[0]!r}; choose one of {', '.join(ATTENTIONS)}")
        covered = [s for s in covered if s.attention in attentions]
    if kv_budgets:
        if any(b <= 0 for b in kv_budgets):
            raise InputError("KV budgets must be positive")
        budgets = sorted(set(float(b) for b in kv_budgets))
        dense = [s for s in covered if s.attention == "dense"]
        if getattr(source, "parametric", source.kind == "priors"):
            pairs = list(
                dict.fromkeys((s.model, s.attention) for s in covered if s.attention != "dense")
            )
            sparse = [Setting(m, a, b) for m, a in pairs for b in budgets]  # type: ignore[arg-type]
        else:
            sparse = [
                s
                for s in covered
                if s.attention != "dense" and s.kv_budget is not None and s.kv_budget in budgets
            ]
        covered = dense + sparse
    if not covered:
        raise InputError(
            f"no setting of the {source.task} accuracy data matches the chosen models, attention "
            "and KV budgets"
        )
    return covered


@dataclass(frozen=True)
class Selection:
    """Which selection rules to search and how to model them (accuracy/selection.py).

    verifier: recall and precision (at the candidates' own pass@1) of the verifier, and
    `verifier_card`, the model whose prefill of every candidate prices its scoring pass.
    """

    rules: tuple[str, ...] = DEFAULT_RULES
    verifier: Verifier | None = None
    verifier_card: ModelCard | None = None


def _rule_outcome(
    source: AccuracySource,
    setting: Setting,
    rule: str,
    n: np.ndarray,
    lim: np.ndarray,
    selection: Selection,
    pairing: str | None = None,
) -> RuleOutcome:
    """Accuracy, expected samples and interval of a non-coverage rule on the (N, L) grid of a
    setting; `pairing`: the key of the setting's coverage bootstrap (evaluations)."""
    from kinetics_cli.accuracy import selection as sel

    if source.kind == "composite":  # bundled measurements (no answers) or priors
        if source.setting_kind(setting) == "measured":  # type: ignore[attr-defined]
            nan = np.full((n.size, lim.size), np.nan)
            # votes need answers, which the measured data lacks
            return sel.RuleOutcome(rule, nan, nan.copy())
        source = source.priors  # type: ignore[attr-defined]
    if source.kind == "priors":
        out = sel.prior_rule_outcome(
            source,  # type: ignore[arg-type]
            setting,
            rule,
            n,
            lim,
            verifier=selection.verifier,
        )
    else:
        rows = getattr(source, "trials_by_setting", {}).get(setting, [])
        out = sel.evaluation_rule_outcome(
            rows, rule, n, lim, selection.verifier, pairing, label=setting.label
        )
    return out


def _verifier_cost(
    card: ModelCard,
    prompt_len: np.ndarray | float,
    lengths: np.ndarray,
    weights: np.ndarray,
    n: np.ndarray,
) -> ProblemCost:
    """The verifier's scoring pass: a prefill of each of the N candidates (prompt + answer)
    through `card`. Compute as for T = prompt + generated tokens (linear 2 P T, attention over
    the causal prefix); memory: the KV cache written once (bytes per token x T); the weights
    are read once per batch and, as in the paper, not charged per problem."""
    tokens = np.asarray(prompt_len, dtype=float) + lengths  # (G, Q)
    split = split_cost(
        CostShape.of(card), np.zeros(()), tokens, "dense", None, np.asarray(DEFAULT_BLOCK_SIZE)
    )
    mean = split.mean(weights).at(n[:, None])  # (N, G)
    kv = card.kv_bytes_per_token * np.sum(tokens * weights, axis=-1)[None, :] * n[:, None]
    zero = np.zeros_like(mean.linear_flops)
    return ProblemCost(
        linear_flops=mean.linear_flops,
        attention_flops=mean.attention_flops,
        search_flops=zero,
        kv_bytes=np.broadcast_to(kv, zero.shape),
        search_bytes=zero,
        attention_kernel=mean.attention_kernel,
    )


def _split_cost(
    shape: CostShape,
    settings: Sequence[Setting],
    prompt_len: np.ndarray,
    lengths: np.ndarray,
    weights: np.ndarray,
    block_size: float,
) -> SplitCost:
    """Settings' costs over their length points (setting, 1, G, Q), averaged over them before any
    trial count enters: every term is f(L) + N g(L) (engine SplitCost), so `.at(count)` then
    prices `count[t, g]` trials per (N, L) cell. Inputs are checked here, once per call; an
    error names the first setting at fault."""
    budgets = [np.nan if s.kv_budget is None else s.kv_budget for s in settings]
    budget = np.asarray(budgets, dtype=float).reshape((-1,) + (1,) * (lengths.ndim - 1))
    try:
        l_out = check_nonnegative("generated lengths", lengths)
        l_in = check_nonnegative("prompt lengths", prompt_len)
        if settings[0].attention != "dense":
            check_positive("KV budget", budget)
    except InputError as exc:
        if len(settings) == 1:
            raise InputError(f"{settings[0].label}: {exc}") from None
        for i, setting in enumerate(settings):
            try:
                check_nonnegative("generated lengths", lengths[i])
                check_nonnegative("prompt lengths", prompt_len[i])
                if setting.attention != "dense":
                    check_positive("KV budget", budget[i])
            except InputError as exc:
                raise InputError(f"{setting.label}: {exc}") from None
        raise
    s = np.asarray(float(block_size))
    kv = None if settings[0].attention == "dense" else budget
    return split_mean(shape, l_in, l_out, settings[0].attention, kv, s, weights)


_Interval = tuple[np.ndarray | None, np.ndarray | None]  # accuracy interval, replicates


def _runs(settings: Sequence[Setting]) -> list[range]:
    """Indices of consecutive settings of one model and attention (costed together)."""
    runs: list[range] = []
    start = 0
    for k in range(1, len(settings) + 1):
        key = (settings[start].model, settings[start].attention)
        if k == len(settings) or (settings[k].model, settings[k].attention) != key:
            runs.append(range(start, k))
            start = k
    return runs


@dataclass(frozen=True)
class _Costed:
    """One setting's cost: the cost of N trials (N, L), that cost's grid columns (compute FLOPs,
    memory bytes, seconds, compute seconds), and the SplitCost it came from (the setting's part
    `index` of a stacked one, or its own with None) for trial counts other than N."""

    plain: ProblemCost
    columns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    split: SplitCost
    index: int | None = None

    def at(self, trials: np.ndarray) -> ProblemCost:
        """The setting's cost of `trials` trials per (N, L) cell."""
        split = self.split if self.index is None else self.split.take(self.index)
        return split.at(trials)


def _cost_settings(
    shape: CostShape,
    settings: Sequence[Setting],
    outcomes: Sequence[Outcome],
    n: np.ndarray,
    hardware: HardwareProfile,
    block_size: float,
) -> list[_Costed]:
    """The costs of settings of one model and attention, consecutive ones whose length points
    share a layout (`_batch_key`) in one engine call, the others one call each."""
    out: list[_Costed] = []
    start = 0
    while start < len(settings):
        key, stop = _batch_key(outcomes[start]), start + 1
        while key is not None and stop < len(settings) and _batch_key(outcomes[stop]) == key:
            stop += 1
        part = slice(start, stop)
        out += _cost_batch(shape, settings[part], outcomes[part], n, hardware, block_size, key)
        start = stop
    return out


def _cost_batch(
    shape: CostShape,
    settings: Sequence[Setting],
    outcomes: Sequence[Outcome],
    n: np.ndarray,
    hardware: HardwareProfile,
    block_size: float,
    key: tuple[tuple[int, ...], ...] | None,
) -> list[_Costed]:
    """Settings costed in one engine call, their inputs stacked on a first axis (setting, 1, G,
    Q): the same element-wise operations and per-row sums on the same numbers, so the same
    values as one call per setting. Without a key, one setting with its arrays as they are."""
    lengths = [np.asarray(o.gen_lengths, dtype=float) for o in outcomes]
    weights = [np.asarray(o.gen_weights, dtype=float) for o in outcomes]
    prompts = [_prompt_lens(o) for o in outcomes]
    if key is None:
        l_out, w, l_in = lengths[0], weights[0], prompts[0]
    else:
        l_out, w, l_in = (np.stack(a)[:, None] for a in (lengths, weights, prompts))
        l_in = l_in.reshape(l_in.shape[:2] + (1,) * (l_out.ndim - l_in.ndim) + l_in.shape[2:])
    split = _split_cost(shape, settings, l_in, l_out, w, block_size)
    plain = split.at(n[:, None])
    full = np.broadcast_shapes(n[:, None].shape, split.shape)
    compute_seconds, memory_seconds = plain.split_seconds(hardware)
    columns = [
        _full(c, full)
        for c in (
            plain.compute_flops,
            plain.memory_bytes,
            compute_seconds + memory_seconds,
            compute_seconds,
        )
    ]
    if key is None:
        return [_Costed(plain, (columns[0], columns[1], columns[2], columns[3]), split)]
    return [
        _Costed(
            plain.take(i, full),
            (columns[0][i], columns[1][i], columns[2][i], columns[3][i]),
            split,
            i,
        )
        for i in range(len(settings))
    ]


def _prompt_lens(outcome: Outcome) -> np.ndarray:
    """Per-point prompt lengths where the source has them (evaluations), else the mean prompt."""
    prompt = getattr(outcome, "point_prompt_lens", None)
    return np.asarray(outcome.prompt_len if prompt is None else prompt, dtype=float)


def _batch_key(outcome: Outcome) -> tuple[tuple[int, ...], ...] | None:
    """What settings costed in one call must share (the shapes of their lengths, weights and
    prompt lengths); None where a setting is costed alone (lengths not laid out as (G, Q))."""
    lengths, weights = np.shape(outcome.gen_lengths), np.shape(outcome.gen_weights)
    prompt = np.shape(_prompt_lens(outcome))
    if len(lengths) != 2 or weights != lengths or len(prompt) > 2:
        return None
    return lengths, weights, prompt


def _add(a: ProblemCost, b: ProblemCost) -> ProblemCost:
    values = {
        f.name: getattr(a, f.name) + getattr(b, f.name)
        for f in fields(a)
        if f.name != "attention_kernel"
    }
    return ProblemCost(**values, attention_kernel=a.attention_kernel)


_ARRAYS = (
    "setting",
    "trials",
    "gen_len",
    "accuracy",
    "compute_flops",
    "memory_bytes",
    "seconds",
    "compute_seconds",
    "selection",
    "samples",
    "accuracy_lo",
    "accuracy_hi",
)
_INDEX_ARRAYS = ("setting", "selection")


def _full(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`value` broadcast to `shape` (itself when it already has that shape)."""
    value = np.asarray(value)
    return value if value.shape == shape else np.broadcast_to(value, shape)


_CLIPPED = ("accuracy", "accuracy_lo", "accuracy_hi")  # accuracies, kept in [0, 1]
_BATCH_VALUES = 1 << 16  # (N, L) values of a field gathered at a time (at least one block)


class _Blocks:
    """The configurations of each variant (a setting with one selection rule): its values on the
    (N, L) grid, field by field, and which of them it keeps. Written to the grid's arrays `out`
    (flat, configuration after configuration) a batch of blocks at a time: each field gathered
    with one boolean index per batch, block after block and row-major within a block, not one
    per field and variant; the batch buffers are reused."""

    def __init__(self, out: dict[str, np.ndarray], shape: tuple[int, int]) -> None:
        self.out, self.filled = out, 0
        self.counts: list[int] = []  # configurations kept per block, every batch's
        size = (max(1, _BATCH_VALUES // (shape[0] * shape[1])), *shape)
        self.keep = np.empty(size, dtype=bool)
        self.values = {
            name: np.empty(size, dtype=array.dtype)
            for name, array in out.items()
            if name != "setting"
        }
        self.settings: list[int] = []

    def add(
        self, setting: int, keep: np.ndarray, values: Sequence[tuple[str, np.ndarray | float]]
    ) -> None:
        """One variant of setting index `setting`: `values` (each field's, (N, L) or one for
        all) where `keep` (N, L) is true."""
        b = len(self.settings)
        self.settings.append(setting)
        self.keep[b] = keep
        for name, value in values:
            self.values[name][b] = value
        if b + 1 == len(self.keep):
            self.flush()

    def flush(self) -> None:
        """Write the batch's kept configurations after those written before."""
        count = len(self.settings)
        if count == 0:
            return
        keep = self.keep[:count]
        counts = keep.sum(axis=(1, 2)).tolist()
        part = slice(self.filled, self.filled + sum(counts))
        self.out["setting"][part] = np.repeat(self.settings, counts)
        flat = keep.reshape(-1)
        for name, buffer in self.values.items():
            target = self.out[name][part]
            np.compress(flat, buffer[:count].reshape(-1), out=target)
            if name in _CLIPPED:
                np.clip(target, 0.0, 1.0, out=target)
        self.counts += counts
        self.filled = part.stop
        self.settings.clear()


def _covers_context(setting: Setting, outcome: Outcome, source: AccuracySource) -> bool:
    """Whether `setting` is a sparse one whose accuracy the priors model (not measured, not your
    evaluations): only then are its limits within the budget left to the dense setting."""
    if setting.attention == "dense" or setting.kv_budget is None:
        return False
    kind = getattr(outcome, "kind", "") or str(getattr(source, "kind", ""))
    return kind == "priors"


def evaluate_grid(
    source: AccuracySource,
    cards: Mapping[str, ModelCard],
    settings: Sequence[Setting],
    hardware: HardwareProfile,
    *,
    trials: Sequence[float] | np.ndarray = DEFAULT_TRIALS,
    limits: Sequence[float] | np.ndarray = DEFAULT_LIMITS,
    block_size: float = DEFAULT_BLOCK_SIZE,
    selection: Selection | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_outcome: Callable[[int, Outcome, np.ndarray, np.ndarray], None] | None = None,
) -> Grid:
    """Accuracy and cost of every (setting, N, L, selection rule): one accuracy query per rule
    and one broadcast cost call per setting over the (N, L, length point) grid. One trial
    (N = 1) appears once, with no selection. Configurations the source gives no accuracy for
    (NaN, e.g. more trials than were sampled) are left out, and so are generation limits that
    with the mean prompt exceed the model's context window (listed in Grid.beyond_context), the
    verifier rule's configurations at limits that with the mean prompt exceed the verifier's
    context window (it prefills each candidate whole), both counted in Grid.left_out, as are the
    limits above an evaluated setting's own generation cap (a source's `gen_cap(setting)`, the
    evaluation rows' gen_limit: a trial cut there might have been right with more room), and the
    limits a prior's sparse budget holds whole with the prompt (dense attention, which the
    dense setting answers).
    `on_outcome(k, outcome, trials, limits)` sees each setting's answer (the deployable costs
    reuse its lengths)."""
    selection = Selection() if selection is None else selection
    rules = tuple(selection.rules)
    if "verifier" in rules and (selection.verifier is None or selection.verifier_card is None):
        raise InputError("the verifier rule needs a verifier (recall, precision and model)")
    n = np.asarray(sorted(set(float(t) for t in trials)), dtype=float)
    lim = np.asarray(sorted(set(float(x) for x in limits)), dtype=float)
    if n.size == 0 or lim.size == 0:
        raise InputError("the grid needs at least one trial count and one generation limit")
    if np.any(n < 1) or np.any(n != np.round(n)):
        raise InputError("trial counts must be whole numbers >= 1")
    if np.any(lim <= 0):
        raise InputError("generation limits must be positive")
    replicate_parts: list[np.ndarray | None] = []
    pairings: list[str] = []
    notes: list[str] = []
    kinds: list[str] = []
    shape = (n.size, lim.size)
    # Filled batch by batch and trimmed at the end: no second copy of the grid (pages of the
    # unused capacity are never touched).
    capacity = len(settings) * (1 + len(rules)) * n.size * lim.size
    out = {
        name: np.empty(capacity, dtype=int if name in _INDEX_ARRAYS else float) for name in _ARRAYS
    }
    blocks = _Blocks(out, shape)
    tt, ll = np.meshgrid(n, lim, indexing="ij")
    check_positive("block size", block_size)
    # Card figures once per model, not once per setting.
    shapes = {m: CostShape.of(cards[m]) for m in dict.fromkeys(s.model for s in settings)}
    beyond: dict[tuple[str, float], int] = {}
    # configurations left out per (role, model, window, limit): BeyondWindow
    left: dict[tuple[str, str, int, float], int] = {}

    def count_left(role: str, model: str, window: int, dropped: np.ndarray) -> None:
        for j in np.flatnonzero(dropped.any(axis=0)):
            key = (role, model, window, float(lim[j]))
            left[key] = left.get(key, 0) + int(dropped[:, j].sum())

    # configurations left out per (model, cap, limit): above an evaluation run's own cap
    above_cap: dict[tuple[str, float, float], int] = {}
    # only user evaluations carry a cap (a cached bundled source is not loaded to ask)
    cap_of = (
        getattr(source, "gen_cap", None) if getattr(source, "kind", "") == "evaluations" else None
    )

    verifier_window = None
    if "verifier" in rules:
        assert selection.verifier_card is not None
        verifier_window = selection.verifier_card.architecture.max_position_embeddings
    for run in _runs(settings):
        # the accuracy of each setting of one model and attention, then their costs together
        outcomes = []
        for k in run:
            outcome = source.outcome(settings[k], n, lim)
            if on_outcome is not None:
                on_outcome(k, outcome, n, lim)
            coverage = np.asarray(outcome.accuracy, dtype=float)
            if coverage.shape != shape:
                raise InputError(
                    f"accuracy data for {settings[k].label} has shape {coverage.shape}, "
                    f"expected {shape}"
                )
            outcomes.append(outcome)
        run_settings = [settings[k] for k in run]
        costs = _cost_settings(
            shapes[run_settings[0].model], run_settings, outcomes, n, hardware, block_size
        )
        for k, setting, outcome, costed in zip(run, run_settings, outcomes, costs, strict=True):
            coverage = np.asarray(outcome.accuracy, dtype=float)
            plain = costed.plain
            fits = np.ones(lim.size, dtype=bool)
            window = cards[setting.model].architecture.max_position_embeddings
            if window is not None:
                fits = lim + float(outcome.prompt_len) <= window
                for limit in lim[~fits]:
                    beyond[(setting.model, float(limit))] = window
            in_window = fits
            # the verifier prefills each candidate whole (prompt + up to L generated tokens):
            # as for the generating model, a limit that with the mean prompt is beyond its
            # window leaves the verifier rule's configurations out there
            verifier_fits = np.ones(lim.size, dtype=bool)
            if verifier_window is not None:
                verifier_fits = lim + float(outcome.prompt_len) <= verifier_window
            cap = None if cap_of is None else cap_of(setting)
            under_cap = np.ones(lim.size, dtype=bool) if cap is None else lim <= cap
            if _covers_context(setting, outcome, source):
                # a prior's sparse setting whose budget holds the prompt and the whole generation
                # attends every token: it is the dense configuration, which the grid has (the
                # prior's sparse accuracy there is a model's, the dense one may be measured)
                fits = fits & (float(setting.kv_budget or 0.0) < lim + float(outcome.prompt_len))
            ci_raw = getattr(outcome, "accuracy_ci", None)
            ci = None if ci_raw is None else np.asarray(ci_raw, dtype=float)
            if ci is None:
                ci = np.stack([coverage, coverage])
            reps = getattr(outcome, "replicates", None)
            pairings.append(getattr(outcome, "pairing", None) or f"setting:{setting.label}")
            notes.append(getattr(outcome, "note", "") or str(getattr(source, "kind", "")))
            kinds.append(getattr(outcome, "kind", "") or str(getattr(source, "kind", "")))
            one = tt == 1
            # (rule index, accuracy, samples, cost, interval and replicates) per block of rows; the
            # N = 1 rows once, with rule -1. When the first rule is coverage, its rows share cost,
            # samples and interval with the N = 1 rows and follow them: one block, the rule given
            # row by row (the same rows in the same order as two blocks).
            variants: list[tuple[int | np.ndarray, np.ndarray, np.ndarray, ProblemCost, _Interval]]
            if rules[:1] == ("coverage",):
                variants = [(np.where(one, -1, 0), coverage, tt, plain, (ci, reps))]
            else:
                variants = [(-1, np.where(one, coverage, np.nan), tt, plain, (ci, reps))]
            interval: _Interval
            for r, rule in enumerate(rules):
                if rule == "coverage":
                    if r == 0:
                        continue  # in the first block
                    acc, samples, cost, interval = coverage, tt, plain, (ci, reps)
                else:
                    ruled = _rule_outcome(
                        source, setting, rule, n, lim, selection, getattr(outcome, "pairing", None)
                    )
                    acc, samples = ruled.accuracy, ruled.samples
                    interval = (ruled.accuracy_ci, ruled.replicates)
                    samples = np.where(np.isfinite(samples), samples, tt)
                    cost = plain if rule != "early-stop" else costed.at(np.maximum(samples, 1.0))
                    if rule == "verifier":
                        assert selection.verifier_card is not None
                        cost = _add(
                            cost,
                            _verifier_cost(
                                selection.verifier_card,
                                _prompt_lens(outcome),
                                np.asarray(outcome.gen_lengths, dtype=float),
                                np.asarray(outcome.gen_weights, dtype=float),
                                n,
                            ),
                        )
                variants.append((r, np.where(one, np.nan, acc), samples, cost, interval))
            # grid columns per distinct cost, computed once (N trials': with the run's costs)
            terms: dict[int, tuple[np.ndarray, ...]] = {id(plain): costed.columns}
            for rule_of, acc, samples, mean, (bounds, rule_reps) in variants:
                if id(mean) not in terms:
                    compute_seconds, memory_seconds = mean.split_seconds(hardware)
                    terms[id(mean)] = tuple(
                        _full(t, shape)
                        for t in (
                            mean.compute_flops,
                            mean.memory_bytes,
                            compute_seconds + memory_seconds,
                            compute_seconds,
                        )
                    )
                flops, nbytes, seconds, compute_seconds = terms[id(mean)]
                answered = np.isfinite(acc)
                if window is not None:
                    count_left("generation", setting.model, window, answered & ~in_window)
                if cap is not None:
                    # past the window, the window's reason is the one counted
                    dropped = answered & (in_window & ~under_cap)[None, :]
                    for j in np.flatnonzero(dropped.any(axis=0)):
                        where = (setting.model, float(cap), float(lim[j]))
                        above_cap[where] = above_cap.get(where, 0) + int(dropped[:, j].sum())
                keep = answered & (fits & under_cap)[None, :]
                if isinstance(rule_of, int) and rule_of >= 0 and rules[rule_of] == "verifier":
                    assert selection.verifier_card is not None and verifier_window is not None
                    count_left(
                        "verifier",
                        selection.verifier_card.name,
                        verifier_window,
                        keep & ~verifier_fits[None, :],
                    )
                    keep &= verifier_fits[None, :]
                # intervals and replicates: the source's for coverage (and N = 1), the rule's own
                # for the other selection rules (NaN where a source gives none)
                lo: np.ndarray | float = np.nan
                hi: np.ndarray | float = np.nan
                if bounds is not None:
                    lo, hi = np.minimum(bounds[0], acc), np.maximum(bounds[1], acc)
                blocks.add(
                    k,
                    keep,
                    (
                        ("selection", rule_of),
                        ("accuracy", acc),
                        ("trials", tt),
                        ("gen_len", ll),
                        ("compute_flops", flops),
                        ("memory_bytes", nbytes),
                        ("seconds", seconds),
                        ("compute_seconds", compute_seconds),
                        ("samples", samples),
                        ("accuracy_lo", lo),
                        ("accuracy_hi", hi),
                    ),
                )
                replicate_parts.append(
                    None
                    if bounds is None or rule_reps is None
                    else np.asarray(rule_reps)[:, keep].T
                )
            if on_progress is not None:
                on_progress(k + 1, len(settings))
    blocks.flush()
    return Grid(
        settings=tuple(settings),
        params=tuple(shapes[s.model].params for s in settings),
        replicates=_stack_replicates(replicate_parts, blocks.counts),
        pairings=tuple(pairings),
        notes=tuple(notes),
        kinds=tuple(kinds),
        rules=rules,
        **{name: array[: blocks.filled] for name, array in out.items()},
        beyond_context=tuple((m, limit, w) for (m, limit), w in beyond.items()),
        left_out=(
            *(BeyondWindow(*key, count) for key, count in left.items()),
            *(BeyondCap(*key, count) for key, count in above_cap.items()),
        ),
    )


def _stack_replicates(parts: list[np.ndarray | None], counts: list[int]) -> np.ndarray:
    """(configurations, replicates) float32 from per-variant blocks of `counts` rows; NaN rows
    where a block has none (filled in place, no per-setting NaN blocks)."""
    width = max((p.shape[1] for p in parts if p is not None), default=0)
    out = np.full((sum(counts), width), np.nan, dtype=np.float32)
    start = 0
    for block, count in zip(parts, counts, strict=True):
        if block is not None and block.shape[1] == width:
            out[start : start + count] = block
        start += count
    return out
