"""Evaluation results a user brings: one row per sampled trial, JSON Lines or CSV.

Columns (JSON keys): task, model, attention (dense | topk | block-topk), kv_budget (empty for
dense), problem, prompt_tokens, gen_tokens, correct. An optional token_counts column (written by
`kinetics evals import`) marks approximate counts, which the source's description then names.
An optional answer column (the extracted final answer) lets the selection rules of
accuracy/selection.py (majority vote, early stopping) count votes. Other columns are ignored. From
the rows:

* Best-of-N coverage (oracle verifier) at N trials and limit L: per problem the unbiased
  1 - C(n-c, N) / C(n, N) with c = trials correct *and* finished within L (gen_tokens <= L),
  averaged over problems; NaN where N exceeds the trials of some problem (not estimable);
* generated tokens under L: every trial's min(gen_tokens, L), each problem weighted equally.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from kinetics_cli.accuracy.base import AttentionName, Outcome, Setting, SourceKind
from kinetics_cli.accuracy.passk import pass_at_k
from kinetics_cli.errors import InputError, KineticsError

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


@dataclass(frozen=True)
class Trial:
    task: str
    setting: Setting
    problem: str
    prompt_tokens: int
    gen_tokens: int
    correct: bool
    approximate_tokens: bool = False  # token_counts says the counts are approximate
    answer: str | None = None  # extracted final answer (optional column), for majority vote


@dataclass(frozen=True)
class TrialOutcome(Outcome):
    """An Outcome whose gen-length points also carry the mean prompt tokens of their trials.

    point_prompt_lens[g, q] lets a cost model use each problem's own prompt length; planners that
    only know Outcome use prompt_len, the mean prompt over problems.
    """

    point_prompt_lens: np.ndarray | None = None


# ------------------------------------------------------------------------------ parsing


def _where(path: Path, line: int) -> str:
    return f"{path}:{line}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _count(value: Any, field: str, at: str) -> int:
    if isinstance(value, bool) or value is None or _text(value) == "":
        raise InputError(
            f"{at}: field '{field}': expected a whole number of tokens >= 0, got {value!r}"
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(
            f"{at}: field '{field}': expected a whole number of tokens >= 0, got {value!r}"
        ) from None
    if not np.isfinite(number) or number < 0 or number != int(number):
        raise InputError(
            f"{at}: field '{field}': expected a whole number of tokens >= 0, got {value!r}"
        )
    return int(number)


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
    raise InputError(f"{at}: field 'correct': expected true/false (or 1/0, yes/no), got {value!r}")


def _row(raw: dict[str, Any], at: str, resolve_model: Callable[[str], str]) -> Trial:
    missing = [c for c in COLUMNS if c not in raw and c != "kv_budget"]
    if missing:
        raise InputError(f"{at}: missing field '{missing[0]}' (columns: {', '.join(COLUMNS)})")
    task = _text(raw["task"])
    if not task:
        raise InputError(f"{at}: field 'task': expected a task name, got an empty value")
    problem = _text(raw["problem"])
    if not problem:
        raise InputError(f"{at}: field 'problem': expected a problem id, got an empty value")
    attention_text = _text(raw["attention"]).lower()
    if attention_text not in _ATTENTION:
        raise InputError(
            f"{at}: field 'attention': expected dense, topk or block-topk, got {raw['attention']!r}"
        )
    attention = cast(AttentionName, _ATTENTION[attention_text])
    budget_raw = raw.get("kv_budget")
    if attention == "dense":
        if _text(budget_raw) not in ("", "none", "null"):
            raise InputError(
                f"{at}: field 'kv_budget': must be empty for dense attention, got {budget_raw!r}"
            )
        budget: float | None = None
    else:
        try:
            budget = float(_text(budget_raw))
        except ValueError:
            budget = float("nan")
        if not (np.isfinite(budget) and budget > 0):
            raise InputError(
                f"{at}: field 'kv_budget': expected a positive number of tokens for {attention}, got {budget_raw!r}"
            )
    name = _text(raw["model"])
    if not name:
        raise InputError(f"{at}: field 'model': expected a model name, got an empty value")
    try:
        model = resolve_model(name)
    except KineticsError as exc:
        raise InputError(f"{at}: field 'model': {exc}") from None
    return Trial(
        task=task,
        setting=Setting(model, attention, budget),
        problem=problem,
        prompt_tokens=_count(raw["prompt_tokens"], "prompt_tokens", at),
        gen_tokens=_count(raw["gen_tokens"], "gen_tokens", at),
        correct=_bool(raw["correct"], at),
        approximate_tokens=_text(raw.get("token_counts")).lower().startswith("approximate"),
        answer=_text(raw.get("answer")) or None,
    )


def _jsonl_rows(path: Path, handle: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{_where(path, number)}: not valid JSON: {exc.msg}") from None
        if not isinstance(raw, dict):
            raise InputError(
                f"{_where(path, number)}: expected a JSON object with fields {', '.join(COLUMNS)}"
            )
        yield number, raw


def _csv_rows(path: Path, handle: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(handle)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"{_where(path, 1)}: missing column '{missing[0]}' in the header (columns: {', '.join(COLUMNS)})"
        )
    reader.fieldnames = header
    for raw in reader:
        if None in raw:
            raise InputError(f"{_where(path, reader.line_num)}: more values than header columns")
        if any(value is None for value in raw.values()):
            raise InputError(f"{_where(path, reader.line_num)}: fewer values than header columns")
        yield reader.line_num, raw


def read_evals(path: Path, resolve_model: Callable[[str], str]) -> list[Trial]:
    """Every trial in one file; the format is CSV for a .csv name, JSON Lines otherwise."""
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        rows = (
            _csv_rows(path, handle) if path.suffix.lower() == ".csv" else _jsonl_rows(path, handle)
        )
        trials = [_row(raw, _where(path, number), resolve_model) for number, raw in rows]
    if not trials:
        raise InputError(
            f"{path}: no evaluation rows (expected one row per trial with {', '.join(COLUMNS)})"
        )
    return trials


# ------------------------------------------------------------------------------ the source


@dataclass(frozen=True)
class _Table:
    """Trials of one setting as arrays, problems indexed 0..P-1."""

    problem: np.ndarray  # (R,) problem index of each trial
    prompt: np.ndarray  # (R,)
    gen: np.ndarray  # (R,)
    correct: np.ndarray  # (R,) bool
    n: np.ndarray  # (P,) trials per problem

    @classmethod
    def build(cls, trials: Sequence[Trial]) -> _Table:
        ids = {t: i for i, t in enumerate(dict.fromkeys(tr.problem for tr in trials))}
        problem = np.array([ids[t.problem] for t in trials])
        return cls(
            problem=problem,
            prompt=np.array([t.prompt_tokens for t in trials], dtype=float),
            gen=np.array([t.gen_tokens for t in trials], dtype=float),
            correct=np.array([t.correct for t in trials], dtype=bool),
            n=np.bincount(problem, minlength=len(ids)).astype(float),
        )


class EvaluationSource:
    """AccuracySource over evaluation rows a user brought (one task)."""

    kind: SourceKind = "evaluations"

    def __init__(self, task: str, trials: Sequence[Trial], files: Sequence[Path]):
        self.task = task
        self._tables: dict[Setting, _Table] = {}
        grouped: dict[Setting, list[Trial]] = {}
        for t in trials:
            grouped.setdefault(t.setting, []).append(t)
        for setting, rows in grouped.items():
            self._tables[setting] = _Table.build(rows)
        self.trials_by_setting = grouped  # per-trial rows, for selection rules and allocation
        names = ", ".join(str(f) for f in files)
        self.description = (
            f"evaluations for {task} from {names}: {len(trials)} trials, "
            f"{len(self._tables)} settings"
        )
        approximate = sum(t.approximate_tokens for t in trials)
        if approximate:
            self.description += (
                f"; token counts approximate (characters / 4) in {approximate} of {len(trials)} "
                "trials, so costs are too"
            )

    def settings(self) -> list[Setting]:
        return list(self._tables)

    def max_trials(self, setting: Setting) -> int:
        """The largest N with a coverage estimate: the fewest trials any problem has."""
        return int(self._table(setting).n.min())

    def _table(self, setting: Setting) -> _Table:
        try:
            return self._tables[setting]
        except KeyError:
            known = ", ".join(s.label for s in self._tables)
            raise InputError(
                f"the {self.task} evaluations have no setting {setting.label}; they have: {known}"
            ) from None

    def outcome(self, setting: Setting, trials: np.ndarray, limits: np.ndarray) -> TrialOutcome:
        tab = self._table(setting)
        trials = np.asarray(trials, dtype=float)
        limits = np.asarray(limits, dtype=float)
        if np.any(trials < 1) or np.any(limits <= 0):
            raise InputError("trials must be >= 1 and generation limits > 0")
        n_problems = tab.n.size
        # c[g, i]: trials of problem i correct and finished within limit g
        ok = tab.correct[None, :] & (tab.gen[None, :] <= limits[:, None])
        c = np.stack([np.bincount(tab.problem, weights=row, minlength=n_problems) for row in ok])
        cover = pass_at_k(tab.n[None, None, :], c[None, :, :], trials[:, None, None])  # (T, G, P)
        accuracy = cover.mean(axis=2)  # NaN wherever some problem has fewer than N trials
        lengths, weights, prompts = _length_points(tab, limits)
        return TrialOutcome(
            accuracy=accuracy,
            gen_lengths=lengths,
            gen_weights=weights,
            prompt_len=float(np.mean(np.bincount(tab.problem, weights=tab.prompt) / tab.n)),
            point_prompt_lens=prompts,
        )


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
    trials: list[Trial] = []
    for path in files:
        trials.extend(read_evals(Path(path), resolve_model))
    key = task.strip().casefold()
    chosen = [t for t in trials if t.task.casefold() == key]
    if not chosen:
        found = sorted({t.task for t in trials})
        raise InputError(
            f"no rows for task {task!r} in {', '.join(str(f) for f in files)}; tasks there: {', '.join(found)}"
        )
    return EvaluationSource(chosen[0].task, chosen, [Path(f) for f in files])
