"""Per-round state of active distillation on disk, so that a killed run resumes.

Layout under the store's root (one folder per configuration fingerprint, so that a changed
configuration never resumes from rounds it did not make)::

    <root>/<fingerprint>/<arm>/round_000/state.json        # written last: "round finished"
                                        /selections.parquet
                                        /annotations.parquet
                                        /student/              # the round's trained student
                                  /arm.json                    # stop reason once the arm ended

The seed round (round 0) is stored once under the arm ``seed`` and shared by every strategy.
A round folder is written under a temporary name and renamed when complete, so a round is
either finished (and restored as it was) or absent (and done again; the teacher's response
cache then makes its annotations free).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from zeroshot_distill.reporting.plain import plain

SEED_ARM = "seed"
_STATE = "state.json"


@dataclass
class RoundRecord:
    """Everything one finished round produced (what is restored on resume)."""

    arm: str
    round: int
    selections: pd.DataFrame
    annotations: pd.DataFrame
    metrics: dict[str, Any]
    ledger: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        """The JSON part."""
        return {
            "arm": self.arm,
            "round": self.round,
            "metrics": plain(self.metrics, stringify=True),
            "ledger": plain(self.ledger, stringify=True),
            "info": plain(self.info, stringify=True),
            "n_selected": len(self.selections),
            "n_annotations": len(self.annotations),
            "finished_at": time.time(),
        }


class RoundStore:
    """Round checkpoints of every arm of one configuration (see module docstring)."""

    def __init__(self, root: str | Path, fingerprint: str) -> None:
        self.root = Path(root)
        self.fingerprint = fingerprint
        self.base = self.root / fingerprint

    def arm_dir(self, arm: str) -> Path:
        """Folder of one arm."""
        return self.base / arm

    def round_dir(self, arm: str, round_: int) -> Path:
        """Folder of a finished round."""
        return self.arm_dir(arm) / f"round_{round_:03d}"

    def finished_rounds(self, arm: str) -> list[int]:
        """Round numbers of ``arm`` that finished, ascending."""
        folder = self.arm_dir(arm)
        if not folder.exists():
            return []
        return sorted(
            int(p.name.split("_")[1])
            for p in folder.glob("round_[0-9][0-9][0-9]")
            if (p / _STATE).exists()
        )

    def save_round(
        self, record: RoundRecord, save_student: Callable[[Path], None] | None = None
    ) -> Path:
        """Write a round atomically (temporary folder, then rename)."""
        final = self.round_dir(record.arm, record.round)
        tmp = final.with_name(final.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        _to_parquet(record.selections, tmp / "selections.parquet")
        _to_parquet(record.annotations, tmp / "annotations.parquet")
        if save_student is not None:
            save_student(tmp / "student")
        (tmp / _STATE).write_text(json.dumps(record.state(), indent=2), encoding="utf-8")
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        return final

    def load_round(self, arm: str, round_: int) -> RoundRecord:
        """Read a finished round back."""
        folder = self.round_dir(arm, round_)
        state = json.loads((folder / _STATE).read_text(encoding="utf-8"))
        return RoundRecord(
            arm=arm,
            round=round_,
            selections=pd.read_parquet(folder / "selections.parquet"),
            annotations=pd.read_parquet(folder / "annotations.parquet"),
            metrics=dict(state.get("metrics") or {}),
            ledger=dict(state.get("ledger") or {}),
            info=dict(state.get("info") or {}),
        )

    def student_path(self, arm: str, round_: int) -> Path | None:
        """The saved student of a finished round, if it was kept."""
        path = self.round_dir(arm, round_) / "student"
        return path if path.exists() else None

    def prune_students(self, arm: str, keep_round: int) -> None:
        """Delete the students of ``arm``'s rounds other than ``keep_round`` (disk space).

        The seed round's student is kept while any arm may still start from it.
        """
        for round_ in self.finished_rounds(arm):
            if round_ != keep_round:
                shutil.rmtree(self.round_dir(arm, round_) / "student", ignore_errors=True)

    def arm_status(self, arm: str) -> dict[str, Any] | None:
        """The stop record of an arm that ended, else ``None``."""
        path = self.arm_dir(arm) / "arm.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def set_arm_status(self, arm: str, status: Mapping[str, Any] | None) -> None:
        """Record (or clear, with ``None``) why an arm stopped."""
        path = self.arm_dir(arm) / "arm.json"
        if status is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(plain(dict(status), stringify=True), indent=2), encoding="utf-8")

    def clear(self) -> None:
        """Forget every round of this configuration (``resume: false``)."""
        shutil.rmtree(self.base, ignore_errors=True)


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(lambda v: v if v is None else _scalar(v))
    frame.to_parquet(path, index=False)


def _scalar(value: Any) -> Any:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(plain(value, stringify=True), ensure_ascii=False)
    return value
