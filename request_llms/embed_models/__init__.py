"""GPT Academic's embedding models (`request_llms.embed_models`), answered by LocalScholar's `embed()`.

`openai_embed.py` has `EmbeddingModel` and `OpenAiEmbeddingModel` with GPT Academic's method names and meanings;
the model is always the configured EMBED_MODEL (see that module).
"""

from __future__ import annotations

from .openai_embed import EmbeddingModel, OpenAiEmbeddingModel, mean_agg

__all__ = ["EmbeddingModel", "OpenAiEmbeddingModel", "mean_agg"]
