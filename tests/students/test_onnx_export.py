"""ONNX export: the exported graph scores every candidate label as the PyTorch student does,
for each family and each kind of label-set task; int8 too; refusals are clear."""

from __future__ import annotations

import numpy as np
import pytest

from zeroshot_distill.students import label_log_probs, load_student, read_labels
from zeroshot_distill.students.onnx_export import (
    EXPORT_INFO_FILE,
    FP32_FILE,
    INT8_FILE,
    OnnxExportError,
    OnnxStudent,
    export_student,
)
from zeroshot_distill.tasks.spec import TaskSpec

STUDENTS = {
    "t5": {"architecture": {"d_model": 16, "d_ff": 32, "d_kv": 8, "num_heads": 2, "num_layers": 1}},
    "encoder": {
        "family": "encoder",
        "architecture": {
            "model_type": "bert",
            "hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 32,
        },
        "decoder": {"num_hidden_layers": 1},
    },
    "qwen2": {
        "architecture": {
            "model_type": "qwen2",
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
        },
        "chat_template": "none",
    },
}
NLI = TaskSpec(
    name="nli",
    kind="classification",
    description="NLI",
    input_fields=["premise", "hypothesis"],
    labels=["entailment", "neutral", "contradiction"],
)
NLI_ROWS = [
    {"premise": "A dog runs in the park.", "hypothesis": "An animal moves."},
    {"premise": "Two men sit.", "hypothesis": "Four men sit on a long bench by the sea."},
    {"premise": "It rains.", "hypothesis": "Wet."},
]
CQA = TaskSpec(
    name="cqa",
    kind="multiple_choice",
    description="QA",
    input_fields=["question", "choices"],
    n_choices=3,
)
CQA_ROWS = [
    {"question": "Where do you mail a letter?", "choices": ["post office", "zoo", "sea"]},
    {"question": "What do you drink?", "choices": ["rock", "water", "a very long sand dune"]},
]


@pytest.fixture(scope="module", params=sorted(STUDENTS))
def exported(request, tmp_path_factory):
    """Each family's tiny student and its export (fp32 and int8) on disk."""
    student = load_student(STUDENTS[request.param], seed=0)
    directory = tmp_path_factory.mktemp(f"onnx_{request.param}")
    export_student(student).save(directory)
    return student, directory


@pytest.mark.parametrize(("spec", "rows"), [(NLI, NLI_ROWS), (CQA, CQA_ROWS)], ids=["nli", "mc"])
def test_the_exported_graph_scores_like_pytorch(exported, spec, rows):
    student, directory = exported
    onnx_student = OnnxStudent(directory, num_threads=1)
    expected = label_log_probs(student.model, student.tokenizer, spec, rows, batch_size=2)
    got = label_log_probs(onnx_student, onnx_student.tokenizer, spec, rows, batch_size=2)
    assert got.shape == (len(rows), len(spec.label_set))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_the_int8_variant_has_int8_matmuls_and_reads_valid_labels(exported):
    import onnx

    _, directory = exported
    ops = {node.op_type for node in onnx.load(directory / INT8_FILE).graph.node}
    assert {"MatMulInteger", "DynamicQuantizeLinear"} <= ops
    assert "MatMulInteger" not in {n.op_type for n in onnx.load(directory / FP32_FILE).graph.node}
    assert (directory / EXPORT_INFO_FILE).exists()
    int8 = OnnxStudent(directory, variant="int8", num_threads=1)
    readout = read_labels(int8, int8.tokenizer, NLI, NLI_ROWS, batch_size=2)
    assert set(readout.labels) <= set(NLI.label_set)
    np.testing.assert_allclose(readout.probabilities.sum(axis=1), 1.0, rtol=1e-6)


def test_generation_and_numeric_tasks_are_refused_on_the_graph(exported):
    _, directory = exported
    onnx_student = OnnxStudent(directory, num_threads=1)
    with pytest.raises(ValueError, match=r"predict\.runtime: torch"):
        read_labels(onnx_student, onnx_student.tokenizer, NLI, NLI_ROWS, decoding="generate")
    svamp = TaskSpec(name="svamp", kind="numeric", description="math", input_fields=["question"])
    with pytest.raises(ValueError, match="numeric"):
        read_labels(onnx_student, onnx_student.tokenizer, svamp, [{"question": "1+1?"}])


def test_unknown_variants_and_missing_graphs_name_the_fix(tmp_path, exported):
    _, directory = exported
    with pytest.raises(OnnxExportError, match="onnx_variant"):
        OnnxStudent(directory, variant="fp16")
    with pytest.raises(OnnxExportError, match="--pipelines=export"):
        OnnxStudent(tmp_path)


def test_a_lora_student_is_exported_merged_and_left_unchanged():
    from zeroshot_distill.students.adapters import PeftSettings, attach_adapters

    student = load_student(STUDENTS["t5"], seed=0)
    adapted = attach_adapters(
        student, PeftSettings(method="lora", r=2, lora_alpha=4, target_modules="auto")
    )
    export = export_student(adapted, quantize=False)
    assert export.int8 is None and len(export.fp32) > 0
    assert hasattr(adapted.model, "peft_config")  # merged a copy, not the student


def test_a_quantized_student_is_refused_naming_the_parameter():
    student = load_student(STUDENTS["t5"], seed=0)
    student.model.is_loaded_in_4bit = True
    with pytest.raises(OnnxExportError, match=r"training\.peft\.quantization"):
        export_student(student)


def test_a_classifier_student_is_refused_with_the_way_to_export_it():
    classifier = load_student(
        {
            "architecture": {
                "model_type": "bert",
                "hidden_size": 32,
                "num_hidden_layers": 1,
                "num_attention_heads": 4,
                "intermediate_size": 64,
            }
        },
        seed=0,
        labels=["entailment", "neutral", "contradiction"],
    )
    assert classifier.family == "classifier"
    with pytest.raises(OnnxExportError, match=r"predict\.runtime: torch.*optimum-cli"):
        export_student(classifier)
