"""The ``teacher`` parameters, validated before anything is sent or paid for.

Every key of the ``teacher`` block is declared here (unknown keys are an error, so a typo
fails at start-up with its name). See ``conf/base/parameters_teacher.yml`` for the
documented defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

BACKENDS = ("openai", "openai_batch", "transformers", "simulated")
Backend = Literal["openai", "openai_batch", "transformers", "simulated"]
CacheMode = Literal["read_write", "read_only", "off"]
DEFAULT_CACHE_PATH = "data/03_primary/teacher_cache.sqlite"
# A price-table key that applies to every model without its own entry. A plain word: the
# price table is logged to MLflow as parameters (`teacher.prices.any_model.input_per_1m`),
# and MLflow refuses `*` in a parameter name (kedro-mlflow renames it with a warning).
ANY_MODEL = "any_model"
# The earlier spelling, still read.
ANY_MODEL_LEGACY = "*"


class TeacherConfigError(ValueError):
    """The ``teacher`` parameters are invalid or incomplete (raised before any request)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Strict):
    """USD per one million tokens; ``batch_discount`` overrides the block-wide discount."""

    input_per_1m: float = Field(ge=0)
    output_per_1m: float = Field(ge=0)
    batch_discount: float | None = Field(default=None, ge=0, le=1)


ReusableStatus = Literal["ok", "truncated", "refused"]


class CacheConfig(_Strict):
    """Response cache: ``read_write`` (default), ``read_only`` (never writes) or ``off``.

    ``reuse_statuses``: stored answers served as final. Truncated and refused answers are
    stored for the record, but by default a rerun asks again (within the budget).
    ``lease_s``: how long a claim on a request in flight holds without being renewed (a
    crashed holder blocks other processes at most this long).
    """

    mode: CacheMode = "read_write"
    path: str = DEFAULT_CACHE_PATH
    reuse_statuses: tuple[ReusableStatus, ...] = ("ok",)
    lease_s: float = Field(default=30.0, ge=1.0)


class BatchConfig(_Strict):
    """``openai_batch`` backend: polling and job size."""

    completion_window: Literal["24h"] = "24h"
    poll_interval_s: float = Field(default=30.0, gt=0)
    # Stop waiting after this long (the job keeps running; a rerun picks it up). None: wait.
    max_wait_s: float | None = Field(default=None, gt=0)
    max_requests_per_job: int = Field(default=50_000, ge=1, le=50_000)
    discount: float = Field(default=0.5, ge=0, le=1)


class TransformersConfig(_Strict):
    """``transformers`` backend: an in-process chat model (``teacher.model`` is its id/path)."""

    device: str = "auto"
    dtype: str = "auto"
    batch_size: int = Field(default=8, ge=1)
    trust_remote_code: bool = False
    tokenizer: str | None = None  # defaults to the model's own


class SimulatedConfig(_Strict):
    """``simulated`` backend: how good the stand-in teacher is (before template effects)."""

    accuracy: float = Field(default=0.85, ge=0, le=1)
    explanation_rate: float = Field(default=0.75, ge=0, le=1)
    rationale_words: tuple[int, int] = (12, 35)
    # How much a template's wording can move accuracy / explanation rate (0 = not at all).
    template_sensitivity: float = Field(default=1.0, ge=0)
    # The task's labels, used to give wrong answers (the base config interpolates ${task.labels}).
    labels: list[str] | None = None
    latency_s: float = Field(default=0.0, ge=0)
    # Share of optimizer answers that are a duplicate / lose a placeholder (rejection paths).
    optimizer_fault_rate: float = Field(default=0.06, ge=0, le=1)

    @field_validator("rationale_words")
    @classmethod
    def _window(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if low < 1 or high < low:
            raise ValueError("rationale_words must be [min, max] with 1 <= min <= max")
        return value


class TeacherConfig(_Strict):
    """The whole ``teacher`` parameter block."""

    backend: Backend
    model: str = Field(min_length=1)
    # Sampling defaults (a ChatRequest's own values win). All are part of the cache key.
    temperature: float = Field(default=0.0, ge=0)
    max_tokens: int | None = Field(default=256, ge=1)
    # Prompt-size guard (data_processing, annotation dry run): no row whose prompt is
    # estimated above this is sent. None: no limit.
    max_prompt_tokens: int | None = Field(default=8000, ge=1)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    extra_body: dict[str, Any] = Field(default_factory=dict)
    # Send ``response_format`` (JSON mode) when a request asks for it; false for servers
    # that reject it (the prompt still asks for JSON and the parser copes with free text).
    structured_output: bool = True
    # How a JSON-schema request is sent: ``response_format`` (OpenAI structured outputs,
    # recent vLLM and Ollama), ``guided_json`` in the body (vLLM guided decoding) or plain
    # ``json_object`` mode. A server that refuses it gets the next weaker form, then none.
    structured_output_mode: Literal["response_format", "guided_json", "json_object"] = (
        "response_format"
    )
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    # Endpoint and credentials (openai, openai_batch). The key itself is never a parameter.
    base_url: str | None = None
    api_key_env: str | None = "OPENAI_API_KEY"
    credentials: str | None = None
    require_api_key: bool = True
    organization: str | None = None
    # Throughput and robustness.
    concurrency: int = Field(default=16, ge=1, le=1024)
    requests_per_minute: float | None = Field(default=None, gt=0)
    tokens_per_minute: float | None = Field(default=None, gt=0)
    http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    timeout_s: float = Field(default=60.0, gt=0)
    # A server that accepts requests and answers none for 2 x timeout_s: stop the run
    # (fail) or keep waiting (wait); both log the waiting requests (teachers/watchdog.py).
    on_silent_endpoint: Literal["fail", "wait"] = "fail"
    max_retries: int = Field(default=5, ge=0)
    malformed_retries: int = Field(default=2, ge=0)
    # Circuit breaker: stop the run when each of the first N answers of a teacher is an
    # error (0 = never; a call with fewer requests that all fail stops it too).
    fail_fast_after: int = Field(default=10, ge=0)
    # Money.
    max_cost_usd: float | None = None
    prices: dict[str, Price] = Field(default_factory=dict)
    batch: BatchConfig = Field(default_factory=BatchConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    transformers: TransformersConfig = Field(default_factory=TransformersConfig)
    simulated: SimulatedConfig = Field(default_factory=SimulatedConfig)

    @field_validator("max_cost_usd")
    @classmethod
    def _budget(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError(
                f"must be >= 0 (got {value}); use null for no budget or a positive USD amount"
            )
        return value

    @field_validator("prices", mode="before")
    @classmethod
    def _prices(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def needs_api_key(self) -> bool:
        """Whether this backend talks to an endpoint that wants a key."""
        return self.backend in ("openai", "openai_batch") and self.require_api_key

    @property
    def paid(self) -> bool:
        """Backends that bill per token need a price-table entry for their model."""
        return self.backend in ("openai", "openai_batch")

    def price(self) -> Price:
        """The model's price; local backends cost nothing unless the table says otherwise."""
        if self.model in self.prices:
            return self.prices[self.model]
        for wildcard in (ANY_MODEL, ANY_MODEL_LEGACY):
            if wildcard in self.prices:  # e.g. a local server's preset: every model is free
                return self.prices[wildcard]
        if self.paid:
            known = ", ".join(sorted(self.prices)) or "(empty)"
            raise TeacherConfigError(
                f"teacher.model {self.model!r} is not in the price table teacher.prices "
                f"(known: {known}). Add `teacher.prices.{self.model}: "
                "{input_per_1m: <USD>, output_per_1m: <USD>}` so that the cost ledger and "
                "the budget can work."
            )
        return Price(input_per_1m=0.0, output_per_1m=0.0)

    def batch_discount(self) -> float:
        """Discount on the list price for the Batch API."""
        price = self.price()
        return self.batch.discount if price.batch_discount is None else price.batch_discount

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> TeacherConfig:
        """Validate the ``teacher`` block; the error names every offending key."""
        if not isinstance(params, Mapping):
            raise TeacherConfigError(
                f"the teacher parameters must be a mapping, got {type(params).__name__}"
            )
        try:
            config = cls.model_validate(dict(params))
        except ValidationError as err:
            problems = "; ".join(
                f"teacher.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
            )
            raise TeacherConfigError(f"invalid teacher parameters: {problems}") from None
        config.price()  # unknown model of a paid backend -> clear error now
        return config
