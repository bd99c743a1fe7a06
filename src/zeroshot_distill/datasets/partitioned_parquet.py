"""A versioned dataset of Parquet partitions, written one partition at a time.

For outputs larger than memory (``new_predictions`` of ``predict``): ``save`` takes an
iterable of frames (each written and released before the next is made), or, as kedro's
``PartitionedDataset``, a mapping of partition id to a frame or to a callable that makes
it (lazy saving). Each run writes a new version folder; ``load`` returns the selected
version's partitions as ``{partition id: callable returning the frame}``, like
``PartitionedDataset``, so a reader too can go one partition at a time::

    new_predictions:
      type: zeroshot_distill.datasets.PartitionedParquetDataset
      filepath: data/07_model_output/new_predictions
      versioned: true

A version is a folder ``data/07_model_output/new_predictions/<version>/new_predictions/``
of ``part-00000.parquet``, ``part-00001.parquet``, ...: ``pandas.read_parquet`` (or any
Parquet reader) reads the folder as one table.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from kedro.io import AbstractVersionedDataset, DatasetError, Version
from kedro.io.core import get_filepath_str, get_protocol_and_path

#: Partition ids of an iterable save: ``part-00000``, ``part-00001``, ...
PARTITION_ID = "part-{:05d}"
SUFFIX = ".parquet"

Partitions = dict[str, Callable[[], pd.DataFrame]]


class PartitionedParquetDataset(AbstractVersionedDataset[Any, Partitions]):
    """Parquet partitions in a (versioned) local folder; saved and loaded lazily."""

    def __init__(
        self,
        *,
        filepath: str,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: the folder (with versioning: the parent of the versions).
            save_args: keyword arguments of ``DataFrame.to_parquet`` (default: no index).
            version: load/save versions (set by Kedro for ``versioned: true``).
            metadata: free-form metadata (e.g. kedro-viz settings); not used here.
        """
        protocol, path = get_protocol_and_path(filepath, version)
        if protocol != "file":
            raise DatasetError(
                f"PartitionedParquetDataset writes a local folder; {filepath!r} uses the "
                f"{protocol!r} protocol"
            )
        super().__init__(filepath=PurePosixPath(path), version=version)
        self._save_args = {"index": False, **dict(save_args or {})}
        self.metadata = metadata

    def load(self) -> Partitions:
        """``{partition id: callable that reads it}`` of the selected version, in order."""
        path = Path(get_filepath_str(self._get_load_path(), "file"))
        if not path.is_dir():
            raise DatasetError(f"no partitions at {path}")
        return {
            file.name.removesuffix(SUFFIX): partial(pd.read_parquet, file)
            for file in sorted(path.glob(f"*{SUFFIX}"))
        }

    def save(self, data: Any) -> None:
        """Write every partition of ``data`` (a frame, a mapping of id to frame or callable,
        or an iterable of frames) into a new version folder."""
        path = Path(get_filepath_str(self._get_save_path(), "file"))
        path.mkdir(parents=True, exist_ok=False)
        try:
            for partition_id, frame in _partitions(data):
                if not isinstance(frame, pd.DataFrame):
                    raise DatasetError(
                        f"partition {partition_id!r} is a {type(frame).__name__}, not a DataFrame"
                    )
                frame.to_parquet(path / f"{partition_id}{SUFFIX}", **self._save_args)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)  # no half-written version
            if self._version is not None and not any(path.parent.iterdir()):
                path.parent.rmdir()
            raise

    def _exists(self) -> bool:
        try:
            path = Path(get_filepath_str(self._get_load_path(), "file"))
        except DatasetError:
            return False
        return path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}


def _partitions(data: Any) -> Iterable[tuple[str, Any]]:
    """(id, frame) pairs of ``data``, each frame made only when its turn comes."""
    if isinstance(data, pd.DataFrame):
        yield PARTITION_ID.format(0), data
    elif isinstance(data, Mapping):
        for partition_id in sorted(data):
            value = data[partition_id]
            yield str(partition_id), value() if callable(value) else value
    elif isinstance(data, Iterable):
        for number, frame in enumerate(data):
            yield PARTITION_ID.format(number), frame
    else:
        raise DatasetError(
            "PartitionedParquetDataset saves a DataFrame, a mapping of partition id to frame "
            f"(or to a callable making it) or an iterable of frames, got {type(data).__name__}"
        )
