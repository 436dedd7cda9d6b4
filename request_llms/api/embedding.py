"""`POST /v1/embeddings`: from an OpenAI embeddings request to `embed()`'s model and texts, and its answer back.

A request is bounded before anything is asked (MAX_INPUTS texts, MAX_CHARACTERS characters in all, and the body
itself, bounds.MAX_BODY_BYTES), and what the models here cannot do is refused by name: token arrays (`input`) and shortened vectors
(`dimensions`). The model is checked as chat's is (offered by the catalog: configured, or found on a configured
server; only sampling parameters may differ from the configuration), and EMBED_MODEL counts as configured.
"""

from __future__ import annotations

import base64
import struct

from ..embeddings import Embeddings
from ..errors import ModelNotAllowed, WrongKindOfModel
from ..messages import estimate_tokens
from ..model_spec import ModelSpec, parse_model, parse_models
from ..offered import Catalog
from ..registry import check_allowed
from ..text import Text
from .failures import ApiFailure
from .protocol import Embedding, EmbeddingList, EmbeddingRequest, EmbeddingUsage

MAX_INPUTS = 2048  # texts in one request (OpenAI's own limit)
MAX_CHARACTERS = 1_000_000  # characters of all the texts of one request


def _bad(en: str, zh: str, param: str = "input") -> ApiFailure:
    return ApiFailure(400, Text(en=en, zh=zh), param=param)


def too_much() -> ApiFailure:
    return _bad(
        f"Too much to embed in one request: at most {MAX_INPUTS} texts and {MAX_CHARACTERS:,} characters in all; "
        "send the rest in further requests.",
        f"单个请求要生成向量的内容过多：最多 {MAX_INPUTS} 段文本、共 {MAX_CHARACTERS:,} 个字符；其余内容请分多次请求发送。",
    )


def _token_array(item: object) -> bool:
    return isinstance(item, int) or (isinstance(item, list) and all(isinstance(token, int) for token in item))


def texts(request: EmbeddingRequest) -> list[str]:
    """The texts to embed; a 400 naming the field for anything the models here cannot honour."""
    if request.dimensions is not None:
        raise _bad(
            "dimensions is not supported: the models here cannot shorten their vectors; leave it out for the full vectors.",
            "不支持 dimensions：这里的模型不能缩短向量；请去掉该参数，以获得完整的向量。",
            "dimensions",
        )
    items = [request.input] if isinstance(request.input, str) else request.input
    if not isinstance(items, list) or not items:
        raise _bad("input must be a text or a non-empty list of texts.", "input 必须是一段文本，或非空的文本列表。")
    if not all(isinstance(item, str) for item in items):
        if all(_token_array(item) for item in items):
            raise _bad(
                "Token arrays are not supported as input: send the texts themselves "
                "(LangChain: OpenAIEmbeddings(..., check_embedding_ctx_length=False)).",
                "input 不支持 token 数组：请直接发送文本（LangChain：OpenAIEmbeddings(..., check_embedding_ctx_length=False)）。",
            )
        raise _bad("input must be a text or a list of texts.", "input 必须是一段文本，或文本列表。")
    if len(items) > MAX_INPUTS or sum(len(item) for item in items) > MAX_CHARACTERS:
        raise too_much()
    empty = next((i for i, item in enumerate(items) if not item), None)
    if empty is not None:
        raise _bad(f"input[{empty}] is empty: send text to embed.", f"input[{empty}] 为空：请发送要生成向量的文本。")
    return items


def specs(catalog: Catalog, config, identifier: str) -> tuple[ModelSpec, ...]:
    """The specs of `identifier`: offered for chat (the catalog), or EMBED_MODEL; raises ModelNotAllowed otherwise."""
    try:
        return catalog.allowed(identifier)
    except ModelNotAllowed as refused:
        if not config["EMBED_MODEL"]:
            raise
        try:
            # the same rule, with EMBED_MODEL as the one configured model
            return check_allowed(identifier, {**config, "AVAIL_LLM_MODELS": [config["EMBED_MODEL"]]})
        except ModelNotAllowed as again:  # EMBED_MODEL with a parameter only the configuration may set: say that
            named = {spec.base for spec in parse_models(identifier)}
            raise (again if parse_model(config["EMBED_MODEL"]).base in named else refused) from None


def not_embedding(exc: WrongKindOfModel) -> ApiFailure:
    """A model that does not embed: the model layer's one line and fix, as a bad request naming `model`."""
    return ApiFailure(400, exc.message, code="model_not_embedding", param="model")


def answer(request: EmbeddingRequest, got: Embeddings, given: list[str], lang: str) -> tuple[dict, int]:
    """(the response body, the prompt tokens counted): the server's count where it gave one, else the estimate."""
    tokens = got.prompt_tokens if got.prompt_tokens is not None else sum(estimate_tokens(text) for text in given)
    encode = _base64 if request.encoding_format == "base64" else list
    shape = EmbeddingList(
        data=[Embedding(index=i, embedding=encode(vector)) for i, vector in enumerate(got.vectors)],
        model=request.model,
        usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens),
        notices=[notice.text(lang) for notice in got.notices] or None,
    )
    return shape.model_dump(exclude_none=True), tokens


def _base64(vector: list[float]) -> str:
    """The vector as OpenAI sends it with encoding_format=base64: its little-endian float32 bytes."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
