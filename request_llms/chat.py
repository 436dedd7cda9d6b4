"""The call everything else uses: `chat(model, prompt, history, system)` -> a ChatStream of text deltas.

ChatStream times the answer (time to first token, tokens per second), keeps the text so far, and
puts it into any error that cuts the answer short, so nothing that arrived is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from .config_loader import get_config
from .errors import LLMError, ModelNotFound
from .messages import Message, Prompt, build_messages, estimate_tokens, turns_from_history
from .model_spec import ModelSpec, parse_model
from .request import CancelToken, ChatOptions, Event, Status, StatusKind, Usage
from .retry import is_server_failure, wait_before
from .runtime import runtime_of
from .servers import Server
from .thinking import Rethought, ThinkSplitter, Thought

ANSWER_RESERVE = 1024  # tokens kept free for the answer when none is asked for (at most a quarter of the budget)


class ChatStream:
    """An answer arriving: iterate for its text deltas; afterwards read text, thinking, usage and timings.

    `text` is the answer only. A reasoning model's thinking is kept apart in `thinking`: whether the server
    sends it apart (Ollama's `thinking`, OpenAI-style `reasoning_content`) or inline (`<think>...</think>`,
    split by thinking.ThinkSplitter), it never enters the answer.
    """

    def __init__(self, spec: ModelSpec, events: Iterator[Event], cancel: CancelToken) -> None:
        self.spec = spec
        self.prompt: Prompt | None = None  # the messages as sent, set when the request goes out
        self.cancel = cancel
        self.usage: Usage | None = None
        self.status: Status | None = None  # the latest progress before the answer
        self.started = time.perf_counter()
        self.first_token_at: float | None = None
        self.first_thought_at: float | None = None
        self.last_thought_at: float | None = None
        self.answer_started: float | None = None  # when loading or queueing ended, if there was any
        self.ended_at: float | None = None
        self.server: str | None = None  # the server answering (of a pool: the one routing chose)
        self.skipped: list[str] = []  # servers of the pool that failed this request before `server` answered
        self.pooled = False  # whether the model is served by a pool of servers
        self._parts: list[str] = []
        self._thoughts: list[str] = []
        self._events = events

    def __iter__(self) -> Iterator[str]:
        for event in self.events():
            if isinstance(event, str):
                yield event

    def events(self) -> Iterator[str | Thought | Rethought | Status]:
        """Answer deltas, Thoughts, a Rethought (what streamed as answer was thinking), and the Status of a
        native model loading or a request waiting its turn (for pages, which redraw from text and thinking)."""
        try:
            for event in self._events:
                if isinstance(event, Usage):
                    self.usage = event
                    continue
                if isinstance(event, Status):
                    self.status = event
                    self.answer_started = time.perf_counter()
                    if event.kind is StatusKind.RETRYING:  # another server answers afresh: what the failed one said is dropped
                        self._parts, self._thoughts, self.usage = [], [], None
                        self.first_token_at = self.first_thought_at = self.last_thought_at = None
                elif isinstance(event, Thought):
                    self.last_thought_at = time.perf_counter()
                    self.first_thought_at = self.first_thought_at or self.last_thought_at
                    self._thoughts.append(event.text)
                elif isinstance(event, Rethought):
                    self._thoughts, self._parts = [*self._thoughts, *self._parts], []
                    self.first_thought_at = self.first_thought_at or self.first_token_at
                    self.last_thought_at, self.first_token_at = time.perf_counter(), None
                else:
                    self.first_token_at = self.first_token_at or time.perf_counter()
                    self._parts.append(event)
                yield event
        except LLMError as exc:
            exc.partial = exc.partial or self.text
            raise
        finally:
            self.ended_at = time.perf_counter()

    def close(self) -> None:
        """Stop reading and close the connection (the generator's cleanup runs now)."""
        self._events.close()

    @property
    def text(self) -> str:
        """The answer, without the model's thinking."""
        return "".join(self._parts)

    @property
    def thinking(self) -> str:
        """The model's thinking, if it thought aloud."""
        return "".join(self._thoughts)

    @property
    def time_to_first_thought(self) -> float | None:
        return None if self.first_thought_at is None else self.first_thought_at - (self.answer_started or self.started)

    @property
    def thinking_seconds(self) -> float | None:
        """From the first thought to the last."""
        if self.first_thought_at is None or self.last_thought_at is None:
            return None
        return self.last_thought_at - self.first_thought_at

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    @property
    def time_to_first_token(self) -> float | None:
        """From the request (or the end of loading and queueing) to the first text."""
        return None if self.first_token_at is None else self.first_token_at - (self.answer_started or self.started)

    @property
    def wait_seconds(self) -> float:
        """Time spent loading a native model or waiting in its queue before the answer began."""
        return (self.answer_started - self.started) if self.answer_started else 0.0

    @property
    def completion_tokens(self) -> int:
        """Tokens of the answer: the server's count (less the thinking, which servers count with it), else our estimate."""
        if self.usage and self.usage.completion_tokens is not None:
            thought = estimate_tokens(self.thinking) if self._thoughts else 0
            return max(self.usage.completion_tokens - thought, estimate_tokens(self.text) if thought else 0)
        return estimate_tokens(self.text)

    @property
    def tokens_per_second(self) -> float | None:
        """Generation speed after the first token, as seen by the caller."""
        if self.first_token_at is None or self.ended_at is None or self.completion_tokens < 2:
            return None
        span = self.ended_at - self.first_token_at
        return (self.completion_tokens - 1) / span if span > 0 else None


def answer_reserve(max_tokens: int | None, budget: int | None) -> int:
    """Tokens kept free for the answer: what was asked for, but never more than half the window."""
    if not budget:
        return 0
    if max_tokens:
        return min(max_tokens, budget // 2)
    return min(ANSWER_RESERVE, budget // 4)


def chat(
    model: str | ModelSpec,
    prompt: str | Sequence[Message],
    history: Sequence[str] = (),
    system: str = "",
    options: ChatOptions | None = None,
    cancel: CancelToken | None = None,
    config=None,
    count: Callable[[str], int] | None = None,
    keep_history: bool = False,
    affinity: str | None = None,
    restartable: bool = False,
    server: str | None = None,
) -> ChatStream:
    """Ask `model` about `prompt` after `history`; returns at once, the request goes out on first iteration.

    `prompt` and `history` are GPT Academic's: the new question and the flat list [question, answer, ...].
    A caller that has role turns (the API) passes them as `prompt` instead, ending with the user's, and no history.

    Requests to one server beyond its PARALLEL_REQUESTS wait their turn, yielding queued Status events.

    The context budget is looked up (and cached) and the messages are built on first iteration too, so
    the caller's clock includes them and a prompt that cannot fit raises ContextTooLong from the loop.
    `count` measures the messages against the window (the model's own tokenizer, from tokens.counter_for);
    without it the high estimate is used. With `keep_history` (the API) the history is never trimmed to fit:
    what does not fit raises ContextTooLong.

    Where the model is served by a pool (pools.py), the least busy server answers; `affinity` (a conversation
    or a plugin run) keeps to the server it used last. A server that fails before the first word is rested
    and another asked, within MAX_RETRY. One that fails in the middle of the answer ends it with the text so
    far and the server's name, unless `restartable` (a plugin's piece): then the answer is asked again on
    another server, its partial discarded (a "retrying" Status tells the stream to drop it). `server` names
    the one server of a pool to ask (the deployment check of each server).
    """
    config = config or get_config()
    runtime = runtime_of(config)
    spec = model if isinstance(model, ModelSpec) else parse_model(model)
    turns = turns_from_history(prompt, history) if isinstance(prompt, str) else list(prompt)
    options = (options or ChatOptions()).over(spec)
    if options.think is None and config["THINKING"]:
        options = replace(options, think=config["THINKING"])
    cancel = cancel or CancelToken()
    backend = runtime.backend_for(spec)

    def attempt(chosen: Server | None, expected: bool = False) -> Iterator[Event]:
        """One try at `chosen`; `expected`: routing counted it at the server's gate (Router.pick's `expect`)."""
        try:
            if chosen is not None:
                runtime.learn(spec, [chosen])
            gate = runtime.gate(spec, chosen)
        except BaseException:
            if expected:
                chosen.gate.unexpect()
            raise
        if gate is not None and not (yield from gate.wait_turn(cancel, spec.base, expected)):
            return
        if stream.status is not None:
            stream.answer_started = time.perf_counter()  # the clock of the answer starts when the wait ends
        try:
            budget = backend.context_budget(spec, chosen)
            reserve = answer_reserve(options.max_tokens, budget)
            stream.prompt = build_messages(turns, system, budget, reserve, count or estimate_tokens, keep_history)
            splitter = ThinkSplitter()
            for event in backend.stream(spec, chosen, stream.prompt.messages, options, cancel):
                if isinstance(event, str):
                    yield from splitter.feed(event)
                else:
                    yield event
            yield from splitter.close()
        finally:
            if gate is not None:
                gate.leave()

    def run() -> Iterator[Event]:
        servers = backend.servers(spec)
        if server is not None:
            servers = [one for one in servers if one.url == server]
            if not servers:
                raise ValueError(f"{server} is not a server of {spec.base}")
            stream.server = server
            yield from attempt(servers[0])
            return
        if len(servers) < 2:  # one server, or a native model
            stream.server = servers[0].url if servers else None
            yield from attempt(servers[0] if servers else None)
            return
        router, tried, stream.pooled = runtime.router, [], True
        last: LLMError | None = None
        while True:
            chosen = router.pick(spec, servers, tried, affinity, expect=True)
            if chosen is None and last is not None and is_server_failure(last):
                # every server failed once and tries are left: wait as the transport does for one server, then again
                if cancel.wait(wait_before(len(tried) // len(servers) - 1)):
                    return
                chosen = router.pick(spec, servers, [], affinity, expect=True)
            if chosen is None:  # each server lacks the model
                raise pool_failed(last, tried) if last else no_server(spec, servers)
            stream.server, answered = chosen.url, False
            try:
                for event in attempt(chosen, expected=True):
                    answered = answered or isinstance(event, (str, Thought))
                    yield event
            except LLMError as exc:
                tried.append(chosen)
                if not router.failed(backend, spec, chosen, exc):
                    raise  # the request's own fault (too long, refused key): another server would say the same
                if answered and not restartable:
                    raise cut_short(exc, chosen.url) from None
                if len(tried) > config["MAX_RETRY"] or cancel.is_set():
                    raise pool_failed(exc, tried) from None
                last = exc
                stream.skipped.append(chosen.url)
                yield retrying(chosen.url, answered)
                continue
            if not cancel.is_set():
                chosen.back(answered=True)
            return

    stream = ChatStream(spec, run(), cancel)
    return stream


def cut_short(exc: LLMError, url: str) -> LLMError:
    """The failure of a pooled server in the middle of an answer, naming the server (the text so far stays)."""
    return restated(
        exc,
        en=f"The server at {url} went away in the middle of the answer ({exc.en}); the next question goes to another server of the pool.",
        zh=f"{url} 上的服务在回答中途断开（{exc.zh}）；下一个问题会交给池中的其他服务。",
    )


def pool_failed(exc: LLMError, tried: list[Server]) -> LLMError:
    """The last failure of a pooled request that ran out of servers or of tries (MAX_RETRY)."""
    servers = ", ".join(dict.fromkeys(server.url for server in tried))
    return restated(
        exc,
        en=f"The pool's servers failed {len(tried)} time(s) ({servers}); the last said: {exc.en}",
        zh=f"池中的服务共失败 {len(tried)} 次（{servers}）；最后一次的错误：{exc.zh}",
    )


def restated(exc: LLMError, en: str, zh: str) -> LLMError:
    """The same kind of error with the same data (partial text, status, detail), said in new words."""
    return type(exc)(en=en, zh=zh, partial=exc.partial, status=exc.status, detail=exc.detail)


def no_server(spec: ModelSpec, members: list[Server]) -> LLMError:
    """None of the pool's servers has the model (as discovery or an earlier request found)."""
    return ModelNotFound(
        en=f"None of the {len(members)} servers of the pool has {spec.model}: load it on them, "
        "or see each server with `python -m request_llms list`.",
        zh=f"服务池的 {len(members)} 个服务都没有 {spec.model}：请在这些服务上加载它，"
        "或用 `python -m request_llms list` 查看各个服务。",
    )


def retrying(url: str, answered: bool) -> Status:
    """What a pooled request shows when its server failed and another is asked."""
    if answered:
        return Status(
            StatusKind.RETRYING,
            en=f"The server at {url} went away mid-answer; asking another server of the pool again",
            zh=f"{url} 上的服务在回答中途断开，正在向池中的其他服务重新提问",
        )
    return Status(
        StatusKind.RETRYING,
        en=f"The server at {url} did not answer; asking another server of the pool",
        zh=f"{url} 上的服务没有响应，正在改问池中的其他服务",
    )


def complete(model: str | ModelSpec, prompt: str, **kwargs) -> ChatStream:
    """Ask and wait for the whole answer (the non-streaming call); read `.text` and `.usage` from the result."""
    stream = chat(model, prompt, **kwargs)
    for _ in stream:
        pass
    return stream
