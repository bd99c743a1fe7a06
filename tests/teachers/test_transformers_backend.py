"""The in-process ``transformers`` backend with a tiny random model (no download)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zeroshot_distill.teachers import ChatRequest, build_teacher

CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import ByT5Tokenizer, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tokenizer = ByT5Tokenizer()
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    path = tmp_path_factory.mktemp("tiny_teacher")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_batched_generation_counts_tokens_and_caches(tiny_model_dir: Path, tmp_path: Path) -> None:
    config = {
        "backend": "transformers",
        "model": str(tiny_model_dir),
        "max_tokens": 6,
        "transformers": {"batch_size": 2, "device": "cpu"},
        # The tiny random model runs into max_tokens: serve truncated answers from the cache.
        "cache": {"path": str(tmp_path / "cache.sqlite"), "reuse_statuses": ["ok", "truncated"]},
    }
    requests = [
        ChatRequest(key=f"k{i}", messages=[{"role": "user", "content": "x" * (5 + 7 * i)}])
        for i in range(3)
    ]
    teacher = build_teacher(config)
    estimate = teacher.estimate(requests)
    results = teacher.complete(requests, stage="annotation", progress=False)
    assert [r.key for r in results] == ["k0", "k1", "k2"]
    for request, result in zip(requests, results, strict=True):
        assert result.status in {"ok", "truncated"}
        assert result.completion_tokens <= 6
        assert result.status == "ok" or result.completion_tokens == 6
        # "user: " + content + "\nassistant:" in bytes
        assert result.prompt_tokens == len(request.messages[0]["content"]) + 17
        assert result.cost_usd == 0.0 and not result.simulated
    assert estimate.prompt_tokens == sum(r.prompt_tokens for r in results)
    fresh = build_teacher(config)
    assert all(r.cached for r in fresh.complete(requests, stage="a", progress=False))
    assert fresh.backend_impl._model is None  # a cached rerun never loads the model
