"""Your own task data from a JSONL, JSON, CSV/TSV or Parquet file, with errors that say where.

Pandas' parsers report positions (``Expected object or value at position 18412``); a user
needs the file, the line and what to change. This dataset reads the file itself and raises
:class:`InputFileError` naming all three, before any teacher is called::

    raw_examples:
      type: zeroshot_distill.datasets.TaskFileDataset
      filepath: data/01_raw/my_rows.jsonl     # .jsonl .json .csv .tsv .parquet
      load_args: {encoding: utf-8}            # CSV: also sep, quotechar, ... (pandas.read_csv)

``file_format`` overrides the format taken from the extension. Read-only: ``save`` refuses.
"""

from __future__ import annotations

import csv
import io
import json
import re
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
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """``filepath`` relative to the project root; ``file_format`` from its extension."""
        self._filepath = PurePosixPath(filepath)
        self._format = file_format or _SUFFIXES.get(self._filepath.suffix.lower())
        if self._format not in FORMATS:
            raise InputFileError(
                f"{filepath}: cannot tell the file format from the extension "
                f"{self._filepath.suffix!r}; set `file_format:` ({', '.join(FORMATS)}) on the "
                "catalog entry"
            )
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        """The file's rows as a frame (raises :class:`InputFileError` with line and fix)."""
        return read_task_file(Path(self._filepath), self._format, self._load_args)

    def save(self, data: pd.DataFrame) -> None:
        """Input files are the user's: never overwritten."""
        raise DatasetError(f"{self._filepath} is an input file; the project does not write it")

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "file_format": self._format}

    def preview(self, nrows: int = 5) -> TablePreview:
        """The first rows, for kedro-viz (its table preview reads this return type)."""
        return TablePreview(self.load().head(nrows).to_dict(orient="split"))


def read_task_file(path: Path, file_format: str, load_args: dict[str, Any]) -> pd.DataFrame:
    """Read ``path`` as ``file_format``; empty or unreadable files raise InputFileError."""
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
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
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
        records.append(record)
    return pd.DataFrame.from_records(records)


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
        raise InputFileError(
            f"{path}: not a readable Parquet file ({type(err).__name__}: {err}). Check the "
            "extension: JSONL/CSV files need .jsonl/.csv (or set `file_format:`)."
        ) from None
    if frame.empty:
        raise InputFileError(f"{path}: no rows.")
    return frame


def _excerpt(line: str, column: int, width: int = 30) -> str:
    start = max(0, column - 1 - width)
    snippet = line[start : column - 1 + width]
    return repr(("…" if start else "") + snippet + ("…" if len(line) > column - 1 + width else ""))
