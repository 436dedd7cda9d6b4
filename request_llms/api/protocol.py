"""The OpenAI wire format (chat completions, embeddings, the model list) as LocalScholar takes and gives it.

Fields a client may send and that LocalScholar cannot honour are refused by routes.py with a clear 400;
unknown fields are ignored, as OpenAI-compatible servers do.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None
    reasoning_content: str | None = None  # a thinking model's earlier thought, sent back by some clients: dropped


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[Message]
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    n: int | None = Field(default=None, ge=1)
    tools: list[dict[str, Any]] | None = None
    reasoning_effort: str | None = None  # low, medium, high: the think= of the identifier

    def answer_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    def stops(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return tuple(s for s in ([self.stop] if isinstance(self.stop, str) else self.stop) if s)


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(default_factory=now)
    owned_by: str  # the kind of backend: native, ollama, llamacpp, vllm, cloud, ...
    max_model_len: int | None = None  # the context window where it is known, as vLLM reports it
    # what the configuration offers it for: "chat" (AVAIL_LLM_MODELS, or found on a server), "embeddings"
    # (EMBED_MODEL); an extra field, which OpenAI's clients keep aside (the openai package: `model_extra`)
    capabilities: list[str] = Field(default_factory=lambda: ["chat"])


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    input: Any  # a text or a list of texts; api/embedding.py refuses anything else (token arrays) by name
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = None  # refused: the models here cannot shorten their vectors
    user: str | None = None


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str  # the numbers, or base64 of their little-endian float32 bytes


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage
    notices: list[str] | None = None  # texts cut to fit the model, in the caller's language: an extra field, only when any


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorInfo
