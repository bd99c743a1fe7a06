"""A read-only Kedro dataset for task data on the Hugging Face hub.

It loads several hub splits with ``datasets.load_dataset`` and returns one DataFrame with a
``split`` column (train / valid / test), in the same raw shape as the bundled JSONL files:
``id``, the task's input fields, ``label``, ``explanation``. Presets reshape the known
sources (ANLI, e-SNLI, CommonsenseQA, SVAMP); other datasets come through as they are and
are mapped with ``data_processing.column_mapping``.

This needs network access to the hub (or a warm ``HF_HOME`` cache); this repository's tests
run offline and exercise only the presets' reshaping on in-memory frames.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

NLI_LABELS = {0: "entailment", 1: "neutral", 2: "contradiction"}


def _anli(df: pd.DataFrame) -> pd.DataFrame:
    out = df.rename(columns={"uid": "id", "reason": "explanation"})
    out["label"] = out["label"].map(NLI_LABELS)
    return out[["id", "premise", "hypothesis", "label", "explanation"]]


def _esnli(df: pd.DataFrame) -> pd.DataFrame:
    out = df.rename(columns={"explanation_1": "explanation"})
    # e-SNLI marks pairs without annotator agreement with -1: no gold label.
    out["label"] = out["label"].map(NLI_LABELS)
    return out[["premise", "hypothesis", "label", "explanation"]]


def _commonsense_qa(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "id": df["id"],
            "question": df["question"],
            "choices": [list(c["text"]) for c in df["choices"]],
            # The hub's test split has no answers: an empty answerKey means unlabeled.
            "label": [str(k).lower() if k else None for k in df["answerKey"]],
        }
    )
    return out


def _svamp(df: pd.DataFrame) -> pd.DataFrame:
    body = df["Body"].astype(str).str.strip()
    question = df["Question"].astype(str).str.strip()
    return pd.DataFrame(
        {
            "id": df["ID"],
            "question": (body.str.rstrip(".") + ". " + question).str.strip(),
            "label": df["Answer"],
            "explanation": "The equation is " + df["Equation"].astype(str).str.strip() + ".",
        }
    )


PRESETS: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "anli": _anli,
    "esnli": _esnli,
    "commonsense_qa": _commonsense_qa,
    "svamp": _svamp,
}


class HuggingFaceTaskDataset(AbstractDataset[None, pd.DataFrame]):
    """Load task rows from the hub, several splits at once, into one DataFrame.

    Example catalog entry (ANLI round 1)::

        raw_examples:
          type: zeroshot_distill.datasets.HuggingFaceTaskDataset
          dataset_name: facebook/anli
          preset: anli
          splits: {train: train_r1, valid: dev_r1, test: test_r1}
    """

    def __init__(
        self,
        *,
        dataset_name: str,
        splits: Mapping[str, str],
        config_name: str | None = None,
        preset: str | None = None,
        load_args: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if preset is not None and preset not in PRESETS:
            raise DatasetError(f"unknown preset {preset!r}; known: {sorted(PRESETS)}")
        unknown = sorted(set(splits) - {"train", "valid", "test"})
        if unknown:
            raise DatasetError(f"splits keys must be train/valid/test, got {unknown}")
        self._dataset_name = dataset_name
        self._config_name = config_name
        self._splits = dict(splits)
        self._preset = preset
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        """Download (or read from the local HF cache) and reshape every configured split."""
        import datasets  # imported lazily: heavy, and only this source needs it

        frames = []
        for split, hub_split in self._splits.items():
            try:
                part = datasets.load_dataset(
                    self._dataset_name, self._config_name, split=hub_split, **self._load_args
                ).to_pandas()
            except Exception as err:  # the hub client raises many types; name the source
                raise DatasetError(
                    f"could not load {self._dataset_name!r} split {hub_split!r} from the "
                    f"Hugging Face hub ({type(err).__name__}: {err}). Offline? Set HF_HOME to "
                    "a cache that has it, or use a local file source."
                ) from err
            frames.append(self.reshape(part, split))
        return pd.concat(frames, ignore_index=True)

    def reshape(self, frame: pd.DataFrame, split: str) -> pd.DataFrame:
        """Apply the preset to one hub split and tag it with our split name."""
        out = PRESETS[self._preset](frame) if self._preset else frame.copy()
        out["split"] = split
        return out

    def save(self, data: None) -> None:
        raise DatasetError(f"{type(self).__name__} is read-only")

    def _describe(self) -> dict[str, Any]:
        return {
            "dataset_name": self._dataset_name,
            "config_name": self._config_name,
            "splits": self._splits,
            "preset": self._preset,
        }
