"""GPT Academic's `OpenAiEmbeddingModel`, answered by LocalScholar's `embed()` with the configured EMBED_MODEL.

GPT Academic's plugins (its RAG workers, crazy_functions/rag_fns) make one from their `llm_kwargs` and call the
methods below, which keep GPT Academic's names and meanings. What differs, on purpose:

- The model is always EMBED_MODEL. `llm_kwargs['embed_model']` and `llm_kwargs['api_key']` are ignored, and
  `llm_kwargs` may be left out: the owner's configuration decides which model embeds and where its requests go
  (the trust rule of docs/ARCHITECTURE.md), never a plugin's arguments. With no EMBED_MODEL set, each call
  raises ConfigError naming the setting to write, in both languages.
- No connection of its own and no openai client: requests go through the configuration's runtime (its servers,
  gates, pools and the one retry policy), as chat's do, and fail with the typed errors of errors.py.
- `embedding_dimension()` asks the model for one vector and remembers its length (GPT Academic reads a table).
- A text too long for the model is cut to fit, and the notice is logged: GPT Academic's methods have no place
  to return it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from ..config_loader import get_config
from ..embeddings import embed

log = logging.getLogger("localscholar.embed_models")


def mean_agg(embeddings: Sequence[Sequence[float]]) -> list[float]:
    """Mean aggregation for embeddings: the element-wise mean of the vectors."""
    count = len(embeddings)
    return [sum(column) / count for column in zip(*embeddings, strict=True)]


class EmbeddingModel:
    """GPT Academic's base: aggregation and batches over a subclass's `get_query_embedding` and `compute_embedding`."""

    def get_agg_embedding_from_queries(
        self, queries: list[str], agg_fn: Callable[[list[list[float]]], list[float]] | None = None
    ) -> list[float]:
        """Get aggregated embedding from multiple queries (the mean unless `agg_fn` says otherwise)."""
        query_embeddings = [self.get_query_embedding(query) for query in queries]
        return (agg_fn or mean_agg)(query_embeddings)

    def get_text_embedding_batch(self, texts: list[str], show_progress: bool = False) -> list[list[float]]:
        """One vector per text, in order."""
        return self.compute_embedding(texts, batch_mode=True)

    def get_query_embedding(self, query: str) -> list[float]:
        raise NotImplementedError

    def compute_embedding(self, text, llm_kwargs: dict | None = None, batch_mode: bool = False):
        raise NotImplementedError


class OpenAiEmbeddingModel(EmbeddingModel):
    """Vectors from EMBED_MODEL (see the module's docstring); `config` is for tests: None is the process's settings."""

    def __init__(self, llm_kwargs: dict | None = None, config=None) -> None:
        self.llm_kwargs = llm_kwargs  # kept as GPT Academic keeps it; its embed_model and api_key are not used
        self.config = config
        self._dimensions: dict[str, int] = {}
        self._lock = threading.Lock()

    def settings(self):
        return self.config if self.config is not None else get_config()

    def get_query_embedding(self, query: str) -> list[float]:
        return self.compute_embedding(query)

    def compute_embedding(self, text="这是要计算嵌入的文本", llm_kwargs: dict | None = None, batch_mode: bool = False):
        """The vector of `text`, or with `batch_mode` one vector per text of the list `text`."""
        if batch_mode != (not isinstance(text, str) and isinstance(text, Sequence)):
            raise TypeError(
                "compute_embedding takes a list of texts with batch_mode=True, one text otherwise. / "
                "compute_embedding 在 batch_mode=True 时接受文本列表，否则接受一段文本。"
            )
        config = self.settings()
        got = embed(None, list(text) if batch_mode else [text], config=config)
        for notice in got.notices:
            log.warning(notice.text(config.lang))
        return got.vectors if batch_mode else got.vectors[0]

    def embedding_dimension(self, llm_kwargs: dict | None = None) -> int:
        """The length of EMBED_MODEL's vectors: asked of the model once, then remembered."""
        config = self.settings()
        with self._lock:
            known = self._dimensions.get(config["EMBED_MODEL"])
        if known is None:
            known = embed(None, ["dimension"], config=config).dimension
            with self._lock:
                self._dimensions[config["EMBED_MODEL"]] = known
        return known
