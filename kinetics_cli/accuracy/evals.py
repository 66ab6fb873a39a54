"""Evaluation results a user brings: one row per sampled trial, or one row per problem.

Per-trial rows (JSON keys / CSV columns): task, model, attention (dense | topk | block-topk),
kv_budget (empty for dense), problem, prompt_tokens, gen_tokens, correct. An optional gen_limit is
the generation cap the run itself used (max_tokens): a trial cut there might have been right with
more room, so no coverage is given at a longer limit; a count above it is refused, or read as the
cap when token_counts says it is approximate. An optional token_counts
column (written by `kinetics evals import`) marks approximate counts, which the source's
description then names. An optional answer column (the extracted final answer) lets the selection
rules of accuracy/selection.py (majority vote, early stopping) count votes: empty or null is a
trial without a final answer (no vote); a row without the field leaves its vote unknown, and those
rules refuse a setting where some rows lack it. Name fields (task, model, problem, answer, ...)
are strings or numbers; a JSON list or object there is refused.

Per-problem rows (aggregates): task, model, attention, kv_budget, problem, prompt_tokens, samples,
correct (how many of the samples were right), and either gen_lengths (every sample's generated
tokens: a JSON list, or `;`-separated in CSV) or gen_limit and mean_gen_tokens. Which samples were
correct is not in such a row: the c correct ones are taken to be the c shortest (wrong answers run
longer, see docs/accuracy-priors.md), which makes truncated coverage an upper bound. Without
lengths the coverage is known only at the evaluation's own gen_limit; with them, gen_limit is the
run's cap, as on per-trial rows. Other columns are ignored.

A setting's cap is the smallest gen_limit of its rows (rows without one are taken as uncut up to
it); the planner leaves out the generation limits above it (planner/grid.py).

From the rows:

* Best-of-N coverage (oracle verifier) at N trials and limit L: per problem the unbiased
  1 - C(n-c, N) / C(n, N) with c = trials correct *and* finished within L (gen_tokens <= L),
  averaged over problems; NaN where N exceeds the trials of some problem (not estimable);
* an interval at base.CONFIDENCE: bootstrap over problems and over the samples of each problem
  (accuracy/bootstrap.py);
* generated tokens under L: every trial's min(gen_tokens, L), each problem weighted equally.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from kinetics_cli.accuracy.base import AttentionName, Outcome, Setting, SourceKind
from kinetics_cli.arrays import sorted_unique
from kinetics_cli.errors import InputError, KineticsError
from kinetics_cli.fsutil import read_text

COLUMNS = (
    "task",
    "model",
    "attention",
    "kv_budget",
    "problem",
    "prompt_tokens",
    "gen_tokens",
    "correct",
)
AGGREGATE_COLUMNS = (
    "task",
    "model",
    "attention",
    "kv_budget",
    "problem",
    "prompt_tokens",
    "samples",
    "correct",
)
_ATTENTION = {
    "dense": "dense",
    "topk": "topk",
    "top-k": "topk",
    "block-topk": "block-topk",
    "block_topk": "block-topk",
    "blocktopk": "block-topk",
    "block-top-k": "block-topk",
}
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
MAX_POINTS = 64  # gen-length points per limit when there are more trials than this
MAX_TOKENS = 10**9  # larger token counts are input errors, not generations
MAX_SAMPLES = 10**6  # samples per problem in one aggregate row


@dataclass(frozen=True)
class Trial:
    task: str
    setting: Setting
    problem: str
    prompt_tokens: int
    gen_tokens: float
    correct: bool
    approximate_tokens: bool = False  # token_counts says the counts are approximate
    # extracted final answer (optional column), for majority vote: None when the row has no
    # answer field, '' when it has one but no final answer was extracted (empty or null)
    answer: str | None = None
    paired: bool = False  # correctness assigned to the shortest samples (per-problem row)
    fixed_limit: float | None = None  # per-problem row without lengths: its generation limit
    gen_limit: float | None = None  # the run's own generation cap (max_tokens), when given


@dataclass(frozen=True)
class TrialOutcome(Outcome):
    """An Outcome whose gen-length points also carry the mean prompt tokens of their trials.

    point_prompt_lens[g, q] lets a cost model use each problem's own prompt length; planners that
    only know Outcome use prompt_len, the mean prompt over problems.
    """

    point_prompt_lens: np.ndarray | None = None


# ------------------------------------------------------------------------------ reading text


def json_objects(
    path: Path, lines: Sequence[str], start: int = 1
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, object) for every non-empty JSON Lines line of `path`, numbered from `start`;
    a line that is not a JSON object raises one InputError naming file and line."""
    for number, line in enumerate(lines, start=start):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except (ValueError, RecursionError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc).split("\n")[0]
            raise InputError(f"{where}: not valid JSON: {msg}") from None
        if not isinstance(raw, dict):
            raise InputError(f"{where}: expected a JSON object")
        yield where, raw


# ------------------------------------------------------------------------------ parsing


def _where(path: Path, line: int) -> str:
    return f"{path}:{line}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _field(raw: dict[str, Any], field: str, at: str) -> str:
    """The text of a name-like field (task, model, attention, problem, answer, ...): a JSON string
    or number, stripped; absent or null is ''. A JSON list or object is refused: its Python
    repr would become a problem id or an answer that matches nothing the data means."""
    value = raw.get(field)
    if isinstance(value, (list, dict)):
        kind = "a list" if isinstance(value, list) else "an object"
        raise InputError(
            f"{at}: field '{field}': expected a string or number, got {kind}: {_short(value)}"
        )
    return _text(value)


def _whole(value: Any, field: str, at: str, what: str, upper: int) -> int:
    """A whole number in [0, upper] from JSON or CSV text; anything else is an InputError."""
    message = f"{at}: field '{field}': expected {what} (0 to {upper:,}), got {_short(value)}"
    if isinstance(value, bool) or value is None:
        raise InputError(message)
    if isinstance(value, int):
        if not 0 <= value <= upper:
            raise InputError(message)
        return value
    text = _text(value)
    if not text or len(text) > 32:
        raise InputError(message)
    try:
        number = float(text)
    except (TypeError, ValueError, OverflowError):
        raise InputError(message) from None
    if not np.isfinite(number) or number < 0 or number > upper or number != int(number):
        raise InputError(message)
    return int(number)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _count(value: Any, field: str, at: str) -> int:
    return _whole(value, field, at, "a whole number of tokens", MAX_TOKENS)


def _bool(value: Any, at: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in (
        "1.0",
        "0.0",
    ):  # a float column's 1 and 0 (pandas writes a count so), as 1.0 in JSON
        return text == "1.0"
    raise InputError(
        f"{at}: field 'correct': expected true/false (or 1/0, yes/no), got {_short(value)}"
    )


def _setting(raw: dict[str, Any], at: str, resolve_model: Callable[[str], str]) -> Setting:
    attention_text = _field(raw, "attention", at).lower()
    if attention_text not in _ATTENTION:
        raise InputError(
            f"{at}: field 'attention': expected dense, topk or block-topk, got {_short(raw['attention'])}"
        )
    attention = cast(AttentionName, _ATTENTION[attention_text])
    budget_raw = raw.get("kv_budget")
    _field(raw, "kv_budget", at)  # a list or an object is refused by name
    if attention == "dense":
        if _text(budget_raw) not in ("", "none", "null"):
            raise InputError(
                f"{at}: field 'kv_budget': must be empty for dense attention, got {_short(budget_raw)}"
            )
        budget: float | None = None
    else:
        if _text(budget_raw) in ("", "none", "null"):
            raise InputError(
                f"{at}: field 'kv_budget': {attention} attention needs its KV budget (the "
                "tokens attended per step, e.g. 1024), got an empty value"
            )
        budget = float(_whole(budget_raw, "kv_budget", at, "a whole number of tokens", MAX_TOKENS))
        if budget <= 0:
            raise InputError(
                f"{at}: field 'kv_budget': expected a positive number of tokens for {attention}, "
                f"got {_short(budget_raw)}"
            )
    name = _field(raw, "model", at)
    if not name:
        raise InputError(f"{at}: field 'model': expected a model name, got an empty value")
    try:
        model = resolve_model(name)
    except KineticsError as exc:
        raise InputError(f"{at}: field 'model': {exc}") from None
    return Setting(model, attention, budget)


def _names(raw: dict[str, Any], at: str) -> tuple[str, str]:
    task = _field(raw, "task", at)
    if not task:
        raise InputError(f"{at}: field 'task': expected a task name, got an empty value")
    problem = _field(raw, "problem", at)
    if not problem:
        raise InputError(f"{at}: field 'problem': expected a problem id, got an empty value")
    return task, problem


def is_aggregate(raw: dict[str, Any]) -> bool:
    """A per-problem row has a sample count instead of one trial's length."""
    return ("samples" in raw or "n_samples" in raw) and "gen_tokens" not in raw


def _row(raw: dict[str, Any], at: str, resolve_model: Callable[[str], str]) -> list[Trial]:
    if is_aggregate(raw):
        return _aggregate(raw, at, resolve_model)
    missing = [c for c in COLUMNS if c not in raw and c != "kv_budget"]
    if missing:
        raise InputError(
            f"{at}: missing field '{missing[0]}' (per trial: {', '.join(COLUMNS)}; per problem: "
            f"{', '.join(AGGREGATE_COLUMNS)}, gen_lengths)"
        )
    task, problem = _names(raw, at)
    gen = _count(raw["gen_tokens"], "gen_tokens", at)
    approximate = _field(raw, "token_counts", at).lower().startswith("approximate")
    cap = _cap(raw, at)
    if cap is not None and gen > cap:
        if not approximate:
            # an exact count over the run's own cap: the count or the cap is another run's
            raise InputError(
                f"{at}: field 'gen_tokens': {gen:,} tokens is longer than the row's gen_limit, "
                f"{cap:,.0f} (the run's own generation cap)"
            )
        gen = int(cap)  # an estimate (characters / 4) past the cap: the run stopped there
    return [
        Trial(
            task=task,
            setting=_setting(raw, at, resolve_model),
            problem=problem,
            prompt_tokens=_count(raw["prompt_tokens"], "prompt_tokens", at),
            gen_tokens=gen,
            correct=_bool(raw["correct"], at),
            approximate_tokens=approximate,
            # None: the row has no answer field (unknown vote); '': no final answer (no vote)
            answer=_field(raw, "answer", at)[:1000] if "answer" in raw else None,
            gen_limit=cap,
        )
    ]


def _cap(raw: dict[str, Any], at: str) -> float | None:
    """The row's gen_limit (the run's own generation cap), None when empty or absent."""
    value = raw.get("gen_limit")
    if _text(value).lower() in ("", "none", "null"):
        return None
    cap = _count(value, "gen_limit", at)
    if cap < 1:
        raise InputError(f"{at}: field 'gen_limit': expected a positive number of tokens, got 0")
    return float(cap)


def _lengths(value: Any, at: str) -> list[int]:
    items = value if isinstance(value, list) else _text(value).replace(",", ";").split(";")
    return [_count(v, "gen_lengths", at) for v in items if _text(v) != ""]


def _aggregate(raw: dict[str, Any], at: str, resolve_model: Callable[[str], str]) -> list[Trial]:
    """One per-problem row as trials: the c correct samples are the c shortest."""
    raw = dict(raw)
    raw.setdefault("samples", raw.get("n_samples"))
    raw.setdefault("correct", raw.get("n_correct"))
    missing = [c for c in AGGREGATE_COLUMNS if raw.get(c) is None and c != "kv_budget"]
    if missing:
        raise InputError(
            f"{at}: missing field '{missing[0]}' (per problem: {', '.join(AGGREGATE_COLUMNS)}, "
            "and gen_lengths or gen_limit with mean_gen_tokens)"
        )
    task, problem = _names(raw, at)
    setting = _setting(raw, at, resolve_model)
    n = _whole(raw["samples"], "samples", at, "a whole number of samples", MAX_SAMPLES)
    c = _whole(raw["correct"], "correct", at, "a whole number of correct samples", MAX_SAMPLES)
    if n < 1 or c > n:
        raise InputError(
            f"{at}: fields 'samples', 'correct': need 1 <= samples and correct <= samples (got {n}, {c})"
        )
    prompt = _count(raw["prompt_tokens"], "prompt_tokens", at)

    def trial(gen: float, correct: bool, limit: float | None, cap: float | None) -> Trial:
        return Trial(
            task,
            setting,
            problem,
            prompt,
            gen,
            correct,
            paired=True,
            fixed_limit=limit,
            gen_limit=cap,
        )

    if _text(raw.get("gen_lengths")) not in ("", "[]"):
        lengths = sorted(_lengths(raw["gen_lengths"], at))
        if len(lengths) != n:
            raise InputError(f"{at}: field 'gen_lengths': {len(lengths)} lengths for {n} samples")
        cap = _cap(raw, at)
        if cap is not None:
            # the row's own limit bounds every sample: a longer one means the lengths or the
            # limit belong to another run
            limit = int(cap)
            if lengths[-1] > limit:
                raise InputError(
                    f"{at}: field 'gen_lengths': a sample of {lengths[-1]:,} tokens is longer than "
                    f"the row's gen_limit, {limit:,}"
                )
        return [trial(float(x), j < c, None, cap) for j, x in enumerate(lengths)]
    if raw.get("gen_limit") is None or raw.get("mean_gen_tokens") is None:
        raise InputError(
            f"{at}: a per-problem row needs gen_lengths (every sample's tokens) or gen_limit "
            "and mean_gen_tokens"
        )
    limit = _count(raw["gen_limit"], "gen_limit", at)
    try:
        mean = float(_text(raw["mean_gen_tokens"]))
    except (ValueError, OverflowError):
        mean = float("nan")
    if not (np.isfinite(mean) and 0 <= mean <= min(limit, MAX_TOKENS)) or limit < 1:
        raise InputError(
            f"{at}: field 'mean_gen_tokens': expected a number of tokens within gen_limit "
            f"{limit:,}, got {_short(raw['mean_gen_tokens'])}"
        )
    return [trial(mean, j < c, float(limit), float(limit)) for j in range(n)]


def _jsonl_rows(path: Path, handle: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except (json.JSONDecodeError, ValueError, RecursionError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc).split("\n")[0]
            raise InputError(f"{_where(path, number)}: not valid JSON: {msg}") from None
        if not isinstance(raw, dict):
            raise InputError(
                f"{_where(path, number)}: expected a JSON object with fields {', '.join(COLUMNS)}"
            )
        yield number, raw


def _csv_rows(path: Path, handle: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(handle)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise InputError(f"{_where(path, 1)}: not valid CSV: {exc}") from None
    if not header:
        raise InputError(
            f"{path}: empty file (expected a header line: {', '.join(COLUMNS)}, then one row per "
            "trial)"
        )
    if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
        sep = next(s for s in ";\t|" if s in header[0])
        raise InputError(
            f"{_where(path, 1)}: the header is one column, {_short(header[0])}: columns must be "
            f"separated by commas, not {sep!r}"
        )
    repeated = sorted({h for h in header if header.count(h) > 1 and h})
    if repeated:
        raise InputError(
            f"{_where(path, 1)}: column '{repeated[0]}' appears more than once in the header; "
            "which one holds the value is ambiguous"
        )
    aggregate = ("samples" in header or "n_samples" in header) and "gen_tokens" not in header
    wanted = [c for c in (AGGREGATE_COLUMNS if aggregate else COLUMNS)]
    if aggregate:
        wanted = ["n_samples" if c == "samples" and "samples" not in header else c for c in wanted]
        wanted = ["n_correct" if c == "correct" and "correct" not in header else c for c in wanted]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise InputError(
            f"{_where(path, 1)}: missing column '{missing[0]}' in the header (columns: {', '.join(wanted)})"
        )
    reader.fieldnames = header
    try:
        for raw in reader:
            if None in raw:
                raise InputError(
                    f"{_where(path, reader.line_num)}: more values than header columns"
                )
            if any(value is None for value in raw.values()):
                raise InputError(
                    f"{_where(path, reader.line_num)}: fewer values than header columns"
                )
            yield reader.line_num, raw
    except csv.Error as exc:
        raise InputError(f"{_where(path, reader.line_num)}: not valid CSV: {exc}") from None


def read_evals(path: Path, resolve_model: Callable[[str], str]) -> list[Trial]:
    """Every trial in one file; the format is CSV for a .csv name, JSON Lines otherwise."""
    return [t for _, trials in _located_rows(Path(path), resolve_model) for t in trials]


def _located_rows(path: Path, resolve_model: Callable[[str], str]) -> list[tuple[str, list[Trial]]]:
    """(file:line, the row's trials) for every row of one file."""
    handle = io.StringIO(read_text(path), newline="")
    rows = _csv_rows(path, handle) if path.suffix.lower() == ".csv" else _jsonl_rows(path, handle)
    located = [
        (_where(path, number), _row(raw, _where(path, number), resolve_model))
        for number, raw in rows
    ]
    if not located:
        raise InputError(
            f"{path}: no evaluation rows (expected one row per trial with {', '.join(COLUMNS)}, "
            f"or one per problem with {', '.join(AGGREGATE_COLUMNS)}, gen_lengths)"
        )
    return located


def repeated_rows(located: Sequence[tuple[str, Sequence[Trial]]]) -> str:
    """'' when no per-problem row repeats the problem and setting of an earlier one, else a
    clause for the source's description.

    A per-problem row sums up one problem's samples, so a second one for the same problem and
    setting is most often an export run twice; it may also be another seed's samples, so both
    count, and the output says so. (Per-trial rows that agree field for field are common, two
    trials cut at the generation limit for instance, and are not flagged; a whole file repeated
    is refused by `load_evaluations`.)"""
    seen: dict[object, str] = {}
    repeats: list[str] = []
    for where, trials in located:
        first = trials[0]
        if not first.paired:
            continue
        key = (first.task.casefold(), first.setting, first.problem)
        if key in seen:
            repeats.append(f"{where} = {seen[key]}")
        else:
            seen[key] = where
    if not repeats:
        return ""
    rows = "row repeats" if len(repeats) == 1 else "rows repeat"
    return (
        f"; {len(repeats)} per-problem {rows} the problem and setting of an earlier one "
        f"({repeats[0]}), counted as more samples"
    )


def _repeated_file(
    path: Path,
    located: list[tuple[str, list[Trial]]],
    earlier: dict[Path, list[list[Trial]]],
) -> None:
    """Refuse a file whose rows are those of an earlier file, or whose second half repeats its
    first half row for row (a file joined to itself): every trial would count twice. The half
    must hold two different rows and a correct trial to count: trials cut at the generation
    limit agree field for field, so a file of them may repeat itself honestly."""
    rows = [trials for _, trials in located]
    for other, other_rows in earlier.items():
        if rows == other_rows:
            raise InputError(
                f"--evals {path}: the same rows as {other} (a copy?); its rows would count as "
                "twice the samples"
            )
    half = len(rows) // 2
    if len(rows) % 2 == 0 and half >= 2 and rows[:half] == rows[half:]:
        first = rows[:half]
        if len({tuple(r) for r in first}) > 1 and any(t.correct for r in first for t in r):
            raise InputError(
                f"{located[half][0]}: from here to the end the rows repeat the {half} above them "
                "one for one (a file joined to itself?); each trial would count twice"
            )


# ------------------------------------------------------------------------------ the source


@dataclass(frozen=True)
class _Table:
    """Trials of one setting as arrays, problems indexed 0..P-1 in sorted id order."""

    ids: tuple[str, ...]  # problem ids, sorted
    problem: np.ndarray  # (R,) problem index of each trial
    prompt: np.ndarray  # (R,)
    gen: np.ndarray  # (R,)
    correct: np.ndarray  # (R,) bool
    n: np.ndarray  # (P,) trials per problem
    paired: bool  # some correctness assigned by length (per-problem rows)
    fixed_limit: float | None  # per-problem rows without lengths: the only limit known
    gen_cap: float | None = None  # the run's own generation cap: the smallest rows' gen_limit

    @classmethod
    def build(cls, trials: Sequence[Trial], label: str) -> _Table:
        ids = sorted({tr.problem for tr in trials})
        index = {t: i for i, t in enumerate(ids)}
        problem = np.array([index[t.problem] for t in trials])
        limits = {t.fixed_limit for t in trials}
        if len(limits) > 1:
            raise InputError(
                f"{label}: mixes rows with per-sample lengths and rows with only a gen_limit, or "
                "different gen_limits; give one kind per setting"
            )
        return cls(
            ids=tuple(ids),
            problem=problem,
            prompt=np.array([t.prompt_tokens for t in trials], dtype=float),
            gen=np.array([t.gen_tokens for t in trials], dtype=float),
            correct=np.array([t.correct for t in trials], dtype=bool),
            n=np.bincount(problem, minlength=len(ids)).astype(float),
            paired=any(t.paired for t in trials),
            fixed_limit=limits.pop(),
            gen_cap=gen_cap(trials),
        )

    def sample_matrix(self, values: np.ndarray, fill: int = 0) -> np.ndarray:
        """Per-trial `values` as a (problems, most trials) matrix, row p holding problem p's
        trials first (the rest padded with `fill`)."""
        order = np.argsort(self.problem, kind="stable")
        starts = np.concatenate([[0], np.cumsum(self.n.astype(np.int64))[:-1]])
        column = np.arange(order.size) - starts[self.problem[order]]
        out = np.full((self.n.size, int(self.n.max())), fill, dtype=np.asarray(values).dtype)
        out[self.problem[order], column] = np.asarray(values)[order]
        return out

    def samples_text(self) -> str:
        low, high = int(self.n.min()), int(self.n.max())
        per = f"{low}" if low == high else f"{low}-{high}"
        problems = "problem" if self.n.size == 1 else "problems"
        samples = "sample" if high == 1 else "samples"
        return f"{self.n.size} {problems} x {per} {samples}"


class EvaluationSource:
    """AccuracySource over per-problem samples: a user's evaluation rows (one task)."""

    kind: SourceKind = "evaluations"
    parametric = False  # covers only the settings that were evaluated

    @classmethod
    def from_tables(
        cls, task: str, tables: dict[Setting, _Table], description: str
    ) -> EvaluationSource:
        """A source over ready tables (the bundled measured data builds them directly)."""
        source = cls.__new__(cls)
        source.task, source._tables, source.description = task, dict(tables), description
        source.trials_by_setting = {}  # no per-trial rows (no answers to vote on)
        return source

    def __init__(self, task: str, trials: Sequence[Trial], files: Sequence[Path]):
        self.task = task
        self._tables: dict[Setting, _Table] = {}
        grouped: dict[Setting, list[Trial]] = {}
        for t in trials:
            grouped.setdefault(t.setting, []).append(t)
        for setting, rows in grouped.items():
            self._tables[setting] = _Table.build(rows, f"{task} {setting.label}")
        self.trials_by_setting = grouped  # per-trial rows, for selection rules and allocation
        names = ", ".join(str(f) for f in files)
        self.description = (
            f"evaluations for {task} from {names}: {len(trials):,} trial"
            f"{'s' if len(trials) != 1 else ''}, {len(self._tables):,} setting"
            f"{'s' if len(self._tables) != 1 else ''}"
        )
        approximate = sum(t.approximate_tokens for t in trials)
        if approximate:
            self.description += (
                f"; token counts approximate (characters / 4) in {approximate} of {len(trials)} "
                "trials, so costs are too"
            )
        # rows with per-sample lengths only: without them there is no length to pair
        if any(t.paired and t.fixed_limit is None for t in self._tables.values()):
            self.description += (
                "; per-problem rows: correct samples taken as the shortest (truncated coverage "
                "is an upper bound)"
            )
        fixed = [s.label for s, t in self._tables.items() if t.fixed_limit is not None]
        if fixed:
            self.description += (
                f"; {len(fixed)} setting{' has' if len(fixed) == 1 else 's have'} no per-sample "
                "lengths: coverage only at their own gen_limit (pass it in --gen-limits)"
            )

    def settings(self) -> list[Setting]:
        return list(self._tables)

    def fixed_limit(self, setting: Setting) -> float | None:
        """The one generation limit with a coverage estimate, for a setting whose per-problem
        rows have no per-sample lengths (gen_limit and mean_gen_tokens); None with lengths."""
        return self._table(setting).fixed_limit

    def gen_cap(self, setting: Setting) -> float | None:
        """The run's own generation cap for `setting` (the smallest gen_limit of its rows), None
        when no row gives one. Coverage at a longer limit would count trials cut at the cap as
        if they had finished: the planner leaves such limits out."""
        return self._table(setting).gen_cap

    def longest_generation(self, setting: Setting) -> float:
        """The longest generated length of any trial of `setting`, in tokens."""
        return float(self._table(setting).gen.max())

    def max_trials(self, setting: Setting) -> int:
        """The largest N with a coverage estimate: the fewest trials any problem has."""
        return int(self._table(setting).n.min())

    def samples_text(self, setting: Setting) -> str:
        """'30 problems x 32 samples' for one setting."""
        return self._table(setting).samples_text()

    def _table(self, setting: Setting) -> _Table:
        try:
            return self._tables[setting]
        except KeyError:
            known = ", ".join(s.label for s in self._tables)
            raise InputError(
                f"the {self.task} evaluations have no setting {setting.label}; they have: {known}"
            ) from None

    def outcome(self, setting: Setting, trials: np.ndarray, limits: np.ndarray) -> TrialOutcome:
        from kinetics_cli.accuracy.bootstrap import (
            coverage_replicates,
            passk_table,
            percentile_interval,
            seed,
        )

        tab = self._table(setting)
        trials = np.asarray(trials, dtype=float)
        limits = np.asarray(limits, dtype=float)
        if np.any(trials < 1) or np.any(limits <= 0):
            raise InputError("trials must be >= 1 and generation limits > 0")
        n_problems = tab.n.size
        order = np.argsort(limits, kind="stable")
        ascending = limits[order]
        # bucket of each correct trial: the first (ascending) limit it finishes within
        first = np.searchsorted(ascending, tab.gen, side="left")
        ok = tab.correct & (first < ascending.size)
        flat = tab.problem[ok] * ascending.size + first[ok]
        buckets = np.bincount(flat, minlength=n_problems * ascending.size).reshape(
            n_problems, ascending.size
        )
        solved = np.cumsum(buckets, axis=1)  # (P, G ascending): correct within each limit
        n_int = tab.n.astype(np.int64)
        cover = np.empty((trials.size, ascending.size, n_problems))
        for size in sorted_unique(n_int):
            cols = np.flatnonzero(n_int == size)
            table = passk_table(int(size), trials)  # (size + 1, T)
            cover[:, :, cols] = np.moveaxis(table[solved[cols]], -1, 0).transpose(0, 2, 1)
        unsort = np.argsort(order, kind="stable")
        accuracy = cover.mean(axis=2)[:, unsort]  # NaN wherever some problem has < N trials
        pairing = f"{self.task}:{seed(chr(31).join(tab.ids)):08x}"
        per_sample = tab.sample_matrix(np.where(ok, first, ascending.size), ascending.size)
        replicates = coverage_replicates(
            n_int, per_sample, ascending.size, trials, pairing, setting.label
        )[:, :, unsort]
        interval = percentile_interval(replicates)
        if tab.fixed_limit is not None:
            known = limits == tab.fixed_limit
            accuracy[:, ~known] = np.nan
            replicates[:, :, ~known] = np.nan
            interval[:, :, ~known] = np.nan
        lengths, weights, prompts = _length_points(tab, limits)
        return TrialOutcome(
            accuracy=accuracy,
            gen_lengths=lengths,
            gen_weights=weights,
            prompt_len=float(np.mean(np.bincount(tab.problem, weights=tab.prompt) / tab.n)),
            accuracy_ci=interval,
            replicates=replicates,
            pairing=pairing,
            kind=self.kind,
            note=f"{self.kind}: {tab.samples_text()}",
            point_prompt_lens=prompts,
        )


def gen_cap(trials: Sequence[Trial]) -> float | None:
    """The generation cap of trials of one setting: the smallest gen_limit any of them gives
    (above it, a trial of that run may have been cut), None when none gives one."""
    caps = [t.gen_limit for t in trials if t.gen_limit is not None]
    return min(caps) if caps else None


def _length_points(tab: _Table, limits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each trial costs min(gen, L); a problem's trials share weight 1 / P between them.

    With more than MAX_POINTS trials the trials are sorted by length and merged into MAX_POINTS
    groups of equal weight (group value = weighted mean), which keeps the mean exact.
    """
    w = 1.0 / (tab.n.size * tab.n[tab.problem])  # (R,)
    capped = np.minimum(tab.gen[None, :], limits[:, None])  # (G, R)
    prompt = np.broadcast_to(tab.prompt, capped.shape)
    if capped.shape[1] <= MAX_POINTS:
        return capped, np.broadcast_to(w, capped.shape).copy(), prompt.copy()
    order = np.argsort(capped, axis=1, kind="stable")
    vals = np.take_along_axis(capped, order, axis=1)
    ws = w[order]
    prs = np.take_along_axis(prompt, order, axis=1)
    cum = np.cumsum(ws, axis=1) - 0.5 * ws
    group = np.minimum((cum * MAX_POINTS).astype(int), MAX_POINTS - 1)  # (G, R)
    rows = np.repeat(np.arange(capped.shape[0]), capped.shape[1])
    flat = (rows * MAX_POINTS + group.ravel()).astype(int)
    size = capped.shape[0] * MAX_POINTS
    gw = np.bincount(flat, weights=ws.ravel(), minlength=size)
    gv = np.bincount(flat, weights=(ws * vals).ravel(), minlength=size)
    gp = np.bincount(flat, weights=(ws * prs).ravel(), minlength=size)
    safe = np.where(gw > 0, gw, 1.0)
    shape = (capped.shape[0], MAX_POINTS)
    return (gv / safe).reshape(shape), gw.reshape(shape), (gp / safe).reshape(shape)


def load_evaluations(
    task: str, files: Sequence[Path], resolve_model: Callable[[str], str]
) -> EvaluationSource:
    """Rows of `task` (matched case-insensitively) from every file; none -> InputError naming the tasks found."""
    from kinetics_cli.fsutil import check_distinct

    check_distinct([Path(f) for f in files], "--evals")
    located: list[tuple[str, list[Trial]]] = []
    by_file: dict[Path, list[list[Trial]]] = {}
    for path in files:
        rows = _located_rows(Path(path), resolve_model)
        _repeated_file(Path(path), rows, by_file)
        by_file[Path(path)] = [trials for _, trials in rows]
        located.extend(rows)
    key = task.strip().casefold()
    rows = [(where, trials) for where, trials in located if trials[0].task.casefold() == key]
    chosen = [t for _, trials in rows for t in trials]
    if not chosen:
        found = sorted({trials[0].task for _, trials in located})
        raise InputError(
            f"no rows for task {task!r} in {', '.join(str(f) for f in files)}; tasks there: {', '.join(found)}"
        )
    source = EvaluationSource(chosen[0].task, chosen, [Path(f) for f in files])
    source.description += repeated_rows(rows)
    return source
