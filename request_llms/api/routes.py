"""The endpoints. Each checks the caller's key, converts the request, and calls `chat()` or `embed()` as the page
and the plugins do: the same per-server gates and native queues, the same allowed models, the same thinking split.

The answer is read in a thread (the model layer is synchronous) and handed to the event loop one event at a
time; when the client goes away, the request's CancelToken is set at once and the backend stops.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ..chat import ChatStream, chat
from ..embeddings import embed
from ..errors import LLMError, WrongKindOfModel
from ..model_spec import ModelSpec, parse_model
from ..request import CancelToken, ChatOptions, Status, StatusKind
from ..runtime import runtime_of
from ..text import Text
from ..thinking import Thought
from . import bounds, embedding
from .access import caller
from .convert import StopCutter, conversation, options
from .failures import ApiFailure, error_response, language, of_error, of_failure
from .protocol import ChatRequest, EmbeddingRequest, ModelCard, ModelList, Usage, completion_id, now
from .usage import usage_book

_END = object()


def mount(app, config) -> None:
    """Add the API's routes to a running FastAPI app (the web page's), ahead of the page's own."""
    router = api_router(config)
    before = len(app.router.routes)
    app.include_router(router)
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added


def api_router(config) -> APIRouter:
    router = APIRouter(prefix="/v1")
    runtime = runtime_of(config)
    catalog = runtime.catalog
    book = usage_book(config)

    @router.get("/models")
    async def models(request: Request):
        lang = language(request.headers.get("accept-language"))
        try:
            caller(request.headers.get("authorization"), config)
        except ApiFailure as failure:
            return of_failure(failure, lang)
        entries = await run_in_threadpool(catalog.entries)
        cards = await run_in_threadpool(_cards, [e for e in entries if e.backend != "multi"], runtime, config["EMBED_MODEL"])
        return ModelList(data=cards).model_dump()

    @router.post("/chat/completions")
    async def completions(request: Request):
        lang = language(request.headers.get("accept-language"))
        try:
            key = caller(request.headers.get("authorization"), config)
            raw = await bounds.body(request, bounds.chat_too_much)
            payload, turns, system, chosen = await run_in_threadpool(_chat_request, raw)
            spec = _one(await run_in_threadpool(catalog.allowed, payload.model))
            await run_in_threadpool(_answer_fits, runtime, spec, chosen.max_tokens)
            await run_in_threadpool(_room, runtime, spec)
        except ApiFailure as failure:
            return of_failure(failure, lang)
        except LLMError as exc:
            return error_response(exc, lang)
        cancel = CancelToken()
        stream = chat(spec, turns, (), system, chosen, cancel, config, keep_history=True, restartable=not payload.stream)
        answer = Answer(payload, stream, cancel, StopCutter(payload.stops()))
        if payload.stream:
            # the first event comes before the status line, so a prompt that does not fit is still a 400
            deltas = answer.deltas()
            try:
                first = await anext(deltas, None)
            except LLMError as exc:
                return error_response(exc, lang)
            include_usage = bool(payload.stream_options and payload.stream_options.include_usage)
            events = answer.sse(first, deltas, include_usage, lang, lambda: book.add(key, *answer.tokens()))
            return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        try:
            await _until_done_or_gone(answer.collect(), request, cancel)
        except LLMError as exc:
            return error_response(exc, lang)
        book.add(key, *answer.tokens())
        return JSONResponse(answer.whole())

    @router.post("/embeddings")
    async def embeddings(request: Request):
        lang = language(request.headers.get("accept-language"))
        try:
            key = caller(request.headers.get("authorization"), config)
            raw = await bounds.body(request, embedding.too_much)
            payload = await run_in_threadpool(_payload, raw, EmbeddingRequest)
            texts = embedding.texts(payload)
            spec = _one(await run_in_threadpool(embedding.specs, catalog, config, payload.model))
            await run_in_threadpool(_room, runtime, spec)
        except ApiFailure as failure:
            return of_failure(failure, lang)
        except LLMError as exc:
            return error_response(exc, lang)
        cancel = CancelToken()
        try:
            got = await _until_done_or_gone(run_in_threadpool(embed, spec, texts, config, cancel), request, cancel)
        except WrongKindOfModel as exc:
            return of_failure(embedding.not_embedding(exc), lang)
        except LLMError as exc:
            return error_response(exc, lang)
        content, tokens = embedding.answer(payload, got, texts, lang)
        book.add(key, tokens, 0)
        return JSONResponse(content)

    return router


def _room(runtime, spec: ModelSpec) -> None:
    """A 429 when API_MAX_WAITING requests already wait for the model (reads the gates: no request goes out)."""
    most = runtime.config["API_MAX_WAITING"]
    if runtime.waiting(spec) >= most:
        raise ApiFailure(
            429,
            Text(
                en=f"{most} requests already wait for {spec.base}: try again shortly, or raise API_MAX_WAITING.",
                zh=f"已有 {most} 个请求在等待 {spec.base}：请稍后重试，或调大 API_MAX_WAITING。",
            ),
            kind="rate_limit_error",
            code="rate_limit_exceeded",
        )


def _cards(entries, runtime, embed_model: str) -> list[ModelCard]:
    """A card per model, with its context window (what discovery found, else what its backend knows, cached) and
    what it is offered for: chat, and embeddings for EMBED_MODEL, which has a card of its own if none is listed."""
    cards = []
    for entry in entries:
        capabilities = ["chat", "embeddings"] if entry.identifier == embed_model else ["chat"]
        context = entry.context if entry.context is not None or entry.problem else _context(entry.identifier, runtime)
        cards.append(ModelCard(id=entry.identifier, owned_by=entry.backend, max_model_len=context, capabilities=capabilities))
    if embed_model and embed_model not in {card.id for card in cards}:
        owner = parse_model(embed_model).provider
        context = _context(embed_model, runtime)
        cards.append(ModelCard(id=embed_model, owned_by=owner, max_model_len=context, capabilities=["embeddings"]))
    return cards


def _answer_fits(runtime, spec: ModelSpec, limit: int | None) -> None:
    """An answer limit beyond the model's whole window is a 400 naming the field, not a request that fails later."""
    window = _context(spec.text, runtime) if limit else None
    if limit and window and limit > window:
        raise ApiFailure(
            400,
            Text(
                en=f"max_tokens {limit} is more than {spec.base}'s whole context window ({window} tokens).",
                zh=f"max_tokens {limit} 超过了 {spec.base} 的全部上下文窗口（{window} 个 token）。",
            ),
            param="max_tokens",
        )


def _context(identifier: str, runtime) -> int | None:
    try:
        spec = parse_model(identifier)
        return runtime.backend_for(spec).context_budget(spec)
    except (LLMError, httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


def _chat_request(raw: bytes) -> tuple[ChatRequest, list[dict[str, str]], str, ChatOptions]:
    """The request, its turns, its system text and its options, bounded (run off the event loop)."""
    payload = _payload(raw, ChatRequest, bounds.count_messages)
    turns, system = conversation(payload.messages)
    return payload, turns, system, options(payload)


def _payload(raw: bytes, shape=ChatRequest, check=None):
    """`raw` parsed and validated as `shape`; `check` sees the parsed JSON first (and may refuse it)."""
    try:
        parsed = json.loads(raw or b"null")
        if check is not None:
            check(parsed)
        return shape.model_validate(parsed)
    except RecursionError:  # JSON nested deeper than Python parses
        raise ApiFailure(400, Text(en="Bad request: the JSON is nested too deeply.", zh="请求有误：JSON 嵌套过深。")) from None
    except (ValueError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) if first else None
        what = first["msg"] if first else "the body is not JSON"
        raise ApiFailure(
            400,
            Text(
                en=f"Bad request: {where + ': ' if where else ''}{what}.", zh=f"请求有误：{where + '：' if where else ''}{what}。"
            ),
            param=where,
        ) from None


def _one(specs: tuple[ModelSpec, ...]) -> ModelSpec:
    """The one spec of an allowed identifier (`catalog.allowed` looks once more for a model found since the last look)."""
    if len(specs) != 1:
        raise ApiFailure(
            400,
            Text(en="Ask one model per request (A&B is for the page).", zh="每个请求只能问一个模型（A&B 仅用于网页）。"),
            param="model",
        )
    return specs[0]


async def _until_done_or_gone(work, request: Request, cancel: CancelToken):
    """Run `work` and return its result; if the client disconnects first, cancel the request."""
    task = asyncio.ensure_future(work)
    while not task.done():
        done, _ = await asyncio.wait({task}, timeout=0.25)
        if not done and await request.is_disconnected():
            cancel.cancel()
    return task.result()


async def _events(source: Iterator, cancel: CancelToken) -> AsyncIterator:
    """The items of a blocking iterator, read in a thread; an exception it raises is raised here. Leaving early
    (the client went away, a stop text was found) cancels the request."""
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue = asyncio.Queue()

    def hand(item) -> None:
        try:
            loop.call_soon_threadsafe(inbox.put_nowait, item)
        except RuntimeError:  # the event loop has closed (the server is shutting down): nobody reads any more
            cancel.cancel()

    def pump() -> None:
        try:
            for item in source:
                hand(item)
                if cancel.is_set():
                    break
            hand(_END)
        except BaseException as exc:  # handed to the reader, which raises it
            hand(exc)

    threading.Thread(target=pump, daemon=True, name="api-answer").start()
    try:
        while (item := await inbox.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancel.cancel()  # a no-op after a complete answer; stops the backend when the reader left early


class Answer:
    """One answer on its way to an API client: its deltas, thinking, stop texts, usage and finish reason."""

    def __init__(self, request: ChatRequest, stream: ChatStream, cancel: CancelToken, cutter: StopCutter) -> None:
        self.request, self.stream, self.cancel, self.cutter = request, stream, cancel, cutter
        self.id, self.created = completion_id(), now()
        self.content: list[str] = []
        self.reasoning: list[str] = []

    async def deltas(self) -> AsyncIterator[dict | Status]:
        """{"content": ...} and {"reasoning_content": ...} deltas, and Status while waiting."""
        async for event in _events(self.stream.events(), self.cancel):
            if isinstance(event, Thought):
                self.reasoning.append(event.text)
                yield {"reasoning_content": event.text}
            elif isinstance(event, str):
                text = self.cutter.feed(event)
                if text:
                    self.content.append(text)
                    yield {"content": text}
                if self.cutter.hit:
                    return
            elif isinstance(event, Status):
                if event.kind is StatusKind.RETRYING:  # a whole answer asked again on another server of the pool: start over
                    self.content, self.reasoning = [], []
                    self.cutter = StopCutter(self.request.stops())
                yield event
        if tail := self.cutter.flush():
            self.content.append(tail)
            yield {"content": tail}

    async def collect(self) -> None:
        async for _ in self.deltas():
            pass

    def tokens(self) -> tuple[int, int]:
        """(prompt tokens, completion tokens): the server's counts where it gave them, else the estimates."""
        usage, prompt = self.stream.usage, self.stream.prompt
        prompt_tokens = usage.prompt_tokens if usage and usage.prompt_tokens is not None else prompt.tokens if prompt else 0
        return prompt_tokens, self.stream.completion_tokens

    def usage(self) -> dict:
        prompt_tokens, completion_tokens = self.tokens()
        return Usage(
            prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, total_tokens=prompt_tokens + completion_tokens
        ).model_dump()

    def finish_reason(self) -> str:
        if self.cutter.hit:
            return "stop"
        reason = self.stream.usage.finish_reason if self.stream.usage else None
        return "length" if reason == "length" else "stop"

    def whole(self) -> dict:
        message = {"role": "assistant", "content": "".join(self.content)}
        if self.reasoning:
            message["reasoning_content"] = "".join(self.reasoning)
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.request.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason(), "logprobs": None}],
            "usage": self.usage(),
        }

    def chunk(self, delta: dict, finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return _sse(
            {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.request.model,
                "choices": [choice],
            }
        )

    async def sse(self, first, deltas: AsyncIterator, include_usage: bool, lang: str, done) -> AsyncIterator[str]:
        """The answer as OpenAI's server-sent events, from its `first` delta (None: empty) and the rest in `deltas`;
        a failure after the first event is an error event after the text so far."""
        yield self.chunk({"role": "assistant", "content": ""})
        try:
            async for delta in _chain(first, deltas):
                if isinstance(delta, Status):
                    yield f": {delta.en}\n\n"  # a comment: clients skip it, and the connection stays busy while a model loads
                else:
                    yield self.chunk(delta)
        except LLMError as exc:
            yield _sse(of_error(exc, lang)[1])
            yield "data: [DONE]\n\n"
            return
        yield self.chunk({}, self.finish_reason())
        if include_usage:
            usage = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.request.model}
            yield _sse({**usage, "choices": [], "usage": self.usage()})
        yield "data: [DONE]\n\n"
        done()


async def _chain(first, rest: AsyncIterator) -> AsyncIterator:
    if first is None:
        return
    yield first
    async for item in rest:
        yield item


def _sse(data: dict) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"
