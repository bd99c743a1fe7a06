"""The command line entry point (``python -m zeroshot_distill.students.train``, torchrun)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from zeroshot_distill.students.train import main, parse_params

from .conftest import cue_rows


def test_parse_params_nests_and_types_like_kedro():
    assert parse_params("task_name=nli, training.max_steps=3,training.alpha=0.25") == {
        "task_name": "nli",
        "training": {"max_steps": 3, "alpha": 0.25},
    }


@pytest.mark.trains
def test_trains_from_a_parquet_with_the_project_parameters(tmp_path, project_root, nli_spec):
    frame = pd.concat(
        [
            cue_rows(8, nli_spec, prefix="t").assign(split="train"),
            cue_rows(4, nli_spec, prefix="v").assign(split="valid", rationale_target=None),
        ]
    )
    frame.to_parquet(tmp_path / "training_set.parquet")
    main(
        [
            "--training-set",
            str(tmp_path / "training_set.parquet"),
            "--output",
            str(tmp_path / "student"),
            "--conf",
            str(project_root / "conf"),
            "--params",
            "training.max_steps=2,training.eval_steps=2,training.progress_bar=false",
        ]
    )
    info = json.loads((tmp_path / "student" / "training_info.json").read_text())
    assert info["final_step"] == 2 and info["task"] == "nli" and info["n_train"] == 8
    assert (tmp_path / "student" / "model.safetensors").exists()
    assert (tmp_path / "student" / "training_history.csv").exists()
