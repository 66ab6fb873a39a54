"""Plausible physical ranges for every number the tool accepts, from data files or options.

Each range is generous (an order of magnitude or more beyond the largest real figure named next to
it) yet physical: a value outside it is a typo or an attack, and refusing it keeps the cost model
away from inf, nan, float overflow and per-layer loops that never end. docs/catalog.md lists them.
"""

from __future__ import annotations

from kinetics_cli.units import MAX_TOKENS

# ---- hardware profiles --------------------------------------------------------------------------
# The lower ends of the three figures below are 1 (any positive figure): they only divide, and toy
# catalogs in tests use round small numbers (1,000 FLOP/s over 10 B/s) to keep golden values exact.
# Real figures below are the bundled profiles' and cards' (hardware_profiles/*.toml,
# model_cards/*.toml, sources inside) unless a source is named.
# Dense peak per accelerator: GB200 FP4 dense 1e16 FLOP/s (gb200.toml); a laptop CPU core 1e10.
PEAK_FLOPS = (1.0, 1e18)
# HBM bandwidth: B200 8e12 B/s, MI355X 8e12 (b200.toml, mi355x.toml); a DDR channel about 2e10.
HBM_BANDWIDTH = (1.0, 1e15)
# Memory per accelerator: MI355X 288e9 B (mi355x.toml); a small board 1e9.
HBM_CAPACITY = (1.0, 1e14)
# Scale-up link per GPU and direction: NVLink 5 is 9e11 B/s (b200.toml).
INTERCONNECT_BANDWIDTH = (0.0, 1e15)
# GPUs in one scale-up domain: GB200 NVL72 has 72 (gb200.toml); 1024 leaves room for larger racks.
GPUS_PER_NODE = (1, 1024)
# Board power: MI355X 1,400 W, the largest bundled (mi355x.toml).
TDP_WATTS = (1.0, 1e5)
# On-demand price per GPU-hour, USD: 0.3 to 10 today.
PRICE_PER_GPU_HOUR = (1e-4, 1e4)

# ---- model cards --------------------------------------------------------------------------------
# Transformer blocks: the deepest published models have about 130 (Llama 3.1 405B: 126,
# arXiv 2407.21783 Table 3).
LAYERS = (1, 1000)
# Widths: DeepSeek-V3 hidden 7168 (deepseek-v3.toml), Llama 405B 16384 (arXiv 2407.21783
# Table 3); MLP widths up to about 5e4.
HIDDEN_SIZE = (1, 2**20)
INTERMEDIATE_SIZE = (0, 2**22)
# Heads: DeepSeek-V3 128 query heads; head dims 64 to 576 (MLA latent).
HEADS = (1, 2**14)
HEAD_DIM = (1, 2**14)
# Vocabularies: 32,000 to 262,144 (Gemma 3 technical report, arXiv 2503.19786).
VOCAB_SIZE = (1, 2**24)
# Routed experts: Qwen3-Next 512 (qwen3-next-80b-a3b.toml); experts per token 1 to 10.
EXPERTS = (1, 2**16)
SHARED_EXPERTS = (0, 1024)
# Low-rank widths of MLA (kv 512, q 1536: deepseek-v3.toml) and linear-attention heads and dims.
RANK = (1, 2**16)
CONV_KERNEL = (0, 64)
# Bytes per stored element: 1-bit formats are 0.125 B; FP64 is 8 B.
ELEMENT_BYTES = (1 / 16, 8.0)
# Context windows and sliding windows: 4,096 to 10M tokens published.
CONTEXT_TOKENS = (1, MAX_TOKENS)
# Parameter counts stated by publishers: 0.5e9 to 2e12 today.
PARAMETERS = (1.0, 1e15)

# ---- command-line values -------------------------------------------------------------------------
# eFLOPs per problem: one token of a small model is about 1e9; 1e30 is about 1.4e7 years of one B200.
EFLOPS_BUDGET = (1.0, 1e30)
# Accelerator-seconds per problem: up to about 30 years.
SECONDS_BUDGET = (1e-9, 1e9)
# USD per 1,000 problems.
USD_BUDGET = (1e-9, 1e12)
# Joules per problem: 1e9 s at 1.4 kW (the largest board power) is about 1.4e12 J.
JOULES_BUDGET = (1e-9, 1e13)
# FLOPs per byte: B200 562.5; a compute-rich, bandwidth-poor device might reach 1e4.
INTENSITY = (0.0, 1e6)
# Best-of-N trials per problem: published sweeps stop at a few thousand.
TRIALS = (1, 2**20)
# Sequences in one serving step, tensor-parallel GPUs per replica, alternatives shown.
BATCH = (1, 2**20)
TENSOR_PARALLEL = (1, 1024)
# Data-parallel replicas of one deployment: the largest training clusters hold about 1e5 GPUs.
REPLICAS = (1, 2**20)
# An engine's cap on sequences per replica (0: memory only): vLLM 1,024, TensorRT-LLM 2,048.
MAX_BATCH = (0, 2**20)
# Timed calls per calibration micro-kernel: the default is 5; each call takes up to seconds.
REPEATS = (1, 10_000)
TOP = (0, 1000)
# Tokens per KV page for block top-k: vLLM and SGLang use 1 to 256.
BLOCK_SIZE = (1, 2**16)
