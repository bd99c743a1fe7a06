"""The one warning the package drops from the log: MLflow's type-hint notice for
kedro-mlflow's KedroPipelineModel (see ``zeroshot_distill/__init__.py``)."""

from __future__ import annotations

import logging

import zeroshot_distill


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("py.warnings", logging.WARNING, __file__, 1, message, None, None)


def test_only_the_type_hint_notice_is_dropped() -> None:
    (drop,) = [
        f
        for f in logging.getLogger("py.warnings").filters
        if isinstance(f, zeroshot_distill._KedroMlflowTypeHintWarning)
    ]
    notice = (
        "data_validation.py:187: UserWarning: \x1b[33mAdd type hints to the `predict` method "
        "to enable data validation and automatic signature inference"
    )
    assert not drop.filter(_record(notice))
    assert drop.filter(_record("UserWarning: something else about `predict`"))
