"""Training-set building: the label pool, the train-fraction / explanation-rate / rationale
length subsampling and the registry of rationale selection strategies.

The subsampling, experiments and active_distill pipelines all build their training sets
here. Add a selection strategy with :func:`register_selection_strategy`.
"""

from zeroshot_distill.trainset.build import (
    EXCLUSION_REASONS,
    MODE_LABEL_SOURCE,
    POOL_COLUMNS,
    SubsamplingConfig,
    build_label_pool,
    subsample_training_set,
    subsampling_metrics,
)
from zeroshot_distill.trainset.selection import (
    SELECTION_STRATEGIES,
    SelectionStrategy,
    get_selection_strategy,
    register_selection_strategy,
    select_rationale_rows,
)

__all__ = [
    "EXCLUSION_REASONS",
    "MODE_LABEL_SOURCE",
    "POOL_COLUMNS",
    "SELECTION_STRATEGIES",
    "SelectionStrategy",
    "SubsamplingConfig",
    "build_label_pool",
    "get_selection_strategy",
    "register_selection_strategy",
    "select_rationale_rows",
    "subsample_training_set",
    "subsampling_metrics",
]
