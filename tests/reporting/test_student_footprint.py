"""The student's trainable parameters, peak memory and adapter settings in the report and
in the headline (MLflow) metrics."""

from __future__ import annotations

import pytest

from zeroshot_distill.reporting import headline_metrics
from zeroshot_distill.reporting.sections import student_section
from zeroshot_distill.reporting.student_footprint import describe_adapters, student_footprint

LORA = {
    "method": "lora",
    "r": 8,
    "lora_alpha": 16.0,
    "lora_dropout": 0.05,
    "target_modules": ["q", "v"],
    "modules_to_save": ["lm_head"],
    "quantization": None,
    "merged": False,
}


def test_lora_student_footprint_rows_and_report_section():
    info = {
        "num_parameters": 1_000_000,
        "num_trainable_parameters": 25_000,
        "peak_memory_mb": 123.4,
        "peak_memory_kind": "cpu_peak_rss_growth",
        "peft": LORA,
    }
    rows = student_footprint(info, 999)
    assert rows["trainable_parameters"] == 25_000
    assert rows["trainable_percent"] == pytest.approx(2.5)
    assert rows["peak_memory_mb"] == pytest.approx(123.4)
    assert "resident memory" in rows["peak_memory_measure"]
    expected = "LoRA r=8, alpha=16, dropout=0.05 on q, v (+ lm_head trained in full)"
    assert rows["adapters"] == expected
    section = "\n".join(student_section({"parameters": 1_000_000, **rows}))
    assert "| trainable parameters | 25,000 |" in section
    assert "| trainable percent | 2.5 |" in section
    assert "LoRA r=8" in section


def test_full_fine_tuning_and_old_students():
    rows = student_footprint({"num_trainable_parameters": 10, "peft": None}, 10)
    assert rows["adapters"] == "none (full fine-tuning)"
    assert rows["trainable_percent"] == pytest.approx(100.0)
    assert student_footprint({}, 10) == {}  # trained before the figures were recorded


def test_qlora_and_merged_settings_are_named():
    text = describe_adapters({**LORA, "modules_to_save": [], "quantization": "4bit", "merged": 1})
    assert text.endswith("base quantized to 4bit (QLoRA), merged into the base")


def test_headline_metrics_carry_the_footprint():
    summary = {
        "student_model": {
            "parameters": 1000,
            "trainable_parameters": 40,
            "peak_memory_mb": 12.5,
            "adapters": "LoRA r=8",
        }
    }
    metrics = headline_metrics(summary)
    assert metrics["student_parameters"] == 1000
    assert metrics["student_trainable_parameters"] == 40
    assert metrics["student_peak_memory_mb"] == 12.5
