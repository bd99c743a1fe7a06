"""The key/value cache of a forward pass, under the name this transformers version uses.

Label scoring runs a prompt (or an encoder input) once and shares its cache across the
candidate labels; the forward's cache argument and output are ``cache`` in newer
transformers 5.x and ``past_key_values`` before (later ones still accept that, with a
deprecation warning). Both student families read them through these two functions.
"""

from __future__ import annotations

import inspect
from typing import Any

from transformers import PreTrainedModel


def cache_argument(model: PreTrainedModel) -> str:
    """The name of the forward's cache argument; a ``PeftModel`` passes it on to its base
    model's forward, whose signature decides."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def output_cache(output: Any) -> Any:
    """The key/value cache of a forward's output, under either name."""
    for name in ("cache", "past_key_values"):
        cache = getattr(output, name, None)
        if cache is not None:
            return cache
    raise RuntimeError("the model returned no key/value cache although use_cache=True")
