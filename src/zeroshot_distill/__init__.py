"""zeroshot-distill: zero-shot step-by-step distillation of a teacher LLM into a small student."""

__version__ = "0.1.0"
