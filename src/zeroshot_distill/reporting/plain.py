"""One JSON sanitiser for every summary, history and report the project writes as JSON."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """JSON-safe: mappings -> dicts with string keys, tuples/arrays -> lists, numpy scalars ->
    Python scalars, ``None``/``pd.NA``/NaN/inf -> ``None``; everything else unchanged."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def plain_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as JSON-safe dicts (missing values as ``None``, arrays as lists)."""
    return [plain(record) for record in frame.to_dict(orient="records")]
