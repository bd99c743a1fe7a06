"""A versioned Kedro dataset for a ``transformers`` model directory (model + tokenizer).

Saves a :class:`~zeroshot_distill.students.model.StudentBundle` with ``save_pretrained``
(weights, config, tokenizer files and a ``training_info.json``) into a new timestamped folder
per run; loads the latest folder, or the one ``--load-versions`` names, with
``from_pretrained``. Example catalog entry::

    student_model:
      type: zeroshot_distill.datasets.ModelDirectoryDataset
      filepath: data/06_models/student_model
      versioned: true

A version lives in ``data/06_models/student_model/<version>/student_model/``, with a
``README.md`` model card (what training knows; the evaluation completes it, see
:class:`~zeroshot_distill.datasets.StudentCardDataset`).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from kedro.io import AbstractVersionedDataset, DatasetError, Version
from kedro.io.core import get_filepath_str, get_protocol_and_path

if TYPE_CHECKING:
    from zeroshot_distill.students.model import StudentBundle

logger = logging.getLogger(__name__)

#: Same as ``zeroshot_distill.students.model.INFO_FILE`` (kept here so that importing the
#: datasets package does not import torch and transformers).
INFO_FILE = "training_info.json"

try:  # kedro-viz reads the preview type from the return annotation
    from kedro_datasets._typing import JSONPreview
except ImportError:  # pragma: no cover - kedro-datasets is a project dependency
    JSONPreview = str  # type: ignore[misc,assignment]


class ModelDirectoryDataset(AbstractVersionedDataset["StudentBundle", "StudentBundle"]):
    """A seq2seq model and its tokenizer in a (versioned) local directory."""

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: the model directory (with versioning: the parent of the versions).
            version: load/save versions (set by Kedro for ``versioned: true``).
            metadata: free-form metadata (e.g. kedro-viz settings); not used here.
        """
        protocol, path = get_protocol_and_path(filepath, version)
        if protocol != "file":
            raise DatasetError(
                f"ModelDirectoryDataset writes with save_pretrained to a local directory; "
                f"{filepath!r} uses the {protocol!r} protocol"
            )
        super().__init__(filepath=PurePosixPath(path), version=version)
        self.metadata = metadata

    def load(self) -> StudentBundle:
        """Load the model, tokenizer and training info of the selected version."""
        path = Path(get_filepath_str(self._get_load_path(), "file"))
        if not path.is_dir():
            raise DatasetError(f"no model directory at {path}")
        from zeroshot_distill.students.model import load_saved_student

        return load_saved_student(path)

    def save(self, data: StudentBundle) -> None:
        """Write the bundle into a new version folder (never over an existing one)."""
        from zeroshot_distill.students.model import StudentBundle, save_student

        if not isinstance(data, StudentBundle):
            raise DatasetError(
                f"ModelDirectoryDataset saves a StudentBundle, got {type(data).__name__}"
            )
        path = Path(get_filepath_str(self._get_save_path(), "file"))
        try:
            save_student(data, path)
        except Exception:
            shutil.rmtree(path, ignore_errors=True)  # no half-written version
            raise
        write_training_card(data.info, path)

    def _exists(self) -> bool:
        try:
            path = Path(get_filepath_str(self._get_load_path(), "file"))
        except DatasetError:
            return False
        return path.is_dir() and any(
            (path / name).exists() for name in ("config.json", "adapter_config.json")
        )

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}

    def preview(self) -> JSONPreview:
        """The model config, parameter count, size on disk and training info, as JSON."""
        path = Path(get_filepath_str(self._get_load_path(), "file"))
        config_file = path / "config.json"
        if not config_file.exists():
            raise DatasetError(f"no model directory at {path}")
        config = json.loads(config_file.read_text())
        info_file = path / INFO_FILE
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        summary = {
            "version": path.parent.name if self._version else None,
            "model_type": config.get("model_type"),
            "architectures": config.get("architectures"),
            "size_mb": round(size / 1e6, 3),
            "config": config,
            "training_info": json.loads(info_file.read_text()) if info_file.exists() else None,
        }
        return JSONPreview(json.dumps(summary, default=str))


def write_training_card(info: dict[str, Any], directory: Path) -> None:
    """The model card from the training summary alone into ``directory/README.md``; a card
    that cannot be written is logged, never fails the saved student."""
    from zeroshot_distill.reporting.model_card import CARD_FILE, student_model_card

    try:
        text = student_model_card(info, directory=str(directory.resolve()))
        (directory / CARD_FILE).write_text(text, encoding="utf-8")
    except Exception as error:  # the student matters more than its card
        logger.warning("could not write the model card of %s: %s", directory, error)
