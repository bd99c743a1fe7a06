"""Your own task data from a JSONL, JSON, CSV/TSV or Parquet file, with errors that say where.

Pandas' parsers report positions (``Expected object or value at position 18412``); a user
needs the file, the line and what to change. This dataset reads the file itself and raises
:class:`InputFileError` naming all three, before any teacher is called::

    raw_examples:
      type: zeroshot_distill.datasets.TaskFileDataset
      filepath: data/01_raw/my_rows.jsonl     # .jsonl .json .csv .tsv .parquet
      load_args: {encoding: utf-8}            # CSV: also sep, quotechar, ... (pandas.read_csv)

``file_format`` overrides the format taken from the extension. Read-only: ``save`` refuses.

With ``chunk_size: N`` the dataset loads a :class:`TaskFileChunks` instead of a frame: the
rows in frames of at most N, read as they are consumed, so a file larger than memory can be
processed (JSONL line by line and Parquet by record batch; CSV and JSON are parsed whole and
then handed out in chunks). Its ``total_rows`` is known before the first chunk.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets._typing import TablePreview

FORMATS = ("jsonl", "json", "csv", "tsv", "parquet")
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_DELIMITERS = [",", ";", "\t", "|"]
_PANDAS_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


class InputFileError(DatasetError):
    """An input file cannot be read as task rows; the message names file, line, cause, fix."""


class TaskFileDataset(AbstractDataset[None, pd.DataFrame]):
    """Task rows from a local file; every parse error names the file, the line and the fix."""

    def __init__(
        self,
        filepath: str,
        *,
        file_format: str | None = None,
        load_args: dict[str, Any] | None = None,
        chunk_size: int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """``filepath`` relative to the project root; ``file_format`` from its extension;
        ``chunk_size``: load :class:`TaskFileChunks` of that many rows instead of a frame."""
        self._filepath = PurePosixPath(filepath)
        self._format = file_format or _SUFFIXES.get(self._filepath.suffix.lower())
        if self._format not in FORMATS:
            raise InputFileError(
                f"{filepath}: cannot tell the file format from the extension "
                f"{self._filepath.suffix!r}; set `file_format:` ({', '.join(FORMATS)}) on the "
                "catalog entry"
            )
        self._load_args = dict(load_args or {})
        if chunk_size is not None and int(chunk_size) < 1:
            raise InputFileError(f"{filepath}: `chunk_size` must be >= 1, got {chunk_size}")
        self._chunk_size = None if chunk_size is None else int(chunk_size)
        self.metadata = metadata

    def load(self) -> pd.DataFrame | TaskFileChunks:
        """The file's rows as a frame (raises :class:`InputFileError` with line and fix), or
        as :class:`TaskFileChunks` with ``chunk_size``."""
        if self._chunk_size is not None:
            return TaskFileChunks(
                Path(self._filepath), self._format, self._load_args, self._chunk_size
            )
        return read_task_file(Path(self._filepath), self._format, self._load_args)

    def save(self, data: pd.DataFrame) -> None:
        """Input files are the user's: never overwritten."""
        raise DatasetError(f"{self._filepath} is an input file; the project does not write it")

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "file_format": self._format,
            "chunk_size": self._chunk_size,
        }

    def preview(self, nrows: int = 5) -> TablePreview:
        """The first rows, for kedro-viz (its table preview reads this return type)."""
        frame = read_task_file(Path(self._filepath), self._format, self._load_args)
        return TablePreview(frame.head(nrows).to_dict(orient="split"))


class TaskFileChunks:
    """A task file's rows as frames of at most ``chunk_size`` rows, read while iterated.

    Each iteration reads the file again from its start. Rows keep the file's order; the
    frames' index continues across chunks (row ``i`` of the file has index ``i``).
    """

    def __init__(
        self, path: Path, file_format: str, load_args: dict[str, Any], chunk_size: int
    ) -> None:
        self.path = path
        self.file_format = file_format
        self.load_args = load_args
        self.chunk_size = chunk_size
        self._total: int | None = None

    @property
    def total_rows(self) -> int:
        """Number of rows in the file (Parquet: from its metadata; JSONL: non-blank lines;
        other formats: parsed)."""
        if self._total is None:
            self._total = _count_rows(self.path, self.file_format, self.load_args)
        return self._total

    def __len__(self) -> int:
        """Number of chunks."""
        return -(-self.total_rows // self.chunk_size)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        start = 0
        for frame in _chunks(self.path, self.file_format, self.load_args, self.chunk_size):
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield frame
        if start == 0:
            raise InputFileError(f"{self.path}: the file is empty: no rows to read.")


def _chunks(
    path: Path, file_format: str, load_args: dict[str, Any], size: int
) -> Iterator[pd.DataFrame]:
    _check_is_file(path)
    if file_format == "parquet":
        import pyarrow.parquet as pq

        try:
            batches = pq.ParquetFile(path).iter_batches(batch_size=size)
            yield from (batch.to_pandas() for batch in batches)
        except Exception as err:  # pyarrow raises several types for a non-Parquet file
            raise InputFileError(_not_parquet(path, err)) from None
    elif file_format == "jsonl":
        records: list[dict[str, Any]] = []
        encoding = load_args.get("encoding", "utf-8")
        with path.open(encoding=encoding, errors="strict", newline="") as handle:
            try:
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        records.append(_jsonl_record(path, number, line.rstrip("\r\n")))
                    if len(records) == size:
                        yield pd.DataFrame.from_records(records)
                        records = []
            except UnicodeDecodeError:
                _decode(path, encoding)  # raises the whole-file reader's error with the fix
                raise
        if records:
            yield pd.DataFrame.from_records(records)
    else:
        frame = read_task_file(path, file_format, load_args)
        for start in range(0, len(frame), size):
            yield frame.iloc[start : start + size].reset_index(drop=True)


def _count_rows(path: Path, file_format: str, load_args: dict[str, Any]) -> int:
    _check_is_file(path)
    if file_format == "parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except Exception as err:
            raise InputFileError(_not_parquet(path, err)) from None
    if file_format == "jsonl":
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    return len(read_task_file(path, file_format, load_args))


def read_task_file(path: Path, file_format: str, load_args: dict[str, Any]) -> pd.DataFrame:
    """Read ``path`` as ``file_format``; empty or unreadable files raise InputFileError."""
    _check_is_file(path)
    if file_format == "parquet":
        return _read_parquet(path)
    text = _decode(path, load_args.get("encoding", "utf-8"))
    if not text.strip():
        raise InputFileError(f"{path}: the file is empty: no rows to read.")
    if file_format == "jsonl":
        frame = _read_jsonl(path, text)
    elif file_format == "json":
        frame = _read_json(path, text)
    else:
        frame = _read_csv(path, text, file_format, load_args)
    if frame.empty:
        raise InputFileError(f"{path}: no rows (the file has {_what_it_has(frame)}).")
    return frame


def _check_is_file(path: Path) -> None:
    if not path.is_file():
        hint = (
            "it is a folder, not a file"
            if path.is_dir()
            else "no such file (paths are relative to the project root)"
        )
        raise InputFileError(
            f"{path}: {hint}. Put your file there, or point `raw_examples.filepath` in "
            "conf/local/catalog.yml at it (a bundled sample: --params raw_file=<name in "
            "data/01_raw/>)."
        )


def _what_it_has(frame: pd.DataFrame) -> str:
    return f"only a header: {list(map(str, frame.columns))}" if len(frame.columns) else "nothing"


def _decode(path: Path, encoding: str) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        byte = raw[err.start : err.start + 1].hex()
        raise InputFileError(
            f"{path}, line {line}, column {column}: byte 0x{byte} is not valid {encoding} "
            f"({err.reason}). Save the file as UTF-8, or name its encoding on the catalog "
            "entry: `load_args: {encoding: latin-1}` (or cp1252, utf-16, ...)."
        ) from None
    except LookupError:
        raise InputFileError(
            f"{path}: unknown encoding {encoding!r} in load_args.encoding"
        ) from None


def _read_jsonl(path: Path, text: str) -> pd.DataFrame:
    records = [
        _jsonl_record(path, number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    return pd.DataFrame.from_records(records)


def _jsonl_record(path: Path, number: int, line: str) -> dict[str, Any]:
    """Line ``number`` of a JSONL file as a row; errors name the line and the fix."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise InputFileError(
            f"{path}, line {number}, column {err.colno}: not valid JSON ({err.msg}): "
            f"{_excerpt(line, err.colno)}. Each line must hold one complete JSON object; "
            "fix or delete that line (a JSON array file needs a .json extension)."
        ) from None
    if not isinstance(record, dict):
        raise InputFileError(
            f"{path}, line {number}: a JSON {type(record).__name__}, not an object "
            '({"field": value, ...}); every line must be one row as a JSON object.'
        )
    return record


def _read_json(path: Path, text: str) -> pd.DataFrame:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        line = text.splitlines()[err.lineno - 1] if text.splitlines() else ""
        hint = (
            " It looks like one object per line: rename it to .jsonl."
            if err.msg == "Extra data"
            else ""
        )
        raise InputFileError(
            f"{path}, line {err.lineno}, column {err.colno}: not valid JSON ({err.msg}): "
            f"{_excerpt(line, err.colno)}.{hint}"
        ) from None
    if isinstance(value, dict) and all(isinstance(v, list) for v in value.values()):
        return pd.DataFrame(value)
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return pd.DataFrame.from_records(value)
    raise InputFileError(
        f"{path}: expected a JSON array of row objects ([{{...}}, ...]) or an object of "
        'columns ({"field": [...]}); use JSONL for one row per line.'
    )


def _read_csv(path: Path, text: str, file_format: str, load_args: dict[str, Any]) -> pd.DataFrame:
    args = {k: v for k, v in load_args.items() if k != "encoding"}
    args.setdefault("sep", "\t" if file_format == "tsv" else ",")
    sep = args["sep"]
    try:
        frame = pd.read_csv(io.StringIO(text), **args)
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{path}: no rows (no header either).") from None
    except pd.errors.ParserError as err:
        found = _PANDAS_FIELDS.search(str(err))
        where = (
            f"line {found.group(2)}: {found.group(3)} fields where the header has {found.group(1)}"
            if found
            else str(err).strip()
        )
        guess = _guess_delimiter(text, sep)
        fix = (
            f"Wrong delimiter? set `load_args: {{sep: {_yaml_sep(guess)}}}` on the catalog "
            f"entry (now {_yaml_sep(sep)})."
            if guess != sep
            else f'A text field with an unquoted {_yaml_sep(sep)}? Quote it ("..."), or, if '
            "the file uses another delimiter, set `load_args: {sep: ...}` on the catalog entry."
        )
        raise InputFileError(f"{path}, {where}. {fix}") from None
    if len(frame.columns) == 1:
        guess = _guess_delimiter(text, sep)
        if guess != sep:
            header = str(frame.columns[0])
            raise InputFileError(
                f"{path}, line 1: the header parses into one column {header[:80]!r} with "
                f"sep={_yaml_sep(sep)}. Wrong delimiter? set `load_args: {{sep: "
                f"{_yaml_sep(guess)}}}` on the catalog entry."
            )
    return frame


def _guess_delimiter(text: str, current: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        header = text.splitlines()[0] if text else ""
        counts = {d: header.count(d) for d in _DELIMITERS if d != current}
        best = max(counts, key=lambda d: counts[d]) if counts else current
        return best if counts.get(best) else current


def _yaml_sep(sep: str) -> str:
    return '"\\t"' if sep == "\t" else f"'{sep}'"


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a non-Parquet file
        raise InputFileError(_not_parquet(path, err)) from None
    if frame.empty:
        raise InputFileError(f"{path}: no rows.")
    return frame


def _not_parquet(path: Path, err: Exception) -> str:
    return (
        f"{path}: not a readable Parquet file ({type(err).__name__}: {err}). Check the "
        "extension: JSONL/CSV files need .jsonl/.csv (or set `file_format:`)."
    )


def _excerpt(line: str, column: int, width: int = 30) -> str:
    start = max(0, column - 1 - width)
    snippet = line[start : column - 1 + width]
    return repr(("…" if start else "") + snippet + ("…" if len(line) > column - 1 + width else ""))
