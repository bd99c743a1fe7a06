"""The student's model card: Hugging Face format, written at training, completed by the
evaluation into the student's folder, pushed to the Hub only on request."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from huggingface_hub import ModelCard
from kedro.io import DatasetError

from zeroshot_distill.datasets import ModelDirectoryDataset, StudentCardDataset
from zeroshot_distill.pipelines.evaluation.nodes import complete_model_card
from zeroshot_distill.reporting.model_card import StudentCard, student_model_card
from zeroshot_distill.students import load_student

INFO = {
    "task": "sentiment",
    "family": "seq2seq",
    "source": "google/flan-t5-small",
    "n_train": 200,
    "n_train_with_rationale": 60,
    "n_valid": 40,
    "alpha": 0.5,
    "num_parameters": 77_000_000,
    "wall_time_s": 420.0,
}
METRICS: dict[str, Any] = {
    "run": {
        "task": "sentiment",
        "task_kind": "classification",
        "task_description": "Review sentiment.",
        "labels": ["positive", "negative"],
        "teacher_backend": "simulated",
        "teacher_model": "simulated-teacher",
        "teacher_simulated": True,
        "split": "test",
        "generated_at": "2026-12-04 17:00 UTC",
    },
    "student": {"accuracy": 0.783, "n": 180},
    "teacher": {"accuracy": 0.86, "n": 50},
    "student_on_teacher_rows": {"accuracy": 0.78, "n": 50},
    "baselines": {
        "majority": 0.517,
        "majority_label": "positive",
        "chance": 0.5,
        "beats_majority": True,
    },
    "break_even": {"predictions": 2134},
    "student_model": {**INFO, "parameters": 77_000_000},
}
TASK = {"name": "sentiment", "input_fields": ["text"], "labels": ["positive", "negative"]}


def test_training_card_is_a_hub_card_with_what_training_knows() -> None:
    card = ModelCard(student_model_card(INFO, directory="/models/s"))
    assert card.data.library_name == "transformers"
    assert card.data.base_model == "google/flan-t5-small"
    assert card.data.pipeline_tag == "text2text-generation"
    assert "distillation" in card.data.tags
    assert "| explanation rate | 30.0% |" in card.text
    assert "Not evaluated yet" in card.text
    assert "make serve STUDENT=/models/s" in card.text


def test_evaluated_card_has_teacher_labels_accuracy_and_says_simulated() -> None:
    card = ModelCard(
        student_model_card(INFO, evaluation=METRICS, task=TASK, directory="/m", license="mit")
    )
    assert card.data.license == "mit"
    assert "simulated-teacher" in card.data.tags
    (result,) = card.data.eval_results
    assert (result.metric_type, result.metric_value) == ("accuracy", 0.783)
    text = card.text
    assert "simulated teacher — a test double" in text
    assert "Labels: `positive`, `negative`." in text
    assert "| teacher (simulated-teacher), same rows | 86.0% |" in text
    assert "majority-class baseline (always `positive`) | 51.7% |" in text
    assert "The student **beat** the majority-class baseline." in text
    assert "after 2,134 predictions" in text
    assert '{"dataframe_records": [{"text": "..."}]}' in text


def test_a_random_student_has_no_base_model_and_a_failed_one_is_flagged() -> None:
    random_info = {**INFO, "source": "random-init T5"}
    failed = {**METRICS, "baselines": {**METRICS["baselines"], "beats_majority": False}}
    card = ModelCard(student_model_card(random_info, evaluation=failed))
    assert card.data.base_model is None
    assert "did **NOT** beat the majority-class baseline" in card.text


def test_training_writes_the_card_and_evaluation_completes_it(tmp_path: Path) -> None:
    bundle = load_student(
        {"architecture": {"d_model": 16, "d_ff": 32, "d_kv": 8, "num_heads": 2, "num_layers": 1}},
        seed=0,
    )
    bundle.info.update(INFO)
    ModelDirectoryDataset(filepath=str(tmp_path / "student")).save(bundle)
    written = (tmp_path / "student" / "README.md").read_text()
    assert "Not evaluated yet" in written

    loaded = ModelDirectoryDataset(filepath=str(tmp_path / "student")).load()
    assert loaded.directory == str((tmp_path / "student").resolve())
    metrics = {**METRICS, "student_model": {**INFO, "directory": loaded.directory}}
    card = complete_model_card(metrics, TASK, {"model_card": {"license": "apache-2.0"}})
    assert card.push_to_hub == {}
    dataset = StudentCardDataset()
    dataset.save(card)
    completed = ModelCard.load(tmp_path / "student" / "README.md")
    assert completed.data.license == "apache-2.0"
    assert "| student, all 180 test rows | 78.3% |" in completed.text
    assert dataset.load() == (tmp_path / "student" / "README.md").read_text()


class FakeHub:
    """Stands in for ``huggingface_hub.HfApi`` at the network boundary."""

    calls: ClassVar[list[tuple[str, dict]]] = []

    def create_repo(self, repo_id: str, **kwargs: Any) -> None:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))

    def upload_folder(self, **kwargs: Any) -> Any:
        self.calls.append(("upload_folder", kwargs))
        return type("Commit", (), {"commit_url": "https://huggingface.co/me/s/commit/1"})()


def test_push_to_hub_only_when_enabled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHub)
    FakeHub.calls = []
    folder = tmp_path / "student"
    folder.mkdir()
    StudentCardDataset().save(StudentCard(str(folder), "card", {"enabled": False}))
    assert FakeHub.calls == []  # off by default: no network

    push = {"enabled": True, "repo_id": "me/s", "private": True}
    StudentCardDataset().save(StudentCard(str(folder), "card", push))
    assert [name for name, _ in FakeHub.calls] == ["create_repo", "upload_folder"]
    assert FakeHub.calls[0][1] == {"repo_id": "me/s", "private": True, "exist_ok": True}
    assert FakeHub.calls[1][1]["folder_path"] == str(folder)
    assert (folder / "README.md").read_text() == "card"

    with pytest.raises(DatasetError, match="repo_id"):
        StudentCardDataset().save(StudentCard(str(folder), "card", {"enabled": True}))
