"""One answer inside the worker: the prompt through the model's own chat template, streamed as deltas, stoppable."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from .failures import out_of_memory

COMPLETION_STOPS = ("\nQuestion:", "\n\nQuestion", "<end_of_turn>")


def completion_prompt(messages: list[dict[str, str]]) -> str:
    """A base model's prompt: the conversation as "Question: ... Answer: ..." so it stays on topic."""
    parts = [m["content"].strip() for m in messages if m["role"] == "system"]
    for message in messages:
        text = message["content"].strip()
        if message["role"] == "user":
            parts.append(text if text.startswith("Question:") else f"Question: {text}")
        elif message["role"] == "assistant":
            parts.append(f"Answer: {text}")
    prompt = "\n\n".join(parts)
    return prompt if prompt.endswith("Answer:") else prompt + "\nAnswer:"


def prompt_ids(tokenizer, messages: list[dict[str, str]], completion_style: bool, think: str | None = None) -> list[int]:
    """The token ids fed to generate: the model's chat template, or the completion form for a base model.

    `think` reaches templates that take `enable_thinking` (Qwen3); others ignore it.
    """
    if completion_style or not getattr(tokenizer, "chat_template", None):
        return tokenizer(completion_prompt(messages)).input_ids
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, **_thinking_kwargs(think))
    return list(ids["input_ids"] if hasattr(ids, "keys") else ids)


def _thinking_kwargs(think: str | None) -> dict:
    return {} if think is None else {"enable_thinking": think != "false"}


def opens_thought(tokenizer, messages: list[dict[str, str]], completion_style: bool, think: str | None = None) -> bool:
    """Whether the template itself ends the prompt inside a thought (DeepSeek-R1, QwQ: `...<think>\n`)."""
    template = getattr(tokenizer, "chat_template", None)
    if completion_style or not isinstance(template, str) or "<think>" not in template:
        return False
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False, **_thinking_kwargs(think))
    return isinstance(text, str) and text.rstrip().endswith("<think>")


class DeltaStreamer:
    """Receives new token ids from generate and sends only the text that is new (never the whole text again)."""

    def __init__(self, tokenizer, send: Callable[[str], None], stops: tuple[str, ...]) -> None:
        self.tokenizer, self.send, self.stops = tokenizer, send, stops
        self.ids: list[int] = []
        self.sent = 0
        self.prompt_seen = False
        self.stopped = False
        self.first_token_at: float | None = None

    def put(self, value) -> None:
        if not self.prompt_seen:  # generate passes the prompt first
            self.prompt_seen = True
            return
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        self.ids.extend(value.flatten().tolist())
        self._flush(final=False)

    def end(self) -> None:
        self._flush(final=True)

    def _flush(self, final: bool) -> None:
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if not final and text.endswith("\ufffd"):
            return  # half of a multi-byte character: wait for the rest
        for stop in self.stops:
            at = text.find(stop)
            if at != -1:
                text, self.stopped = text[:at], True
        if not self.stopped and not final:
            # hold back a tail that could be the start of a stop text
            hold = max((len(s) - 1 for s in self.stops if any(text.endswith(s[:k]) for k in range(1, len(s)))), default=0)
            text = text[: len(text) - hold] if hold else text
        if len(text) > self.sent:
            self.send(text[self.sent :])
            self.sent = len(text)


def generate(
    loaded,
    messages: list[dict[str, str]],
    options: dict,
    cancel: threading.Event,
    send: Callable[[str], None],
    completion_style: bool,
) -> dict:
    """Stream one answer through `send`; returns the usage figures."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    tokenizer, model = loaded.tokenizer, loaded.model
    think = options.get("think")
    ids = prompt_ids(tokenizer, messages, completion_style, think)
    if opens_thought(tokenizer, messages, completion_style, think):
        send("<think>")  # the answer starts inside the thought: the parent's splitter must know
    streamer = DeltaStreamer(tokenizer, send, COMPLETION_STOPS if completion_style else ())

    class StopWhenAsked(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs) -> bool:
            return cancel.is_set() or streamer.stopped

    temperature = options.get("temperature")
    sampling = {"do_sample": False} if temperature in (None, 0, 0.0) else {"do_sample": True, "temperature": temperature}
    if sampling["do_sample"] and options.get("top_p") is not None:
        sampling["top_p"] = options["top_p"]
    if completion_style:
        sampling["repetition_penalty"] = 1.2  # a base model loops without it
    input_ids = torch.tensor([ids], device=loaded.device)
    started = time.perf_counter()
    try:
        with torch.inference_mode():
            output = model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                max_new_tokens=options.get("max_tokens") or 512,
                streamer=streamer,
                stopping_criteria=StoppingCriteriaList([StopWhenAsked()]),
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
                **sampling,
            )
    except torch.cuda.OutOfMemoryError:
        raise out_of_memory("The model", loaded.device) from None
    new_tokens = int(output.shape[-1]) - len(ids)
    ended = time.perf_counter()
    first = streamer.first_token_at or ended
    finish = "stop" if cancel.is_set() or streamer.stopped or new_tokens < (options.get("max_tokens") or 512) else "length"
    return {
        "prompt_tokens": len(ids),
        "completion_tokens": new_tokens,
        "finish_reason": finish,
        "server_tokens_per_s": (new_tokens - 1) / (ended - first) if new_tokens > 1 and ended > first else None,
        "seconds": ended - started,
    }
