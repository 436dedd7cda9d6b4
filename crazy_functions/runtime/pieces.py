"""Cutting a document for one model: its real context window, and its own tokenizer where one can be had.

The window comes from the backend (vLLM's max_model_len, llama.cpp's per-slot n_ctx, Ollama's num_ctx,
a native model's config). Tokens are counted by the server's /tokenize where it has one, else with the
deliberately high estimate. Each piece leaves room for the instruction around it, the answer and a
margin for the chat template, so no request exceeds the window.
"""

from __future__ import annotations

from dataclasses import dataclass

from request_llms.messages import MESSAGE_OVERHEAD
from request_llms.model_spec import parse_model
from request_llms.runtime import runtime_of
from request_llms.tokens import TokenCounter, counter_for

from ..documents.split import split_text
from .errors import PluginInputError

DEFAULT_WINDOW = 8192  # when the server does not say (cloud models): a size every current model exceeds
THINKING_BUDGET = 1024  # tokens kept for a reasoning model's thoughts when plugins let it think
MIN_PIECE = 48


@dataclass(frozen=True)
class Sizer:
    """How to cut a document for one model and one kind of request."""

    counter: TokenCounter
    window: int
    piece_tokens: int  # the longest piece
    answer_tokens: int  # the longest answer to ask for

    def split(self, text: str) -> list[str]:
        return split_text(text, self.piece_tokens, self.counter)


def sizer_for(llm_kwargs: dict, config, overhead: str, answer: int, answer_ratio: float = 0.0) -> Sizer:
    """A Sizer for requests of `overhead` (system prompt and instruction) plus one piece.

    The answer may take `answer + answer_ratio * piece` tokens (a translation needs about as many as
    its piece), capped by the user's longest-answer setting where one is set. A model that may think
    (PLUGIN_THINKING or the identifier's think= not "false") also gets THINKING_BUDGET tokens for its
    thoughts, which servers count in the answer's length.
    """
    spec = parse_model(llm_kwargs["llm_model"])
    window = runtime_of(config).backend_for(spec).context_budget(spec) or DEFAULT_WINDOW
    counter = counter_for(spec, config)
    cap = int(llm_kwargs.get("max_length") or 0)
    fixed = min(answer, cap) if cap else answer
    if (spec.think or llm_kwargs.get("think") or config["PLUGIN_THINKING"]) != "false":
        fixed += min(THINKING_BUDGET, window // 4)
    margin = 3 * MESSAGE_OVERHEAD + 16 + window // 50  # template tokens, BOS, and rounding at the seams
    available = window - counter(overhead) - margin  # one count: it may be a request to the server
    piece = int((available - fixed) / (1 + answer_ratio))
    longest = fixed + int(answer_ratio * piece)
    if cap:
        longest = min(longest, cap)
    longest = min(longest, window // 2)  # chat() keeps at most half the window for the answer
    piece = min(piece, available - longest)
    if answer_ratio:  # a translation or rewrite must fit its answer: a capped answer means smaller pieces
        piece = min(piece, max(MIN_PIECE, int(longest / answer_ratio)))
    if piece < MIN_PIECE:
        raise PluginInputError(
            en=f"The model's context window ({window} tokens) is too small for this plugin: pick a model with a "
            "larger window, or raise max_token in the model's brackets.",
            zh=f"模型的上下文窗口（{window} token）太小，无法运行此插件：请换用窗口更大的模型，或在模型标识括号中调大 max_token。",
        )
    return Sizer(counter, window, piece, longest)
