"""Published figures to check the cost model against: reference rows with a reported ratio.

A reference row gives a configuration and the throughput ratio block top-k / dense a paper
reports for it (no absolute times): batch, `context` (cached tokens each decode step attends
over), tensor parallelism, page size, top pages and `local_pages` (always attended), and the
reported range. `gen_len`, when given, is the paper's name for the configuration. The prediction is the ratio of the roofline's decode-step
times (engine.roofline.decode_step, with the profile's calibration) for the decoder layer alone:
the LM head, which the paper's single-layer benchmark does not run, is left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinetics_cli.calibrate.kernels import show
from kinetics_cli.calibrate.measurements import read_jsonl
from kinetics_cli.errors import InputError
from kinetics_cli.specs import Architecture, Calibration, HardwareProfile, KernelFit, ModelCard

REFERENCE_KIND = "blocktopk_dense_throughput_ratio"
REQUIRED = (
    "reference",
    "hardware",
    "model",
    "architecture",
    "layers",
    "batch",
    "context",
    "tp",
    "page_size",
    "top_pages",
    "dtype",
    "reported_low",
    "reported_high",
    "source",
)
LEFT_OUT = ("lm head",)
# Largest median distance from a published range that counts as agreement: the roofline's
# ratios are read against a range that is itself a spread of measurements.
AGREEMENT_TOLERANCE = 0.10


@dataclass(frozen=True)
class ReferenceRow:
    """One published ratio and the configuration it was measured in."""

    hardware: str
    model: str
    architecture: Mapping[str, Any]
    layers: int
    batch: int
    context: int
    tp: int
    page_size: int
    top_pages: int
    dtype: str
    reported_low: float
    reported_high: float
    source: str
    local_pages: int = 0
    gen_len: int | None = None
    note: str = ""
    line: int = 0

    @property
    def kv_budget(self) -> int:
        """Tokens attended per step: the top pages plus the local pages, whole pages each."""
        return (self.top_pages + self.local_pages) * self.page_size

    def card(self) -> ModelCard:
        """The model with only the benchmarked layers."""
        arch = {**self.architecture, "layers": self.layers}
        try:
            return ModelCard(
                name=f"{self.model} ({self.layers} layer{'s' if self.layers > 1 else ''})",
                family="reference",
                sources=[self.source],
                architecture=Architecture.model_validate(arch),
            )
        except ValueError as exc:
            raise InputError(f"line {self.line}: architecture: {exc}") from None


# Largest whole numbers a reference row may give: layers of the benchmarked slice (the largest
# models have about a hundred), and every other count (batch, tokens, pages, GPUs).
MAX_LAYERS, MAX_COUNT = 1000, 2**40
MAX_RATIO = 1e6


def _int(doc: Mapping[str, Any], key: str, where: str, low: int = 1) -> int:
    """A whole number from `low` to its field's maximum."""
    value = doc.get(key, 0)
    high = MAX_LAYERS if key == "layers" else MAX_COUNT
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(
            f"{where}: field {key!r} must be a whole number from {low} to {high} "
            f"(got {show(value)})"
        )
    return value


def _count(doc: Mapping[str, Any], key: str, where: str) -> int:
    """An optional whole number >= 0 (0 when absent)."""
    return _int(doc, key, where, low=0)


def _ratio(doc: Mapping[str, Any], key: str, where: str) -> float:
    value = doc[key]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not 0 < value <= MAX_RATIO or (isinstance(value, float) and math.isnan(value)):
        raise InputError(
            f"{where}: field {key!r} must be a positive number up to {MAX_RATIO:g} "
            f"(got {show(value)})"
        )
    return float(value)


def read_references(path: Path) -> list[ReferenceRow]:
    """Read reference rows (JSON Lines); errors name the file, line and field."""
    rows = []
    for number, doc in read_jsonl(path, "reference"):
        where = f"{path}:{number}"
        missing = [k for k in REQUIRED if k not in doc]
        if missing:
            raise InputError(f"{where}: missing field(s) {', '.join(repr(k) for k in missing)}")
        if doc["reference"] != REFERENCE_KIND:
            raise InputError(f"{where}: field 'reference' must be {REFERENCE_KIND!r}")
        if not isinstance(doc["architecture"], dict):
            raise InputError(f"{where}: field 'architecture' must be an object")
        low, high = _ratio(doc, "reported_low", where), _ratio(doc, "reported_high", where)
        if high < low:
            raise InputError(f"{where}: reported_high is below reported_low")
        rows.append(
            ReferenceRow(
                hardware=str(doc["hardware"]),
                model=str(doc["model"]),
                architecture=doc["architecture"],
                layers=_int(doc, "layers", where),
                batch=_int(doc, "batch", where),
                context=_int(doc, "context", where),
                tp=_int(doc, "tp", where),
                page_size=_int(doc, "page_size", where),
                top_pages=_int(doc, "top_pages", where),
                dtype=str(doc["dtype"]),
                reported_low=low,
                reported_high=high,
                source=str(doc["source"]),
                local_pages=_count(doc, "local_pages", where),
                gen_len=_count(doc, "gen_len", where) or None,
                note=str(doc.get("note", "")),
                line=number,
            )
        )
    return rows


def is_reference_file(path: Path) -> bool:
    """Whether `path` holds reference rows (its first row has a `reference` field) rather than
    measurements; False also when it cannot be read, so that the measurement reader reports why."""
    try:
        first = read_jsonl(path, "measurement")[0][1]
    except InputError:
        return False
    return "reference" in first


@dataclass(frozen=True)
class ReferenceCheck:
    row: ReferenceRow
    dense_seconds: float
    sparse_seconds: float

    @property
    def predicted(self) -> float:
        """Predicted throughput ratio block top-k / dense (same batch, so a time ratio)."""
        return self.dense_seconds / self.sparse_seconds

    @property
    def error(self) -> float:
        """Relative distance from the reported range: 0 inside it, else to its nearer end."""
        low, high = self.row.reported_low, self.row.reported_high
        if self.predicted < low:
            return self.predicted / low - 1.0
        if self.predicted > high:
            return self.predicted / high - 1.0
        return 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.row.line,
            "model": self.row.model,
            "batch": self.row.batch,
            "context": self.row.context,
            "gen_len": self.row.gen_len,
            "tp": self.row.tp,
            "kv_budget": self.row.kv_budget,
            "dense_layer_seconds": self.dense_seconds,
            "blocktopk_layer_seconds": self.sparse_seconds,
            "predicted_ratio": self.predicted,
            "reported_low": self.row.reported_low,
            "reported_high": self.row.reported_high,
            "error": self.error,
        }


def layer_seconds(row: ReferenceRow, hardware: HardwareProfile, attention: str) -> float:
    """Roofline seconds of one decode step of the row's layers (LM head left out)."""
    from kinetics_cli.engine.roofline import decode_step

    report = decode_step(
        row.card(),
        hardware,
        batch=row.batch,
        context=row.context,
        tp=row.tp,
        attention=attention,
        kv_budget=None if attention == "dense" else float(row.kv_budget),
        block_size=row.page_size,
        dtype=row.dtype,
    )
    return sum(op.seconds for op in report.operators if op.name not in LEFT_OUT)


def check_reference(row: ReferenceRow, hardware: HardwareProfile) -> ReferenceCheck:
    return ReferenceCheck(
        row,
        layer_seconds(row, hardware, "dense"),
        layer_seconds(row, hardware, "block-topk"),
    )


def with_efficiencies(hardware: HardwareProfile, donor: HardwareProfile) -> HardwareProfile:
    """`hardware`'s peaks with `donor`'s fitted efficiencies and no per-call overheads.

    Shows what the efficiency gaps measured on one machine would do to another's prediction;
    overheads are left out because they are a property of the machine and software stack.
    """
    if donor.calibration is None:
        raise InputError(f"{donor.name} has no [calibration] table to take efficiencies from")
    c = donor.calibration
    kernels = {
        k: KernelFit(
            compute_efficiency=f.compute_efficiency, bandwidth_efficiency=f.bandwidth_efficiency
        )
        for k, f in c.kernels.items()
    }
    calibration = Calibration(
        compute_efficiency=c.compute_efficiency,
        bandwidth_efficiency=c.bandwidth_efficiency,
        kernels=kernels,
        source=c.source,
        checksum=c.checksum,
        date=c.date,
        backend=c.backend,
        device=c.device,
        note=f"efficiencies of {donor.name}, overheads left out",
    )
    doc = hardware.model_dump()
    doc.update(
        name=f"{hardware.name}+{donor.name}-efficiencies", aliases=[], calibration=calibration
    )
    return HardwareProfile.model_validate(doc)


def gap_reasons(
    checks: Sequence[tuple[ReferenceCheck, HardwareProfile]], donor: HardwareProfile | None = None
) -> list[str]:
    """Why predictions can sit outside their published ranges, from what is known about the rows
    and profiles: an uncalibrated profile, efficiencies measured on another machine (a CPU), and
    published ratios no roofline with one efficiency for both attention kernels can reach."""
    reasons: list[str] = []
    if donor is not None and donor.calibration is not None:
        c = donor.calibration
        cpu = "numpy" in c.backend or "cpu" in c.device.lower()
        hardware = ", ".join(dict.fromkeys(check.row.hardware for check, _ in checks))
        reasons.append(
            f"the efficiencies are {donor.name}'s, measured on {c.device} ({c.backend})"
            f"{', a CPU,' if cpu else ''} not on {hardware}"
        )
    uncalibrated = [p.name for _, p in checks if p.calibration is None]
    if donor is None and uncalibrated:
        reasons.append(
            f"{', '.join(dict.fromkeys(uncalibrated))} is priced from datasheet peaks (nothing "
            "measured on it), so dense and block top-k attention run at one fraction of bandwidth"
        )
    beyond = [
        check
        for check, _ in checks
        if check.predicted < check.row.reported_low
        and check.row.reported_low > check.row.context / check.row.kv_budget
    ]
    if beyond:
        bounds = ", ".join(dict.fromkeys(f"{c.row.context / c.row.kv_budget:.3g}x" for c in beyond))
        ranges = ", ".join(
            dict.fromkeys(f"{c.row.reported_low:g}-{c.row.reported_high:g}x" for c in beyond)
        )
        reasons.append(
            f"the published {ranges} exceeds context / KV budget ({bounds}), the most a roofline "
            "that reads less KV at equal efficiency can give: the published GPU kernels ran dense "
            "attention at a lower fraction of bandwidth than block top-k"
        )
    return reasons
