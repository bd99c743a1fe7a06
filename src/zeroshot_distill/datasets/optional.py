"""Datasets that load ``None`` when nothing was saved yet.

For inputs that a pipeline may or may not have produced: ``best_prompt`` and
``opro_history`` are written by ``prompt_optimization`` and read by ``annotation`` and
``evaluation``, which also run without it (annotation then uses its configured template).
Same arguments as the wrapped kedro-datasets classes (versioning included)::

    best_prompt:
      type: zeroshot_distill.datasets.OptionalJSONDataset
      filepath: data/04_feature/best_prompt.json
      versioned: true
"""

from __future__ import annotations

from typing import Any

from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import ParquetDataset


class OptionalJSONDataset(JSONDataset):
    """``json.JSONDataset`` whose ``load`` returns ``None`` if no file (or version) exists."""

    def load(self) -> Any:
        """The saved JSON value, or ``None`` when there is none yet."""
        return super().load() if self._exists() else None


class OptionalParquetDataset(ParquetDataset):
    """``pandas.ParquetDataset`` whose ``load`` returns ``None`` if no file exists."""

    def load(self) -> Any:
        """The saved frame, or ``None`` when there is none yet."""
        return super().load() if self._exists() else None
