"""The student's training footprint for the report: trainable parameters, peak memory and
the adapter settings (LoRA) it trained with, from its saved training summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: What ``peak_memory_mb`` measured, per ``peak_memory_kind`` (see students/memory.py).
MEMORY_MEASURES = {
    "cuda_max_allocated": "GPU memory allocated by torch (peak)",
    "cpu_peak_rss_growth": "growth of the process's peak resident memory (CPU)",
    "cpu_maxrss_growth": "growth of the process's max resident memory (CPU)",
}


def student_footprint(info: Mapping[str, Any], num_parameters: int) -> dict[str, Any]:
    """Report rows: ``trainable_parameters``, ``trainable_percent``, ``peak_memory_mb``
    (with what it measured) and ``adapters`` (``none (full fine-tuning)`` or the LoRA
    settings). Figures a student trained before they were recorded are left out."""
    rows: dict[str, Any] = {}
    trainable = info.get("num_trainable_parameters")
    if trainable is not None:
        total = int(info.get("num_parameters") or num_parameters)
        rows["trainable_parameters"] = int(trainable)
        rows["trainable_percent"] = 100.0 * int(trainable) / total if total else None
    if info.get("peak_memory_mb") is not None:
        rows["peak_memory_mb"] = float(info["peak_memory_mb"])
        kind = str(info.get("peak_memory_kind") or "")
        rows["peak_memory_measure"] = MEMORY_MEASURES.get(kind, kind or "?")
    if "peft" in info or trainable is not None:
        rows["adapters"] = describe_adapters(info.get("peft"))
    return rows


def describe_adapters(peft: Mapping[str, Any] | None) -> str:
    """``LoRA r=8, alpha=16, dropout=0.05 on q, v (+ lm_head trained in full)`` etc."""
    if not peft:
        return "none (full fine-tuning)"
    targets = peft.get("target_modules")
    targets = ", ".join(targets) if isinstance(targets, list) else str(targets)
    text = (
        f"{str(peft.get('method', 'lora')).upper().replace('LORA', 'LoRA')} "
        f"r={peft.get('r')}, alpha={peft.get('lora_alpha'):g}, "
        f"dropout={peft.get('lora_dropout'):g} on {targets}"
    )
    if peft.get("modules_to_save"):
        text += f" (+ {', '.join(peft['modules_to_save'])} trained in full)"
    if peft.get("quantization"):
        text += f", base quantized to {peft['quantization']} (QLoRA)"
    if peft.get("merged"):
        text += ", merged into the base"
    return text
