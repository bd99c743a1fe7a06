"""Cell values of example tables: one definition of "no value", one of "says nothing"."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def is_missing(value: Any) -> bool:
    """``None``, NaN, ``pd.NA`` or ``NaT``: a cell with no value.

    Strings (even blank ones) and containers such as a choices list are values.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def is_blank(value: Any) -> bool:
    """No value (:func:`is_missing`) or a string of only whitespace: a label, answer or
    rationale that says nothing (an invalid prediction, an empty stop reason)."""
    if isinstance(value, str):
        return not value.strip()
    return is_missing(value)
