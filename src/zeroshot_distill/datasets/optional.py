"""A JSON dataset that loads ``None`` when nothing was saved yet.

For inputs that a pipeline may or may not have produced: ``best_prompt`` is written by
``prompt_optimization`` and read by ``annotation``, which also runs alone (then it uses its
configured template). Same arguments as ``json.JSONDataset`` (versioning included)::

    best_prompt:
      type: zeroshot_distill.datasets.optional_json.OptionalJSONDataset
      filepath: data/04_feature/best_prompt.json
      versioned: true
"""

from __future__ import annotations

from typing import Any

from kedro_datasets.json import JSONDataset


class OptionalJSONDataset(JSONDataset):
    """``json.JSONDataset`` whose ``load`` returns ``None`` if no file (or version) exists."""

    def load(self) -> Any:
        """The saved JSON value, or ``None`` when there is none yet."""
        if not self._exists():
            return None
        return super().load()
