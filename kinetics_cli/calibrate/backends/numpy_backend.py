"""The calibration kernels in numpy (fp32, any CPU).

Decode attention reads a paged KV cache the way a GPU kernel does: the cache is a pool of pages
(page, kv head, token in page, dim) shared by all sequences, a page table maps each sequence to
its pages in a shuffled order, and attention walks a list of pages in chunks with an online
softmax, so only a chunk is ever gathered. Block top-k scores one mean-key summary per page,
keeps the best pages per KV head plus the local window, and runs the same paged attention over
that shorter list.
"""

from __future__ import annotations

import copy
import math
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from kinetics_cli.calibrate.kernels import COMPOSITE, Case, ShapeValue, attended_tokens

CHUNK_BYTES = 2 << 20  # K and V gathered per attention chunk, across the batch (fits in L2/L3)
DTYPE = np.float32
# Cache flush: read one value per cache line of a buffer the size of the last-level cache, at
# least FLUSH_MIN and at most FLUSH_MAX (docs/calibration.md, section 3, gives the measurements).
FLUSH_MIN, FLUSH_MAX = 64 << 20, 512 << 20
CACHE_LINE_BYTES = 64
FILL_BLOCK = 1 << 20  # elements of the random block large arrays repeat (fill)


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def _last_level_cache_bytes() -> int:
    """Size of the largest CPU cache from sysfs (0 when unknown)."""
    best = 0
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for entry in os.listdir(base):
            try:
                with open(f"{base}/{entry}/size", encoding="utf-8") as handle:
                    text = handle.read().strip()
            except OSError:
                continue
            scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
            digits = text.rstrip("KMG")
            if digits.isdigit():
                best = max(best, int(digits) * scale)
    except OSError:
        pass
    return best


def flush_bytes(last_level_cache: int) -> int:
    """Size of the buffer a flush reads: the last-level cache, within [FLUSH_MIN, FLUSH_MAX].

    Reading as many fresh bytes as the cache holds evicts what the previous call left there (on
    the 2-vCPU guest of docs/calibration.md, cold-call times after a flush of 1x and 3x the
    reported 260 MiB agree within noise, while 64 MiB leaves a 16 MiB GEMM's weights cached).
    The cap bounds time and memory where a virtual machine reports its host's whole cache.
    """
    return min(FLUSH_MAX, max(FLUSH_MIN, last_level_cache))


def fill(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A float32 array of standard-normal values; large arrays repeat a 1 Mi-element random block
    (values do not change the timing, and generating them all would dominate a quick run)."""
    size = math.prod(shape)
    block = rng.standard_normal(min(size, FILL_BLOCK), dtype=DTYPE)
    if block.size == size:
        return block.reshape(shape)
    out = np.empty(size, dtype=DTYPE)
    for start in range(0, size, block.size):
        stop = min(size, start + block.size)
        out[start:stop] = block[: stop - start]
    return out.reshape(shape)


def _openblas_thread_controls() -> list[tuple[object, object]]:
    """(get, set) thread-count functions of every OpenBLAS loaded in this process (Linux only)."""
    import ctypes

    paths = set()
    try:
        with open("/proc/self/maps", encoding="utf-8") as handle:
            for line in handle:
                path = line.split()[-1]
                if "openblas" in path.lower() and ".so" in path:
                    paths.add(path)
    except OSError:
        return []
    controls = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("openblas", "64_"), ("openblas", "")):
            getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if getter is not None and setter is not None:
                getter.restype = ctypes.c_int
                setter.argtypes = [ctypes.c_int]
                controls.append((getter, setter))
                break
    return controls


class SingleThreadedBlas:
    """Pins OpenBLAS to one thread while timing, and restores the previous count on close().

    On a small shared machine a multi-threaded GEMM whose threads must wait for a busy core runs
    up to tens of times slower, so the numpy backend measures one core. Other BLAS libraries
    (MKL, Accelerate) are left alone; set their *_NUM_THREADS=1 in the environment instead.
    """

    def __init__(self) -> None:
        self._saved = []
        for getter, setter in _openblas_thread_controls():
            self._saved.append((setter, getter()))  # type: ignore[operator]
            setter(1)  # type: ignore[operator]

    @property
    def pinned(self) -> bool:
        return bool(self._saved)

    def close(self) -> None:
        for setter, count in self._saved:
            setter(count)  # type: ignore[operator]
        self._saved = []


# ---------------------------------------------------------------------------------------------
# Paged KV cache and decode attention
# ---------------------------------------------------------------------------------------------


class PagedCache:
    """A pool of KV pages for `batch` sequences of `context` tokens, plus one key summary per page.

    k_pages, v_pages: (pages, kv_heads, page_size, head_dim); page_table: (batch, pages per
    sequence), a shuffled assignment as a paging allocator leaves it; summaries: the mean key of
    each page and KV head, kept up to date when a page fills (not part of a decode step).
    """

    def __init__(
        self,
        rng: np.random.Generator,
        batch: int,
        context: int,
        kv_heads: int,
        head_dim: int,
        page_size: int,
        storage: Callable[[Sequence[tuple[int, ...]]], list[np.ndarray]] | None = None,
    ):
        per_seq = context // page_size
        pool = batch * per_seq
        self.page_size = page_size
        pages = (pool, kv_heads, page_size, head_dim)
        if storage is not None:  # K and V in memory the caller provides (already filled)
            self.k_pages, self.v_pages = storage([pages, pages])
        else:
            self.k_pages, self.v_pages = fill(rng, pages), fill(rng, pages)
        self.page_table = rng.permutation(pool).reshape(batch, per_seq)
        self.summaries = self.k_pages.mean(axis=2)


def paged_attention(
    q: np.ndarray,
    k_pages: np.ndarray,
    v_pages: np.ndarray,
    pages: np.ndarray,
    chunk_pages: int,
) -> np.ndarray:
    """softmax(q K^T / sqrt(d)) V over the listed pages, one chunk of pages at a time.

    q: (batch, kv_heads, group, dim), the query heads grouped by the KV head they share;
    pages: (batch, kv_heads, n) page ids per sequence and KV head (dense attention passes the
    page table broadcast over heads). Online softmax: running max m, denominator l, output acc.
    """
    b, hkv, g, d = q.shape
    s = k_pages.shape[2]
    k_rows = k_pages.reshape(-1, s, d)  # one row per (page, KV head): page * kv_heads + head
    v_rows = v_pages.reshape(-1, s, d)
    rows = pages * hkv + np.arange(hkv)[None, :, None]
    scale = DTYPE(1.0 / math.sqrt(d))
    qs = q * scale
    m = np.full((b, hkv, g, 1), -np.inf, dtype=DTYPE)
    denom = np.zeros((b, hkv, g, 1), dtype=DTYPE)
    acc = np.zeros((b, hkv, g, d), dtype=DTYPE)
    n = pages.shape[-1]
    for start in range(0, n, chunk_pages):
        ids = rows[:, :, start : start + chunk_pages]
        c = ids.shape[-1]
        keys = np.take(k_rows, ids.reshape(-1), axis=0).reshape(b, hkv, c * s, d)
        values = np.take(v_rows, ids.reshape(-1), axis=0).reshape(b, hkv, c * s, d)
        scores = np.matmul(qs, keys.transpose(0, 1, 3, 2))
        m_new = np.maximum(m, scores.max(axis=-1, keepdims=True))
        p = np.exp(scores - m_new)
        correction = np.exp(m - m_new)
        denom = denom * correction + p.sum(axis=-1, keepdims=True)
        acc = acc * correction + np.matmul(p, values)
        m = m_new
    return acc / denom


def chunk_pages_for(batch: int, kv_heads: int, page_size: int, head_dim: int) -> int:
    """Pages per attention chunk so that K and V of one chunk, over the batch, stay near CHUNK_BYTES."""
    per_page = 2 * batch * kv_heads * page_size * head_dim * np.dtype(DTYPE).itemsize
    return max(1, CHUNK_BYTES // per_page)


def select_pages(q: np.ndarray, cache: PagedCache, top_pages: int, window_pages: int) -> np.ndarray:
    """Block top-k page choice: score every page summary with the group's queries (summed over
    the query heads of a KV head), keep the `top_pages` best outside the local window, then add
    the window's pages. Returns page ids (batch, kv_heads, top_pages + window_pages)."""
    table = cache.page_table
    b, n = table.shape
    summaries = cache.summaries[table]  # (batch, pages, kv_heads, dim)
    scores = np.matmul(q, summaries.transpose(0, 2, 3, 1)).sum(axis=2)  # (batch, kv_heads, pages)
    if window_pages:
        scores[:, :, n - window_pages :] = -np.inf
    top = np.argpartition(scores, n - top_pages, axis=-1)[:, :, n - top_pages :]
    local = np.broadcast_to(np.arange(n - window_pages, n), (*top.shape[:2], window_pages))
    positions = np.concatenate([top, local], axis=-1)
    return table[np.arange(b)[:, None, None], positions]


def decode_attention(
    q: np.ndarray,
    cache: PagedCache,
    *,
    top_pages: int | None = None,
    window: int = 0,
) -> np.ndarray:
    """Dense decode attention over every page, or block top-k when `top_pages` is given and the
    budget (top pages plus window) is short of the context."""
    b, hkv, _, d = q.shape
    s = cache.page_size
    n = cache.page_table.shape[1]
    chunk = chunk_pages_for(b, hkv, s, d)
    if top_pages is not None and top_pages * s + window < n * s:
        pages = select_pages(q, cache, top_pages, window // s)
    else:
        pages = np.broadcast_to(cache.page_table[:, None, :], (b, hkv, n))
    return paged_attention(q, cache.k_pages, cache.v_pages, pages, chunk)


# ---------------------------------------------------------------------------------------------
# The decoder layer of the composite decode step
# ---------------------------------------------------------------------------------------------


def rms_norm(x: np.ndarray, gain: np.ndarray) -> np.ndarray:
    return x * (gain / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + DTYPE(1e-6)))


class DecodeLayer:
    """Pre-norm SwiGLU decoder layer with GQA over a paged cache; `step` decodes one token for
    every sequence (the new K and V overwrite the last cache slot, so repeats see one context)."""

    def __init__(
        self,
        rng: np.random.Generator,
        shape: Mapping[str, ShapeValue],
        storage: Callable[[Sequence[tuple[int, ...]]], list[np.ndarray]] | None = None,
    ):
        self.b, self.h = int(shape["batch"]), int(shape["hidden"])
        self.hq, self.hkv = int(shape["q_heads"]), int(shape["kv_heads"])
        self.d, inter = int(shape["head_dim"]), int(shape["intermediate"])
        self.top_pages = int(shape["top_pages"]) if shape["attention"] == "block-topk" else None
        self.window = int(shape.get("window", 0))
        h, d = self.h, self.d
        self.w_qkv = fill(rng, (h, (self.hq + 2 * self.hkv) * d)) * DTYPE(h**-0.5)
        self.w_o = fill(rng, (self.hq * d, h)) * DTYPE((self.hq * d) ** -0.5)
        self.w_gate_up = fill(rng, (h, 2 * inter)) * DTYPE(h**-0.5)
        self.w_down = fill(rng, (inter, h)) * DTYPE(inter**-0.5)
        self.g_attn = np.ones(h, dtype=DTYPE)
        self.g_mlp = np.ones(h, dtype=DTYPE)
        self.inter = inter
        self.cache = PagedCache(
            rng, self.b, int(shape["context"]), self.hkv, d, int(shape["page_size"]), storage
        )
        table = self.cache.page_table
        self.last_pages = table[:, -1]
        self.x = fill(rng, (self.b, h))

    def with_attention(self, shape: Mapping[str, ShapeValue]) -> DecodeLayer:
        """The same layer (weights and cache shared, not copied) with `shape`'s attention: a dense
        and a block top-k step of one (batch, context) then need one cache between them."""
        twin = copy.copy(self)
        twin.top_pages = int(shape["top_pages"]) if shape["attention"] == "block-topk" else None
        twin.window = int(shape.get("window", 0))
        return twin

    def step(self) -> np.ndarray:
        b, hq, hkv, d = self.b, self.hq, self.hkv, self.d
        x = self.x
        qkv = rms_norm(x, self.g_attn) @ self.w_qkv
        q = qkv[:, : hq * d].reshape(b, hkv, hq // hkv, d)
        k = qkv[:, hq * d : (hq + hkv) * d].reshape(b, hkv, d)
        v = qkv[:, (hq + hkv) * d :].reshape(b, hkv, d)
        slot = self.cache.page_size - 1
        self.cache.k_pages[self.last_pages, :, slot] = k
        self.cache.v_pages[self.last_pages, :, slot] = v
        attn = decode_attention(q, self.cache, top_pages=self.top_pages, window=self.window)
        x = x + attn.reshape(b, hq * d) @ self.w_o
        gate_up = rms_norm(x, self.g_mlp) @ self.w_gate_up
        gate, up = gate_up[:, : self.inter], gate_up[:, self.inter :]
        act = gate / (DTYPE(1.0) + np.exp(-gate)) * up
        return x + act @ self.w_down


# ---------------------------------------------------------------------------------------------
# The backend
# ---------------------------------------------------------------------------------------------


def input_shapes(case: Case) -> list[tuple[int, ...]]:
    """Shapes of the large inputs of `case` the backend takes from its pool: the two matrices of
    a product, a copy's source and destination, the K and V pages of an attention cache."""
    shape = case.shape
    if case.kernel == "gemm":
        m, n, k = (int(shape[x]) for x in ("m", "n", "k"))
        return [(m, k), (k, n)]
    if case.kernel == "stream":
        count = int(shape["bytes"]) // np.dtype(DTYPE).itemsize
        return [(count,), (count,)]
    b, c, s = int(shape["batch"]), int(shape["context"]), int(shape["page_size"])
    pages = (b * (c // s), int(shape["kv_heads"]), s, int(shape["head_dim"]))
    return [pages, pages]


def _pool_elements(shapes: Sequence[tuple[int, ...]]) -> int:
    """Pool elements `shapes` take as views that each start on a multiple of FILL_BLOCK."""
    return sum(-(-math.prod(shape) // FILL_BLOCK) * FILL_BLOCK for shape in shapes)


class NumpyBackend:
    """Times the calibration kernels on this CPU in fp32, with a cold cache before every call."""

    name = "numpy"
    dtype = "fp32"
    gpu = False

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.device = _cpu_name()
        self._flush_size = flush_bytes(_last_level_cache_bytes())
        self._flush = np.empty(0, dtype=DTYPE)  # allocated by the first flush
        self._sink = 0.0
        self._blas = SingleThreadedBlas()
        # Inputs of the case being prepared are views of one random pool, allocated and filled
        # once: a run would otherwise spend seconds faulting in and filling fresh memory per case.
        self._pool = np.empty(0, dtype=DTYPE)
        self._layers: dict[tuple[tuple[str, ShapeValue], ...], DecodeLayer] = {}

    def describe(self) -> str:
        threads = "one BLAS thread" if self._blas.pinned else "BLAS threads as configured"
        return f"numpy {np.__version__} on {self.device}, fp32, {threads}"

    def close(self) -> None:
        """Give the BLAS its threads back and the memory of prepared cases."""
        self._blas.close()
        self._layers.clear()
        self._pool = np.empty(0, dtype=DTYPE)
        self._flush = np.empty(0, dtype=DTYPE)

    def flush(self) -> None:
        """Evict the CPU caches by reading one value per cache line of the flush buffer."""
        if not self._flush.size:
            self._flush = np.ones(self._flush_size // self._flush.itemsize, dtype=DTYPE)
        step = CACHE_LINE_BYTES // self._flush.itemsize
        self._sink += float(self._flush[::step].max())  # every line is read; the cheapest pass

    def reserve(self, cases: Sequence[Case]) -> None:
        """Size the input pool for the largest of `cases` before any is prepared, so that it never
        grows (and is never held twice) while prepared cases still use it."""
        need = max((_pool_elements(input_shapes(c)) for c in cases), default=0)
        if need > self._pool.size:
            self._pool = np.empty(0, dtype=DTYPE)  # free the old pool before filling the new one
            self._pool = fill(self.rng, (need,))

    def _inputs(self, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
        """Non-overlapping views of the random pool, one per shape, each starting on a multiple
        of FILL_BLOCK elements so that every view of a shape holds the same values and a copy
        between two views leaves the pool's values as they were."""
        need = _pool_elements(shapes)
        if need > self._pool.size:
            self._pool = np.empty(0, dtype=DTYPE)
            self._pool = fill(self.rng, (need,))
        views, start = [], 0
        for shape in shapes:
            size = math.prod(shape)
            views.append(self._pool[start : start + size].reshape(shape))
            start += -(-size // FILL_BLOCK) * FILL_BLOCK
        return views

    @property
    def clock(self) -> str:
        """'thread_cpu' when every kernel runs on the calling thread (BLAS pinned), else 'wall'."""
        return "thread_cpu" if self._blas.pinned else "wall"

    def time_call(self, fn: Callable[[], object]) -> float:
        """Seconds of one call. With BLAS on one thread every kernel runs on this thread, and its
        CPU time is the time the kernel had a core: the wall time on an idle machine, and still
        the kernel's own time when other processes take the core away (a shared 2-core runner).
        """
        if self.clock == "thread_cpu":
            start = time.thread_time()
            fn()
            return time.thread_time() - start
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    def prepare(self, case: Case) -> Callable[[], object]:
        """Allocate the inputs of `case` and return the call to time."""
        shape, rng = case.shape, self.rng
        if case.kernel == "gemm":
            a, b = self._inputs(input_shapes(case))
            c = np.empty((a.shape[0], b.shape[1]), dtype=DTYPE)
            return lambda: np.matmul(a, b, out=c)
        if case.kernel == "stream":
            src, dst = self._inputs(input_shapes(case))  # dst already holds src's values
            return lambda: np.copyto(dst, src)
        if case.kernel == COMPOSITE:
            return self._decode_layer(shape).step
        batch, hq, hkv, d = (int(shape[x]) for x in ("batch", "q_heads", "kv_heads", "head_dim"))
        cache = PagedCache(
            rng, batch, int(shape["context"]), hkv, d, int(shape["page_size"]), self._inputs
        )
        q = fill(rng, (batch, hkv, hq // hkv, d))
        if case.kernel == "attention_decode_blocktopk":
            top, window = int(shape["top_pages"]), int(shape["window"])
            assert attended_tokens(shape) <= int(shape["context"])
            return lambda: decode_attention(q, cache, top_pages=top, window=window)
        return lambda: decode_attention(q, cache)

    def _decode_layer(self, shape: Mapping[str, ShapeValue]) -> DecodeLayer:
        """The decode layer of `shape`; steps that differ only in their attention share one layer
        (weights and cache) until close(), since a run keeps its decode steps for its whole length.
        The cache's K and V pages are pool views, as every case's inputs: the cache of one
        layer overlaps another's and the inputs of the micro-kernels timed between its calls,
        which only ever write the values already there (a copy between aligned views) or one
        new token per sequence (the step's own cache write)."""
        key = tuple(
            sorted(
                (k, v) for k, v in shape.items() if k not in ("attention", "top_pages", "window")
            )
        )
        if key not in self._layers:
            self._layers[key] = DecodeLayer(self.rng, shape, self._inputs)
        return self._layers[key].with_attention(shape)
