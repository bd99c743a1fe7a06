"""TaskFileDataset: every malformed input file gets the file, the line, the cause and a fix."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError

from zeroshot_distill.datasets import InputFileError, TaskFileDataset

ROWS = [
    {
        "id": f"r{i}",
        "premise": f"A man plays guitar number {i}.",
        "hypothesis": "Music.",
        "label": "x",
    }
    for i in range(1, 41)
]


def _jsonl(path: Path, rows: list[dict] = ROWS) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _load(path: Path, **kwargs) -> pd.DataFrame:
    return TaskFileDataset(str(path), **kwargs).load()


def test_reads_jsonl_json_csv_tsv_parquet_alike(tmp_path: Path) -> None:
    expected = pd.DataFrame(ROWS)
    _jsonl(tmp_path / "a.jsonl")
    (tmp_path / "a.json").write_text(json.dumps(ROWS))
    expected.to_csv(tmp_path / "a.csv", index=False)
    expected.to_csv(tmp_path / "a.tsv", index=False, sep="\t")
    expected.to_csv(tmp_path / "semi.csv", index=False, sep=";")
    expected.to_parquet(tmp_path / "a.parquet")
    for name, kwargs in [
        ("a.jsonl", {}),
        ("a.json", {}),
        ("a.csv", {}),
        ("a.tsv", {}),
        ("semi.csv", {"load_args": {"sep": ";"}}),
        ("a.parquet", {}),
    ]:
        pd.testing.assert_frame_equal(_load(tmp_path / name, **kwargs), expected, obj=name)


def test_jsonl_syntax_error_names_the_line(tmp_path: Path) -> None:
    lines = [json.dumps(r) for r in ROWS]
    lines[36] = lines[36][:-1]  # line 37 loses its closing brace
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError) as err:
        _load(path)
    message = str(err.value)
    assert str(path) in message and "line 37" in message
    assert "one complete JSON object" in message
    assert "position" not in message


def test_jsonl_line_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n\n" + json.dumps(["a", "b"]) + "\n")
    with pytest.raises(InputFileError, match=r"line 3: a JSON list, not an object"):
        _load(path)


def test_non_utf8_byte_names_line_and_the_encoding_load_arg(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "rows.jsonl")
    raw = path.read_bytes().splitlines(keepends=True)
    raw[11] = raw[11].replace(b"guitar", b"guit\xe4r")  # latin-1 'ä' on line 12
    path.write_bytes(b"".join(raw))
    with pytest.raises(InputFileError) as err:
        _load(path)
    message = str(err.value)
    assert "line 12" in message and "0xe4" in message
    assert "load_args: {encoding: latin-1}" in message
    # ... and the hint works
    frame = _load(path, load_args={"encoding": "latin-1"})
    assert "guitär" in frame.loc[11, "premise"]


def test_semicolon_csv_read_with_commas_says_wrong_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False, sep=";")
    with pytest.raises(InputFileError) as err:
        _load(path)
    message = str(err.value)
    assert "line 1" in message and "one column" in message
    assert "Wrong delimiter? set `load_args: {sep: ';'}`" in message


def test_ragged_csv_rows_name_the_line_and_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "id,premise,hypothesis,label\n"
        "r1,A man plays.,Music.,x\n"
        "r2,A man, a woman and a dog play.,Music.,x\n"
    )
    with pytest.raises(InputFileError) as err:
        _load(path)
    message = str(err.value)
    assert "line 3: 5 fields where the header has 4" in message
    assert "unquoted ','" in message and "load_args: {sep: ...}" in message


def test_ragged_rows_from_the_wrong_delimiter_suggest_the_right_one(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("id;premise;hypothesis;label\nr1;A;B;x\nr2;A, b, c and d;B;x\n")
    with pytest.raises(InputFileError) as err:
        _load(path)
    assert "line 1" in str(err.value) or "line 3" in str(err.value)
    assert "Wrong delimiter? set `load_args: {sep: ';'}`" in str(err.value)


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.jsonl", ""), ("blank.jsonl", "\n  \n"), ("empty.csv", ""), ("header.csv", "a,b\n")],
)
def test_empty_files_say_no_rows(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputFileError, match=r"empty|no rows"):
        _load(path)


def test_missing_path_names_it_and_the_local_catalog(tmp_path: Path) -> None:
    path = tmp_path / "nope.jsonl"
    with pytest.raises(InputFileError) as err:
        _load(path)
    assert str(path) in str(err.value) and "conf/local/catalog.yml" in str(err.value)


def test_unknown_extension_asks_for_file_format(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="file_format"):
        TaskFileDataset(str(tmp_path / "rows.xlsx"))
    path = _jsonl(tmp_path / "rows.data")
    assert len(_load(path, file_format="jsonl")) == len(ROWS)


def test_json_lines_in_a_json_file_suggest_jsonl(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "rows.json")
    with pytest.raises(InputFileError, match=r"line 2.*rename it to \.jsonl"):
        _load(path)


def test_the_catalog_passes_the_message_through(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": 1}\n{"id": 2,,}\n')
    catalog = DataCatalog.from_config(
        {
            "raw_examples": {
                "type": "zeroshot_distill.datasets.TaskFileDataset",
                "filepath": str(path),
            }
        }
    )
    with pytest.raises(DatasetError, match=r"raw_examples: .*rows\.jsonl, line 2, column 10"):
        catalog.load("raw_examples")


def test_preview_for_kedro_viz(tmp_path: Path) -> None:
    preview = TaskFileDataset(str(_jsonl(tmp_path / "a.jsonl"))).preview(nrows=3)
    assert preview["columns"] == list(ROWS[0]) and len(preview["data"]) == 3
