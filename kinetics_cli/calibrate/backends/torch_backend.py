"""The calibration kernels in PyTorch: bf16 on a CUDA GPU (or any dtype on the CPU, for testing).

The same kernels as the numpy backend, step for step: matmul, device-to-device copy, decode
attention over a paged KV cache in chunks with an online softmax, and block top-k (score one
mean-key summary per page, keep the top pages per KV head plus the local window, attend over
those pages only). GPU calls are timed with CUDA events after a synchronise, with the L2 cache
flushed by overwriting a buffer larger than it before every call. torch is imported here only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kinetics_cli.calibrate.kernels import COMPOSITE, Case, ShapeValue
from kinetics_cli.errors import InputError

TORCH_DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
GPU_CHUNK_BYTES = 512 << 20  # K and V gathered per attention chunk on a GPU
CPU_CHUNK_BYTES = 2 << 20


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise InputError(
            "the torch backend needs PyTorch (pip install 'kinetics-cli[torch]'); "
            "--backend numpy runs on any CPU"
        ) from None
    return torch


class PagedCache:
    """Torch twin of numpy_backend.PagedCache: page pool, shuffled page table, page summaries."""

    def __init__(
        self, torch: Any, gen: Any, shape: Mapping[str, ShapeValue], dtype: Any, device: Any
    ):
        batch, context = int(shape["batch"]), int(shape["context"])
        hkv, d, s = int(shape["kv_heads"]), int(shape["head_dim"]), int(shape["page_size"])
        pool = batch * (context // s)
        self.page_size = s
        shape_ = (pool, hkv, s, d)
        self.k_pages = torch.randn(shape_, generator=gen, device=device, dtype=dtype)
        self.v_pages = torch.randn(shape_, generator=gen, device=device, dtype=dtype)
        perm = torch.randperm(pool, generator=gen, device=device)
        self.page_table = perm.reshape(batch, context // s)
        self.summaries = self.k_pages.mean(dim=2, dtype=torch.float32).to(dtype)


def paged_attention(torch: Any, q: Any, cache: PagedCache, pages: Any, chunk_pages: int) -> Any:
    """softmax(q K^T / sqrt(d)) V over the listed pages, a chunk at a time (online softmax in fp32).

    q: (batch, kv_heads, group, dim); pages: (batch, kv_heads, n) page ids.
    """
    b, hkv, g, d = q.shape
    s = cache.page_size
    k_rows = cache.k_pages.reshape(-1, s, d)
    v_rows = cache.v_pages.reshape(-1, s, d)
    rows = pages * hkv + torch.arange(hkv, device=q.device)[None, :, None]
    qs = q * (1.0 / math.sqrt(d))
    m = torch.full((b, hkv, g, 1), -math.inf, device=q.device)
    denom = torch.zeros((b, hkv, g, 1), device=q.device)
    acc = torch.zeros((b, hkv, g, d), device=q.device)
    n = pages.shape[-1]
    for start in range(0, n, chunk_pages):
        ids = rows[:, :, start : start + chunk_pages]
        c = ids.shape[-1]
        keys = k_rows.index_select(0, ids.reshape(-1)).reshape(b, hkv, c * s, d)
        values = v_rows.index_select(0, ids.reshape(-1)).reshape(b, hkv, c * s, d)
        scores = torch.matmul(qs, keys.transpose(-1, -2)).float()
        m_new = torch.maximum(m, scores.amax(dim=-1, keepdim=True))
        p = torch.exp(scores - m_new)
        correction = torch.exp(m - m_new)
        denom = denom * correction + p.sum(dim=-1, keepdim=True)
        acc = acc * correction + torch.matmul(p.to(q.dtype), values).float()
        m = m_new
    return (acc / denom).to(q.dtype)


def select_pages(torch: Any, q: Any, cache: PagedCache, top_pages: int, window_pages: int) -> Any:
    """Block top-k page choice, as numpy_backend.select_pages."""
    table = cache.page_table
    b, n = table.shape
    summaries = cache.summaries[table]  # (batch, pages, kv_heads, dim)
    scores = torch.matmul(q, summaries.permute(0, 2, 3, 1)).float().sum(dim=2)
    if window_pages:
        scores[:, :, n - window_pages :] = -math.inf
    top = torch.topk(scores, top_pages, dim=-1).indices
    local = torch.arange(n - window_pages, n, device=q.device).expand(*top.shape[:2], window_pages)
    positions = torch.cat([top, local], dim=-1)
    return torch.gather(table[:, None, :].expand(b, q.shape[1], n), 2, positions)


def resolve_device(torch: Any, device: str | None) -> Any:
    """The torch.device to time on: the current CUDA GPU by default, `cuda:N`, or `cpu`; a CUDA
    device always carries its index (torch.cuda.set_device and the events need one)."""
    if device is None:
        if not torch.cuda.is_available():
            raise InputError(
                "the torch backend found no CUDA GPU; pass --device cpu to time it on the "
                "CPU, or use --backend numpy"
            )
        device = "cuda"
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise InputError(f"--device {device}: expected cuda, cuda:N or cpu") from None
    if dev.type == "cpu":
        return dev
    if dev.type != "cuda":
        raise InputError(f"--device {device}: the torch backend times cuda or cpu devices only")
    if not torch.cuda.is_available():
        raise InputError(f"--device {device}: torch sees no CUDA GPU")
    if dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    count = torch.cuda.device_count()
    if dev.index >= count:
        raise InputError(
            f"--device {device}: torch sees {count} CUDA GPU(s), cuda:0 to cuda:{count - 1}"
        )
    return dev


class TorchBackend:
    """Times the calibration kernels with PyTorch on `device` (CUDA by default)."""

    name = "torch"

    def __init__(self, device: str | None = None, dtype: str | None = None, seed: int = 0):
        torch = _torch()
        self.torch = torch
        self.dev = resolve_device(torch, device)
        self.gpu = self.dev.type == "cuda"
        self.dtype = dtype or ("bf16" if self.gpu else "fp32")
        if self.dtype not in TORCH_DTYPES:
            raise InputError(
                f"unknown dtype {self.dtype!r}; choose one of {', '.join(TORCH_DTYPES)}"
            )
        if self.gpu:
            # CUDA events record on the current device's stream: make it the timed device's.
            torch.cuda.set_device(self.dev)
        # On a CPU, as the numpy backend: one thread, timed by its CPU time (numpy_backend).
        self.clock = "cuda_events" if self.gpu else "thread_cpu"
        self._threads = torch.get_num_threads()
        if not self.gpu:
            torch.set_num_threads(1)
        self.tdtype = getattr(torch, TORCH_DTYPES[self.dtype])
        self.elem_size = torch.empty((), dtype=self.tdtype).element_size()
        self.gen = torch.Generator(device=self.dev).manual_seed(seed)
        if self.gpu:
            props = torch.cuda.get_device_properties(self.dev)
            self.device = torch.cuda.get_device_name(self.dev)
            l2 = int(getattr(props, "L2_cache_size", 0) or (64 << 20))
            self._flush = torch.empty(max(256 << 20, 4 * l2), dtype=torch.uint8, device=self.dev)
            self.chunk_bytes = GPU_CHUNK_BYTES
        else:
            from kinetics_cli.calibrate.backends.numpy_backend import (
                _cpu_name,
                _last_level_cache_bytes,
                flush_bytes,
            )

            self.device = _cpu_name()
            self._flush = torch.ones(flush_bytes(_last_level_cache_bytes()), dtype=torch.uint8)
            self.chunk_bytes = CPU_CHUNK_BYTES

    def describe(self) -> str:
        return f"torch {self.torch.__version__} on {self.device} ({self.dev.type}), {self.dtype}"

    def close(self) -> None:
        if self.gpu:
            self.torch.cuda.empty_cache()
        else:
            self.torch.set_num_threads(self._threads)

    def reserve(self, cases: Sequence[Case]) -> None:
        """Nothing to allocate up front: each case allocates its own tensors."""

    def flush(self) -> None:
        """Evict caches: overwrite a buffer larger than L2 (GPU), or read one the size of the
        last-level cache (CPU; numpy_backend.flush_bytes)."""
        if self.gpu:
            self._flush.zero_()
        else:
            self._flush.max()

    def time_call(self, fn: Callable[[], object]) -> float:
        """Seconds of one call: CUDA events around it on an idle GPU (everything queued before,
        the cache flush included, has finished), or the thread's CPU time on a CPU. Autograd is
        off (inference mode), as in serving."""
        torch = self.torch
        with torch.inference_mode():
            if not self.gpu:
                start = time.thread_time()
                fn()
                return time.thread_time() - start
            stream = torch.cuda.current_stream(self.dev)
            begin = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize(self.dev)
            begin.record(stream)
            fn()
            end.record(stream)
            end.synchronize()
            return float(begin.elapsed_time(end)) / 1e3

    def _randn(self, *shape: int) -> Any:
        return self.torch.randn(shape, generator=self.gen, device=self.dev, dtype=self.tdtype)

    def _chunk(self, batch: int, kv_heads: int, page_size: int, head_dim: int) -> int:
        per_page = 2 * batch * kv_heads * page_size * head_dim * self.elem_size
        return max(1, self.chunk_bytes // per_page)

    def decode_attention(
        self, q: Any, cache: PagedCache, top_pages: int | None = None, window: int = 0
    ) -> Any:
        torch = self.torch
        b, hkv, _, d = q.shape
        s = cache.page_size
        n = cache.page_table.shape[1]
        chunk = self._chunk(b, hkv, s, d)
        if top_pages is not None and top_pages * s + window < n * s:
            pages = select_pages(torch, q, cache, top_pages, window // s)
        else:
            pages = cache.page_table[:, None, :].expand(b, hkv, n)
        return paged_attention(torch, q, cache, pages, chunk)

    def prepare(self, case: Case) -> Callable[[], object]:
        torch, shape = self.torch, case.shape
        if case.kernel == "gemm":
            m, n, k = (int(shape[x]) for x in ("m", "n", "k"))
            a, b = self._randn(m, k), self._randn(k, n)
            c = torch.empty((m, n), dtype=self.tdtype, device=self.dev)
            return lambda: torch.matmul(a, b, out=c)
        if case.kernel == "stream":
            count = int(shape["bytes"]) // self.elem_size
            src = torch.empty(count, dtype=self.tdtype, device=self.dev).normal_(generator=self.gen)
            dst = torch.empty_like(src)
            return lambda: dst.copy_(src)
        if case.kernel == COMPOSITE:
            return DecodeLayer(self, shape).step
        cache = PagedCache(torch, self.gen, shape, self.tdtype, self.dev)
        hq, hkv = int(shape["q_heads"]), int(shape["kv_heads"])
        q = self._randn(int(shape["batch"]), hkv, hq // hkv, int(shape["head_dim"]))
        if case.kernel == "attention_decode_blocktopk":
            top, window = int(shape["top_pages"]), int(shape["window"])
            return lambda: self.decode_attention(q, cache, top, window)
        return lambda: self.decode_attention(q, cache)


class DecodeLayer:
    """Pre-norm SwiGLU decoder layer with GQA over the paged cache: numpy_backend.DecodeLayer in
    torch, with the same attribute names and the same step (the tests compare the two)."""

    def __init__(self, backend: TorchBackend, shape: Mapping[str, ShapeValue]):
        torch = backend.torch
        self.backend = backend
        self.b, self.h = int(shape["batch"]), int(shape["hidden"])
        self.hq, self.hkv = int(shape["q_heads"]), int(shape["kv_heads"])
        self.d, self.inter = int(shape["head_dim"]), int(shape["intermediate"])
        self.top_pages = int(shape["top_pages"]) if shape["attention"] == "block-topk" else None
        self.window = int(shape.get("window", 0))
        h, d, inter, randn = self.h, self.d, self.inter, backend._randn
        self.w_qkv = randn(h, (self.hq + 2 * self.hkv) * d) * h**-0.5
        self.w_o = randn(self.hq * d, h) * (self.hq * d) ** -0.5
        self.w_gate_up = randn(h, 2 * inter) * h**-0.5
        self.w_down = randn(inter, h) * inter**-0.5
        self.g_attn = torch.ones(h, dtype=backend.tdtype, device=backend.dev)
        self.g_mlp = torch.ones(h, dtype=backend.tdtype, device=backend.dev)
        self.cache = PagedCache(torch, backend.gen, shape, backend.tdtype, backend.dev)
        self.last_pages = self.cache.page_table[:, -1]
        self.x = randn(self.b, h)

    def _rms_norm(self, x: Any, gain: Any) -> Any:
        variance = x.float().pow(2).mean(-1, keepdim=True)
        return x * self.backend.torch.rsqrt(variance + 1e-6).to(x.dtype) * gain

    def step(self) -> Any:
        torch = self.backend.torch
        b, hq, hkv, d, inter = self.b, self.hq, self.hkv, self.d, self.inter
        x = self.x
        qkv = self._rms_norm(x, self.g_attn) @ self.w_qkv
        q = qkv[:, : hq * d].reshape(b, hkv, hq // hkv, d)
        k = qkv[:, hq * d : (hq + hkv) * d].reshape(b, hkv, d)
        v = qkv[:, (hq + hkv) * d :].reshape(b, hkv, d)
        slot = self.cache.page_size - 1
        self.cache.k_pages[self.last_pages, :, slot] = k
        self.cache.v_pages[self.last_pages, :, slot] = v
        attn = self.backend.decode_attention(q, self.cache, self.top_pages, self.window)
        x = x + attn.reshape(b, hq * d) @ self.w_o
        gate_up = self._rms_norm(x, self.g_mlp) @ self.w_gate_up
        gate, up = gate_up[:, :inter], gate_up[:, inter:]
        return x + (torch.nn.functional.silu(gate) * up) @ self.w_down
