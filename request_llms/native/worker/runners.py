"""The seam between the worker process and the library that runs the model.

A runner loads a LoadPlan (reporting progress), then answers `generate` (streaming deltas through
`emit`, stopping when `cancel` is set, returning the usage figures) and `count` (the model's own token
count, safe to call beside a running generation). Three today: transformers (Hugging Face folders), llama.cpp
(GGUF files) and encoder (embedding models, which answer `embed` instead of `generate`); LoadPlan.runner names
the one a plan uses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ...text import Text

Progress = Callable[[Text, float], None]


class TransformersRunner:
    """Hugging Face transformers: FP16/INT8/INT4 on CUDA, CPU or mps, LoRA through peft, remote-code models."""

    def __init__(self, plan, progress: Progress) -> None:
        from .loading import counting_tokenizer, load

        self.plan = plan
        self.loaded = load(plan, progress)
        self.info = self.loaded.info
        self.count = counting_tokenizer(self.loaded.tokenizer)

    def generate(
        self, messages: list[dict[str, str]], options: dict, cancel: threading.Event, emit: Callable[[str], None]
    ) -> dict:
        from .generation import generate

        return generate(self.loaded, messages, options, cancel, emit, self.plan.completion_style)


def _llamacpp(plan, progress: Progress):
    from .llamacpp import LlamaCppRunner

    return LlamaCppRunner(plan, progress)


def _encoder(plan, progress: Progress):
    from .encoder import EncoderRunner

    return EncoderRunner(plan, progress)


RUNNERS = {"transformers": TransformersRunner, "llamacpp": _llamacpp, "encoder": _encoder}


def start_runner(plan, progress: Progress):
    """Load the plan's model with its runner."""
    return RUNNERS[plan.runner](plan, progress)
