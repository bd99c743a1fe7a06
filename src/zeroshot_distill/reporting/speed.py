"""Timing a model on this machine: throughput of batched calls, latency of single calls."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")


def timed_batches(
    fn: Callable[[Sequence[T]], Sequence[R]], items: Sequence[T], batch_size: int
) -> tuple[list[R], list[float]]:
    """Call ``fn`` on consecutive batches of ``items``; return all outputs and each batch's seconds.

    ``fn`` must return one output per item, in order.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    outputs: list[R] = []
    seconds: list[float] = []
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        began = time.perf_counter()
        result = list(fn(batch))
        seconds.append(time.perf_counter() - began)
        if len(result) != len(batch):
            raise ValueError(f"fn returned {len(result)} outputs for a batch of {len(batch)}")
        outputs.extend(result)
    return outputs, seconds


@dataclass(frozen=True)
class SpeedStats:
    """Throughput and latency of a model on one machine.

    ``examples_per_s`` comes from batched calls of ``batch_size``; the latencies from
    ``latency_n`` single-example calls (what one online request waits), after a warm-up.
    """

    n_examples: int
    batch_size: int
    total_s: float
    examples_per_s: float
    latency_n: int
    latency_p50_ms: float
    latency_p95_ms: float
    device: str

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


def speed_stats(
    n_examples: int,
    batch_seconds: Sequence[float],
    single_seconds: Sequence[float],
    *,
    batch_size: int,
    device: str = "",
) -> SpeedStats:
    """Summarise timings from :func:`timed_batches` and single calls into :class:`SpeedStats`."""
    total = float(sum(batch_seconds))
    latencies_ms = np.asarray(single_seconds, dtype=float) * 1000.0
    has_latency = latencies_ms.size > 0
    return SpeedStats(
        n_examples=int(n_examples),
        batch_size=int(batch_size),
        total_s=total,
        examples_per_s=n_examples / total if total > 0 else math.nan,
        latency_n=int(latencies_ms.size),
        latency_p50_ms=float(np.percentile(latencies_ms, 50)) if has_latency else math.nan,
        latency_p95_ms=float(np.percentile(latencies_ms, 95)) if has_latency else math.nan,
        device=device,
    )


def timed_reading(
    read: Callable[[Sequence[T]], R],
    records: Sequence[T],
    *,
    latency_samples: int,
    batch_size: int,
    device: str,
) -> tuple[R, SpeedStats]:
    """``read(records)`` timed as one batched pass after a one-row warm-up (lazy
    initialisation, allocator), then ``latency_samples`` single-row calls for the latency
    percentiles: the student's speed as the evaluation and the comparison report it."""
    read(records[:1])
    began = time.perf_counter()
    result = read(records)
    total_s = time.perf_counter() - began
    single_seconds = []
    for record in records[:latency_samples]:
        began = time.perf_counter()
        read([record])
        single_seconds.append(time.perf_counter() - began)
    speed = speed_stats(
        len(records), [total_s], single_seconds, batch_size=batch_size, device=device
    )
    return result, speed


def device_name(model: Any) -> str:
    """Where a model runs, for speed figures: ``cpu (N threads)`` or the GPU's name."""
    import torch

    device = getattr(model, "device", "cpu")
    if str(device).startswith("cpu"):
        return f"cpu ({torch.get_num_threads()} threads)"
    if str(device).startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)
