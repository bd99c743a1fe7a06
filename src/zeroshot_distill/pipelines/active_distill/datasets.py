"""The catalog entry for active distillation's resumable round state.

``load()`` hands the node a :class:`RoundStoreRoot`, a handle on the folder where every
finished round is checkpointed (see :mod:`zeroshot_distill.active.store`). It is not
versioned on purpose: it is the working state a killed run resumes from, one sub-folder per
configuration fingerprint. The versioned per-round *outputs* are ordinary catalog entries
(``active_distill_rounds`` …). The node writes through this handle, so ``save()`` is a
no-op (the node returns nothing for it)::

    active_distill_state:
      type: zeroshot_distill.pipelines.active_distill.datasets.RoundStoreDataset
      path: data/06_models/active_distill_state
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset
from kedro_datasets._typing import JSONPreview

from zeroshot_distill.active.store import RoundStore


class RoundStoreRoot:
    """Where round checkpoints live; :meth:`open` gives the store of one configuration."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def open(self, fingerprint: str) -> RoundStore:
        """The store of the configuration with this fingerprint."""
        return RoundStore(self.path, fingerprint)

    def __repr__(self) -> str:
        return f"RoundStoreRoot({str(self.path)!r})"


class RoundStoreDataset(AbstractDataset[None, RoundStoreRoot]):
    """Loads a :class:`RoundStoreRoot` for ``path``; nothing to save."""

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = Path(path)
        self.metadata = metadata

    def load(self) -> RoundStoreRoot:
        """A handle on the state folder (created on first write)."""
        return RoundStoreRoot(self._path)

    def save(self, data: None) -> None:
        """Nothing: rounds are written through the handle as they finish."""

    def _exists(self) -> bool:
        return True

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}

    def preview(self) -> JSONPreview:
        """kedro-viz: the finished rounds per configuration and arm."""
        runs: dict[str, Any] = {}
        if self._path.exists():
            for config in sorted(p for p in self._path.iterdir() if p.is_dir()):
                store = RoundStore(self._path, config.name)
                runs[config.name] = {
                    arm.name: store.finished_rounds(arm.name)
                    for arm in sorted(p for p in config.iterdir() if p.is_dir())
                }
        return JSONPreview(json.dumps({"path": str(self._path), "finished_rounds": runs}))
