"""The annotation pipeline's wiring: node order, and the summary reads this run's table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.teachers.helpers import NLI_TASK, nli_examples, simulated_config
from zeroshot_distill import annotation as N
from zeroshot_distill.pipelines.annotation import create_pipeline


def test_pipeline_wiring() -> None:
    pipeline = create_pipeline()
    assert pipeline.inputs() == {
        "examples", "best_prompt", "params:task", "params:teacher", "params:annotation",
        "params:seed",
    }  # fmt: skip
    assert {
        "annotations",
        "annotation_metrics",
        "annotation_cost_estimate",
    } <= pipeline.all_outputs()
    names = [node.name for node in pipeline.nodes]
    assert names.index("estimate_annotation_cost") < names.index("annotate_examples")


def test_the_summary_reads_the_table_this_run_wrote(tmp_path: Path) -> None:
    """Not the latest `annotations` version on disk, which a concurrent run may have written."""
    pipeline = create_pipeline()
    annotate = next(n for n in pipeline.nodes if n.name == "annotate_examples")
    summary = next(n for n in pipeline.nodes if n.name == "summarize_annotations")
    assert "annotations" not in summary.inputs
    in_memory = summary.inputs[0]  # the annotations table
    assert in_memory in annotate.outputs
    assert in_memory != "annotations" and in_memory not in _catalog_entries()
    examples = nli_examples(6)
    prompt = N.select_template(examples, NLI_TASK, {}, None, 0)
    plan = N.plan_annotation(examples, NLI_TASK, {"progress": False}, prompt, 0)
    outputs = annotate.run(
        {
            "annotation_plan": plan,
            "examples": examples,
            "params:task": NLI_TASK,
            "params:teacher": simulated_config(tmp_path),
            "params:annotation": {"progress": False},
            "annotation_prompt": prompt,
            "annotation_cost_estimate": None,
        }
    )
    pd.testing.assert_frame_equal(outputs["annotations"], outputs[in_memory])


def _catalog_entries() -> set[str]:
    import yaml

    root = Path(__file__).resolve().parents[3] / "conf" / "base"
    entries: set[str] = set()
    for path in root.glob("catalog*.yml"):
        entries |= set(yaml.safe_load(path.read_text()) or {})
    return entries
