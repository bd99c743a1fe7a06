"""A versioned Kedro dataset for an exported (ONNX) student directory.

Saves an :class:`~zeroshot_distill.students.onnx_export.OnnxExport` (the fp32 label-scoring
graph, its int8 variant, the tokenizer, ``training_info.json`` and ``onnx_export.json``) into
a new timestamped folder per run. Loading returns the selected version's *directory* (a
:class:`pathlib.Path`), or ``None`` while nothing was exported: opening the graph is the
consumer's choice of variant and threads
(:class:`~zeroshot_distill.students.onnx_export.OnnxStudent`), and a pipeline that may use
it (``predict`` with ``predict.runtime: torch``) does not fail without one::

    student_onnx:
      type: zeroshot_distill.datasets.OnnxStudentDataset
      filepath: data/06_models/student_onnx
      versioned: true

A version lives in ``data/06_models/student_onnx/<version>/student_onnx/``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from kedro.io import AbstractVersionedDataset, DatasetError, Version
from kedro.io.core import get_filepath_str, get_protocol_and_path

if TYPE_CHECKING:
    from zeroshot_distill.students.onnx_export import OnnxExport

try:  # kedro-viz reads the preview type from the return annotation
    from kedro_datasets._typing import JSONPreview
except ImportError:  # pragma: no cover - kedro-datasets is a project dependency
    JSONPreview = str  # type: ignore[misc,assignment]

#: Same as ``zeroshot_distill.students.onnx_export.EXPORT_INFO_FILE`` (kept here so that
#: importing the datasets package does not import torch).
EXPORT_INFO_FILE = "onnx_export.json"


class OnnxStudentDataset(AbstractVersionedDataset["OnnxExport", "Path | None"]):
    """An exported student's directory (graphs, tokenizer, descriptions), versioned."""

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: the export directory (with versioning: the parent of the versions).
            version: load/save versions (set by Kedro for ``versioned: true``).
            metadata: free-form metadata (e.g. kedro-viz settings); not used here.
        """
        protocol, path = get_protocol_and_path(filepath, version)
        if protocol != "file":
            raise DatasetError(
                f"OnnxStudentDataset writes to a local directory; {filepath!r} uses the "
                f"{protocol!r} protocol"
            )
        super().__init__(filepath=PurePosixPath(path), version=version)
        self.metadata = metadata

    def load(self) -> Path | None:
        """The selected version's directory; ``None`` when no export exists yet."""
        if not self._exists():
            return None
        return Path(get_filepath_str(self._get_load_path(), "file"))

    def save(self, data: OnnxExport) -> None:
        """Write the export into a new version folder (never over an existing one)."""
        from zeroshot_distill.students.onnx_export import OnnxExport

        if not isinstance(data, OnnxExport):
            raise DatasetError(f"OnnxStudentDataset saves an OnnxExport, got {type(data).__name__}")
        path = Path(get_filepath_str(self._get_save_path(), "file"))
        try:
            data.save(path)
        except Exception:
            shutil.rmtree(path, ignore_errors=True)  # no half-written version
            raise

    def _exists(self) -> bool:
        try:
            path = Path(get_filepath_str(self._get_load_path(), "file"))
        except DatasetError:
            return False
        return (path / EXPORT_INFO_FILE).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}

    def preview(self) -> JSONPreview:
        """The export description and the graphs' sizes on disk, as JSON."""
        path = self.load()
        if path is None:
            raise DatasetError(f"no ONNX export under {self._filepath}")
        summary = json.loads((path / EXPORT_INFO_FILE).read_text())
        summary["size_mb"] = {
            f.name: round(f.stat().st_size / 1e6, 3) for f in sorted(path.glob("*.onnx"))
        }
        return JSONPreview(json.dumps(summary))
