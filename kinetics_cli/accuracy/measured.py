"""The Kinetics paper's per-problem AIME24 results, bundled as a measured accuracy source.

data/kinetics_aime24_qwen3_per_problem.csv (provenance in data/README.md): for Qwen3 0.6B-32B on
the 30 AIME 2024 problems, per (attention setting, problem) the samples, the correct samples and
every sample's generated length. Which samples were correct is not published: the c correct ones
are taken to be the c shortest (wrong answers run longer: the fitted priors put them at x1.3-1.9
the length of right ones on the same problem), so coverage truncated at L < 30.7K tokens is an
upper bound; at L >= 30,778 tokens (every sample finishes) it is exact. docs/accuracy-priors.md
bounds the effect against a random pairing.

Block top-k rows count only where their page size is the one the planner costs
(MEASURED_PAGE_TOKENS = planner.grid.DEFAULT_BLOCK_SIZE = 16 tokens): other page sizes are a
different kernel and feed only the prior fit. `CompositeSource` answers from the measured data
where it covers (model, attention, KV budget) and from the bundled priors everywhere else.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path
from typing import cast

import numpy as np

from kinetics_cli.accuracy.base import AttentionName, Outcome, Setting, SourceKind
from kinetics_cli.accuracy.evals import EvaluationSource, _Table, read_text
from kinetics_cli.errors import InputError

DATA_DIR = Path(__file__).resolve().parent / "data"
MEASURED_FILE = DATA_DIR / "kinetics_aime24_qwen3_per_problem.csv"
MEASURED_TASK = "aime24"
MEASURED_PAGE_TOKENS = (
    16  # block top-k page size the planner costs (planner.grid.DEFAULT_BLOCK_SIZE)
)
CITATION = (
    "github.com/Infini-AI-Lab/Kinetics@e7765597 cost_model/aime24/*/*_tradeoff.csv "
    "(kinetics_cli/accuracy/data/README.md)"
)


def read_measured(
    path: Path = MEASURED_FILE, prompt_tokens: float = 160.0
) -> dict[Setting, _Table]:
    """Per-setting sample tables of the bundled CSV (rows of other block sizes left out).

    prompt_tokens: the file has none; the aime24 priors' mean prompt (160 tokens) is used.
    """
    text = read_text(path)
    lines = text.splitlines()
    header = lines[0].split(",") if lines else []
    rows = [line.split(",") for line in lines[1:] if line]
    if not all(len(parts) == len(header) for parts in rows):  # quoted commas: the csv module
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = list(reader.fieldnames or [])
        rows = [[r[name] for name in header] for r in reader]
    column = {name: i for i, name in enumerate(header)}
    fields = "model attention kv_budget block_size problem n_samples n_correct gen_lengths"
    model, attention, budget, block, problem, samples, correct, lengths = (
        column[name] for name in fields.split()
    )
    grouped: dict[tuple[str, str, float | None], list[list[str]]] = defaultdict(list)
    for r in rows:
        if r[attention] == "block-topk" and int(r[block]) != MEASURED_PAGE_TOKENS:
            continue
        kv = None if r[attention] == "dense" else float(r[budget])
        grouped[r[model], r[attention], kv].append(r)
    tables: dict[Setting, _Table] = {}
    for (name, kind, kv), group in grouped.items():
        setting = Setting(name, cast(AttentionName, kind), kv)
        group.sort(key=lambda r: int(r[problem]))
        n = np.array([int(r[samples]) for r in group])
        texts = [r[lengths] for r in group]
        flat = np.array(";".join(texts).split(";"), dtype=float)  # one conversion per setting
        if flat.size != n.sum() or any(
            t.count(";") + 1 != k for t, k in zip(texts, n, strict=True)
        ):
            raise InputError(f"{path}: {setting.label}: n_samples and gen_lengths disagree")
        index = np.repeat(np.arange(len(group)), n)
        starts = np.concatenate([[0], np.cumsum(n)[:-1]])
        # each problem's lengths ascending (lexsort by problem, then length)
        order = np.lexsort((flat, index))
        gen = flat[order]
        rank = np.arange(flat.size) - starts[index]
        counts = np.array([int(r[correct]) for r in group])
        tables[setting] = _Table(
            ids=tuple(f"{int(r[problem]):02d}" for r in group),
            problem=index,
            prompt=np.full(index.size, float(prompt_tokens)),
            gen=gen,
            correct=rank < counts[index],
            n=n.astype(float),
            paired=True,
            fixed_limit=None,
        )
    return tables


class MeasuredSource(EvaluationSource):
    """The bundled per-problem results as an accuracy source (kind "measured")."""

    kind: SourceKind = "measured"


def load_measured(prompt_tokens: float = 160.0) -> MeasuredSource:
    """The bundled AIME24 measurements."""
    tables = read_measured(MEASURED_FILE, prompt_tokens)
    description = (
        f"measured per-problem AIME24 results of the Kinetics paper ({CITATION}): "
        f"{len(tables)} settings of Qwen3 0.6B-32B, 30 problems x 8-32 samples"
    )
    return cast(MeasuredSource, MeasuredSource.from_tables(MEASURED_TASK, tables, description))


class CompositeSource:
    """Measured results where they cover a setting, the bundled priors elsewhere.

    Parametric like the priors (any KV budget can be asked for); `setting_kind` says, per
    setting, which one answers. Trial counts beyond a measured setting's samples are left out
    (NaN), not filled from the prior.
    """

    kind: SourceKind = "composite"
    parametric = True

    def __init__(self, measured: EvaluationSource, priors: object):
        from kinetics_cli.accuracy.priors import PriorSource

        assert isinstance(priors, PriorSource)
        self.measured, self.priors = measured, priors
        self.task = priors.task
        self.profile = priors.profile  # the priors' task profile (selection rules, allocation)
        self.trials_by_setting: dict[Setting, list[object]] = {}  # no per-trial answers
        self._covered = set(measured.settings())
        models = sorted({s.model for s in self._covered})
        self.description = (
            f"measured where covered: {len(self._covered)} settings of {', '.join(models)}, "
            "the Kinetics paper's per-problem AIME24 results (30 problems x 8-32 samples, correct "
            f"samples taken as the shortest). Elsewhere, {priors.description}"
        )

    def settings(self) -> list[Setting]:
        prior = self.priors.settings()
        known = set(prior)
        return prior + [s for s in self.measured.settings() if s not in known]

    def prior(self, model: str) -> object:
        """The prior of `model` (as PriorSource.prior)."""
        return self.priors.prior(model)

    def setting_kind(self, setting: Setting) -> str:
        """'measured' or 'priors': which source answers for `setting`."""
        return "measured" if setting in self._covered else "priors"

    def outcome(self, setting: Setting, trials: np.ndarray, limits: np.ndarray) -> Outcome:
        if setting in self._covered:
            return self.measured.outcome(setting, trials, limits)
        return self.priors.outcome(setting, trials, limits)
