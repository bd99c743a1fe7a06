"""Student models: loading, multi-task data and loss, training and batched inference."""

from zeroshot_distill.students.data import (
    EncodedExample,
    MultiTaskCollator,
    MultiTaskDataset,
    MultiTaskLengthSampler,
    TargetTooLongError,
    TaskPrefixes,
    encode_examples,
)
from zeroshot_distill.students.inference import (
    LABEL_DECODINGS,
    LabelReadout,
    accuracy,
    generate_rationales,
    generate_texts,
    label_log_probs,
    label_probabilities,
    predict_labels,
    read_labels,
    resolve_label_decoding,
)
from zeroshot_distill.students.loss import MultiTaskLoss, MultiTaskSeq2Seq, multitask_loss
from zeroshot_distill.students.model import (
    StudentBundle,
    StudentConfig,
    StudentLoadError,
    load_student,
)
from zeroshot_distill.students.trainer import (
    TrainingConfig,
    TrainingConfigError,
    TrainingResult,
    summary_metrics,
    train_from_training_set,
    train_student,
    train_student_model,
)

__all__ = [
    "LABEL_DECODINGS",
    "EncodedExample",
    "LabelReadout",
    "MultiTaskCollator",
    "MultiTaskDataset",
    "MultiTaskLengthSampler",
    "MultiTaskLoss",
    "MultiTaskSeq2Seq",
    "StudentBundle",
    "StudentConfig",
    "StudentLoadError",
    "TargetTooLongError",
    "TaskPrefixes",
    "TrainingConfig",
    "TrainingConfigError",
    "TrainingResult",
    "accuracy",
    "encode_examples",
    "generate_rationales",
    "generate_texts",
    "label_log_probs",
    "label_probabilities",
    "load_student",
    "multitask_loss",
    "predict_labels",
    "read_labels",
    "resolve_label_decoding",
    "summary_metrics",
    "train_from_training_set",
    "train_student",
    "train_student_model",
]
