"""Peak memory of a block of work (training), comparable between runs on one kind of device.

- CUDA: ``torch.cuda.max_memory_allocated`` over the block (the peak resets at its start):
  weights, gradients, optimizer state and activations that torch allocated on the GPU.
- CPU (Linux): the growth of the process's peak resident set size over the block: the
  kernel's high-water mark (``VmHWM``) is reset at the start (``/proc/self/clear_refs``)
  and read at the end, minus the resident size at the start. So the weights loaded before
  the block do not count; gradients, optimizer state, activations and allocator caches do.
- Elsewhere: growth of ``getrusage`` ``ru_maxrss`` (0 when an earlier peak was higher).
"""

from __future__ import annotations

import resource
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import torch

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass
class PeakMemory:
    """Context manager: ``with PeakMemory() as meter: ...``; then ``meter.peak_mb`` and
    ``meter.kind`` (``cuda_max_allocated`` | ``cpu_peak_rss_growth`` |
    ``cpu_maxrss_growth``)."""

    peak_mb: float = 0.0
    kind: str = ""
    _start_bytes: int = 0

    def __enter__(self) -> PeakMemory:
        if torch.cuda.is_available():
            self.kind = "cuda_max_allocated"
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        elif _reset_high_water_mark():
            self.kind = "cpu_peak_rss_growth"
            self._start_bytes = _status_bytes("VmRSS")
        else:
            self.kind = "cpu_maxrss_growth"
            self._start_bytes = _maxrss_bytes()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.kind == "cuda_max_allocated":
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated()
        elif self.kind == "cpu_peak_rss_growth":
            peak = _status_bytes("VmHWM") - self._start_bytes
        else:
            peak = _maxrss_bytes() - self._start_bytes
        self.peak_mb = max(peak, 0) / 2**20


def _reset_high_water_mark() -> bool:
    """Reset the process's peak RSS (Linux >= 4.0); False where that is not possible."""
    try:
        _CLEAR_REFS.write_text("5")
        return _status_bytes("VmHWM") > 0
    except OSError:
        return False


def _status_bytes(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # reported in kB
    raise OSError(f"{field} not in {_STATUS}")


def _maxrss_bytes() -> int:
    value = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024  # bytes on macOS, kB elsewhere
