"""One JSON sanitiser for every summary, history and report the project writes as JSON."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any, *, stringify: bool = False) -> Any:
    """JSON-safe: mappings -> dicts with string keys, tuples/arrays -> lists, numpy (and
    torch) scalars -> Python scalars, ``None``/``pd.NA``/NaN/inf -> ``None``.

    Anything else is returned unchanged, or as ``str(value)`` with ``stringify`` (for
    stores that must always be able to write, whatever a caller put in them).
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v, stringify=stringify) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v, stringify=stringify) for v in value]
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value) if stringify else value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if stringify and not isinstance(value, (str, int, float, bool)):
        return str(value)
    return value


def plain_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table's rows as JSON-safe dicts (missing values as ``None``, arrays as lists)."""
    return [plain(record) for record in frame.to_dict(orient="records")]
