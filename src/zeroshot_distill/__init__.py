"""zeroshot-distill: zero-shot step-by-step distillation of a teacher LLM into a small student."""

import logging


class _KedroMlflowTypeHintWarning(logging.Filter):
    """Drops MLflow's "Add type hints to the `predict` method" warning from the log.

    MLflow emits it when a ``PythonModel`` subclass is *defined* without type hints; the one
    such class in this environment is kedro-mlflow's own ``KedroPipelineModel`` (this
    project's :class:`~zeroshot_distill.students.pyfunc.StudentPyfunc` has its hints), so it
    opened every ``kedro`` command with nothing a user can do about it. A warnings filter
    cannot stop it: MLflow raises it under its own ``simplefilter("once")``. Kedro's logging
    captures warnings into the ``py.warnings`` logger, where this filter drops exactly that
    message; every other warning passes.
    """

    MESSAGE = "Add type hints to the `predict` method"

    def filter(self, record: logging.LogRecord) -> bool:
        return self.MESSAGE not in record.getMessage()


# The package is imported before Kedro loads the kedro-mlflow plugin (which defines the class).
logging.getLogger("py.warnings").addFilter(_KedroMlflowTypeHintWarning())

__version__ = "0.1.0"
