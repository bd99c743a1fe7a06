"""Annotation end to end on small tables (simulated and HTTP teachers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from kedro.io import Version

from tests.teachers.helpers import (
    NLI_TASK,
    TEST_KEY,
    nli_answer,
    nli_examples,
    openai_config,
    row_id,
    simulated_config,
)
from zeroshot_distill import annotation as N
from zeroshot_distill.datasets.optional import OptionalJSONDataset
from zeroshot_distill.tasks.prompts import TemplateError
from zeroshot_distill.testing.stub_server import FaultRule, StubServer

CONTRACT = [
    "id", "teacher_label", "rationale", "raw_response", "parse_status", "prompt_tokens",
    "completion_tokens", "cost_usd", "latency_s", "cached", "model", "simulated", "split",
]  # fmt: skip


def run_nodes(
    examples: pd.DataFrame,
    teacher: dict[str, Any],
    annotation: dict[str, Any] | None = None,
    best_prompt: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any], pd.DataFrame]:
    params = {"progress": False, **(annotation or {})}
    prompt = N.select_template(examples, NLI_TASK, params, best_prompt, 42)
    plan = N.plan_annotation(examples, NLI_TASK, params, prompt, 42)
    estimate = N.estimate_annotation_cost(plan, examples, NLI_TASK, teacher, params)
    annotations, stats = N.annotate_examples(
        plan, examples, NLI_TASK, teacher, params, prompt, estimate
    )
    metrics = N.summarize_annotations(annotations, examples, stats)
    return annotations, {k: v[0]["value"] for k, v in metrics.items()}, prompt, plan


def test_simulated_end_to_end_and_cached_rerun(tmp_path: Path) -> None:
    examples = nli_examples(60, splits=("train", "valid", "test"))
    examples.loc[examples.index % 10 == 0, "gold_label"] = None
    teacher = simulated_config(tmp_path)
    annotations, metrics, prompt, _ = run_nodes(examples, teacher, {"rationale_fraction": 0.7})
    assert set(CONTRACT) <= set(annotations.columns)
    assert set(annotations["split"]) == {"train", "valid"}  # test is not annotated by default
    assert len(annotations) == 40
    assert annotations["simulated"].all() and prompt["source"] == "default"
    assert set(annotations["parse_status"]) <= {"ok", "no_label", "no_rationale"}
    no_gold = annotations["id"].isin(examples.loc[examples["gold_label"].isna(), "id"])
    assert (annotations.loc[no_gold, "parse_status"] == "no_label").all()
    kinds = annotations["prompt_kind"].value_counts()
    assert 0 < kinds["label_only"] < kinds["full"]
    assert 0.6 <= metrics["teacher_accuracy"] <= 1.0
    assert metrics["explanation_rate"] > 0.8 and metrics["cache_hit_rate"] == 0.0
    assert metrics["cost_usd"] > 0 and metrics["label_only_usd_saved"] > 0
    for name in ("parse_failure_rate", "mean_rationale_words", "throughput_rows_per_s",
                 "completion_tokens", "saved_usd"):  # fmt: skip
        assert name in metrics
    again, metrics2, _, _ = run_nodes(examples, teacher, {"rationale_fraction": 0.7})
    assert again["cached"].all() and metrics2["cost_usd"] == 0.0
    assert metrics2["saved_usd"] == pytest.approx(metrics["cost_usd"])
    pd.testing.assert_series_equal(again["teacher_label"], annotations["teacher_label"])
    annotations.to_parquet(tmp_path / "annotations.parquet")  # the catalog's format


def test_best_prompt_wins_unless_configured_and_is_validated(tmp_path: Path) -> None:
    examples = nli_examples(6)
    teacher = simulated_config(tmp_path)
    best = {
        "template": "P: {premise}\nH: {hypothesis}\nExplain, then Answer:",
        "template_id": "s3c2",
        "accuracy": 0.9,
        "explanation_rate": 0.95,
        "score": 0.9,
    }
    annotations, _, prompt, plan = run_nodes(examples, teacher, best_prompt=best)
    assert prompt["source"] == "best_prompt" and prompt["template_id"] == "s3c2"
    assert plan["messages"].iloc[0][-1]["content"].startswith("P: [r0]")
    assert (annotations["template_id"] == "s3c2").all()
    configured = N.select_template(examples, NLI_TASK, {"prompt_source": "configured"}, best, 1)
    assert configured["source"] == "default"
    with pytest.raises(N.AnnotationError, match="run the prompt_optimization pipeline first"):
        N.select_template(examples, NLI_TASK, {"prompt_source": "best_prompt"}, None, 1)
    with pytest.raises(TemplateError, match=r"missing \{hypothesis\}"):
        N.select_template(examples, NLI_TASK, {}, {"template": "only {premise}"}, 1)


def test_bad_parameters_fail_before_any_request(tmp_path: Path) -> None:
    examples = nli_examples(4)
    with pytest.raises(TemplateError, match=r"unknown \{premis\}"):
        N.select_template(examples, NLI_TASK, {"template": "{premis} {hypothesis}"}, None, 1)
    with pytest.raises(N.AnnotationError, match=r"annotation\.rationale_fraction"):
        N.select_template(examples, NLI_TASK, {"rationale_fraction": 1.5}, None, 1)
    with pytest.raises(N.AnnotationError, match=r"annotation\.splits"):
        N.plan_annotation(examples, NLI_TASK, {"splits": ["dev"]}, {}, 1)
    prompt = N.select_template(examples, NLI_TASK, {}, None, 1)
    with pytest.raises(N.AnnotationError, match=r"lacks column\(s\) \['hypothesis'\]"):
        N.plan_annotation(examples.drop(columns="hypothesis"), NLI_TASK, {}, prompt, 1)


def test_rationalize_labeled_and_few_shot_baseline(tmp_path: Path) -> None:
    examples = nli_examples(9)
    examples.loc[examples.index >= 6, "gold_label"] = None
    teacher = simulated_config(tmp_path)
    annotations, _, _, plan = run_nodes(examples, teacher, {"rationalize_labeled": True})
    given = annotations["prompt_kind"] == "rationalize"
    assert given.sum() == 6
    gold = examples.set_index("id")["gold_label"]
    assert (annotations.loc[given, "teacher_label"] == annotations.loc[given, "id"].map(gold)).all()
    assert "The correct answer is:" in plan["messages"].iloc[0][-1]["content"]
    few = N.select_template(examples, NLI_TASK, {"style": "few_shot_cot", "few_shot_k": 2}, None, 3)
    assert few["source"] == "few_shot_cot"
    assert few["template"].count("Explanation:") == 3


def test_http_teacher_with_faults_json_mode_and_no_secret_on_disk(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    examples = nli_examples(12)
    faults = [
        FaultRule("rate_limit", match="[r1]", retry_after_s=0.1),
        FaultRule("server_error", match="[r2]", times=None),
        FaultRule("refusal", match="[r3]"),
        FaultRule("truncated", match="[r4]"),
    ]
    with StubServer(nli_answer, faults=faults, api_key=TEST_KEY) as server:
        teacher = openai_config(server.base_url, tmp_path, max_retries=1)
        annotations, metrics, _, _ = run_nodes(examples, teacher, {"output_format": "json"})
        status = dict(zip(annotations["id"], annotations["parse_status"], strict=True))
        assert status["r2"] == "error" and status["r3"] == "refused"
        assert status["r4"] == "truncated"
        assert all(status[f"r{i}"] == "ok" for i in (0, 1, 5, 6, 7))
        assert annotations.loc[annotations["id"] == "r2", "error"].item().startswith("HTTP 500")
        assert metrics["status_error_rate"] == pytest.approx(1 / 12)
        assert not annotations["simulated"].any()
        first = {row_id(r.body) for r in server.chat_requests()}
        n_first = len(server.chat_requests())
        run_nodes(examples, teacher, {"output_format": "json"})
        resent = [row_id(r.body) for r in server.chat_requests()[n_first:]]
    assert len(first) == 12
    # Only the failed row and the non-final answers (refused, truncated) are asked again.
    assert set(resent) == {"r2", "r3", "r4"}
    annotations.to_parquet(tmp_path / "annotations.parquet")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TEST_KEY.encode() not in path.read_bytes(), path
    assert TEST_KEY not in caplog.text


def test_optional_best_prompt_dataset(tmp_path: Path) -> None:
    path = str(tmp_path / "best_prompt.json")
    assert OptionalJSONDataset(filepath=path, version=Version(None, None)).load() is None
    OptionalJSONDataset(filepath=path, version=Version(None, None)).save({"template": "x"})
    assert OptionalJSONDataset(filepath=path, version=Version(None, None)).load() == {
        "template": "x"
    }
    assert OptionalJSONDataset(filepath=str(tmp_path / "none.json")).load() is None


def test_dry_run_lists_the_largest_prompts_and_stops_oversized_ones(tmp_path: Path) -> None:
    examples = nli_examples(12)
    big = examples["id"].iat[3]
    examples.loc[3, "premise"] = "A long premise. " * 2_000  # ~8,000 tokens
    params = {"progress": False}
    prompt = N.select_template(examples, NLI_TASK, params, None, 42)
    plan = N.plan_annotation(examples, NLI_TASK, params, prompt, 42)
    teacher = simulated_config(tmp_path, max_prompt_tokens=20_000)
    estimate = N.estimate_annotation_cost(plan, examples, NLI_TASK, teacher, params)
    largest = estimate["largest_prompts"]
    assert largest[0]["id"] == big and largest[0]["prompt_tokens"] > 7_000
    assert largest[0]["share_of_cost"] > 0.5 > largest[1]["share_of_cost"]
    assert [p["prompt_tokens"] for p in largest] == sorted(
        (p["prompt_tokens"] for p in largest), reverse=True
    )

    with StubServer() as server:
        http = openai_config(server.base_url, tmp_path, max_prompt_tokens=4_000)
        with pytest.raises(N.AnnotationError, match=rf"1 annotation prompt.*id='{big}'"):
            N.estimate_annotation_cost(plan, examples, NLI_TASK, http, params)
        assert server.chat_requests() == []


def test_an_unreadable_teacher_raises_a_parse_alarm(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Answers in a style the parser cannot read: the run finishes, but loudly."""

    def mumbling(body: dict[str, Any]) -> str:
        return f"Hard to say for {row_id(body)}; it depends on many things we do not know here."

    examples = nli_examples(10)
    with StubServer(mumbling, api_key=TEST_KEY) as server:
        teacher = openai_config(server.base_url, tmp_path, max_retries=1)
        with caplog.at_level("WARNING"):
            annotations, metrics, _, _ = run_nodes(examples, teacher)
    assert (annotations["parse_status"] == "no_label").all()
    assert metrics["parse_alarm"] == 1.0 and metrics["no_label_share"] == 1.0
    warning = next(r.getMessage() for r in caplog.records if "PARSE ALARM" in r.getMessage())
    assert "no_label=10" in warning and "raw answer 3: Hard to say" in warning


def test_a_clean_annotation_raises_no_alarm(tmp_path: Path) -> None:
    with StubServer(nli_answer, api_key=TEST_KEY) as server:
        teacher = openai_config(server.base_url, tmp_path, max_retries=1)
        _, metrics, _, _ = run_nodes(nli_examples(6), teacher, {"alarm_share": 0.05})
    assert metrics["parse_alarm"] == 0.0 and metrics["status_rationale_missed_rate"] == 0.0


def test_json_annotation_falls_back_to_text_and_counts_it(tmp_path: Path) -> None:
    examples = nli_examples(6)
    with StubServer(nli_answer, api_key=TEST_KEY, structured=()) as server:
        teacher = openai_config(server.base_url, tmp_path, max_retries=1)
        annotations, metrics, _, plan = run_nodes(examples, teacher, {"output_format": "json"})
    assert plan["response_format"].map(lambda f: f["type"]).eq("json_schema").all()
    assert (annotations["parse_status"] == "ok").all()
    assert metrics["structured_requests"] == 6 and metrics["structured_fallbacks"] == 6


@pytest.mark.parametrize("reuse", [["ok"], ["ok", "refused"]])
def test_a_refusal_written_as_text_is_refused_and_asked_again(
    tmp_path: Path, reuse: list[str]
) -> None:
    """ "I'm sorry, I can't help with that" with finish reason `stop` and no label: before, it
    was cached as a final `ok` answer and never asked again."""
    refusing = {"r1", "r4"}

    def answer(body: dict[str, Any]) -> str:
        if row_id(body) in refusing:
            return "I’m sorry, but I can’t help with that."
        return str(nli_answer(body))

    examples = nli_examples(6)
    with StubServer(answer, api_key=TEST_KEY) as server:
        teacher = openai_config(
            server.base_url,
            tmp_path,
            cache={"path": str(tmp_path / "c.sqlite"), "reuse_statuses": reuse},
        )
        first = run_nodes(examples, teacher)[0].set_index("id")
        assert set(first.index[first["parse_status"] == "refused"]) == refusing
        server.reset_log()
        second = run_nodes(examples, teacher)[0].set_index("id")
        asked_again = {row_id(r.body) for r in server.chat_requests()}
    assert asked_again == (set() if "refused" in reuse else refusing)
    assert set(second.index[second["parse_status"] == "refused"]) == refusing


def test_an_answer_that_apologises_but_gives_a_label_is_not_a_refusal() -> None:
    from zeroshot_distill.tasks.parsing import parse_answer
    from zeroshot_distill.tasks.spec import TaskSpec

    text = "I'm sorry, but the premise says he is asleep.\nAnswer: contradiction"
    parsed = parse_answer(TaskSpec.from_params(NLI_TASK), text, None, status="ok")
    assert parsed.label == "contradiction" and parsed.status != "refused"
