"""Re-ranking the fused passages by a chat model, where KB_RERANK_MODEL names one (off by default).

The model is shown the question and the best RERANK_CANDIDATES passages, numbered, and asked for the
numbers of those that answer it, best first. Its order goes first; the passages it leaves out follow in
their fused order (none is dropped: the relevance rule still decides what counts as found). An answer
with no usable numbers, or a model that fails, keeps the fused order and says so in one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from request_llms.chat import complete
from request_llms.errors import LLMError
from request_llms.request import CancelToken, ChatOptions
from request_llms.text import Text

RERANK_CANDIDATES = 12
PASSAGE_CHARS = 600  # of each passage shown to the model
ANSWER_TOKENS = 64

INSTRUCTION = (
    "Which of the numbered passages answer the question? Reply with their numbers only, the best first, "
    "separated by commas (for example: 3, 1, 7). Reply 0 if none does."
)


@dataclass(frozen=True)
class Reranked:
    order: list[int]  # indexes into the candidates, best first
    notice: Text | None = None


def rerank(model: str, question: str, passages: list[str], config, cancel: CancelToken | None = None) -> Reranked:
    """The order `model` gives `passages` (the first RERANK_CANDIDATES of them) for `question`."""
    shown = passages[:RERANK_CANDIDATES]
    fused = list(range(len(passages)))
    listing = "\n\n".join(f"[{n}] {' '.join(text.split())[:PASSAGE_CHARS]}" for n, text in enumerate(shown, start=1))
    prompt = f"Question: {question}\n\nPassages:\n\n{listing}\n\n{INSTRUCTION}"
    try:
        answer = complete(model, prompt, options=ChatOptions(0.0, None, ANSWER_TOKENS), cancel=cancel, config=config).text
    except LLMError as exc:
        return Reranked(
            fused,
            Text(
                zh=f"重排序未完成（{exc.text('zh')}），按原检索顺序。",
                en=f"Not re-ranked ({exc.text('en')}): the search's own order is kept.",
            ),
        )
    picked = order_from(answer, len(shown))
    if picked is None:
        return Reranked(
            fused,
            Text(
                zh=f"{model} 的重排序回答无法识别，按原检索顺序。",
                en=f"{model}'s re-ranking could not be read: the search's own order is kept.",
            ),
        )
    return Reranked(picked + [i for i in fused if i not in picked])


def order_from(answer: str, count: int) -> list[int] | None:
    """The passage indexes (0-based) a model's answer names, in its order, each once; [] for a bare "0" (none
    answers); None when it names no passage there is."""
    picked = []
    for number in re.findall(r"\d+", answer):
        index = int(number) - 1
        if 0 <= index < count and index not in picked:
            picked.append(index)
    if picked or re.fullmatch(r"\W*0\W*", answer.strip()):
        return picked
    return None
