"""Import the Kinetics paper's released traces into evaluation rows.

Trace format (JSON Lines, as written by the paper's evaluation scripts): the first line is metadata,
{} for dense or {"attn_local": 128, "attn_topk": 64} for top-k or {"attn_local": 128,
"attn_block_size": 16, "attn_block_topk": 8} for block top-k; every further line is one trial with
"query" (the problem text), "prediction" (the generated text, or a list whose first item is it),
"score" (0/100 or 0/1) and optionally "question_id" (on every trial or none; without it,
problems are numbered by their query text). The KV budget is attn_local + attn_topk, or
attn_local + attn_block_topk x attn_block_size, as in the paper's cost scripts.

Token counts come from a tokenizer file (tokenizer.json) when the optional `tokenizers` package
is installed; otherwise they are approximated as ceil(characters / 4) and the rows say so.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinetics_cli.errors import InputError

CHARS_PER_TOKEN = 4.0  # rough figure for English text and LaTeX under BPE vocabularies of ~150K
APPROX_SOURCE = "approximate: ceil(characters / 4)"


@dataclass(frozen=True)
class TokenCounter:
    count: Callable[[str], int]
    source: str  # "tokenizer FILE" or APPROX_SOURCE

    @property
    def approximate(self) -> bool:
        return self.source == APPROX_SOURCE


def approximate_counter() -> TokenCounter:
    return TokenCounter(lambda text: math.ceil(len(text) / CHARS_PER_TOKEN), APPROX_SOURCE)


def token_counter(tokenizer: Path | None) -> TokenCounter:
    """A counter backed by `tokenizer` (needs the `tokenizers` package), else the approximation."""
    if tokenizer is None:
        return approximate_counter()
    try:
        from tokenizers import Tokenizer  # optional dependency
    except ImportError:
        raise InputError(
            f"--tokenizer {tokenizer} needs the optional 'tokenizers' package (pip install tokenizers); "
            "leave --tokenizer out to use the ~4 characters per token approximation"
        ) from None
    try:
        tok = Tokenizer.from_file(str(tokenizer))
    except Exception as exc:  # the library raises its own exception types
        raise InputError(f"{tokenizer}: cannot load tokenizer: {exc}") from None
    return TokenCounter(
        lambda text: len(tok.encode(text, add_special_tokens=False).ids), f"tokenizer {tokenizer}"
    )


def _setting(meta: dict[str, Any], path: Path) -> tuple[str, float | None]:
    def number(key: str) -> float:
        value = meta.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1e9:
            raise InputError(
                f"{path}:1: metadata field '{key}': expected a number >= 0, got {value!r}"
            )
        return float(value)

    if meta.get("attn_local") is None:
        return "dense", None
    local = number("attn_local")
    if meta.get("attn_block_topk") is not None:
        return "block-topk", local + number("attn_block_topk") * number("attn_block_size")
    topk = 0.0 if meta.get("attn_topk") is None else number("attn_topk")
    return "topk", local + topk


def _text(value: Any, field: str, where: str) -> str:
    if isinstance(value, list):
        if not value:
            raise InputError(f"{where}: field '{field}': empty list")
        value = value[0]
    if not isinstance(value, str):
        raise InputError(f"{where}: field '{field}': expected text, got {type(value).__name__}")
    return value


def import_traces(
    path: Path, task: str, model: str, counter: TokenCounter, gen_limit: float | None = None
) -> list[dict[str, Any]]:
    """Evaluation rows (see kinetics_cli.accuracy.evals) for every trial in one trace file;
    `gen_limit`, the run's generation cap (the traces do not state it), on every row."""
    from kinetics_cli.accuracy.evals import json_objects
    from kinetics_cli.accuracy.formats import stamp_cap
    from kinetics_cli.fsutil import jsonl_lines, read_text

    path = Path(path)
    lines = jsonl_lines(read_text(path))
    if not lines or not lines[0].strip():
        raise InputError(f"{path}:1: expected a metadata JSON object on the first line")
    try:
        meta = json.loads(lines[0])
    except (ValueError, RecursionError) as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc).split("\n")[0]
        raise InputError(f"{path}:1: metadata is not valid JSON: {msg}") from None
    if not isinstance(meta, dict):
        raise InputError(f"{path}:1: metadata must be a JSON object")
    attention, budget = _setting(meta, path)
    problem_ids: dict[str, str] = {}
    first_kind: tuple[str, bool] | None = None  # the first trial's line, and whether it has an id
    rows: list[dict[str, Any]] = []
    for where, raw in json_objects(path, lines[1:], start=2):
        for field in ("query", "prediction", "score"):
            if field not in raw:
                raise InputError(f"{where}: missing field '{field}'")
        query = _text(raw["query"], "query", where)
        prediction = _text(raw["prediction"], "prediction", where)
        score = raw["score"][0] if isinstance(raw["score"], list) and raw["score"] else raw["score"]
        if (
            isinstance(score, bool)
            or not isinstance(score, (int, float))
            or score not in (0, 1, 100)
        ):
            raise InputError(f"{where}: field 'score': expected 0, 1 or 100, got {raw['score']!r}")
        qid = raw.get("question_id")
        if qid is not None and (
            isinstance(qid, bool) or not isinstance(qid, (str, int, float)) or qid == ""
        ):
            shown = repr(qid) if len(repr(qid)) <= 40 else repr(qid)[:37] + "..."
            raise InputError(
                f"{where}: field 'question_id': expected a problem id (a string or number), "
                f"got {shown}"
            )
        if first_kind is None:
            first_kind = (where, qid is not None)
        elif first_kind[1] != (qid is not None):
            # ids numbered from the query text (0, 1, ...) could be another row's question_id
            # and join two problems into one
            has, lacks = (first_kind[0], where) if first_kind[1] else (where, first_kind[0])
            raise InputError(
                f"{lacks}: no question_id, while {has} has one: give every trial a question_id "
                "or none (problems are then numbered by their query text)"
            )
        if qid is not None:
            problem = str(qid)
        else:
            problem = problem_ids.setdefault(query, str(len(problem_ids)))
        rows.append(
            {
                "task": task,
                "model": model,
                "attention": attention,
                "kv_budget": "" if budget is None else f"{budget:g}",
                "problem": problem,
                "prompt_tokens": counter.count(query),
                "gen_tokens": counter.count(prediction),
                "correct": score > 0,
                "token_counts": counter.source,
            }
        )
        if gen_limit is not None:
            stamp_cap(rows[-1], gen_limit)
    if not rows:
        raise InputError(f"{path}: no trials after the metadata line")
    return rows


def write_rows(rows: list[dict[str, Any]], out: Path, *, force: bool = False) -> Path:
    """Write rows as CSV for a .csv name, JSON Lines otherwise (atomically)."""
    import csv
    import io

    from kinetics_cli.fsutil import write_atomic

    if Path(out).suffix.lower() == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: ("true" if v is True else "false" if v is False else v) for k, v in row.items()}
            )
        text = buffer.getvalue()
    else:
        text = "".join(json.dumps(row) + "\n" for row in rows)
    return write_atomic(Path(out), text, force=force)
