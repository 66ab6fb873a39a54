"""Evaluation logs of widely used harnesses, converted into evaluation rows (accuracy/evals.py).

* lm-evaluation-harness `--log_samples` (samples_<task>_<date>.jsonl): one JSON object per
  (document, filter) with doc_id, doc, arguments (the prompt: [[prompt, gen_kwargs], ...] or, in
  newer versions, {"gen_args_0": {"arg_0": prompt, "arg_1": gen_kwargs}}), resps (per request, the
  list of generations), filtered_resps, filter, metrics (names) and each metric's value as a
  top-level field (e.g. "exact_match": 1.0). The metric is per document: one trial per row (its
  first generation), correct when the metric is > 0. Several files (seeds) give several trials
  per problem; rows of other filters than the chosen one are skipped.
* Qwen2.5-Math evaluation (github.com/QwenLM/Qwen2.5-Math, evaluation/math_eval.py
  --save_outputs, also used by many reasoning-RL repositories): one JSON object per problem with
  idx, question, gt, code (the n_sampling generations), pred and score (one bool per generation).
  One trial per generation.
* the Kinetics paper's released traces: accuracy/traces.py.

Token counts: a tokenizer file when given (exact), else characters / 4, marked in every row.

Generation cap: the max_tokens the run itself used, written as every row's gen_limit. lm-eval
states it per request (max_gen_toks in the gen_kwargs of `arguments`); the other formats carry
none, and `kinetics evals import --gen-limit N` stamps it. A generation is at most the cap, so a
count above it (characters / 4, or a tokenizer re-encoding the decoded text) is written as the cap.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kinetics_cli.accuracy.evals import json_objects
from kinetics_cli.accuracy.traces import TokenCounter
from kinetics_cli.errors import InputError
from kinetics_cli.fsutil import jsonl_lines, read_text

FORMATS = ("auto", "kinetics", "lm-eval", "qwen-math")
METRIC_PREFERENCE = ("exact_match", "acc", "pass@1", "math_verify", "em")


def _objects(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, object) for every non-empty JSON line of `path`."""
    return json_objects(path, jsonl_lines(read_text(path)))


def detect_format(path: Path) -> str:
    """'lm-eval', 'qwen-math' or 'kinetics' from the first JSON object of the file."""
    for where, first in _objects(path):
        if "doc_id" in first and ("resps" in first or "filtered_resps" in first):
            return "lm-eval"
        if isinstance(first.get("score"), list) and isinstance(first.get("code"), list):
            return "qwen-math"
        if not first or any(k.startswith("attn_") for k in first):
            return "kinetics"
        raise InputError(
            f"{where}: unknown evaluation log format (keys: {', '.join(sorted(first)[:8])}); "
            "give --log-format lm-eval, qwen-math or kinetics"
        )
    raise InputError(f"{path}: empty file")


def _row(
    task: str,
    model: str,
    attention: str,
    budget: float | None,
    problem: str,
    prompt: str,
    generation: str,
    correct: bool,
    counter: TokenCounter,
    answer: str | None = None,
    gen_limit: float | None = None,
) -> dict[str, Any]:
    row = {
        "task": task,
        "model": model,
        "attention": attention,
        "kv_budget": "" if budget is None else f"{budget:g}",
        "problem": problem,
        "prompt_tokens": counter.count(prompt),
        "gen_tokens": counter.count(generation),
        "correct": correct,
        "token_counts": counter.source,
    }
    if gen_limit is not None:
        stamp_cap(row, gen_limit)
    if answer is not None:
        row["answer"] = answer  # the extracted final answer (for voting-style selection)
    return row


def stamp_cap(row: dict[str, Any], gen_limit: float) -> None:
    """Write the run's generation cap on `row` as its gen_limit; a generated count above it
    (an estimate or a re-encoding: the run stopped at the cap) becomes the cap."""
    row["gen_limit"] = int(gen_limit)
    row["gen_tokens"] = min(int(row["gen_tokens"]), int(gen_limit))


def fill_caps(rows: list[dict[str, Any]]) -> list[float]:
    """Give every row a gen_limit column when some row has one (null / empty on those without:
    a CSV needs the same columns on every row); the distinct caps, ascending."""
    caps = sorted({float(r["gen_limit"]) for r in rows if r.get("gen_limit") is not None})
    if caps:
        for row in rows:
            row.setdefault("gen_limit", None)
    return caps


def _max_gen_toks(arguments: Any, where: str) -> float | None:
    """lm-eval's generation cap for one request: max_gen_toks in its gen_kwargs (the second
    argument: {"gen_args_0": {"arg_1": kwargs}}, or [[prompt, kwargs]] in older versions), None
    when the log does not state it (the model's own default applied)."""
    kwargs: Any = None
    if isinstance(arguments, dict):
        first = next(iter(arguments.values()), None)
        if isinstance(first, dict):
            kwargs = first.get("arg_1")
    elif isinstance(arguments, list) and arguments and isinstance(arguments[0], list):
        kwargs = arguments[0][1] if len(arguments[0]) > 1 else None
    if not isinstance(kwargs, dict) or kwargs.get("max_gen_toks") is None:
        return None
    value = kwargs["max_gen_toks"]
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 1 <= value <= 1e9
        or value != int(value)
    ):
        raise InputError(
            f"{where}: gen_kwargs 'max_gen_toks': expected a positive whole number of tokens, "
            f"got {_short(value)}"
        )
    return float(value)


def _answer(value: Any) -> str | None:
    """The extracted final answer, as text (the first of a list), or None."""
    while isinstance(value, list) and value:
        value = value[0]
    if value is None or isinstance(value, (list, dict)):
        return None
    return str(value)[:200]


def _text(value: Any, field: str, where: str) -> str:
    while isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):  # {"arg_0": prompt, ...} of newer lm-eval versions
        value = value.get("arg_0", next(iter(value.values()), ""))
        return _text(value, field, where)
    if not isinstance(value, str):
        raise InputError(f"{where}: field '{field}': expected text, got {type(value).__name__}")
    return value


def _require(raw: dict[str, Any], fields: Sequence[str], kind: str, where: str) -> None:
    """One InputError naming the first of `fields` missing from `raw`."""
    for field in fields:
        if field not in raw:
            raise InputError(f"{where}: missing field '{field}' of {kind}")


def _short(value: Any) -> str:
    """repr(value), cut to 40 characters (a message quotes it)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _problem_id(raw: dict[str, Any], field: str, where: str) -> str:
    """The problem id in `field`: a string or a number, as evaluation rows take it; null, a
    list or an object would become a text ('None', '[1, 2]') that names no problem."""
    value = raw[field]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or str(value) == "":
        raise InputError(
            f"{where}: field '{field}': expected a problem id (a string or number), got "
            f"{_short(value)}"
        )
    return str(value)


def _lm_eval_prompt(arguments: Any, where: str) -> str:
    if isinstance(arguments, dict):  # {"gen_args_0": {"arg_0": prompt, "arg_1": kwargs}}
        first = next(iter(arguments.values()), None)
        return _text(first, "arguments", where)
    return _text(arguments, "arguments", where)


def _metric(raw: dict[str, Any], metric: str | None, where: str) -> str:
    if metric is not None:
        if metric not in raw:
            raise InputError(f"{where}: no metric field '{metric}' (give --metric NAME)")
        return metric
    names = raw.get("metrics")
    candidates = [m for m in names if m in raw] if isinstance(names, list) else []
    preferred = [m for m in METRIC_PREFERENCE if m in raw]
    if preferred:
        return preferred[0]
    if candidates:
        return str(candidates[0])
    raise InputError(f"{where}: no metric field to grade by; give --metric NAME")


def import_lm_eval(
    paths: Sequence[Path],
    task: str,
    model: str,
    counter: TokenCounter,
    *,
    attention: str = "dense",
    kv_budget: float | None = None,
    metric: str | None = None,
    filter_name: str | None = None,
    gen_limit: float | None = None,
) -> list[dict[str, Any]]:
    """Evaluation rows from lm-evaluation-harness sample logs (one trial per document and file).
    The generation cap is each request's max_gen_toks, else `gen_limit`; both given must agree."""
    rows: list[dict[str, Any]] = []
    seen_filters: dict[str, None] = {}
    for path in paths:
        chosen_filter = filter_name
        for where, raw in _objects(Path(path)):
            _require(raw, ("doc_id", "resps"), "an lm-eval sample", where)
            row_filter = raw.get("filter")
            seen_filters[str(row_filter)] = None
            if chosen_filter is None:
                chosen_filter = row_filter
            if row_filter != chosen_filter:
                continue
            name = _metric(raw, metric, where)
            value = raw[name]
            if isinstance(value, bool):
                value = int(value)
            if not isinstance(value, (int, float)) or value != value:
                raise InputError(
                    f"{where}: metric '{name}': expected a number, got {value!r}"[:200]
                )
            if value not in (0, 1):
                # a fraction is a mean over several generations (pass@1 over repeats) or a
                # partial grade (f1): counting it as right would make every such document solved
                raise InputError(
                    f"{where}: metric '{name}': expected 0 or 1 (the generation wrong or right), "
                    f"got {_short(value)}; a fraction averages several generations or grades "
                    "partly: give --metric a right-or-wrong metric"
                )
            cap = _max_gen_toks(raw.get("arguments"), where)
            if cap is not None and gen_limit is not None and cap != gen_limit:
                raise InputError(
                    f"{where}: the log's max_gen_toks is {cap:,.0f} tokens, --gen-limit "
                    f"{gen_limit:,.0f}: the log states the run's cap (drop --gen-limit)"
                )
            rows.append(
                _row(
                    task,
                    model,
                    attention,
                    kv_budget,
                    _problem_id(raw, "doc_id", where),
                    _lm_eval_prompt(raw.get("arguments", ""), where),
                    _text(raw["resps"], "resps", where),
                    value > 0,
                    counter,
                    _answer(raw.get("filtered_resps")),
                    cap if cap is not None else gen_limit,
                )
            )
    if not rows:
        where = ", ".join(str(p) for p in paths)
        if filter_name is not None and seen_filters:
            raise InputError(
                f"{where}: no lm-eval samples with --filter {filter_name!r}; filters there: "
                + ", ".join(seen_filters)
            )
        raise InputError(f"{where}: no lm-eval samples")
    return rows


def import_qwen_math(
    paths: Sequence[Path],
    task: str,
    model: str,
    counter: TokenCounter,
    *,
    attention: str = "dense",
    kv_budget: float | None = None,
    gen_limit: float | None = None,
) -> list[dict[str, Any]]:
    """Evaluation rows from Qwen2.5-Math evaluation outputs (one trial per generation); the
    outputs do not state the cap (math_eval.py --max_tokens_per_call): `gen_limit` gives it."""
    rows: list[dict[str, Any]] = []
    for path in paths:
        for where, raw in _objects(Path(path)):
            _require(raw, ("idx", "code", "score"), "a Qwen2.5-Math sample", where)
            code, score = raw["code"], raw["score"]
            if not isinstance(code, list) or not isinstance(score, list) or len(code) != len(score):
                raise InputError(
                    f"{where}: fields 'code' and 'score' must be lists of the same length"
                )
            prompt = raw.get("question", raw.get("problem", ""))
            pred_raw = raw.get("pred")
            pred: list[Any] = pred_raw if isinstance(pred_raw, list) else []
            for j, (generation, ok) in enumerate(zip(code, score, strict=True)):
                if not isinstance(ok, (bool, int, float)) or ok not in (0, 1):
                    raise InputError(
                        f"{where}: field 'score'[{j}]: expected true/false (or 1/0), got "
                        f"{_short(ok)}"
                    )
                rows.append(
                    _row(
                        task,
                        model,
                        attention,
                        kv_budget,
                        _problem_id(raw, "idx", where),
                        _text(prompt, "question", where),
                        _text(generation, "code", where),
                        bool(ok),
                        counter,
                        _answer(pred[j] if j < len(pred) else None),
                        gen_limit,
                    )
                )
    if not rows:
        raise InputError(f"{', '.join(str(p) for p in paths)}: no Qwen2.5-Math samples")
    return rows
