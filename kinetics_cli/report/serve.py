"""What `serve` shows: the answer table, the memory plan, the sweep, its JSON document and the
throughput-against-latency plot (matplotlib imported inside the function that draws)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from kinetics_cli.report.plotting import new_figure, save_figure

if TYPE_CHECKING:
    from kinetics_cli.engine.serving import ServeResult
    from kinetics_cli.engine.serving_checks import ServingCheck

RULES = {
    "memory": "the largest that fits at the final context",
    "max-batch": "the engine's cap on concurrent sequences, --max-batch",
    "given": "as given",
    "max-tpot": "the largest meeting --max-tpot",
    "max-ttft": "the largest meeting --max-ttft",
    "latency": "the largest meeting --max-tpot and --max-ttft",
}


def serve_document(result: ServeResult, check: ServingCheck | None = None) -> dict[str, Any]:
    """The `serve --json` document (keys: docs/serving.md); `checked`: how the efficiency mode's
    predictions for this kind of model fared against published runs (null: not checked)."""
    return {**result.as_dict(), "checked": None if check is None else check.document()}


def _attention_text(result: ServeResult) -> str:
    """'; block-topk attention, KV budget 1,024 tokens (pages of 16)' for a sparse request
    ('topk (oracle)': found at no cost, as plan labels it); nothing for dense attention."""
    if result.attention == "dense" or result.kv_budget is None:
        return ""
    name = "topk (oracle)" if result.attention == "topk" else result.attention
    pages = f" (pages of {result.block_size:g})" if result.block_size is not None else ""
    return f"; {name} attention, KV budget {result.kv_budget:,.0f} tokens{pages}"


def plot_title(result: ServeResult) -> str:
    """The serve plot's title: model, accelerator and layout, then the request as priced (its
    lengths, its groups of trials, its attention), so a sparse curve never reads as dense."""
    from kinetics_cli.report.format import tokens

    return (
        f"{result.model} on {result.hardware}, {result.layout}\n"
        f"ISL {tokens(round(result.prompt_len))} / OSL {tokens(round(result.gen_len))}"
        f"{_trials_text(result)}{_attention_text(result)}"
    )


def _trials_text(result: ServeResult) -> str:
    """', groups of 4 trials sharing a prompt' where requests come in groups (serve --trials)."""
    return f", groups of {result.trials} trials sharing a prompt" if result.trials > 1 else ""


def print_serve(
    result: ServeResult, *, sweep: bool = False, check: ServingCheck | None = None
) -> None:
    """The human answer to `serve`, on stdout; `check`: how the efficiency mode's predictions
    for this kind of model fared against published runs (None: not checked)."""
    from kinetics_cli.report import cells
    from kinetics_cli.report.cells import FIGURE_COLUMNS, figure
    from kinetics_cli.report.checks import SERVE_CONSEQUENCE, checks_sentence, unchecked_sentence
    from kinetics_cli.report.console import say, show_table
    from kinetics_cli.report.format import duration, format_bytes, plural, rate, tokens

    d, c, m = result.deployment, result.costs, result.memory
    # digits enough that a host-bound TPOT and the GPUs' shorter time do not print the same
    apart = next(
        (
            k
            for k in range(3, 8)
            if duration(float(c.tpot_seconds), k)
            != duration(float(c.decode_step_seconds) + float(c.prefill_step_seconds), k)
        ),
        3,
    )
    gpus = d.gpus_per_replica
    n = result.trials
    mode = f"{result.efficiency_mode} efficiencies"  # what each modelled figure rests on
    gpu_seconds = float(c.decode_step_seconds) + float(c.prefill_step_seconds)
    rows = [
        ("deployment", figure(f"{result.layout}; {plural(gpus, 'GPU')} per replica")),
        (
            "request",
            figure(
                f"{tokens(round(result.prompt_len))} prompt + {tokens(round(result.gen_len))} "
                "generated tokens"
                + _attention_text(result)
                + (
                    f"; groups of {n} sequences sharing the prompt (its KV cache held once per "
                    "group, prefilled once)"
                    if n > 1
                    else ""
                )
            ),
        ),
        (
            "batch",
            figure(
                f"{result.batch:,} sequences per replica"
                + (f", {plural(result.batch // n, 'group')} of {n}" if n > 1 else "")
                + f" ({RULES[result.batch_rule]}; "
                + (
                    f"memory holds {result.memory_batch:,}"
                    if result.batch_rule == "max-batch"
                    else f"at most {result.max_batch:,} fit"
                    if result.memory_batch <= result.max_batch
                    else f"at most {result.max_batch:,} by the engine's cap, --max-batch; memory "
                    f"holds {result.memory_batch:,}"
                )
                + (
                    f"; {result.targets} met at it"
                    if result.targets and result.batch_rule in ("memory", "max-batch")
                    else ""
                )
                + ")",
                result.batch,
                "sequences",
            ),
        ),
        (
            "output tokens/s per replica",
            figure(
                f"{float(c.output_tokens_per_s):,.0f} ({mode})",
                float(c.output_tokens_per_s),
                "tokens/s",
            ),
        ),
        (
            "output tokens/s per GPU",
            figure(
                f"{float(c.output_tokens_per_s_per_gpu):,.0f} ({mode})",
                float(c.output_tokens_per_s_per_gpu),
                "tokens/s",
            ),
        ),
        (
            "requests/s per replica",
            figure(
                f"{rate(float(c.requests_per_s))} ({'sequences; ' if n > 1 else ''}{mode})",
                float(c.requests_per_s),
                "requests/s",
            ),
        ),
        (
            "TPOT",
            figure(
                f"{duration(float(c.tpot_seconds))} (decode step "
                f"{duration(float(c.decode_step_seconds))} + prefill of arriving requests; {mode})"
                if float(c.tpot_seconds) <= gpu_seconds
                else f"{duration(float(c.tpot_seconds), apart)} (host-bound: the engine's CPU work "
                f"per step outlasts the GPUs' {duration(gpu_seconds, apart)}, decode step "
                f"{duration(float(c.decode_step_seconds))} + prefill "
                f"{duration(float(c.prefill_step_seconds))}; {mode})",
                float(c.tpot_seconds),
                "s",
            ),
        ),
        (
            "TTFT",
            figure(
                f"{duration(float(c.ttft_seconds))} (one prefill pass + one step, no queueing; "
                f"{mode})",
                float(c.ttft_seconds),
                "s",
            ),
        ),
        (
            "prefill share of GPU time",
            figure(f"{100 * float(c.prefill_share):.1f}%", 100 * float(c.prefill_share), "%"),
        ),
    ]
    if n > 1:
        rows.insert(
            6,
            (
                "problems/s per replica",
                figure(
                    f"{rate(result.problems_per_s)} (groups of {n}: requests/s / {n}; {mode})",
                    result.problems_per_s,
                    "problems/s",
                ),
            ),
        )
    if d.replicas > 1:
        rows.insert(
            4,
            (
                "output tokens/s, all replicas",
                figure(
                    f"{float(c.output_tokens_per_s) * d.replicas:,.0f} ({mode})",
                    float(c.output_tokens_per_s) * d.replicas,
                    "tokens/s",
                ),
            ),
        )
    show_table(
        f"Serving {result.model} on {result.hardware}",
        ["figure", "value"],
        rows,
        wrap=("value",),  # labels whole; the values break between words
        csv_columns={"value": FIGURE_COLUMNS},
    )

    def share(nbytes: float) -> cells.Cell:
        """A per-GPU cache figure; under attention DP, 1 / tp of what one rank holds whole."""
        if not d.data_parallel_attention():
            return cells.byte_count(nbytes)
        return cells.cell(
            f"{format_bytes(nbytes)} (1/{d.tp} of {format_bytes(nbytes * d.tp)} on one GPU)",
            nbytes,
        )

    # Windowed and linear layers stop growing: then the first token's KV times the context is
    # not the sequence's, and the label says which token it is.
    per_token = "KV per token"
    growing = m.kv_bytes_per_token * float(max(np.ravel(m.context)))
    if abs(growing - float(max(np.ravel(m.kv_bytes_per_sequence)))) > 1e-6 * growing:
        per_token = "KV per token (the first; windowed and linear layers stop growing)"
    memory = [
        ("capacity", cells.byte_count(m.capacity_bytes)),
        ("weights", cells.byte_count(m.weights_bytes)),
        ("reserve (engine, activations)", cells.byte_count(m.reserve_bytes)),
        ("KV capacity", cells.byte_count(m.kv_capacity_bytes)),
        (per_token, share(m.kv_bytes_per_token)),
        ("KV per sequence at the final context", share(float(m.kv_bytes_per_sequence))),
        ("KV of the batch", cells.byte_count(result.kv_bytes)),
    ]
    if n > 1:
        memory.insert(
            6,
            (
                f"KV per group of {n} at the final context (prompt held once)",
                share(float(m.problem_bytes)),
            ),
        )
    show_table(
        "Memory per GPU",
        ["part", ">bytes"],
        memory,
        wrap=("part",),
        csv_columns={"bytes": ("bytes (B)",)},
    )
    if sweep and result.sweep is not None:
        table = [
            (
                cells.count(row["batch"]),
                cells.cell(f"{row['output_tokens_per_s']:,.0f}", row["output_tokens_per_s"]),
                cells.cell(
                    f"{row['output_tokens_per_s_per_gpu']:,.0f}", row["output_tokens_per_s_per_gpu"]
                ),
                cells.seconds(row["tpot_s"]),
                cells.seconds(row["ttft_s"]),
            )
            for row in cast(list[dict[str, Any]], result.as_dict()["sweep"])
        ]
        show_table(
            f"Throughput against latency ({mode})",
            [">batch", ">tokens/s per replica", ">per GPU", ">TPOT", ">TTFT"],
            table,
            csv_columns={
                "batch": ("batch (sequences)",),
                "tokens/s per replica": ("output tokens/s per replica",),
                "per GPU": ("output tokens/s per GPU",),
                "TPOT": ("TPOT (s)",),
                "TTFT": ("TTFT (s)",),
            },
        )
    say(f"efficiency: {result.efficiency_label}")
    say(
        (None if check is None else checks_sentence([check], SERVE_CONSEQUENCE))
        or unchecked_sentence(result.efficiency_mode)
    )


def serve_plot(result: ServeResult, path: Path, *, force: bool = False) -> Path:
    """Output tokens/s per GPU against TPOT over the sweep's batches, the chosen batch marked."""

    assert result.sweep is not None
    s = result.sweep
    fig, ax = new_figure()
    ax.plot(
        s.tpot_seconds * 1e3,
        s.output_tokens_per_s_per_gpu,
        marker="o",
        ms=3,
        color="tab:blue",
        label=f"{result.efficiency_mode} efficiencies",
    )
    c = result.costs
    ax.scatter(
        [float(c.tpot_seconds) * 1e3],
        [float(c.output_tokens_per_s_per_gpu)],
        s=160,
        marker="*",
        facecolor="white",
        edgecolor="black",
        zorder=3,
        label=f"batch {result.batch:,}",
    )
    for b, x, y in zip(s.batch, s.tpot_seconds, s.output_tokens_per_s_per_gpu, strict=True):
        if b in (s.batch[0], s.batch[len(s.batch) // 2], s.batch[-1]):
            ax.annotate(
                f"B={int(b):,}",
                (x * 1e3, y),
                textcoords="offset points",
                xytext=(4, -10),
                fontsize=8,
            )
    ax.set_xlabel("time per output token (ms)")
    ax.set_ylabel("output tokens/s per GPU")
    ax.set_title(plot_title(result), fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path, force=force)
